/* SPDX-License-Identifier: MIT */
/* Host unit tests for tools/mgmt/lineedit.c: the shell's line editor, byte by byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/mgmt/lineedit.h"

static struct le le;
/* Everything the editor asked to show, since the last take_out(). */
static char shown[4096];
static size_t shown_len;

static void take_out(void)
{
	memcpy(shown + shown_len, le.out, le.out_len);
	shown_len += le.out_len;
	shown[shown_len] = '\0';
	le.out_len = 0;
}

static void clear_shown(void)
{
	shown_len = 0;
	shown[0] = '\0';
}

/* Feeds s; the result of the last byte. Every byte but the last must give LE_NONE. */
static enum le_result feed(const char *s)
{
	enum le_result r = LE_NONE;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		r = le_feed(&le, (uint8_t)s[i]);
		take_out();
		if (i + 1 < n)
			assert_int_equal(r, LE_NONE);
	}
	return r;
}

static int setup(void **state)
{
	le_init(&le, "tern> ");
	clear_shown();
	return 0;
}

static void test_typing_and_enter(void **state)
{
	assert_int_equal(feed("list"), LE_NONE);
	assert_string_equal(le.buf, "list");
	assert_string_equal(shown, "list");
	assert_int_equal(feed("\r"), LE_LINE);
	assert_string_equal(le.line, "list");
	assert_string_equal(le.buf, "");
	assert_string_equal(shown, "list\r\n");
}

static void test_crlf_is_one_enter(void **state)
{
	assert_int_equal(feed("a\r"), LE_LINE);
	assert_int_equal(feed("\n"), LE_NONE); /* the \n of \r\n */
	assert_int_equal(feed("b\n"), LE_LINE);
	assert_string_equal(le.line, "b");
	assert_int_equal(feed("\n"), LE_LINE); /* a second \n is an empty line */
	assert_string_equal(le.line, "");
	assert_int_equal(feed("\r"), LE_LINE);
	assert_int_equal(feed("\r"), LE_LINE); /* \r\r: two lines */
}

static void test_backspace(void **state)
{
	feed("lisx");
	clear_shown();
	feed("\x7f");
	assert_string_equal(le.buf, "lis");
	assert_string_equal(shown, "\b \b");
	feed("\x08t");
	assert_string_equal(le.buf, "lit");
	feed("\x7f\x7f\x7f\x7f\x7f"); /* more than there is */
	assert_string_equal(le.buf, "");
	assert_int_equal(le.len, 0);
}

static void test_ctrl_u(void **state)
{
	feed("destroy all");
	clear_shown();
	feed("\x15");
	assert_string_equal(le.buf, "");
	assert_string_equal(shown, "\r\033[Ktern> ");
	assert_int_equal(feed("list\r"), LE_LINE);
	assert_string_equal(le.line, "list");
}

static void test_ctrl_c(void **state)
{
	feed("create foo");
	clear_shown();
	assert_int_equal(feed("\x03"), LE_CANCEL);
	assert_string_equal(shown, "^C\r\n");
	assert_string_equal(le.buf, "");
	le_prompt(&le);
	take_out();
	assert_string_equal(shown, "^C\r\ntern> ");
	assert_int_equal(le.hist_count, 0); /* an abandoned line is not kept */
}

static void test_ignored_bytes(void **state)
{
	feed("a\tb\x01\x02\x04\x80\xff\x1f" "c");
	assert_string_equal(le.buf, "abc");
	assert_string_equal(shown, "abc");
}

static void test_history_up_down(void **state)
{
	feed("one\r");
	feed("two\r");
	feed("thr");
	clear_shown();
	feed("\033[A");
	assert_string_equal(le.buf, "two");
	assert_string_equal(shown, "\r\033[Ktern> two");
	feed("\033[A");
	assert_string_equal(le.buf, "one");
	feed("\033[A"); /* nothing older */
	assert_string_equal(le.buf, "one");
	feed("\033[B");
	assert_string_equal(le.buf, "two");
	feed("\033[B"); /* back to the line being typed */
	assert_string_equal(le.buf, "thr");
	feed("\033[B");
	assert_string_equal(le.buf, "thr");
	feed("\033OA"); /* application cursor mode */
	assert_string_equal(le.buf, "two");
	assert_int_equal(feed("\r"), LE_LINE);
	assert_string_equal(le.line, "two");
	assert_int_equal(le.hist_count, 2); /* "two" again is not a new entry */
}

static void test_history_skips_empty_and_wraps(void **state)
{
	char cmd[16];

	feed("\r");
	assert_int_equal(le.hist_count, 0);
	for (int i = 0; i < (int)LE_HIST_MAX + 5; i++) {
		snprintf(cmd, sizeof(cmd), "c%d\r", i);
		feed(cmd);
	}
	assert_int_equal(le.hist_count, LE_HIST_MAX);
	for (unsigned int i = 0; i < LE_HIST_MAX + 3; i++)
		feed("\033[A");
	snprintf(cmd, sizeof(cmd), "c%d", 5); /* the oldest kept */
	assert_string_equal(le.buf, cmd);
}

static void test_edit_recalled_line(void **state)
{
	feed("start a\r");
	feed("\033[A\x7f" "b\r");
	assert_string_equal(le.line, "start b");
	feed("\033[A");
	assert_string_equal(le.buf, "start b");
	feed("\033[A");
	assert_string_equal(le.buf, "start a");
}

static void test_other_escapes_ignored(void **state)
{
	feed("ab\033[C\033[D\033[3~\033[1;5D" "c");
	assert_string_equal(le.buf, "abc");
	feed("\033x"); /* a lone ESC: dropped, the byte counts */
	assert_string_equal(le.buf, "abcx");
	feed("\033[12345678901234A"); /* too long: abandoned, the rest is typed */
	assert_true(strstr(le.buf, "abcx") == le.buf);
	assert_int_equal(le.hist_count, 0);
}

static void test_escape_interrupted(void **state)
{
	feed("one\r");
	feed("\033[\033[A"); /* ESC inside a sequence starts a new one */
	assert_string_equal(le.buf, "one");
	feed("\x15\033[1\x01" "z"); /* a control byte abandons it; the rest is typed */
	assert_string_equal(le.buf, "z");
	feed("\033\033OA"); /* ESC ESC: the second one counts */
	assert_string_equal(le.buf, "one");
	feed("\x15\033[\xc3" "q");
	assert_string_equal(le.buf, "q");
}

static void test_line_full(void **state)
{
	for (unsigned int i = 0; i < LE_LINE_MAX + 10; i++) {
		le_feed(&le, 'x');
		le.out_len = 0;
	}
	assert_int_equal(le.len, LE_LINE_MAX - 1);
	assert_int_equal(strlen(le.buf), LE_LINE_MAX - 1);
	clear_shown();
	feed("y");
	assert_string_equal(shown, "\a");
	assert_int_equal(feed("\r"), LE_LINE);
	assert_int_equal(strlen(le.line), LE_LINE_MAX - 1);
}

static void test_redraw(void **state)
{
	feed("info");
	clear_shown();
	le_redraw(&le);
	take_out();
	assert_string_equal(shown, "\r\033[Ktern> info");
	clear_shown();
	feed("\x0c");
	assert_string_equal(shown, "\033[H\033[2Jtern> info");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_typing_and_enter, setup),
		cmocka_unit_test_setup(test_crlf_is_one_enter, setup),
		cmocka_unit_test_setup(test_backspace, setup),
		cmocka_unit_test_setup(test_ctrl_u, setup),
		cmocka_unit_test_setup(test_ctrl_c, setup),
		cmocka_unit_test_setup(test_ignored_bytes, setup),
		cmocka_unit_test_setup(test_history_up_down, setup),
		cmocka_unit_test_setup(test_history_skips_empty_and_wraps, setup),
		cmocka_unit_test_setup(test_edit_recalled_line, setup),
		cmocka_unit_test_setup(test_other_escapes_ignored, setup),
		cmocka_unit_test_setup(test_escape_interrupted, setup),
		cmocka_unit_test_setup(test_line_full, setup),
		cmocka_unit_test_setup(test_redraw, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
