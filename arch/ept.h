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
#define EPT_ACCESSED  BIT(8)      /* leaf and non-leaf, set by the CPU when EPTP bit 6 is 1 (29.3.5) */
#define EPT_DIRTY     BIT(9)      /* leaf only, set by the CPU on a write, same condition */
/*
 * Software-available: bit 11 is ignored by the processor in every EPT entry
 * (tables 29-1 to 29-6); bit 10 is not free (user-mode execute under
 * mode-based execute control). ept_set_write() sets it on a leaf whose W it
 * withheld, so only such leaves ever get W back.
 */
#define EPT_SW_WRPROT BIT(11)
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

/*
 * Dirty logging (SDM vol. 3C 29.3.5 accessed and dirty flags for EPT).
 * The CPU sets A and D in leaves concurrently with these calls (when the EPTP
 * enables A/D), so every change of a live leaf here is one locked
 * compare-exchange: a flag the CPU sets meanwhile is never lost. None of them
 * flushes: the caller issues INVEPT (single-context) afterwards and before it
 * relies on the result (SDM 29.4.3.1; one exception below).
 */

/*
 * Split every 2 MiB leaf intersecting [gpa, gpa+size) into a page table of
 * 512 4 KiB leaves with the same host pages, perms, memtype, A/D and
 * software bits (D copied to all 512: which of them were written is not
 * known). Returns how many leaves were split (0 when none), or -EINVAL /
 * -ERANGE as for ept_map, or -ENOMEM: the leaves split before it stay
 * split, the failing one stays a 2 MiB leaf; every translation is as before
 * either way, and a retry continues.
 */
int ept_split_range(struct ept *e, uint64_t gpa, uint64_t size);

/*
 * Write-protection for dirty logging. writable = false: clear W on every
 * present leaf in [gpa, gpa+size) that has it, and mark it EPT_SW_WRPROT.
 * writable = true: give W back only to leaves marked EPT_SW_WRPROT (a
 * mapping made read-only by ept_map never becomes writable). Unmapped holes
 * are skipped. A 2 MiB leaf the range covers entirely changes as one leaf; one
 * it covers only partly is split first (so -ENOMEM is possible, with the
 * leaves before it already changed: repeat the call). Returns the number of
 * leaves changed, -EINVAL / -ERANGE as for ept_map (also -ERANGE above
 * INT_MAX pages), or -ENOMEM.
 *
 * For a write EPT violation on gpa: ept_set_write(e, gpa & ~0xfff, 4096,
 * true) == 1 means a logging fault (mark the page dirty and resume); 0 means
 * the page is not logically writable. Relaxing permissions after an EPT
 * violation needs no INVEPT: the violation invalidated the mappings used for
 * that address (SDM 29.4.3.1). Clearing W does need INVEPT.
 *
 * With EPT A/D enabled the CPU treats its guest-paging-structure accesses as
 * writes (29.3.5): write-protecting guest page tables then makes every walk
 * fault. Use this mechanism without EPTP A/D.
 */
int ept_set_write(struct ept *e, uint64_t gpa, uint64_t size, bool writable);

/*
 * For each present leaf in [gpa, gpa + npages * 4 KiB) with D set: set bit i
 * of bitmap for each of its 4 KiB pages in the range (i = (page - gpa) /
 * 4 KiB; bitmap holds at least ceil(npages / 64) words; bits are only set,
 * with a locked OR, so the dirty_log's own bitmap may be passed) and clear D
 * with a compare-exchange. Returns how many pages were reported dirty, 0 for
 * npages 0, -EINVAL for an unaligned gpa, -ERANGE beyond EPT_GPA_LIMIT or
 * above INT_MAX pages.
 *
 * A 2 MiB leaf with D set reports all its pages in the range (512 when the
 * range covers it); its D is cleared only when the range covers the whole
 * leaf, so a partly covered one is reported again next time (never lost).
 * Split first (ept_split_range) for 4 KiB precision. D is not set by writes
 * that fault, and only D is cleared (A is left alone). The caller issues
 * INVEPT after the harvest and before copying the pages reported, or cached
 * "already dirty" translations would let later writes go unlogged.
 */
int ept_harvest_dirty(struct ept *e, uint64_t gpa, uint64_t npages, uint64_t *bitmap);

/* EPTP value for VMCS_EPT_POINTER: WB, 4-level, optional A/D. */
uint64_t ept_eptp(const struct ept *e, bool ad);

#endif
