/* SPDX-License-Identifier: MIT */
/* CPUID leaves and feature bits used by Tern (SDM vol. 2A, CPUID). */
#ifndef TERN_ARCH_CPUID_H
#define TERN_ARCH_CPUID_H

#include "arch/x86.h"

#define CPUID_LEAF_VENDOR      0x00000000u
#define CPUID_LEAF_FEATURES    0x00000001u
#define   CPUID_1_ECX_MONITOR  BIT(3)
#define   CPUID_1_ECX_VMX      BIT(5)
#define   CPUID_1_ECX_SMX      BIT(6)
#define   CPUID_1_ECX_PCID     BIT(17)
#define   CPUID_1_ECX_X2APIC   BIT(21)
#define   CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define   CPUID_1_ECX_XSAVE    BIT(26)
#define   CPUID_1_ECX_OSXSAVE  BIT(27)
#define   CPUID_1_ECX_HYPERVISOR BIT(31)
#define   CPUID_1_EDX_TSC      BIT(4)
#define   CPUID_1_EDX_MSR      BIT(5)
#define   CPUID_1_EDX_APIC     BIT(9)
#define   CPUID_1_EDX_FXSR     BIT(24)
#define CPUID_LEAF_EXT_FEATURES7 0x00000007u /* sub-leaf 0: structured extended features */
#define   CPUID_7_EBX_FSGSBASE BIT(0)
#define   CPUID_7_EBX_SMEP     BIT(7)
#define   CPUID_7_EBX_SMAP     BIT(20)
#define   CPUID_7_ECX_UMIP     BIT(2)
#define   CPUID_7_ECX_PKU      BIT(3)
#define   CPUID_7_ECX_OSPKE    BIT(4)
#define   CPUID_7_ECX_CET_SS   BIT(7)
#define   CPUID_7_ECX_LA57     BIT(16)
#define   CPUID_7_ECX_KL       BIT(23)
#define   CPUID_7_ECX_PKS      BIT(31)
#define   CPUID_7_EDX_UINTR    BIT(5)
#define   CPUID_7_EDX_CET_IBT  BIT(20)
#define CPUID_LEAF_PMU         0x0000000au /* architectural performance monitoring */
#define CPUID_LEAF_XSTATE      0x0000000du /* sub-leaf 0: XCR0 bits, sizes; 1: XSAVE variants */
#define   CPUID_D_1_EAX_XSAVES BIT(3)
#define CPUID_LEAF_TSC_CRYSTAL 0x00000015u /* EAX/EBX ratio, ECX crystal Hz */
#define CPUID_LEAF_FREQ        0x00000016u /* EAX base MHz */
#define CPUID_LEAF_EXT_MAX     0x80000000u
#define CPUID_LEAF_EXT_FEATURES 0x80000001u
#define   CPUID_80000001_EDX_NX    BIT(20)
#define   CPUID_80000001_EDX_PAGE1GB BIT(26)
#define   CPUID_80000001_EDX_LM    BIT(29)
#define CPUID_LEAF_BRAND0      0x80000002u
#define CPUID_LEAF_INVARIANT_TSC 0x80000007u
#define   CPUID_80000007_EDX_INVARIANT_TSC BIT(8)
#define CPUID_LEAF_ADDR_SIZES  0x80000008u

#endif
