/* SPDX-License-Identifier: MIT */
/* Physical page allocator: first-fit searches over a byte-per-frame owner array. */
#include "kernel/pmm.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define PMM_PAGE_MASK (PAGE_SIZE - 1)
#define BYTES_ONES    0x0101010101010101ull
#define BYTES_HIGHS   0x8080808080808080ull

/* Larger alignments could overflow frame arithmetic and can never be met anyway. */
#define PMM_MAX_ALIGN (1ull << (64 - PAGE_SHIFT - 1))

/* Reads eight owner bytes at once; may_alias keeps that within the aliasing rules. */
typedef uint64_t __attribute__((may_alias)) pmm_word;

static const char *const owner_names[PMM_OWNER_COUNT] = {
	[PMM_FREE] = "free",
	[PMM_OWNER_META] = "meta",
	[PMM_OWNER_KERNEL] = "kernel",
	[PMM_OWNER_PAGETABLE] = "pagetable",
	[PMM_OWNER_HEAP] = "heap",
	[PMM_OWNER_STACK] = "stack",
	[PMM_OWNER_PCPU] = "pcpu",
	[PMM_OWNER_VMM] = "vmm",
	[PMM_OWNER_GUEST] = "guest",
};

/* Owners callers may name; META belongs to the allocator alone. */
static bool owner_valid(enum pmm_owner owner)
{
	return (unsigned int)owner > PMM_OWNER_META && (unsigned int)owner < PMM_OWNER_COUNT;
}

static bool word_has_zero(uint64_t w)
{
	return ((w - BYTES_ONES) & ~w & BYTES_HIGHS) != 0;
}

static bool word_aligned(const uint8_t *p)
{
	return ((uintptr_t)p & (sizeof(pmm_word) - 1)) == 0;
}

static uint64_t word_at(const uint8_t *p)
{
	return *(const pmm_word *)p;
}

/* First free frame index in [i, end), or end. */
static uint64_t find_free(const struct pmm *pmm, uint64_t i, uint64_t end)
{
	const uint8_t *o = pmm->owner;

	for (; i < end && !word_aligned(o + i); i++)
		if (o[i] == PMM_FREE)
			return i;
	while (end - i >= sizeof(pmm_word) && !word_has_zero(word_at(o + i)))
		i += sizeof(pmm_word);
	while (i < end && o[i] != PMM_FREE)
		i++;
	return i;
}

/* First frame index in [i, end) that is not free, or end. */
static uint64_t find_used(const struct pmm *pmm, uint64_t i, uint64_t end)
{
	const uint8_t *o = pmm->owner;

	for (; i < end && !word_aligned(o + i); i++)
		if (o[i] != PMM_FREE)
			return i;
	while (end - i >= sizeof(pmm_word) && word_at(o + i) == 0)
		i += sizeof(pmm_word);
	while (i < end && o[i] == PMM_FREE)
		i++;
	return i;
}

/* Whether every frame in [i, i + n) has the given owner byte. */
static bool range_is(const struct pmm *pmm, uint64_t i, uint64_t n, uint8_t value)
{
	for (uint64_t k = i; k < i + n; k++)
		if (pmm->owner[k] != value)
			return false;
	return true;
}

/* Index of the first frame at or after index i whose frame number is a multiple of align. */
static uint64_t align_index(const struct pmm *pmm, uint64_t i, uint64_t align)
{
	uint64_t pfn = pmm->base_pfn + i;

	return ((pfn + align - 1) & ~(align - 1)) - pmm->base_pfn;
}

/* Index of [phys, phys + npages pages) if it lies wholly in the array. */
static bool frame_range(const struct pmm *pmm, uint64_t phys, size_t npages, uint64_t *idx)
{
	uint64_t pfn = phys >> PAGE_SHIFT;

	if ((phys & PMM_PAGE_MASK) || !npages || pfn < pmm->base_pfn)
		return false;
	*idx = pfn - pmm->base_pfn;
	return *idx < pmm->nr_pfns && pmm->nr_pfns - *idx >= npages;
}

/* Usable frames [*first, *end) of a region, none below min_pfn. */
static bool usable_frames(const struct boot_mem_region *r, uint64_t min_pfn,
			  uint64_t *first, uint64_t *end)
{
	uint64_t last = r->length > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->length;

	if (r->type != BOOT_MEM_USABLE)
		return false;
	*first = (r->base >> PAGE_SHIFT) + ((r->base & PMM_PAGE_MASK) != 0);
	if (*first < min_pfn)
		*first = min_pfn;
	*end = last >> PAGE_SHIFT;
	return *end > *first;
}

/* Frame span the owner array must cover; false when there is no usable frame. */
static bool usable_span(const struct boot_mem_region *map, size_t n, uint64_t min_pfn,
			uint64_t *lo, uint64_t *hi)
{
	uint64_t first, end;

	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (!usable_frames(&map[i], min_pfn, &first, &end))
			continue;
		*lo = first < *lo ? first : *lo;
		*hi = end > *hi ? end : *hi;
	}
	return *hi > *lo;
}

/* First usable frame run of at least pages frames, in map order; 0 if none. */
static uint64_t find_meta(const struct boot_mem_region *map, size_t n, uint64_t min_pfn,
			  uint64_t pages)
{
	uint64_t first, end;

	for (size_t i = 0; i < n; i++)
		if (usable_frames(&map[i], min_pfn, &first, &end) && end - first >= pages)
			return first;
	return 0;
}

/* Mark usable frames free, then count them: overlapping entries count once. */
static uint64_t mark_usable(struct pmm *pmm, const struct boot_mem_region *map, size_t n,
			    uint64_t min_pfn)
{
	uint64_t first, end, total = 0;

	for (size_t i = 0; i < n; i++)
		if (usable_frames(&map[i], min_pfn, &first, &end))
			memset(pmm->owner + (first - pmm->base_pfn), PMM_FREE, end - first);
	for (uint64_t i = 0; i < pmm->nr_pfns; i++)
		total += pmm->owner[i] == PMM_FREE;
	return total;
}

static void take(struct pmm *pmm, uint64_t idx, uint64_t npages, enum pmm_owner owner)
{
	memset(pmm->owner + idx, owner, npages);
	pmm->stats.free_pages -= npages;
	pmm->stats.by_owner[owner] += npages;
}

/* Frame 0 stays reserved too, so PMM_NONE can never be a real allocation. */
int pmm_init(struct pmm *pmm, const struct boot_mem_region *map, size_t n,
	     uint64_t low_limit, void *(*phys_to_virt)(uint64_t phys))
{
	uint64_t min_pfn = (low_limit >> PAGE_SHIFT) + ((low_limit & PMM_PAGE_MASK) != 0);
	uint64_t lo, hi, meta_pages, meta_pfn;

	if (!pmm || (n && !map) || !phys_to_virt)
		return -EINVAL;
	memset(pmm, 0, sizeof(*pmm));
	if (min_pfn == 0)
		min_pfn = 1;
	if (!usable_span(map, n, min_pfn, &lo, &hi))
		return -ENOMEM;
	meta_pages = (hi - lo + PAGE_SIZE - 1) / PAGE_SIZE;
	meta_pfn = find_meta(map, n, min_pfn, meta_pages);
	if (!meta_pfn)
		return -ENOMEM;
	pmm->owner = phys_to_virt(meta_pfn << PAGE_SHIFT);
	if (!pmm->owner)
		return -EFAULT;
	pmm->base_pfn = lo;
	pmm->nr_pfns = hi - lo;
	memset(pmm->owner, PMM_RESERVED, pmm->nr_pfns);
	pmm->stats.total_pages = mark_usable(pmm, map, n, min_pfn);
	pmm->stats.free_pages = pmm->stats.total_pages;
	take(pmm, meta_pfn - lo, meta_pages, PMM_OWNER_META);
	return 0;
}

/* Single pages: next fit from the hint, wrapping once. */
static uint64_t find_single(const struct pmm *pmm, uint64_t end)
{
	uint64_t start = pmm->hint < end ? pmm->hint : end;
	uint64_t i = find_free(pmm, start, end);

	if (i < end)
		return i;
	i = find_free(pmm, 0, start);
	return i < start ? i : end;
}

/* First fit for an aligned run of npages free frames in [start, end); end if none. */
static uint64_t find_run(const struct pmm *pmm, uint64_t start, uint64_t npages, uint64_t align,
			 uint64_t end)
{
	uint64_t i = start;

	for (;;) {
		uint64_t used;

		i = align_index(pmm, find_free(pmm, i, end), align);
		if (i >= end || end - i < npages)
			return end;
		used = find_used(pmm, i, i + npages);
		if (used == i + npages)
			return i;
		i = used + 1;
	}
}

/* Array index limit for frames lying wholly below max_phys. */
static uint64_t search_end(const struct pmm *pmm, uint64_t max_phys)
{
	uint64_t limit = max_phys >> PAGE_SHIFT;

	if (!max_phys)
		return pmm->nr_pfns;
	if (limit <= pmm->base_pfn)
		return 0;
	return limit - pmm->base_pfn < pmm->nr_pfns ? limit - pmm->base_pfn : pmm->nr_pfns;
}

/*
 * Guest RAM comes from above 4 GiB first, where the machine has memory
 * there: memory below 4 GiB is what 32-bit-limited users need (the AP
 * trampoline, boot structures, devices that cannot address more), and a
 * hypervisor that only ever used low memory would never show it can reach
 * the rest. Hypervisor structures keep the low-first policy.
 */
static uint64_t find_guest(const struct pmm *pmm, uint64_t npages, uint64_t align, uint64_t end)
{
	uint64_t high = search_end(pmm, PMM_HIGH_BASE), low_end = high < end ? high : end, i;

	if (high < end) {
		i = npages == 1 && align == 1 ? find_free(pmm, high, end)
					       : find_run(pmm, high, npages, align, end);
		if (i < end)
			return i;
	}
	i = find_run(pmm, 0, npages, align, low_end);
	return i < low_end ? i : end;
}

uint64_t pmm_alloc(struct pmm *pmm, size_t npages, size_t align_pages,
		   uint64_t max_phys, enum pmm_owner owner)
{
	bool single = npages == 1 && align_pages == 1;
	uint64_t end, idx;

	if (!owner_valid(owner) || !npages || !align_pages ||
	    (align_pages & (align_pages - 1)) || align_pages > PMM_MAX_ALIGN)
		return PMM_NONE;
	end = search_end(pmm, max_phys);
	if (owner == PMM_OWNER_GUEST)
		idx = find_guest(pmm, npages, align_pages, end);
	else
		idx = single ? find_single(pmm, end) : find_run(pmm, 0, npages, align_pages, end);
	if (idx >= end)
		return PMM_NONE;
	take(pmm, idx, npages, owner);
	if (single && owner != PMM_OWNER_GUEST)
		pmm->hint = idx + 1;
	return (pmm->base_pfn + idx) << PAGE_SHIFT;
}

int pmm_free(struct pmm *pmm, uint64_t phys, size_t npages, enum pmm_owner owner)
{
	uint64_t idx;

	if (!owner_valid(owner) || !frame_range(pmm, phys, npages, &idx) ||
	    !range_is(pmm, idx, npages, owner))
		return -EINVAL;
	memset(pmm->owner + idx, PMM_FREE, npages);
	pmm->stats.free_pages += npages;
	pmm->stats.by_owner[owner] -= npages;
	/* Pull the hint back so single pages keep filling low memory first. */
	if (idx < pmm->hint)
		pmm->hint = idx;
	return 0;
}

int pmm_claim(struct pmm *pmm, uint64_t phys, size_t npages, enum pmm_owner owner)
{
	bool busy = false;
	uint64_t idx;

	if (!owner_valid(owner) || !frame_range(pmm, phys, npages, &idx))
		return -EINVAL;
	for (uint64_t k = idx; k < idx + npages; k++) {
		if (pmm->owner[k] == PMM_RESERVED)
			return -EINVAL;
		busy |= pmm->owner[k] != PMM_FREE;
	}
	if (busy)
		return -EBUSY;
	take(pmm, idx, npages, owner);
	return 0;
}

enum pmm_owner pmm_owner_of(const struct pmm *pmm, uint64_t phys)
{
	uint64_t pfn = phys >> PAGE_SHIFT;

	if (pfn < pmm->base_pfn || pfn - pmm->base_pfn >= pmm->nr_pfns)
		return PMM_RESERVED;
	return (enum pmm_owner)pmm->owner[pfn - pmm->base_pfn];
}

void pmm_get_stats(const struct pmm *pmm, struct pmm_stats *out)
{
	*out = pmm->stats;
}

const char *pmm_owner_name(enum pmm_owner owner)
{
	if (owner == PMM_RESERVED)
		return "reserved";
	if ((unsigned int)owner < PMM_OWNER_COUNT)
		return owner_names[owner];
	return "unknown";
}
