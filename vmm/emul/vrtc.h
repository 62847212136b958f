/* SPDX-License-Identifier: MIT */
/*
 * The Motorola MC146818A real-time clock and its 128 bytes of CMOS RAM
 * behind the PC/AT index/data ports 0x70/0x71 (0x70 bit 7 is the NMI
 * mask). Section names below are those of the Motorola MC146818A
 * datasheet. Time is env->epoch_s plus guest time, kept in UTC; nothing
 * is done per second or per periodic tick: events are accounted for when
 * the guest looks (a port access) or poll() runs.
 *
 * Not locked: the VM serialises every call into one struct vrtc. The
 * integrator calls poll() again after any port access (a write to
 * register A or B, or a read of C, may move the next deadline).
 */
#ifndef TERN_VMM_EMUL_VRTC_H
#define TERN_VMM_EMUL_VRTC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/emul/dev.h"

#define VRTC_PORT_INDEX 0x70u
#define VRTC_PORT_DATA  0x71u
#define VRTC_IRQ        8u
#define VRTC_NMI_MASK   0x80u /* port 0x70 bit 7: NMI disabled */

/* Register addresses ("Address Map", Figure 3). */
#define VRTC_SEC        0x00u
#define VRTC_SEC_ALARM  0x01u
#define VRTC_MIN        0x02u
#define VRTC_MIN_ALARM  0x03u
#define VRTC_HOUR       0x04u
#define VRTC_HOUR_ALARM 0x05u
#define VRTC_DOW        0x06u
#define VRTC_DAY        0x07u
#define VRTC_MONTH      0x08u
#define VRTC_YEAR       0x09u
#define VRTC_REG_A      0x0au
#define VRTC_REG_B      0x0bu
#define VRTC_REG_C      0x0cu
#define VRTC_REG_D      0x0du
#define VRTC_CENTURY    0x32u /* PC CMOS convention, same format as the others */
#define VRTC_RAM_SIZE   128u

/* Register A */
#define VRTC_A_UIP      0x80u
#define VRTC_A_DV_MASK  0x70u
#define VRTC_A_DV_32K   0x20u
#define VRTC_A_RS_MASK  0x0fu
/* Register B */
#define VRTC_B_SET      0x80u
#define VRTC_B_PIE      0x40u
#define VRTC_B_AIE      0x20u
#define VRTC_B_UIE      0x10u
#define VRTC_B_SQWE     0x08u
#define VRTC_B_DM       0x04u /* 1: binary, 0: BCD */
#define VRTC_B_24H      0x02u
#define VRTC_B_DSE      0x01u /* stored; daylight saving is not applied */
/* Register C */
#define VRTC_C_IRQF     0x80u
#define VRTC_C_PF       0x40u
#define VRTC_C_AF       0x20u
#define VRTC_C_UF       0x10u
/* Register D */
#define VRTC_D_VRT      0x80u

#define VRTC_UIP_NS     244000u /* UIP is 1 this long before each update */

struct vrtc {
	const struct emul_env *env;
	uint8_t ram[VRTC_RAM_SIZE]; /* alarms, A (no UIP), B, NVRAM; time bytes while halted */
	uint64_t base_s;   /* calendar seconds (UTC since 1970) at second index base_idx */
	uint64_t base_idx; /* updates happen as the second index steps */
	uint64_t phase_ns; /* updates at guest ns == phase_ns mod 1 s (divider phase) */
	uint64_t eval_ns;  /* register C accounts for events up to this guest ns */
	uint8_t index;     /* port 0x70 as written, NMI mask included */
	uint8_t flags;     /* register C PF, AF, UF */
	bool irq;          /* IRQ 8 level driven */
};

void vrtc_init(struct vrtc *r, const struct emul_env *env);
/* Guest time stopped for skipped_ns at guest ns now (VM paused); the clock ran on. */
void vrtc_skip(struct vrtc *r, uint64_t now, uint64_t skipped_ns);
/* Port 0x70 bit 7 as last written. */
bool vrtc_nmi_masked(const struct vrtc *r);
extern const struct dev_ops vrtc_ops;

#endif
