/* SPDX-License-Identifier: MIT */
/*
 * Guest memory isolation: memory starts zeroed (nothing leaks in from other
 * VMs or from Tern), holds a per-VM pattern, and ends at memsize: beyond it
 * is open bus (docs/devices.md), where a write goes nowhere and a read
 * returns all-ones, also right after writing there.
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

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t lo = ((uint64_t)__image_end + 7) & ~7ul;
	uint64_t hi = (memsize - MEMTEST_STACK_SIZE) & ~7ul;
	uint64_t bad, found;
	uint8_t byte;

	guest_log("start");
	if (memsize < MEMTEST_STACK_SIZE || hi <= lo) {
		guest_log("ERROR memory size 0x%lx leaves nothing to test above 0x%lx",
			  memsize, lo);
		guest_halt();
	}

	bad = find_nonzero(lo, hi, &byte);
	if (bad)
		guest_log("ERROR non-zero byte 0x%x at 0x%lx", byte, bad);
	else
		guest_log("initial memory clean");

	fill(lo, hi, vm_id);
	bad = verify(lo, hi, vm_id, &found);
	if (bad) {
		guest_log("ERROR pattern mismatch at 0x%lx: 0x%lx, expected 0x%lx", bad,
			  found, pattern(vm_id, bad));
		guest_halt();
	}
	guest_log("vm %lu pattern verified %lu KiB", vm_id, (hi - lo) / 1024);

	guest_log("touching beyond memory at 0x%lx", memsize + MEMTEST_BEYOND_OFFSET);
	*(volatile uint64_t *)(memsize + MEMTEST_BEYOND_OFFSET) = pattern(vm_id, 0);
	found = *(volatile uint64_t *)(memsize + MEMTEST_BEYOND_OFFSET);
	if (found != ~0ull)
		guest_log("ERROR beyond memory reads 0x%lx after a write, not all-ones", found);
	else
		guest_log("beyond memory: the write went nowhere, it reads all-ones");
	guest_done();
}
