/* SPDX-License-Identifier: MIT */
/* A VM's port and MMIO buses (bus.h): range lookup and open bus. */
#include "vmm/emul/bus.h"
#include "kernel/errno.h"
#include "kernel/string.h"

int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct dev_ops *ops, void *dev)
{
	uint32_t i;

	if (!len || base + len - 1 < base || !ops)
		return -EINVAL;
	if (b->n == BUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < b->n && b->r[i].base < base; i++)
		;
	if ((i > 0 && b->r[i - 1].base + b->r[i - 1].len > base) ||
	    (i < b->n && base + len > b->r[i].base))
		return -EEXIST;
	memmove(&b->r[i + 1], &b->r[i], (b->n - i) * sizeof(b->r[0]));
	b->r[i] = (struct bus_range){ base, len, ops, dev };
	b->n++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
	uint32_t lo = 0, hi = b->n, h = __atomic_load_n(&b->hint, __ATOMIC_RELAXED);
	const struct bus_range *hint = b->n ? &b->r[h < b->n ? h : 0] : NULL;

	/* A guest mostly hits one device again and again (its console): try that first. */
	if (hint && addr >= hint->base && addr - hint->base < hint->len)
		return hint;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct bus_range *r = &b->r[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else {
			/* Lock-free callers race here: any value stored is a valid index. */
			__atomic_store_n(&((struct bus *)b)->hint, mid, __ATOMIC_RELAXED);
			return r;
		}
	}
	return NULL;
}

static uint8_t read_byte(struct bus *b, uint64_t addr)
{
	const struct bus_range *r = bus_find(b, addr);

	if (r && r->ops->read)
		return (uint8_t)r->ops->read(r->dev, addr, 1);
	b->open_reads++;
	b->last_open = addr;
	return 0xff;
}

static void write_byte(struct bus *b, uint64_t addr, uint8_t val)
{
	const struct bus_range *r = bus_find(b, addr);

	if (r && r->ops->write) {
		r->ops->write(r->dev, addr, 1, val);
		return;
	}
	b->open_writes++;
	b->last_open = addr;
}

uint64_t bus_read(struct bus *b, uint64_t addr, unsigned int size)
{
	const struct bus_range *r = bus_whole(b, addr, size);
	uint64_t v = 0;

	if (r)
		return r->ops->read(r->dev, addr, size) & bus_ones(size);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)read_byte(b, addr + i) << (8 * i);
	return v;
}

void bus_write(struct bus *b, uint64_t addr, unsigned int size, uint64_t val)
{
	const struct bus_range *r = bus_whole(b, addr, size);

	val &= bus_ones(size);
	if (r) {
		r->ops->write(r->dev, addr, size, val);
		return;
	}
	for (unsigned int i = 0; i < size; i++)
		write_byte(b, addr + i, (uint8_t)(val >> (8 * i)));
}

/* Is range i the first of its device (a device on several ranges is reset and polled once)? */
static bool first_of_dev(const struct bus *b, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++)
		if (b->r[j].dev == b->r[i].dev && b->r[j].ops == b->r[i].ops)
			return false;
	return true;
}

void bus_reset(struct bus *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (b->r[i].ops->reset && first_of_dev(b, i))
			b->r[i].ops->reset(b->r[i].dev);
}

uint64_t bus_poll(struct bus *b, uint64_t now_ns)
{
	uint64_t next = EMUL_NEVER;

	for (uint32_t i = 0; i < b->n; i++) {
		uint64_t t;

		if (!b->r[i].ops->poll || !first_of_dev(b, i))
			continue;
		t = b->r[i].ops->poll(b->r[i].dev, now_ns);
		if (t < next)
			next = t;
	}
	return next;
}
