/* SPDX-License-Identifier: MIT */
/*
 * A VM's guest-physical memory map: typed regions (RAM, ROM, MMIO device,
 * reserved) in ascending order, from which EPT is derived and against which
 * every access Tern makes for the guest is checked. What backs RAM and ROM
 * in host memory is the extent list (vmm/extent.h); this is what the guest
 * is told (TERN_HC_VM_MEMMAP, and from it the e820 map a loader builds).
 * Pure: unit-tested on the host.
 */
#ifndef TERN_VMM_GMAP_H
#define TERN_VMM_GMAP_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/abi.h"

enum gmap_type {
	GMAP_RAM = TERN_MEM_RAM,
	GMAP_ROM = TERN_MEM_ROM,           /* read-only data */
	GMAP_MMIO = TERN_MEM_MMIO,         /* a device model: accesses exit to it */
	GMAP_RESERVED = TERN_MEM_RESERVED, /* not RAM, no device: open bus */
};

#define GMAP_MAX TERN_MEM_REGIONS_MAX
/* Where the PC platform puts things (docs/devices.md, "Memory map"). */
#define GMAP_HOLE_DEFAULT 0xc0000000ull  /* RAM below 4 GiB ends here at most */
#define GMAP_4G           0x100000000ull
#define GMAP_IOAPIC_BASE  0xfec00000ull /* the 82093AA's default (VIOAPIC_BASE_DEFAULT) */
#define GMAP_LAPIC_BASE   0xfee00000ull /* every vCPU's APIC page (IA32_APIC_BASE_DEFAULT) */
#define GMAP_MMIO_PAGE    0x1000ull

struct gmap {
	uint32_t n;
	struct tern_mem_region r[GMAP_MAX]; /* ascending gpa, no overlaps */
};

/*
 * The PC layout for ram bytes of RAM: RAM from 0 up to at most below_4g
 * (0: GMAP_HOLE_DEFAULT), the hole up to 4 GiB holding the I/O APIC and
 * local APIC pages, the rest of the RAM from 4 GiB on. -EINVAL when ram or
 * below_4g is not a multiple of 4 KiB, ram is 0, or below_4g is under
 * 1 MiB or above GMAP_HOLE_DEFAULT; -E2BIG when RAM would end above
 * 2^phys_bits.
 */
int gmap_pc_layout(struct gmap *m, uint64_t ram, uint64_t below_4g, unsigned int phys_bits);
/*
 * Insert [gpa, gpa+size) of type, joined to a neighbour of the same type it
 * touches: -EINVAL (empty, unaligned, wraps, bad type), -EEXIST (overlap),
 * -ENOSPC (GMAP_MAX regions).
 */
int gmap_add(struct gmap *m, uint64_t gpa, uint64_t size, uint32_t type);
/* The region holding gpa, or NULL. */
const struct tern_mem_region *gmap_find(const struct gmap *m, uint64_t gpa);
/* Does [gpa, gpa+len) lie wholly in regions of types in mask (bit t for type t)? */
bool gmap_covers(const struct gmap *m, uint64_t gpa, uint64_t len, uint32_t mask);
#define GMAP_MASK(t) (1u << (t))
/*
 * Byte off of the VM's RAM, counting RAM regions in order: its GPA, and in
 * *run how many bytes of RAM follow it in the same region. ~0 when off is
 * beyond the RAM.
 */
uint64_t gmap_ram_gpa(const struct gmap *m, uint64_t off, uint64_t *run);
/* Total bytes of a type; the end of the highest region of a type (0: none). */
uint64_t gmap_total(const struct gmap *m, uint32_t type);
uint64_t gmap_top(const struct gmap *m, uint32_t type);

#endif
