/* SPDX-License-Identifier: MIT */
/* 16550 UART driver (register names from the TI/NS 16550 data sheet). */
#include "drivers/uart.h"
#include "arch/x86.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/log.h"

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define UART_IIR 2 /* interrupt identification (read) */

#define LCR_8N1  0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
/*
 * FCR bits 7:6, the receive FIFO trigger level (16550 data sheet, FIFO
 * control register): 1 byte. The "received data available" interrupt comes
 * with the first byte, leaving the other 15 places of the FIFO, 1.3 ms at
 * 115200 baud, for the hypervisor to take it: the most slack a CPU that is
 * briefly busy with interrupts off can have. A higher level would save
 * interrupts (at most 11,520 a second at full line rate) but leave less.
 */
#define FCR_RX_TRIGGER_1 0x00
#define IER_ERBFI 0x01 /* enable received data available interrupt (and its timeout) */
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_DR   0x01 /* data ready */
#define LSR_OE   0x02 /* overrun error: a received byte was lost; reading LSR clears it */
#define LSR_THRE 0x20 /* transmit holding register empty */
#define LSR_TEMT 0x40 /* transmitter empty */

/* Bounded waits: a missing or wedged UART must not hang the hypervisor. */
#define UART_SPIN_MAX 1000000u
#define OVERRUN_REPORT_US 1000000u /* at most one overrun line a second */

/* Receive overruns seen in any LSR read (each read clears the bit), and how many were logged. */
static uint64_t overruns, overruns_logged, overrun_logged_us;

static uint8_t rd(const struct uart *u, unsigned int reg)
{
	if (u->mmio)
		return *(volatile uint8_t *)(u->base + ((uint64_t)reg << u->reg_shift));
	return inb((uint16_t)(u->base + reg));
}

static void wr(const struct uart *u, unsigned int reg, uint8_t v)
{
	if (u->mmio)
		*(volatile uint8_t *)(u->base + ((uint64_t)reg << u->reg_shift)) = v;
	else
		outb((uint16_t)(u->base + reg), v);
}

/* Every LSR read goes through here: it clears OE, so this is the one place to count it. */
static uint8_t lsr(const struct uart *u)
{
	uint8_t v = rd(u, UART_LSR);

	if (v & LSR_OE)
		__atomic_add_fetch(&overruns, 1, __ATOMIC_RELAXED);
	return v;
}

/*
 * Logged from the receive path only: the transmit path runs inside the log's
 * own sink. The first overrun is logged at once, later ones once a second.
 */
void uart_report_overruns(void)
{
	uint64_t n = __atomic_load_n(&overruns, __ATOMIC_RELAXED);
	uint64_t logged = __atomic_load_n(&overruns_logged, __ATOMIC_RELAXED), now;

	if (n == logged)
		return;
	now = tsc_now_us();
	if (logged && now - overrun_logged_us < OVERRUN_REPORT_US)
		return;
	if (!__atomic_compare_exchange_n(&overruns_logged, &logged, n, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return; /* another CPU reports it */
	overrun_logged_us = now;
	pr_warn("uart: receive overrun: input came faster than it was read and bytes were lost "
		"(overruns so far: %lu)", (unsigned long)n);
}

int uart_init(struct uart *u, bool mmio, uint64_t base, uint8_t reg_shift, uint32_t baud)
{
	u->mmio = mmio;
	u->base = base;
	u->reg_shift = reg_shift;
	u->baud = baud;
	u->present = false;
	/* The scratch register reads back what was written only if a UART is there. */
	wr(u, UART_SCR, 0x5a);
	if (rd(u, UART_SCR) != 0x5a)
		return -ENODEV;
	wr(u, UART_SCR, 0xa5);
	if (rd(u, UART_SCR) != 0xa5)
		return -ENODEV;
	wr(u, UART_IER, 0);
	if (baud) {
		uint16_t div = (uint16_t)(UART_CLOCK / baud);

		wr(u, UART_LCR, LCR_DLAB);
		wr(u, UART_DLL, (uint8_t)div);
		wr(u, UART_DLM, (uint8_t)(div >> 8));
	}
	wr(u, UART_LCR, LCR_8N1);
	wr(u, UART_FCR, FCR_ENABLE_CLEAR);
	wr(u, UART_MCR, MCR_DTR_RTS_OUT2);
	u->present = true;
	return 0;
}

void uart_putc(const struct uart *u, char c)
{
	if (!u->present)
		return;
	for (unsigned int i = 0; i < UART_SPIN_MAX && !(lsr(u) & LSR_THRE); i++)
		cpu_relax();
	wr(u, UART_THR, (uint8_t)c);
}

#define UART_FIFO_SIZE 16u

uint32_t uart_tx_room(const struct uart *u)
{
	if (!u->present)
		return 1024; /* nothing to wait for: let the queue drain */
	return lsr(u) & LSR_THRE ? UART_FIFO_SIZE : 0;
}

void uart_tx_byte(const struct uart *u, char c, bool wait)
{
	if (!u->present)
		return;
	if (wait) {
		uart_putc(u, c);
		return;
	}
	wr(u, UART_THR, (uint8_t)c);
}

void uart_write(const struct uart *u, const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc(u, '\r');
		uart_putc(u, s[i]);
	}
}

int uart_rx_byte(const struct uart *u)
{
	if (!u->present || !(lsr(u) & LSR_DR))
		return -1;
	return rd(u, UART_RBR);
}

int uart_getc(const struct uart *u)
{
	int c = uart_rx_byte(u);

	uart_report_overruns();
	return c;
}

void uart_rx_irq_enable(const struct uart *u, bool on)
{
	if (!u->present)
		return;
	if (on)
		wr(u, UART_FCR, FCR_ENABLE_CLEAR | FCR_RX_TRIGGER_1);
	wr(u, UART_IER, on ? IER_ERBFI : 0);
	(void)rd(u, UART_IIR); /* a stale transmit-empty cause would keep the line up */
}

void uart_drain(const struct uart *u)
{
	if (!u->present)
		return;
	for (unsigned int i = 0; i < UART_SPIN_MAX && !(lsr(u) & LSR_TEMT); i++)
		cpu_relax();
}
