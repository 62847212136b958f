/* SPDX-License-Identifier: MIT */
/*
 * Lockup watchdog. Every CPU bumps a heartbeat at each VM exit and
 * scheduling pass (and long hypervisor work calls watchdog_touch()). Each
 * online CPU is watched by exactly one other, the next online CPU in index
 * order, which keeps its own record of what it saw: with N CPUs there are N
 * checks per period and no two checkers share state. A CPU makes no progress
 * when its heartbeat stands still for two checks (about WATCHDOG_PERIOD_MS
 * apart) while it is not idle, or when it sits idle past the timer interrupt
 * it armed to wake itself (interrupts blocked, e.g. by a raised task
 * priority). Such a CPU is reported once, sent an NMI whose handler records
 * where it is, and that place is logged by the checker; when it moves again
 * that is logged too. Diagnosis, not recovery: the system keeps running.
 */
#ifndef TERN_ARCH_WATCHDOG_H
#define TERN_ARCH_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#define WATCHDOG_PERIOD_MS 1000u
#define WATCHDOG_BT_DEPTH  8u

/* What the NMI handler found on a probed CPU (kept in its struct pcpu). */
struct watchdog_probe {
	volatile bool answered;
	bool in_guest;
	uint64_t rip;    /* host RIP, or the guest's RIP */
	uint64_t cr8;    /* the host's task priority at the NMI */
	const char *vm;  /* in_guest: which VM and vCPU */
	uint32_t vcpu;
	uint64_t bt[WATCHDOG_BT_DEPTH];
};

/* Called from scheduling points on every CPU; cheap when not due. */
void watchdog_check(void);
/* TSC at which this CPU should look again (for idle wake-ups). */
uint64_t watchdog_next(void);
/* Long work in the hypervisor (zeroing memory, big copies): this CPU is alive. */
void watchdog_touch(void);
/* NMI on a CPU in the hypervisor: true if it was a watchdog probe (recorded). */
bool watchdog_nmi_host(uint64_t rip, uint64_t rbp);
/* NMI exit while this CPU ran a guest: true if it was a probe (recorded). */
bool watchdog_nmi_guest(const char *vm, uint32_t vcpu, uint64_t guest_rip);

#endif
