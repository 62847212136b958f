/* SPDX-License-Identifier: MIT */
/* Extent lookups and range checks (see extent.h). */
#include "vmm/extent.h"

#include <stddef.h>

const struct mem_extent *extent_find(const struct mem_extent *ext, uint32_t n, uint64_t gpa)
{
	for (uint32_t i = 0; i < n; i++)
		if (gpa >= ext[i].gpa && gpa - ext[i].gpa < ext[i].size)
			return &ext[i];
	return NULL;
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
