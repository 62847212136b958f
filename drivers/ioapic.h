/* SPDX-License-Identifier: MIT */
/* I/O APIC redirection (Intel 82093AA I/O APIC data sheet): one ISA IRQ to one local APIC. */
#ifndef TERN_DRIVERS_IOAPIC_H
#define TERN_DRIVERS_IOAPIC_H

#include <stdint.h>
#include "drivers/acpi.h"

/*
 * Route ISA IRQ irq as a fixed interrupt on vector to the local APIC apic_id
 * (physical destination), through the I/O APIC whose inputs hold its GSI,
 * with the GSI, polarity and trigger mode the MADT's interrupt source
 * overrides give (acpi_isa_irq: ISA's edge, active high without one). With
 * no MADT (acpi NULL or without one) the MP specification's default I/O APIC
 * at 0xFEC00000 is used if it answers. 0, or
 * -ENODEV when no I/O APIC holds that GSI or the APIC id does not fit an
 * 8-bit destination. A level-triggered line needs an EOI at the local APIC,
 * which the caller's handler sends as for every interrupt.
 */
int ioapic_route_isa_irq(const struct acpi_info *acpi, uint8_t irq, uint8_t vector, uint32_t apic_id);

#endif
