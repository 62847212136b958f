/* SPDX-License-Identifier: MIT */
/* Lockup watchdog (see watchdog.h). */
#include "arch/watchdog.h"
#include "kernel/fmt.h"
#include "kernel/log.h"
#include "arch/pcpu.h"
#include "arch/apic.h"
#include "arch/trap.h"
#include "drivers/tsc.h"
#include "arch/x86.h"

#define NO_WAKE (~0ull)

static uint64_t period_ticks(void)
{
	return (uint64_t)WATCHDOG_PERIOD_MS * tsc_khz;
}

uint64_t watchdog_next(void)
{
	return this_cpu()->wd_next;
}

void watchdog_touch(void)
{
	cpu_touch();
}

/* The CPU me watches: the previous online CPU in index order (cyclic), or NULL alone. */
static struct pcpu *watched_by(const struct pcpu *me)
{
	for (uint32_t k = 1; k < nr_pcpus; k++) {
		struct pcpu *c = pcpus[(me->id + nr_pcpus - k) % nr_pcpus];

		if (c && c->state == PCPU_ONLINE && c->rq)
			return c;
	}
	return NULL;
}

/* How long c has been idle past the timer it armed, in ms; 0 if it is not late. */
static uint64_t idle_overdue_ms(const struct pcpu *c, uint64_t now)
{
	uint64_t wake = c->idle_wake;

	if (!c->idle || wake == NO_WAKE || now < wake + period_ticks())
		return 0;
	return (now - wake) / tsc_khz;
}

static void report_probe(struct pcpu *c)
{
	struct watchdog_probe *p = &c->wd_found;
	char bt[8 * 20] = "";
	size_t n = 0;

	if (!p->answered)
		return;
	p->answered = false;
	if (p->in_guest) {
		pr_err("watchdog: cpu%u is running vm %s vcpu%u at guest RIP 0x%lx", c->id, p->vm,
		       p->vcpu, (unsigned long)p->rip);
		return;
	}
	for (unsigned int i = 0; i < WATCHDOG_BT_DEPTH && p->bt[i] && n < sizeof(bt); i++)
		n += (size_t)fmt_snprintf(bt + n, sizeof(bt) - n, " 0x%lx", (unsigned long)p->bt[i]);
	pr_err("watchdog: cpu%u is in the hypervisor at RIP 0x%lx, task priority %lu; called from%s "
	       "(resolve with addr2line -f -e build/tern.elf)", c->id, (unsigned long)p->rip,
	       (unsigned long)p->cr8, n ? bt : " (no frames)");
}

void watchdog_check(void)
{
	struct pcpu *me = this_cpu(), *c;
	uint64_t now = rdtsc(), late;

	if (me->wd_reported && pcpus[me->wd_watched]->wd_found.answered)
		report_probe(pcpus[me->wd_watched]); /* as soon as the NMI has looked */
	if (now < me->wd_next)
		return;
	me->wd_next = now + period_ticks();
	c = watched_by(me);
	if (!c)
		return;
	if (c->id != me->wd_watched) { /* a new neighbour (a CPU came or went): start afresh */
		me->wd_watched = c->id;
		me->wd_seen = c->heartbeat;
		me->wd_stalls = 0;
		me->wd_reported = false;
		me->wd_idle_stall = false;
		return;
	}
	late = idle_overdue_ms(c, now);
	/* An NMI probe wakes a CPU from HLT too: after an idle stall only an interrupt counts. */
	if (me->wd_reported && me->wd_idle_stall ? c->nr_irqs != me->wd_seen_irqs :
	    c->heartbeat != me->wd_seen || (c->idle && !late)) {
		if (me->wd_reported)
			pr_warn("watchdog: cpu%u is making progress again", c->id);
		me->wd_seen = c->heartbeat;
		me->wd_stalls = 0;
		me->wd_reported = false;
		me->wd_idle_stall = false;
		return;
	}
	if (me->wd_reported)
		return;
	if (++me->wd_stalls < 2)
		return;
	me->wd_reported = true;
	me->wd_idle_stall = late != 0;
	me->wd_seen_irqs = c->nr_irqs;
	if (late)
		pr_err("watchdog: cpu%u is idle and has not taken the timer interrupt due %lu ms ago; sending it an NMI to see where it is",
		       c->id, (unsigned long)late);
	else
		pr_err("watchdog: cpu%u made no progress for %u ms; sending it an NMI to see where it is",
		       c->id, 2 * WATCHDOG_PERIOD_MS);
	c->wd_found.answered = false;
	c->wd_probe = true;
	apic_send_ipi(c->apic_id, APIC_ICR_NMI);
}

bool watchdog_nmi_host(uint64_t rip, uint64_t rbp)
{
	struct pcpu *c = this_cpu_or_null();
	struct watchdog_probe *p;
	uint64_t cr8;

	if (!c || !c->wd_probe)
		return false;
	c->wd_probe = false;
	p = &c->wd_found;
	cr8 = read_cr8();
	p->in_guest = false;
	p->rip = rip;
	p->cr8 = cr8;
	for (unsigned int i = 0; i < WATCHDOG_BT_DEPTH; i++)
		p->bt[i] = 0;
	backtrace_collect(rbp, p->bt, WATCHDOG_BT_DEPTH);
	__atomic_store_n(&p->answered, true, __ATOMIC_RELEASE);
	return true;
}

bool watchdog_nmi_guest(const char *vm, uint32_t vcpu, uint64_t guest_rip)
{
	struct pcpu *c = this_cpu();

	if (!c->wd_probe)
		return false;
	c->wd_probe = false;
	c->wd_found.in_guest = true;
	c->wd_found.vm = vm;
	c->wd_found.vcpu = vcpu;
	c->wd_found.rip = guest_rip;
	__atomic_store_n(&c->wd_found.answered, true, __ATOMIC_RELEASE);
	return true;
}
