/* SPDX-License-Identifier: MIT */
/* Boot memory map handling: normalise firmware maps, carve regions. Pure logic. */
#ifndef TERN_KERNEL_MEMMAP_H
#define TERN_KERNEL_MEMMAP_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

/*
 * Sort by base, resolve overlaps (the more restrictive type wins: anything
 * beats USABLE, and among the rest the higher enum value wins), merge
 * neighbours of equal type, drop empty regions, and shrink USABLE regions
 * inward to whole 4 KiB pages. Returns the new count, or -E2BIG when the
 * result would not fit in cap entries (map left valid but unmerged).
 */
int memmap_normalize(struct boot_mem_region *map, size_t n, size_t cap);

/*
 * Mark [base, base+len) as type, splitting regions as needed; the map is
 * normalised afterwards. Returns the new count or -E2BIG / -EINVAL.
 */
int memmap_set_type(struct boot_mem_region *map, size_t n, size_t cap,
		    uint64_t base, uint64_t len, uint32_t type);

/* Total bytes of the given type. */
uint64_t memmap_bytes(const struct boot_mem_region *map, size_t n, uint32_t type);

/* End of the highest region of any RAM-like type (not RESERVED/MMIO). */
uint64_t memmap_ram_end(const struct boot_mem_region *map, size_t n);

const char *memmap_type_name(uint32_t type);

#endif
