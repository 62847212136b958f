/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 and the reset control register (vmm/emul/vpci.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vpci.h"
#include "tests/unit/fake_env.h"

static struct vpci pci;

static const struct emul_env env = { .ctx = &fk, .request = fake_request };

static uint64_t ones(unsigned int size)
{
	return (1ull << (8 * size)) - 1;
}

/* As the bus does: the value masked to the access size. */
static uint32_t in(uint16_t port, unsigned int size)
{
	return (uint32_t)(vpci_ops.read(&pci, port, size) & ones(size));
}

static void out(uint16_t port, unsigned int size, uint32_t v)
{
	vpci_ops.write(&pci, port, size, v & ones(size));
}

/* CONFIG_ADDRESS for bus/device/function/register, enable bit 31 set (PCI 3.0 3.2.2.3.2). */
static uint32_t cfg(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | reg;
}

static uint32_t rd(uint32_t addr, unsigned int size)
{
	out(0xcf8, 4, addr & ~3u);
	return in((uint16_t)(0xcfc + (addr & 3)), size);
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	vpci_init(&pci, &env);
	return 0;
}

/* CONFIG_ADDRESS latches only on dword writes; bits 30:24 and 1:0 read 0. */
static void test_config_address(void **state)
{
	(void)state;
	out(0xcf8, 4, 0x80001234);
	assert_int_equal(in(0xcf8, 4), 0x80001234);
	out(0xcf8, 4, 0xffffffff);
	assert_int_equal(in(0xcf8, 4), 0x80fffffc);
	out(0xcf8, 4, 0x80000000);
	out(0xcf8, 1, 0x55); /* not a dword: ordinary I/O, nothing latched */
	out(0xcfa, 2, 0x5555);
	out(0xcfb, 1, 0x55);
	assert_int_equal(in(0xcf8, 4), 0x80000000);
	assert_int_equal(in(0xcf8, 1), 0xff);
	assert_int_equal(in(0xcfa, 2), 0xffff);
}

/* The host bridge at 00:00.0: Intel 440FX, class 06/00/00, header type 0 single function. */
static void test_host_bridge(void **state)
{
	(void)state;
	assert_int_equal(rd(cfg(0, 0, 0, 0), 4), 0x12378086);
	assert_int_equal(rd(cfg(0, 0, 0, 0), 2), 0x8086);
	assert_int_equal(rd(cfg(0, 0, 0, 2), 2), 0x1237);
	assert_int_equal(rd(cfg(0, 0, 0, 0), 1), 0x86);
	assert_int_equal(rd(cfg(0, 0, 0, 1), 1), 0x80);
	assert_int_equal(rd(cfg(0, 0, 0, 2), 1), 0x37);
	assert_int_equal(rd(cfg(0, 0, 0, 3), 1), 0x12);
	assert_int_equal(rd(cfg(0, 0, 0, 8), 4) >> 8, 0x060000);
	assert_int_equal(rd(cfg(0, 0, 0, 0xb), 1), 0x06); /* base class: bridge */
	assert_int_equal(rd(cfg(0, 0, 0, 0xa), 1), 0x00); /* subclass: host bridge */
	assert_int_equal(rd(cfg(0, 0, 0, 0x9), 1), 0x00);
	assert_int_equal(rd(cfg(0, 0, 0, 0xa), 2), 0x0600);
	assert_int_equal(rd(cfg(0, 0, 0, 0xe), 1), 0x00);
	assert_int_equal(rd(cfg(0, 0, 0, 0xc), 4) & 0x00ff0000, 0);
	/* Vendor and device IDs are read-only. */
	out(0xcf8, 4, cfg(0, 0, 0, 0));
	out(0xcfc, 4, 0);
	assert_int_equal(rd(cfg(0, 0, 0, 0), 4), 0x12378086);
}

/* No device answers elsewhere: a master abort reads all-ones, writes vanish. */
static void test_absent(void **state)
{
	static const uint32_t where[] = {
		0x80000800u, /* 00:01.0 */ 0x80000100u, /* 00:00.1 */ 0x80000700u, /* 00:00.7 */
		0x80010000u, /* 01:00.0 */ 0x80ff0000u, 0x80fff800u,
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		assert_int_equal(rd(where[i], 4), 0xffffffffu);
		assert_int_equal(rd(where[i] | 2, 2), 0xffff);
		assert_int_equal(rd(where[i] | 3, 1), 0xff);
		out(0xcfc, 4, 0);
		assert_int_equal(rd(where[i], 4), 0xffffffffu);
	}
}

/* Enable bit 31 clear: CONFIG_DATA is ordinary I/O, no configuration cycle. */
static void test_disabled(void **state)
{
	(void)state;
	out(0xcf8, 4, 0x00000000);
	assert_int_equal(in(0xcfc, 4), 0xffffffffu);
	assert_int_equal(in(0xcfc, 2), 0xffff);
	out(0xcf8, 4, 0x00000004);
	out(0xcfc, 2, 0x0000);
	assert_int_equal(rd(cfg(0, 0, 0, 4), 2), 0x0006);
}

/* The command register: default 0006h; only implemented bits stick (PCI 3.0 6.2.2). */
static void test_command(void **state)
{
	(void)state;
	assert_int_equal(rd(cfg(0, 0, 0, 4), 2), 0x0006);
	out(0xcf8, 4, cfg(0, 0, 0, 4));
	out(0xcfc, 2, 0xffff);
	/* I/O space (0), special cycles, MWI, VGA snoop (3-5), stepping (7), 9-15: not a host bridge's */
	assert_int_equal(in(0xcfc, 2) & 0xfeb9, 0);
	assert_int_equal(in(0xcfc, 2) & 0x0140, 0x0140); /* parity response, SERR# enable */
	out(0xcfd, 1, 0x00);
	assert_int_equal(in(0xcfc, 2) & 0x0100, 0);
	assert_int_equal(in(0xcfc, 2) & 0x0040, 0x0040);
	out(0xcfc, 1, 0x06);
	assert_int_equal(in(0xcfc, 2), 0x0006);
	/* A dword write at 04h also hits status (06h): the header stays the same. */
	out(0xcfc, 4, 0x00000146);
	assert_int_equal(in(0xcfc, 2), 0x0146);
	assert_int_equal(rd(cfg(0, 0, 0, 0), 4), 0x12378086);
}

/* RCR (0xCF9): a 0 -> 1 transition of bit 2 resets (PIIX4 datasheet, RCR). */
static void test_reset_register(void **state)
{
	(void)state;
	assert_int_equal(in(0xcf9, 1), 0x00);
	out(0xcf9, 1, 0x02); /* hard reset selected, no RCPU edge */
	assert_int_equal(fk.nreq, 0);
	assert_int_equal(in(0xcf9, 1), 0x02);
	out(0xcf9, 1, 0x06);
	assert_int_equal(fk.nreq, 1);
	assert_int_equal(fk.req[0], EMUL_RESET);
	out(0xcf9, 1, 0x06); /* bit 2 stays 1: no edge */
	out(0xcf9, 1, 0x04);
	assert_int_equal(fk.nreq, 1);
	out(0xcf9, 1, 0x02);
	assert_int_equal(fk.nreq, 1);
	out(0xcf9, 1, 0x04); /* a new edge */
	assert_int_equal(fk.nreq, 2);
	assert_int_equal(fk.req[1], EMUL_RESET);
	/* Only byte accesses at 0xCF9 are the RCR: a dword at 0xCF8 is CONFIG_ADDRESS. */
	out(0xcf9, 1, 0x00);
	out(0xcf8, 4, 0x80000400);
	assert_int_equal(fk.nreq, 2);
	assert_int_equal(in(0xcf9, 1), 0x00);
}

static void test_save_restore(void **state)
{
	uint8_t buf[64], bad[64];
	int n;

	(void)state;
	out(0xcf8, 4, cfg(0, 0, 0, 4));
	out(0xcfc, 2, 0x0146);
	out(0xcf9, 1, 0x02);
	assert_int_equal(vpci_ops.save(&pci, buf, 4), -ENOSPC);
	n = vpci_ops.save(&pci, buf, sizeof(buf));
	assert_true(n > 8 && n <= (int)sizeof(buf));
	assert_int_equal(buf[6] | buf[7] << 8, n);
	vpci_init(&pci, &env);
	assert_int_equal(vpci_ops.restore(&pci, buf, (size_t)n), 0);
	assert_int_equal(in(0xcf8, 4), cfg(0, 0, 0, 4));
	assert_int_equal(in(0xcfc, 2), 0x0146);
	assert_int_equal(in(0xcf9, 1), 0x02);
	assert_int_equal(rd(cfg(0, 0, 0, 0), 4), 0x12378086);
	out(0xcf9, 1, 0x06);
	assert_int_equal(fk.nreq, 1);
	for (unsigned int i = 0; i < 8; i++) {
		memcpy(bad, buf, (size_t)n);
		bad[i] ^= 0x40;
		assert_int_equal(vpci_ops.restore(&pci, bad, (size_t)n), -EINVAL);
	}
	assert_int_equal(vpci_ops.restore(&pci, buf, (size_t)n - 1), -EINVAL);
	assert_int_equal(vpci_ops.restore(&pci, buf, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config_address, setup),
		cmocka_unit_test_setup(test_host_bridge, setup),
		cmocka_unit_test_setup(test_absent, setup),
		cmocka_unit_test_setup(test_disabled, setup),
		cmocka_unit_test_setup(test_command, setup),
		cmocka_unit_test_setup(test_reset_register, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
