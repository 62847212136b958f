/* SPDX-License-Identifier: MIT */
/*
 * A VM's buses: which device model answers a port or a guest-physical
 * address. One bus for port I/O, one for MMIO, each a sorted table of
 * non-overlapping ranges. Where no device answers, the bus is open: reads
 * return all-ones, writes are dropped, both counted (a PC's ISA/PCI bus
 * master-aborts the same way). Nothing reaches host hardware. Pure: built
 * alone by a host unit test.
 */
#ifndef TERN_VMM_EMUL_BUS_H
#define TERN_VMM_EMUL_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/emul/dev.h"

#define BUS_MAX_RANGES 32u

struct bus_range {
	uint64_t base, len;
	const struct dev_ops *ops;
	void *dev;
};

struct bus {
	uint32_t n;
	struct bus_range r[BUS_MAX_RANGES]; /* sorted by base */
	uint64_t open_reads, open_writes;   /* accesses nothing answered */
	uint64_t last_open;                 /* the address of the last of them */
	uint32_t hint;                      /* the range found last (bus_find tries it first) */
};

/* Claim [base, base+len) for dev: 0, -EINVAL (empty or wrapping), -EEXIST (overlap), -ENOSPC. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct dev_ops *ops, void *dev);
/* The range holding addr, or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);
/*
 * The range that takes [addr, addr+size) as one access (whole in it, and
 * the device that wide), or NULL: then bus_read/bus_write split it. The
 * range found last is tried inline first (a guest mostly hits one device
 * again and again).
 */
static inline const struct bus_range *bus_whole(const struct bus *b, uint64_t addr, unsigned int size)
{
	uint32_t h = __atomic_load_n(&b->hint, __ATOMIC_RELAXED);
	const struct bus_range *r = h < b->n ? &b->r[h] : NULL;

	if (!r || addr < r->base || addr - r->base >= r->len)
		r = bus_find(b, addr);
	return r && addr - r->base + size <= r->len && size <= (r->ops->width ? r->ops->width : 1) &&
	       r->ops->read && r->ops->write ? r : NULL;
}
/* All-ones in the low size bytes (size 1-8). */
static inline uint64_t bus_ones(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}
/*
 * An access of size bytes (1, 2, 4, 8) at addr. One device range holding it
 * whole gets it as one access if the device is that wide (dev_ops.width);
 * else it goes byte by byte, each byte to whoever answers it
 * (little-endian), open bus where nobody does.
 */
uint64_t bus_read(struct bus *b, uint64_t addr, unsigned int size);
void bus_write(struct bus *b, uint64_t addr, unsigned int size, uint64_t val);
/* Every device's reset, once per device, in address order of its first range. */
void bus_reset(struct bus *b);
/* Every device's poll(now), once per device: the earliest deadline (EMUL_NEVER: none). */
uint64_t bus_poll(struct bus *b, uint64_t now_ns);

#endif
