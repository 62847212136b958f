/* SPDX-License-Identifier: MIT */
/* The 8042 keyboard controller (vmm/emul/vkbc.c): IBM PC/AT Technical Reference, keyboard controller. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vkbc.h"
#include "tests/unit/fake_env.h"

#define ST_OBF 0x01u /* status bit 0: output buffer full */
#define ST_SYS 0x04u /* status bit 2: system flag */
#define ST_A2  0x08u /* status bit 3: last write was a command (port 0x64) */

static struct vkbc kbc;

static const struct emul_env env = { .ctx = &fk, .request = fake_request };

static uint8_t in(uint16_t port)
{
	return (uint8_t)vkbc_ops.read(&kbc, port, 1);
}

static void out(uint16_t port, uint8_t v)
{
	vkbc_ops.write(&kbc, port, 1, v);
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	vkbc_init(&kbc, &env);
	return 0;
}

static void test_status_idle(void **state)
{
	(void)state;
	assert_int_equal(in(0x64) & ST_OBF, 0);
	assert_int_equal(in(0x64) & 0x02, 0); /* IBF: the controller takes bytes at once */
	assert_int_equal(in(0x64) & 0x10, 0x10); /* keylock: not inhibited (Linux warns otherwise) */
	assert_int_equal(fk.nreq, 0);
}

/* 0xAA: controller self-test, 0x55 in the output buffer; reading 0x60 empties it. */
static void test_self_test(void **state)
{
	(void)state;
	out(0x64, 0xaa);
	assert_int_equal(in(0x64) & ST_OBF, ST_OBF);
	assert_int_equal(in(0x64) & ST_A2, ST_A2);
	assert_int_equal(in(0x64) & ST_SYS, ST_SYS); /* set by a passed self-test */
	assert_int_equal(in(0x60), 0x55);
	assert_int_equal(in(0x64) & ST_OBF, 0);
	/* 0xAB keyboard interface test: 0x00, no error. */
	out(0x64, 0xab);
	assert_int_equal(in(0x64) & ST_OBF, ST_OBF);
	assert_int_equal(in(0x60), 0x00);
	assert_int_equal(in(0x64) & ST_OBF, 0);
	assert_int_equal(fk.nreq, 0);
}

/* 0x20 reads, 0x60 writes the command byte; its bit 2 is the status system flag. */
static void test_command_byte(void **state)
{
	(void)state;
	out(0x64, 0x60);
	assert_int_equal(in(0x64) & ST_OBF, 0);
	out(0x60, 0x45);
	assert_int_equal(in(0x64) & ST_A2, 0); /* last write was data */
	out(0x64, 0x20);
	assert_int_equal(in(0x64) & ST_OBF, ST_OBF);
	assert_int_equal(in(0x60), 0x45);
	assert_int_equal(in(0x64) & ST_SYS, ST_SYS);
	out(0x64, 0x60);
	out(0x60, 0x41);
	assert_int_equal(in(0x64) & ST_SYS, 0);
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x41);
	/* A data byte with no command pending goes to the keyboard, not the command byte. */
	out(0x60, 0xff);
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x41);
	assert_int_equal(fk.nreq, 0);
}

/* 0xAD/0xAE and 0xA7/0xA8 set and clear command-byte bits 4 and 5, as Linux's toggle checks. */
static void test_port_disable(void **state)
{
	(void)state;
	out(0x64, 0xa7);
	out(0x64, 0x20);
	assert_int_equal(in(0x60) & 0x30, 0x20);
	out(0x64, 0xad);
	out(0x64, 0x20);
	assert_int_equal(in(0x60) & 0x30, 0x30);
	out(0x64, 0xa8);
	out(0x64, 0x20);
	assert_int_equal(in(0x60) & 0x30, 0x10);
	out(0x64, 0xae);
	out(0x64, 0x20);
	assert_int_equal(in(0x60) & 0x30, 0x00);
	assert_int_equal(fk.nreq, 0);
}

/* 0xD0 reads, 0xD1 writes the output port; bit 0 low holds the CPU in reset. */
static void test_output_port(void **state)
{
	(void)state;
	out(0x64, 0xd0);
	assert_int_equal(in(0x64) & ST_OBF, ST_OBF);
	assert_int_equal(in(0x60) & 0x01, 0x01); /* not in reset */
	out(0x64, 0xd1);
	out(0x60, 0xdf); /* A20 on, reset high: what Linux writes */
	assert_int_equal(fk.nreq, 0);
	out(0x64, 0xd0);
	assert_int_equal(in(0x60), 0xdf);
	out(0x64, 0xd1);
	out(0x60, 0xdd);
	assert_int_equal(fk.nreq, 0);
	out(0x64, 0xd1);
	out(0x60, 0xde); /* bit 0 low: reset */
	assert_int_equal(fk.nreq, 1);
	assert_int_equal(fk.req[0], EMUL_RESET);
}

/* 0xF0-0xFF pulse the output-port bits whose command bits are 0 (bit 0: reset). */
static void test_pulse(void **state)
{
	(void)state;
	out(0x64, 0xff); /* pulses nothing */
	assert_int_equal(fk.nreq, 0);
	out(0x64, 0xfd); /* bit 1 only */
	out(0x64, 0xf1);
	assert_int_equal(fk.nreq, 0);
	out(0x64, 0xfe);
	assert_int_equal(fk.nreq, 1);
	assert_int_equal(fk.req[0], EMUL_RESET);
	out(0x64, 0xf0);
	assert_int_equal(fk.nreq, 2);
	assert_int_equal(fk.req[1], EMUL_RESET);
	/* A pulse is not a lasting level: the output port's bit 0 reads high afterwards. */
	out(0x64, 0xd0);
	assert_int_equal(in(0x60) & 0x01, 0x01);
}

static void test_save_restore(void **state)
{
	uint8_t buf[64], bad[64];
	int n;

	(void)state;
	out(0x64, 0x60);
	out(0x60, 0x65);
	out(0x64, 0xd1); /* pending: the output port's data byte */
	assert_int_equal(vkbc_ops.save(&kbc, buf, 4), -ENOSPC);
	n = vkbc_ops.save(&kbc, buf, sizeof(buf));
	assert_true(n > 8 && n <= (int)sizeof(buf));
	assert_int_equal(buf[6] | buf[7] << 8, n);
	vkbc_init(&kbc, &env);
	assert_int_equal(vkbc_ops.restore(&kbc, buf, (size_t)n), 0);
	out(0x60, 0xde);
	assert_int_equal(fk.nreq, 1); /* the pending 0xD1 took the byte */
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x65);
	for (unsigned int i = 0; i < 8; i++) {
		memcpy(bad, buf, (size_t)n);
		bad[i] ^= 0x40;
		assert_int_equal(vkbc_ops.restore(&kbc, bad, (size_t)n), -EINVAL);
	}
	assert_int_equal(vkbc_ops.restore(&kbc, buf, (size_t)n - 1), -EINVAL);
	assert_int_equal(vkbc_ops.restore(&kbc, buf, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status_idle, setup),
		cmocka_unit_test_setup(test_port_disable, setup),
		cmocka_unit_test_setup(test_self_test, setup),
		cmocka_unit_test_setup(test_command_byte, setup),
		cmocka_unit_test_setup(test_output_port, setup),
		cmocka_unit_test_setup(test_pulse, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
