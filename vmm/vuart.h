/* SPDX-License-Identifier: MIT */
/*
 * A per-VM 16550A on the COM1 ports (registers and interrupts in
 * vmm/emul/v16550.c, IRQ 4). Output is kept in a ring the
 * management guest reads (TERN_HC_CONSOLE_READ) and, depending on the sink,
 * also printed to the host log as "[vm] line" or sent to the serial console
 * as is (the management guest's UART). Input comes from a receive FIFO.
 *
 * Lines to the host log pass a per-VM token bucket (vuart.c): a flooding VM
 * loses whole lines there, counted and reported in one log line when it is
 * let through again and when it ends; its ring still gets every byte.
 */
#ifndef TERN_VMM_VUART_H
#define TERN_VMM_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/spinlock.h"
#include "vmm/emul/v16550.h"

#define VUART_BASE  0x3f8u
#define VUART_PORTS 8u
#define VUART_IRQ   4u /* COM1's ISA line */
#define VUART_LINE_MAX 160u
#define VUART_OUT_SIZE 4096u /* power of two */
#define VUART_RX_SIZE  256u  /* power of two */

enum vuart_sink {
	VUART_TO_LOG = 0,  /* whole lines into the hypervisor log (and the ring) */
	VUART_TO_RING,     /* the ring only: read through the management guest */
	VUART_TO_CONSOLE,  /* the serial console as is (the management guest's own) */
};

struct vuart {
	const char *owner; /* the VM name, for the line prefix */
	int sink;          /* enum vuart_sink */
	struct v16550 regs;  /* the registers, under the VM's platform lock */
	uint32_t len;
	char line[VUART_LINE_MAX];
	struct spinlock lock; /* out ring and rx FIFO: the VM's CPU vs. the management guest's */
	uint64_t out_head;    /* bytes ever written; the ring holds the last VUART_OUT_SIZE */
	char out[VUART_OUT_SIZE];
	uint32_t rx_head, rx_tail;
	uint8_t rx[VUART_RX_SIZE];
	uint64_t first_out_tsc;
	/* The host-log rate limit (VUART_TO_LOG): the TSC at which the bucket has drained. */
	uint64_t log_tat;
	uint64_t log_drop_lines, log_drop_bytes; /* not logged since the last note */
	bool log_muted; /* dropping until the bucket has room for a run of lines again */
};

void vuart_init(struct vuart *u, const char *owner, int sink);
/* Give the registers their platform (IRQ 4, guest time): the bus then routes COM1 to u->regs. */
void vuart_attach(struct vuart *u, const struct emul_env *env);
/* Emit a partial line and what the rate limit dropped (VM going away). */
void vuart_flush(struct vuart *u);
/* Copy output from *pos on; *lost gets the bytes already overwritten. Returns bytes copied. */
size_t vuart_out_read(struct vuart *u, uint64_t *pos, uint64_t *lost, char *buf, size_t n);
/* Queue input; returns the bytes taken (the FIFO may be full). */
size_t vuart_rx_put(struct vuart *u, const char *s, size_t n);
size_t vuart_rx_room(struct vuart *u);
uint64_t vuart_bytes_out(const struct vuart *u);

#endif
