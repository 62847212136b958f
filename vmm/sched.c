/* SPDX-License-Identifier: MIT */
/* Round-robin vCPU scheduler with VMX-preemption-timer slices (see sched.h). */
#include "vmm/sched.h"
#include "vmm/vm.h"
#include "arch/apic.h"
#include "arch/desc.h"
#include "arch/trap.h"
#include "arch/vmx.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/pcpu.h"
#include "kernel/spinlock.h"

struct runqueue {
	struct spinlock lock;
	struct vcpu *head;  /* circular list through rq_next */
	struct vcpu *cur;   /* last picked */
	uint32_t nr;
};

static void (*idle_hook)(void);
static uint64_t slice_ticks;

void sched_set_idle_hook(void (*hook)(void))
{
	idle_hook = hook;
}

static void kick_irq(struct trap_frame *tf)
{
	/* Nothing to do: waking from HLT is the point. */
}

int sched_init_cpu(void)
{
	struct pcpu *c = this_cpu();
	uint64_t p = page_alloc(1, PMM_OWNER_PCPU);

	if (!p)
		return -ENOMEM;
	c->rq = phys_to_virt(p);
	c->rq->lock = (struct spinlock)SPINLOCK_INIT("runqueue");
	if (c->is_bsp) {
		irq_register(VEC_IPI_KICK, kick_irq);
		slice_ticks = (uint64_t)boot_opts.timeslice_us * tsc_khz / 1000;
	}
	return 0;
}

uint32_t sched_nr_queued(uint32_t cpu)
{
	return cpu < nr_pcpus && pcpus[cpu]->rq ? pcpus[cpu]->rq->nr : 0;
}

static int least_loaded(void)
{
	int best = -1;

	for (uint32_t i = 0; i < nr_pcpus; i++)
		if (pcpus[i]->state == PCPU_ONLINE && pcpus[i]->rq &&
		    (best < 0 || pcpus[i]->rq->nr < pcpus[best]->rq->nr))
			best = (int)i;
	return best;
}

void sched_kick(uint32_t cpu)
{
	if (cpu < nr_pcpus && pcpus[cpu] != this_cpu_or_null())
		apic_send_ipi(pcpus[cpu]->apic_id, APIC_ICR_FIXED | VEC_IPI_KICK);
}

int sched_add(struct vcpu *v, int cpu)
{
	struct runqueue *rq;

	if (cpu < 0)
		cpu = least_loaded();
	if (cpu < 0 || (uint32_t)cpu >= nr_pcpus || pcpus[cpu]->state != PCPU_ONLINE ||
	    !pcpus[cpu]->rq)
		return -EINVAL;
	rq = pcpus[cpu]->rq;
	spin_lock(&rq->lock);
	if (!rq->head) {
		v->rq_next = v;
		rq->head = v;
	} else {
		v->rq_next = rq->head->rq_next;
		rq->head->rq_next = v;
	}
	rq->nr++;
	spin_unlock(&rq->lock);
	sched_kick((uint32_t)cpu);
	return cpu;
}

static void rq_remove(struct runqueue *rq, struct vcpu *v)
{
	struct vcpu *p = rq->head;

	spin_lock(&rq->lock);
	while (p->rq_next != v)
		p = p->rq_next;
	p->rq_next = v->rq_next;
	if (rq->head == v)
		rq->head = v->rq_next == v ? NULL : v->rq_next;
	if (rq->cur == v)
		rq->cur = rq->head ? p : NULL;
	rq->nr--;
	spin_unlock(&rq->lock);
}

/* The next runnable vCPU after the last one picked, or NULL. */
static struct vcpu *pick(struct runqueue *rq)
{
	struct vcpu *start, *v, *found = NULL;

	spin_lock(&rq->lock);
	start = rq->cur ? rq->cur : rq->head;
	if (start) {
		v = start;
		do {
			v = v->rq_next;
			if (v->state == VCPU_RUNNABLE) {
				found = v;
				break;
			}
		} while (v != start);
		if (found)
			rq->cur = found;
	}
	spin_unlock(&rq->lock);
	return found;
}

bool sched_need_switch(const struct vcpu *v)
{
	return rdtsc() >= v->slice_end;
}

/* Program the preemption timer with what is left of the slice (25.5.1). */
static void arm_slice(struct vcpu *v)
{
	uint64_t now = rdtsc(), left = v->slice_end > now ? v->slice_end - now : 1;
	uint64_t ticks = left >> vmx_config.preempt_shift;

	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffull ? 0xffffffffull : ticks ? ticks : 1);
}

__attribute__((noreturn)) static void enter(struct vcpu *v)
{
	struct pcpu *c = this_cpu();

	vcpu_load(v);
	if (!v->launched && !v->run_start)
		vcpu_setup_vmcs(v);
	vcpu_msrs_load(v);
	v->nr_scheduled++;
	v->run_start = rdtsc();
	v->slice_end = v->run_start + slice_ticks;
	c->vcpu = v;
	arm_slice(v);
	vmx_run_current();
}

/* v leaves this CPU for now (yield, block) or for good (halt, stop). */
static void leave(struct vcpu *v, bool for_good)
{
	struct pcpu *c = this_cpu();

	v->run_tsc += rdtsc() - v->run_start;
	c->vcpu = NULL;
	if (!for_good) {
		vcpu_msrs_save(v);
		return;
	}
	rq_remove(c->rq, v);
	vmcs_clear(v->vmcs); /* its VMCS may be active only here */
	v->pcpu = NULL;
	vm_vcpu_gone(v);
}

void sched_after_exit(struct vcpu *v, enum exit_action act)
{
	switch (act) {
	case EXIT_RESUME:
		arm_slice(v);
		return;
	case EXIT_YIELD:
		leave(v, false);
		break;
	case EXIT_BLOCK:
		v->state = VCPU_BLOCKED;
		leave(v, false);
		break;
	case EXIT_HALT:
		v->state = VCPU_HALTED;
		leave(v, true);
		break;
	case EXIT_STOP:
		v->state = VCPU_STOPPED;
		leave(v, true);
		break;
	}
	sched_run();
}

void sched_run(void)
{
	struct pcpu *c = this_cpu();

	for (;;) {
		struct vcpu *v;

		irq_disable();
		v = c->rq ? pick(c->rq) : NULL;
		if (v)
			enter(v);
		if (c->is_bsp && idle_hook)
			idle_hook();
		/* sti;hlt is atomic: a kick arriving between them still wakes us. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}
