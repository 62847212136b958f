/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's emulated MSR state and its rules, pure (no VMCS, no hardware):
 * IA32_MISC_ENABLE, the MTRRs (SDM vol. 3A 12.11), IA32_TSC_ADJUST with the
 * TSC offset (SDM vol. 3B 17.17.3) and the guest's IA32_SPEC_CTRL. vmm/msr.c
 * puts them behind RDMSR/WRMSR; vmm/vcpu_state.c saves and restores them.
 */
#ifndef TERN_VMM_VMSR_H
#define TERN_VMM_VMSR_H

#include <stdbool.h>
#include <stdint.h>

#define VMSR_MTRR_VAR   8u  /* variable-range pairs offered (IA32_MTRRCAP.VCNT) */
#define VMSR_MTRR_FIXED 11u /* FIX64K_00000, FIX16K_80000/A0000, FIX4K_C0000-F8000 */

/* IA32_MTRRCAP: VCNT 8, fixed ranges (bit 8), WC (bit 10); no SMRR (bit 11). */
#define VMSR_MTRRCAP    (VMSR_MTRR_VAR | (1u << 8) | (1u << 10))
/* IA32_MTRR_DEF_TYPE after vmsr_reset: MTRRs enabled (E, bit 11), default WB, fixed off. */
#define VMSR_DEF_TYPE_INIT 0x806ull
#define VMSR_MEMTYPE_WB 6u

/* One entry of a VMX MSR load/store area (SDM vol. 3C 25.7.2, 25.8.2): 16-byte aligned. */
struct vmsr_entry {
	uint32_t index, reserved;
	uint64_t value;
} __attribute__((aligned(16)));

struct vmsr_state {
	uint64_t misc_enable;
	uint64_t mtrr_def_type;
	uint64_t mtrr_var[2 * VMSR_MTRR_VAR]; /* PHYSBASE0, PHYSMASK0, ... PHYSMASK7 */
	uint64_t mtrr_fixed[VMSR_MTRR_FIXED];
	uint64_t tsc_offset;  /* guest TSC = host TSC + tsc_offset (mod 2^64) */
	uint64_t tsc_adjust;  /* IA32_TSC_ADJUST */
	uint64_t spec_ctrl;   /* IA32_SPEC_CTRL, where the host has it */
	/* [0] the guest's IA32_SPEC_CTRL loaded at entry, [1] the host's loaded at exit (vmm/msr.c). */
	struct vmsr_entry spec_list[2];
};

/* RESET values (SDM vol. 3A table 10-1, except the MTRRs: enabled, default WB, as firmware leaves them). */
void vmsr_reset(struct vmsr_state *s);

/*
 * IA32_MISC_ENABLE (SDM vol. 4 table 2-2) as Tern offers it. Reads: fast
 * strings (bit 0), BTS and PEBS unavailable (bits 11, 12: no debug store is
 * offered); bit 7 (performance monitoring) clear. Writable, kept, without
 * effect on the hardware: bits 0, 3 (TM1), 16 (EIST), 23 (xTPR disable).
 * Read-only bits 7, 11, 12 ignore what is written. Bits 18 (MONITOR FSM),
 * 22 (limit CPUID maxval) and 34 (XD disable) may only be written 0:
 * MONITOR, a CPUID limit and disabling NX are not offered. Anything else
 * is reserved. false: #GP.
 */
#define VMSR_MISC_ENABLE_INIT 0x1801ull /* fast strings, BTS and PEBS unavailable */
bool vmsr_misc_enable_write(struct vmsr_state *s, uint64_t val);

/* Is msr one of the MTRRs (MTRRcap, DEF_TYPE, PHYSBASE/MASK0-7, the fixed ones)? */
bool vmsr_is_mtrr(uint32_t msr);
/* Is val acceptable for that MTRR on a CPU of maxphyaddr physical address bits (12.11.2.2-3)? */
bool vmsr_mtrr_valid(uint32_t msr, uint64_t val, unsigned int maxphyaddr);
/* 0 and *val; -EPERM not an MTRR. */
int vmsr_mtrr_read(const struct vmsr_state *s, uint32_t msr, uint64_t *val);
/* 0; -EPERM not an MTRR; -EINVAL bad value or read-only MTRRcap (#GP). */
int vmsr_mtrr_write(struct vmsr_state *s, uint32_t msr, uint64_t val, unsigned int maxphyaddr);
/* The state's MTRRs in the MSR order above, e.g. for save/restore: count 1 + 16 + 11. */
#define VMSR_MTRR_SAVED (1u + 2u * VMSR_MTRR_VAR + VMSR_MTRR_FIXED)
uint32_t vmsr_mtrr_saved_msr(unsigned int i);

/* The guest TSC at host TSC host_now. */
uint64_t vmsr_guest_tsc(const struct vmsr_state *s, uint64_t host_now);
/* WRMSR IA32_TIME_STAMP_COUNTER: the guest TSC becomes val; TSC_ADJUST moves by the same step. */
void vmsr_tsc_write(struct vmsr_state *s, uint64_t host_now, uint64_t val);
/* WRMSR IA32_TSC_ADJUST: the TSC moves by the same step as TSC_ADJUST. */
void vmsr_tsc_adjust_write(struct vmsr_state *s, uint64_t val);
/*
 * A guest TSC deadline as a host TSC: now when it has passed, else as far
 * ahead as it is in guest terms (saturating below ~0ull, which means none).
 */
uint64_t vmsr_deadline_to_host(const struct vmsr_state *s, uint64_t host_now, uint64_t guest_deadline);

/* MSR_PLATFORM_INFO (SDM vol. 4 table 2-20 et seq.): the maximum non-turbo ratio, bits 15:8, from 100 MHz. */
uint64_t vmsr_platform_info(uint32_t tsc_khz);

/* IA32_SPEC_CTRL bits the host's CPUID.7.0:EDX offers: IBRS (26), STIBP (27), SSBD (31). */
uint64_t vmsr_spec_ctrl_mask(uint32_t cpuid7_edx);
/*
 * IA32_ARCH_CAPABILITIES bits passed from the host (SDM vol. 4 table 2-2):
 * facts only (RDCL_NO, IBRS_ALL, RSBA, SKIP_L1DFL_VMENTRY, SSB_NO, MDS_NO,
 * IF_PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, FB_CLEAR,
 * RRSBA, BHI_NO, PBRSB_NO, GDS_NO, RFDS_NO, RFDS_CLEAR: bits 0-6, 8, 13-15,
 * 17, 19, 20, 24, 27-29), none that names a control MSR Tern does not offer
 * (TSX_CTRL, MCU_CONTROL, FB_CLEAR_CTRL, GDS_CTRL...).
 */
#define VMSR_ARCH_CAP_PASSED 0x391ae17full

#endif
