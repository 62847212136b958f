/* SPDX-License-Identifier: MIT */
/* Host unit tests for tools/mgmt/parse.c: words, numbers, sizes, CPU lists, names, options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tools/mgmt/parse.h"

static void test_words(void **state)
{
	char line[] = "  create  hello\t--mem 16M  ";
	char *argv[8];

	assert_int_equal(parse_words(line, argv, 8), 4);
	assert_string_equal(argv[0], "create");
	assert_string_equal(argv[1], "hello");
	assert_string_equal(argv[2], "--mem");
	assert_string_equal(argv[3], "16M");
}

static void test_words_empty_and_too_many(void **state)
{
	char empty[] = " \t ", three[] = "a b c", two[] = "a b";
	char *argv[2];

	assert_int_equal(parse_words(empty, argv, 2), 0);
	assert_int_equal(parse_words(three, argv, 2), -1);
	assert_int_equal(parse_words(two, argv, 2), 2);
}

/* Quoting as sh (POSIX XCU 2.2.1-2.2.3): the words a shell user expects. */
static void test_words_quoted(void **state)
{
	char line[] = "create l --cmdline \"console=ttyS0 quiet\" x'a b'y \"\" 'it\"s' a\\ b \"q\\\"\\\\\" '\\n'";
	char open1[] = "a \"b c", open2[] = "a 'b", trail[] = "a b\\";
	char *argv[12];

	assert_int_equal(parse_words(line, argv, 12), 10);
	assert_string_equal(argv[2], "--cmdline");
	assert_string_equal(argv[3], "console=ttyS0 quiet");
	assert_string_equal(argv[4], "xa by");
	assert_string_equal(argv[5], "");
	assert_string_equal(argv[6], "it\"s");
	assert_string_equal(argv[7], "a b");
	assert_string_equal(argv[8], "q\"\\");
	assert_string_equal(argv[9], "\\n");
	assert_int_equal(parse_words(open1, argv, 12), PARSE_OPEN_QUOTE);
	assert_int_equal(parse_words(open2, argv, 12), PARSE_OPEN_QUOTE);
	assert_int_equal(parse_words(trail, argv, 12), 2);
	assert_string_equal(argv[1], "b\\");
}

static void test_u64(void **state)
{
	uint64_t v;

	assert_true(parse_u64("0", &v));
	assert_int_equal(v, 0);
	assert_true(parse_u64("4096", &v));
	assert_int_equal(v, 4096);
	assert_true(parse_u64("0x1f", &v));
	assert_int_equal(v, 31);
	assert_true(parse_u64("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
	assert_false(parse_u64("18446744073709551616", &v));
	assert_false(parse_u64("", &v));
	assert_false(parse_u64("-1", &v));
	assert_false(parse_u64("12x", &v));
	assert_false(parse_u64("0x", &v));
	assert_false(parse_u64(" 1", &v));
}

static void test_size(void **state)
{
	uint64_t v;

	assert_true(parse_size("16M", &v));
	assert_true(v == 16ull << 20);
	assert_true(parse_size("1G", &v));
	assert_true(v == 1ull << 30);
	assert_true(parse_size("4096K", &v));
	assert_true(v == 4ull << 20);
	assert_true(parse_size("2m", &v));
	assert_true(v == 2ull << 20);
	assert_true(parse_size("64MiB", &v));
	assert_true(v == 64ull << 20);
	assert_true(parse_size("8MB", &v));
	assert_true(v == 8ull << 20);
	assert_true(parse_size("0x10K", &v));
	assert_true(v == 16ull << 10);
}

static void test_size_bad(void **state)
{
	uint64_t v = 7;

	assert_false(parse_size("12x", &v));
	assert_false(parse_size("M", &v));
	assert_false(parse_size("", &v));
	assert_false(parse_size("16MM", &v));
	assert_false(parse_size("16 M", &v));
	assert_false(parse_size("1.5G", &v));
	assert_false(parse_size("-16M", &v));
	assert_false(parse_size("16T", &v));
	assert_false(parse_size("17179869184G", &v)); /* 2^34 GiB overflows */
	assert_false(parse_size("123", &v));          /* a unit is required: not bytes */
	assert_false(parse_size("1", &v));
	assert_false(parse_size("0x1000", &v));
	assert_false(parse_size("16B", &v));
	assert_int_equal(v, 7);
}

static void test_cpu_list(void **state)
{
	uint32_t cpus[8];
	const char *why = NULL;

	assert_int_equal(parse_cpu_list("0,1", 2, cpus, 8, &why), 2);
	assert_int_equal(cpus[0], 0);
	assert_int_equal(cpus[1], 1);
	assert_int_equal(parse_cpu_list("1", 2, cpus, 8, &why), 1);
	assert_int_equal(cpus[0], 1);
	assert_int_equal(parse_cpu_list("0-3,6", 8, cpus, 8, &why), 5);
	assert_int_equal(cpus[3], 3);
	assert_int_equal(cpus[4], 6);
	assert_int_equal(parse_cpu_list("1,0,1", 2, cpus, 8, &why), 3); /* order kept */
	assert_int_equal(cpus[0], 1);
	assert_int_equal(cpus[2], 1);
}

static void test_cpu_list_bad(void **state)
{
	uint32_t cpus[4];
	const char *why = NULL;
	static const char *const bad[] = { "", ",", "0,", ",0", "0,,1", "a", "0;1", "3-1",
					   "0-", "0-1-2", "1 ", "-1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(parse_cpu_list(bad[i], 8, cpus, 4, &why), -1);
		assert_non_null(why);
	}
	assert_int_equal(parse_cpu_list("2", 2, cpus, 4, &why), -1);
	assert_string_equal(why, "no such CPU");
	assert_int_equal(parse_cpu_list("0-7", 8, cpus, 4, &why), -1);
	assert_string_equal(why, "too many CPUs in the list");
}

static void test_names(void **state)
{
	char out[32];

	assert_true(name_valid("hello"));
	assert_true(name_valid("a.b_c-9"));
	assert_true(name_valid("a234567890123456789012345678901")); /* 31 */
	assert_false(name_valid("a2345678901234567890123456789012")); /* 32 */
	assert_true(name_valid("5a"));
	assert_true(name_valid("vm-5"));
	assert_true(name_valid("_5"));
	assert_true(name_valid("a-"));
	assert_true(name_valid(".x"));
	assert_true(name_valid("0x1a")); /* hex is not an id: only decimal digits are */
	assert_true(parse_is_decimal("0"));
	assert_true(parse_is_decimal("99"));
	assert_true(parse_is_decimal("99999999999999999999999")); /* an id, if no VM has it */
	assert_false(parse_is_decimal(""));
	assert_false(parse_is_decimal("0x1"));
	assert_false(parse_is_decimal("9a"));
	assert_false(parse_is_decimal("-1"));
	/* A number is an id, a leading '-' an option: neither can be a name. */
	assert_false(name_valid("5"));
	assert_false(name_valid("0"));
	assert_false(name_valid("1234567890123456789012345678901"));
	assert_false(name_valid("-x"));
	assert_false(name_valid("-"));
	assert_false(name_valid("--name"));
	assert_false(name_valid("\xc3\xbcn\xc3\xaf")); /* "ünï": bytes >= 0x80 are refused */
	assert_false(name_valid("n\x80"));
	assert_false(name_valid(""));
	assert_false(name_valid("a b"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("caf\xc3\xa9"));

	name_from("my image!", out, sizeof(out));
	assert_string_equal(out, "my_image_");
	name_from("", out, sizeof(out));
	assert_string_equal(out, "vm");
	name_from("0123456789012345678901234567890123456789", out, sizeof(out));
	assert_int_equal(strlen(out), 31);
	assert_true(name_valid(out));
	assert_string_equal(out, "_012345678901234567890123456789");
	name_from("abcdef", out, 4);
	assert_string_equal(out, "abc");
	/* Names made from images follow the same rules. */
	name_from("-x", out, sizeof(out));
	assert_string_equal(out, "_x");
	name_from("42", out, sizeof(out));
	assert_string_equal(out, "_42");
	assert_true(name_valid(out));
	name_from("123", out, 4);
	assert_string_equal(out, "_12");
	name_from("7", out, 2);
	assert_string_equal(out, "_");
	name_from("\xc3\xbcn", out, sizeof(out));
	assert_string_equal(out, "__n");
	assert_true(name_valid(out));
}

static void test_opts(void **state)
{
	char a0[] = "create", a1[] = "hello", a2[] = "--mem", a3[] = "4M", a4[] = "--name=x1";
	char *argv[] = { a0, a1, a2, a3, a4 };
	struct parse_opt o[] = { { "name", NULL }, { "mem", NULL }, { "vcpus", NULL },
				 { NULL, NULL } };
	char err[PARSE_ERR_MAX], *pos[1];

	assert_int_equal(parse_opts(5, argv, 1, o, pos, 1, err, sizeof(err)), 1);
	assert_string_equal(pos[0], "hello");
	assert_string_equal(o[0].value, "x1");
	assert_string_equal(o[1].value, "4M");
	assert_null(o[2].value);
}

static int opts_error(int argc, char **argv, const char *expect)
{
	struct parse_opt o[] = { { "name", NULL }, { "mem", NULL }, { NULL, NULL } };
	char err[PARSE_ERR_MAX] = "", *pos[1];
	int r = parse_opts(argc, argv, 1, o, pos, 1, err, sizeof(err));

	assert_int_equal(r, -1);
	assert_string_equal(err, expect);
	return r;
}

static void test_opts_errors(void **state)
{
	char c[] = "create", img[] = "hello", more[] = "extra", mem[] = "--mem", name[] = "--name";
	char bogus[] = "--bogus=3", dash[] = "-m", empty[] = "--name=", four[] = "4M";
	char *unknown[] = { c, img, bogus };
	char *novalue[] = { c, img, mem };
	char *twice[] = { c, mem, four, img, mem, four };
	char *extra[] = { c, img, more };
	char *single[] = { c, dash, four };
	char *blank[] = { c, empty };
	char *name_only[] = { c, name };

	opts_error(3, unknown, "unknown option '--bogus'");
	opts_error(3, novalue, "option '--mem' needs a value");
	opts_error(6, twice, "option '--mem' given twice");
	opts_error(3, extra, "too many arguments ('extra')");
	opts_error(3, single, "unknown option '-m' (options are --NAME)");
	opts_error(2, blank, "option '--name' needs a value");
	opts_error(2, name_only, "option '--name' needs a value");
}

static void test_format(void **state)
{
	char b[32];

	format_mib(16ull << 20, b, sizeof(b));
	assert_string_equal(b, "16");
	format_mib((4ull << 20) + (512ull << 10), b, sizeof(b));
	assert_string_equal(b, "4.5");
	format_mib(0, b, sizeof(b));
	assert_string_equal(b, "0");
	format_cpuset(0, b, sizeof(b));
	assert_string_equal(b, "-");
	format_cpuset(0x1, b, sizeof(b));
	assert_string_equal(b, "0");
	format_cpuset(0x3, b, sizeof(b));
	assert_string_equal(b, "0,1");
	format_cpuset(0x4f, b, sizeof(b));
	assert_string_equal(b, "0-3,6");
	format_cpuset(1ull << 63, b, sizeof(b));
	assert_string_equal(b, "63");
	format_cpuset(0x5555555555555555ull, b, 8); /* cut short, still terminated */
	assert_true(strlen(b) < 8);
	format_secs(0, b, sizeof(b));
	assert_string_equal(b, "0.0");
	format_secs(12345678, b, sizeof(b));
	assert_string_equal(b, "12.3");
}

static void test_log_time(void **state)
{
	uint64_t us = 0;
	const char *l = "[    5.637532] mgmt: starting";

	assert_true(parse_log_time(l, strlen(l), &us));
	assert_int_equal(us, 5637532);
	assert_true(parse_log_time("[123456.000001] x", 17, &us));
	assert_int_equal(us, 123456000001ull);
	assert_true(parse_log_time("[0.000000]", 10, &us));
	assert_int_equal(us, 0);
	assert_false(parse_log_time("[    5.637532] x", 9, &us)); /* cut short */
	assert_false(parse_log_time("[    5.63753] x", 15, &us));
	assert_false(parse_log_time("[    5.6375321] x", 17, &us));
	assert_false(parse_log_time("    5.637532] x", 15, &us));
	assert_false(parse_log_time("[     .637532] x", 16, &us));
	assert_false(parse_log_time("[ 5x637532] x", 13, &us));
	assert_false(parse_log_time("[99999999999999999999.000000]", 29, &us));
	assert_false(parse_log_time("", 0, &us));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_words_empty_and_too_many),
		cmocka_unit_test(test_words_quoted),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_cpu_list_bad),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_opts_errors),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_log_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
