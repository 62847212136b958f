/* SPDX-License-Identifier: MIT */
/* VT-x readiness: what one CPU offers, read from CPUID and the VMX capability MSRs. */
#ifndef TERN_ARCH_VMX_CAP_H
#define TERN_ARCH_VMX_CAP_H

#include <stdbool.h>
#include <stdint.h>

enum vmx_verdict {
	VMX_NOT_PROBED = 0,
	VMX_READY,           /* VMX on, EPT present: guests can run */
	VMX_NO_VMX,          /* CPUID.1:ECX.VMX = 0 */
	VMX_LOCKED_OFF,      /* IA32_FEATURE_CONTROL locked with VMX off */
	VMX_NO_EPT,          /* VMX without EPT: Tern needs EPT */
};

struct vmx_cap {
	int verdict;           /* enum vmx_verdict */
	uint64_t feature_control; /* as found, before Tern touched it */
	bool fc_locked_by_tern;
	uint32_t vmcs_revision;
	uint32_t vmcs_size;
	bool true_ctls;
	bool ept, ept_4level, ept_wb, ept_2m, ept_1g, ept_ad, invept, invept_single;
	bool vpid, invvpid;
	bool unrestricted_guest;
	bool preemption_timer;
	uint8_t preemption_timer_shift; /* timer ticks = TSC >> shift */
	bool apic_reg_virt, virt_intr_delivery, posted_intr;
	bool x2apic_virt;
	bool msr_bitmaps, io_bitmaps, secondary_ctls;
	bool pml, vmcs_shadowing, mtf;
};

/* Fill *cap for the calling CPU; sets and locks IA32_FEATURE_CONTROL if unlocked. */
void vmx_probe(struct vmx_cap *cap);

/*
 * Format a one-line feature list ("EPT(4-level,WB,2M,1G,A/D) unrestricted-guest
 * VPID preemption-timer(TSC>>5) ...") into buf.
 */
void vmx_cap_format(const struct vmx_cap *cap, char *buf, unsigned long size);

/* A plain sentence for a verdict other than VMX_READY. */
const char *vmx_verdict_reason(int verdict);

#endif
