/* SPDX-License-Identifier: MIT */
/* Kernel page tables (SDM vol. 3A 4.5: 4-level paging, 2 MiB and 4 KiB pages). */
#include "arch/paging.h"
#include "arch/msr.h"
#include "arch/cpuid.h"
#include "kernel/errno.h"
#include "kernel/kernel.h"
#include "kernel/memmap.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/string.h"

#define SIZE_2M 0x200000ull
#define SIZE_1G 0x40000000ull

extern char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

static uint64_t *pml4;

static uint64_t *table_alloc(void)
{
	/* Below 4 GiB: an AP loads CR3 while still in 32-bit mode. */
	uint64_t p = page_alloc_below(1, LOW_4G, PMM_OWNER_PAGETABLE);

	if (!p)
		return NULL;
	return phys_to_virt(p);
}

/* The entry for va at the given level (3 = PDPT ... 0 = PT), allocating on the way. */
static uint64_t *walk(uint64_t va, int level)
{
	uint64_t *t = pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[(va >> (12 + 9 * l)) & 511];

		if (!(*e & PTE_P)) {
			uint64_t *n = table_alloc();

			if (!n)
				return NULL;
			*e = virt_to_phys(n) | PTE_P | PTE_W;
		}
		ASSERT(!(*e & PTE_PS));
		t = phys_to_virt(*e & PTE_ADDR);
	}
	return &t[(va >> (12 + 9 * level)) & 511];
}

int paging_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *e = walk(va, 0);

	if (!e)
		return -ENOMEM;
	*e = (pa & PTE_ADDR) | flags | PTE_P;
	if (pml4 && read_cr3() == virt_to_phys(pml4))
		invlpg(va);
	return 0;
}

uint64_t paging_cr3(void)
{
	return virt_to_phys(pml4);
}

static bool is_ram_type(uint32_t t)
{
	return t != BOOT_MEM_RESERVED && t != BOOT_MEM_MMIO && t != BOOT_MEM_UNUSABLE;
}

/* Does [base, base+len) hold any RAM? Such ranges get write-back, the rest UC. */
static bool overlaps_ram(const struct boot_mem_region *map, size_t n, uint64_t base, uint64_t len)
{
	for (size_t i = 0; i < n; i++)
		if (is_ram_type(map[i].type) && map[i].base < base + len &&
		    map[i].base + map[i].length > base)
			return true;
	return false;
}

static void map_or_die(uint64_t va, uint64_t pa, uint64_t flags)
{
	if (paging_map(va, pa, flags))
		panic("paging: out of memory for page tables");
}

static void map_direct(const struct boot_mem_region *map, size_t n, uint64_t tramp_phys)
{
	uint64_t end = memmap_ram_end(map, n);

	end = end < LOW_4G ? LOW_4G : (end + SIZE_1G - 1) & ~(SIZE_1G - 1);
	/* First 2 MiB in 4 KiB pages: page 0 stays absent to catch NULL. */
	for (uint64_t pa = PAGE_SIZE; pa < SIZE_2M; pa += PAGE_SIZE)
		map_or_die(pa, pa, PTE_W | (pa == tramp_phys ? 0 : PTE_NX));
	for (uint64_t pa = SIZE_2M; pa < end; pa += SIZE_2M) {
		uint64_t *e = walk(pa, 1);

		if (!e)
			panic("paging: out of memory for page tables");
		*e = pa | PTE_P | PTE_W | PTE_PS | PTE_NX |
		     (overlaps_ram(map, n, pa, SIZE_2M) ? 0 : PTE_PCD | PTE_PWT);
	}
}

static void map_kernel(void)
{
	uint64_t va;

	for (va = (uint64_t)__kernel_start; va < (uint64_t)__kernel_end; va += PAGE_SIZE) {
		uint64_t flags = PTE_G;

		if (va >= (uint64_t)__text_end)
			flags |= PTE_NX;
		if (va >= (uint64_t)__rodata_end)
			flags |= PTE_W;
		map_or_die(va, virt_to_phys((void *)va), flags);
	}
}

void paging_init(const struct boot_mem_region *map, size_t n, uint64_t tramp_phys)
{
	if (!(cpuid(CPUID_LEAF_EXT_FEATURES, 0).edx & CPUID_80000001_EDX_NX))
		panic("paging: this CPU has no NX bit; Tern needs it for W^X");
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | IA32_EFER_NXE);
	pml4 = table_alloc();
	if (!pml4)
		panic("paging: out of memory for page tables");
	map_direct(map, n, tramp_phys);
	map_kernel();
	write_cr4(read_cr4() | CR4_PGE);
	write_cr0(read_cr0() | CR0_WP);
	write_cr3(virt_to_phys(pml4));
}
