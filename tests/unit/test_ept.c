/* SPDX-License-Identifier: MIT */
/* Host unit tests for arch/ept.c over fake physical memory: table pages from aligned_alloc. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/ept.h"
#include "kernel/errno.h"

#define KiB 0x400ull
#define MiB 0x100000ull
#define GiB 0x40000000ull
#define TABLE_ENTRIES 512
#define MAX_PAGES 1024

/*
 * Fake physical memory: a table page's "physical address" is its host pointer.
 * Every page handed out is recorded, so to_virt and free_table can catch
 * stray, stale or doubly freed addresses.
 */
struct fake_mem {
	void *page[MAX_PAGES];
	bool live[MAX_PAGES];
	unsigned int allocs, frees;
	int fail_after; /* allocations still granted before failing; -1: never fail */
	bool dirty;     /* hand out pages full of 0xff instead of zeroes */
};

static struct fake_mem fake;

static int fake_find(const struct fake_mem *f, uint64_t phys)
{
	for (unsigned int i = 0; i < f->allocs; i++)
		if ((uint64_t)(uintptr_t)f->page[i] == phys)
			return (int)i;
	return -1;
}

static uint64_t fake_alloc(void *ctx)
{
	struct fake_mem *f = ctx;
	void *p;

	if (f->fail_after == 0)
		return 0;
	if (f->fail_after > 0)
		f->fail_after--;
	assert_true(f->allocs < MAX_PAGES);
	p = aligned_alloc(EPT_PAGE_4K, EPT_PAGE_4K);
	assert_non_null(p);
	memset(p, f->dirty ? 0xff : 0, EPT_PAGE_4K);
	f->page[f->allocs] = p;
	f->live[f->allocs++] = true;
	return (uint64_t)(uintptr_t)p;
}

static void fake_free(void *ctx, uint64_t phys)
{
	struct fake_mem *f = ctx;
	int i = fake_find(f, phys);

	assert_true(i >= 0);
	assert_true(f->live[i]);
	f->live[i] = false;
	f->frees++;
	free(f->page[i]);
}

static void *fake_virt(void *ctx, uint64_t phys)
{
	struct fake_mem *f = ctx;
	int i = fake_find(f, phys);

	assert_true(i >= 0);
	assert_true(f->live[i]);
	return f->page[i];
}

static const struct ept_ops fake_ops = {
	.alloc_table = fake_alloc,
	.free_table = fake_free,
	.to_virt = fake_virt,
	.ctx = &fake,
};

static int fake_setup(void **state)
{
	memset(&fake, 0, sizeof(fake));
	fake.fail_after = -1;
	return 0;
}

/* Every test must leave nothing behind: all table pages returned. */
static int fake_teardown(void **state)
{
	unsigned int leaked = 0;

	for (unsigned int i = 0; i < fake.allocs; i++) {
		if (fake.live[i]) {
			leaked++;
			free(fake.page[i]);
		}
	}
	assert_int_equal(leaked, 0);
	assert_int_equal(fake.allocs, fake.frees);
	return 0;
}

static void init(struct ept *e)
{
	assert_int_equal(ept_init(e, &fake_ops), 0);
	assert_int_equal(e->nr_tables, 1);
}

static void destroy(struct ept *e)
{
	ept_destroy(e);
	assert_int_equal(e->nr_tables, 0);
	assert_int_equal(fake.allocs, fake.frees);
}

static const uint64_t *table_of(uint64_t phys)
{
	return fake_virt(&fake, phys);
}

/*
 * Walk the tree: each table is live, no table below the PML4 is empty,
 * non-leaf entries grant RWX and carry no leaf bits, large pages only in PDEs,
 * leaf memory types valid. Returns the number of tables.
 */
static uint64_t check_table(uint64_t phys, int level)
{
	const uint64_t *t = table_of(phys);
	uint64_t tables = 1, present = 0;

	for (int i = 0; i < TABLE_ENTRIES; i++) {
		uint64_t ent = t[i], mt = (ent & EPT_MT_MASK) >> EPT_MT_SHIFT;

		if (!(ent & EPT_RWX)) {
			assert_int_equal(ent, 0);
			continue;
		}
		present++;
		if (level == 0 || (ent & EPT_LARGE)) {
			assert_true(level <= 1);
			assert_true(mt == EPT_MT_WB || mt == EPT_MT_UC || mt == EPT_MT_WC ||
				    mt == EPT_MT_WT || mt == EPT_MT_WP);
			assert_false((ent & (EPT_R | EPT_W)) == EPT_W);
			if (level == 1)
				assert_int_equal(ent & EPT_ADDR_MASK & (EPT_PAGE_2M - 1), 0);
			continue;
		}
		assert_int_equal(ent & ~EPT_ADDR_MASK, EPT_RWX);
		tables += check_table(ent & EPT_ADDR_MASK, level - 1);
	}
	if (level < 3)
		assert_true(present > 0);
	return tables;
}

static void check_tree(const struct ept *e)
{
	unsigned int live = fake.allocs - fake.frees;

	assert_int_equal(check_table(e->pml4, 3), e->nr_tables);
	assert_int_equal(live, e->nr_tables);
}

/* The raw entry for gpa at level (3 = PML4E ... 0 = PTE); the walk must get there. */
static uint64_t raw_entry(const struct ept *e, uint64_t gpa, int level)
{
	uint64_t phys = e->pml4;

	for (int l = 3;; l--) {
		uint64_t ent = table_of(phys)[(gpa >> (12 + 9 * l)) & 511];

		if (l == level)
			return ent;
		assert_true(ent & EPT_RWX);
		assert_false(ent & EPT_LARGE);
		phys = ent & EPT_ADDR_MASK;
	}
}

/* gpa translates to hpa with perms and page size. */
static void expect_map(const struct ept *e, uint64_t gpa, uint64_t hpa, uint32_t perms, uint64_t size)
{
	uint64_t got_hpa = 0, got_size = 0;
	uint32_t got_perms = 0;

	assert_int_equal(ept_lookup(e, gpa, &got_hpa, &got_perms, &got_size), 0);
	assert_int_equal(got_hpa, hpa);
	assert_int_equal(got_perms, perms);
	assert_int_equal(got_size, size);
}

static void expect_none(const struct ept *e, uint64_t gpa)
{
	assert_int_equal(ept_lookup(e, gpa, NULL, NULL, NULL), -ENOENT);
}

static void test_init_destroy(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(e.pml4 & (EPT_PAGE_4K - 1), 0);
	assert_int_equal(fake.allocs, 1);
	expect_none(&e, 0);
	check_tree(&e);
	destroy(&e);
	assert_int_equal(e.pml4, 0);
	ept_destroy(&e); /* a second destroy is harmless */
	assert_int_equal(fake.frees, 1);
}

static void test_init_enomem(void **state)
{
	struct ept e;

	fake.fail_after = 0;
	assert_int_equal(ept_init(&e, &fake_ops), -ENOMEM);
	assert_int_equal(e.nr_tables, 0);
	ept_destroy(&e);
	assert_int_equal(fake.frees, 0);
}

static void test_eptp(void **state)
{
	struct ept e;

	init(&e);
	/* WB (6) in 2:0, walk length 4 - 1 in 5:3, A/D in bit 6. */
	assert_int_equal(ept_eptp(&e, false), e.pml4 | 0x1e);
	assert_int_equal(ept_eptp(&e, true), e.pml4 | 0x5e);
	assert_int_equal(ept_eptp(&e, true) & EPT_ADDR_MASK, e.pml4);
	destroy(&e);
}

static void test_map_4k(void **state)
{
	struct ept e;
	uint64_t pte;

	init(&e);
	assert_int_equal(ept_map(&e, 0x12345000, 0x7654321000, EPT_PAGE_4K, EPT_R | EPT_W, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 4);
	expect_map(&e, 0x12345000, 0x7654321000, EPT_R | EPT_W, EPT_PAGE_4K);
	expect_map(&e, 0x12345abc, 0x7654321abc, EPT_R | EPT_W, EPT_PAGE_4K);
	expect_map(&e, 0x12345fff, 0x7654321fff, EPT_R | EPT_W, EPT_PAGE_4K);
	expect_none(&e, 0x12344fff);
	expect_none(&e, 0x12346000);
	pte = raw_entry(&e, 0x12345000, 0);
	assert_int_equal(pte, 0x7654321000ull | EPT_R | EPT_W | (6ull << 3));
	check_tree(&e);
	destroy(&e);
}

static void test_map_2m(void **state)
{
	struct ept e;
	uint64_t pde;

	init(&e);
	assert_int_equal(ept_map(&e, 0x40200000, 0x1c00000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 3);
	expect_map(&e, 0x40200000, 0x1c00000, EPT_RWX, EPT_PAGE_2M);
	expect_map(&e, 0x40312345, 0x1d12345, EPT_RWX, EPT_PAGE_2M);
	expect_map(&e, 0x403fffff, 0x1dfffff, EPT_RWX, EPT_PAGE_2M);
	expect_none(&e, 0x401fffff);
	expect_none(&e, 0x40400000);
	pde = raw_entry(&e, 0x40200000, 1);
	assert_int_equal(pde, 0x1c00000ull | EPT_RWX | (6ull << 3) | BIT(7));
	check_tree(&e);
	destroy(&e);
}

static void test_memtype_uc_raw(void **state)
{
	struct ept e;
	uint64_t pte, pde;

	init(&e);
	assert_int_equal(ept_map(&e, 0xfee00000, 0xfee00000, EPT_PAGE_4K, EPT_R | EPT_W, EPT_MT_UC), 0);
	assert_int_equal(ept_map(&e, 0xc0000000, 0xc0000000, EPT_PAGE_2M, EPT_R, EPT_MT_UC), 0);
	pte = raw_entry(&e, 0xfee00000, 0);
	pde = raw_entry(&e, 0xc0000000, 1);
	assert_int_equal(pte & EPT_MT_MASK, 0);
	assert_int_equal(pte & (EPT_IPAT | EPT_LARGE), 0);
	assert_int_equal(pte, 0xfee00000ull | EPT_R | EPT_W);
	assert_int_equal(pde, 0xc0000000ull | EPT_R | EPT_LARGE);
	expect_map(&e, 0xc0000010, 0xc0000010, EPT_R, EPT_PAGE_2M);
	check_tree(&e);
	destroy(&e);
}

/* 64 MiB at GPA 0 from a 2 MiB-aligned host range: 32 2 MiB leaves in one PD. */
static void test_typical_guest(void **state)
{
	const uint64_t hpa = 0x100000000ull;
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0, hpa, 64 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 3);
	assert_int_equal(fake.allocs, 3);
	for (uint64_t g = 0; g < 64 * MiB; g += EPT_PAGE_2M)
		expect_map(&e, g + 0x1234, hpa + g + 0x1234, EPT_RWX, EPT_PAGE_2M);
	expect_map(&e, 64 * MiB - 1, hpa + 64 * MiB - 1, EPT_RWX, EPT_PAGE_2M);
	expect_none(&e, 64 * MiB);
	check_tree(&e);
	destroy(&e);
}

/* 2 MiB-aligned gpa but hpa only 4 KiB-aligned: 4 KiB leaves throughout. */
static void test_2m_needs_hpa_aligned(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x200000, 0x10001000, 4 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 5); /* PML4, PDPT, PD, two page tables */
	expect_map(&e, 0x200000, 0x10001000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 0x5fffff, 0x10400fff, EPT_RWX, EPT_PAGE_4K);
	expect_none(&e, 0x600000);
	check_tree(&e);
	destroy(&e);
}

/* gpa and hpa misaligned by the same 4 KiB: one 4 KiB page, then a 2 MiB leaf. */
static void test_2m_after_misaligned_head(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x1ff000, 0x201ff000, EPT_PAGE_2M + EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 4);
	expect_map(&e, 0x1ff000, 0x201ff000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 0x200000, 0x20200000, EPT_RWX, EPT_PAGE_2M);
	expect_map(&e, 0x3fffff, 0x203fffff, EPT_RWX, EPT_PAGE_2M);
	expect_none(&e, 0x1fe000);
	expect_none(&e, 0x400000);
	check_tree(&e);
	destroy(&e);
}

/* 5 MiB: two 2 MiB leaves, then 256 4 KiB pages; 2 MiB - 4 KiB: all 4 KiB. */
static void test_2m_tail_and_short(void **state)
{
	struct ept e;
	const uint64_t *pt;
	unsigned int n = 0;

	init(&e);
	assert_int_equal(ept_map(&e, 0, 0x40000000, 5 * MiB, EPT_RWX, EPT_MT_WB), 0);
	expect_map(&e, 0x3ff000, 0x403ff000, EPT_RWX, EPT_PAGE_2M);
	expect_map(&e, 0x400000, 0x40400000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 0x4fffff, 0x404fffff, EPT_RWX, EPT_PAGE_4K);
	expect_none(&e, 0x500000);
	pt = table_of(raw_entry(&e, 0x400000, 1) & EPT_ADDR_MASK);
	for (int i = 0; i < TABLE_ENTRIES; i++)
		n += (pt[i] & EPT_RWX) != 0;
	assert_int_equal(n, 256);
	assert_int_equal(e.nr_tables, 4);

	assert_int_equal(ept_map(&e, 2 * GiB, 2 * GiB, EPT_PAGE_2M - EPT_PAGE_4K, EPT_R, EPT_MT_WB), 0);
	expect_map(&e, 2 * GiB, 2 * GiB, EPT_R, EPT_PAGE_4K);
	expect_map(&e, 2 * GiB + EPT_PAGE_2M - 1 - EPT_PAGE_4K, 2 * GiB + EPT_PAGE_2M - 1 - EPT_PAGE_4K,
		   EPT_R, EPT_PAGE_4K);
	expect_none(&e, 2 * GiB + EPT_PAGE_2M - EPT_PAGE_4K);
	assert_int_equal(e.nr_tables, 6);
	check_tree(&e);
	destroy(&e);
}

/* The 511 untouched pages of a split leaf keep hpa offset, perms and memtype. */
static void expect_split_rest(const struct ept *e, uint64_t gpa2m, uint64_t hpa2m, uint64_t hole)
{
	for (uint64_t off = 0; off < EPT_PAGE_2M; off += EPT_PAGE_4K) {
		if (gpa2m + off == hole)
			continue;
		expect_map(e, gpa2m + off + 0x10, hpa2m + off + 0x10, EPT_RWX, EPT_PAGE_4K);
		assert_int_equal(raw_entry(e, gpa2m + off, 0),
				 (hpa2m + off) | EPT_RWX | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT));
	}
}

static void test_split_by_map(void **state)
{
	const uint64_t gpa = 0x600000, hpa = 0x80000000, hole = gpa + 0x5000;
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, gpa, hpa, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 3);
	assert_int_equal(ept_map(&e, hole, 0x12345000, EPT_PAGE_4K, EPT_R, EPT_MT_UC), 0);
	assert_int_equal(e.nr_tables, 4);
	expect_map(&e, hole + 0x321, 0x12345321, EPT_R, EPT_PAGE_4K);
	assert_int_equal(raw_entry(&e, hole, 0), 0x12345000ull | EPT_R);
	expect_split_rest(&e, gpa, hpa, hole);
	expect_none(&e, gpa - 1);
	expect_none(&e, gpa + EPT_PAGE_2M);
	check_tree(&e);
	destroy(&e);
}

static void test_split_by_unmap(void **state)
{
	const uint64_t gpa = 0x600000, hpa = 0x80000000, hole = gpa + 0x1ff000;
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, gpa, hpa, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, hole, EPT_PAGE_4K), 0);
	assert_int_equal(e.nr_tables, 4);
	expect_none(&e, hole);
	expect_none(&e, hole + 0xfff);
	expect_split_rest(&e, gpa, hpa, hole);
	check_tree(&e);

	/* Unmapping the remaining 511 pages leaves only the PML4. */
	assert_int_equal(ept_unmap(&e, gpa, EPT_PAGE_2M - EPT_PAGE_4K), 0);
	assert_int_equal(e.nr_tables, 1);
	expect_none(&e, gpa);
	check_tree(&e);
	destroy(&e);
}

/* An unmap range that cuts into 2 MiB leaves at both ends splits just those two. */
static void test_unmap_edges(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0, 0x40000000, 6 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 3);
	assert_int_equal(ept_unmap(&e, 0x1ff000, 0x202000), 0);
	assert_int_equal(e.nr_tables, 5);
	expect_map(&e, 0, 0x40000000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 0x1fe000, 0x401fe000, EPT_RWX, EPT_PAGE_4K);
	expect_none(&e, 0x1ff000);
	expect_none(&e, 0x200000);
	expect_none(&e, 0x3ff000);
	expect_none(&e, 0x400000);
	expect_map(&e, 0x401000, 0x40401000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 0x5fffff, 0x405fffff, EPT_RWX, EPT_PAGE_4K);
	assert_int_equal(raw_entry(&e, 0x200000, 1), 0);
	check_tree(&e);
	destroy(&e);
}

static void test_replace_4k(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x3000, 0x100000, EPT_PAGE_4K * 3, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x4000, 0x900000, EPT_PAGE_4K, EPT_R | EPT_X, EPT_MT_UC), 0);
	assert_int_equal(e.nr_tables, 4);
	expect_map(&e, 0x3000, 0x100000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 0x4008, 0x900008, EPT_R | EPT_X, EPT_PAGE_4K);
	expect_map(&e, 0x5000, 0x102000, EPT_RWX, EPT_PAGE_4K);
	assert_int_equal(raw_entry(&e, 0x4000, 0), 0x900000ull | EPT_R | EPT_X);
	check_tree(&e);
	destroy(&e);
}

/* A 2 MiB mapping over a page table of 4 KiB pages frees that table. */
static void test_replace_pt_with_2m(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x200000, 0x30001000, EPT_PAGE_2M, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 4);
	assert_int_equal(ept_map(&e, 0x200000, 0x30200000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 3);
	assert_int_equal(fake.frees, 1);
	expect_map(&e, 0x2abcde, 0x302abcde, EPT_RWX, EPT_PAGE_2M);

	/* And a 2 MiB leaf over a 2 MiB leaf is a plain replacement. */
	assert_int_equal(ept_map(&e, 0x200000, 0x50000000, EPT_PAGE_2M, EPT_R, EPT_MT_UC), 0);
	assert_int_equal(e.nr_tables, 3);
	expect_map(&e, 0x2abcde, 0x500abcde, EPT_R, EPT_PAGE_2M);
	assert_int_equal(raw_entry(&e, 0x200000, 1), 0x50000000ull | EPT_R | EPT_LARGE);
	check_tree(&e);
	destroy(&e);
}

static void test_unmap_frees_tables(void **state)
{
	const uint64_t far = 0x7f8000000000ull; /* last PML4 slot */
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 2 * EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, far, 0x5000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(e.nr_tables, 7);

	/* Half a page table unmapped: the table stays. */
	assert_int_equal(ept_unmap(&e, 0x1000, EPT_PAGE_4K), 0);
	assert_int_equal(e.nr_tables, 7);
	expect_map(&e, 0x2000, 0x2000, EPT_RWX, EPT_PAGE_4K);

	assert_int_equal(ept_unmap(&e, 0x2000, EPT_PAGE_4K), 0);
	assert_int_equal(e.nr_tables, 4);
	assert_int_equal(raw_entry(&e, 0, 3), 0);
	expect_map(&e, far, 0x5000, EPT_RWX, EPT_PAGE_4K);
	check_tree(&e);

	/* The whole address space, mostly unmapped. */
	assert_int_equal(ept_unmap(&e, 0, EPT_GPA_LIMIT), 0);
	assert_int_equal(e.nr_tables, 1);
	expect_none(&e, far);
	assert_int_equal(ept_unmap(&e, 0, EPT_GPA_LIMIT), 0);
	assert_int_equal(fake.frees, 6);
	check_tree(&e);
	destroy(&e);
}

static void test_errors(void **state)
{
	struct ept e;

	init(&e);
	/* unaligned and zero size */
	assert_int_equal(ept_map(&e, 0x1001, 0x2000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2800, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, 0x1800, EPT_RWX, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, 0, EPT_RWX, EPT_MT_WB), -EINVAL);
	/* perms: none, W-only, W|X without R, bits beyond X */
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, 0, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_W, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_W | EPT_X, EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_RWX | BIT(3), EPT_MT_WB), -EINVAL);
	/* reserved memory types 2, 3, 7 and out of range */
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_R, 2), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_R, 3), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_R, 7), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_R, 38), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_R, 64 + EPT_MT_WB), -EINVAL);
	assert_int_equal(ept_map(&e, 0x1000, 0x2000, EPT_PAGE_4K, EPT_R, ~0u), -EINVAL);
	/* beyond 2^48, beyond 2^52 of host, overflow */
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT, 0, EPT_PAGE_4K, EPT_R, EPT_MT_WB), -ERANGE);
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - EPT_PAGE_4K, 0, 2 * EPT_PAGE_4K, EPT_R, EPT_MT_WB), -ERANGE);
	assert_int_equal(ept_map(&e, 0, 1ull << 52, EPT_PAGE_4K, EPT_R, EPT_MT_WB), -ERANGE);
	assert_int_equal(ept_map(&e, ~0xfffull, 0, 2 * EPT_PAGE_4K, EPT_R, EPT_MT_WB), -ERANGE);
	assert_int_equal(ept_map(&e, 0, ~0xfffull, 2 * EPT_PAGE_4K, EPT_R, EPT_MT_WB), -ERANGE);
	assert_int_equal(ept_map(&e, 0x1000, 0, ~0xfffull, EPT_R, EPT_MT_WB), -ERANGE);
	/* unmap: same rules */
	assert_int_equal(ept_unmap(&e, 0x1800, EPT_PAGE_4K), -EINVAL);
	assert_int_equal(ept_unmap(&e, 0x1000, 0x10), -EINVAL);
	assert_int_equal(ept_unmap(&e, 0x1000, 0), -EINVAL);
	assert_int_equal(ept_unmap(&e, EPT_GPA_LIMIT, EPT_PAGE_4K), -ERANGE);
	assert_int_equal(ept_unmap(&e, ~0xfffull, 2 * EPT_PAGE_4K), -ERANGE);
	/* nothing was built by any of them */
	assert_int_equal(e.nr_tables, 1);
	assert_int_equal(fake.allocs, 1);

	/* the last page below the limit is fine; so are execute-only and read-only */
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - EPT_PAGE_4K, (1ull << 52) - EPT_PAGE_4K, EPT_PAGE_4K,
				 EPT_X, EPT_MT_WB), 0);
	expect_map(&e, EPT_GPA_LIMIT - 1, (1ull << 52) - 1, EPT_X, EPT_PAGE_4K);
	assert_int_equal(ept_map(&e, 0, 0, EPT_PAGE_4K, EPT_R, EPT_MT_WT), 0);
	expect_map(&e, 0, 0, EPT_R, EPT_PAGE_4K);
	check_tree(&e);
	destroy(&e);
}

static void test_lookup_outs(void **state)
{
	struct ept e;
	uint64_t hpa = 1, size = 1;
	uint32_t perms = 1;

	init(&e);
	assert_int_equal(ept_map(&e, 0x200000, 0x400000, EPT_PAGE_2M, EPT_R | EPT_W, EPT_MT_WB), 0);
	assert_int_equal(ept_lookup(&e, 0x200000, NULL, NULL, NULL), 0);
	assert_int_equal(ept_lookup(&e, 0x200008, &hpa, NULL, NULL), 0);
	assert_int_equal(hpa, 0x400008);
	assert_int_equal(ept_lookup(&e, 0x200000, NULL, &perms, NULL), 0);
	assert_int_equal(perms, EPT_R | EPT_W);
	assert_int_equal(ept_lookup(&e, 0x200000, NULL, NULL, &size), 0);
	assert_int_equal(size, EPT_PAGE_2M);
	/* a miss leaves the outputs alone */
	assert_int_equal(ept_lookup(&e, 0, &hpa, &perms, &size), -ENOENT);
	assert_int_equal(hpa, 0x400008);
	expect_none(&e, EPT_GPA_LIMIT);
	expect_none(&e, EPT_GPA_LIMIT + 0x200000);
	expect_none(&e, ~0ull);
	destroy(&e);
}

/*
 * Map across a 1 GiB and a 512 GiB boundary with the k-th table allocation
 * failing, for every k: -ENOMEM, the earlier mapping intact, no page mapped
 * wrongly, no empty table left linked, and a retry completes it.
 */
static void test_enomem_map(void **state)
{
	static const struct {
		uint64_t gpa, size;
		unsigned int tables; /* new tables the whole mapping needs */
		unsigned int first;  /* of which the first page needs */
		uint64_t end_2m;     /* below this, 2 MiB leaves */
	} cases[] = {
		{ 1 * GiB - EPT_PAGE_4K, 2 * EPT_PAGE_4K, 3, 1, 0 },   /* PT; PD + PT */
		{ 512 * GiB - EPT_PAGE_4K, 2 * EPT_PAGE_4K, 5, 2, 0 }, /* PD + PT; PDPT + PD + PT */
		{ 1 * GiB - EPT_PAGE_2M, 2 * EPT_PAGE_2M + EPT_PAGE_4K, 2, 0,
		  1 * GiB + EPT_PAGE_2M },                            /* 2M leaf; PD, 2M leaf; PT */
	};
	const uint64_t delta = 0x100000000ull;

	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint64_t gpa = cases[c].gpa, size = cases[c].size, end = gpa + size;
		unsigned int tables = cases[c].tables;

		for (unsigned int k = 0; k <= tables; k++) {
			struct ept e;
			uint64_t hpa;

			fake_setup(state);
			init(&e);
			assert_int_equal(ept_map(&e, 0, delta, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
			fake.fail_after = (int)k;
			assert_int_equal(ept_map(&e, gpa, gpa + delta, size, EPT_R, EPT_MT_WB),
					 k < tables ? -ENOMEM : 0);
			assert_int_equal(fake.allocs, 3 + k);
			expect_map(&e, 0x1234, delta + 0x1234, EPT_RWX, EPT_PAGE_2M);
			for (uint64_t g = gpa; g < end; g += EPT_PAGE_4K) {
				if (ept_lookup(&e, g, &hpa, NULL, NULL) == 0)
					assert_int_equal(hpa, g + delta);
				else
					assert_true(k < tables);
			}
			/* What got its tables before the failure stays mapped. */
			if (k >= cases[c].first)
				assert_int_equal(ept_lookup(&e, gpa, &hpa, NULL, NULL), 0);
			check_tree(&e);

			fake.fail_after = -1;
			assert_int_equal(ept_map(&e, gpa, gpa + delta, size, EPT_R, EPT_MT_WB), 0);
			for (uint64_t g = gpa; g < end; g += EPT_PAGE_4K)
				expect_map(&e, g, g + delta, EPT_R, g < cases[c].end_2m ? EPT_PAGE_2M : EPT_PAGE_4K);
			check_tree(&e);
			destroy(&e);
			fake_teardown(state);
		}
	}
}

/* A split that cannot get its page table leaves the 2 MiB leaf as it was. */
static void test_enomem_split(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x200000, 0x800000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
	fake.fail_after = 0;
	assert_int_equal(ept_map(&e, 0x201000, 0x1000, EPT_PAGE_4K, EPT_R, EPT_MT_WB), -ENOMEM);
	assert_int_equal(ept_unmap(&e, 0x201000, EPT_PAGE_4K), -ENOMEM);
	assert_int_equal(ept_unmap(&e, 0x100000, EPT_PAGE_2M), -ENOMEM);
	for (uint64_t g = 0x200000; g < 0x400000; g += EPT_PAGE_4K)
		expect_map(&e, g, g + 0x600000, EPT_RWX, EPT_PAGE_2M);
	assert_int_equal(e.nr_tables, 3);
	check_tree(&e);
	destroy(&e);
}

/* A table page with stale contents would map whatever it held: ept.c zeroes it. */
static void test_dirty_alloc(void **state)
{
	struct ept e;

	fake.dirty = true;
	init(&e);
	expect_none(&e, 0);
	assert_int_equal(ept_map(&e, 0x5000, 0x5000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x400000, 0x400000, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), 0);
	expect_map(&e, 0x5000, 0x5000, EPT_RWX, EPT_PAGE_4K);
	expect_none(&e, 0x4000);
	expect_none(&e, 0x200000);
	expect_none(&e, 1 * GiB);
	expect_none(&e, 512 * GiB);
	check_tree(&e);
	destroy(&e);
}

/* A mix of 2 MiB, 4 KiB and split leaves in several PML4 slots all goes back. */
static void test_destroy_frees_all(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0, 0x40000000, 64 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x3000, 0x9000, EPT_PAGE_4K, EPT_R, EPT_MT_UC), 0);
	assert_int_equal(ept_map(&e, 5 * GiB, 0x1000, 3 * MiB, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x10000000000ull, 0xfec00000, EPT_PAGE_4K, EPT_R | EPT_W, EPT_MT_UC), 0);
	assert_int_equal(ept_unmap(&e, 0x1000000, 0x1000), 0);
	check_tree(&e);
	assert_true(e.nr_tables > 8);
	destroy(&e);
	assert_int_equal(fake.frees, fake.allocs);
}

/* --- dirty logging ---------------------------------------------------------- */

#define PAGES(bytes) ((bytes) / EPT_PAGE_4K)
#define MT(t) ((uint64_t)(t) << EPT_MT_SHIFT)
#define SW_BIT11 BIT(11) /* ignored by the CPU in every EPT entry (SDM tables 29-1..29-6) */

/* Where the raw entry for gpa at level lives, for playing the CPU setting A/D. */
static uint64_t *raw_slot(const struct ept *e, uint64_t gpa, int level)
{
	uint64_t phys = e->pml4;

	for (int l = 3;; l--) {
		uint64_t *slot = (uint64_t *)&table_of(phys)[(gpa >> (12 + 9 * l)) & 511];

		if (l == level)
			return slot;
		assert_true(*slot & EPT_RWX);
		phys = *slot & EPT_ADDR_MASK;
	}
}

struct xlate {
	int ret;
	uint64_t hpa;
	uint32_t perms;
};

static void snapshot(const struct ept *e, uint64_t gpa, uint64_t n, struct xlate *x)
{
	for (uint64_t i = 0; i < n; i++)
		x[i].ret = ept_lookup(e, gpa + i * EPT_PAGE_4K + 0x123, &x[i].hpa, &x[i].perms, NULL);
}

static void expect_same(const struct ept *e, uint64_t gpa, uint64_t n, const struct xlate *x)
{
	struct xlate *now = calloc(n, sizeof(*now));

	assert_non_null(now);
	snapshot(e, gpa, n, now);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(now[i].ret, x[i].ret);
		if (x[i].ret)
			continue;
		assert_int_equal(now[i].hpa, x[i].hpa);
		assert_int_equal(now[i].perms, x[i].perms);
	}
	free(now);
}

/*
 * 0-6 MiB: three RWX WB 2 MiB leaves; 6-8 MiB: 4 KiB pages with a hole;
 * 8-10 MiB: a read-only UC 2 MiB leaf. Splitting [1 MiB, 9 MiB) splits the
 * four 2 MiB leaves it touches and keeps every translation.
 */
static void test_split_range(void **state)
{
	static struct xlate before[PAGES(10 * MiB)];
	const uint64_t n = PAGES(10 * MiB);
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0, 1 * GiB, 6 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 6 * MiB, 0x7000000, 2 * MiB, EPT_R | EPT_W, EPT_MT_WT), 0);
	assert_int_equal(ept_unmap(&e, 7 * MiB, EPT_PAGE_4K), 0);
	assert_int_equal(ept_map(&e, 8 * MiB, 0xc0000000, 2 * MiB, EPT_R, EPT_MT_UC), 0);
	/* As if the CPU had set A and D in the second leaf (SDM 29.3.5). */
	*raw_slot(&e, 2 * MiB, 1) |= EPT_ACCESSED | EPT_DIRTY;
	snapshot(&e, 0, n, before);
	assert_int_equal(e.nr_tables, 4);

	assert_int_equal(ept_split_range(&e, 1 * MiB, 8 * MiB), 4);
	assert_int_equal(e.nr_tables, 8);
	expect_same(&e, 0, n, before);
	for (uint64_t g = 0; g < 10 * MiB; g += EPT_PAGE_4K) {
		uint64_t size = 0;

		if (g != 7 * MiB) {
			assert_int_equal(ept_lookup(&e, g, NULL, NULL, &size), 0);
			assert_int_equal(size, EPT_PAGE_4K);
		}
	}
	/* Raw 4 KiB leaves per SDM table 29-6: address, perms, memtype; A/D carried. */
	assert_int_equal(*raw_slot(&e, 0x1000, 0), (1 * GiB + 0x1000) | EPT_RWX | MT(EPT_MT_WB));
	assert_int_equal(*raw_slot(&e, 0x3ff000, 0),
			 (1 * GiB + 0x3ff000) | EPT_RWX | MT(EPT_MT_WB) | EPT_ACCESSED | EPT_DIRTY);
	assert_int_equal(*raw_slot(&e, 0x9ff000, 0), 0xc01ff000ull | EPT_R | MT(EPT_MT_UC));
	check_tree(&e);

	/* Nothing left to split; holes and 4 KiB pages are fine. */
	assert_int_equal(ept_split_range(&e, 0, 10 * MiB), 0);
	assert_int_equal(ept_split_range(&e, 1 * GiB, EPT_PAGE_4K), 0);
	assert_int_equal(e.nr_tables, 8);
	expect_same(&e, 0, n, before);
	/* A mapping made after logging starts can still use 2 MiB leaves. */
	assert_int_equal(ept_map(&e, 0, 1 * GiB, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_split_range(&e, 0, EPT_PAGE_4K), 1);

	assert_int_equal(ept_split_range(&e, 0x800, EPT_PAGE_4K), -EINVAL);
	assert_int_equal(ept_split_range(&e, 0, 0), -EINVAL);
	assert_int_equal(ept_split_range(&e, EPT_GPA_LIMIT, EPT_PAGE_4K), -ERANGE);
	assert_int_equal(ept_split_range(&e, ~0xfffull, 2 * EPT_PAGE_4K), -ERANGE);
	check_tree(&e);
	destroy(&e);
}

/* The k-th split failing: -ENOMEM, the leaves before split, the rest 2 MiB, all translations kept. */
static void test_split_range_enomem(void **state)
{
	static struct xlate before[PAGES(8 * MiB)];
	const uint64_t n = PAGES(8 * MiB);

	for (int k = 0; k <= 4; k++) {
		struct ept e;
		uint64_t size;

		fake_setup(state);
		init(&e);
		assert_int_equal(ept_map(&e, 0, 0x40000000, 8 * MiB, EPT_RWX, EPT_MT_WB), 0);
		snapshot(&e, 0, n, before);
		fake.fail_after = k;
		assert_int_equal(ept_split_range(&e, 0, 8 * MiB), k < 4 ? -ENOMEM : 4);
		assert_int_equal(e.nr_tables, 3 + (unsigned int)k);
		expect_same(&e, 0, n, before);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(ept_lookup(&e, (uint64_t)i * EPT_PAGE_2M, NULL, NULL, &size), 0);
			assert_int_equal(size, i < k ? EPT_PAGE_4K : EPT_PAGE_2M);
		}
		check_tree(&e);
		fake.fail_after = -1;
		assert_int_equal(ept_split_range(&e, 0, 8 * MiB), 4 - k);
		expect_same(&e, 0, n, before);
		destroy(&e);
		fake_teardown(state);
	}
}

/*
 * Pages 1-4 RW, 5 R, 6 RX, 7 hole, 8 RWX: write-protecting clears W on the
 * five writable ones only; lifting it restores exactly those.
 */
static void test_set_write(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0x1000, 0x101000, 4 * EPT_PAGE_4K, EPT_R | EPT_W, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x5000, 0x105000, EPT_PAGE_4K, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_map(&e, 0x6000, 0x106000, EPT_PAGE_4K, EPT_R | EPT_X, EPT_MT_UC), 0);
	assert_int_equal(ept_map(&e, 0x8000, 0x108000, EPT_PAGE_4K, EPT_RWX, EPT_MT_WB), 0);
	*raw_slot(&e, 0x2000, 0) |= EPT_ACCESSED | EPT_DIRTY;

	assert_int_equal(ept_set_write(&e, 0, 0x9000, false), 5);
	for (uint64_t g = 0x1000; g < 0x5000; g += EPT_PAGE_4K)
		expect_map(&e, g, g + 0x100000, EPT_R, EPT_PAGE_4K);
	expect_map(&e, 0x5000, 0x105000, EPT_R, EPT_PAGE_4K);
	expect_map(&e, 0x6000, 0x106000, EPT_R | EPT_X, EPT_PAGE_4K);
	expect_none(&e, 0x7000);
	expect_map(&e, 0x8000, 0x108000, EPT_R | EPT_X, EPT_PAGE_4K);
	assert_int_equal(*raw_slot(&e, 0x1000, 0), 0x101000ull | EPT_R | MT(EPT_MT_WB) | SW_BIT11);
	assert_int_equal(*raw_slot(&e, 0x2000, 0),
			 0x102000ull | EPT_R | MT(EPT_MT_WB) | SW_BIT11 | EPT_ACCESSED | EPT_DIRTY);
	assert_int_equal(*raw_slot(&e, 0x5000, 0), 0x105000ull | EPT_R | MT(EPT_MT_WB));
	assert_int_equal(ept_set_write(&e, 0, 0x9000, false), 0);

	/* A write fault on a protected page is a logging fault; on a read-only one it is not. */
	assert_int_equal(ept_set_write(&e, 0x3000, EPT_PAGE_4K, true), 1);
	expect_map(&e, 0x3000, 0x103000, EPT_R | EPT_W, EPT_PAGE_4K);
	assert_int_equal(ept_set_write(&e, 0x5000, EPT_PAGE_4K, true), 0);
	assert_int_equal(ept_set_write(&e, 0x7000, EPT_PAGE_4K, true), 0);

	assert_int_equal(ept_set_write(&e, 0, 0x9000, true), 4);
	assert_int_equal(ept_set_write(&e, 0, 0x9000, true), 0);
	assert_int_equal(*raw_slot(&e, 0x1000, 0), 0x101000ull | EPT_R | EPT_W | MT(EPT_MT_WB));
	assert_int_equal(*raw_slot(&e, 0x2000, 0),
			 0x102000ull | EPT_R | EPT_W | MT(EPT_MT_WB) | EPT_ACCESSED | EPT_DIRTY);
	assert_int_equal(*raw_slot(&e, 0x5000, 0), 0x105000ull | EPT_R | MT(EPT_MT_WB));
	assert_int_equal(*raw_slot(&e, 0x6000, 0), 0x106000ull | EPT_R | EPT_X);
	assert_int_equal(*raw_slot(&e, 0x8000, 0), 0x108000ull | EPT_RWX | MT(EPT_MT_WB));

	/* A protected page remapped is a new mapping: its own perms, no memory of the old. */
	assert_int_equal(ept_set_write(&e, 0x1000, EPT_PAGE_4K, false), 1);
	assert_int_equal(ept_map(&e, 0x1000, 0x201000, EPT_PAGE_4K, EPT_R, EPT_MT_WB), 0);
	assert_int_equal(ept_set_write(&e, 0x1000, EPT_PAGE_4K, true), 0);
	expect_map(&e, 0x1000, 0x201000, EPT_R, EPT_PAGE_4K);

	assert_int_equal(ept_set_write(&e, 0x1001, EPT_PAGE_4K, false), -EINVAL);
	assert_int_equal(ept_set_write(&e, 0x1000, 0, false), -EINVAL);
	assert_int_equal(ept_set_write(&e, EPT_GPA_LIMIT, EPT_PAGE_4K, false), -ERANGE);
	assert_int_equal(ept_set_write(&e, 0, EPT_GPA_LIMIT, false), -ERANGE); /* 2^36 pages > INT_MAX */
	check_tree(&e);
	destroy(&e);
}

/* 2 MiB leaves: covered entirely they change whole; covered partly they are split first. */
static void test_set_write_2m(void **state)
{
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 0, 0x40000000, 6 * MiB, EPT_RWX, EPT_MT_WB), 0);
	assert_int_equal(ept_set_write(&e, 0, 2 * MiB, false), 1);
	expect_map(&e, 0x1234, 0x40001234, EPT_R | EPT_X, EPT_PAGE_2M);
	assert_int_equal(*raw_slot(&e, 0, 1), 0x40000000ull | EPT_R | EPT_X | MT(EPT_MT_WB) | EPT_LARGE | SW_BIT11);

	/* Split the protected leaf: its pages stay protected and come back writable. */
	assert_int_equal(ept_split_range(&e, 0, 2 * MiB), 1);
	assert_int_equal(*raw_slot(&e, 0x5000, 0), 0x40005000ull | EPT_R | EPT_X | MT(EPT_MT_WB) | SW_BIT11);
	assert_int_equal(ept_set_write(&e, 0, 2 * MiB, true), 512);
	expect_map(&e, 0x1ff000, 0x401ff000, EPT_RWX, EPT_PAGE_4K);

	/* Two pages out of the middle of the third leaf; no table for it: nothing changes. */
	fake.fail_after = 0;
	assert_int_equal(ept_set_write(&e, 4 * MiB + 0x1000, 2 * EPT_PAGE_4K, false), -ENOMEM);
	expect_map(&e, 4 * MiB + 0x1000, 0x40401000, EPT_RWX, EPT_PAGE_2M);
	fake.fail_after = -1;
	assert_int_equal(ept_set_write(&e, 4 * MiB + 0x1000, 2 * EPT_PAGE_4K, false), 2);
	expect_map(&e, 4 * MiB, 0x40400000, EPT_RWX, EPT_PAGE_4K);
	expect_map(&e, 4 * MiB + 0x1000, 0x40401000, EPT_R | EPT_X, EPT_PAGE_4K);
	expect_map(&e, 4 * MiB + 0x2000, 0x40402000, EPT_R | EPT_X, EPT_PAGE_4K);
	expect_map(&e, 4 * MiB + 0x3000, 0x40403000, EPT_RWX, EPT_PAGE_4K);
	/* The untouched middle leaf stayed 2 MiB and writable. */
	expect_map(&e, 2 * MiB, 0x40200000, EPT_RWX, EPT_PAGE_2M);
	check_tree(&e);
	destroy(&e);
}

static bool test_bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

/* D set on a pattern of 4 KiB leaves across bitmap words: reported exactly, D cleared, A kept. */
static void test_harvest(void **state)
{
	static const uint64_t dirty[] = { 0, 1, 63, 64, 65, 127, 128, 129 };
	const uint64_t base = 0x100000;
	uint64_t bm[3], want[3] = { 0 };
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, base, 0x800000, 130 * EPT_PAGE_4K, EPT_R | EPT_W, EPT_MT_WB), 0);
	assert_int_equal(ept_unmap(&e, base + 100 * EPT_PAGE_4K, EPT_PAGE_4K), 0); /* a hole */
	for (unsigned int i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++) {
		*raw_slot(&e, base + dirty[i] * EPT_PAGE_4K, 0) |= EPT_ACCESSED | EPT_DIRTY;
		want[dirty[i] / 64] |= 1ull << (dirty[i] % 64);
	}
	*raw_slot(&e, base + 5 * EPT_PAGE_4K, 0) |= EPT_ACCESSED; /* accessed, not dirty */

	memset(bm, 0, sizeof(bm));
	assert_int_equal(ept_harvest_dirty(&e, base, 130, bm), 8);
	assert_memory_equal(bm, want, sizeof(bm));
	assert_int_equal(*raw_slot(&e, base, 0), 0x800000ull | EPT_R | EPT_W | MT(EPT_MT_WB) | EPT_ACCESSED);
	assert_int_equal(*raw_slot(&e, base + 5 * EPT_PAGE_4K, 0) & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	/* Bits are only ever set: a second harvest finds nothing and leaves bm alone. */
	assert_int_equal(ept_harvest_dirty(&e, base, 130, bm), 0);
	assert_memory_equal(bm, want, sizeof(bm));

	/* Bit i is relative to gpa; pages outside the range keep D. */
	*raw_slot(&e, base + 64 * EPT_PAGE_4K, 0) |= EPT_DIRTY;
	*raw_slot(&e, base + 66 * EPT_PAGE_4K, 0) |= EPT_DIRTY;
	*raw_slot(&e, base + 70 * EPT_PAGE_4K, 0) |= EPT_DIRTY;
	memset(bm, 0, sizeof(bm));
	assert_int_equal(ept_harvest_dirty(&e, base + 65 * EPT_PAGE_4K, 5, bm), 1);
	assert_int_equal(bm[0], 1ull << 1);
	assert_true(*raw_slot(&e, base + 64 * EPT_PAGE_4K, 0) & EPT_DIRTY);
	assert_true(*raw_slot(&e, base + 70 * EPT_PAGE_4K, 0) & EPT_DIRTY);
	assert_false(*raw_slot(&e, base + 66 * EPT_PAGE_4K, 0) & EPT_DIRTY);

	/* Over unmapped space and beyond the mapping: nothing, no tables built. */
	assert_int_equal(ept_harvest_dirty(&e, 512 * GiB, 64, bm), 0);
	assert_int_equal(ept_harvest_dirty(&e, 0, 0, NULL), 0);
	assert_int_equal(ept_harvest_dirty(&e, 0x800, 1, bm), -EINVAL);
	assert_int_equal(ept_harvest_dirty(&e, 0x800, 0, bm), -EINVAL);
	assert_int_equal(ept_harvest_dirty(&e, EPT_GPA_LIMIT - EPT_PAGE_4K, 2, bm), -ERANGE);
	assert_int_equal(ept_harvest_dirty(&e, 0, 1ull << 31, bm), -ERANGE);
	assert_int_equal(ept_harvest_dirty(&e, 0, ~0ull, bm), -ERANGE);
	assert_int_equal(bm[0], 1ull << 1);
	check_tree(&e);
	destroy(&e);
}

/* A dirty 2 MiB leaf marks all its pages; its D goes only when the range covers it all. */
static void test_harvest_2m(void **state)
{
	uint64_t bm[16];
	struct ept e;

	init(&e);
	assert_int_equal(ept_map(&e, 2 * MiB, 0x40200000, 2 * MiB, EPT_RWX, EPT_MT_WB), 0);
	*raw_slot(&e, 2 * MiB, 1) |= EPT_ACCESSED | EPT_DIRTY;

	/* The first half of the leaf, from 1 MiB below it: 256 pages at bits 256..511. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(ept_harvest_dirty(&e, 1 * MiB, 512, bm), 256);
	for (uint64_t i = 0; i < 512; i++)
		assert_int_equal(test_bit(bm, i), i >= 256);
	assert_true(*raw_slot(&e, 2 * MiB, 1) & EPT_DIRTY);

	memset(bm, 0, sizeof(bm));
	assert_int_equal(ept_harvest_dirty(&e, 2 * MiB, 512, bm), 512);
	for (unsigned int w = 0; w < 8; w++)
		assert_int_equal(bm[w], ~0ull);
	assert_int_equal(bm[8], 0);
	assert_int_equal(*raw_slot(&e, 2 * MiB, 1), 0x40200000ull | EPT_RWX | MT(EPT_MT_WB) | EPT_LARGE | EPT_ACCESSED);
	assert_int_equal(ept_harvest_dirty(&e, 2 * MiB, 512, bm), 0);

	/* Split while dirty: all 512 4 KiB leaves inherit D (which were written is unknown). */
	*raw_slot(&e, 2 * MiB, 1) |= EPT_DIRTY;
	assert_int_equal(ept_split_range(&e, 2 * MiB, EPT_PAGE_4K), 1);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(ept_harvest_dirty(&e, 2 * MiB, 512, bm), 512);
	assert_int_equal(ept_harvest_dirty(&e, 2 * MiB, 512, bm), 0);
	check_tree(&e);
	destroy(&e);
}

/*
 * A thread plays the CPU: it sets A and D in 4 KiB leaves with locked ORs,
 * counting the D 0->1 transitions, while the main thread harvests and
 * toggles write protection. Every transition must be reported exactly once
 * (a plain read-modify-write in ept_set_write would drop some), and A, once
 * set, never disappears.
 */
#define RACE_PAGES 256
#define RACE_SETS 400000

struct race {
	uint64_t *slot[RACE_PAGES];
	uint64_t transitions;
	bool touched[RACE_PAGES];
	int done;
};

static void *race_cpu(void *arg)
{
	struct race *r = arg;
	uint32_t x = 2463534242u;

	for (unsigned int n = 0; n < RACE_SETS; n++) {
		unsigned int p;
		uint64_t old;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p = x % RACE_PAGES;
		old = __atomic_fetch_or(r->slot[p], EPT_ACCESSED | EPT_DIRTY, __ATOMIC_SEQ_CST);
		if (!(old & EPT_DIRTY))
			r->transitions++;
		r->touched[p] = true;
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_harvest_race(void **state)
{
	static struct race r;
	uint64_t bm[RACE_PAGES / 64], reported = 0;
	unsigned int rounds = 0;
	pthread_t cpu;
	struct ept e;
	int n;

	init(&e);
	assert_int_equal(ept_map(&e, 0, 0x10000000, RACE_PAGES * EPT_PAGE_4K, EPT_R | EPT_W, EPT_MT_WB), 0);
	memset(&r, 0, sizeof(r));
	for (unsigned int p = 0; p < RACE_PAGES; p++)
		r.slot[p] = raw_slot(&e, p * EPT_PAGE_4K, 0);
	assert_int_equal(pthread_create(&cpu, NULL, race_cpu, &r), 0);
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		n = ept_harvest_dirty(&e, 0, RACE_PAGES, bm);
		assert_true(n >= 0);
		reported += (uint64_t)n;
		assert_true(ept_set_write(&e, 0, RACE_PAGES * EPT_PAGE_4K, rounds++ & 1) >= 0);
	}
	assert_int_equal(pthread_join(cpu, NULL), 0);
	n = ept_harvest_dirty(&e, 0, RACE_PAGES, bm);
	reported += (uint64_t)n;
	assert_int_equal(reported, r.transitions);
	assert_true(ept_set_write(&e, 0, RACE_PAGES * EPT_PAGE_4K, true) >= 0);
	for (unsigned int p = 0; p < RACE_PAGES; p++) {
		if (r.touched[p])
			assert_true(*r.slot[p] & EPT_ACCESSED);
		assert_int_equal(*r.slot[p] & ~EPT_ACCESSED,
				 (0x10000000ull + p * EPT_PAGE_4K) | EPT_R | EPT_W | MT(EPT_MT_WB));
	}
	print_message("race: %u rounds, %llu transitions\n", rounds, (unsigned long long)r.transitions);
	destroy(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_destroy, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_init_enomem, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_eptp, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_map_4k, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_map_2m, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_memtype_uc_raw, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_typical_guest, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_2m_needs_hpa_aligned, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_2m_after_misaligned_head, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_2m_tail_and_short, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_split_by_map, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_split_by_unmap, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_unmap_edges, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_replace_4k, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_replace_pt_with_2m, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_unmap_frees_tables, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_errors, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_lookup_outs, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_enomem_map, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_enomem_split, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_dirty_alloc, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_frees_all, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_split_range, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_split_range_enomem, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_set_write, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_set_write_2m, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_harvest, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_harvest_2m, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_harvest_race, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
