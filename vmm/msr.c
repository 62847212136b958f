/* SPDX-License-Identifier: MIT */
/*
 * Guest MSRs (SDM vol. 3C 25.6.9 MSR bitmaps). Three kinds, listed once:
 * switched by the VMCS (passed through), swapped by Tern on vCPU switches
 * (passed through), and emulated on exit. Any other MSR is refused with #GP
 * and counted.
 *
 * The emulated state is per vCPU (struct vmsr_state, vmm/vmsr.c):
 * IA32_MISC_ENABLE, the MTRRs, IA32_TSC_ADJUST and the TSC offset, and
 * IA32_SPEC_CTRL where the host has it. The MTRRs are kept for the guest
 * and for save/restore only: Tern's EPT gives every page memory type WB
 * with "ignore PAT" clear (arch/ept.c), so the effective type is the
 * guest's PAT combined with WB (SDM vol. 3C 30.3.7.2) and guest MTRRs
 * never take effect, as on a hypervisor that does not honour them.
 */
#include "vmm/msr.h"
#include "vmm/cr.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "vmm/vmsr.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/string.h"

/* Guest state the VMCS saves and loads, or Tern swaps: no exit needed. */
static const uint32_t passthrough[] = {
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
	MSR_IA32_TSC_AUX, /* vmm/xregs.c */
};

static uint64_t bitmap;

/* Host facts, read once at boot: what the guest's CPUID shows (vmm/cpuid.c) follows the same CPUID. */
static struct {
	unsigned int maxphyaddr; /* CPUID.80000008H:EAX[7:0], which the guest sees too */
	uint64_t spec_mask;      /* IA32_SPEC_CTRL bits offered; 0: no IA32_SPEC_CTRL */
	uint64_t spec_host;      /* the host's IA32_SPEC_CTRL, restored at every exit that loads the guest's */
	bool ibpb;               /* IA32_PRED_CMD offered */
	bool arch_cap;           /* IA32_ARCH_CAPABILITIES offered */
	uint64_t arch_cap_val;
} host;

static void host_probe(void)
{
	uint32_t edx7 = 0;

	host.maxphyaddr = 36; /* without the leaf (SDM vol. 3A 4.1.4) */
	if (cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_ADDR_SIZES)
		host.maxphyaddr = cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax & 0xffu;
	if (cpuid(CPUID_LEAF_VENDOR, 0).eax >= CPUID_LEAF_EXT_FEATURES7)
		edx7 = cpuid(CPUID_LEAF_EXT_FEATURES7, 0).edx;
	host.spec_mask = vmsr_spec_ctrl_mask(edx7);
	if (host.spec_mask)
		host.spec_host = rdmsr(MSR_IA32_SPEC_CTRL);
	host.ibpb = edx7 & CPUID_7_EDX_IBRS_IBPB;
	host.arch_cap = edx7 & CPUID_7_EDX_ARCH_CAPABILITIES;
	if (host.arch_cap)
		host.arch_cap_val = rdmsr(MSR_IA32_ARCH_CAPABILITIES) & VMSR_ARCH_CAP_PASSED;
	pr_info("msr: guest MAXPHYADDR %u, IA32_SPEC_CTRL bits 0x%lx, IBPB %s, ARCH_CAPABILITIES %s",
		host.maxphyaddr, host.spec_mask, host.ibpb ? "yes" : "no", host.arch_cap ? "yes" : "no");
}

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
	host_probe();
	bm = phys_to_virt(bitmap);
	memset(bm, 0xff, PAGE_SIZE);
	for (unsigned int i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++)
		allow(bm, passthrough[i]);
	return 0;
}

/*
 * IA32_SPEC_CTRL (SDM vol. 4 table 2-2) is the guest's only while it runs:
 * the VM-entry MSR-load list loads its value, the VM-exit MSR-load list the
 * host's (SDM vol. 3C 25.7.2, 25.8.2). While the two are equal nothing is
 * switched, so guests that never write it pay nothing.
 */
static void spec_ctrl_sync(struct vcpu *v)
{
	struct vmsr_state *s = &v->msr;
	uint32_t n = s->spec_ctrl != host.spec_host ? 1u : 0u;

	s->spec_list[0] = (struct vmsr_entry){ MSR_IA32_SPEC_CTRL, 0, s->spec_ctrl };
	s->spec_list[1] = (struct vmsr_entry){ MSR_IA32_SPEC_CTRL, 0, host.spec_host };
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_ADDR, virt_to_phys(&s->spec_list[0]));
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_ADDR, virt_to_phys(&s->spec_list[1]));
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, n);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, n);
}

/*
 * The TSC offset (SDM vol. 3C 25.6.5): RDTSC, RDTSCP and the TSC-deadline
 * comparison see host TSC + offset. An armed TSC-deadline timer keeps its
 * guest deadline, so its host-TSC expiry moves with the offset.
 */
static void tsc_offset_sync(struct vcpu *v)
{
	vmcs_write(VMCS_TSC_OFFSET, v->msr.tsc_offset);
	if (v->lapic.tsc_deadline && v->lapic.timer_next != VLAPIC_NO_EVENT)
		v->lapic.timer_next = vmsr_deadline_to_host(&v->msr, rdtsc(), v->lapic.tsc_deadline);
}

void msr_vcpu_reset(struct vcpu *v)
{
	vmsr_reset(&v->msr);
	v->msr.tsc_offset = v->vm->tsc_offset; /* the same TSC as its VM's other vCPUs */
	tsc_offset_sync(v);
	spec_ctrl_sync(v);
}

void msr_vcpu_sync(struct vcpu *v)
{
	tsc_offset_sync(v);
	spec_ctrl_sync(v);
}

uint64_t msr_guest_tsc(const struct vcpu *v)
{
	return vmsr_guest_tsc(&v->msr, rdtsc());
}

void msr_set_guest_tsc(struct vcpu *v, uint64_t tsc)
{
	v->msr.tsc_offset = tsc - rdtsc();
	tsc_offset_sync(v);
}

int msr_state_check(const struct vmsr_state *s)
{
	struct vmsr_state scratch;

	vmsr_reset(&scratch);
	if (!vmsr_misc_enable_write(&scratch, s->misc_enable) || (s->spec_ctrl & ~host.spec_mask))
		return -EINVAL;
	for (unsigned int i = 0; i < VMSR_MTRR_SAVED; i++) {
		uint32_t msr = vmsr_mtrr_saved_msr(i);
		uint64_t val = 0;

		(void)vmsr_mtrr_read(s, msr, &val);
		if (!vmsr_mtrr_valid(msr, val, host.maxphyaddr))
			return -EINVAL;
	}
	return 0;
}

/* Emulated MSRs: 0 and *val, -EPERM for "not on the allow list", -EINVAL for #GP. */
static int emulated_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (vmsr_is_mtrr(msr))
		return vmsr_mtrr_read(&v->msr, msr, val);
	switch (msr) {
	case MSR_IA32_TIME_STAMP_COUNTER: *val = msr_guest_tsc(v); return 0;
	case MSR_IA32_TSC_ADJUST: *val = v->msr.tsc_adjust; return 0;
	case MSR_IA32_EFER: *val = vmcs_read(VMCS_GUEST_IA32_EFER); return 0;
	case MSR_IA32_PAT: *val = vmcs_read(VMCS_GUEST_IA32_PAT); return 0;
	case MSR_IA32_MISC_ENABLE: *val = v->msr.misc_enable; return 0;
	/* No microcode update is offered: revision 0, also after WRMSR 0 and CPUID (SDM vol. 3A 10.11.7.1). */
	case MSR_IA32_BIOS_SIGN_ID: *val = 0; return 0;
	case MSR_PLATFORM_INFO: *val = vmsr_platform_info(tsc_khz); return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!host.spec_mask)
			return -EPERM;
		*val = v->msr.spec_ctrl;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!host.arch_cap)
			return -EPERM;
		*val = host.arch_cap_val;
		return 0;
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

/* IA32_PRED_CMD (write-only): IBPB is done on the host CPU, which is the guest's now. */
static int pred_cmd_write(uint64_t val)
{
	if (!host.ibpb)
		return -EPERM;
	if (val & ~(uint64_t)IA32_PRED_CMD_IBPB)
		return -EINVAL;
	if (val)
		wrmsr(MSR_IA32_PRED_CMD, IA32_PRED_CMD_IBPB);
	return 0;
}

static int spec_ctrl_write(struct vcpu *v, uint64_t val)
{
	if (!host.spec_mask)
		return -EPERM;
	if (val & ~host.spec_mask)
		return -EINVAL;
	v->msr.spec_ctrl = val;
	spec_ctrl_sync(v);
	return 0;
}

/* A value VM entry would refuse never reaches the VMCS: the guest gets #GP as on hardware. */
static int emulated_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (vmsr_is_mtrr(msr))
		return vmsr_mtrr_write(&v->msr, msr, val, host.maxphyaddr);
	switch (msr) {
	case MSR_IA32_EFER: return efer_write(val);
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return -EINVAL;
		vmcs_write(VMCS_GUEST_IA32_PAT, val);
		return 0;
	case MSR_IA32_TIME_STAMP_COUNTER:
		vmsr_tsc_write(&v->msr, rdtsc(), val);
		tsc_offset_sync(v);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		vmsr_tsc_adjust_write(&v->msr, val);
		tsc_offset_sync(v);
		return 0;
	case MSR_IA32_MISC_ENABLE:
		return vmsr_misc_enable_write(&v->msr, val) ? 0 : -EINVAL;
	case MSR_IA32_BIOS_SIGN_ID: /* the "WRMSR 0, CPUID, RDMSR" revision query: accepted */
		return 0;
	case MSR_IA32_SPEC_CTRL: return spec_ctrl_write(v, val);
	case MSR_IA32_PRED_CMD: return pred_cmd_write(val);
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
