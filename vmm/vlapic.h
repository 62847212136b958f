/* SPDX-License-Identifier: MIT */
/*
 * Virtual local APIC, one per vCPU (SDM vol. 3A ch. 11): registers kept in a
 * page with the xAPIC layout (it doubles as the VMX virtual-APIC page), the
 * timer in one-shot, periodic and TSC-deadline modes counting at the TSC
 * rate / divider, IRR/ISR/TPR, EOI, and IPIs between the vCPUs of one VM
 * (fixed, INIT, SIPI). Reached through x2APIC MSRs or the xAPIC page.
 */
#ifndef TERN_VMM_VLAPIC_H
#define TERN_VMM_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

#define VLAPIC_NO_EVENT  (~0ull)
#define VLAPIC_NONE      (-1)

struct vlapic {
	uint32_t *regs;      /* 4 KiB, xAPIC register layout */
	uint64_t regs_phys;
	uint64_t apic_base;  /* IA32_APIC_BASE as the guest sees it */
	uint64_t tsc_deadline;
	uint64_t timer_start;  /* TSC when the count was loaded (one-shot/periodic) */
	uint64_t timer_next;   /* TSC of the next expiry, VLAPIC_NO_EVENT if none */
	uint64_t timer_period; /* TSC ticks per period (periodic) */
	uint64_t nr_timer_fired;
	uint64_t nr_timer_lost;  /* periods that passed unseen (collapsed) */
	uint64_t max_timer_late; /* worst TSC ticks between expiry and notice */
	volatile uint32_t irr_pending; /* set (with the IRR bit) by other CPUs: re-check */
};

int vlapic_init(struct vcpu *v);
void vlapic_free(struct vcpu *v);
bool vlapic_x2apic(const struct vcpu *v);

/* Register access by xAPIC offset; 0 or -EINVAL (reserved/read-only: #GP in x2APIC mode). */
int vlapic_read(struct vcpu *v, uint32_t offset, uint64_t *val);
int vlapic_write(struct vcpu *v, uint32_t offset, uint64_t val);
/* MSR interface: IA32_APIC_BASE, x2APIC range, IA32_TSC_DEADLINE. -EPERM: not ours. */
int vlapic_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int vlapic_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

/* Post a fixed interrupt to v (any CPU); wakes and kicks it. */
void vlapic_post(struct vcpu *v, uint8_t vector);
/* Fire the timer if it is due at now; true if it fired. */
bool vlapic_timer_check(struct vcpu *v, uint64_t now);
/* TSC of v's next timer expiry, or VLAPIC_NO_EVENT. */
uint64_t vlapic_next_event(const struct vcpu *v);
/* Highest pending vector above the processor priority, or VLAPIC_NONE. */
int vlapic_pending(const struct vcpu *v);
/* The CPU accepted vector: IRR -> ISR. */
void vlapic_ack(struct vcpu *v, int vector);

#endif
