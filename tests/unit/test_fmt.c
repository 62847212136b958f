/* SPDX-License-Identifier: MIT */
/* Host unit tests for kernel/fmt.c: fixed expectations plus a sweep against the host libc. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernel/fmt.h"

#define BUF_SIZE 512

/* Checks both the text and the returned length. */
#define EXPECT(expected, ...)                                                  \
	do {                                                                   \
		char got_[BUF_SIZE];                                           \
		int n_ = fmt_snprintf(got_, sizeof(got_), __VA_ARGS__);        \
		assert_string_equal(got_, expected);                           \
		assert_int_equal(n_, (int)strlen(expected));                   \
	} while (0)

/* EXPECT for formats gcc warns about but C defines (ignored flags). */
#define EXPECT_RAW(expected, ...)                                              \
	do {                                                                   \
		char got_[BUF_SIZE];                                           \
		int n_ = fmt_unchecked(got_, sizeof(got_), __VA_ARGS__);       \
		assert_string_equal(got_, expected);                           \
		assert_int_equal(n_, (int)strlen(expected));                   \
	} while (0)

/* Checks that fmt and the host libc agree on text and length. */
#define SAME_AS_LIBC(...)                                                      \
	do {                                                                   \
		char got_[BUF_SIZE], want_[BUF_SIZE];                          \
		int n_ = fmt_snprintf(got_, sizeof(got_), __VA_ARGS__);        \
		int w_ = snprintf(want_, sizeof(want_), __VA_ARGS__);          \
		assert_string_equal(got_, want_);                              \
		assert_int_equal(n_, w_);                                      \
	} while (0)

/* No format attribute: lets tests pass formats gcc would reject. */
static int fmt_unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void test_plain_text(void **state)
{
	EXPECT("", "%s", "");
	EXPECT("hello, world", "hello, world");
	EXPECT("%", "%%");
	EXPECT("100% sure", "100%% sure");
	EXPECT("a%b%c", "a%%b%%c");
}

static void test_integers(void **state)
{
	EXPECT("0", "%d", 0);
	EXPECT("42", "%d", 42);
	EXPECT("-42", "%i", -42);
	EXPECT("2147483647", "%d", INT_MAX);
	EXPECT("-2147483648", "%d", INT_MIN);
	EXPECT("4294967295", "%u", UINT_MAX);
	EXPECT("4294967295", "%u", -1);
	EXPECT("ff", "%x", 255);
	EXPECT("FF", "%X", 255);
	EXPECT("deadbeef", "%x", 0xdeadbeefu);
	EXPECT("DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT("10", "%o", 8);
	EXPECT("37777777777", "%o", UINT_MAX);
	EXPECT("0", "%x", 0);
	EXPECT("0", "%o", 0);
	EXPECT("a=1 b=-2 c=f", "a=%d b=%d c=%x", 1, -2, 15);
}

static void test_flags_and_width(void **state)
{
	EXPECT("   42", "%5d", 42);
	EXPECT("42   |", "%-5d|", 42);
	EXPECT("00042", "%05d", 42);
	EXPECT("-0042", "%05d", -42);
	EXPECT("+42", "%+d", 42);
	EXPECT("-42", "%+d", -42);
	EXPECT(" 42", "% d", 42);
	EXPECT_RAW("+42", "%+ d", 42);
	EXPECT_RAW("42   |", "%-05d|", 42);
	EXPECT("+0042", "%+05d", 42);
	EXPECT("12345", "%3d", 12345);
	EXPECT("0000ff", "%06x", 255);
	EXPECT("    FF", "%6X", 255);
	EXPECT("0x00ff", "%#06x", 255);
	EXPECT("0XFF", "%#X", 255);
	EXPECT("0", "%#x", 0);
	EXPECT("010", "%#o", 8);
	EXPECT_RAW("42", "%+u", 42u);
}

static void test_precision(void **state)
{
	EXPECT("007", "%.3d", 7);
	EXPECT("-007", "%.3d", -7);
	EXPECT("", "%.0d", 0);
	EXPECT("     ", "%5.0d", 0);
	EXPECT("+", "%+.0d", 0);
	EXPECT_RAW("     007", "%08.3d", 7);
	EXPECT("  00ff", "%6.4x", 255);
	EXPECT("0", "%#.0o", 0);
	EXPECT("", "%#.0x", 0);
	EXPECT("00010", "%#.5o", 8);
	EXPECT("42", "%.d", 42);
	EXPECT("abc", "%.3s", "abcdef");
	EXPECT("  abc", "%5.3s", "abcdef");
	EXPECT("", "%.0s", "abc");
}

static void test_star(void **state)
{
	EXPECT("   42", "%*d", 5, 42);
	EXPECT("42   |", "%*d|", -5, 42);
	EXPECT("42   |", "%-*d|", 5, 42);
	EXPECT("00042", "%.*d", 5, 42);
	EXPECT("   00042", "%*.*d", 8, 5, 42);
	EXPECT("abc", "%.*s", -1, "abc");
	EXPECT("ab", "%.*s", 2, "abc");
	EXPECT("42", "%.*d", -3, 42);
	/* A bounded precision must not read past an unterminated buffer. */
	{
		const char raw[4] = { 'w', 'x', 'y', 'z' };

		EXPECT("wxyz", "%.*s", 4, raw);
	}
}

static void test_length_modifiers(void **state)
{
	EXPECT("44", "%hhd", 300);
	EXPECT("-1", "%hhd", 255);
	EXPECT("255", "%hhu", -1);
	EXPECT("ff", "%hhx", -1);
	EXPECT("4464", "%hd", 70000);
	EXPECT("-32768", "%hd", 32768);
	EXPECT("65535", "%hu", -1);
	EXPECT("-9223372036854775808", "%ld", LONG_MIN);
	EXPECT("9223372036854775807", "%ld", LONG_MAX);
	EXPECT("-9223372036854775808", "%lld", LLONG_MIN);
	EXPECT("18446744073709551615", "%llu", ULLONG_MAX);
	EXPECT("ffffffffffffffff", "%llx", ULLONG_MAX);
	EXPECT("FFFFFFFFFFFFFFFF", "%lX", ULONG_MAX);
	EXPECT("1777777777777777777777", "%llo", ULLONG_MAX);
	EXPECT("18446744073709551615", "%zu", SIZE_MAX);
	EXPECT("-1", "%zd", (ptrdiff_t)-1);
	EXPECT("1000", "%zx", (size_t)4096);
	EXPECT("-9223372036854775808", "%jd", INTMAX_MIN);
	EXPECT("18446744073709551615", "%ju", UINTMAX_MAX);
	EXPECT("-5", "%td", (ptrdiff_t)-5);
	EXPECT("ffffffffffffffff", "%tx", (ptrdiff_t)-1);
	/* The argument after a 64-bit one must still line up. */
	EXPECT("1 2 3", "%lld %d %llu", 1LL, 2, 3ULL);
}

/* Volatile so gcc cannot see the NULL and reject the call at compile time. */
static const char *volatile null_string;

static void test_strings_and_chars(void **state)
{
	EXPECT("(null)", "%s", null_string);
	EXPECT("    (null)", "%10s", null_string);
	EXPECT("(n", "%.2s", null_string);
	EXPECT("     hello", "%10s", "hello");
	EXPECT("hello     |", "%-10s|", "hello");
	EXPECT("hi", "%1s", "hi");
	EXPECT("x", "%c", 'x');
	EXPECT("  x", "%3c", 'x');
	EXPECT("x  |", "%-3c|", 'x');
	EXPECT("[a b]", "[%c %s]", 'a', "b");
}

static void test_pointer(void **state)
{
	EXPECT("0x0000000000000000", "%p", (void *)NULL);
	EXPECT("0x00000000deadbeef", "%p", (void *)0xdeadbeefUL);
	EXPECT("0xffff800000001000", "%p", (void *)0xffff800000001000UL);
	EXPECT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	EXPECT("  0x0000000000000001", "%20p", (void *)1);
	EXPECT("0x0000000000000001  |", "%-20p|", (void *)1);
}

static void test_bad_formats(void **state)
{
	char buf[32];

	/* Unknown or truncated conversions are shown verbatim, not guessed at. */
	assert_int_equal(fmt_unchecked(buf, sizeof(buf), "%q", 1), 2);
	assert_string_equal(buf, "%q");
	assert_int_equal(fmt_unchecked(buf, sizeof(buf), "a%-5ky", 1), 6);
	assert_string_equal(buf, "a%-5ky");
	assert_int_equal(fmt_unchecked(buf, sizeof(buf), "end%", 1), 4);
	assert_string_equal(buf, "end%");
	assert_int_equal(fmt_unchecked(buf, sizeof(buf), "end%08l", 1), 7);
	assert_string_equal(buf, "end%08l");
	/* Huge widths saturate instead of overflowing int. */
	assert_int_equal(fmt_unchecked(NULL, 0, "%99999999999999999999d", 1), 4096);
	assert_int_equal(fmt_unchecked(NULL, 0, "%*d", INT_MIN, 1), 4096);
}

static void test_truncation(void **state)
{
	char buf[16];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 5, "hello %s", "world"), 11);
	assert_string_equal(buf, "hell");
	/* Nothing past size may be touched. */
	for (size_t i = 5; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'X');

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 1, "abc"), 3);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	assert_int_equal(fmt_snprintf(buf, 4, "%08d", 5), 8);
	assert_string_equal(buf, "000");
	assert_int_equal(fmt_snprintf(buf, 4, "%-8d|", -5), 9);
	assert_string_equal(buf, "-5 ");
	assert_int_equal(fmt_snprintf(buf, 6, "%p", (void *)0), 18);
	assert_string_equal(buf, "0x000");

	/* Exactly fitting, and one short of fitting. */
	assert_int_equal(fmt_snprintf(buf, 4, "abc"), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(fmt_snprintf(buf, 3, "abc"), 3);
	assert_string_equal(buf, "ab");
}

static void test_size_zero(void **state)
{
	char buf[4] = { 'X', 'X', 'X', 'X' };

	assert_int_equal(fmt_snprintf(NULL, 0, "hello %d", 12345), 11);
	assert_int_equal(fmt_unchecked(NULL, 0, ""), 0);
	assert_int_equal(fmt_snprintf(buf, 0, "abc"), 3);
	assert_int_equal(buf[0], 'X');
}

static void test_nul_char(void **state)
{
	char buf[8];

	/* %c of NUL is output (and counted) like any other character. */
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "a%cb", '\0'), 3);
	assert_int_equal(memcmp(buf, "a\0b", 4), 0);
}

static void test_libc_fixed(void **state)
{
	SAME_AS_LIBC("%d|%5d|%-5d|%05d|%+d|% d", -3, -3, -3, -3, 3, 3);
	SAME_AS_LIBC("%#x|%#X|%#o|%#08x|%#.3o", 0x1a, 0x1a, 9, 0x1a, 9);
	SAME_AS_LIBC("%hhd|%hhu|%hd|%hu", 200, 200, 40000, 40000);
	SAME_AS_LIBC("%lld|%llx|%zu|%jd|%td", LLONG_MIN, 0x123456789abcdefULL, (size_t)77,
		     (intmax_t)-1, (ptrdiff_t)-9);
	SAME_AS_LIBC("[%*.*s]", -8, 3, "abcdef");
	SAME_AS_LIBC("[%c%c%c]", 'a', 'b', 'c');
}

/* Every flag combination, several widths and precisions, many edge values. */
static void test_libc_integer_sweep(void **state)
{
	static const char *const flag_chars = "-0 +#";
	static const char *const widths[] = { "", "1", "6", "24" };
	static const char *const precs[] = { "", ".", ".0", ".1", ".5", ".22" };
	static const char convs[] = "diuxXo";
	static const long long values[] = {
		0, 1, -1, 7, 8, 255, -255, 4096, 123456789, -987654321,
		LLONG_MAX, LLONG_MIN, 0x7fffffff, (long long)0x8000000000000000ULL,
	};
	char fmt[32], got[BUF_SIZE], want[BUF_SIZE];
	unsigned int checked = 0;

	for (unsigned int mask = 0; mask < 32; mask++) {
		char flags[8];
		size_t nf = 0;

		for (unsigned int b = 0; b < 5; b++)
			if (mask & (1u << b))
				flags[nf++] = flag_chars[b];
		flags[nf] = '\0';
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
			for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++)
				for (size_t c = 0; convs[c]; c++)
					for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
						int n, r;

						snprintf(fmt, sizeof(fmt), "[%%%s%s%sll%c]", flags,
							 widths[w], precs[p], convs[c]);
						n = fmt_unchecked(got, sizeof(got), fmt, values[v]);
						r = snprintf(want, sizeof(want), fmt, values[v]);
						if (n != r || strcmp(got, want) != 0)
							fail_msg("format \"%s\" of %lld: got \"%s\" (%d), libc \"%s\" (%d)",
								 fmt, values[v], got, n, want, r);
						checked++;
					}
	}
	assert_true(checked > 40000);
}

/* Each length modifier must fetch its own type from the argument list. */
static int format_with_length(char *buf, size_t size, const char *fmt, int length, long long v)
{
	switch (length) {
	case 0: return fmt_unchecked(buf, size, fmt, (int)(signed char)v, 99);
	case 1: return fmt_unchecked(buf, size, fmt, (int)(short)v, 99);
	case 2: return fmt_unchecked(buf, size, fmt, (int)v, 99);
	case 3: return fmt_unchecked(buf, size, fmt, (long)v, 99);
	case 4: return fmt_unchecked(buf, size, fmt, v, 99);
	case 5: return fmt_unchecked(buf, size, fmt, (size_t)v, 99);
	case 6: return fmt_unchecked(buf, size, fmt, (intmax_t)v, 99);
	default: return fmt_unchecked(buf, size, fmt, (ptrdiff_t)v, 99);
	}
}

static int libc_with_length(char *buf, size_t size, const char *fmt, int length, long long v)
{
	switch (length) {
	case 0: return snprintf(buf, size, fmt, (int)(signed char)v, 99);
	case 1: return snprintf(buf, size, fmt, (int)(short)v, 99);
	case 2: return snprintf(buf, size, fmt, (int)v, 99);
	case 3: return snprintf(buf, size, fmt, (long)v, 99);
	case 4: return snprintf(buf, size, fmt, v, 99);
	case 5: return snprintf(buf, size, fmt, (size_t)v, 99);
	case 6: return snprintf(buf, size, fmt, (intmax_t)v, 99);
	default: return snprintf(buf, size, fmt, (ptrdiff_t)v, 99);
	}
}

static void test_libc_length_sweep(void **state)
{
	static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z", "j", "t" };
	static const char convs[] = "diuxo";
	static const long long values[] = {
		0, 1, -1, 127, 128, -129, 65535, 65536, -70000, INT_MIN,
		4294967296LL, LLONG_MIN, LLONG_MAX,
	};
	char fmt[32], got[BUF_SIZE], want[BUF_SIZE];

	for (int l = 0; l < 8; l++)
		for (size_t c = 0; convs[c]; c++)
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				int n, r;

				/* The trailing %d proves the argument list stayed in step. */
				snprintf(fmt, sizeof(fmt), "%%%s%c/%%d", lengths[l], convs[c]);
				n = format_with_length(got, sizeof(got), fmt, l, values[v]);
				r = libc_with_length(want, sizeof(want), fmt, l, values[v]);
				if (n != r || strcmp(got, want) != 0)
					fail_msg("format \"%s\" of %lld: got \"%s\", libc \"%s\"", fmt,
						 values[v], got, want);
			}
}

static void test_libc_string_sweep(void **state)
{
	static const char *const specs[] = { "", "-", "1", "8", "-8", ".0", ".2", "8.2", "-8.9" };
	static const char *const strs[] = { "", "a", "hello world" };
	char fmt[32], got[BUF_SIZE], want[BUF_SIZE];

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		for (size_t s = 0; s < sizeof(strs) / sizeof(strs[0]); s++) {
			snprintf(fmt, sizeof(fmt), "[%%%ss]", specs[i]);
			assert_int_equal(fmt_unchecked(got, sizeof(got), fmt, strs[s]),
					 snprintf(want, sizeof(want), fmt, strs[s]));
			assert_string_equal(got, want);
		}
		if (strchr(specs[i], '.'))
			continue; /* precision with %c is undefined in C */
		snprintf(fmt, sizeof(fmt), "[%%%sc]", specs[i]);
		assert_int_equal(fmt_unchecked(got, sizeof(got), fmt, 'q'),
				 snprintf(want, sizeof(want), fmt, 'q'));
		assert_string_equal(got, want);
	}
}

/* Every size from 0 up: same return, and the stored text is a prefix of the full one. */
static void test_truncation_every_size(void **state)
{
	char full[64], buf[64];
	int len = fmt_snprintf(full, sizeof(full), "%-6s|%+08d|%#x|%p", "ab", -17, 0xbeef,
			       (void *)0x1234);

	for (size_t size = 0; size <= (size_t)len + 1; size++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(fmt_snprintf(buf, size, "%-6s|%+08d|%#x|%p", "ab", -17, 0xbeef,
					      (void *)0x1234),
				 len);
		if (size == 0) {
			assert_int_equal(buf[0], 'X');
			continue;
		}
		assert_int_equal(strlen(buf), size - 1 < (size_t)len ? size - 1 : (size_t)len);
		assert_int_equal(memcmp(buf, full, strlen(buf)), 0);
		assert_int_equal(buf[size], 'X');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_flags_and_width),
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_strings_and_chars),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_bad_formats),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_size_zero),
		cmocka_unit_test(test_nul_char),
		cmocka_unit_test(test_libc_fixed),
		cmocka_unit_test(test_libc_integer_sweep),
		cmocka_unit_test(test_libc_length_sweep),
		cmocka_unit_test(test_libc_string_sweep),
		cmocka_unit_test(test_truncation_every_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
