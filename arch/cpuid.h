/* SPDX-License-Identifier: MIT */
/* CPUID leaves and feature bits used by Tern (SDM vol. 2A, CPUID). */
#ifndef TERN_ARCH_CPUID_H
#define TERN_ARCH_CPUID_H

#include "arch/x86.h"

#define CPUID_LEAF_VENDOR      0x00000000u
#define   CPUID_VENDOR_INTEL_EBX 0x756e6547u /* "GenuineIntel" in EBX, EDX, ECX */
#define   CPUID_VENDOR_INTEL_EDX 0x49656e69u
#define   CPUID_VENDOR_INTEL_ECX 0x6c65746eu
#define CPUID_LEAF_FEATURES    0x00000001u
#define   CPUID_1_EBX_LOGICAL_SHIFT 16 /* EBX[23:16] addressable logical processors */
#define   CPUID_1_EBX_APIC_ID_SHIFT 24 /* EBX[31:24] initial APIC ID */
#define   CPUID_1_ECX_SSE3     BIT(0)
#define   CPUID_1_ECX_PCLMULQDQ BIT(1)
#define   CPUID_1_ECX_DTES64   BIT(2)
#define   CPUID_1_ECX_MONITOR  BIT(3)
#define   CPUID_1_ECX_DS_CPL   BIT(4)
#define   CPUID_1_ECX_VMX      BIT(5)
#define   CPUID_1_ECX_SMX      BIT(6)
#define   CPUID_1_ECX_EIST     BIT(7)
#define   CPUID_1_ECX_TM2      BIT(8)
#define   CPUID_1_ECX_SSSE3    BIT(9)
#define   CPUID_1_ECX_SDBG     BIT(11)
#define   CPUID_1_ECX_FMA      BIT(12)
#define   CPUID_1_ECX_CX16     BIT(13)
#define   CPUID_1_ECX_XTPR     BIT(14)
#define   CPUID_1_ECX_PDCM     BIT(15)
#define   CPUID_1_ECX_PCID     BIT(17)
#define   CPUID_1_ECX_DCA      BIT(18)
#define   CPUID_1_ECX_SSE4_1   BIT(19)
#define   CPUID_1_ECX_SSE4_2   BIT(20)
#define   CPUID_1_ECX_X2APIC   BIT(21)
#define   CPUID_1_ECX_MOVBE    BIT(22)
#define   CPUID_1_ECX_POPCNT   BIT(23)
#define   CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define   CPUID_1_ECX_AES      BIT(25)
#define   CPUID_1_ECX_XSAVE    BIT(26)
#define   CPUID_1_ECX_OSXSAVE  BIT(27)
#define   CPUID_1_ECX_AVX      BIT(28)
#define   CPUID_1_ECX_F16C     BIT(29)
#define   CPUID_1_ECX_RDRAND   BIT(30)
#define   CPUID_1_ECX_HYPERVISOR BIT(31)
#define   CPUID_1_EDX_FPU      BIT(0)
#define   CPUID_1_EDX_VME      BIT(1)
#define   CPUID_1_EDX_DE       BIT(2)
#define   CPUID_1_EDX_PSE      BIT(3)
#define   CPUID_1_EDX_TSC      BIT(4)
#define   CPUID_1_EDX_MSR      BIT(5)
#define   CPUID_1_EDX_PAE      BIT(6)
#define   CPUID_1_EDX_MCE      BIT(7)
#define   CPUID_1_EDX_CX8      BIT(8)
#define   CPUID_1_EDX_APIC     BIT(9)
#define   CPUID_1_EDX_SEP      BIT(11)
#define   CPUID_1_EDX_MTRR     BIT(12)
#define   CPUID_1_EDX_PGE      BIT(13)
#define   CPUID_1_EDX_MCA      BIT(14)
#define   CPUID_1_EDX_CMOV     BIT(15)
#define   CPUID_1_EDX_PAT      BIT(16)
#define   CPUID_1_EDX_PSE36    BIT(17)
#define   CPUID_1_EDX_PSN      BIT(18)
#define   CPUID_1_EDX_CLFSH    BIT(19)
#define   CPUID_1_EDX_DS       BIT(21)
#define   CPUID_1_EDX_ACPI     BIT(22)
#define   CPUID_1_EDX_MMX      BIT(23)
#define   CPUID_1_EDX_FXSR     BIT(24)
#define   CPUID_1_EDX_SSE      BIT(25)
#define   CPUID_1_EDX_SSE2     BIT(26)
#define   CPUID_1_EDX_SS       BIT(27)
#define   CPUID_1_EDX_HTT      BIT(28)
#define   CPUID_1_EDX_TM       BIT(29)
#define   CPUID_1_EDX_PBE      BIT(31)
#define CPUID_LEAF_CACHE_DESC  0x00000002u /* cache and TLB descriptors */
#define CPUID_LEAF_CACHE_PARAMS 0x00000004u /* deterministic cache parameters, one sub-leaf a cache */
#define   CPUID_4_EAX_TYPE_MASK  0x1fu    /* EAX[4:0] cache type, 0: no more caches */
#define   CPUID_4_EAX_LEVEL_SHIFT 5       /* EAX[7:5] cache level */
#define   CPUID_4_EAX_SHARING_SHIFT 14    /* EAX[25:14] logical processors sharing it, minus 1 */
#define   CPUID_4_EAX_CORES_SHIFT 26      /* EAX[31:26] addressable core IDs in the package, minus 1 */
#define CPUID_LEAF_THERMAL     0x00000006u /* thermal and power management */
#define   CPUID_6_EAX_ARAT     BIT(2)     /* APIC timer always running */
#define CPUID_LEAF_EXT_FEATURES7 0x00000007u /* sub-leaf 0: structured extended features */
#define   CPUID_7_EBX_FSGSBASE BIT(0)
#define   CPUID_7_EBX_TSC_ADJUST BIT(1)
#define   CPUID_7_EBX_SGX      BIT(2)
#define   CPUID_7_EBX_BMI1     BIT(3)
#define   CPUID_7_EBX_HLE      BIT(4)
#define   CPUID_7_EBX_AVX2     BIT(5)
#define   CPUID_7_EBX_FDP_EXCPTN_ONLY BIT(6)
#define   CPUID_7_EBX_SMEP     BIT(7)
#define   CPUID_7_EBX_BMI2     BIT(8)
#define   CPUID_7_EBX_ERMS     BIT(9)
#define   CPUID_7_EBX_INVPCID  BIT(10)
#define   CPUID_7_EBX_RTM      BIT(11)
#define   CPUID_7_EBX_RDT_M    BIT(12)
#define   CPUID_7_EBX_ZERO_FCS_FDS BIT(13)
#define   CPUID_7_EBX_MPX      BIT(14)
#define   CPUID_7_EBX_RDT_A    BIT(15)
#define   CPUID_7_EBX_AVX512F  BIT(16)
#define   CPUID_7_EBX_AVX512DQ BIT(17)
#define   CPUID_7_EBX_RDSEED   BIT(18)
#define   CPUID_7_EBX_ADX      BIT(19)
#define   CPUID_7_EBX_SMAP     BIT(20)
#define   CPUID_7_EBX_AVX512_IFMA BIT(21)
#define   CPUID_7_EBX_CLFLUSHOPT BIT(23)
#define   CPUID_7_EBX_CLWB     BIT(24)
#define   CPUID_7_EBX_PT       BIT(25)
#define   CPUID_7_EBX_AVX512PF BIT(26)
#define   CPUID_7_EBX_AVX512ER BIT(27)
#define   CPUID_7_EBX_AVX512CD BIT(28)
#define   CPUID_7_EBX_SHA      BIT(29)
#define   CPUID_7_EBX_AVX512BW BIT(30)
#define   CPUID_7_EBX_AVX512VL BIT(31)
#define   CPUID_7_ECX_PREFETCHWT1 BIT(0)
#define   CPUID_7_ECX_AVX512_VBMI BIT(1)
#define   CPUID_7_ECX_UMIP     BIT(2)
#define   CPUID_7_ECX_PKU      BIT(3)
#define   CPUID_7_ECX_OSPKE    BIT(4)
#define   CPUID_7_ECX_WAITPKG  BIT(5)
#define   CPUID_7_ECX_AVX512_VBMI2 BIT(6)
#define   CPUID_7_ECX_CET_SS   BIT(7)
#define   CPUID_7_ECX_GFNI     BIT(8)
#define   CPUID_7_ECX_VAES     BIT(9)
#define   CPUID_7_ECX_VPCLMULQDQ BIT(10)
#define   CPUID_7_ECX_AVX512_VNNI BIT(11)
#define   CPUID_7_ECX_AVX512_BITALG BIT(12)
#define   CPUID_7_ECX_TME_EN   BIT(13)
#define   CPUID_7_ECX_AVX512_VPOPCNTDQ BIT(14)
#define   CPUID_7_ECX_LA57     BIT(16)
#define   CPUID_7_ECX_RDPID    BIT(22)
#define   CPUID_7_ECX_KL       BIT(23)
#define   CPUID_7_ECX_BUS_LOCK_DETECT BIT(24)
#define   CPUID_7_ECX_CLDEMOTE BIT(25)
#define   CPUID_7_ECX_MOVDIRI  BIT(27)
#define   CPUID_7_ECX_MOVDIR64B BIT(28)
#define   CPUID_7_ECX_ENQCMD   BIT(29)
#define   CPUID_7_ECX_SGX_LC   BIT(30)
#define   CPUID_7_ECX_PKS      BIT(31)
#define   CPUID_7_EDX_AVX512_4VNNIW BIT(2)
#define   CPUID_7_EDX_AVX512_4FMAPS BIT(3)
#define   CPUID_7_EDX_FSRM     BIT(4)
#define   CPUID_7_EDX_UINTR    BIT(5)
#define   CPUID_7_EDX_AVX512_VP2INTERSECT BIT(8)
#define   CPUID_7_EDX_SRBDS_CTRL BIT(9)
#define   CPUID_7_EDX_MD_CLEAR BIT(10)
#define   CPUID_7_EDX_RTM_ALWAYS_ABORT BIT(11)
#define   CPUID_7_EDX_RTM_FORCE_ABORT BIT(13)
#define   CPUID_7_EDX_SERIALIZE BIT(14)
#define   CPUID_7_EDX_HYBRID   BIT(15)
#define   CPUID_7_EDX_TSXLDTRK BIT(16)
#define   CPUID_7_EDX_PCONFIG  BIT(18)
#define   CPUID_7_EDX_ARCH_LBR BIT(19)
#define   CPUID_7_EDX_CET_IBT  BIT(20)
#define   CPUID_7_EDX_AMX_BF16 BIT(22)
#define   CPUID_7_EDX_AVX512_FP16 BIT(23)
#define   CPUID_7_EDX_AMX_TILE BIT(24)
#define   CPUID_7_EDX_AMX_INT8 BIT(25)
#define   CPUID_7_EDX_IBRS_IBPB BIT(26) /* IA32_SPEC_CTRL.IBRS and IA32_PRED_CMD */
#define   CPUID_7_EDX_STIBP    BIT(27)
#define   CPUID_7_EDX_L1D_FLUSH BIT(28) /* IA32_FLUSH_CMD */
#define   CPUID_7_EDX_ARCH_CAPABILITIES BIT(29)
#define   CPUID_7_EDX_CORE_CAPABILITIES BIT(30)
#define   CPUID_7_EDX_SSBD     BIT(31)
/* Sub-leaf 1. */
#define   CPUID_7_1_EAX_SHA512 BIT(0)
#define   CPUID_7_1_EAX_SM3    BIT(1)
#define   CPUID_7_1_EAX_SM4    BIT(2)
#define   CPUID_7_1_EAX_RAO_INT BIT(3)
#define   CPUID_7_1_EAX_AVX_VNNI BIT(4)
#define   CPUID_7_1_EAX_AVX512_BF16 BIT(5)
#define   CPUID_7_1_EAX_LASS   BIT(6)
#define   CPUID_7_1_EAX_CMPCCXADD BIT(7)
#define   CPUID_7_1_EAX_FZLRM  BIT(10)
#define   CPUID_7_1_EAX_FSRS   BIT(11)
#define   CPUID_7_1_EAX_FSRCS  BIT(12)
#define   CPUID_7_1_EAX_FRED   BIT(17)
#define   CPUID_7_1_EAX_LKGS   BIT(18)
#define   CPUID_7_1_EAX_WRMSRNS BIT(19)
#define   CPUID_7_1_EAX_AMX_FP16 BIT(21)
#define   CPUID_7_1_EAX_HRESET BIT(22)
#define   CPUID_7_1_EAX_AVX_IFMA BIT(23)
#define   CPUID_7_1_EAX_LAM    BIT(26)
#define   CPUID_7_1_EAX_MSRLIST BIT(27)
#define   CPUID_7_1_EDX_AVX_VNNI_INT8 BIT(4)
#define   CPUID_7_1_EDX_AVX_NE_CONVERT BIT(5)
#define   CPUID_7_1_EDX_AVX_VNNI_INT16 BIT(10)
#define   CPUID_7_1_EDX_PREFETCHI BIT(14)
#define   CPUID_7_1_EDX_AVX10  BIT(19)
#define   CPUID_7_1_EDX_APX_F  BIT(21)
/* Sub-leaf 2: further IA32_SPEC_CTRL controls. */
#define   CPUID_7_2_EDX_PSFD   BIT(0)
#define   CPUID_7_2_EDX_IPRED_CTRL BIT(1)
#define   CPUID_7_2_EDX_RRSBA_CTRL BIT(2)
#define   CPUID_7_2_EDX_DDPD_U BIT(3)
#define   CPUID_7_2_EDX_BHI_CTRL BIT(4)
#define   CPUID_7_2_EDX_MCDT_NO BIT(5)
#define CPUID_LEAF_PMU         0x0000000au /* architectural performance monitoring */
#define CPUID_LEAF_TOPOLOGY    0x0000000bu /* extended topology, one sub-leaf a level */
#define   CPUID_TOPO_LEVEL_INVALID 0u      /* ECX[15:8] level type (leaves 0xB, 0x1F) */
#define   CPUID_TOPO_LEVEL_SMT 1u
#define   CPUID_TOPO_LEVEL_CORE 2u
#define   CPUID_TOPO_LEVEL_TYPE_SHIFT 8
#define CPUID_LEAF_XSTATE      0x0000000du /* sub-leaf 0: XCR0 bits, sizes; 1: XSAVE variants */
#define   CPUID_D_1_EAX_XSAVEOPT BIT(0)
#define   CPUID_D_1_EAX_XSAVEC BIT(1)
#define   CPUID_D_1_EAX_XGETBV1 BIT(2)
#define   CPUID_D_1_EAX_XSAVES BIT(3)
#define   CPUID_D_1_EAX_XFD    BIT(4)
#define   CPUID_D_N_ECX_ALIGN64 BIT(1)    /* sub-leaf n >= 2: 64-byte aligned in the compacted form */
#define CPUID_LEAF_TSC_CRYSTAL 0x00000015u /* EAX/EBX ratio, ECX crystal Hz */
#define CPUID_LEAF_FREQ        0x00000016u /* EAX base MHz */
#define CPUID_LEAF_TOPOLOGY_V2 0x0000001fu /* V2 extended topology (as 0xB, more level types) */
#define CPUID_LEAF_HV_BASE     0x40000000u /* software-defined: EAX max, EBX-EDX signature */
#define CPUID_LEAF_HV_LAST     0x4fffffffu
#define CPUID_LEAF_EXT_MAX     0x80000000u
#define CPUID_LEAF_EXT_FEATURES 0x80000001u
#define   CPUID_80000001_ECX_LAHF BIT(0)
#define   CPUID_80000001_ECX_CMP_LEGACY BIT(1)   /* AMD */
#define   CPUID_80000001_ECX_SVM   BIT(2)        /* AMD */
#define   CPUID_80000001_ECX_ABM   BIT(5)        /* LZCNT */
#define   CPUID_80000001_ECX_SSE4A BIT(6)        /* AMD */
#define   CPUID_80000001_ECX_MISALIGNSSE BIT(7)  /* AMD */
#define   CPUID_80000001_ECX_PREFETCHW BIT(8)
#define   CPUID_80000001_ECX_OSVW  BIT(9)        /* AMD */
#define   CPUID_80000001_ECX_IBS   BIT(10)       /* AMD */
#define   CPUID_80000001_ECX_XOP   BIT(11)       /* AMD */
#define   CPUID_80000001_ECX_SKINIT BIT(12)      /* AMD */
#define   CPUID_80000001_ECX_WDT   BIT(13)       /* AMD */
#define   CPUID_80000001_ECX_LWP   BIT(15)       /* AMD */
#define   CPUID_80000001_ECX_FMA4  BIT(16)       /* AMD */
#define   CPUID_80000001_ECX_TBM   BIT(21)       /* AMD */
#define   CPUID_80000001_ECX_TOPOEXT BIT(22)     /* AMD */
#define   CPUID_80000001_ECX_PERFCTR_CORE BIT(23) /* AMD */
#define   CPUID_80000001_ECX_MONITORX BIT(29)    /* AMD */
#define   CPUID_80000001_EDX_SYSCALL BIT(11)
#define   CPUID_80000001_EDX_NX    BIT(20)
#define   CPUID_80000001_EDX_MMXEXT BIT(22)      /* AMD */
#define   CPUID_80000001_EDX_FFXSR BIT(25)       /* AMD */
#define   CPUID_80000001_EDX_PAGE1GB BIT(26)
#define   CPUID_80000001_EDX_RDTSCP BIT(27)
#define   CPUID_80000001_EDX_LM    BIT(29)
#define   CPUID_80000001_EDX_3DNOWEXT BIT(30)    /* AMD */
#define   CPUID_80000001_EDX_3DNOW BIT(31)       /* AMD */
#define CPUID_LEAF_BRAND0      0x80000002u
#define CPUID_LEAF_BRAND1      0x80000003u
#define CPUID_LEAF_BRAND2      0x80000004u
#define CPUID_LEAF_L1_CACHE    0x80000005u /* AMD; reserved on Intel */
#define CPUID_LEAF_L2_CACHE    0x80000006u
#define CPUID_LEAF_INVARIANT_TSC 0x80000007u
#define   CPUID_80000007_EDX_INVARIANT_TSC BIT(8)
#define CPUID_LEAF_ADDR_SIZES  0x80000008u
#define   CPUID_80000008_EAX_ADDR_BITS 0xffffu   /* [7:0] physical, [15:8] linear */
#define   CPUID_80000008_EBX_WBNOINVD BIT(9)
#define   CPUID_80000008_EBX_AMD_IBPB BIT(12)    /* AMD: IA32_PRED_CMD */
#define   CPUID_80000008_EBX_AMD_IBRS BIT(14)    /* AMD: IA32_SPEC_CTRL.IBRS */
#define   CPUID_80000008_EBX_AMD_STIBP BIT(15)
#define   CPUID_80000008_EBX_AMD_SSBD BIT(24)    /* AMD: IA32_SPEC_CTRL.SSBD */
#define   CPUID_80000008_EBX_AMD_SSB_NO BIT(26)
#define   CPUID_80000008_EBX_AMD_BTC_NO BIT(29)
#define   CPUID_80000008_ECX_NC_MASK 0xffu       /* AMD: cores in the package, minus 1 */
#define   CPUID_80000008_ECX_APIC_ID_SIZE_SHIFT 12 /* AMD: ECX[15:12] core-ID bits of the APIC ID */

#endif
