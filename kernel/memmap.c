/* SPDX-License-Identifier: MIT */
/* Boot memory map normalisation and carving, in place and without allocating. */
#include <stdbool.h>

#include "kernel/memmap.h"
#include "kernel/errno.h"

#define MEMMAP_PAGE_MASK 0xfffull

/*
 * memmap_set_type tags its region in the otherwise unused reserved field so
 * that, while the map is resolved, it outranks every region from firmware.
 * The tag never leaves this file: inputs are cleared and outputs untagged.
 */
#define MEMMAP_OVERRIDE 1u
#define RANK_OVERRIDE   ((unsigned int)BOOT_MEM_TYPE_MAX)

/* A region as the overlap rules see it; end is exclusive. */
struct span {
	uint64_t base;
	uint64_t end;
	unsigned int rank;
};

static const char *const type_names[BOOT_MEM_TYPE_MAX] = {
	[BOOT_MEM_USABLE] = "usable",
	[BOOT_MEM_RESERVED] = "reserved",
	[BOOT_MEM_ACPI_RECLAIM] = "acpi-reclaim",
	[BOOT_MEM_ACPI_NVS] = "acpi-nvs",
	[BOOT_MEM_UNUSABLE] = "unusable",
	[BOOT_MEM_KERNEL] = "kernel",
	[BOOT_MEM_MODULE] = "module",
	[BOOT_MEM_BOOT_DATA] = "boot-data",
	[BOOT_MEM_MMIO] = "mmio",
	[BOOT_MEM_PERSISTENT] = "persistent",
};

static bool type_valid(uint32_t type)
{
	return type >= BOOT_MEM_USABLE && type < BOOT_MEM_TYPE_MAX;
}

/* Firmware types we do not know are treated as reserved: never hand them out. */
static uint32_t sane_type(uint32_t type)
{
	return type_valid(type) ? type : BOOT_MEM_RESERVED;
}

/*
 * Clipped so base + length cannot wrap: the last byte of the address space
 * is never described, which costs nothing since no RAM lives there.
 */
static uint64_t clip_end(uint64_t base, uint64_t length)
{
	return length > UINT64_MAX - base ? UINT64_MAX : base + length;
}

static uint64_t region_end(const struct boot_mem_region *r)
{
	return clip_end(r->base, r->length);
}

/* Anything beats USABLE; among the rest the higher type wins. */
static unsigned int type_rank(uint32_t type)
{
	return type == BOOT_MEM_USABLE ? 0 : type;
}

static unsigned int region_rank(const struct boot_mem_region *r)
{
	return r->reserved == MEMMAP_OVERRIDE ? RANK_OVERRIDE : type_rank(r->type);
}

static bool same_class(const struct boot_mem_region *a, const struct boot_mem_region *b)
{
	return a->type == b->type && a->reserved == b->reserved;
}

/* Limit on a result count: it must fit the array and the int we return. */
static bool fits(size_t count, size_t cap)
{
	return count <= cap && count <= (size_t)__INT_MAX__;
}

/*
 * --- Capacity check ---------------------------------------------------------
 * Works on the caller's map as given (plus an optional override region) and
 * writes nothing, so -E2BIG can leave the map exactly as it was.
 */

/* Entry k (k == n: the extra region) as normalisation will see it; false if empty. */
static bool raw_span(const struct boot_mem_region *map, size_t n,
		     const struct boot_mem_region *extra, size_t k, struct span *s)
{
	const struct boot_mem_region *r = k < n ? &map[k] : extra;

	s->base = r->base;
	s->end = region_end(r);
	s->rank = k < n ? type_rank(sane_type(r->type)) : RANK_OVERRIDE;
	return s->end > s->base;
}

/* 1 + rank of the region winning just after p (or just before it); 0 if uncovered. */
static unsigned int raw_winner(const struct boot_mem_region *map, size_t n,
			       const struct boot_mem_region *extra, uint64_t p, bool before)
{
	size_t total = n + (extra != NULL);
	unsigned int best = 0;
	struct span s;

	for (size_t k = 0; k < total; k++) {
		if (!raw_span(map, n, extra, k, &s))
			continue;
		if (before ? (s.base < p && p <= s.end) : (s.base <= p && p < s.end))
			best = s.rank + 1 > best ? s.rank + 1 : best;
	}
	return best;
}

/* Boundary point k: base of entry k/2 when k is even, its end when odd. */
static bool raw_point(const struct boot_mem_region *map, size_t n,
		      const struct boot_mem_region *extra, size_t k, uint64_t *p)
{
	struct span s;

	if (!raw_span(map, n, extra, k / 2, &s))
		return false;
	*p = k % 2 ? s.end : s.base;
	return true;
}

/*
 * Number of maximal runs of one winning rank: exactly the number of regions
 * normalisation produces before usable regions are trimmed to pages, and an
 * upper bound on the entries it needs at any moment (see resolve_overlaps).
 */
static size_t count_runs(const struct boot_mem_region *map, size_t n,
			 const struct boot_mem_region *extra)
{
	size_t points = 2 * (n + (extra != NULL)), runs = 0;
	uint64_t p, q;

	for (size_t k = 0; k < points; k++) {
		bool seen = false;
		unsigned int after;

		if (!raw_point(map, n, extra, k, &p))
			continue;
		for (size_t j = 0; j < k && !seen; j++)
			seen = raw_point(map, n, extra, j, &q) && q == p;
		if (seen)
			continue;
		after = raw_winner(map, n, extra, p, false);
		if (after && after != raw_winner(map, n, extra, p, true))
			runs++;
	}
	return runs;
}

/* --- In-place resolution ---------------------------------------------------- */

static void remove_at(struct boot_mem_region *map, size_t *n, size_t i)
{
	for (size_t j = i + 1; j < *n; j++)
		map[j - 1] = map[j];
	(*n)--;
}

/* Move map[i] right past regions with a lower base (its base just grew). */
static void sink(struct boot_mem_region *map, size_t n, size_t i)
{
	struct boot_mem_region r = map[i];

	for (; i + 1 < n && map[i + 1].base < r.base; i++)
		map[i] = map[i + 1];
	map[i] = r;
}

/* Move map[i] left past regions with a higher base, but not below lo. */
static void rise(struct boot_mem_region *map, size_t lo, size_t i)
{
	struct boot_mem_region r = map[i];

	for (; i > lo && map[i - 1].base > r.base; i--)
		map[i] = map[i - 1];
	map[i] = r;
}

/* Clip, replace unknown types, clear the tag field, drop empty regions. */
static size_t sanitize(struct boot_mem_region *map, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		struct boot_mem_region r = map[i];

		r.length = region_end(&r) - r.base;
		r.type = sane_type(r.type);
		r.reserved = 0;
		if (r.length)
			map[out++] = r;
	}
	return out;
}

/* Fold overlapping or touching regions of one class into their union. */
static void merge_same_class(struct boot_mem_region *map, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		uint64_t end = region_end(&map[i]);

		for (size_t j = i + 1; j < *n && map[j].base <= end;) {
			if (!same_class(&map[i], &map[j])) {
				j++;
				continue;
			}
			if (region_end(&map[j]) > end)
				end = region_end(&map[j]);
			map[i].length = end - map[i].base;
			remove_at(map, n, j);
		}
	}
}

/* First point of [from, to) no region ranked above rank covers; to if none. */
static uint64_t first_win(const struct boot_mem_region *map, size_t n, unsigned int rank,
			  uint64_t from, uint64_t to)
{
	uint64_t q = from;
	bool moved = true;

	while (moved && q < to) {
		moved = false;
		for (size_t k = 0; k < n; k++) {
			const struct boot_mem_region *r = &map[k];

			if (region_rank(r) > rank && r->base <= q && q < region_end(r)) {
				q = region_end(r);
				moved = true;
			}
		}
	}
	return q < to ? q : to;
}

/* Regions wholly covered by higher-ranked ones describe nothing. */
static void drop_shadowed(struct boot_mem_region *map, size_t *n)
{
	for (size_t i = 0; i < *n;) {
		uint64_t end = region_end(&map[i]);

		if (first_win(map, *n, region_rank(&map[i]), map[i].base, end) == end)
			remove_at(map, n, i);
		else
			i++;
	}
}

/*
 * map[i + 1] outranks map[i] and starts inside it: keep the head of map[i]
 * before it and a tail from the first point after it where map[i] wins
 * again. With no head, the tail reuses map[i]'s entry; only a real split
 * takes a new one.
 */
static int yield_to_next(struct boot_mem_region *map, size_t *n, size_t cap, size_t i)
{
	struct boot_mem_region *a = &map[i], *b = &map[i + 1];
	uint64_t a_end = region_end(a);
	uint64_t tail = first_win(map, *n, region_rank(a), region_end(b), a_end);

	if (b->base == a->base) {
		if (tail == a_end) {
			remove_at(map, n, i);
			return 0;
		}
		a->base = tail;
		a->length = a_end - tail;
		sink(map, *n, i);
		return 0;
	}
	if (tail < a_end && *n >= cap)
		return -E2BIG;
	a->length = b->base - a->base;
	if (tail == a_end)
		return 0;
	map[*n] = *a;
	map[*n].base = tail;
	map[*n].length = a_end - tail;
	(*n)++;
	rise(map, i + 2, *n - 1);
	return 0;
}

/*
 * Sweep the sorted map making neighbours disjoint. After merge_same_class
 * and drop_shadowed every region holds a point it wins and regions of one
 * class never touch; each step keeps both true, so every entry stands for a
 * distinct final run and the count never exceeds count_runs(). The -E2BIG
 * below is therefore only a guard; the map would still be valid.
 */
static int resolve_overlaps(struct boot_mem_region *map, size_t *n, size_t cap)
{
	size_t i = 0;

	while (i + 1 < *n) {
		struct boot_mem_region *a = &map[i], *b = &map[i + 1];
		uint64_t a_end = region_end(a), b_end = region_end(b);
		int rc;

		if (b->base >= a_end) {
			i++;
		} else if (same_class(a, b)) {
			if (b_end > a_end)
				a->length = b_end - a->base;
			remove_at(map, n, i + 1);
		} else if (region_rank(a) > region_rank(b)) {
			if (b_end <= a_end) {
				remove_at(map, n, i + 1);
			} else {
				b->base = a_end;
				b->length = b_end - a_end;
				sink(map, *n, i + 1);
			}
		} else {
			rc = yield_to_next(map, n, cap, i);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Disjoint and sorted by now: join neighbours of one type that touch. */
static size_t merge_adjacent(struct boot_mem_region *map, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		struct boot_mem_region *prev = out ? &map[out - 1] : NULL;

		if (prev && prev->type == map[i].type && region_end(prev) == map[i].base)
			prev->length += map[i].length;
		else
			map[out++] = map[i];
	}
	return out;
}

/* Only whole pages can be handed out: trim USABLE regions inward. */
static size_t align_usable(struct boot_mem_region *map, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		struct boot_mem_region r = map[i];
		uint64_t end = region_end(&r);

		if (r.type == BOOT_MEM_USABLE) {
			if (r.base > UINT64_MAX - MEMMAP_PAGE_MASK)
				continue;
			r.base = (r.base + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK;
			end &= ~MEMMAP_PAGE_MASK;
			if (end <= r.base)
				continue;
			r.length = end - r.base;
		}
		map[out++] = r;
	}
	return out;
}

/* Normalise a sanitised map (count_runs already checked against cap). */
static int normalize_sane(struct boot_mem_region *map, size_t n, size_t cap)
{
	int rc;

	for (size_t i = 1; i < n; i++)
		rise(map, 0, i);
	merge_same_class(map, &n);
	drop_shadowed(map, &n);
	rc = resolve_overlaps(map, &n, cap);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		map[i].reserved = 0;
	n = merge_adjacent(map, n);
	return (int)align_usable(map, n);
}

int memmap_normalize(struct boot_mem_region *map, size_t n, size_t cap)
{
	if (n > cap || (n && !map))
		return -EINVAL;
	if (!fits(count_runs(map, n, NULL), cap))
		return -E2BIG;
	return normalize_sane(map, sanitize(map, n), cap);
}

static size_t count_live(const struct boot_mem_region *map, size_t n)
{
	size_t live = 0;

	for (size_t i = 0; i < n; i++)
		live += region_end(&map[i]) > map[i].base;
	return live;
}

/* Whether every point of mark's range already has mark's type, so marking changes nothing. */
static bool already_typed(const struct boot_mem_region *map, size_t n,
			  const struct boot_mem_region *mark)
{
	unsigned int want = type_rank(mark->type) + 1;
	uint64_t end = region_end(mark), p;

	if (raw_winner(map, n, NULL, mark->base, false) != want)
		return false;
	for (size_t k = 0; k < 2 * n; k++)
		if (raw_point(map, n, NULL, k, &p) && p > mark->base && p < end &&
		    raw_winner(map, n, NULL, p, false) != want)
			return false;
	return true;
}

/*
 * The marked range replaces whatever was there, before usable regions are
 * trimmed to pages. The new entry needs a free slot while the map is
 * resolved, so a full array is refused unless the mark changes nothing.
 */
int memmap_set_type(struct boot_mem_region *map, size_t n, size_t cap,
		    uint64_t base, uint64_t len, uint32_t type)
{
	struct boot_mem_region mark = {
		.base = base, .length = clip_end(base, len) - base,
		.type = type, .reserved = MEMMAP_OVERRIDE,
	};

	bool full;

	if (n > cap || (n && !map) || !type_valid(type))
		return -EINVAL;
	full = count_live(map, n) == cap;
	if (!mark.length || (full && already_typed(map, n, &mark)))
		return memmap_normalize(map, n, cap);
	if (full || !fits(count_runs(map, n, &mark), cap))
		return -E2BIG;
	n = sanitize(map, n);
	map[n] = mark;
	return normalize_sane(map, n + 1, cap);
}

uint64_t memmap_bytes(const struct boot_mem_region *map, size_t n, uint32_t type)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		if (map[i].type == type)
			total += region_end(&map[i]) - map[i].base;
	return total;
}

/* Reserved, MMIO and unknown types are not RAM; bad and persistent RAM still are. */
uint64_t memmap_ram_end(const struct boot_mem_region *map, size_t n)
{
	uint64_t end = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t t = map[i].type;

		if (type_valid(t) && t != BOOT_MEM_RESERVED && t != BOOT_MEM_MMIO &&
		    region_end(&map[i]) > end)
			end = region_end(&map[i]);
	}
	return end;
}

const char *memmap_type_name(uint32_t type)
{
	return type_valid(type) ? type_names[type] : "unknown";
}
