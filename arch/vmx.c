/* SPDX-License-Identifier: MIT */
/* VMXON, VMCS access and host state (SDM vol. 3C ch. 24-26, 31). */
#include "arch/vmx.h"
#include "arch/vmx_cap.h"
#include "arch/vmx_ctls.h"
#include "arch/vmx_defs.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "kernel/errno.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "arch/pcpu.h"

struct vmx_config vmx_config;

extern char vmx_exit_stub[];

/* 31.4: what VMCS_VM_INSTRUCTION_ERROR means. */
static const char *const vmx_errors[] = {
	[1] = "VMCALL in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(uint32_t err)
{
	if (err < sizeof(vmx_errors) / sizeof(vmx_errors[0]) && vmx_errors[err])
		return vmx_errors[err];
	return "unknown VM-instruction error";
}

/* Each VMX instruction reports failure in CF (invalid) or ZF (valid, with an error number). */
#define VMX_OP(insn, ...)                                                            \
	({                                                                           \
		bool cf_, zf_;                                                       \
		__asm__ volatile(insn : "=@ccc"(cf_), "=@ccz"(zf_) : __VA_ARGS__ : "memory"); \
		(cf_ || zf_) ? -EIO : 0;                                             \
	})

static uint64_t ctl_msr(uint32_t plain, uint32_t true_msr)
{
	return rdmsr(pcpus[0]->vmx.true_ctls ? true_msr : plain);
}

static int compute(const char *what, uint64_t cap, uint32_t req, uint32_t opt, uint32_t *out)
{
	uint32_t missing = 0;

	if (vmx_ctl_compute(cap, req, opt, out, &missing)) {
		pr_err("vmx: this CPU cannot set required %s controls 0x%x", what, missing);
		return -ENOTSUP;
	}
	return 0;
}

int vmx_config_init(void)
{
	struct vmx_config *c = &vmx_config;
	const struct vmx_cap *cap = &pcpus[0]->vmx;
	uint64_t proc_cap = ctl_msr(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	int err = 0;

	err |= compute("pin-based",
		       ctl_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS),
		       PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING |
			       PIN_BASED_VMX_PREEMPTION_TIMER, PIN_BASED_VIRTUAL_NMIS, &c->pin);
	err |= compute("processor-based", proc_cap,
		       CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_USE_MSR_BITMAPS |
			       CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_ACTIVATE_SECONDARY,
		       CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING | CPU_BASED_USE_TPR_SHADOW |
			       CPU_BASED_RDPMC_EXITING,
		       &c->proc);
	err |= compute("secondary", rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2), SECONDARY_ENABLE_EPT,
		       SECONDARY_ENABLE_VPID | SECONDARY_UNRESTRICTED_GUEST | SECONDARY_ENABLE_RDTSCP |
			       SECONDARY_ENABLE_INVPCID | SECONDARY_ENABLE_XSAVES |
			       SECONDARY_VIRT_APIC_ACCESSES | SECONDARY_APIC_REGISTER_VIRT,
		       &c->proc2);
	err |= compute("VM-exit", ctl_msr(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS),
		       VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER |
			       VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT, 0, &c->exit);
	/* PAT is switched by the VMCS, never shared with the host: every CPU with EPT has it. */
	err |= compute("VM-entry", ctl_msr(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS),
		       VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT, 0, &c->entry);
	if (err)
		return -ENOTSUP;
	/*
	 * CR8 is the task priority (SDM vol. 3A 11.8.6): a guest must never
	 * reach the physical APIC's, or it could stop every VM on its CPU. The
	 * TPR shadow keeps MOV to/from CR8 in the virtual-APIC page (the
	 * vlapic's register page) without an exit, and the TPR threshold brings
	 * a TPR-below-threshold exit when a lowered priority lets a pending
	 * interrupt in (vcpu_deliver_events). So it is used wherever the CPU
	 * has it, with APIC-register virtualization or not; without it every
	 * CR8 access exits and is emulated (vmm/cr.c).
	 */
	if (boot_opts.no_tpr_shadow) /* test option: the path of CPUs without it */
		c->proc &= ~(uint32_t)CPU_BASED_USE_TPR_SHADOW;
	c->tpr_shadow = c->proc & CPU_BASED_USE_TPR_SHADOW;
	if (!c->tpr_shadow && compute("processor-based (no TPR shadow)", proc_cap,
				      c->proc | CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING,
				      0, &c->proc))
		return -ENOTSUP;
	/* Guests get NMIs only with virtual NMIs: else the CPU cannot tell when their handler ends (25.3). */
	c->vnmi = c->pin & PIN_BASED_VIRTUAL_NMIS;
	c->nmi_window = c->vnmi && ((proc_cap >> 32) & CPU_BASED_NMI_WINDOW_EXITING);
	c->vpid = c->proc2 & SECONDARY_ENABLE_VPID && cap->invvpid;
	if (!c->vpid)
		c->proc2 &= ~(uint32_t)SECONDARY_ENABLE_VPID;
	c->unrestricted = c->proc2 & SECONDARY_UNRESTRICTED_GUEST;
	c->apicv = c->tpr_shadow && (c->proc2 & SECONDARY_VIRT_APIC_ACCESSES) &&
		   (c->proc2 & SECONDARY_APIC_REGISTER_VIRT);
	if (!c->apicv) {
		/* All or nothing: without register virtualization xAPIC MMIO is emulated (vmm/apicv.c). */
		c->proc2 &= ~(uint32_t)(SECONDARY_VIRT_APIC_ACCESSES | SECONDARY_APIC_REGISTER_VIRT);
	}
	pr_info("vmx: guest CR8 %s; guest NMIs %s", c->tpr_shadow ? "in the TPR shadow" : "by CR8 exits",
		c->nmi_window ? "virtual, with NMI-window exits" : c->vnmi ? "virtual" : "not offered");
	c->ept_ad = cap->ept_ad;
	c->preempt_shift = cap->preemption_timer_shift;
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	return 0;
}

int vmx_cpu_on(void)
{
	struct pcpu *c = this_cpu();
	uint64_t region = page_alloc(1, PMM_OWNER_PCPU);

	if (!region)
		return -ENOMEM;
	*(uint32_t *)phys_to_virt(region) = c->vmx.vmcs_revision;
	/* Caches on: an AP comes out of INIT with CD and NW set (SDM vol. 3A 10.1.1, Table 10-1). */
	write_cr0(vmx_cr_fixed(read_cr0() & ~(CR0_CD | CR0_NW), rdmsr(MSR_IA32_VMX_CR0_FIXED0),
			       rdmsr(MSR_IA32_VMX_CR0_FIXED1)));
	write_cr4(vmx_cr_fixed(read_cr4() | CR4_VMXE, rdmsr(MSR_IA32_VMX_CR4_FIXED0),
			       rdmsr(MSR_IA32_VMX_CR4_FIXED1)));
	if (VMX_OP("vmxon %2", "m"(region))) {
		page_free(region, 1, PMM_OWNER_PCPU);
		pr_err("vmx: VMXON failed on cpu%u", c->id);
		return -EIO;
	}
	c->vmxon_region = region;
	return 0;
}

uint64_t vmcs_alloc(void)
{
	uint64_t p = page_alloc(1, PMM_OWNER_VMM);

	if (p)
		*(uint32_t *)phys_to_virt(p) = this_cpu()->vmx.vmcs_revision;
	return p;
}

void vmcs_free(uint64_t phys)
{
	page_free(phys, 1, PMM_OWNER_VMM);
}

int vmcs_clear(uint64_t phys)
{
	int err = VMX_OP("vmclear %2", "m"(phys));

	if (this_cpu()->loaded_vmcs == phys)
		this_cpu()->loaded_vmcs = 0;
	return err;
}

int vmcs_load(uint64_t phys)
{
	int err = VMX_OP("vmptrld %2", "m"(phys));

	if (!err)
		this_cpu()->loaded_vmcs = phys;
	return err;
}

static uint32_t instruction_error(void)
{
	uint64_t v = 0;

	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"((uint64_t)VMCS_VM_INSTRUCTION_ERROR) : "cc");
	return (uint32_t)v;
}

void vmcs_access_failed(uint32_t field, uint64_t value, bool write)
{
	const char *why = !this_cpu()->loaded_vmcs ? "no current VMCS" :
			  vmx_instruction_error_name(instruction_error());

	if (write)
		panic("vmwrite of 0x%lx to VMCS field 0x%x failed: %s", value, field, why);
	panic("vmread of VMCS field 0x%x failed: %s", field, why);
}

int vmcs_try_write(uint32_t field, uint64_t value)
{
	return VMX_OP("vmwrite %2, %3", "r"(value), "r"((uint64_t)field));
}

/* INVEPT/INVVPID descriptors (31.3). */
struct inv_desc {
	uint64_t a, b;
};

#define INVEPT_SINGLE_CONTEXT  1ull
#define INVVPID_SINGLE_CONTEXT 1ull

void vmx_invept_single(uint64_t eptp)
{
	struct inv_desc d = { eptp, 0 };

	if (VMX_OP("invept %2, %3", "m"(d), "r"(INVEPT_SINGLE_CONTEXT)))
		panic("INVEPT single-context failed for EPTP 0x%lx", eptp);
}

void vmx_invvpid_single(uint16_t vpid)
{
	struct inv_desc d = { vpid, 0 };

	if (VMX_OP("invvpid %2, %3", "m"(d), "r"(INVVPID_SINGLE_CONTEXT)))
		panic("INVVPID single-context failed for VPID %u", vpid);
}

/* 26.5 host-state area: what the CPU loads on every VM exit. */
void vmx_write_host_state(void)
{
	struct pcpu *c = this_cpu();
	struct desc_ptr idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SELECTOR, GDT_KERNEL_CS);
	vmcs_write(VMCS_HOST_SS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write(VMCS_HOST_DS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write(VMCS_HOST_ES_SELECTOR, GDT_KERNEL_DS);
	vmcs_write(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_TR_SELECTOR, GDT_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, 0);
	vmcs_write(VMCS_HOST_GS_BASE, (uint64_t)c);
	vmcs_write(VMCS_HOST_TR_BASE, (uint64_t)&c->tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, (uint64_t)&c->gdt);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_config.exit & VM_EXIT_LOAD_IA32_PAT)
		vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	/* Every exit starts on an empty per-CPU stack: the C handler never unwinds into a guest. */
	vmcs_write(VMCS_HOST_RSP, c->stack_hi);
	vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
}
