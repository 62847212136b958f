/* SPDX-License-Identifier: MIT */
/* Kernel memory: the locked page allocator instance and a small object allocator. */
#ifndef TERN_KERNEL_MM_H
#define TERN_KERNEL_MM_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/pmm.h"

#define LOW_4G 0x100000000ull

void mm_init(const struct boot_mem_region *map, size_t n);

/* Zeroed pages, or 0. */
uint64_t page_alloc(size_t npages, enum pmm_owner owner);
uint64_t page_alloc_below(size_t npages, uint64_t max_phys, enum pmm_owner owner);
/* Contiguous, aligned to align_pages (a power of two). */
uint64_t page_alloc_aligned(size_t npages, size_t align_pages, enum pmm_owner owner);
/*
 * As page_alloc_aligned but not zeroed: for a caller that zeroes the pages
 * itself in bounded pieces before anyone sees them (guest RAM, vmm/vm.c).
 */
uint64_t page_alloc_unzeroed(size_t npages, size_t align_pages, enum pmm_owner owner);
void page_free(uint64_t phys, size_t npages, enum pmm_owner owner);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

void mm_get_stats(struct pmm_stats *out);
void mm_print_stats(const char *when);

/* Physical memory is identity-mapped (arch/paging.c). */
static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)phys;
}

uint64_t virt_to_phys(const void *v);

#endif
