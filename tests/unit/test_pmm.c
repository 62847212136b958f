/* SPDX-License-Identifier: MIT */
/* Host unit tests for kernel/pmm.c over fake physical memory backed by malloc. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "kernel/memmap.h"
#include "kernel/pmm.h"

#define R(b, l, t) { .base = (b), .length = (l), .type = (t) }
#define COUNT(a)   (sizeof(a) / sizeof((a)[0]))
#define MiB        0x100000ull

/* 16 MiB machine: low RAM, the 640K hole, RAM with a 64 KiB reserved hole at 8 MiB. */
static const struct boot_mem_region std_map[] = {
	R(0x0, 0x9f000, BOOT_MEM_USABLE),      R(0x9f000, 0x61000, BOOT_MEM_RESERVED),
	R(0x100000, 0x700000, BOOT_MEM_USABLE), R(0x800000, 0x10000, BOOT_MEM_RESERVED),
	R(0x810000, 0x7f0000, BOOT_MEM_USABLE), R(0xfee00000, 0x1000, BOOT_MEM_MMIO),
};
#define STD_HIGH_PAGES (0x700u + 0x7f0u) /* usable frames from 1 MiB up */
#define STD_LOW_PAGES  (0x9fu - 1u)      /* below 640K, frame 0 excluded */

/* Fake physical window [fake_base, fake_base + fake_size) backed by host memory. */
static uint8_t *fake_raw, *fake_mem;
static uint64_t fake_base, fake_size;

static void fake_window(uint64_t base, uint64_t size, size_t skew)
{
	free(fake_raw);
	fake_raw = calloc(size + skew, 1);
	assert_non_null(fake_raw);
	fake_mem = fake_raw + skew;
	fake_base = base;
	fake_size = size;
}

static void *fake_p2v(uint64_t phys)
{
	if (phys < fake_base || phys - fake_base >= fake_size)
		return NULL;
	return fake_mem + (phys - fake_base);
}

static int release(void **state)
{
	free(fake_raw);
	fake_raw = NULL;
	return 0;
}

static void std_init(struct pmm *p, uint64_t low_limit)
{
	fake_window(0, 16 * MiB, 0);
	assert_int_equal(pmm_init(p, std_map, COUNT(std_map), low_limit, fake_p2v), 0);
}

static void check_invariant(const struct pmm *p)
{
	struct pmm_stats s;
	uint64_t held = 0;

	pmm_get_stats(p, &s);
	for (int o = 0; o < PMM_OWNER_COUNT; o++)
		held += s.by_owner[o];
	assert_int_equal(s.by_owner[PMM_FREE], 0);
	assert_int_equal(s.free_pages + held, s.total_pages);
}

/* The stats must match a byte-by-byte recount of the owner array. */
static void check_recount(const struct pmm *p)
{
	uint64_t count[256] = { 0 };

	for (uint64_t i = 0; i < p->nr_pfns; i++)
		count[p->owner[i]]++;
	assert_int_equal(count[PMM_FREE], p->stats.free_pages);
	for (int o = 1; o < PMM_OWNER_COUNT; o++)
		assert_int_equal(count[o], p->stats.by_owner[o]);
	assert_int_equal(p->nr_pfns - count[PMM_RESERVED], p->stats.total_pages);
	check_invariant(p);
}

/* Stats and owner bytes, to prove a refused call changed nothing. */
struct snapshot {
	struct pmm_stats stats;
	uint8_t owner[0x1000];
};

static void take_snapshot(const struct pmm *p, struct snapshot *s)
{
	assert_true(p->nr_pfns <= sizeof(s->owner));
	pmm_get_stats(p, &s->stats);
	memcpy(s->owner, p->owner, p->nr_pfns);
}

static void check_snapshot(const struct pmm *p, const struct snapshot *s)
{
	assert_memory_equal(&p->stats, &s->stats, sizeof(s->stats));
	assert_memory_equal(p->owner, s->owner, p->nr_pfns);
}

static void test_init_stats(void **state)
{
	struct pmm p;

	std_init(&p, MiB);
	assert_int_equal(p.base_pfn, 0x100);
	assert_int_equal(p.nr_pfns, 0xf00);
	assert_ptr_equal(p.owner, fake_mem + MiB);
	assert_int_equal(p.stats.total_pages, STD_HIGH_PAGES);
	assert_int_equal(p.stats.free_pages, STD_HIGH_PAGES - 1);
	assert_int_equal(p.stats.by_owner[PMM_OWNER_META], 1);
	for (int o = PMM_OWNER_KERNEL; o < PMM_OWNER_COUNT; o++)
		assert_int_equal(p.stats.by_owner[o], 0);
	assert_int_equal(pmm_owner_of(&p, MiB), PMM_OWNER_META);
	assert_int_equal(pmm_owner_of(&p, MiB + 0x1fff), PMM_FREE);
	assert_int_equal(pmm_owner_of(&p, 0x7ff000), PMM_FREE);
	assert_int_equal(pmm_owner_of(&p, 0x800000), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0x80f000), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0x810000), PMM_FREE);
	assert_int_equal(pmm_owner_of(&p, 0x5000), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 16 * MiB), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0xfee00000), PMM_RESERVED);
	check_recount(&p);
}

static void test_init_low_zero(void **state)
{
	struct pmm p;

	std_init(&p, 0);
	assert_int_equal(p.base_pfn, 1);
	assert_int_equal(p.stats.total_pages, STD_LOW_PAGES + STD_HIGH_PAGES);
	assert_int_equal(pmm_owner_of(&p, 0x1000), PMM_OWNER_META);
	assert_int_equal(pmm_owner_of(&p, 0), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0xa0000), PMM_RESERVED);
	check_recount(&p);
}

/* The owner array needs 64 pages; the first region only has two. */
static void test_meta_pages(void **state)
{
	const struct boot_mem_region map[] = {
		R(0x100000, 0x2000, BOOT_MEM_USABLE), R(0x200000, 0x3fe00000, BOOT_MEM_USABLE),
	};
	struct pmm p;
	uint64_t phys;

	fake_window(0x200000, 64 * 0x1000, 0);
	assert_int_equal(pmm_init(&p, map, COUNT(map), MiB, fake_p2v), 0);
	assert_int_equal(p.nr_pfns, 0x3ff00);
	assert_int_equal(p.stats.by_owner[PMM_OWNER_META], 64);
	assert_int_equal(p.stats.total_pages, 2 + 0x3fe00);
	for (phys = 0x200000; phys < 0x240000; phys += 0x1000)
		assert_int_equal(pmm_owner_of(&p, phys), PMM_OWNER_META);
	assert_int_equal(pmm_owner_of(&p, 0x240000), PMM_FREE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP), 0x100000);
	assert_int_equal(pmm_alloc(&p, 2, 1, 0, PMM_OWNER_HEAP), 0x240000);
	assert_int_equal(pmm_free(&p, 0x200000, 1, PMM_OWNER_HEAP), -EINVAL);
	check_invariant(&p);
}

static void test_init_errors(void **state)
{
	const struct boot_mem_region none[] = { R(0x0, 0x100000, BOOT_MEM_RESERVED) };
	const struct boot_mem_region low[] = { R(0x0, 0x9f000, BOOT_MEM_USABLE) };
	const struct boot_mem_region scattered[] = {
		R(0x1000, 0x1000, BOOT_MEM_USABLE), R(0x40000000, 0x1000, BOOT_MEM_USABLE),
	};
	struct pmm p;

	fake_window(0, 16 * MiB, 0);
	assert_int_equal(pmm_init(&p, none, 1, 0, fake_p2v), -ENOMEM);
	assert_int_equal(pmm_init(&p, low, 1, MiB, fake_p2v), -ENOMEM);
	assert_int_equal(pmm_init(&p, scattered, 2, 0, fake_p2v), -ENOMEM);
	assert_int_equal(pmm_init(&p, NULL, 0, 0, fake_p2v), -ENOMEM);
	assert_int_equal(pmm_init(&p, std_map, COUNT(std_map), MiB, NULL), -EINVAL);
	fake_window(32 * MiB, 0x1000, 0);
	assert_int_equal(pmm_init(&p, std_map, COUNT(std_map), MiB, fake_p2v), -EFAULT);
}

static void test_singles_exhaust(void **state)
{
	static uint8_t seen[0x1000];
	struct pmm p;
	struct pmm_stats start, s;
	struct snapshot snap;
	uint64_t got[0x1000], phys;
	size_t n = 0;

	memset(seen, 0, sizeof(seen));
	std_init(&p, 0);
	pmm_get_stats(&p, &start);
	take_snapshot(&p, &snap);
	while ((phys = pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP)) != PMM_NONE) {
		assert_int_equal(phys & 0xfff, 0);
		assert_true(phys < 16 * MiB);
		assert_int_equal(seen[phys >> 12]++, 0);
		assert_int_equal(pmm_owner_of(&p, phys), PMM_OWNER_HEAP);
		got[n++] = phys;
	}
	assert_int_equal(n, start.free_pages);
	assert_int_equal(seen[0], 0);
	pmm_get_stats(&p, &s);
	assert_int_equal(s.free_pages, 0);
	assert_int_equal(s.by_owner[PMM_OWNER_HEAP], n);
	check_recount(&p);
	/* Free from both ends towards the middle to move the hint around. */
	for (size_t i = 0; i < n; i++) {
		size_t k = i % 2 ? i / 2 : n - 1 - i / 2;

		assert_int_equal(pmm_free(&p, got[k], 1, PMM_OWNER_HEAP), 0);
	}
	check_snapshot(&p, &snap);
	/* With everything free again the first single page is the lowest. */
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP), 0x2000);
}

static void test_contiguous_aligned(void **state)
{
	const uint64_t want[] = { 0x200000, 0x400000, 0x600000, 0xa00000, 0xc00000, 0xe00000 };
	struct pmm p;

	std_init(&p, MiB);
	for (size_t i = 0; i < COUNT(want); i++) {
		uint64_t phys = pmm_alloc(&p, 512, 512, 0, PMM_OWNER_GUEST);

		assert_int_equal(phys, want[i]);
		for (uint64_t a = phys; a < phys + 2 * MiB; a += 0x1000)
			assert_int_equal(pmm_owner_of(&p, a), PMM_OWNER_GUEST);
	}
	assert_int_equal(pmm_alloc(&p, 512, 512, 0, PMM_OWNER_GUEST), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 3, 1, 0, PMM_OWNER_VMM), 0x101000);
	assert_int_equal(pmm_alloc(&p, 1, 4, 0, PMM_OWNER_VMM), 0x104000);
	assert_int_equal(pmm_alloc(&p, 16, 16, 0, PMM_OWNER_VMM), 0x110000);
	/* 0x810000-0x9fffff is the only run of 496 left. */
	assert_int_equal(pmm_alloc(&p, 496, 1, 0, PMM_OWNER_VMM), 0x810000);
	assert_int_equal(p.stats.by_owner[PMM_OWNER_GUEST], 6 * 512);
	check_recount(&p);
}

static void test_bad_args(void **state)
{
	const size_t bad_align[] = { 0, 3, 6, 12, 1000 };
	struct pmm p;
	struct snapshot snap;

	std_init(&p, MiB);
	take_snapshot(&p, &snap);
	for (size_t i = 0; i < COUNT(bad_align); i++)
		assert_int_equal(pmm_alloc(&p, 1, bad_align[i], 0, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, (size_t)1 << 63, 0, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 0, 1, 0, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, SIZE_MAX, 1, 0, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 0x800, 1, 0, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_FREE), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_META), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_COUNT), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_RESERVED), PMM_NONE);
	check_snapshot(&p, &snap);
}

static void test_max_phys(void **state)
{
	struct pmm p;
	uint64_t phys;
	size_t n = 0;

	std_init(&p, MiB);
	while ((phys = pmm_alloc(&p, 1, 1, 2 * MiB, PMM_OWNER_HEAP)) != PMM_NONE) {
		assert_true(phys + 0x1000 <= 2 * MiB);
		n++;
	}
	assert_int_equal(n, 0x100 - 1);
	/* A limit inside a frame excludes that frame. */
	assert_int_equal(pmm_alloc(&p, 1, 1, 2 * MiB + 0x800, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 2 * MiB + 0x1000, PMM_OWNER_HEAP), 2 * MiB);
	assert_int_equal(pmm_alloc(&p, 1, 1, MiB, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0x1000, PMM_OWNER_HEAP), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 512, 512, 5 * MiB, PMM_OWNER_GUEST), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 512, 512, 6 * MiB, PMM_OWNER_GUEST), 4 * MiB);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP), 2 * MiB + 0x1000);
	check_recount(&p);
}

/*
 * A machine with RAM above 4 GiB (QEMU q35 -m 6G in small: low RAM, the PCI
 * hole, RAM from 4 GiB): every usable frame is managed, guest RAM is taken
 * from above 4 GiB first and from below only when that is gone, and the
 * hypervisor's own pages stay low.
 */
static const struct boot_mem_region high_map[] = {
	R(0x0, 0x9f000, BOOT_MEM_USABLE),        R(0x100000, 0xf00000, BOOT_MEM_USABLE),
	R(0x1000000, 0x1000000, BOOT_MEM_RESERVED), R(0xb0000000, 0x10000000, BOOT_MEM_RESERVED),
	R(0xfee00000, 0x1000, BOOT_MEM_MMIO),     R(0x100000000, 0x800000, BOOT_MEM_USABLE),
};

static void test_guest_ram_above_4g(void **state)
{
	struct pmm p;
	struct pmm_stats st;
	uint64_t phys, hv;
	unsigned int high = 0, low = 0;

	fake_window(0, 16 * MiB, 0);
	assert_int_equal(pmm_init(&p, high_map, COUNT(high_map), MiB, fake_p2v), 0);
	pmm_get_stats(&p, &st);
	/* Every usable frame from 1 MiB up is in the allocator, the 8 MiB above 4 GiB too. */
	assert_int_equal(st.total_pages, 0xf00u + 0x800u);
	assert_int_equal(st.free_pages + st.by_owner[PMM_OWNER_META], st.total_pages);

	hv = pmm_alloc(&p, 1, 1, 0, PMM_OWNER_VMM);
	assert_true(hv != PMM_NONE && hv < PMM_HIGH_BASE);
	/* 2 MiB pieces: four above 4 GiB, in order, then the low ones. */
	while ((phys = pmm_alloc(&p, 512, 512, 0, PMM_OWNER_GUEST)) != PMM_NONE) {
		if (high < 4) {
			assert_int_equal(phys, PMM_HIGH_BASE + high * 2 * MiB);
			high++;
		} else {
			assert_true(phys < 16 * MiB);
			low++;
		}
	}
	assert_int_equal(high, 4);
	assert_true(low >= 5);
	/* A guest page with the high memory gone comes from below; a heap page stays low. */
	phys = pmm_alloc(&p, 1, 1, 0, PMM_OWNER_GUEST);
	assert_true(phys != PMM_NONE && phys < 16 * MiB);
	assert_int_equal(pmm_free(&p, PMM_HIGH_BASE + 2 * MiB, 512, PMM_OWNER_GUEST), 0);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_GUEST), PMM_HIGH_BASE + 2 * MiB);
	phys = pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP);
	assert_true(phys == PMM_NONE || phys < 16 * MiB);
	/* A max_phys below 4 GiB still holds for guest RAM. */
	assert_int_equal(pmm_free(&p, PMM_HIGH_BASE + 4 * MiB, 512, PMM_OWNER_GUEST), 0);
	assert_int_equal(pmm_alloc(&p, 1, 1, PMM_HIGH_BASE, PMM_OWNER_GUEST) >= PMM_HIGH_BASE, 0);
	check_recount(&p);
}

static void test_free_checks(void **state)
{
	struct pmm p;
	struct snapshot snap;
	uint64_t a, b;

	std_init(&p, MiB);
	a = pmm_alloc(&p, 4, 1, 0, PMM_OWNER_HEAP);
	b = pmm_alloc(&p, 4, 1, 0, PMM_OWNER_GUEST);
	assert_int_equal(a, 0x101000);
	assert_int_equal(b, 0x105000);
	take_snapshot(&p, &snap);
	assert_int_equal(pmm_free(&p, a, 8, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, a, 4, PMM_OWNER_GUEST), -EINVAL);
	assert_int_equal(pmm_free(&p, a + 0x2000, 4, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, a + 0x10, 1, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, a, 0, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, 0x5000, 1, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, 0x800000, 1, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, MiB, 1, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, MiB, 1, PMM_OWNER_META), -EINVAL);
	assert_int_equal(pmm_free(&p, 0xfff000, 2, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, a, SIZE_MAX, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, UINT64_MAX & ~0xfffull, 1, PMM_OWNER_HEAP), -EINVAL);
	check_snapshot(&p, &snap);
	assert_int_equal(pmm_free(&p, a, 4, PMM_OWNER_HEAP), 0);
	take_snapshot(&p, &snap);
	assert_int_equal(pmm_free(&p, a, 4, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_free(&p, a + 0x3000, 2, PMM_OWNER_GUEST), -EINVAL);
	check_snapshot(&p, &snap);
	/* Owners may return part of what they hold. */
	assert_int_equal(pmm_free(&p, b + 0x1000, 2, PMM_OWNER_GUEST), 0);
	assert_int_equal(pmm_owner_of(&p, b), PMM_OWNER_GUEST);
	assert_int_equal(pmm_owner_of(&p, b + 0x1000), PMM_FREE);
	check_recount(&p);
}

static void test_claim(void **state)
{
	struct pmm p;
	struct snapshot snap;

	std_init(&p, MiB);
	assert_int_equal(pmm_claim(&p, 0x300000, 16, PMM_OWNER_KERNEL), 0);
	for (uint64_t a = 0x300000; a < 0x310000; a += 0x1000)
		assert_int_equal(pmm_owner_of(&p, a), PMM_OWNER_KERNEL);
	assert_int_equal(p.stats.by_owner[PMM_OWNER_KERNEL], 16);
	take_snapshot(&p, &snap);
	assert_int_equal(pmm_claim(&p, 0x300000, 16, PMM_OWNER_KERNEL), -EBUSY);
	assert_int_equal(pmm_claim(&p, 0x2ff000, 2, PMM_OWNER_VMM), -EBUSY);
	assert_int_equal(pmm_claim(&p, MiB, 1, PMM_OWNER_VMM), -EBUSY);
	assert_int_equal(pmm_claim(&p, 0x7ff000, 2, PMM_OWNER_VMM), -EINVAL);
	assert_int_equal(pmm_claim(&p, 0x800000, 1, PMM_OWNER_VMM), -EINVAL);
	assert_int_equal(pmm_claim(&p, 0x5000, 1, PMM_OWNER_VMM), -EINVAL);
	assert_int_equal(pmm_claim(&p, 16 * MiB, 1, PMM_OWNER_VMM), -EINVAL);
	assert_int_equal(pmm_claim(&p, 0x400800, 1, PMM_OWNER_VMM), -EINVAL);
	assert_int_equal(pmm_claim(&p, 0x400000, 0, PMM_OWNER_VMM), -EINVAL);
	assert_int_equal(pmm_claim(&p, 0x400000, 1, PMM_OWNER_META), -EINVAL);
	check_snapshot(&p, &snap);
	/* Claimed frames are never handed out again. */
	assert_int_equal(pmm_alloc(&p, 512, 512, 0, PMM_OWNER_GUEST), 0x400000);
	assert_int_equal(pmm_free(&p, 0x300000, 16, PMM_OWNER_KERNEL), 0);
	assert_int_equal(pmm_alloc(&p, 256, 256, 0, PMM_OWNER_GUEST), 0x200000);
	check_recount(&p);
}

static void test_low_limit(void **state)
{
	struct pmm p;
	uint64_t phys;

	std_init(&p, 0x180800);
	assert_int_equal(p.stats.total_pages, 0x800 - 0x181 + 0x7f0);
	assert_int_equal(pmm_owner_of(&p, 0x180000), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0x181000), PMM_OWNER_META);
	while ((phys = pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP)) != PMM_NONE)
		assert_true(phys >= 0x182000);
	assert_int_equal(pmm_claim(&p, 0x180000, 1, PMM_OWNER_HEAP), -EINVAL);
	check_recount(&p);
}

static void test_page_zero(void **state)
{
	const struct boot_mem_region map[] = { R(0x0, 0x10000, BOOT_MEM_USABLE) };
	struct pmm p;
	uint64_t phys;
	size_t n = 0;

	fake_window(0, 0x10000, 0);
	assert_int_equal(pmm_init(&p, map, 1, 0, fake_p2v), 0);
	assert_int_equal(p.stats.total_pages, 15);
	assert_int_equal(pmm_owner_of(&p, 0), PMM_RESERVED);
	assert_int_equal(pmm_claim(&p, 0, 1, PMM_OWNER_HEAP), -EINVAL);
	assert_int_equal(pmm_alloc(&p, 8, 8, 0, PMM_OWNER_HEAP), 0x8000);
	assert_int_equal(pmm_alloc(&p, 4, 4, 0, PMM_OWNER_HEAP), 0x4000);
	assert_int_equal(pmm_alloc(&p, 4, 4, 0, PMM_OWNER_HEAP), PMM_NONE);
	while ((phys = pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP)) != PMM_NONE) {
		assert_true(phys != 0);
		n++;
	}
	assert_int_equal(n, 2);
	check_recount(&p);
}

/* A freed single page is the next one handed out, so low memory fills first. */
static void test_hint_reuse(void **state)
{
	struct pmm p;

	std_init(&p, MiB);
	for (uint64_t a = 0x101000; a < 0x105000; a += 0x1000)
		assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP), a);
	assert_int_equal(pmm_free(&p, 0x102000, 1, PMM_OWNER_HEAP), 0);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_STACK), 0x102000);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_STACK), 0x105000);
	/* Past the limit the search wraps to the start. */
	assert_int_equal(pmm_free(&p, 0x101000, 1, PMM_OWNER_HEAP), 0);
	assert_int_equal(pmm_alloc(&p, 1, 1, 0x102000, PMM_OWNER_STACK), 0x101000);
	check_recount(&p);
}

/* Half the pages are free, but no two of them touch. */
static void test_fragmentation(void **state)
{
	const struct boot_mem_region map[] = { R(0x100000, 0x11000, BOOT_MEM_USABLE) };
	struct pmm p;

	fake_window(0x100000, 0x1000, 0);
	assert_int_equal(pmm_init(&p, map, 1, 0, fake_p2v), 0);
	for (uint64_t a = 0x101000; a < 0x111000; a += 0x1000)
		assert_int_equal(pmm_alloc(&p, 1, 1, 0, PMM_OWNER_HEAP), a);
	for (uint64_t a = 0x101000; a < 0x111000; a += 0x2000)
		assert_int_equal(pmm_free(&p, a, 1, PMM_OWNER_HEAP), 0);
	assert_int_equal(p.stats.free_pages, 8);
	assert_int_equal(pmm_alloc(&p, 2, 1, 0, PMM_OWNER_VMM), PMM_NONE);
	assert_int_equal(pmm_free(&p, 0x108000, 1, PMM_OWNER_HEAP), 0);
	assert_int_equal(pmm_alloc(&p, 4, 1, 0, PMM_OWNER_VMM), PMM_NONE);
	assert_int_equal(pmm_alloc(&p, 2, 2, 0, PMM_OWNER_VMM), 0x108000);
	assert_int_equal(pmm_free(&p, 0x108000, 2, PMM_OWNER_VMM), 0);
	assert_int_equal(pmm_alloc(&p, 3, 1, 0, PMM_OWNER_VMM), 0x107000);
	check_recount(&p);
}

/* Normalised firmware map straight into the allocator. */
static void test_from_raw_map(void **state)
{
	struct boot_mem_region map[16] = {
		R(0x100000, 0x1fee0000, BOOT_MEM_USABLE), R(0x0, 0x9fc00, BOOT_MEM_USABLE),
		R(0xf0000, 0x10000, BOOT_MEM_RESERVED), R(0x9fc00, 0x400, BOOT_MEM_RESERVED),
		R(0x1ffe0000, 0x20000, BOOT_MEM_RESERVED),
	};
	struct pmm p;
	int n = memmap_normalize(map, 5, COUNT(map));

	assert_true(n > 0);
	n = memmap_set_type(map, (size_t)n, COUNT(map), 0x200000, 0x123456, BOOT_MEM_KERNEL);
	assert_true(n > 0);
	fake_window(0x100000, 0x20000, 0);
	assert_int_equal(pmm_init(&p, map, (size_t)n, MiB, fake_p2v), 0);
	/* Everything usable except the 0x9f frames below low_limit. */
	assert_int_equal(p.stats.total_pages,
			 memmap_bytes(map, (size_t)n, BOOT_MEM_USABLE) / 0x1000 - 0x9f);
	assert_int_equal(pmm_owner_of(&p, 0x200000), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0x323000), PMM_RESERVED);
	assert_int_equal(pmm_owner_of(&p, 0x324000), PMM_FREE);
	check_recount(&p);
}

struct live {
	uint64_t phys;
	size_t npages;
	enum pmm_owner owner;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static void churn_step(struct pmm *p, struct live *live, size_t *nlive)
{
	if (*nlive < 400 && rnd(10) < 6) {
		struct live l = { .npages = rnd(4) ? 1 + rnd(8) : 1 + rnd(300),
				  .owner = (enum pmm_owner)(PMM_OWNER_KERNEL + rnd(7)) };
		size_t align = (size_t)1 << rnd(rnd(4) ? 3 : 10);
		uint64_t max = rnd(4) ? 0 : MiB + rnd(15) * MiB + rnd(0x1000);

		l.phys = pmm_alloc(p, l.npages, align, max, l.owner);
		if (l.phys == PMM_NONE)
			return;
		assert_int_equal((l.phys >> 12) % align, 0);
		assert_true(!max || l.phys + l.npages * 0x1000 <= max);
		for (size_t i = 0; i < l.npages; i++)
			assert_int_equal(pmm_owner_of(p, l.phys + i * 0x1000), l.owner);
		live[(*nlive)++] = l;
	} else if (*nlive) {
		size_t k = rnd((uint32_t)*nlive);
		enum pmm_owner wrong = live[k].owner == PMM_OWNER_GUEST ? PMM_OWNER_HEAP : PMM_OWNER_GUEST;

		assert_int_equal(pmm_free(p, live[k].phys, live[k].npages, wrong), -EINVAL);
		assert_int_equal(pmm_free(p, live[k].phys, live[k].npages, live[k].owner), 0);
		live[k] = live[--(*nlive)];
	}
}

/* Random traffic, once with the owner array off word alignment. */
static void test_churn(void **state)
{
	static struct live live[400];

	for (size_t skew = 0; skew < 2; skew++) {
		struct pmm p;
		struct snapshot start;
		size_t nlive = 0;

		fake_window(0, 16 * MiB, skew * 3);
		assert_int_equal(pmm_init(&p, std_map, COUNT(std_map), MiB, fake_p2v), 0);
		take_snapshot(&p, &start);
		for (int step = 0; step < 20000; step++) {
			churn_step(&p, live, &nlive);
			check_invariant(&p);
			if (step % 64 == 0)
				check_recount(&p);
		}
		while (nlive) {
			nlive--;
			assert_int_equal(pmm_free(&p, live[nlive].phys, live[nlive].npages,
						  live[nlive].owner), 0);
		}
		check_snapshot(&p, &start);
	}
}

static void test_names(void **state)
{
	assert_string_equal(pmm_owner_name(PMM_FREE), "free");
	assert_string_equal(pmm_owner_name(PMM_OWNER_META), "meta");
	assert_string_equal(pmm_owner_name(PMM_OWNER_GUEST), "guest");
	assert_string_equal(pmm_owner_name(PMM_OWNER_PAGETABLE), "pagetable");
	assert_string_equal(pmm_owner_name(PMM_RESERVED), "reserved");
	assert_string_equal(pmm_owner_name(PMM_OWNER_COUNT), "unknown");
	for (int o = 0; o < PMM_OWNER_COUNT; o++)
		assert_non_null(pmm_owner_name((enum pmm_owner)o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_init_stats, release),
		cmocka_unit_test_teardown(test_init_low_zero, release),
		cmocka_unit_test_teardown(test_meta_pages, release),
		cmocka_unit_test_teardown(test_init_errors, release),
		cmocka_unit_test_teardown(test_singles_exhaust, release),
		cmocka_unit_test_teardown(test_contiguous_aligned, release),
		cmocka_unit_test_teardown(test_bad_args, release),
		cmocka_unit_test_teardown(test_max_phys, release),
		cmocka_unit_test_teardown(test_guest_ram_above_4g, release),
		cmocka_unit_test_teardown(test_free_checks, release),
		cmocka_unit_test_teardown(test_claim, release),
		cmocka_unit_test_teardown(test_low_limit, release),
		cmocka_unit_test_teardown(test_page_zero, release),
		cmocka_unit_test_teardown(test_hint_reuse, release),
		cmocka_unit_test_teardown(test_fragmentation, release),
		cmocka_unit_test_teardown(test_from_raw_map, release),
		cmocka_unit_test_teardown(test_churn, release),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
