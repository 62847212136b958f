/* SPDX-License-Identifier: MIT */
/*
 * The shell's line editor: fed one input byte at a time, it keeps the line
 * being typed and a history, and queues the terminal bytes that show it (no
 * I/O of its own, so it is unit-tested on the host). Editing is at the end of
 * the line only: printable characters, backspace (0x7f, 0x08), Ctrl-U (kill
 * line), Ctrl-C (abandon line), Ctrl-L (redraw), Up/Down through the history
 * (ESC [ A / ESC [ B and ESC O A / ESC O B). Enter is \r or \n; \r\n counts
 * once. Tab, other control characters and other escape sequences are
 * ignored. Bytes >= 0x80 are neither shown nor kept, but line_dropped tells
 * the caller, which refuses such a line rather than run a different one.
 */
#ifndef TERN_MGMT_LINEEDIT_H
#define TERN_MGMT_LINEEDIT_H

#include <stdbool.h>
#include <stdint.h>

#define LE_LINE_MAX 160u /* with the NUL */
#define LE_HIST_MAX 16u
#define LE_OUT_MAX  256u /* one redraw: "\r\033[K", the prompt and a full line */
#define LE_ESC_MAX  8u   /* parameter bytes of one escape sequence before giving up */

#define LE_CTRL_C 0x03u
#define LE_CTRL_H 0x08u
#define LE_TAB    0x09u
#define LE_CTRL_L 0x0cu
#define LE_CTRL_U 0x15u
#define LE_ESC    0x1bu
#define LE_DEL    0x7fu

enum le_result {
	LE_NONE,   /* keep feeding */
	LE_LINE,   /* Enter: the line is in le->line */
	LE_CANCEL, /* Ctrl-C: the line was abandoned */
};

enum le_esc_state { LE_ESC_NONE, LE_ESC_START, LE_ESC_SEQ };

struct le {
	const char *prompt;
	char buf[LE_LINE_MAX];     /* the line being typed, NUL-terminated */
	unsigned int len;
	char line[LE_LINE_MAX];    /* the last line entered */
	char hist[LE_HIST_MAX][LE_LINE_MAX];
	unsigned int hist_count;   /* entries held */
	unsigned int hist_next;    /* slot of the next entry */
	unsigned int browse;       /* 0: the new line; k: the k-th most recent entry */
	char saved[LE_LINE_MAX];   /* the new line while browsing */
	enum le_esc_state esc;
	unsigned int esc_len;
	bool after_cr;
	bool dropped;              /* a byte >= 0x80 was typed into buf and left out */
	bool line_dropped;         /* the same, for line */
	char out[LE_OUT_MAX];      /* terminal bytes to send; the caller empties it */
	unsigned int out_len;
};

void le_init(struct le *le, const char *prompt);
enum le_result le_feed(struct le *le, uint8_t c);
/* Queues the prompt and the line typed so far (after output went above it). */
void le_redraw(struct le *le);
/* Queues the prompt for a new line (after a command ran). */
void le_prompt(struct le *le);

#endif
