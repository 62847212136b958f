/* SPDX-License-Identifier: MIT */
/* Jumps outside guest memory: the instruction fetch is an EPT violation. */
#include "tests/guests/guest.h"

/*
 * Below 4 GiB, so the guest's own page tables map it and the fault is Tern's
 * (EPT), not the guest's (#PF); above the memory of any test VM.
 */
#define BAD_WILD_TARGET 0xbeef0000ul

const char guest_name[] = "bad_wild";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	if (memsize > BAD_WILD_TARGET) {
		guest_log("ERROR memory size 0x%lx covers the target 0x%lx", memsize,
			  BAD_WILD_TARGET);
		guest_halt();
	}
	__asm__ volatile("jmp *%0" : : "r"(BAD_WILD_TARGET) : "memory");
	__builtin_unreachable();
}
