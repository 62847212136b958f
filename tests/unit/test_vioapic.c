/* SPDX-License-Identifier: MIT */
/* The I/O APIC (vmm/emul/vioapic.c) against the Intel 82093AA datasheet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vioapic.h"

#define BASE 0xfec00000ull

struct msg {
	uint8_t dest, mode, vector;
	bool logical, level;
};

struct fake {
	int n;
	struct msg m[16];
};

static struct fake fk;
static struct emul_env env;
static struct vioapic io;

static void fake_deliver(void *ctx, uint8_t dest, bool logical, uint8_t mode, uint8_t vector,
			 bool level)
{
	struct fake *f = ctx;

	assert_true(f->n < 16);
	f->m[f->n++] = (struct msg){ dest, mode, vector, logical, level };
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	memset(&env, 0, sizeof(env));
	env.ctx = &fk;
	env.deliver = fake_deliver;
	vioapic_init(&io, &env, BASE);
	return 0;
}

static uint32_t rd(uint8_t idx)
{
	vioapic_ops.write(&io, BASE + 0x00, 4, idx);
	return (uint32_t)vioapic_ops.read(&io, BASE + 0x10, 4);
}

static void wr(uint8_t idx, uint32_t v)
{
	vioapic_ops.write(&io, BASE + 0x00, 4, idx);
	vioapic_ops.write(&io, BASE + 0x10, 4, v);
}

/* Redirection entry n: low dword at 0x10 + 2n, high at 0x11 + 2n (3.2.4). */
static void rte(unsigned int pin, uint32_t hi, uint32_t lo)
{
	wr((uint8_t)(0x11 + 2 * pin), hi);
	wr((uint8_t)(0x10 + 2 * pin), lo);
}

static void expect_msg(int i, uint8_t dest, bool logical, uint8_t mode, uint8_t vector, bool level)
{
	assert_true(i < fk.n);
	assert_int_equal(fk.m[i].dest, dest);
	assert_int_equal(fk.m[i].logical, logical);
	assert_int_equal(fk.m[i].mode, mode);
	assert_int_equal(fk.m[i].vector, vector);
	assert_int_equal(fk.m[i].level, level);
}

static void test_reset_registers(void **state)
{
	assert_int_equal(rd(0x00), 0);
	assert_int_equal(rd(0x01), 0x00170020); /* 24 entries (max 17h), version 20h */
	assert_int_equal(rd(0x02), 0);
	for (unsigned int pin = 0; pin < 24; pin++) {
		assert_int_equal(rd((uint8_t)(0x10 + 2 * pin)), 0x00010000); /* masked */
		assert_int_equal(rd((uint8_t)(0x11 + 2 * pin)), 0);
	}
	vioapic_ops.write(&io, BASE, 4, 0x123);
	assert_int_equal(vioapic_ops.read(&io, BASE, 4), 0x23); /* bits 31:8 reserved */
	assert_null(vioapic_ops.poll);
}

static void test_id_ver_arb(void **state)
{
	wr(0x00, 0xffffffff);
	assert_int_equal(rd(0x00), 0x0f000000); /* only bits 27:24 */
	assert_int_equal(rd(0x02), 0x0f000000); /* ARB loaded with the ID */
	wr(0x00, 0x05000000);
	assert_int_equal(rd(0x00), 0x05000000);
	wr(0x01, 0);
	assert_int_equal(rd(0x01), 0x00170020);
	wr(0x02, 0);
	assert_int_equal(rd(0x02), 0x05000000);
	/* Indices naming no register. */
	assert_int_equal(rd(0x03), 0);
	assert_int_equal(rd(0x40), 0);
	assert_int_equal(rd(0xff), 0);
}

static void test_rte_read_only_bits(void **state)
{
	wr(0x10, 0xffffffff);
	/* 31:17 reserved, 14 Remote IRR and 12 Delivery Status read-only. */
	assert_int_equal(rd(0x10), 0x0001afff);
	wr(0x11, 0xffffffff);
	assert_int_equal(rd(0x11), 0xff000000); /* 55:32 reserved */
	wr(0x3e, 0x0000a0ee);
	assert_int_equal(rd(0x3e), 0x0000a0ee); /* entry 23 */
	assert_int_equal(rd(0x10), 0x0001afff);
}

static void test_edge_delivery(void **state)
{
	rte(4, 0x03000000, 0x00000031); /* fixed, physical, edge, dest 3 */
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(fk.n, 1);
	expect_msg(0, 3, false, 0, 0x31, false);
	vioapic_set_irq(&io, 4, true); /* no new edge */
	assert_int_equal(fk.n, 1);
	vioapic_set_irq(&io, 4, false);
	assert_int_equal(fk.n, 1);
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(fk.n, 2);
	vioapic_set_irq(&io, 4, false);
	/* Edge: no Remote IRR, no EOI needed for the next one. */
	assert_int_equal(rd(0x18) & 0x4000, 0);
	vioapic_set_irq(&io, 99, true);
	assert_int_equal(fk.n, 2);
}

static void test_edge_masked_is_lost(void **state)
{
	rte(1, 0, 0x00010041); /* masked */
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(fk.n, 0);
	wr(0x12, 0x00000041); /* unmask while high: the edge is gone */
	assert_int_equal(fk.n, 0);
	vioapic_set_irq(&io, 1, false);
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(fk.n, 1);
	expect_msg(0, 0, false, 0, 0x41, false);
}

static void test_level_remote_irr_and_eoi(void **state)
{
	/* Level, lowest priority, logical dest 0x0f, vector 0x50. */
	rte(10, 0x0f000000, 0x00008950);
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(fk.n, 1);
	expect_msg(0, 0x0f, true, 1, 0x50, true);
	assert_int_equal(rd(0x24), 0x0000c950); /* Remote IRR set */
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(fk.n, 1);
	vioapic_eoi(&io, 0x51); /* other vector */
	assert_int_equal(fk.n, 1);
	assert_int_equal(rd(0x24) & 0x4000, 0x4000);
	/* Still asserted at EOI: sent again. */
	vioapic_eoi(&io, 0x50);
	assert_int_equal(fk.n, 2);
	expect_msg(1, 0x0f, true, 1, 0x50, true);
	assert_int_equal(rd(0x24) & 0x4000, 0x4000);
	vioapic_set_irq(&io, 10, false);
	vioapic_eoi(&io, 0x50);
	assert_int_equal(fk.n, 2);
	assert_int_equal(rd(0x24) & 0x4000, 0);
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(fk.n, 3);
}

static void test_eoi_register(void **state)
{
	rte(16, 0x01000000, 0x0000a060); /* level, active low (stored only), vector 0x60 */
	rte(17, 0x01000000, 0x00008060); /* same vector on another pin */
	vioapic_set_irq(&io, 16, true);
	vioapic_set_irq(&io, 17, true);
	assert_int_equal(fk.n, 2);
	vioapic_ops.write(&io, BASE + 0x40, 4, 0x60);
	/* Both entries with the vector lose Remote IRR and both lines are still up. */
	assert_int_equal(fk.n, 4);
	expect_msg(2, 1, false, 0, 0x60, true);
	expect_msg(3, 1, false, 0, 0x60, true);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x40, 4), 0);
	vioapic_ops.write(&io, BASE + 0x40, 1, 0x60); /* not a dword: dropped */
	assert_int_equal(fk.n, 4);
}

static void test_level_mask_unmask(void **state)
{
	rte(9, 0, 0x00018070); /* level, masked */
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(fk.n, 0);
	assert_int_equal(rd(0x22) & 0x4000, 0);
	wr(0x22, 0x00008070); /* unmask an asserted level pin */
	assert_int_equal(fk.n, 1);
	expect_msg(0, 0, false, 0, 0x70, true);
	/* Mask, EOI, unmask: delivered again once unmasked. */
	wr(0x22, 0x00018070);
	vioapic_eoi(&io, 0x70);
	assert_int_equal(fk.n, 1);
	wr(0x22, 0x00008070);
	assert_int_equal(fk.n, 2);
	/* Unmasking a deasserted pin sends nothing. */
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x70);
	wr(0x22, 0x00018070);
	wr(0x22, 0x00008070);
	assert_int_equal(fk.n, 2);
}

static void test_switch_to_edge_clears_remote_irr(void **state)
{
	rte(3, 0, 0x00008033);
	vioapic_set_irq(&io, 3, true);
	assert_int_equal(rd(0x16) & 0x4000, 0x4000);
	wr(0x16, 0x00010033); /* masked, edge */
	assert_int_equal(rd(0x16), 0x00010033);
	vioapic_set_irq(&io, 3, false);
	wr(0x16, 0x00008033); /* level again, not asserted */
	assert_int_equal(fk.n, 1);
	vioapic_set_irq(&io, 3, true);
	assert_int_equal(fk.n, 2);
}

static void test_edge_only_modes(void **state)
{
	/* NMI programmed level is still an edge (3.2.4 Delivery Mode). */
	rte(5, 0x02000000, 0x00008400);
	vioapic_set_irq(&io, 5, true);
	assert_int_equal(fk.n, 1);
	expect_msg(0, 2, false, 4, 0x00, false);
	assert_int_equal(rd(0x1a) & 0x4000, 0);
	vioapic_set_irq(&io, 5, true);
	assert_int_equal(fk.n, 1);
	/* ExtINT. */
	rte(0, 0, 0x00000700);
	vioapic_set_irq(&io, 0, true);
	expect_msg(1, 0, false, 7, 0x00, false);
	/* Reserved mode 011 sends nothing. */
	rte(6, 0, 0x00000320);
	vioapic_set_irq(&io, 6, true);
	assert_int_equal(fk.n, 2);
}

static void test_bad_accesses(void **state)
{
	wr(0x10, 0x00000042);
	vioapic_ops.write(&io, BASE, 4, 0x10);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 2), 0xffff);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 1), 0xff);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 8), ~0ull);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x14, 4), 0xffffffff);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x20, 4), 0xffffffff);
	assert_int_equal(vioapic_ops.read(&io, BASE - 4, 4), 0xffffffff);
	vioapic_ops.write(&io, BASE + 0x10, 2, 0x0043);
	vioapic_ops.write(&io, BASE + 0x11, 1, 0x00);
	vioapic_ops.write(&io, BASE + 0x10, 8, 0x44);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 4), 0x00000042);
	/* 3.0: a byte write loads IOREGSEL. */
	vioapic_ops.write(&io, BASE, 1, 0x01);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 4), 0x00170020);
	assert_int_equal(vioapic_ops.read(&io, BASE, 1), 0x01);
}

static void test_other_base(void **state)
{
	vioapic_init(&io, &env, 0xfec01000ull);
	vioapic_ops.write(&io, 0xfec01000ull, 4, 0x01);
	assert_int_equal(vioapic_ops.read(&io, 0xfec01010ull, 4), 0x00170020);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 4), 0xffffffff);
}

static void test_reset_op(void **state)
{
	wr(0x00, 0x03000000);
	rte(2, 0xff000000, 0x00008022);
	vioapic_set_irq(&io, 2, true);
	vioapic_ops.reset(&io);
	assert_int_equal(rd(0x00), 0);
	assert_int_equal(rd(0x14), 0x00010000);
	assert_int_equal(rd(0x15), 0);
}

static void test_null_env(void **state)
{
	static const struct emul_env none;

	vioapic_init(&io, &none, BASE);
	rte(1, 0, 0x00008021);
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(rd(0x12), 0x0000c021); /* accepted, as far as it can tell */
	vioapic_eoi(&io, 0x21);
	assert_int_equal(fk.n, 0);
}

static void test_save_restore_round_trip(void **state)
{
	uint8_t a[512], b[512];
	int n;

	wr(0x00, 0x07000000);
	rte(10, 0x0f000000, 0x00008950);
	rte(11, 0x01000000, 0x00018051);
	rte(12, 0x02000000, 0x00000052);
	vioapic_set_irq(&io, 10, true);
	vioapic_set_irq(&io, 11, true);
	vioapic_ops.write(&io, BASE, 4, 0x27); /* entry 11 high */
	n = vioapic_ops.save(&io, a, sizeof(a));
	assert_int_equal(n, 8 + 2 + 4 + 24 * 8);
	assert_int_equal(vioapic_ops.save(&io, a, (size_t)n - 1), -ENOSPC);

	vioapic_init(&io, &env, BASE);
	assert_int_equal(vioapic_ops.restore(&io, a, (size_t)n), 0);
	assert_int_equal(fk.n, 1); /* restore sends nothing */
	assert_int_equal(vioapic_ops.save(&io, b, sizeof(b)), n);
	assert_memory_equal(a, b, (size_t)n);
	assert_int_equal(vioapic_ops.read(&io, BASE, 4), 0x27);
	assert_int_equal(vioapic_ops.read(&io, BASE + 0x10, 4), 0x01000000);
	assert_int_equal(rd(0x00), 0x07000000);
	/* Remote IRR and the levels came back: EOI resends pin 10; unmask sends pin 11. */
	vioapic_eoi(&io, 0x50);
	assert_int_equal(fk.n, 2);
	expect_msg(1, 0x0f, true, 1, 0x50, true);
	wr(0x26, 0x00008051);
	assert_int_equal(fk.n, 3);
	expect_msg(2, 1, false, 0, 0x51, true);
}

/* Record layout: header (8), id, ioregsel, levels (4), entries (8 each). */
#define REC_ID     8
#define REC_LEVELS 10
#define REC_RTE(n) (14 + 8 * (n))

static void expect_refused(const uint8_t *good, size_t n, size_t off, uint8_t val)
{
	uint8_t bad[512], before[512], after[512];

	memcpy(bad, good, n);
	bad[off] = val;
	vioapic_ops.save(&io, before, sizeof(before));
	assert_int_equal(vioapic_ops.restore(&io, bad, n), -EINVAL);
	vioapic_ops.save(&io, after, sizeof(after));
	assert_memory_equal(before, after, n);
}

static void test_restore_refuses_bad(void **state)
{
	uint8_t good[512];
	int n;

	rte(4, 0, 0x00008040);
	vioapic_set_irq(&io, 4, true);
	n = vioapic_ops.save(&io, good, sizeof(good));
	wr(0x00, 0x02000000);
	rte(5, 0, 0x00000041);
	expect_refused(good, (size_t)n, 0, 'X');                 /* magic */
	expect_refused(good, (size_t)n, 4, 2);                   /* version */
	expect_refused(good, (size_t)n, 6, 0);                   /* size */
	expect_refused(good, (size_t)n, REC_ID, 0x10);           /* 4-bit ID */
	expect_refused(good, (size_t)n, REC_LEVELS + 3, 0x01);   /* pin 24 */
	expect_refused(good, (size_t)n, REC_RTE(0) + 1, 0x10);   /* Delivery Status */
	expect_refused(good, (size_t)n, REC_RTE(0) + 3, 0x01);   /* reserved bit 24 */
	expect_refused(good, (size_t)n, REC_RTE(0) + 6, 0x01);   /* reserved bit 48 */
	expect_refused(good, (size_t)n, REC_RTE(0) + 1, 0x40);   /* Remote IRR on an edge entry */
	assert_int_equal(vioapic_ops.restore(&io, good, (size_t)n + 1), -EINVAL);
	assert_int_equal(vioapic_ops.restore(&io, good, (size_t)n), 0);
	assert_int_equal(rd(0x18), 0x0000c040);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_registers, setup),
		cmocka_unit_test_setup(test_id_ver_arb, setup),
		cmocka_unit_test_setup(test_rte_read_only_bits, setup),
		cmocka_unit_test_setup(test_edge_delivery, setup),
		cmocka_unit_test_setup(test_edge_masked_is_lost, setup),
		cmocka_unit_test_setup(test_level_remote_irr_and_eoi, setup),
		cmocka_unit_test_setup(test_eoi_register, setup),
		cmocka_unit_test_setup(test_level_mask_unmask, setup),
		cmocka_unit_test_setup(test_switch_to_edge_clears_remote_irr, setup),
		cmocka_unit_test_setup(test_edge_only_modes, setup),
		cmocka_unit_test_setup(test_bad_accesses, setup),
		cmocka_unit_test_setup(test_other_base, setup),
		cmocka_unit_test_setup(test_reset_op, setup),
		cmocka_unit_test_setup(test_null_env, setup),
		cmocka_unit_test_setup(test_save_restore_round_trip, setup),
		cmocka_unit_test_setup(test_restore_refuses_bad, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
