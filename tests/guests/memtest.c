/* SPDX-License-Identifier: MIT */
/*
 * Guest memory isolation and the memory map: every RAM region Tern reports
 * (TERN_HC_VM_MEMMAP; RAM from 0 to memsize, and from 4 GiB on when the VM
 * has RAM above the hole) starts zeroed (nothing leaks in from other VMs or
 * from Tern) and holds a per-VM pattern; past each region is open bus
 * (docs/devices.md), where a write goes nowhere and a read returns
 * all-ones, also right after writing there.
 */
#include "tests/guests/guest.h"

/* Left alone at the top of memory: the stack starts at memsize. */
#define MEMTEST_STACK_SIZE 0x10000ul
/* No RAM and no device there; it is mapped by the guest's page tables. */
#define MEMTEST_BEYOND_OFFSET 0x1000ul

const char guest_name[] = "memtest";

/* Unique per VM and per word, so a page mapped into two VMs or at the wrong GPA shows. */
static uint64_t pattern(uint64_t vm_id, uint64_t addr)
{
	return 0x5a5a000000000000ull | (vm_id << 32) | (addr >> 3);
}

/* Returns the address of the first non-zero byte in [lo, hi), or 0 if none. */
static uint64_t find_nonzero(uint64_t lo, uint64_t hi, uint8_t *byte)
{
	for (uint64_t a = lo; a < hi; a += 8) {
		uint64_t v = *(volatile uint64_t *)a;

		if (v) {
			unsigned int shift = (unsigned int)__builtin_ctzll(v) & ~7u;

			*byte = (uint8_t)(v >> shift); /* little endian: lowest set byte first */
			return a + shift / 8;
		}
	}
	return 0;
}

static void fill(uint64_t lo, uint64_t hi, uint64_t vm_id)
{
	for (uint64_t a = lo; a < hi; a += 8)
		*(volatile uint64_t *)a = pattern(vm_id, a);
}

/* Returns the address of the first word that does not hold its pattern, or 0. */
static uint64_t verify(uint64_t lo, uint64_t hi, uint64_t vm_id, uint64_t *found)
{
	for (uint64_t a = lo; a < hi; a += 8) {
		uint64_t v = *(volatile uint64_t *)a;

		if (v != pattern(vm_id, a)) {
			*found = v;
			return a;
		}
	}
	return 0;
}

static struct tern_mem_region map[TERN_MEM_REGIONS_MAX];
/* Maps [4 GiB, 5 GiB) in 2 MiB pages: the identity map Tern builds ends at 4 GiB. */
static uint64_t pd_high[512] __attribute__((aligned(4096)));

static void map_above_4g(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffull);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & ~0xfffull);

	for (uint64_t j = 0; j < 512; j++)
		pd_high[j] = ((4ull << 30) + (j << 21)) | 0x83; /* P, W, PS */
	pdpt[4] = (uint64_t)pd_high | 0x3;
	write_cr3(read_cr3());
}

/* The part of RAM region r memtest may use: above its image, below its stack. */
static bool usable(const struct tern_mem_region *r, uint64_t memsize, uint64_t *lo, uint64_t *hi)
{
	*lo = r->gpa ? r->gpa : ((uint64_t)__image_end + 7) & ~7ul;
	*hi = r->gpa + r->size;
	if (*hi == memsize)
		*hi = (memsize - MEMTEST_STACK_SIZE) & ~7ul;
	return r->type == TERN_MEM_RAM && *hi > *lo && *hi <= (5ull << 30);
}

/* An address past the end of each RAM region that no region holds: open bus there. */
static void check_open_bus(uint64_t addr, uint64_t vm_id)
{
	uint64_t found;

	guest_log("touching beyond memory at 0x%lx", addr);
	*(volatile uint64_t *)addr = pattern(vm_id, 0);
	found = *(volatile uint64_t *)addr;
	if (found != ~0ull)
		guest_log("ERROR beyond memory at 0x%lx reads 0x%lx after a write, not all-ones", addr,
			  found);
	else
		guest_log("beyond memory: the write went nowhere, it reads all-ones");
}

/*
 * Every RAM region of the VM's map (TERN_HC_VM_MEMMAP, as firmware would
 * tell it): clean at first, then all filled before any is verified, so a
 * page of one region aliased into another shows.
 */
void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	int64_t n = vmcall4(TERN_HC_VM_MEMMAP, TERN_VM_SELF, (uint64_t)map, sizeof(map), 0);
	uint64_t lo, hi, bad, found, total = 0;
	uint8_t byte;
	bool clean = true;

	guest_log("start");
	if (n < 1 || n > TERN_MEM_REGIONS_MAX || map[0].gpa || map[0].size != memsize) {
		guest_log("ERROR memory map: %ld regions, the first [0x%lx +0x%lx), memsize 0x%lx", n,
			  map[0].gpa, map[0].size, memsize);
		guest_halt();
	}
	for (int64_t i = 0; i < n; i++)
		if (map[i].type == TERN_MEM_RAM) {
			guest_log("RAM [0x%lx, 0x%lx)", map[i].gpa, map[i].gpa + map[i].size);
			if (map[i].gpa >= (4ull << 30))
				map_above_4g();
		}
	for (int64_t i = 0; i < n; i++) {
		if (!usable(&map[i], memsize, &lo, &hi))
			continue;
		bad = find_nonzero(lo, hi, &byte);
		if (bad) {
			guest_log("ERROR non-zero byte 0x%x at 0x%lx", byte, bad);
			clean = false;
		}
	}
	if (clean)
		guest_log("initial memory clean");
	for (int64_t i = 0; i < n; i++)
		if (usable(&map[i], memsize, &lo, &hi))
			fill(lo, hi, vm_id);
	for (int64_t i = 0; i < n; i++) {
		if (!usable(&map[i], memsize, &lo, &hi))
			continue;
		bad = verify(lo, hi, vm_id, &found);
		if (bad) {
			guest_log("ERROR pattern mismatch at 0x%lx: 0x%lx, expected 0x%lx", bad,
				  found, pattern(vm_id, bad));
			guest_halt();
		}
		total += hi - lo;
	}
	guest_log("vm %lu pattern verified %lu KiB", vm_id, total / 1024);
	for (int64_t i = 0; i < n; i++) {
		uint64_t end = map[i].gpa + map[i].size + MEMTEST_BEYOND_OFFSET;

		if (map[i].type == TERN_MEM_RAM && end < (5ull << 30) &&
		    (i + 1 == n || map[i + 1].gpa > end))
			check_open_bus(end, vm_id);
	}
	guest_done();
}
