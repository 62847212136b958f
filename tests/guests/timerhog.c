/* SPDX-License-Identifier: MIT */
/*
 * A guest whose own local APIC timer (x2APIC mode) tries to take its CPU
 * from the vCPUs beside it. It spins, or spins and sleeps, until the TSC
 * reads TIMERHOG_UNTIL (past the counter guests' last report), then
 * reports and halts. Built three times from this source:
 *
 *   timerhog      periodic timer, initial count 1, masked; spins with
 *                 interrupts on. A masked timer must cost no exits. Then it
 *                 unmasks the timer for TIMERHOG_UNMASKED_TSC: the period is
 *                 lengthened to the floor (guest.h, Local APIC), so at most
 *                 one tick per TIMERHOG_MIN_PERIOD_US comes.
 *   timerhog_1k   (-DTIMERHOG_1K) a 1 kHz periodic timer; spins with
 *                 interrupts off, like a kernel busy in a critical section,
 *                 so every tick stays pending. Then it takes the interrupt
 *                 that all those periods collapsed into.
 *   timerhog_hlt  (-DTIMERHOG_HLT) the same timer; after each tick it spins
 *                 for 9/10 of a period, then sleeps in HLT until the next
 *                 one, so that every tick wakes it from HLT.
 *
 * Lines:
 *   timerhog: masked periodic timer, initial count 1, current count <= 1 in <n> reads
 *   timerhog: unmasked for <t> TSC: <n> ticks (at most <m>)
 *   timerhog_1k: 1 kHz periodic timer (period <p> TSC): <n> tick(s) once interrupts were on
 *   timerhog_hlt: 1 kHz periodic timer, HLT before each tick: <n> ticks, <w> wake-ups from HLT
 */
#include "tests/guests/apic.h"
#include "tests/guests/tick.h"

#define TIMERHOG_UNTIL        850000000ull
#define TIMERHOG_VEC          0x42u
#define TIMERHOG_SPURIOUS     0xffu
/* Tern's floor for periodic mode (guest.h, Local APIC). */
#define TIMERHOG_MIN_PERIOD_US 50u
#define TIMERHOG_UNMASKED_TSC 5000000ull
#define TIMERHOG_CCR_READS    1000u
#define TIMERHOG_HZ           1000u

#if defined(TIMERHOG_1K)
const char guest_name[] = "timerhog_1k";
#elif defined(TIMERHOG_HLT)
const char guest_name[] = "timerhog_hlt";
#else
const char guest_name[] = "timerhog";
#endif

static volatile uint64_t ticks;

static void timerhog_irq(struct guest_trap_frame *f)
{
	ticks = ticks + 1;
	x2apic_write(APIC_REG_EOI, 0);
}

/* A spurious interrupt needs no EOI (SDM Vol. 3A, 10.9). */
static void timerhog_spurious(struct guest_trap_frame *f)
{
}

/* The timer in x2APIC mode with lvt (mode, mask) and the initial count; interrupts stay off. */
static void timer_start(uint32_t lvt, uint32_t count)
{
	guest_trap_install(NULL);
	guest_irq_install(TIMERHOG_VEC, timerhog_irq);
	guest_irq_install(TIMERHOG_SPURIOUS, timerhog_spurious);
	if (!(x2apic_enable() & APIC_BASE_EXTD)) {
		guest_log("ERROR the APIC did not switch to x2APIC mode");
		guest_halt();
	}
	x2apic_write(APIC_REG_TPR, 0);
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | TIMERHOG_SPURIOUS);
	x2apic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	x2apic_write(APIC_REG_LVT_TIMER, lvt | TIMERHOG_VEC);
	x2apic_write(APIC_REG_TMICT, count);
}

/* Spins until the TSC reads until, with interrupts on if irq; returns with them off. */
static void spin_until(uint64_t until, bool irq)
{
	if (irq)
		__asm__ volatile("sti" ::: "memory");
	while (rdtsc() < until)
		__asm__ volatile("pause" ::: "memory");
	__asm__ volatile("cli" ::: "memory");
}

#if defined(TIMERHOG_1K)
static void hog(uint64_t tsc_khz)
{
	uint64_t period = tsc_khz * 1000 / TIMERHOG_HZ;

	timer_start(APIC_LVT_TIMER_PERIODIC, (uint32_t)period);
	guest_log("1 kHz periodic timer: spinning with interrupts off until TSC %llu", TIMERHOG_UNTIL);
	spin_until(TIMERHOG_UNTIL, false);
	/* The interrupt is taken right after the NOP, in the window STI opens. */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | TIMERHOG_VEC);
	guest_log("1 kHz periodic timer (period %lu TSC): %lu tick(s) once interrupts were on",
		  period, ticks);
	/* One for all the periods that passed (two if the next one ends meanwhile). */
	if (ticks < 1 || ticks > 2)
		guest_log("ERROR %lu ticks for the periods that passed with interrupts off", ticks);
}
#elif defined(TIMERHOG_HLT)
static void hog(uint64_t tsc_khz)
{
	uint64_t period = tsc_khz * 1000 / TIMERHOG_HZ, wakes = 0, seen = 0;

	timer_start(APIC_LVT_TIMER_PERIODIC, (uint32_t)period);
	guest_log("1 kHz periodic timer: HLT before each tick until TSC %llu", TIMERHOG_UNTIL);
	while (rdtsc() < TIMERHOG_UNTIL) {
		/* The STI shadow covers HLT: the tick cannot slip in between. */
		while (ticks == seen)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		seen = ticks;
		wakes++;
		spin_until(rdtsc() + period * 9 / 10, true);
	}
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | TIMERHOG_VEC);
	guest_log("1 kHz periodic timer, HLT before each tick: %lu ticks, %lu wake-ups from HLT",
		  ticks, wakes);
}
#else
static void hog(uint64_t tsc_khz)
{
	uint64_t floor = (uint64_t)TIMERHOG_MIN_PERIOD_US * tsc_khz / 1000, most, t0;
	uint32_t ccr, worst = 0;

	timer_start(APIC_LVT_MASKED | APIC_LVT_TIMER_PERIODIC, 1);
	for (unsigned int i = 0; i < TIMERHOG_CCR_READS; i++) {
		ccr = (uint32_t)x2apic_read(APIC_REG_TMCCT);
		if (ccr > worst)
			worst = ccr;
	}
	guest_log("masked periodic timer, initial count 1, current count <= %u in %u reads", worst,
		  TIMERHOG_CCR_READS);
	if (worst > 1)
		guest_log("ERROR current count %u above the initial count 1", worst);
	guest_log("spinning with interrupts on until TSC %llu", TIMERHOG_UNTIL);
	spin_until(TIMERHOG_UNTIL, true);
	if (ticks)
		guest_log("ERROR %lu ticks from a masked timer", ticks);

	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | TIMERHOG_VEC);
	t0 = rdtsc();
	spin_until(t0 + TIMERHOG_UNMASKED_TSC, true);
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | TIMERHOG_VEC);
	most = (rdtsc() - t0) / floor + 1;
	guest_log("unmasked for %llu TSC: %lu ticks (at most %lu)", TIMERHOG_UNMASKED_TSC, ticks,
		  most);
	if (ticks > most || !ticks)
		guest_log("ERROR %lu ticks unmasked, expected 1 to %lu", ticks, most);
}
#endif

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	hog(tick_tsc_khz());
	x2apic_write(APIC_REG_TMICT, 0);
	guest_done();
}
