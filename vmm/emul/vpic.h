/* SPDX-License-Identifier: MIT */
/*
 * The PC's pair of Intel 8259A interrupt controllers (master on ports
 * 0x20/0x21, slave on 0xA0/0xA1 cascaded into master IR2) and the PIIX
 * ELCR at 0x4D0/0x4D1. Section names below are those of the Intel 8259A
 * datasheet (order 231468); the ELCR is the PIIX3
 * datasheet's ELCR1/ELCR2 (Edge/Level Control) registers.
 *
 * Not locked: the VM serialises every call into one struct vpic.
 */
#ifndef TERN_VMM_EMUL_VPIC_H
#define TERN_VMM_EMUL_VPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/emul/dev.h"

#define VPIC_MASTER_CMD  0x20u
#define VPIC_MASTER_DATA 0x21u
#define VPIC_SLAVE_CMD   0xa0u
#define VPIC_SLAVE_DATA  0xa1u
#define VPIC_ELCR1       0x4d0u /* IRQ 0-7 */
#define VPIC_ELCR2       0x4d1u /* IRQ 8-15 */
#define VPIC_CASCADE_IR  2u     /* master input the slave's INT drives */
#define VPIC_NR_IRQS     16u

/* One 8259A. Bit n of the 8-bit registers is IRn. */
struct vpic_chip {
	uint8_t irr;      /* interrupt request register */
	uint8_t isr;      /* in-service register */
	uint8_t imr;      /* interrupt mask register (OCW1) */
	uint8_t lines;    /* IR input levels as last seen (edge sense) */
	uint8_t elcr;     /* PIIX edge/level control: 1 = level */
	uint8_t base;     /* ICW2 T7-T3; low 3 bits zero */
	uint8_t icw3;     /* master: slave bit map; slave: its ID */
	uint8_t lowest;   /* IR of lowest priority (rotation), 7 after ICW1 */
	uint8_t init;     /* next ICW expected: VPIC_INIT_* */
	uint16_t flags;   /* VPIC_F_* */
};

enum {
	VPIC_INIT_DONE = 0,
	VPIC_INIT_ICW2 = 1,
	VPIC_INIT_ICW3 = 2,
	VPIC_INIT_ICW4 = 3,
};

#define VPIC_F_LTIM        0x01u /* ICW1 D3: level-triggered */
#define VPIC_F_SNGL        0x02u /* ICW1 D1: single, no ICW3 */
#define VPIC_F_IC4         0x04u /* ICW1 D0: ICW4 needed */
#define VPIC_F_AEOI        0x08u /* ICW4 D1 */
#define VPIC_F_SFNM        0x10u /* ICW4 D4 */
#define VPIC_F_ROTATE_AEOI 0x20u /* OCW2 rotate in AEOI mode */
#define VPIC_F_SMM         0x40u /* OCW3 special mask mode */
#define VPIC_F_READ_ISR    0x80u /* OCW3 RIS: a read at A0=0 returns ISR */
#define VPIC_F_POLL        0x100u /* OCW3 P: next read is a poll */
#define VPIC_F_UPM         0x200u /* ICW4 D0: 8086 mode (the only one modelled) */
#define VPIC_F_ALL         0x3ffu

struct vpic {
	struct vpic_chip chip[2]; /* [0] master, [1] slave */
	const struct emul_env *env; /* must outlive the model */
	bool intr;                /* master INT as last reported by kick */
};

extern const struct dev_ops vpic_ops;

/* Power-on state; env is kept by pointer. */
void vpic_init(struct vpic *p, const struct emul_env *env);
/* Drive ISA IRQ input irq (0-15; 2 is the cascade and ignored) to level. */
void vpic_set_irq(struct vpic *p, unsigned int irq, bool level);
/* The master's INT pin: a request is waiting for an INTA cycle. */
bool vpic_intr(const struct vpic *p);
/* The INTA cycle: the vector the pair puts on the bus (spurious: base + 7). */
int vpic_ack(struct vpic *p);

#endif
