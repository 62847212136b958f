/* SPDX-License-Identifier: MIT */
/* Console selection and the log sink (see console.h). */
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "drivers/uart.h"

#define TX_SIZE 32768u /* power of two */

static struct uart con;
static struct spinlock tx_lock = SPINLOCK_INIT("console");
static char tx[TX_SIZE];
static volatile uint64_t tx_head, tx_tail; /* bytes queued / bytes sent */
static uint64_t tx_dropped;
static bool async;
/* The management guest owns the console: its bytes go out, log lines stay in the ring. */
static volatile bool guest_owned;
static struct spinlock rx_lock = SPINLOCK_INIT("console rx");
static size_t (*input_room)(void *ctx);
static size_t (*input_put)(void *ctx, const char *s, size_t n);
static void *input_ctx;

/* Send queued bytes; if wait is false, only as many as the UART takes now. */
static void tx_flush(bool wait)
{
	while (tx_tail < tx_head) {
		uint64_t n = tx_head - tx_tail;
		uint32_t room = wait ? (uint32_t)n : uart_tx_room(&con);

		if (!room)
			break;
		for (uint64_t i = 0; i < n && room; i++, room--)
			uart_tx_byte(&con, tx[(tx_tail++) & (TX_SIZE - 1)], wait);
	}
}

static void queue(const char *s, size_t n, bool crlf)
{
	bool irq = spin_lock_irqsave(&tx_lock);

	for (size_t i = 0; i < n; i++) {
		if (tx_head - tx_tail >= TX_SIZE - 2) {
			tx_dropped++; /* keep the newest lines whole: drop this byte */
			continue;
		}
		if (crlf && s[i] == '\n')
			tx[(tx_head++) & (TX_SIZE - 1)] = '\r';
		tx[(tx_head++) & (TX_SIZE - 1)] = s[i];
	}
	tx_flush(false);
	spin_unlock_irqrestore(&tx_lock, irq);
}

static void sink(const char *s, size_t n)
{
	if (guest_owned)
		return;
	if (async)
		queue(s, n, true);
	else
		uart_write(&con, s, n);
}

/* Panic path: never queue, and never wait for a lock another CPU may hold. */
static void raw_sink(const char *s, size_t n)
{
	if (spin_trylock_bounded(&tx_lock, 1000000)) {
		tx_flush(true);
		spin_unlock(&tx_lock);
	}
	uart_write(&con, s, n);
}

void console_set_async(bool on)
{
	async = on;
}

bool console_pending(void)
{
	return tx_tail < tx_head;
}

void console_poll(void)
{
	console_poll_input();
	if (tx_tail >= tx_head || !spin_trylock_bounded(&tx_lock, 1))
		return;
	tx_flush(false);
	spin_unlock(&tx_lock);
}

void console_init_early(const struct boot_options *o)
{
	uint16_t port = o->console == CONSOLE_IO ? o->console_port : COM1_PORT;

	if (o->console == CONSOLE_NONE)
		return;
	if (!uart_init(&con, false, port, 0,
		       o->console_baud ? o->console_baud : UART_DEFAULT_BAUD))
		log_set_sink(sink, raw_sink);
}

void console_init_acpi(const struct boot_options *o, const struct acpi_info *a)
{
	struct uart u;
	bool mmio;

	if (o->console != CONSOLE_AUTO || !a || !a->has_spcr)
		return;
	if (a->spcr_interface != 0) {
		pr_warn("console: SPCR names a UART of interface type %u; only 16550 is supported, staying on COM1",
			a->spcr_interface);
		return;
	}
	mmio = a->spcr_base.space_id == ACPI_GAS_MEMORY;
	if (!mmio && a->spcr_base.address == con.base)
		return;
	if (uart_init(&u, mmio, a->spcr_base.address, a->spcr_base.bit_width == 32 ? 2 : 0,
		      a->spcr_baud)) {
		pr_warn("console: SPCR UART at 0x%lx does not answer; staying on COM1",
			(unsigned long)a->spcr_base.address);
		return;
	}
	pr_info("console: moving to the SPCR UART at %s 0x%lx", mmio ? "MMIO" : "port",
		(unsigned long)a->spcr_base.address);
	con = u;
}

void console_drain(void)
{
	if (spin_trylock_bounded(&tx_lock, 1000000)) {
		tx_flush(true);
		spin_unlock(&tx_lock);
	}
	uart_drain(&con);
}

int console_getc(void)
{
	return uart_getc(&con);
}

void console_guest_attach(size_t (*room)(void *ctx), size_t (*put)(void *ctx, const char *s, size_t n),
			  void *ctx)
{
	spin_lock(&rx_lock);
	input_room = room;
	input_put = put;
	input_ctx = ctx;
	spin_unlock(&rx_lock);
	guest_owned = room != NULL;
}

bool console_input_wanted(void)
{
	return guest_owned;
}

void console_guest_write(const char *s, size_t n)
{
	if (guest_owned)
		queue(s, n, false);
}

void console_poll_input(void)
{
	int c;

	if (!guest_owned || !spin_trylock_bounded(&rx_lock, 1))
		return;
	while (input_room && input_room(input_ctx) && (c = uart_getc(&con)) >= 0) {
		char ch = (char)c;

		input_put(input_ctx, &ch, 1);
	}
	spin_unlock(&rx_lock);
}
