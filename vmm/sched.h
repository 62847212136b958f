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

/* Run queue of the calling CPU (boot). 0 or -ENOMEM. */
int sched_init_cpu(void);
/* Queue v on a CPU (-1: the least loaded online one). Returns the CPU id or -EINVAL. */
int sched_add(struct vcpu *v, int cpu);
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

#endif
