/* SPDX-License-Identifier: MIT */
/*
 * vCPU scheduling: one run queue per physical CPU, round-robin, time slices
 * enforced with the VMX preemption timer. A running vCPU belongs to its CPU:
 * the exit path takes only that CPU's run-queue lock.
 */
#ifndef TERN_VMM_SCHED_H
#define TERN_VMM_SCHED_H

#include <stdbool.h>
#include "vmm/exit.h"
#include "vmm/vcpu.h"
#include "vmm/stamps.h"
#include "arch/pcpu.h"
#include "drivers/tsc.h"
#include <stdint.h>

/* Run queue of the calling CPU (boot). 0 or -ENOMEM. */
int sched_init_cpu(void);
/* Queue v on a CPU (pin >= 0: exactly there; -1: the least loaded online one). CPU id or -EINVAL. */
int sched_add(struct vcpu *v, int cpu);
/* Wake a blocked vCPU (it has an interrupt); safe from any CPU. */
void sched_wake(struct vcpu *v);
/* INIT and SIPI from another vCPU of the same VM. */
void sched_vcpu_init(struct vcpu *v);
void sched_vcpu_sipi(struct vcpu *v, uint8_t vector);
/* Ask v's CPU to move it to CPU to (ignored for pinned vCPUs); safe from any CPU. */
void sched_move(struct vcpu *v, uint32_t to);
/* Move v to CPU to (any CPU number out of range: stay) and set its pinning; safe from any CPU. */
void sched_place(struct vcpu *v, uint32_t to, bool pin);
/* Make v's CPU look at its run queue (v's VM changed state). */
void sched_poke(struct vcpu *v);
/* The full look after an exit: returns to resume v, or switches and never returns. */
void sched_after_exit(struct vcpu *v, enum exit_action act);

/*
 * The preemption timer (SDM 25.5.1) for the rest of the way to v's deadline.
 * It counts only in VMX non-root operation, so its value saved at an exit
 * would leave out the time spent in Tern, and every timer would fire late
 * by that much: it is set anew from the deadline at each entry instead.
 */
static inline void sched_set_preemption_timer(const struct vcpu *v, uint64_t now)
{
	uint64_t ticks = v->deadline > now ? (v->deadline - now) >> vmx_config.preempt_shift : 0;

	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffull ? 0xffffffffull : ticks);
}

/*
 * After each handled exit. Most change nothing the scheduler looks at: no
 * event became pending (vcpu_note_event, which a VM stop sets too), no
 * deadline passed (v->deadline, the VM's device timers), no request came
 * (this CPU's rq_work, which moves and wake-ups set): v is entered again at
 * once, with the timer set for the rest of the way. Anything else takes
 * sched_after_exit. Returns to resume v.
 */
static inline void sched_resume(struct vcpu *v, enum exit_action act)
{
	uint64_t now = rdtsc();

	if (__builtin_expect(act == EXIT_RESUME && !v->events && now < v->deadline &&
			     !this_cpu()->rq_work && now < v->plat->next_tsc, 1))
		sched_set_preemption_timer(v, now);
	else
		sched_after_exit(v, act);
	stamp_resume(v);
}
/* Is v's slice over? */
bool sched_need_switch(const struct vcpu *v);
/* This CPU's scheduling loop; never returns. */
__attribute__((noreturn)) void sched_run(void);
/* Called when the last VM is gone (bootstrap CPU's idle loop). */
void sched_set_idle_hook(void (*hook)(void));
/* Wake a CPU's idle loop. */
void sched_kick(uint32_t cpu);
uint32_t sched_nr_queued(uint32_t cpu);
/* Log switch and move path lengths (TSC ticks). */
void sched_report(void);

#endif
