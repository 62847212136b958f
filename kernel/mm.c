/* SPDX-License-Identifier: MIT */
/* The kernel's page allocator instance (locked) and kmalloc on top of it. */
#include "kernel/mm.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/cpu.h"
#include "kernel/fmt.h"

#define LOW_LIMIT 0x100000ull /* below 1 MiB: firmware areas and the SMP trampoline */

/* kmalloc: power-of-two size classes carved from pages; larger requests take pages. */
#define KM_MIN_SHIFT 5  /* 32 bytes including the header */
#define KM_MAX_SHIFT 11 /* 2 KiB */
#define KM_CLASSES   (KM_MAX_SHIFT - KM_MIN_SHIFT + 1)
#define KM_MAGIC     0x4b4d414cu /* "KMAL" */
#define KM_MAGIC_FREE 0x46524545u /* "FREE" */

struct km_header {
	uint32_t magic;
	uint32_t size_or_pages; /* class shift, or page count for large blocks */
	uint64_t large;
};

struct km_free {
	struct km_free *next;
};

static struct pmm pmm;
static struct spinlock mm_lock = SPINLOCK_INIT("mm");
static struct km_free *km_lists[KM_CLASSES];

static void *direct(uint64_t phys)
{
	return phys_to_virt(phys);
}

uint64_t virt_to_phys(const void *v)
{
	uint64_t a = (uint64_t)v;

	if (a >= KERNEL_LINK_ADDR)
		return a - KERNEL_LINK_ADDR + boot_info.kernel_phys;
	return a;
}

void mm_init(const struct boot_mem_region *map, size_t n)
{
	if (pmm_init(&pmm, map, n, LOW_LIMIT, direct))
		panic("mm: no usable memory region can hold the page allocator");
	mm_print_stats("boot");
}

/*
 * Zero freshly allocated pages 8 bytes a store, 2 MiB at a time, telling the
 * watchdog between pieces (cpu_touch): a large VM's memory takes long enough to look
 * like a stalled CPU otherwise.
 */
static void zero_pages(void *p, size_t npages)
{
	uint64_t words = (uint64_t)npages * (PAGE_SIZE / 8);

	while (words) {
		uint64_t n = words < (2u << 20) / 8 ? words : (2u << 20) / 8;

		words -= n;
		__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull) : "memory");
		cpu_touch();
	}
}

static uint64_t alloc(size_t npages, size_t align, uint64_t max_phys, enum pmm_owner owner)
{
	bool irq = spin_lock_irqsave(&mm_lock);
	uint64_t p = pmm_alloc(&pmm, npages, align, max_phys, owner);

	spin_unlock_irqrestore(&mm_lock, irq);
	if (p)
		zero_pages(phys_to_virt(p), npages);
	return p;
}

uint64_t page_alloc_unzeroed(size_t npages, size_t align_pages, enum pmm_owner owner)
{
	bool irq = spin_lock_irqsave(&mm_lock);
	uint64_t p = pmm_alloc(&pmm, npages, align_pages, 0, owner);

	spin_unlock_irqrestore(&mm_lock, irq);
	return p;
}

uint64_t page_alloc_below(size_t npages, uint64_t max_phys, enum pmm_owner owner)
{
	return alloc(npages, 1, max_phys, owner);
}

uint64_t page_alloc_aligned(size_t npages, size_t align_pages, enum pmm_owner owner)
{
	return alloc(npages, align_pages, 0, owner);
}

uint64_t page_alloc(size_t npages, enum pmm_owner owner)
{
	return alloc(npages, 1, 0, owner);
}

void page_free(uint64_t phys, size_t npages, enum pmm_owner owner)
{
	bool irq = spin_lock_irqsave(&mm_lock);
	int err = pmm_free(&pmm, phys, npages, owner);

	spin_unlock_irqrestore(&mm_lock, irq);
	if (err)
		panic("mm: bad free of %zu pages at 0x%lx by %s", npages, phys, pmm_owner_name(owner));
}

static void *km_large(size_t size)
{
	size_t pages = (size + sizeof(struct km_header) + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t p = page_alloc(pages, PMM_OWNER_HEAP);
	struct km_header *h = p ? phys_to_virt(p) : NULL;

	if (!h)
		return NULL;
	h->magic = KM_MAGIC;
	h->size_or_pages = (uint32_t)pages;
	h->large = 1;
	return h + 1;
}

void *kmalloc(size_t size)
{
	size_t need = size + sizeof(struct km_header);
	unsigned int shift = KM_MIN_SHIFT;
	struct km_header *h;
	bool irq;

	if (need > (1u << KM_MAX_SHIFT))
		return km_large(size);
	while ((1u << shift) < need)
		shift++;
	irq = spin_lock_irqsave(&mm_lock);
	if (!km_lists[shift - KM_MIN_SHIFT]) {
		uint64_t p = pmm_alloc(&pmm, 1, 1, 0, PMM_OWNER_HEAP);

		if (!p) {
			spin_unlock_irqrestore(&mm_lock, irq);
			return NULL;
		}
		for (uint64_t off = 0; off + (1u << shift) <= PAGE_SIZE; off += 1u << shift) {
			struct km_free *f = phys_to_virt(p + off);

			f->next = km_lists[shift - KM_MIN_SHIFT];
			km_lists[shift - KM_MIN_SHIFT] = f;
		}
	}
	h = (struct km_header *)km_lists[shift - KM_MIN_SHIFT];
	km_lists[shift - KM_MIN_SHIFT] = km_lists[shift - KM_MIN_SHIFT]->next;
	spin_unlock_irqrestore(&mm_lock, irq);
	h->magic = KM_MAGIC;
	h->size_or_pages = shift;
	h->large = 0;
	return h + 1;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	struct km_header *h;
	struct km_free *f;
	unsigned int shift;
	bool irq;

	if (!p)
		return;
	h = (struct km_header *)p - 1;
	f = (struct km_free *)h;
	if (h->magic != KM_MAGIC)
		panic("kfree: %p was not allocated by kmalloc (or was freed twice)", p);
	h->magic = KM_MAGIC_FREE;
	if (h->large) {
		page_free(virt_to_phys(h), h->size_or_pages, PMM_OWNER_HEAP);
		return;
	}
	shift = h->size_or_pages;
	irq = spin_lock_irqsave(&mm_lock);
	f->next = km_lists[shift - KM_MIN_SHIFT];
	km_lists[shift - KM_MIN_SHIFT] = f;
	spin_unlock_irqrestore(&mm_lock, irq);
}

void mm_get_stats(struct pmm_stats *out)
{
	bool irq = spin_lock_irqsave(&mm_lock);

	pmm_get_stats(&pmm, out);
	spin_unlock_irqrestore(&mm_lock, irq);
}

void mm_print_stats(const char *when)
{
	struct pmm_stats s;
	char buf[256];
	size_t len = 0;

	mm_get_stats(&s);
	for (int o = 1; o < PMM_OWNER_COUNT; o++)
		if (s.by_owner[o] && len < sizeof(buf))
			len += (size_t)fmt_snprintf(buf + len, sizeof(buf) - len, " %s=%lu",
						    pmm_owner_name((enum pmm_owner)o),
						    (unsigned long)s.by_owner[o]);
	buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
	pr_info("mem: %s: total %lu KiB, free %lu KiB (%lu pages); used pages:%s", when,
		(unsigned long)(s.total_pages * 4), (unsigned long)(s.free_pages * 4),
		(unsigned long)s.free_pages, buf);
}
