/* SPDX-License-Identifier: MIT */
/*
 * Round-robin vCPU scheduler (see sched.h). Each CPU owns its run queue and
 * the VMCSs active on it: other CPUs never touch those; they set a request
 * (a move, a wake-up, a stopped VM) and send an IPI, and the owner acts at
 * its next scheduling point.
 */
#include "vmm/sched.h"
#include "vmm/vcpu_state.h"
#include "vmm/msr.h"
#include "vmm/vm_dirty.h"
#include "vmm/placement.h"
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
#include "arch/pcpu.h"
#include "kernel/spinlock.h"
#include "arch/watchdog.h"
#include "drivers/console.h"

#define BALANCE_PERIOD_SLICES 5  /* balance every 5 time slices */
/*
 * Longest a guest runs without Tern looking at its run queue. A kick IPI
 * should force an exit at once, but Bochs holds a host interrupt while the
 * guest has IF=0 (see ../shared/bochs-notes.md); this bounds the damage to
 * a request (a vCPU moved in, a timer due) at 1 ms instead of a whole slice.
 */
#define REQUEST_POLL_US 1000u
/*
 * Boost budget: a vCPU woken from HLT by an interrupt runs ahead of the
 * round robin while it has run less than a quarter slice in the current
 * boost window (one round, a slice per vCPU queued, from its first boost);
 * its boosted run stops when that budget is used. Whatever its timers do,
 * a vCPU gets its turn in the round robin plus at most one boost budget
 * per round, and a vCPU that sleeps most of the time (a 4 ms periodic
 * tick, an interactive guest) is still woken at once.
 */
#define BOOST_SLICE_DIV 4u

#define SW_PARTS 6u
#ifdef TERN_STAMPS
#define SW_STAMP(rq, i) ((rq)->sw_t[(i)] = rdtsc())
#else
#define SW_STAMP(rq, i) ((void)0)
#endif

struct runqueue {
	struct spinlock lock;
	struct vcpu *head;  /* circular list through rq_next */
	struct vcpu *cur;   /* whose turn it is in the round robin */
	uint64_t cur_left;  /* rest of cur's turn, cut short by a boost or a request */
	uint32_t nr;
	uint64_t next_event; /* earliest timer of a vCPU blocked here */
	/* path lengths in TSC ticks, for make bench */
	uint64_t sw_ticks, sw_n, leave_ticks, leave_n, arrive_ticks, arrive_n;
#ifdef TERN_STAMPS
	/* a switch's parts (vmm/stamps.h): leave, housekeeping, pick, load, state, events */
	uint64_t sw_t[SW_PARTS], sw_part[SW_PARTS];
#endif
};

static void (*idle_hook)(void);
static uint64_t slice_ticks, poll_ticks, boost_ticks;
static uint64_t next_balance, next_shuffle;

void sched_set_idle_hook(void (*hook)(void))
{
	idle_hook = hook;
}

static void kick_irq(struct trap_frame *tf)
{
	/* Nothing to do: the exit or the wake-up from HLT is the point. */
}

int sched_init_cpu(void)
{
	struct pcpu *c = this_cpu();
	uint64_t p = page_alloc(1, PMM_OWNER_PCPU);

	if (!p)
		return -ENOMEM;
	c->rq = phys_to_virt(p);
	c->rq->lock = (struct spinlock)SPINLOCK_INIT("runqueue");
	c->rq->next_event = VLAPIC_NO_EVENT;
	if (c->is_bsp) {
		irq_register(VEC_IPI_KICK, kick_irq);
		irq_register(VEC_APIC_TIMER, kick_irq);
		slice_ticks = (uint64_t)boot_opts.timeslice_us * tsc_khz / 1000;
		poll_ticks = (uint64_t)REQUEST_POLL_US * tsc_khz / 1000;
		boost_ticks = slice_ticks / BOOST_SLICE_DIV;
		apic_timer_calibrate();
	}
	return 0;
}

uint32_t sched_nr_queued(uint32_t cpu)
{
	return cpu < nr_pcpus && pcpus[cpu]->rq ? pcpus[cpu]->rq->nr : 0;
}

static int choose_cpu(int pin)
{
	struct place_cpu cpus[MAX_CPUS];

	for (uint32_t i = 0; i < nr_pcpus; i++)
		cpus[i] = (struct place_cpu){ pcpus[i]->state == PCPU_ONLINE && pcpus[i]->rq,
					      sched_nr_queued(i) };
	return place_vcpu(cpus, nr_pcpus, pin);
}

void sched_kick(uint32_t cpu)
{
	if (cpu < nr_pcpus && pcpus[cpu] != this_cpu_or_null() && pcpus[cpu]->state == PCPU_ONLINE)
		apic_send_ipi(pcpus[cpu]->apic_id, APIC_ICR_FIXED | VEC_IPI_KICK);
}

static void request(uint32_t cpu)
{
	pcpus[cpu]->rq_work = true;
	sched_kick(cpu);
}

int sched_add(struct vcpu *v, int pin)
{
	int cpu = choose_cpu(pin);
	struct runqueue *rq;

	if (cpu < 0)
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
	v->cpu = (uint32_t)cpu;
	rq->nr++;
	pcpus[cpu]->rq_work = true;
	spin_unlock(&rq->lock);
	sched_kick((uint32_t)cpu);
	return cpu;
}

static void rq_remove(struct runqueue *rq, struct vcpu *v)
{
	struct vcpu *p;

	spin_lock(&rq->lock);
	p = rq->head;
	while (p->rq_next != v)
		p = p->rq_next;
	p->rq_next = v->rq_next;
	if (rq->head == v)
		rq->head = v->rq_next == v ? NULL : v->rq_next;
	if (rq->cur == v) {
		rq->cur = rq->head ? p : NULL;
		rq->cur_left = 0;
	}
	rq->nr--;
	spin_unlock(&rq->lock);
}

void sched_wake(struct vcpu *v)
{
	int blocked = VCPU_BLOCKED;

	vcpu_note_event(v);
	if (__atomic_compare_exchange_n(&v->state, &blocked, VCPU_RUNNABLE, false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		v->boost = true;
		request(v->cpu);
	} else if (v->state == VCPU_RUNNABLE) {
		/* It may be in guest mode on its CPU: the exit sees v->events. */
		sched_kick(v->cpu);
	}
}

void sched_vcpu_init(struct vcpu *v)
{
	/* INIT parks an AP until its SIPI; INIT to a running vCPU is not offered. */
	if (v->state != VCPU_WAIT_SIPI && v->vm->unhandled_msr++ < 8)
		pr_warn("vm %s: INIT to running vcpu%u ignored", v->vm->name, v->index);
}

void sched_vcpu_sipi(struct vcpu *v, uint8_t vector)
{
	if (v->state != VCPU_WAIT_SIPI)
		return; /* SIPIs are ignored unless waiting for one (SDM 9.4.4) */
	v->init = (struct vcpu_init){ .mode = GUEST_REAL, .cs = (uint16_t)(vector << 8), .rip = 0,
				      .rdx = v->vm->id, .rsi = v->index };
	v->needs_setup = true;
	__atomic_store_n(&v->state, VCPU_RUNNABLE, __ATOMIC_RELEASE);
	request(v->cpu);
}

void sched_move(struct vcpu *v, uint32_t to)
{
	if (v->pinned || to >= nr_pcpus || to == v->cpu || pcpus[to]->state != PCPU_ONLINE)
		return;
	v->move_to = (int)to;
	request(v->cpu);
}

void sched_place(struct vcpu *v, uint32_t to, bool pin)
{
	v->pinned = false;
	sched_move(v, to);
	v->pinned = pin;
}

void sched_poke(struct vcpu *v)
{
	request(v->cpu);
}

static bool ready(const struct vcpu *v)
{
	return v->state == VCPU_RUNNABLE && v->move_to < 0 && v->vm->state == VM_RUNNING;
}

/* What is left of v's boost budget at now (see BOOST_SLICE_DIV); opens a new window if due. */
static uint64_t boost_left(struct vcpu *v, uint32_t nr, uint64_t now)
{
	uint64_t used;

	if (now >= v->boost_until) {
		v->boost_until = now + slice_ticks * nr;
		v->boost_base = v->run_tsc;
	}
	used = v->run_tsc - v->boost_base;
	return used < boost_ticks ? boost_ticks - used : 0;
}

/*
 * Wakes the vCPUs blocked here that have an interrupt to take, firing their
 * due timers, and notes the next timer among those still blocked: only they
 * need a timer to wake them. A runnable vCPU's timer fires when it next runs
 * (vcpu_deliver_events), and the running one's ends its run through
 * arm_slice. Returns a woken vCPU that may run boosted, and *left its
 * budget; or NULL. rq is locked.
 */
static struct vcpu *wake_scan(struct runqueue *rq, uint64_t now, uint64_t *left)
{
	struct vcpu *v = rq->cur ? rq->cur : rq->head, *boosted = NULL;
	uint64_t next = VLAPIC_NO_EVENT;

	for (uint32_t i = 0; v && i < rq->nr; i++, v = v->rq_next) {
		if (v->state == VCPU_BLOCKED) {
			int b = VCPU_BLOCKED;

			if (!vcpu_has_event(v, now)) {
				if (vcpu_next_event(v) < next)
					next = vcpu_next_event(v);
				continue;
			}
			if (__atomic_compare_exchange_n(&v->state, &b, VCPU_RUNNABLE, false,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				v->boost = true;
		}
		if (!boosted && v->boost && ready(v)) {
			*left = boost_left(v, rq->nr, now);
			if (*left)
				boosted = v;
			else
				v->boost = false; /* budget used: it waits for its turn */
		}
	}
	rq->next_event = next;
	return boosted;
}

/* The next ready vCPU after the one whose turn it was, or NULL. rq is locked. */
static struct vcpu *next_turn(struct runqueue *rq)
{
	struct vcpu *start = rq->cur ? rq->cur : rq->head, *v = start;

	if (!start)
		return NULL;
	do {
		v = v->rq_next;
		if (ready(v))
			return v;
	} while (v != start);
	return NULL;
}

/*
 * The vCPU to run next and for how long (*slice), or NULL. A vCPU just
 * woken by an interrupt goes first, within its boost budget, so a timer is
 * not late by other vCPUs' slices; the round robin does not move for it,
 * and the vCPU whose turn it cut short gets the rest of its turn next.
 * Otherwise the next ready vCPU gets a whole slice.
 */
static struct vcpu *pick(struct runqueue *rq, uint64_t *slice)
{
	uint64_t now = rdtsc();
	struct vcpu *v;

	spin_lock(&rq->lock);
	v = wake_scan(rq, now, slice);
	if (!v && rq->cur && rq->cur_left && ready(rq->cur)) {
		v = rq->cur;
		*slice = rq->cur_left;
	} else if (!v) {
		v = next_turn(rq);
		if (v)
			rq->cur = v;
		*slice = slice_ticks;
	}
	if (v)
		v->boost = false;
	if (v == rq->cur)
		rq->cur_left = 0;
	spin_unlock(&rq->lock);
	return v;
}

/* A vCPU blocked here has a timer due: wake it; the running vCPU yields only to a boost. */
static bool boost_due(struct runqueue *rq)
{
	uint64_t now = rdtsc(), left;
	bool boost;

	if (rq->next_event > now)
		return false;
	spin_lock(&rq->lock);
	boost = wake_scan(rq, now, &left) != NULL;
	spin_unlock(&rq->lock);
	return boost;
}

bool sched_need_switch(const struct vcpu *v)
{
	return rdtsc() >= v->slice_end || v->move_to >= 0 || this_cpu()->rq_work;
}

/*
 * v's deadline: the end of the slice, v's own next timer interrupt, the next
 * timer of a vCPU blocked here, this CPU's housekeeping, or the request poll,
 * whichever is first.
 */
static void arm_slice(struct vcpu *v)
{
	struct pcpu *c = this_cpu();
	uint64_t now = rdtsc(), until = v->slice_end, own = vcpu_next_event(v);

	if (own < until)
		until = own;
	if (c->rq->next_event < until)
		until = c->rq->next_event;
	if (c->next_periodic < until)
		until = c->next_periodic;
	if ((nr_pcpus > 1 || console_input_wanted()) && now + poll_ticks < until)
		until = now + poll_ticks;
	v->deadline = until;
	sched_set_preemption_timer(v, now);
}

__attribute__((noreturn)) static void enter(struct vcpu *v, uint64_t slice)
{
	struct pcpu *c = this_cpu();
	uint64_t t0 = rdtsc();
	bool arriving = v->pcpu != c;

	SW_STAMP(c->rq, 2);
	vcpu_load(v);
	if (arriving && !v->needs_setup && v->nr_scheduled) {
		c->rq->arrive_ticks += rdtsc() - t0;
		c->rq->arrive_n++;
	}
	if (v->needs_setup) {
		vcpu_setup_vmcs(v);
		vcpu_note_event(v);
	}
	if (v->apply_arch) {
		vcpu_state_apply(v);
		v->apply_arch = false;
	}
	if (v->tsc_moved) {
		msr_vcpu_sync(v);
		v->tsc_moved = false;
	}
	if (v->dirty_sync)
		vcpu_dirty_sync(v);
	SW_STAMP(c->rq, 3);
	vcpu_run_device_timers(v); /* woken for one, or its deadline passed while it waited */
	vcpu_msrs_load(v);
	vcpu_xregs_switch_in(v);
	v->nr_scheduled++;
	v->cpus_seen |= 1ull << (c->id & 63);
	v->run_start = rdtsc();
	v->slice_end = v->run_start + slice;
	c->vcpu = v;
	SW_STAMP(c->rq, 4);
	/* As after an exit: only what changed while it was away (vcpu_note_event) or a due timer. */
	if (v->events || vcpu_next_event(v) <= v->run_start)
		vcpu_deliver_events(v);
	arm_slice(v);
	if (c->exit_tsc && c->last_vcpu && c->last_vcpu != v) {
		uint64_t end = rdtsc();

		c->rq->sw_ticks += end - c->exit_tsc;
		c->rq->sw_n++;
#ifdef TERN_STAMPS
		c->rq->sw_t[5] = end;
		for (uint32_t i = 0; i < SW_PARTS; i++)
			c->rq->sw_part[i] += c->rq->sw_t[i] - (i ? c->rq->sw_t[i - 1] : c->exit_tsc);
#endif
	}
	c->last_vcpu = v;
	vmx_run_current();
}

/* v leaves this CPU: its VMCS is cleared so any CPU can load it next. */
static void detach(struct vcpu *v)
{
	rq_remove(this_cpu()->rq, v);
	vcpu_xregs_release(v);
	if (v->pcpu == this_cpu()) {
		vmcs_clear(v->vmcs);
		v->launched = 0;
	}
	v->pcpu = NULL;
}

static void migrate(struct vcpu *v)
{
	uint32_t to = (uint32_t)v->move_to;
	struct runqueue *rq = this_cpu()->rq;
	uint64_t t0 = rdtsc();

	detach(v);
	rq->leave_ticks += rdtsc() - t0;
	rq->leave_n++;
	v->nr_moves++;
	v->move_to = -1;
	if (sched_add(v, (int)to) < 0)
		sched_add(v, -1); /* the target went away: anywhere will do */
}

/*
 * v's VM is paused: v leaves this CPU until resumed, its whole state
 * captured (its VMCS current here: it ran here last), so the management
 * guest can read or replace it from any CPU (TERN_HC_VCPU_GET_REGS).
 */
static void park(struct vcpu *v)
{
	if (v->state == VCPU_WAIT_SIPI && v->needs_setup) {
		vcpu_state_capture_waiting(v); /* an AP that never ran: only that it waits */
	} else {
		vcpu_load(v);
		if (v->needs_setup) { /* started, never entered: its start state */
			vcpu_setup_vmcs(v);
			v->needs_setup = false;
		}
		vcpu_xregs_release(v);
		vcpu_pml_drain(v);
		vcpu_state_capture(v);
	}
	detach(v);
	if (!vm_vcpu_park(v))
		sched_add(v, (int)this_cpu()->id); /* resumed meanwhile: back in the queue */
}

static void reap(struct vcpu *v)
{
	detach(v);
	if (v->state != VCPU_HALTED)
		v->state = VCPU_STOPPED;
	vm_vcpu_gone(v);
}

/* Act on requests for vCPUs queued here and not running: moves, stopped VMs. */
static void process_requests(struct runqueue *rq)
{
	bool again = true;

	this_cpu()->rq_work = false;
	while (again) {
		struct vcpu *v, *act = NULL;

		spin_lock(&rq->lock);
		v = rq->head;
		for (uint32_t i = 0; v && i < rq->nr && !act; i++, v = v->rq_next)
			if (v->move_to >= 0 || vm_halting(v->vm) || v->vm->state == VM_PAUSED ||
			    (v->state == VCPU_WAIT_SIPI && v->vm->ending))
				act = v;
		spin_unlock(&rq->lock);
		again = act != NULL;
		if (act && vm_halting(act->vm))
			reap(act);
		else if (act && act->vm->state == VM_PAUSED)
			park(act);
		else if (act && act->move_to >= 0 && !act->vm->ending)
			migrate(act);
		else if (act)
			reap(act);
	}
}

/* v leaves this CPU for now (yield, block) or for good (halt, stop). */
static void leave(struct vcpu *v, bool for_good)
{
	struct pcpu *c = this_cpu();
	uint64_t now = rdtsc();

	v->run_tsc += now - v->run_start;
	c->vcpu = NULL;
	/* A turn cut short (by a boost, a request) goes on at the next pick. */
	if (v == c->rq->cur)
		c->rq->cur_left = v->state == VCPU_RUNNABLE && v->slice_end > now ? v->slice_end - now : 0;
	if (!for_good) {
		vcpu_msrs_save(v);
		if (v->move_to >= 0)
			migrate(v);
		return;
	}
	reap(v);
}

/* Snapshot of every queued vCPU (each run queue locked in turn). */
static uint32_t collect(struct vcpu **who, struct bal_vcpu *bv, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < nr_pcpus; i++) {
		struct runqueue *rq = pcpus[i]->rq;
		struct vcpu *v;

		if (!rq)
			continue;
		spin_lock(&rq->lock);
		v = rq->head;
		for (uint32_t k = 0; v && k < rq->nr && n < max; k++, v = v->rq_next, n++) {
			who[n] = v;
			bv[n] = (struct bal_vcpu){ i, v->pinned || v->move_to >= 0,
						   v->state == VCPU_RUNNABLE, v->run_tsc };
		}
		spin_unlock(&rq->lock);
	}
	return n;
}

#define SNAPSHOT_MAX 64

static void balance(void)
{
	struct vcpu *who[SNAPSHOT_MAX];
	struct bal_vcpu bv[SNAPSHOT_MAX];
	struct place_cpu cpus[MAX_CPUS];
	struct bal_move mv[BAL_MAX_MOVES];
	uint32_t n = collect(who, bv, SNAPSHOT_MAX), nm;

	for (uint32_t i = 0; i < nr_pcpus; i++)
		cpus[i] = (struct place_cpu){ pcpus[i]->state == PCPU_ONLINE && pcpus[i]->rq,
					      sched_nr_queued(i) };
	nm = balance_step(bv, n, cpus, nr_pcpus, 2 * slice_ticks, mv);
	for (uint32_t i = 0; i < nm; i++)
		sched_move(who[mv[i].vcpu], mv[i].to);
}

/*
 * shuffle=MS (test option): every unpinned vCPU to the next CPU of its own
 * rotation, (round + VM id + vCPU index) mod CPUs. Each moves every round,
 * and vCPUs that came to share a CPU part again: "the next CPU" for all
 * would move such a group together for good.
 */
static void shuffle(void)
{
	static uint32_t round;
	struct vcpu *who[SNAPSHOT_MAX];
	struct bal_vcpu bv[SNAPSHOT_MAX];
	uint32_t n = collect(who, bv, SNAPSHOT_MAX);

	round++;
	for (uint32_t i = 0; i < n; i++)
		sched_move(who[i], (round + who[i]->vm->id + who[i]->index) % pcpu_online_count());
}

/* When the bootstrap CPU's next balancing (or shuffle) is due. */
static uint64_t housekeeping_next(void)
{
	return boot_opts.shuffle_ms ? next_shuffle : next_balance;
}

/* Bootstrap CPU housekeeping at its scheduling points. */
static void periodic(void)
{
	struct pcpu *c = this_cpu();
	uint64_t now = rdtsc();

	/* Keep the exit fast path short: housekeeping at most once per poll interval. */
	c->heartbeat++;
	if (now < c->next_periodic)
		return;
	c->next_periodic = now + poll_ticks;
	watchdog_check();
	console_poll();
	if (!c->is_bsp || nr_pcpus < 2)
		return;
	if (now >= next_balance) {
		next_balance = now + BALANCE_PERIOD_SLICES * slice_ticks;
		if (!boot_opts.shuffle_ms)
			balance();
	}
	if (boot_opts.shuffle_ms && now >= next_shuffle) {
		next_shuffle = now + (uint64_t)boot_opts.shuffle_ms * tsc_khz;
		shuffle();
	}
}

/* The full look after an exit (sched_resume): housekeeping, requests, events, the next vCPU. */
void sched_after_exit(struct vcpu *v, enum exit_action act)
{
	struct pcpu *c = this_cpu();

	if (vm_halting(v->vm)) /* stopped from another CPU, which set v->events */
		act = EXIT_STOP;
	if (act == EXIT_RESUME) { /* else sched_run does the housekeeping */
		periodic();
		if (v->move_to >= 0 || c->rq_work || boost_due(c->rq))
			act = EXIT_YIELD;
	}
	switch (act) {
	case EXIT_RESUME:
		vcpu_run_device_timers(v); /* due, whichever vCPU exits first */
		vcpu_deliver_events(v);
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

void sched_report(void)
{
	uint64_t s[6] = { 0 };

	for (uint32_t i = 0; i < nr_pcpus; i++) {
		struct runqueue *rq = pcpus[i]->rq;

		if (!rq)
			continue;
		s[0] += rq->sw_ticks;
		s[1] += rq->sw_n;
		s[2] += rq->leave_ticks;
		s[3] += rq->leave_n;
		s[4] += rq->arrive_ticks;
		s[5] += rq->arrive_n;
	}
	pr_info("sched: %lu vCPU switches, mean %lu ticks from a VM exit to the next vCPU's entry",
		(unsigned long)s[1], (unsigned long)(s[1] ? s[0] / s[1] : 0));
#ifdef TERN_STAMPS
	{
		uint64_t p[SW_PARTS] = { 0 };

		for (uint32_t i = 0; i < nr_pcpus; i++)
			for (uint32_t k = 0; pcpus[i]->rq && k < SW_PARTS; k++)
				p[k] += pcpus[i]->rq->sw_part[k];
		for (uint32_t k = 0; s[1] && k < SW_PARTS; k++)
			p[k] /= s[1];
		pr_info("sched: switch parts, mean ticks: leave %lu housekeeping %lu pick %lu load %lu state %lu events %lu",
			(unsigned long)p[0], (unsigned long)p[1], (unsigned long)p[2], (unsigned long)p[3],
			(unsigned long)p[4], (unsigned long)p[5]);
	}
#endif
	pr_info("sched: %lu moves, mean %lu ticks to leave a CPU (VMCLEAR, requeue) and %lu to arrive (VMPTRLD, host state)",
		(unsigned long)s[3], (unsigned long)(s[3] ? s[2] / s[3] : 0),
		(unsigned long)(s[5] ? s[4] / s[5] : 0));
}

/*
 * crash=stall and crash=tpr (test options): once VMs run, the last CPU stalls
 * in the hypervisor with interrupts off for three watchdog periods, or raises
 * its task priority so that no timer interrupt wakes it from idle again.
 */
static void crash_test_on_cpu(struct pcpu *c)
{
	static bool done;
	uint64_t until;

	if ((boot_opts.crash != CRASH_STALL && boot_opts.crash != CRASH_TPR) ||
	    c->id != nr_pcpus - 1 || !vm_count() || done)
		return;
	done = true;
	pr_warn("crash: cpu%u %s (crash= boot option)", c->id,
		boot_opts.crash == CRASH_STALL ? "stalls with interrupts off for 3 s" :
		"raises its task priority to 15 and goes idle");
	if (boot_opts.crash == CRASH_TPR) {
		write_cr8(15);
		return;
	}
	until = rdtsc() + 3ull * WATCHDOG_PERIOD_MS * tsc_khz;
	while (rdtsc() < until)
		cpu_relax();
}

void sched_run(void)
{
	struct pcpu *c = this_cpu();

	for (;;) {
		struct vcpu *v;
		uint64_t wake, slice;
		bool armed;

		irq_disable();
		SW_STAMP(c->rq, 0);
		crash_test_on_cpu(c);
		if (c->rq_work)
			process_requests(c->rq);
		periodic();
		SW_STAMP(c->rq, 1);
		v = pick(c->rq, &slice);
		if (v)
			enter(v, slice);
		if (c->is_bsp && idle_hook)
			idle_hook();
		wake = c->rq->next_event;
		/* While VMs exist, wake up to watch the other CPUs, and to balance their queues. */
		if (vm_count() && watchdog_next() < wake)
			wake = watchdog_next();
		if (vm_count() && c->is_bsp && nr_pcpus > 1 && housekeeping_next() < wake)
			wake = housekeeping_next();
		/* Queued console output goes out as the UART takes it; typed input comes in. */
		if ((console_pending() || (c->is_bsp && console_input_wanted())) &&
		    rdtsc() + poll_ticks < wake)
			wake = rdtsc() + poll_ticks;
		armed = wake != VLAPIC_NO_EVENT;
		if (armed)
			apic_timer_arm(wake);
		c->idle_wake = armed ? wake : ~0ull;
		c->idle = true;
		c->exit_tsc = 0; /* idle time is not switch cost */
		/* sti;hlt is atomic: a kick arriving between them still wakes us. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		c->idle = false;
		if (armed)
			apic_timer_cancel();
	}
}
