// SPDX-License-Identifier: MIT
/* Unit tests for the device buses (vmm/emul/bus.c): ranges, open bus, splitting, poll/reset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/bus.h"

/* A device that records its last access and answers with its address bytes. */
struct fake {
	uint64_t addr, val;
	unsigned int size, reads, writes, resets, polls;
	uint64_t deadline;
};

static uint64_t f_read(void *d, uint64_t addr, unsigned int size)
{
	struct fake *f = d;

	f->addr = addr;
	f->size = size;
	f->reads++;
	return 0x8877665544332211ull + (addr & 0xff); /* more bytes than asked: the bus masks */
}

static void f_write(void *d, uint64_t addr, unsigned int size, uint64_t val)
{
	struct fake *f = d;

	f->addr = addr;
	f->size = size;
	f->val = val;
	f->writes++;
}

static void f_reset(void *d)
{
	((struct fake *)d)->resets++;
}

static uint64_t f_poll(void *d, uint64_t now)
{
	struct fake *f = d;

	f->polls++;
	return f->deadline;
}

static const struct dev_ops fake_ops = { "fake", 8, f_read, f_write, f_reset, f_poll, NULL, NULL };
static const struct dev_ops narrow_ops = { "narrow", 0, f_read, f_write, NULL, NULL, NULL, NULL };

static void test_add_and_find(void **state)
{
	static struct bus b;
	struct fake a = { 0 }, c = { 0 };

	assert_int_equal(bus_add(&b, 0x40, 4, &fake_ops, &a), 0);
	assert_int_equal(bus_add(&b, 0x20, 2, &fake_ops, &c), 0);
	assert_int_equal(bus_add(&b, 0x61, 1, &fake_ops, &a), 0);
	/* Overlaps at either end, inside, and around are refused. */
	assert_int_equal(bus_add(&b, 0x43, 1, &fake_ops, &c), -EEXIST);
	assert_int_equal(bus_add(&b, 0x3f, 2, &fake_ops, &c), -EEXIST);
	assert_int_equal(bus_add(&b, 0x10, 0x100, &fake_ops, &c), -EEXIST);
	assert_int_equal(bus_add(&b, 0x21, 1, &fake_ops, &c), -EEXIST);
	assert_int_equal(bus_add(&b, 0x50, 0, &fake_ops, &c), -EINVAL);
	assert_int_equal(bus_add(&b, ~0ull - 1, 4, &fake_ops, &c), -EINVAL);
	/* Adjacent is fine. */
	assert_int_equal(bus_add(&b, 0x44, 1, &fake_ops, &c), 0);
	assert_int_equal(b.n, 4);
	for (uint32_t i = 1; i < b.n; i++)
		assert_true(b.r[i - 1].base + b.r[i - 1].len <= b.r[i].base);
	assert_ptr_equal(bus_find(&b, 0x43)->dev, &a);
	assert_ptr_equal(bus_find(&b, 0x44)->dev, &c);
	assert_ptr_equal(bus_find(&b, 0x21)->dev, &c);
	assert_null(bus_find(&b, 0x22));
	assert_null(bus_find(&b, 0x3f));
	assert_null(bus_find(&b, 0x45));
	assert_null(bus_find(&b, 0));
	assert_null(bus_find(&b, ~0ull));
}

static void test_full(void **state)
{
	static struct bus b;
	struct fake a = { 0 };

	for (uint32_t i = 0; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_add(&b, 0x1000 - 2 * i, 1, &fake_ops, &a), 0);
	assert_int_equal(bus_add(&b, 0x2000, 1, &fake_ops, &a), -ENOSPC);
	for (uint32_t i = 0; i < BUS_MAX_RANGES; i++)
		assert_non_null(bus_find(&b, 0x1000 - 2 * i));
	assert_null(bus_find(&b, 0x1000 - 1));
}

static void test_open_bus(void **state)
{
	static struct bus b;

	assert_int_equal(bus_read(&b, 0x80, 1), 0xff);
	assert_int_equal(bus_read(&b, 0x80, 2), 0xffff);
	assert_int_equal(bus_read(&b, 0xcfc, 4), 0xffffffffu);
	assert_true(bus_read(&b, 0xfed00000, 8) == ~0ull);
	assert_int_equal(b.open_reads, 1 + 2 + 4 + 8);
	bus_write(&b, 0x70, 2, 0x1234);
	assert_int_equal(b.open_writes, 2);
	assert_int_equal(b.last_open, 0x71);
}

static void test_whole_and_split(void **state)
{
	static struct bus b;
	struct fake a = { 0 }, c = { 0 };

	assert_int_equal(bus_add(&b, 0x3f8, 8, &fake_ops, &a), 0);
	assert_int_equal(bus_add(&b, 0x400, 4, &fake_ops, &c), 0);
	/* Inside one range: one access of the full size, the value masked to it. */
	assert_int_equal(bus_read(&b, 0x3f8, 2), 0x2211 + 0xf8);
	assert_int_equal(a.size, 2);
	assert_int_equal(a.reads, 1);
	bus_write(&b, 0x3fc, 4, 0xaabbccddeeull);
	assert_int_equal(a.size, 4);
	assert_int_equal(a.val, 0xbbccddee);
	/* Straddling two ranges: byte by byte, each to its owner, little-endian. */
	a.reads = c.reads = 0;
	assert_int_equal(bus_read(&b, 0x3fe, 4),
			 (uint32_t)(uint8_t)(0x11 + 0xfe) | (uint32_t)(uint8_t)(0x11 + 0xff) << 8 |
			 (uint32_t)0x11 << 16 | (uint32_t)(0x11 + 1) << 24);
	assert_int_equal(a.reads, 2);
	assert_int_equal(c.reads, 2);
	assert_int_equal(c.size, 1);
	/* Half device, half open bus. */
	b.open_reads = 0;
	assert_int_equal(bus_read(&b, 0x3f6, 4), 0xffffu | (uint32_t)(uint8_t)(0x11 + 0xf8) << 16 |
			 (uint32_t)(uint8_t)(0x11 + 0xf9) << 24);
	assert_int_equal(b.open_reads, 2);
	c.writes = 0;
	bus_write(&b, 0x403, 2, 0x5566);
	assert_int_equal(c.writes, 1);
	assert_int_equal(c.addr, 0x403);
	assert_int_equal(c.val, 0x66);
	assert_int_equal(b.open_writes, 1);
}

/* A byte-wide device (width 0) gets every access byte by byte. */
static void test_narrow(void **state)
{
	static struct bus b;
	struct fake a = { 0 };

	assert_int_equal(bus_add(&b, 0x3f8, 8, &narrow_ops, &a), 0);
	assert_int_equal(bus_read(&b, 0x3f8, 2), (uint32_t)(uint8_t)(0x11 + 0xf8) | (uint32_t)(uint8_t)(0x11 + 0xf9) << 8);
	assert_int_equal(a.reads, 2);
	assert_int_equal(a.size, 1);
	bus_write(&b, 0x3f8, 4, 0x44332211);
	assert_int_equal(a.writes, 4);
	assert_int_equal(a.addr, 0x3fb);
	assert_int_equal(a.val, 0x44);
	assert_int_equal(b.open_reads + b.open_writes, 0);
}

static void test_reset_poll_once(void **state)
{
	static struct bus b;
	struct fake a = { .deadline = 500 }, c = { .deadline = 200 };

	assert_int_equal(bus_add(&b, 0x40, 4, &fake_ops, &a), 0);
	assert_int_equal(bus_add(&b, 0x61, 1, &fake_ops, &a), 0);
	assert_int_equal(bus_add(&b, 0x50, 1, &fake_ops, &c), 0);
	bus_reset(&b);
	assert_int_equal(a.resets, 1);
	assert_int_equal(c.resets, 1);
	assert_int_equal(bus_poll(&b, 0), 200);
	assert_int_equal(a.polls, 1);
	c.deadline = EMUL_NEVER;
	assert_int_equal(bus_poll(&b, 0), 500);
	a.deadline = EMUL_NEVER;
	assert_true(bus_poll(&b, 0) == EMUL_NEVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_find),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_open_bus),
		cmocka_unit_test(test_whole_and_split),
		cmocka_unit_test(test_narrow),
		cmocka_unit_test(test_reset_poll_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
