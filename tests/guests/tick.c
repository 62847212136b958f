/* SPDX-License-Identifier: MIT */
/* A periodic x2APIC timer tick for guests that sleep between polls (tick.h). */
#include "tests/guests/tick.h"
#include "tests/guests/apic.h"

#define TICK_VEC      0x41u
#define TICK_SPURIOUS 0xffu
#define CPUID_LEAF_TSC_CRYSTAL 0x15u

static volatile uint64_t ticks;

static void tick_irq(struct guest_trap_frame *f)
{
	ticks = ticks + 1;
	x2apic_write(APIC_REG_EOI, 0);
}

/* A spurious interrupt needs no EOI (SDM Vol. 3A, 10.9). */
static void tick_spurious(struct guest_trap_frame *f)
{
}

uint64_t tick_tsc_khz(void)
{
	struct cpuid_regs r = cpuid(CPUID_LEAF_HV_ABI, 0);

	/* Tern says (docs/hypercalls.md, Finding Tern); else the CPU may. */
	if (r.ebx)
		return r.ebx;
	/* SDM Vol. 2A, CPUID leaf 15H: TSC = crystal (ECX Hz) * EBX / EAX. */
	if (cpuid(CPUID_LEAF_BASIC, 0).eax >= CPUID_LEAF_TSC_CRYSTAL) {
		r = cpuid(CPUID_LEAF_TSC_CRYSTAL, 0);
		if (r.eax && r.ebx && r.ecx)
			return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
	}
	return TICK_TSC_KHZ_DEFAULT;
}

void tick_start(unsigned int hz)
{
	tick_start_khz(hz, tick_tsc_khz());
}

void tick_start_khz(unsigned int hz, uint64_t tsc_khz)
{
	uint64_t period = tsc_khz * 1000 / hz;

	__asm__ volatile("cli" : : : "memory");
	guest_trap_install(NULL);
	guest_irq_install(TICK_VEC, tick_irq);
	guest_irq_install(TICK_SPURIOUS, tick_spurious);
	if (!(x2apic_enable() & APIC_BASE_EXTD)) {
		guest_log("ERROR tick: the APIC did not switch to x2APIC mode");
		guest_halt();
	}
	x2apic_write(APIC_REG_TPR, 0);
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | TICK_SPURIOUS);
	x2apic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | TICK_VEC);
	x2apic_write(APIC_REG_TMICT, period > UINT32_MAX ? UINT32_MAX : period);
}

uint64_t tick_count(void)
{
	return ticks;
}

uint64_t tick_wait(uint64_t seen)
{
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if (ticks != seen)
			return ticks;
		/* The STI shadow covers HLT: no wake-up is lost in between. */
		__asm__ volatile("sti; hlt" : : : "memory");
	}
}
