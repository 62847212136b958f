/* SPDX-License-Identifier: MIT */
/*
 * The 8042 keyboard controller as far as a VM needs it (IBM PC/AT
 * Technical Reference, keyboard controller; Linux drivers/input/serio/
 * i8042.c): ports 0x60 (data) and 0x64 (status/command), the controller
 * command byte, self-tests, the output port, and the reset pulse (command
 * 0xFE, or output-port bit 0 low through 0xD1) that asks for a reset. No
 * keyboard or mouse is attached: they never send a byte.
 */
#ifndef TERN_VMM_EMUL_VKBC_H
#define TERN_VMM_EMUL_VKBC_H

#include "vmm/emul/dev.h"

#define VKBC_DATA   0x60u
#define VKBC_STATUS 0x64u

struct vkbc {
	const struct emul_env *env;
	uint8_t status;   /* bit 0 OBF, bit 2 system flag, bit 3 command/data, bit 4 not inhibited */
	uint8_t out;      /* the output buffer when OBF */
	uint8_t ccb;      /* controller command byte */
	uint8_t outport;
	uint8_t pending;  /* a command waiting for its data byte (0x60, 0xD1), or 0 */
};

void vkbc_init(struct vkbc *k, const struct emul_env *env);
extern const struct dev_ops vkbc_ops;

#endif
