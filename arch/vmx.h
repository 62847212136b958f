/* SPDX-License-Identifier: MIT */
/*
 * VMX primitives: VMXON per CPU, VMCS allocation and access, INVEPT/INVVPID,
 * and entering a guest. Only arch/ issues VMX instructions; kernel/ and vmm/
 * call these. Every instruction's CF/ZF is checked (SDM vol. 3C 31.2).
 */
#ifndef TERN_ARCH_VMX_H
#define TERN_ARCH_VMX_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/vmcs.h"

/* Guest GPRs in x86 register-number order, so decoded instructions can index them. */
struct guest_regs {
	uint64_t rax, rcx, rdx, rbx;
	uint64_t rsp_unused; /* the guest RSP lives in the VMCS */
	uint64_t rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* The controls Tern runs every guest with, computed once from the capability MSRs. */
struct vmx_config {
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool vpid, unrestricted, ept_ad;
	bool apicv; /* TPR shadow + virtualized APIC accesses + APIC-register virtualization */
	bool tpr_shadow; /* CR8 goes to the virtual-APIC page; else CR8 accesses exit */
	bool vnmi;       /* virtual NMIs: guests get NMIs, blocking tracked by the CPU */
	bool nmi_window; /* NMI-window exiting may be turned on */
	uint8_t preempt_shift;
};

extern struct vmx_config vmx_config;

/* Compute vmx_config on the bootstrap CPU; -ENOTSUP (logged) when a required control is missing. */
int vmx_config_init(void);
/* VMXON on the calling CPU. 0 or a negative error (logged). */
int vmx_cpu_on(void);

uint64_t vmcs_alloc(void);   /* a zeroed VMCS region with the revision id, or 0 */
void vmcs_free(uint64_t phys);
int vmcs_clear(uint64_t phys);
int vmcs_load(uint64_t phys);

/* For fields that may not exist on every CPU: 0 or -EIO. */
int vmcs_try_write(uint32_t field, uint64_t value);
/* A VMREAD or VMWRITE failed (CF: no current VMCS, ZF: see the error field; SDM 31.2): a hypervisor bug; panics. */
__attribute__((noreturn, cold)) void vmcs_access_failed(uint32_t field, uint64_t value, bool write);

/*
 * Checked accessors, inline: the exit path makes a handful of these per exit
 * and a call costs more than the instruction. The check is one branch.
 */
static inline uint64_t vmcs_read(uint32_t field)
{
	uint64_t v = 0; /* for cppcheck: the asm always writes it */

	/* CF or ZF set: "below or equal" (asm goto with outputs: GCC 11). */
	__asm__ goto("vmread %1, %0\n\tjbe %l[failed]" : "=r"(v) : "r"((uint64_t)field) : "cc" : failed);
	return v;
failed:
	vmcs_access_failed(field, 0, false);
}

static inline void vmcs_write(uint32_t field, uint64_t value)
{
	__asm__ goto("vmwrite %0, %1\n\tjbe %l[failed]" : : "r"(value), "r"((uint64_t)field) : "cc", "memory"
		     : failed);
	return;
failed:
	vmcs_access_failed(field, value, true);
}

void vmx_invept_single(uint64_t eptp);
void vmx_invvpid_single(uint16_t vpid);

/* Write the host-state area for the calling CPU into the current VMCS. */
void vmx_write_host_state(void);

/*
 * Enter (VMLAUNCH or VMRESUME by vcpu->launched) the vCPU this CPU's pcpu
 * points at; never returns. VM exits land in arch/vmx_entry.asm, which
 * saves the GPRs and calls vmx_exit_handler() (vmm/exit.c).
 */
__attribute__((noreturn)) void vmx_run_current(void);
/* Called by the exit stub; returns to resume the (possibly new) current vCPU. */
void vmx_exit_handler(void);
/* Called by the stub when VMLAUNCH/VMRESUME itself fails (CF or ZF set). */
__attribute__((noreturn)) void vmx_entry_failed(uint64_t rflags);

const char *vmx_instruction_error_name(uint32_t err);

#endif
