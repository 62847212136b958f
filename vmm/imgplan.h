/* SPDX-License-Identifier: MIT */
/*
 * Guest images as Tern loads them, the one planner of both loaders: the
 * management guest's (tools/mgmt/image.c, through VM_WRITE) and the
 * hypervisor's for vm= (vmm/loader.c). Checked before anything is copied: an ELF64 x86_64 executable runs in 64-bit mode on
 * identity page tables at GPA 0x1000-0x6fff with a GDT at 0x7000; anything
 * else is a flat real-mode image loaded at 0000:7c00. Images are untrusted:
 * every header field is checked. Pure logic, unit-tested on the host.
 */
#ifndef TERN_VMM_IMGPLAN_H
#define TERN_VMM_IMGPLAN_H

#include <stdint.h>

#define IMG_PT_BASE       0x1000ull   /* PML4, PDPT, 4 PDs: [0x1000, 0x7000) */
#define IMG_PT_PAGES      6u
#define IMG_GDT_BASE      0x7000ull
#define IMG_GDT_ENTRIES   3u          /* null, code64 (0x08), data (0x10) */
#define IMG_REAL_ENTRY    0x7c00ull
#define IMG_REAL_END      0xa0000ull  /* conventional memory ends here */
#define IMG_ELF_MIN       0x100000ull /* ELF segments load at or above 1 MiB */
#define IMG_STACK_RESERVE 0x10000ull  /* left free under the top of memory */
#define IMG_MAX_SEGS      16u
#define IMG_PAGE_SIZE     4096u
#define IMG_PT_ENTRIES    512u

enum img_kind { IMG_FLAT, IMG_ELF64 };

struct img_seg {
	uint64_t offset, paddr, filesz, memsz;
};

struct img_plan {
	enum img_kind kind;
	uint64_t entry;
	unsigned int nseg;
	struct img_seg seg[IMG_MAX_SEGS];
};

/* True when the image starts with the ELF magic (it is then an ELF or nothing). */
int img_is_elf(const uint8_t *img, uint64_t len);

/*
 * Checks img for a VM of mem_size bytes and says what to copy where. 0, or
 * -1 with why set to a static one-line reason. mem_size 0 checks the headers
 * only (for a listing).
 */
int img_plan(const uint8_t *img, uint64_t len, uint64_t mem_size, struct img_plan *p,
	     const char **why);

/*
 * The long-mode start-up tables: pt[] (IMG_PT_PAGES pages of 512 entries)
 * maps [0, 4 GiB) identically with 2 MiB pages for loading at IMG_PT_BASE,
 * gdt[] is the flat GDT for IMG_GDT_BASE.
 */
void img_build_tables(uint64_t pt[IMG_PT_PAGES * IMG_PT_ENTRIES], uint64_t gdt[IMG_GDT_ENTRIES]);

#endif
