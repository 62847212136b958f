/* SPDX-License-Identifier: MIT */
/* Guest MSR policy: an explicit allow list; everything else raises #GP in the guest. */
#ifndef TERN_VMM_MSR_H
#define TERN_VMM_MSR_H

#include <stdint.h>

/* Build the shared MSR bitmap (boot, once). 0 or -ENOMEM. */
int msr_bitmap_init(void);
uint64_t msr_bitmap_phys(void);

struct vcpu;
struct vmsr_state;

/* v's VMCS current, at its (re)start: emulated MSRs to RESET values, TSC offset 0, no SPEC_CTRL switch. */
void msr_vcpu_reset(struct vcpu *v);
/* v's VMCS current: write v->msr's TSC offset and IA32_SPEC_CTRL switching into it (after a restore). */
void msr_vcpu_sync(struct vcpu *v);
/* The guest's TSC now (host TSC + its offset). */
uint64_t msr_guest_tsc(const struct vcpu *v);
/* v's VMCS current: the guest TSC continues from tsc (the offset is tsc - host TSC now). */
void msr_set_guest_tsc(struct vcpu *v, uint64_t tsc);
/* Would this state be accepted on this host (MTRR types and reserved bits, MISC_ENABLE, SPEC_CTRL)? 0 or -EINVAL. */
int msr_state_check(const struct vmsr_state *s);

#endif
