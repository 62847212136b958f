/* SPDX-License-Identifier: MIT */
/*
 * VMCS field encodings (SDM vol. 3C appendix B), basic exit reasons
 * (appendix C), VM-instruction error numbers (31.4) and exit qualification
 * layouts (28.2.1). Listed once, in SDM order, grouped by width and area.
 */
#ifndef TERN_ARCH_VMCS_H
#define TERN_ARCH_VMCS_H

#include "arch/x86.h"

/* B.1.1 16-bit control fields */
#define VMCS_VPID                           0x00000000u
#define VMCS_POSTED_INTR_NV                 0x00000002u
#define VMCS_EPTP_INDEX                     0x00000004u
/* B.1.2 16-bit guest-state fields */
#define VMCS_GUEST_ES_SELECTOR              0x00000800u
#define VMCS_GUEST_CS_SELECTOR              0x00000802u
#define VMCS_GUEST_SS_SELECTOR              0x00000804u
#define VMCS_GUEST_DS_SELECTOR              0x00000806u
#define VMCS_GUEST_FS_SELECTOR              0x00000808u
#define VMCS_GUEST_GS_SELECTOR              0x0000080au
#define VMCS_GUEST_LDTR_SELECTOR            0x0000080cu
#define VMCS_GUEST_TR_SELECTOR              0x0000080eu
#define VMCS_GUEST_INTR_STATUS              0x00000810u
#define VMCS_GUEST_PML_INDEX                0x00000812u
/* B.1.3 16-bit host-state fields */
#define VMCS_HOST_ES_SELECTOR               0x00000c00u
#define VMCS_HOST_CS_SELECTOR               0x00000c02u
#define VMCS_HOST_SS_SELECTOR               0x00000c04u
#define VMCS_HOST_DS_SELECTOR               0x00000c06u
#define VMCS_HOST_FS_SELECTOR               0x00000c08u
#define VMCS_HOST_GS_SELECTOR               0x00000c0au
#define VMCS_HOST_TR_SELECTOR               0x00000c0cu

/* B.2.1 64-bit control fields */
#define VMCS_IO_BITMAP_A                    0x00002000u
#define VMCS_IO_BITMAP_B                    0x00002002u
#define VMCS_MSR_BITMAP                     0x00002004u
#define VMCS_VM_EXIT_MSR_STORE_ADDR         0x00002006u
#define VMCS_VM_EXIT_MSR_LOAD_ADDR          0x00002008u
#define VMCS_VM_ENTRY_MSR_LOAD_ADDR         0x0000200au
#define VMCS_EXECUTIVE_VMCS_PTR             0x0000200cu
#define VMCS_PML_ADDRESS                    0x0000200eu
#define VMCS_TSC_OFFSET                     0x00002010u
#define VMCS_VIRTUAL_APIC_PAGE_ADDR         0x00002012u
#define VMCS_APIC_ACCESS_ADDR               0x00002014u
#define VMCS_POSTED_INTR_DESC_ADDR          0x00002016u
#define VMCS_VM_FUNCTION_CONTROLS           0x00002018u
#define VMCS_EPT_POINTER                    0x0000201au
#define VMCS_EOI_EXIT_BITMAP0               0x0000201cu
#define VMCS_EOI_EXIT_BITMAP1               0x0000201eu
#define VMCS_EOI_EXIT_BITMAP2               0x00002020u
#define VMCS_EOI_EXIT_BITMAP3               0x00002022u
#define VMCS_XSS_EXIT_BITMAP                0x0000202cu
#define VMCS_TSC_MULTIPLIER                 0x00002032u
/* B.2.2 64-bit read-only data field */
#define VMCS_GUEST_PHYSICAL_ADDRESS         0x00002400u
/* B.2.3 64-bit guest-state fields */
#define VMCS_VMCS_LINK_POINTER              0x00002800u
#define VMCS_GUEST_IA32_DEBUGCTL            0x00002802u
#define VMCS_GUEST_IA32_PAT                 0x00002804u
#define VMCS_GUEST_IA32_EFER                0x00002806u
#define VMCS_GUEST_IA32_PERF_GLOBAL_CTRL    0x00002808u
#define VMCS_GUEST_PDPTE0                   0x0000280au
#define VMCS_GUEST_PDPTE1                   0x0000280cu
#define VMCS_GUEST_PDPTE2                   0x0000280eu
#define VMCS_GUEST_PDPTE3                   0x00002810u
/* B.2.4 64-bit host-state fields */
#define VMCS_HOST_IA32_PAT                  0x00002c00u
#define VMCS_HOST_IA32_EFER                 0x00002c02u
#define VMCS_HOST_IA32_PERF_GLOBAL_CTRL     0x00002c04u

/* B.3.1 32-bit control fields */
#define VMCS_PIN_BASED_VM_EXEC_CONTROL      0x00004000u
#define VMCS_PRIMARY_PROC_BASED_VM_EXEC_CONTROL 0x00004002u
#define VMCS_EXCEPTION_BITMAP               0x00004004u
#define VMCS_PAGE_FAULT_ERROR_CODE_MASK     0x00004006u
#define VMCS_PAGE_FAULT_ERROR_CODE_MATCH    0x00004008u
#define VMCS_CR3_TARGET_COUNT               0x0000400au
#define VMCS_VM_EXIT_CONTROLS               0x0000400cu
#define VMCS_VM_EXIT_MSR_STORE_COUNT        0x0000400eu
#define VMCS_VM_EXIT_MSR_LOAD_COUNT         0x00004010u
#define VMCS_VM_ENTRY_CONTROLS              0x00004012u
#define VMCS_VM_ENTRY_MSR_LOAD_COUNT        0x00004014u
#define VMCS_VM_ENTRY_INTR_INFO             0x00004016u
#define VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE  0x00004018u
#define VMCS_VM_ENTRY_INSTRUCTION_LEN       0x0000401au
#define VMCS_TPR_THRESHOLD                  0x0000401cu
#define VMCS_SECONDARY_PROC_BASED_VM_EXEC_CONTROL 0x0000401eu
#define VMCS_PLE_GAP                        0x00004020u
#define VMCS_PLE_WINDOW                     0x00004022u
/* B.3.2 32-bit read-only data fields */
#define VMCS_VM_INSTRUCTION_ERROR           0x00004400u
#define VMCS_EXIT_REASON                    0x00004402u
#define VMCS_VM_EXIT_INTR_INFO              0x00004404u
#define VMCS_VM_EXIT_INTR_ERROR_CODE        0x00004406u
#define VMCS_IDT_VECTORING_INFO             0x00004408u
#define VMCS_IDT_VECTORING_ERROR_CODE       0x0000440au
#define VMCS_VM_EXIT_INSTRUCTION_LEN        0x0000440cu
#define VMCS_VM_EXIT_INSTRUCTION_INFO       0x0000440eu
/* B.3.3 32-bit guest-state fields */
#define VMCS_GUEST_ES_LIMIT                 0x00004800u
#define VMCS_GUEST_CS_LIMIT                 0x00004802u
#define VMCS_GUEST_SS_LIMIT                 0x00004804u
#define VMCS_GUEST_DS_LIMIT                 0x00004806u
#define VMCS_GUEST_FS_LIMIT                 0x00004808u
#define VMCS_GUEST_GS_LIMIT                 0x0000480au
#define VMCS_GUEST_LDTR_LIMIT               0x0000480cu
#define VMCS_GUEST_TR_LIMIT                 0x0000480eu
#define VMCS_GUEST_GDTR_LIMIT               0x00004810u
#define VMCS_GUEST_IDTR_LIMIT               0x00004812u
#define VMCS_GUEST_ES_AR_BYTES              0x00004814u
#define VMCS_GUEST_CS_AR_BYTES              0x00004816u
#define VMCS_GUEST_SS_AR_BYTES              0x00004818u
#define VMCS_GUEST_DS_AR_BYTES              0x0000481au
#define VMCS_GUEST_FS_AR_BYTES              0x0000481cu
#define VMCS_GUEST_GS_AR_BYTES              0x0000481eu
#define VMCS_GUEST_LDTR_AR_BYTES            0x00004820u
#define VMCS_GUEST_TR_AR_BYTES              0x00004822u
#define VMCS_GUEST_INTERRUPTIBILITY_INFO    0x00004824u
#define VMCS_GUEST_ACTIVITY_STATE           0x00004826u
#define VMCS_GUEST_SMBASE                   0x00004828u
#define VMCS_GUEST_SYSENTER_CS              0x0000482au
#define VMCS_VMX_PREEMPTION_TIMER_VALUE     0x0000482eu
/* B.3.4 32-bit host-state field */
#define VMCS_HOST_IA32_SYSENTER_CS          0x00004c00u

/* B.4.1 natural-width control fields */
#define VMCS_CR0_GUEST_HOST_MASK            0x00006000u
#define VMCS_CR4_GUEST_HOST_MASK            0x00006002u
#define VMCS_CR0_READ_SHADOW                0x00006004u
#define VMCS_CR4_READ_SHADOW                0x00006006u
#define VMCS_CR3_TARGET_VALUE0              0x00006008u
/* B.4.2 natural-width read-only data fields */
#define VMCS_EXIT_QUALIFICATION             0x00006400u
#define VMCS_IO_RCX                         0x00006402u
#define VMCS_IO_RSI                         0x00006404u
#define VMCS_IO_RDI                         0x00006406u
#define VMCS_IO_RIP                         0x00006408u
#define VMCS_GUEST_LINEAR_ADDRESS           0x0000640au
/* B.4.3 natural-width guest-state fields */
#define VMCS_GUEST_CR0                      0x00006800u
#define VMCS_GUEST_CR3                      0x00006802u
#define VMCS_GUEST_CR4                      0x00006804u
#define VMCS_GUEST_ES_BASE                  0x00006806u
#define VMCS_GUEST_CS_BASE                  0x00006808u
#define VMCS_GUEST_SS_BASE                  0x0000680au
#define VMCS_GUEST_DS_BASE                  0x0000680cu
#define VMCS_GUEST_FS_BASE                  0x0000680eu
#define VMCS_GUEST_GS_BASE                  0x00006810u
#define VMCS_GUEST_LDTR_BASE                0x00006812u
#define VMCS_GUEST_TR_BASE                  0x00006814u
#define VMCS_GUEST_GDTR_BASE                0x00006816u
#define VMCS_GUEST_IDTR_BASE                0x00006818u
#define VMCS_GUEST_DR7                      0x0000681au
#define VMCS_GUEST_RSP                      0x0000681cu
#define VMCS_GUEST_RIP                      0x0000681eu
#define VMCS_GUEST_RFLAGS                   0x00006820u
#define VMCS_GUEST_PENDING_DBG_EXCEPTIONS   0x00006822u
#define VMCS_GUEST_SYSENTER_ESP             0x00006824u
#define VMCS_GUEST_SYSENTER_EIP             0x00006826u
/* B.4.4 natural-width host-state fields */
#define VMCS_HOST_CR0                       0x00006c00u
#define VMCS_HOST_CR3                       0x00006c02u
#define VMCS_HOST_CR4                       0x00006c04u
#define VMCS_HOST_FS_BASE                   0x00006c06u
#define VMCS_HOST_GS_BASE                   0x00006c08u
#define VMCS_HOST_TR_BASE                   0x00006c0au
#define VMCS_HOST_GDTR_BASE                 0x00006c0cu
#define VMCS_HOST_IDTR_BASE                 0x00006c0eu
#define VMCS_HOST_IA32_SYSENTER_ESP         0x00006c10u
#define VMCS_HOST_IA32_SYSENTER_EIP         0x00006c12u
#define VMCS_HOST_RSP                       0x00006c14u
#define VMCS_HOST_RIP                       0x00006c16u

/* VM-exit controls (25.7.1) */
#define VM_EXIT_SAVE_DEBUG_CONTROLS         BIT(2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE        BIT(9)
#define VM_EXIT_ACK_INTR_ON_EXIT            BIT(15)
#define VM_EXIT_SAVE_IA32_PAT               BIT(18)
#define VM_EXIT_LOAD_IA32_PAT               BIT(19)
#define VM_EXIT_SAVE_IA32_EFER              BIT(20)
#define VM_EXIT_LOAD_IA32_EFER              BIT(21)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER   BIT(22)

/* VM-entry controls (25.8.1) */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS        BIT(2)
#define VM_ENTRY_IA32E_MODE_GUEST           BIT(9)
#define VM_ENTRY_LOAD_IA32_PAT              BIT(14)
#define VM_ENTRY_LOAD_IA32_EFER             BIT(15)

/* Primary processor-based controls used beyond vmx_defs.h (table 25-6) */
#define CPU_BASED_INTR_WINDOW_EXITING       BIT(2)
#define CPU_BASED_USE_TSC_OFFSETTING        BIT(3)
#define CPU_BASED_HLT_EXITING               BIT(7)
#define CPU_BASED_INVLPG_EXITING            BIT(9)
#define CPU_BASED_MWAIT_EXITING             BIT(10)
#define CPU_BASED_RDPMC_EXITING             BIT(11)
#define CPU_BASED_RDTSC_EXITING             BIT(12)
#define CPU_BASED_CR3_LOAD_EXITING          BIT(15)
#define CPU_BASED_CR3_STORE_EXITING         BIT(16)
#define CPU_BASED_CR8_LOAD_EXITING          BIT(19)
#define CPU_BASED_CR8_STORE_EXITING         BIT(20)
#define CPU_BASED_USE_TPR_SHADOW            BIT(21)
#define CPU_BASED_NMI_WINDOW_EXITING        BIT(22)
#define CPU_BASED_MOV_DR_EXITING            BIT(23)
#define CPU_BASED_UNCOND_IO_EXITING         BIT(24)
#define CPU_BASED_MONITOR_EXITING           BIT(29)
#define CPU_BASED_PAUSE_EXITING             BIT(30)

/* Basic exit reasons (appendix C) */
#define VMX_EXIT_EXCEPTION_NMI              0u
#define VMX_EXIT_EXTERNAL_INTERRUPT         1u
#define VMX_EXIT_TRIPLE_FAULT               2u
#define VMX_EXIT_INIT_SIGNAL                3u
#define VMX_EXIT_SIPI                       4u
#define VMX_EXIT_IO_SMI                     5u
#define VMX_EXIT_OTHER_SMI                  6u
#define VMX_EXIT_INTERRUPT_WINDOW           7u
#define VMX_EXIT_NMI_WINDOW                 8u
#define VMX_EXIT_TASK_SWITCH                9u
#define VMX_EXIT_CPUID                      10u
#define VMX_EXIT_GETSEC                     11u
#define VMX_EXIT_HLT                        12u
#define VMX_EXIT_INVD                       13u
#define VMX_EXIT_INVLPG                     14u
#define VMX_EXIT_RDPMC                      15u
#define VMX_EXIT_RDTSC                      16u
#define VMX_EXIT_RSM                        17u
#define VMX_EXIT_VMCALL                     18u
#define VMX_EXIT_VMCLEAR                    19u
#define VMX_EXIT_VMLAUNCH                   20u
#define VMX_EXIT_VMPTRLD                    21u
#define VMX_EXIT_VMPTRST                    22u
#define VMX_EXIT_VMREAD                     23u
#define VMX_EXIT_VMRESUME                   24u
#define VMX_EXIT_VMWRITE                    25u
#define VMX_EXIT_VMXOFF                     26u
#define VMX_EXIT_VMXON                      27u
#define VMX_EXIT_CR_ACCESS                  28u
#define VMX_EXIT_DR_ACCESS                  29u
#define VMX_EXIT_IO_INSTRUCTION             30u
#define VMX_EXIT_RDMSR                      31u
#define VMX_EXIT_WRMSR                      32u
#define VMX_EXIT_INVALID_GUEST_STATE        33u
#define VMX_EXIT_MSR_LOADING                34u
#define VMX_EXIT_MWAIT                      36u
#define VMX_EXIT_MONITOR_TRAP_FLAG          37u
#define VMX_EXIT_MONITOR                    39u
#define VMX_EXIT_PAUSE                      40u
#define VMX_EXIT_MACHINE_CHECK              41u
#define VMX_EXIT_TPR_BELOW_THRESHOLD        43u
#define VMX_EXIT_APIC_ACCESS                44u
#define VMX_EXIT_VIRTUALIZED_EOI            45u
#define VMX_EXIT_GDTR_IDTR_ACCESS           46u
#define VMX_EXIT_LDTR_TR_ACCESS             47u
#define VMX_EXIT_EPT_VIOLATION              48u
#define VMX_EXIT_EPT_MISCONFIG              49u
#define VMX_EXIT_INVEPT                     50u
#define VMX_EXIT_RDTSCP                     51u
#define VMX_EXIT_PREEMPTION_TIMER           52u
#define VMX_EXIT_INVVPID                    53u
#define VMX_EXIT_WBINVD                     54u
#define VMX_EXIT_XSETBV                     55u
#define VMX_EXIT_APIC_WRITE                 56u
#define VMX_EXIT_RDRAND                     57u
#define VMX_EXIT_INVPCID                    58u
#define VMX_EXIT_VMFUNC                     59u
#define VMX_EXIT_ENCLS                      60u
#define VMX_EXIT_RDSEED                     61u
#define VMX_EXIT_PML_FULL                   62u
#define VMX_EXIT_XSAVES                     63u
#define VMX_EXIT_XRSTORS                    64u
#define VMX_EXIT_REASON_MAX                 65u

#define VMX_EXIT_REASON_BASIC(r)            ((r) & 0xffffu)
#define VMX_EXIT_REASON_ENTRY_FAILURE       BIT(31)

/* Interruption information for VM entry and exit (25.8.3, 28.2.2) */
#define INTR_INFO_VECTOR_MASK               0xffu
#define INTR_TYPE_EXT_INTR                  (0u << 8)
#define INTR_TYPE_NMI                       (2u << 8)
#define INTR_TYPE_HW_EXCEPTION              (3u << 8)
#define INTR_TYPE_SW_INTR                   (4u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION         (5u << 8)
#define INTR_TYPE_SW_EXCEPTION              (6u << 8)
#define INTR_INFO_DELIVER_CODE              BIT(11)
#define INTR_INFO_VALID                     BIT(31)

/* Guest interruptibility state (25.4.2, table 25-3) */
#define GUEST_INTR_STI_BLOCKING             BIT(0)
#define GUEST_INTR_MOV_SS_BLOCKING          BIT(1)
#define GUEST_INTR_SMI_BLOCKING             BIT(2)
#define GUEST_INTR_NMI_BLOCKING             BIT(3)

/* Guest activity states (25.4.2) */
#define GUEST_ACTIVITY_ACTIVE               0u
#define GUEST_ACTIVITY_HLT                  1u

/* Exit qualification for I/O instructions (table 28-5) */
#define IO_QUAL_SIZE(q)                     (((q) & 7u) + 1u)
#define IO_QUAL_IN                          BIT(3)
#define IO_QUAL_STRING                      BIT(4)
#define IO_QUAL_REP                         BIT(5)
#define IO_QUAL_PORT(q)                     (((q) >> 16) & 0xffffu)

/* Exit qualification for EPT violations (table 28-7) */
#define EPT_QUAL_READ                       BIT(0)
#define EPT_QUAL_WRITE                      BIT(1)
#define EPT_QUAL_FETCH                      BIT(2)
#define EPT_QUAL_GLA_VALID                  BIT(7)
#define EPT_QUAL_GLA_XLATED                 BIT(8) /* with GLA_VALID: an access to the translation, not to a paging entry */

/* VM-instruction error numbers (31.4) */
#define VMXERR_VMLAUNCH_NONCLEAR_VMCS       4u
#define VMXERR_VMRESUME_NONLAUNCHED_VMCS    5u
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD  7u
#define VMXERR_ENTRY_INVALID_HOST_STATE     8u

#endif
