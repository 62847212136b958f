/* SPDX-License-Identifier: MIT */
/* Which XCR0 values a guest may set with XSETBV (arch/xstate.h, SDM vol. 1 13.3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch/xstate.h"

#define ALL (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_AVX512 | XFEATURE_PKRU)

static void test_valid_values(void **state)
{
	assert_true(xcr0_valid(XFEATURE_X87, ALL));
	assert_true(xcr0_valid(XFEATURE_X87 | XFEATURE_SSE, ALL));
	assert_true(xcr0_valid(XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX, ALL));
	assert_true(xcr0_valid(ALL, ALL));
	assert_true(xcr0_valid(XFEATURE_X87 | XFEATURE_PKRU, ALL));
}

static void test_architectural_rules(void **state)
{
	assert_false(xcr0_valid(0, ALL));                               /* x87 is always on */
	assert_false(xcr0_valid(XFEATURE_SSE, ALL));
	assert_false(xcr0_valid(XFEATURE_X87 | XFEATURE_AVX, ALL));     /* AVX without SSE */
	/* AVX-512: all three components, and AVX with them. */
	assert_false(xcr0_valid(XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_OPMASK, ALL));
	assert_false(xcr0_valid(XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX512, ALL));
	assert_false(xcr0_valid(ALL & ~XFEATURE_HI16_ZMM, ALL));
}

static void test_only_what_is_offered(void **state)
{
	uint64_t sse_only = XFEATURE_X87 | XFEATURE_SSE;

	assert_false(xcr0_valid(XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX, sse_only));
	/* MPX exists on some CPUs, but Tern does not switch it. */
	assert_false(xcr0_valid(XFEATURE_X87 | XFEATURE_BNDREGS | XFEATURE_BNDCSR, ALL));
	assert_true(xcr0_valid(XFEATURE_X87 | XFEATURE_BNDREGS | XFEATURE_BNDCSR,
			       ALL | XFEATURE_BNDREGS | XFEATURE_BNDCSR));
	assert_false(xcr0_valid(XFEATURE_X87 | XFEATURE_BNDREGS, ALL | XFEATURE_BNDREGS | XFEATURE_BNDCSR));
	assert_false(xcr0_valid(XFEATURE_X87 | BIT(17) | BIT(18), ALL)); /* AMX */
	assert_false(xcr0_valid(XFEATURE_X87 | BIT(63), ALL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_architectural_rules),
		cmocka_unit_test(test_only_what_is_offered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
