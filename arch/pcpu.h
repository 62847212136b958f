/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU data: one page-aligned struct pcpu per physical CPU, reached
 * through GS base (its first field points to itself). It lives in arch/
 * because most of it is x86's (GDT, TSS, VMX capabilities and regions, the
 * watchdog's NMI probe); the base sees only the id and heartbeat, at the
 * offsets kernel/cpu.h fixes.
 */
#ifndef TERN_ARCH_PCPU_H
#define TERN_ARCH_PCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/cpu.h"
#include "arch/desc.h"
#include "arch/vmx_cap.h"
#include "arch/watchdog.h"

#define MAX_CPUS        256
#define KSTACK_SIZE     (16u * 1024u)
#define IST_STACK_SIZE  (8u * 1024u)

enum pcpu_state {
	PCPU_ABSENT = 0,
	PCPU_STARTING,
	PCPU_ONLINE,
	PCPU_FAILED,  /* did not answer INIT-SIPI-SIPI */
	PCPU_STOPPED, /* parked after a panic elsewhere */
};

struct vcpu;
struct runqueue;

struct pcpu {
	struct pcpu *self;       /* %gs:0 */
	uint32_t id;             /* dense index, 0 = bootstrap CPU */
	uint32_t apic_id;
	volatile uint64_t heartbeat; /* bumped at every exit and scheduling pass (cpu_touch) */
	uint64_t stack_lo, stack_hi; /* the kernel stack, for backtraces */
	volatile int state;      /* enum pcpu_state */
	bool is_bsp;
	struct gdt gdt;
	struct tss tss;
	struct vmx_cap vmx;      /* what this CPU offers; filled by vmx_probe */
	uint64_t vmxon_region;   /* physical; 0 until VMXON */
	uint64_t loaded_vmcs;    /* physical address of the current VMCS, 0: none */
	struct vcpu *vcpu;       /* the vCPU this CPU runs (read by the exit stub) */
	struct runqueue *rq;     /* vmm/sched.c */
	volatile bool rq_work;   /* a request from another CPU: scan the run queue (vmm/sched.c) */
	uint64_t exit_tsc;       /* TSC at the last VM exit, for switch-cost accounting */
	struct vcpu *last_vcpu;  /* the vCPU that ran last here */
	uint64_t next_periodic;  /* TSC of the next scheduler housekeeping */
	volatile bool idle;      /* halted in the scheduler's idle loop */
	volatile uint64_t nr_irqs;   /* external interrupts taken (not NMIs) */
	volatile uint64_t idle_wake; /* while idle: TSC its timer should wake it, ~0: none */
	volatile bool wd_probe;  /* the watchdog's NMI: record where it is, do not stop */
	struct watchdog_probe wd_found; /* what that NMI found */
	/* The watchdog's view of the one CPU this CPU watches (arch/watchdog.c). */
	uint32_t wd_watched;
	uint64_t wd_seen, wd_seen_irqs, wd_next;
	uint8_t wd_stalls;
	bool wd_reported;
	bool wd_idle_stall; /* reported idle without its timer: recovered when an interrupt arrives */
	struct vcpu *xregs_owner; /* whose FPU/debug registers are live here (vmm/xregs.h) */
	uint64_t nr_xregs_switches, xregs_ticks;
};

extern struct pcpu *pcpus[MAX_CPUS];
extern uint32_t nr_pcpus;    /* CPUs found (online or not) */

static inline struct pcpu *this_cpu(void)
{
	struct pcpu *c;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* NULL before GS base is set up on this CPU (earliest boot). */
struct pcpu *this_cpu_or_null(void);

/* Point GS base at c and load its GDT/TSS; the IDT is shared. */
void pcpu_activate(struct pcpu *c);

uint32_t pcpu_online_count(void);

#endif
