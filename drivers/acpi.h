/* SPDX-License-Identifier: MIT */
/*
 * ACPI table parsing (ACPI 6.x, chapter 5): RSDP, XSDT/RSDT, MADT, FADT (and
 * the \_S5 sleep type from the DSDT), SPCR. Pure logic: tables are reached
 * through a bounds-checked map callback, so the host unit tests feed real
 * table bytes and the kernel passes its direct map. A table that is
 * truncated, has a bad checksum or a wrong signature is skipped with a
 * diagnostic; parsing never reads past what the callback granted.
 */
#ifndef TERN_DRIVERS_ACPI_H
#define TERN_DRIVERS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS    256
#define ACPI_MAX_IOAPICS 16

/* Generic Address Structure (ACPI 6.4 section 5.2.3.2) as parsed. */
struct acpi_gas {
	uint8_t space_id; /* ACPI_GAS_MEMORY / ACPI_GAS_IO */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO     1

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;
	bool enabled;        /* MADT flags bit 0 */
	bool online_capable; /* MADT flags bit 1 */
	bool x2apic_entry;   /* came from a Local x2APIC structure */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

/*
 * Interrupt Source Override (ACPI 6.4 section 5.2.12.5): ISA IRQ source is
 * wired to GSI gsi with the MPS INTI flags (table 5.26): polarity bits 1:0
 * (0 bus default, 1 active high, 3 active low), trigger mode bits 3:2 (0 bus
 * default, 1 edge, 3 level). ISA's default is edge, active high.
 */
struct acpi_irq_override {
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
};
#define ACPI_MAX_IRQ_OVERRIDES 16
#define ACPI_INTI_POLARITY_MASK    0x3u
#define ACPI_INTI_ACTIVE_LOW       0x3u
#define ACPI_INTI_TRIGGER_MASK     0xcu
#define ACPI_INTI_TRIGGER_LEVEL    0xcu

struct acpi_info {
	uint8_t revision;    /* RSDP revision */
	char oem_id[7];

	/* MADT */
	bool has_madt;
	uint64_t lapic_address;
	bool pcat_compat;
	uint32_t nr_cpus;    /* processor entries kept, enabled or not (one per APIC ID) */
	uint32_t nr_cpus_dropped; /* entries past ACPI_MAX_CPUS (disabled ones go first) */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	uint32_t nr_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	uint32_t nr_irq_overrides;
	struct acpi_irq_override irq_overrides[ACPI_MAX_IRQ_OVERRIDES];

	/* FADT */
	bool has_fadt;
	bool hw_reduced;
	uint64_t dsdt;
	struct acpi_gas pm1a_cnt, pm1b_cnt;
	struct acpi_gas pm_tmr;
	bool pm_tmr_32bit;   /* FADT flags TMR_VAL_EXT */
	bool reset_supported; /* FADT flags RESET_REG_SUP */
	struct acpi_gas reset_reg;
	uint8_t reset_value;

	/* \_S5 from the DSDT */
	bool has_s5;
	uint8_t s5_slp_typa, s5_slp_typb;

	/* SPCR */
	bool has_spcr;
	uint8_t spcr_interface; /* 0: 16550-compatible */
	struct acpi_gas spcr_base;
	uint32_t spcr_baud;     /* 0 when "as is" */
};

/* Error codes (negative returns). */
#define ACPI_ERR_NO_RSDP   (-1) /* null or unreadable */
#define ACPI_ERR_SIGNATURE (-2)
#define ACPI_ERR_CHECKSUM  (-3)
#define ACPI_ERR_TRUNCATED (-4) /* length beyond what is readable, or too short */

/*
 * Returns a pointer to len readable bytes at physical address phys, or NULL
 * when any of them is not readable.
 */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);
typedef void (*acpi_diag_fn)(void *ctx, const char *msg);

struct acpi_env {
	acpi_map_fn map;
	acpi_diag_fn diag; /* may be NULL */
	void *ctx;
};

/* Sum of bytes is zero. */
bool acpi_checksum_ok(const void *p, size_t len);

/*
 * Check a table's header against the bytes available: signature (4 chars,
 * NULL for any), length within avail and >= the header, checksum. 0 or an
 * ACPI_ERR_* code.
 */
int acpi_table_check(const void *table, size_t avail, const char *sig);

/* Table parsers; each checks the table first. 0 or ACPI_ERR_*. */
int acpi_parse_madt(const void *table, size_t avail, struct acpi_info *out);
int acpi_parse_fadt(const void *table, size_t avail, struct acpi_info *out);
int acpi_parse_spcr(const void *table, size_t avail, struct acpi_info *out);
/* Finds the \_S5 package in DSDT AML and fills has_s5/slp_typ. */
int acpi_parse_dsdt_s5(const void *table, size_t avail, struct acpi_info *out);

/*
 * Validate the RSDP at rsdp_phys, walk the XSDT (revision >= 2) or RSDT,
 * and parse every table above that is present. Bad individual tables are
 * reported through env->diag and skipped. Returns 0 when the RSDP and root
 * table are valid, else an ACPI_ERR_* code and out says nothing.
 */
int acpi_parse(uint64_t rsdp_phys, const struct acpi_env *env, struct acpi_info *out);

const char *acpi_strerror(int err);

/*
 * Where ISA IRQ irq arrives: its GSI and whether it is active low and level
 * triggered, from the MADT's overrides; without one, GSI irq, edge, active
 * high (ACPI 6.4 section 5.2.12.5: the identity mapping is assumed).
 */
void acpi_isa_irq(const struct acpi_info *acpi, uint8_t irq, uint32_t *gsi, bool *active_low,
		  bool *level);

#endif
