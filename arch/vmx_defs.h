/* SPDX-License-Identifier: MIT */
/*
 * VMX capability and control bits, named as in the SDM (vol. 3C, chapter 25
 * "VM-execution controls" and appendix A "VMX capability reporting").
 */
#ifndef TERN_ARCH_VMX_DEFS_H
#define TERN_ARCH_VMX_DEFS_H

#include "arch/x86.h"

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION_MASK   0x7fffffffull
#define VMX_BASIC_VMCS_SIZE(v)    (((v) >> 32) & 0x1fff)
#define VMX_BASIC_TRUE_CTLS       BIT(55)

/* Pin-based VM-execution controls (25.6.1) */
#define PIN_BASED_EXT_INTR_EXITING     BIT(0)
#define PIN_BASED_NMI_EXITING          BIT(3)
#define PIN_BASED_VIRTUAL_NMIS         BIT(5)
#define PIN_BASED_VMX_PREEMPTION_TIMER BIT(6)
#define PIN_BASED_POSTED_INTR          BIT(7)

/* Primary processor-based VM-execution controls (25.6.2, table 25-6) */
#define CPU_BASED_USE_MSR_BITMAPS      BIT(28)
#define CPU_BASED_USE_IO_BITMAPS       BIT(25)
#define CPU_BASED_MONITOR_TRAP_FLAG    BIT(27)
#define CPU_BASED_ACTIVATE_SECONDARY   BIT(31)

/* Secondary processor-based VM-execution controls (table 25-7) */
#define SECONDARY_VIRT_APIC_ACCESSES   BIT(0)
#define SECONDARY_ENABLE_EPT           BIT(1)
#define SECONDARY_VIRT_X2APIC_MODE     BIT(4)
#define SECONDARY_ENABLE_RDTSCP        BIT(3)
#define SECONDARY_ENABLE_VPID          BIT(5)
#define SECONDARY_UNRESTRICTED_GUEST   BIT(7)
#define SECONDARY_APIC_REGISTER_VIRT   BIT(8)
#define SECONDARY_VIRT_INTR_DELIVERY   BIT(9)
#define SECONDARY_ENABLE_INVPCID       BIT(12)
#define SECONDARY_VMCS_SHADOWING       BIT(14)
#define SECONDARY_ENABLE_PML           BIT(17)
#define SECONDARY_ENABLE_XSAVES        BIT(20)

/* IA32_VMX_MISC (A.6) */
#define VMX_MISC_PREEMPTION_TIMER_SHIFT(v) ((v) & 0x1f)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define EPT_CAP_EXEC_ONLY     BIT(0)
#define EPT_CAP_PWL4          BIT(6)
#define EPT_CAP_MEMTYPE_UC    BIT(8)
#define EPT_CAP_MEMTYPE_WB    BIT(14)
#define EPT_CAP_2MB_PAGE      BIT(16)
#define EPT_CAP_1GB_PAGE      BIT(17)
#define EPT_CAP_INVEPT        BIT(20)
#define EPT_CAP_AD_BITS       BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL    BIT(26)
#define VPID_CAP_INVVPID      BIT(32)

#endif
