/* SPDX-License-Identifier: MIT */
/* The host's CMOS real-time clock, read once at boot: wall-clock time for VMs' RTCs. */
#ifndef TERN_DRIVERS_RTC_H
#define TERN_DRIVERS_RTC_H

#include <stdint.h>

/* Read the host RTC and note the TSC with it (after tsc_calibrate). */
void rtc_init(void);
/* Seconds since 1970-01-01 00:00 UTC at TSC value tsc (the RTC is taken to keep UTC). */
uint64_t rtc_epoch_at(uint64_t tsc);
/* Days since 1970-01-01 of a Gregorian date (month 1-12, day 1-31). */
int64_t rtc_days_from_civil(int64_t year, unsigned int month, unsigned int day);

#endif
