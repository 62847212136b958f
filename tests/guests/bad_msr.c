/* SPDX-License-Identifier: MIT */
/* An unknown MSR with no IDT: #GP cannot be delivered, so #DF, then a triple fault. */
#include "tests/guests/guest.h"

#define BAD_MSR 0x12345678u

const char guest_name[] = "bad_msr";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	wrmsr(BAD_MSR, 0);
	guest_log("ERROR wrmsr 0x%x with no IDT did not triple fault", BAD_MSR);
	guest_halt();
}
