/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 with a host bridge, and the reset control register (vpci.h). */
#include "vmm/emul/vpci.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define ADDR_ENABLE 0x80000000u
#define ADDR_BUS(a) (((a) >> 16) & 0xffu)
#define ADDR_DEVFN(a) (((a) >> 8) & 0xffu)
#define ADDR_REG(a) ((a) & 0xfcu)
/* Configuration header offsets (PCI 3.0 6.1) */
#define CFG_VENDOR  0x00
#define CFG_DEVICE  0x02
#define CFG_COMMAND 0x04
#define CFG_STATUS  0x06
#define CFG_REV     0x08
#define CFG_CLASS   0x09 /* prog-if, subclass, base class */
#define CFG_HEADER  0x0e
#define RCR_BITS 0x0eu /* full reset (ICH), reset CPU, system reset; the rest reserved */
#define CMD_WRITABLE 0x0146u /* memory space, bus master, parity, SERR: what a 440FX keeps */

static void put16(uint8_t *cfg, unsigned int off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static void vpci_reset(void *dev)
{
	struct vpci *p = dev;

	p->addr = 0;
	p->rcr = 0;
	memset(p->bridge, 0, sizeof(p->bridge));
	put16(p->bridge, CFG_VENDOR, VPCI_VENDOR);
	put16(p->bridge, CFG_DEVICE, VPCI_DEVICE);
	put16(p->bridge, CFG_COMMAND, 0x0006);
	put16(p->bridge, CFG_STATUS, 0x0280); /* fast back-to-back, DEVSEL medium */
	p->bridge[CFG_REV] = 0x02;
	p->bridge[CFG_CLASS + 1] = 0x00; /* subclass: host bridge */
	p->bridge[CFG_CLASS + 2] = 0x06; /* base class: bridge device */
	p->bridge[CFG_HEADER] = 0x00;    /* type 0, single function */
}

void vpci_init(struct vpci *p, const struct emul_env *env)
{
	p->env = env;
	vpci_reset(p);
}

/* The host bridge is 00:00.0; nothing else exists. */
static bool selects_bridge(const struct vpci *p)
{
	return (p->addr & ADDR_ENABLE) && ADDR_BUS(p->addr) == 0 && ADDR_DEVFN(p->addr) == 0;
}

static uint64_t vpci_read(void *dev, uint64_t port, unsigned int size)
{
	struct vpci *p = dev;
	unsigned int off;
	uint64_t v = 0;

	if (port == VPCI_PORT_ADDR && size == 4)
		return p->addr;
	if (port == VPCI_RESET_PORT && size == 1)
		return p->rcr;
	if (port < VPCI_PORT_ADDR + 4)
		return ~0ull; /* other accesses to 0xCF8-0xCFB: no register */
	if (!selects_bridge(p))
		return ~0ull;
	off = ADDR_REG(p->addr) + (unsigned int)(port - (VPCI_PORT_ADDR + 4));
	for (unsigned int i = 0; i < size && off + i < sizeof(p->bridge); i++)
		v |= (uint64_t)p->bridge[off + i] << (8 * i);
	return v;
}

static void vpci_write(void *dev, uint64_t port, unsigned int size, uint64_t val)
{
	struct vpci *p = dev;
	unsigned int off;

	if (port == VPCI_PORT_ADDR && size == 4) {
		p->addr = (uint32_t)val & 0x80fffffcu;
		return;
	}
	if (port == VPCI_RESET_PORT && size == 1) {
		/* A 0 -> 1 transition of bit 2 resets (PIIX4 datasheet 4.1.17). */
		if ((val & VPCI_RESET_CPU) && !(p->rcr & VPCI_RESET_CPU) && p->env->request)
			p->env->request(p->env->ctx, EMUL_RESET);
		p->rcr = (uint8_t)(val & RCR_BITS); /* bit 2 is R/W: the next edge needs a 0 first */
		return;
	}
	if (port < VPCI_PORT_ADDR + 4 || !selects_bridge(p))
		return;
	off = ADDR_REG(p->addr) + (unsigned int)(port - (VPCI_PORT_ADDR + 4));
	/* Of the host bridge only the command register takes writes. */
	for (unsigned int i = 0; i < size; i++, off++) {
		if (off == CFG_COMMAND || off == CFG_COMMAND + 1) {
			uint8_t m = (uint8_t)(CMD_WRITABLE >> (8 * (off - CFG_COMMAND)));

			p->bridge[off] = (uint8_t)((p->bridge[off] & ~m) | ((val >> (8 * i)) & m));
		}
	}
}

struct vpci_record {
	struct dev_record_hdr hdr;
	uint32_t addr;
	uint16_t command;
	uint8_t rcr, reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct vpci_record) == 16, "vpci_record layout");
#define VPCI_MAGIC DEV_MAGIC('P', 'C', 'I', '1')

static int vpci_save(const void *dev, void *buf, size_t cap)
{
	const struct vpci *p = dev;
	struct vpci_record r = { { VPCI_MAGIC, 1, sizeof(r) }, p->addr,
				 (uint16_t)(p->bridge[CFG_COMMAND] | p->bridge[CFG_COMMAND + 1] << 8),
				 p->rcr, 0 };

	if (cap < sizeof(r))
		return -ENOSPC;
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

static int vpci_restore(void *dev, const void *buf, size_t len)
{
	struct vpci *p = dev;
	struct vpci_record r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (r.hdr.magic != VPCI_MAGIC || r.hdr.version != 1 || r.hdr.size != sizeof(r) ||
	    (r.addr & ~0x80fffffcu) || (r.command & ~(CMD_WRITABLE | 0x0006u)) || (r.rcr & ~RCR_BITS))
		return -EINVAL;
	vpci_reset(p);
	p->addr = r.addr;
	put16(p->bridge, CFG_COMMAND, r.command);
	p->rcr = r.rcr;
	return 0;
}

const struct dev_ops vpci_ops = {
	.name = "pci-conf", .width = 4, .read = vpci_read, .write = vpci_write, .reset = vpci_reset,
	.save = vpci_save, .restore = vpci_restore,
};
