/* SPDX-License-Identifier: MIT */
/*
 * The pvpanic ISA device (QEMU docs/specs/pvpanic.rst, "ISA Interface";
 * Linux drivers/misc/pvpanic/): one I/O port, 0x505, through which a guest
 * reports that it panicked. A read returns the events the device
 * recognises; a write of bit 0 (a guest panic the host should handle)
 * requests EMUL_CRASH. Only bit 0 is recognised: bit 1 (a panic the guest
 * handles itself, a kdump kernel loaded) and bit 2 (a regular shutdown) are
 * not, so Linux never sends them here and writes of them are ignored. The
 * guest finds the port in the DSDT as device QEMU0001 (tools/mgmt/acpitab.c).
 */
#ifndef TERN_VMM_EMUL_VPVPANIC_H
#define TERN_VMM_EMUL_VPVPANIC_H

#include "vmm/emul/dev.h"

#define VPVPANIC_PORT     0x505u
#define VPVPANIC_PANICKED 0x01u /* bit 0: a guest panic, to be processed by the host */
#define VPVPANIC_CRASH_LOADED 0x02u /* bit 1: handled by the guest (kdump); not recognised */
#define VPVPANIC_EVENTS   VPVPANIC_PANICKED /* what a read returns */

struct vpvpanic {
	const struct emul_env *env;
	uint8_t events; /* the recognised events: VPVPANIC_EVENTS, fixed */
};

void vpvpanic_init(struct vpvpanic *d, const struct emul_env *env);
extern const struct dev_ops vpvpanic_ops;

#endif
