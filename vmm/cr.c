/* SPDX-License-Identifier: MIT */
/* CR0/CR4 virtualization and control-register access exits (SDM vol. 3C 25.6.6, table 28-3). */
#include "vmm/cr.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "arch/vmx_ctls.h"

#define CR_QUAL_NUM(q)   ((q) & 0xfu)
#define CR_QUAL_TYPE(q)  (((q) >> 4) & 3u)
#define CR_QUAL_GPR(q)   (((q) >> 8) & 0xfu)
#define CR_QUAL_LMSW(q)  (((q) >> 16) & 0xffffu)
#define CR_TYPE_MOV_TO   0u
#define CR_TYPE_MOV_FROM 1u
#define CR_TYPE_CLTS     2u
#define CR_TYPE_LMSW     3u

static uint64_t cr0_fixed0(void)
{
	uint64_t f = vmx_config.cr0_fixed0;

	/* Unrestricted guests may run with paging or protection off (26.3.1.1). */
	if (vmx_config.unrestricted)
		f &= ~(CR0_PE | CR0_PG);
	return f;
}

uint64_t guest_cr0_host_mask(void)
{
	return (cr0_fixed0() | ~vmx_config.cr0_fixed1) & 0xffffffffull;
}

uint64_t guest_cr4_host_mask(void)
{
	return (vmx_config.cr4_fixed0 | ~vmx_config.cr4_fixed1) & 0xffffffffull;
}

uint64_t guest_cr0_hw(uint64_t v)
{
	return vmx_cr_fixed(v, cr0_fixed0(), vmx_config.cr0_fixed1);
}

uint64_t guest_cr4_hw(uint64_t v)
{
	return vmx_cr_fixed(v, vmx_config.cr4_fixed0, vmx_config.cr4_fixed1);
}

static uint64_t *gpr(struct vcpu *v, unsigned int n)
{
	return &((uint64_t *)&v->regs)[n];
}

/* Entering or leaving IA-32e mode follows CR0.PG with EFER.LME set (SDM 10.8.5). */
static void update_long_mode(uint64_t cr0)
{
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	uint64_t entry = vmcs_read(VMCS_VM_ENTRY_CONTROLS);

	if ((cr0 & CR0_PG) && (efer & IA32_EFER_LME)) {
		efer |= IA32_EFER_LMA;
		entry |= VM_ENTRY_IA32E_MODE_GUEST;
	} else {
		efer &= ~IA32_EFER_LMA;
		entry &= ~(uint64_t)VM_ENTRY_IA32E_MODE_GUEST;
	}
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry);
}

static enum exit_action cr0_write(struct vcpu *v, uint64_t val)
{
	/* MOV to CR0 faults on reserved bits, PG without PE, NW without CD (SDM vol. 2B MOV CR). */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD))) {
		vcpu_inject_exception(VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	vmcs_write(VMCS_CR0_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR0, guest_cr0_hw(val));
	update_long_mode(val);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_action cr4_write(struct vcpu *v, uint64_t val)
{
	/* The guest may not turn on VMX itself: Tern hides it. */
	if (val & CR4_VMXE || val >> 32) {
		vcpu_inject_exception(VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	vmcs_write(VMCS_CR4_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR4, guest_cr4_hw(val));
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

enum exit_action handle_cr_access(struct vcpu *v, const struct exit_info *e)
{
	unsigned int cr = CR_QUAL_NUM(e->qual), type = CR_QUAL_TYPE(e->qual);
	uint64_t shadow = vmcs_read(VMCS_CR0_READ_SHADOW);

	switch (type) {
	case CR_TYPE_MOV_TO:
		if (cr == 0)
			return cr0_write(v, *gpr(v, CR_QUAL_GPR(e->qual)));
		if (cr == 4)
			return cr4_write(v, *gpr(v, CR_QUAL_GPR(e->qual)));
		break;
	case CR_TYPE_CLTS:
		return cr0_write(v, shadow & ~CR0_TS);
	case CR_TYPE_LMSW:
		/* LMSW sets PE but can never clear it. */
		return cr0_write(v, (shadow & ~0xeull) | (CR_QUAL_LMSW(e->qual) & 0xfu) |
					    (shadow & CR0_PE));
	default:
		break;
	}
	vm_stop(v->vm, "unexpected control-register access (CR%u, type %u) at RIP 0x%lx", cr, type,
		vmcs_read(VMCS_GUEST_RIP));
	return EXIT_STOP;
}
