/* SPDX-License-Identifier: MIT */
/* vCPU objects and their VMCS: controls, guest state (SDM vol. 3C ch. 25-27). */
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "vmm/msr.h"
#include "vmm/apicv.h"
#include "vmm/cr.h"
#include "vmm/loader.h"
#include "arch/desc.h"
#include "arch/vmx_ctls.h"
#include "arch/vmx_defs.h"
#include "arch/msr.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "arch/pcpu.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define VPID_MAX 0x10000u
#define AR_UNUSABLE   BIT(16)
#define AR_CODE64     0xa09bu /* G, L, P, S, execute/read accessed */
#define AR_DATA32     0xc093u /* G, D/B, P, S, read/write accessed */
#define AR_CODE32     0xc09bu /* G, D/B, P, S, execute/read accessed */
#define AR_CODE16     0x009bu
#define AR_DATA16     0x0093u
#define AR_TSS_BUSY   0x008bu
#define AR_LDT        0x0082u
#define RFLAGS_FIXED  0x2ull
#define DR7_INIT      0x400ull
#define PAT_DEFAULT   0x0007040600070406ull

static struct spinlock vpid_lock = SPINLOCK_INIT("vpid");
static uint64_t vpid_used[VPID_MAX / 64] = { 1 }; /* VPID 0 is the host's */

static uint16_t vpid_alloc(void)
{
	uint16_t vpid = 0;

	spin_lock(&vpid_lock);
	for (uint32_t i = 0; i < VPID_MAX / 64 && !vpid; i++)
		if (~vpid_used[i]) {
			uint32_t bit = (uint32_t)__builtin_ctzll(~vpid_used[i]);

			vpid_used[i] |= 1ull << bit;
			vpid = (uint16_t)(i * 64 + bit);
		}
	spin_unlock(&vpid_lock);
	return vpid;
}

static void vpid_free(uint16_t vpid)
{
	spin_lock(&vpid_lock);
	vpid_used[vpid / 64] &= ~(1ull << (vpid % 64));
	spin_unlock(&vpid_lock);
}

struct vcpu *vcpu_create(struct vm *vm, uint32_t index)
{
	uint64_t p = page_alloc((sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE, PMM_OWNER_VMM);
	struct vcpu *v = p ? phys_to_virt(p) : NULL;

	if (!v)
		return NULL;
	v->vm = vm;
	v->index = index;
	v->move_to = -1;
	v->needs_setup = true;
	v->start_state = -1;
	v->plat = &vm->plat;
	v->plat0 = index ? NULL : &vm->plat;
	v->state = index ? VCPU_WAIT_SIPI : VCPU_RUNNABLE;
	v->vmcs = vmcs_alloc();
	if (vmx_config.vpid)
		v->vpid = vpid_alloc();
	if (!v->vmcs || (vmx_config.vpid && !v->vpid) || vlapic_init(v) || vcpu_xregs_init(v) ||
	    vcpu_cpuid_init(v)) {
		vcpu_destroy(v);
		return NULL;
	}
	return v;
}

/* Called on the CPU that ran v last (its VMCS may be active only there). */
void vcpu_destroy(struct vcpu *v)
{
	if (v->vmcs) {
		if (v->pcpu)
			vmcs_clear(v->vmcs);
		vmcs_free(v->vmcs);
	}
	if (v->vpid) {
		vmx_invvpid_single(v->vpid);
		vpid_free(v->vpid);
	}
	vlapic_free(v);
	vcpu_xregs_free(v);
	page_free(virt_to_phys(v), (sizeof(*v) + PAGE_SIZE - 1) / PAGE_SIZE, PMM_OWNER_VMM);
}

void vcpu_load(struct vcpu *v)
{
	struct pcpu *c = this_cpu();

	if (c->loaded_vmcs != v->vmcs && vmcs_load(v->vmcs))
		panic("VMPTRLD of vCPU %s/%u failed", v->vm->name, v->index);
	if (v->pcpu != c) {
		v->pcpu = c;
		vmx_write_host_state();
		/*
		 * VPIDs and EPT roots are reused after a VM is destroyed, and
		 * INVVPID/INVEPT at destruction reach only that CPU's TLB: flush
		 * what this CPU may still cache for them before the first entry.
		 */
		vmx_invept_single(v->vm->eptp);
		if (v->vpid)
			vmx_invvpid_single(v->vpid);
	}
}

void vcpu_msrs_load(const struct vcpu *v)
{
	wrmsr(MSR_IA32_STAR, v->msrs.star);
	wrmsr(MSR_IA32_LSTAR, v->msrs.lstar);
	wrmsr(MSR_IA32_CSTAR, v->msrs.cstar);
	wrmsr(MSR_IA32_FMASK, v->msrs.sfmask);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, v->msrs.kernel_gs_base);
}

void vcpu_msrs_save(struct vcpu *v)
{
	v->msrs.star = rdmsr(MSR_IA32_STAR);
	v->msrs.lstar = rdmsr(MSR_IA32_LSTAR);
	v->msrs.cstar = rdmsr(MSR_IA32_CSTAR);
	v->msrs.sfmask = rdmsr(MSR_IA32_FMASK);
	v->msrs.kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
}

static void write_controls(struct vcpu *v)
{
	const struct vmx_config *c = &vmx_config;
	uint32_t entry = c->entry;

	if (v->init.mode == GUEST_LONG)
		entry |= VM_ENTRY_IA32E_MODE_GUEST;
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, c->pin);
	vmcs_write(VMCS_PRIMARY_PROC_BASED_VM_EXEC_CONTROL, c->proc);
	v->proc_ctls = c->proc;
	vmcs_write(VMCS_SECONDARY_PROC_BASED_VM_EXEC_CONTROL, c->proc2);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, c->exit);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_MSR_BITMAP, msr_bitmap_phys());
	vmcs_write(VMCS_EPT_POINTER, v->vm->eptp);
	apicv_setup_vmcs(v);
	if (v->vpid)
		vmcs_write(VMCS_VPID, v->vpid);
	vmcs_write(VMCS_VMCS_LINK_POINTER, ~0ull);
	/* Host-owned CR bits (fixed by VMX) trap; the guest sees its own values in the shadows. */
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, guest_cr0_host_mask());
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, guest_cr4_host_mask());
}

static void write_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit,
			  uint32_t ar)
{
	/* Field encodings of one segment are spaced alike in every group (B.1.2, B.3.3, B.4.3). */
	uint32_t n = (sel_field - VMCS_GUEST_ES_SELECTOR) / 2;

	vmcs_write(sel_field, sel);
	vmcs_write(VMCS_GUEST_ES_BASE + 2 * n, base);
	vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * n, limit);
	vmcs_write(VMCS_GUEST_ES_AR_BYTES + 2 * n, ar);
}

static void write_guest_real(const struct vcpu_init *in)
{
	static const uint32_t data[] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR,
					 VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
					 VMCS_GUEST_GS_SELECTOR };

	write_segment(VMCS_GUEST_CS_SELECTOR, in->cs, (uint64_t)in->cs << 4, 0xffff, AR_CODE16);
	for (unsigned int i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		write_segment(data[i], 0, 0, 0xffff, AR_DATA16);
	vmcs_write(VMCS_GUEST_CR0, guest_cr0_hw(CR0_ET));
	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_ET);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_CR4, guest_cr4_hw(0));
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
}

/* Long and 32-bit starts: flat CS at in->cs (0: GUEST_SEL_CODE64), data at the next descriptor. */
static void write_flat_segments(const struct vcpu_init *in, uint32_t code_ar, bool fs_gs)
{
	static const uint32_t data[] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_SS_SELECTOR,
					 VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
					 VMCS_GUEST_GS_SELECTOR };
	uint16_t cs = in->cs ? in->cs : GUEST_SEL_CODE64;

	write_segment(VMCS_GUEST_CS_SELECTOR, cs, 0, 0xffffffff, code_ar);
	for (unsigned int i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		if (i < 3 || fs_gs)
			write_segment(data[i], cs + 8, 0, 0xffffffff, AR_DATA32);
		else
			write_segment(data[i], 0, 0, 0, AR_UNUSABLE);
	}
	vmcs_write(VMCS_GUEST_GDTR_BASE, in->gdt_base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, in->gdt_limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
}

static void write_guest_long(const struct vcpu_init *in)
{
	uint64_t cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;

	write_flat_segments(in, AR_CODE64, false);
	vmcs_write(VMCS_GUEST_CR0, guest_cr0_hw(cr0));
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR3, in->cr3);
	vmcs_write(VMCS_GUEST_CR4, guest_cr4_hw(CR4_PAE));
	vmcs_write(VMCS_CR4_READ_SHADOW, CR4_PAE);
	vmcs_write(VMCS_GUEST_IA32_EFER, IA32_EFER_LME | IA32_EFER_LMA);
}

/* 32-bit protected mode, paging off, as Multiboot's entry wants (Multiboot 0.6.96, 3.2). */
static void write_guest_prot32(const struct vcpu_init *in)
{
	write_flat_segments(in, AR_CODE32, true);
	vmcs_write(VMCS_GUEST_CR0, guest_cr0_hw(CR0_PE | CR0_ET));
	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_PE | CR0_ET);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_CR4, guest_cr4_hw(0));
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
}

void vcpu_setup_vmcs(struct vcpu *v)
{
	const struct vcpu_init *in = &v->init;

	write_controls(v);
	if (in->mode == GUEST_LONG)
		write_guest_long(in);
	else if (in->mode == GUEST_PROT32)
		write_guest_prot32(in);
	else
		write_guest_real(in);
	write_segment(VMCS_GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
	write_segment(VMCS_GUEST_TR_SELECTOR, 0, 0, 0x67, AR_TSS_BUSY);
	vmcs_write(VMCS_GUEST_DR7, DR7_INIT);
	vmcs_write(VMCS_GUEST_RSP, in->rsp);
	vmcs_write(VMCS_GUEST_RIP, in->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	if (vmx_config.entry & VM_ENTRY_LOAD_IA32_PAT)
		vmcs_write(VMCS_GUEST_IA32_PAT, PAT_DEFAULT);
	msr_vcpu_reset(v);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rdi = in->rdi;
	v->regs.rsi = in->rsi;
	v->regs.rdx = in->rdx;
	v->regs.rcx = in->rcx;
	v->regs.rax = in->rax;
	v->regs.rbx = in->rbx;
	v->launched = 0;
	v->needs_setup = false;
}

/* struct guest_regs is indexed by x86 register number; slot 4 (RSP) stays unused. */
_Static_assert(sizeof(struct guest_regs) == 16 * 8 &&
	       __builtin_offsetof(struct guest_regs, rsp_unused) == 4 * 8 &&
	       __builtin_offsetof(struct guest_regs, r8) == 8 * 8, "guest_regs in x86 order");

uint64_t vcpu_gpr(const struct vcpu *v, unsigned int n)
{
	if ((n & 15) == 4)
		return vmcs_read(VMCS_GUEST_RSP);
	return ((const uint64_t *)&v->regs)[n & 15];
}

void vcpu_set_gpr(struct vcpu *v, unsigned int n, uint64_t val)
{
	if ((n & 15) == 4)
		vmcs_write(VMCS_GUEST_RSP, val);
	else
		((uint64_t *)&v->regs)[n & 15] = val;
}

static void set_proc_ctls(struct vcpu *v, uint32_t want)
{
	if (want != v->proc_ctls) {
		v->proc_ctls = want;
		vmcs_write(VMCS_PRIMARY_PROC_BASED_VM_EXEC_CONTROL, want);
	}
}

/*
 * One event per entry (26.6): a pending NMI first (SDM vol. 3A 6.9), then
 * the highest deliverable interrupt. An NMI waits while an event is queued
 * or the guest blocks NMIs or is in an STI/MOV-SS shadow; an interrupt also
 * while IF=0 (26.3.1.5). A blocked event asks for its window exit; an NMI
 * without NMI-window exiting is retried at the next exit.
 */
static uint32_t inject_pending(struct vcpu *v, bool nmi, int vec, uint32_t ctls)
{
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	uint64_t shadow = GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING;
	bool busy = vmcs_read(VMCS_VM_ENTRY_INTR_INFO) & INTR_INFO_VALID;

	if (nmi && !busy && !(intr & (shadow | GUEST_INTR_NMI_BLOCKING)) && vlapic_take_nmi(v)) {
		vmcs_write(VMCS_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
		busy = true;
		nmi = false;
	}
	if (nmi && vmx_config.nmi_window)
		ctls |= (uint32_t)CPU_BASED_NMI_WINDOW_EXITING;
	if (vec == VLAPIC_NONE)
		return ctls;
	if (busy || (intr & shadow) || !(vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF))
		return ctls | (uint32_t)CPU_BASED_INTR_WINDOW_EXITING;
	if (vec == VLAPIC_EXTINT) {
		/* The INTA cycle: the PIC names the vector (8259A datasheet, "Interrupt Sequence"). */
		vmcs_write(VMCS_VM_ENTRY_INTR_INFO,
			   INTR_INFO_VALID | INTR_TYPE_EXT_INTR | vplatform_inta(v->vm));
		return ctls;
	}
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (uint32_t)vec);
	vlapic_ack(v, vec);
	return ctls;
}

void vcpu_run_device_timers(struct vcpu *v)
{
	if (vplatform_timer_due(v->plat, rdtsc()))
		vplatform_run_timers(v->vm);
}

bool vcpu_has_event(struct vcpu *v, uint64_t now)
{
	vlapic_timer_check(v, now);
	struct vplatform *p = v->plat0;

	return vlapic_pending(v) != VLAPIC_NONE || (p && vplatform_timer_due(p, now));
}

void vcpu_deliver_events(struct vcpu *v)
{
	uint32_t ctls = v->proc_ctls & ~(uint32_t)(CPU_BASED_INTR_WINDOW_EXITING |
						   CPU_BASED_NMI_WINDOW_EXITING), threshold;
	bool nmi;
	int irr, vec;

	/* Cleared first: whatever is posted from here on is seen now or at the next exit. */
	__atomic_store_n(&v->events, false, __ATOMIC_SEQ_CST);
	/* Device timers run at the exit their deadline brings (vcpu_run_device_timers). */
	vlapic_timer_check(v, rdtsc());
	nmi = v->lapic.nmi_pending;
	irr = vlapic_highest_irr(v); /* one scan of the IRR serves both questions below */
	vec = v->lapic.extint && vlapic_extint(v) ? VLAPIC_EXTINT : vlapic_deliverable(v, irr);
	if (nmi || vec != VLAPIC_NONE) {
		ctls = inject_pending(v, nmi, vec, ctls);
		irr = vlapic_highest_irr(v); /* vec may have moved to the ISR */
		/* A blocked NMI with no window exit to say when: try again at every exit. */
		if (v->lapic.nmi_pending && !vmx_config.nmi_window)
			vcpu_note_event(v);
	}
	set_proc_ctls(v, ctls);
	if (!vmx_config.tpr_shadow)
		return;
	/* Last: what TPR now holds back (vlapic.c) decides when lowering it must exit. */
	threshold = vlapic_tpr_threshold(v, irr);
	if (threshold != v->tpr_threshold) {
		v->tpr_threshold = (uint8_t)threshold;
		vmcs_write(VMCS_TPR_THRESHOLD, threshold);
	}
}

void vcpu_inject_exception(uint8_t vector, bool has_error, uint32_t error)
{
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector |
						    (has_error ? INTR_INFO_DELIVER_CODE : 0));
	if (has_error)
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error);
}

void vcpu_dump(const struct vcpu *v)
{
	const struct guest_regs *r = &v->regs;

	pr_err("vm %s: vcpu%u RIP %016lx RSP %016lx RFLAGS %016lx CS %04lx", v->vm->name,
	       v->index, vmcs_read(VMCS_GUEST_RIP), vmcs_read(VMCS_GUEST_RSP),
	       vmcs_read(VMCS_GUEST_RFLAGS), vmcs_read(VMCS_GUEST_CS_SELECTOR));
	pr_err("vm %s: RAX %016lx RBX %016lx RCX %016lx RDX %016lx", v->vm->name, r->rax,
	       r->rbx, r->rcx, r->rdx);
	pr_err("vm %s: RSI %016lx RDI %016lx RBP %016lx R8  %016lx", v->vm->name, r->rsi,
	       r->rdi, r->rbp, r->r8);
	pr_err("vm %s: CR0 %016lx CR3 %016lx CR4 %016lx EFER %016lx", v->vm->name,
	       vmcs_read(VMCS_GUEST_CR0), vmcs_read(VMCS_GUEST_CR3), vmcs_read(VMCS_GUEST_CR4),
	       vmcs_read(VMCS_GUEST_IA32_EFER));
}
