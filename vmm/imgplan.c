/* SPDX-License-Identifier: MIT */
/* Guest image checks and start-up tables (see imgplan.h): pure logic. */
#include "vmm/imgplan.h"

#include "kernel/string.h"
#include "vmm/elf.h"

/* Page-table entry bits (SDM Vol. 3A, 4.5, Table 4-15 and 4-17). */
#define PTE_P  0x1ull
#define PTE_W  0x2ull
#define PTE_PS 0x80ull

/* Flat 64-bit code and data descriptors (SDM Vol. 3A, 3.4.5). */
#define GDT_CODE64 0x00af9a000000ffffull
#define GDT_DATA   0x00cf92000000ffffull

int img_is_elf(const uint8_t *img, uint64_t len)
{
	uint32_t magic;

	if (len < sizeof(magic))
		return 0;
	memcpy(&magic, img, sizeof(magic));
	return magic == ELF_MAGIC;
}

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

static int check_seg(const struct elf64_phdr *ph, uint64_t len, uint64_t mem_size,
		     const char **why)
{
	if (ph->filesz > ph->memsz || ph->offset > len || ph->filesz > len - ph->offset)
		return fail(why, "ELF segment lies outside the file");
	if (!mem_size)
		return 0;
	if (ph->paddr < IMG_ELF_MIN)
		return fail(why, "ELF segment below 1 MiB");
	if (mem_size < IMG_STACK_RESERVE || ph->paddr >= mem_size - IMG_STACK_RESERVE ||
	    ph->memsz > mem_size - IMG_STACK_RESERVE - ph->paddr)
		return fail(why, "ELF segment does not fit the VM's memory (with 64 KiB of stack)");
	return 0;
}

static int plan_elf(const uint8_t *img, uint64_t len, uint64_t mem_size, struct img_plan *p,
		    const char **why)
{
	struct elf64_ehdr eh;

	if (len < sizeof(eh))
		return fail(why, "ELF header truncated");
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[EI_CLASS] != ELFCLASS64 || eh.type != ET_EXEC || eh.machine != EM_X86_64)
		return fail(why, "not an x86_64 ELF64 executable");
	if (eh.phentsize != sizeof(struct elf64_phdr) || eh.phoff > len ||
	    (uint64_t)eh.phnum * sizeof(struct elf64_phdr) > len - eh.phoff)
		return fail(why, "ELF program headers outside the file");
	p->kind = IMG_ELF64;
	p->entry = eh.entry;
	p->nseg = 0;
	for (uint16_t i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, img + eh.phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.type != PT_LOAD)
			continue;
		if (check_seg(&ph, len, mem_size, why))
			return -1;
		if (p->nseg == IMG_MAX_SEGS)
			return fail(why, "more than 16 ELF segments to load");
		p->seg[p->nseg++] = (struct img_seg){ .offset = ph.offset, .paddr = ph.paddr,
						      .filesz = ph.filesz, .memsz = ph.memsz };
	}
	if (!p->nseg)
		return fail(why, "no ELF segment to load");
	if (mem_size && (eh.entry < IMG_ELF_MIN || eh.entry >= mem_size))
		return fail(why, "ELF entry point outside the VM's memory");
	return 0;
}

int img_plan(const uint8_t *img, uint64_t len, uint64_t mem_size, struct img_plan *p,
	     const char **why)
{
	if (img_is_elf(img, len))
		return plan_elf(img, len, mem_size, p, why);
	if (!len)
		return fail(why, "empty image");
	if (len > IMG_REAL_END - IMG_REAL_ENTRY)
		return fail(why, "flat image larger than the real-mode area (0x7c00-0x9ffff)");
	if (mem_size && mem_size < IMG_REAL_END)
		return fail(why, "flat image needs at least 640 KiB of memory");
	p->kind = IMG_FLAT;
	p->entry = IMG_REAL_ENTRY;
	p->nseg = 1;
	p->seg[0] = (struct img_seg){ .offset = 0, .paddr = IMG_REAL_ENTRY, .filesz = len,
				      .memsz = len };
	return 0;
}

void img_build_tables(uint64_t pt[IMG_PT_PAGES * IMG_PT_ENTRIES], uint64_t gdt[IMG_GDT_ENTRIES])
{
	uint64_t *pml4 = pt, *pdpt = pt + IMG_PT_ENTRIES;

	memset(pt, 0, IMG_PT_PAGES * IMG_PAGE_SIZE);
	pml4[0] = (IMG_PT_BASE + IMG_PAGE_SIZE) | PTE_P | PTE_W;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t *pd = pt + (2 + i) * IMG_PT_ENTRIES;

		pdpt[i] = (IMG_PT_BASE + (2 + i) * IMG_PAGE_SIZE) | PTE_P | PTE_W;
		for (unsigned int j = 0; j < IMG_PT_ENTRIES; j++)
			pd[j] = (((uint64_t)i << 30) + ((uint64_t)j << 21)) | PTE_P | PTE_W | PTE_PS;
	}
	gdt[0] = 0;
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;
}
