/* SPDX-License-Identifier: MIT */
/*
 * Virtual local APIC, one per vCPU (SDM vol. 3A ch. 11): registers kept in a
 * page with the xAPIC layout (it doubles as the VMX virtual-APIC page), the
 * timer in one-shot, periodic and TSC-deadline modes counting at the TSC
 * rate / divider, IRR/ISR/TPR, EOI, and IPIs between the vCPUs of one VM
 * (fixed, lowest priority, NMI, INIT, SIPI; physical or logical destination).
 * Reached through x2APIC MSRs or the xAPIC page.
 */
#ifndef TERN_VMM_VLAPIC_H
#define TERN_VMM_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vm;

#define VLAPIC_NO_EVENT  (~0ull)
/*
 * The shortest period of a periodic timer: a shorter one (initial count x
 * divider, in TSC ticks) is lengthened to this. Each tick costs an exit and
 * an injection, or a wake-up from HLT; 50 us caps that at 20,000 a second
 * (a few percent of a CPU on hardware) and leaves fast but sane ticks
 * exact. KVM clamps periodic mode likewise (min_timer_period_us, 200 us by
 * default). Under Bochs models whose CPUID 0x15 overstates the TSC rate 44
 * times (corei3_cnl), Tern's 50 us is a 2.2 ms floor. One-shot and
 * TSC-deadline timers are not clamped: each expiry takes a new write.
 */
#define VLAPIC_MIN_PERIOD_US 50u
#define VLAPIC_NONE      (-1)
#define VLAPIC_NMI       (-2)
#define VLAPIC_EXTINT    (-3) /* the PIC's INTR, through LINT0 (vCPU 0) */

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
	volatile bool nmi_pending;     /* an NMI waits for injection (collapses like hardware's) */
	volatile bool extint;          /* vCPU 0: the PIC's INTR is up (vmm/platform.c) */
	uint8_t warned_modes;          /* IPI delivery modes already logged as dropped */
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
/* An I/O APIC message to the VM's local APICs (xAPIC destination format). */
void vlapic_deliver_msg(struct vm *vm, uint32_t dest, bool logical, uint32_t mode, uint8_t vector,
			bool level);
/* Does the PIC's INTR reach v (vCPU 0, LINT0 as ExtINT or the APIC disabled)? */
bool vlapic_extint(const struct vcpu *v);
/* Post an NMI to v (any CPU); wakes and kicks it. Dropped without virtual NMIs. */
void vlapic_post_nmi(struct vcpu *v);
/*
 * Fire the timer if it is due at now; true if it fired. Sets the IRR bit
 * without waking v: the caller runs v, or is the scheduler deciding to.
 */
bool vlapic_timer_check(struct vcpu *v, uint64_t now);
/* TSC of v's next timer interrupt, or VLAPIC_NO_EVENT (none armed, or masked). */
uint64_t vlapic_next_event(const struct vcpu *v);
/* Anything to wake v for: VLAPIC_NMI, VLAPIC_EXTINT, else vlapic_pending_intr(v). */
int vlapic_pending(const struct vcpu *v);
/* Highest pending vector above the processor priority, or VLAPIC_NONE. */
int vlapic_pending_intr(const struct vcpu *v);
/* The same in two steps, for callers that need the highest IRR vector too (-1: none). */
int vlapic_highest_irr(const struct vcpu *v);
int vlapic_deliverable(const struct vcpu *v, int irr);
/* The CPU accepted vector: IRR -> ISR. */
void vlapic_ack(struct vcpu *v, int vector);
/* The pending NMI, if any, is being injected: true if there was one. */
bool vlapic_take_nmi(struct vcpu *v);
/* The TPR threshold for the TPR shadow (0..15, never above TPR[7:4]), irr = vlapic_highest_irr(). */
uint32_t vlapic_tpr_threshold(const struct vcpu *v, int irr);

#endif
