/* SPDX-License-Identifier: MIT */
/* Virtual CPUs: registers, VMCS, scheduling state and accounting. */
#ifndef TERN_VMM_VCPU_H
#define TERN_VMM_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/vmx.h"
#include "vmm/cpuid.h"
#include "vmm/vlapic.h"
#include "vmm/abi.h"
#include "vmm/platform.h"
#include "vmm/vmsr.h"
#include "vmm/xregs.h"
#include "vmm/stamps.h"

struct vm;
struct pcpu;

enum vcpu_state {
	VCPU_RUNNABLE = 0,
	VCPU_BLOCKED,  /* HLT with interrupts on: waits for an interrupt */
	VCPU_HALTED,   /* HLT with interrupts off: done for good */
	VCPU_STOPPED,  /* its VM was stopped */
	VCPU_WAIT_SIPI, /* an AP before INIT-SIPI-SIPI */
};

enum guest_mode { GUEST_REAL = 0, GUEST_LONG, GUEST_PROT32 };

/* Initial register state, prepared by the image loader. */
struct vcpu_init {
	int mode; /* enum guest_mode */
	uint64_t rip, rsp, rdi, rsi, rdx, rcx, rax, rbx;
	uint16_t cs; /* real mode: the segment; else the code selector (data: cs + 8) */
	uint64_t cr3, gdt_base;
	uint16_t gdt_limit;
};

/* MSRs the VMCS does not switch: Tern swaps them when vCPUs change on a CPU. */
struct vcpu_msrs {
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
};

struct vcpu {
	struct guest_regs regs; /* first: the exit stub reaches it by generated offsets */
	uint8_t launched;       /* VMLAUNCH done on the current VMCS */
	struct vm *vm;
	uint32_t index;
	uint16_t vpid;
	uint64_t vmcs;          /* physical address */
	struct pcpu *pcpu;      /* where the VMCS is active (0: nowhere yet) */
	volatile int state;     /* enum vcpu_state */
	struct vcpu *rq_next;
	volatile uint32_t cpu;  /* run queue it is on */
	volatile int move_to;   /* pending move to this CPU, -1: none */
	bool pinned;
	volatile bool boost;    /* woken from HLT by an interrupt: may run before its turn */
	bool needs_setup;       /* VMCS guest state to be written from init */
	bool has_state;         /* init was given (loader or TERN_HC_VCPU_SET_STATE) */
	volatile bool parked;   /* off every CPU while its VM is paused; arch holds its state */
	bool apply_arch;        /* arch was set (TERN_HC_VCPU_SET_REGS): load it before entry */
	bool tsc_moved;         /* msr.tsc_offset moved (a pause's time skipped): into the VMCS before entry */
	int start_state;        /* VM_START puts it in this state (arch was set), or -1 */
	bool dirty_sync;        /* write EPTP and PML controls before the next entry (vm_dirty.c) */
	bool pml_on;            /* the VMCS has PML enabled */
	uint64_t pml_page;      /* its page-modification log (physical), while PML logs */
	uint32_t proc_ctls;     /* primary controls as last written */
	/*
	 * Its interrupt state may have changed (an IRR bit, an NMI, the PIC's
	 * INTR, a LAPIC register, a window exit): vcpu_deliver_events runs
	 * before the next entry. Set by whoever changes it, on any CPU
	 * (vcpu_note_event); cleared by vcpu_deliver_events.
	 */
	volatile bool events;
	/*
	 * TSC by which Tern must look at v again (the slice's end, its timers,
	 * the run queue's, housekeeping), set by the scheduler at each full
	 * check; an exit before it with no events resumes at once (sched.c).
	 */
	uint64_t deadline;
	uint8_t tpr_threshold;  /* VMCS_TPR_THRESHOLD as last written (TPR shadow) */
	struct vlapic lapic;
	struct vplatform *plat;   /* the VM's devices: any vCPU runs their timers once due */
	/*
	 * The same on the one vCPU that wakes for their deadline (vCPU 0 until
	 * it stops for good, then the next live one: vm_vcpu_gone), else NULL.
	 */
	struct vplatform *volatile plat0;
	uint64_t slice_end;     /* TSC at which this slice ends */
	uint64_t run_start;     /* TSC when last entered from the scheduler */
	uint64_t boost_until, boost_base; /* boost window: its end, run_tsc at its start (sched.c) */
	struct vcpu_msrs msrs;
	struct vmsr_state msr;  /* emulated MSRs: MTRRs, MISC_ENABLE, TSC offset/ADJUST, SPEC_CTRL (vmm/msr.c) */
	struct vcpu_xregs xregs; /* FPU/SSE/AVX, DR0-3/DR6, CR2, TSC_AUX */
	struct cpuid_table cpuid; /* its CPUID answers, computed at creation (vmm/cpuid.c) */
	struct vcpu_init init;
	struct tern_vcpu_regs arch; /* the whole state while parked (vcpu_state.c) */
	/* accounting */
	uint64_t run_tsc, nr_scheduled, nr_moves;
	uint64_t nr_reinjected; /* events an exit interrupted, injected again (exit.c) */
	uint64_t cpus_seen;     /* bit n: ran on CPU n */
	uint64_t exits[VMX_EXIT_REASON_MAX + 1]; /* the last: reasons past the table */
#ifdef TERN_STAMPS
	struct vcpu_stamps stamps; /* make bench's breakdown (vmm/stamps.h) */
#endif
};

struct vcpu *vcpu_create(struct vm *vm, uint32_t index);
void vcpu_destroy(struct vcpu *v);
/* v's interrupt state changed: look at it before v's next entry (any CPU; the caller kicks). */
static inline void vcpu_note_event(struct vcpu *v)
{
	__atomic_store_n(&v->events, true, __ATOMIC_RELEASE);
}
/* Make v's VMCS current on this CPU, (re)writing host state if it moved. */
void vcpu_load(struct vcpu *v);
/* Fill v's VMCS (must be current) from its vcpu_init. */
void vcpu_setup_vmcs(struct vcpu *v);
/* Past the instruction that exited (VM-exit instruction length); inline, as most exits do it. */
static inline void vcpu_skip_instruction(void)
{
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	uint64_t shadow = GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING;

	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN));
	/* Skipping an instruction ends STI/MOV-SS blocking (SDM 25.4.2). */
	if (intr & shadow)
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, intr & ~shadow);
}
/* GPR n in x86 order (0 RAX ... 15 R15), 4 being the guest RSP in the VMCS (v's must be current). */
uint64_t vcpu_gpr(const struct vcpu *v, unsigned int n);
void vcpu_set_gpr(struct vcpu *v, unsigned int n, uint64_t val);
/*
 * v's next timer event as a TSC: its local APIC timer and, for the vCPU
 * that wakes for them (plat0), the VM's device timers (vmm/platform.c).
 * VLAPIC_NO_EVENT: none.
 */
static inline uint64_t vcpu_next_event(const struct vcpu *v)
{
	uint64_t t = vlapic_next_event(v);
	struct vplatform *p = v->plat0;

	return p && p->next_tsc < t ? p->next_tsc : t;
}
/*
 * Runs the VM's device timers if they are due (vmm/platform.c): where a
 * deadline brings the vCPU that wakes for them (the preemption-timer exit
 * armed for it, HLT, entry after a wake-up), or any vCPU's exit after it
 * (sched_resume), not on every exit. Never under a run-queue lock.
 */
void vcpu_run_device_timers(struct vcpu *v);
/* Fire v's due LAPIC timer; true when v has something to wake for (interrupt, NMI, device timer). */
bool vcpu_has_event(struct vcpu *v, uint64_t now);
/* Before every VM entry: fire due timers, inject a pending NMI or interrupt or ask for its window. */
void vcpu_deliver_events(struct vcpu *v);
void vcpu_inject_exception(uint8_t vector, bool has_error, uint32_t error);
void vcpu_msrs_load(const struct vcpu *v);
void vcpu_msrs_save(struct vcpu *v);
/* Log the guest state (stop reasons, unexpected exits). */
void vcpu_dump(const struct vcpu *v);

#endif
