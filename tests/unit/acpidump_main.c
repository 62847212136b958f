/* SPDX-License-Identifier: MIT */
/*
 * Host check of tools/mgmt/acpitab.c with ACPICA's own tools (acpica-tools),
 * run by the Makefile for `make unit` ($(BUILD)/unit/acpi-iasl.ok). For 1
 * and TERN_MAX_VCPUS vCPUs it writes each table to DIR/nN/<name>.dat, then:
 *  - `iasl -d` disassembles every ACPI table but the RSDP (iasl cannot read
 *    a bare RSDP): exit status 0, and no "error", "warning", "invalid",
 *    "incorrect", "unknown" or "mismatch" in its output or listing (a bad
 *    checksum shows as "Incorrect checksum");
 *  - `iasl -oa` compiles each listing back, and the result must equal the
 *    table byte for byte but the checksum and the compiler ID and revision
 *    (which iasl sets to its own);
 *  - `acpiexec` loads FADT, FACS, DSDT and MADT as an OS would (ACPICA's
 *    FADT checks, e.g. "32/64X length mismatch") and evaluates \_S5 and the
 *    three _CRS and the pvpanic device's _HID.
 * Any failure prints the command and its output and exits 1.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tools/mgmt/acpitab.h"
#include "vmm/abi.h"

#define OUT_CAP (1u << 20)

static uint8_t area[ACPITAB_SIZE];
static char out[OUT_CAP];

/* The tables iasl disassembles (by their file names). */
static const enum acpitab_id iasl_tables[] = {
	ACPITAB_XSDT, ACPITAB_RSDT, ACPITAB_FADT, ACPITAB_FACS, ACPITAB_DSDT, ACPITAB_MADT,
};

static const char *const bad_words[] = {
	"error", "warning", "invalid", "incorrect", "unknown", "mismatch",
};

static void file_name(enum acpitab_id id, char *name)
{
	const char *n = acpitab_name(id);
	int i;

	for (i = 0; n[i] && i < 7; i++)
		name[i] = (char)tolower((unsigned char)n[i]);
	name[i] = 0;
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "acpi-iasl: FAILED: %s\n%s\n", what, detail ? detail : "");
	return 1;
}

/* Runs cmd with stderr merged, its output in out; returns the exit status. */
static int run(const char *cmd)
{
	char full[8192];
	size_t n = 0, got;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	while ((got = fread(out + n, 1, OUT_CAP - 1 - n, p)) > 0)
		n += got;
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long read_all(const char *path, void *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

static const char *bad_word_in(const char *s)
{
	static char low[OUT_CAP];
	size_t i;

	for (i = 0; s[i] && i < OUT_CAP - 1; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = 0;
	for (size_t w = 0; w < sizeof(bad_words) / sizeof(bad_words[0]); w++)
		if (strstr(low, bad_words[w]))
			return bad_words[w];
	return NULL;
}

static int write_tables(const char *dir, const struct acpitab_out *o)
{
	char path[2048], name[8];

	for (int id = 0; id < ACPITAB_NR; id++) {
		const struct acpitab_blob *b = &o->t[id];
		FILE *f;

		file_name((enum acpitab_id)id, name);
		snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
		f = fopen(path, "wb");
		if (!f || fwrite(area + (b->gpa - ACPITAB_GPA), 1, b->len, f) != b->len || fclose(f))
			return fail("cannot write", path);
	}
	return 0;
}

/* iasl -oa output equals the table but at offset 9 (checksum) and 28..35 (compiler). */
static int same_but_compiler(const char *dat, const char *aml)
{
	static uint8_t a[65536], b[65536];
	long na = read_all(dat, a, sizeof(a)), nb = read_all(aml, b, sizeof(b));

	if (na < 36 || na != nb)
		return fail("round trip: length differs", aml);
	for (long i = 0; i < na; i++)
		if (a[i] != b[i] && i != 9 && (i < 28 || i > 35)) {
			fprintf(stderr, "byte %ld: 0x%02x, iasl 0x%02x\n", i, a[i], b[i]);
			return fail("round trip: iasl's recompiled table differs", aml);
		}
	return 0;
}

static int check_iasl(const char *dir, enum acpitab_id id)
{
	char cmd[8192], path[2048], name[8];
	static char dsl[OUT_CAP];
	const char *w;
	long n;

	file_name(id, name);
	snprintf(cmd, sizeof(cmd), "iasl -d %s/%s.dat", dir, name);
	if (run(cmd) != 0)
		return fail(cmd, out);
	if ((w = bad_word_in(out)))
		return fail(cmd, out);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	n = read_all(path, dsl, sizeof(dsl) - 1);
	if (n <= 0)
		return fail("no listing", path);
	dsl[n] = 0;
	if ((w = bad_word_in(dsl))) {
		fprintf(stderr, "\"%s\" in %s\n", w, path);
		return fail(cmd, dsl);
	}
	snprintf(cmd, sizeof(cmd), "iasl -oa -p %s/rt-%s %s", dir, name, path);
	if (run(cmd) != 0 || !strstr(out, "0 Errors, 0 Warnings"))
		return fail(cmd, out);
	snprintf(cmd, sizeof(cmd), "%s/%s.dat", dir, name);
	snprintf(path, sizeof(path), "%s/rt-%s.aml", dir, name);
	return same_but_compiler(cmd, path);
}

static const char *const acpiexec_expect[] = {
	"ACPI: FACP", "(v06 TERN", "ACPI: APIC", "ACPI: FACS",
	"1 ACPI AML tables successfully acquired and loaded",
	"[Package] Contains 4 Elements:", "[Integer] = 0000000000000005",
	"Interrupt List : 4", "Address Minimum : 03F8", "Address Minimum : 0CF8",
	"Resource Type : Bus Number Range",
	"Address Minimum : 0505", "[String] Length 08 = \"QEMU0001\"",
};

/*
 * acpiexec's own interface self-tests (aetests.c) report GPE calls (there
 * are no GPE blocks) and the PM2_CNT ARB_DIS bit (there is no PM2 block) as
 * "Unexpected AE_BAD_PARAMETER/AE_BAD_ADDRESS": not errors in the tables,
 * so only ACPICA's table and namespace messages are checked.
 */
static int check_acpiexec(const char *dir)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
		 "acpiexec -b 'evaluate \\_S5; resources \\_SB.COM1; resources \\_SB.PCI0; "
		 "resources \\_SB.PEVT; evaluate \\_SB.PEVT._HID' "
		 "%s/facp.dat %s/facs.dat %s/dsdt.dat %s/apic.dat",
		 dir, dir, dir, dir);
	if (run(cmd) != 0)
		return fail(cmd, out);
	if (strstr(out, "ACPI Error") || strstr(out, "ACPI Warning") || strstr(out, "Firmware Warning") ||
	    strstr(out, "Firmware Error") || strstr(out, "ACPI Exception"))
		return fail(cmd, out);
	for (size_t i = 0; i < sizeof(acpiexec_expect) / sizeof(acpiexec_expect[0]); i++)
		if (!strstr(out, acpiexec_expect[i])) {
			fprintf(stderr, "missing \"%s\"\n", acpiexec_expect[i]);
			return fail(cmd, out);
		}
	return 0;
}

static int check_one(const char *base, uint32_t nr_vcpus)
{
	struct acpitab_cfg cfg = { .nr_vcpus = nr_vcpus, .ioapic_id = (uint8_t)nr_vcpus };
	struct acpitab_out o;
	const char *why = NULL;
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/n%u", base, nr_vcpus);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return fail("mkdir", dir);
	if (acpitab_build(&cfg, area, sizeof(area), ACPITAB_GPA, &o, &why))
		return fail("acpitab_build", why);
	if (write_tables(dir, &o))
		return 1;
	for (size_t i = 0; i < sizeof(iasl_tables) / sizeof(iasl_tables[0]); i++)
		if (check_iasl(dir, iasl_tables[i]))
			return 1;
	if (check_acpiexec(dir))
		return 1;
	printf("acpi-iasl: %u vCPUs: iasl -d, iasl round trip and acpiexec clean\n", nr_vcpus);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST)
		return fail("mkdir", argv[1]);
	if (check_one(argv[1], 1) || check_one(argv[1], TERN_MAX_VCPUS))
		return 1;
	return 0;
}
