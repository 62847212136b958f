/* SPDX-License-Identifier: MIT */
/* Console selection and the log sink (see console.h). */
#include "kernel/console.h"
#include "kernel/fmt.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "drivers/uart.h"

#define TX_SIZE 32768u /* power of two; ~2.8 s of a 115200-baud line */
/*
 * Guest console lines are queued only while the queue stays below half: the
 * other half is the hypervisor's, so its own lines always fit however many
 * VMs print (each VM is also rate-limited in vmm/vuart.c). Once one was
 * dropped, guest lines wait for the queue to drain to a quarter, so they come
 * in runs with one note between, not a note a line.
 */
#define TX_GUEST_MAX    (TX_SIZE / 2)
#define TX_GUEST_RESUME (TX_SIZE / 4)
#define TX_NOTE_MAX  192u
#define TX_STAMP_MAX 24u /* "[12345.123456] " and some */

static struct uart con;
static struct spinlock tx_lock = SPINLOCK_INIT("console");
static char tx[TX_SIZE];
static volatile uint64_t tx_head, tx_tail; /* bytes queued / bytes sent */
static uint64_t tx_dropped; /* the management guest's bytes that did not fit */
static uint64_t drop_lines, drop_bytes; /* guest lines not queued since the last note */
static bool guest_muted; /* dropping guest lines until the queue is down to TX_GUEST_RESUME */
static char stamp[TX_STAMP_MAX]; /* the time stamp of the newest log line, for the note */
static int stamp_len;
static bool async;
/* The management guest owns the console: its bytes go out, log lines stay in the ring. */
static volatile bool guest_owned;
static struct spinlock rx_lock = SPINLOCK_INIT("console rx");
static size_t (*input_room)(void *ctx);
static size_t (*input_put)(void *ctx, const char *s, size_t n);
static void *input_ctx;

static uint64_t tx_used(void)
{
	return tx_head - tx_tail;
}

/* Bytes s takes in the queue with each "\n" sent as "\r\n". */
static size_t crlf_len(const char *s, size_t n)
{
	size_t len = n;

	for (size_t i = 0; i < n; i++)
		len += s[i] == '\n';
	return len;
}

/* Appends s, "\n" as "\r\n"; the caller made room (crlf_len). */
static void put_crlf(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			tx[(tx_head++) & (TX_SIZE - 1)] = '\r';
		tx[(tx_head++) & (TX_SIZE - 1)] = s[i];
	}
}

/*
 * Room for n more bytes. Only the hypervisor's own lines come here with a
 * full queue (guest lines stop at half): rather than lose one, wait for the
 * UART to send the oldest bytes.
 */
static void make_room(size_t n)
{
	while (tx_used() + n > TX_SIZE)
		uart_tx_byte(&con, tx[(tx_tail++) & (TX_SIZE - 1)], true);
}

/* Keeps the "[    5.123456] " of a log line. */
static void keep_stamp(const char *line, size_t n)
{
	size_t scan = n < TX_STAMP_MAX - 1 ? n : TX_STAMP_MAX - 1;
	const char *end = n && line[0] == '[' ? memchr(line, ']', scan) : NULL;

	stamp_len = end && end + 1 < line + n ? (int)(end + 2 - line) : 0;
	memcpy(stamp, line, (size_t)stamp_len);
}

/*
 * Once the queue has drained to where guest lines go in again, says how
 * many were left out: one line per run of dropping, under the newest line's
 * time stamp (the sink runs under the log lock: it cannot log).
 */
static void note_drops(void)
{
	char note[TX_NOTE_MAX];
	int len;

	if (!drop_lines || tx_used() > TX_GUEST_RESUME)
		return;
	len = fmt_snprintf(note, sizeof(note),
			   "%.*sWARN: console: %lu guest line%s (%lu bytes) not shown: "
			   "the serial line is busy (the log ring has them)\n",
			   stamp_len, stamp, (unsigned long)drop_lines, drop_lines == 1 ? "" : "s",
			   (unsigned long)drop_bytes);
	if (len > (int)sizeof(note) - 1) {
		len = (int)sizeof(note) - 1;
		note[len - 1] = '\n';
	}
	put_crlf(note, (size_t)len); /* fits: the queue is at most a quarter full */
	drop_lines = drop_bytes = 0;
}

/* Send queued bytes; if wait is false, only as many as the UART takes now. */
static void tx_flush(bool wait)
{
	do {
		note_drops();
		while (tx_tail < tx_head) {
			uint64_t n = tx_head - tx_tail;
			uint32_t room = wait ? (uint32_t)n : uart_tx_room(&con);

			if (!room)
				break;
			for (uint64_t i = 0; i < n && room; i++, room--)
				uart_tx_byte(&con, tx[(tx_tail++) & (TX_SIZE - 1)], wait);
		}
	} while (drop_lines && tx_used() <= TX_GUEST_RESUME);
}

/* One whole log line, or none of it: a guest's line only while the queue is below half. */
static void queue_line(const char *s, size_t n, bool guest)
{
	bool irq = spin_lock_irqsave(&tx_lock);
	size_t need = crlf_len(s, n);

	keep_stamp(s, n);
	if (guest && tx_used() + need > (guest_muted ? TX_GUEST_RESUME : TX_GUEST_MAX)) {
		guest_muted = true;
		drop_lines++;
		drop_bytes += n;
	} else {
		if (guest)
			guest_muted = false;
		note_drops();
		make_room(need);
		put_crlf(s, n);
	}
	tx_flush(false);
	spin_unlock_irqrestore(&tx_lock, irq);
}

/* The management guest's bytes, as they are: what does not fit is dropped. */
static void queue_bytes(const char *s, size_t n)
{
	bool irq = spin_lock_irqsave(&tx_lock);

	for (size_t i = 0; i < n; i++) {
		if (tx_used() >= TX_SIZE) {
			tx_dropped++;
			continue;
		}
		tx[(tx_head++) & (TX_SIZE - 1)] = s[i];
	}
	tx_flush(false);
	spin_unlock_irqrestore(&tx_lock, irq);
}

static void sink(const char *s, size_t n, bool guest)
{
	if (guest_owned)
		return;
	if (async)
		queue_line(s, n, guest);
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
		queue_bytes(s, n);
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
