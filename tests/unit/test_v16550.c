/* SPDX-License-Identifier: MIT */
/* The PC16550D UART model (vmm/emul/v16550.c) against its datasheet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/errno.h"
#include "vmm/emul/v16550.h"

#define BASE 0x3f8u
#define IRQ  4u

/* Register offsets, spelled as in the datasheet's Table II. */
#define RBR 0u
#define THR 0u
#define DLL 0u
#define IER 1u
#define DLM 1u
#define IIR 2u
#define FCR 2u
#define LCR 3u
#define MCR 4u
#define LSR 5u
#define MSR 6u
#define SCR 7u

/* A fake backend: a receive queue and a transmit log. */
struct fake {
	uint8_t rxq[512];
	size_t rx_head, rx_tail;
	uint8_t txlog[64];
	size_t tx_n;
	bool tx_limited; /* tx_room() returns room, else plenty */
	size_t room;
	uint64_t now;
	bool levels[64]; /* every set_irq level, in order */
	size_t nlevels;
	unsigned int last_line;
};

static struct fake f;
static struct v16550 u;

static void fk_tx(void *ctx, uint8_t b)
{
	struct fake *k = ctx;

	assert_true(k->tx_n < sizeof(k->txlog));
	k->txlog[k->tx_n++] = b;
}

static size_t fk_tx_room(void *ctx)
{
	struct fake *k = ctx;

	return k->tx_limited ? k->room : 4096;
}

static size_t fk_rx_count(void *ctx)
{
	struct fake *k = ctx;

	return k->rx_tail - k->rx_head;
}

static int fk_rx_get(void *ctx)
{
	struct fake *k = ctx;

	return k->rx_head == k->rx_tail ? -1 : k->rxq[k->rx_head++];
}

static uint64_t fk_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fk_set_irq(void *ctx, unsigned int line, bool level)
{
	struct fake *k = ctx;

	assert_true(k->nlevels < 64);
	k->levels[k->nlevels++] = level;
	k->last_line = line;
}

static struct emul_env env = { .ctx = &f, .now_ns = fk_now, .set_irq = fk_set_irq };
static const struct v16550_backend be = {
	.ctx = &f, .tx = fk_tx, .tx_room = fk_tx_room, .rx_count = fk_rx_count, .rx_get = fk_rx_get,
};

static int setup(void **state)
{
	memset(&f, 0, sizeof(f));
	v16550_init(&u, &env, IRQ, BASE, &be);
	return 0;
}

static uint8_t rd(unsigned int reg)
{
	return (uint8_t)v16550_ops.read(&u, BASE + reg, 1);
}

static void wr(unsigned int reg, uint8_t val)
{
	v16550_ops.write(&u, BASE + reg, 1, val);
}

/* Bytes arrive at the backend, which tells the model. */
static void feed(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f.rxq[f.rx_tail++] = (uint8_t)s[i];
	v16550_rx_notify(&u);
}

static void feed_n(size_t n)
{
	for (size_t i = 0; i < n; i++)
		f.rxq[f.rx_tail++] = (uint8_t)('A' + i % 26);
	v16550_rx_notify(&u);
}

static bool line(void)
{
	return f.nlevels && f.levels[f.nlevels - 1];
}

/* Master Reset configuration: IER 0, IIR 01, LCR/MCR 0, LSR 60, MSR inputs, no deltas. */
static void test_reset_values(void **state)
{
	assert_int_equal(rd(IER), 0x00);
	assert_int_equal(rd(IIR), 0x01);
	assert_int_equal(rd(LCR), 0x00);
	assert_int_equal(rd(MCR), 0x00);
	assert_int_equal(rd(LSR), 0x60);
	assert_int_equal(rd(MSR), 0xb0); /* CTS, DSR, DCD asserted, RI off: a connected line */
	assert_int_equal(f.nlevels, 0);
	/* IER bits 4-7 and MCR bits 5-7 are always 0. */
	wr(IER, 0xf0);
	assert_int_equal(rd(IER), 0x00);
	wr(MCR, 0xe0);
	assert_int_equal(rd(MCR), 0x00);
	wr(SCR, 0x5a);
	assert_int_equal(rd(SCR), 0x5a);
	/* Outside the 8 ports nothing answers. */
	assert_int_equal(v16550_ops.read(&u, BASE + 8, 1), 0xff);
}

static void test_dlab(void **state)
{
	wr(IER, 0x05);
	wr(LCR, 0x83); /* DLAB, 8N1 */
	assert_int_equal(rd(LCR), 0x83);
	wr(DLL, 0x0c);
	wr(DLM, 0x01);
	assert_int_equal(rd(DLL), 0x0c);
	assert_int_equal(rd(DLM), 0x01);
	assert_int_equal(f.tx_n, 0); /* DLL writes do not transmit */
	/* IIR is read through DLAB (the 16550A's FIFO probe reads it with LCR 0xBF too). */
	assert_int_equal(rd(IIR), 0x01);
	wr(LCR, 0x03);
	assert_int_equal(rd(IER), 0x05); /* IER kept under the divisor */
	wr(THR, 'x');
	assert_int_equal(f.tx_n, 1);
	assert_int_equal(f.txlog[0], 'x');
	wr(LCR, 0x83);
	assert_int_equal(rd(DLL), 0x0c);
	assert_int_equal(rd(DLM), 0x01);
	/* A 16-bit access is two consecutive registers. */
	assert_int_equal(v16550_ops.read(&u, BASE, 2), 0x010c);
}

/* THRE (Table IV): set when THR empties or ETBEI goes on; cleared by an IIR read or a THR write. */
static void test_thre_rules(void **state)
{
	wr(MCR, 0x08); /* OUT2 */
	assert_int_equal(f.nlevels, 0);
	wr(IER, 0x02);
	assert_int_equal(f.nlevels, 1);
	assert_true(line());
	assert_int_equal(rd(IIR), 0x02);
	assert_false(line());
	assert_int_equal(rd(IIR), 0x01); /* the IIR read cleared it */
	/* Rewriting IER with ETBEI already set is not a new THR-empty event. */
	wr(IER, 0x02);
	assert_int_equal(rd(IIR), 0x01);
	/* A THR write: the byte leaves at once and THR is empty again. */
	f.nlevels = 0;
	wr(THR, 'a');
	assert_int_equal(f.nlevels, 1);
	assert_true(line());
	assert_int_equal(rd(LSR), 0x60);
	/* Writing THR with THRE pending drops INTR, then the empty THR raises it: an edge. */
	f.nlevels = 0;
	wr(THR, 'b');
	assert_int_equal(f.nlevels, 2);
	assert_false(f.levels[0]);
	assert_true(f.levels[1]);
	assert_int_equal(f.tx_n, 2);
	assert_int_equal(rd(IIR), 0x02);
	/* Disabling ETBEI removes the interrupt; enabling it again with THR empty brings it back. */
	wr(THR, 'c');
	wr(IER, 0x00);
	assert_int_equal(rd(IIR), 0x01);
	assert_false(line());
	wr(IER, 0x02);
	assert_true(line());
	assert_int_equal(rd(IIR), 0x02);
}

/*
 * Linux's 8250 startup (serial8250_do_startup): clear the FIFOs, clear the
 * interrupt registers, the THRE test (ETBEI on, IIR must show an interrupt;
 * off, on again, IIR must show it again or the port gets UART_BUG_THRE),
 * then the TXEN test with OUT2 set (LSR.TEMT and an interrupt pending).
 */
static void test_linux_startup_probe(void **state)
{
	uint8_t iir1, iir;

	/* autoconfig's IER check: bits 3:0 read back what was written, 0 and 0x0F. */
	wr(IER, 0x00);
	assert_int_equal(rd(IER) & 0x0f, 0x00);
	wr(IER, 0x0f);
	assert_int_equal(rd(IER) & 0x0f, 0x0f);
	wr(IER, 0x00);
	/* The autoconfig loopback check: MCR = LOOP | OUT2 | RTS gives MSR & 0xF0 == 0x90. */
	wr(MCR, 0x1a);
	assert_int_equal(rd(MSR) & 0xf0, 0x90);
	wr(MCR, 0x00);
	/* The 16550A check: FIFO enabled gives IIR bits 7:6 = 11; with DLAB and FCR5, bits 7:5 = 110. */
	wr(FCR, 0x01);
	assert_int_equal(rd(IIR) >> 6, 3);
	wr(LCR, 0x80);
	wr(FCR, 0x21);
	assert_int_equal(rd(IIR) >> 5, 6);
	wr(LCR, 0x00);
	/* serial8250_clear_fifos */
	wr(FCR, 0x01);
	wr(FCR, 0x07);
	wr(FCR, 0x00);
	(void)rd(LSR);
	(void)rd(RBR);
	(void)rd(IIR);
	(void)rd(MSR);
	assert_int_not_equal(rd(LSR), 0xff);
	/* THRE test */
	wr(IER, 0x02);
	iir1 = rd(IIR);
	wr(IER, 0x00);
	wr(IER, 0x02);
	iir = rd(IIR);
	wr(IER, 0x00);
	assert_int_equal(iir1, 0x02);
	assert_int_equal(iir, 0x02);
	assert_int_equal(f.nlevels, 0); /* OUT2 was clear throughout: no IRQ */
	/* LCR 8N1, MCR DTR|RTS|OUT2, then the TXEN test. */
	wr(LCR, 0x03);
	wr(MCR, 0x0b);
	assert_int_equal(f.nlevels, 0);
	wr(IER, 0x02);
	assert_true(line());
	assert_true(rd(LSR) & 0x40);
	assert_int_equal(rd(IIR) & 0x01, 0);
	wr(IER, 0x00);
	assert_false(line());
	assert_int_equal(f.last_line, IRQ);
	/* Then IER = RLSI | RDI: nothing pending with no input. */
	wr(IER, 0x05);
	assert_int_equal(rd(IIR), 0x01);
	feed("k", 1);
	assert_true(line());
	assert_int_equal(rd(IIR), 0x04);
	assert_int_equal(rd(RBR), 'k');
	assert_false(line());
}

/* Several sources at once come out of IIR in priority order (Table IV). */
static void test_iir_priority(void **state)
{
	wr(IER, 0x0f);
	/* Loopback, 16450 mode, OUT2 (-> DCD): CTS and DSR fall, a line status and data follow. */
	wr(MCR, 0x18);
	wr(THR, 'a');
	wr(THR, 'b'); /* RBR still holds 'a': overrun, 'b' replaces it */
	assert_true(line());
	assert_int_equal(rd(IIR), 0x06);          /* receiver line status */
	assert_int_equal(rd(LSR), 0x63);          /* DR OE THRE TEMT */
	assert_int_equal(rd(IIR), 0x04);          /* received data available */
	assert_int_equal(rd(RBR), 'b');
	assert_int_equal(rd(IIR), 0x02);          /* THR empty: this read clears it */
	assert_int_equal(rd(IIR), 0x00);          /* modem status */
	assert_int_equal(rd(MSR), 0x80 | 0x03);   /* DCD; DCTS DDSR */
	assert_int_equal(rd(IIR), 0x01);
	assert_false(line());
	/* A higher source hides THRE without clearing it: the IIR read reporting RDA leaves THRE. */
	wr(THR, 'c');
	assert_int_equal(rd(IIR), 0x04);
	assert_int_equal(rd(RBR), 'c');
	assert_int_equal(rd(IIR), 0x02);
}

static void test_rx_fifo_disabled(void **state)
{
	wr(MCR, 0x08);
	feed("xyz", 3);
	assert_int_equal(rd(LSR), 0x61);
	assert_int_equal(rd(IIR), 0x01); /* ERBFI clear */
	assert_int_equal(f.nlevels, 0);
	wr(IER, 0x01);
	assert_true(line());
	assert_int_equal(rd(IIR), 0x04); /* 16450 mode: no FIFO bits */
	assert_int_equal(rd(RBR), 'x');
	assert_int_equal(rd(IIR), 0x04);
	assert_int_equal(rd(RBR), 'y');
	assert_int_equal(rd(RBR), 'z');
	assert_int_equal(rd(IIR), 0x01);
	assert_int_equal(rd(LSR), 0x60);
	assert_false(line());
	/* An empty receiver keeps showing the last byte. */
	assert_int_equal(rd(RBR), 'z');
	/* No character timeout in 16450 mode. */
	feed("w", 1);
	assert_int_equal(v16550_ops.poll(&u, 1000000000000ull), EMUL_NEVER);
	assert_int_equal(rd(IIR), 0x04);
}

/* FIFO mode: RDA while the FIFO is at or over the trigger level (§8.5, §8.11). */
static void test_rx_trigger_levels(void **state)
{
	static const struct { uint8_t fcr, level; } t[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};

	wr(MCR, 0x08);
	wr(IER, 0x01);
	for (size_t i = 0; i < 4; i++) {
		wr(FCR, t[i].fcr | 0x02);
		assert_int_equal(rd(LSR) & 0x01, 0);
		if (t[i].level > 1) {
			feed_n(t[i].level - 1u);
			assert_int_equal(rd(LSR) & 0x01, 1);
			assert_int_equal(rd(IIR), 0xc1);
			assert_false(line());
		}
		feed_n(1);
		assert_int_equal(rd(IIR), 0xc4);
		assert_true(line());
		(void)rd(RBR); /* one below the trigger */
		assert_int_equal(rd(IIR), 0xc1);
		assert_false(line());
	}
	/* A backend holding more than 16: the FIFO shows 16 and drains from the rest. */
	wr(FCR, 0xc3);
	feed_n(20);
	assert_int_equal(rd(IIR), 0xc4);
	for (int i = 0; i < 6; i++)
		(void)rd(RBR);
	assert_int_equal(rd(IIR), 0xc4); /* 14 left */
	(void)rd(RBR);
	assert_int_equal(rd(IIR), 0xc1); /* 13 */
	assert_int_equal(rd(LSR), 0x61);
}

/*
 * Character timeout: data in the FIFO, nothing received or read for four
 * character times (§8.6 Table IV, §8.11). 8N1 at divisor 12 (9600 baud):
 * 4 * 10 bits / 9600 = 4166666.7 ns.
 */
static void test_char_timeout(void **state)
{
	uint64_t t0 = 1000, d;

	wr(LCR, 0x83);
	wr(DLL, 12);
	wr(DLM, 0);
	wr(LCR, 0x03);
	wr(FCR, 0xc1);
	wr(IER, 0x01);
	wr(MCR, 0x08);
	assert_int_equal(v16550_ops.poll(&u, 0), EMUL_NEVER); /* empty FIFO: no timer */
	f.now = t0;
	feed("ab", 2);
	d = v16550_ops.poll(&u, t0);
	assert_int_equal(d, t0 + 4166667);
	assert_int_equal(v16550_ops.poll(&u, d - 1), d);
	assert_int_equal(rd(IIR), 0xc1);
	assert_int_equal(v16550_ops.poll(&u, d), EMUL_NEVER);
	assert_true(line());
	assert_int_equal(rd(IIR), 0xcc);
	/* A read clears it and restarts the timer. */
	f.now = d + 500;
	assert_int_equal(rd(RBR), 'a');
	assert_false(line());
	assert_int_equal(rd(IIR), 0xc1);
	assert_int_equal(v16550_ops.poll(&u, f.now), f.now + 4166667);
	/* A received character restarts the timer as well. */
	f.now += 1000000;
	feed("c", 1);
	assert_int_equal(v16550_ops.poll(&u, f.now), f.now + 4166667);
	/* A register access after the deadline sees the timeout without a poll. */
	f.now += 4166667;
	assert_int_equal(rd(IIR), 0xcc);
	assert_int_equal(rd(RBR), 'b');
	assert_int_equal(rd(RBR), 'c');
	assert_int_equal(rd(IIR), 0xc1);
	assert_int_equal(v16550_ops.poll(&u, f.now + 100000000), EMUL_NEVER);
}

/* Character length in the timeout: 8 data, parity, 2 stop; 5 data, 1.5 stop (§8.1). */
static void test_char_timeout_formats(void **state)
{
	wr(FCR, 0x01);
	/* 8E2 at divisor 1 (115200): 4 * 12 bits / 115200 = 416666.7 ns */
	wr(LCR, 0x1f);
	feed("a", 1);
	assert_int_equal(v16550_ops.poll(&u, 0), 416667);
	(void)rd(RBR);
	/* 5 bits, 1.5 stop at divisor 0x180 (300 baud): 4 * 7.5 / 300 = 0.1 s */
	wr(LCR, 0x84);
	wr(DLL, 0x80);
	wr(DLM, 0x01);
	wr(LCR, 0x04);
	feed("a", 1);
	assert_int_equal(v16550_ops.poll(&u, 0), 100000000);
}

/* Overrun in FIFO mode: the 17th byte is lost; OE and the RLS interrupt clear on an LSR read. */
static void test_lsr_overrun(void **state)
{
	wr(FCR, 0x01);
	wr(IER, 0x04);
	wr(MCR, 0x18);
	for (int i = 0; i < 17; i++)
		wr(THR, (uint8_t)i);
	assert_int_equal(f.tx_n, 0); /* loopback: nothing on the line */
	assert_true(line());
	assert_int_equal(rd(IIR), 0xc6);
	assert_int_equal(rd(LSR), 0x63);
	assert_false(line());
	assert_int_equal(rd(LSR), 0x61);
	assert_int_equal(rd(IIR), 0xc1);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(RBR), i);
	assert_int_equal(rd(LSR), 0x60);
}

/* MSR deltas set on input changes and clear on read; TERI on RI's trailing edge (§8.9). */
static void test_msr_deltas(void **state)
{
	assert_int_equal(rd(MSR), 0xb0);
	wr(MCR, 0x10); /* loopback, all outputs off: CTS DSR DCD fall */
	assert_int_equal(rd(MSR), 0x0b);
	assert_int_equal(rd(MSR), 0x00);
	wr(MCR, 0x1f); /* all on; RI rising is no TERI */
	assert_int_equal(rd(MSR), 0xfb);
	wr(MCR, 0x1b); /* OUT1 off: RI falls */
	assert_int_equal(rd(MSR), 0xb4);
	wr(MCR, 0x19); /* RTS off: CTS falls */
	assert_int_equal(rd(MSR), 0xa1);
	wr(MCR, 0x09); /* out of loopback: the connected line again (CTS DSR DCD) */
	assert_int_equal(rd(MSR), 0xb1);
	/* The modem status interrupt, cleared by the MSR read. */
	wr(IER, 0x08);
	assert_int_equal(rd(IIR), 0x01);
	wr(MCR, 0x18);
	assert_true(line());
	assert_int_equal(rd(IIR), 0x00);
	assert_int_equal(rd(MSR), 0x83);
	assert_false(line());
	assert_int_equal(rd(IIR), 0x01);
}

static void test_loopback(void **state)
{
	feed("q", 1);
	wr(MCR, 0x10);
	assert_int_equal(rd(LSR), 0x60); /* the serial input is disconnected */
	assert_int_equal(rd(RBR), 0x00);  /* nothing received: the backend keeps its byte */
	assert_int_equal(fk_rx_count(&f), 1);
	wr(THR, 'x');
	wr(THR, 'y'); /* 16450 mode: overruns 'x' */
	assert_int_equal(f.tx_n, 0);
	assert_int_equal(rd(LSR), 0x63);
	assert_int_equal(rd(RBR), 'y');
	assert_int_equal(rd(LSR), 0x60);
	/* FIFO mode loops 16 bytes. */
	wr(FCR, 0x01);
	wr(THR, '1');
	wr(THR, '2');
	assert_int_equal(rd(RBR), '1');
	assert_int_equal(rd(RBR), '2');
	/* Out of loopback the backend's byte is received and THR goes to the line. */
	wr(MCR, 0x00);
	assert_int_equal(rd(LSR), 0x61);
	assert_int_equal(rd(RBR), 'q');
	wr(THR, 'z');
	assert_int_equal(f.tx_n, 1);
	assert_int_equal(f.txlog[0], 'z');
	/* Receiver interrupts work in loopback (§8.8). */
	wr(IER, 0x01);
	wr(MCR, 0x18);
	wr(THR, 'L');
	assert_true(line());
	assert_int_equal(rd(IIR), 0xc4);
	assert_int_equal(rd(RBR), 'L');
	assert_false(line());
}

/* The IRQ line follows INTR only with MCR.OUT2, and is driven only on changes. */
static void test_out2_gating(void **state)
{
	wr(IER, 0x02);
	assert_int_equal(rd(IIR), 0x02); /* pending, reported, cleared */
	wr(IER, 0x00);
	wr(IER, 0x02);
	wr(MCR, 0x03); /* DTR RTS without OUT2 */
	assert_int_equal(f.nlevels, 0);
	wr(MCR, 0x0b);
	assert_int_equal(f.nlevels, 1);
	assert_true(f.levels[0]);
	assert_int_equal(f.last_line, IRQ);
	wr(MCR, 0x0b);
	wr(SCR, 1);
	assert_int_equal(f.nlevels, 1);
	wr(MCR, 0x03);
	assert_int_equal(f.nlevels, 2);
	assert_false(f.levels[1]);
	assert_int_equal(rd(IIR), 0x02); /* INTR itself was still up */
	wr(MCR, 0x0b);
	assert_int_equal(f.nlevels, 2); /* and cleared by that read */
}

static void test_fcr(void **state)
{
	wr(IER, 0x02);
	assert_int_equal(rd(IIR), 0x02);
	/* The first THRE interrupt after changing FCR0 is immediate (§8.11). */
	wr(FCR, 0x01);
	assert_int_equal(rd(IIR), 0xc2);
	assert_int_equal(rd(IIR), 0xc1);
	wr(IER, 0x00);
	/* FCR1 empties the FIFO: 16 bytes; what the backend holds beyond comes in. */
	feed_n(20);
	wr(FCR, 0x03);
	assert_int_equal(fk_rx_count(&f), 4);
	assert_int_equal(rd(LSR), 0x61);
	assert_int_equal(rd(RBR), 'A' + 16);
	/* FCR0 = 0: back to 16450 mode, the FIFO cleared. */
	wr(FCR, 0x00);
	assert_int_equal(fk_rx_count(&f), 0);
	assert_int_equal(rd(IIR), 0x01);
	assert_int_equal(rd(LSR), 0x60);
	/* Trigger 14 (FCR 7:6 = 11). */
	wr(FCR, 0xc1);
	wr(IER, 0x01);
	feed_n(13);
	assert_int_equal(rd(IIR), 0xc1);
	feed_n(1);
	assert_int_equal(rd(IIR), 0xc4);
}

static void test_reset_op(void **state)
{
	wr(MCR, 0x08);
	wr(IER, 0x02);
	wr(FCR, 0xc1);
	wr(LCR, 0x1b);
	wr(SCR, 9);
	assert_true(line());
	v16550_ops.reset(&u);
	assert_false(line());
	assert_int_equal(rd(IER), 0x00);
	assert_int_equal(rd(IIR), 0x01);
	assert_int_equal(rd(LCR), 0x00);
	assert_int_equal(rd(MCR), 0x00);
	assert_int_equal(rd(LSR), 0x60);
	assert_int_equal(rd(MSR), 0xb0);
}

/* A busy state: divisor, loopback FIFO bytes, OE, MSR deltas, timeout pending. */
static void busy_state(void)
{
	wr(LCR, 0x80);
	wr(DLL, 0x30);
	wr(DLM, 0x00);
	wr(LCR, 0x1a);
	wr(FCR, 0x81);
	wr(SCR, 0xa5);
	wr(MCR, 0x1d);
	for (int i = 0; i < 17; i++)
		wr(THR, (uint8_t)(0x40 + i));
	(void)rd(RBR);
	(void)rd(RBR);
	wr(IER, 0x0f);
	f.now = 50000000;
	(void)v16550_ops.poll(&u, f.now);
}

static void test_save_restore(void **state)
{
	uint8_t a[64], b[64];
	struct v16550 v;
	int n, m;

	busy_state();
	assert_int_equal(v16550_ops.save(&u, a, 47), -ENOSPC);
	n = v16550_ops.save(&u, a, sizeof(a));
	assert_int_equal(n, sizeof(struct v16550_record));
	assert_int_equal(a[0] | a[1] << 8 | a[2] << 16 | (uint32_t)a[3] << 24,
			 DEV_MAGIC('U', 'A', 'R', '1'));
	v16550_init(&v, &env, IRQ, BASE, &be);
	assert_int_equal(v16550_ops.restore(&v, a, (size_t)n), 0);
	m = v16550_ops.save(&v, b, sizeof(b));
	assert_int_equal(m, n);
	assert_memory_equal(a, b, (size_t)n);
	/* The restored UART reads as the original one did. */
	memcpy(&u, &v, sizeof(u));
	assert_int_equal(rd(IIR), 0xc6);           /* OE from the 17th byte */
	assert_int_equal(rd(LSR), 0x63);
	assert_int_equal(rd(IIR), 0xcc);           /* the timeout fired at 50 ms */
	assert_int_equal(rd(RBR), 0x42);
	assert_int_equal(rd(MCR), 0x1d);
	assert_int_equal(rd(SCR), 0xa5);
	assert_int_equal(rd(LCR), 0x1a);
	wr(LCR, 0x9a);
	assert_int_equal(rd(DLL), 0x30);
}

static void test_restore_refuses(void **state)
{
	uint8_t a[64], bad[64], before[64];
	static const struct { size_t off; uint8_t val; } pokes[] = {
		{ 0, 'X' },    /* magic */
		{ 4, 2 },      /* version */
		{ 6, 47 },     /* size */
		{ 10, 0x10 },  /* IER bit 4 */
		{ 12, 0x20 },  /* MCR bit 5 */
		{ 14, 0x02 },  /* FCR1 is not kept */
		{ 15, 0x20 },  /* lsr_err: THRE is no error */
		{ 16, 0x00 },  /* MSR inputs disagree with MCR */
		{ 18, 0x04 },  /* unknown flag */
		{ 19, 17 },    /* rx_seen */
		{ 20, 16 },    /* lb_head */
		{ 21, 17 },    /* lb_count */
		{ 22, 1 },     /* reserved */
	};
	int n;

	busy_state();
	n = v16550_ops.save(&u, a, sizeof(a));
	assert_int_equal(n, 48);
	assert_int_equal(v16550_ops.save(&u, before, sizeof(before)), 48);
	for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
		memcpy(bad, a, sizeof(a));
		bad[pokes[i].off] = pokes[i].val;
		assert_int_equal(v16550_ops.restore(&u, bad, 48), -EINVAL);
	}
	assert_int_equal(v16550_ops.restore(&u, a, 47), -EINVAL);
	assert_int_equal(v16550_ops.restore(&u, a, 49), -EINVAL);
	/* 16450 mode holds one byte at most. */
	memcpy(bad, a, sizeof(a));
	bad[14] = 0x00;
	assert_int_equal(v16550_ops.restore(&u, bad, 48), -EINVAL);
	/* A refused record leaves the state alone. */
	assert_int_equal(v16550_ops.save(&u, bad, sizeof(bad)), 48);
	assert_memory_equal(bad, before, 48);
}

/* Every env and backend callback may be missing. */
static void test_no_env_no_backend(void **state)
{
	struct v16550 w;
	struct emul_env none = { 0 };

	v16550_init(&w, NULL, IRQ, BASE, NULL);
	v16550_ops.write(&w, BASE + MCR, 1, 0x08);
	v16550_ops.write(&w, BASE + IER, 1, 0x0f);
	v16550_ops.write(&w, BASE + THR, 1, 'a');
	assert_int_equal(v16550_ops.read(&w, BASE + IIR, 1), 0x02);
	assert_int_equal(v16550_ops.read(&w, BASE + LSR, 1), 0x60);
	assert_int_equal(v16550_ops.read(&w, BASE + RBR, 1), 0x00);
	v16550_rx_notify(&w);
	assert_int_equal(v16550_ops.poll(&w, 1000), EMUL_NEVER);
	v16550_init(&w, &none, IRQ, BASE, NULL);
	v16550_ops.write(&w, BASE + FCR, 1, 0x01);
	v16550_ops.write(&w, BASE + IER, 1, 0x01);
	v16550_ops.write(&w, BASE + LCR, 1, 0x03);
	v16550_ops.write(&w, BASE + MCR, 1, 0x18);
	v16550_ops.write(&w, BASE + THR, 1, 'b');
	assert_int_equal(v16550_ops.read(&w, BASE + IIR, 1), 0xc4);
	assert_int_equal(v16550_ops.poll(&w, 0), 347223); /* 4 * 10 bits (8N1) at 115200 baud */
	assert_int_equal(v16550_ops.read(&w, BASE + RBR, 1), 'b');
}

/*
 * Transmit flow control: THRE and TEMT read 1 only while the backend takes a
 * FIFO's worth (the 16 bytes a driver writes on THRE, §8.4 LSR5), so a
 * driver that looks before it writes loses nothing. One that does not look
 * still hands every byte over. Loopback never reaches the backend.
 */
static void test_tx_flow_control(void **state)
{
	f.tx_limited = true;
	f.room = 15;
	assert_int_equal(rd(LSR) & 0x60, 0);
	wr(THR, 'a');
	assert_int_equal(f.tx_n, 1);
	assert_int_equal(f.txlog[0], 'a');
	f.room = 16;
	assert_int_equal(rd(LSR) & 0x60, 0x60);
	f.room = 0;
	wr(MCR, 0x10); /* LOOP */
	assert_int_equal(rd(LSR) & 0x60, 0x60);
	wr(MCR, 0);
	assert_int_equal(rd(LSR) & 0x60, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_values, setup),
		cmocka_unit_test_setup(test_dlab, setup),
		cmocka_unit_test_setup(test_thre_rules, setup),
		cmocka_unit_test_setup(test_linux_startup_probe, setup),
		cmocka_unit_test_setup(test_iir_priority, setup),
		cmocka_unit_test_setup(test_rx_fifo_disabled, setup),
		cmocka_unit_test_setup(test_rx_trigger_levels, setup),
		cmocka_unit_test_setup(test_char_timeout, setup),
		cmocka_unit_test_setup(test_char_timeout_formats, setup),
		cmocka_unit_test_setup(test_lsr_overrun, setup),
		cmocka_unit_test_setup(test_msr_deltas, setup),
		cmocka_unit_test_setup(test_loopback, setup),
		cmocka_unit_test_setup(test_out2_gating, setup),
		cmocka_unit_test_setup(test_tx_flow_control, setup),
		cmocka_unit_test_setup(test_fcr, setup),
		cmocka_unit_test_setup(test_reset_op, setup),
		cmocka_unit_test_setup(test_save_restore, setup),
		cmocka_unit_test_setup(test_restore_refuses, setup),
		cmocka_unit_test(test_no_env_no_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
