/* SPDX-License-Identifier: MIT */
/* Virtual 16550 (TI/NS 16550 register set) with an output ring and an input FIFO. */
#include "vmm/vuart.h"
#include "arch/x86.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "drivers/tsc.h"

#define REG_DATA 0 /* RBR/THR, DLL with DLAB */
#define REG_IER  1 /* DLM with DLAB */
#define REG_IIR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_MSR  6
#define REG_SCR  7
#define LCR_DLAB 0x80
#define IIR_NO_INTERRUPT 0x01
#define LSR_DR        0x01
#define LSR_THRE_TEMT 0x60

/*
 * The host-log rate limit of each VM, a token bucket in bytes as the console
 * prints them. A burst lets a guest's start-up messages through whole; the
 * steady rate, about a third of a 115200-baud line (11.5 KB/s), passes a
 * guest logging a short line at 100 Hz. More than two VMs at their limit
 * fill the line: kernel/console.c then drops guest lines whole and keeps the
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
	u->dll = 1; /* 115200 baud */
}

bool vuart_claims(uint16_t port)
{
	return port >= VUART_BASE && port < VUART_BASE + VUART_PORTS;
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

static uint32_t rx_get(struct vuart *u)
{
	uint32_t c = 0;

	spin_lock(&u->lock);
	if (u->rx_tail != u->rx_head)
		c = u->rx[u->rx_tail++ & (VUART_RX_SIZE - 1)];
	spin_unlock(&u->lock);
	return c;
}

static uint32_t lsr(struct vuart *u)
{
	/* The serial console's bytes come in as the guest looks for them. */
	if (u->sink == VUART_TO_CONSOLE && u->rx_tail == u->rx_head)
		console_poll_input();
	return LSR_THRE_TEMT | (u->rx_tail != u->rx_head ? LSR_DR : 0);
}

uint32_t vuart_read(struct vuart *u, uint16_t port)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (port - VUART_BASE) {
	case REG_DATA: return dlab ? u->dll : rx_get(u);
	case REG_IER:  return dlab ? u->dlm : u->ier;
	case REG_IIR:  return IIR_NO_INTERRUPT;
	case REG_LCR:  return u->lcr;
	case REG_MCR:  return u->mcr;
	case REG_LSR:  return lsr(u);
	case REG_MSR:  return 0;
	default:       return u->scr;
	}
}

void vuart_write(struct vuart *u, uint16_t port, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (port - VUART_BASE) {
	case REG_DATA:
		if (dlab)
			u->dll = val;
		else
			put(u, (char)val);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		break;
	case REG_LCR: u->lcr = val; break;
	case REG_MCR: u->mcr = val & 0x1f; break;
	case REG_SCR: u->scr = val; break;
	default: break; /* FCR, LSR, MSR: nothing to keep */
	}
}
