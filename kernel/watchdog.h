/* SPDX-License-Identifier: MIT */
/*
 * Lockup watchdog: every CPU bumps a heartbeat at each VM exit and
 * scheduling pass; the others check it about once a second and send a CPU
 * that made no progress for two checks an NMI, whose handler logs where it
 * was (host backtrace, or the guest it was running). Diagnosis, not
 * recovery: the system keeps running.
 */
#ifndef TERN_KERNEL_WATCHDOG_H
#define TERN_KERNEL_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#define WATCHDOG_PERIOD_MS 1000u

/* Called from scheduling points on every CPU; cheap when not due. */
void watchdog_check(void);
/* TSC at which this CPU should look again (for idle wake-ups). */
uint64_t watchdog_next(void);
/* NMI on a CPU in the hypervisor: true if it was a watchdog probe (handled). */
bool watchdog_nmi_host(uint64_t rip, uint64_t rbp);

#endif
