/* SPDX-License-Identifier: MIT */
/*
 * Structure offsets for nasm, which cannot read C headers. Compiled to
 * assembly; the Makefile turns the "->NAME value" markers into %defines in
 * build/gen/asm_offsets.inc.
 */
#include <stddef.h>
#include "arch/trap.h"
#include "arch/pcpu.h"
#include "arch/smp.h"
#include "arch/vmx.h"
#include "vmm/vcpu.h"

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %0\"" : : "i"(val))

void asm_offsets(void);
void asm_offsets(void)
{
	DEFINE(TF_R15, offsetof(struct trap_frame, r15));
	DEFINE(TF_RAX, offsetof(struct trap_frame, rax));
	DEFINE(TF_VECTOR, offsetof(struct trap_frame, vector));
	DEFINE(TF_ERROR_CODE, offsetof(struct trap_frame, error_code));
	DEFINE(TF_RIP, offsetof(struct trap_frame, rip));
	DEFINE(TF_SIZE, sizeof(struct trap_frame));
	DEFINE(PCPU_SELF, offsetof(struct pcpu, self));
	DEFINE(PCPU_VCPU, offsetof(struct pcpu, vcpu));
	DEFINE(VCPU_REGS, offsetof(struct vcpu, regs));
	DEFINE(VCPU_LAUNCHED, offsetof(struct vcpu, launched));
	DEFINE(GR_RAX, offsetof(struct guest_regs, rax));
	DEFINE(GR_RCX, offsetof(struct guest_regs, rcx));
	DEFINE(GR_RDX, offsetof(struct guest_regs, rdx));
	DEFINE(GR_RBX, offsetof(struct guest_regs, rbx));
	DEFINE(GR_RBP, offsetof(struct guest_regs, rbp));
	DEFINE(GR_RSI, offsetof(struct guest_regs, rsi));
	DEFINE(GR_RDI, offsetof(struct guest_regs, rdi));
	DEFINE(GR_R8, offsetof(struct guest_regs, r8));
	DEFINE(GR_R9, offsetof(struct guest_regs, r9));
	DEFINE(GR_R10, offsetof(struct guest_regs, r10));
	DEFINE(GR_R11, offsetof(struct guest_regs, r11));
	DEFINE(GR_R12, offsetof(struct guest_regs, r12));
	DEFINE(GR_R13, offsetof(struct guest_regs, r13));
	DEFINE(GR_R14, offsetof(struct guest_regs, r14));
	DEFINE(GR_R15, offsetof(struct guest_regs, r15));
	DEFINE(TRAMP_DATA_OFFSET, TRAMP_DATA_OFFSET);
	DEFINE(TD_CR3, offsetof(struct tramp_data, cr3));
	DEFINE(TD_STACK_TOP, offsetof(struct tramp_data, stack_top));
	DEFINE(TD_PCPU, offsetof(struct tramp_data, pcpu));
	DEFINE(TD_ENTRY, offsetof(struct tramp_data, entry));
	DEFINE(TD_FAR32_OFF, offsetof(struct tramp_data, far32_off));
	DEFINE(TD_FAR64_OFF, offsetof(struct tramp_data, far64_off));
	DEFINE(TD_GDT_LIMIT, offsetof(struct tramp_data, gdt_limit));
}
