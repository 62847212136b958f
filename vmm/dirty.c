/* SPDX-License-Identifier: MIT */
/* Per-VM dirty log: choice of mechanism, marks, PML drain, fetch-and-clear. */
#include "vmm/dirty.h"
#include "arch/vmx_defs.h"
#include "kernel/errno.h"
#include "kernel/string.h"

/* A VMX capability MSR's allowed-1 settings are its bits 63:32 (SDM A.3.3). */
#define ALLOWED1(ctl) ((uint64_t)(ctl) << 32)

/* The 16-bit PML index field, and its value after entry 0 was logged (29.3.6). */
#define PML_INDEX_MASK 0xffffu

static const char *const mech_names[] = {
	[DIRTY_NONE] = "none",
	[DIRTY_PML] = "pml",
	[DIRTY_EPT_AD] = "ept-ad",
	[DIRTY_WRPROT] = "write-protect",
};

#define NR_MECHS ((int)(sizeof(mech_names) / sizeof(mech_names[0])))

static bool mech_valid(int mech)
{
	return mech >= DIRTY_NONE && mech < NR_MECHS;
}

static bool mech_supported(int mech, uint64_t procbased_ctls2, uint64_t ept_vpid_cap)
{
	bool pml = procbased_ctls2 & ALLOWED1(SECONDARY_ENABLE_PML);
	bool ad = ept_vpid_cap & EPT_CAP_AD_BITS;

	switch (mech) {
	case DIRTY_PML:
		return pml && ad;
	case DIRTY_EPT_AD:
		return ad;
	default:
		return true;
	}
}

int dirty_choose(uint64_t procbased_ctls2, uint64_t ept_vpid_cap, int limit)
{
	int mech;

	if (!mech_valid(limit))
		return -EINVAL;
	if (!(procbased_ctls2 & ALLOWED1(SECONDARY_ENABLE_EPT)))
		return DIRTY_NONE;
	for (mech = limit == DIRTY_NONE ? DIRTY_PML : limit; mech < DIRTY_WRPROT; mech++)
		if (mech_supported(mech, procbased_ctls2, ept_vpid_cap))
			break;
	return mech;
}

const char *dirty_mech_name(int mech)
{
	return mech_valid(mech) ? mech_names[mech] : "?";
}

int dirty_mech_parse(const char *name)
{
	for (int mech = 0; mech < NR_MECHS; mech++)
		if (!strcmp(name, mech_names[mech]))
			return mech;
	return -EINVAL;
}

int dirty_init(struct dirty_log *d, uint64_t npages, uint64_t *bits, uint64_t nwords, int mech)
{
	uint64_t need = DIRTY_BITMAP_WORDS(npages);

	if (!mech_valid(mech) || npages > DIRTY_MAX_PAGES || nwords < need || (need && !bits))
		return -EINVAL;
	if (need)
		memset(bits, 0, need * sizeof(*bits));
	d->npages = npages;
	d->bits = bits;
	d->mech = mech;
	d->ignored = 0;
	return 0;
}

static void mark_page(struct dirty_log *d, uint64_t page)
{
	uint64_t *word, bit;

	if (page >= d->npages) {
		__atomic_fetch_add(&d->ignored, 1, __ATOMIC_RELAXED);
		return;
	}
	word = &d->bits[page / 64];
	bit = 1ull << (page % 64);
	/* Already set: no locked cycle needed, the next fetch takes it. */
	if (!(__atomic_load_n(word, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
}

void dirty_mark(struct dirty_log *d, uint64_t gpa)
{
	mark_page(d, gpa >> DIRTY_PAGE_SHIFT);
}

unsigned int dirty_pml_drain(struct dirty_log *d, const uint64_t *pml_page, unsigned int index_after)
{
	unsigned int index = index_after & PML_INDEX_MASK, first;

	/* Not in 0-511 (0xffff after logging entry 0): the log is full. */
	first = index < DIRTY_PML_ENTRIES ? index + 1 : 0;
	for (unsigned int i = first; i < DIRTY_PML_ENTRIES; i++)
		mark_page(d, pml_page[i] >> DIRTY_PAGE_SHIFT);
	return DIRTY_PML_ENTRIES - first;
}

/* No popcount instruction assumed, and no libgcc in the kernel. */
static unsigned int popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned int)((x * 0x0101010101010101ull) >> 56);
}

static uint64_t low_mask(unsigned int len)
{
	return len >= 64 ? ~0ull : (1ull << len) - 1;
}

/* Take and clear len (1-64) bits of *word from bit shift on, returned in the low bits. */
static uint64_t take_bits(uint64_t *word, unsigned int shift, unsigned int len)
{
	uint64_t mask = low_mask(len) << shift;

	/* Clear now: a mark after this load is for the next fetch. */
	if (!(__atomic_load_n(word, __ATOMIC_RELAXED) & mask))
		return 0;
	return (__atomic_fetch_and(word, ~mask, __ATOMIC_SEQ_CST) & mask) >> shift;
}

/* Bits [first, first + len) of the log, len 1-64, straddling at most two words. */
static uint64_t take_range(uint64_t *bits, uint64_t first, unsigned int len)
{
	unsigned int shift = first % 64, lo = 64 - shift;
	uint64_t *word = &bits[first / 64], val;

	if (lo > len)
		lo = len;
	val = take_bits(word, shift, lo);
	if (lo < len)
		val |= take_bits(word + 1, 0, len - lo) << lo;
	return val;
}

uint64_t dirty_fetch_clear(struct dirty_log *d, uint64_t first_page, uint64_t npages, uint64_t *out_bitmap)
{
	uint64_t count = 0;

	if (first_page >= d->npages)
		return 0;
	if (npages > d->npages - first_page)
		npages = d->npages - first_page;
	for (uint64_t done = 0; done < npages; done += 64) {
		unsigned int len = npages - done < 64 ? (unsigned int)(npages - done) : 64;
		uint64_t val = take_range(d->bits, first_page + done, len);

		out_bitmap[done / 64] = val;
		count += popcount64(val);
	}
	return count;
}

uint64_t dirty_count(const struct dirty_log *d)
{
	uint64_t count = 0;

	for (uint64_t i = 0; i < DIRTY_BITMAP_WORDS(d->npages); i++)
		count += popcount64(__atomic_load_n(&d->bits[i], __ATOMIC_RELAXED));
	return count;
}
