/* SPDX-License-Identifier: MIT */
/* Application processor start-up (INIT-SIPI-SIPI, SDM vol. 3A 9.4.4) and stop. */
#ifndef TERN_ARCH_SMP_H
#define TERN_ARCH_SMP_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

/*
 * Data block at offset TRAMP_DATA_OFFSET of the copied trampoline
 * (arch/trampoline.asm); the BSP fills it before each start-up IPI.
 */
#define TRAMP_DATA_OFFSET 8
struct tramp_data {
	uint64_t cr3;
	uint64_t stack_top;
	uint64_t pcpu;
	uint64_t entry;
	uint32_t far32_off; /* relative to the trampoline until patched */
	uint16_t far32_sel;
	uint16_t pad0;
	uint32_t far64_off;
	uint16_t far64_sel;
	uint16_t gdt_limit; /* gdt_limit and gdt_base form the LGDT operand */
	uint32_t gdt_base;
	uint32_t pad1;
} __attribute__((packed));
_Static_assert(sizeof(struct tramp_data) == 56, "tramp_data layout");

/* A usable 4 KiB page below 1 MiB for the trampoline, or 0. */
uint64_t smp_pick_trampoline(const struct boot_mem_region *map, size_t n);
/* Find the CPUs (MADT, else the boot loader's list) and start every AP. */
void smp_boot(uint64_t tramp_phys);
/* Let the parked APs run fn (they were waiting in HLT). */
void smp_release_aps(void (*fn)(void));
/* Park every other CPU (NMI); used by panic. */
void smp_stop_others(void);

#endif
