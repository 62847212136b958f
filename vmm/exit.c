/* SPDX-License-Identifier: MIT */
/*
 * VM-exit dispatch: a const table indexed by basic exit reason (SDM vol. 3C
 * appendix C). Each entry handles the exit, injects #UD, or stops the VM with
 * a full dump. Nothing unexpected passes silently.
 */
#include "vmm/exit.h"
#include "vmm/cpuid.h"
#include "arch/vmx_defs.h"
#include "vmm/emulate.h"
#include "vmm/vm_dirty.h"
#include "vmm/sched.h"
#include "vmm/apicv.h"
#include "vmm/cr.h"
#include "vmm/hypercall.h"
#include "vmm/vmcs_check.h"
#include "vmm/vm.h"
#include "vmm/stamps.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/vmx.h"
#include "arch/xstate.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "arch/pcpu.h"
#include "arch/watchdog.h"


/*
 * What the dispatcher reads for a handler before calling it, so that the
 * common exits make no VMREAD whose value nobody uses.
 */
#define X_QUAL     0x1u /* the exit qualification, in exit_info.qual */
/*
 * The exit may come during event delivery, so the IDT-vectoring information
 * may be valid (SDM vol. 3C 27.2.4: a fault, task switch, APIC access, EPT
 * violation or misconfiguration, or a full PML, in delivery). Exits caused by
 * executing an instruction, and window exits, come at an instruction boundary
 * with no delivery under way: their IDT-vectoring field is never read.
 * Interrupt, NMI and timer exits are marked too, as KVM reads it on every
 * exit: they are not the exits whose cost matters.
 */
#define X_DELIVERY 0x2u

struct exit_entry {
	exit_handler_fn handle; /* NULL: stop the VM with a dump */
	const char *name;
	uint32_t flags;         /* X_* */
};

/* With NMI exiting on, a host NMI that arrives in guest mode ends up here (27.2.2). */
static enum exit_action handle_exception_nmi(struct vcpu *v, const struct exit_info *e)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_VM_EXIT_INTR_INFO);
	struct pcpu *c = this_cpu();

	if ((info & INTR_INFO_VALID) && (info & 0x700u) == INTR_TYPE_NMI) {
		if (panic_in_progress) {
			c->state = PCPU_STOPPED;
			cpu_stop();
		}
		watchdog_nmi_guest(v->vm->name, v->index, vmcs_read(VMCS_GUEST_RIP));
		return EXIT_RESUME;
	}
	vm_stop(v->vm, "unexpected exception exit, interruption info 0x%x, RIP 0x%lx", info,
		vmcs_read(VMCS_GUEST_RIP));
	vcpu_dump(v);
	return EXIT_STOP;
}

/* Every leaf from the vCPU's table, computed at its creation from the rules (vmm/cpuid.c). */
static enum exit_action handle_cpuid(struct vcpu *v, const struct exit_info *e)
{
	struct cpuid_regs r = vcpu_cpuid(v, (uint32_t)v->regs.rax, (uint32_t)v->regs.rcx);

	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_action handle_hlt(struct vcpu *v, const struct exit_info *e)
{
	vcpu_skip_instruction();
	if (!(vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF))
		return EXIT_HALT;
	vcpu_run_device_timers(v);
	if (!vcpu_has_event(v, rdtsc()))
		return EXIT_BLOCK;
	vcpu_note_event(v); /* e.g. STI; HLT with one pending: inject it now */
	return EXIT_RESUME;
}

/*
 * The guest can take interrupts (or NMIs) again, or lowered its TPR below
 * what a pending interrupt needs: vcpu_deliver_events injects before entry.
 */
static enum exit_action handle_interrupt_window(struct vcpu *v, const struct exit_info *e)
{
	vcpu_note_event(v);
	return EXIT_RESUME;
}

/* A hypercall (docs/hypercalls.md): errors go back in RAX, the caller goes on. */
static enum exit_action handle_vmcall(struct vcpu *v, const struct exit_info *e)
{
	struct hc_args args = { { v->regs.rdi, v->regs.rsi, v->regs.rdx, v->regs.rcx } };
	unsigned int cpl = (vmcs_read(VMCS_GUEST_SS_AR_BYTES) >> 5) & 3;

	v->regs.rax = (uint64_t)hc_call(v->vm, cpl, v->regs.rax, &args);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_action handle_ept_violation(struct vcpu *v, const struct exit_info *e)
{
	uint64_t gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	const struct tern_mem_region *region;
	const char *access;

	/* The first touch of lazily zeroed RAM (vm_lazy.c); an event it interrupted is re-injected. */
	if (vm_fault_in(v->vm, gpa))
		return EXIT_RESUME;
	region = gmap_find(&v->vm->map, gpa);
	access = e->qual & EPT_QUAL_FETCH ? "instruction fetch" : e->qual & EPT_QUAL_WRITE ? "write" : "read";

	/*
	 * The CPU's own access in delivering an event (pushing to a stack,
	 * reading a gate) reached no RAM: there is no instruction to emulate,
	 * and KVM stops there as well. The guest's state is broken.
	 */
	if (e->in_delivery && !vm_range_ok(v->vm, gpa, 1, e->qual & EPT_QUAL_WRITE)) {
		vm_stop(v->vm, "EPT violation in event delivery: %s at GPA 0x%lx, %s (IDT-vectoring 0x%lx, RIP 0x%lx)",
			access, gpa, region ? "not in its RAM" : "in no region of its memory map",
			vmcs_read(VMCS_IDT_VECTORING_INFO), vmcs_read(VMCS_GUEST_RIP));
		vcpu_dump(v);
		return EXIT_STOP;
	}
	if ((gpa & ~0xfffull) == APIC_PAGE_GPA && !vmx_config.apicv && !(e->qual & EPT_QUAL_FETCH))
		return apicv_ept_violation(v, gpa, e->qual & EPT_QUAL_WRITE);
	/*
	 * A data access where the VM has no RAM: a device, or open bus (reads
	 * all-ones, writes dropped), through the instruction emulator; a write
	 * to ROM is dropped the same way. Code runs from RAM only.
	 */
	if (!(e->qual & EPT_QUAL_FETCH) &&
	    (!vm_range_ok(v->vm, gpa, 1, false) ||
	     ((e->qual & EPT_QUAL_WRITE) && region && region->type == GMAP_ROM)))
		return emul_mmio(v, gpa, e->qual & EPT_QUAL_WRITE);
	/* A write to RAM write-protected for dirty logging: logged, made writable, done again. */
	if ((e->qual & EPT_QUAL_WRITE) && vm_range_ok(v->vm, gpa, 1, true) &&
	    vm_dirty_wrprot_fault(v->vm, gpa))
		return EXIT_RESUME;

	vm_stop(v->vm, "EPT violation: %s at GPA 0x%lx, %s (RIP 0x%lx, qualification 0x%lx)", access, gpa,
		!region ? "in no region of its memory map" :
		region->type == GMAP_RAM ? "in its RAM" : "not in its RAM",
		vmcs_read(VMCS_GUEST_RIP), e->qual);
	vcpu_dump(v);
	return EXIT_STOP;
}

static enum exit_action handle_triple_fault(struct vcpu *v, const struct exit_info *e)
{
	vm_stop(v->vm, "triple fault at RIP 0x%lx", vmcs_read(VMCS_GUEST_RIP));
	vcpu_dump(v);
	return EXIT_STOP;
}

/* The host keeps control: let the pending interrupt reach Tern's IDT, then go on. */
static enum exit_action handle_external_interrupt(struct vcpu *v, const struct exit_info *e)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return sched_need_switch(v) ? EXIT_YIELD : EXIT_RESUME;
}

/*
 * The slice ended, a timer is due, or it is time to look at requests. A host
 * interrupt may be pending too: Bochs gives no external-interrupt exit while
 * the guest runs with interrupts off (../shared/bochs-notes.md), so let it in
 * here, or the console's receive interrupt would wait for the next idle
 * moment while the UART's FIFO overruns.
 */
static enum exit_action handle_preemption_timer(struct vcpu *v, const struct exit_info *e)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
	vcpu_run_device_timers(v);
	return sched_need_switch(v) ? EXIT_YIELD : EXIT_RESUME;
}

static enum exit_action handle_nop(struct vcpu *v, const struct exit_info *e)
{
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

/* Instructions Tern does not offer to guests (VMX, SMX, MONITOR/MWAIT). */
static enum exit_action inject_ud(struct vcpu *v, const struct exit_info *e)
{
	vcpu_inject_exception(VEC_UD, false, 0);
	return EXIT_RESUME;
}

/*
 * RDPMC: the counters count the host and every other guest; Tern offers
 * none (CPUID leaf 0xA reads 0), so RDPMC faults as with no counter there.
 */
static enum exit_action inject_gp(struct vcpu *v, const struct exit_info *e)
{
	vcpu_inject_exception(VEC_GP, true, 0);
	return EXIT_RESUME;
}

#define E(reason, fn, flags) [reason] = { fn, #reason, flags }
#define STOP(reason, flags) [reason] = { NULL, #reason, flags }
/* Indexed by basic exit reason; the last slot for any reason past the table. */
static const struct exit_entry exit_table[VMX_EXIT_REASON_MAX + 1] = {
	E(VMX_EXIT_EXCEPTION_NMI, handle_exception_nmi, X_DELIVERY),
	E(VMX_EXIT_EXTERNAL_INTERRUPT, handle_external_interrupt, X_DELIVERY),
	E(VMX_EXIT_TRIPLE_FAULT, handle_triple_fault, 0),
	STOP(VMX_EXIT_INIT_SIGNAL, X_QUAL),
	STOP(VMX_EXIT_SIPI, X_QUAL),
	E(VMX_EXIT_INTERRUPT_WINDOW, handle_interrupt_window, 0),
	E(VMX_EXIT_NMI_WINDOW, handle_interrupt_window, 0),
	STOP(VMX_EXIT_TASK_SWITCH, X_QUAL | X_DELIVERY),
	E(VMX_EXIT_CPUID, handle_cpuid, 0),
	E(VMX_EXIT_GETSEC, inject_ud, 0),
	E(VMX_EXIT_HLT, handle_hlt, 0),
	E(VMX_EXIT_INVD, handle_nop, 0),
	E(VMX_EXIT_VMCALL, handle_vmcall, 0),
	E(VMX_EXIT_RDPMC, inject_gp, 0),
	E(VMX_EXIT_VMCLEAR, inject_ud, 0),
	E(VMX_EXIT_VMLAUNCH, inject_ud, 0),
	E(VMX_EXIT_VMPTRLD, inject_ud, 0),
	E(VMX_EXIT_VMPTRST, inject_ud, 0),
	E(VMX_EXIT_VMREAD, inject_ud, 0),
	E(VMX_EXIT_VMRESUME, inject_ud, 0),
	E(VMX_EXIT_VMWRITE, inject_ud, 0),
	E(VMX_EXIT_VMXOFF, inject_ud, 0),
	E(VMX_EXIT_VMXON, inject_ud, 0),
	E(VMX_EXIT_CR_ACCESS, handle_cr_access, X_QUAL),
	E(VMX_EXIT_IO_INSTRUCTION, handle_io, X_QUAL),
	E(VMX_EXIT_RDMSR, handle_rdmsr, 0),
	E(VMX_EXIT_WRMSR, handle_wrmsr, 0),
	STOP(VMX_EXIT_INVALID_GUEST_STATE, X_QUAL),
	STOP(VMX_EXIT_MSR_LOADING, X_QUAL),
	E(VMX_EXIT_MWAIT, inject_ud, 0),
	E(VMX_EXIT_MONITOR, inject_ud, 0),
	STOP(VMX_EXIT_MACHINE_CHECK, X_QUAL),
	E(VMX_EXIT_TPR_BELOW_THRESHOLD, handle_interrupt_window, 0),
	E(VMX_EXIT_APIC_ACCESS, handle_apic_access, X_QUAL | X_DELIVERY),
	E(VMX_EXIT_EPT_VIOLATION, handle_ept_violation, X_QUAL | X_DELIVERY),
	STOP(VMX_EXIT_EPT_MISCONFIG, X_QUAL | X_DELIVERY),
	E(VMX_EXIT_INVEPT, inject_ud, 0),
	E(VMX_EXIT_PREEMPTION_TIMER, handle_preemption_timer, X_DELIVERY),
	E(VMX_EXIT_INVVPID, inject_ud, 0),
	E(VMX_EXIT_XSETBV, handle_xsetbv, 0),
	E(VMX_EXIT_APIC_WRITE, handle_apic_write, X_QUAL),
	E(VMX_EXIT_PML_FULL, handle_pml_full, X_DELIVERY),
	E(VMX_EXIT_VMFUNC, inject_ud, 0),
	[VMX_EXIT_REASON_MAX] = { NULL, NULL, X_DELIVERY },
};
#undef E
#undef STOP

const char *exit_reason_name(uint32_t reason)
{
	if (reason < VMX_EXIT_REASON_MAX && exit_table[reason].name)
		return exit_table[reason].name + sizeof("VMX_EXIT_") - 1;
	return "unknown";
}

/*
 * An exit during event delivery (an EPT violation on the stack the CPU
 * pushes to, say) loses the event unless it is injected again on the next
 * entry (SDM 28.2.4, 27.2.4). Returns whether it was; the vCPU's events are
 * looked at again before entry, as the injection slot is now taken.
 */
static bool reinject_interrupted_event(struct vcpu *v)
{
	uint64_t idt = vmcs_read(VMCS_IDT_VECTORING_INFO);
	uint32_t type;

	if (!(idt & INTR_INFO_VALID))
		return false;
	v->nr_reinjected++;
	vcpu_note_event(v);
	type = idt & 0x700u;
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO, idt & (INTR_INFO_VALID | INTR_INFO_DELIVER_CODE | 0x7ffu));
	if (idt & INTR_INFO_DELIVER_CODE)
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE,
			   vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN));
	/* An NMI injected again must not find (virtual-)NMI blocking set (26.3.1.5). */
	if (type == INTR_TYPE_NMI)
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO) &
								     ~GUEST_INTR_NMI_BLOCKING);
	return true;
}

static enum exit_action unexpected(struct vcpu *v, const struct exit_info *e)
{
	vm_stop(v->vm, "unexpected VM exit %u (%s), qualification 0x%lx, RIP 0x%lx", e->reason,
		exit_reason_name(e->reason), vmcs_read(VMCS_EXIT_QUALIFICATION), vmcs_read(VMCS_GUEST_RIP));
	vcpu_dump(v);
	return EXIT_STOP;
}

/* The CPU does not say which guest-state check failed: replay the main ones. */
static void explain_guest_state(char *why, size_t size)
{
	struct guest_state g = {
		.cr0 = vmcs_read(VMCS_GUEST_CR0), .cr4 = vmcs_read(VMCS_GUEST_CR4),
		.efer = vmcs_read(VMCS_GUEST_IA32_EFER), .rflags = vmcs_read(VMCS_GUEST_RFLAGS),
		.link_pointer = vmcs_read(VMCS_VMCS_LINK_POINTER),
		.cr0_fixed0 = vmx_config.cr0_fixed0, .cr0_fixed1 = vmx_config.cr0_fixed1,
		.cr4_fixed0 = vmx_config.cr4_fixed0, .cr4_fixed1 = vmx_config.cr4_fixed1,
		.entry_ctls = (uint32_t)vmcs_read(VMCS_VM_ENTRY_CONTROLS),
		.unrestricted = vmx_config.unrestricted,
		.cs_ar = (uint32_t)vmcs_read(VMCS_GUEST_CS_AR_BYTES),
		.ss_ar = (uint32_t)vmcs_read(VMCS_GUEST_SS_AR_BYTES),
		.tr_ar = (uint32_t)vmcs_read(VMCS_GUEST_TR_AR_BYTES),
		.ldtr_ar = (uint32_t)vmcs_read(VMCS_GUEST_LDTR_AR_BYTES),
		.activity = (uint32_t)vmcs_read(VMCS_GUEST_ACTIVITY_STATE),
	};

	guest_state_check(&g, why, size);
}

/* An entry failure (26.7, 26.8): the guest state it names, then the VM stops. */
static enum exit_action entry_failed(struct vcpu *v, const struct exit_info *e)
{
	char why[160] = "no check in Tern's list failed";

	if (e->reason == VMX_EXIT_INVALID_GUEST_STATE)
		explain_guest_state(why, sizeof(why));
	vm_stop(v->vm, "VM entry failed: %s (exit reason %u, qualification 0x%lx): %s",
		e->reason == VMX_EXIT_INVALID_GUEST_STATE ? "invalid guest state" :
		e->reason == VMX_EXIT_MSR_LOADING ? "MSR loading" : "machine check",
		e->reason, e->qual, why);
	vcpu_dump(v);
	return EXIT_STOP;
}

/*
 * Every exit: the reason, its table entry, and only what that entry asks
 * for; the handler; then the scheduler, which enters v again at once unless
 * something is due (sched_after_exit).
 */
void vmx_exit_handler(void)
{
	struct pcpu *c = this_cpu();
	struct vcpu *v = c->vcpu;
	uint32_t raw;

	STAMP(v, 0);
	c->exit_tsc = rdtsc(); /* a switch's cost is counted from here (sched.c) */
	raw = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
	struct exit_info e = { .reason = VMX_EXIT_REASON_BASIC(raw) };
	uint32_t slot = e.reason < VMX_EXIT_REASON_MAX ? e.reason : VMX_EXIT_REASON_MAX;
	const struct exit_entry *t = &exit_table[slot];
	exit_handler_fn handle = t->handle;
	enum exit_action act;

	v->launched = 1;
	v->exits[slot]++;
	if (__builtin_expect(t->flags != 0, 0)) {
		if (t->flags & X_QUAL)
			e.qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
		if (t->flags & X_DELIVERY)
			e.in_delivery = reinject_interrupted_event(v);
	}
	if (__builtin_expect(raw & VMX_EXIT_REASON_ENTRY_FAILURE, 0))
		handle = entry_failed;
	else if (__builtin_expect(!handle, 0))
		handle = unexpected;
#ifdef TERN_STAMPS
	v->stamps.key = e.reason << 16 | (e.reason == VMX_EXIT_IO_INSTRUCTION ? IO_QUAL_PORT(e.qual) : 0);
#endif
	STAMP(v, 1);
	act = handle(v, &e);
	STAMP(v, 2);
	sched_resume(v, act);
}

#ifdef TERN_STAMPS
void stamp_resume(struct vcpu *v)
{
	struct vcpu_stamps *s = &v->stamps;
	uint64_t t3 = rdtsc();

	for (uint32_t i = 0; i < STAMP_SLOTS; i++) {
		struct stamp_slot *sl = &s->slot[i];

		if (sl->n && sl->key != s->key)
			continue;
		sl->key = s->key;
		sl->n++;
		sl->part[0] += s->t[1] - s->t[0];
		sl->part[1] += s->t[2] - s->t[1];
		sl->part[2] += t3 - s->t[2];
		return;
	}
	s->other++;
}

uint64_t stamp_cost(void)
{
	static uint64_t cost;

	if (!cost) {
		uint64_t a = rdtsc(), b = rdtsc();

		cost = b - a ? b - a : 1;
	}
	return cost;
}

void stamp_report(const struct vcpu *v)
{
	uint64_t o = stamp_cost();

	for (uint32_t i = 0; i < STAMP_SLOTS; i++) {
		const struct stamp_slot *sl = &v->stamps.slot[i];
		uint32_t reason = sl->key >> 16;

		if (!sl->n)
			continue;
		pr_info("vm %s: vcpu%u stamps %s port 0x%x: %lu exits, mean ticks dispatch %lu handler %lu events %lu (less %lu a stamp)",
			v->vm->name, v->index, exit_reason_name(reason), sl->key & 0xffffu,
			(unsigned long)sl->n, (unsigned long)(sl->part[0] / sl->n - o),
			(unsigned long)(sl->part[1] / sl->n - o), (unsigned long)(sl->part[2] / sl->n - o),
			(unsigned long)o);
	}
}
#endif

void vmx_entry_failed(uint64_t rflags)
{
	struct vcpu *v = this_cpu()->vcpu;
	uint32_t err = rflags & RFLAGS_ZF ? (uint32_t)vmcs_read(VMCS_VM_INSTRUCTION_ERROR) : 0;

	vm_stop(v->vm, "%s failed: %s (VM-instruction error %u)",
		v->launched ? "VMRESUME" : "VMLAUNCH",
		rflags & RFLAGS_ZF ? vmx_instruction_error_name(err) : "no valid current VMCS", err);
	sched_after_exit(v, EXIT_STOP);
	panic("vmx_entry_failed: the scheduler returned");
}
