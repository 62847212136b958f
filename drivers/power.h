/* SPDX-License-Identifier: MIT */
/* Power off and reset, ACPI first, then fallbacks. */
#ifndef TERN_DRIVERS_POWER_H
#define TERN_DRIVERS_POWER_H

#include "drivers/acpi.h"

/* acpi may be NULL (no tables). */
__attribute__((noreturn)) void power_off(const struct acpi_info *acpi);
__attribute__((noreturn)) void power_reset(const struct acpi_info *acpi);

#endif
