/* SPDX-License-Identifier: MIT */
/* MC146818A RTC model (vmm/emul/vrtc.c) against the datasheet's registers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vrtc.h"
#include "tests/unit/fake_env.h"

#define S 1000000000ull
#define MS 1000000ull
#define EPOCH_2026 1796230798ull /* 2026-12-02 16:59:58 UTC, a Wednesday */

static struct emul_env env;
static struct vrtc rtc;

static void start(uint64_t epoch)
{
	memset(&fk, 0, sizeof(fk));
	env.ctx = &fk;
	env.now_ns = fake_now;
	env.set_irq = fake_irq;
	env.epoch_s = epoch;
	vrtc_init(&rtc, &env);
}

static int setup(void **state)
{
	start(EPOCH_2026);
	return 0;
}

static uint8_t rd(uint8_t reg)
{
	vrtc_ops.write(&rtc, 0x70, 1, reg);
	return (uint8_t)vrtc_ops.read(&rtc, 0x71, 1);
}

static void wr(uint8_t reg, uint8_t v)
{
	vrtc_ops.write(&rtc, 0x70, 1, reg);
	vrtc_ops.write(&rtc, 0x71, 1, v);
}

static void expect_time(uint8_t y, uint8_t mo, uint8_t d, uint8_t h, uint8_t mi, uint8_t s)
{
	assert_int_equal(rd(VRTC_SEC), s);
	assert_int_equal(rd(VRTC_MIN), mi);
	assert_int_equal(rd(VRTC_HOUR), h);
	assert_int_equal(rd(VRTC_DAY), d);
	assert_int_equal(rd(VRTC_MONTH), mo);
	assert_int_equal(rd(VRTC_YEAR), y);
}

/* Power-on registers as the firmware leaves them; D reads VRT. */
static void test_defaults(void **state)
{
	assert_int_equal(rd(VRTC_REG_A), 0x26);
	assert_int_equal(rd(VRTC_REG_B), 0x02);
	assert_int_equal(rd(VRTC_REG_C), 0x00);
	assert_int_equal(rd(VRTC_REG_D), 0x80);
}

/* BCD and binary, 24 h (Table 2). */
static void test_bcd_binary(void **state)
{
	expect_time(0x26, 0x12, 0x02, 0x16, 0x59, 0x58);
	assert_int_equal(rd(VRTC_DOW), 4);
	assert_int_equal(rd(VRTC_CENTURY), 0x20);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_DM);
	expect_time(26, 12, 2, 16, 59, 58);
	assert_int_equal(rd(VRTC_CENTURY), 20);
}

/* 12 h: 1-12 with bit 7 for PM; midnight is 12 AM, noon 12 PM. */
static void test_12h(void **state)
{
	wr(VRTC_REG_B, 0);
	assert_int_equal(rd(VRTC_HOUR), 0x84);
	wr(VRTC_REG_B, VRTC_B_DM);
	assert_int_equal(rd(VRTC_HOUR), 0x84);

	start(1796255999); /* 23:59:59 */
	wr(VRTC_REG_B, 0);
	assert_int_equal(rd(VRTC_HOUR), 0x91);
	fk.now = 1 * S;
	assert_int_equal(rd(VRTC_HOUR), 0x12); /* 00:00 -> 12 AM */
	wr(VRTC_REG_B, VRTC_B_DM);
	assert_int_equal(rd(VRTC_HOUR), 0x0c);

	start(1796212799); /* 11:59:59 */
	wr(VRTC_REG_B, 0);
	assert_int_equal(rd(VRTC_HOUR), 0x11);
	fk.now = 1 * S;
	assert_int_equal(rd(VRTC_HOUR), 0x92); /* 12:00 -> 12 PM */
	wr(VRTC_REG_B, VRTC_B_DM);
	assert_int_equal(rd(VRTC_HOUR), 0x8c);
}

/* One update per second of guest time, carrying into minutes and hours. */
static void test_seconds_advance(void **state)
{
	fk.now = S - 1;
	assert_int_equal(rd(VRTC_SEC), 0x58);
	fk.now = S;
	assert_int_equal(rd(VRTC_SEC), 0x59);
	fk.now = 2 * S - 1;
	assert_int_equal(rd(VRTC_SEC), 0x59);
	fk.now = 2 * S;
	expect_time(0x26, 0x12, 0x02, 0x17, 0x00, 0x00);
	fk.now = 3600 * S + 2 * S;
	expect_time(0x26, 0x12, 0x02, 0x18, 0x00, 0x00);
	fk.now = 7 * 3600 * S + 2 * S; /* the next day: 2026-12-03, Thursday */
	expect_time(0x26, 0x12, 0x03, 0x00, 0x00, 0x00);
	assert_int_equal(rd(VRTC_DOW), 5);
}

/* UIP is 1 for the 244 us before each update. */
static void test_uip(void **state)
{
	fk.now = S - 244001;
	assert_int_equal(rd(VRTC_REG_A), 0x26);
	fk.now = S - 244000;
	assert_int_equal(rd(VRTC_REG_A), 0xa6);
	fk.now = S - 1;
	assert_int_equal(rd(VRTC_REG_A), 0xa6);
	assert_int_equal(rd(VRTC_SEC), 0x58); /* not yet updated */
	fk.now = S;
	assert_int_equal(rd(VRTC_REG_A), 0x26);
	wr(VRTC_REG_A, 0xa6); /* UIP is read-only */
	assert_int_equal(rd(VRTC_REG_A), 0x26);
}

/* Leap years: 2028-02-29 exists, 2100-02-29 does not. */
static void test_leap(void **state)
{
	start(1835395199); /* 2028-02-28 23:59:59 */
	fk.now = S;
	expect_time(0x28, 0x02, 0x29, 0x00, 0x00, 0x00);
	assert_int_equal(rd(VRTC_DOW), 3); /* Tuesday */
	fk.now = 86401 * S;
	expect_time(0x28, 0x03, 0x01, 0x00, 0x00, 0x00);

	start(4107542399); /* 2100-02-28 23:59:59 */
	fk.now = S;
	expect_time(0x00, 0x03, 0x01, 0x00, 0x00, 0x00);
	assert_int_equal(rd(VRTC_CENTURY), 0x21);
}

/* SET freezes the time; the guest's time then runs from where it set it. */
static void test_set(void **state)
{
	fk.now = S / 2;
	wr(VRTC_REG_B, VRTC_B_SET | VRTC_B_24H);
	fk.now = 5 * S;
	assert_int_equal(rd(VRTC_SEC), 0x58);
	fk.now = 5 * S + 999999 * 1000;
	assert_int_equal(rd(VRTC_REG_A) & VRTC_A_UIP, 0);
	wr(VRTC_SEC, 0x59);
	wr(VRTC_MIN, 0x59);
	wr(VRTC_HOUR, 0x23);
	wr(VRTC_DAY, 0x31);
	wr(VRTC_MONTH, 0x12);
	wr(VRTC_YEAR, 0x26);
	fk.now = 7 * S + 200 * MS;
	expect_time(0x26, 0x12, 0x31, 0x23, 0x59, 0x59);
	wr(VRTC_REG_B, VRTC_B_24H);
	fk.now = 7 * S + 999 * MS;
	assert_int_equal(rd(VRTC_SEC), 0x59);
	fk.now = 8 * S;
	expect_time(0x27, 0x01, 0x01, 0x00, 0x00, 0x00);
	assert_int_equal(rd(VRTC_CENTURY), 0x20);
	assert_int_equal(rd(VRTC_DOW), 6); /* 2027-01-01 is a Friday */
	fk.now = 68 * S;
	expect_time(0x27, 0x01, 0x01, 0x00, 0x01, 0x00);
}

/*
 * Linux mc146818_set_time(): SET, divider reset, bytes, restore B, then A.
 * Binary mode: 2027-06-15 08:30:00; the first update is 500 ms after A.
 */
static void test_linux_set_time(void **state)
{
	fk.now = 3 * S + 100 * MS;
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_DM);
	wr(VRTC_REG_B, VRTC_B_SET | VRTC_B_24H | VRTC_B_DM);
	wr(VRTC_REG_A, (uint8_t)(rd(VRTC_REG_A) | 0x70));
	wr(VRTC_YEAR, 27);
	wr(VRTC_MONTH, 6);
	wr(VRTC_DAY, 15);
	wr(VRTC_HOUR, 8);
	wr(VRTC_MIN, 30);
	wr(VRTC_SEC, 0);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_DM);
	fk.now = 3 * S + 250 * MS;
	assert_int_equal(rd(VRTC_SEC), 0); /* divider still in reset */
	wr(VRTC_REG_A, 0x26);
	fk.now = 3 * S + 750 * MS - 1;
	expect_time(27, 6, 15, 8, 30, 0);
	assert_int_equal(rd(VRTC_REG_A), 0xa6); /* inside the 244 us before the update */
	fk.now = 3 * S + 750 * MS;
	expect_time(27, 6, 15, 8, 30, 1);
	assert_int_equal(rd(VRTC_DOW), 3); /* 2027-06-15 is a Tuesday */
	assert_int_equal(rd(VRTC_CENTURY), 20);
}

/* SET also clears UIE (register B, UIE). */
static void test_set_clears_uie(void **state)
{
	wr(VRTC_REG_B, VRTC_B_SET | VRTC_B_UIE | VRTC_B_24H);
	assert_int_equal(rd(VRTC_REG_B), VRTC_B_SET | VRTC_B_24H);
}

/* Divider reset holds the time; the first update is 500 ms after release. */
static void test_divider(void **state)
{
	fk.now = 300 * MS;
	wr(VRTC_REG_A, 0x76);
	fk.now = 10 * S;
	assert_int_equal(rd(VRTC_SEC), 0x58);
	assert_int_equal(rd(VRTC_REG_A), 0x76);
	wr(VRTC_REG_A, 0x26);
	fk.now = 10 * S + 500 * MS - 1;
	assert_int_equal(rd(VRTC_SEC), 0x58);
	fk.now = 10 * S + 500 * MS;
	assert_int_equal(rd(VRTC_SEC), 0x59);
	fk.now = 11 * S + 500 * MS;
	assert_int_equal(rd(VRTC_SEC), 0x00);
}

/* Periodic interrupt: period 2^(RS-1)/32768 s; RS 1, 2 are 3.90625, 7.8125 ms at 32.768 kHz. */
static void test_periodic(void **state)
{
	static const struct { uint8_t rs; uint64_t ns; } rates[] = {
		{ 1, 3906250 }, { 2, 7812500 }, { 3, 122071 /* 122070.3125 */ },
		{ 6, 976563 /* 976562.5 */ }, { 15, 500000000 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		start(EPOCH_2026);
		wr(VRTC_REG_A, (uint8_t)(0x20 | rates[i].rs));
		wr(VRTC_REG_B, VRTC_B_PIE | VRTC_B_24H);
		assert_int_equal(vrtc_ops.poll(&rtc, 0), rates[i].ns);
		assert_int_equal(vrtc_ops.poll(&rtc, rates[i].ns - 1), rates[i].ns);
		assert_int_equal(fk.nirq, 0);
		fk.now = rates[i].ns;
		vrtc_ops.poll(&rtc, fk.now);
		assert_int_equal(fk.nirq, 1);
		assert_int_equal(fk.log[0], 8 << 1 | 1);
		assert_int_equal(rd(VRTC_REG_C), 0xc0);
		assert_int_equal(fk.nirq, 2);
		assert_int_equal(fk.log[1], 8 << 1 | 0);
		assert_int_equal(rd(VRTC_REG_C), 0x00);
	}
	/* RS 6, second period: 2 * 976562.5 ns = 1953125. */
	start(EPOCH_2026);
	wr(VRTC_REG_B, VRTC_B_PIE | VRTC_B_24H);
	assert_int_equal(vrtc_ops.poll(&rtc, 976563), 1953125);
}

/* PF is set at the periodic rate whether or not PIE is; no IRQ without it. */
static void test_pf_without_pie(void **state)
{
	assert_true(vrtc_ops.poll(&rtc, 0) == EMUL_NEVER);
	fk.now = 1 * MS;
	assert_int_equal(rd(VRTC_REG_C), 0x40);
	assert_int_equal(fk.nirq, 0);
	/* Enabling PIE with PF pending raises IRQ at once (IRQF = PF.PIE + ...). */
	fk.now = 2 * MS;
	wr(VRTC_REG_B, VRTC_B_PIE | VRTC_B_24H);
	assert_int_equal(fk.nirq, 1);
	assert_int_equal(rd(VRTC_REG_C), 0xc0);
	assert_int_equal(fk.nirq, 2);
}

/* Update-ended interrupt once per second. */
static void test_update_irq(void **state)
{
	wr(VRTC_REG_A, 0x20); /* no periodic */
	wr(VRTC_REG_B, VRTC_B_UIE | VRTC_B_24H);
	assert_int_equal(vrtc_ops.poll(&rtc, 0), S);
	assert_int_equal(vrtc_ops.poll(&rtc, S - 1), S);
	assert_int_equal(fk.nirq, 0);
	assert_int_equal(vrtc_ops.poll(&rtc, S), 2 * S);
	assert_int_equal(fk.nirq, 1);
	fk.now = S;
	assert_int_equal(rd(VRTC_REG_C), 0x90);
	assert_int_equal(fk.nirq, 2);
	assert_int_equal(fk.log[1], 8 << 1 | 0);
}

/*
 * The VM was paused 5.4 s at guest time 0.3 s: guest time stood, the chip's
 * own clock ran on ("Power-Down Considerations"). On resume it reads the real
 * time, 5.7 s after 16:59:58; the update flag is latched once (a flag, not a
 * count: one IRQ 8 edge), and updates go on a real second apart, the next at
 * real 6 s = guest 0.6 s.
 */
static void test_skip_keeps_real_time(void **state)
{
	wr(VRTC_REG_A, 0x20); /* no periodic */
	wr(VRTC_REG_B, VRTC_B_UIE | VRTC_B_24H);
	fk.now = 300 * MS;
	assert_int_equal(rd(VRTC_REG_C), 0x00);
	assert_int_equal(fk.nirq, 0);
	vrtc_skip(&rtc, 300 * MS, 5400 * MS);
	assert_int_equal(fk.nirq, 1);
	assert_int_equal(fk.log[0], 8 << 1 | 1);
	assert_int_equal(vrtc_ops.poll(&rtc, 300 * MS), 600 * MS);
	expect_time(0x26, 0x12, 0x02, 0x17, 0x00, 0x03);
	assert_int_equal(rd(VRTC_REG_C), 0x90);
	assert_int_equal(rd(VRTC_REG_C), 0x00);
	fk.now = 600 * MS - 1;
	assert_int_equal(rd(VRTC_SEC), 0x03);
	assert_int_equal(rd(VRTC_REG_C), 0x00);
	fk.now = 600 * MS;
	assert_int_equal(rd(VRTC_SEC), 0x04);
	assert_int_equal(rd(VRTC_REG_C), 0x90);
	/* No time skipped, nothing changes; SET holds the calendar through a pause. */
	vrtc_skip(&rtc, 600 * MS, 0);
	assert_int_equal(rd(VRTC_SEC), 0x04);
	wr(VRTC_REG_B, VRTC_B_SET | VRTC_B_24H);
	vrtc_skip(&rtc, 600 * MS, 10 * S);
	assert_int_equal(rd(VRTC_SEC), 0x04);
	wr(VRTC_REG_B, VRTC_B_24H);
	fk.now = 1600 * MS - 1;
	assert_int_equal(rd(VRTC_SEC), 0x04);
	fk.now = 1600 * MS;
	assert_int_equal(rd(VRTC_SEC), 0x05);
}

/* Alarm: fires when hh:mm:ss match, 11xxxxxx is don't care; UF rides along. */
static void test_alarm(void **state)
{
	wr(VRTC_REG_A, 0x20);
	wr(VRTC_SEC_ALARM, 0x00);
	wr(VRTC_MIN_ALARM, 0x00);
	wr(VRTC_HOUR_ALARM, 0x17);
	wr(VRTC_REG_B, VRTC_B_AIE | VRTC_B_24H);
	assert_int_equal(vrtc_ops.poll(&rtc, 0), 2 * S);
	vrtc_ops.poll(&rtc, S);
	assert_int_equal(fk.nirq, 0);
	fk.now = S;
	assert_int_equal(rd(VRTC_REG_C), 0x10); /* UF only */
	vrtc_ops.poll(&rtc, 2 * S);
	assert_int_equal(fk.nirq, 1);
	fk.now = 2 * S;
	assert_int_equal(rd(VRTC_REG_C), 0xb0);
	assert_int_equal(fk.nirq, 2);
	/* Next match is tomorrow 17:00:00. */
	assert_int_equal(vrtc_ops.poll(&rtc, 2 * S), (2 + 86400) * S);

	/* Every minute at :30 (hour and minute don't care). */
	start(EPOCH_2026);
	wr(VRTC_SEC_ALARM, 0x30);
	wr(VRTC_MIN_ALARM, 0xc0);
	wr(VRTC_HOUR_ALARM, 0xff);
	wr(VRTC_REG_B, VRTC_B_AIE | VRTC_B_24H);
	assert_int_equal(vrtc_ops.poll(&rtc, 0), 32 * S);
	assert_int_equal(vrtc_ops.poll(&rtc, 32 * S), 92 * S);
	assert_int_equal(fk.nirq, 1);
	/* A late look still sees the match it slept through. */
	start(EPOCH_2026);
	wr(VRTC_SEC_ALARM, 0x30);
	wr(VRTC_MIN_ALARM, 0xc0);
	wr(VRTC_HOUR_ALARM, 0xc0);
	fk.now = 40 * S;
	assert_int_equal(rd(VRTC_REG_C), 0x70); /* PF, AF, UF; no enables */
	/* A 12 h alarm: 5 PM is 0x85. */
	start(EPOCH_2026);
	wr(VRTC_REG_B, 0);
	wr(VRTC_SEC_ALARM, 0x00);
	wr(VRTC_MIN_ALARM, 0x00);
	wr(VRTC_HOUR_ALARM, 0x85);
	wr(VRTC_REG_B, VRTC_B_AIE);
	assert_int_equal(vrtc_ops.poll(&rtc, 0), 2 * S);
	/* 12 AM is 00 h, 12 PM is 12 h. */
	start(1796255999); /* 23:59:59 */
	wr(VRTC_REG_B, 0);
	wr(VRTC_SEC_ALARM, 0x00);
	wr(VRTC_MIN_ALARM, 0x00);
	wr(VRTC_HOUR_ALARM, 0x12);
	wr(VRTC_REG_B, VRTC_B_AIE);
	assert_int_equal(vrtc_ops.poll(&rtc, 0), 1 * S);
	start(1796212799); /* 11:59:59 */
	wr(VRTC_REG_B, VRTC_B_DM);
	wr(VRTC_SEC_ALARM, 0);
	wr(VRTC_MIN_ALARM, 0);
	wr(VRTC_HOUR_ALARM, 0x8c);
	wr(VRTC_REG_B, VRTC_B_AIE | VRTC_B_DM);
	assert_int_equal(vrtc_ops.poll(&rtc, 0), 1 * S);
}

/* NVRAM 0x0E-0x7F keeps what is written; port 0x70 bit 7 is the NMI mask. */
static void test_nvram(void **state)
{
	unsigned int i;

	for (i = 0x0e; i < 0x80; i++)
		if (i != VRTC_CENTURY)
			wr((uint8_t)i, (uint8_t)(i * 7 + 1));
	for (i = 0x0e; i < 0x80; i++)
		if (i != VRTC_CENTURY)
			assert_int_equal(rd((uint8_t)(i | 0x80)), (uint8_t)(i * 7 + 1));
	assert_true(vrtc_nmi_masked(&rtc));
	rd(0x10);
	assert_false(vrtc_nmi_masked(&rtc));
	wr(VRTC_REG_C, 0xff); /* read-only */
	wr(VRTC_REG_D, 0x00);
	assert_int_equal(rd(VRTC_REG_D), 0x80);
}

static void test_save_restore(void **state)
{
	uint8_t rec[256], rec2[256];
	struct vrtc copy;
	int n, i;

	wr(0x40, 0x5a);
	wr(VRTC_REG_B, VRTC_B_PIE | VRTC_B_UIE | VRTC_B_24H);
	fk.now = 1234 * MS;
	vrtc_ops.poll(&rtc, fk.now);
	assert_int_equal(vrtc_ops.save(&rtc, rec, 100), -ENOSPC);
	n = vrtc_ops.save(&rtc, rec, sizeof(rec));
	assert_int_equal(n, 176);
	assert_int_equal(rec[0] | rec[1] << 8 | rec[2] << 16 | (uint32_t)rec[3] << 24,
			 DEV_MAGIC('R', 'T', 'C', '1'));
	assert_int_equal(rec[4] | rec[5] << 8, 1);
	assert_int_equal(rec[6] | rec[7] << 8, 176);
	vrtc_init(&copy, &env);
	assert_int_equal(vrtc_ops.restore(&copy, rec, (size_t)n), 0);
	assert_int_equal(vrtc_ops.save(&copy, rec2, sizeof(rec2)), n);
	assert_memory_equal(rec, rec2, (size_t)n);
	for (i = 0; i < 20; i++) {
		fk.now = 1234 * MS + (uint64_t)i * 377 * MS;
		assert_int_equal(vrtc_ops.poll(&rtc, fk.now), vrtc_ops.poll(&copy, fk.now));
		vrtc_ops.write(&rtc, 0x70, 1, (uint64_t)(i % 14));
		vrtc_ops.write(&copy, 0x70, 1, (uint64_t)(i % 14));
		assert_int_equal(vrtc_ops.read(&rtc, 0x71, 1), vrtc_ops.read(&copy, 0x71, 1));
	}
}

static void test_restore_bad(void **state)
{
	uint8_t rec[256], bad[256];
	struct vrtc before;
	int n;

	wr(VRTC_REG_B, VRTC_B_PIE | VRTC_B_24H);
	fk.now = 5 * MS;
	vrtc_ops.poll(&rtc, fk.now); /* IRQ high, PF set */
	n = vrtc_ops.save(&rtc, rec, sizeof(rec));
	memcpy(&before, &rtc, sizeof(before));
#define REFUSE(off, val)                                                               \
	do {                                                                           \
		memcpy(bad, rec, (size_t)n);                                           \
		bad[off] = (val);                                                      \
		assert_int_equal(vrtc_ops.restore(&rtc, bad, (size_t)n), -EINVAL);      \
		assert_memory_equal(&rtc, &before, sizeof(before));                    \
	} while (0)
	REFUSE(1, 'X');                 /* magic */
	REFUSE(4, 0);                   /* version */
	REFUSE(6, 175);                 /* size */
	REFUSE(8 + VRTC_REG_A, 0xa6);   /* UIP stored */
	REFUSE(8 + 128 + 16 + 3, 0x40); /* phase_ns >= 1 s */
	REFUSE(8 + 128 + 33, 0x01);     /* flags: IRQF is not stored */
	REFUSE(8 + 128 + 34, 2);        /* irq not a bool */
	REFUSE(8 + 128 + 34, 0);        /* IRQ low with PF.PIE */
	assert_int_equal(vrtc_ops.restore(&rtc, rec, (size_t)n + 1), -EINVAL);
	assert_memory_equal(&rtc, &before, sizeof(before));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_bcd_binary, setup),
		cmocka_unit_test_setup(test_12h, setup),
		cmocka_unit_test_setup(test_seconds_advance, setup),
		cmocka_unit_test_setup(test_uip, setup),
		cmocka_unit_test_setup(test_leap, setup),
		cmocka_unit_test_setup(test_set, setup),
		cmocka_unit_test_setup(test_set_clears_uie, setup),
		cmocka_unit_test_setup(test_linux_set_time, setup),
		cmocka_unit_test_setup(test_divider, setup),
		cmocka_unit_test_setup(test_periodic, setup),
		cmocka_unit_test_setup(test_pf_without_pie, setup),
		cmocka_unit_test_setup(test_update_irq, setup),
		cmocka_unit_test_setup(test_skip_keeps_real_time, setup),
		cmocka_unit_test_setup(test_alarm, setup),
		cmocka_unit_test_setup(test_nvram, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
		cmocka_unit_test_setup(test_restore_bad, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
