/* SPDX-License-Identifier: MIT */
/* Host page tables: direct map of physical memory plus the kernel image (SDM vol. 3A 4.5). */
#ifndef TERN_ARCH_PAGING_H
#define TERN_ARCH_PAGING_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

#define PTE_P    BIT(0)
#define PTE_W    BIT(1)
#define PTE_US   BIT(2)
#define PTE_PWT  BIT(3)
#define PTE_PCD  BIT(4)
#define PTE_A    BIT(5)
#define PTE_D    BIT(6)
#define PTE_PS   BIT(7)
#define PTE_G    BIT(8)
#define PTE_NX   BIT(63)
#define PTE_ADDR 0x000ffffffffff000ull

/* Kernel stacks live here, each below an unmapped guard page. */
#define STACK_AREA_BASE 0xffffffffc0000000ull
#define STACK_SLOT_SIZE 0x10000ull /* per CPU: 64 KiB of address space */

/*
 * Build the kernel's page tables and switch to them: physical memory
 * identity-mapped (RAM write-back, the rest uncached, never executable,
 * page 0 absent), the kernel image with W^X per section, and the SMP
 * trampoline page executable.
 */
void paging_init(const struct boot_mem_region *map, size_t n, uint64_t tramp_phys);
/* Map one 4 KiB page in the kernel tables. 0 or -ENOMEM. */
int paging_map(uint64_t va, uint64_t pa, uint64_t flags);
uint64_t paging_cr3(void);

#endif
