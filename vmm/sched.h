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
/* After a handled exit: returns to resume v, or switches and never returns. */
void sched_after_exit(struct vcpu *v, enum exit_action act);
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
