/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2) on ports
 * 0xCF8 (CONFIG_ADDRESS, dword accesses only) and 0xCFC-0xCFF
 * (CONFIG_DATA), with one device: a host bridge at 00:00.0. Every other
 * bus/device/function reads all-ones (no device answers: master abort).
 * Byte accesses to 0xCF9 are the PIIX/ICH reset control register: bit 2
 * with bit 1 (hard) or alone asks for a reset (the FADT's RESET_REG).
 */
#ifndef TERN_VMM_EMUL_VPCI_H
#define TERN_VMM_EMUL_VPCI_H

#include "vmm/emul/dev.h"

#define VPCI_PORT_ADDR   0xcf8u
#define VPCI_PORTS       8u     /* 0xCF8-0xCFF */
#define VPCI_RESET_PORT  0xcf9u
#define VPCI_RESET_CPU   0x04u  /* RCR bit 2: reset CPU */
#define VPCI_VENDOR      0x8086u /* the host bridge: Intel 440FX (82441FX), as QEMU and Bochs show */
#define VPCI_DEVICE      0x1237u

struct vpci {
	const struct emul_env *env;
	uint32_t addr;   /* CONFIG_ADDRESS */
	uint8_t rcr;     /* reset control register */
	uint8_t bridge[256]; /* the host bridge's configuration space */
};

void vpci_init(struct vpci *p, const struct emul_env *env);
extern const struct dev_ops vpci_ops;

#endif
