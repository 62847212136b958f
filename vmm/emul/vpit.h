/* SPDX-License-Identifier: MIT */
/*
 * The Intel 8254 programmable interval timer (ports 0x40-0x43) and the
 * PC/AT NMI status and control port 0x61 (channel 2 gate, speaker enable,
 * refresh toggle, channel 2 OUT). Section names below are those of the
 * Intel 8254 datasheet (order 231164). Counting is derived from guest
 * time: CLK is 1,193,182 Hz and no work is done per tick.
 *
 * Not locked: the VM serialises every call into one struct vpit. The
 * integrator calls poll() again after any port access, since a write may
 * move channel 0's next OUT edge.
 */
#ifndef TERN_VMM_EMUL_VPIT_H
#define TERN_VMM_EMUL_VPIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/emul/dev.h"

#define VPIT_PORT_CH0     0x40u
#define VPIT_PORT_CH2     0x42u
#define VPIT_PORT_CTL     0x43u
#define VPIT_PORT_NMI_SC  0x61u /* PC/AT NMI status and control */
#define VPIT_HZ           1193182u
#define VPIT_IRQ          0u    /* channel 0 OUT */
#define VPIT_REFRESH_NS   15085u /* port 0x61 bit 4 half period */

/* Port 0x61 bits (PC/AT). */
#define VPIT_SC_GATE2     0x01u /* channel 2 GATE */
#define VPIT_SC_SPKR      0x02u /* speaker data enable */
#define VPIT_SC_WMASK     0x0fu /* bits 0-3 are written */
#define VPIT_SC_REFRESH   0x10u
#define VPIT_SC_OUT2      0x20u

/* Status byte / control word fields (8254 "Read-Back Command", Figure 9). */
#define VPIT_ST_OUT       0x80u
#define VPIT_ST_NULL      0x40u
#define VPIT_CW_RW_SHIFT  4u
#define VPIT_CW_RW_MASK   0x30u
#define VPIT_CW_M_MASK    0x0eu
#define VPIT_CW_BCD       0x01u

/* struct vpit_chan.flags */
#define VPIT_F_ARMED      0x01u /* CE holds a count (loaded or to be loaded at load_tick) */
#define VPIT_F_PAUSED     0x02u /* modes 0/4, GATE low: CE frozen at frozen */
#define VPIT_F_PENDING    0x04u /* modes 2/3: pending_n takes over at switch_tick */
#define VPIT_F_GATE       0x08u /* GATE input level */
#define VPIT_F_WMSB       0x10u /* RW=3: next write is the MSB */
#define VPIT_F_RMSB       0x20u /* RW=3: next read is the MSB */
#define VPIT_F_CLATCH     0x40u /* output latch holds a count */
#define VPIT_F_SLATCH     0x80u /* status latched */
#define VPIT_F_OLMSB      0x100u /* RW=3 latched count: next read is its MSB */
#define VPIT_F_HAVE_CR    0x200u /* a count was written since the control word */
#define VPIT_F_ALL        0x3ffu

/* One counter. Ticks are CLK periods since guest time 0. */
struct vpit_chan {
	uint64_t load_tick;   /* CLK at which CE got n (counting origin) */
	uint64_t switch_tick; /* VPIT_F_PENDING: end of the current cycle */
	uint64_t null_until;  /* Null Count is 1 before this CLK */
	uint64_t frozen;      /* VPIT_F_PAUSED: CLKs counted before GATE fell */
	uint32_t n;           /* count in use, 1..65536 (BCD: 1..10000) */
	uint32_t pending_n;
	uint32_t skew;        /* mode 3: CLKs of the cycle already done at load_tick */
	uint32_t pending_skew;
	uint16_t cr;          /* count register as written (raw, BCD if BCD) */
	uint16_t ol;          /* output latch */
	uint16_t flags;       /* VPIT_F_* */
	uint8_t ctl;          /* control word bits 5-0: RW, M2-M0, BCD */
	uint8_t status;       /* latched status byte */
};

struct vpit {
	const struct emul_env *env;
	struct vpit_chan ch[3];
	uint64_t irq_last; /* CLK of the last IRQ 0 edge raised (or reprogram) */
	uint8_t nmi_sc;    /* port 0x61 bits 0-3 */
};

void vpit_init(struct vpit *p, const struct emul_env *env);
extern const struct dev_ops vpit_ops;

#endif
