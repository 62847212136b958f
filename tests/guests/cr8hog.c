/* SPDX-License-Identifier: MIT */
/*
 * Raises its task priority to the top with "mov cr8, 15" (SDM vol. 3A
 * 11.8.6: CR8 is TPR[7:4]), spins with interrupts on until the TSC reads
 * CR8HOG_SPIN_UNTIL (past the counter guests' last report), then sleeps in
 * HLT with interrupts on for good. The priority must be its own virtual
 * APIC's: if it reached the physical APIC, the CPU would take no interrupt
 * once idle, and every VM sleeping there would stop. It never prints "done".
 */
#include "tests/guests/guest.h"

#define CR8HOG_SPIN_UNTIL 900000000ull

const char guest_name[] = "cr8hog";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t cr8;

	guest_log("start");
	__asm__ volatile("mov %0, %%cr8" : : "r"(15ull) : "memory");
	__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
	guest_log("spinning with CR8 = %lu and interrupts on", cr8);
	__asm__ volatile("sti" ::: "memory");
	while (rdtsc() < CR8HOG_SPIN_UNTIL)
		__asm__ volatile("pause" ::: "memory");
	__asm__ volatile("cli" ::: "memory");
	guest_log("sleeping with CR8 = 15 and interrupts on");
	for (;;)
		__asm__ volatile("sti; hlt" ::: "memory");
}
