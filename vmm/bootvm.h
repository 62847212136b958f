/* SPDX-License-Identifier: MIT */
/* VMs declared on the kernel command line (vm=...), started at boot. */
#ifndef TERN_VMM_BOOTVM_H
#define TERN_VMM_BOOTVM_H

#include "boot/boot_info.h"

/* Start the management guest (mgmt=), then every vm= VM; returns how many started. */
int bootvm_start_all(void);
/* The boot module of that name, or NULL. */
const struct boot_module *boot_find_module(const char *name);

#endif
