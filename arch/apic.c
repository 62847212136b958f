/* SPDX-License-Identifier: MIT */
/* Local APIC access in xAPIC and x2APIC mode (SDM vol. 3A 11.4, 11.12). */
#include "arch/apic.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "drivers/tsc.h"

#define ICR_SPINS 1000000u
/* xAPIC physical destination 0xFF is every CPU (SDM vol. 3A 11.6.2.1). */
#define XAPIC_ID_BROADCAST 0xffu

static bool x2apic;
static volatile uint32_t *xapic_base = (volatile uint32_t *)IA32_APIC_BASE_DEFAULT;

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_IA32_X2APIC_BASE + (reg >> 4));
	return xapic_base[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_IA32_X2APIC_BASE + (reg >> 4), v);
	else
		xapic_base[reg / 4] = v;
}

void apic_select_mode(enum apic_mode_opt opt)
{
	bool has_x2 = cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_X2APIC;
	bool fw_x2 = rdmsr(MSR_IA32_APIC_BASE) & IA32_APIC_BASE_EXTD;

	if (opt == APIC_OPT_X2APIC && !has_x2)
		pr_warn("apic: apic=x2apic asked for, but this CPU has no x2APIC; using xAPIC");
	/* Leaving x2APIC mode for xAPIC needs a disable step; firmware rarely does this. */
	if (opt == APIC_OPT_XAPIC && fw_x2)
		pr_warn("apic: firmware left x2APIC on; apic=xapic ignored");
	x2apic = has_x2 && (opt != APIC_OPT_XAPIC || fw_x2);
	xapic_base = (volatile uint32_t *)(rdmsr(MSR_IA32_APIC_BASE) & ~0xfffull);
}

void apic_init_cpu(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | IA32_APIC_BASE_EN;

	if (x2apic)
		base |= IA32_APIC_BASE_EXTD;
	wrmsr(MSR_IA32_APIC_BASE, base);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_ESR, 0);
}

bool apic_is_x2apic(void)
{
	return x2apic;
}

uint32_t apic_id(void)
{
	uint32_t id = apic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static int xapic_wait_idle(void)
{
	for (unsigned int i = 0; i < ICR_SPINS; i++)
		if (!(apic_read(APIC_ICR_LO) & APIC_ICR_BUSY))
			return 0;
	return -ETIMEDOUT;
}

bool apic_id_reachable(uint32_t id)
{
	return x2apic || id < XAPIC_ID_BROADCAST;
}

int apic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
	/* Truncated to 8 bits, a larger ID would name another CPU, or all of them. */
	if (!apic_id_reachable(dest))
		return -EINVAL;
	if (x2apic) {
		wrmsr(MSR_IA32_X2APIC_BASE + (APIC_ICR_LO >> 4), ((uint64_t)dest << 32) | icr_lo);
		return 0;
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr_lo);
	return xapic_wait_idle();
}

int apic_send_ipi_all_but_self(uint32_t icr_lo)
{
	return apic_send_ipi(0, icr_lo | APIC_ICR_ALL_BUT_SELF);
}

#define TIMER_DIV_1        0xbu
#define LVT_TIMER_ONESHOT  (0u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define CAL_US             10000u

static bool tsc_deadline_timer;
static uint64_t apic_ticks_per_ms;

void apic_timer_calibrate(void)
{
	uint64_t start;
	uint32_t left;

	tsc_deadline_timer = cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_TSC_DEADLINE;
	if (tsc_deadline_timer) {
		pr_info("apic: host timer in TSC-deadline mode");
		return;
	}
	apic_write(APIC_TIMER_DCR, TIMER_DIV_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TIMER_ICR, 0xffffffffu);
	start = tsc_now_us();
	while (tsc_now_us() - start < CAL_US)
		cpu_relax();
	left = apic_read(APIC_TIMER_CCR);
	apic_write(APIC_TIMER_ICR, 0);
	apic_ticks_per_ms = (0xffffffffull - left) / (CAL_US / 1000);
	pr_info("apic: host timer one-shot, %lu ticks per ms", (unsigned long)apic_ticks_per_ms);
}

void apic_timer_arm(uint64_t deadline)
{
	uint64_t now = rdtsc(), ticks;

	if (tsc_deadline_timer) {
		apic_write(APIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VEC_APIC_TIMER);
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline > now ? deadline : now + 1);
		return;
	}
	ticks = deadline > now ? (deadline - now) * apic_ticks_per_ms / (tsc_khz ? tsc_khz : 1) : 1;
	apic_write(APIC_TIMER_DCR, TIMER_DIV_1);
	apic_write(APIC_LVT_TIMER, LVT_TIMER_ONESHOT | VEC_APIC_TIMER);
	apic_write(APIC_TIMER_ICR, (uint32_t)(ticks > 0xffffffffull ? 0xffffffffull : ticks ? ticks : 1));
}

void apic_timer_cancel(void)
{
	if (tsc_deadline_timer)
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	else
		apic_write(APIC_TIMER_ICR, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}
