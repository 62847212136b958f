/* SPDX-License-Identifier: MIT */
/*
 * CPU-bound guest for scheduler fairness tests: counts loop iterations and
 * reports the count at TSC instants k * COUNTER_PERIOD_TSC, which are the
 * same for every guest on the machine (the TSC is global). Between reports it
 * makes no VM exit at all: only the loop and RDTSC, with interrupts off.
 *
 * Lines: "counter: k=<k> count=<iterations since start>". Report k comes when
 * RDTSC first reads >= k * COUNTER_PERIOD_TSC, for every k from the first
 * instant after the start up to COUNTER_LAST_K; if the guest starts after
 * that instant (a long boot, or a real machine's TSC), it makes
 * COUNTER_REPORTS reports from the first instant after its start instead.
 * Fairness is the count between two reports k-1 and k, comparable across
 * guests; the first report's interval is partial.
 */
#include "tests/guests/guest.h"

#define COUNTER_PERIOD_TSC 20000000ull
#ifndef COUNTER_LAST_K
#define COUNTER_LAST_K     40ull /* counter_long: 75 (guests.mk), to outlive a test's other guests */
#endif
#define COUNTER_REPORTS    40ull
/* Iterations between two RDTSCs. */
#define COUNTER_BATCH      4096u

const char guest_name[] = "counter";

/* Counts on from count until RDTSC reads >= until; returns the new count. */
static uint64_t counter_run(uint64_t count, uint64_t until)
{
	do {
		for (unsigned int i = 0; i < COUNTER_BATCH; i++) {
			count++;
			/* One real increment per iteration, not count += BATCH. */
			__asm__ volatile("" : "+r"(count));
		}
	} while (rdtsc() < until);
	return count;
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t now, k, k_last, count = 0;

	guest_log("start");
	now = rdtsc();
	k = now / COUNTER_PERIOD_TSC + 1;
	k_last = k <= COUNTER_LAST_K ? COUNTER_LAST_K : k + COUNTER_REPORTS - 1;
	guest_log("tsc %lu at start: reports at k * %llu TSC for k %lu to %lu", now,
		  COUNTER_PERIOD_TSC, k, k_last);

	for (; k <= k_last; k++) {
		count = counter_run(count, k * COUNTER_PERIOD_TSC);
		guest_log("k=%lu count=%lu", k, count);
	}
	guest_done();
}
