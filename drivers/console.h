/* SPDX-License-Identifier: MIT */
/* The hypervisor console: a 16550 chosen by console=, ACPI SPCR or COM1. */
#ifndef TERN_DRIVERS_CONSOLE_H
#define TERN_DRIVERS_CONSOLE_H

#include "kernel/cmdline.h"
#include "drivers/acpi.h"

/* From the command line alone (COM1 unless told otherwise). */
void console_init_early(const struct boot_options *opts);
/* With ACPI known: console=auto moves to the SPCR port when there is one. */
void console_init_acpi(const struct boot_options *opts, const struct acpi_info *acpi);
/* Everything queued goes out, waiting for the UART (power-off, panic). */
void console_drain(void);
/*
 * From now on log lines are queued and sent as the UART has room: a
 * 115200-baud line takes ~9 ms, which must not stall a CPU with its
 * interrupts off. console_poll() sends what fits without waiting. A line is
 * queued whole or not at all: guests' console lines (LOG_GUEST) only while
 * the queue is less than half full, dropped and counted otherwise (a note
 * says how many once it has drained); the hypervisor's own lines always go
 * in, waiting for the UART in the rare case the queue is full.
 */
void console_set_async(bool on);
void console_poll(void);
bool console_pending(void);
/* -1 when no input is waiting (from the receive ring, see console_poll_input). */
int console_getc(void);
/*
 * Hand the console to a guest (the management guest): log lines stop going
 * out (they stay in the log ring), console_guest_write() sends its bytes as
 * they are, and typed bytes go to put() as room() allows. room NULL gives
 * the console back to the log. The first hand-off turns on the UART's
 * receive interrupt, routed to the calling CPU (I/O APIC or 8259 PIC; the
 * log says which, or that input is polled).
 */
void console_guest_attach(size_t (*room)(void *ctx), size_t (*put)(void *ctx, const char *s, size_t n),
			  void *ctx);
void console_guest_write(const char *s, size_t n);
/*
 * Bytes console_guest_write() takes now without dropping any, after sending
 * what the UART takes: the guest's virtual UART shows THR busy below 16, so
 * a guest that looks at LSR before it writes is paced by the serial line.
 */
size_t console_guest_room(void);
/*
 * Move typed bytes to the guest (from console_poll and the guest's LSR
 * reads). The receive interrupt keeps them in a 16 KiB ring meanwhile; this
 * also polls the UART, the only way in where it has no interrupt.
 */
void console_poll_input(void);
/*
 * Empty the UART's receive FIFO into the ring, nothing else: for work that
 * keeps a CPU busy with interrupts off for more than a millisecond (guest RAM
 * zeroing), between its pieces, where an interrupt window alone is not
 * enough (Bochs does not always deliver the 8259's interrupt in one).
 */
void console_rx_poll(void);
/*
 * A guest reads the console: without a receive interrupt the UART's 16-byte
 * FIFO fills in 1.4 ms at 115200 baud, so it must be polled about every
 * millisecond (vmm/sched.c does).
 */
bool console_input_wanted(void);

#endif
