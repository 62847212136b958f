// SPDX-License-Identifier: MIT
/* Unit tests for the boot configuration parser (boot/bootcfg.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "boot/bootcfg.h"

static struct bootcfg cfg;
static char err[160];

static int parse(const char *text)
{
	return bootcfg_parse(text, strlen(text), &cfg, err, sizeof(err));
}

static void test_full_config(void **state)
{
	assert_int_equal(parse("# comment\n"
			       "kernel /tern/tern.elf\n"
			       "\n"
			       "cmdline  console=com1 loglevel=debug  \r\n"
			       "module /tern/hello.bin hello\n"
			       "  module\t/tern/mgmt.elf mgmt\n"),
			 0);
	assert_string_equal(cfg.kernel, "/tern/tern.elf");
	assert_string_equal(cfg.cmdline, "console=com1 loglevel=debug");
	assert_int_equal(cfg.nr_modules, 2);
	assert_string_equal(cfg.modules[0].path, "/tern/hello.bin");
	assert_string_equal(cfg.modules[0].name, "hello");
	assert_string_equal(cfg.modules[1].name, "mgmt");
}

static void test_no_trailing_newline(void **state)
{
	assert_int_equal(parse("kernel /k.elf"), 0);
	assert_string_equal(cfg.kernel, "/k.elf");
	assert_string_equal(cfg.cmdline, "");
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "kernel /k\nmodul /x.bin x\n",
		  "tern.cfg line 2: unknown keyword 'modul' (expected kernel, cmdline or module)" },
		{ "", "tern.cfg line 0: no kernel line (add: kernel /tern/tern.elf)" },
		{ "kernel\n", "tern.cfg line 1: kernel needs a path (kernel /tern/tern.elf)" },
		{ "kernel /a /b\n", "tern.cfg line 1: unexpected word '/b' after kernel path" },
		{ "kernel /k\nmodule /x.bin\n",
		  "tern.cfg line 2: module needs a path and a name (module /tern/guest.bin guestname)" },
		{ "kernel /k\nmodule /x.bin x y\n",
		  "tern.cfg line 2: unexpected word 'y' after module path and name" },
		{ "kernel /k\nmodule /a a\nmodule /b a\n", "tern.cfg line 3: duplicate module name 'a'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text), -1);
		assert_string_equal(err, cases[i].msg);
	}
}

static void test_limits(void **state)
{
	char text[8192], name[100];
	size_t len = (size_t)snprintf(text, sizeof(text), "kernel /k\n");

	for (int i = 0; i < 33; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "module /m%d m%d\n", i, i);
	assert_int_equal(parse(text), -1);
	assert_string_equal(err, "tern.cfg line 34: too many modules (at most 32)");

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "kernel /k\nmodule /m %s\n", name);
	assert_int_equal(parse(text), -1);
	assert_non_null(strstr(err, "module name too long"));
}

static void test_small_error_buffer(void **state)
{
	char small[12];

	assert_int_equal(bootcfg_parse("bogus\n", 6, &cfg, small, sizeof(small)), -1);
	assert_string_equal(small, "tern.cfg li");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_no_trailing_newline),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_small_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
