/* SPDX-License-Identifier: MIT */
/* A minimal 64-bit IDT for test guests that want to survive an exception or take interrupts. */
#include "tests/guests/guest.h"

#include <stddef.h>

/* 64-bit IDT gate descriptor (SDM Vol. 3A, 6.14.1, Figure 6-8). */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_ptr) == 10, "IDTR image is 10 bytes");

/* Present, DPL 0, type 0xe: 64-bit interrupt gate (IF cleared on entry). */
#define IDT_GATE_INTR64 0x8eu

/* trap_entry.asm pushes 15 GPRs, the vector and the error code, in this order. */
_Static_assert(offsetof(struct guest_trap_frame, rax) == 14 * 8, "frame: GPRs");
_Static_assert(offsetof(struct guest_trap_frame, vector) == 15 * 8, "frame: vector");
_Static_assert(offsetof(struct guest_trap_frame, error_code) == 16 * 8, "frame: error code");
_Static_assert(offsetof(struct guest_trap_frame, rip) == 17 * 8, "frame: CPU frame");
_Static_assert(sizeof(struct guest_trap_frame) == 22 * 8, "frame: size");

extern const uint64_t guest_trap_stubs[X86_NR_VECTORS];

/* One IDT shared by every vCPU of the guest (guest_trap_load on the others). */
static struct idt_gate idt[X86_NR_VECTORS] __attribute__((aligned(16)));
static guest_trap_fn trap_fn;
static guest_irq_fn irq_fns[X86_NR_VECTORS];

/* Called by trap_entry.asm with the frame it built. */
void guest_trap_dispatch(struct guest_trap_frame *frame);

void guest_trap_dispatch(struct guest_trap_frame *frame)
{
	if (frame->vector >= X86_NR_EXCEPTIONS) {
		guest_irq_fn fn = irq_fns[frame->vector];

		if (fn) {
			fn(frame);
			return;
		}
		guest_log("ERROR unexpected interrupt vector 0x%lx at rip 0x%lx", frame->vector,
			  frame->rip);
		guest_halt();
	}
	if (trap_fn && trap_fn(frame))
		return;
	guest_log("ERROR unexpected exception %lu error 0x%lx at rip 0x%lx",
		  frame->vector, frame->error_code, frame->rip);
	guest_halt();
}

void guest_trap_load(void)
{
	struct idt_ptr idtr = { .limit = sizeof(idt) - 1, .base = (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void guest_irq_install(unsigned int vector, guest_irq_fn fn)
{
	if (vector >= X86_NR_EXCEPTIONS && vector < X86_NR_VECTORS) {
		irq_fns[vector] = fn;
		return;
	}
	guest_log("ERROR guest_irq_install: vector %u is not an interrupt vector", vector);
	guest_halt();
}

void guest_trap_install(guest_trap_fn fn)
{
	uint16_t cs;

	/* Whatever code selector Tern entered us with (0x08 by the ABI). */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	trap_fn = fn;
	for (unsigned int v = 0; v < X86_NR_VECTORS; v++) {
		uint64_t addr = guest_trap_stubs[v];

		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)addr,
			.selector = cs,
			.type_attr = IDT_GATE_INTR64,
			.offset_mid = (uint16_t)(addr >> 16),
			.offset_hi = (uint32_t)(addr >> 32),
		};
	}
	guest_trap_load();
}
