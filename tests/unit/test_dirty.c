/* SPDX-License-Identifier: MIT */
/* Host unit tests for vmm/dirty.c: mechanism choice, marks, PML drain, fetch-and-clear. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "vmm/dirty.h"
#include "kernel/errno.h"

/*
 * Capability MSR values as the SDM lays them out: IA32_VMX_PROCBASED_CTLS2
 * allowed-1 bits in 63:32 (A.3.3) with "enable EPT" = bit 1 and "enable PML"
 * = bit 17 of the controls (table 25-7); IA32_VMX_EPT_VPID_CAP bit 21 = EPT
 * A/D flags (A.10).
 */
#define CTLS2_EPT (1ull << 33)
#define CTLS2_PML (1ull << 49)
#define CAP_AD    (1ull << 21)
#define CAP_BASE  ((1ull << 6) | (1ull << 14) | (1ull << 16) | (1ull << 20)) /* PWL4, WB, 2M, INVEPT */

#define NPAGES 1000 /* not a multiple of 64 */

static uint64_t bits[DIRTY_BITMAP_WORDS(NPAGES)];
static struct dirty_log log_;

static int setup(void **state)
{
	memset(bits, 0xa5, sizeof(bits)); /* init must zero it */
	assert_int_equal(dirty_init(&log_, NPAGES, bits, DIRTY_BITMAP_WORDS(NPAGES), DIRTY_WRPROT), 0);
	return 0;
}

static bool bit_at(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static void test_choose(void **state)
{
	static const struct {
		uint64_t ctls2, cap;
		int want;
	} cases[] = {
		{ CTLS2_EPT | CTLS2_PML, CAP_BASE | CAP_AD, DIRTY_PML },
		{ CTLS2_EPT | CTLS2_PML, CAP_BASE, DIRTY_WRPROT },  /* PML logs D updates: needs A/D */
		{ CTLS2_EPT, CAP_BASE | CAP_AD, DIRTY_EPT_AD },
		{ CTLS2_EPT, CAP_BASE, DIRTY_WRPROT },
		{ CTLS2_EPT, 0, DIRTY_WRPROT },
		{ 0, CAP_BASE | CAP_AD, DIRTY_NONE },               /* no EPT at all */
		{ CTLS2_PML, CAP_AD, DIRTY_NONE },
		/* Bits 31:0 are the allowed-0 settings: a 1 there is no permission. */
		{ (1ull << 1) | (1ull << 17), CAP_AD, DIRTY_NONE },
		{ CTLS2_EPT | (1ull << 17), CAP_AD, DIRTY_EPT_AD },
		{ ~0ull, ~0ull, DIRTY_PML },
		{ ~0ull & ~CTLS2_PML, ~0ull, DIRTY_EPT_AD },
		{ ~0ull, ~CAP_AD, DIRTY_WRPROT },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(dirty_choose(cases[i].ctls2, cases[i].cap, DIRTY_NONE), cases[i].want);
}

/* A limit forces a lower mechanism; one the CPU lacks falls back to the next it has. */
static void test_choose_limit(void **state)
{
	const uint64_t all = CTLS2_EPT | CTLS2_PML, ad = CAP_BASE | CAP_AD;

	assert_int_equal(dirty_choose(all, ad, DIRTY_PML), DIRTY_PML);
	assert_int_equal(dirty_choose(all, ad, DIRTY_EPT_AD), DIRTY_EPT_AD);
	assert_int_equal(dirty_choose(all, ad, DIRTY_WRPROT), DIRTY_WRPROT);
	assert_int_equal(dirty_choose(CTLS2_EPT, ad, DIRTY_PML), DIRTY_EPT_AD);
	assert_int_equal(dirty_choose(CTLS2_EPT, CAP_BASE, DIRTY_PML), DIRTY_WRPROT);
	assert_int_equal(dirty_choose(all, CAP_BASE, DIRTY_EPT_AD), DIRTY_WRPROT);
	assert_int_equal(dirty_choose(0, ad, DIRTY_WRPROT), DIRTY_NONE);
	assert_int_equal(dirty_choose(all, ad, 4), -EINVAL);
	assert_int_equal(dirty_choose(all, ad, -1), -EINVAL);
}

static void test_names(void **state)
{
	assert_string_equal(dirty_mech_name(DIRTY_NONE), "none");
	assert_string_equal(dirty_mech_name(DIRTY_PML), "pml");
	assert_string_equal(dirty_mech_name(DIRTY_EPT_AD), "ept-ad");
	assert_string_equal(dirty_mech_name(DIRTY_WRPROT), "write-protect");
	assert_string_equal(dirty_mech_name(4), "?");
	assert_string_equal(dirty_mech_name(-1), "?");
	assert_int_equal(dirty_mech_parse("pml"), DIRTY_PML);
	assert_int_equal(dirty_mech_parse("ept-ad"), DIRTY_EPT_AD);
	assert_int_equal(dirty_mech_parse("write-protect"), DIRTY_WRPROT);
	assert_int_equal(dirty_mech_parse("none"), DIRTY_NONE);
	assert_int_equal(dirty_mech_parse("PML"), -EINVAL);
	assert_int_equal(dirty_mech_parse(""), -EINVAL);
}

static void test_init(void **state)
{
	struct dirty_log d;
	uint64_t w[2] = { ~0ull, ~0ull };

	for (unsigned int i = 0; i < DIRTY_BITMAP_WORDS(NPAGES); i++)
		assert_int_equal(bits[i], 0);
	assert_int_equal(log_.npages, NPAGES);
	assert_int_equal(log_.mech, DIRTY_WRPROT);
	assert_int_equal(dirty_count(&log_), 0);

	assert_int_equal(dirty_init(&d, 129, w, 2, DIRTY_PML), -EINVAL); /* needs 3 words */
	assert_int_equal(dirty_init(&d, 128, w, 2, 7), -EINVAL);
	assert_int_equal(dirty_init(&d, 1, NULL, 1, DIRTY_PML), -EINVAL);
	assert_int_equal(dirty_init(&d, (1ull << 36) + 1, w, ~0ull, DIRTY_PML), -EINVAL);
	assert_int_equal(w[0], ~0ull);
	assert_int_equal(dirty_init(&d, 65, w, 2, DIRTY_EPT_AD), 0);
	assert_int_equal(w[0] | w[1], 0);
	assert_int_equal(dirty_init(&d, 0, NULL, 0, DIRTY_NONE), 0);
	dirty_mark(&d, 0);
	assert_int_equal(d.ignored, 1);
	assert_int_equal(dirty_fetch_clear(&d, 0, 10, w), 0);
}

static void test_mark(void **state)
{
	dirty_mark(&log_, 0);
	dirty_mark(&log_, 0xfff);           /* same page: one bit */
	dirty_mark(&log_, 63 * 4096 + 12);
	dirty_mark(&log_, 64 * 4096);
	dirty_mark(&log_, (NPAGES - 1) * 4096ull + 0xfff);
	dirty_mark(&log_, NPAGES * 4096ull);  /* first page past the log */
	dirty_mark(&log_, ~0ull);
	assert_int_equal(bits[0], 1ull | (1ull << 63));
	assert_int_equal(bits[1], 1);
	assert_int_equal(bits[(NPAGES - 1) / 64], 1ull << ((NPAGES - 1) % 64));
	assert_int_equal(dirty_count(&log_), 4);
	assert_int_equal(log_.ignored, 2);
}

/* Pages 3..72 (two output words), with marks inside, at both ends and just outside. */
static void test_fetch_unaligned(void **state)
{
	static const uint64_t marks[] = { 2, 3, 4, 66, 67, 72, 73, 200 };
	uint64_t out[4] = { ~0ull, ~0ull, ~0ull, ~0ull };

	for (unsigned int i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		dirty_mark(&log_, marks[i] * 4096);
	assert_int_equal(dirty_fetch_clear(&log_, 3, 70, out), 5);
	/* bit 0 = page 3: pages 3, 4, 66 in word 0 (bits 0, 1, 63); 67, 72 in word 1 (bits 0, 5). */
	assert_int_equal(out[0], 1ull | 2ull | (1ull << 63));
	assert_int_equal(out[1], 1ull | (1ull << 5));
	assert_int_equal(out[2], ~0ull); /* only ceil(70 / 64) words written */
	/* Outside the range nothing was cleared. */
	assert_int_equal(dirty_count(&log_), 3);
	assert_true(bit_at(bits, 2) && bit_at(bits, 73) && bit_at(bits, 200));
	assert_int_equal(dirty_fetch_clear(&log_, 3, 70, out), 0);
	assert_int_equal(out[0] | out[1], 0);

	/* A word-aligned whole-word fetch. */
	assert_int_equal(dirty_fetch_clear(&log_, 192, 64, out), 1);
	assert_int_equal(out[0], 1ull << 8);
	assert_int_equal(dirty_count(&log_), 2);
}

/* npages 0 touches nothing; a range past the end is clamped; past-the-end first_page gives 0. */
static void test_fetch_bounds(void **state)
{
	uint64_t out[DIRTY_BITMAP_WORDS(NPAGES) + 2];

	dirty_mark(&log_, 990 * 4096);
	dirty_mark(&log_, 999 * 4096);
	memset(out, 0xff, sizeof(out));
	assert_int_equal(dirty_fetch_clear(&log_, 990, 0, out), 0);
	assert_int_equal(out[0], ~0ull);
	assert_int_equal(dirty_count(&log_), 2);

	/* 990 + 100 > 1000: pages 990..999 only, one word, bits 10+ zero. */
	assert_int_equal(dirty_fetch_clear(&log_, 990, 100, out), 2);
	assert_int_equal(out[0], 1ull | (1ull << 9));
	assert_int_equal(out[1], ~0ull);
	assert_int_equal(dirty_count(&log_), 0);

	dirty_mark(&log_, 5 * 4096);
	memset(out, 0xff, sizeof(out));
	assert_int_equal(dirty_fetch_clear(&log_, NPAGES, 10, out), 0);
	assert_int_equal(dirty_fetch_clear(&log_, ~0ull, ~0ull, out), 0);
	assert_int_equal(out[0], ~0ull);
	/* The whole log with npages "all": ceil(1000 / 64) = 16 words written, no more. */
	assert_int_equal(dirty_fetch_clear(&log_, 0, ~0ull, out), 1);
	assert_int_equal(out[0], 1ull << 5);
	for (unsigned int i = 1; i < DIRTY_BITMAP_WORDS(NPAGES); i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(out[DIRTY_BITMAP_WORDS(NPAGES)], ~0ull);
}

/* A PML page whose every entry holds a GPA, as the CPU writes it (bits 11:0 clear, 29.3.6). */
static void fill_pml(uint64_t *pml)
{
	for (unsigned int i = 0; i < DIRTY_PML_ENTRIES; i++)
		pml[i] = (uint64_t)i << 12;
}

static void test_pml_drain(void **state)
{
	uint64_t pml[DIRTY_PML_ENTRIES], out[DIRTY_BITMAP_WORDS(NPAGES)];

	fill_pml(pml);
	assert_int_equal(DIRTY_PML_INDEX_START, 511);

	/* Index still 511: nothing logged, entry 511 is stale. */
	assert_int_equal(dirty_pml_drain(&log_, pml, 511), 0);
	assert_int_equal(dirty_count(&log_), 0);

	/* Three GPAs logged at 511, 510, 509: index now 508. */
	assert_int_equal(dirty_pml_drain(&log_, pml, 508), 3);
	assert_int_equal(dirty_count(&log_), 3);
	assert_true(bit_at(bits, 509) && bit_at(bits, 510) && bit_at(bits, 511));
	assert_false(bit_at(bits, 508));
	assert_int_equal(dirty_fetch_clear(&log_, 0, NPAGES, out), 3);

	/* Index 0: entries 1-511 valid, entry 0 not yet written. */
	assert_int_equal(dirty_pml_drain(&log_, pml, 0), 511);
	assert_false(bit_at(bits, 0));
	assert_int_equal(dirty_count(&log_), 511);
	assert_int_equal(dirty_fetch_clear(&log_, 0, NPAGES, out), 511);

	/* Entry 0 logged, index decremented from 0 to FFFFH: full, all 512. */
	assert_int_equal(dirty_pml_drain(&log_, pml, 0xffff), 512);
	assert_int_equal(dirty_count(&log_), 512);
	assert_int_equal(dirty_fetch_clear(&log_, 0, NPAGES, out), 512);
	/* The field is 16 bits wide: higher bits of what the caller read do not count. */
	assert_int_equal(dirty_pml_drain(&log_, pml, 0xffffffffu), 512);
	assert_int_equal(dirty_fetch_clear(&log_, 0, NPAGES, out), 512);
	assert_int_equal(dirty_pml_drain(&log_, pml, 0x10000 | 508), 3);
	assert_int_equal(dirty_fetch_clear(&log_, 0, NPAGES, out), 3);
	/* An index the CPU never leaves (512) counts as full: over-reporting is safe. */
	assert_int_equal(dirty_pml_drain(&log_, pml, 512), 512);
	assert_int_equal(dirty_fetch_clear(&log_, 0, NPAGES, out), 512);
	assert_int_equal(log_.ignored, 0);
}

/* Repeated and out-of-range GPAs: entries taken all count, ignored ones separately. */
static void test_pml_drain_contents(void **state)
{
	uint64_t pml[DIRTY_PML_ENTRIES];

	memset(pml, 0xee, sizeof(pml)); /* stale below the index */
	pml[511] = 7ull << 12;
	pml[510] = 7ull << 12;
	pml[509] = (uint64_t)NPAGES << 12;
	pml[508] = 0xfffff000ull;
	pml[507] = (uint64_t)(NPAGES - 1) << 12;
	assert_int_equal(dirty_pml_drain(&log_, pml, 506), 5);
	assert_int_equal(dirty_count(&log_), 2);
	assert_true(bit_at(bits, 7) && bit_at(bits, NPAGES - 1));
	assert_int_equal(log_.ignored, 2);
}

/*
 * A thread marks every page exactly once, in a scattered order, while the
 * main thread fetches in unaligned 1000-page chunks: over all fetches each
 * page is reported exactly once (a load-then-store clear would lose marks).
 */
#define RACE_PAGES (1u << 20)

static uint64_t race_bits[DIRTY_BITMAP_WORDS(RACE_PAGES)];
static uint64_t race_seen[DIRTY_BITMAP_WORDS(RACE_PAGES)];
static struct dirty_log race_log;
static int race_done;

static void *race_marker(void *arg)
{
	for (uint64_t i = 0; i < RACE_PAGES; i++)
		dirty_mark(&race_log, ((i * 40503u) % RACE_PAGES) << 12); /* odd stride: a permutation */
	__atomic_store_n(&race_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_fetch_race(void **state)
{
	uint64_t out[DIRTY_BITMAP_WORDS(1000)], total = 0, seen = 0;
	unsigned int passes = 0;
	pthread_t t;
	int done;

	assert_int_equal(dirty_init(&race_log, RACE_PAGES, race_bits, DIRTY_BITMAP_WORDS(RACE_PAGES),
				    DIRTY_WRPROT), 0);
	race_done = 0;
	assert_int_equal(pthread_create(&t, NULL, race_marker, NULL), 0);
	do {
		done = __atomic_load_n(&race_done, __ATOMIC_ACQUIRE);
		for (uint64_t first = 0; first < RACE_PAGES; first += 1000) {
			uint64_t n = dirty_fetch_clear(&race_log, first, 1000, out), c = 0;

			for (uint64_t i = 0; i < 1000 && first + i < RACE_PAGES; i++) {
				if (!bit_at(out, i))
					continue;
				c++;
				assert_false(bit_at(race_seen, first + i));
				race_seen[(first + i) / 64] |= 1ull << ((first + i) % 64);
			}
			assert_int_equal(c, n);
			total += n;
		}
		passes++;
	} while (!done);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (unsigned int i = 0; i < DIRTY_BITMAP_WORDS(RACE_PAGES); i++)
		seen += (uint64_t)__builtin_popcountll(race_seen[i]);
	assert_int_equal(seen, RACE_PAGES);
	assert_int_equal(total, RACE_PAGES);
	assert_int_equal(dirty_count(&race_log), 0);
	print_message("fetch race: %u passes\n", passes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_choose_limit),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup(test_init, setup),
		cmocka_unit_test_setup(test_mark, setup),
		cmocka_unit_test_setup(test_fetch_unaligned, setup),
		cmocka_unit_test_setup(test_fetch_bounds, setup),
		cmocka_unit_test_setup(test_pml_drain, setup),
		cmocka_unit_test_setup(test_pml_drain_contents, setup),
		cmocka_unit_test(test_fetch_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
