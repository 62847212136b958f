/* SPDX-License-Identifier: MIT */
/*
 * Round-trip cost of the exits a guest can cause: vmcall, cpuid, out (port
 * 0x80, the POST-code latch), in from the 8254 (a device model that reads
 * the time), in from the 16550's line status register, and an MMIO read of
 * the I/O APIC through the instruction emulator (EPT violation, page walk,
 * decode, bus).
 */
#include "tests/guests/guest.h"

#define BENCH_ROUNDS 10000u
#define BENCH_PORT 0x80u      /* POST code: the smallest device */
#define BENCH_PIT  0x40u      /* 8254 counter 0 */
#define BENCH_UART_LSR (UART_COM1_PORT + UART_LSR) /* 16550 line status, 0x3fd */
#define IOAPIC_IOWIN 0xfec00010ul

const char guest_name[] = "bench";

struct bench_result {
	uint64_t total; /* ticks for the whole loop */
	uint64_t min;   /* smallest single rdtsc-to-rdtsc delta */
};

static void op_nop(void)
{
	__asm__ volatile("nop" : : : "memory");
}

static void op_vmcall(void)
{
	/* The result is checked once in guest_main, not on every round. */
	(void)vmcall(TERN_HC_VERSION);
}

static void op_cpuid(void)
{
	(void)cpuid(CPUID_LEAF_BASIC, 0);
}

static void op_out(void)
{
	outb(BENCH_PORT, 0);
}

static void op_in_pit(void)
{
	(void)inb(BENCH_PIT);
}

static void op_in_uart(void)
{
	(void)inb(BENCH_UART_LSR);
}

static void op_mmio(void)
{
	(void)*(volatile uint32_t *)IOAPIC_IOWIN;
}

/*
 * Every op runs in the same loop shape, so the nop loop's cost (rdtsc pairs,
 * loop overhead, the indirect call) cancels out when subtracted. noclone
 * stops GCC from specialising (and so reshaping) the loop for each op.
 */
static __attribute__((noinline, noclone)) struct bench_result bench_run(void (*op)(void))
{
	struct bench_result res = { .min = UINT64_MAX };
	uint64_t start = rdtsc();

	for (unsigned int i = 0; i < BENCH_ROUNDS; i++) {
		uint64_t t0, d;

		t0 = rdtsc();
		op();
		d = rdtsc() - t0;
		if (d < res.min)
			res.min = d;
	}
	res.total = rdtsc() - start;
	return res;
}

static void bench_report(const char *what, struct bench_result r, struct bench_result nop)
{
	int64_t per = ((int64_t)r.total - (int64_t)nop.total) / (int64_t)BENCH_ROUNDS;
	int64_t min = (int64_t)r.min - (int64_t)nop.min;

	guest_log("%s %ld ticks/round-trip (min %ld)", what, per, min);
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	struct bench_result nop;
	int64_t ret;

	guest_log("start");

	ret = vmcall(TERN_HC_VERSION);
	if (ret != (int64_t)TERN_ABI_VERSION)
		guest_log("ERROR vmcall TERN_HC_VERSION returned 0x%lx, expected 0x%x", ret,
			  TERN_ABI_VERSION);

	nop = bench_run(op_nop);
	bench_report("vmcall", bench_run(op_vmcall), nop);
	bench_report("cpuid", bench_run(op_cpuid), nop);
	bench_report("out", bench_run(op_out), nop);
	bench_report("in-pit", bench_run(op_in_pit), nop);
	bench_report("in-uart", bench_run(op_in_uart), nop);
	*(volatile uint32_t *)(IOAPIC_IOWIN - 0x10) = 1; /* IOREGSEL: the version register */
	bench_report("mmio-ioapic", bench_run(op_mmio), nop);

	guest_done();
}
