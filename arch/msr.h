/* SPDX-License-Identifier: MIT */
/* Model-specific registers, named as in SDM vol. 4 (chapter 2). */
#ifndef TERN_ARCH_MSR_H
#define TERN_ARCH_MSR_H

#include "arch/x86.h"

#define MSR_IA32_TIME_STAMP_COUNTER 0x00000010u
#define MSR_IA32_APIC_BASE          0x0000001bu
#define   IA32_APIC_BASE_BSP        BIT(8)
#define   IA32_APIC_BASE_EXTD       BIT(10) /* x2APIC mode */
#define   IA32_APIC_BASE_EN         BIT(11)
#define   IA32_APIC_BASE_DEFAULT    0xfee00000ull /* the APIC page after reset (SDM vol. 3A 11.4.4) */
#define MSR_IA32_FEATURE_CONTROL    0x0000003au
#define   IA32_FEATURE_CONTROL_LOCK             BIT(0)
#define   IA32_FEATURE_CONTROL_VMX_INSIDE_SMX   BIT(1)
#define   IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX  BIT(2)
#define MSR_IA32_TSC_ADJUST         0x0000003bu
#define MSR_IA32_SPEC_CTRL          0x00000048u
#define   IA32_SPEC_CTRL_IBRS       BIT(0)
#define   IA32_SPEC_CTRL_STIBP      BIT(1)
#define   IA32_SPEC_CTRL_SSBD       BIT(2)
#define MSR_IA32_PRED_CMD           0x00000049u
#define   IA32_PRED_CMD_IBPB        BIT(0)
#define MSR_IA32_BIOS_SIGN_ID       0x0000008bu
#define MSR_PLATFORM_INFO           0x000000ceu /* model-specific (vol. 4 tables 2-12 et seq.) */
#define MSR_IA32_MTRRCAP            0x000000feu
#define MSR_IA32_ARCH_CAPABILITIES  0x0000010au
#define MSR_IA32_SYSENTER_CS        0x00000174u
#define MSR_IA32_SYSENTER_ESP       0x00000175u
#define MSR_IA32_SYSENTER_EIP       0x00000176u
#define MSR_IA32_MISC_ENABLE        0x000001a0u
#define   IA32_MISC_ENABLE_FAST_STRINGS BIT(0)
#define MSR_IA32_MTRR_PHYSBASE0     0x00000200u /* PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n */
#define MSR_IA32_MTRR_PHYSMASK0     0x00000201u
#define MSR_IA32_MTRR_FIX64K_00000  0x00000250u
#define MSR_IA32_MTRR_FIX16K_80000  0x00000258u
#define MSR_IA32_MTRR_FIX16K_A0000  0x00000259u
#define MSR_IA32_MTRR_FIX4K_C0000   0x00000268u /* ... FIX4K_F8000 0x26f, one per 32 KiB */
#define MSR_IA32_MTRR_FIX4K_F8000   0x0000026fu
#define MSR_IA32_PAT                0x00000277u
#define MSR_IA32_MTRR_DEF_TYPE      0x000002ffu

#define MSR_IA32_VMX_BASIC          0x00000480u
#define MSR_IA32_VMX_PINBASED_CTLS  0x00000481u
#define MSR_IA32_VMX_PROCBASED_CTLS 0x00000482u
#define MSR_IA32_VMX_EXIT_CTLS      0x00000483u
#define MSR_IA32_VMX_ENTRY_CTLS     0x00000484u
#define MSR_IA32_VMX_MISC           0x00000485u
#define MSR_IA32_VMX_CR0_FIXED0     0x00000486u
#define MSR_IA32_VMX_CR0_FIXED1     0x00000487u
#define MSR_IA32_VMX_CR4_FIXED0     0x00000488u
#define MSR_IA32_VMX_CR4_FIXED1     0x00000489u
#define MSR_IA32_VMX_VMCS_ENUM      0x0000048au
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x0000048bu
#define MSR_IA32_VMX_EPT_VPID_CAP   0x0000048cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x0000048du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x0000048fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x00000490u
#define MSR_IA32_VMX_VMFUNC         0x00000491u

#define MSR_IA32_TSC_DEADLINE       0x000006e0u
#define MSR_IA32_X2APIC_BASE        0x00000800u /* + (xAPIC offset >> 4) */

#define MSR_IA32_EFER               0xc0000080u
#define   IA32_EFER_SCE             BIT(0)
#define   IA32_EFER_LME             BIT(8)
#define   IA32_EFER_LMA             BIT(10)
#define   IA32_EFER_NXE             BIT(11)
#define MSR_IA32_STAR               0xc0000081u
#define MSR_IA32_LSTAR              0xc0000082u
#define MSR_IA32_CSTAR              0xc0000083u
#define MSR_IA32_FMASK              0xc0000084u
#define MSR_IA32_FS_BASE            0xc0000100u
#define MSR_IA32_GS_BASE            0xc0000101u
#define MSR_IA32_KERNEL_GS_BASE     0xc0000102u
#define MSR_IA32_TSC_AUX            0xc0000103u

#endif
