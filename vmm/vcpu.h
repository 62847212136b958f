/* SPDX-License-Identifier: MIT */
/* Virtual CPUs: registers, VMCS, scheduling state and accounting. */
#ifndef TERN_VMM_VCPU_H
#define TERN_VMM_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/vmx.h"
#include "vmm/vlapic.h"
#include "vmm/xregs.h"

struct vm;
struct pcpu;

enum vcpu_state {
	VCPU_RUNNABLE = 0,
	VCPU_BLOCKED,  /* HLT with interrupts on: waits for an interrupt */
	VCPU_HALTED,   /* HLT with interrupts off: done for good */
	VCPU_STOPPED,  /* its VM was stopped */
	VCPU_WAIT_SIPI, /* an AP before INIT-SIPI-SIPI */
};

enum guest_mode { GUEST_REAL = 0, GUEST_LONG };

/* Initial register state, prepared by the image loader. */
struct vcpu_init {
	int mode; /* enum guest_mode */
	uint64_t rip, rsp, rdi, rsi, rdx, rcx;
	uint16_t cs; /* real mode */
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
	uint32_t proc_ctls;     /* primary controls as last written */
	uint8_t tpr_threshold;  /* VMCS_TPR_THRESHOLD as last written (TPR shadow) */
	struct vlapic lapic;
	uint64_t slice_end;     /* TSC at which this slice ends */
	uint64_t run_start;     /* TSC when last entered from the scheduler */
	uint64_t boost_until, boost_base; /* boost window: its end, run_tsc at its start (sched.c) */
	struct vcpu_msrs msrs;
	struct vcpu_xregs xregs; /* FPU/SSE/AVX, DR0-3/DR6, CR2, TSC_AUX */
	struct vcpu_init init;
	/* accounting */
	uint64_t run_tsc, nr_scheduled, nr_exits, nr_moves;
	uint64_t cpus_seen;     /* bit n: ran on CPU n */
	uint64_t exits[VMX_EXIT_REASON_MAX];
};

struct vcpu *vcpu_create(struct vm *vm, uint32_t index);
void vcpu_destroy(struct vcpu *v);
/* Make v's VMCS current on this CPU, (re)writing host state if it moved. */
void vcpu_load(struct vcpu *v);
/* Fill v's VMCS (must be current) from its vcpu_init. */
void vcpu_setup_vmcs(struct vcpu *v);
void vcpu_skip_instruction(void);
/* GPR n in x86 order (0 RAX ... 15 R15), 4 being the guest RSP in the VMCS (v's must be current). */
uint64_t vcpu_gpr(const struct vcpu *v, unsigned int n);
void vcpu_set_gpr(struct vcpu *v, unsigned int n, uint64_t val);
/* Before every VM entry: fire due timers, inject a pending NMI or interrupt or ask for its window. */
void vcpu_deliver_events(struct vcpu *v);
void vcpu_inject_exception(uint8_t vector, bool has_error, uint32_t error);
void vcpu_msrs_load(const struct vcpu *v);
void vcpu_msrs_save(struct vcpu *v);
/* Log the guest state (stop reasons, unexpected exits). */
void vcpu_dump(const struct vcpu *v);

#endif
