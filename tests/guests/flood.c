/* SPDX-License-Identifier: MIT */
/*
 * Floods its console: prints "flood: N xxxx...", N = 1, 2, 3 ..., as fast as
 * it can for FLOOD_SECONDS of guest time (TSC at the rate of tick.h), then
 * "flood: done" and halts. Never idles: a whole line is 80 bytes, one VM
 * exit each, with no pause between lines.
 */
#include "tests/guests/tick.h"

#define FLOOD_SECONDS 12u
#define FLOOD_PAD     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

const char guest_name[] = "flood";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t khz = tick_tsc_khz(), start = rdtsc();
	uint64_t end = start + FLOOD_SECONDS * khz * 1000, n = 0;

	guest_log("start (vm %lu, %u s at TSC %lu kHz)", vm_id, FLOOD_SECONDS, khz);
	while (rdtsc() < end)
		guest_log("%10lu %s", ++n, FLOOD_PAD);
	guest_log("%lu lines", n);
	guest_done();
}
