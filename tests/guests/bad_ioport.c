/* SPDX-License-Identifier: MIT */
/* A flood of exits on unhandled I/O ports: Tern is expected to stop it partway. */
#include "tests/guests/guest.h"

#define BAD_IOPORT_ACCESSES 2000000u
#define BAD_IOPORT_REPORT   200000u
#define BAD_IOPORT_BASE     0x510u
#define BAD_IOPORT_COUNT    0xf0u /* ports 0x510-0x5ff: no device (0x505 is pvpanic's) */

const char guest_name[] = "bad_ioport";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	bool reported_value = false;

	guest_log("start");
	/* Accesses alternate: an out to a port, then an in from the same port. */
	for (uint32_t n = 0; n < BAD_IOPORT_ACCESSES;) {
		uint16_t port = (uint16_t)(BAD_IOPORT_BASE + (n / 2) % BAD_IOPORT_COUNT);
		uint8_t v;

		outb(port, (uint8_t)n);
		n++;
		v = inb(port);
		n++;
		/* Unknown ports read as all-ones; say so once if they do not. */
		if (v != 0xff && !reported_value) {
			guest_log("ERROR port 0x%x read 0x%x, expected 0xff", port, v);
			reported_value = true;
		}
		if (n % BAD_IOPORT_REPORT == 0)
			guest_log("%u accesses", n);
	}
	guest_done();
}
