/* SPDX-License-Identifier: MIT */
/*
 * The device layer's contract (docs/devices.md): what a device model is.
 *
 * A model is plain C that depends on nothing in the hypervisor but this
 * header, kernel/errno.h and kernel/string.h, so a host unit test builds it
 * alone. It keeps its whole state in its own struct, sees guest time and
 * its interrupt lines only through struct emul_env, and saves that state
 * into a record with an explicit little-endian layout led by struct
 * dev_record_hdr. The VM's buses (vmm/emul/bus.h) route port and MMIO
 * accesses to it by range; handlers get the absolute port or guest-physical
 * address, so one model may own several ranges (the PIT and port 0x61).
 */
#ifndef TERN_VMM_EMUL_DEV_H
#define TERN_VMM_EMUL_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMUL_NEVER UINT64_MAX /* poll(): no timer event pending */

/* What the VM gives a model. Every callback may be NULL in unit tests that do not need it. */
struct emul_env {
	void *ctx;
	/* Guest time in nanoseconds since the VM was created: monotonic; it stands while the VM is paused. */
	uint64_t (*now_ns)(void *ctx);
	/* Wall-clock seconds since 1970-01-01 00:00 UTC at guest time 0 (the RTC's base). */
	uint64_t epoch_s;
	/* Drive ISA IRQ line (0-15) to level: edge devices raise then lower it. */
	void (*set_irq)(void *ctx, unsigned int line, bool level);
	/* An interrupt controller's output changed (the PIC's INTR): re-evaluate delivery. */
	void (*kick)(void *ctx);
	/*
	 * An I/O APIC message to the local APICs (82093AA redirection entry
	 * fields): destination, logical destination mode, delivery mode (0 fixed,
	 * 1 lowest priority, 4 NMI, 5 INIT, 7 ExtINT), vector, level-triggered.
	 */
	void (*deliver)(void *ctx, uint8_t dest, bool logical, uint8_t mode, uint8_t vector, bool level);
	/* The guest asked the platform to power off (ACPI S5) or reset (0xCF9, i8042 pulse). */
	void (*request)(void *ctx, int what); /* enum emul_request */
};

enum emul_request { EMUL_POWER_OFF = 1, EMUL_RESET, EMUL_CRASH };

/* Leads every saved device record. All fields little-endian, no padding. */
struct dev_record_hdr {
	uint32_t magic;   /* DEV_MAGIC('P','I','T','1'): names the model */
	uint16_t version; /* layout version; restore refuses others */
	uint16_t size;    /* bytes of the whole record, this header included */
} __attribute__((packed));
_Static_assert(sizeof(struct dev_record_hdr) == 8, "dev_record_hdr layout");

#define DEV_MAGIC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

struct dev_ops {
	const char *name;
	/* The widest access the device takes whole: 1 (or 0), 2, 4, 8; the bus splits wider ones into bytes. */
	unsigned int width;
	/* addr is the port (port I/O) or the guest-physical address (MMIO); size 1, 2, 4 (8: MMIO). */
	uint64_t (*read)(void *dev, uint64_t addr, unsigned int size);
	void (*write)(void *dev, uint64_t addr, unsigned int size, uint64_t val);
	/* Power-on state (the datasheet's RESET), as after init. */
	void (*reset)(void *dev);
	/* Run timer events due by now_ns; the next deadline (ns) or EMUL_NEVER. NULL: no timers. */
	uint64_t (*poll)(void *dev, uint64_t now_ns);
	/* Whole state into buf: bytes written, or -ENOSPC when cap is too small. */
	int (*save)(const void *dev, void *buf, size_t cap);
	/* State from a record save wrote: 0, or -EINVAL (magic, version, size or a value out of range). */
	int (*restore)(void *dev, const void *buf, size_t len);
};

#endif
