/* SPDX-License-Identifier: MIT */
/* Host unit tests for kernel/memmap.c: fixed maps plus random maps checked against a byte model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kernel/errno.h"
#include "kernel/memmap.h"

#define U  BOOT_MEM_USABLE
#define RS BOOT_MEM_RESERVED
#define AR BOOT_MEM_ACPI_RECLAIM
#define AN BOOT_MEM_ACPI_NVS
#define KN BOOT_MEM_KERNEL
#define MO BOOT_MEM_MODULE
#define BD BOOT_MEM_BOOT_DATA
#define IO BOOT_MEM_MMIO

#define R(b, l, t) { .base = (b), .length = (l), .type = (t) }
#define COUNT(a)   (sizeof(a) / sizeof((a)[0]))
#define MAXMAP     64

/* Normalises in (copied into a cap-sized array) and compares with want. */
#define CHECK_NORM(in, cap, ...)                                                       \
	do {                                                                           \
		const struct boot_mem_region want_[] = { __VA_ARGS__ };                \
		struct boot_mem_region m_[MAXMAP];                                     \
		memcpy(m_, in, sizeof(in));                                            \
		int n_ = memmap_normalize(m_, COUNT(in), cap);                         \
		check_map(m_, n_, want_, COUNT(want_));                                \
	} while (0)

static void check_map(const struct boot_mem_region *got, int n,
		      const struct boot_mem_region *want, size_t want_n)
{
	assert_int_equal(n, (int)want_n);
	for (size_t i = 0; i < want_n; i++) {
		assert_int_equal(got[i].base, want[i].base);
		assert_int_equal(got[i].length, want[i].length);
		assert_int_equal(got[i].type, want[i].type);
		assert_int_equal(got[i].reserved, 0);
	}
}

/* Every normalised map: sorted, disjoint, non-empty, merged, usable page-aligned. */
static void check_normal(const struct boot_mem_region *m, int n)
{
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		assert_true(m[i].length > 0);
		assert_int_equal(m[i].reserved, 0);
		assert_true(m[i].type >= U && m[i].type < BOOT_MEM_TYPE_MAX);
		if (m[i].type == U)
			assert_true(((m[i].base | m[i].length) & 0xfff) == 0);
		if (i == 0)
			continue;
		assert_true(m[i - 1].base + m[i - 1].length <= m[i].base);
		if (m[i - 1].type == m[i].type)
			assert_true(m[i - 1].base + m[i - 1].length < m[i].base);
	}
}

static void test_unsorted(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x300000, 0x1000, RS), R(0x100000, 0x100000, U), R(0x0, 0x9f000, U),
		R(0xfee00000, 0x1000, IO), R(0x9f000, 0x1000, AN),
	};

	CHECK_NORM(in, COUNT(in), R(0x0, 0x9f000, U), R(0x9f000, 0x1000, AN),
		   R(0x100000, 0x100000, U), R(0x300000, 0x1000, RS), R(0xfee00000, 0x1000, IO));
}

static void test_overlap_contained(void **state)
{
	const struct boot_mem_region inside[] = { R(0x0, 0x10000, U), R(0x4000, 0x1000, RS) };
	const struct boot_mem_region swallowed[] = { R(0x0, 0x10000, RS), R(0x4000, 0x1000, U) };
	const struct boot_mem_region nested[] = {
		R(0x0, 0x10000, U), R(0x2000, 0x8000, RS), R(0x4000, 0x1000, AN),
	};

	CHECK_NORM(inside, 3, R(0x0, 0x4000, U), R(0x4000, 0x1000, RS), R(0x5000, 0xb000, U));
	CHECK_NORM(swallowed, 2, R(0x0, 0x10000, RS));
	CHECK_NORM(nested, 5, R(0x0, 0x2000, U), R(0x2000, 0x2000, RS), R(0x4000, 0x1000, AN),
		   R(0x5000, 0x5000, RS), R(0xa000, 0x6000, U));
}

static void test_overlap_partial(void **state)
{
	const struct boot_mem_region right[] = { R(0x1000, 0x4000, U), R(0x4000, 0x4000, RS) };
	const struct boot_mem_region left[] = { R(0x1000, 0x4000, U), R(0x0, 0x2000, RS) };
	const struct boot_mem_region both[] = { R(0x0, 0x3000, AR), R(0x2000, 0x3000, AN) };
	const struct boot_mem_region lower_wins[] = { R(0x0, 0x3000, AN), R(0x2000, 0x3000, AR) };

	CHECK_NORM(right, 2, R(0x1000, 0x3000, U), R(0x4000, 0x4000, RS));
	CHECK_NORM(left, 2, R(0x0, 0x2000, RS), R(0x2000, 0x3000, U));
	CHECK_NORM(both, 2, R(0x0, 0x2000, AR), R(0x2000, 0x3000, AN));
	CHECK_NORM(lower_wins, 2, R(0x0, 0x3000, AN), R(0x3000, 0x2000, AR));
}

static void test_overlap_identical(void **state)
{
	const struct boot_mem_region diff[] = { R(0x1000, 0x1000, U), R(0x1000, 0x1000, MO) };
	const struct boot_mem_region same[] = { R(0x1000, 0x1000, AR), R(0x1000, 0x1000, AR) };
	const struct boot_mem_region three[] = {
		R(0x1000, 0x1000, IO), R(0x1000, 0x1000, RS), R(0x1000, 0x1000, U),
	};

	CHECK_NORM(diff, 2, R(0x1000, 0x1000, MO));
	CHECK_NORM(same, 2, R(0x1000, 0x1000, AR));
	CHECK_NORM(three, 3, R(0x1000, 0x1000, IO));
}

static void test_adjacent_merge(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0x1000, U), R(0x1000, 0x1000, U), R(0x2000, 0x1000, U),
		R(0x3000, 0x500, RS), R(0x3500, 0xb00, RS), R(0x4000, 0x1000, AR),
		R(0x6000, 0x1000, AR), R(0x5000, 0x1000, AR), R(0x8000, 0x1000, AR),
	};

	CHECK_NORM(in, COUNT(in), R(0x0, 0x3000, U), R(0x3000, 0x1000, RS),
		   R(0x4000, 0x3000, AR), R(0x8000, 0x1000, AR));
}

static void test_zero_length(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x5000, 0, RS), R(0x1000, 0x1000, U), R(0x1800, 0, IO), R(0, 0, U),
	};
	const struct boot_mem_region empty[] = { R(0x5000, 0, RS), R(0, 0, U) };
	struct boot_mem_region m[2];

	CHECK_NORM(in, COUNT(in), R(0x1000, 0x1000, U));
	memcpy(m, empty, sizeof(m));
	assert_int_equal(memmap_normalize(m, 2, 2), 0);
	assert_int_equal(memmap_normalize(NULL, 0, 0), 0);
}

static void test_unaligned_usable(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x100, 0x2000, U), R(0x5100, 0x800, U), R(0x8123, 0x2000, RS),
		R(0x10000, 0x1fff, U), R(0x20fff, 0x1002, U),
	};

	CHECK_NORM(in, COUNT(in), R(0x1000, 0x1000, U), R(0x8123, 0x2000, RS),
		   R(0x10000, 0x1000, U), R(0x21000, 0x1000, U));
}

/* A usable gap between two reserved neighbours, once trimmed, leaves a hole. */
static void test_trim_leaves_hole(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0x1800, RS), R(0x1800, 0x1000, U), R(0x2800, 0x800, RS),
	};

	CHECK_NORM(in, COUNT(in), R(0x0, 0x1800, RS), R(0x2800, 0x800, RS));
}

static void test_overflow_clip(void **state)
{
	const struct boot_mem_region in[] = {
		R(0xffffffffffff0000ull, 0x20000, RS), R(0xfffffffffff00000ull, UINT64_MAX, U),
	};

	CHECK_NORM(in, 2, R(0xfffffffffff00000ull, 0xf0000, U),
		   R(0xffffffffffff0000ull, 0xffff, RS));
	assert_int_equal(memmap_ram_end(in, 1), 0);
	assert_int_equal(memmap_ram_end(&in[1], 1), UINT64_MAX);
}

static void test_unknown_types(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0x2000, 0), R(0x2000, 0x1000, 42), R(0x1000, 0x4000, U),
	};

	CHECK_NORM(in, COUNT(in), R(0x0, 0x3000, RS), R(0x3000, 0x2000, U));
}

static void test_too_small(void **state)
{
	const struct boot_mem_region in[] = { R(0x0, 0x10000, U), R(0x4000, 0x1000, RS) };
	struct boot_mem_region m[3];

	memcpy(m, in, sizeof(in));
	assert_int_equal(memmap_normalize(m, 2, 2), -E2BIG);
	assert_memory_equal(m, in, sizeof(in));
	assert_int_equal(memmap_normalize(m, 3, 2), -EINVAL);
	assert_int_equal(memmap_normalize(NULL, 1, 4), -EINVAL);
	assert_int_equal(memmap_normalize(m, 2, 3), 3);
}

/* QEMU/OVMF-like: the loader has already turned boot-services memory into USABLE. */
static void test_ovmf_map(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0xa0000, U), R(0x100000, 0x700000, U), R(0x800000, 0x8000, AN),
		R(0x808000, 0x3000, U), R(0x80b000, 0x1000, AN), R(0x80c000, 0x5000, U),
		R(0x811000, 0xef000, AN), R(0x900000, 0x1e6f2000, U), R(0x1eff2000, 0x20000, U),
		R(0x1f012000, 0x2cc000, U), R(0x1f2de000, 0x1000, BD), R(0x1f2df000, 0x5c000, U),
		R(0x1f33b000, 0x100000, RS), R(0x1f43b000, 0x100000, RS), R(0x1f53b000, 0x1a000, AR),
		R(0x1f555000, 0x7d000, AN), R(0x1f5d2000, 0x4000, U), R(0x1f5d6000, 0x11000, U),
		R(0x1f5e7000, 0x2000, RS), R(0x1f5e9000, 0x1000, RS), R(0x1f5ea000, 0xa16000, U),
		R(0xffc00000, 0x400000, IO), R(0xe0000000, 0x10000000, IO),
	};
	struct boot_mem_region m[MAXMAP];
	int n;

	CHECK_NORM(in, COUNT(in), R(0x0, 0xa0000, U), R(0x100000, 0x700000, U),
		   R(0x800000, 0x8000, AN), R(0x808000, 0x3000, U), R(0x80b000, 0x1000, AN),
		   R(0x80c000, 0x5000, U), R(0x811000, 0xef000, AN), R(0x900000, 0x1e9de000, U),
		   R(0x1f2de000, 0x1000, BD), R(0x1f2df000, 0x5c000, U),
		   R(0x1f33b000, 0x200000, RS), R(0x1f53b000, 0x1a000, AR),
		   R(0x1f555000, 0x7d000, AN), R(0x1f5d2000, 0x15000, U),
		   R(0x1f5e7000, 0x3000, RS), R(0x1f5ea000, 0xa16000, U),
		   R(0xe0000000, 0x10000000, IO), R(0xffc00000, 0x400000, IO));
	memcpy(m, in, sizeof(in));
	n = memmap_normalize(m, COUNT(in), MAXMAP);
	assert_int_equal(memmap_bytes(m, n, AN), 0x8000 + 0x1000 + 0xef000 + 0x7d000);
	assert_int_equal(memmap_bytes(m, n, U), memmap_bytes(in, COUNT(in), U));
	assert_int_equal(memmap_ram_end(m, n), 0x20000000);
}

/* SeaBIOS e820: base RAM up to the EBDA, the 640K-1M hole, a BIOS area. */
static void test_e820_map(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0x9fc00, U), R(0x9fc00, 0x400, RS), R(0xf0000, 0x10000, RS),
		R(0x100000, 0x1fee0000, U), R(0x1ffe0000, 0x20000, RS),
		R(0xfeffc000, 0x4000, RS), R(0xfffc0000, 0x40000, RS),
		R(0x100000000ull, 0x40000000, U),
	};
	struct boot_mem_region m[MAXMAP];
	int n;

	CHECK_NORM(in, COUNT(in), R(0x0, 0x9f000, U), R(0x9fc00, 0x400, RS),
		   R(0xf0000, 0x10000, RS), R(0x100000, 0x1fee0000, U),
		   R(0x1ffe0000, 0x20000, RS), R(0xfeffc000, 0x4000, RS),
		   R(0xfffc0000, 0x40000, RS), R(0x100000000ull, 0x40000000, U));
	memcpy(m, in, sizeof(in));
	n = memmap_normalize(m, COUNT(in), COUNT(in));
	assert_int_equal(memmap_bytes(m, n, U), 0x9f000 + 0x1fee0000 + 0x40000000ull);
	assert_int_equal(memmap_ram_end(m, n), 0x140000000ull);
}

static void test_set_type_split(void **state)
{
	struct boot_mem_region m[3] = { R(0x100000, 0xff00000, U) };
	const struct boot_mem_region want[] = {
		R(0x100000, 0x100000, U), R(0x200000, 0x123456, KN), R(0x324000, 0xfcdc000, U),
	};

	assert_int_equal(memmap_set_type(m, 1, 3, 0x200000, 0x123456, KN), 3);
	check_map(m, 3, want, 3);
	/* Marking the same range again needs no room. */
	assert_int_equal(memmap_set_type(m, 3, 3, 0x200000, 0x123456, KN), 3);
	check_map(m, 3, want, 3);
}

static void test_set_type_cases(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0x4000, U), R(0x4000, 0x2000, RS), R(0x6000, 0x4000, U),
	};
	const struct boot_mem_region span_want[] = {
		R(0x0, 0x3000, U), R(0x3000, 0x5000, MO), R(0x8000, 0x2000, U),
	};
	const struct boot_mem_region free_want[] = { R(0x0, 0xa000, U) };
	const struct boot_mem_region hole_want[] = {
		R(0x0, 0x4000, U), R(0x4000, 0x2000, RS), R(0x6000, 0x4000, U),
		R(0x20000, 0x1000, BD),
	};
	struct boot_mem_region m[MAXMAP];

	memcpy(m, in, sizeof(in));
	check_map(m, memmap_set_type(m, 3, MAXMAP, 0x3000, 0x5000, MO), span_want, 3);
	/* Forced: USABLE over a RESERVED region, which normalising alone never does. */
	memcpy(m, in, sizeof(in));
	check_map(m, memmap_set_type(m, 3, MAXMAP, 0x4000, 0x2000, U), free_want, 1);
	memcpy(m, in, sizeof(in));
	check_map(m, memmap_set_type(m, 3, MAXMAP, 0x20000, 0x1000, BD), hole_want, 4);
	assert_int_equal(memmap_set_type(m, 3, MAXMAP, 0x0, 0x1000, 0), -EINVAL);
	assert_int_equal(memmap_set_type(m, 3, MAXMAP, 0x0, 0x1000, BOOT_MEM_TYPE_MAX), -EINVAL);
	assert_int_equal(memmap_set_type(m, 4, 3, 0x0, 0x1000, KN), -EINVAL);
}

static void test_set_type_full(void **state)
{
	const struct boot_mem_region in[] = { R(0x0, 0x10000, U), R(0x10000, 0x0, RS) };
	const struct boot_mem_region full[] = { R(0x0, 0x8000, U), R(0x4000, 0x8000, U) };
	const struct boot_mem_region want[] = { R(0x0, 0x4000, U), R(0x4000, 0x1000, KN),
						R(0x5000, 0xb000, U) };
	const struct boot_mem_region noop_want[] = { R(0x0, 0xc000, U) };
	struct boot_mem_region m[3];

	memcpy(m, in, sizeof(in));
	assert_int_equal(memmap_set_type(m, 2, 2, 0x4000, 0x1000, KN), -E2BIG);
	assert_memory_equal(m, in, sizeof(in));
	/* An empty entry counts as free room. */
	m[2] = (struct boot_mem_region)R(0x1000, 0x1000, U);
	assert_int_equal(memmap_set_type(m, 3, 3, 0x4000, 0x1000, KN), 3);
	check_map(m, 3, want, 3);
	/* A full array is refused even when the result would fit ... */
	memcpy(m, full, sizeof(full));
	assert_int_equal(memmap_set_type(m, 2, 2, 0x0, 0x4000, KN), -E2BIG);
	assert_memory_equal(m, full, sizeof(full));
	/* ... unless the mark changes nothing. */
	check_map(m, memmap_set_type(m, 2, 2, 0x2000, 0x8000, U), noop_want, 1);
}

static void test_names(void **state)
{
	static const char *const want[BOOT_MEM_TYPE_MAX + 1] = {
		"unknown", "usable", "reserved", "acpi-reclaim", "acpi-nvs", "unusable",
		"kernel", "module", "boot-data", "mmio", "persistent", "unknown",
	};

	for (uint32_t t = 0; t <= BOOT_MEM_TYPE_MAX; t++)
		assert_string_equal(memmap_type_name(t), want[t]);
	assert_string_equal(memmap_type_name(UINT32_MAX), "unknown");
}

static void test_ram_end_types(void **state)
{
	const struct boot_mem_region in[] = {
		R(0x0, 0x1000, U), R(0x5000, 0x1000, BOOT_MEM_UNUSABLE), R(0x9000, 0x1000, RS),
		R(0xa000, 0x1000, IO), R(0xb000, 0x1000, 77),
	};

	assert_int_equal(memmap_ram_end(in, COUNT(in)), 0x6000);
	assert_int_equal(memmap_bytes(in, COUNT(in), RS), 0x1000);
	assert_int_equal(memmap_ram_end(in, 0), 0);
}

/* --- Random maps against a model with one type per 1 KiB unit --------------- */

#define UNIT    0x400ull
#define NUNITS  256
#define NRAND   24

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static unsigned int model_rank(uint32_t type)
{
	return type == U ? 0 : type;
}

static void model_paint(uint32_t *units, const struct boot_mem_region *r, int force)
{
	uint32_t type = r->type >= U && r->type < BOOT_MEM_TYPE_MAX ? r->type : RS;

	for (uint64_t u = r->base / UNIT; u < (r->base + r->length) / UNIT; u++)
		if (force || !units[u] || model_rank(type) > model_rank(units[u]))
			units[u] = type;
}

/* Runs of one type, usable ones trimmed to pages; returns entries, *runs before trim. */
static size_t model_expect(const uint32_t *units, struct boot_mem_region *out, size_t *runs)
{
	size_t n = 0;

	*runs = 0;
	for (size_t u = 0; u < NUNITS;) {
		size_t v = u;
		uint64_t base, end;

		while (v < NUNITS && units[v] == units[u])
			v++;
		base = u * UNIT;
		end = v * UNIT;
		if (units[u]) {
			(*runs)++;
			if (units[u] == U) {
				base = (base + 0xfff) & ~0xfffull;
				end &= ~0xfffull;
			}
			if (end > base)
				out[n++] = (struct boot_mem_region)R(base, end - base, units[u]);
		}
		u = v;
	}
	return n;
}

static void random_map(struct boot_mem_region *m, size_t n)
{
	static const uint32_t types[] = { U, U, U, RS, AR, AN, KN, MO, IO, 0, 99 };

	for (size_t i = 0; i < n; i++) {
		uint64_t b = rnd(NUNITS), l = rnd(48);

		if (b + l > NUNITS)
			l = NUNITS - b;
		m[i] = (struct boot_mem_region)R(b * UNIT, l * UNIT, types[rnd(COUNT(types))]);
	}
}

static void test_random_normalize(void **state)
{
	for (int iter = 0; iter < 3000; iter++) {
		struct boot_mem_region in[NRAND], m[MAXMAP], want[MAXMAP];
		uint32_t units[NUNITS] = { 0 };
		size_t n = 1 + rnd(NRAND), runs, want_n;
		int got;

		random_map(in, n);
		for (size_t i = 0; i < n; i++)
			model_paint(units, &in[i], 0);
		want_n = model_expect(units, want, &runs);
		memcpy(m, in, n * sizeof(in[0]));
		if (runs > n) {
			assert_int_equal(memmap_normalize(m, n, runs - 1), -E2BIG);
			assert_memory_equal(m, in, n * sizeof(in[0]));
		}
		got = memmap_normalize(m, n, runs > n ? runs : n);
		check_normal(m, got);
		check_map(m, got, want, want_n);
	}
}

static void test_random_set_type(void **state)
{
	for (int iter = 0; iter < 3000; iter++) {
		struct boot_mem_region m[MAXMAP], want[MAXMAP];
		uint32_t units[NUNITS] = { 0 };
		struct boot_mem_region mark;
		size_t runs, want_n;
		int n = 1 + (int)rnd(NRAND);

		random_map(m, (size_t)n);
		n = memmap_normalize(m, (size_t)n, MAXMAP);
		for (int i = 0; i < n; i++)
			model_paint(units, &m[i], 1);
		random_map(&mark, 1);
		mark.type = 1 + rnd(BOOT_MEM_TYPE_MAX - 1);
		model_paint(units, &mark, 1);
		want_n = model_expect(units, want, &runs);
		n = memmap_set_type(m, (size_t)n, MAXMAP, mark.base, mark.length, mark.type);
		check_normal(m, n);
		check_map(m, n, want, want_n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_overlap_contained),
		cmocka_unit_test(test_overlap_partial),
		cmocka_unit_test(test_overlap_identical),
		cmocka_unit_test(test_adjacent_merge),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_unaligned_usable),
		cmocka_unit_test(test_trim_leaves_hole),
		cmocka_unit_test(test_overflow_clip),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_ovmf_map),
		cmocka_unit_test(test_e820_map),
		cmocka_unit_test(test_set_type_split),
		cmocka_unit_test(test_set_type_cases),
		cmocka_unit_test(test_set_type_full),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ram_end_types),
		cmocka_unit_test(test_random_normalize),
		cmocka_unit_test(test_random_set_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
