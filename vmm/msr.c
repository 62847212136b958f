/* SPDX-License-Identifier: MIT */
/*
 * Guest MSRs (SDM vol. 3C 25.6.9 MSR bitmaps). Three kinds, listed once:
 * switched by the VMCS (passed through), swapped by Tern on vCPU switches
 * (passed through), and emulated on exit. Any other MSR is refused with #GP
 * and counted.
 */
#include "vmm/msr.h"
#include "vmm/cr.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/string.h"

#define MSR_IA32_TIME_STAMP_COUNTER 0x00000010u
#define MSR_IA32_SYSENTER_CS        0x00000174u
#define MSR_IA32_SYSENTER_ESP       0x00000175u
#define MSR_IA32_SYSENTER_EIP       0x00000176u
#define MSR_IA32_MISC_ENABLE        0x000001a0u
#define   MISC_ENABLE_FAST_STRINGS  BIT(0)

/* Guest state the VMCS saves and loads, or Tern swaps: no exit needed. */
static const uint32_t passthrough[] = {
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
	MSR_IA32_TSC_AUX, /* vmm/xregs.c */
};

static uint64_t bitmap;

uint64_t msr_bitmap_phys(void)
{
	return bitmap;
}

/* Bitmap layout: read low, read high, write low, write high; 1 KiB each. */
static void allow(uint8_t *bm, uint32_t msr)
{
	uint32_t off = msr >= 0xc0000000u ? 1024u : 0u, bit = msr & 0x1fffu;

	bm[off + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	bm[2048 + off + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

int msr_bitmap_init(void)
{
	uint8_t *bm;

	bitmap = page_alloc(1, PMM_OWNER_VMM);
	if (!bitmap)
		return -ENOMEM;
	bm = phys_to_virt(bitmap);
	memset(bm, 0xff, PAGE_SIZE);
	for (unsigned int i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++)
		allow(bm, passthrough[i]);
	return 0;
}

/* Emulated MSRs: 0 and *val, or -EPERM for "not on the allow list". */
static int emulated_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_IA32_TIME_STAMP_COUNTER: *val = rdtsc(); return 0;
	case MSR_IA32_EFER: *val = vmcs_read(VMCS_GUEST_IA32_EFER); return 0;
	case MSR_IA32_PAT: *val = vmcs_read(VMCS_GUEST_IA32_PAT); return 0;
	case MSR_IA32_MISC_ENABLE: *val = MISC_ENABLE_FAST_STRINGS; return 0;
	case MSR_IA32_MTRRCAP: *val = 0; return 0; /* no variable MTRRs offered */
	case MSR_IA32_MTRR_DEF_TYPE: *val = 0x806; return 0; /* MTRRs on, default WB */
	default: return -EPERM;
	}
}

/*
 * IA32_EFER (SDM vol. 4 table 2-2, vol. 3A 10.8.5): reserved bits, NXE on a
 * CPU without NX, and a change of LME while paging is on raise #GP. LMA is
 * the CPU's, following CR0.PG and LME (vmm/cr.c): a value written is ignored.
 */
static int efer_write(uint64_t val)
{
	uint64_t cur = vmcs_read(VMCS_GUEST_IA32_EFER);
	uint64_t ok = IA32_EFER_SCE | IA32_EFER_LME | IA32_EFER_LMA;

	if (cpuid(CPUID_LEAF_EXT_FEATURES, 0).edx & CPUID_80000001_EDX_NX)
		ok |= IA32_EFER_NXE;
	if ((val & ~ok) || (((val ^ cur) & IA32_EFER_LME) && (guest_cr0_read() & CR0_PG)))
		return -EINVAL;
	vmcs_write(VMCS_GUEST_IA32_EFER, (val & ~IA32_EFER_LMA) | (cur & IA32_EFER_LMA));
	return 0;
}

/* IA32_PAT: each of the eight entries a memory type, 0 1 4 5 6 or 7 (SDM vol. 3A 11.12.2). */
static bool pat_valid(uint64_t val)
{
	for (unsigned int i = 0; i < 8; i++) {
		uint8_t type = (uint8_t)(val >> (8 * i));

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/* A value VM entry would refuse never reaches the VMCS: the guest gets #GP as on hardware. */
static int emulated_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_IA32_EFER: return efer_write(val);
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return -EINVAL;
		vmcs_write(VMCS_GUEST_IA32_PAT, val);
		return 0;
	case MSR_IA32_TIME_STAMP_COUNTER: /* accepted, not applied: guests share the host TSC */
	case MSR_IA32_MTRR_DEF_TYPE:
	case MSR_IA32_MISC_ENABLE:
		return 0;
	default:
		return -EPERM;
	}
}

static enum exit_action refuse(struct vcpu *v, const char *op, uint32_t msr)
{
	if (v->vm->unhandled_msr++ < 8)
		pr_info("vm %s: %s of MSR 0x%x refused with #GP", v->vm->name, op, msr);
	vcpu_inject_exception(VEC_GP, true, 0);
	return EXIT_RESUME;
}

enum exit_action handle_rdmsr(struct vcpu *v, const struct exit_info *e)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t val;
	int err = vlapic_rdmsr(v, msr, &val);

	if (err == -EPERM)
		err = emulated_read(v, msr, &val);
	if (err)
		return refuse(v, "rdmsr", msr);
	v->regs.rax = (uint32_t)val;
	v->regs.rdx = val >> 32;
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

enum exit_action handle_wrmsr(struct vcpu *v, const struct exit_info *e)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	int err = vlapic_wrmsr(v, msr, val);

	if (err == -EPERM)
		err = emulated_write(v, msr, val);
	if (err)
		return refuse(v, "wrmsr", msr);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}
