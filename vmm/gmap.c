/* SPDX-License-Identifier: MIT */
/* A VM's typed guest-physical memory map (see gmap.h). */
#include "vmm/gmap.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define PAGE_MASK_4K 0xfffull
#define MIB          (1ull << 20)

static bool valid_type(uint32_t type)
{
	return type >= GMAP_RAM && type <= GMAP_RESERVED;
}

int gmap_add(struct gmap *m, uint64_t gpa, uint64_t size, uint32_t type)
{
	uint32_t i = 0;

	if (!size || ((gpa | size) & PAGE_MASK_4K) || gpa + size < gpa || !valid_type(type))
		return -EINVAL;
	while (i < m->n && m->r[i].gpa < gpa)
		i++;
	if ((i > 0 && m->r[i - 1].gpa + m->r[i - 1].size > gpa) ||
	    (i < m->n && gpa + size > m->r[i].gpa))
		return -EEXIST;
	/* A region continuing its neighbour of the same type joins it: the map stays short. */
	if (i > 0 && m->r[i - 1].type == type && m->r[i - 1].gpa + m->r[i - 1].size == gpa) {
		m->r[i - 1].size += size;
		if (i < m->n && m->r[i].type == type && gpa + size == m->r[i].gpa) {
			m->r[i - 1].size += m->r[i].size;
			memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
			m->n--;
		}
		return 0;
	}
	if (i < m->n && m->r[i].type == type && gpa + size == m->r[i].gpa) {
		m->r[i].gpa = gpa;
		m->r[i].size += size;
		return 0;
	}
	if (m->n == GMAP_MAX)
		return -ENOSPC;
	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
	m->r[i] = (struct tern_mem_region){ .gpa = gpa, .size = size, .type = type };
	m->n++;
	return 0;
}

int gmap_pc_layout(struct gmap *m, uint64_t ram, uint64_t below_4g, unsigned int phys_bits)
{
	uint64_t low, high;

	if (!below_4g)
		below_4g = GMAP_HOLE_DEFAULT;
	if (!ram || ((ram | below_4g) & PAGE_MASK_4K) || below_4g < MIB ||
	    below_4g > GMAP_HOLE_DEFAULT || phys_bits < 32 || phys_bits > 52)
		return -EINVAL;
	low = ram < below_4g ? ram : below_4g;
	high = ram - low;
	if (high > (1ull << phys_bits) - GMAP_4G)
		return -E2BIG;
	m->n = 0;
	gmap_add(m, 0, low, GMAP_RAM);
	gmap_add(m, GMAP_IOAPIC_BASE, GMAP_MMIO_PAGE, GMAP_MMIO);
	gmap_add(m, GMAP_LAPIC_BASE, GMAP_MMIO_PAGE, GMAP_MMIO);
	if (high)
		gmap_add(m, GMAP_4G, high, GMAP_RAM);
	return 0;
}

const struct tern_mem_region *gmap_find(const struct gmap *m, uint64_t gpa)
{
	for (uint32_t i = 0; i < m->n && m->r[i].gpa <= gpa; i++)
		if (gpa - m->r[i].gpa < m->r[i].size)
			return &m->r[i];
	return NULL;
}

bool gmap_covers(const struct gmap *m, uint64_t gpa, uint64_t len, uint32_t mask)
{
	if (gpa + len < gpa)
		return false;
	while (len) {
		const struct tern_mem_region *r = gmap_find(m, gpa);
		uint64_t left;

		if (!r || !(mask & GMAP_MASK(r->type)))
			return false;
		left = r->gpa + r->size - gpa;
		if (left >= len)
			return true;
		gpa += left;
		len -= left;
	}
	return true;
}

uint64_t gmap_ram_gpa(const struct gmap *m, uint64_t off, uint64_t *run)
{
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->r[i].type != GMAP_RAM)
			continue;
		if (off < m->r[i].size) {
			if (run)
				*run = m->r[i].size - off;
			return m->r[i].gpa + off;
		}
		off -= m->r[i].size;
	}
	return ~0ull;
}

uint64_t gmap_total(const struct gmap *m, uint32_t type)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < m->n; i++)
		if (m->r[i].type == type)
			sum += m->r[i].size;
	return sum;
}

uint64_t gmap_top(const struct gmap *m, uint32_t type)
{
	for (uint32_t i = m->n; i > 0; i--)
		if (m->r[i - 1].type == type)
			return m->r[i - 1].gpa + m->r[i - 1].size;
	return 0;
}
