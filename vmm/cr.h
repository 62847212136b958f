/* SPDX-License-Identifier: MIT */
/* Guest control registers: VMX fixed bits owned by the host, shadows for the guest. */
#ifndef TERN_VMM_CR_H
#define TERN_VMM_CR_H

#include <stdint.h>
#include "arch/x86.h"

uint64_t guest_cr0_host_mask(void);
uint64_t guest_cr4_host_mask(void);
/* The value the CPU really runs with for a guest-chosen one. */
uint64_t guest_cr0_hw(uint64_t guest_value);
uint64_t guest_cr4_hw(uint64_t guest_value);
/* CR0/CR4 as the guest reads them now (the current VMCS). */
uint64_t guest_cr0_read(void);
uint64_t guest_cr4_read(void);
/* CPUID leaf 7 as the guest sees it: CR4 features Tern refuses hidden, OSPKE the guest's. */
void cr_cpuid_leaf7(uint32_t subleaf, struct cpuid_regs *r);
struct vcpu;
/*
 * After CR0/CR3/CR4/EFER are set in the current VMCS other than by the
 * guest (vCPU state SET): under PAE paging, load the PDPTE fields from
 * the PDPT at CR3, as VM entry with EPT takes them from there.
 */
void cr_sync_pdptes(struct vcpu *v);

#endif
