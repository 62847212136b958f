/* SPDX-License-Identifier: MIT */
/* EPT page-table builder: 4-level tables, 2 MiB and 4 KiB leaves (SDM vol. 3C 29.3). */
#include "arch/ept.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define EPT_ENTRIES    512u
#define EPT_LEVEL_PT   0 /* entries map 4 KiB pages */
#define EPT_LEVEL_PD   1 /* entries map 2 MiB pages or point to page tables */
#define EPT_LEVEL_PML4 3

/* Memory types a leaf may carry; the reserved ones cause EPT misconfigurations. */
#define EPT_MT_VALID (BIT(EPT_MT_UC) | BIT(EPT_MT_WC) | BIT(EPT_MT_WT) | \
		      BIT(EPT_MT_WP) | BIT(EPT_MT_WB))

/* Bytes one entry at this level covers: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static uint64_t level_span(int level)
{
	return EPT_PAGE_4K << (9 * level);
}

static unsigned int slot_index(uint64_t gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1);
}

/* Bits 2:0 all clear is what makes an entry not present (SDM 29.3.2). */
static bool present(uint64_t ent)
{
	return ent & EPT_RWX;
}

static bool is_leaf(uint64_t ent, int level)
{
	return level == EPT_LEVEL_PT || (ent & EPT_LARGE);
}

static uint64_t *table_at(const struct ept *e, uint64_t phys)
{
	return e->ops.to_virt(e->ops.ctx, phys);
}

/* One 64-bit store: the CPU may be walking these tables while a guest runs. */
static void set_entry(uint64_t *slot, uint64_t val)
{
	*(volatile uint64_t *)slot = val;
}

/* Zeroed again here: a stale entry in a new table would map arbitrary host memory. */
static uint64_t *new_table(struct ept *e, uint64_t *phys)
{
	uint64_t *t;

	*phys = e->ops.alloc_table(e->ops.ctx);
	if (!*phys)
		return NULL;
	e->nr_tables++;
	t = table_at(e, *phys);
	memset(t, 0, EPT_PAGE_4K);
	return t;
}

static void free_table(struct ept *e, uint64_t phys)
{
	e->ops.free_table(e->ops.ctx, phys);
	e->nr_tables--;
}

/* Free a table and every table below it; leaves are guest memory, never freed. */
static void free_tree(struct ept *e, uint64_t phys, int level)
{
	const uint64_t *t = table_at(e, phys);

	for (unsigned int i = 0; level > EPT_LEVEL_PT && i < EPT_ENTRIES; i++)
		if (present(t[i]) && !is_leaf(t[i], level))
			free_tree(e, t[i] & EPT_ADDR_MASK, level - 1);
	free_table(e, phys);
}

static bool table_empty(const uint64_t *t)
{
	for (unsigned int i = 0; i < EPT_ENTRIES; i++)
		if (present(t[i]))
			return false;
	return true;
}

/* A page table equivalent to a 2 MiB leaf: same hpa offsets, perms, memtype, A/D. */
static void split_2m(uint64_t *pt, uint64_t leaf)
{
	uint64_t base = leaf & EPT_ADDR_MASK & ~(EPT_PAGE_2M - 1);
	uint64_t flags = leaf & ~(EPT_ADDR_MASK | EPT_LARGE);

	for (unsigned int i = 0; i < EPT_ENTRIES; i++)
		pt[i] = (base + i * EPT_PAGE_4K) | flags;
}

/*
 * The table below *slot: the existing one, a split of a 2 MiB leaf, or (only
 * when create) a new empty one; *child stays NULL for an absent entry
 * otherwise. The new table is complete before it is linked, so a concurrent
 * hardware walk sees either the old or the new translation.
 */
static int child_table(struct ept *e, uint64_t *slot, bool create, uint64_t **child)
{
	uint64_t ent = *slot, phys;

	*child = NULL;
	if (present(ent) && !(ent & EPT_LARGE)) {
		*child = table_at(e, ent & EPT_ADDR_MASK);
		return 0;
	}
	if (!present(ent) && !create)
		return 0;
	*child = new_table(e, &phys);
	if (!*child)
		return -ENOMEM;
	/*
	 * Non-leaf entries grant everything: the leaf alone decides access.
	 * Linked by compare-exchange: the CPU may set A/D in the old leaf
	 * meanwhile (29.3.5), and the split must carry them.
	 */
	do {
		if (present(ent))
			split_2m(*child, ent);
	} while (!__atomic_compare_exchange_n(slot, &ent, phys | EPT_RWX, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	return 0;
}

/* Unlink and free the table below *slot once nothing in it is present. */
static void prune_child(struct ept *e, uint64_t *slot, const uint64_t *child)
{
	uint64_t phys = *slot & EPT_ADDR_MASK;

	if (!table_empty(child))
		return;
	set_entry(slot, 0);
	free_table(e, phys);
}

struct ept_req {
	uint64_t delta; /* hpa - gpa, modulo 2^64 */
	uint64_t flags; /* perms and memory type of every leaf */
};

static int map_level(struct ept *e, uint64_t *t, int level, uint64_t gpa, uint64_t end,
		     const struct ept_req *rq);

/* A 2 MiB leaf replaces whatever the slot held; a page table under it goes. */
static void map_2m(struct ept *e, uint64_t *slot, uint64_t hpa, const struct ept_req *rq)
{
	uint64_t old = *slot;

	set_entry(slot, hpa | rq->flags | EPT_LARGE);
	if (present(old) && !(old & EPT_LARGE))
		free_tree(e, old & EPT_ADDR_MASK, EPT_LEVEL_PT);
}

static int map_child(struct ept *e, uint64_t *slot, int level, uint64_t gpa, uint64_t end,
		     const struct ept_req *rq)
{
	bool fresh = !present(*slot);
	uint64_t *child;
	int ret;

	ret = child_table(e, slot, true, &child);
	if (ret)
		return ret;
	ret = map_level(e, child, level - 1, gpa, end, rq);
	/* A table created for a mapping that then failed must not linger empty. */
	if (ret && fresh)
		prune_child(e, slot, child);
	return ret;
}

/* Map [gpa, end), which lies inside the span of table t at this level. */
static int map_level(struct ept *e, uint64_t *t, int level, uint64_t gpa, uint64_t end,
		     const struct ept_req *rq)
{
	uint64_t span = level_span(level);

	while (gpa < end) {
		uint64_t next = (gpa | (span - 1)) + 1;
		uint64_t hpa = gpa + rq->delta;
		uint64_t *slot = &t[slot_index(gpa, level)];
		int ret;

		if (next > end)
			next = end;
		if (level == EPT_LEVEL_PT) {
			set_entry(slot, hpa | rq->flags);
		} else if (level == EPT_LEVEL_PD && next - gpa == EPT_PAGE_2M &&
			   !(hpa & (EPT_PAGE_2M - 1))) {
			map_2m(e, slot, hpa, rq);
		} else {
			ret = map_child(e, slot, level, gpa, next, rq);
			if (ret)
				return ret;
		}
		gpa = next;
	}
	return 0;
}

static int unmap_level(struct ept *e, uint64_t *t, int level, uint64_t gpa, uint64_t end);

static int unmap_child(struct ept *e, uint64_t *slot, int level, uint64_t gpa, uint64_t end)
{
	uint64_t *child;
	int ret;

	ret = child_table(e, slot, false, &child);
	if (ret)
		return ret;
	ret = unmap_level(e, child, level - 1, gpa, end);
	prune_child(e, slot, child);
	return ret;
}

/* Unmap [gpa, end), which lies inside the span of table t at this level. */
static int unmap_level(struct ept *e, uint64_t *t, int level, uint64_t gpa, uint64_t end)
{
	uint64_t span = level_span(level);

	while (gpa < end) {
		uint64_t next = (gpa | (span - 1)) + 1;
		uint64_t *slot = &t[slot_index(gpa, level)];
		int ret;

		if (next > end)
			next = end;
		if (!present(*slot)) {
			/* nothing mapped here */
		} else if (is_leaf(*slot, level) && next - gpa == span) {
			set_entry(slot, 0);
		} else {
			/* A 2 MiB leaf only partly covered is split first. */
			ret = unmap_child(e, slot, level, gpa, next);
			if (ret)
				return ret;
		}
		gpa = next;
	}
	return 0;
}

static int check_range(uint64_t gpa, uint64_t size)
{
	if (!size || ((gpa | size) & (EPT_PAGE_4K - 1)))
		return -EINVAL;
	if (gpa + size < gpa || gpa + size > EPT_GPA_LIMIT)
		return -ERANGE;
	return 0;
}

/* W without R is a misconfiguration (SDM 29.3.3.1); X alone needs the exec-only capability. */
static int check_leaf(uint64_t hpa, uint64_t size, uint32_t perms, uint32_t memtype)
{
	if (hpa & (EPT_PAGE_4K - 1))
		return -EINVAL;
	if (!perms || (perms & ~EPT_RWX) || (perms & (EPT_R | EPT_W)) == EPT_W)
		return -EINVAL;
	if (memtype > EPT_MT_WB || !(EPT_MT_VALID & BIT(memtype)))
		return -EINVAL;
	if (hpa + size < hpa || hpa + size > EPT_HPA_LIMIT)
		return -ERANGE;
	return 0;
}

int ept_init(struct ept *e, const struct ept_ops *ops)
{
	e->ops = *ops;
	e->nr_tables = 0;
	e->pml4 = 0;
	if (!new_table(e, &e->pml4))
		return -ENOMEM;
	return 0;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms, uint32_t memtype)
{
	struct ept_req rq;
	int ret;

	ret = check_range(gpa, size);
	if (!ret)
		ret = check_leaf(hpa, size, perms, memtype);
	if (ret)
		return ret;
	rq.delta = hpa - gpa;
	rq.flags = perms | ((uint64_t)memtype << EPT_MT_SHIFT);
	return map_level(e, table_at(e, e->pml4), EPT_LEVEL_PML4, gpa, gpa + size, &rq);
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size)
{
	int ret = check_range(gpa, size);

	if (ret)
		return ret;
	return unmap_level(e, table_at(e, e->pml4), EPT_LEVEL_PML4, gpa, gpa + size);
}

int ept_lookup(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint32_t *perms, uint64_t *page_size)
{
	const uint64_t *t;
	uint64_t ent, span;
	int level;

	if (gpa >= EPT_GPA_LIMIT || !e->pml4)
		return -ENOENT;
	t = table_at(e, e->pml4);
	for (level = EPT_LEVEL_PML4;; level--) {
		ent = t[slot_index(gpa, level)];
		if (!present(ent))
			return -ENOENT;
		if (is_leaf(ent, level))
			break;
		t = table_at(e, ent & EPT_ADDR_MASK);
	}
	span = level_span(level);
	if (hpa)
		*hpa = (ent & EPT_ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
	if (perms)
		*perms = ent & EPT_RWX;
	if (page_size)
		*page_size = span;
	return 0;
}

void ept_destroy(struct ept *e)
{
	if (e->pml4)
		free_tree(e, e->pml4, EPT_LEVEL_PML4);
	e->pml4 = 0;
}

uint64_t ept_eptp(const struct ept *e, bool ad)
{
	return e->pml4 | EPTP_MT_WB | EPTP_PWL_4 | (ad ? EPTP_AD : 0);
}

/* --- dirty logging (SDM vol. 3C 29.3.5) ----------------------------------- */

/*
 * What to do with each present leaf met in a range: the callback gets the
 * slot, the part of the range that leaf covers [gpa, end) and the leaf span.
 */
struct ept_visit {
	void (*leaf)(struct ept_visit *v, uint64_t *slot, uint64_t gpa, uint64_t end, uint64_t span);
	bool split_all;     /* split every 2 MiB leaf met */
	bool split_partial; /* split 2 MiB leaves the range covers only partly */
	bool writable;      /* ept_set_write */
	uint64_t base;      /* ept_harvest_dirty: gpa of bitmap bit 0 */
	uint64_t *bitmap;
	uint64_t count;
};

static uint64_t load_entry(const uint64_t *slot)
{
	return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

/*
 * Clear then set bits of a live leaf with one locked compare-exchange, so
 * A/D set by the CPU in between are kept. Returns the value replaced.
 */
static uint64_t update_entry(uint64_t *slot, uint64_t clear, uint64_t set)
{
	uint64_t old = load_entry(slot);

	while (!__atomic_compare_exchange_n(slot, &old, (old & ~clear) | set, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	return old;
}

static bool visit_split(const struct ept_visit *v, uint64_t ent, int level, uint64_t len)
{
	if (level != EPT_LEVEL_PD || !(ent & EPT_LARGE))
		return false;
	return v->split_all || (v->split_partial && len != EPT_PAGE_2M);
}

/* Visit [gpa, end), which lies inside the span of table t at this level. */
static int visit_level(struct ept *e, uint64_t *t, int level, uint64_t gpa, uint64_t end,
		       struct ept_visit *v)
{
	uint64_t span = level_span(level);

	while (gpa < end) {
		uint64_t next = (gpa | (span - 1)) + 1;
		uint64_t *slot = &t[slot_index(gpa, level)];
		uint64_t ent = load_entry(slot), *child;
		int ret;

		if (next > end)
			next = end;
		if (!present(ent)) {
			/* nothing mapped here */
		} else if (is_leaf(ent, level) && !visit_split(v, ent, level, next - gpa)) {
			if (v->leaf)
				v->leaf(v, slot, gpa, next, span);
		} else {
			ret = child_table(e, slot, false, &child);
			if (ret)
				return ret;
			if (is_leaf(ent, level) && v->split_all)
				v->count++;
			ret = visit_level(e, child, level - 1, gpa, next, v);
			if (ret)
				return ret;
		}
		gpa = next;
	}
	return 0;
}

static int visit(struct ept *e, uint64_t gpa, uint64_t size, struct ept_visit *v)
{
	int ret = check_range(gpa, size);

	if (!ret)
		ret = visit_level(e, table_at(e, e->pml4), EPT_LEVEL_PML4, gpa, gpa + size, v);
	return ret;
}

int ept_split_range(struct ept *e, uint64_t gpa, uint64_t size)
{
	struct ept_visit v = { .split_all = true };
	int ret = visit(e, gpa, size, &v);

	return ret ? ret : (int)v.count;
}

static void write_leaf(struct ept_visit *v, uint64_t *slot, uint64_t gpa, uint64_t end, uint64_t span)
{
	uint64_t ent = load_entry(slot);

	if (v->writable && (ent & EPT_SW_WRPROT))
		update_entry(slot, EPT_SW_WRPROT, EPT_W);
	else if (!v->writable && (ent & EPT_W))
		update_entry(slot, EPT_W, EPT_SW_WRPROT);
	else
		return;
	v->count++;
}

/* Counts are ints: at most INT_MAX pages per call. */
#define EPT_MAX_PAGES_PER_CALL 0x7fffffffull

int ept_set_write(struct ept *e, uint64_t gpa, uint64_t size, bool writable)
{
	struct ept_visit v = { .leaf = write_leaf, .split_partial = true, .writable = writable };
	int ret;

	if (size / EPT_PAGE_4K > EPT_MAX_PAGES_PER_CALL)
		return -ERANGE;
	ret = visit(e, gpa, size, &v);
	return ret ? ret : (int)v.count;
}

/* Set bitmap bits [first, first + n) with a locked OR per word. */
static void set_bits(uint64_t *bitmap, uint64_t first, uint64_t n)
{
	while (n) {
		uint64_t bit = first % 64, len = 64 - bit;
		uint64_t mask;

		if (len > n)
			len = n;
		mask = (len == 64 ? ~0ull : (1ull << len) - 1) << bit;
		__atomic_fetch_or(&bitmap[first / 64], mask, __ATOMIC_RELAXED);
		first += len;
		n -= len;
	}
}

static void harvest_leaf(struct ept_visit *v, uint64_t *slot, uint64_t gpa, uint64_t end, uint64_t span)
{
	uint64_t pages = (end - gpa) / EPT_PAGE_4K;

	if (!(load_entry(slot) & EPT_DIRTY))
		return;
	/* D of a leaf only partly in the range stays for the next harvest. */
	if (end - gpa == span && !(update_entry(slot, EPT_DIRTY, 0) & EPT_DIRTY))
		return;
	set_bits(v->bitmap, (gpa - v->base) / EPT_PAGE_4K, pages);
	v->count += pages;
}

int ept_harvest_dirty(struct ept *e, uint64_t gpa, uint64_t npages, uint64_t *bitmap)
{
	struct ept_visit v = { .leaf = harvest_leaf, .base = gpa, .bitmap = bitmap };
	int ret;

	if (!npages)
		return (gpa & (EPT_PAGE_4K - 1)) ? -EINVAL : 0;
	if (npages > EPT_MAX_PAGES_PER_CALL)
		return -ERANGE;
	ret = visit(e, gpa, npages * EPT_PAGE_4K, &v);
	return ret ? ret : (int)v.count;
}
