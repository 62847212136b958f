/* SPDX-License-Identifier: MIT */
/* Virtual local APIC (see vlapic.h); register semantics from SDM vol. 3A 11.4-11.12. */
#include "vmm/vlapic.h"
#include "vmm/gmap.h"
#include "vmm/sched.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arch/apic.h"
#include "arch/msr.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/mm.h"

#define APIC_VERSION_VAL 0x00050014u /* version 0x14, 6 LVT entries */
#define APIC_PPR         0x0a0u
#define APIC_DFR         0x0e0u
#define APIC_ISR         0x100u
#define APIC_TMR         0x180u
#define APIC_IRR         0x200u
#define APIC_LVT_CMCI    0x2f0u
#define APIC_LVT_THERMAL 0x330u
#define APIC_LVT_PMC     0x340u
#define APIC_SELF_IPI    0x3f0u /* x2APIC only */
#define LVT_MASKED       (1u << 16)
#define LVT_MODE_EXTINT  7u
#define LVT_TIMER_MODE(l) (((l) >> 17) & 3u)
#define TIMER_ONESHOT    0u
#define TIMER_PERIODIC   1u
#define TIMER_TSC_DEADLINE 2u
#define ICR_MODE(i)      (((i) >> 8) & 7u)
#define ICR_MODE_FIXED   0u
#define ICR_MODE_LOWEST  1u
#define ICR_MODE_NMI     4u
#define ICR_MODE_INIT    5u
#define ICR_MODE_SIPI    6u
#define ICR_LOGICAL      (1u << 11)
#define ICR_SHORTHAND(i) (((i) >> 18) & 3u)
#define ICR_SH_SELF      1u
#define ICR_SH_ALL       2u
#define ICR_SH_OTHERS    3u
#define XAPIC_DEST_ALL   0xffu       /* broadcast destination, xAPIC (SDM 11.6.2) */
#define X2APIC_DEST_ALL  0xffffffffu /* and x2APIC (11.12.9) */
#define LDR_XAPIC_MASK   0xff000000u
#define DFR_RESERVED     0x0fffffffu /* reads as ones */
#define DFR_MODEL(d)     ((d) >> 28)
#define DFR_MODEL_FLAT   0xfu
#define X2APIC_MSR_FIRST 0x800u
#define X2APIC_MSR_LAST  0x8ffu

static uint32_t *reg(const struct vcpu *v, uint32_t off)
{
	return &v->lapic.regs[off / 4];
}

static void set_bit_atomic(struct vcpu *v, uint32_t base, int vec)
{
	__atomic_fetch_or(reg(v, base + 0x10u * (uint32_t)(vec / 32)), 1u << (vec % 32), __ATOMIC_SEQ_CST);
}

/* A request for vec (SDM 11.8.4): the IRR bit, then the flag that has v look before entry. */
static void set_irr(struct vcpu *v, int vec)
{
	set_bit_atomic(v, APIC_IRR, vec);
	vcpu_note_event(v);
}

static void clear_bit_atomic(struct vcpu *v, uint32_t base, int vec)
{
	__atomic_fetch_and(reg(v, base + 0x10u * (uint32_t)(vec / 32)), ~(1u << (vec % 32)), __ATOMIC_SEQ_CST);
}

/* Highest set vector in a 256-bit register array, or -1. */
static int highest(const struct vcpu *v, uint32_t base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = __atomic_load_n(reg(v, base + 0x10u * (uint32_t)i), __ATOMIC_ACQUIRE);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static uint32_t ppr(const struct vcpu *v)
{
	uint32_t tpr = *reg(v, APIC_TPR) & 0xffu;
	int isr = highest(v, APIC_ISR);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;

	return (tpr >> 4) >= (isrv >> 4) ? tpr : (isrv & 0xf0u);
}

int vlapic_init(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;

	l->regs_phys = page_alloc(1, PMM_OWNER_VMM);
	if (!l->regs_phys)
		return -ENOMEM;
	l->regs = phys_to_virt(l->regs_phys);
	l->apic_base = GMAP_LAPIC_BASE | IA32_APIC_BASE_EN | (v->index ? 0 : IA32_APIC_BASE_BSP);
	l->timer_next = VLAPIC_NO_EVENT;
	*reg(v, APIC_ID) = v->index << 24;
	*reg(v, APIC_VERSION) = APIC_VERSION_VAL;
	*reg(v, APIC_DFR) = 0xffffffffu;
	*reg(v, APIC_SVR) = 0xffu;
	for (uint32_t off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
		*reg(v, off) = LVT_MASKED;
	*reg(v, APIC_LVT_CMCI) = LVT_MASKED;
	return 0;
}

void vlapic_free(struct vcpu *v)
{
	if (v->lapic.regs_phys)
		page_free(v->lapic.regs_phys, 1, PMM_OWNER_VMM);
}

bool vlapic_x2apic(const struct vcpu *v)
{
	return v->lapic.apic_base & IA32_APIC_BASE_EXTD;
}

static uint64_t timer_divisor(const struct vcpu *v)
{
	uint32_t dcr = *reg(v, APIC_TIMER_DCR);
	uint32_t code = (dcr & 3u) | ((dcr & 8u) >> 1);

	return code == 7 ? 1 : 2ull << code;
}

static void timer_disarm(struct vcpu *v)
{
	v->lapic.timer_next = VLAPIC_NO_EVENT;
}

/* VLAPIC_MIN_PERIOD_US in TSC ticks. */
static uint64_t period_floor(void)
{
	return (uint64_t)VLAPIC_MIN_PERIOD_US * tsc_khz / 1000;
}

static void timer_load(struct vcpu *v, uint32_t count)
{
	struct vlapic *l = &v->lapic;

	if (!count || LVT_TIMER_MODE(*reg(v, APIC_LVT_TIMER)) == TIMER_TSC_DEADLINE) {
		timer_disarm(v);
		return;
	}
	l->timer_start = rdtsc();
	l->timer_period = (uint64_t)count * timer_divisor(v);
	/* Each tick costs exits: a periodic timer ticks at most once per floor (vlapic.h). */
	if (LVT_TIMER_MODE(*reg(v, APIC_LVT_TIMER)) == TIMER_PERIODIC &&
	    l->timer_period < period_floor())
		l->timer_period = period_floor();
	l->timer_next = l->timer_start + l->timer_period;
}

static bool timer_periodic(const struct vcpu *v)
{
	return LVT_TIMER_MODE(*reg(v, APIC_LVT_TIMER)) == TIMER_PERIODIC && v->lapic.timer_period;
}

/* The first periodic expiry after now, timer_next being at or before now. */
static uint64_t period_after(const struct vlapic *l, uint64_t now)
{
	return now + l->timer_period - (now - l->timer_next) % l->timer_period;
}

bool vlapic_timer_check(struct vcpu *v, uint64_t now)
{
	struct vlapic *l = &v->lapic;
	uint32_t lvt = *reg(v, APIC_LVT_TIMER);

	if (l->timer_next == VLAPIC_NO_EVENT || now < l->timer_next)
		return false;
	/* Masked, a periodic timer counts on unseen: read_ccr and unmask_timer catch up. */
	if ((lvt & LVT_MASKED) && timer_periodic(v))
		return false;
	l->nr_timer_fired++;
	if (now - l->timer_next > l->max_timer_late)
		l->max_timer_late = now - l->timer_next;

	/* No wake-up: v runs now, or the scheduler, which wakes it, is the caller. */
	if (!(lvt & LVT_MASKED) && (uint8_t)lvt >= 16)
		set_irr(v, (uint8_t)lvt);
	if (timer_periodic(v)) {
		/* Missed periods collapse into one interrupt, as on hardware. */
		l->timer_next += l->timer_period;
		if (l->timer_next <= now) {
			l->nr_timer_lost += (now - l->timer_next) / l->timer_period + 1;
			l->timer_next = period_after(l, now);
		}
	} else {
		l->tsc_deadline = 0;
		timer_disarm(v);
	}
	return true;
}

uint64_t vlapic_next_event(const struct vcpu *v)
{
	/* A masked timer delivers nothing (SDM 11.5.1): no exit, no wake-up for it. */
	return *reg(v, APIC_LVT_TIMER) & LVT_MASKED ? VLAPIC_NO_EVENT : v->lapic.timer_next;
}

/*
 * Current count (SDM 11.5.4): counting down from the initial count over each
 * period; 0 once a one-shot expired, and in TSC-deadline mode. A period
 * lengthened to the floor counts the initial count down over the longer
 * period, so the count never exceeds the initial count.
 */
static uint64_t read_ccr(const struct vcpu *v, uint64_t now)
{
	const struct vlapic *l = &v->lapic;
	uint64_t next = l->timer_next, icr = *reg(v, APIC_TIMER_ICR), div = timer_divisor(v);

	if (next == VLAPIC_NO_EVENT || LVT_TIMER_MODE(*reg(v, APIC_LVT_TIMER)) == TIMER_TSC_DEADLINE)
		return 0;
	if (now >= next) {
		if (!timer_periodic(v))
			return 0;
		next = period_after(l, now); /* masked, or not yet noticed */
	}
	if (l->timer_period > icr * div && l->timer_period <= period_floor())
		return (next - now) * icr / l->timer_period; /* small numbers: no overflow */
	return (next - now) / div;
}

/* Unmasking: expiries that passed while masked are not delivered late (11.5.1). */
static void unmask_timer(struct vcpu *v, uint64_t now)
{
	struct vlapic *l = &v->lapic;

	if (l->timer_next == VLAPIC_NO_EVENT || now < l->timer_next)
		return;
	if (timer_periodic(v)) {
		l->timer_next = period_after(l, now);
	} else {
		l->tsc_deadline = 0;
		timer_disarm(v);
	}
}

int vlapic_highest_irr(const struct vcpu *v)
{
	return highest(v, APIC_IRR);
}

int vlapic_deliverable(const struct vcpu *v, int vec)
{
	if (vec < 0 || !(*reg(v, APIC_SVR) & APIC_SVR_ENABLE))
		return VLAPIC_NONE;
	return ((uint32_t)vec & 0xf0u) > (ppr(v) & 0xf0u) ? vec : VLAPIC_NONE;
}

int vlapic_pending_intr(const struct vcpu *v)
{
	return vlapic_deliverable(v, highest(v, APIC_IRR));
}

int vlapic_pending(const struct vcpu *v)
{
	if (v->lapic.nmi_pending)
		return VLAPIC_NMI;
	return vlapic_extint(v) ? VLAPIC_EXTINT : vlapic_pending_intr(v);
}

bool vlapic_take_nmi(struct vcpu *v)
{
	return __atomic_exchange_n(&v->lapic.nmi_pending, false, __ATOMIC_ACQ_REL);
}

/*
 * With the TPR shadow, lowering TPR below the threshold exits (SDM vol. 3C
 * 30.1.2, 27.7.7): the threshold is the priority class of the highest
 * requested interrupt when the task priority alone holds it back, else 0.
 * It is never above TPR[7:4], as VM entry requires (26.2.1.1).
 */
uint32_t vlapic_tpr_threshold(const struct vcpu *v, int vec)
{
	uint32_t cls = (uint32_t)vec >> 4, tpr = (*reg(v, APIC_TPR) >> 4) & 0xfu;

	return vec >= 0 && cls <= tpr ? cls : 0;
}

void vlapic_ack(struct vcpu *v, int vec)
{
	clear_bit_atomic(v, APIC_IRR, vec);
	set_bit_atomic(v, APIC_ISR, vec);
}

void vlapic_post(struct vcpu *v, uint8_t vector)
{
	if (vector < 16)
		return; /* illegal vector: real APICs flag an error and drop it */
	set_irr(v, vector);
	sched_wake(v);
}

/*
 * EOI ends the highest in-service vector; for a level-triggered one (its TMR
 * bit) the EOI is broadcast to the I/O APIC, which clears its remote IRR
 * (SDM vol. 3A 11.8.5; 82093AA 3.2.4).
 */
static void eoi(struct vcpu *v)
{
	int vec = highest(v, APIC_ISR);

	if (vec < 0)
		return;
	clear_bit_atomic(v, APIC_ISR, vec);
	if (reg(v, APIC_TMR)[(vec / 32) * 4] & (1u << (vec % 32))) {
		clear_bit_atomic(v, APIC_TMR, vec);
		vplatform_eoi(v->vm, (uint8_t)vec);
	}
}

/* Once per vCPU and delivery mode: a guest that keeps trying does not flood the log. */
static void drop_once(struct vcpu *v, uint32_t mode, const char *why)
{
	if (v->lapic.warned_modes & (1u << mode))
		return;
	v->lapic.warned_modes |= (uint8_t)(1u << mode);
	pr_warn("vm %s: vcpu%u: IPI delivery mode %u %s, dropped", v->vm->name, v->index, mode, why);
}

void vlapic_post_nmi(struct vcpu *v)
{
	/* An AP waiting for its SIPI runs no code yet: nothing to interrupt. */
	if (!vmx_config.vnmi || v->state == VCPU_WAIT_SIPI)
		return;
	__atomic_store_n(&v->lapic.nmi_pending, true, __ATOMIC_RELEASE);
	vcpu_note_event(v);
	sched_wake(v);
}

static void ipi_one(struct vcpu *src, struct vcpu *dst, uint32_t mode, uint8_t vec)
{
	switch (mode) {
	case ICR_MODE_FIXED:
	case ICR_MODE_LOWEST: /* send_ipi chose dst */
		vlapic_post(dst, vec);
		break;
	case ICR_MODE_NMI:
		if (!vmx_config.vnmi)
			drop_once(src, mode, "(NMI) needs virtual NMIs, which this CPU lacks");
		vlapic_post_nmi(dst);
		break;
	case ICR_MODE_INIT:
		sched_vcpu_init(dst);
		break;
	case ICR_MODE_SIPI:
		sched_vcpu_sipi(dst, vec);
		break;
	default: /* SMI, ExtINT, reserved */
		drop_once(src, mode, "is not supported");
	}
}

/* x2APIC logical ID, read-only and derived from the APIC ID (SDM vol. 3A 11.12.10.2). */
static uint32_t x2apic_ldr(const struct vcpu *v)
{
	return (v->index >> 4) << 16 | 1u << (v->index & 15);
}

/*
 * Does t accept a destination-mode IPI for dest (SDM vol. 3A 11.6.2)? dest
 * is in the sender's format: 8 bits in xAPIC mode, 32 in x2APIC mode.
 * Logical xAPIC destinations follow t's DFR model: flat (a bit of LDR[31:24])
 * or cluster (LDR[31:28] the cluster, [27:24] a bit in it).
 */
static bool dest_match(const struct vcpu *t, uint32_t dest, bool logical, bool x2)
{
	uint32_t ldr;

	if (dest == (x2 ? X2APIC_DEST_ALL : XAPIC_DEST_ALL))
		return true;
	if (!logical)
		return dest == t->index;
	if (x2) {
		ldr = x2apic_ldr(t);
		return dest >> 16 == ldr >> 16 && (dest & ldr & 0xffffu);
	}
	ldr = *reg(t, APIC_LDR) >> 24;
	if (DFR_MODEL(*reg(t, APIC_DFR)) == DFR_MODEL_FLAT)
		return dest & ldr;
	return dest >> 4 == ldr >> 4 && (dest & ldr & 0xfu);
}

/*
 * An I/O APIC message (82093AA 3.2.4 redirection entry; SDM vol. 3A 11.6.2
 * destinations in the xAPIC 8-bit format). Fixed and lowest priority set the
 * IRR (and the TMR for level-triggered); NMI and INIT as IPIs do. ExtINT
 * through the I/O APIC (virtual wire via pin 0) is not modelled: the PIC
 * reaches vCPU 0 through LINT0.
 */
void vlapic_deliver_msg(struct vm *vm, uint32_t dest, bool logical, uint32_t mode, uint8_t vec,
			bool level)
{
	struct vcpu *lowest = NULL;

	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpus[i];

		if (!dest_match(t, dest, logical, false))
			continue;
		if (mode == ICR_MODE_LOWEST) {
			if (!lowest || (*reg(t, APIC_TPR) & 0xffu) < (*reg(lowest, APIC_TPR) & 0xffu))
				lowest = t;
			continue;
		}
		if (mode == ICR_MODE_FIXED && level)
			set_bit_atomic(t, APIC_TMR, vec);
		else if (mode == ICR_MODE_FIXED)
			clear_bit_atomic(t, APIC_TMR, vec);
		if (mode == ICR_MODE_FIXED || mode == ICR_MODE_NMI || mode == ICR_MODE_INIT)
			ipi_one(t, t, mode, vec);
		else
			drop_once(t, mode, "from the I/O APIC is not supported");
	}
	if (lowest) {
		if (level)
			set_bit_atomic(lowest, APIC_TMR, vec);
		else
			clear_bit_atomic(lowest, APIC_TMR, vec);
		ipi_one(lowest, lowest, ICR_MODE_FIXED, vec);
	}
}

/*
 * The PIC's INTR reaches vCPU 0 through LINT0 programmed as ExtINT and not
 * masked, or directly while its local APIC is disabled (SDM vol. 3A 10.4.3,
 * 11.5.1).
 */
bool vlapic_extint(const struct vcpu *v)
{
	uint32_t lint0 = *reg(v, APIC_LVT_LINT0);

	if (!v->lapic.extint)
		return false;
	if (!(v->lapic.apic_base & IA32_APIC_BASE_EN))
		return true;
	return !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7u) == LVT_MODE_EXTINT;
}

static void send_ipi(struct vcpu *v, uint32_t icr, uint32_t dest)
{
	struct vm *vm = v->vm;
	uint32_t sh = ICR_SHORTHAND(icr), mode = ICR_MODE(icr);
	struct vcpu *lowest = NULL;

	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpus[i];
		bool hit = sh == ICR_SH_SELF ? t == v : sh == ICR_SH_ALL ? true :
			   sh == ICR_SH_OTHERS ? t != v :
			   dest_match(t, dest, icr & ICR_LOGICAL, vlapic_x2apic(v));

		if (!hit)
			continue;
		/*
		 * Lowest priority goes to one vCPU of the set. The SDM leaves the
		 * choice to the implementation (11.6.2.4): the lowest TPR, ties
		 * to the lowest index.
		 */
		if (mode == ICR_MODE_LOWEST) {
			if (!lowest || (*reg(t, APIC_TPR) & 0xffu) < (*reg(lowest, APIC_TPR) & 0xffu))
				lowest = t;
			continue;
		}
		ipi_one(v, t, mode, (uint8_t)icr);
	}
	if (lowest)
		ipi_one(v, lowest, mode, (uint8_t)icr);
}

int vlapic_read(struct vcpu *v, uint32_t off, uint64_t *val)
{
	switch (off) {
	case APIC_ID:
		*val = vlapic_x2apic(v) ? v->index : (uint64_t)v->index << 24;
		return 0;
	case APIC_PPR:
		*val = ppr(v);
		return 0;
	case APIC_TIMER_CCR:
		*val = read_ccr(v, rdtsc());
		return 0;
	case APIC_ICR_LO:
		*val = *reg(v, APIC_ICR_LO) & ~(uint32_t)APIC_ICR_BUSY;
		if (vlapic_x2apic(v))
			*val |= (uint64_t)*reg(v, APIC_ICR_HI) << 32;
		return 0;
	case APIC_EOI:
	case APIC_SELF_IPI:
		return -EINVAL; /* write-only */
	default:
		if (off >= 0x400 || (off & 0xf))
			return -EINVAL;
		*val = *reg(v, off);
		return 0;
	}
}

static int write_lvt_timer(struct vcpu *v, uint32_t val)
{
	uint32_t old = *reg(v, APIC_LVT_TIMER);

	*reg(v, APIC_LVT_TIMER) = val & 0x700ffu;
	if (LVT_TIMER_MODE(old) != LVT_TIMER_MODE(val)) {
		/* A mode change stops the timer (SDM 11.5.4.1). */
		timer_disarm(v);
		v->lapic.tsc_deadline = 0;
		*reg(v, APIC_TIMER_ICR) = 0;
	} else if ((old & LVT_MASKED) && !(val & LVT_MASKED)) {
		unmask_timer(v, rdtsc());
	}
	return 0;
}

int vlapic_write(struct vcpu *v, uint32_t off, uint64_t val)
{
	uint32_t v32 = (uint32_t)val;

	vcpu_note_event(v); /* TPR, EOI, SVR, LVT, timer: what may be delivered, and when */

	switch (off) {
	case APIC_TPR: *reg(v, off) = v32 & 0xffu; return 0;
	case APIC_EOI: eoi(v); return 0;
	case APIC_SVR: *reg(v, off) = v32 & 0x1ffu; return 0;
	case APIC_ESR: *reg(v, off) = 0; return 0;
	case APIC_LDR:
	case APIC_DFR:
		if (vlapic_x2apic(v))
			return -EINVAL; /* the x2APIC LDR is read-only, there is no DFR */
		*reg(v, off) = off == APIC_LDR ? v32 & LDR_XAPIC_MASK : v32 | DFR_RESERVED;
		return 0;
	case APIC_ICR_HI:
		if (vlapic_x2apic(v))
			return -EINVAL;
		*reg(v, off) = v32;
		return 0;
	case APIC_ICR_LO:
		*reg(v, off) = v32;
		if (vlapic_x2apic(v))
			*reg(v, APIC_ICR_HI) = (uint32_t)(val >> 32);
		send_ipi(v, v32, vlapic_x2apic(v) ? (uint32_t)(val >> 32) : *reg(v, APIC_ICR_HI) >> 24);
		return 0;
	case APIC_LVT_TIMER: return write_lvt_timer(v, v32);
	case APIC_LVT_CMCI: case APIC_LVT_THERMAL: case APIC_LVT_PMC:
	case APIC_LVT_LINT0: case APIC_LVT_LINT1: case APIC_LVT_ERROR:
		*reg(v, off) = v32 & 0x1f7ffu;
		return 0;
	case APIC_TIMER_ICR:
		*reg(v, off) = v32;
		timer_load(v, v32);
		return 0;
	case APIC_TIMER_DCR: *reg(v, off) = v32 & 0xbu; return 0;
	case APIC_SELF_IPI:
		if (!vlapic_x2apic(v))
			return -EINVAL;
		vlapic_post(v, (uint8_t)v32);
		return 0;
	case APIC_ID: case APIC_VERSION:
		return vlapic_x2apic(v) ? -EINVAL : 0; /* read-only: ignored in xAPIC mode */
	default:
		return -EINVAL;
	}
}

static int write_apic_base(struct vcpu *v, uint64_t val)
{
	uint64_t allowed = GMAP_LAPIC_BASE | IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD | IA32_APIC_BASE_BSP;
	bool x2 = val & IA32_APIC_BASE_EXTD, was_x2 = vlapic_x2apic(v);

	/* Relocating the APIC, or x2APIC -> xAPIC without disabling first, is refused (11.12.5). */
	if ((val & ~allowed) || (val & ~0xfffull) != GMAP_LAPIC_BASE || (was_x2 && !x2 && (val & IA32_APIC_BASE_EN)) ||
	    (x2 && !(val & IA32_APIC_BASE_EN)))
		return -EINVAL;
	v->lapic.apic_base = (val & ~IA32_APIC_BASE_BSP) | (v->lapic.apic_base & IA32_APIC_BASE_BSP);
	if (x2 != was_x2)
		*reg(v, APIC_LDR) = x2 ? x2apic_ldr(v) : 0; /* 11.12.10.2; 0 as after a reset */
	return 0;
}

int vlapic_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (msr == MSR_IA32_APIC_BASE) {
		*val = v->lapic.apic_base;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = LVT_TIMER_MODE(*reg(v, APIC_LVT_TIMER)) == TIMER_TSC_DEADLINE ? v->lapic.tsc_deadline : 0;
		return 0;
	}
	if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -EPERM;
	if (!vlapic_x2apic(v))
		return -EINVAL;
	return vlapic_read(v, (msr - X2APIC_MSR_FIRST) << 4, val);
}

int vlapic_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	vcpu_note_event(v);
	if (msr == MSR_IA32_APIC_BASE)
		return write_apic_base(v, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (LVT_TIMER_MODE(*reg(v, APIC_LVT_TIMER)) == TIMER_TSC_DEADLINE) {
			/* The deadline is in guest-TSC terms; timer_next is a host TSC (vmm/msr.c). */
			v->lapic.tsc_deadline = val;
			v->lapic.timer_next = val ? vmsr_deadline_to_host(&v->msr, rdtsc(), val) : VLAPIC_NO_EVENT;
		}
		return 0;
	}
	if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -EPERM;
	if (!vlapic_x2apic(v) || (msr != X2APIC_MSR_FIRST + (APIC_ICR_LO >> 4) && (val >> 32)))
		return -EINVAL;
	return vlapic_write(v, (msr - X2APIC_MSR_FIRST) << 4, val);
}
