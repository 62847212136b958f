/* SPDX-License-Identifier: MIT */
/* The guest memory map (vmm/gmap.c): the PC layout, holes, overlaps, RAM offsets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/gmap.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define RAM GMAP_MASK(GMAP_RAM)

static void expect_region(const struct gmap *m, uint32_t i, uint64_t gpa, uint64_t size,
			  uint32_t type)
{
	assert_true(i < m->n);
	assert_int_equal(m->r[i].gpa, gpa);
	assert_int_equal(m->r[i].size, size);
	assert_int_equal(m->r[i].type, type);
	assert_int_equal(m->r[i].reserved, 0);
}

/* Small VMs: all RAM from 0, the I/O APIC and local APIC pages in the hole. */
static void test_small_vm(void **state)
{
	struct gmap m;

	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 0, 39), 0);
	assert_int_equal(m.n, 3);
	expect_region(&m, 0, 0, 8 * MIB, GMAP_RAM);
	expect_region(&m, 1, 0xfec00000, 4 * KIB, GMAP_MMIO);
	expect_region(&m, 2, 0xfee00000, 4 * KIB, GMAP_MMIO);
	assert_int_equal(gmap_total(&m, GMAP_RAM), 8 * MIB);
	assert_int_equal(gmap_top(&m, GMAP_RAM), 8 * MIB);
	assert_int_equal(gmap_top(&m, GMAP_ROM), 0);
}

/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB on. */
static void test_ram_split_around_the_hole(void **state)
{
	struct gmap m;
	uint64_t run;

	assert_int_equal(gmap_pc_layout(&m, 4 * GIB, 0, 39), 0);
	assert_int_equal(m.n, 4);
	expect_region(&m, 0, 0, 3 * GIB, GMAP_RAM);
	expect_region(&m, 3, 4 * GIB, 1 * GIB, GMAP_RAM);
	assert_int_equal(gmap_total(&m, GMAP_RAM), 4 * GIB);
	assert_int_equal(gmap_top(&m, GMAP_RAM), 5 * GIB);
	/* RAM offsets run through the low part, then continue at 4 GiB. */
	assert_int_equal(gmap_ram_gpa(&m, 0, &run), 0);
	assert_int_equal(run, 3 * GIB);
	assert_int_equal(gmap_ram_gpa(&m, 3 * GIB - 4 * KIB, &run), 3 * GIB - 4 * KIB);
	assert_int_equal(run, 4 * KIB);
	assert_int_equal(gmap_ram_gpa(&m, 3 * GIB, &run), 4 * GIB);
	assert_int_equal(run, 1 * GIB);
	assert_int_equal(gmap_ram_gpa(&m, 4 * GIB - 1, &run), 5 * GIB - 1);
	assert_int_equal(gmap_ram_gpa(&m, 4 * GIB, &run), ~0ull);
}

/* RAM below 4 GiB capped lower (QEMU's max-ram-below-4g), and exactly at the cap. */
static void test_below_4g_cap(void **state)
{
	struct gmap m;

	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 4 * MIB, 36), 0);
	expect_region(&m, 0, 0, 4 * MIB, GMAP_RAM);
	expect_region(&m, 3, 4 * GIB, 4 * MIB, GMAP_RAM);
	assert_int_equal(gmap_pc_layout(&m, 4 * MIB, 4 * MIB, 36), 0);
	assert_int_equal(m.n, 3); /* nothing above 4 GiB */
	assert_int_equal(gmap_top(&m, GMAP_RAM), 4 * MIB);
}

/* What the layout refuses, and the guest's physical-address width. */
static void test_layout_refusals(void **state)
{
	struct gmap m;

	assert_int_equal(gmap_pc_layout(&m, 0, 0, 39), -EINVAL);
	assert_int_equal(gmap_pc_layout(&m, 8 * MIB + 1, 0, 39), -EINVAL);
	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 4 * MIB + 512, 39), -EINVAL);
	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 512 * KIB, 39), -EINVAL); /* < 1 MiB */
	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 3 * GIB + 4 * KIB, 39), -EINVAL); /* into the hole */
	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 0, 20), -EINVAL);
	/* 36 bits: 64 GiB of address space, RAM may end exactly there, not a page more. */
	assert_int_equal(gmap_pc_layout(&m, 63 * GIB, 0, 36), 0);
	assert_int_equal(gmap_top(&m, GMAP_RAM), 64 * GIB);
	assert_int_equal(gmap_pc_layout(&m, 63 * GIB + 4 * KIB, 0, 36), -E2BIG);
	assert_int_equal(gmap_pc_layout(&m, 2 * GIB, 0, 32), 0); /* all below the hole */
	assert_int_equal(gmap_pc_layout(&m, 3 * GIB + 4 * KIB, 0, 32), -E2BIG);
}

/* Insertion keeps order, refuses overlaps, wraps, bad types and a full map. */
static void test_add(void **state)
{
	struct gmap m = { 0 };

	assert_int_equal(gmap_add(&m, 0x200000, 0x1000, GMAP_ROM), 0);
	assert_int_equal(gmap_add(&m, 0, 0x100000, GMAP_RAM), 0);
	assert_int_equal(gmap_add(&m, 0x100000, 0x100000, GMAP_RESERVED), 0); /* back to back, another type */
	expect_region(&m, 0, 0, 0x100000, GMAP_RAM);
	expect_region(&m, 1, 0x100000, 0x100000, GMAP_RESERVED);
	expect_region(&m, 2, 0x200000, 0x1000, GMAP_ROM);
	assert_int_equal(gmap_add(&m, 0xff000, 0x2000, GMAP_RAM), -EEXIST);  /* across a boundary */
	assert_int_equal(gmap_add(&m, 0x1ff000, 0x1000, GMAP_RAM), -EEXIST); /* last page of one */
	assert_int_equal(gmap_add(&m, 0x201000 - 0x1000, 0x1000, GMAP_RAM), -EEXIST);
	assert_int_equal(gmap_add(&m, 0x1000, 0, GMAP_RAM), -EINVAL);
	assert_int_equal(gmap_add(&m, 0x300800, 0x1000, GMAP_RAM), -EINVAL);
	assert_int_equal(gmap_add(&m, ~0xfffull, 0x2000, GMAP_RAM), -EINVAL); /* wraps */
	assert_int_equal(gmap_add(&m, 0x400000, 0x1000, 0), -EINVAL);
	assert_int_equal(gmap_add(&m, 0x400000, 0x1000, 5), -EINVAL);
	assert_int_equal(m.n, 3);
	for (uint32_t i = 3; i < GMAP_MAX; i++)
		assert_int_equal(gmap_add(&m, (uint64_t)(i + 1) << 24, 0x1000, GMAP_RAM), 0);
	assert_int_equal(m.n, GMAP_MAX);
	/* Full, but a page continuing a region still joins it. */
	assert_int_equal(gmap_add(&m, (4ull << 24) + 0x1000, 0x1000, GMAP_RAM), 0);
	assert_int_equal(gmap_add(&m, 1ull << 40, 0x1000, GMAP_RAM), -ENOSPC);
	for (uint32_t i = 1; i < m.n; i++)
		assert_true(m.r[i - 1].gpa + m.r[i - 1].size <= m.r[i].gpa);
}

/* Joining: before, after, and bridging two regions into one; never across types. */
static void test_join(void **state)
{
	struct gmap m = { 0 };

	assert_int_equal(gmap_add(&m, 0x10000, 0x1000, GMAP_ROM), 0);
	assert_int_equal(gmap_add(&m, 0x12000, 0x1000, GMAP_ROM), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(gmap_add(&m, 0x11000, 0x1000, GMAP_ROM), 0); /* the gap: one region */
	assert_int_equal(m.n, 1);
	expect_region(&m, 0, 0x10000, 0x3000, GMAP_ROM);
	assert_int_equal(gmap_add(&m, 0xf000, 0x1000, GMAP_ROM), 0);   /* in front */
	expect_region(&m, 0, 0xf000, 0x4000, GMAP_ROM);
	assert_int_equal(gmap_add(&m, 0x13000, 0x1000, GMAP_RESERVED), 0); /* another type */
	assert_int_equal(gmap_add(&m, 0xe000, 0x1000, GMAP_RAM), 0);
	assert_int_equal(m.n, 3);
	expect_region(&m, 0, 0xe000, 0x1000, GMAP_RAM);
	expect_region(&m, 1, 0xf000, 0x4000, GMAP_ROM);
	expect_region(&m, 2, 0x13000, 0x1000, GMAP_RESERVED);
}

/* Lookups and range checks by type, across regions and at the edges. */
static void test_find_and_covers(void **state)
{
	struct gmap m;

	assert_int_equal(gmap_pc_layout(&m, 8 * MIB, 4 * MIB, 39), 0);
	assert_int_equal(gmap_find(&m, 0)->type, GMAP_RAM);
	assert_int_equal(gmap_find(&m, 4 * MIB - 1)->type, GMAP_RAM);
	assert_null(gmap_find(&m, 4 * MIB));            /* the hole: open bus */
	assert_int_equal(gmap_find(&m, 0xfec00fff)->type, GMAP_MMIO);
	assert_null(gmap_find(&m, 0xfec01000));
	assert_int_equal(gmap_find(&m, 4 * GIB)->type, GMAP_RAM);
	assert_null(gmap_find(&m, 4 * GIB + 4 * MIB));
	assert_null(gmap_find(&m, ~0ull));
	assert_true(gmap_covers(&m, 0, 4 * MIB, RAM));
	assert_false(gmap_covers(&m, 4 * MIB - 8, 16, RAM)); /* runs into the hole */
	assert_true(gmap_covers(&m, 4 * GIB, 4 * MIB, RAM));
	assert_false(gmap_covers(&m, 4 * GIB, 4 * MIB + 1, RAM));
	assert_false(gmap_covers(&m, 0xfec00000, 4, RAM));
	assert_true(gmap_covers(&m, 0xfec00000, 4, GMAP_MASK(GMAP_MMIO)));
	assert_false(gmap_covers(&m, 16, ~0ull, RAM));      /* wraps */
	/* Back-to-back regions of one type join; a range may cross types when the mask allows. */
	m = (struct gmap){ 0 };
	assert_int_equal(gmap_add(&m, 0, 2 * MIB, GMAP_RAM), 0);
	assert_int_equal(gmap_add(&m, 2 * MIB, 2 * MIB, GMAP_RAM), 0);
	assert_int_equal(gmap_add(&m, 4 * MIB, 4 * KIB, GMAP_ROM), 0);
	assert_int_equal(m.n, 2);
	expect_region(&m, 0, 0, 4 * MIB, GMAP_RAM);
	assert_true(gmap_covers(&m, 2 * MIB - 8, 16, RAM));
	assert_false(gmap_covers(&m, 4 * MIB - 8, 16, RAM));
	assert_true(gmap_covers(&m, 4 * MIB - 8, 16, RAM | GMAP_MASK(GMAP_ROM)));
	assert_int_equal(gmap_ram_gpa(&m, 3 * MIB, NULL), 3 * MIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_vm),
		cmocka_unit_test(test_ram_split_around_the_hole),
		cmocka_unit_test(test_below_4g_cap),
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_find_and_covers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
