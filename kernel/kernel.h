/* SPDX-License-Identifier: MIT */
/* Kernel-wide state set up at boot. */
#ifndef TERN_KERNEL_KERNEL_H
#define TERN_KERNEL_KERNEL_H

#include "boot/boot_info.h"
#include "kernel/cmdline.h"
#include "drivers/acpi.h"

#define TERN_VERSION "0.1.0"

extern struct boot_options boot_opts;
extern struct boot_info boot_info;   /* the kernel's own copy */
extern struct acpi_info acpi;        /* valid when acpi_present */
extern bool acpi_present;

/* Carry out halt / poweroff / reboot; never returns. */
__attribute__((noreturn)) void kernel_do_action(enum boot_action action);

#endif
