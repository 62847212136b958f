/* SPDX-License-Identifier: MIT */
/*
 * A VM's guest-physical memory as a list of extents, and the range checks
 * every hypercall buffer goes through. Pure: unit-tested on the host.
 */
#ifndef TERN_VMM_EXTENT_H
#define TERN_VMM_EXTENT_H

#include <stdbool.h>
#include <stdint.h>

#define EXT_RO       0x1u /* mapped read-only */
#define EXT_BORROWED 0x2u /* not the VM's: boot modules shown to the management guest */

/* A physically contiguous piece of guest memory. */
struct mem_extent {
	uint64_t gpa, hpa, size;
	uint32_t flags; /* EXT_* */
};

/* The extent holding gpa, or NULL. */
const struct mem_extent *extent_find(const struct mem_extent *ext, uint32_t n, uint64_t gpa);
/*
 * Append [gpa, gpa+size) -> hpa, merged into the last extent when it
 * continues it in both address spaces with the same flags. Extents must
 * come in ascending GPA order without overlap (-EINVAL); -ENOSPC when a new
 * one would not fit in cap.
 */
int extent_append(struct mem_extent *ext, uint32_t *n, uint32_t cap, uint64_t gpa, uint64_t hpa,
		  uint64_t size, uint32_t flags);
/* Undo the last extent_append of size bytes (shrinks or drops the last extent). */
void extent_unappend(struct mem_extent *ext, uint32_t *n, uint64_t size);
/*
 * Is [gpa, gpa+len) wholly covered by extents (possibly several, back to
 * back), none read-only if write? A range that wraps around never is.
 */
bool extent_range_ok(const struct mem_extent *ext, uint32_t n, uint64_t gpa, uint64_t len,
		     bool write);

#endif
