/* SPDX-License-Identifier: MIT */
/*
 * The platform description a Linux (or other PC) guest finds in its VM: ACPI
 * tables (RSDP, XSDT, RSDT, FADT, FACS, DSDT, MADT; ACPI 6.5 chapter 5) and
 * an Intel MP table (MultiProcessor Specification 1.4, chapter 4), describing
 * the platform of docs/devices.md. Pure logic: the tables are laid out in a
 * caller's buffer that the loader then copies to guest-physical gpa
 * (tests/unit/test_mgmt_acpi.c).
 *
 * Convention: the buffer is the 128 KiB legacy BIOS area, gpa ACPITAB_GPA
 * (0xE0000) and size ACPITAB_SIZE. The RSDP is at its start (16-byte aligned,
 * inside the 0xE0000-0xFFFFF range an OS scans, ACPI 6.5 5.2.5.1), the other
 * ACPI tables follow it, and the MP floating pointer is at the first 16-byte
 * boundary at or above 0xF0000 past them (the BIOS ROM range of MP 1.4
 * section 4: Linux scans 0xF0000-0xFFFFF, not 0xE0000), with the MP
 * configuration table right after it. The loader should report the whole
 * area reserved in the guest's e820 map; Linux takes the RSDP's address
 * from out->rsdp_gpa through boot_params.acpi_rsdp_addr, or finds it by the
 * scan.
 */
#ifndef TERN_MGMT_ACPITAB_H
#define TERN_MGMT_ACPITAB_H

#include <stddef.h>
#include <stdint.h>

#define ACPITAB_GPA      0xE0000u
#define ACPITAB_SIZE     0x20000u
#define ACPITAB_AREA_END 0x100000u /* end of the RSDP and MP scan ranges */
#define ACPITAB_MP_MIN   0xF0000u  /* MP 1.4 section 4: BIOS ROM range */

struct acpitab_cfg {
	uint32_t nr_vcpus;      /* 1..TERN_MAX_VCPUS; vCPU i has APIC ID and ACPI UID i */
	uint8_t ioapic_id;      /* nr_vcpus..15 (IOAPICID bits 27:24; MP 1.4 wants IDs unique) */
	uint32_t cpu_signature; /* CPUID.1 EAX, for the MP processor entries (0: not given) */
	uint32_t cpu_features;  /* CPUID.1 EDX, likewise */
};

enum acpitab_id {
	ACPITAB_RSDP,
	ACPITAB_XSDT,
	ACPITAB_RSDT,
	ACPITAB_FADT,
	ACPITAB_FACS,
	ACPITAB_DSDT,
	ACPITAB_MADT,
	ACPITAB_MPFP, /* MP floating pointer structure */
	ACPITAB_MPCT, /* MP configuration table */
	ACPITAB_NR
};

struct acpitab_blob {
	uint64_t gpa;
	uint32_t len;
};

struct acpitab_out {
	uint64_t rsdp_gpa;  /* for boot_params.acpi_rsdp_addr */
	uint64_t mpfp_gpa;
	struct acpitab_blob t[ACPITAB_NR];
	size_t used;        /* bytes of buf from its start to the end of the last table */
};

/*
 * Lay out every table in buf (size bytes, to be copied to guest-physical
 * gpa), each with its length and checksum; the rest of buf is zeroed.
 * 0, or -EINVAL (a bad cfg, gpa not 16-byte aligned, tables that would not
 * lie inside 0xE0000-0xFFFFF) or -ENOSPC (buf too small; out->used then says
 * how many bytes are needed), with *why saying which.
 */
int acpitab_build(const struct acpitab_cfg *cfg, uint8_t *buf, size_t size, uint64_t gpa,
		  struct acpitab_out *out, const char **why);

/* The table's signature-like name ("RSDP", "FACP", "MPFP"...), or "?". */
const char *acpitab_name(enum acpitab_id id);

#endif
