/* SPDX-License-Identifier: MIT */
/* The 8259A pair and ELCR (vmm/emul/vpic.c) against the Intel 8259A datasheet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vpic.h"

struct fake {
	int kicks;
};

static struct fake fk;
static struct emul_env kenv;
static struct vpic pic;

static void fake_kick(void *ctx)
{
	((struct fake *)ctx)->kicks++;
}

static void out(uint16_t port, uint8_t v)
{
	vpic_ops.write(&pic, port, 1, v);
}

static uint8_t in(uint16_t port)
{
	return (uint8_t)vpic_ops.read(&pic, port, 1);
}

/* OCW3 read register commands ("Reading the 8259A Status"). */
static uint8_t read_irr(uint16_t cmd)
{
	out(cmd, 0x0a);
	return in(cmd);
}

static uint8_t read_isr(uint16_t cmd)
{
	out(cmd, 0x0b);
	return in(cmd);
}

/* The PC BIOS/Linux sequence: ICW1 edge+cascade+IC4, ICW2, ICW3, ICW4 8086. */
static void init_pair(uint8_t mbase, uint8_t sbase, uint8_t micw4, uint8_t sicw4)
{
	out(0x20, 0x11);
	out(0x21, mbase);
	out(0x21, 0x04);
	out(0x21, micw4);
	out(0xa0, 0x11);
	out(0xa1, sbase);
	out(0xa1, 0x02);
	out(0xa1, sicw4);
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	memset(&kenv, 0, sizeof(kenv));
	kenv.ctx = &fk;
	kenv.kick = fake_kick;
	vpic_init(&pic, &kenv);
	return 0;
}

static int setup_linux(void **state)
{
	setup(state);
	init_pair(0x20, 0x28, 0x01, 0x01);
	fk.kicks = 0;
	return 0;
}

/* Raise then lower: an ISA edge device's pulse. */
static void pulse(unsigned int irq)
{
	vpic_set_irq(&pic, irq, true);
	vpic_set_irq(&pic, irq, false);
}

static void test_power_on_masked(void **state)
{
	assert_int_equal(in(0x21), 0xff);
	assert_int_equal(in(0xa1), 0xff);
	assert_int_equal(in(0x4d0), 0);
	assert_int_equal(in(0x4d1), 0);
	pulse(0);
	pulse(8);
	assert_false(vpic_intr(&pic));
	assert_int_equal(fk.kicks, 0);
	assert_null(vpic_ops.poll);
}

static void test_init_vector_base(void **state)
{
	/* ICW2 T2-T0 are ignored in 8086 mode: IR n gives base | n. */
	init_pair(0x27, 0x2f, 0x01, 0x01);
	/* ICW1 cleared the IMR. */
	assert_int_equal(in(0x21), 0);
	assert_int_equal(in(0xa1), 0);
	pulse(0);
	assert_true(vpic_intr(&pic));
	assert_int_equal(fk.kicks, 1);
	assert_int_equal(vpic_ack(&pic), 0x20);
	assert_false(vpic_intr(&pic));
	assert_int_equal(fk.kicks, 2);
	assert_int_equal(read_isr(0x20), 0x01);
	assert_int_equal(read_irr(0x20), 0x00);
	out(0x20, 0x20);
	pulse(14);
	assert_int_equal(vpic_ack(&pic), 0x2e);
}

static void test_init_single_and_no_icw4(void **state)
{
	/* SNGL = 1, IC4 = 1: ICW2 then ICW4, no ICW3. */
	out(0x20, 0x13);
	out(0x21, 0x40);
	out(0x21, 0x03); /* ICW4: AEOI, 8086 */
	out(0x21, 0xfe); /* now OCW1 */
	assert_int_equal(in(0x21), 0xfe);
	pulse(0);
	assert_int_equal(vpic_ack(&pic), 0x40);
	assert_int_equal(read_isr(0x20), 0); /* AEOI */

	/* IC4 = 0: ICW2, ICW3, done; ICW4 functions are zero (no AEOI). */
	out(0x20, 0x10);
	out(0x21, 0x50);
	out(0x21, 0x04);
	out(0x21, 0x02); /* OCW1 */
	assert_int_equal(in(0x21), 0x02);
	pulse(0);
	assert_int_equal(vpic_ack(&pic), 0x50);
	assert_int_equal(read_isr(0x20), 0x01);
}

static void test_icw1_resets(void **state)
{
	pulse(3);
	assert_int_equal(vpic_ack(&pic), 0x23);
	out(0x21, 0x55);
	out(0x20, 0x0b);       /* read ISR */
	out(0x20, 0x68);       /* special mask mode */
	out(0x20, 0xc3);       /* IR3 lowest */
	vpic_set_irq(&pic, 4, true); /* stays high through ICW1 */
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x01);
	assert_int_equal(in(0x21), 0);           /* IMR cleared */
	assert_false(vpic_intr(&pic));            /* edge sense reset: IR4 must go low and high */
	pulse(5);
	assert_int_equal(in(0x20), 0x20);        /* reads IRR again, not ISR */
	assert_int_equal(vpic_ack(&pic), 0x25);
	out(0x20, 0x20);
	vpic_set_irq(&pic, 4, false);
	pulse(3);
	pulse(4);
	pulse(7);
	/* IR7 is lowest again, SMM off: fixed 3, 4, 7. */
	assert_int_equal(vpic_ack(&pic), 0x23);
	out(0x21, 0x08);
	assert_false(vpic_intr(&pic));           /* IR4 below IR3 in service */
}

static void test_fixed_priority_and_nesting(void **state)
{
	pulse(5);
	pulse(3);
	assert_int_equal(read_irr(0x20), 0x28);
	assert_int_equal(vpic_ack(&pic), 0x23);
	/* IR5 waits for IR3's EOI. */
	assert_false(vpic_intr(&pic));
	/* A higher level nests. */
	pulse(1);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x21);
	assert_int_equal(read_isr(0x20), 0x0a);
	/* Non-specific EOI resets the highest ISR bit: IR1. */
	out(0x20, 0x20);
	assert_int_equal(read_isr(0x20), 0x08);
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x25);
	pulse(6);
	assert_false(vpic_intr(&pic));
}

static void test_specific_eoi(void **state)
{
	pulse(5);
	assert_int_equal(vpic_ack(&pic), 0x25);
	pulse(3);
	assert_int_equal(vpic_ack(&pic), 0x23);
	out(0x20, 0x65); /* specific EOI, L = 5 */
	assert_int_equal(read_isr(0x20), 0x08);
	out(0x20, 0x40); /* R SL EOI = 010: no operation */
	assert_int_equal(read_isr(0x20), 0x08);
}

static void test_rotate_on_nonspecific_eoi(void **state)
{
	pulse(3);
	assert_int_equal(vpic_ack(&pic), 0x23);
	out(0x20, 0xa0); /* rotate on non-specific EOI: IR3 becomes lowest */
	assert_int_equal(read_isr(0x20), 0);
	pulse(1);
	pulse(3);
	pulse(5);
	/* Priority now 4 5 6 7 0 1 2 3. */
	assert_int_equal(vpic_ack(&pic), 0x25);
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x21);
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x23);
}

static void test_set_priority_and_rotate_specific(void **state)
{
	out(0x20, 0xc4); /* set priority: IR4 lowest, IR5 highest */
	pulse(4);
	pulse(0);
	pulse(7);
	assert_int_equal(vpic_ack(&pic), 0x27);
	/* Rotate on specific EOI L = 7: IR7 lowest, so 0 1 ... 7. */
	out(0x20, 0xe7);
	assert_int_equal(read_isr(0x20), 0);
	pulse(7);
	assert_int_equal(vpic_ack(&pic), 0x20);
	/* A lower level than the one in service waits, even after rotation. */
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x24);
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x27);
}

static void test_aeoi_and_rotate_in_aeoi(void **state)
{
	init_pair(0x20, 0x28, 0x03, 0x01); /* master AEOI */
	pulse(1);
	assert_int_equal(vpic_ack(&pic), 0x21);
	assert_int_equal(read_isr(0x20), 0);
	/* No IS bit: a lower level interrupts right away. */
	pulse(6);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x26);

	out(0x20, 0x80); /* rotate in AEOI mode set */
	pulse(0);
	assert_int_equal(vpic_ack(&pic), 0x20);
	/* IR0 now lowest. */
	pulse(0);
	pulse(1);
	assert_int_equal(vpic_ack(&pic), 0x21);
	assert_int_equal(vpic_ack(&pic), 0x20);
	out(0x20, 0x00); /* rotate in AEOI mode clear */
	out(0x20, 0xc7); /* back to fixed priority */
	pulse(1);
	pulse(0);
	assert_int_equal(vpic_ack(&pic), 0x20);
	assert_int_equal(vpic_ack(&pic), 0x21);
}

static void test_mask(void **state)
{
	out(0x21, 0x10);
	pulse(4);
	assert_false(vpic_intr(&pic));
	assert_int_equal(fk.kicks, 0);
	/* The mask acts after IRR: the request is still latched. */
	assert_int_equal(read_irr(0x20), 0x10);
	out(0x21, 0x00);
	assert_true(vpic_intr(&pic));
	assert_int_equal(fk.kicks, 1);
	assert_int_equal(in(0x21), 0);
	/* Masking the slave's IR2 input on the master hides all of the slave. */
	out(0x21, 0x14);
	pulse(12);
	assert_false(vpic_intr(&pic));
	out(0x21, 0x10);
	assert_int_equal(vpic_ack(&pic), 0x2c);
}

static void test_special_mask_mode(void **state)
{
	pulse(3);
	assert_int_equal(vpic_ack(&pic), 0x23);
	pulse(5);
	assert_false(vpic_intr(&pic));
	/* SMM, then mask the level in service: lower levels get through. */
	out(0x20, 0x68);
	out(0x21, 0x08);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x25);
	assert_int_equal(read_isr(0x20), 0x28);
	out(0x20, 0x65);
	/* SMM reset: IR3 in service blocks IR6 again even though masked. */
	out(0x20, 0x48);
	pulse(6);
	assert_false(vpic_intr(&pic));
	/* ESMM = 0: the SMM bit is ignored. */
	out(0x20, 0x28);
	assert_false(vpic_intr(&pic));
	out(0x20, 0x68);
	assert_true(vpic_intr(&pic));
}

static void test_elcr_fixed_bits(void **state)
{
	out(0x4d0, 0xff);
	out(0x4d1, 0xff);
	/* IRQ 0, 1, 2 and 8, 13 cannot be level-triggered. */
	assert_int_equal(in(0x4d0), 0xf8);
	assert_int_equal(in(0x4d1), 0xde);
	out(0x4d0, 0x00);
	assert_int_equal(in(0x4d0), 0);
	assert_int_equal(in(0x4d1), 0xde);
}

static void test_edge_vs_level_elcr(void **state)
{
	out(0x4d0, 0x20); /* IRQ5 level */
	/* Edge IRQ4: a pulse is latched; held high after EOI, no second interrupt. */
	vpic_set_irq(&pic, 4, true);
	assert_int_equal(vpic_ack(&pic), 0x24);
	out(0x20, 0x20);
	assert_false(vpic_intr(&pic));
	vpic_set_irq(&pic, 4, true); /* driven high again: no edge */
	assert_false(vpic_intr(&pic));
	/* Made level while held high, IRQ4 requests; back to edge, a held line is no edge. */
	out(0x4d0, 0x30);
	assert_int_equal(read_irr(0x20), 0x10);
	assert_true(vpic_intr(&pic));
	out(0x4d0, 0x20);
	assert_false(vpic_intr(&pic));
	vpic_set_irq(&pic, 4, false);
	/* Level IRQ5: IRR follows the line. */
	vpic_set_irq(&pic, 5, true);
	assert_int_equal(read_irr(0x20), 0x20);
	vpic_set_irq(&pic, 5, false);
	assert_int_equal(read_irr(0x20), 0x00);
	assert_false(vpic_intr(&pic));
	/* Still high at EOI: it interrupts again. */
	vpic_set_irq(&pic, 5, true);
	assert_int_equal(vpic_ack(&pic), 0x25);
	assert_false(vpic_intr(&pic));
	out(0x20, 0x20);
	assert_true(vpic_intr(&pic));
	vpic_set_irq(&pic, 5, false);
	assert_false(vpic_intr(&pic));
}

static void test_level_via_ltim(void **state)
{
	out(0x20, 0x19); /* LTIM, cascade, IC4 */
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x01);
	/* LTIM makes even IRQ1 (not level-capable in the ELCR) level-triggered. */
	vpic_set_irq(&pic, 1, true);
	assert_int_equal(read_irr(0x20), 0x02);
	vpic_set_irq(&pic, 1, false);
	assert_int_equal(read_irr(0x20), 0x00);
	assert_false(vpic_intr(&pic));
	/* The slave stays edge-triggered. */
	vpic_set_irq(&pic, 9, true);
	vpic_set_irq(&pic, 9, false);
	assert_int_equal(read_irr(0xa0), 0x02);
}

static void test_spurious_master(void **state)
{
	out(0x4d0, 0x10);
	vpic_set_irq(&pic, 4, true);
	assert_true(vpic_intr(&pic));
	vpic_set_irq(&pic, 4, false); /* gone before INTA */
	assert_int_equal(vpic_ack(&pic), 0x27);
	assert_int_equal(read_isr(0x20), 0); /* default IR7 sets no IS bit */
	/* Nothing requested at all: IR7 too. */
	assert_int_equal(vpic_ack(&pic), 0x27);
}

static void test_spurious_slave(void **state)
{
	out(0x4d1, 0x08); /* IRQ11 level */
	vpic_set_irq(&pic, 11, true);
	assert_true(vpic_intr(&pic));
	vpic_set_irq(&pic, 11, false);
	/* The master latched IR2's edge and still asks; the slave has nothing. */
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x2f);
	assert_int_equal(read_isr(0xa0), 0);
	assert_int_equal(read_isr(0x20), 0x04);
	out(0x20, 0x20);
	assert_false(vpic_intr(&pic));
}

static void test_cascade(void **state)
{
	pulse(9);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x29);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xa0), 0x02);
	/* Slave levels sit between master IR1 and IR3. */
	pulse(3);
	assert_false(vpic_intr(&pic));
	pulse(1);
	assert_int_equal(vpic_ack(&pic), 0x21);
	out(0x20, 0x20);  /* IR1 */
	out(0xa0, 0x20);
	out(0x20, 0x20);  /* IR2 */
	pulse(10);
	assert_int_equal(vpic_ack(&pic), 0x2a);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x23);
	/* Two slave requests: the second arrives after both EOIs. */
	out(0x20, 0x20);
	pulse(15);
	pulse(8);
	assert_int_equal(vpic_ack(&pic), 0x28);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x2f);
	assert_int_equal(read_isr(0xa0), 0x80); /* a real IR7, IS bit set */
}

static void test_slave_aeoi_second_request(void **state)
{
	init_pair(0x20, 0x28, 0x03, 0x03); /* both AEOI */
	pulse(9);
	pulse(12);
	assert_int_equal(vpic_ack(&pic), 0x29);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x2c);
	assert_false(vpic_intr(&pic));
}

static void test_special_fully_nested(void **state)
{
	/* Without SFNM: the slave is locked out while IR2 is in service. */
	pulse(10);
	assert_int_equal(vpic_ack(&pic), 0x2a);
	pulse(8);
	assert_false(vpic_intr(&pic));

	init_pair(0x20, 0x28, 0x11, 0x01); /* master SFNM */
	pulse(10);
	assert_int_equal(vpic_ack(&pic), 0x2a);
	pulse(11);
	assert_false(vpic_intr(&pic)); /* lower than IR10 on the slave */
	pulse(8);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x28);
	assert_int_equal(read_isr(0xa0), 0x05);
	/* Lower master levels stay blocked by IR2. */
	pulse(4);
	out(0xa0, 0x20);
	out(0xa0, 0x20);
	assert_true(vpic_intr(&pic)); /* IR11 */
	assert_int_equal(vpic_ack(&pic), 0x2b);
	out(0xa0, 0x20);
	assert_false(vpic_intr(&pic));
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x24);
}

static void test_no_slave_on_ir2(void **state)
{
	/* Master ICW3 = 0: IR2 is a plain input, the master gives base + 2. */
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x00);
	out(0x21, 0x01);
	pulse(9);
	assert_int_equal(vpic_ack(&pic), 0x22);
	assert_int_equal(read_isr(0xa0), 0x00);
	assert_int_equal(read_irr(0xa0), 0x02);
}

static void test_null_env(void **state)
{
	static const struct emul_env none;

	vpic_init(&pic, &none);
	init_pair(0x20, 0x28, 0x01, 0x01);
	pulse(0);
	assert_true(vpic_intr(&pic));
	assert_int_equal(vpic_ack(&pic), 0x20);
}

static void test_poll(void **state)
{
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x00); /* nothing requesting */
	pulse(5);
	pulse(3);
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x83);
	assert_int_equal(read_isr(0x20), 0x08);
	/* One read per poll command: reads are registers again. */
	assert_int_equal(in(0x21), 0x00);
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x00); /* IR5 is below IR3 in service */
	out(0x20, 0x20);
	/* Polling the slave; the master reports level 2 for it. */
	pulse(13);
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x82);
	out(0xa0, 0x0c);
	assert_int_equal(in(0xa0), 0x85);
	assert_int_equal(read_isr(0xa0), 0x20);
}

static void test_read_select(void **state)
{
	pulse(6);
	assert_int_equal(vpic_ack(&pic), 0x26);
	pulse(7);
	/* After ICW1 reads return IRR. */
	assert_int_equal(in(0x20), 0x80);
	out(0x20, 0x0b);
	assert_int_equal(in(0x20), 0x40);
	assert_int_equal(in(0x20), 0x40); /* the selection sticks */
	out(0x20, 0x0a & ~0x02);           /* RR = 0: no change */
	assert_int_equal(in(0x20), 0x40);
	out(0x21, 0x5a);
	assert_int_equal(in(0x21), 0x5a);  /* A0 = 1 is always IMR */
	out(0x20, 0x0a);
	assert_int_equal(in(0x20), 0x80);
}

static void test_bad_access_and_ignored_lines(void **state)
{
	vpic_set_irq(&pic, 2, true); /* the cascade input is not an ISA line */
	vpic_set_irq(&pic, 16, true);
	assert_false(vpic_intr(&pic));
	assert_int_equal(vpic_ops.read(&pic, 0x20, 2), 0xffff);
	assert_int_equal(vpic_ops.read(&pic, 0x22, 1), 0xff);
	vpic_ops.write(&pic, 0x21, 2, 0xffff);
	assert_int_equal(in(0x21), 0x00);
}

static void test_save_restore_round_trip(void **state)
{
	uint8_t a[64], b[64];
	int n, m;

	out(0x4d1, 0x08);
	vpic_set_irq(&pic, 11, true);
	pulse(3);
	assert_int_equal(vpic_ack(&pic), 0x2b);
	out(0x20, 0xc5);
	out(0xa1, 0x10);
	out(0xa0, 0x0b);
	n = vpic_ops.save(&pic, a, sizeof(a));
	assert_true(n > 8);
	assert_int_equal(vpic_ops.save(&pic, a, (size_t)n - 1), -ENOSPC);

	vpic_init(&pic, &kenv);
	fk.kicks = 0;
	assert_int_equal(vpic_ops.restore(&pic, a, (size_t)n), 0);
	assert_true(fk.kicks >= 1);
	m = vpic_ops.save(&pic, b, sizeof(b));
	assert_int_equal(m, n);
	assert_memory_equal(a, b, (size_t)n);
	/* Behaviour carries over: ISR read selected on the slave, IR3 still waiting. */
	assert_int_equal(in(0xa0), 0x08);
	assert_int_equal(in(0xa1), 0x10);
	assert_int_equal(in(0x4d1), 0x08);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_int_equal(vpic_ack(&pic), 0x2b); /* level IRQ11 still high */
}

/* Record layout: header (8), then per chip irr isr imr lines elcr base icw3 lowest init flags[2]. */
#define REC_CHIP0 8
#define REC_BASE  5
#define REC_ELCR  4
#define REC_LOWEST 7
#define REC_INIT  8
#define REC_FLAGS0 9
#define REC_FLAGS1 10

static void expect_refused2(const uint8_t *good, size_t n, size_t off, uint8_t val,
			    size_t off2, uint8_t val2)
{
	uint8_t bad[64], before[64], after[64];

	memcpy(bad, good, n);
	bad[off] = val;
	bad[off2] = val2;
	vpic_ops.save(&pic, before, sizeof(before));
	assert_int_equal(vpic_ops.restore(&pic, bad, n), -EINVAL);
	vpic_ops.save(&pic, after, sizeof(after));
	assert_memory_equal(before, after, n);
}

static void expect_refused(const uint8_t *good, size_t n, size_t off, uint8_t val)
{
	expect_refused2(good, n, off, val, off, val);
}

static void test_restore_refuses_bad(void **state)
{
	uint8_t good[64];
	int n;

	pulse(4);
	n = vpic_ops.save(&pic, good, sizeof(good));
	pulse(6);
	expect_refused(good, (size_t)n, 0, 'X');                            /* magic */
	expect_refused(good, (size_t)n, 4, 2);                              /* version */
	expect_refused(good, (size_t)n, 6, (uint8_t)(n + 1));               /* size */
	expect_refused(good, (size_t)n, REC_CHIP0 + REC_BASE, 0x21);        /* base low bits */
	expect_refused(good, (size_t)n, REC_CHIP0 + REC_LOWEST, 8);         /* rotation */
	expect_refused(good, (size_t)n, REC_CHIP0 + REC_INIT, 4);           /* ICW state */
	expect_refused(good, (size_t)n, REC_CHIP0 + REC_ELCR, 0x01);        /* IRQ0 level */
	expect_refused(good, (size_t)n, REC_CHIP0 + 11 + REC_ELCR, 0x20);   /* IRQ13 level */
	expect_refused(good, (size_t)n, REC_CHIP0 + REC_FLAGS1, 0x80);      /* unknown flag */
	/* Waiting for ICW4 without IC4; for ICW3 in single mode. */
	expect_refused2(good, (size_t)n, REC_CHIP0 + REC_INIT, 3, REC_CHIP0 + REC_FLAGS0, 0x00);
	expect_refused2(good, (size_t)n, REC_CHIP0 + REC_INIT, 2, REC_CHIP0 + REC_FLAGS0, 0x02);
	/* Level IRQ4 with IRR set but the line low. */
	expect_refused(good, (size_t)n, REC_CHIP0 + REC_ELCR, 0x10);
	assert_int_equal(vpic_ops.restore(&pic, good, (size_t)n - 1), -EINVAL);
	assert_int_equal(vpic_ops.restore(&pic, good, (size_t)n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_power_on_masked, setup),
		cmocka_unit_test_setup(test_init_vector_base, setup),
		cmocka_unit_test_setup(test_init_single_and_no_icw4, setup),
		cmocka_unit_test_setup(test_icw1_resets, setup_linux),
		cmocka_unit_test_setup(test_fixed_priority_and_nesting, setup_linux),
		cmocka_unit_test_setup(test_specific_eoi, setup_linux),
		cmocka_unit_test_setup(test_rotate_on_nonspecific_eoi, setup_linux),
		cmocka_unit_test_setup(test_set_priority_and_rotate_specific, setup_linux),
		cmocka_unit_test_setup(test_aeoi_and_rotate_in_aeoi, setup),
		cmocka_unit_test_setup(test_mask, setup_linux),
		cmocka_unit_test_setup(test_special_mask_mode, setup_linux),
		cmocka_unit_test_setup(test_elcr_fixed_bits, setup_linux),
		cmocka_unit_test_setup(test_edge_vs_level_elcr, setup_linux),
		cmocka_unit_test_setup(test_level_via_ltim, setup_linux),
		cmocka_unit_test_setup(test_spurious_master, setup_linux),
		cmocka_unit_test_setup(test_spurious_slave, setup_linux),
		cmocka_unit_test_setup(test_cascade, setup_linux),
		cmocka_unit_test_setup(test_slave_aeoi_second_request, setup),
		cmocka_unit_test_setup(test_special_fully_nested, setup_linux),
		cmocka_unit_test_setup(test_no_slave_on_ir2, setup_linux),
		cmocka_unit_test_setup(test_null_env, setup),
		cmocka_unit_test_setup(test_poll, setup_linux),
		cmocka_unit_test_setup(test_read_select, setup_linux),
		cmocka_unit_test_setup(test_bad_access_and_ignored_lines, setup_linux),
		cmocka_unit_test_setup(test_save_restore_round_trip, setup_linux),
		cmocka_unit_test_setup(test_restore_refuses_bad, setup_linux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
