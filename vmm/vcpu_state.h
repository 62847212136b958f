/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's whole architectural state as one structure (struct
 * tern_vcpu_regs, vmm/abi.h): captured from its VMCS, local APIC, FPU area
 * and swapped MSRs when it leaves its CPU parked (a PAUSED VM), and written
 * back into them before it next enters if the management guest changed it.
 * This is the unit save/restore and migration move.
 */
#ifndef TERN_VMM_VCPU_STATE_H
#define TERN_VMM_VCPU_STATE_H

#include "vmm/abi.h"

struct vcpu;

/* v's VMCS is current on this CPU and its FPU registers are in memory: fill v->arch. */
void vcpu_state_capture(struct vcpu *v);
/* An AP still waiting for its first SIPI: nothing but that. */
void vcpu_state_capture_waiting(struct vcpu *v);
/* Before entry, v's VMCS current (and set up): the VMCS fields of v->arch. */
void vcpu_state_apply(struct vcpu *v);
/* The rest of v->arch (vLAPIC, FPU area, swapped MSRs) at once: v is off every CPU. */
void vcpu_state_apply_soft(struct vcpu *v);
/* Is r acceptable for v (version, size, canonical/reserved bits Tern checks)? 0 or -EINVAL. */
int vcpu_state_check(const struct vcpu *v, const struct tern_vcpu_regs *r);

#endif
