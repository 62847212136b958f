/* SPDX-License-Identifier: MIT */
/* The calibrated TSC: Tern's clock. */
#ifndef TERN_DRIVERS_TSC_H
#define TERN_DRIVERS_TSC_H

#include <stdint.h>
#include "drivers/acpi.h"

extern uint64_t tsc_khz;

/*
 * CPUID 0x15 checked against the PIT, else the ACPI PM timer (acpi may be
 * NULL); the measured rate wins when they differ by more than 2%.
 */
void tsc_calibrate(const struct acpi_info *acpi);
uint64_t tsc_now_us(void);
void udelay(uint64_t us);

#endif
