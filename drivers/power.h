/* SPDX-License-Identifier: MIT */
/* Power off and reset, ACPI first, then fallbacks. */
#ifndef TERN_DRIVERS_POWER_H
#define TERN_DRIVERS_POWER_H

#include "drivers/acpi.h"
#include "kernel/cmdline.h"

/* acpi may be NULL (no tables). */
__attribute__((noreturn)) void power_off(const struct acpi_info *acpi);
__attribute__((noreturn)) void power_reset(const struct acpi_info *acpi);
/* The tables power_action() uses from now on (start-up, after ACPI; NULL: none). */
void power_set_acpi(const struct acpi_info *acpi);
/* Carry out halt / poweroff / reboot (after_boot=, panic=, the shell); never returns. */
__attribute__((noreturn)) void power_action(enum boot_action action);

#endif
