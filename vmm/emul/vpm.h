/* SPDX-License-Identifier: MIT */
/*
 * The ACPI fixed-hardware power-management block a Tern VM has (ACPI 6.5
 * ch. 4.8): PM1a event (PM1_STS, PM1_EN) and control (PM1_CNT) registers,
 * the 32-bit PM timer at 3.579545 MHz, and the SCI on IRQ 9. Writing
 * SLP_TYP = VPM_SLP_TYP_S5 with SLP_EN powers the VM off; the power button
 * (vpm_power_button) is how an operator's shutdown reaches an ACPI guest.
 * The reset register (0xCF9) lives with PCI configuration (vpci.c).
 */
#ifndef TERN_VMM_EMUL_VPM_H
#define TERN_VMM_EMUL_VPM_H

#include "vmm/emul/dev.h"

#define VPM_BASE        0x600u /* PM1a_EVT_BLK; the block is VPM_PORTS long */
#define VPM_PM1_STS     (VPM_BASE + 0)
#define VPM_PM1_EN      (VPM_BASE + 2)
#define VPM_PM1_CNT     (VPM_BASE + 4)
#define VPM_PM_TMR      (VPM_BASE + 8)
#define VPM_PORTS       12u
#define VPM_SCI_IRQ     9u
#define VPM_TIMER_HZ    3579545u
#define VPM_SLP_TYP_S5  5u     /* the \_S5 package a Tern DSDT gives */

/* PM1 status/enable bits (ACPI 6.5 table 4.16, 4.18) and PM1 control bits (table 4.20). */
#define PM1_TMR         0x0001u
#define PM1_GBL         0x0020u
#define PM1_PWRBTN      0x0100u
#define PM1_RTC         0x0400u /* RTC_EN: kept; RTC_STS never set (no wake from S5; FADT FIX_RTC) */
#define PM1_EN_BITS     (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_RTC)
#define PM1_WAK_STS     0x8000u
#define PM1_CNT_SCI_EN  0x0001u
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7u)
#define PM1_CNT_SLP_EN  0x2000u

struct vpm {
	const struct emul_env *env;
	uint16_t sts, en, cnt;
	uint32_t tmr_msb_seen;  /* bit 31 of the timer when last looked at (TMR_STS on its change) */
	bool sci;               /* the SCI line as last driven */
	uint64_t power_button_presses;
};

void vpm_init(struct vpm *pm, const struct emul_env *env);
extern const struct dev_ops vpm_ops;
/* The operator pressed the power button: PWRBTN_STS, and an SCI if enabled; true if it is. */
bool vpm_power_button(struct vpm *pm);

#endif
