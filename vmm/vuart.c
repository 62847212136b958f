/* SPDX-License-Identifier: MIT */
/* A VM's console: a 16550A (vmm/emul/v16550.c) over an output ring and an input FIFO. */
#include "vmm/vuart.h"
#include "arch/x86.h"
#include "drivers/console.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "drivers/tsc.h"

/*
 * The host-log rate limit of each VM, a token bucket in bytes as the console
 * prints them. A burst lets a guest's start-up messages through whole; the
 * steady rate, about a third of a 115200-baud line (11.5 KB/s), passes a
 * guest logging a short line at 100 Hz. More than two VMs at their limit
 * fill the line: drivers/console.c then drops guest lines whole and keeps the
 * hypervisor's own. A VM that ran the bucket dry is let through
 * again only once a second's worth fits, so what it shows comes in runs of
 * whole lines with one note between them, not a note a line.
 */
#define LOG_RATE   4096u /* bytes a second */
#define LOG_BURST  8192u /* half the console queue's room for guest lines */
#define LOG_RESUME LOG_RATE /* free room that ends a run of dropping */
#define LOG_PREFIX 20u   /* "[    5.123456] [" "] " "\r\n" around the name and text */

void vuart_init(struct vuart *u, const char *owner, int sink)
{
	memset(u, 0, sizeof(*u));
	u->owner = owner;
	u->sink = sink;
	u->lock = (struct spinlock)SPINLOCK_INIT("vuart");
}

/* Logs what the rate limit dropped since the last note, if anything. */
static void log_dropped(struct vuart *u)
{
	if (!u->log_drop_lines)
		return;
	pr_warn("vm %s: console rate limit: dropped %lu lines (%lu bytes)", u->owner,
		(unsigned long)u->log_drop_lines, (unsigned long)u->log_drop_bytes);
	u->log_drop_lines = u->log_drop_bytes = 0;
}

/* Whether the bucket takes a line of len bytes now (GCRA: the bucket as a time). */
static bool log_admit(struct vuart *u, uint32_t len)
{
	uint64_t now = rdtsc(), per_byte = tsc_khz * 1000 / LOG_RATE;
	uint64_t used = u->log_tat > now ? u->log_tat - now : 0;
	uint64_t cost = (len + strlen(u->owner) + LOG_PREFIX) * per_byte;

	if (u->log_muted && used > (LOG_BURST - LOG_RESUME) * per_byte)
		return false;
	if (used + cost > LOG_BURST * per_byte) {
		u->log_muted = true;
		return false;
	}
	u->log_muted = false;
	u->log_tat = now + used + cost;
	return true;
}

/* The line buffer as one log line, if the VM's rate limit lets it through. */
static void line_end(struct vuart *u)
{
	if (log_admit(u, u->len)) {
		log_dropped(u);
		log_write(LOG_LEVEL_INFO | LOG_GUEST, "[%s]%s%.*s", u->owner, u->len ? " " : "",
			  (int)u->len, u->line);
	} else {
		u->log_drop_lines++;
		u->log_drop_bytes += u->len;
	}
	u->len = 0;
}

void vuart_flush(struct vuart *u)
{
	if (u->len)
		line_end(u);
	log_dropped(u);
}

/* One byte to the log's line buffer. */
static void line_put(struct vuart *u, char c)
{
	if (c == '\n') {
		line_end(u);
		return;
	}
	if (c == '\r')
		return;
	/* Keep the host console clean: show control bytes as '.'. */
	u->line[u->len++] = (c < 0x20 || c == 0x7f) && c != '\t' ? '.' : c;
	if (u->len == VUART_LINE_MAX)
		line_end(u);
}

static void put(struct vuart *u, char c)
{
	spin_lock(&u->lock);
	if (!u->out_head)
		u->first_out_tsc = rdtsc();
	u->out[u->out_head++ & (VUART_OUT_SIZE - 1)] = c;
	spin_unlock(&u->lock);
	if (u->sink == VUART_TO_LOG)
		line_put(u, c);
	else if (u->sink == VUART_TO_CONSOLE)
		console_guest_write(&c, 1);
}

uint64_t vuart_bytes_out(const struct vuart *u)
{
	return __atomic_load_n(&u->out_head, __ATOMIC_RELAXED);
}

size_t vuart_out_read(struct vuart *u, uint64_t *pos, uint64_t *lost, char *buf, size_t n)
{
	size_t i = 0;

	spin_lock(&u->lock);
	*lost = 0;
	if (*pos > u->out_head)
		*pos = u->out_head;
	if (u->out_head - *pos > VUART_OUT_SIZE) {
		*lost = u->out_head - VUART_OUT_SIZE - *pos;
		*pos = u->out_head - VUART_OUT_SIZE;
	}
	for (; i < n && *pos < u->out_head; i++, (*pos)++)
		buf[i] = u->out[*pos & (VUART_OUT_SIZE - 1)];
	spin_unlock(&u->lock);
	return i;
}

size_t vuart_rx_room(struct vuart *u)
{
	return VUART_RX_SIZE - (u->rx_head - u->rx_tail);
}

size_t vuart_rx_put(struct vuart *u, const char *s, size_t n)
{
	size_t i = 0;

	spin_lock(&u->lock);
	for (; i < n && u->rx_head - u->rx_tail < VUART_RX_SIZE; i++)
		u->rx[u->rx_head++ & (VUART_RX_SIZE - 1)] = (uint8_t)s[i];
	spin_unlock(&u->lock);
	return i;
}

/* ---- the 16550's backend (vmm/emul/v16550.c has the registers) ------------------ */

static void be_tx(void *ctx, uint8_t byte)
{
	put(ctx, (char)byte);
}

/* The serial console's queue paces the management guest's THR; other sinks never fill. */
static size_t be_tx_room(void *ctx)
{
	struct vuart *u = ctx;

	return u->sink == VUART_TO_CONSOLE ? console_guest_room() : (size_t)-1;
}

static size_t be_rx_count(void *ctx)
{
	struct vuart *u = ctx;

	/* The serial console's bytes come in as the guest looks for them. */
	if (u->sink == VUART_TO_CONSOLE && u->rx_tail == u->rx_head)
		console_poll_input();
	return u->rx_head - u->rx_tail;
}

static int be_rx_get(void *ctx)
{
	struct vuart *u = ctx;
	int c = -1;

	spin_lock(&u->lock);
	if (u->rx_tail != u->rx_head)
		c = u->rx[u->rx_tail++ & (VUART_RX_SIZE - 1)];
	spin_unlock(&u->lock);
	return c;
}

void vuart_attach(struct vuart *u, const struct emul_env *env)
{
	const struct v16550_backend be = { u, be_tx, be_tx_room, be_rx_count, be_rx_get };

	v16550_init(&u->regs, env, VUART_IRQ, VUART_BASE, &be);
}
