/* SPDX-License-Identifier: MIT */
/*
 * Guest time through a pause: a paused VM's time stands, for every clock it
 * has (docs/devices.md, "Guest time"). The guest arms its local APIC timer
 * for PAUSETIME_TSC ticks, one-shot and TSC-deadline in turn, and spins
 * with interrupts on until it fires; a test pauses the VM in between. However long
 * the pause, the timer must fire PAUSETIME_TSC after it was armed by the
 * guest's own TSC, and the ACPI PM timer must have measured the same wait:
 * a TSC that ran on through the pause shows a longer wait, a local APIC
 * timer that ran on fires at once after the resume (a shorter one).
 *
 * Lines, forever, k = 1, 2, ...:
 *   armed k MODE for <PAUSETIME_TSC> TSC
 *   fired k MODE after <d> TSC (<tsc_ms> ms), pm <pm_ms> ms, <n> ticks
 * MODE is "one-shot" (odd k) or "tsc-deadline" (even k).
 */
#include "tests/guests/apic.h"
#include "tests/guests/tick.h"

#define PAUSETIME_VEC      0x40u
#define PAUSETIME_SPURIOUS 0xffu
#define PAUSETIME_TSC      250000000u /* 5 s at the 50 MHz of Bochs as the tests run it */
#define PM_TMR             0x608u     /* Tern's PM1 timer (FADT PM_TMR_BLK), 32 bits */
#define PM_HZ              3579545u

const char guest_name[] = "pausetime";

static volatile unsigned int ticks;
static volatile uint64_t fired_tsc;

static void pausetime_irq(struct guest_trap_frame *f)
{
	fired_tsc = rdtsc();
	ticks++;
	x2apic_write(APIC_REG_EOI, 0);
}

/* A spurious interrupt needs no EOI (SDM Vol. 3A, 10.9). */
static void pausetime_spurious(struct guest_trap_frame *f)
{
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t khz = tick_tsc_khz();

	guest_trap_install(NULL);
	guest_irq_install(PAUSETIME_VEC, pausetime_irq);
	guest_irq_install(PAUSETIME_SPURIOUS, pausetime_spurious);
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | PAUSETIME_SPURIOUS);
	x2apic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	guest_log("start (TSC %lu kHz)", khz);
	for (uint64_t k = 1;; k++) {
		bool deadline = !(k & 1);
		const char *mode = deadline ? "tsc-deadline" : "one-shot";
		uint64_t t0, d;
		uint32_t pm0, pm_ms;

		ticks = 0;
		x2apic_write(APIC_REG_LVT_TIMER, PAUSETIME_VEC |
			     (deadline ? APIC_LVT_TIMER_TSC_DEADLINE : APIC_LVT_TIMER_ONESHOT));
		/* Orders the LVT write before the deadline WRMSR (SDM Vol. 3A, 10.5.4.1). */
		__asm__ volatile("mfence" : : : "memory");
		pm0 = inl(PM_TMR);
		t0 = rdtsc();
		if (deadline)
			wrmsr(MSR_IA32_TSC_DEADLINE, t0 + PAUSETIME_TSC);
		else
			x2apic_write(APIC_REG_TMICT, PAUSETIME_TSC);
		guest_log("armed %lu %s for %u TSC", k, mode, PAUSETIME_TSC);
		/*
		 * Spinning, not in HLT: Bochs skips time while every CPU idles,
		 * and the wait must outlast the test's pause request.
		 */
		__asm__ volatile("sti" : : : "memory");
		while (!ticks)
			__asm__ volatile("pause" : : : "memory");
		__asm__ volatile("cli" : : : "memory");
		pm_ms = (uint32_t)((uint64_t)(inl(PM_TMR) - pm0) * 1000 / PM_HZ);
		d = fired_tsc - t0;
		guest_log("fired %lu %s after %lu TSC (%lu ms), pm %u ms, %u ticks", k, mode, d,
			  d / khz, pm_ms, ticks);
	}
}
