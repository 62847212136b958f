/* SPDX-License-Identifier: MIT */
/*
 * Register isolation between vCPUs: fills every register a guest can write
 * and VMX does not switch (x87 stack and control word, MXCSR, XMM/YMM/ZMM,
 * AVX-512 opmasks, PKRU, DR0-DR3, DR6, CR2, IA32_TSC_AUX) with values of its
 * own (VM id, round, register), waits until it sees it was descheduled (a
 * jump in the TSC between two reads in a tight loop), and checks that every
 * register still holds its own value. Run two or more on one CPU: a value
 * from another VM, or lost state, is an ERROR line naming the register.
 *
 * Lines: "fpuiso: covering ...", "fpuiso: round R, S switches seen" every
 * 500 rounds, then "fpuiso: N rounds, S switches seen, E errors" and "done"
 * (N < ROUNDS when the time budget ran out first).
 */
#include "tests/guests/guest.h"
#include "kernel/fmt.h"

#define ROUNDS       2000u
#define GAP_TSC      10000ull    /* a TSC jump this large: another vCPU ran here */
#define WAIT_TSC     2000000ull  /* give up waiting for a switch after this (40 ms) */
#define MAX_ERRORS   20u
#define BUDGET_TSC   500000000ull /* stop early after this long (10 s at Bochs' 50 MHz) */

#define CR0_EM       BIT(2)
#define CR0_TS       BIT(3)
#define CR0_MP       BIT(1)
#define CR4_OSFXSR   BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_OSXSAVE  BIT(18)
#define CR4_PKE      BIT(22)
#define MSR_TSC_AUX  0xc0000103u
#define XCR0_AVX512  (BIT(5) | BIT(6) | BIT(7))

const char guest_name[] = "fpuiso";

void fpu_x87_load(const uint64_t v[8]);
void fpu_x87_store(uint64_t v[8]);
void fpu_xmm_load(const void *buf);
void fpu_xmm_store(void *buf);
void fpu_ymm_load(const void *buf);
void fpu_ymm_store(void *buf);
void fpu_zmm_load(const void *buf);
void fpu_zmm_store(void *buf);

enum vec_kind { VEC_XMM, VEC_YMM, VEC_ZMM };

static struct {
	enum vec_kind vec;
	bool pkru;
	uint32_t vec_bytes; /* bytes of the vector buffer in use */
} cov;

static uint64_t vbuf[(2048 + 64) / 8] __attribute__((aligned(64)));
static uint64_t vout[(2048 + 64) / 8] __attribute__((aligned(64)));
static uint32_t errors;

static uint64_t value(uint64_t vm, uint64_t round, uint64_t reg, uint64_t word)
{
	/* Below 2^63 so the x87 stack holds it exactly as an integer. */
	return (vm << 52) | ((round & 0xffffu) << 32) | (reg << 16) | (word << 4) | 0x5;
}

static void check(const char *what, uint64_t seen, uint64_t mine)
{
	if (seen == mine)
		return;
	if (errors++ < MAX_ERRORS)
		guest_log("ERROR %s is 0x%lx, mine 0x%lx", what, seen, mine);
}

static void enable(void)
{
	struct cpuid_regs f = cpuid(1, 0), s = cpuid(7, 0);
	uint64_t xcr0 = BIT(0) | BIT(1);

	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	cov.vec = VEC_XMM;
	cov.vec_bytes = 16 * 16;
	if (f.ecx & BIT(26)) { /* XSAVE */
		struct cpuid_regs d;

		write_cr4(read_cr4() | CR4_OSXSAVE);
		d = cpuid(0xd, 0);
		if ((f.ecx & BIT(28)) && (d.eax & BIT(2))) { /* AVX */
			xcr0 |= BIT(2);
			cov.vec = VEC_YMM;
			cov.vec_bytes = 16 * 32;
			if ((s.ebx & BIT(16)) && (d.eax & XCR0_AVX512) == XCR0_AVX512) {
				xcr0 |= XCR0_AVX512;
				cov.vec = VEC_ZMM;
				cov.vec_bytes = 32 * 64 + 8 * 8;
			}
		}
		if ((s.ecx & BIT(3)) && (d.eax & BIT(9))) { /* PKU */
			write_cr4(read_cr4() | CR4_PKE);
			xcr0 |= BIT(9);
			cov.pkru = true;
		}
		__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
	}
	guest_log("covering x87 mxcsr %s%s dr0-3 dr6 cr2 tsc_aux (xcr0 0x%lx)",
		  cov.vec == VEC_ZMM ? "zmm0-31 k0-7" : cov.vec == VEC_YMM ? "ymm0-15" : "xmm0-15",
		  cov.pkru ? " pkru" : "", xcr0);
}

static void vec_load(const void *b)
{
	if (cov.vec == VEC_ZMM)
		fpu_zmm_load(b);
	else if (cov.vec == VEC_YMM)
		fpu_ymm_load(b);
	else
		fpu_xmm_load(b);
}

static void vec_store(void *b)
{
	if (cov.vec == VEC_ZMM)
		fpu_zmm_store(b);
	else if (cov.vec == VEC_YMM)
		fpu_ymm_store(b);
	else
		fpu_xmm_store(b);
}

static uint32_t mxcsr_value(uint64_t vm, uint64_t round)
{
	/* Exception masks all set; rounding control and FTZ/DAZ vary. */
	return 0x1f80u | (uint32_t)(((vm + round) & 3u) << 13) | (uint32_t)((vm & 1u) << 15) |
	       (uint32_t)((round & 1u) << 6);
}

static void fill(uint64_t vm, uint64_t r, uint64_t x87[8])
{
	uint32_t mx = mxcsr_value(vm, r);
	uint16_t fcw = (uint16_t)(0x037fu | (((vm + r) & 3u) << 10));

	for (uint32_t i = 0; i < 8; i++)
		x87[i] = value(vm, r, 0x80 + i, 0);
	fpu_x87_load(x87);
	__asm__ volatile("fldcw %0" : : "m"(fcw));
	__asm__ volatile("ldmxcsr %0" : : "m"(mx));
	for (uint32_t i = 0; i < cov.vec_bytes / 8; i++)
		vbuf[i] = value(vm, r, 0x100 + i / 8, i % 8);
	vec_load(vbuf);
	if (cov.pkru) {
		uint32_t pk = (uint32_t)value(vm, r, 0x40, 0) & 0xfffffffcu; /* key 0 stays open */

		__asm__ volatile("wrpkru" : : "a"(pk), "c"(0), "d"(0));
	}
	write_dr0(value(vm, r, 0x10, 0));
	write_dr1(value(vm, r, 0x11, 0));
	write_dr2(value(vm, r, 0x12, 0));
	write_dr3(value(vm, r, 0x13, 0));
	write_dr6(0xffff0ff0ull | ((vm + r) & 0xfu));
	write_cr2(value(vm, r, 0x20, 0));
	wrmsr(MSR_TSC_AUX, (uint32_t)value(vm, r, 0x30, 0));
}

static void verify(uint64_t vm, uint64_t r)
{
	uint64_t x87[8];
	uint32_t mx;
	uint16_t fcw;
	char what[40];

	/* Read everything first: the checks below print. */
	vec_store(vout);
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	fpu_x87_store(x87);
	check("dr0", read_dr0(), value(vm, r, 0x10, 0));
	check("dr1", read_dr1(), value(vm, r, 0x11, 0));
	check("dr2", read_dr2(), value(vm, r, 0x12, 0));
	check("dr3", read_dr3(), value(vm, r, 0x13, 0));
	check("dr6 low bits", read_dr6() & 0xf, (vm + r) & 0xfu);
	check("cr2", read_cr2(), value(vm, r, 0x20, 0));
	check("tsc_aux", rdmsr(MSR_TSC_AUX), (uint32_t)value(vm, r, 0x30, 0));
	if (cov.pkru) {
		uint32_t pk;

		__asm__ volatile("rdpkru" : "=a"(pk) : "c"(0) : "rdx");
		check("pkru", pk, (uint32_t)value(vm, r, 0x40, 0) & 0xfffffffcu);
	}
	check("mxcsr", mx, mxcsr_value(vm, r));
	check("fcw", fcw, (uint16_t)(0x037fu | (((vm + r) & 3u) << 10)));
	for (uint32_t i = 0; i < 8; i++) {
		fmt_snprintf(what, sizeof(what), "x87 st%u", 7 - i);
		check(what, x87[i], value(vm, r, 0x80 + i, 0));
	}
	for (uint32_t i = 0; i < cov.vec_bytes / 8; i++) {
		if (vout[i] == vbuf[i])
			continue;
		if (cov.vec == VEC_ZMM && i >= 256)
			fmt_snprintf(what, sizeof(what), "k%u", i - 256);
		else
			fmt_snprintf(what, sizeof(what), "%s%u qword %u",
				     cov.vec == VEC_ZMM ? "zmm" : cov.vec == VEC_YMM ? "ymm" : "xmm",
				     i / (cov.vec_bytes >= 2048 ? 8 : cov.vec == VEC_YMM ? 4 : 2),
				     i % (cov.vec_bytes >= 2048 ? 8 : cov.vec == VEC_YMM ? 4 : 2));
		check(what, vout[i], vbuf[i]);
	}
}

/* Spins until the TSC jumps (this vCPU was off its CPU); false on timeout. */
static bool wait_switch(void)
{
	uint64_t start = rdtsc(), prev = start;

	for (;;) {
		uint64_t now = rdtsc();

		if (now - prev > GAP_TSC)
			return true;
		if (now - start > WAIT_TSC)
			return false;
		prev = now;
	}
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t x87[8], switches = 0, start = rdtsc(), r;

	guest_log("start");
	guest_trap_install(NULL); /* any exception: an ERROR line, not a triple fault */
	enable();
	for (r = 0; r < ROUNDS && errors < MAX_ERRORS && rdtsc() - start < BUDGET_TSC; r++) {
		fill(vm_id, r, x87);
		switches += wait_switch();
		verify(vm_id, r);
		if (r % 500 == 499)
			guest_log("round %lu, %lu switches seen", r + 1, switches);
	}
	guest_log("%lu rounds, %lu switches seen, %u errors", r, switches, errors);
	guest_done();
}
