/* SPDX-License-Identifier: MIT */
/* Intel 8254 PIT model (vmm/emul/vpit.c) against the datasheet's waveforms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vpit.h"
#include "tests/unit/fake_env.h"

#define HZ 1193182ull

static struct vpit pit;

static const struct emul_env env = { .ctx = &fk, .now_ns = fake_now, .set_irq = fake_irq };

/* The first ns of CLK k (k CLK periods of 1/1193182 s since time 0). */
static uint64_t tick_ns(uint64_t k)
{
	return (uint64_t)(((unsigned __int128)k * 1000000000u + HZ - 1) / HZ);
}

static void at(uint64_t k)
{
	fk.now = tick_ns(k);
}

static void out(uint16_t port, uint8_t v)
{
	vpit_ops.write(&pit, port, 1, v);
}

static uint8_t in(uint16_t port)
{
	return (uint8_t)vpit_ops.read(&pit, port, 1);
}

static uint16_t in16(uint16_t port)
{
	uint16_t lo = in(port);

	return (uint16_t)(lo | in(port) << 8);
}

/* Read-back of one counter's status alone (0xC0 | COUNT=1 | STATUS=0 | CNTn). */
static uint8_t status(unsigned int ch)
{
	out(0x43, (uint8_t)(0xe0 | 2u << ch));
	return in((uint16_t)(0x40 + ch));
}

static bool out2(void)
{
	return in(0x61) & 0x20;
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	vpit_init(&pit, &env);
	return 0;
}

/* Mode 0: OUT low after the control word, high N+1 CLKs after the count write; CE wraps. */
static void test_mode0(void **state)
{
	out(0x43, 0x30);
	assert_int_equal(status(0), 0x70); /* OUT 0, null count, RW 3, mode 0 */
	out(0x40, 100);
	out(0x40, 0);
	at(1);
	assert_int_equal(status(0), 0x30); /* count moved into CE */
	assert_int_equal(in16(0x40), 100);
	at(100);
	assert_int_equal(in16(0x40), 1);
	assert_int_equal(status(0) & 0x80, 0);
	at(101);
	assert_int_equal(in16(0x40), 0);
	assert_int_equal(status(0), 0xb0);
	at(102);
	assert_int_equal(in16(0x40), 0xffff);
	assert_int_equal(status(0), 0xb0); /* stays high until rewritten */
}

/* Mode 0 on IRQ 0: one edge at terminal count, then nothing. */
static void test_mode0_irq(void **state)
{
	out(0x43, 0x30);
	out(0x40, 100);
	out(0x40, 0);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(101));
	at(100);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(101));
	assert_int_equal(fk.nirq, 0);
	at(101);
	assert_true(vpit_ops.poll(&pit, fk.now) == EMUL_NEVER);
	assert_int_equal(fk.nirq, 2);
	assert_int_equal(fk.log[0], 0 << 1 | 1);
	assert_int_equal(fk.log[1], 0 << 1 | 0);
	at(5000);
	assert_true(vpit_ops.poll(&pit, fk.now) == EMUL_NEVER);
	assert_int_equal(fk.nirq, 2);
}

/* Mode 0 written with the first byte only: counting stops, OUT low at once. */
static void test_mode0_rewrite(void **state)
{
	out(0x43, 0x30);
	out(0x40, 10);
	out(0x40, 0);
	at(20);
	assert_int_equal(status(0) & 0x80, 0x80);
	out(0x40, 50);
	assert_int_equal(status(0) & 0x80, 0);
	out(0x40, 0);
	at(70);
	assert_int_equal(status(0) & 0x80, 0);
	at(71);
	assert_int_equal(status(0) & 0x80, 0x80);
}

/* Mode 2: N, N-1, .. 1 (OUT low for that CLK), reload; IRQ 0 edge per period. */
static void test_mode2(void **state)
{
	uint64_t k;

	out(0x43, 0x34);
	assert_int_equal(status(0), 0xf4); /* OUT 1, null count */
	out(0x40, 0xa9); /* 1193: Linux's HZ=1000 LATCH */
	out(0x40, 0x04);
	at(1);
	assert_int_equal(status(0), 0xb4);
	assert_int_equal(in16(0x40), 1193);
	at(2);
	assert_int_equal(in16(0x40), 1192);
	at(1193);
	assert_int_equal(in16(0x40), 1);
	assert_int_equal(status(0), 0x34); /* OUT low while CE is 1 */
	at(1194);
	assert_int_equal(in16(0x40), 1193);
	assert_int_equal(status(0), 0xb4);

	setup(NULL);
	out(0x43, 0x34);
	out(0x40, 0xa9);
	out(0x40, 0x04);
	assert_int_equal(vpit_ops.poll(&pit, 0), tick_ns(1 + 1193));
	for (k = 1; k <= 5; k++) {
		at(1 + 1193 * k);
		assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(1 + 1193 * (k + 1)));
		assert_int_equal(fk.nirq, 2 * k);
	}
	/* A late poll coalesces the missed edges into one. */
	at(1 + 1193 * 9 + 7);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(1 + 1193 * 10));
	assert_int_equal(fk.nirq, 12);
}

/* Mode 2: a count written mid-cycle is loaded at the end of the cycle. */
static void test_mode2_new_count(void **state)
{
	out(0x43, 0x34);
	out(0x40, 100);
	out(0x40, 0);
	at(50);
	out(0x40, 10);
	out(0x40, 0);
	assert_int_equal(status(0) & 0x40, 0x40); /* null count until loaded */
	assert_int_equal(in16(0x40), 100 - 49);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(101));
	at(101);
	assert_int_equal(in16(0x40), 10);
	assert_int_equal(status(0) & 0x40, 0);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(111));
}

/* Mode 3, even N=4: OUT high 2, low 2; CE 4 2 4 2. Odd N=5: high 3 (4 2 0), low 2 (4 2). */
static void test_mode3(void **state)
{
	static const uint8_t ce4[] = { 4, 2, 4, 2, 4 }, o4[] = { 1, 1, 0, 0, 1 };
	static const uint8_t ce5[] = { 4, 2, 0, 4, 2, 4 }, o5[] = { 1, 1, 1, 0, 0, 1 };
	unsigned int i;

	out(0x43, 0x36);
	out(0x40, 4);
	out(0x40, 0);
	for (i = 0; i < 5; i++) {
		at(1 + i);
		assert_int_equal(in16(0x40), ce4[i]);
		assert_int_equal(status(0) >> 7, o4[i]);
	}
	setup(NULL);
	out(0x43, 0x36);
	out(0x40, 5);
	out(0x40, 0);
	/* IRQ 0 at each rising edge: every N CLKs from the load. */
	assert_int_equal(vpit_ops.poll(&pit, tick_ns(1)), tick_ns(6));
	for (i = 0; i < 6; i++) {
		at(1 + i);
		assert_int_equal(in16(0x40), ce5[i]);
		assert_int_equal(status(0) >> 7, o5[i]);
	}
	/* The read at CLK 6 delivered that edge already. */
	assert_int_equal(fk.nirq, 2);
	assert_int_equal(vpit_ops.poll(&pit, tick_ns(6)), tick_ns(11));
	assert_int_equal(vpit_ops.poll(&pit, tick_ns(11)), tick_ns(16));
	assert_int_equal(fk.nirq, 4);
}

/* Mode 3: a count written mid-cycle is loaded at the end of the current half-cycle. */
static void test_mode3_new_count(void **state)
{
	static const uint8_t ce[] = { 2, 4, 2, 4, 2, 4 }, o[] = { 1, 0, 0, 1, 1, 0 };
	unsigned int i;

	out(0x43, 0x36);
	out(0x40, 10);
	out(0x40, 0);
	at(3); /* high half of 10: ends at CLK 6 */
	out(0x40, 4);
	out(0x40, 0);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(8));
	for (i = 0; i < 6; i++) { /* CLKs 5..10: old high half ends, new low half, ... */
		at(5 + i);
		assert_int_equal(in16(0x40), ce[i]);
		assert_int_equal(status(0) >> 7, o[i]);
	}
	assert_int_equal(fk.nirq, 2); /* the rise at CLK 8 */
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(12));

	setup(NULL);
	out(0x43, 0x36);
	out(0x40, 10);
	out(0x40, 0);
	at(7); /* low half: ends with the cycle at CLK 11 */
	out(0x40, 4);
	out(0x40, 0);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(11));
	at(11);
	assert_int_equal(in16(0x40), 4);
	assert_int_equal(status(0) >> 7, 1);
	at(13);
	assert_int_equal(status(0) >> 7, 0);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(15));
}

/* Count 0 is 2^16 (binary) in every mode. */
static void test_count0(void **state)
{
	out(0x43, 0x34);
	out(0x40, 0);
	out(0x40, 0);
	at(1);
	assert_int_equal(in16(0x40), 0);
	at(2);
	assert_int_equal(in16(0x40), 0xffff);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(1 + 65536));
}

/* BCD: count 0x0100 is one hundred; CE reads in BCD. */
static void test_bcd(void **state)
{
	out(0x43, 0x35);
	out(0x40, 0x00);
	out(0x40, 0x01);
	at(2);
	assert_int_equal(in16(0x40), 0x0099);
	at(11);
	assert_int_equal(in16(0x40), 0x0090);
	assert_int_equal(vpit_ops.poll(&pit, 0), tick_ns(101));
	assert_int_equal(status(0), 0xb5);
}

/* Mode 4: OUT low for one CLK, N+1 CLKs after the write; one IRQ edge after it. */
static void test_mode4(void **state)
{
	out(0x43, 0x38);
	assert_int_equal(status(0), 0xf8);
	out(0x40, 3);
	out(0x40, 0);
	assert_int_equal(vpit_ops.poll(&pit, 0), tick_ns(5));
	at(3);
	assert_int_equal(status(0) >> 7, 1);
	at(4);
	assert_int_equal(in16(0x40), 0);
	assert_int_equal(status(0) >> 7, 0);
	at(5);
	assert_int_equal(status(0) >> 7, 1);
	assert_true(vpit_ops.poll(&pit, tick_ns(5)) == EMUL_NEVER);
	assert_int_equal(fk.nirq, 2);
}

/* Modes 1 and 5 on channel 2: GATE (port 0x61 bit 0) rising edge triggers. */
static void test_mode1_mode5_gate(void **state)
{
	out(0x61, 0);
	out(0x43, 0xb2); /* ch2, RW 3, mode 1 */
	out(0x42, 3);
	out(0x42, 0);
	at(5);
	assert_true(out2());
	assert_int_equal(status(2), 0xf2); /* no trigger yet: null count */
	at(10);
	out(0x61, 1);
	assert_true(out2());
	at(11);
	assert_false(out2());
	assert_int_equal(in16(0x42), 3);
	at(13);
	assert_false(out2());
	at(14);
	assert_true(out2());
	/* Retrigger restarts the pulse. */
	out(0x61, 0);
	at(20);
	out(0x61, 1);
	at(22);
	out(0x61, 0);
	out(0x61, 1); /* retrigger at 22 */
	at(25);
	assert_false(out2());
	at(26);
	assert_true(out2());

	setup(NULL);
	out(0x43, 0xba); /* ch2, mode 5 */
	out(0x42, 3);
	out(0x42, 0);
	at(10);
	out(0x61, 1);
	at(13);
	assert_true(out2());
	at(14);
	assert_false(out2());
	at(15);
	assert_true(out2());
}

/* Mode 0 on channel 2: GATE low suspends counting. */
static void test_mode0_gate(void **state)
{
	out(0x61, 1);
	out(0x43, 0xb0);
	out(0x42, 100);
	out(0x42, 0);
	at(21);
	assert_int_equal(in16(0x42), 80);
	out(0x61, 0);
	at(71);
	assert_int_equal(in16(0x42), 80);
	out(0x61, 1);
	at(72);
	assert_int_equal(in16(0x42), 79);
	at(150);
	assert_false(out2());
	at(151);
	assert_true(out2());
}

/* Mode 2 on channel 2: GATE low forces OUT high; the rising edge reloads. */
static void test_mode2_gate(void **state)
{
	out(0x61, 1);
	out(0x43, 0xb4);
	out(0x42, 10);
	out(0x42, 0);
	at(10);
	assert_false(out2()); /* CE 1 */
	out(0x61, 0);
	assert_true(out2());
	at(30);
	out(0x61, 1);
	at(31);
	assert_int_equal(in16(0x42), 10);
	at(40);
	assert_false(out2());
}

/* Counter latch: the value is held until read, both bytes; live reads alternate LSB/MSB. */
static void test_latch(void **state)
{
	out(0x43, 0x34);
	out(0x40, 0xe8); /* 1000 */
	out(0x40, 0x03);
	at(100);
	out(0x43, 0x00);
	at(300);
	out(0x43, 0x00); /* ignored: still latched */
	at(500);
	assert_int_equal(in(0x40), (1000 - 99) & 0xff);
	assert_int_equal(in(0x40), (1000 - 99) >> 8);
	assert_int_equal(in16(0x40), 1000 - 499);
	/* Flip-flop: an odd number of live reads leaves the next read an MSB. */
	assert_int_equal(in(0x40), (1000 - 499) & 0xff);
	assert_int_equal(in(0x40), (1000 - 499) >> 8);
}

/* Read-back: status first then count; LSB-only and MSB-only access. */
static void test_readback_rw(void **state)
{
	out(0x43, 0x34);
	out(0x40, 0xe8);
	out(0x40, 0x03);
	at(100);
	out(0x43, 0xc2); /* latch count and status of ch0 */
	at(200);
	assert_int_equal(in(0x40), 0xb4);
	assert_int_equal(in16(0x40), 901);
	out(0x43, 0xd2); /* count only */
	out(0x43, 0xe2); /* then status: status is read first */
	assert_int_equal(in(0x40), 0xb4);
	assert_int_equal(in16(0x40), 1000 - 199);

	out(0x43, 0x50); /* ch1, LSB only, mode 0 */
	out(0x41, 5);
	at(202);
	assert_int_equal(in(0x41), 4);
	assert_int_equal(in(0x41), 4);
	assert_int_equal(status(1), 0x10);
	out(0x43, 0x64); /* ch1, MSB only, mode 2 */
	out(0x41, 2);    /* 512 */
	at(203);
	assert_int_equal(in(0x41), 2);
	at(204);
	assert_int_equal(in(0x41), 1); /* 511 */
	assert_int_equal(status(1), 0xa4);
}

/* Port 0x61: bits 0-3 stored, bit 4 toggles every refresh period, bits 6-7 read 0. */
static void test_port61(void **state)
{
	out(0x61, 0xff);
	fk.now = 0;
	assert_int_equal(in(0x61) & 0xdf, 0x0f);
	fk.now = 15085;
	assert_int_equal(in(0x61) & 0xdf, 0x1f);
	fk.now = 2 * 15085;
	assert_int_equal(in(0x61) & 0xdf, 0x0f);
	out(0x61, 0x02);
	assert_int_equal(in(0x61) & 0x0f, 0x02);
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): ch2 mode 0, 10 ms, poll port 0x61 bit 5. */
static void test_linux_calibrate(void **state)
{
	uint16_t latch = (uint16_t)(HZ / (1000 / 10));
	uint64_t start;
	unsigned long loops = 0;

	fk.now = 123456789;
	out(0x61, (uint8_t)((in(0x61) & ~0x02) | 0x01));
	out(0x43, 0xb0);
	out(0x42, latch & 0xff);
	out(0x42, latch >> 8);
	start = fk.now;
	while (!(in(0x61) & 0x20)) {
		fk.now += 1000;
		loops++;
	}
	assert_true(loops > 9000);
	/* OUT rises latch+1 CLKs after the write: 10.0009 ms, seen within a step. */
	assert_true(fk.now - start >= (latch + 1) * 1000000000ull / HZ - 1000);
	assert_true(fk.now - start <= (latch + 2) * 1000000000ull / HZ + 1000);
}

/* quick_pit_calibrate(): MSB of channel 2 counts down from 0xff, one step per 256 CLKs. */
static bool verify_msb(uint8_t val)
{
	in(0x42);
	fk.now += 300;
	return in(0x42) == val;
}

static unsigned int expect_msb(uint8_t val)
{
	unsigned int count;

	for (count = 0; count < 50000; count++) {
		fk.now += 300;
		if (!verify_msb(val))
			break;
	}
	return count;
}

static void test_linux_quick_calibrate(void **state)
{
	uint64_t t_prev = 0;
	unsigned int i;

	fk.now = 7ull * 3600 * 1000000000ull; /* 7 h: past where ns * HZ would overflow */
	out(0x61, (uint8_t)((in(0x61) & ~0x02) | 0x01));
	out(0x43, 0xb0);
	out(0x42, 0xff);
	out(0x42, 0xff);
	verify_msb(0);
	for (i = 0; i < 200; i++) {
		assert_true(expect_msb((uint8_t)(0xff - i)) > 5);
		/* 256 CLKs per MSB value: 214.55 us, seen within one 900 ns read loop. */
		if (i > 0)
			assert_true(fk.now - t_prev > 214550 - 1000 && fk.now - t_prev < 214550 + 1000);
		t_prev = fk.now;
	}
}

/* Long uptimes: a count written at 20000 s ends exactly N+1 CLKs later. */
static void test_long_uptime(void **state)
{
	uint64_t k = 20000ull * HZ + 17;

	at(k);
	out(0x43, 0x30);
	out(0x40, 0xe8);
	out(0x40, 0x03);
	assert_int_equal(vpit_ops.poll(&pit, fk.now), tick_ns(k + 1001));
	at(k + 1000);
	assert_int_equal(in16(0x40), 1);
	at(k + 1001);
	assert_true(vpit_ops.poll(&pit, fk.now) == EMUL_NEVER);
	assert_int_equal(fk.nirq, 2);
}

static void program_busy(void)
{
	out(0x43, 0x34);
	out(0x40, 0xa9);
	out(0x40, 0x04);
	out(0x61, 1);
	out(0x43, 0xb0);
	out(0x42, 0x10);
	out(0x42, 0x27);
	at(777);
	out(0x43, 0x80); /* latch ch2 */
	in(0x40);        /* ch0 flip-flop now at MSB */
}

static void test_save_restore(void **state)
{
	uint8_t rec[256], rec2[256];
	struct vpit copy;
	int n, i;

	program_busy();
	assert_int_equal(vpit_ops.save(&pit, rec, 8), -ENOSPC);
	n = vpit_ops.save(&pit, rec, sizeof(rec));
	assert_int_equal(n, 192);
	assert_int_equal(rec[0] | rec[1] << 8 | rec[2] << 16 | (uint32_t)rec[3] << 24,
			 DEV_MAGIC('P', 'I', 'T', '1'));
	assert_int_equal(rec[4] | rec[5] << 8, 1);
	assert_int_equal(rec[6] | rec[7] << 8, 192);

	vpit_init(&copy, &env);
	assert_int_equal(vpit_ops.restore(&copy, rec, (size_t)n), 0);
	assert_int_equal(vpit_ops.save(&copy, rec2, sizeof(rec2)), n);
	assert_memory_equal(rec, rec2, (size_t)n);
	for (i = 0; i < 40; i++) {
		at(777 + (uint64_t)i * 97);
		assert_int_equal(vpit_ops.read(&pit, 0x40 + (i % 3), 1),
				 vpit_ops.read(&copy, 0x40 + (i % 3), 1));
		assert_int_equal(vpit_ops.read(&pit, 0x61, 1), vpit_ops.read(&copy, 0x61, 1));
		assert_int_equal(vpit_ops.poll(&pit, fk.now), vpit_ops.poll(&copy, fk.now));
	}
}

static void test_restore_bad(void **state)
{
	uint8_t rec[256], bad[256];
	struct vpit before;
	int n;

	program_busy();
	n = vpit_ops.save(&pit, rec, sizeof(rec));
	memcpy(&before, &pit, sizeof(before));
#define REFUSE(off, val)                                                               \
	do {                                                                           \
		memcpy(bad, rec, (size_t)n);                                           \
		bad[off] = (val);                                                      \
		assert_int_equal(vpit_ops.restore(&pit, bad, (size_t)n), -EINVAL);      \
		assert_memory_equal(&pit, &before, sizeof(before));                    \
	} while (0)
	REFUSE(0, 'X');           /* magic */
	REFUSE(4, 2);             /* version */
	REFUSE(6, 191);           /* size */
	REFUSE(8 + 32 + 2, 0x02); /* ch0 n > 65536 */
	REFUSE(8 + 41, 0x05);     /* ch0 skew >= n */
	REFUSE(8 + 53, 0xff);     /* ch0 flags: unknown bits */
	REFUSE(8 + 54, 0x40);     /* ch0 ctl: counter select bits */
	REFUSE(8 + 54, 0x04);     /* ch0 ctl: RW 0 */
	REFUSE(8 + 56 + 52, 0);   /* ch1 GATE low */
	REFUSE(184, 0x10);        /* port 0x61 bits above 3 */
	REFUSE(184, 0x00);        /* port 0x61 GATE disagrees with ch2 */
	memcpy(bad, rec, (size_t)n);
	memset(bad + 8 + 32, 0, 4); /* ch0 n = 0 */
	assert_int_equal(vpit_ops.restore(&pit, bad, (size_t)n), -EINVAL);
	assert_int_equal(vpit_ops.restore(&pit, rec, (size_t)n - 1), -EINVAL);
	assert_memory_equal(&pit, &before, sizeof(before));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mode0, setup),
		cmocka_unit_test_setup(test_mode0_irq, setup),
		cmocka_unit_test_setup(test_mode0_rewrite, setup),
		cmocka_unit_test_setup(test_mode2, setup),
		cmocka_unit_test_setup(test_mode2_new_count, setup),
		cmocka_unit_test_setup(test_mode3, setup),
		cmocka_unit_test_setup(test_mode3_new_count, setup),
		cmocka_unit_test_setup(test_count0, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_mode4, setup),
		cmocka_unit_test_setup(test_mode1_mode5_gate, setup),
		cmocka_unit_test_setup(test_mode0_gate, setup),
		cmocka_unit_test_setup(test_mode2_gate, setup),
		cmocka_unit_test_setup(test_latch, setup),
		cmocka_unit_test_setup(test_readback_rw, setup),
		cmocka_unit_test_setup(test_port61, setup),
		cmocka_unit_test_setup(test_linux_calibrate, setup),
		cmocka_unit_test_setup(test_linux_quick_calibrate, setup),
		cmocka_unit_test_setup(test_long_uptime, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
		cmocka_unit_test_setup(test_restore_bad, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
