/* SPDX-License-Identifier: MIT */
/* Kernel-wide state set up at boot. */
#ifndef TERN_KERNEL_KERNEL_H
#define TERN_KERNEL_KERNEL_H

#include "boot/boot_info.h"
#include "kernel/cmdline.h"

#define TERN_VERSION "0.1.0"

extern struct boot_options boot_opts;
extern struct boot_info boot_info;   /* the kernel's own copy */
/* ACPI's tables (drivers/acpi.h has the type), valid when acpi_present. */
struct acpi_info;
extern struct acpi_info acpi;
extern bool acpi_present;

#endif
