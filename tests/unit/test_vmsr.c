/* SPDX-License-Identifier: MIT */
/*
 * Emulated MSR rules (vmm/vmsr.c). Expected values from the SDM: MTRRs vol.
 * 3A 12.11 (memory types table 12-8, IA32_MTRR_PHYSBASE/PHYSMASK layout
 * 12.11.2.3, fixed ranges 12.11.2.2), IA32_TSC_ADJUST vol. 3B 17.17.3,
 * IA32_MISC_ENABLE and IA32_SPEC_CTRL vol. 4 table 2-2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/vmsr.h"
#include "arch/msr.h"
#include "kernel/errno.h"

static struct vmsr_state fresh(void)
{
	struct vmsr_state s;

	vmsr_reset(&s);
	return s;
}

static void test_mtrrcap_and_reset(void **state)
{
	struct vmsr_state s = fresh();
	uint64_t v = 1;

	/* VCNT 8 (7:0), FIX (8), WC (10), no SMRR (11). */
	assert_int_equal(vmsr_mtrr_read(&s, 0xfe, &v), 0);
	assert_int_equal(v, 0x508);
	assert_int_equal(vmsr_mtrr_write(&s, 0xfe, 0x508, 36), -EINVAL); /* read-only */
	assert_int_equal(vmsr_mtrr_read(&s, 0x2ff, &v), 0);
	assert_int_equal(v, 0x806); /* E set, default type WB */
	assert_int_equal(vmsr_mtrr_read(&s, 0x201, &v), 0);
	assert_int_equal(v, 0); /* PHYSMASK0: V clear */
	assert_int_equal(vmsr_mtrr_read(&s, 0x1ff, &v), -EPERM);
	assert_int_equal(vmsr_mtrr_read(&s, 0x210, &v), -EPERM); /* pair 8: VCNT is 8 */
	assert_int_equal(vmsr_mtrr_read(&s, 0x251, &v), -EPERM); /* no fixed MTRR there */
	assert_int_equal(vmsr_mtrr_read(&s, 0x270, &v), -EPERM);
}

static void test_memory_types(void **state)
{
	struct vmsr_state s = fresh();
	static const uint8_t ok[] = { 0, 1, 4, 5, 6 }, bad[] = { 2, 3, 7, 8, 0xff };
	uint64_t v;

	for (unsigned int i = 0; i < sizeof(ok); i++) {
		assert_int_equal(vmsr_mtrr_write(&s, 0x2ff, 0xc00u | ok[i], 36), 0);
		assert_int_equal(vmsr_mtrr_write(&s, 0x200, 0x80000000u | ok[i], 36), 0);
	}
	for (unsigned int i = 0; i < sizeof(bad); i++) {
		assert_int_equal(vmsr_mtrr_write(&s, 0x2ff, 0xc00u | bad[i], 36), -EINVAL);
		assert_int_equal(vmsr_mtrr_write(&s, 0x20e, 0x80000000u | bad[i], 36), -EINVAL);
		/* One bad byte anywhere in a fixed MTRR. */
		assert_int_equal(vmsr_mtrr_write(&s, 0x268, (0x0606060606060606ull & ~(0xffull << 40)) |
						  ((uint64_t)bad[i] << 40), 36), -EINVAL);
	}
	/* The last good write stays. */
	assert_int_equal(vmsr_mtrr_read(&s, 0x200, &v), 0);
	assert_int_equal(v, 0x80000006);
}

static void test_reserved_bits(void **state)
{
	struct vmsr_state s = fresh();
	uint64_t v;

	/* DEF_TYPE: only 7:0, FE (10), E (11). */
	assert_int_equal(vmsr_mtrr_write(&s, 0x2ff, 0x100 | 6, 36), -EINVAL);
	assert_int_equal(vmsr_mtrr_write(&s, 0x2ff, 1ull << 12 | 6, 36), -EINVAL);
	/* PHYSBASE: bits 11:8 reserved, and from MAXPHYADDR up. */
	assert_int_equal(vmsr_mtrr_write(&s, 0x202, 0x100 | 6, 36), -EINVAL);
	assert_int_equal(vmsr_mtrr_write(&s, 0x202, (1ull << 36) | 6, 36), -EINVAL);
	assert_int_equal(vmsr_mtrr_write(&s, 0x202, (1ull << 36) | 6, 39), 0);
	assert_int_equal(vmsr_mtrr_write(&s, 0x202, (1ull << 39) | 6, 39), -EINVAL);
	/* PHYSMASK: bits 10:0 reserved, V is 11. */
	assert_int_equal(vmsr_mtrr_write(&s, 0x203, 0xff0000800ull, 36), 0);
	assert_int_equal(vmsr_mtrr_write(&s, 0x203, 0xff0000801ull, 36), -EINVAL);
	assert_int_equal(vmsr_mtrr_write(&s, 0x203, 0x1ff0000800ull, 36), -EINVAL);
	assert_int_equal(vmsr_mtrr_read(&s, 0x203, &v), 0);
	assert_int_equal(v, 0xff0000800ull);
	assert_false(vmsr_mtrr_valid(0x203, 1ull << 63, 52));
	assert_true(vmsr_mtrr_valid(0x203, ((1ull << 52) - 1) & ~0x7ffull, 52));
}

static void test_fixed_round_trip(void **state)
{
	struct vmsr_state s = fresh();
	static const uint32_t fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
					  0x26c, 0x26d, 0x26e, 0x26f };
	uint64_t v;

	for (unsigned int i = 0; i < 11; i++)
		assert_int_equal(vmsr_mtrr_write(&s, fixed[i], (0x0001040506000100ull | ((uint64_t)(i % 2 ? 4 : 5) << 56)), 36), 0);
	for (unsigned int i = 0; i < 11; i++) {
		assert_int_equal(vmsr_mtrr_read(&s, fixed[i], &v), 0);
		assert_int_equal(v, (0x0001040506000100ull | ((uint64_t)(i % 2 ? 4 : 5) << 56)));
	}
	/* The save order lists every MTRR once: DEF_TYPE, the 16 variable, the 11 fixed. */
	assert_int_equal(VMSR_MTRR_SAVED, 28);
	assert_int_equal(vmsr_mtrr_saved_msr(0), 0x2ff);
	assert_int_equal(vmsr_mtrr_saved_msr(1), 0x200);
	assert_int_equal(vmsr_mtrr_saved_msr(16), 0x20f);
	for (unsigned int i = 0; i < 11; i++)
		assert_int_equal(vmsr_mtrr_saved_msr(17 + i), fixed[i]);
}

static void test_misc_enable(void **state)
{
	struct vmsr_state s = fresh();

	/* Fast strings on; BTS (11) and PEBS (12) unavailable. */
	assert_int_equal(s.misc_enable, 0x1801);
	assert_true(vmsr_misc_enable_write(&s, 0));
	assert_int_equal(s.misc_enable, 0x1800); /* read-only bits stay */
	assert_true(vmsr_misc_enable_write(&s, 0x1801 | (1u << 16) | (1u << 23) | (1u << 7)));
	assert_int_equal(s.misc_enable, 0x1801 | (1u << 16) | (1u << 23)); /* bit 7 read-only */
	assert_false(vmsr_misc_enable_write(&s, 0x1801 | (1ull << 22))); /* limit CPUID maxval */
	assert_false(vmsr_misc_enable_write(&s, 0x1801 | (1ull << 34))); /* XD disable */
	assert_false(vmsr_misc_enable_write(&s, 0x1801 | (1ull << 18))); /* MONITOR FSM */
	assert_false(vmsr_misc_enable_write(&s, 0x1801 | (1ull << 1)));  /* reserved */
	assert_int_equal(s.misc_enable, 0x1801 | (1u << 16) | (1u << 23));
}

static void test_tsc_adjust(void **state)
{
	struct vmsr_state s = fresh();

	assert_int_equal(vmsr_guest_tsc(&s, 1000), 1000); /* offset 0 at reset */
	/* WRMSR TSC_ADJUST += X: the TSC moves by X. */
	vmsr_tsc_adjust_write(&s, 500);
	assert_int_equal(s.tsc_adjust, 500);
	assert_int_equal(vmsr_guest_tsc(&s, 1000), 1500);
	vmsr_tsc_adjust_write(&s, 200);
	assert_int_equal(vmsr_guest_tsc(&s, 1000), 1200);
	/* WRMSR TSC := T at guest time G: TSC_ADJUST moves by T - G. */
	vmsr_tsc_write(&s, 2000, 10000); /* guest was 2200 */
	assert_int_equal(vmsr_guest_tsc(&s, 2000), 10000);
	assert_int_equal(s.tsc_adjust, 200 + 10000 - 2200);
	vmsr_tsc_write(&s, 3000, 5); /* backwards: the adjust goes negative */
	assert_int_equal(vmsr_guest_tsc(&s, 3001), 6);
	assert_int_equal((int64_t)s.tsc_adjust, 200 + 10000 - 2200 + (5 - 11000));
}

static void test_deadline(void **state)
{
	struct vmsr_state s = fresh();

	vmsr_tsc_write(&s, 1000, 1000000); /* guest = host + 999000 */
	assert_int_equal(vmsr_deadline_to_host(&s, 1000, 1000500), 1500);
	assert_int_equal(vmsr_deadline_to_host(&s, 1000, 500), 1000);      /* passed: now */
	assert_int_equal(vmsr_deadline_to_host(&s, 1000, 1000000), 1000);  /* now */
	assert_int_equal(vmsr_deadline_to_host(&s, 1000, ~0ull), ~0ull - 999000);
	vmsr_tsc_write(&s, 1000000, 10); /* guest behind host */
	assert_int_equal(vmsr_deadline_to_host(&s, 1000000, 110), 1000100);
	/* Beyond the host's range: saturates, never the "no event" value ~0. */
	assert_int_equal(vmsr_deadline_to_host(&s, 1000000, ~0ull), ~0ull - 1);
}

static void test_platform_info_and_spec(void **state)
{
	/* 3 GHz: ratio 30 in bits 15:8; 2.45 GHz rounds to 25 (100 MHz bus). */
	assert_int_equal(vmsr_platform_info(3000000), 30u << 8);
	assert_int_equal(vmsr_platform_info(2450000), 25u << 8);
	assert_int_equal(vmsr_platform_info(0), 0);
	/* CPUID.7.0:EDX 26 IBRS/IBPB, 27 STIBP, 31 SSBD -> SPEC_CTRL bits 0, 1, 2. */
	assert_int_equal(vmsr_spec_ctrl_mask(0), 0);
	assert_int_equal(vmsr_spec_ctrl_mask(1u << 26), 1);
	assert_int_equal(vmsr_spec_ctrl_mask((1u << 26) | (1u << 27) | (1u << 31)), 7);
	/* ARCH_CAPABILITIES: TSX_CTRL (7) and FB_CLEAR_CTRL (18) name MSRs not offered. */
	assert_int_equal(VMSR_ARCH_CAP_PASSED & ((1u << 7) | (1u << 18)), 0);
	assert_int_equal(VMSR_ARCH_CAP_PASSED & 0x3f, 0x3f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtrrcap_and_reset),
		cmocka_unit_test(test_memory_types),
		cmocka_unit_test(test_reserved_bits),
		cmocka_unit_test(test_fixed_round_trip),
		cmocka_unit_test(test_misc_enable),
		cmocka_unit_test(test_tsc_adjust),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_platform_info_and_spec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
