/* SPDX-License-Identifier: MIT */
/* Console selection and the log sink (see console.h). */
#include "drivers/console.h"
#include "kernel/fmt.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/kernel.h"
#include "arch/pcpu.h"
#include "arch/desc.h"
#include "arch/trap.h"
#include "drivers/ioapic.h"
#include "drivers/pic.h"
#include "drivers/tsc.h"
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
#define TX_GUEST_ROOM_LOW 16u /* below this, the guest's THR shows busy (a 16550's FIFO) */
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

/*
 * Typed input between the UART and the management guest. The UART's
 * receive interrupt (or, without one, polling) empties its 16-byte FIFO
 * into this ring; the guest's virtual UART takes from it whenever the guest
 * reads. 16 KiB holds a pasted screenful with room to spare (a 200x60
 * terminal is 12,000 bytes; the 50-line paste of the tests is about 1.5 KiB)
 * and is 1.4 s of a 115200-baud line, however long the shell is busy with
 * one command. What does not fit is counted and logged, never silently lost.
 */
#define RX_SIZE 16384u /* power of two */
#define RX_REPORT_US 1000000u
#define RX_DRAIN_MAX 4096u /* bytes one drain takes at most: a UART stuck "data ready" */
static struct spinlock rx_ring_lock = SPINLOCK_INIT("console rx ring");
static char rx_ring[RX_SIZE];
static uint64_t rx_head, rx_tail; /* bytes received / bytes handed on */
static uint64_t rx_dropped, rx_dropped_logged; /* ring full */
static uint64_t rx_dropped_us; /* when it was last logged: at most once a second, as overruns */
static int rx_irq = -1; /* the ISA IRQ taking input, -1 while polled */
static bool rx_irq_pic; /* through the 8259 (EOI there), else the I/O APIC */
static bool rx_setup_done;
static uint64_t rx_irqs; /* receive interrupts taken */
static bool rx_irq_seen; /* the first one was logged */

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

/* Empties the UART's receive FIFO into the ring; any context, interrupts off. */
static void rx_drain(void)
{
	bool irq = spin_lock_irqsave(&rx_ring_lock);
	int c;

	for (unsigned int i = 0; i < RX_DRAIN_MAX && (c = uart_rx_byte(&con)) >= 0; i++) {
		if (rx_head - rx_tail < RX_SIZE)
			rx_ring[(rx_head++) & (RX_SIZE - 1)] = (char)c;
		else
			rx_dropped++;
	}
	spin_unlock_irqrestore(&rx_ring_lock, irq);
}

void console_rx_poll(void)
{
	if (guest_owned)
		rx_drain();
}

/* The receive interrupt: drain the FIFO completely (that also lowers the UART's line). */
static void rx_interrupt(struct trap_frame *tf)
{
	__atomic_add_fetch(&rx_irqs, 1, __ATOMIC_RELAXED);
	rx_drain();
	if (rx_irq_pic)
		pic_eoi((uint8_t)rx_irq);
}

/* Drops and overruns, logged from the poll path (never from the interrupt handler). */
static void rx_report(void)
{
	uint64_t n = __atomic_load_n(&rx_dropped, __ATOMIC_RELAXED);

	uart_report_overruns();
	if (!rx_irq_seen && __atomic_load_n(&rx_irqs, __ATOMIC_RELAXED)) {
		rx_irq_seen = true;
		pr_info("console: the first receive interrupt has arrived");
	}
	if (n == rx_dropped_logged || (rx_dropped_logged && tsc_now_us() - rx_dropped_us < RX_REPORT_US))
		return;
	pr_warn("console: input buffer full (%u bytes): %lu typed bytes dropped so far", RX_SIZE,
		(unsigned long)n);
	rx_dropped_logged = n;
	rx_dropped_us = tsc_now_us();
}

/* The ISA IRQ of a legacy COM port, -1 for anything else (no interrupt is known). */
static int com_irq(const struct uart *u)
{
	if (u->mmio)
		return -1;
	if (u->base == 0x3f8 || u->base == 0x3e8)
		return 4; /* COM1, COM3 */
	if (u->base == 0x2f8 || u->base == 0x2e8)
		return 3; /* COM2, COM4 */
	return -1;
}

/*
 * Receive interrupts for the console UART, routed to this CPU: through the
 * I/O APIC the MADT lists (without a MADT, as under Bochs with OVMF, the MP
 * default one if it answers), else through the 8259 PIC (its output reaches
 * the CPU as ExtINT on LINT0, which firmware leaves in virtual-wire mode).
 * Polling stays where neither works.
 */
static void rx_irq_setup(void)
{
	int irq = com_irq(&con);
	uint8_t vec;

	if (rx_setup_done || !con.present)
		return;
	rx_setup_done = true;
	if (irq < 0) {
		pr_info("console: no interrupt known for the %s UART at 0x%lx; input is polled every millisecond",
			con.mmio ? "MMIO" : "I/O port", (unsigned long)con.base);
		return;
	}
	vec = (uint8_t)(VEC_LEGACY_PIC + irq);
	irq_register(vec, rx_interrupt);
	if (!ioapic_route_isa_irq(acpi_present ? &acpi : NULL, (uint8_t)irq, vec,
				  this_cpu()->apic_id)) {
		rx_irq_pic = false;
	} else {
		rx_irq_pic = true;
		pic_unmask((uint8_t)irq);
	}
	rx_irq = irq;
	uart_rx_irq_enable(&con, true);
	rx_drain();
	pr_info("console: input by interrupt: IRQ %d through the %s to cpu%u, %u-byte buffer", irq,
		rx_irq_pic ? "8259 PIC" : "I/O APIC", this_cpu()->id, RX_SIZE);
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

/* One byte from the ring; -1 when empty. */
static int rx_pop(void)
{
	bool irq = spin_lock_irqsave(&rx_ring_lock);
	int c = rx_tail < rx_head ? (unsigned char)rx_ring[(rx_tail++) & (RX_SIZE - 1)] : -1;

	spin_unlock_irqrestore(&rx_ring_lock, irq);
	return c;
}

int console_getc(void)
{
	rx_drain();
	rx_report();
	return rx_pop();
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
	if (room)
		rx_irq_setup();
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

size_t console_guest_room(void)
{
	if (!guest_owned)
		return TX_SIZE;
	if (tx_used() + TX_GUEST_ROOM_LOW > TX_SIZE && spin_trylock_bounded(&tx_lock, 1)) {
		tx_flush(false);
		spin_unlock(&tx_lock);
	}
	return TX_SIZE - tx_used();
}

/*
 * Polling is the fallback where there is no interrupt, and a safety net
 * where there is one (an edge the I/O APIC missed): one LSR read.
 */
void console_poll_input(void)
{
	if (!guest_owned)
		return;
	rx_drain();
	rx_report();
	if (!spin_trylock_bounded(&rx_lock, 1))
		return;
	while (input_room) {
		size_t room = input_room(input_ctx), n;
		bool irq;

		if (!room)
			break;
		irq = spin_lock_irqsave(&rx_ring_lock);
		n = rx_head - rx_tail;
		n = n < room ? n : room;
		/* Up to the ring's end: the rest goes in the next round. */
		if (n > RX_SIZE - (rx_tail & (RX_SIZE - 1)))
			n = RX_SIZE - (rx_tail & (RX_SIZE - 1));
		if (n)
			n = input_put(input_ctx, &rx_ring[rx_tail & (RX_SIZE - 1)], n);
		rx_tail += n;
		spin_unlock_irqrestore(&rx_ring_lock, irq);
		if (!n)
			break;
	}
	spin_unlock(&rx_lock);
}
