/* SPDX-License-Identifier: MIT */
/*
 * Never yields: spins forever with interrupts off and makes no VM exit, so
 * only a hypervisor-side timer (e.g. the VMX preemption timer) can take the
 * CPU back. It never prints "done".
 */
#include "tests/guests/guest.h"

const char guest_name[] = "spinner";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	guest_log("spinning with interrupts off");
	__asm__ volatile("cli\n"
			 "1: jmp 1b"
			 : : : "memory");
	__builtin_unreachable();
}
