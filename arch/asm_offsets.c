/* SPDX-License-Identifier: MIT */
/*
 * Structure offsets for nasm, which cannot read C headers. Compiled to
 * assembly; the Makefile turns the "->NAME value" markers into %defines in
 * build/gen/asm_offsets.inc.
 */
#include <stddef.h>
#include "arch/trap.h"
#include "kernel/pcpu.h"
#include "arch/smp.h"

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
	DEFINE(TRAMP_DATA_OFFSET, TRAMP_DATA_OFFSET);
	DEFINE(TD_CR3, offsetof(struct tramp_data, cr3));
	DEFINE(TD_STACK_TOP, offsetof(struct tramp_data, stack_top));
	DEFINE(TD_PCPU, offsetof(struct tramp_data, pcpu));
	DEFINE(TD_ENTRY, offsetof(struct tramp_data, entry));
	DEFINE(TD_FAR32_OFF, offsetof(struct tramp_data, far32_off));
	DEFINE(TD_FAR64_OFF, offsetof(struct tramp_data, far64_off));
	DEFINE(TD_GDT_LIMIT, offsetof(struct tramp_data, gdt_limit));
}
