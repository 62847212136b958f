/* SPDX-License-Identifier: MIT */
/* Lockup watchdog (see watchdog.h). */
#include "kernel/watchdog.h"
#include "kernel/log.h"
#include "kernel/pcpu.h"
#include "arch/apic.h"
#include "arch/trap.h"
#include "drivers/tsc.h"
#include "arch/x86.h"

static uint64_t seen[MAX_CPUS];
static uint8_t stalls[MAX_CPUS];
static uint64_t next_check[MAX_CPUS];

uint64_t watchdog_next(void)
{
	return next_check[this_cpu()->id];
}

void watchdog_check(void)
{
	struct pcpu *me = this_cpu();
	uint64_t now = rdtsc();

	if (now < next_check[me->id])
		return;
	next_check[me->id] = now + (uint64_t)WATCHDOG_PERIOD_MS * tsc_khz;
	/* One checker is enough: the lowest-numbered CPU that is making progress. */
	for (uint32_t i = 0; i < nr_pcpus; i++) {
		struct pcpu *c = pcpus[i];

		if (c == me || c->state != PCPU_ONLINE || !c->rq)
			continue;
		if (c->idle || c->heartbeat != seen[i]) {
			seen[i] = c->heartbeat;
			stalls[i] = 0;
			continue;
		}
		if (++stalls[i] == 2) {
			pr_err("watchdog: cpu%u made no progress for %u ms; sending it an NMI to see where it is",
			       i, 2 * WATCHDOG_PERIOD_MS);
			c->wd_probe = true;
			apic_send_ipi(c->apic_id, APIC_ICR_NMI);
		}
	}
}

bool watchdog_nmi_host(uint64_t rip, uint64_t rbp)
{
	struct pcpu *c = this_cpu_or_null();

	if (!c || !c->wd_probe)
		return false;
	c->wd_probe = false;
	pr_err("watchdog: cpu%u is in the hypervisor at RIP 0x%lx", c->id, (unsigned long)rip);
	backtrace_print(rbp);
	return true;
}
