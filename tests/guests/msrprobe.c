/* SPDX-License-Identifier: MIT */
/*
 * MSRs from inside a guest: unknown ones raise #GP; the MTRRs (SDM vol. 3A
 * 12.11), IA32_MISC_ENABLE, IA32_BIOS_SIGN_ID, MSR_PLATFORM_INFO,
 * IA32_TSC_ADJUST (SDM vol. 3B 17.17.3) and speculation control behave as
 * a kernel reading them expects.
 */
#include "tests/guests/guest.h"

#define MSRPROBE_WR_MSR 0x12345678u
#define MSRPROBE_RD_MSR 0x9abcdef0u

/* SDM vol. 4 table 2-2 */
#define MSR_IA32_TSC_ADJUST        0x0000003bu
#define MSR_IA32_SPEC_CTRL         0x00000048u
#define MSR_IA32_PRED_CMD          0x00000049u
#define MSR_IA32_BIOS_SIGN_ID      0x0000008bu
#define MSR_PLATFORM_INFO          0x000000ceu
#define MSR_IA32_MTRRCAP           0x000000feu
#define MSR_IA32_MISC_ENABLE       0x000001a0u
#define MSR_IA32_MTRR_PHYSBASE3    0x00000206u
#define MSR_IA32_MTRR_PHYSMASK3    0x00000207u
#define MSR_IA32_MTRR_FIX64K_00000 0x00000250u
#define MSR_IA32_MTRR_FIX4K_C0000  0x00000268u
#define MSR_IA32_MTRR_DEF_TYPE     0x000002ffu
#define CPUID_7_EBX_TSC_ADJUST     BIT(1)
#define CPUID_7_EDX_IBRS_IBPB      BIT(26)
#define TSC_JUMP                   (1ull << 40)
#define TSC_SLACK                  (1ull << 32) /* ticks a few instructions may take under emulation */

/* wrmsr is 0f 30, rdmsr is 0f 32 (SDM Vol. 2B): both two bytes long. */
#define OPCODE_0F    0x0fu
#define OPCODE_WRMSR 0x30u
#define OPCODE_RDMSR 0x32u
#define MSR_INSN_LEN 2u

const char guest_name[] = "msrprobe";

static volatile unsigned int gp_count;

/* Skips a faulting wrmsr/rdmsr; any other exception is unexpected. */
static bool msrprobe_trap(struct guest_trap_frame *f)
{
	const uint8_t *insn = (const uint8_t *)f->rip;

	if (f->vector != X86_VEC_GP || insn[0] != OPCODE_0F ||
	    (insn[1] != OPCODE_WRMSR && insn[1] != OPCODE_RDMSR))
		return false;
	gp_count++;
	f->rip += MSR_INSN_LEN;
	return true;
}

static const char *outcome(unsigned int before)
{
	return gp_count != before ? "raised #GP" : "did NOT raise #GP";
}

/* Did wrmsr(msr, val) raise #GP? */
static bool wr_gp(uint32_t msr, uint64_t val)
{
	unsigned int before = gp_count;

	wrmsr(msr, val);
	return gp_count != before;
}

static bool rd_gp(uint32_t msr)
{
	unsigned int before = gp_count;

	(void)rdmsr(msr);
	return gp_count != before;
}

static unsigned int maxphyaddr(void)
{
	if (cpuid(0x80000000u, 0).eax < 0x80000008u)
		return 36;
	return cpuid(0x80000008u, 0).eax & 0xffu;
}

/* MTRRs: capabilities, a variable pair and a fixed range read back, bad values refused (12.11.2). */
static void probe_mtrrs(void)
{
	uint64_t cap = rdmsr(MSR_IA32_MTRRCAP);
	uint64_t addr = ((1ull << maxphyaddr()) - 1) & ~0xfffull;
	uint64_t base = 0x80000000ull | 1u, mask = (addr & ~0xfffffffull) | BIT(11); /* 256 MiB WC */
	uint64_t fixed = 0x0504010006060606ull;
	unsigned int bad = 0;

	guest_log("mtrrcap vcnt=%lu fix=%lu wc=%lu smrr=%lu", cap & 0xff, (cap >> 8) & 1, (cap >> 10) & 1,
		  (cap >> 11) & 1);
	guest_log("mtrr def_type 0x%lx", rdmsr(MSR_IA32_MTRR_DEF_TYPE));
	wrmsr(MSR_IA32_MTRR_PHYSBASE3, base);
	wrmsr(MSR_IA32_MTRR_PHYSMASK3, mask);
	guest_log("mtrr variable pair %s", rdmsr(MSR_IA32_MTRR_PHYSBASE3) == base &&
		  rdmsr(MSR_IA32_MTRR_PHYSMASK3) == mask ? "read back" : "ERROR not read back");
	bad += wr_gp(MSR_IA32_MTRR_PHYSBASE3, 0x80000000ull | 2u); /* type 2 reserved */
	bad += wr_gp(MSR_IA32_MTRR_PHYSBASE3, 0x80000000ull | 7u); /* type 7 (UC-) is PAT only */
	bad += wr_gp(MSR_IA32_MTRR_PHYSBASE3, base | BIT(8));      /* bits 11:8 reserved */
	bad += wr_gp(MSR_IA32_MTRR_PHYSBASE3, base | (1ull << maxphyaddr()));
	bad += wr_gp(MSR_IA32_MTRR_PHYSMASK3, mask | 1u);           /* bits 10:0 reserved */
	bad += wr_gp(MSR_IA32_MTRR_DEF_TYPE, 0x803u);               /* default type 3 */
	bad += wr_gp(MSR_IA32_MTRR_FIX64K_00000, 0x0606060606060206ull);
	bad += wr_gp(MSR_IA32_MTRRCAP, cap);                        /* read-only */
	guest_log("mtrr bad values: %u of 8 raised #GP, pair %s", bad,
		  rdmsr(MSR_IA32_MTRR_PHYSBASE3) == base && rdmsr(MSR_IA32_MTRR_PHYSMASK3) == mask ?
		  "kept" : "ERROR changed");
	wrmsr(MSR_IA32_MTRR_FIX4K_C0000, fixed);
	guest_log("mtrr fixed range %s", rdmsr(MSR_IA32_MTRR_FIX4K_C0000) == fixed ? "read back" :
		  "ERROR not read back");
}

static void probe_misc(void)
{
	uint64_t misc = rdmsr(MSR_IA32_MISC_ENABLE), ratio, mhz = cpuid(0x16, 0).eax;

	guest_log("misc_enable fast_strings=%lu, rewrite %s, limit-cpuid %s", misc & 1,
		  wr_gp(MSR_IA32_MISC_ENABLE, misc) ? "ERROR raised #GP" : "ok",
		  wr_gp(MSR_IA32_MISC_ENABLE, misc | BIT(22)) ? "raised #GP" : "ERROR did NOT raise #GP");
	/* The microcode revision query (SDM vol. 3A 10.11.7.1): WRMSR 0, CPUID(1), RDMSR. */
	wrmsr(MSR_IA32_BIOS_SIGN_ID, 0);
	(void)cpuid(1, 0);
	guest_log("bios_sign_id 0x%lx", rdmsr(MSR_IA32_BIOS_SIGN_ID) >> 32);
	/* Maximum non-turbo ratio x 100 MHz: the base frequency of CPUID.16H, to rounding (0 below 50 MHz). */
	ratio = (rdmsr(MSR_PLATFORM_INFO) >> 8) & 0xff;
	guest_log("platform_info ratio %s", ratio * 100 + 50 >= mhz && mhz + 50 >= ratio * 100 ?
		  "matches CPUID.16H" : "ERROR does not match CPUID.16H");
}

/* SDM vol. 3B 17.17.3: TSC and IA32_TSC_ADJUST move together. */
static void probe_tsc(void)
{
	uint64_t t0, t1, a0, a1, prev, now;
	unsigned int back = 0;

	guest_log("cpuid tsc_adjust=%lu, tsc_adjust at start %lu",
		  (uint64_t)(cpuid(7, 0).ebx & CPUID_7_EBX_TSC_ADJUST) >> 1, rdmsr(MSR_IA32_TSC_ADJUST));
	t0 = rdtsc();
	wrmsr(MSR_IA32_TSC_ADJUST, TSC_JUMP);
	t1 = rdtsc();
	guest_log("tsc_adjust += 2^40: tsc %s", t1 - t0 >= TSC_JUMP && t1 - t0 - TSC_JUMP < TSC_SLACK ?
		  "jumped by 2^40" : "ERROR did not jump by 2^40");
	a0 = rdmsr(MSR_IA32_TSC_ADJUST);
	t0 = rdtsc();
	wrmsr(MSR_IA32_TSC, t0 + (TSC_JUMP >> 4));
	a1 = rdmsr(MSR_IA32_TSC_ADJUST);
	guest_log("tsc += 2^36 by wrmsr: tsc_adjust %s", a1 - a0 <= (TSC_JUMP >> 4) &&
		  (TSC_JUMP >> 4) - (a1 - a0) < TSC_SLACK ? "moved by 2^36" : "ERROR did not move by 2^36");
	prev = rdtsc();
	for (unsigned int i = 0; i < 20000; i++) {
		now = i % 2 ? rdtsc() : rdmsr(MSR_IA32_TSC);
		back += now < prev;
		prev = now;
	}
	guest_log("tsc backwards in 20000 reads: %u", back);
}

/* IA32_SPEC_CTRL/PRED_CMD (CPUID.7.0:EDX[26]): where shown, usable; else #GP. */
static void probe_spec(void)
{
	if (!(cpuid(7, 0).edx & CPUID_7_EDX_IBRS_IBPB)) {
		guest_log("spec_ctrl hidden, rdmsr %s", rd_gp(MSR_IA32_SPEC_CTRL) ? "raised #GP" :
			  "ERROR did NOT raise #GP");
		return;
	}
	wrmsr(MSR_IA32_SPEC_CTRL, 1);
	guest_log("spec_ctrl shown: ibrs %s, reserved bit %s, ibpb %s", rdmsr(MSR_IA32_SPEC_CTRL) == 1 ?
		  "read back" : "ERROR not read back",
		  wr_gp(MSR_IA32_SPEC_CTRL, BIT(63)) ? "raised #GP" : "ERROR did NOT raise #GP",
		  wr_gp(MSR_IA32_PRED_CMD, 1) ? "ERROR raised #GP" : "ok");
	wrmsr(MSR_IA32_SPEC_CTRL, 0);
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	unsigned int before;

	guest_log("start");
	guest_trap_install(msrprobe_trap);

	before = gp_count;
	wrmsr(MSRPROBE_WR_MSR, 0);
	guest_log("wrmsr 0x%x %s", MSRPROBE_WR_MSR, outcome(before));

	before = gp_count;
	(void)rdmsr(MSRPROBE_RD_MSR);
	guest_log("rdmsr 0x%x %s", MSRPROBE_RD_MSR, outcome(before));

	before = gp_count;
	(void)rdmsr(MSR_IA32_TSC);
	if (gp_count == before)
		guest_log("rdmsr IA32_TSC ok");
	else
		guest_log("ERROR rdmsr IA32_TSC raised #GP");

	probe_mtrrs();
	probe_misc();
	probe_tsc();
	probe_spec();
	guest_done();
}
