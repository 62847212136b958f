/* SPDX-License-Identifier: MIT */
/* Range checks behind every hypercall buffer (vmm/extent.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/extent.h"

#define MIB (1ull << 20)
#define WINDOW 0xc0000000ull

/* RAM [0, 4M) in two back-to-back extents, a read-only module page at 3 GiB. */
static const struct mem_extent ext[] = {
	{ 0, 0x10000000, 2 * MIB, 0 },
	{ 2 * MIB, 0x20000000, 2 * MIB, 0 },
	{ WINDOW, 0x30000000, 0x1000, EXT_RO | EXT_BORROWED },
};
#define N ((uint32_t)(sizeof(ext) / sizeof(ext[0])))

static void test_find(void **state)
{
	assert_ptr_equal(extent_find(ext, N, 0), &ext[0]);
	assert_ptr_equal(extent_find(ext, N, 2 * MIB - 1), &ext[0]);
	assert_ptr_equal(extent_find(ext, N, 2 * MIB), &ext[1]);
	assert_ptr_equal(extent_find(ext, N, WINDOW + 0xfff), &ext[2]);
	assert_null(extent_find(ext, N, 4 * MIB));
	assert_null(extent_find(ext, N, WINDOW + 0x1000));
	assert_null(extent_find(ext, N, ~0ull));
	assert_null(extent_find(ext, 0, 0));
}

static void test_ram_ranges(void **state)
{
	assert_true(extent_range_ok(ext, N, 0, 4 * MIB, true));
	assert_true(extent_range_ok(ext, N, 2 * MIB - 8, 16, true));   /* across two extents */
	assert_true(extent_range_ok(ext, N, 4 * MIB - 80, 80, true));  /* ends at the last byte */
	assert_false(extent_range_ok(ext, N, 4 * MIB - 8, 80, true));  /* crosses the end */
	assert_false(extent_range_ok(ext, N, 4 * MIB - 8, 80, false));
	assert_false(extent_range_ok(ext, N, 4 * MIB, 1, false));
	assert_false(extent_range_ok(ext, N, 0, 4 * MIB + 1, false));
}

static void test_wrap_and_absurd(void **state)
{
	assert_false(extent_range_ok(ext, N, ~0ull, 2, false));
	assert_false(extent_range_ok(ext, N, 16, ~0ull, false));        /* wraps to inside RAM */
	assert_false(extent_range_ok(ext, N, 0, 1ull << 40, false));
	assert_false(extent_range_ok(ext, N, 1ull << 48, 8, false));
	/* An empty range asks for nothing. */
	assert_true(extent_range_ok(ext, N, 1ull << 48, 0, true));
}

static void test_read_only_window(void **state)
{
	assert_true(extent_range_ok(ext, N, WINDOW, 0x1000, false));
	assert_false(extent_range_ok(ext, N, WINDOW, 8, true));
	assert_false(extent_range_ok(ext, N, WINDOW + 0xff8, 16, false)); /* past the page */
	/* The gap between RAM and the window is never inside. */
	assert_false(extent_range_ok(ext, N, 4 * MIB - 8, WINDOW - 4 * MIB + 16, false));
}

static void test_append(void **state)
{
	struct mem_extent e[3];
	uint32_t n = 0;

	assert_int_equal(extent_append(e, &n, 3, 0, 0x100000, 0x1000, 0), 0);
	/* Continues in both spaces with the same flags: merged. */
	assert_int_equal(extent_append(e, &n, 3, 0x1000, 0x101000, 0x1000, 0), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].size, 0x2000);
	/* Continues the GPA but not the host address: a new extent. */
	assert_int_equal(extent_append(e, &n, 3, 0x2000, 0x500000, 0x1000, 0), 0);
	assert_int_equal(n, 2);
	/* Overlapping or going backwards is refused, as are empty and wrapping ranges. */
	assert_int_equal(extent_append(e, &n, 3, 0x2fff, 0x900000, 0x1000, 0), -EINVAL);
	assert_int_equal(extent_append(e, &n, 3, 0, 0x900000, 0x1000, 0), -EINVAL);
	assert_int_equal(extent_append(e, &n, 3, 0x10000, 0x900000, 0, 0), -EINVAL);
	assert_int_equal(extent_append(e, &n, 3, ~0ull - 0xfff, 0x900000, 0x2000, 0), -EINVAL);
	/* Same continuation but other flags: a new extent. */
	assert_int_equal(extent_append(e, &n, 3, 0x3000, 0x501000, 0x1000, EXT_RO), 0);
	assert_int_equal(n, 3);
	/* Full: a new extent does not fit, a merge still does. */
	assert_int_equal(extent_append(e, &n, 3, 0x8000, 0x800000, 0x1000, 0), -ENOSPC);
	assert_int_equal(extent_append(e, &n, 3, 0x4000, 0x502000, 0x1000, EXT_RO), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[2].size, 0x2000);
	/* Undo: a merged piece shrinks its extent, a whole one drops. */
	extent_unappend(e, &n, 0x1000);
	assert_int_equal(n, 3);
	assert_int_equal(e[2].size, 0x1000);
	extent_unappend(e, &n, 0x1000);
	assert_int_equal(n, 2);
	assert_null(extent_find(e, n, 0x3000));
	assert_ptr_equal(extent_find(e, n, 0x2000), &e[1]);
}

/* Many extents (a fragmented VM): every lookup finds its own, gaps find none. */
static void test_find_many(void **state)
{
	static struct mem_extent e[4096];
	uint32_t n = 0;

	for (uint32_t i = 0; i < 4096; i++)
		assert_int_equal(extent_append(e, &n, 4096, (uint64_t)i * 0x3000,
					       0x100000000ull + (uint64_t)i * 0x5000, 0x2000, 0), 0);
	assert_int_equal(n, 4096);
	for (uint32_t i = 0; i < 4096; i++) {
		assert_ptr_equal(extent_find(e, n, (uint64_t)i * 0x3000), &e[i]);
		assert_ptr_equal(extent_find(e, n, (uint64_t)i * 0x3000 + 0x1fff), &e[i]);
		assert_null(extent_find(e, n, (uint64_t)i * 0x3000 + 0x2000));
	}
	assert_true(extent_range_ok(e, n, 0x3000 * 100, 0x2000, true));
	assert_false(extent_range_ok(e, n, 0x3000 * 100, 0x2001, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_ram_ranges),
		cmocka_unit_test(test_wrap_and_absurd),
		cmocka_unit_test(test_read_only_window),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_find_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
