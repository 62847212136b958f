/* SPDX-License-Identifier: MIT */
/*
 * The shell's line editor: fed one input byte at a time, it keeps the line
 * being typed, a cursor in it and a history, and queues the terminal bytes
 * that show it (no I/O of its own, so it is unit-tested on the host).
 *
 * Keys: printable characters insert at the cursor; Backspace (0x7f, 0x08)
 * and Delete (ESC [ 3 ~, Ctrl-D) erase before / under the cursor; Left,
 * Right (ESC [ D / C, ESC O D / C, Ctrl-B / Ctrl-F), Home (ESC [ H, ESC O H,
 * ESC [ 1 ~, ESC [ 7 ~, Ctrl-A), End (ESC [ F, ESC O F, ESC [ 4 ~,
 * ESC [ 8 ~, Ctrl-E) move it; Ctrl-W erases the word before the cursor,
 * Ctrl-K to the end of the line, Ctrl-U to its start; Ctrl-C abandons the
 * line, Ctrl-L redraws; Up/Down (ESC [ A / B, ESC O A / B) walk the history.
 * Modifier parameters (ESC [ 1 ; 5 D) are ignored: the key counts as plain.
 * Tab asks the completion callback for the words that fit where the cursor
 * is: one is completed and followed by a space, several are completed as far
 * as they agree, and a second Tab lists them. Enter is \r or \n; \r\n counts
 * once. Other control characters and escape sequences are ignored.
 *
 * The line holds up to LE_LINE_MAX - 1 characters; more is refused with a
 * "line too long" message and line_too_long tells the caller, which refuses
 * such a line. Bytes >= 0x80 are neither shown nor kept, and line_dropped
 * tells the caller likewise. A line wider than the terminal (cols) scrolls
 * sideways in place, so that the cursor can always be moved with ESC [ C/D
 * on one terminal row.
 */
#ifndef TERN_MGMT_LINEEDIT_H
#define TERN_MGMT_LINEEDIT_H

#include <stdbool.h>
#include <stdint.h>

#define LE_LINE_MAX 4096u /* with the NUL */
#define LE_HIST_MAX 16u
#define LE_OUT_MAX  8192u /* one redraw, or a listing of every completion and a redraw */
#define LE_ESC_MAX  8u    /* parameter bytes of one escape sequence before giving up */
#define LE_COLS     80u   /* terminal width assumed: a serial console's default */
#define LE_CAND_MAX 128u  /* completions held at one Tab */
#define LE_CAND_LEN 48u   /* with the NUL: a boot module name is up to 47 */

#define LE_CTRL_A 0x01u
#define LE_CTRL_B 0x02u
#define LE_CTRL_C 0x03u
#define LE_CTRL_D 0x04u
#define LE_CTRL_E 0x05u
#define LE_CTRL_F 0x06u
#define LE_CTRL_H 0x08u
#define LE_TAB    0x09u
#define LE_CTRL_K 0x0bu
#define LE_CTRL_L 0x0cu
#define LE_CTRL_U 0x15u
#define LE_CTRL_W 0x17u
#define LE_ESC    0x1bu
#define LE_DEL    0x7fu

enum le_result {
	LE_NONE,   /* keep feeding */
	LE_LINE,   /* Enter: the line is in le->line */
	LE_CANCEL, /* Ctrl-C: the line was abandoned */
};

enum le_esc_state { LE_ESC_NONE, LE_ESC_START, LE_ESC_SEQ };

struct le;
/*
 * Tab: offer every word that may stand at the cursor with le_offer(); the
 * editor keeps those starting with word. line[0..start) is the line before
 * the word being completed (not NUL-terminated there), word the part of it
 * typed so far.
 */
typedef void le_complete_fn(void *ctx, struct le *le, const char *line, unsigned int start,
			    const char *word);

struct le {
	const char *prompt;
	unsigned int cols;         /* terminal width; LE_COLS after le_init */
	char buf[LE_LINE_MAX];     /* the line being typed, NUL-terminated */
	unsigned int len;
	unsigned int pos;          /* the cursor: 0..len */
	unsigned int off;          /* the first character shown (the line scrolls sideways) */
	char line[LE_LINE_MAX];    /* the last line entered */
	char hist[LE_HIST_MAX][LE_LINE_MAX];
	unsigned int hist_count;   /* entries held */
	unsigned int hist_next;    /* slot of the next entry */
	unsigned int browse;       /* 0: the new line; k: the k-th most recent entry */
	char saved[LE_LINE_MAX];   /* the new line while browsing */
	enum le_esc_state esc;
	char esc_par[LE_ESC_MAX];  /* parameter bytes of the sequence */
	unsigned int esc_len;
	bool after_cr;
	bool last_tab;             /* the previous key was Tab */
	bool dropped;              /* a byte >= 0x80 was typed into buf and left out */
	bool line_dropped;         /* the same, for line */
	bool too_long;             /* a character did not fit in buf */
	bool line_too_long;        /* the same, for line */
	le_complete_fn *complete;  /* NULL: Tab does nothing */
	void *complete_ctx;
	char cand[LE_CAND_MAX][LE_CAND_LEN];
	unsigned int cand_count;
	const char *cand_word;     /* the prefix offers must have, during the callback */
	char out[LE_OUT_MAX];      /* terminal bytes to send; the caller empties it */
	unsigned int out_len;
};

void le_init(struct le *le, const char *prompt);
void le_set_completion(struct le *le, le_complete_fn *fn, void *ctx);
/* From the completion callback: one word that may stand at the cursor. */
void le_offer(struct le *le, const char *word);
enum le_result le_feed(struct le *le, uint8_t c);
/* Queues the prompt and the line typed so far (after output went above it). */
void le_redraw(struct le *le);
/* Queues the prompt for a new line (after a command ran). */
void le_prompt(struct le *le);

#endif
