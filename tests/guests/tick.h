/* SPDX-License-Identifier: MIT */
/*
 * A periodic local APIC timer (x2APIC mode) for test guests that idle in
 * "sti; hlt" between ticks instead of spinning.
 */
#ifndef TERN_TESTS_GUESTS_TICK_H
#define TERN_TESTS_GUESTS_TICK_H

#include "tests/guests/guest.h"

/*
 * The guest cannot measure the TSC rate (no PIT or other clock is
 * emulated): CPUID 0x15 when it names one, else this, the rate of Bochs at
 * ips=50000000 as the tests run it (Tern calibrates 49.995 MHz there).
 */
#define TICK_TSC_KHZ_DEFAULT 50000u

/* The TSC rate in kHz: CPUID 0x15 (crystal * ratio), else TICK_TSC_KHZ_DEFAULT. */
uint64_t tick_tsc_khz(void);

/*
 * Installs the IDT (guest_trap_install(NULL)), switches the APIC to x2APIC
 * mode and starts a periodic timer at hz. Returns with interrupts off; they
 * are on only inside tick_wait().
 */
void tick_start(unsigned int hz);
/* The same with a TSC rate known otherwise (the management guest: HOST_INFO's tsc_khz). */
void tick_start_khz(unsigned int hz, uint64_t tsc_khz);

/* Ticks so far (timer interrupts taken). */
uint64_t tick_count(void);

/*
 * Sleeps in "sti; hlt" until the tick count passes seen; returns the new
 * count with interrupts off. Ticks that came while the vCPU was not running
 * (paused, descheduled) may arrive as one interrupt.
 */
uint64_t tick_wait(uint64_t seen);

#endif
