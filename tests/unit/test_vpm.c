/* SPDX-License-Identifier: MIT */
/* ACPI PM1a block, PM timer and SCI (vmm/emul/vpm.c) against ACPI 6.5 section 4.8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vpm.h"
#include "tests/unit/fake_env.h"

#define HZ 3579545ull /* ACPI 6.5 4.8.3.3: the PM timer runs at 3.579545 MHz */
#define NS 1000000000ull

static struct vpm pm;

static const struct emul_env env = {
	.ctx = &fk, .now_ns = fake_now, .set_irq = fake_irq, .request = fake_request,
};

static uint64_t ones(unsigned int size)
{
	return (1ull << (8 * size)) - 1;
}

/* As the bus does: the value masked to the access size. */
static uint32_t in(uint16_t port, unsigned int size)
{
	return (uint32_t)(vpm_ops.read(&pm, port, size) & ones(size));
}

static void out(uint16_t port, unsigned int size, uint32_t v)
{
	vpm_ops.write(&pm, port, size, v & ones(size));
}

/* The SCI line as last driven on IRQ 9 (false if never driven). */
static bool sci(void)
{
	for (unsigned int i = fk.nirq < 64 ? fk.nirq : 64; i-- > 0;)
		if (fk.log[i] >> 1 == 9)
			return fk.log[i] & 1;
	return false;
}

/* The first ns at which the PM timer has counted k ticks. */
static uint64_t tick_ns(uint64_t k)
{
	return (uint64_t)(((unsigned __int128)k * NS + HZ - 1) / HZ);
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	vpm_init(&pm, &env);
	return 0;
}

/* From reset: status and enables clear, SCI_EN 1 (ACPI mode, no SMI_CMD), SCI low. */
static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(in(0x600, 2), 0);
	assert_int_equal(in(0x602, 2), 0);
	assert_int_equal(in(0x604, 2) & 0x0001, 0x0001);
	assert_int_equal(in(0x604, 2) & 0x3c00, 0); /* SLP_TYP 0, SLP_EN 0 */
	assert_false(sci());
	assert_int_equal(fk.nreq, 0);
}

/* PM1_EN: read/write; the enables a Tern VM has: TMR_EN, GBL_EN, PWRBTN_EN, RTC_EN. */
static void test_pm1_en(void **state)
{
	(void)state;
	out(0x602, 2, 0x0121);
	assert_int_equal(in(0x602, 2), 0x0121);
	assert_int_equal(in(0x602, 1), 0x21);
	assert_int_equal(in(0x603, 1), 0x01);
	out(0x603, 1, 0x00); /* byte write of the high byte leaves the low byte */
	assert_int_equal(in(0x602, 2), 0x0021);
	out(0x602, 1, 0x00);
	assert_int_equal(in(0x602, 2), 0x0000);
	out(0x603, 1, 0x01);
	assert_int_equal(in(0x602, 2), 0x0100);
	/* A dword at 0x600 is PM1_STS (low word) and PM1_EN (high word). */
	out(0x600, 4, 0x00210000);
	assert_int_equal(in(0x602, 2), 0x0021);
	assert_int_equal(in(0x600, 4), 0x00210000);
	/* RTC_EN (bit 10) holds, as ACPICA checks when Linux installs its RTC handler; the
	 * reserved and unmodelled bits (SLPBTN_EN 9, PCIEXP_WAKE_DIS 14) read 0. */
	out(0x602, 2, 0xffff);
	assert_int_equal(in(0x602, 2), 0x0521);
}

/* PM1_STS bits are cleared by writing 1, untouched by 0 (ACPI 6.5 4.8.3.1.1). */
static void test_pm1_sts_w1c(void **state)
{
	(void)state;
	vpm_power_button(&pm);
	fk.now = tick_ns(1ull << 31); /* bit 31 of the timer changes: TMR_STS */
	assert_int_equal(in(0x600, 2), 0x0101);
	out(0x600, 2, 0x0000);
	assert_int_equal(in(0x600, 2), 0x0101);
	out(0x600, 2, 0x0100);
	assert_int_equal(in(0x600, 2), 0x0001);
	vpm_power_button(&pm);
	out(0x600, 1, 0x01); /* low byte: TMR_STS only */
	assert_int_equal(in(0x600, 2), 0x0100);
	out(0x600, 1, 0xff);
	assert_int_equal(in(0x600, 2), 0x0100);
	out(0x601, 1, 0x00);
	assert_int_equal(in(0x600, 2), 0x0100);
	out(0x601, 1, 0x01); /* high byte bit 0 is PWRBTN_STS (bit 8) */
	assert_int_equal(in(0x600, 2), 0x0000);
	/* A dword write clears status by its low word and sets the enables by its high word. */
	vpm_power_button(&pm);
	out(0x600, 4, 0x01000100);
	assert_int_equal(in(0x600, 2), 0x0000);
	assert_int_equal(in(0x602, 2), 0x0100);
}

/* SCI: level, asserted while any STS & EN bit is set and SCI_EN (ACPI 6.5 4.8.3.1, 4.8.2.5). */
static void test_sci_level(void **state)
{
	(void)state;
	assert_false(vpm_power_button(&pm)); /* PWRBTN_EN clear: the guest does not listen */
	assert_int_equal(in(0x600, 2) & 0x0100, 0x0100);
	assert_false(sci());
	out(0x602, 2, 0x0100);
	assert_true(sci());
	assert_int_equal(fk.log[fk.nirq - 1], 9u << 1 | 1);
	out(0x602, 2, 0x0000);
	assert_false(sci());
	out(0x602, 2, 0x0100);
	assert_true(sci());
	out(0x601, 1, 0x01);
	assert_false(sci());
	assert_true(vpm_power_button(&pm));
	assert_true(sci());
	out(0x600, 2, 0x0100);
	assert_false(sci());
	/* SCI_EN clear: no SCI, and the button press is not heard. */
	out(0x604, 2, 0x0000);
	assert_int_equal(in(0x604, 2) & 1, 0);
	assert_false(vpm_power_button(&pm));
	assert_false(sci());
	out(0x604, 2, 0x0001);
	assert_true(sci());
	out(0x604, 1, 0x00);
	assert_false(sci());
}

/* SLP_TYP = \_S5 with SLP_EN: power off, once per write; SLP_EN reads 0 (ACPI 6.5 4.8.3.2.1). */
static void test_s5(void **state)
{
	(void)state;
	out(0x604, 2, 0x0001 | 5u << 10 | 0x2000);
	assert_int_equal(fk.nreq, 1);
	assert_int_equal(fk.req[0], EMUL_POWER_OFF);
	assert_int_equal(in(0x604, 2) & 0x2000, 0);
	assert_int_equal(in(0x604, 2) & 0x1c00, 5u << 10);
	assert_int_equal(in(0x604, 2) & 0x0001, 1);
	/* High byte alone: SLP_TYP and SLP_EN are both in it. */
	out(0x605, 1, (5u << 10 | 0x2000) >> 8);
	assert_int_equal(fk.nreq, 2);
	assert_int_equal(fk.req[1], EMUL_POWER_OFF);
	/* Dword at PM1_CNT. */
	out(0x604, 4, 0x0001 | 5u << 10 | 0x2000);
	assert_int_equal(fk.nreq, 3);
	assert_int_equal(fk.req[2], EMUL_POWER_OFF);
}

static void test_other_sleep_types(void **state)
{
	(void)state;
	for (unsigned int typ = 0; typ < 8; typ++) {
		if (typ == 5)
			continue;
		out(0x604, 2, 0x0001 | typ << 10 | 0x2000);
		assert_int_equal(in(0x604, 2) & 0x2000, 0);
	}
	out(0x604, 2, 0x0001 | 5u << 10); /* S5 without SLP_EN: only the type is set */
	assert_int_equal(in(0x604, 2) & 0x1c00, 5u << 10);
	out(0x604, 1, 0x01); /* low byte rewrite does not sleep */
	assert_int_equal(fk.nreq, 0);
}

/* PM_TMR counts at 3.579545 MHz and wraps at 32 bits (ACPI 6.5 4.8.3.3). */
static void test_timer_rate(void **state)
{
	(void)state;
	assert_int_equal(in(0x608, 4), 0);
	fk.now = 10000000; /* 10 ms: 35795.45 ticks */
	assert_int_equal(in(0x608, 4), 35795);
	fk.now = NS;
	assert_int_equal(in(0x608, 4), 3579545);
	fk.now = 3 * NS + 500000000; /* 3.5 s */
	assert_int_equal(in(0x608, 4), 12528407); /* 12528407.5 */
	/* Byte and word reads show the same count. */
	uint32_t v = in(0x608, 1) | in(0x609, 1) << 8 | in(0x60a, 1) << 16 | (uint32_t)in(0x60b, 1) << 24;
	assert_int_equal(v, 12528407);
	assert_int_equal(in(0x608, 2) | (uint32_t)in(0x60a, 2) << 16, 12528407);
	/* 2^32 ticks take 1199.87 s: at 1200 s the count has wrapped. */
	fk.now = 1200 * NS;
	assert_int_equal(in(0x608, 4), (uint32_t)(1200 * HZ));
	assert_int_equal(in(0x608, 4), 486704);
	fk.now = tick_ns(1ull << 32) - 1;
	assert_int_equal(in(0x608, 4), 0xffffffffu);
	fk.now = tick_ns(1ull << 32);
	assert_int_equal(in(0x608, 4), 0);
	/* Read-only: a write does not change it. */
	out(0x608, 4, 0x12345678);
	assert_int_equal(in(0x608, 4), 0);
}

/* TMR_STS on each change of bit 31; with TMR_EN, poll's deadline is that change. */
static void test_timer_carry(void **state)
{
	uint64_t d1 = tick_ns(1ull << 31), d2 = tick_ns(1ull << 32);

	(void)state;
	out(0x602, 2, 0x0001);
	assert_int_equal(vpm_ops.poll(&pm, 0), d1);
	fk.now = d1 - 1;
	assert_int_equal(vpm_ops.poll(&pm, d1 - 1), d1);
	assert_int_equal(in(0x600, 2) & 1, 0);
	assert_false(sci());
	fk.now = d1;
	assert_int_equal(vpm_ops.poll(&pm, d1), d2);
	assert_int_equal(in(0x600, 2) & 1, 1);
	assert_true(sci());
	out(0x600, 2, 0x0001);
	assert_false(sci());
	/* The 1 -> 0 change at the 32-bit wrap is an event too. */
	fk.now = d2 - 1;
	vpm_ops.poll(&pm, d2 - 1);
	assert_int_equal(in(0x600, 2) & 1, 0);
	fk.now = d2;
	assert_int_equal(vpm_ops.poll(&pm, d2), tick_ns(3ull << 31));
	assert_int_equal(in(0x600, 2) & 1, 1);
	assert_true(sci());
}

/* TMR_STS is status: set without TMR_EN, but no SCI; a read of PM1_STS sees it. */
static void test_timer_carry_no_enable(void **state)
{
	(void)state;
	fk.now = tick_ns(1ull << 31) + 5;
	assert_int_equal(in(0x600, 2) & 1, 1);
	assert_false(sci());
	/* Enabling it then raises the SCI. */
	out(0x602, 2, 0x0001);
	assert_true(sci());
}

/* With TMR_EN, a read that finds the bit-31 change raises the SCI at once. */
static void test_timer_carry_read_sci(void **state)
{
	(void)state;
	out(0x602, 2, 0x0001);
	fk.now = tick_ns(1ull << 31);
	assert_int_equal(in(0x600, 2) & 1, 1);
	assert_true(sci());
}

static void test_poll_never(void **state)
{
	(void)state;
	assert_true(vpm_ops.poll(&pm, 0) == EMUL_NEVER); /* TMR_EN clear */
	out(0x602, 2, 0x0100);
	assert_true(vpm_ops.poll(&pm, 0) == EMUL_NEVER);
}

static void test_save_restore(void **state)
{
	uint8_t buf[64];
	int n;

	(void)state;
	out(0x602, 2, 0x0101);
	out(0x604, 2, 0x0001 | 3u << 10);
	vpm_power_button(&pm);
	assert_true(sci());
	assert_int_equal(vpm_ops.save(&pm, buf, 4), -ENOSPC);
	n = vpm_ops.save(&pm, buf, sizeof(buf));
	assert_true(n >= 8 && n <= (int)sizeof(buf));
	assert_int_equal(buf[4] | buf[5] << 8, 1); /* the header's version */
	assert_int_equal(buf[6] | buf[7] << 8, n); /* the header's size */

	memset(&fk, 0, sizeof(fk));
	vpm_init(&pm, &env);
	assert_false(sci());
	assert_int_equal(vpm_ops.restore(&pm, buf, (size_t)n), 0);
	assert_int_equal(in(0x600, 2), 0x0100);
	assert_int_equal(in(0x602, 2), 0x0101);
	assert_int_equal(in(0x604, 2), 0x0001 | 3u << 10);
	assert_true(sci());
	/* Restored, it behaves: the timer is still guest time, W1C still works. */
	fk.now = NS;
	assert_int_equal(in(0x608, 4), 3579545);
	out(0x600, 2, 0x0100);
	assert_false(sci());
}

static void test_restore_bad(void **state)
{
	uint8_t buf[64], bad[64];
	int n;

	(void)state;
	out(0x602, 2, 0x0100);
	n = vpm_ops.save(&pm, buf, sizeof(buf));
	assert_true(n > 8);
	for (unsigned int i = 0; i < 8; i++) { /* any header byte wrong */
		memcpy(bad, buf, (size_t)n);
		bad[i] ^= 0x40;
		assert_int_equal(vpm_ops.restore(&pm, bad, (size_t)n), -EINVAL);
	}
	assert_int_equal(vpm_ops.restore(&pm, buf, (size_t)n - 1), -EINVAL);
	assert_int_equal(vpm_ops.restore(&pm, buf, 4), -EINVAL);
	memcpy(bad, buf, (size_t)n);
	bad[n] = 0;
	assert_int_equal(vpm_ops.restore(&pm, bad, (size_t)n + 1), -EINVAL);
	/* Refused records leave the state as it was. */
	assert_int_equal(in(0x602, 2), 0x0100);
	assert_int_equal(vpm_ops.restore(&pm, buf, (size_t)n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_pm1_en, setup),
		cmocka_unit_test_setup(test_pm1_sts_w1c, setup),
		cmocka_unit_test_setup(test_sci_level, setup),
		cmocka_unit_test_setup(test_s5, setup),
		cmocka_unit_test_setup(test_other_sleep_types, setup),
		cmocka_unit_test_setup(test_timer_rate, setup),
		cmocka_unit_test_setup(test_timer_carry, setup),
		cmocka_unit_test_setup(test_timer_carry_no_enable, setup),
		cmocka_unit_test_setup(test_timer_carry_read_sci, setup),
		cmocka_unit_test_setup(test_poll_never, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
		cmocka_unit_test_setup(test_restore_bad, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
