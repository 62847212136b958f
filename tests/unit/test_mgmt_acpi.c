/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests for tools/mgmt/acpitab.c: the ACPI tables and the MP table
 * read back at the offsets ACPI 6.5 chapter 5 and MP 1.4 chapter 4 give,
 * and through the project's own ACPI parser (drivers/acpi.c) as a kernel
 * would. acpica-tools check the same tables (tests/unit/acpidump_main.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "drivers/acpi.h"
#include "kernel/errno.h"
#include "tools/mgmt/acpitab.h"
#include "vmm/abi.h"

static uint8_t area[ACPITAB_SIZE];
static struct acpitab_out out;

static const uint8_t *at(uint64_t gpa)
{
	assert_true(gpa >= ACPITAB_GPA && gpa < ACPITAB_GPA + ACPITAB_SIZE);
	return area + (gpa - ACPITAB_GPA);
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	return rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	return rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void build(uint32_t nr_vcpus)
{
	struct acpitab_cfg cfg = { .nr_vcpus = nr_vcpus, .ioapic_id = (uint8_t)nr_vcpus };
	const char *why = "unset";

	memset(area, 0xAA, sizeof(area));
	assert_int_equal(acpitab_build(&cfg, area, sizeof(area), ACPITAB_GPA, &out, &why), 0);
	assert_null(why);
}

/* ACPI 6.5 5.2.6: signature, length, revision, and a zero byte sum. */
static const uint8_t *sdt(uint64_t gpa, const char *sig, uint32_t len, uint8_t rev)
{
	const uint8_t *t = at(gpa);

	assert_memory_equal(t, sig, 4);
	assert_int_equal(rd32(t, 4), len);
	assert_int_equal(t[8], rev);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "TERN  ", 6);
	return t;
}

/* ACPI 6.5 5.2.5.3 Table 5.3 */
static void test_rsdp(void **state)
{
	const uint8_t *r;

	build(1);
	assert_true(out.rsdp_gpa == ACPITAB_GPA);
	assert_int_equal(out.rsdp_gpa % 16, 0);
	r = at(out.rsdp_gpa);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);  /* ACPI 1.0 checksum: first 20 bytes */
	assert_int_equal(r[15], 2);       /* revision */
	assert_int_equal(rd32(r, 20), 36); /* length */
	assert_int_equal(sum(r, 36), 0);  /* extended checksum */
	assert_true(rd64(r, 24) == out.t[ACPITAB_XSDT].gpa);
	assert_true(rd32(r, 16) == out.t[ACPITAB_RSDT].gpa);
}

/* ACPI 6.5 5.2.5.1: a scan of 0xE0000-0xFFFFF on 16-byte boundaries finds it. */
static void test_rsdp_found_by_scan(void **state)
{
	uint64_t found = 0;

	build(2);
	for (uint64_t g = 0xE0000; g < 0x100000 && !found; g += 16)
		if (!memcmp(at(g), "RSD PTR ", 8) && sum(at(g), 20) == 0)
			found = g;
	assert_true(found == out.rsdp_gpa);
}

/* ACPI 6.5 5.2.8 (XSDT) and 5.2.7 (RSDT): the FADT and the MADT, inside the area. */
static void test_xsdt_rsdt(void **state)
{
	const uint8_t *x, *r;

	build(1);
	x = sdt(out.t[ACPITAB_XSDT].gpa, "XSDT", 36 + 2 * 8, 1);
	r = sdt(out.t[ACPITAB_RSDT].gpa, "RSDT", 36 + 2 * 4, 1);
	assert_memory_equal(at(rd64(x, 36)), "FACP", 4);
	assert_memory_equal(at(rd64(x, 44)), "APIC", 4);
	assert_true(rd32(r, 36) == rd64(x, 36));
	assert_true(rd32(r, 40) == rd64(x, 44));
	assert_int_equal(out.t[ACPITAB_XSDT].len, 52);
}

/* ACPI 6.5 5.2.3.2 Table 5.1: a System I/O GAS. */
static void assert_gas_io(const uint8_t *f, size_t off, uint8_t bits, uint8_t access, uint64_t port)
{
	assert_int_equal(f[off], 1);
	assert_int_equal(f[off + 1], bits);
	assert_int_equal(f[off + 2], 0);
	assert_int_equal(f[off + 3], access);
	assert_true(rd64(f, off + 4) == port);
}

/* ACPI 6.5 5.2.9 Table 5.9 offsets, Table 5.10 and 5.11 flags. */
static void test_fadt(void **state)
{
	const uint8_t *f;
	uint32_t flags;

	build(1);
	f = sdt(out.t[ACPITAB_FADT].gpa, "FACP", 276, 6);
	assert_int_equal(f[131], 5);             /* FADT minor version: 6.5 */
	assert_true(rd32(f, 40) == out.t[ACPITAB_DSDT].gpa);
	assert_true(rd64(f, 140) == out.t[ACPITAB_DSDT].gpa); /* X_DSDT */
	assert_true(rd32(f, 36) == out.t[ACPITAB_FACS].gpa);  /* FIRMWARE_CTRL */
	assert_true(rd64(f, 132) == 0);          /* X_FIRMWARE_CTRL: zero when FIRMWARE_CTRL is used */
	assert_int_equal(rd16(f, 46), 9);        /* SCI_INT */
	assert_int_equal(rd32(f, 48), 0);        /* SMI_CMD: no legacy mode */
	assert_int_equal(f[52], 0);              /* ACPI_ENABLE */
	assert_int_equal(f[53], 0);              /* ACPI_DISABLE */
	assert_int_equal(rd32(f, 56), 0x600);    /* PM1a_EVT_BLK */
	assert_int_equal(rd32(f, 60), 0);        /* PM1b_EVT_BLK */
	assert_int_equal(rd32(f, 64), 0x604);    /* PM1a_CNT_BLK */
	assert_int_equal(rd32(f, 72), 0);        /* PM2_CNT_BLK */
	assert_int_equal(rd32(f, 76), 0x608);    /* PM_TMR_BLK */
	assert_int_equal(rd32(f, 80), 0);        /* GPE0_BLK */
	assert_int_equal(f[88], 4);              /* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);              /* PM1_CNT_LEN */
	assert_int_equal(f[91], 4);              /* PM_TMR_LEN */
	assert_int_equal(f[92], 0);              /* GPE0_BLK_LEN */
	assert_true(rd16(f, 96) > 100);          /* P_LVL2_LAT: no C2 */
	assert_true(rd16(f, 98) > 1000);         /* P_LVL3_LAT: no C3 */
	assert_int_equal(f[108], 0x32);          /* CENTURY: CMOS index */
	/* IAPC_BOOT_ARCH: LEGACY_DEVICES, 8042, VGA Not Present, MSI Not Supported; CMOS RTC present */
	assert_int_equal(rd16(f, 109), 0x000F);
	flags = rd32(f, 112);
	assert_true(flags & (1u << 0));          /* WBINVD */
	assert_true(flags & (1u << 2));          /* PROC_C1 */
	assert_false(flags & (1u << 4));         /* PWR_BUTTON clear: fixed power button */
	assert_true(flags & (1u << 5));          /* SLP_BUTTON: no fixed sleep button */
	assert_true(flags & (1u << 8));          /* TMR_VAL_EXT: 32-bit PM timer */
	assert_true(flags & (1u << 10));         /* RESET_REG_SUP */
	assert_false(flags & (1u << 20));        /* HW_REDUCED_ACPI */
	assert_gas_io(f, 116, 8, 1, 0xCF9);      /* RESET_REG */
	assert_int_equal(f[128], 0x06);          /* RESET_VALUE */
	assert_gas_io(f, 148, 32, 2, 0x600);     /* X_PM1a_EVT_BLK */
	assert_gas_io(f, 172, 16, 2, 0x604);     /* X_PM1a_CNT_BLK */
	assert_gas_io(f, 208, 32, 3, 0x608);     /* X_PM_TMR_BLK */
	assert_true(rd64(f, 160 + 4) == 0 && f[160] == 0); /* X_PM1b_EVT_BLK */
	assert_true(rd64(f, 220 + 4) == 0);      /* X_GPE0_BLK */
}

/* ACPI 6.5 5.2.10 Table 5.14: FACS, 64 bytes, 64-byte aligned, version 2. */
static void test_facs(void **state)
{
	const uint8_t *p;

	build(1);
	assert_int_equal(out.t[ACPITAB_FACS].gpa % 64, 0);
	p = at(out.t[ACPITAB_FACS].gpa);
	assert_memory_equal(p, "FACS", 4);
	assert_int_equal(rd32(p, 4), 64);
	assert_int_equal(rd32(p, 16), 0);        /* global lock free */
	assert_int_equal(rd32(p, 20), 0);        /* flags: no S4BIOS, no 64-bit wake */
	assert_int_equal(p[32], 2);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/*
 * The DSDT holds, as ACPI 6.5 chapter 20 encodes them: Name (\_S5, Package
 * (4) {5, 5, 0, 0}) (NameOp, RootChar, NameSeg, PackageOp, PkgLength 8,
 * NumElements 4, BytePrefix 5 twice, ZeroOp twice); COM1's _CRS (6.4.2.5 IO
 * Decode16 0x3F8 length 8, 6.4.2.1 IRQNoFlags bit 4, 6.4.2.9 End Tag); the
 * EISA IDs PNP0A03 and PNP0501 as DWordConst (0x0C, then 41 D0 and the
 * product ID).
 */
static void test_dsdt(void **state)
{
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
	static const uint8_t com1_crs[] = { 0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0A, 0x0D,
					    0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08,
					    0x22, 0x10, 0x00, 0x79, 0x00 };
	static const uint8_t pci_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
	static const uint8_t com_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01 };
	static const uint8_t pci_io[] = { 0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08 };
	/* 6.4.3.5.3: bus numbers 0-0xFF, producer, MinFixed and MaxFixed. */
	static const uint8_t bus[] = { 0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t scope[] = { 0x10 }; /* ScopeOp first */
	const uint8_t *d;
	uint32_t len;

	build(1);
	len = out.t[ACPITAB_DSDT].len;
	d = sdt(out.t[ACPITAB_DSDT].gpa, "DSDT", len, 2);
	assert_memory_equal(d + 36, scope, 1);
	assert_non_null(find(d + 36, len - 36, s5, sizeof(s5)));
	assert_non_null(find(d + 36, len - 36, com1_crs, sizeof(com1_crs)));
	assert_non_null(find(d + 36, len - 36, pci_hid, sizeof(pci_hid)));
	assert_non_null(find(d + 36, len - 36, com_hid, sizeof(com_hid)));
	assert_non_null(find(d + 36, len - 36, pci_io, sizeof(pci_io)));
	assert_non_null(find(d + 36, len - 36, bus, sizeof(bus)));
}

/*
 * 20.2.4: the Scope's PkgLength spans to the \_S5 NameOp and Device PCI0's
 * (more than 63 bytes) takes two bytes, lead byte 0x4n.
 */
static void test_dsdt_pkglength(void **state)
{
	const uint8_t *d, *aml, *pci;
	uint32_t len, scope_len;

	build(1);
	len = out.t[ACPITAB_DSDT].len;
	d = at(out.t[ACPITAB_DSDT].gpa);
	aml = d + 36;
	assert_int_equal(aml[0], 0x10);
	assert_int_equal(aml[1] >> 6, 1); /* two-byte PkgLength */
	scope_len = (aml[1] & 0x0F) | (uint32_t)aml[2] << 4;
	assert_int_equal(1 + scope_len + 15, len - 36); /* ScopeOp, the scope, \_S5 */
	assert_memory_equal(aml + 3, "\\_SB_", 5);
	pci = aml + 8;
	assert_int_equal(pci[0], 0x5B);
	assert_int_equal(pci[1], 0x82);
	assert_int_equal(pci[2] >> 6, 1);
	assert_memory_equal(pci + 4, "PCI0", 4);
	assert_int_equal(pci[8], 0x08); /* Name (_HID ... */
}

/*
 * Device (PEVT), the pvpanic port (vmm/emul/vpvpanic.h), whole and inside
 * \_SB's Scope: DeviceOp (5B 82), PkgLength 0x2E, the NameSeg; _HID as a
 * String (20.2.3 StringPrefix 0x0D, NullChar), _CRS IO (Decode16, 0x505,
 * 0x505, 1, 1) and an End Tag, _STA 0x0F as a ByteConst.
 */
static void test_dsdt_pvpanic(void **state)
{
	static const uint8_t pevt[] = {
		0x5B, 0x82, 0x2E, 'P', 'E', 'V', 'T',
		0x08, '_', 'H', 'I', 'D', 0x0D, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x0D, 0x0A, 0x0A,
		0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01, 0x79, 0x00,
		0x08, '_', 'S', 'T', 'A', 0x0A, 0x0F,
	};
	const uint8_t *d, *aml, *dev;
	uint32_t len, scope_len;

	build(1);
	len = out.t[ACPITAB_DSDT].len;
	d = at(out.t[ACPITAB_DSDT].gpa);
	aml = d + 36;
	dev = find(aml, len - 36, pevt, sizeof(pevt));
	assert_non_null(dev);
	assert_int_equal(dev[2], sizeof(pevt) - 2); /* PkgLength counts itself, not the opcode */
	scope_len = (aml[1] & 0x0F) | (uint32_t)aml[2] << 4;
	assert_true(dev > aml + 8 && dev + sizeof(pevt) <= aml + 1 + scope_len);
}

/* ACPI 6.5 5.2.12 Table 5.19 and the entries of 5.2.12.2, .3, .5, .7. */
static void check_madt(uint32_t n)
{
	uint32_t len = 44 + 8 * n + 12 + 2 * 10 + 6;
	const uint8_t *m, *e;
	unsigned int lapics = 0, ioapics = 0, isos = 0, nmis = 0, entries = 0;
	size_t off;

	build(n);
	m = sdt(out.t[ACPITAB_MADT].gpa, "APIC", len, 5);
	assert_int_equal(rd32(m, 36), 0xFEE00000u);
	assert_int_equal(rd32(m, 40), 1); /* PCAT_COMPAT */
	for (off = 44; off < len; off += e[1], entries++) {
		e = m + off;
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics); /* ACPI Processor UID */
			assert_int_equal(e[3], lapics); /* APIC ID */
			assert_int_equal(rd32(e, 4), 1); /* Enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], n); /* the id the test asked for */
			assert_int_equal(rd32(e, 4), 0xFEC00000u);
			assert_int_equal(rd32(e, 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			if (e[3] == 0) {
				assert_int_equal(rd32(e, 4), 2);
				assert_int_equal(rd16(e, 8), 0);
			} else {
				assert_int_equal(e[3], 9);
				assert_int_equal(rd32(e, 4), 9);
				assert_int_equal(rd16(e, 8), 0x000D); /* level, active high */
			}
			isos++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF); /* all processors */
			assert_int_equal(e[5], 1);    /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, n);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);
	assert_int_equal(entries, n + 4);
}

static void test_madt_1(void **state)
{
	check_madt(1);
}

static void test_madt_8(void **state)
{
	check_madt(TERN_MAX_VCPUS);
}

/* MP 1.4 section 4: Linux scans 0xF0000-0xFFFFF on 16-byte boundaries. */
static const uint8_t *mp_scan(void)
{
	for (uint64_t g = 0xF0000; g < 0x100000; g += 16)
		if (!memcmp(at(g), "_MP_", 4) && sum(at(g), 16) == 0)
			return at(g);
	return NULL;
}

/* MP 1.4 4.1 Table 4-1, 4.2 Table 4-2 and the entries of 4.3. */
static void check_mp(uint32_t n)
{
	uint32_t len = 44 + 20 * n + 8 * (1 + 1 + 15 + 2);
	const uint8_t *fp, *c, *e;
	unsigned int procs = 0, ioints = 0, lints = 0, last_type = 0;
	bool irq_seen[16] = { false };
	size_t off;

	build(n);
	fp = mp_scan();
	assert_non_null(fp);
	assert_true(fp == at(out.mpfp_gpa));
	assert_int_equal(fp[8], 1);  /* length in 16-byte units */
	assert_int_equal(fp[9], 4);  /* spec revision 1.4 */
	assert_int_equal(fp[11], 0); /* a configuration table is present */
	assert_int_equal(fp[12], 0); /* IMCRP clear: virtual wire mode */
	c = at(rd32(fp, 4));
	assert_memory_equal(c, "PCMP", 4);
	assert_int_equal(rd16(c, 4), len);
	assert_int_equal(c[6], 4);
	assert_int_equal(sum(c, len), 0);
	assert_int_equal(rd16(c, 34), n + 19);
	assert_int_equal(rd32(c, 36), 0xFEE00000u);
	assert_int_equal(rd16(c, 40), 0); /* no extended table */
	for (off = 44; off < len;) {
		e = c + off;
		assert_true(e[0] >= last_type); /* sorted by type (4.3) */
		last_type = e[0];
		switch (e[0]) {
		case 0: /* Table 4-4 */
			assert_int_equal(e[1], procs);        /* local APIC ID */
			assert_int_equal(e[2], 0x14);         /* local APIC version */
			assert_int_equal(e[3], procs == 0 ? 3 : 1); /* EN, BP on CPU 0 */
			procs++;
			off += 20;
			continue;
		case 1: /* Table 4-8 */
			assert_int_equal(e[1], 0);
			assert_memory_equal(e + 2, "ISA   ", 6);
			break;
		case 2: /* Table 4-10 */
			assert_int_equal(e[1], n);
			assert_int_equal(e[3], 1);
			assert_int_equal(rd32(e, 4), 0xFEC00000u);
			break;
		case 3: /* Table 4-12: INT from the ISA bus to the I/O APIC */
			assert_int_equal(e[1], 0);
			assert_int_equal(e[4], 0);
			assert_true(e[5] < 16 && e[5] != 2);
			assert_false(irq_seen[e[5]]);
			irq_seen[e[5]] = true;
			assert_int_equal(e[6], n);
			assert_int_equal(e[7], e[5] == 0 ? 2 : e[5]);
			assert_int_equal(rd16(e, 2), e[5] == 9 ? 0x000D : 0);
			ioints++;
			break;
		case 4: /* Table 4-14 */
			if (e[7] == 0) {
				assert_int_equal(e[1], 3);    /* ExtINT on LINT0 */
				assert_int_equal(e[6], 0);    /* of the BSP */
			} else {
				assert_int_equal(e[7], 1);
				assert_int_equal(e[1], 1);    /* NMI on LINT1 */
				assert_int_equal(e[6], 0xFF); /* of every CPU */
			}
			lints++;
			break;
		default:
			fail_msg("MP entry type %u", e[0]);
		}
		off += 8;
	}
	assert_int_equal(off, len);
	assert_int_equal(procs, n);
	assert_int_equal(ioints, 15);
	assert_int_equal(lints, 2);
}

static void test_mp_1(void **state)
{
	check_mp(1);
}

static void test_mp_8(void **state)
{
	check_mp(TERN_MAX_VCPUS);
}

static const void *map_area(void *ctx, uint64_t phys, size_t len)
{
	if (phys < ACPITAB_GPA || phys + len > ACPITAB_GPA + ACPITAB_SIZE)
		return NULL;
	return area + (phys - ACPITAB_GPA);
}

static void diag_fail(void *ctx, const char *msg)
{
	fail_msg("drivers/acpi.c: %s", msg);
}

/* The kernel's own parser (drivers/acpi.c) reads what a guest should see. */
static void test_parsed_by_drivers_acpi(void **state)
{
	static struct acpi_info info;
	struct acpi_env env = { map_area, diag_fail, NULL };
	uint32_t gsi;
	bool low, level;

	build(4);
	assert_int_equal(acpi_parse(out.rsdp_gpa, &env, &info), 0);
	assert_int_equal(info.revision, 2);
	assert_true(info.has_madt && info.has_fadt && info.has_s5);
	assert_int_equal(info.nr_cpus, 4);
	assert_int_equal(info.nr_ioapics, 1);
	assert_true(info.pcat_compat);
	assert_int_equal(info.s5_slp_typa, 5);
	assert_int_equal(info.s5_slp_typb, 5);
	assert_true(info.pm_tmr_32bit && info.reset_supported);
	assert_true(info.reset_reg.address == 0xCF9 && info.reset_value == 6);
	assert_true(info.pm1a_cnt.address == 0x604);
	acpi_isa_irq(&info, 0, &gsi, &low, &level);
	assert_int_equal(gsi, 2);
	acpi_isa_irq(&info, 9, &gsi, &low, &level);
	assert_true(gsi == 9 && level && !low);
	acpi_isa_irq(&info, 4, &gsi, &low, &level);
	assert_true(gsi == 4 && !level && !low);
}

static int try(uint32_t nr_vcpus, uint8_t ioapic_id, size_t size, uint64_t gpa, const char **why)
{
	struct acpitab_cfg cfg = { .nr_vcpus = nr_vcpus, .ioapic_id = ioapic_id };

	*why = NULL;
	return acpitab_build(&cfg, area, size, gpa, &out, why);
}

static void test_bad_vcpus(void **state)
{
	const char *why;

	assert_int_equal(try(0, 9, sizeof(area), ACPITAB_GPA, &why), -EINVAL);
	assert_non_null(strstr(why, "nr_vcpus"));
	assert_int_equal(try(TERN_MAX_VCPUS + 1, 15, sizeof(area), ACPITAB_GPA, &why), -EINVAL);
	assert_non_null(strstr(why, "nr_vcpus"));
	/* MP 1.4 4.3.3: the I/O APIC's ID is not a processor's; 82093AA IDs are 4 bits. */
	assert_int_equal(try(2, 1, sizeof(area), ACPITAB_GPA, &why), -EINVAL);
	assert_non_null(strstr(why, "ioapic_id"));
	assert_int_equal(try(2, 16, sizeof(area), ACPITAB_GPA, &why), -EINVAL);
	assert_int_equal(try(TERN_MAX_VCPUS, TERN_MAX_VCPUS, sizeof(area), ACPITAB_GPA, &why), 0);
}

static void test_small_buffer(void **state)
{
	const char *why;
	size_t need;

	assert_int_equal(try(8, 8, sizeof(area), ACPITAB_GPA, &why), 0);
	need = out.used;
	/* MP structures at 0xF0000: the used size is 64 KiB and the MP table. */
	assert_true(need == 0x10000 + 16 + out.t[ACPITAB_MPCT].len);
	assert_int_equal(try(8, 8, need - 1, ACPITAB_GPA, &why), -ENOSPC);
	assert_non_null(strstr(why, "too small"));
	assert_true(out.used == need);
	assert_int_equal(try(8, 8, 64, ACPITAB_GPA, &why), -ENOSPC);
	assert_int_equal(try(8, 8, need, ACPITAB_GPA, &why), 0);
}

static void test_bad_gpa(void **state)
{
	const char *why;

	assert_int_equal(try(1, 1, sizeof(area), ACPITAB_GPA + 8, &why), -EINVAL);
	assert_non_null(strstr(why, "aligned"));
	assert_int_equal(try(1, 1, sizeof(area), 0x9F000, &why), -EINVAL);
	assert_non_null(why);
	/* Starting at 0xFFF00 the tables would pass 1 MiB. */
	assert_int_equal(try(1, 1, 0x100, 0xFFF00, &why), -EINVAL);
	assert_non_null(why);
	/* Within the BIOS ROM range the MP structures follow the ACPI tables. */
	assert_int_equal(try(1, 1, 0x10000, 0xF0000, &why), 0);
	assert_true(out.rsdp_gpa == 0xF0000 && out.mpfp_gpa > out.t[ACPITAB_MADT].gpa);
	assert_true(out.used < 0x1000);
	assert_int_equal(acpitab_build(NULL, area, sizeof(area), ACPITAB_GPA, &out, &why), -EINVAL);
}

/* Tables do not overlap and lie inside the bytes reported used. */
static void test_layout(void **state)
{
	build(TERN_MAX_VCPUS);
	for (int i = 0; i < ACPITAB_NR; i++) {
		assert_true(out.t[i].len > 0);
		assert_true(out.t[i].gpa + out.t[i].len <= ACPITAB_GPA + out.used);
		for (int j = i + 1; j < ACPITAB_NR; j++)
			assert_true(out.t[i].gpa + out.t[i].len <= out.t[j].gpa);
	}
	assert_string_equal(acpitab_name(ACPITAB_FADT), "FACP");
	assert_string_equal(acpitab_name(ACPITAB_NR), "?");
	/* The area outside the tables is zeroed (was 0xAA). */
	assert_int_equal(*at(out.t[ACPITAB_MADT].gpa + out.t[ACPITAB_MADT].len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_rsdp_found_by_scan),
		cmocka_unit_test(test_xsdt_rsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_facs),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_dsdt_pkglength),
		cmocka_unit_test(test_dsdt_pvpanic),
		cmocka_unit_test(test_madt_1),
		cmocka_unit_test(test_madt_8),
		cmocka_unit_test(test_mp_1),
		cmocka_unit_test(test_mp_8),
		cmocka_unit_test(test_parsed_by_drivers_acpi),
		cmocka_unit_test(test_bad_vcpus),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_bad_gpa),
		cmocka_unit_test(test_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
