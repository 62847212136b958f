/* SPDX-License-Identifier: MIT */
/* The shell's line editor (see lineedit.h): pure logic, no I/O. */
#include "tools/mgmt/lineedit.h"

#include <stddef.h>

#include "kernel/string.h"

/* Erase the terminal line: carriage return, then erase to its end (ECMA-48 EL). */
#define LE_ERASE "\r\033[K"
/* Cursor Forward and Cursor Backward by one (ECMA-48 CUF, CUB). */
#define LE_RIGHT "\033[C"
#define LE_LEFT  "\033[D"
#define LE_MIN_WIDTH 8u

static void out_bytes(struct le *le, const char *s, size_t n)
{
	for (size_t i = 0; i < n && le->out_len < LE_OUT_MAX; i++)
		le->out[le->out_len++] = s[i];
}

static void out_str(struct le *le, const char *s)
{
	out_bytes(le, s, strlen(s));
}

static void out_uint(struct le *le, unsigned int v)
{
	char d[12];
	unsigned int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out_bytes(le, &d[--n], 1);
}

void le_init(struct le *le, const char *prompt)
{
	memset(le, 0, sizeof(*le));
	le->prompt = prompt;
	le->cols = LE_COLS;
}

void le_set_completion(struct le *le, le_complete_fn *fn, void *ctx)
{
	le->complete = fn;
	le->complete_ctx = ctx;
}

/* Characters of the line shown at once: the row less the prompt and one column. */
static unsigned int width(const struct le *le)
{
	unsigned int plen = (unsigned int)strlen(le->prompt);

	return le->cols > plen + LE_MIN_WIDTH + 1 ? le->cols - plen - 1 : LE_MIN_WIDTH;
}

/* Scrolls so the cursor is shown: by half a row at a time, none for a short line. */
static void scroll(struct le *le)
{
	unsigned int w = width(le);

	if (le->len <= w) {
		le->off = 0;
		return;
	}
	if (le->pos < le->off)
		le->off = le->pos > w / 2 ? le->pos - w / 2 : 0;
	else if (le->pos > le->off + w)
		le->off = le->pos - w / 2;
}

/* The prompt, the part of the line shown, and the cursor put where it is in the line. */
static void draw(struct le *le)
{
	unsigned int w, end;

	scroll(le);
	w = width(le);
	end = le->len < le->off + w ? le->len : le->off + w;
	out_str(le, le->prompt);
	out_bytes(le, le->buf + le->off, end - le->off);
	if (le->pos != end) {
		unsigned int col = (unsigned int)strlen(le->prompt) + le->pos - le->off;

		out_str(le, "\r");
		if (col) {
			out_str(le, "\033[");
			out_uint(le, col);
			out_str(le, "C");
		}
	}
}

void le_redraw(struct le *le)
{
	out_str(le, LE_ERASE);
	draw(le);
}

void le_prompt(struct le *le)
{
	draw(le);
}

static void set_line(struct le *le, const char *s)
{
	size_t n = strlen(s);

	if (n > LE_LINE_MAX - 1)
		n = LE_LINE_MAX - 1;
	memcpy(le->buf, s, n);
	le->buf[n] = '\0';
	le->len = le->pos = (unsigned int)n;
	le->dropped = le->too_long = false;
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
	le->len = le->pos = le->off = 0;
	le->buf[0] = '\0';
	le->browse = 0;
	le->dropped = le->too_long = false;
}

/* Before the line is left: the cursor to its end, so what follows starts below it. */
static void to_end(struct le *le)
{
	if (le->pos == le->len)
		return;
	le->pos = le->len;
	le_redraw(le);
}

static enum le_result enter(struct le *le)
{
	to_end(le);
	memcpy(le->line, le->buf, LE_LINE_MAX);
	le->line_dropped = le->dropped;
	le->line_too_long = le->too_long;
	if (!le->dropped && !le->too_long)
		hist_add(le, le->line);
	clear_line(le);
	out_str(le, "\r\n");
	return LE_LINE;
}

static void move_to(struct le *le, unsigned int pos)
{
	unsigned int old_off = le->off;

	if (pos == le->pos)
		return;
	if (pos + 1 == le->pos || pos == le->pos + 1) {
		bool left = pos < le->pos;

		le->pos = pos;
		scroll(le);
		if (le->off == old_off) {
			out_str(le, left ? LE_LEFT : LE_RIGHT);
			return;
		}
	}
	le->pos = pos;
	le_redraw(le);
}

/* Removes n characters from at on; the cursor, if after them, moves with the rest. */
static void erase(struct le *le, unsigned int at, unsigned int n)
{
	if (!n)
		return;
	memmove(le->buf + at, le->buf + at + n, le->len - at - n + 1);
	le->len -= n;
	if (le->pos > at)
		le->pos = le->pos >= at + n ? le->pos - n : at;
	le_redraw(le);
}

static void backspace(struct le *le)
{
	unsigned int old_off = le->off;

	if (!le->pos)
		return;
	if (le->pos < le->len) {
		erase(le, le->pos - 1, 1);
		return;
	}
	le->buf[--le->len] = '\0';
	le->pos--;
	scroll(le);
	if (le->off == old_off && le->pos > le->off)
		out_str(le, "\b \b"); /* at the end and no scrolling: the cheap way */
	else
		le_redraw(le);
}

static void too_long(struct le *le)
{
	if (le->too_long)
		return;
	le->too_long = true;
	out_str(le, "\r\nline too long (max ");
	out_uint(le, LE_LINE_MAX - 1);
	out_str(le, " characters)\r\n");
	draw(le);
}

/* Inserts n bytes at the cursor and shows them; false (nothing inserted) if they do not fit. */
static bool insert(struct le *le, const char *s, unsigned int n)
{
	unsigned int old_off = le->off;
	bool at_end = le->pos == le->len;

	if (le->len + n > LE_LINE_MAX - 1)
		return false;
	if (!n)
		return true;
	memmove(le->buf + le->pos + n, le->buf + le->pos, le->len - le->pos + 1);
	memcpy(le->buf + le->pos, s, n);
	le->len += n;
	le->pos += n;
	scroll(le);
	if (at_end && le->off == old_off)
		out_bytes(le, s, n); /* typed at the end: the echo is all */
	else
		le_redraw(le);
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void kill_word(struct le *le)
{
	unsigned int p = le->pos;

	while (p && is_space(le->buf[p - 1]))
		p--;
	while (p && !is_space(le->buf[p - 1]))
		p--;
	erase(le, p, le->pos - p);
}

/* --- Tab completion ---------------------------------------------------------------- */

void le_offer(struct le *le, const char *word)
{
	size_t n = strlen(word), w = strlen(le->cand_word);

	if (n < w || n >= LE_CAND_LEN || strncmp(word, le->cand_word, w))
		return;
	for (unsigned int i = 0; i < le->cand_count; i++)
		if (!strcmp(le->cand[i], word))
			return;
	if (le->cand_count < LE_CAND_MAX)
		memcpy(le->cand[le->cand_count++], word, n + 1);
}

/* The offers in columns below the line, then the line again. */
static void list_offers(struct le *le)
{
	unsigned int wide = 0, per_row, col = 0;

	for (unsigned int i = 0; i < le->cand_count; i++)
		if (strlen(le->cand[i]) > wide)
			wide = (unsigned int)strlen(le->cand[i]);
	wide += 2;
	per_row = le->cols > wide ? le->cols / wide : 1;
	to_end(le);
	out_str(le, "\r\n");
	for (unsigned int i = 0; i < le->cand_count; i++) {
		unsigned int n = (unsigned int)strlen(le->cand[i]);

		out_bytes(le, le->cand[i], n);
		if (++col == per_row || i + 1 == le->cand_count) {
			out_str(le, "\r\n");
			col = 0;
			continue;
		}
		for (; n < wide; n++)
			out_str(le, " ");
	}
	draw(le);
}

static void complete(struct le *le, bool second)
{
	char word[LE_CAND_LEN];
	unsigned int start = le->pos, common;

	while (start && !is_space(le->buf[start - 1]))
		start--;
	if (le->pos - start >= LE_CAND_LEN)
		return;
	memcpy(word, le->buf + start, le->pos - start);
	word[le->pos - start] = '\0';
	le->cand_count = 0;
	le->cand_word = word;
	le->complete(le->complete_ctx, le, le->buf, start, word);
	le->cand_word = NULL;
	if (!le->cand_count) {
		out_str(le, "\a"); /* nothing fits */
		return;
	}
	/* How far every offer agrees. */
	common = (unsigned int)strlen(le->cand[0]);
	for (unsigned int i = 1; i < le->cand_count; i++) {
		unsigned int k = 0;

		while (k < common && le->cand[i][k] == le->cand[0][k])
			k++;
		common = k;
	}
	if (le->cand_count == 1) {
		if (!insert(le, le->cand[0] + strlen(word), common - (unsigned int)strlen(word)))
			return;
		if (le->pos < le->len && le->buf[le->pos] == ' ')
			move_to(le, le->pos + 1); /* a space follows already: past it */
		else
			insert(le, " ", 1);
		return;
	}
	if (common > strlen(word))
		insert(le, le->cand[0] + strlen(word), common - (unsigned int)strlen(word));
	else if (second)
		list_offers(le);
}

/* --- keys ------------------------------------------------------------------------- */

static void key_home(struct le *le)
{
	move_to(le, 0);
}

static void key_end(struct le *le)
{
	move_to(le, le->len);
}

static void key_delete(struct le *le)
{
	if (le->pos < le->len)
		erase(le, le->pos, 1);
}

/* The number before any ';' in the sequence's parameters; 0 if none. */
static unsigned int esc_param(const struct le *le)
{
	unsigned int v = 0;

	for (unsigned int i = 0; i < le->esc_len && le->esc_par[i] >= '0' && le->esc_par[i] <= '9';
	     i++)
		v = v * 10 + (unsigned int)(le->esc_par[i] - '0');
	return v;
}

static void esc_final(struct le *le, uint8_t c)
{
	switch (c) {
	case 'A': hist_up(le); break;
	case 'B': hist_down(le); break;
	case 'C':
		if (le->pos < le->len)
			move_to(le, le->pos + 1);
		break;
	case 'D':
		if (le->pos)
			move_to(le, le->pos - 1);
		break;
	case 'H': key_home(le); break;
	case 'F': key_end(le); break;
	case '~': /* VT220 editing keys (the Linux console's and xterm's) */
		switch (esc_param(le)) {
		case 1: case 7: key_home(le); break;
		case 4: case 8: key_end(le); break;
		case 3: key_delete(le); break;
		default: break;
		}
		break;
	default: break;
	}
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
		esc_final(le, c);
		return;
	}
	if (c < 0x20 || c > 0x3f || le->esc_len >= LE_ESC_MAX - 1) {
		le->esc = LE_ESC_NONE;
		return;
	}
	le->esc_par[le->esc_len++] = (char)c;
}

static enum le_result feed_control(struct le *le, uint8_t c, bool second_tab)
{
	switch (c) {
	case '\r':
		le->after_cr = true;
		return enter(le);
	case LE_CTRL_C:
		to_end(le);
		clear_line(le);
		out_str(le, "^C\r\n");
		return LE_CANCEL;
	case LE_DEL:
	case LE_CTRL_H: backspace(le); break;
	case LE_CTRL_D: key_delete(le); break;
	case LE_CTRL_A: key_home(le); break;
	case LE_CTRL_E: key_end(le); break;
	case LE_CTRL_B:
		if (le->pos)
			move_to(le, le->pos - 1);
		break;
	case LE_CTRL_F:
		if (le->pos < le->len)
			move_to(le, le->pos + 1);
		break;
	case LE_CTRL_K: {
		unsigned int old_off = le->off;

		le->len = le->pos;
		le->buf[le->len] = '\0';
		scroll(le);
		if (le->off == old_off)
			out_str(le, "\033[K");
		else
			le_redraw(le);
		break;
	}
	case LE_CTRL_U:
		if (le->pos == le->len) {
			clear_line(le);
		} else {
			memmove(le->buf, le->buf + le->pos, le->len - le->pos + 1);
			le->len -= le->pos;
			le->pos = 0;
		}
		le_redraw(le);
		break;
	case LE_CTRL_W: kill_word(le); break;
	case LE_CTRL_L:
		out_str(le, "\033[H\033[2J");
		draw(le);
		break;
	case LE_TAB:
		if (le->complete)
			complete(le, second_tab);
		le->last_tab = true;
		break;
	case LE_ESC:
		le->esc = LE_ESC_START;
		break;
	default: /* the other control characters */
		break;
	}
	return LE_NONE;
}

enum le_result le_feed(struct le *le, uint8_t c)
{
	bool after_cr = le->after_cr, second_tab = le->last_tab;
	char ch = (char)c;

	le->after_cr = false;
	le->last_tab = false;
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
		return feed_control(le, c, second_tab);
	/* Not shown and not kept, but remembered so the caller can refuse the line. */
	if (c >= 0x80)
		le->dropped = true;
	else if (!insert(le, &ch, 1))
		too_long(le);
	return LE_NONE;
}
