/* SPDX-License-Identifier: MIT */
/*
 * The CPU primitives the base needs: the interrupt flag (RFLAGS.IF, SDM vol.
 * 1 §3.4.3.3, CLI/STI vol. 2A/2B), PAUSE for spin loops (vol. 2B "PAUSE"),
 * HLT, and the running CPU's per-CPU block reached through GS base. arch/x86.h
 * re-exports these with the rest of the instruction wrappers.
 *
 * The per-CPU contract: once cpu_local_ready is set (arch/pcpu.c, when the
 * bootstrap CPU has loaded GS base; every other CPU loads its own before it
 * takes a lock), %gs:CPU_LOCAL_ID holds this CPU's dense index and
 * %gs:CPU_LOCAL_HEARTBEAT its progress counter. arch/pcpu.h's struct pcpu
 * lays its `id` and `heartbeat` fields there (checked by _Static_assert).
 */
#ifndef TERN_KERNEL_CPU_H
#define TERN_KERNEL_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_IF (1ull << 9)

#define CPU_LOCAL_ID        8u  /* uint32_t: dense index, 0 = bootstrap CPU */
#define CPU_LOCAL_HEARTBEAT 16u /* uint64_t: bumped when the CPU makes progress */

extern volatile bool cpu_local_ready;

static inline uint64_t read_rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cpu_halt(void) { __asm__ volatile("hlt" ::: "memory"); }

static inline bool irq_save(void)
{
	bool on = read_rflags() & RFLAGS_IF;

	irq_disable();
	return on;
}

static inline void irq_restore(bool on)
{
	if (on)
		irq_enable();
}

/* Stop this CPU for good: interrupts off, halt forever (NMIs return to hlt). */
__attribute__((noreturn)) static inline void cpu_stop(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

/* This CPU's dense index; 0 before per-CPU data exist (earliest boot, on the BSP). */
static inline uint32_t cpu_id(void)
{
	uint32_t id;

	if (!cpu_local_ready)
		return 0;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(id) : "i"(CPU_LOCAL_ID));
	return id;
}

/* Long work in the base (zeroing memory): this CPU is alive (the watchdog reads it). */
static inline void cpu_touch(void)
{
	if (cpu_local_ready)
		__asm__ volatile("incq %%gs:%c0" : : "i"(CPU_LOCAL_HEARTBEAT) : "memory");
}

#endif
