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
static char shown[65536];
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
	/* No completion callback: Tab does nothing; nor do the unbound control keys. */
	feed("a\tb\x07\x0e\x0f\x10\x80\xff\x1f" "c");
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
	feed("ab\033[99;99~\033[Z\033OZ\033[5~" "c");
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
	char msg[96];

	for (unsigned int i = 0; i < LE_LINE_MAX - 1; i++) {
		le_feed(&le, 'x');
		le.out_len = 0;
	}
	assert_int_equal(le.len, LE_LINE_MAX - 1);
	assert_false(le.too_long);
	clear_shown();
	feed("yy");
	/* Said once, plainly, never a bare bell; the line is drawn again below. */
	snprintf(msg, sizeof(msg), "\r\nline too long (max %u characters)\r\ntern> ", LE_LINE_MAX - 1);
	assert_true(strncmp(shown, msg, strlen(msg)) == 0);
	assert_null(strchr(shown, '\a'));
	assert_null(strstr(shown + strlen(msg), "line too long"));
	assert_true(le.too_long);
	assert_int_equal(feed("\r"), LE_LINE);
	assert_true(le.line_too_long);
	assert_int_equal(le.hist_count, 0); /* a refused line is not kept */
	assert_false(le.too_long);
	assert_int_equal(feed("ok\r"), LE_LINE);
	assert_false(le.line_too_long);
}

static void test_kib_line(void **state)
{
	char want[1100];

	for (unsigned int i = 0; i < 1050; i++)
		want[i] = (char)('a' + i % 26);
	want[1050] = '\0';
	feed(want);
	assert_int_equal(feed("\r"), LE_LINE);
	assert_string_equal(le.line, want);
	assert_false(le.line_too_long);
	/* Each row shown is at most the terminal's width: no escape wraps it. */
	for (const char *p = shown, *row = shown; *p; p++) {
		if (*p == '\r')
			row = p + 1;
		assert_true(p - row < (ptrdiff_t)LE_COLS + 8);
	}
}

/* Feeds s, then returns what the editor showed for it. */
static const char *keys(const char *s)
{
	clear_shown();
	feed(s);
	return shown;
}

static void test_cursor_editing(void **state)
{
	feed("list --stae");
	assert_string_equal(keys("\033[D"), "\033[D");
	assert_int_equal(le.pos, 10);
	/* Inserted in the middle: the line drawn again, the cursor put back after the t. */
	assert_string_equal(keys("t"), "\r\033[Ktern> list --state\r\033[17C");
	assert_string_equal(le.buf, "list --state");
	assert_string_equal(keys("\033[C"), "\033[C");
	keys("\033[F");
	assert_int_equal(le.pos, le.len);
	keys("\033[H");
	assert_int_equal(le.pos, 0);
	assert_int_equal(feed("\r"), LE_LINE);
	assert_string_equal(le.line, "list --state");
	/* Enter with the cursor inside: the whole line shown, then the new line. */
	assert_string_equal(shown + strlen(shown) - 2, "\r\n");
	assert_true(strstr(shown, "tern> list --state\r\n") != NULL);
	/* Left and Right stop at the ends. */
	feed("ab\033[D\033[D\033[D\033[D" "x\033[C\033[C\033[C\033[C" "y");
	assert_string_equal(le.buf, "xaby");
}

static void test_home_end_variants(void **state)
{
	static const char *const home[] = { "\033[H", "\033OH", "\033[1~", "\033[7~", "\x01",
					    "\033[1;5H" };
	static const char *const end[] = { "\033[F", "\033OF", "\033[4~", "\033[8~", "\x05" };

	feed("abc");
	for (unsigned int i = 0; i < sizeof(home) / sizeof(home[0]); i++) {
		feed(end[i % 5]);
		assert_int_equal(le.pos, 3);
		feed(home[i]);
		assert_int_equal(le.pos, 0);
	}
	feed("\033OD\033OC\x06\x02"); /* application-mode arrows, Ctrl-F and Ctrl-B */
	assert_int_equal(le.pos, 1);
	feed("\033[3~"); /* Delete: the character under the cursor */
	assert_string_equal(le.buf, "ac");
	feed("\x01\x04"); /* Ctrl-D deletes too */
	assert_string_equal(le.buf, "c");
	feed("\033[C\033[1;5D" "z"); /* a modifier: taken as the plain key */
	assert_string_equal(le.buf, "zc");
}

static void test_kill_keys(void **state)
{
	feed("create hello --name h1 --mem 4M");
	feed("\x17"); /* Ctrl-W: the word before the cursor */
	assert_string_equal(le.buf, "create hello --name h1 --mem ");
	feed("\x17\x17");
	assert_string_equal(le.buf, "create hello --name ");
	feed("\033[D\033[D\033[D\033[D\033[D\033[D\033[D\033[D"); /* before --name */
	assert_string_equal(keys("\x0b"), "\033[K"); /* Ctrl-K: to the end */
	assert_string_equal(le.buf, "create hello");
	feed("\033[D\033[D\033[D\033[D\033[D");
	feed("\x15"); /* Ctrl-U: to the start */
	assert_string_equal(le.buf, "hello");
	assert_int_equal(le.pos, 0);
	feed("\033[F\x15");
	assert_string_equal(le.buf, "");
}

static char complete_seen[64];

/* Offers verbs at the start, VM names after "start", nothing elsewhere. */
static void fake_complete(void *ctx, struct le *e, const char *line, unsigned int start,
			  const char *word)
{
	static const char *const verbs[] = { "vcpu-list", "vcpu-pin", "version", "list" };
	static const char *const vms[] = { "web1", "web2", "db" };

	assert_ptr_equal(ctx, &complete_seen);
	snprintf(complete_seen, sizeof(complete_seen), "%.*s|%s", (int)start, line, word);
	if (start == 0)
		for (unsigned int i = 0; i < 4; i++)
			le_offer(e, verbs[i]);
	else if (!strncmp(line, "start ", 6))
		for (unsigned int i = 0; i < 3; i++)
			le_offer(e, vms[i]);
}

static void test_completion(void **state)
{
	le_set_completion(&le, fake_complete, &complete_seen);
	/* One match: completed, and a space after it. */
	assert_string_equal(keys("li\t"), "list ");
	assert_string_equal(complete_seen, "|li");
	assert_string_equal(le.buf, "list ");
	feed("\x15");
	/* Several: completed as far as they agree; a second Tab lists them. */
	assert_string_equal(keys("v\t"), "v");
	assert_string_equal(le.buf, "v");   /* "v" is all of vcpu-... and version agree on */
	assert_string_equal(keys("\t"), "\r\nvcpu-list  vcpu-pin   version\r\ntern> v");
	assert_string_equal(keys("c\t"), "cpu-");
	assert_string_equal(le.buf, "vcpu-");
	assert_string_equal(keys("p\t"), "pin ");
	assert_string_equal(le.buf, "vcpu-pin ");
	feed("\x15");
	/* Nothing fits: the bell. Names after the verb. */
	assert_string_equal(keys("start x\t"), "start x\a");
	assert_string_equal(complete_seen, "start |x");
	feed("\x7f" "d\t");
	assert_string_equal(le.buf, "start db ");
	/* In the middle of a line: the word before the cursor; a space that follows is kept. */
	feed("\x15" "start w --all\033[H\033[C\033[C\033[C\033[C\033[C\033[C\033[C");
	assert_int_equal(le.pos, 7);
	feed("\t");
	assert_string_equal(le.buf, "start web --all");
	feed("1\t");
	assert_string_equal(le.buf, "start web1 --all");
	assert_int_equal(le.pos, 11);
}

static void test_long_line_scrolls(void **state)
{
	char line[200];

	le.cols = 40; /* "tern> " and 33 characters fit */
	for (unsigned int i = 0; i < 100; i++)
		line[i] = (char)('0' + i % 10);
	line[100] = '\0';
	feed(line);
	assert_int_equal(le.len, 100);
	assert_true(le.off > 0 && le.off <= 100 && 100 - le.off <= 33);
	keys("\033[H");
	assert_int_equal(le.off, 0);
	/* The first 33 characters shown, the cursor at the first. */
	assert_string_equal(shown, "\r\033[Ktern> 012345678901234567890123456789012\r\033[6C");
	feed("x\033[F");
	assert_int_equal(le.pos, 101);
	assert_int_equal(feed("\r"), LE_LINE);
	assert_int_equal(strlen(le.line), 101);
	assert_int_equal(le.line[0], 'x');
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
		cmocka_unit_test_setup(test_kib_line, setup),
		cmocka_unit_test_setup(test_cursor_editing, setup),
		cmocka_unit_test_setup(test_home_end_variants, setup),
		cmocka_unit_test_setup(test_kill_keys, setup),
		cmocka_unit_test_setup(test_completion, setup),
		cmocka_unit_test_setup(test_long_line_scrolls, setup),
		cmocka_unit_test_setup(test_redraw, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
