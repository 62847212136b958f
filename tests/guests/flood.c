/* SPDX-License-Identifier: MIT */
/*
 * Floods its console: prints "flood: N xxxx...", N = 1, 2, 3 ..., as fast as
 * it can for FLOOD_SECONDS of guest time (TSC at the rate of tick.h), then
 * "flood: done" and halts. Never idles: a whole line is 80 bytes written by
 * one REP OUTSB (one VM exit a line), with no pause between lines.
 */
#include "tests/guests/tick.h"
#include "kernel/fmt.h"

#define FLOOD_SECONDS 12u
#define FLOOD_PAD     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

const char guest_name[] = "flood";

/* One line in one VM exit: REP OUTSB, the fastest a guest can write its UART. */
static void flood_line(uint64_t n)
{
	static char line[128];
	const char *p = line;
	uint64_t len = (uint64_t)fmt_snprintf(line, sizeof(line), "flood: %10lu %s\n", n, FLOOD_PAD);

	__asm__ volatile("cld; rep outsb" : "+S"(p), "+c"(len) : "d"(UART_COM1_PORT) : "memory");
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t khz = tick_tsc_khz(), start = rdtsc();
	uint64_t end = start + FLOOD_SECONDS * khz * 1000, n = 0;

	guest_log("start (vm %lu, %u s at TSC %lu kHz)", vm_id, FLOOD_SECONDS, khz);
	while (rdtsc() < end)
		flood_line(++n);
	guest_log("%lu lines", n);
	guest_done();
}
