/* SPDX-License-Identifier: MIT */
/*
 * The register model of a National Semiconductor / TI PC16550D UART (the
 * "16550A" a PC's COM port is), interrupts included. Section numbers are
 * those of the PC16550D datasheet (National, June 1995 edition; TI
 * SNLS378 keeps its text under other numbers).
 *
 * The model owns the registers and the interrupt logic; the bytes belong to
 * a backend reached through struct v16550_backend:
 *  - a THR write hands the byte to tx() at once: transmission is
 *    instantaneous, so THRE and TEMT read 1 whenever the backend has room
 *    for a FIFO's worth (16 bytes, what a driver may write on THRE, §8.4
 *    LSR5); a backend without tx_room always has it. A guest that writes
 *    without looking hands tx() its bytes anyway, for it to keep or drop;
 *  - the backend's receive queue is the receiver FIFO. It may hold more
 *    than 16 bytes; the trigger level, the character timeout and an FCR
 *    clear count min(rx_count(), 16) ("the FIFO"), the rest being bytes
 *    still on the line. Out of FIFO mode (16450 mode) the same queue feeds
 *    RBR one byte at a time. The backend never overruns (it holds its
 *    bytes), so OE only comes from loopback.
 *  - the backend calls v16550_rx_notify() after queueing bytes.
 *
 * Loopback (MCR.LOOP, §8.8): THR bytes go to an internal 16-byte FIFO
 * instead of the backend and are read back from RBR; the backend's queue is
 * held (the serial input is disconnected) until LOOP is cleared. A THR
 * byte looped into a full FIFO sets OE (§8.4 LSR1).
 *
 * The interrupt output reaches env->set_irq(irq) only while MCR.OUT2 is
 * set, as on a PC (OUT2 enables the IRQ driver; Linux's 8250 driver sets
 * it). The line is driven only when its level changes. Not locked: the VM
 * serialises every call into one struct v16550. The integrator calls
 * poll() again after any port access or rx_notify, since both may move the
 * character-timeout deadline.
 *
 * Not modelled: parity/framing errors and break (the backend has no line
 * errors; LSR bits 2-4 and 7 stay 0), the TX FIFO's delayed THRE, DMA mode
 * (FCR3 is kept, it has no effect), RXRDY/TXRDY pins.
 */
#ifndef TERN_VMM_EMUL_V16550_H
#define TERN_VMM_EMUL_V16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/emul/dev.h"

#define V16550_PORTS   8u
#define V16550_FIFO    16u       /* receiver FIFO depth (Features) */
#define V16550_XTAL_HZ 1843200u  /* the PC's UART clock: divisor 1 is 115200 baud (§8.3) */

/* Register offsets from the base port (§8.0, Table II). */
#define V16550_RBR 0u /* read, DLAB=0; THR on write; DLL with DLAB=1 */
#define V16550_IER 1u /* DLM with DLAB=1 */
#define V16550_IIR 2u /* read; FCR on write */
#define V16550_LCR 3u
#define V16550_MCR 4u
#define V16550_LSR 5u
#define V16550_MSR 6u
#define V16550_SCR 7u

/* IER (§8.7) */
#define V16550_IER_ERBFI 0x01u /* received data available (and character timeout) */
#define V16550_IER_ETBEI 0x02u /* transmitter holding register empty */
#define V16550_IER_ELSI  0x04u /* receiver line status */
#define V16550_IER_EDSSI 0x08u /* modem status */
#define V16550_IER_MASK  0x0fu /* bits 4-7 are always 0 */

/* IIR (§8.6, Table IV) */
#define V16550_IIR_NONE    0x01u /* bit 0: no interrupt pending */
#define V16550_IIR_RLS     0x06u /* receiver line status (1st) */
#define V16550_IIR_RDA     0x04u /* received data available (2nd) */
#define V16550_IIR_CTI     0x0cu /* character timeout (2nd) */
#define V16550_IIR_THRE    0x02u /* THR empty (3rd) */
#define V16550_IIR_MSI     0x00u /* modem status (4th) */
#define V16550_IIR_FIFO    0xc0u /* bits 7:6: FCR0 is set */

/* FCR (§8.5) */
#define V16550_FCR_ENABLE  0x01u
#define V16550_FCR_CLR_RX  0x02u
#define V16550_FCR_CLR_TX  0x04u
#define V16550_FCR_DMA     0x08u
#define V16550_FCR_TRIG    0xc0u /* RCVR trigger: 00 1, 01 4, 10 8, 11 14 bytes */
#define V16550_FCR_KEPT    (V16550_FCR_ENABLE | V16550_FCR_DMA | V16550_FCR_TRIG)

/* LCR (§8.1) */
#define V16550_LCR_WLS     0x03u /* word length 5 + WLS bits */
#define V16550_LCR_STB     0x04u /* 2 stop bits (1.5 with 5-bit words) */
#define V16550_LCR_PEN     0x08u
#define V16550_LCR_DLAB    0x80u

/* MCR (§8.8) */
#define V16550_MCR_DTR     0x01u
#define V16550_MCR_RTS     0x02u
#define V16550_MCR_OUT1    0x04u
#define V16550_MCR_OUT2    0x08u
#define V16550_MCR_LOOP    0x10u
#define V16550_MCR_MASK    0x1fu /* bits 5-7 are always 0 */

/* LSR (§8.4) */
#define V16550_LSR_DR      0x01u
#define V16550_LSR_OE      0x02u
#define V16550_LSR_PE      0x04u
#define V16550_LSR_FE      0x08u
#define V16550_LSR_BI      0x10u
#define V16550_LSR_THRE    0x20u
#define V16550_LSR_TEMT    0x40u
#define V16550_LSR_FIFOERR 0x80u
#define V16550_LSR_ERRORS  (V16550_LSR_OE | V16550_LSR_PE | V16550_LSR_FE | V16550_LSR_BI)

/* MSR (§8.9) */
#define V16550_MSR_DCTS    0x01u
#define V16550_MSR_DDSR    0x02u
#define V16550_MSR_TERI    0x04u
#define V16550_MSR_DDCD    0x08u
#define V16550_MSR_DELTAS  0x0fu
#define V16550_MSR_CTS     0x10u
#define V16550_MSR_DSR     0x20u
#define V16550_MSR_RI      0x40u
#define V16550_MSR_DCD     0x80u

struct v16550_backend {
	void *ctx;
	void (*tx)(void *ctx, uint8_t byte); /* the guest wrote THR (NULL: dropped) */
	size_t (*tx_room)(void *ctx);        /* bytes tx() takes now (NULL: always enough) */
	size_t (*rx_count)(void *ctx);       /* bytes waiting in the receive queue (NULL: none) */
	int (*rx_get)(void *ctx);            /* the next byte, or -1 */
};

struct v16550 {
	const struct emul_env *env;
	struct v16550_backend be;
	unsigned int irq;
	uint16_t base;
	uint8_t dll, dlm, ier, lcr, mcr, scr;
	uint8_t fcr;        /* V16550_FCR_KEPT bits of the last programmed FCR */
	uint8_t lsr_err;    /* OE (PE FE BI) latched until LSR is read */
	uint8_t msr;        /* bits 7:4 the inputs as last seen, 3:0 the deltas since MSR was read */
	uint8_t rbr;        /* the last byte read: what RBR shows with nothing received */
	bool thre_pending;  /* THRE interrupt: set when THR empties, cleared by IIR read / THR write */
	bool cti_pending;   /* character timeout indication (FIFO mode) */
	uint8_t rx_seen;    /* FIFO level (at most 16) when last looked at: a rise is a reception */
	uint64_t rx_last_ns; /* guest time of the last reception or RBR read (the timeout timer) */
	uint8_t lb_head, lb_count; /* loopback receive FIFO */
	uint8_t lb[V16550_FIFO];
	bool line;          /* the IRQ level as last driven */
};

/* The saved state (not the backend's bytes): little-endian, as struct v16550 names it. */
#define V16550_MAGIC DEV_MAGIC('U', 'A', 'R', '1')
#define V16550_REC_THRE 0x01u /* flags: thre_pending */
#define V16550_REC_CTI  0x02u /* flags: cti_pending */

struct v16550_record {
	struct dev_record_hdr hdr;
	uint8_t dll, dlm, ier, lcr, mcr, scr, fcr, lsr_err;
	uint8_t msr, rbr, flags, rx_seen, lb_head, lb_count, reserved[2];
	uint64_t rx_last_ns;
	uint8_t lb[V16550_FIFO];
} __attribute__((packed));
_Static_assert(sizeof(struct v16550_record) == 48, "v16550_record layout");

void v16550_init(struct v16550 *u, const struct emul_env *env, unsigned int irq, uint16_t base,
		 const struct v16550_backend *be);
/* read/write take the absolute port (base..base+7), size 1 (wider: consecutive ports). */
extern const struct dev_ops v16550_ops;
/* The backend queued bytes: re-evaluate the receive interrupts. */
void v16550_rx_notify(struct v16550 *u);

#endif
