/* SPDX-License-Identifier: MIT */
/* Exception and interrupt entry: the frame arch/vectors.asm builds. */
#ifndef TERN_ARCH_TRAP_H
#define TERN_ARCH_TRAP_H

#include <stdint.h>

/* Pushed by vectors.asm (GPRs, vector, error code) and by the CPU (the rest). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(struct trap_frame *tf);

/* Called from vectors.asm for every vector. */
void trap_dispatch(struct trap_frame *tf);
void irq_register(uint8_t vector, irq_handler_fn fn);

/* Print a frame-pointer backtrace starting at rbp (bounded by the stack). */
void backtrace_print(uint64_t rbp);
/* The return addresses of that backtrace, at most max; safe in an NMI handler. */
unsigned int backtrace_collect(uint64_t rbp, uint64_t *ret, unsigned int max);

#endif
