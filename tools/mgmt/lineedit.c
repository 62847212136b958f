/* SPDX-License-Identifier: MIT */
/* The shell's line editor (see lineedit.h): pure logic, no I/O. */
#include "tools/mgmt/lineedit.h"

#include <stddef.h>

#include "kernel/string.h"

/* Erase the terminal line: carriage return, then erase to its end (ECMA-48 EL). */
#define LE_ERASE "\r\033[K"

static void out_bytes(struct le *le, const char *s, size_t n)
{
	for (size_t i = 0; i < n && le->out_len < LE_OUT_MAX; i++)
		le->out[le->out_len++] = s[i];
}

static void out_str(struct le *le, const char *s)
{
	out_bytes(le, s, strlen(s));
}

void le_init(struct le *le, const char *prompt)
{
	memset(le, 0, sizeof(*le));
	le->prompt = prompt;
}

void le_redraw(struct le *le)
{
	out_str(le, LE_ERASE);
	out_str(le, le->prompt);
	out_bytes(le, le->buf, le->len);
}

void le_prompt(struct le *le)
{
	out_str(le, le->prompt);
	out_bytes(le, le->buf, le->len);
}

static void set_line(struct le *le, const char *s)
{
	size_t n = strlen(s);

	if (n > LE_LINE_MAX - 1)
		n = LE_LINE_MAX - 1;
	memcpy(le->buf, s, n);
	le->buf[n] = '\0';
	le->len = (unsigned int)n;
	le->dropped = false;
	le_redraw(le);
}

static const char *hist_entry(const struct le *le, unsigned int k)
{
	return le->hist[(le->hist_next + LE_HIST_MAX - k) % LE_HIST_MAX];
}

/* Adds a line unless it is empty or repeats the most recent entry. */
static void hist_add(struct le *le, const char *s)
{
	if (!s[0] || (le->hist_count && !strcmp(hist_entry(le, 1), s)))
		return;
	memcpy(le->hist[le->hist_next], s, LE_LINE_MAX);
	le->hist_next = (le->hist_next + 1) % LE_HIST_MAX;
	if (le->hist_count < LE_HIST_MAX)
		le->hist_count++;
}

static void hist_up(struct le *le)
{
	if (le->browse >= le->hist_count)
		return;
	if (le->browse == 0)
		memcpy(le->saved, le->buf, LE_LINE_MAX);
	le->browse++;
	set_line(le, hist_entry(le, le->browse));
}

static void hist_down(struct le *le)
{
	if (le->browse == 0)
		return;
	le->browse--;
	set_line(le, le->browse ? hist_entry(le, le->browse) : le->saved);
}

static void clear_line(struct le *le)
{
	le->len = 0;
	le->buf[0] = '\0';
	le->browse = 0;
	le->dropped = false;
}

static enum le_result enter(struct le *le)
{
	memcpy(le->line, le->buf, LE_LINE_MAX);
	le->line_dropped = le->dropped;
	if (!le->dropped)
		hist_add(le, le->line);
	clear_line(le);
	out_str(le, "\r\n");
	return LE_LINE;
}

/*
 * ESC [ or ESC O, then parameter and intermediate bytes (0x20-0x3f), then one
 * final byte (0x40-0x7e), as ECMA-48 has it. An ESC inside starts a new
 * sequence; any other byte abandons it.
 */
static void feed_esc(struct le *le, uint8_t c)
{
	if (c == LE_ESC) {
		le->esc = LE_ESC_START;
		return;
	}
	if (le->esc == LE_ESC_START) {
		le->esc = (c == '[' || c == 'O') ? LE_ESC_SEQ : LE_ESC_NONE;
		le->esc_len = 0;
		return;
	}
	if (c >= 0x40 && c <= 0x7e) {
		le->esc = LE_ESC_NONE;
		if (c == 'A')
			hist_up(le);
		else if (c == 'B')
			hist_down(le);
		return;
	}
	if (c < 0x20 || c > 0x3f || ++le->esc_len >= LE_ESC_MAX)
		le->esc = LE_ESC_NONE;
}

static void feed_char(struct le *le, uint8_t c)
{
	if (le->len >= LE_LINE_MAX - 1) {
		out_str(le, "\a");
		return;
	}
	le->buf[le->len++] = (char)c;
	le->buf[le->len] = '\0';
	out_bytes(le, (const char *)&c, 1);
}

static enum le_result feed_control(struct le *le, uint8_t c)
{
	switch (c) {
	case '\r':
		le->after_cr = true;
		return enter(le);
	case LE_CTRL_C:
		clear_line(le);
		out_str(le, "^C\r\n");
		return LE_CANCEL;
	case LE_DEL:
	case LE_CTRL_H:
		if (le->len) {
			le->buf[--le->len] = '\0';
			out_str(le, "\b \b");
		}
		break;
	case LE_CTRL_U:
		clear_line(le);
		le_redraw(le);
		break;
	case LE_CTRL_L:
		out_str(le, "\033[H\033[2J");
		le_prompt(le);
		break;
	case LE_ESC:
		le->esc = LE_ESC_START;
		break;
	default: /* Tab and the other control characters */
		break;
	}
	return LE_NONE;
}

enum le_result le_feed(struct le *le, uint8_t c)
{
	bool after_cr = le->after_cr;

	le->after_cr = false;
	if (le->esc != LE_ESC_NONE) {
		/* A lone ESC followed by anything but '[', 'O' or ESC is dropped; the byte counts. */
		if (le->esc == LE_ESC_SEQ || c == '[' || c == 'O' || c == LE_ESC) {
			feed_esc(le, c);
			return LE_NONE;
		}
		le->esc = LE_ESC_NONE;
	}
	if (c == '\n')
		return after_cr ? LE_NONE : enter(le);
	if (c < 0x20 || c == LE_DEL)
		return feed_control(le, c);
	/* Not shown and not kept, but remembered so the caller can refuse the line. */
	if (c < 0x80)
		feed_char(le, c);
	else
		le->dropped = true;
	return LE_NONE;
}
