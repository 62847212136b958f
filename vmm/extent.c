/* SPDX-License-Identifier: MIT */
/* Extent lookups and range checks (see extent.h). */
#include "vmm/extent.h"

#include <stddef.h>
#include "kernel/errno.h"

/* Extents are kept in ascending, non-overlapping GPA order (extent_append): a binary search. */
const struct mem_extent *extent_find(const struct mem_extent *ext, uint32_t n, uint64_t gpa)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (gpa < ext[mid].gpa)
			hi = mid;
		else if (gpa - ext[mid].gpa >= ext[mid].size)
			lo = mid + 1;
		else
			return &ext[mid];
	}
	return NULL;
}

int extent_append(struct mem_extent *ext, uint32_t *n, uint32_t cap, uint64_t gpa, uint64_t hpa,
		  uint64_t size, uint32_t flags)
{
	struct mem_extent *last = *n ? &ext[*n - 1] : NULL;

	if (!size || gpa + size < gpa || hpa + size < hpa || (last && gpa < last->gpa + last->size))
		return -EINVAL;
	if (last && last->hpa + last->size == hpa && last->gpa + last->size == gpa &&
	    last->flags == flags) {
		last->size += size;
		return 0;
	}
	if (*n == cap)
		return -ENOSPC;
	ext[(*n)++] = (struct mem_extent){ gpa, hpa, size, flags };
	return 0;
}

void extent_unappend(struct mem_extent *ext, uint32_t *n, uint64_t size)
{
	struct mem_extent *last = *n ? &ext[*n - 1] : NULL;

	if (!last)
		return;
	if (last->size > size)
		last->size -= size;
	else
		(*n)--;
}

bool extent_range_ok(const struct mem_extent *ext, uint32_t n, uint64_t gpa, uint64_t len,
		     bool write)
{
	if (gpa + len < gpa)
		return false; /* wraps around */
	while (len) {
		const struct mem_extent *e = extent_find(ext, n, gpa);
		uint64_t in;

		if (!e || (write && (e->flags & EXT_RO)))
			return false;
		in = e->size - (gpa - e->gpa);
		if (in >= len)
			return true;
		gpa += in;
		len -= in;
	}
	return true;
}
