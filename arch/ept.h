/* SPDX-License-Identifier: MIT */
/*
 * EPT page-table builder (SDM vol. 3C 29.3): 4-level tables with 2 MiB and
 * 4 KiB leaves. Pure logic: table pages come from the caller's ops, and the
 * caller issues INVEPT after a change.
 */
#ifndef TERN_ARCH_EPT_H
#define TERN_ARCH_EPT_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86.h"

/* EPT paging-structure entry bits (SDM vol. 3C 29.3.2, tables 29-1 to 29-6) */
#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT  3           /* leaf memory type, bits 5:3 */
#define EPT_MT_MASK   (7ull << EPT_MT_SHIFT)
#define EPT_IPAT      BIT(6)      /* leaf: ignore guest PAT */
#define EPT_LARGE     BIT(7)      /* PDPTE/PDE: maps a page, not a table */
#define EPT_ACCESSED  BIT(8)
#define EPT_DIRTY     BIT(9)
#define EPT_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */

/* EPT memory types (SDM vol. 3C 29.3.7); 2, 3 and 7 are reserved. */
#define EPT_MT_UC 0u
#define EPT_MT_WC 1u
#define EPT_MT_WT 4u
#define EPT_MT_WP 5u
#define EPT_MT_WB 6u

#define EPT_PAGE_4K  0x1000ull
#define EPT_PAGE_2M  0x200000ull
#define EPT_GPA_LIMIT (1ull << 48)  /* what a 4-level walk translates */
#define EPT_HPA_LIMIT (1ull << 52)  /* address bits 51:12 of an entry */

/* EPT pointer (SDM vol. 3C 25.6.11) */
#define EPTP_MT_WB    ((uint64_t)EPT_MT_WB) /* bits 2:0: paging-structure memory type */
#define EPTP_PWL_4    (3ull << 3)           /* bits 5:3: page-walk length minus 1 */
#define EPTP_AD       BIT(6)                /* accessed/dirty flags enabled */

struct ept_ops {
	uint64_t (*alloc_table)(void *ctx);          /* a zeroed 4 KiB page: its physical address, or 0 */
	void (*free_table)(void *ctx, uint64_t phys);
	void *(*to_virt)(void *ctx, uint64_t phys);   /* where the hypervisor can touch that page */
	void *ctx;
};

struct ept {
	struct ept_ops ops;
	uint64_t pml4;      /* physical address of the PML4 table */
	uint64_t nr_tables; /* table pages held, including the PML4 */
};

int ept_init(struct ept *e, const struct ept_ops *ops);   /* 0 or -ENOMEM */

/*
 * Map [gpa, gpa+size) to [hpa, hpa+size) with perms (EPT_R/W/X, non-zero; W
 * without R is invalid per the SDM: -EINVAL) and memtype (EPT_MT_*). 2 MiB
 * leaves wherever gpa and hpa are both 2 MiB-aligned and at least 2 MiB
 * remain, 4 KiB leaves elsewhere; a 4 KiB mapping inside an existing 2 MiB
 * leaf splits that leaf into a page table that keeps the rest of the old
 * mapping (same hpa offsets, perms and memtype). Existing mappings are
 * replaced. -EINVAL for unaligned (4 KiB) or zero size, -ERANGE beyond
 * EPT_GPA_LIMIT (or hpa beyond EPT_HPA_LIMIT) or on overflow, -ENOMEM when a
 * table cannot be allocated (what was mapped before the failure stays valid
 * and consistent).
 *
 * Table pages this frees (a page table replaced by a 2 MiB leaf) may still sit
 * in the CPU's paging-structure caches until the caller's INVEPT; the
 * free_table callback must not let them be reused before that.
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms, uint32_t memtype);

/*
 * Remove mappings in [gpa, gpa+size) (splitting 2 MiB leaves at the edges as
 * needed); page tables that become empty are freed. Unmapped ranges inside
 * are fine. Same error rules, and the same INVEPT caveat for freed tables.
 */
int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size);

/*
 * Translate one GPA: 0 and *hpa (the exact byte address), *perms, *page_size
 * (4K or 2M), or -ENOENT. Any out-pointer may be NULL.
 */
int ept_lookup(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint32_t *perms, uint64_t *page_size);

/* Free every table page (nr_tables becomes 0). Never frees the mapped memory itself. */
void ept_destroy(struct ept *e);

/* EPTP value for VMCS_EPT_POINTER: WB, 4-level, optional A/D. */
uint64_t ept_eptp(const struct ept *e, bool ad);

#endif
