/* SPDX-License-Identifier: MIT */
/* I/O APIC (see ioapic.h); register names from the 82093AA data sheet, section 3. */
#include "drivers/ioapic.h"
#include "kernel/errno.h"
#include "kernel/log.h"

#define IOAPIC_IOREGSEL 0x00u /* register select (MMIO offset) */
#define IOAPIC_IOWIN    0x10u /* register window (MMIO offset) */
#define IOAPIC_IOAPICVER 0x01u /* bits 23:16: maximum redirection entry */
#define IOAPIC_IOREDTBL(n) (0x10u + 2u * (n)) /* low dword; high dword at +1 */

/* Redirection table entry, 82093AA section 3.2.4. */
#define IOREDTBL_DELMOD_FIXED (0u << 8)
#define IOREDTBL_DESTMOD_PHYS (0u << 11)
#define IOREDTBL_INTPOL_HIGH  (0u << 13)
#define IOREDTBL_INTPOL_LOW   (1u << 13)
#define IOREDTBL_TRIGGER_EDGE (0u << 15)
#define IOREDTBL_TRIGGER_LEVEL (1u << 15)
#define IOREDTBL_MASKED       (1u << 16)
#define IOREDTBL_DEST_SHIFT   24u /* of the high dword: bits 63:56 */

static uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
	*(volatile uint32_t *)(base + IOAPIC_IOREGSEL) = reg;
	return *(volatile uint32_t *)(base + IOAPIC_IOWIN);
}

static void ioapic_write(uint64_t base, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(base + IOAPIC_IOREGSEL) = reg;
	*(volatile uint32_t *)(base + IOAPIC_IOWIN) = v;
}

/*
 * The MP specification's default I/O APIC (MultiProcessor Specification 1.4,
 * section 3.6.1 and chapter 5: "the default base address for the I/O APIC is
 * 0FEC0_0000h"), for firmware that installs no MADT (OVMF under Bochs). Its
 * version register must read as an 82093AA-compatible one (version 0x1x or
 * 0x20, 8-240 inputs); all-ones, an absent device, does not.
 */
#define IOAPIC_DEFAULT_BASE 0xfec00000u

static bool default_probed;
static struct acpi_ioapic default_ioapic;
static uint32_t nr_default;

static void probe_default(void)
{
	uint32_t ver, version, entries;

	if (default_probed)
		return;
	default_probed = true;
	ver = ioapic_read(IOAPIC_DEFAULT_BASE, IOAPIC_IOAPICVER);
	version = ver & 0xffu;
	entries = ((ver >> 16) & 0xffu) + 1;
	if (ver == 0xffffffffu || (version < 0x10 || version > 0x20) || entries < 8 || entries > 240)
		return;
	default_ioapic = (struct acpi_ioapic){ .id = 0, .address = IOAPIC_DEFAULT_BASE, .gsi_base = 0 };
	nr_default = 1;
	pr_info("ioapic: no MADT: the I/O APIC at the MP default 0x%x answers (version 0x%x, %u inputs)",
		IOAPIC_DEFAULT_BASE, version, entries);
}

int ioapic_route_isa_irq(const struct acpi_info *acpi, uint8_t irq, uint8_t vector, uint32_t apic_id)
{
	const struct acpi_ioapic *ioapics;
	uint32_t gsi, n;
	bool low, level;

	if (apic_id > 0xff)
		return -ENODEV;
	if (acpi && acpi->has_madt) {
		ioapics = acpi->ioapics;
		n = acpi->nr_ioapics;
	} else {
		probe_default();
		ioapics = &default_ioapic;
		n = nr_default;
	}
	acpi_isa_irq(acpi && acpi->has_madt ? acpi : NULL, irq, &gsi, &low, &level);
	for (uint32_t i = 0; i < n; i++) {
		const struct acpi_ioapic *io = &ioapics[i];
		uint64_t base = io->address; /* below 4 GiB: identity-mapped, uncached */
		uint32_t entries, pin;

		if (gsi < io->gsi_base || !base)
			continue;
		entries = ((ioapic_read(base, IOAPIC_IOAPICVER) >> 16) & 0xffu) + 1;
		pin = gsi - io->gsi_base;
		if (pin >= entries)
			continue;
		/* Masked while the destination changes, then unmasked with the vector. */
		ioapic_write(base, IOAPIC_IOREDTBL(pin), IOREDTBL_MASKED);
		ioapic_write(base, IOAPIC_IOREDTBL(pin) + 1, apic_id << IOREDTBL_DEST_SHIFT);
		ioapic_write(base, IOAPIC_IOREDTBL(pin), vector | IOREDTBL_DELMOD_FIXED |
			     IOREDTBL_DESTMOD_PHYS |
			     (low ? IOREDTBL_INTPOL_LOW : IOREDTBL_INTPOL_HIGH) |
			     (level ? IOREDTBL_TRIGGER_LEVEL : IOREDTBL_TRIGGER_EDGE));
		pr_debug("ioapic: IRQ %u (GSI %u, %s, %s) -> I/O APIC %u pin %u, vector 0x%x, APIC id %u",
			 irq, gsi, low ? "active low" : "active high", level ? "level" : "edge", io->id,
			 pin, vector, apic_id);
		return 0;
	}
	return -ENODEV;
}
