/* SPDX-License-Identifier: MIT */
/* The management guest: started first, holds management rights, owns the serial console. */
#ifndef TERN_VMM_MGMT_H
#define TERN_VMM_MGMT_H

#include "kernel/cmdline.h"

/* Create, map the boot modules into, load and start the management guest (mgmt=). */
int mgmt_start(const struct boot_vm_spec *s);

#endif
