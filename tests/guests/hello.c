/* SPDX-License-Identifier: MIT */
/* Five numbered lines with a pause between them, so that several VMs interleave. */
#include "tests/guests/guest.h"

#define HELLO_LINES 5
/* A few milliseconds under an emulator; pure computation, no VM exits. */
#define HELLO_SPIN 500000u

const char guest_name[] = "hello";

static void spin(void)
{
	for (unsigned int i = 0; i < HELLO_SPIN; i++)
		__asm__ volatile("" : : : "memory");
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	for (int n = 1; n <= HELLO_LINES; n++) {
		guest_log("vm %lu line %d of %d", vm_id, n, HELLO_LINES);
		spin();
	}
	guest_done();
}
