/* SPDX-License-Identifier: MIT */
/*
 * The virtual local APIC timer: periodic, one-shot and TSC-deadline modes,
 * timed with RDTSC. Built twice: apictimer uses x2APIC mode (MSRs),
 * apictimer_xapic (-DUSE_XAPIC) the xAPIC page (MMIO).
 *
 * Lines, MODE being "x2apic" or "xapic":
 *   MODE mode, APIC ID <id>, IA32_APIC_BASE 0x<base>
 *   MODE periodic 50 ticks, mean period <p> TSC (programmed 200000)
 *   MODE one-shot fired after <d> TSC (programmed 1000000)
 *   MODE tsc-deadline fired <late> TSC after the deadline
 *   MODE tsc-deadline disarmed by writing 0: no tick in 3000000 TSC
 */
#include "tests/guests/apic.h"

#define APICTIMER_VEC      0x40u
#define APICTIMER_SPURIOUS 0xffu

#define PERIODIC_COUNT     200000u
#define PERIODIC_TICKS     50u
#define PERIODIC_TOL_PCT   2u
#define ONESHOT_COUNT      1000000u
#define ONESHOT_MAX_TSC    1100000u
#define DEADLINE_DELTA_TSC 2000000u
#define DEADLINE_MAX_LATE  200000u
/* How long to watch for a tick that must not come. */
#define QUIET_TSC          3000000u
/* Lets an interrupt already pending be taken before a test starts. */
#define DRAIN_TSC          10000u

#define MAX_TICKS 64u

#ifdef USE_XAPIC
const char guest_name[] = "apictimer_xapic";
#define MODE "xapic"

static uint32_t apic_read(uint32_t reg)
{
	return xapic_read(reg);
}

static void apic_write(uint32_t reg, uint32_t val)
{
	xapic_write(reg, val);
}
#else
const char guest_name[] = "apictimer";
#define MODE "x2apic"

static uint32_t apic_read(uint32_t reg)
{
	return (uint32_t)x2apic_read(reg);
}

static void apic_write(uint32_t reg, uint32_t val)
{
	x2apic_write(reg, val);
}
#endif

static volatile unsigned int ticks;
static volatile uint64_t tick_tsc[MAX_TICKS];

static void apictimer_irq(struct guest_trap_frame *f)
{
	uint64_t now = rdtsc();
	unsigned int n = ticks;

	if (n < MAX_TICKS)
		tick_tsc[n] = now;
	ticks = n + 1;
	apic_write(APIC_REG_EOI, 0);
}

/* A spurious interrupt needs no EOI (SDM Vol. 3A, 10.9). */
static void apictimer_spurious(struct guest_trap_frame *f)
{
}

/* Sleeps in "sti; hlt" until n ticks have come; returns with interrupts off. */
static void wait_ticks(unsigned int n)
{
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if (ticks >= n)
			return;
		/* The STI shadow covers HLT: no wake-up is lost in between. */
		__asm__ volatile("sti; hlt" : : : "memory");
	}
}

/* Spins for n TSC ticks with interrupts on; returns with them off. */
static void spin_tsc(uint64_t n)
{
	uint64_t end = rdtsc() + n;

	__asm__ volatile("sti" : : : "memory");
	while (rdtsc() < end)
		__asm__ volatile("pause");
	__asm__ volatile("cli" : : : "memory");
}

static void timer_stop(void)
{
	apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | APICTIMER_VEC);
	apic_write(APIC_REG_TMICT, 0);
	spin_tsc(DRAIN_TSC);
	ticks = 0;
}

static void apic_setup(void)
{
	struct cpuid_regs r = cpuid(CPUID_LEAF_FEATURES, 0);
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	uint32_t id;

	if (!(r.ecx & CPUID_1_ECX_X2APIC))
		guest_log("ERROR CPUID.1:ECX 0x%x: no x2APIC", r.ecx);
	if (!(r.ecx & CPUID_1_ECX_TSC_DEADLINE))
		guest_log("ERROR CPUID.1:ECX 0x%x: no TSC-deadline timer", r.ecx);
	if (base != APIC_BASE_RESET_BSP)
		guest_log("ERROR IA32_APIC_BASE reads 0x%lx, expected 0x%llx", base,
			  APIC_BASE_RESET_BSP);
#ifdef USE_XAPIC
	id = xapic_read(APIC_REG_ID) >> APIC_XAPIC_ID_SHIFT;
#else
	base = x2apic_enable();
	if (!(base & APIC_BASE_EXTD)) {
		guest_log("ERROR IA32_APIC_BASE reads 0x%lx after setting EXTD", base);
		guest_halt();
	}
	id = (uint32_t)x2apic_read(APIC_REG_ID);
#endif
	guest_log(MODE " mode, APIC ID %u, IA32_APIC_BASE 0x%lx", id, base);
	if (id != 0)
		guest_log("ERROR vCPU 0 has APIC ID %u, expected 0", id);

	apic_write(APIC_REG_TPR, 0);
	apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | APICTIMER_SPURIOUS);
	apic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	timer_stop();
}

static void test_periodic(void)
{
	uint64_t t0, first, mean;
	uint64_t tol = PERIODIC_COUNT * PERIODIC_TOL_PCT / 100;

	apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | APICTIMER_VEC);
	t0 = rdtsc();
	apic_write(APIC_REG_TMICT, PERIODIC_COUNT);
	wait_ticks(PERIODIC_TICKS);
	timer_stop();

	/* Between ticks, so the cost of arming the timer does not count. */
	first = tick_tsc[0] - t0;
	mean = (tick_tsc[PERIODIC_TICKS - 1] - tick_tsc[0]) / (PERIODIC_TICKS - 1);
	guest_log(MODE " periodic %u ticks, mean period %lu TSC (programmed %u)", PERIODIC_TICKS,
		  mean, PERIODIC_COUNT);
	if (mean + tol < PERIODIC_COUNT || mean > PERIODIC_COUNT + tol)
		guest_log("ERROR " MODE " periodic: mean period %lu is off by more than %u%%",
			  mean, PERIODIC_TOL_PCT);
	if (first < PERIODIC_COUNT)
		guest_log("ERROR " MODE " periodic: first tick after %lu TSC, before %u", first,
			  PERIODIC_COUNT);
}

static void test_oneshot(void)
{
	uint64_t t0, d;
	uint32_t cc;

	apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | APICTIMER_VEC);
	t0 = rdtsc();
	apic_write(APIC_REG_TMICT, ONESHOT_COUNT);
	cc = apic_read(APIC_REG_TMCCT);
	wait_ticks(1);

	d = tick_tsc[0] - t0;
	guest_log(MODE " one-shot fired after %lu TSC (programmed %u)", d, ONESHOT_COUNT);
	if (d < ONESHOT_COUNT || d > ONESHOT_MAX_TSC)
		guest_log("ERROR " MODE " one-shot: fired after %lu TSC, expected %u to %u", d,
			  ONESHOT_COUNT, ONESHOT_MAX_TSC);
	if (cc == 0 || cc > ONESHOT_COUNT)
		guest_log("ERROR " MODE " one-shot: current count %u right after arming", cc);
	cc = apic_read(APIC_REG_TMCCT);
	if (cc != 0)
		guest_log("ERROR " MODE " one-shot: current count %u after firing, expected 0", cc);

	spin_tsc(QUIET_TSC);
	if (ticks != 1)
		guest_log("ERROR " MODE " one-shot: %u ticks within %u TSC of the first", ticks,
			  QUIET_TSC);
	timer_stop();
}

static void test_tsc_deadline(void)
{
	uint64_t deadline, left;
	int64_t late;

	apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | APICTIMER_VEC);
	/* Orders the LVT write before the deadline WRMSR (SDM Vol. 3A, 10.5.4.1). */
	__asm__ volatile("mfence" : : : "memory");

	deadline = rdtsc() + DEADLINE_DELTA_TSC;
	wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
	wait_ticks(1);
	late = (int64_t)(tick_tsc[0] - deadline);
	guest_log(MODE " tsc-deadline fired %ld TSC after the deadline", late);
	if (late < 0 || late > (int64_t)DEADLINE_MAX_LATE)
		guest_log("ERROR " MODE " tsc-deadline: fired %ld TSC after the deadline, "
			  "expected 0 to %u", late, DEADLINE_MAX_LATE);
	left = rdmsr(MSR_IA32_TSC_DEADLINE);
	if (left != 0)
		guest_log("ERROR " MODE " tsc-deadline: IA32_TSC_DEADLINE reads 0x%lx after firing",
			  left);
	spin_tsc(QUIET_TSC);
	if (ticks != 1)
		guest_log("ERROR " MODE " tsc-deadline: %u ticks for one deadline", ticks);

	ticks = 0;
	wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + DEADLINE_DELTA_TSC);
	wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	spin_tsc(QUIET_TSC);
	if (ticks != 0)
		guest_log("ERROR " MODE " tsc-deadline: fired after being disarmed by writing 0");
	else
		guest_log(MODE " tsc-deadline disarmed by writing 0: no tick in %u TSC", QUIET_TSC);
	timer_stop();
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	guest_trap_install(NULL);
	guest_irq_install(APICTIMER_VEC, apictimer_irq);
	guest_irq_install(APICTIMER_SPURIOUS, apictimer_spurious);

	apic_setup();
	test_periodic();
	test_oneshot();
	test_tsc_deadline();
	guest_done();
}
