/* SPDX-License-Identifier: MIT */
/*
 * Event delivery onto a stack that is not RAM (issue 14): RSP in the I/O
 * APIC's MMIO page (evbadstack_ioapic) or past the end of RAM, in no region
 * (evbadstack, the default), then INT 0x30. The CPU's own pushes are no
 * instruction Tern could emulate: the VM must be stopped, with a log line,
 * and its neighbours go on. Nothing after the INT may run.
 *
 * Lines: "evbadstack: pushing onto GPA 0x...", then nothing but Tern's.
 */
#include "tests/guests/guest.h"

#ifdef EVBAD_IOAPIC
#define EVBAD_STACK(memsize) 0xfec01000ull /* the top of the I/O APIC page (guest.h) */
#else
#define EVBAD_STACK(memsize) ((memsize) + 0x01000000ull) /* 16 MiB past RAM */
#endif

const char guest_name[] = "evbadstack";

static void on_int(struct guest_trap_frame *f)
{
	guest_log("ERROR INT 0x30 was delivered onto a stack that is no RAM");
	guest_halt();
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t top = EVBAD_STACK(memsize);

	guest_log("start");
	guest_trap_install(NULL);
	guest_irq_install(0x30, on_int);
	guest_log("pushing onto GPA 0x%lx", top - 8);
	__asm__ volatile("mov %%rsp, %%rbx; mov %0, %%rsp; int $0x30; mov %%rbx, %%rsp"
			 : : "r"(top) : "rbx", "memory");
	guest_log("ERROR still running after INT 0x30 on a bad stack");
	guest_halt();
}
