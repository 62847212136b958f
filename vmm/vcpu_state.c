/* SPDX-License-Identifier: MIT */
/* Capture and apply a vCPU's whole state (vcpu_state.h). */
#include "vmm/vcpu_state.h"
#include "vmm/cr.h"
#include "vmm/gmap.h"
#include "vmm/msr.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arch/apic.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "arch/x86.h"
#include "arch/xstate.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define AR_UNUSABLE BIT(16)

struct seg_fields {
	uint32_t sel, limit, ar, base;
};

/* VMCS encodings of ES CS SS DS FS GS LDTR TR, in the order of struct tern_vcpu_regs. */
static const struct seg_fields segs[8] = {
	{ VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_ES_BASE },
	{ VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR_BYTES, VMCS_GUEST_CS_BASE },
	{ VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR_BYTES, VMCS_GUEST_SS_BASE },
	{ VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR_BYTES, VMCS_GUEST_DS_BASE },
	{ VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR_BYTES, VMCS_GUEST_FS_BASE },
	{ VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR_BYTES, VMCS_GUEST_GS_BASE },
	{ VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR_BYTES, VMCS_GUEST_LDTR_BASE },
	{ VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR_BYTES, VMCS_GUEST_TR_BASE },
};

static struct tern_segment *seg_of(struct tern_vcpu_regs *r, unsigned int i)
{
	struct tern_segment *s[8] = { &r->es, &r->cs, &r->ss, &r->ds, &r->fs, &r->gs, &r->ldtr, &r->tr };

	return s[i];
}

/* The emulated MSRs (vmm/vmsr.h) in the ABI's layout. */
static void msrs_to_regs(struct tern_vcpu_regs *r, const struct vmsr_state *s)
{
	r->misc_enable = s->misc_enable;
	r->tsc_adjust = s->tsc_adjust;
	r->spec_ctrl = s->spec_ctrl;
	r->mtrr_def_type = s->mtrr_def_type;
	memcpy(r->mtrr_var, s->mtrr_var, sizeof(r->mtrr_var));
	memcpy(r->mtrr_fixed, s->mtrr_fixed, sizeof(r->mtrr_fixed));
}

static void msrs_from_regs(struct vmsr_state *s, const struct tern_vcpu_regs *r)
{
	s->misc_enable = r->misc_enable;
	s->tsc_adjust = r->tsc_adjust;
	s->spec_ctrl = r->spec_ctrl;
	s->mtrr_def_type = r->mtrr_def_type;
	memcpy(s->mtrr_var, r->mtrr_var, sizeof(s->mtrr_var));
	memcpy(s->mtrr_fixed, r->mtrr_fixed, sizeof(s->mtrr_fixed));
}

_Static_assert(sizeof(((struct tern_vcpu_regs *)0)->mtrr_var) == sizeof(((struct vmsr_state *)0)->mtrr_var) &&
	       sizeof(((struct tern_vcpu_regs *)0)->mtrr_fixed) == sizeof(((struct vmsr_state *)0)->mtrr_fixed),
	       "MTRR arrays of the ABI and of vmsr_state");

void vcpu_state_capture(struct vcpu *v)
{
	struct tern_vcpu_regs *r = &v->arch;
	const struct vcpu_xregs *x = &v->xregs;
	uint64_t now = rdtsc();

	memset(r, 0, sizeof(*r));
	r->version = TERN_VCPU_REGS_VERSION;
	r->size = sizeof(*r);
	for (unsigned int i = 0; i < 16; i++)
		r->gpr[i] = vcpu_gpr(v, i);
	r->rip = vmcs_read(VMCS_GUEST_RIP);
	r->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	for (unsigned int i = 0; i < 8; i++) {
		struct tern_segment *s = seg_of(r, i);

		s->selector = (uint16_t)vmcs_read(segs[i].sel);
		s->limit = (uint32_t)vmcs_read(segs[i].limit);
		s->ar = (uint32_t)vmcs_read(segs[i].ar);
		s->base = vmcs_read(segs[i].base);
	}
	r->gdtr_base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	r->gdtr_limit = (uint32_t)vmcs_read(VMCS_GUEST_GDTR_LIMIT);
	r->idtr_base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	r->idtr_limit = (uint32_t)vmcs_read(VMCS_GUEST_IDTR_LIMIT);
	r->cr0 = guest_cr0_read();
	r->cr3 = vmcs_read(VMCS_GUEST_CR3);
	r->cr4 = guest_cr4_read();
	r->cr2 = x->cr2;
	r->cr8 = (v->lapic.regs[APIC_TPR / 4] >> 4) & 0xfu;
	memcpy(r->dr, x->dr, sizeof(r->dr));
	r->dr6 = x->dr6;
	r->dr7 = vmcs_read(VMCS_GUEST_DR7);
	r->efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	r->pat = vmcs_read(VMCS_GUEST_IA32_PAT);
	r->sysenter_cs = vmcs_read(VMCS_GUEST_SYSENTER_CS);
	r->sysenter_esp = vmcs_read(VMCS_GUEST_SYSENTER_ESP);
	r->sysenter_eip = vmcs_read(VMCS_GUEST_SYSENTER_EIP);
	r->star = v->msrs.star;
	r->lstar = v->msrs.lstar;
	r->cstar = v->msrs.cstar;
	r->fmask = v->msrs.sfmask;
	r->kernel_gs_base = v->msrs.kernel_gs_base;
	r->tsc_aux = x->tsc_aux;
	r->tsc = vmsr_guest_tsc(&v->msr, now);
	r->xcr0 = x->xcr0;
	r->interruptibility = (uint32_t)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	r->pending_event = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INTR_INFO);
	r->pending_error = (uint32_t)vmcs_read(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE);
	r->pending_insn_len = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INSTRUCTION_LEN);
	r->run_state = (uint32_t)v->state;
	r->apic_base = v->lapic.apic_base;
	r->apic_tsc_deadline = v->lapic.tsc_deadline;
	r->apic_timer_left = v->lapic.timer_next == VLAPIC_NO_EVENT ? 0 :
			     v->lapic.timer_next > now ? v->lapic.timer_next - now : 1;
	r->apic_timer_period = v->lapic.timer_period;
	r->apic_nmi_pending = v->lapic.nmi_pending;
	for (unsigned int i = 0; i < TERN_LAPIC_REGS; i++)
		r->lapic[i] = v->lapic.regs[i * 4];
	r->xsave_size = xstate_config.size <= TERN_XSAVE_MAX ? xstate_config.size : 0;
	memcpy(r->xsave, x->area, r->xsave_size);
	msrs_to_regs(r, &v->msr);
}

void vcpu_state_capture_waiting(struct vcpu *v)
{
	struct vmsr_state reset;

	vmsr_reset(&reset);
	memset(&v->arch, 0, sizeof(v->arch));
	msrs_to_regs(&v->arch, &reset); /* what it starts with */
	v->arch.version = TERN_VCPU_REGS_VERSION;
	v->arch.size = sizeof(v->arch);
	v->arch.run_state = TERN_VCPU_WAIT_SIPI;
	v->arch.apic_base = v->lapic.apic_base;
	v->arch.xsave_size = xstate_config.size <= TERN_XSAVE_MAX ? xstate_config.size : 0;
}

void vcpu_state_apply(struct vcpu *v)
{
	const struct tern_vcpu_regs *r = &v->arch;
	uint64_t entry;

	for (unsigned int i = 0; i < 16; i++)
		vcpu_set_gpr(v, i, r->gpr[i]);
	vmcs_write(VMCS_GUEST_RIP, r->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, r->rflags);
	for (unsigned int i = 0; i < 8; i++) {
		const struct tern_segment *s = seg_of((struct tern_vcpu_regs *)r, i);

		vmcs_write(segs[i].sel, s->selector);
		vmcs_write(segs[i].limit, s->limit);
		vmcs_write(segs[i].ar, s->ar);
		vmcs_write(segs[i].base, s->base);
	}
	vmcs_write(VMCS_GUEST_GDTR_BASE, r->gdtr_base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, r->gdtr_limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, r->idtr_base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, r->idtr_limit);
	vmcs_write(VMCS_CR0_READ_SHADOW, r->cr0);
	vmcs_write(VMCS_GUEST_CR0, guest_cr0_hw(r->cr0));
	vmcs_write(VMCS_CR4_READ_SHADOW, r->cr4);
	vmcs_write(VMCS_GUEST_CR4, guest_cr4_hw(r->cr4));
	vmcs_write(VMCS_GUEST_CR3, r->cr3);
	vmcs_write(VMCS_GUEST_DR7, r->dr7);
	vmcs_write(VMCS_GUEST_IA32_EFER, r->efer);
	/* "IA-32e mode guest" must match EFER.LMA (SDM vol. 3C 26.3.1.1). */
	entry = vmcs_read(VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)VM_ENTRY_IA32E_MODE_GUEST;
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry | (r->efer & IA32_EFER_LMA ? VM_ENTRY_IA32E_MODE_GUEST : 0));
	cr_sync_pdptes(v); /* PAE paging: the PDPTEs VM entry loads (vmm/cr.c) */
	if (vmx_config.entry & VM_ENTRY_LOAD_IA32_PAT)
		vmcs_write(VMCS_GUEST_IA32_PAT, r->pat);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, r->sysenter_cs);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, r->sysenter_esp);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, r->sysenter_eip);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, r->interruptibility);
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO, r->pending_event);
	vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, r->pending_error);
	vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, r->pending_insn_len);
	/*
	 * The emulated MSRs here, after vcpu_setup_vmcs (which resets them):
	 * the TSC continues from r->tsc, its offset taken now, before entry.
	 */
	msrs_from_regs(&v->msr, r);
	v->msr.tsc_offset = r->tsc - rdtsc();
	/* An AP the guest starts later takes the bootstrap vCPU's TSC (msr_vcpu_reset). */
	if (!v->index)
		v->vm->tsc_offset = v->msr.tsc_offset;
	msr_vcpu_sync(v);
}

/*
 * What lives outside the VMCS, set at once (v is off every CPU): a blocked
 * vCPU's restored timer must be able to wake it before it ever enters.
 */
void vcpu_state_apply_soft(struct vcpu *v)
{
	const struct tern_vcpu_regs *r = &v->arch;
	struct vcpu_xregs *x = &v->xregs;
	uint64_t now = rdtsc();

	v->msrs = (struct vcpu_msrs){ r->star, r->lstar, r->cstar, r->fmask, r->kernel_gs_base };
	/* The FPU set goes to memory; this CPU must not keep an older copy live. */
	vcpu_xregs_release(v);
	memcpy(x->area, r->xsave, r->xsave_size);
	x->xcr0 = r->xcr0;
	memcpy(x->dr, r->dr, sizeof(x->dr));
	x->dr6 = r->dr6;
	x->cr2 = r->cr2;
	x->tsc_aux = r->tsc_aux;
	for (unsigned int i = 0; i < TERN_LAPIC_REGS; i++)
		v->lapic.regs[i * 4] = r->lapic[i];
	v->lapic.apic_base = r->apic_base;
	v->lapic.tsc_deadline = r->apic_tsc_deadline;
	v->lapic.timer_period = r->apic_timer_period;
	v->lapic.timer_next = r->apic_timer_left ? now + r->apic_timer_left : VLAPIC_NO_EVENT;
	v->lapic.timer_start = r->apic_timer_left ?
		v->lapic.timer_next - (r->apic_timer_period ? r->apic_timer_period : r->apic_timer_left) : 0;
	v->lapic.nmi_pending = r->apic_nmi_pending != 0;
	vcpu_note_event(v); /* scan the IRR */
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

int vcpu_state_check(const struct vcpu *v, const struct tern_vcpu_regs *r)
{
	struct vmsr_state scratch;
	uint32_t run = r->run_state;

	if (r->version != TERN_VCPU_REGS_VERSION || r->size != sizeof(*r) || r->reserved)
		return -EINVAL;
	if (run != TERN_VCPU_RUNNABLE && run != TERN_VCPU_BLOCKED && run != TERN_VCPU_HALTED &&
	    run != TERN_VCPU_WAIT_SIPI)
		return -EINVAL;
	/* The FPU area must be this host's layout and size, XCR0 one it allows. */
	if (r->xsave_size != xstate_config.size || (xstate_config.xsave && !xcr0_valid(r->xcr0, xstate_config.mask)))
		return -EINVAL;
	if (!canonical(r->rip) || !canonical(r->gdtr_base) || !canonical(r->idtr_base) ||
	    !canonical(r->fs.base) || !canonical(r->gs.base) || !canonical(r->kernel_gs_base) ||
	    !canonical(r->lstar) || !canonical(r->cstar) || !canonical(r->sysenter_esp) ||
	    !canonical(r->sysenter_eip) || r->gdtr_limit > 0xffff || r->idtr_limit > 0xffff)
		return -EINVAL;
	/* The APIC stays at its one address; DR6/DR7 upper halves are reserved (SDM vol. 3B 18.2). */
	if ((r->apic_base & ~(GMAP_LAPIC_BASE | IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD | IA32_APIC_BASE_BSP)) ||
	    (r->apic_base & ~0xfffull) != GMAP_LAPIC_BASE || (r->dr6 >> 32) || (r->dr7 >> 32) ||
	    r->cr8 > 15 || (r->pending_event & ~0x80000fffu))
		return -EINVAL;
	/* MTRR types and reserved bits, MISC_ENABLE and SPEC_CTRL as WRMSR would take them (vmm/msr.c). */
	msrs_from_regs(&scratch, r);
	return msr_state_check(&scratch);
}
