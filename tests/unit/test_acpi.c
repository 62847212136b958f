/* SPDX-License-Identifier: MIT */
/* Host tests for drivers/acpi.c: real Firecracker tables, hand-built ones, fake physical memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi.h"

#define HDR 36

/* Offsets from the ACPI 6.5 spec tables, written independently of drivers/acpi.c's structs. */
#define FADT_DSDT          40
#define FADT_PM1A_CNT_BLK  64
#define FADT_PM1B_CNT_BLK  68
#define FADT_PM_TMR_BLK    76
#define FADT_PM1_CNT_LEN   89
#define FADT_PM_TMR_LEN    91
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_X_DSDT        140
#define FADT_X_PM1A_CNT    172
#define FADT_X_PM1B_CNT    184
#define FADT_X_PM_TMR      208
#define FADT_TMR_VAL_EXT   (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED    (1u << 20)

static const struct acpi_info zero_info;

/* --- bytes ------------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* A heap copy of exactly len bytes: ASan then flags any read past what a parser was given. */
static uint8_t *dup_exact(const void *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	assert_non_null(c);
	memcpy(c, p, len);
	return c;
}

static uint8_t *load_table(const char *name, size_t *len)
{
	char path[256];
	uint8_t buf[65536];
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/data/%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(*len >= HDR);
	return dup_exact(buf, *len);
}

/* --- table builders ---------------------------------------------------------------- */

static void tbl_header(uint8_t *t, const char *sig, uint8_t revision)
{
	memset(t, 0, HDR);
	memcpy(t, sig, 4);
	t[8] = revision;
	memcpy(t + 10, "TERNTS", 6);
	memcpy(t + 16, "UNITTEST", 8);
}

/* Sets the length and a checksum that makes the table sum to zero. */
static size_t tbl_finish(uint8_t *t, size_t len)
{
	put32(t + 4, (uint32_t)len);
	t[9] = 0;
	t[9] = (uint8_t)(0 - sum8(t, len));
	return len;
}

static void gas(uint8_t *p, uint8_t space, uint8_t width, uint8_t offset, uint8_t access,
		uint64_t addr)
{
	p[0] = space;
	p[1] = width;
	p[2] = offset;
	p[3] = access;
	put64(p + 4, addr);
}

static size_t build_rsdp(uint8_t *p, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(p, 0, 36);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "BOCHS ", 6);
	p[15] = revision;
	put32(p + 16, rsdt);
	if (revision >= 2) {
		put32(p + 20, 36);
		put64(p + 24, xsdt);
	}
	p[8] = (uint8_t)(0 - sum8(p, 20));
	if (revision < 2)
		return 20;
	p[32] = (uint8_t)(0 - sum8(p, 36));
	return 36;
}

static size_t build_root(uint8_t *t, const char *sig, const uint64_t *entries, size_t n)
{
	size_t size = sig[0] == 'X' ? 8 : 4, i;

	tbl_header(t, sig, 1);
	for (i = 0; i < n; i++) {
		if (size == 8)
			put64(t + HDR + i * 8, entries[i]);
		else
			put32(t + HDR + i * 4, (uint32_t)entries[i]);
	}
	return tbl_finish(t, HDR + n * size);
}

static size_t madt_begin(uint8_t *t, uint32_t lapic, uint32_t flags)
{
	tbl_header(t, "APIC", 5);
	put32(t + 36, lapic);
	put32(t + 40, flags);
	return 44;
}

static size_t madt_lapic(uint8_t *p, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	p[0] = 0;
	p[1] = 8;
	p[2] = uid;
	p[3] = apic_id;
	put32(p + 4, flags);
	return 8;
}

static size_t madt_ioapic(uint8_t *p, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	p[0] = 1;
	p[1] = 12;
	p[2] = id;
	p[3] = 0;
	put32(p + 4, addr);
	put32(p + 8, gsi_base);
	return 12;
}

static size_t madt_override(uint8_t *p, uint64_t addr)
{
	p[0] = 5;
	p[1] = 12;
	put16(p + 2, 0);
	put64(p + 4, addr);
	return 12;
}

static size_t madt_x2apic(uint8_t *p, uint32_t x2apic_id, uint32_t flags, uint32_t uid)
{
	p[0] = 9;
	p[1] = 16;
	put16(p + 2, 0);
	put32(p + 4, x2apic_id);
	put32(p + 8, flags);
	put32(p + 12, uid);
	return 16;
}

/* An entry of a type the parser skips (e.g. 2 Interrupt Source Override, 4 Local APIC NMI). */
static size_t madt_other(uint8_t *p, uint8_t type, uint8_t len)
{
	memset(p, 0xa5, len);
	p[0] = type;
	p[1] = len;
	return len;
}

/* A two-CPU, one-I/O-APIC MADT like QEMU's. */
static size_t build_small_madt(uint8_t *t)
{
	size_t n = madt_begin(t, 0xfee00000, 1);

	n += madt_lapic(t + n, 0, 0, 1);
	n += madt_lapic(t + n, 1, 1, 1);
	n += madt_ioapic(t + n, 0, 0xfec00000, 0);
	return tbl_finish(t, n);
}

/* A FADT of len bytes (zeroed beyond the header) with the given Flags. */
static void fadt_begin(uint8_t *t, size_t len, uint8_t revision, uint32_t flags)
{
	memset(t, 0, len);
	tbl_header(t, "FACP", revision);
	put32(t + FADT_FLAGS, flags);
}

/* A PIIX4-style ACPI 1.0 FADT: I/O port blocks only. */
static size_t build_fadt_v1(uint8_t *t, uint32_t dsdt)
{
	fadt_begin(t, 116, 1, FADT_TMR_VAL_EXT);
	put32(t + FADT_DSDT, dsdt);
	put32(t + FADT_PM1A_CNT_BLK, 0xb004);
	put32(t + FADT_PM_TMR_BLK, 0xb008);
	t[FADT_PM1_CNT_LEN] = 2;
	t[FADT_PM_TMR_LEN] = 4;
	return tbl_finish(t, 116);
}

static size_t build_spcr(uint8_t *t, size_t len, uint8_t iface, uint8_t space, uint64_t base,
			 uint8_t baud)
{
	memset(t, 0, len);
	tbl_header(t, "SPCR", 2);
	t[36] = iface;
	gas(t + 40, space, 8, 0, 1, base);
	t[52] = 1;  /* Interrupt Type: dual-8259 */
	t[53] = 4;  /* IRQ */
	t[58] = baud;
	return tbl_finish(t, len);
}

static size_t build_dsdt(uint8_t *t, const uint8_t *aml, size_t aml_len)
{
	tbl_header(t, "DSDT", 2);
	memcpy(t + HDR, aml, aml_len);
	return tbl_finish(t, HDR + aml_len);
}

/* Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) as iasl emits it. */
static const uint8_t aml_s5_byteprefix[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

/* Name (\_S5, Package (0x04) { Zero, One, Zero, Zero }): root prefix, ZeroOp/OneOp. */
static const uint8_t aml_s5_root_zero_one[] = {
	0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x01, 0x00, 0x00,
};

/* --- fake physical memory -------------------------------------------------------- */

#define FAKE_SIZE  0x80000
#define MAX_GRANTS 1024
#define MAX_DIAGS  16

static struct {
	uint64_t base;
	uint8_t mem[FAKE_SIZE];
	void *grants[MAX_GRANTS];
	size_t nr_grants;
	struct {
		uint64_t phys;
		size_t len;
	} calls[MAX_GRANTS];
	size_t nr_calls;
	char diags[MAX_DIAGS][256];
	size_t nr_diags;
} fm;

/* Grants a fresh exact-size copy, so a read past len is a heap overflow ASan reports. */
static const void *fake_map(void *ctx, uint64_t phys, size_t len)
{
	assert_ptr_equal(ctx, &fm);
	if (fm.nr_calls < MAX_GRANTS) {
		fm.calls[fm.nr_calls].phys = phys;
		fm.calls[fm.nr_calls].len = len;
		fm.nr_calls++;
	}
	if (phys < fm.base || len > FAKE_SIZE || phys - fm.base > FAKE_SIZE - len)
		return NULL;
	assert_true(fm.nr_grants < MAX_GRANTS);
	fm.grants[fm.nr_grants] = dup_exact(fm.mem + (phys - fm.base), len);
	return fm.grants[fm.nr_grants++];
}

static void fake_diag(void *ctx, const char *msg)
{
	assert_ptr_equal(ctx, &fm);
	assert_non_null(msg);
	assert_true(strlen(msg) > 0);
	if (fm.nr_diags < MAX_DIAGS)
		snprintf(fm.diags[fm.nr_diags++], sizeof(fm.diags[0]), "%s", msg);
}

static const struct acpi_env fake_env = { fake_map, fake_diag, &fm };

static void fake_reset(uint64_t base)
{
	size_t i;

	for (i = 0; i < fm.nr_grants; i++)
		free(fm.grants[i]);
	memset(&fm, 0, sizeof(fm));
	fm.base = base;
}

static int fake_setup(void **state)
{
	fake_reset(0x7ffe0000);
	return 0;
}

static int fake_teardown(void **state)
{
	fake_reset(0);
	return 0;
}

static void place(uint64_t phys, const void *p, size_t len)
{
	assert_true(phys >= fm.base && phys - fm.base + len <= FAKE_SIZE);
	memcpy(fm.mem + (phys - fm.base), p, len);
}

static bool diag_has(const char *needle)
{
	size_t i;

	for (i = 0; i < fm.nr_diags; i++)
		if (strstr(fm.diags[i], needle))
			return true;
	return false;
}

static size_t nr_calls_for(uint64_t phys)
{
	size_t i, n = 0;

	for (i = 0; i < fm.nr_calls; i++)
		n += fm.calls[i].phys == phys;
	return n;
}

/* --- basic helpers ------------------------------------------------------------------ */

static void test_checksum_ok(void **state)
{
	uint8_t b[4] = { 0x10, 0x20, 0x30, 0xa0 };

	assert_true(acpi_checksum_ok(b, 4));
	assert_false(acpi_checksum_ok(b, 3));
	assert_true(acpi_checksum_ok(b, 0));
}

static void test_strerror(void **state)
{
	assert_string_equal(acpi_strerror(0), "ok");
	assert_string_equal(acpi_strerror(ACPI_ERR_CHECKSUM), "bad checksum");
	assert_non_null(acpi_strerror(ACPI_ERR_NO_RSDP));
	assert_non_null(acpi_strerror(ACPI_ERR_SIGNATURE));
	assert_non_null(acpi_strerror(ACPI_ERR_TRUNCATED));
	assert_non_null(acpi_strerror(-99));
	assert_non_null(acpi_strerror(7));
	assert_string_not_equal(acpi_strerror(ACPI_ERR_SIGNATURE), acpi_strerror(ACPI_ERR_TRUNCATED));
}

/* --- real Firecracker tables --------------------------------------------------------- */

static void test_real_tables_check(void **state)
{
	static const char *const files[] = { "firecracker_apic.bin", "firecracker_facp.bin",
					     "firecracker_dsdt.bin", "firecracker_mcfg.bin" };
	static const char *const sigs[] = { "APIC", "FACP", "DSDT", "MCFG" };
	size_t i, len;
	uint8_t *t;

	for (i = 0; i < 4; i++) {
		t = load_table(files[i], &len);
		assert_int_equal(get32(t + 4), len);
		assert_int_equal(acpi_table_check(t, len, sigs[i]), 0);
		assert_int_equal(acpi_table_check(t, len, NULL), 0);
		assert_int_equal(acpi_table_check(t, len, "XSDT"), ACPI_ERR_SIGNATURE);
		free(t);
	}
}

static void test_real_madt(void **state)
{
	struct acpi_info out = { 0 };
	size_t len;
	uint8_t *t = load_table("firecracker_apic.bin", &len);

	assert_int_equal(acpi_parse_madt(t, len, &out), 0);
	assert_true(out.has_madt);
	assert_int_equal(out.lapic_address, 0xfee00000);
	assert_false(out.pcat_compat);
	assert_int_equal(out.nr_cpus, 2);
	assert_int_equal(out.cpus[0].apic_id, 0);
	assert_int_equal(out.cpus[0].uid, 0);
	assert_true(out.cpus[0].enabled);
	assert_false(out.cpus[0].online_capable);
	assert_false(out.cpus[0].x2apic_entry);
	assert_int_equal(out.cpus[1].apic_id, 1);
	assert_int_equal(out.cpus[1].uid, 1);
	assert_true(out.cpus[1].enabled);
	assert_int_equal(out.nr_ioapics, 1);
	assert_int_equal(out.ioapics[0].id, 0);
	assert_int_equal(out.ioapics[0].address, 0xfec00000);
	assert_int_equal(out.ioapics[0].gsi_base, 0);
	assert_false(out.has_fadt);
	free(t);
}

static void test_real_fadt(void **state)
{
	struct acpi_info out = { 0 };
	size_t len;
	uint8_t *t = load_table("firecracker_facp.bin", &len);

	assert_int_equal(acpi_parse_fadt(t, len, &out), 0);
	assert_true(out.has_fadt);
	/* Flags 0x00100030: PWR_BUTTON, SLP_BUTTON, HW_REDUCED_ACPI. */
	assert_true(out.hw_reduced);
	assert_false(out.pm_tmr_32bit);
	assert_false(out.reset_supported);
	/* DSDT is 0, X_DSDT 0x9fd44. */
	assert_int_equal(out.dsdt, 0x9fd44);
	/* A hardware-reduced FADT has no PM blocks at all. */
	assert_int_equal(out.pm1a_cnt.address, 0);
	assert_int_equal(out.pm1b_cnt.address, 0);
	assert_int_equal(out.pm_tmr.address, 0);
	assert_false(out.has_madt);
	free(t);
}

static void test_real_dsdt_has_no_s5(void **state)
{
	struct acpi_info out = { 0 };
	size_t len;
	uint8_t *t = load_table("firecracker_dsdt.bin", &len);

	/* Firecracker powers off through its GED, not through \_S5. */
	assert_int_equal(acpi_parse_dsdt_s5(t, len, &out), 0);
	assert_false(out.has_s5);
	free(t);
}

/* Every shorter grant of a real table is refused and leaves out alone. */
static void test_real_tables_every_truncation(void **state)
{
	static const char *const files[] = { "firecracker_apic.bin", "firecracker_facp.bin",
					     "firecracker_dsdt.bin" };
	int (*const parsers[])(const void *, size_t, struct acpi_info *) = {
		acpi_parse_madt, acpi_parse_fadt, acpi_parse_dsdt_s5
	};
	struct acpi_info out;
	size_t i, avail, len;
	uint8_t *t, *cut;

	for (i = 0; i < 3; i++) {
		t = load_table(files[i], &len);
		for (avail = 0; avail < len; avail++) {
			cut = dup_exact(t, avail);
			memset(&out, 0, sizeof(out));
			assert_int_equal(parsers[i](cut, avail, &out), ACPI_ERR_TRUNCATED);
			assert_int_equal(acpi_table_check(cut, avail, NULL), ACPI_ERR_TRUNCATED);
			assert_memory_equal(&out, &zero_info, sizeof(out));
			free(cut);
		}
		free(t);
	}
}

static void test_real_bad_checksum(void **state)
{
	struct acpi_info out = { 0 };
	size_t len;
	uint8_t *t = load_table("firecracker_apic.bin", &len);

	t[0x43] ^= 0x04; /* second CPU's APIC ID */
	assert_int_equal(acpi_table_check(t, len, "APIC"), ACPI_ERR_CHECKSUM);
	assert_int_equal(acpi_parse_madt(t, len, &out), ACPI_ERR_CHECKSUM);
	assert_memory_equal(&out, &zero_info, sizeof(out));
	free(t);

	t = load_table("firecracker_facp.bin", &len);
	t[FADT_FLAGS] ^= 0x01;
	assert_int_equal(acpi_parse_fadt(t, len, &out), ACPI_ERR_CHECKSUM);
	assert_memory_equal(&out, &zero_info, sizeof(out));
	free(t);

	t = load_table("firecracker_dsdt.bin", &len);
	t[len - 1] ^= 0x80;
	assert_int_equal(acpi_parse_dsdt_s5(t, len, &out), ACPI_ERR_CHECKSUM);
	assert_memory_equal(&out, &zero_info, sizeof(out));
	free(t);
}

static void test_wrong_signature(void **state)
{
	struct acpi_info out = { 0 };
	size_t flen, mlen, clen;
	uint8_t *facp = load_table("firecracker_facp.bin", &flen);
	uint8_t *apic = load_table("firecracker_apic.bin", &mlen);
	uint8_t *mcfg = load_table("firecracker_mcfg.bin", &clen);

	assert_int_equal(acpi_parse_madt(facp, flen, &out), ACPI_ERR_SIGNATURE);
	assert_int_equal(acpi_parse_fadt(apic, mlen, &out), ACPI_ERR_SIGNATURE);
	assert_int_equal(acpi_parse_dsdt_s5(mcfg, clen, &out), ACPI_ERR_SIGNATURE);
	assert_int_equal(acpi_parse_spcr(mcfg, clen, &out), ACPI_ERR_SIGNATURE);
	assert_memory_equal(&out, &zero_info, sizeof(out));
	free(facp);
	free(apic);
	free(mcfg);
}

static void test_truncated_header(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[64];

	/* Header length 20, shorter than the header itself, with a valid checksum. */
	tbl_header(t, "APIC", 1);
	tbl_finish(t, 20);
	assert_int_equal(acpi_table_check(t, sizeof(t), "APIC"), ACPI_ERR_TRUNCATED);
	assert_int_equal(acpi_parse_madt(t, sizeof(t), &out), ACPI_ERR_TRUNCATED);

	/* A header-only MADT lacks the local APIC address and flags. */
	tbl_header(t, "APIC", 1);
	tbl_finish(t, HDR);
	assert_int_equal(acpi_table_check(t, HDR, "APIC"), 0);
	assert_int_equal(acpi_parse_madt(t, HDR, &out), ACPI_ERR_TRUNCATED);

	/* Fewer bytes granted than even a header. */
	assert_int_equal(acpi_table_check(t, HDR - 1, NULL), ACPI_ERR_TRUNCATED);
	assert_int_equal(acpi_table_check(NULL, 100, NULL), ACPI_ERR_TRUNCATED);
	assert_memory_equal(&out, &zero_info, sizeof(out));
}

/* --- MADT ------------------------------------------------------------------------ */

static void test_madt_x2apic_and_disabled(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[512], *c;
	size_t n = madt_begin(t, 0xfee00000, 1);

	n += madt_lapic(t + n, 0, 0, 1);                /* enabled */
	n += madt_lapic(t + n, 1, 1, 0);                /* disabled, not hot-pluggable */
	n += madt_lapic(t + n, 2, 2, 2);                /* online capable */
	n += madt_ioapic(t + n, 2, 0xfec00000, 0);
	n += madt_ioapic(t + n, 3, 0xfec01000, 24);
	n += madt_other(t + n, 2, 10);                  /* Interrupt Source Override */
	n += madt_other(t + n, 4, 6);                   /* Local APIC NMI */
	n += madt_x2apic(t + n, 0x100, 1, 300);         /* APIC ID >= 255 */
	n += madt_x2apic(t + n, 0x101, 0, 301);
	n += madt_other(t + n, 0x7f, 3);                /* unknown type */
	n += madt_override(t + n, 0x1fee00000ull);
	n += madt_other(t + n, 0x0a, 12);               /* Local x2APIC NMI */
	tbl_finish(t, n);
	c = dup_exact(t, n);

	assert_int_equal(acpi_parse_madt(c, n, &out), 0);
	assert_true(out.has_madt);
	assert_true(out.pcat_compat);
	assert_int_equal(out.lapic_address, 0x1fee00000ull);
	assert_int_equal(out.nr_cpus, 5);
	assert_true(out.cpus[0].enabled);
	assert_false(out.cpus[1].enabled);
	assert_false(out.cpus[1].online_capable);
	assert_false(out.cpus[2].enabled);
	assert_true(out.cpus[2].online_capable);
	assert_int_equal(out.cpus[3].apic_id, 0x100);
	assert_int_equal(out.cpus[3].uid, 300);
	assert_true(out.cpus[3].enabled);
	assert_true(out.cpus[3].x2apic_entry);
	assert_int_equal(out.cpus[4].apic_id, 0x101);
	assert_false(out.cpus[4].enabled);
	assert_true(out.cpus[4].x2apic_entry);
	assert_false(out.cpus[2].x2apic_entry);
	assert_int_equal(out.nr_ioapics, 2);
	assert_int_equal(out.ioapics[1].id, 3);
	assert_int_equal(out.ioapics[1].address, 0xfec01000);
	assert_int_equal(out.ioapics[1].gsi_base, 24);
	free(c);
}

/*
 * A two-socket server's MADT as firmware lays it out, byte for byte: xAPIC
 * entries (type 0) for IDs below 255, Processor Local x2APIC entries (type 9,
 * ACPI 6.5 section 5.2.12.12) for the rest, placeholders, a CPU listed in both
 * forms, a hot-pluggable (online capable) one, and the NMI and override entries
 * real tables carry. Checksum included.
 */
static const uint8_t server_madt[] = {
	/* header: 'APIC', length 208, revision 5, checksum 0xb8, OEM 'TERNFW' 'SERVER2S' */
	0x41, 0x50, 0x49, 0x43, 0xd0, 0x00, 0x00, 0x00, 0x05, 0xb8, 0x54, 0x45,
	0x52, 0x4e, 0x46, 0x57, 0x53, 0x45, 0x52, 0x56, 0x45, 0x52, 0x32, 0x53,
	0x01, 0x00, 0x00, 0x00, 0x54, 0x45, 0x52, 0x4e, 0x01, 0x00, 0x00, 0x00,
	/* Local Interrupt Controller Address 0xFEE00000, Flags PCAT_COMPAT */
	0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00,
	/* type 0 Processor Local APIC: UID 0, APIC ID 0, Enabled */
	0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	/* type 0: UID 1, APIC ID 2, Enabled */
	0x00, 0x08, 0x01, 0x02, 0x01, 0x00, 0x00, 0x00,
	/* type 0: UID 2, APIC ID 0xFF (a placeholder: no processor), flags 0 */
	0x00, 0x08, 0x02, 0xff, 0x00, 0x00, 0x00, 0x00,
	/* type 9 Processor Local x2APIC: x2APIC ID 0x100, Enabled, UID 0x100 */
	0x09, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	/* type 9: x2APIC ID 0x102, flags 0 (disabled, not online capable), UID 0x102 */
	0x09, 0x10, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00,
	/* type 9: x2APIC ID 0x104, Online Capable (hot-pluggable), UID 0x104 */
	0x09, 0x10, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00,
	/* type 9: x2APIC ID 0 again (the BSP, listed in both forms), UID 0 */
	0x09, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* type 9: x2APIC ID 0xFFFFFFFF (a placeholder), Enabled set anyway */
	0x09, 0x10, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
	/* type 1 I/O APIC: ID 8 at 0xFEC00000, GSI base 0 */
	0x01, 0x0c, 0x08, 0x00, 0x00, 0x00, 0xc0, 0xfe, 0x00, 0x00, 0x00, 0x00,
	/* type 2 Interrupt Source Override: ISA IRQ 0 -> GSI 2 */
	0x02, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* type 2 Interrupt Source Override: ISA IRQ 9 -> GSI 9, level, active low (SCI) */
	0x02, 0x0a, 0x00, 0x09, 0x09, 0x00, 0x00, 0x00, 0x0f, 0x00,
	/* type 2 on bus 1 (not ISA): ignored */
	0x02, 0x0a, 0x01, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* type 4 Local APIC NMI: all processors (UID 0xFF), LINT1, edge/high */
	0x04, 0x06, 0xff, 0x05, 0x00, 0x01,
	/* type 10 Local x2APIC NMI: all processors (UID 0xFFFFFFFF), LINT1 */
	0x0a, 0x0c, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00,
};

static void test_madt_server_x2apic(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t *c = dup_exact(server_madt, sizeof(server_madt));

	assert_int_equal(acpi_table_check(c, sizeof(server_madt), "APIC"), 0);
	assert_int_equal(acpi_parse_madt(c, sizeof(server_madt), &out), 0);
	assert_true(out.pcat_compat);
	assert_int_equal(out.lapic_address, 0xfee00000u);
	/* The placeholders are no CPUs, and the BSP counts once. */
	assert_int_equal(out.nr_cpus, 5);
	assert_int_equal(out.nr_cpus_dropped, 0);
	assert_int_equal(out.cpus[0].apic_id, 0);
	assert_true(out.cpus[0].enabled);
	assert_false(out.cpus[0].x2apic_entry);
	assert_int_equal(out.cpus[1].apic_id, 2);
	assert_true(out.cpus[1].enabled);
	assert_int_equal(out.cpus[2].apic_id, 0x100);
	assert_int_equal(out.cpus[2].uid, 0x100);
	assert_true(out.cpus[2].enabled);
	assert_true(out.cpus[2].x2apic_entry);
	assert_int_equal(out.cpus[3].apic_id, 0x102);
	assert_false(out.cpus[3].enabled);
	assert_false(out.cpus[3].online_capable);
	assert_int_equal(out.cpus[4].apic_id, 0x104);
	assert_false(out.cpus[4].enabled);
	assert_true(out.cpus[4].online_capable);
	assert_int_equal(out.nr_ioapics, 1);
	assert_int_equal(out.ioapics[0].id, 8);
	assert_int_equal(out.ioapics[0].address, 0xfec00000u);
	assert_int_equal(out.nr_irq_overrides, 2);
	{
		uint32_t gsi;
		bool low, level;

		acpi_isa_irq(&out, 0, &gsi, &low, &level);
		assert_int_equal(gsi, 2);
		assert_false(low);
		assert_false(level);
		acpi_isa_irq(&out, 9, &gsi, &low, &level);
		assert_int_equal(gsi, 9);
		assert_true(low);
		assert_true(level);
		acpi_isa_irq(&out, 4, &gsi, &low, &level);   /* COM1: no override */
		assert_int_equal(gsi, 4);
		assert_false(low);
		assert_false(level);
	}

	/* Every truncation of it: an error or a clean prefix, never a read past the end. */
	for (size_t len = 0; len < sizeof(server_madt); len++) {
		struct acpi_info part = { 0 };
		uint8_t *t = dup_exact(server_madt, len);

		assert_int_not_equal(acpi_parse_madt(t, len, &part), 0);
		assert_true(part.nr_cpus <= 5);
		free(t);
	}
	free(c);
}

/* Past ACPI_MAX_CPUS entries, enabled processors are kept over disabled ones. */
static void test_madt_enabled_displace_disabled(void **state)
{
	static uint8_t t[44 + 310 * 16];
	struct acpi_info out = { 0 };
	size_t n = madt_begin(t, 0xfee00000, 0);
	uint32_t i, enabled = 0;

	for (i = 0; i < 300; i++)               /* hot-plug slots, none present */
		n += madt_x2apic(t + n, 0x1000 + i, 2, i);
	for (i = 0; i < 10; i++)                /* the CPUs there are, IDs above 255 */
		n += madt_x2apic(t + n, 0x100 + i, 1, 1000 + i);
	tbl_finish(t, n);
	assert_int_equal(acpi_parse_madt(t, n, &out), 0);
	assert_int_equal(out.nr_cpus, ACPI_MAX_CPUS);
	assert_int_equal(out.nr_cpus_dropped, 310 - ACPI_MAX_CPUS);
	for (i = 0; i < out.nr_cpus; i++) {
		if (out.cpus[i].enabled) {
			enabled++;
			assert_true(out.cpus[i].apic_id >= 0x100 && out.cpus[i].apic_id < 0x10a);
		}
	}
	assert_int_equal(enabled, 10);
}

static void test_madt_entry_past_end(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[128], *c;
	size_t n = madt_begin(t, 0xfee00000, 0);

	n += madt_lapic(t + n, 0, 0, 1);
	n += madt_lapic(t + n, 1, 1, 1);
	/* An I/O APIC entry that says 12 bytes where the table has 8 left. */
	madt_ioapic(t + n, 0, 0xfec00000, 0);
	n += 8;
	tbl_finish(t, n);
	c = dup_exact(t, n);

	assert_int_equal(acpi_parse_madt(c, n, &out), ACPI_ERR_TRUNCATED);
	assert_true(out.has_madt);
	assert_int_equal(out.nr_cpus, 2);
	assert_int_equal(out.cpus[1].apic_id, 1);
	assert_int_equal(out.nr_ioapics, 0);
	free(c);

	/* A lone type byte at the very end: not even a length. */
	n = madt_begin(t, 0xfee00000, 0);
	n += madt_lapic(t + n, 0, 0, 1);
	t[n++] = 0;
	tbl_finish(t, n);
	c = dup_exact(t, n);
	assert_int_equal(acpi_parse_madt(c, n, &out), ACPI_ERR_TRUNCATED);
	assert_int_equal(out.nr_cpus, 1);
	free(c);
}

static void test_madt_entry_bad_length(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[128];
	size_t n = madt_begin(t, 0xfee00000, 0);
	size_t bad;

	n += madt_lapic(t + n, 0, 0, 1);
	bad = n;
	n += madt_lapic(t + n, 1, 1, 1);
	n += madt_lapic(t + n, 2, 2, 1);

	/* Length 0 would loop forever; the walk stops and keeps CPU 0. */
	t[bad + 1] = 0;
	tbl_finish(t, n);
	assert_int_equal(acpi_parse_madt(t, n, &out), ACPI_ERR_TRUNCATED);
	assert_int_equal(out.nr_cpus, 1);

	/* A Processor Local APIC entry too short for its fields. */
	t[bad + 1] = 6;
	tbl_finish(t, n);
	assert_int_equal(acpi_parse_madt(t, n, &out), ACPI_ERR_TRUNCATED);
	assert_int_equal(out.nr_cpus, 1);
}

static void test_madt_caps(void **state)
{
	static uint8_t t[44 + 300 * 16 + 20 * 12];
	struct acpi_info out = { 0 };
	size_t n = madt_begin(t, 0xfee00000, 0);
	uint32_t i;

	for (i = 0; i < 300; i++)
		n += madt_x2apic(t + n, i, 1, i);
	for (i = 0; i < 20; i++)
		n += madt_ioapic(t + n, (uint8_t)i, 0xfec00000 + i * 0x1000, i * 24);
	tbl_finish(t, n);
	assert_int_equal(acpi_parse_madt(t, n, &out), 0);
	assert_int_equal(out.nr_cpus, ACPI_MAX_CPUS);
	assert_int_equal(out.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
	assert_int_equal(out.nr_cpus_dropped, 300 - ACPI_MAX_CPUS);
	assert_int_equal(out.nr_ioapics, ACPI_MAX_IOAPICS);
}

/* --- FADT ------------------------------------------------------------------------ */

static void test_fadt_acpi1(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[116], *c;
	size_t n;

	n = build_fadt_v1(t, 0x7fe0000);
	/* RESET_REG_SUP without a RESET_REG in the table means nothing. */
	put32(t + FADT_FLAGS, FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
	tbl_finish(t, n);
	c = dup_exact(t, n);
	assert_int_equal(acpi_parse_fadt(c, n, &out), 0);
	assert_true(out.has_fadt);
	assert_false(out.hw_reduced);
	assert_true(out.pm_tmr_32bit);
	assert_false(out.reset_supported);
	assert_int_equal(out.dsdt, 0x7fe0000);
	assert_int_equal(out.pm1a_cnt.space_id, ACPI_GAS_IO);
	assert_int_equal(out.pm1a_cnt.address, 0xb004);
	assert_int_equal(out.pm1a_cnt.bit_width, 16);
	assert_int_equal(out.pm1a_cnt.bit_offset, 0);
	assert_int_equal(out.pm1b_cnt.address, 0);
	assert_int_equal(out.pm1b_cnt.bit_width, 0);
	assert_int_equal(out.pm_tmr.space_id, ACPI_GAS_IO);
	assert_int_equal(out.pm_tmr.address, 0xb008);
	assert_int_equal(out.pm_tmr.bit_width, 32);
	free(c);
}

static void test_fadt_x_fields_and_reset(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[276], *c;

	fadt_begin(t, 276, 6, FADT_RESET_REG_SUP);
	put32(t + FADT_DSDT, 0x1111);
	put64(t + FADT_X_DSDT, 0x100002000ull);
	put32(t + FADT_PM1A_CNT_BLK, 0x604);
	t[FADT_PM1_CNT_LEN] = 2;
	gas(t + FADT_X_PM1A_CNT, ACPI_GAS_MEMORY, 16, 0, 2, 0xfed80004);
	/* X_PM_TMR_BLK left zero: the 32-bit block must be used. */
	put32(t + FADT_PM_TMR_BLK, 0x608);
	t[FADT_PM_TMR_LEN] = 4;
	gas(t + FADT_RESET_REG, ACPI_GAS_IO, 8, 0, 1, 0xcf9);
	t[FADT_RESET_VALUE] = 0x06;
	tbl_finish(t, 276);
	c = dup_exact(t, 276);

	assert_int_equal(acpi_parse_fadt(c, 276, &out), 0);
	assert_int_equal(out.dsdt, 0x100002000ull);
	assert_int_equal(out.pm1a_cnt.space_id, ACPI_GAS_MEMORY);
	assert_int_equal(out.pm1a_cnt.address, 0xfed80004);
	assert_int_equal(out.pm1a_cnt.bit_width, 16);
	assert_int_equal(out.pm1a_cnt.access_size, 2);
	assert_int_equal(out.pm_tmr.space_id, ACPI_GAS_IO);
	assert_int_equal(out.pm_tmr.address, 0x608);
	assert_false(out.pm_tmr_32bit);
	assert_true(out.reset_supported);
	assert_int_equal(out.reset_reg.space_id, ACPI_GAS_IO);
	assert_int_equal(out.reset_reg.bit_width, 8);
	assert_int_equal(out.reset_reg.access_size, 1);
	assert_int_equal(out.reset_reg.address, 0xcf9);
	assert_int_equal(out.reset_value, 0x06);
	free(c);
}

/* Lengths that end before, inside and after the X_ fields. */
static void test_fadt_short_revisions(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[276], *c;

	/* 132 bytes: has RESET_REG but not X_DSDT. */
	fadt_begin(t, 276, 2, FADT_RESET_REG_SUP);
	put32(t + FADT_DSDT, 0x2222);
	gas(t + FADT_RESET_REG, ACPI_GAS_MEMORY, 8, 0, 1, 0xfee00000);
	t[FADT_RESET_VALUE] = 0x0e;
	tbl_finish(t, 132);
	c = dup_exact(t, 132);
	assert_int_equal(acpi_parse_fadt(c, 132, &out), 0);
	assert_int_equal(out.dsdt, 0x2222);
	assert_true(out.reset_supported);
	assert_int_equal(out.reset_value, 0x0e);
	assert_int_equal(out.reset_reg.space_id, ACPI_GAS_MEMORY);
	free(c);

	/* 180 bytes: X_PM1a_CNT_BLK (172..183) only partly there, so PM1a_CNT_BLK is used. */
	fadt_begin(t, 276, 3, 0);
	put64(t + FADT_X_DSDT, 0x3333);
	put32(t + FADT_PM1A_CNT_BLK, 0x1004);
	t[FADT_PM1_CNT_LEN] = 2;
	gas(t + FADT_X_PM1A_CNT, ACPI_GAS_IO, 16, 0, 2, 0x99999999);
	tbl_finish(t, 180);
	c = dup_exact(t, 180);
	assert_int_equal(acpi_parse_fadt(c, 180, &out), 0);
	assert_int_equal(out.dsdt, 0x3333);
	assert_int_equal(out.pm1a_cnt.address, 0x1004);
	assert_false(out.reset_supported);
	free(c);

	/* 244 bytes (ACPI 2.0): X_PM1b_CNT_BLK is there. */
	fadt_begin(t, 276, 3, 0);
	gas(t + FADT_X_PM1B_CNT, ACPI_GAS_IO, 16, 0, 2, 0x1044);
	gas(t + FADT_X_PM_TMR, ACPI_GAS_IO, 32, 0, 3, 0x1008);
	tbl_finish(t, 244);
	c = dup_exact(t, 244);
	assert_int_equal(acpi_parse_fadt(c, 244, &out), 0);
	assert_int_equal(out.pm1b_cnt.address, 0x1044);
	assert_int_equal(out.pm_tmr.address, 0x1008);
	assert_int_equal(out.pm_tmr.access_size, 3);
	free(c);
}

static void test_fadt_too_short(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t t[116];

	fadt_begin(t, 116, 1, 0);
	tbl_finish(t, 100);
	assert_int_equal(acpi_parse_fadt(t, 100, &out), ACPI_ERR_TRUNCATED);
	assert_false(out.has_fadt);
	assert_memory_equal(&out, &zero_info, sizeof(out));
}

/* --- SPCR ------------------------------------------------------------------------ */

/*
 * SPCR tables naming a UART other than COM1, byte for byte (Microsoft SPCR
 * revision 2, 80 bytes): COM2 at I/O port 0x2F8, 8-bit, 115200; the same table
 * tests/integration/test_firmware.py hands QEMU with -acpitable.
 */
static const uint8_t spcr_com2[] = {
	0x53, 0x50, 0x43, 0x52, 0x50, 0x00, 0x00, 0x00, 0x02, 0xe1, 0x54, 0x45,
	0x52, 0x4e, 0x46, 0x57, 0x54, 0x45, 0x53, 0x54, 0x53, 0x50, 0x43, 0x52,
	0x01, 0x00, 0x00, 0x00, 0x54, 0x45, 0x52, 0x4e, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x01, 0xf8, 0x02, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00,
	0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* A 16550 at MMIO 0xFE215040 with 32-bit registers (access size 3: dword), 57600. */
static const uint8_t spcr_mmio32[] = {
	0x53, 0x50, 0x43, 0x52, 0x50, 0x00, 0x00, 0x00, 0x02, 0x14, 0x54, 0x45,
	0x52, 0x4e, 0x46, 0x57, 0x54, 0x45, 0x53, 0x54, 0x53, 0x50, 0x43, 0x52,
	0x01, 0x00, 0x00, 0x00, 0x54, 0x45, 0x52, 0x4e, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x03, 0x40, 0x50, 0x21, 0xfe,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00,
	0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_spcr_com2_and_mmio(void **state)
{
	struct acpi_info out = { 0 };
	uint8_t *c = dup_exact(spcr_com2, sizeof(spcr_com2));

	assert_int_equal(acpi_parse_spcr(c, sizeof(spcr_com2), &out), 0);
	assert_true(out.has_spcr);
	assert_int_equal(out.spcr_interface, 0);
	assert_int_equal(out.spcr_base.space_id, ACPI_GAS_IO);
	assert_int_equal(out.spcr_base.bit_width, 8);
	assert_int_equal(out.spcr_base.access_size, 1);
	assert_int_equal(out.spcr_base.address, 0x2f8);
	assert_int_equal(out.spcr_baud, 115200);
	free(c);

	memset(&out, 0, sizeof(out));
	c = dup_exact(spcr_mmio32, sizeof(spcr_mmio32));
	assert_int_equal(acpi_parse_spcr(c, sizeof(spcr_mmio32), &out), 0);
	assert_int_equal(out.spcr_base.space_id, ACPI_GAS_MEMORY);
	assert_int_equal(out.spcr_base.bit_width, 32);
	assert_int_equal(out.spcr_base.access_size, 3);
	assert_int_equal(out.spcr_base.address, 0xfe215040u);
	assert_int_equal(out.spcr_baud, 57600);
	/* One byte short of the baud-rate field: refused, nothing kept. */
	memset(&out, 0, sizeof(out));
	assert_int_not_equal(acpi_parse_spcr(c, 58, &out), 0);
	assert_false(out.has_spcr);
	free(c);
}


static void test_spcr(void **state)
{
	static const struct {
		uint8_t code;
		uint32_t baud;
	} bauds[] = { { 0, 0 }, { 3, 9600 }, { 4, 19200 }, { 5, 0 }, { 6, 57600 }, { 7, 115200 },
		      { 200, 0 } };
	struct acpi_info out = { 0 };
	uint8_t t[80], *c;
	size_t i;

	build_spcr(t, 80, 0, ACPI_GAS_IO, 0x3f8, 7);
	c = dup_exact(t, 80);
	assert_int_equal(acpi_parse_spcr(c, 80, &out), 0);
	assert_true(out.has_spcr);
	assert_int_equal(out.spcr_interface, 0);
	assert_int_equal(out.spcr_base.space_id, ACPI_GAS_IO);
	assert_int_equal(out.spcr_base.bit_width, 8);
	assert_int_equal(out.spcr_base.address, 0x3f8);
	assert_int_equal(out.spcr_baud, 115200);
	free(c);

	for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		build_spcr(t, 80, 3, ACPI_GAS_MEMORY, 0xfe215040, bauds[i].code);
		assert_int_equal(acpi_parse_spcr(t, 80, &out), 0);
		assert_int_equal(out.spcr_interface, 3);
		assert_int_equal(out.spcr_base.space_id, ACPI_GAS_MEMORY);
		assert_int_equal(out.spcr_base.address, 0xfe215040);
		assert_int_equal(out.spcr_baud, bauds[i].baud);
	}

	/* A table that ends before the baud rate field. */
	memset(&out, 0, sizeof(out));
	build_spcr(t, 58, 0, ACPI_GAS_IO, 0x3f8, 0);
	assert_int_equal(acpi_parse_spcr(t, 58, &out), ACPI_ERR_TRUNCATED);
	assert_false(out.has_spcr);
}

/* --- DSDT \_S5 --------------------------------------------------------------------- */

static int parse_s5(const uint8_t *aml, size_t aml_len, struct acpi_info *out)
{
	uint8_t t[1024], *c;
	size_t n;
	int rc;

	assert_true(aml_len <= sizeof(t) - HDR);
	n = build_dsdt(t, aml, aml_len);
	c = dup_exact(t, n);
	memset(out, 0, sizeof(*out));
	rc = acpi_parse_dsdt_s5(c, n, out);
	free(c);
	return rc;
}

static void test_dsdt_s5_byteprefix(void **state)
{
	/*
	 * First a string whose bytes look like an S5 package but follow StringPrefix,
	 * not NameOp: the scan must pass over it.
	 */
	uint8_t aml[64] = { 0x0d, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x07, 0x0a, 0x07, 0x00 };
	struct acpi_info out;

	memcpy(aml + 13, aml_s5_byteprefix, sizeof(aml_s5_byteprefix));
	assert_int_equal(parse_s5(aml, 13 + sizeof(aml_s5_byteprefix), &out), 0);
	assert_true(out.has_s5);
	assert_int_equal(out.s5_slp_typa, 5);
	assert_int_equal(out.s5_slp_typb, 5);
}

static void test_dsdt_s5_root_zero_one(void **state)
{
	struct acpi_info out;

	assert_int_equal(parse_s5(aml_s5_root_zero_one, sizeof(aml_s5_root_zero_one), &out), 0);
	assert_true(out.has_s5);
	assert_int_equal(out.s5_slp_typa, 0);
	assert_int_equal(out.s5_slp_typb, 1);
}

static void test_dsdt_s5_bare_constant(void **state)
{
	static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x07, 0x03 };
	struct acpi_info out;

	assert_int_equal(parse_s5(aml, sizeof(aml), &out), 0);
	assert_true(out.has_s5);
	assert_int_equal(out.s5_slp_typa, 7);
	assert_int_equal(out.s5_slp_typb, 3);
}

/* A package over 63 bytes needs the two-byte PkgLength encoding. */
static void test_dsdt_s5_long_pkglength(void **state)
{
	uint8_t aml[128] = { 0x08, '_', 'S', '5', '_', 0x12 };
	struct acpi_info out;
	size_t n = 6, pkg = 2 + 1 + 4 + 60;

	aml[n++] = (uint8_t)(0x40 | (pkg & 0x0f));
	aml[n++] = (uint8_t)(pkg >> 4);
	aml[n++] = 62; /* NumElements */
	aml[n++] = 0x0a;
	aml[n++] = 0x03;
	aml[n++] = 0x0a;
	aml[n++] = 0x04;
	n += 60; /* ZeroOps */
	assert_int_equal(parse_s5(aml, n, &out), 0);
	assert_true(out.has_s5);
	assert_int_equal(out.s5_slp_typa, 3);
	assert_int_equal(out.s5_slp_typb, 4);

	/* The same package claiming one byte more than the table holds. */
	pkg++;
	aml[6] = (uint8_t)(0x40 | (pkg & 0x0f));
	aml[7] = (uint8_t)(pkg >> 4);
	assert_int_equal(parse_s5(aml, n, &out), 0);
	assert_false(out.has_s5);
}

static void test_dsdt_s5_malformed(void **state)
{
	/* WordPrefix elements are not an SLP_TYP; the good declaration after it is used. */
	static const uint8_t word_then_good[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 0x0b, 0x05, 0x00, 0x0a, 0x05,
		0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x02, 0x0a, 0x06,
	};
	/* One element only. */
	static const uint8_t one_element[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05 };
	struct acpi_info out;
	size_t cut;

	assert_int_equal(parse_s5(word_then_good, sizeof(word_then_good), &out), 0);
	assert_true(out.has_s5);
	assert_int_equal(out.s5_slp_typa, 2);
	assert_int_equal(out.s5_slp_typb, 6);

	assert_int_equal(parse_s5(one_element, sizeof(one_element), &out), 0);
	assert_false(out.has_s5);

	/* Cut off at every point of a real declaration. */
	for (cut = 0; cut < sizeof(aml_s5_byteprefix); cut++) {
		assert_int_equal(parse_s5(aml_s5_byteprefix, cut, &out), 0);
		assert_false(out.has_s5);
	}
}

/* --- acpi_parse through the fake memory ----------------------------------------------- */

#define QEMU_RSDP 0x7ffe0010
#define QEMU_XSDT 0x7ffe0101 /* odd on purpose */
#define QEMU_RSDT 0x7ffe0180
#define QEMU_FADT 0x7ffe0200
#define QEMU_MADT 0x7ffe0400
#define QEMU_SPCR 0x7ffe0600
#define QEMU_MCFG 0x7ffe0700
#define QEMU_DSDT 0x7ffe0800
#define NOWHERE   0xdead0000

/* A QEMU-like layout: RSDP v2, XSDT, FADT with X_ fields, MADT, SPCR, MCFG, DSDT. */
static void place_qemu(const uint64_t *xsdt_entries, size_t n)
{
	uint8_t t[512], *mcfg;
	size_t len;

	place(QEMU_RSDP, t, build_rsdp(t, 2, QEMU_RSDT, QEMU_XSDT));
	place(QEMU_XSDT, t, build_root(t, "XSDT", xsdt_entries, n));
	/* An RSDT listing nothing: if it were walked, no table would be found. */
	place(QEMU_RSDT, t, build_root(t, "RSDT", NULL, 0));

	fadt_begin(t, 276, 5, FADT_RESET_REG_SUP | FADT_TMR_VAL_EXT);
	put32(t + FADT_DSDT, QEMU_DSDT);
	put64(t + FADT_X_DSDT, QEMU_DSDT);
	put32(t + FADT_PM1A_CNT_BLK, 0x604);
	t[FADT_PM1_CNT_LEN] = 2;
	gas(t + FADT_X_PM1A_CNT, ACPI_GAS_IO, 16, 0, 0, 0x604);
	put32(t + FADT_PM_TMR_BLK, 0x608);
	t[FADT_PM_TMR_LEN] = 4;
	gas(t + FADT_X_PM_TMR, ACPI_GAS_IO, 32, 0, 0, 0x608);
	gas(t + FADT_RESET_REG, ACPI_GAS_IO, 8, 0, 0, 0xcf9);
	t[FADT_RESET_VALUE] = 0x0f;
	place(QEMU_FADT, t, tbl_finish(t, 276));

	place(QEMU_MADT, t, build_small_madt(t));
	place(QEMU_SPCR, t, build_spcr(t, 80, 0, ACPI_GAS_IO, 0x3f8, 7));
	mcfg = load_table("firecracker_mcfg.bin", &len);
	place(QEMU_MCFG, mcfg, len);
	free(mcfg);
	place(QEMU_DSDT, t, build_dsdt(t, aml_s5_byteprefix, sizeof(aml_s5_byteprefix)));
}

static void check_qemu_tables(const struct acpi_info *out)
{
	assert_true(out->has_madt);
	assert_int_equal(out->nr_cpus, 2);
	assert_int_equal(out->cpus[1].apic_id, 1);
	assert_int_equal(out->nr_ioapics, 1);
	assert_true(out->has_fadt);
	assert_int_equal(out->dsdt, QEMU_DSDT);
	assert_int_equal(out->pm1a_cnt.address, 0x604);
	assert_int_equal(out->pm_tmr.bit_width, 32);
	assert_true(out->pm_tmr_32bit);
	assert_true(out->reset_supported);
	assert_int_equal(out->reset_reg.address, 0xcf9);
	assert_int_equal(out->reset_value, 0x0f);
	assert_true(out->has_s5);
	assert_int_equal(out->s5_slp_typa, 5);
}

static void test_parse_qemu_xsdt(void **state)
{
	const uint64_t entries[] = { QEMU_FADT, QEMU_MADT, QEMU_MCFG, QEMU_SPCR };
	struct acpi_info out;
	size_t i, madt_calls = 0;

	place_qemu(entries, 4);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 0);
	assert_int_equal(out.revision, 2);
	assert_string_equal(out.oem_id, "BOCHS ");
	check_qemu_tables(&out);
	assert_true(out.has_spcr);
	assert_int_equal(out.spcr_baud, 115200);
	assert_int_equal(out.spcr_base.address, 0x3f8);

	/* The MADT is mapped as a 36-byte header, then at its full length (72 bytes). */
	for (i = 0; i < fm.nr_calls; i++) {
		if (fm.calls[i].phys != QEMU_MADT)
			continue;
		assert_int_equal(fm.calls[i].len, madt_calls++ ? 72 : 36);
	}
	assert_true(madt_calls >= 2);
	/* The RSDT was not walked; MCFG was looked at but not mapped whole. */
	assert_int_equal(nr_calls_for(QEMU_RSDT), 0);
	assert_int_equal(nr_calls_for(QEMU_MCFG), 1);
}

static void test_parse_bochs_rsdt(void **state)
{
	const uint64_t entries[] = { 0x7ffe1000, 0x7ffe1100 };
	uint8_t t[512];
	struct acpi_info out;

	/* Bochs BIOS: ACPI 1.0 RSDP at 0xfxxxx-like address, RSDT, 116-byte FADT. */
	place(0x7fff0000, t, build_rsdp(t, 0, 0x7ffe0f00, 0));
	place(0x7ffe0f00, t, build_root(t, "RSDT", entries, 2));
	place(0x7ffe1000, t, build_fadt_v1(t, 0x7ffe2000));
	place(0x7ffe1100, t, build_small_madt(t));
	place(0x7ffe2000, t, build_dsdt(t, aml_s5_root_zero_one, sizeof(aml_s5_root_zero_one)));

	assert_int_equal(acpi_parse(0x7fff0000, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 0);
	assert_int_equal(out.revision, 0);
	assert_string_equal(out.oem_id, "BOCHS ");
	assert_true(out.has_fadt);
	assert_int_equal(out.dsdt, 0x7ffe2000);
	assert_int_equal(out.pm1a_cnt.space_id, ACPI_GAS_IO);
	assert_int_equal(out.pm1a_cnt.address, 0xb004);
	assert_true(out.has_madt);
	assert_int_equal(out.nr_cpus, 2);
	assert_true(out.has_s5);
	assert_int_equal(out.s5_slp_typb, 1);
	assert_false(out.has_spcr);
	/* An ACPI 1.0 RSDP is only 20 bytes: nothing past it may be mapped. */
	assert_int_equal(fm.calls[0].phys, 0x7fff0000);
	assert_int_equal(fm.calls[0].len, 20);
	assert_int_equal(nr_calls_for(0x7fff0000), 1);
}

static void test_parse_firecracker(void **state)
{
	const uint64_t dsdt = 0x9fd44; /* where the real FADT's X_DSDT points */
	uint64_t entries[3], at = dsdt;
	uint8_t t[64], *tab;
	size_t len;
	struct acpi_info out;

	fake_reset(0x80000);
	tab = load_table("firecracker_dsdt.bin", &len);
	place(at, tab, len);
	free(tab);
	at += len;
	entries[0] = at;
	tab = load_table("firecracker_facp.bin", &len);
	place(at, tab, len);
	free(tab);
	at += len;
	entries[1] = at;
	tab = load_table("firecracker_apic.bin", &len);
	place(at, tab, len);
	free(tab);
	at += len;
	entries[2] = at;
	tab = load_table("firecracker_mcfg.bin", &len);
	place(at, tab, len);
	free(tab);
	at += len;
	place(at, t, build_root(t, "XSDT", entries, 3));
	place(0xe0000, t, build_rsdp(t, 2, 0, at));

	assert_int_equal(acpi_parse(0xe0000, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 0);
	assert_true(out.has_madt);
	assert_int_equal(out.lapic_address, 0xfee00000);
	assert_int_equal(out.nr_cpus, 2);
	assert_int_equal(out.nr_ioapics, 1);
	assert_int_equal(out.ioapics[0].address, 0xfec00000);
	assert_true(out.has_fadt);
	assert_true(out.hw_reduced);
	assert_int_equal(out.dsdt, dsdt);
	assert_int_equal(nr_calls_for(dsdt), 2); /* the DSDT was reached and mapped */
	assert_false(out.has_s5);
	assert_false(out.has_spcr);
}

static void test_parse_rsdp_errors(void **state)
{
	uint8_t r[36];
	struct acpi_info out;

	/* Outside memory, and null. */
	assert_int_equal(acpi_parse(NOWHERE, &fake_env, &out), ACPI_ERR_NO_RSDP);
	assert_int_equal(acpi_parse(0, &fake_env, &out), ACPI_ERR_NO_RSDP);

	build_rsdp(r, 0, QEMU_RSDT, 0);
	r[8] ^= 1;
	place(QEMU_RSDP, r, 20);
	fm.nr_diags = 0;
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_CHECKSUM);
	assert_memory_equal(&out, &zero_info, sizeof(out));
	assert_true(diag_has("RSDP"));
	assert_true(diag_has("checksum"));

	build_rsdp(r, 0, QEMU_RSDT, 0);
	r[0] = 'X';
	place(QEMU_RSDP, r, 20);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_SIGNATURE);

	/* Revision 2: the first 20 bytes are fine, the extended checksum is not. */
	build_rsdp(r, 2, QEMU_RSDT, QEMU_XSDT);
	r[32] ^= 0x10;
	place(QEMU_RSDP, r, 36);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_CHECKSUM);

	/* Revision 2 with a length too short for the XSDT address. */
	build_rsdp(r, 2, QEMU_RSDT, QEMU_XSDT);
	put32(r + 20, 20);
	r[32] = 0;
	r[32] = (uint8_t)(0 - sum8(r, 36));
	place(QEMU_RSDP, r, 36);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_TRUNCATED);

	/* Revision 2 RSDP in the last 20 bytes of memory. */
	build_rsdp(r, 2, QEMU_RSDT, QEMU_XSDT);
	place(fm.base + FAKE_SIZE - 20, r, 20);
	assert_int_equal(acpi_parse(fm.base + FAKE_SIZE - 20, &fake_env, &out), ACPI_ERR_TRUNCATED);

	/* No env, no map. */
	assert_int_equal(acpi_parse(QEMU_RSDP, NULL, &out), ACPI_ERR_NO_RSDP);
}

static void test_parse_unreadable_entry(void **state)
{
	const uint64_t entries[] = { NOWHERE, QEMU_MADT, 0, QEMU_FADT };
	struct acpi_info out;

	place_qemu(entries, 4);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 1);
	assert_true(diag_has("0xdead0000"));
	assert_true(diag_has("not readable"));
	check_qemu_tables(&out);
}

/* XSDT entries are 64-bit: one 4 GiB above the MADT must not be read as the MADT. */
static void test_parse_xsdt_entry_above_4g(void **state)
{
	const uint64_t entries[] = { QEMU_MADT + (1ull << 32), QEMU_FADT };
	struct acpi_info out;

	place_qemu(entries, 2);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 1);
	assert_true(diag_has("0x17ffe0400"));
	assert_false(out.has_madt);
	assert_true(out.has_fadt);
}

/* A table whose header is readable but whose length runs off the end of memory. */
static void test_parse_table_past_memory(void **state)
{
	const uint64_t end_table = 0x7ffe0000ull + FAKE_SIZE - HDR;
	const uint64_t entries[] = { end_table, QEMU_MADT, QEMU_FADT };
	uint8_t t[HDR];
	struct acpi_info out;

	place_qemu(entries, 3);
	tbl_header(t, "APIC", 1);
	put32(t + 4, 4096);
	place(end_table, t, HDR);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 1);
	assert_true(diag_has("4096 bytes are not readable"));
	/* The readable MADT after it is taken. */
	check_qemu_tables(&out);
}

static void test_parse_bad_madt_checksum(void **state)
{
	const uint64_t entries[] = { QEMU_MADT, QEMU_FADT };
	char want[128];
	uint8_t sum;
	struct acpi_info out;

	place_qemu(entries, 2);
	fm.mem[QEMU_MADT - fm.base + 44 + 3] ^= 0x12;
	sum = sum8(fm.mem + (QEMU_MADT - fm.base), 72);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 1);
	snprintf(want, sizeof(want), "acpi: MADT at 0x%x: bad checksum (sum 0x%02x), table skipped",
		 QEMU_MADT, sum);
	assert_string_equal(fm.diags[0], want);
	assert_false(out.has_madt);
	assert_int_equal(out.nr_cpus, 0);
	assert_true(out.has_fadt);
	assert_true(out.has_s5);
}

static void test_parse_truncated_madt_kept(void **state)
{
	const uint64_t entries[] = { QEMU_MADT };
	uint8_t *m;
	struct acpi_info out;

	place_qemu(entries, 1);
	m = fm.mem + (QEMU_MADT - fm.base);
	m[44 + 8 + 1] = 40; /* second CPU's entry runs past the end */
	tbl_finish(m, 72);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_true(diag_has("MADT"));
	assert_true(diag_has("truncated"));
	assert_true(out.has_madt);
	assert_int_equal(out.nr_cpus, 1);
}

static void test_parse_bad_dsdt(void **state)
{
	const uint64_t entries[] = { QEMU_FADT, QEMU_MADT };
	struct acpi_info out;

	place_qemu(entries, 2);
	memcpy(fm.mem + (QEMU_DSDT - fm.base), "SSDT", 4);
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_int_equal(fm.nr_diags, 1);
	assert_true(diag_has("DSDT"));
	assert_true(diag_has("wrong signature"));
	assert_false(out.has_s5);
	assert_true(out.has_fadt);
}

static void test_parse_xsdt_bad_falls_back_to_rsdt(void **state)
{
	const uint64_t entries[] = { QEMU_FADT, QEMU_MADT };
	uint8_t t[64];
	struct acpi_info out;

	place_qemu(entries, 2);
	place(QEMU_RSDT, t, build_root(t, "RSDT", entries, 2));
	fm.mem[QEMU_XSDT - fm.base + HDR] ^= 0x40;
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), 0);
	assert_true(diag_has("XSDT"));
	assert_true(diag_has("falling back"));
	check_qemu_tables(&out);
}

static void test_parse_root_unusable(void **state)
{
	const uint64_t entries[] = { QEMU_FADT, QEMU_MADT };
	uint8_t r[36];
	struct acpi_info out;

	/* Bad XSDT checksum and no RSDT to fall back to. */
	place_qemu(entries, 2);
	place(QEMU_RSDP, r, build_rsdp(r, 2, 0, QEMU_XSDT));
	fm.mem[QEMU_XSDT - fm.base + HDR] ^= 0x40;
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_CHECKSUM);
	assert_memory_equal(&out, &zero_info, sizeof(out));
	assert_true(diag_has("XSDT"));

	/* An RSDT where the RSDP said, but with the XSDT's signature. */
	place(QEMU_RSDP, r, build_rsdp(r, 0, QEMU_XSDT, 0));
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_SIGNATURE);

	/* Root table address outside memory, and none at all. */
	place(QEMU_RSDP, r, build_rsdp(r, 0, NOWHERE, 0));
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_TRUNCATED);
	place(QEMU_RSDP, r, build_rsdp(r, 0, 0, 0));
	assert_int_equal(acpi_parse(QEMU_RSDP, &fake_env, &out), ACPI_ERR_TRUNCATED);
	assert_memory_equal(&out, &zero_info, sizeof(out));
}

static void test_parse_without_diag(void **state)
{
	const uint64_t entries[] = { NOWHERE, QEMU_MADT, QEMU_FADT };
	const struct acpi_env quiet = { fake_map, NULL, &fm };
	struct acpi_info out;

	place_qemu(entries, 3);
	fm.mem[QEMU_MADT - fm.base + 50] ^= 1;
	assert_int_equal(acpi_parse(QEMU_RSDP, &quiet, &out), 0);
	assert_false(out.has_madt);
	assert_true(out.has_fadt);
	assert_int_equal(acpi_parse(NOWHERE, &quiet, &out), ACPI_ERR_NO_RSDP);
}

/* --- mutation: random corruption with the checksum kept valid ------------------------ */

static uint32_t lcg_state = 12345;

static uint32_t lcg(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state >> 8;
}

static void mutate_and_parse(const uint8_t *orig, size_t len,
			     int (*parse)(const void *, size_t, struct acpi_info *))
{
	struct acpi_info out;
	uint8_t *c;
	int i, j, rc;

	for (i = 0; i < 3000; i++) {
		c = dup_exact(orig, len);
		for (j = 1 + (int)(lcg() % 4); j > 0; j--)
			c[HDR + lcg() % (len - HDR)] = (uint8_t)lcg();
		if (lcg() % 4 == 0) /* sometimes shrink the table's own length */
			put32(c + 4, (uint32_t)(HDR + lcg() % (len - HDR)));
		tbl_finish(c, get32(c + 4));
		memset(&out, 0, sizeof(out));
		rc = parse(c, len, &out);
		assert_true(rc == 0 || rc == ACPI_ERR_TRUNCATED);
		assert_true(out.nr_cpus <= ACPI_MAX_CPUS);
		assert_true(out.nr_ioapics <= ACPI_MAX_IOAPICS);
		free(c);
	}
}

static void test_mutations(void **state)
{
	uint8_t t[512];
	size_t len;
	uint8_t *tab;

	tab = load_table("firecracker_apic.bin", &len);
	mutate_and_parse(tab, len, acpi_parse_madt);
	free(tab);
	tab = load_table("firecracker_facp.bin", &len);
	mutate_and_parse(tab, len, acpi_parse_fadt);
	free(tab);
	tab = load_table("firecracker_dsdt.bin", &len);
	mutate_and_parse(tab, len, acpi_parse_dsdt_s5);
	free(tab);
	len = build_dsdt(t, aml_s5_root_zero_one, sizeof(aml_s5_root_zero_one));
	mutate_and_parse(t, len, acpi_parse_dsdt_s5);
	len = build_spcr(t, 80, 0, ACPI_GAS_IO, 0x3f8, 7);
	mutate_and_parse(t, len, acpi_parse_spcr);
}

#define FAKE_TEST(f) cmocka_unit_test_setup_teardown(f, fake_setup, fake_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_ok),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_real_tables_check),
		cmocka_unit_test(test_real_madt),
		cmocka_unit_test(test_real_fadt),
		cmocka_unit_test(test_real_dsdt_has_no_s5),
		cmocka_unit_test(test_real_tables_every_truncation),
		cmocka_unit_test(test_real_bad_checksum),
		cmocka_unit_test(test_wrong_signature),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_madt_server_x2apic),
		cmocka_unit_test(test_madt_enabled_displace_disabled),
		cmocka_unit_test(test_madt_x2apic_and_disabled),
		cmocka_unit_test(test_madt_entry_past_end),
		cmocka_unit_test(test_madt_entry_bad_length),
		cmocka_unit_test(test_madt_caps),
		cmocka_unit_test(test_fadt_acpi1),
		cmocka_unit_test(test_fadt_x_fields_and_reset),
		cmocka_unit_test(test_fadt_short_revisions),
		cmocka_unit_test(test_fadt_too_short),
		cmocka_unit_test(test_spcr),
		cmocka_unit_test(test_spcr_com2_and_mmio),
		cmocka_unit_test(test_dsdt_s5_byteprefix),
		cmocka_unit_test(test_dsdt_s5_root_zero_one),
		cmocka_unit_test(test_dsdt_s5_bare_constant),
		cmocka_unit_test(test_dsdt_s5_long_pkglength),
		cmocka_unit_test(test_dsdt_s5_malformed),
		FAKE_TEST(test_parse_qemu_xsdt),
		FAKE_TEST(test_parse_bochs_rsdt),
		FAKE_TEST(test_parse_firecracker),
		FAKE_TEST(test_parse_rsdp_errors),
		FAKE_TEST(test_parse_unreadable_entry),
		FAKE_TEST(test_parse_xsdt_entry_above_4g),
		FAKE_TEST(test_parse_table_past_memory),
		FAKE_TEST(test_parse_bad_madt_checksum),
		FAKE_TEST(test_parse_truncated_madt_kept),
		FAKE_TEST(test_parse_bad_dsdt),
		FAKE_TEST(test_parse_xsdt_bad_falls_back_to_rsdt),
		FAKE_TEST(test_parse_root_unusable),
		FAKE_TEST(test_parse_without_diag),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
