/* SPDX-License-Identifier: MIT */
/*
 * Abuses CPU state from inside a VM and checks that Tern answers as hardware
 * would (issue 9): bad CR0/CR4 values, PAT entries and EFER changes raise #GP
 * and change nothing; CR0, CR8 and xAPIC registers moved through RSP use the
 * guest's RSP; CR8 is the virtual APIC's TPR[7:4] and holds back interrupts
 * until lowered; NMI, logical-destination, lowest-priority and shorthand
 * IPIs to itself arrive (xAPIC, then x2APIC).
 *
 * Lines: "cpuabuse: ok <check>" per check passed, "cpuabuse: ERROR ..." per
 * failure, "cpuabuse: done" at the end.
 */
#include "tests/guests/guest.h"
#include "tests/guests/apic.h"

const char guest_name[] = "cpuabuse";

#define VEC_NMI          2u
#define VEC_IPI          0x40u /* fixed IPIs: 0x40 + check-local index */
#define NR_IPI_VECS      4u
#define VEC_SPURIOUS     0xffu

/* Bits as the SDM names them (vol. 3A 2.5, vol. 4 table 2-2, vol. 2A CPUID). */
#define CR0_NE           BIT(5)
#define CR0_NW           BIT(29)
#define CR0_CD           BIT(30)
#define CR0_PG           BIT(31)
#define CR4_PAE          BIT(5)
#define CR4_PCE          BIT(8)
#define CR4_OSXMMEXCPT   BIT(10)
#define CR4_LA57         BIT(12)
#define CR4_VMXE         BIT(13)
#define CR4_SMXE         BIT(14)
#define CR4_FSGSBASE     BIT(16)
#define CR4_PCIDE        BIT(17)
#define CR3_PWT          BIT(3)
#define MSR_IA32_PAT     0x00000277u
#define MSR_IA32_EFER    0xc0000080u
#define EFER_LME         BIT(8)
#define EFER_NXE         BIT(11)
#define CPUID_1_ECX_PCID BIT(17)
#define CPUID_7_EBX_FSGSBASE BIT(0)
#define CPUID_7_ECX_CET_SS   BIT(7)
#define CPUID_7_ECX_PKS      BIT(31)
#define CPUID_7_EDX_CET_IBT  BIT(20)
#define CPUID_80000001_EDX_NX BIT(20)

/* xAPIC registers and ICR fields beyond apic.h (SDM vol. 3A 11.4.1, 11.6.1, 11.6.2). */
#define APIC_REG_LDR     0x0d0u
#define APIC_REG_DFR     0x0e0u
#define APIC_REG_SELF_IPI 0x3f0u /* x2APIC only */
#define ICR_DM_LOWEST    (1u << 8)
#define ICR_DM_NMI       (4u << 8)
#define ICR_LOGICAL      (1u << 11)
#define ICR_SH_SELF      (1u << 18)
#define ICR_SH_ALL       (2u << 18)
#define ICR_SH_OTHERS    (3u << 18)
#define DFR_FLAT         0xffffffffu
#define DFR_CLUSTER      0x0fffffffu

static volatile uint64_t fixup;        /* where an expected #GP resumes; 0: none expected */
static volatile unsigned int gp_count;
static volatile unsigned int irq_count[NR_IPI_VECS];
static volatile unsigned int nmi_count, nmi_depth, nmi_nested, nmi_resend;
static bool x2mode;
static unsigned int errors;

#define CHECK(cond, ...)                                 \
	do {                                             \
		if (!(cond)) {                           \
			guest_log("ERROR " __VA_ARGS__); \
			errors++;                        \
		}                                        \
	} while (0)

static void apic_write(uint32_t reg, uint64_t val)
{
	if (x2mode)
		x2apic_write(reg, val);
	else
		xapic_write(reg, (uint32_t)val);
}

/* An IPI through the ICR: dest is the xAPIC ICR[63:56] or the x2APIC ICR[63:32]. */
static void send_ipi(uint32_t lo, uint32_t dest)
{
	if (x2mode) {
		x2apic_write(APIC_REG_ICR_LO, (uint64_t)dest << APIC_ICR_X2APIC_DEST_SHIFT | lo);
		return;
	}
	xapic_write(APIC_REG_ICR_HI, dest << APIC_XAPIC_ID_SHIFT);
	xapic_write(APIC_REG_ICR_LO, lo);
}

static bool trap(struct guest_trap_frame *f)
{
	if (f->vector == X86_VEC_GP && fixup) {
		f->rip = fixup;
		fixup = 0;
		gp_count++;
		return true;
	}
	if (f->vector != VEC_NMI)
		return false;
	if (++nmi_depth > 1)
		nmi_nested++;
	nmi_count++;
	if (nmi_resend) {
		/* A second NMI now must wait for this handler's IRET. */
		nmi_resend = 0;
		send_ipi(ICR_DM_NMI | APIC_ICR_LEVEL_ASSERT, 0);
		for (unsigned int i = 0; i < 1000; i++)
			__asm__ volatile("pause" ::: "memory");
	}
	nmi_depth--;
	return true;
}

static void ipi_irq(struct guest_trap_frame *f)
{
	irq_count[f->vector - VEC_IPI]++;
	apic_write(APIC_REG_EOI, 0);
}

/*
 * Runs insn with the operands given; true if it raised #GP. The #GP
 * handler resumes at the label after it.
 */
#define TRY_GP(insn, ...)                                                            \
	({                                                                           \
		unsigned int before_ = gp_count;                                     \
		__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"                         \
				 "movq %%r11, %0\n\t" insn "\n1:"                    \
				 : "=m"(fixup) : __VA_ARGS__ : "r11", "memory");     \
		fixup = 0;                                                           \
		gp_count != before_;                                                 \
	})

static bool try_cr0(uint64_t v) { return TRY_GP("mov %1, %%cr0", "r"(v)); }
static bool try_cr4(uint64_t v) { return TRY_GP("mov %1, %%cr4", "r"(v)); }
static bool try_cr8(uint64_t v) { return TRY_GP("mov %1, %%cr8", "r"(v)); }

static bool try_wrmsr(uint32_t msr, uint64_t v)
{
	return TRY_GP("wrmsr", "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Interrupts on for a few instructions: how many fixed IPIs were taken. */
static unsigned int irq_total(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NR_IPI_VECS; i++)
		n += irq_count[i];
	return n;
}

static unsigned int window(void)
{
	unsigned int before = irq_total();

	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	return irq_total() - before;
}

/* A value for CR n (0 or 4) that must raise #GP and leave the register as it was. */
static bool cr_refused(unsigned int n, uint64_t bad, const char *what)
{
	uint64_t (*read)(void) = n == 4 ? read_cr4 : read_cr0;
	uint64_t before = read();
	bool gp = n == 4 ? try_cr4(bad) : try_cr0(bad);

	CHECK(gp, "CR%u 0x%lx (%s) was accepted", n, bad, what);
	CHECK(read() == before, "CR%u 0x%lx (%s) changed CR%u to 0x%lx", n, bad, what, n, read());
	return gp && read() == before;
}

static bool cr4_refused(uint64_t bad, const char *what)
{
	return cr_refused(4, bad, what);
}

static bool cr0_refused(uint64_t bad, const char *what)
{
	return cr_refused(0, bad, what);
}

static bool msr_refused(uint32_t msr, uint64_t bad, const char *what)
{
	uint64_t before = rdmsr(msr);
	bool gp = try_wrmsr(msr, bad);

	CHECK(gp, "wrmsr 0x%x of 0x%lx (%s) was accepted", msr, bad, what);
	CHECK(rdmsr(msr) == before, "wrmsr 0x%x of 0x%lx (%s) changed it to 0x%lx", msr, bad, what,
	      rdmsr(msr));
	return gp && rdmsr(msr) == before;
}

static void report(bool ok, const char *check)
{
	if (ok)
		guest_log("ok %s", check);
	else
		guest_log("ERROR check '%s' failed", check);
}

static void check_cr4(void)
{
	static const unsigned int reserved[] = { 15, 19, 23, 24, 25, 26, 27, 28, 29, 30, 31 };
	uint64_t cr4 = read_cr4();
	struct cpuid_regs l7 = cpuid(7, 0);
	bool ok = true;

	for (unsigned int i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		ok &= cr4_refused(cr4 | BIT(reserved[i]), "reserved or not offered bit");
	/* What CR4 refuses, CPUID does not offer. */
	CHECK(!(l7.ecx & (CPUID_7_ECX_CET_SS | CPUID_7_ECX_PKS)) && !(l7.edx & CPUID_7_EDX_CET_IBT),
	      "CPUID.7 offers CET or PKS (ecx 0x%x edx 0x%x)", l7.ecx, l7.edx);
	report(ok, "cr4 reserved bits");
	ok = cr4_refused(cr4 | CR4_VMXE, "VMXE");
	ok &= cr4_refused(cr4 | CR4_SMXE, "SMXE");
	report(ok, "cr4 vmxe smxe");
	report(cr4_refused(cr4 ^ CR4_LA57, "LA57 changed in long mode"), "cr4 la57");
	report(cr4_refused(cr4 & ~CR4_PAE, "PAE cleared in long mode"), "cr4 pae");
	ok = cr4_refused(cr4 | BIT(32), "bit 32");
	ok &= cr4_refused(cr4 | BIT(63), "bit 63");
	report(ok, "cr4 upper bits");
}

/* Bits Tern offers: FSGSBASE where the CPU has it, PCIDE only with CR3[11:0] = 0. */
static void check_cr4_allowed(void)
{
	uint64_t cr4 = read_cr4(), cr3 = read_cr3();
	bool ok = true;

	if (cpuid(7, 0).ebx & CPUID_7_EBX_FSGSBASE) {
		ok &= !try_cr4(cr4 | CR4_FSGSBASE) && read_cr4() == (cr4 | CR4_FSGSBASE);
		ok &= !try_cr4(cr4) && read_cr4() == cr4;
		CHECK(ok, "CR4.FSGSBASE did not toggle (CR4 0x%lx)", read_cr4());
	} else {
		ok &= cr4_refused(cr4 | CR4_FSGSBASE, "FSGSBASE without the CPUID bit");
	}
	if (cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_PCID) {
		write_cr3(cr3 | CR3_PWT);
		ok &= cr4_refused(cr4 | CR4_PCIDE, "PCIDE with CR3[11:0] != 0");
		write_cr3(cr3);
		ok &= !try_cr4(cr4 | CR4_PCIDE) && read_cr4() == (cr4 | CR4_PCIDE);
		ok &= !try_cr4(cr4) && read_cr4() == cr4;
		CHECK(ok, "CR4.PCIDE did not toggle (CR4 0x%lx)", read_cr4());
	} else {
		ok &= cr4_refused(cr4 | CR4_PCIDE, "PCIDE without the CPUID bit");
	}
	ok &= !try_cr4(cr4 ^ CR4_OSXMMEXCPT) && !try_cr4(cr4) && read_cr4() == cr4;
	report(ok, "cr4 allowed bit");
}

/* RSP holds val for one instruction: nothing may use the stack meanwhile (interrupts are off). */
static uint64_t cr0_via_rsp(uint64_t val)
{
	uint64_t got;

	__asm__ volatile("mov %%rsp, %%r11\n\t"
			 "mov %[val], %%rsp\n\t"
			 "mov %%rsp, %%cr0\n\t"
			 "mov %%cr0, %%rsp\n\t"
			 "mov %%rsp, %[got]\n\t"
			 "mov %%r11, %%rsp"
			 : [got] "=&r"(got) : [val] "r"(val) : "r11", "memory");
	return got;
}

static uint64_t cr8_via_rsp(uint64_t val)
{
	uint64_t got;

	__asm__ volatile("mov %%rsp, %%r11\n\t"
			 "mov %[val], %%rsp\n\t"
			 "mov %%rsp, %%cr8\n\t"
			 "xor %%esp, %%esp\n\t"
			 "mov %%cr8, %%rsp\n\t"
			 "mov %%rsp, %[got]\n\t"
			 "mov %%r11, %%rsp"
			 : [got] "=&r"(got) : [val] "r"(val) : "r11", "memory");
	return got;
}

/* "mov [reg], esp" and "mov esp, [reg]" on the xAPIC page (89 /r, 8B /r with reg field 4). */
static void xapic_write_from_esp(uint32_t reg, uint32_t val)
{
	__asm__ volatile("mov %%rsp, %%r11\n\t"
			 "mov %[val], %%rsp\n\t"
			 "movl %%esp, (%[addr])\n\t"
			 "mov %%r11, %%rsp"
			 : : [val] "r"((uint64_t)val), [addr] "r"((uintptr_t)(APIC_DEFAULT_PHYS + reg))
			 : "r11", "memory");
}

static uint32_t xapic_read_to_esp(uint32_t reg)
{
	uint64_t got;

	__asm__ volatile("mov %%rsp, %%r11\n\t"
			 "movl (%[addr]), %%esp\n\t"
			 "mov %%rsp, %[got]\n\t"
			 "mov %%r11, %%rsp"
			 : [got] "=&r"(got) : [addr] "r"((uintptr_t)(APIC_DEFAULT_PHYS + reg))
			 : "r11", "memory");
	return (uint32_t)got;
}

static void check_rsp(void)
{
	uint64_t cr0 = read_cr0(), want = cr0 & ~CR0_NE, got;
	uint32_t tpr, ccr;

	/* Clearing NE changes a bit Tern owns, so the write exits and is emulated. */
	got = cr0_via_rsp(want);
	CHECK(got == want, "mov cr0, rsp with 0x%lx gave CR0 0x%lx", want, got);
	report(got == want && !try_cr0(cr0) && read_cr0() == cr0, "cr0 via rsp");

	/* Paging off in 64-bit code, also with a bit that makes the write exit (NE). */
	report(cr0_refused(cr0 & ~CR0_PG, "PG cleared in 64-bit mode") &&
	       cr0_refused(cr0 & ~(CR0_PG | CR0_NE), "PG cleared in 64-bit mode, NE changed") &&
	       cr0_refused((cr0 | CR0_NW) & ~(CR0_CD | CR0_NE), "NW without CD") &&
	       cr0_refused(cr0 | BIT(32), "bit 32"), "cr0 pg checks");

	got = cr8_via_rsp(5);
	CHECK(got == 5, "mov cr8, rsp / mov rsp, cr8 with 5 gave %lu", got);
	report(got == 5 && !try_cr8(0), "cr8 via rsp");

	xapic_write_from_esp(APIC_REG_TPR, 0x20);
	tpr = xapic_read(APIC_REG_TPR);
	CHECK(tpr == 0x20 && read_cr8() == 2, "TPR written from ESP: TPR 0x%x, CR8 %lu", tpr, read_cr8());
	xapic_write(APIC_REG_TPR, 0);
	/* The current count is never in the virtual-APIC page: always an emulated read. */
	xapic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	xapic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_TIMER_ONESHOT | VEC_SPURIOUS);
	xapic_write(APIC_REG_TMICT, 0xffffffffu);
	ccr = xapic_read_to_esp(APIC_REG_TMCCT);
	xapic_write(APIC_REG_TMICT, 0);
	CHECK(ccr != 0, "timer current count read into ESP gave 0");
	report(tpr == 0x20 && ccr != 0, "apic mmio via rsp");
}

static void check_msrs(void)
{
	uint64_t pat = rdmsr(MSR_IA32_PAT), efer = rdmsr(MSR_IA32_EFER), nx;
	bool ok;

	ok = msr_refused(MSR_IA32_PAT, (pat & ~0xffull) | 2, "memory type 2");
	ok &= msr_refused(MSR_IA32_PAT, (pat & ~(0xffull << 56)) | (3ull << 56), "memory type 3");
	ok &= msr_refused(MSR_IA32_PAT, (pat & ~(0xffull << 24)) | (8ull << 24), "memory type 8");
	ok &= msr_refused(MSR_IA32_PAT, ~0ull, "all 0xff");
	/* Entry 0 write-combining, then back. */
	ok &= !try_wrmsr(MSR_IA32_PAT, (pat & ~0xffull) | 1) && rdmsr(MSR_IA32_PAT) == ((pat & ~0xffull) | 1);
	ok &= !try_wrmsr(MSR_IA32_PAT, pat) && rdmsr(MSR_IA32_PAT) == pat;
	report(ok, "pat");

	ok = msr_refused(MSR_IA32_EFER, efer & ~EFER_LME, "LME cleared in long mode");
	ok &= msr_refused(MSR_IA32_EFER, efer | BIT(1), "reserved bit 1");
	ok &= msr_refused(MSR_IA32_EFER, efer | BIT(63), "reserved bit 63");
	nx = cpuid(0x80000001u, 0).edx & CPUID_80000001_EDX_NX;
	if (nx) {
		ok &= !try_wrmsr(MSR_IA32_EFER, efer | EFER_NXE) && rdmsr(MSR_IA32_EFER) == (efer | EFER_NXE);
		ok &= !try_wrmsr(MSR_IA32_EFER, efer) && rdmsr(MSR_IA32_EFER) == efer;
		CHECK(ok, "EFER.NXE did not toggle (EFER 0x%lx)", rdmsr(MSR_IA32_EFER));
	} else {
		ok &= msr_refused(MSR_IA32_EFER, efer | EFER_NXE, "NXE without NX");
	}
	report(ok, "efer");
}

static bool try_rdpmc(uint32_t ctr)
{
	unsigned int before = gp_count;
	uint32_t lo = 0, hi = 0;

	__asm__ volatile("leaq 1f(%%rip), %%r11\n\tmovq %%r11, %0\n\trdpmc\n1:"
			 : "=m"(fixup), "+a"(lo), "+d"(hi) : "c"(ctr) : "r11", "memory");
	fixup = 0;
	return gp_count != before;
}

/* No performance counters are offered: CPUID leaf 0xA is empty and RDPMC faults, even with CR4.PCE. */
static void check_pmu(void)
{
	struct cpuid_regs a = cpuid(0xa, 0);
	uint64_t cr4 = read_cr4();
	bool ok;

	ok = !a.eax && !a.ebx && !a.ecx && !a.edx;
	CHECK(ok, "CPUID leaf 0xA offers counters: eax 0x%x", a.eax);
	ok &= !try_cr4(cr4 | CR4_PCE);
	ok &= try_rdpmc(0) && try_rdpmc(1u << 30);
	ok &= !try_cr4(cr4);
	report(ok, "pmu hidden, rdpmc faults");
}

static void check_cr8(void)
{
	bool ok = true;
	unsigned int before;

	for (uint64_t i = 0; i < 16; i++) {
		uint32_t tpr;

		ok &= !try_cr8(i);
		tpr = xapic_read(APIC_REG_TPR);
		CHECK(read_cr8() == i && tpr == i << 4, "CR8 %lu read back %lu, TPR 0x%x", i, read_cr8(), tpr);
		ok &= read_cr8() == i && tpr == i << 4;
	}
	report(ok, "cr8 round trip");
	ok = try_cr8(16) && read_cr8() == 15;
	ok &= try_cr8(BIT(63)) && read_cr8() == 15;
	CHECK(ok, "CR8 with reserved bits set did not raise #GP or changed CR8 (now %lu)", read_cr8());
	report(ok, "cr8 reserved bits");

	/* CR8 = 15 holds back a vector-0x40 interrupt (class 4) until CR8 is below 4. */
	before = irq_count[0];
	send_ipi(ICR_SH_SELF | VEC_IPI, 0);
	ok = window() == 0;
	ok &= !try_cr8(4) && window() == 0;
	CHECK(ok, "an interrupt of class 4 got through CR8 >= 4");
	__asm__ volatile("sti; nop; mov %1, %%cr8; mov %2, %0; cli"
			 : "=r"(before) : "r"(3ull), "m"(irq_count[0]) : "memory");
	CHECK(before == 1, "lowering CR8 to 3 did not let the pending interrupt in at once (%u)", before);
	if (before != 1)
		CHECK(window() == 1, "the interrupt held back by CR8 never came");
	report(ok && before == 1 && irq_count[0] == 1, "cr8 blocks fixed ipi");

	/* The same through the xAPIC TPR register: lowering it lets the interrupt in. */
	ok = !try_cr8(15);
	send_ipi(ICR_SH_SELF | VEC_IPI, 0);
	ok &= window() == 0;
	__asm__ volatile("sti; nop" ::: "memory");
	xapic_write(APIC_REG_TPR, 0);
	before = irq_count[0];
	__asm__ volatile("cli" ::: "memory");
	CHECK(before == 2, "lowering TPR by MMIO did not let the pending interrupt in at once (%u)", before);
	report(ok && before == 2 && read_cr8() == 0, "tpr mmio lowers");
}

static void check_nmi(void)
{
	unsigned int before = nmi_count;
	uint64_t t0;

	/* Physical destination, its own APIC ID 0: taken with interrupts off. */
	send_ipi(ICR_DM_NMI | APIC_ICR_LEVEL_ASSERT, 0);
	CHECK(nmi_count == before + 1, "NMI IPI to itself: %u NMIs taken", nmi_count - before);
	send_ipi(ICR_DM_NMI | APIC_ICR_LEVEL_ASSERT, 0);
	CHECK(nmi_count == before + 2, "second NMI IPI: %u NMIs taken", nmi_count - before);
	report(nmi_count == before + 2 && !nmi_nested, "nmi ipi");

	/* One sent from inside the handler waits for its IRET. */
	before = nmi_count;
	nmi_resend = 1;
	send_ipi(ICR_DM_NMI | APIC_ICR_LEVEL_ASSERT, 0);
	t0 = rdtsc();
	while (nmi_count < before + 2 && rdtsc() - t0 < 200000000ull)
		__asm__ volatile("pause" ::: "memory");
	CHECK(!nmi_nested, "an NMI nested in the NMI handler");
	CHECK(nmi_count == before + 2, "NMI sent in the handler: %u NMIs taken", nmi_count - before);
	report(!nmi_nested && nmi_count == before + 2, "nmi blocked in handler");
}

/* One fixed IPI on vector VEC_IPI + idx: taken (want 1) or not (want 0). */
static bool ipi_arrives(uint32_t lo, uint32_t dest, unsigned int idx, unsigned int want, const char *what)
{
	unsigned int before = irq_count[idx], got;

	send_ipi(lo | (VEC_IPI + idx), dest);
	window();
	got = irq_count[idx] - before;
	CHECK(got == want, "%s: %u interrupts, expected %u", what, got, want);
	return got == want;
}

static void check_logical(void)
{
	bool ok;

	xapic_write(APIC_REG_DFR, DFR_FLAT);
	xapic_write(APIC_REG_LDR, 0x01u << 24);
	ok = ipi_arrives(ICR_LOGICAL, 0x01, 1, 1, "flat logical 0x01");
	ok &= ipi_arrives(ICR_LOGICAL, 0x03, 1, 1, "flat logical 0x03");
	ok &= ipi_arrives(ICR_LOGICAL, 0x02, 1, 0, "flat logical 0x02 (not ours)");
	ok &= ipi_arrives(ICR_LOGICAL, 0xff, 1, 1, "flat logical broadcast");
	report(ok, "logical flat ipi");

	xapic_write(APIC_REG_DFR, DFR_CLUSTER);
	xapic_write(APIC_REG_LDR, 0x21u << 24); /* cluster 2, member bit 0 */
	ok = (xapic_read(APIC_REG_DFR) >> 28) == 0 && xapic_read(APIC_REG_LDR) == 0x21u << 24;
	ok &= ipi_arrives(ICR_LOGICAL, 0x21, 1, 1, "cluster logical 0x21");
	ok &= ipi_arrives(ICR_LOGICAL, 0x23, 1, 1, "cluster logical 0x23");
	ok &= ipi_arrives(ICR_LOGICAL, 0x11, 1, 0, "cluster logical 0x11 (other cluster)");
	ok &= ipi_arrives(ICR_LOGICAL, 0x22, 1, 0, "cluster logical 0x22 (other member)");
	report(ok, "logical cluster ipi");
	xapic_write(APIC_REG_DFR, DFR_FLAT);
	xapic_write(APIC_REG_LDR, 0x01u << 24);

	ok = ipi_arrives(ICR_DM_LOWEST, 0, 2, 1, "lowest priority, physical 0");
	ok &= ipi_arrives(ICR_DM_LOWEST | ICR_LOGICAL, 0x01, 2, 1, "lowest priority, logical 0x01");
	ok &= ipi_arrives(ICR_DM_LOWEST | ICR_LOGICAL, 0x02, 2, 0, "lowest priority, logical 0x02");
	report(ok, "lowest priority ipi");

	ok = ipi_arrives(ICR_SH_SELF, 0, 3, 1, "shorthand self");
	ok &= ipi_arrives(ICR_SH_ALL, 0, 3, 1, "shorthand all including self");
	ok &= ipi_arrives(ICR_SH_OTHERS, 0, 3, 0, "shorthand all excluding self");
	ok &= ipi_arrives(0, 0xff, 3, 1, "physical broadcast");
	ok &= ipi_arrives(0, 1, 3, 0, "physical 1 (no such vCPU)");
	report(ok, "shorthand ipis");
}

static void check_x2apic(void)
{
	uint64_t ldr;
	bool ok;

	if (!(x2apic_enable() & APIC_BASE_EXTD)) {
		report(false, "x2apic logical ipi");
		return;
	}
	x2mode = true;
	ldr = x2apic_read(APIC_REG_LDR);
	/* x2APIC LDR: cluster (APIC ID >> 4) << 16 | 1 << (APIC ID & 15), read-only. */
	CHECK(ldr == 1, "x2APIC LDR of APIC ID 0 reads 0x%lx", ldr);
	ok = ldr == 1 && try_wrmsr(x2apic_msr(APIC_REG_LDR), 2) && x2apic_read(APIC_REG_LDR) == 1;
	ok &= ipi_arrives(ICR_LOGICAL, 0x00000001u, 1, 1, "x2APIC logical 0:1");
	ok &= ipi_arrives(ICR_LOGICAL, 0x00000003u, 1, 1, "x2APIC logical 0:3");
	ok &= ipi_arrives(ICR_LOGICAL, 0x00010001u, 1, 0, "x2APIC logical 1:1 (other cluster)");
	ok &= ipi_arrives(ICR_LOGICAL, 0x00000002u, 1, 0, "x2APIC logical 0:2 (other member)");
	ok &= ipi_arrives(ICR_DM_LOWEST | ICR_LOGICAL, 0xffffffffu, 2, 1, "x2APIC lowest priority, broadcast");
	ok &= ipi_arrives(0, 0, 3, 1, "x2APIC physical 0");
	x2apic_write(APIC_REG_SELF_IPI, VEC_IPI);
	ok &= window() == 1;
	report(ok, "x2apic logical ipi");
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	guest_trap_install(trap);
	for (unsigned int i = 0; i < NR_IPI_VECS; i++)
		guest_irq_install(VEC_IPI + i, ipi_irq);
	xapic_write(APIC_REG_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);

	check_cr4();
	check_cr4_allowed();
	check_rsp();
	check_msrs();
	check_pmu();
	check_cr8();
	check_nmi();
	check_logical();
	check_x2apic();
	if (errors)
		guest_log("ERROR %u failed checks", errors);
	guest_done();
}
