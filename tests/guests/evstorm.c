/* SPDX-License-Identifier: MIT */
/*
 * Events during an exit storm (issue 14): timers and IPIs must each arrive
 * exactly once, in time, while the vCPU exits as fast as it can (VMCALL,
 * CPUID, OUT 0x80, IN from the UART's LSR), with interrupts on.
 *
 *  1. A periodic x2APIC timer (EVS_PERIOD TSC ticks): tick n is handled no
 *     earlier than t0 + n * period (t0 read before the TMICT write, so
 *     before Tern's timer start) and at most EVS_LATE_MAX after it; the
 *     count matches the elapsed TSC.
 *  2. TSC-deadline one-shots: each handled once, never before its deadline,
 *     within EVS_LATE_MAX after it; IA32_TSC_DEADLINE reads 0 afterwards.
 *     Half wait in the exit storm, half in a loop without exits, where only
 *     the preemption timer Tern armed from the new deadline brings the exit.
 *  3. A deadline that passes with IF=0 (cli; exits; sti): nothing is taken
 *     while IF=0, and the interrupt is taken right after the instruction
 *     that follows STI (the STI shadow, SDM vol. 3A 6.8.3), once.
 *  4. With two vCPUs: vCPU 0 sends EVS_NR_IPIS fixed IPIs, and an NMI after
 *     every EVS_NMI_EVERY, to vCPU 1, which runs the exit loop; each IPI
 *     carries a sequence number in shared memory and waits for its ack:
 *     every IPI and NMI handled exactly once, in order, within
 *     EVS_IPI_LAT_MAX of the ICR write.
 *
 * Lines (all "evstorm: ..."): "periodic: ...", "deadline: ...",
 * "if0: ...", "ipi: ...", "vcpu0 took N timer interrupts" (for the test to
 * compare with Tern's "timer fired N times"), ERROR lines, "done".
 */
#include "tests/guests/apic.h"

#include "kernel/string.h"

/* 2 kHz at Bochs' 50 MHz TSC; well above Tern's 50 us floor (guest.h). */
#define EVS_PERIOD       25000ull
#define EVS_PERIODIC_RUN (400 * EVS_PERIOD)
/*
 * Latest a timer interrupt may be handled after it is due. Tern notices a
 * due timer at the preemption-timer exit its deadline arms (vmm/sched.c
 * arm_slice), or at the next exit of the storm, whichever is first: one
 * exit's worth of Tern code and the guest's handler entry, a few thousand
 * ticks under Bochs (1 tick = 1 instruction). A fifth of a period: a tick
 * Tern lost or put off to a later exit path shows as a whole period late.
 */
#define EVS_LATE_MAX     (EVS_PERIOD / 5)
#define EVS_NR_DEADLINES 24u
#define EVS_NR_IPIS      240u
#define EVS_NMI_EVERY    6u
#define EVS_WAIT_TSC     50000000ull /* 1 s at 50 MHz: an ack that never comes */
/*
 * Latest an IPI or NMI may be taken after the sender's ICR write: the
 * write's exit, the post and kick to the target's CPU, its exit and the
 * entry that injects; ~2000 ticks under Bochs. Well under Tern's 1 ms
 * request poll (50000 ticks), the next exit that would pick up an IPI whose
 * posting forgot to tell the target.
 */
#define EVS_IPI_LAT_MAX  20000ull

#define VEC_PERIODIC 0x40u
#define VEC_DEADLINE 0x41u
#define VEC_IPI      0x50u
#define VEC_NMI      2u

#define APIC_ICR_DM_NMI (4ull << 8)

/* The AP trampoline (smp_ap.asm), as in smp.c. */
#define SMP_TRAMP_PHYS   0x8000ull
#define SMP_SIPI_VECTOR  (SMP_TRAMP_PHYS >> 12)
#define SMP_BSP_STACK_SIZE 0x10000ull
#define SMP_AP_STACK_SIZE  0x4000ull
#define CR4_PSE   BIT(4)
#define CR4_PAE   BIT(5)
#define CR4_PGE   BIT(7)
#define MSR_IA32_EFER 0xc0000080u
#define EFER_SCE  BIT(0)
#define EFER_LME  BIT(8)
#define EFER_NXE  BIT(11)

const char guest_name[] = "evstorm";

extern const char smp_tramp_start[], smp_tramp_end[];
extern uint32_t smp_ap_cr0, smp_ap_cr3, smp_ap_cr4, smp_ap_efer, smp_ap_next_slot;
extern uint64_t smp_ap_stack_top, smp_ap_stack_size;
void smp_ap_main(void);

uint32_t smp_ap_cr0, smp_ap_cr3, smp_ap_cr4, smp_ap_efer, smp_ap_next_slot;
uint64_t smp_ap_stack_top, smp_ap_stack_size;

static unsigned int errors;
static uint64_t exits_done;

/* Timer state, vCPU 0 only (written by its handlers). */
static volatile uint64_t per_t0, per_n, per_early, per_late_max, per_late_n;
static volatile uint64_t dl_n, dl_tsc;
static uint64_t timer_irqs; /* every timer interrupt vCPU 0 took */

/* Shared between the two vCPUs (item 4). */
static volatile uint32_t ipi_seq, ipi_ack, nmi_seq, nmi_ack;
static volatile uint32_t ap_ipi_handled, ap_ipi_last, ap_ipi_dup, ap_ipi_order;
static volatile uint32_t ap_nmi_handled, ap_nmi_last, ap_nmi_bad;
static volatile uint32_t ap_online, ap_stop, ap_reported;
static volatile uint64_t ipi_sent_tsc, ap_ipi_lat_max, ap_nmi_lat_max, ap_lat_over;

#define FAIL(...) do { guest_log("ERROR " __VA_ARGS__); errors++; } while (0)

/* One exit of each kind in turn; each result checked, as a lost register would show. */
static void exit_burst(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		switch (i & 3) {
		case 0:
			if (vmcall(TERN_HC_VERSION) != TERN_ABI_VERSION)
				FAIL("VMCALL VERSION returned something else");
			break;
		case 1:
			if (cpuid(CPUID_LEAF_HV_BASE, 0).eax != TERN_CPUID_HV_MAX)
				FAIL("CPUID 0x40000000 EAX wrong");
			break;
		case 2:
			outb(0x80, (uint8_t)i);
			break;
		default:
			if ((inb(UART_COM1_PORT + UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT)) !=
			    (UART_LSR_THRE | UART_LSR_TEMT))
				FAIL("LSR without THRE|TEMT");
			break;
		}
	}
	exits_done += n;
}

static void eoi(void)
{
	x2apic_write(APIC_REG_EOI, 0);
}

static void on_periodic(struct guest_trap_frame *f)
{
	uint64_t t = rdtsc(), due;

	per_n++;
	due = per_t0 + per_n * EVS_PERIOD;
	if (t < due)
		per_early++;
	else if (t - due > per_late_max)
		per_late_max = t - due;
	if (t >= due && t - due > EVS_LATE_MAX)
		per_late_n++;
	timer_irqs++;
	eoi();
}

static void on_deadline(struct guest_trap_frame *f)
{
	dl_tsc = rdtsc();
	dl_n++;
	timer_irqs++;
	eoi();
}

static void periodic_phase(void)
{
	uint64_t t_end, elapsed, want;

	x2apic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | VEC_PERIODIC);
	__asm__ volatile("sti");
	per_t0 = rdtsc();
	x2apic_write(APIC_REG_TMICT, EVS_PERIOD);
	while (rdtsc() - per_t0 < EVS_PERIODIC_RUN)
		exit_burst(16);
	__asm__ volatile("cli");
	t_end = rdtsc();
	x2apic_write(APIC_REG_TMICT, 0); /* stopped (SDM 10.5.4): a tick due now is in IRR */
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | VEC_PERIODIC);
	__asm__ volatile("sti; nop; nop; cli"); /* that one, if any */
	elapsed = t_end - per_t0;
	want = elapsed / EVS_PERIOD;
	guest_log("periodic: %lu ticks in %lu TSC (period %llu: %lu due), %lu early, worst %lu late, "
		  "%lu later than %llu, %lu exits",
		  per_n, elapsed, EVS_PERIOD, want, per_early, per_late_max, per_late_n,
		  EVS_LATE_MAX, exits_done);
	/* Tick want may be due by t_end and taken only after it: want or want + 1 ticks. */
	if (per_n + 1 < want || per_n > want + 1)
		FAIL("periodic: %lu ticks, %lu periods elapsed", per_n, want);
	if (per_early)
		FAIL("periodic: %lu ticks before they were due (duplicated?)", per_early);
	if (per_late_n)
		FAIL("periodic: %lu ticks more than %llu TSC late (worst %lu)", per_late_n,
		     EVS_LATE_MAX, per_late_max);
}

static void deadline_phase(void)
{
	uint64_t worst[2] = { 0, 0 }, dl, n0, t;

	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | VEC_DEADLINE);
	__asm__ volatile("sti");
	for (unsigned int k = 0; k < EVS_NR_DEADLINES; k++) {
		/* 2000 to ~70000 ticks ahead: shorter and longer than one exit, one slice part. */
		uint64_t ahead = 2000 + (uint64_t)k * k * 120;

		bool quiet = k & 1;

		n0 = dl_n;
		dl = rdtsc() + ahead;
		wrmsr(MSR_IA32_TSC_DEADLINE, dl);
		while (dl_n == n0 && rdtsc() < dl + EVS_WAIT_TSC)
			if (quiet)
				__asm__ volatile("pause");
			else
				exit_burst(4);
		/* Two more late bounds: a second delivery would show. */
		for (t = rdtsc(); rdtsc() - t < 2 * EVS_LATE_MAX;)
			if (!quiet)
				exit_burst(4);
		if (dl_n != n0 + 1) {
			FAIL("deadline %u (+%lu): %lu interrupts, want 1", k, ahead, dl_n - n0);
			continue;
		}
		if (dl_tsc < dl)
			FAIL("deadline %u: taken %lu TSC before its deadline", k, dl - dl_tsc);
		else if (dl_tsc - dl > EVS_LATE_MAX)
			FAIL("deadline %u (+%lu): taken %lu TSC late", k, ahead, dl_tsc - dl);
		else if (dl_tsc - dl > worst[quiet])
			worst[quiet] = dl_tsc - dl;
		if (rdmsr(MSR_IA32_TSC_DEADLINE) != 0)
			FAIL("deadline %u: IA32_TSC_DEADLINE still reads nonzero after firing", k);
	}
	__asm__ volatile("cli");
	guest_log("deadline: %u one-shots, %lu interrupts, worst %lu TSC late in exit storms, %lu quiet",
		  EVS_NR_DEADLINES, dl_n, worst[0], worst[1]);
}

/*
 * A deadline that passes while IF=0: held while the exits go on, then taken
 * between the instruction after STI and the next one. The read of dl_n
 * after "sti; nop" must see it (Tern asks for the interrupt window when it
 * cannot inject: vmm/vcpu.c inject_pending).
 */
static void if0_phase(void)
{
	uint64_t n0 = dl_n, dl, t_sti, held;
	uint64_t seen;

	__asm__ volatile("cli");
	dl = rdtsc() + 5000;
	wrmsr(MSR_IA32_TSC_DEADLINE, dl);
	while (rdtsc() < dl + 4 * EVS_PERIOD)
		exit_burst(4);
	held = dl_n - n0;
	t_sti = rdtsc();
	__asm__ volatile("sti; nop; movq %1, %0" : "=r"(seen) : "m"(dl_n) : "memory");
	seen -= n0;
	for (uint64_t t = rdtsc(); rdtsc() - t < 2 * EVS_PERIOD;)
		exit_burst(4);
	__asm__ volatile("cli");
	guest_log("if0: %lu taken with IF=0, %lu right after STI, %lu in all; held %lu TSC past the deadline",
		  held, seen, dl_n - n0, t_sti - dl);
	if (held)
		FAIL("if0: %lu timer interrupts taken while IF=0", held);
	if (seen != 1)
		FAIL("if0: %lu interrupts right after sti; nop, want 1", seen);
	if (dl_n - n0 != 1)
		FAIL("if0: %lu interrupts in all, want 1", dl_n - n0);
	if (dl_tsc < t_sti)
		FAIL("if0: the interrupt was taken before STI");
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | VEC_DEADLINE);
}

/* --- vCPU 1: the IPI target ---------------------------------------------- */

static void ipi_latency(volatile uint64_t *max)
{
	uint64_t lat = rdtsc() - ipi_sent_tsc;

	if (lat > *max)
		*max = lat;
	if (lat > EVS_IPI_LAT_MAX)
		ap_lat_over++;
}

static void on_ipi(struct guest_trap_frame *f)
{
	uint32_t s = ipi_seq;

	ipi_latency(&ap_ipi_lat_max);
	if (s == ap_ipi_last)
		ap_ipi_dup++;
	else if (s != ap_ipi_last + 1)
		ap_ipi_order++;
	ap_ipi_last = s;
	ap_ipi_handled++;
	ipi_ack = s;
	eoi();
}

/* NMIs (vector 2) only; every other exception is an ERROR line. */
static bool on_exception(struct guest_trap_frame *f)
{
	uint32_t s;

	if (f->vector != VEC_NMI)
		return false;
	ipi_latency(&ap_nmi_lat_max);
	s = nmi_seq;
	if (s != ap_nmi_last + 1)
		ap_nmi_bad++;
	ap_nmi_last = s;
	ap_nmi_handled++;
	nmi_ack = s;
	return true;
}

void smp_ap_main(void)
{
	guest_trap_load();
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	__atomic_store_n(&ap_online, 1, __ATOMIC_SEQ_CST);
	__asm__ volatile("sti");
	while (!ap_stop)
		exit_burst(8);
	__asm__ volatile("cli");
	guest_log("ipi: vcpu1 handled %u IPIs (last %u, %u repeated, %u out of order), %u NMIs "
		  "(last %u, %u out of order)",
		  ap_ipi_handled, ap_ipi_last, ap_ipi_dup, ap_ipi_order, ap_nmi_handled, ap_nmi_last,
		  ap_nmi_bad);
	__atomic_store_n(&ap_reported, 1, __ATOMIC_SEQ_CST);
	guest_halt();
}

static void delay_tsc(uint64_t n)
{
	for (uint64_t end = rdtsc() + n; rdtsc() < end;)
		__asm__ volatile("pause");
}

static bool start_ap(uint64_t memsize)
{
	uint64_t cr0, cr3, cr4, dest = 1ull << APIC_ICR_X2APIC_DEST_SHIFT;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	smp_ap_cr0 = (uint32_t)cr0;
	smp_ap_cr3 = (uint32_t)cr3;
	smp_ap_cr4 = (uint32_t)(cr4 & (CR4_PSE | CR4_PAE | CR4_PGE));
	smp_ap_efer = (uint32_t)(rdmsr(MSR_IA32_EFER) & (EFER_SCE | EFER_LME | EFER_NXE));
	smp_ap_stack_top = memsize - SMP_BSP_STACK_SIZE;
	smp_ap_stack_size = SMP_AP_STACK_SIZE;
	memcpy((void *)(uintptr_t)SMP_TRAMP_PHYS, smp_tramp_start,
	       (uintptr_t)smp_tramp_end - (uintptr_t)smp_tramp_start);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	x2apic_write(APIC_REG_ICR_LO, dest | APIC_ICR_LEVEL_ASSERT | APIC_ICR_DM_INIT);
	delay_tsc(1000000);
	for (int i = 0; i < 2; i++) {
		x2apic_write(APIC_REG_ICR_LO, dest | APIC_ICR_LEVEL_ASSERT | APIC_ICR_DM_STARTUP |
					       SMP_SIPI_VECTOR);
		delay_tsc(100000);
	}
	for (uint64_t t = rdtsc(); !ap_online && rdtsc() - t < 4 * EVS_WAIT_TSC;)
		__asm__ volatile("pause");
	return ap_online;
}

/* Waits for *ack == want; false after EVS_WAIT_TSC. */
static bool wait_ack(volatile uint32_t *ack, uint32_t want)
{
	for (uint64_t t = rdtsc(); *ack != want;)
		if (rdtsc() - t > EVS_WAIT_TSC)
			return false;
	return true;
}

static void ipi_phase(uint64_t memsize)
{
	uint64_t dest = 1ull << APIC_ICR_X2APIC_DEST_SHIFT, t0;
	uint32_t nmis = 0;

	if (!start_ap(memsize)) {
		FAIL("ipi: vcpu1 did not come online");
		return;
	}
	t0 = rdtsc();
	for (uint32_t i = 1; i <= EVS_NR_IPIS; i++) {
		ipi_seq = i;
		ipi_sent_tsc = rdtsc();
		x2apic_write(APIC_REG_ICR_LO, dest | APIC_ICR_LEVEL_ASSERT | VEC_IPI);
		if (!wait_ack(&ipi_ack, i)) {
			FAIL("ipi: IPI %u not acknowledged (ack %u)", i, ipi_ack);
			break;
		}
		if (i % EVS_NMI_EVERY)
			continue;
		nmi_seq = ++nmis;
		ipi_sent_tsc = rdtsc();
		x2apic_write(APIC_REG_ICR_LO, dest | APIC_ICR_LEVEL_ASSERT | APIC_ICR_DM_NMI);
		if (!wait_ack(&nmi_ack, nmis)) {
			FAIL("ipi: NMI %u not acknowledged (ack %u)", nmis, nmi_ack);
			break;
		}
	}
	/* A late duplicate would come within this. */
	delay_tsc(4 * EVS_PERIOD);
	ap_stop = 1;
	for (uint64_t t = rdtsc(); !ap_reported && rdtsc() - t < EVS_WAIT_TSC;)
		__asm__ volatile("pause");
	guest_log("ipi: sent %u IPIs, %u NMIs in %lu TSC; latency worst IPI %lu, NMI %lu, %lu over %llu",
		  EVS_NR_IPIS, nmis, rdtsc() - t0, ap_ipi_lat_max, ap_nmi_lat_max, ap_lat_over,
		  EVS_IPI_LAT_MAX);
	if (ap_lat_over)
		FAIL("ipi: %lu IPIs or NMIs taken more than %llu TSC after the ICR write (worst %lu, %lu)",
		     ap_lat_over, EVS_IPI_LAT_MAX, ap_ipi_lat_max, ap_nmi_lat_max);
	if (!ap_reported)
		FAIL("ipi: vcpu1 did not report");
	if (ap_ipi_handled != EVS_NR_IPIS || ap_ipi_last != EVS_NR_IPIS || ap_ipi_dup || ap_ipi_order)
		FAIL("ipi: vcpu1 handled %u IPIs, last %u, %u repeated, %u out of order; want %u once each",
		     ap_ipi_handled, ap_ipi_last, ap_ipi_dup, ap_ipi_order, EVS_NR_IPIS);
	if (ap_nmi_handled != nmis || ap_nmi_last != nmis || ap_nmi_bad)
		FAIL("ipi: vcpu1 handled %u NMIs, last %u, %u out of order; want %u once each",
		     ap_nmi_handled, ap_nmi_last, ap_nmi_bad, nmis);
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	guest_trap_install(on_exception);
	guest_irq_install(VEC_PERIODIC, on_periodic);
	guest_irq_install(VEC_DEADLINE, on_deadline);
	guest_irq_install(VEC_IPI, on_ipi);
	if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_TSC_DEADLINE)) {
		FAIL("no TSC-deadline timer");
		guest_halt();
	}
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	periodic_phase();
	deadline_phase();
	if0_phase();
	guest_log("vcpu0 took %lu timer interrupts", timer_irqs);
	if (nr_vcpus >= 2)
		ipi_phase(memsize);
	guest_log("%s: %u errors", errors ? "FAILED" : "passed", errors);
	guest_done();
}
