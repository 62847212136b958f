/* SPDX-License-Identifier: MIT */
/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode (SDM vol. 3A ch. 11). */
#ifndef TERN_ARCH_APIC_H
#define TERN_ARCH_APIC_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/cmdline.h"

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + (offset >> 4). */
#define APIC_ID        0x020u
#define APIC_VERSION   0x030u
#define APIC_TPR       0x080u
#define APIC_EOI       0x0b0u
#define APIC_LDR       0x0d0u
#define APIC_SVR       0x0f0u
#define   APIC_SVR_ENABLE BIT(8)
#define APIC_ESR       0x280u
#define APIC_ICR_LO    0x300u
#define APIC_ICR_HI    0x310u
#define   APIC_ICR_FIXED      (0u << 8)
#define   APIC_ICR_NMI        (4u << 8)
#define   APIC_ICR_INIT       (5u << 8)
#define   APIC_ICR_STARTUP    (6u << 8)
#define   APIC_ICR_BUSY       BIT(12)
#define   APIC_ICR_ASSERT     BIT(14)
#define   APIC_ICR_LEVEL      BIT(15)
#define   APIC_ICR_ALL_BUT_SELF (3u << 18)
#define APIC_LVT_TIMER 0x320u
#define APIC_LVT_LINT0 0x350u
#define APIC_LVT_LINT1 0x360u
#define APIC_LVT_ERROR 0x370u
#define   APIC_LVT_MASKED BIT(16)
#define APIC_TIMER_ICR 0x380u
#define APIC_TIMER_CCR 0x390u
#define APIC_TIMER_DCR 0x3e0u

/* Pick the mode once on the bootstrap CPU (x2APIC when offered, unless told). */
void apic_select_mode(enum apic_mode_opt opt);
/* Enable this CPU's local APIC in the selected mode. */
void apic_init_cpu(void);
bool apic_is_x2apic(void);
uint32_t apic_id(void);
void apic_eoi(void);
/* Whether an IPI can name this APIC ID in the current mode (xAPIC: below 0xFF). */
bool apic_id_reachable(uint32_t id);
/* Send an IPI: 0, or -EINVAL for an ID the mode cannot address, -ETIMEDOUT if the ICR stays busy. */
int apic_send_ipi(uint32_t dest_apic_id, uint32_t icr_lo);
int apic_send_ipi_all_but_self(uint32_t icr_lo);
/* Host timer: calibrate once on the BSP (after the TSC), then arm per CPU. */
void apic_timer_calibrate(void);
/* One interrupt on VEC_APIC_TIMER at (or a little after) TSC value deadline. */
void apic_timer_arm(uint64_t deadline);
void apic_timer_cancel(void);

#endif
