/* SPDX-License-Identifier: MIT */
/*
 * Prints "ticker: tick N", N = 1, 2, 3 ..., about every TICKER_MS of guest
 * time, forever, sleeping in HLT in between (so it is mostly idle). N counts
 * the lines printed, not the time gone: a VM paused and resumed goes on from
 * the N it had.
 */
#include "tests/guests/tick.h"

#define TICKER_HZ 100u

const char guest_name[] = "ticker";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t seen = 0, n = 0;

	guest_log("start (vm %lu, %u Hz, TSC %lu kHz)", vm_id, TICKER_HZ, tick_tsc_khz());
	tick_start(TICKER_HZ);
	for (;;) {
		seen = tick_wait(seen);
		guest_log("tick %lu", ++n);
	}
}
