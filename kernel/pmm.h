/* SPDX-License-Identifier: MIT */
/*
 * Physical page allocator: one owner byte per page frame, so every page is
 * accounted to whoever holds it and frees are checked against the owner.
 * Pure logic (no locks, no arch code): kernel/mm.c wraps one instance with a
 * lock; host unit tests drive it directly.
 */
#ifndef TERN_KERNEL_PMM_H
#define TERN_KERNEL_PMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ull << PAGE_SHIFT)

/* Owner ids; 0 is free, PMM_RESERVED is never handed out. */
enum pmm_owner {
	PMM_FREE = 0,
	PMM_OWNER_META,      /* the allocator's own owner array */
	PMM_OWNER_KERNEL,    /* kernel image, modules, boot data */
	PMM_OWNER_PAGETABLE, /* host page tables */
	PMM_OWNER_HEAP,      /* kmalloc */
	PMM_OWNER_STACK,     /* per-CPU stacks */
	PMM_OWNER_PCPU,      /* per-CPU areas, VMXON regions */
	PMM_OWNER_VMM,       /* VMCS, EPT tables, bitmaps */
	PMM_OWNER_GUEST,     /* guest-physical memory */
	PMM_OWNER_COUNT,
	PMM_RESERVED = 0xff,
};

/* Guest RAM is taken from here up first (pmm_alloc with PMM_OWNER_GUEST). */
#define PMM_HIGH_BASE 0x100000000ull
#define PMM_NONE 0ull /* returned by pmm_alloc on failure: page 0 is never handed out */

struct pmm_stats {
	uint64_t total_pages;    /* usable RAM the allocator manages */
	uint64_t free_pages;
	uint64_t by_owner[PMM_OWNER_COUNT]; /* pages held by each owner */
};

struct pmm {
	uint64_t base_pfn;  /* first frame covered by owner[] */
	uint64_t nr_pfns;   /* frames covered (holes are PMM_RESERVED) */
	uint8_t *owner;     /* one byte per frame */
	uint64_t hint;      /* index to start the next single-page search */
	struct pmm_stats stats;
};

/*
 * Build the allocator from a normalised memory map. The owner array is
 * carved from the first usable region large enough (accounted as
 * PMM_OWNER_META) and reached through phys_to_virt. Frames below low_limit
 * (e.g. 1 MiB, kept for the SMP trampoline and firmware) are left reserved.
 * Returns 0 or -ENOMEM when no region can hold the array.
 */
int pmm_init(struct pmm *pmm, const struct boot_mem_region *map, size_t n,
	     uint64_t low_limit, void *(*phys_to_virt)(uint64_t phys));

/*
 * Allocate npages contiguous frames aligned to align_pages (a power of two),
 * entirely below max_phys (0: no limit), for owner. Returns the physical
 * address or PMM_NONE. First fit from the bottom, except guest RAM
 * (PMM_OWNER_GUEST), which is first fit from PMM_HIGH_BASE up, then below.
 */
uint64_t pmm_alloc(struct pmm *pmm, size_t npages, size_t align_pages,
		   uint64_t max_phys, enum pmm_owner owner);

/*
 * Free frames taken with pmm_alloc. Every frame must be held by owner:
 * otherwise nothing is freed and -EINVAL is returned (double free, wrong
 * owner, reserved or out-of-range frame).
 */
int pmm_free(struct pmm *pmm, uint64_t phys, size_t npages, enum pmm_owner owner);

/* Take specific free frames (e.g. a firmware-placed buffer). 0 or -EBUSY/-EINVAL. */
int pmm_claim(struct pmm *pmm, uint64_t phys, size_t npages, enum pmm_owner owner);

/* Owner of one frame (PMM_RESERVED outside the managed range). */
enum pmm_owner pmm_owner_of(const struct pmm *pmm, uint64_t phys);

void pmm_get_stats(const struct pmm *pmm, struct pmm_stats *out);
const char *pmm_owner_name(enum pmm_owner owner);

#endif
