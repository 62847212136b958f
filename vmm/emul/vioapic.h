/* SPDX-License-Identifier: MIT */
/*
 * An Intel 82093AA I/O APIC with the EOI register of the version 0x20
 * (ICH-class) parts. Section numbers are those of the 82093AA datasheet
 * (order 290566-001).
 *
 * Not locked: the VM serialises every call into one struct vioapic.
 */
#ifndef TERN_VMM_EMUL_VIOAPIC_H
#define TERN_VMM_EMUL_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/emul/dev.h"

#define VIOAPIC_BASE_DEFAULT 0xfec00000ull
#define VIOAPIC_MMIO_SIZE    0x1000ull /* MP spec: I/O APICs sit on 4 KiB boundaries */
#define VIOAPIC_PINS         24u

/* 3.1: the directly addressed registers, offsets from the base. */
#define VIOAPIC_IOREGSEL 0x00u
#define VIOAPIC_IOWIN    0x10u
#define VIOAPIC_EOI      0x40u /* version 0x20 parts */

/* 3.2: IOREGSEL indices. */
#define VIOAPIC_REG_ID     0x00u
#define VIOAPIC_REG_VER    0x01u
#define VIOAPIC_REG_ARB    0x02u
#define VIOAPIC_REG_REDTBL 0x10u /* 2n low dword, 2n + 1 high dword of entry n */

/* 3.2.2: maximum redirection entry 23 (bits 23:16), version 0x20 (bits 7:0). */
#define VIOAPIC_VERSION_VALUE 0x00170020u

/* 3.2.4: redirection table entry fields. */
#define VIOAPIC_RTE_VECTOR   0xffull
#define VIOAPIC_RTE_DELMOD_SHIFT 8
#define VIOAPIC_RTE_DELMOD   (7ull << 8)
#define VIOAPIC_RTE_DESTMOD  (1ull << 11) /* 1: logical */
#define VIOAPIC_RTE_DELIVS   (1ull << 12) /* RO: send pending */
#define VIOAPIC_RTE_INTPOL   (1ull << 13) /* 1: active low */
#define VIOAPIC_RTE_RIRR     (1ull << 14) /* RO: remote IRR */
#define VIOAPIC_RTE_TRIGGER  (1ull << 15) /* 1: level */
#define VIOAPIC_RTE_MASK     (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

struct vioapic {
	const struct emul_env *env;      /* must outlive the model */
	uint64_t base;                   /* guest-physical base of the registers */
	uint64_t redtbl[VIOAPIC_PINS];   /* 3.2.4 */
	uint32_t levels;                 /* input pin n asserted: bit n */
	uint8_t id;                      /* 3.2.1 bits 27:24 */
	uint8_t ioregsel;                /* 3.1.1 */
};

extern const struct dev_ops vioapic_ops;

/* Power-on state at base (normally VIOAPIC_BASE_DEFAULT); env kept by pointer. */
void vioapic_init(struct vioapic *a, const struct emul_env *env, uint64_t base);
/* Input pin 0-23 asserted (true) or not; polarity is the VM's business. */
void vioapic_set_irq(struct vioapic *a, unsigned int pin, bool level);
/* An EOI for vector: the local APIC's broadcast, or a write of the EOI register. */
void vioapic_eoi(struct vioapic *a, uint8_t vector);

#endif
