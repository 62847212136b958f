/* SPDX-License-Identifier: MIT */
/* Host unit tests for vmm/imgplan.c: the image checks both loaders make, start-up tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vmm/imgplan.h"
#include "vmm/elf.h"

#define MiB (1ull << 20)

/* An ELF like the test guests: one PT_LOAD at 1 MiB, a NOTE before it, 4 KiB of file. */
static uint8_t img[8192];

static struct elf64_ehdr *eh(void)
{
	return (struct elf64_ehdr *)img;
}

static struct elf64_phdr *ph(int i)
{
	return (struct elf64_phdr *)(img + 64 + i * 56);
}

static int setup(void **state)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	eh()->ident[EI_CLASS] = ELFCLASS64;
	eh()->ident[5] = 1; /* little-endian */
	eh()->type = ET_EXEC;
	eh()->machine = EM_X86_64;
	eh()->entry = 0x100000;
	eh()->phoff = 64;
	eh()->phentsize = 56;
	eh()->phnum = 2;
	ph(0)->type = PT_NOTE; /* skipped */
	ph(0)->paddr = 0;
	*ph(1) = (struct elf64_phdr){ .type = PT_LOAD, .offset = 0x1000, .paddr = 0x100000,
				.filesz = 0x800, .memsz = 0x3000 };
	return 0;
}

static int plan(uint64_t len, uint64_t mem, struct img_plan *p, const char **why)
{
	*why = NULL;
	return img_plan(img, len, mem, p, why);
}

static void test_good_elf(void **state)
{
	struct img_plan p;
	const char *why;

	assert_int_equal(plan(sizeof(img), 16 * MiB, &p, &why), 0);
	assert_int_equal(p.kind, IMG_ELF64);
	assert_int_equal(p.entry, 0x100000);
	assert_int_equal(p.nseg, 1);
	assert_int_equal(p.seg[0].offset, 0x1000);
	assert_int_equal(p.seg[0].paddr, 0x100000);
	assert_int_equal(p.seg[0].filesz, 0x800);
	assert_int_equal(p.seg[0].memsz, 0x3000);
	/* Headers only (mem 0): the listing's check. */
	assert_int_equal(plan(sizeof(img), 0, &p, &why), 0);
}

static void expect_bad(uint64_t len, uint64_t mem, const char *msg)
{
	struct img_plan p;
	const char *why;

	assert_int_equal(plan(len, mem, &p, &why), -1);
	assert_non_null(why);
	assert_string_equal(why, msg);
}

static void test_bad_headers(void **state)
{
	expect_bad(40, 16 * MiB, "ELF header truncated");
	eh()->ident[4] = 1;
	expect_bad(sizeof(img), 16 * MiB, "not an x86_64 ELF64 executable");
	setup(state);
	eh()->type = 3; /* ET_DYN */
	expect_bad(sizeof(img), 16 * MiB, "not an x86_64 ELF64 executable");
	setup(state);
	eh()->machine = 3;
	expect_bad(sizeof(img), 16 * MiB, "not an x86_64 ELF64 executable");
	setup(state);
	eh()->phentsize = 32;
	expect_bad(sizeof(img), 16 * MiB, "ELF program headers outside the file");
	setup(state);
	eh()->phoff = sizeof(img) + 1;
	expect_bad(sizeof(img), 16 * MiB, "ELF program headers outside the file");
	setup(state);
	eh()->phnum = 0xffff;
	expect_bad(sizeof(img), 16 * MiB, "ELF program headers outside the file");
	setup(state);
	ph(1)->type = 6;
	expect_bad(sizeof(img), 16 * MiB, "no ELF segment to load");
}

static void test_bad_segments(void **state)
{
	ph(1)->filesz = 0x4000; /* more than memsz */
	expect_bad(sizeof(img), 16 * MiB, "ELF segment lies outside the file");
	setup(state);
	ph(1)->offset = 0x1800;
	ph(1)->filesz = 0x1000; /* runs past the end of the file */
	expect_bad(sizeof(img), 16 * MiB, "ELF segment lies outside the file");
	setup(state);
	ph(1)->offset = UINT64_MAX - 4; /* wraps */
	expect_bad(sizeof(img), 16 * MiB, "ELF segment lies outside the file");
	setup(state);
	ph(1)->paddr = 0x7000;
	expect_bad(sizeof(img), 16 * MiB, "ELF segment below 1 MiB");
	setup(state);
	ph(1)->paddr = 16 * MiB - 0x8000; /* inside memory, but in the stack reserve */
	expect_bad(sizeof(img), 16 * MiB,
		   "ELF segment does not fit the VM's memory (with 64 KiB of stack)");
	setup(state);
	ph(1)->memsz = 15 * MiB;
	expect_bad(sizeof(img), 16 * MiB,
		   "ELF segment does not fit the VM's memory (with 64 KiB of stack)");
	setup(state);
	ph(1)->memsz = UINT64_MAX;
	ph(1)->filesz = 0x800;
	expect_bad(sizeof(img), 16 * MiB,
		   "ELF segment does not fit the VM's memory (with 64 KiB of stack)");
	setup(state);
	ph(1)->memsz = 16 * MiB - 0x10000 - 0x100000; /* exactly up to the reserve */
	{
		struct img_plan p;
		const char *why;

		assert_int_equal(plan(sizeof(img), 16 * MiB, &p, &why), 0);
	}
}

static void test_bad_entry(void **state)
{
	eh()->entry = 0x7c00;
	expect_bad(sizeof(img), 16 * MiB, "ELF entry point outside the VM's memory");
	eh()->entry = 16 * MiB;
	expect_bad(sizeof(img), 16 * MiB, "ELF entry point outside the VM's memory");
}

static void test_too_many_segments(void **state)
{
	eh()->phnum = IMG_MAX_SEGS + 1;
	for (unsigned int i = 0; i < IMG_MAX_SEGS + 1; i++)
		*ph((int)i) = *ph(1);
	expect_bad(sizeof(img), 16 * MiB, "more than 16 ELF segments to load");
}

static void test_flat(void **state)
{
	static uint8_t big[0xa0000 - 0x7c00 + 1];
	struct img_plan p;
	const char *why;

	memcpy(img, "\xfa\xf4", 2); /* cli; hlt */
	assert_int_equal(plan(2, 2 * MiB, &p, &why), 0);
	assert_int_equal(p.kind, IMG_FLAT);
	assert_int_equal(p.entry, 0x7c00);
	assert_int_equal(p.nseg, 1);
	assert_int_equal(p.seg[0].paddr, 0x7c00);
	assert_int_equal(p.seg[0].filesz, 2);
	expect_bad(0, 2 * MiB, "empty image");
	assert_int_equal(img_plan(big, sizeof(big) - 1, 2 * MiB, &p, &why), 0);
	assert_int_equal(img_plan(big, sizeof(big), 2 * MiB, &p, &why), -1);
	assert_string_equal(why, "flat image larger than the real-mode area (0x7c00-0x9ffff)");
	/* Three bytes of the magic are not an ELF. */
	assert_int_equal(img_is_elf((const uint8_t *)"\177EL", 3), 0);
}

static void test_tables(void **state)
{
	static uint64_t pt[IMG_PT_PAGES * IMG_PT_ENTRIES];
	uint64_t gdt[IMG_GDT_ENTRIES];

	memset(pt, 0xaa, sizeof(pt));
	img_build_tables(pt, gdt);
	assert_int_equal(pt[0], 0x2003);          /* PML4[0] -> PDPT at 0x2000 */
	assert_int_equal(pt[1], 0);
	assert_int_equal(pt[512 + 0], 0x3003);    /* PDPT[i] -> PD at 0x3000 + i pages */
	assert_int_equal(pt[512 + 3], 0x6003);
	assert_int_equal(pt[512 + 4], 0);
	assert_int_equal(pt[1024 + 0], 0x83);     /* 2 MiB page at 0 */
	assert_int_equal(pt[1024 + 1], 0x200083);
	assert_true(pt[5 * 512 + 511] == (0xffe00000ull | 0x83)); /* the last 2 MiB below 4 GiB */
	assert_true(gdt[0] == 0);
	assert_true(gdt[1] == 0x00af9a000000ffffull);
	assert_true(gdt[2] == 0x00cf92000000ffffull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_elf, setup),
		cmocka_unit_test_setup(test_bad_headers, setup),
		cmocka_unit_test_setup(test_bad_segments, setup),
		cmocka_unit_test_setup(test_bad_entry, setup),
		cmocka_unit_test_setup(test_too_many_segments, setup),
		cmocka_unit_test_setup(test_flat, setup),
		cmocka_unit_test_setup(test_tables, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
