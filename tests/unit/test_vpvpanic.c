/* SPDX-License-Identifier: MIT */
/* The pvpanic ISA device (vmm/emul/vpvpanic.c): QEMU docs/specs/pvpanic.rst, "ISA Interface". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/vpvpanic.h"
#include "tests/unit/fake_env.h"

static struct vpvpanic pvp;

static const struct emul_env env = { .ctx = &fk, .request = fake_request };

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	vpvpanic_init(&pvp, &env);
	return 0;
}

/* A read returns the recognised events: bit 0 (PANICKED) alone; reading requests nothing. */
static void test_read_events(void **state)
{
	(void)state;
	assert_int_equal(vpvpanic_ops.read(&pvp, 0x505, 1), 0x01);
	assert_int_equal(vpvpanic_ops.read(&pvp, 0x505, 1), 0x01);
	assert_int_equal(fk.nreq, 0);
	assert_int_equal(vpvpanic_ops.width, 1);
}

/* Linux's pvpanic_send_event(PVPANIC_PANICKED): iowrite8(1, base) requests a crash stop. */
static void test_write_panicked(void **state)
{
	(void)state;
	vpvpanic_ops.write(&pvp, 0x505, 1, 0x01);
	assert_int_equal(fk.nreq, 1);
	assert_int_equal(fk.req[0], EMUL_CRASH);
	/* Other bits beside bit 0 do not hide it. */
	vpvpanic_ops.write(&pvp, 0x505, 1, 0xff);
	assert_int_equal(fk.nreq, 2);
	assert_int_equal(fk.req[1], EMUL_CRASH);
}

/* Bits the device does not recognise are ignored: CRASH_LOADED (1), shutdown (2), the rest. */
static void test_write_other_bits(void **state)
{
	(void)state;
	vpvpanic_ops.write(&pvp, 0x505, 1, 0x00);
	vpvpanic_ops.write(&pvp, 0x505, 1, 0x02);
	vpvpanic_ops.write(&pvp, 0x505, 1, 0x04);
	vpvpanic_ops.write(&pvp, 0x505, 1, 0xfe);
	assert_int_equal(fk.nreq, 0);
	assert_int_equal(vpvpanic_ops.read(&pvp, 0x505, 1), 0x01);
}

/* No request callback (a unit harness without one): a write is harmless. */
static void test_no_request_callback(void **state)
{
	static const struct emul_env bare = { .ctx = &fk };

	(void)state;
	vpvpanic_init(&pvp, &bare);
	vpvpanic_ops.write(&pvp, 0x505, 1, 0x01);
	assert_int_equal(fk.nreq, 0);
}

static void test_reset(void **state)
{
	(void)state;
	pvp.events = 0;
	vpvpanic_ops.reset(&pvp);
	assert_int_equal(vpvpanic_ops.read(&pvp, 0x505, 1), 0x01);
}

static void test_save_restore(void **state)
{
	uint8_t buf[64], bad[64];
	int n;

	(void)state;
	assert_int_equal(vpvpanic_ops.save(&pvp, buf, 4), -ENOSPC);
	n = vpvpanic_ops.save(&pvp, buf, sizeof(buf));
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "PVP1", 4);
	assert_int_equal(buf[4] | buf[5] << 8, 1); /* version */
	assert_int_equal(buf[6] | buf[7] << 8, n);
	assert_int_equal(buf[8], 0x01);
	pvp.events = 0;
	assert_int_equal(vpvpanic_ops.restore(&pvp, buf, (size_t)n), 0);
	assert_int_equal(vpvpanic_ops.read(&pvp, 0x505, 1), 0x01);
	vpvpanic_ops.write(&pvp, 0x505, 1, 0x01);
	assert_int_equal(fk.nreq, 1);
	/* Header bytes, the events (a mask this model would not have) and the reserved bytes. */
	for (unsigned int i = 0; i < (unsigned int)n; i++) {
		memcpy(bad, buf, (size_t)n);
		bad[i] ^= 0x40;
		assert_int_equal(vpvpanic_ops.restore(&pvp, bad, (size_t)n), -EINVAL);
	}
	assert_int_equal(vpvpanic_ops.restore(&pvp, buf, (size_t)n - 1), -EINVAL);
	assert_int_equal(vpvpanic_ops.restore(&pvp, buf, 4), -EINVAL);
	assert_int_equal(vpvpanic_ops.read(&pvp, 0x505, 1), 0x01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_read_events, setup),
		cmocka_unit_test_setup(test_write_panicked, setup),
		cmocka_unit_test_setup(test_write_other_bits, setup),
		cmocka_unit_test_setup(test_no_request_callback, setup),
		cmocka_unit_test_setup(test_reset, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
