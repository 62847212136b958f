/* SPDX-License-Identifier: MIT */
/* VMs declared on the kernel command line (vm=...), started at boot. */
#ifndef TERN_VMM_BOOTVM_H
#define TERN_VMM_BOOTVM_H

/* Create, load and queue every vm= VM; returns how many started. */
int bootvm_start_all(void);

#endif
