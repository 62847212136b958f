/* SPDX-License-Identifier: MIT */
/*
 * Per-VM dirty log for live migration: one bit per 4 KiB guest page, fed by
 * whichever of three mechanisms the CPU allows (SDM vol. 3C 29.3.5 EPT A/D
 * flags, 29.3.6 page-modification logging, or EPT write-protection faults).
 * Pure: no VMCS, no allocator (the caller supplies the bitmap).
 *
 * Integration, per mechanism:
 *  - DIRTY_WRPROT: ept_split_range + ept_set_write(false) at start; on a write
 *    EPT violation, ept_set_write(page, 4 KiB, true) == 1 -> dirty_mark.
 *    Each round: ept_set_write(false), INVEPT, then dirty_fetch_clear.
 *  - DIRTY_EPT_AD: EPTP with A/D (ept_eptp(e, true)); each round:
 *    ept_harvest_dirty(e, 0, npages, d->bits), INVEPT, dirty_fetch_clear.
 *  - DIRTY_PML: as EPT_AD, plus the PML page and PML index = 511; drain on
 *    the PML-full exit and, each round, on every vCPU before the harvest.
 *    The CPU logs a page only when it sets D from 0 (29.3.6), so the round's
 *    harvest, which clears D, is what re-arms logging: clear D (harvest into
 *    the log), INVEPT, and only then dirty_fetch_clear, never the other way
 *    round (a write between fetch and clear would be lost).
 */
#ifndef TERN_VMM_DIRTY_H
#define TERN_VMM_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Best first; "lower" mechanisms have higher numbers. */
enum dirty_mech {
	DIRTY_NONE,   /* no EPT: nothing to log with */
	DIRTY_PML,
	DIRTY_EPT_AD,
	DIRTY_WRPROT,
};

/* The page-modification log: 512 GPAs, filled from index 511 down (29.3.6). */
#define DIRTY_PML_ENTRIES     512u
#define DIRTY_PML_INDEX_START 511u /* what to write to VMCS_GUEST_PML_INDEX */

#define DIRTY_PAGE_SHIFT 12
#define DIRTY_MAX_PAGES  (1ull << 36) /* 4 KiB pages below the 48-bit GPA limit */
#define DIRTY_BITMAP_WORDS(npages) (((npages) + 63) / 64)

struct dirty_log {
	uint64_t npages;  /* guest pages [0, npages) are logged */
	uint64_t *bits;   /* DIRTY_BITMAP_WORDS(npages) words, caller's memory */
	int mech;         /* enum dirty_mech, for the integrator and `info` */
	uint64_t ignored; /* marks and PML entries for pages >= npages */
};

/*
 * Best mechanism the capability MSRs allow, not better than limit
 * (DIRTY_NONE: no limit; e.g. DIRTY_WRPROT forces write-protection on a PML
 * CPU; a limit the CPU lacks gives the next one it has).
 *  - procbased_ctls2: IA32_VMX_PROCBASED_CTLS2 (0 if the primary controls
 *    cannot activate secondary ones); only its allowed-1 half, bits 63:32,
 *    counts (SDM A.3.3). Nothing works without "enable EPT" (bit 1): DIRTY_NONE.
 *  - ept_vpid_cap: IA32_VMX_EPT_VPID_CAP; bit 21: EPT A/D flags (A.10).
 * PML needs "enable PML" (bit 17) and A/D (PML logs D updates, 29.3.6);
 * EPT_AD needs A/D; write-protection needs only EPT.
 * Returns an enum dirty_mech, or -EINVAL for a limit that is none of them.
 */
int dirty_choose(uint64_t procbased_ctls2, uint64_t ept_vpid_cap, int limit);

/* "none", "pml", "ept-ad", "write-protect"; "?" for anything else. */
const char *dirty_mech_name(int mech);

/* The mechanism named (as dirty_mech_name spells it), or -EINVAL. */
int dirty_mech_parse(const char *name);

/*
 * Start a log of npages pages over bits (nwords words, zeroed here) using
 * mech. 0, or -EINVAL: bits too short (or NULL with npages > 0), npages
 * above DIRTY_MAX_PAGES, mech not an enum dirty_mech.
 */
int dirty_init(struct dirty_log *d, uint64_t npages, uint64_t *bits, uint64_t nwords, int mech);

/* Mark gpa's page dirty (locked OR). A GPA at or past npages pages only counts in d->ignored. */
void dirty_mark(struct dirty_log *d, uint64_t gpa);

/*
 * Mark the pages a PML buffer logged. index_after is VMCS_GUEST_PML_INDEX
 * as read now (a 16-bit field: only bits 15:0 count). The CPU writes the
 * GPA at the index, then decrements it (29.3.6), so entries index+1 .. 511
 * are valid: 0 for 511 (empty), 511 for index 0. After it logs entry 0 the
 * index wraps to 0xffff: all 512 are valid (the PML-full exit). Any other
 * value >= 512 (never left by the CPU) is treated as full as well: stale
 * entries only over-report. Returns how many entries were taken (out-of-
 * range GPAs included, counted in d->ignored). The caller then writes
 * DIRTY_PML_INDEX_START back.
 */
unsigned int dirty_pml_drain(struct dirty_log *d, const uint64_t *pml_page, unsigned int index_after);

/*
 * Move the bits of pages [first_page, first_page + npages) to out_bitmap
 * (bit 0 = first_page) and clear them, each log word by one locked AND: a
 * dirty_mark running meanwhile lands in this fetch or in the next one, never
 * lost. The range is clamped to the log: out gets
 * DIRTY_BITMAP_WORDS(clamped) words, bits past the clamped end zero, and
 * nothing beyond (npages 0 or first_page >= d->npages: out untouched).
 * Returns how many bits were set.
 */
uint64_t dirty_fetch_clear(struct dirty_log *d, uint64_t first_page, uint64_t npages, uint64_t *out_bitmap);

/* Pages now marked (a snapshot: marks may race with it). */
uint64_t dirty_count(const struct dirty_log *d);

#endif
