/* SPDX-License-Identifier: MIT */
/*
 * Power off: ACPI S5 through PM1a/PM1b_CNT (ACPI 6.4 4.8.3.2, 16.1.7). Reset:
 * the FADT reset register, then the 8042, then port 0xCF9, then a triple
 * fault. Where there are no ACPI tables (OVMF under Bochs) the emulators' own
 * power-off ports are the fallback.
 */
#include "drivers/power.h"
#include "drivers/tsc.h"
#include "arch/desc.h"
#include "arch/x86.h"
#include "drivers/console.h"
#include "kernel/log.h"

#define SLP_EN        (1u << 13)
#define SLP_TYP_SHIFT 10
#define QEMU_Q35_PM1A_CNT  0x604  /* QEMU ich9 */
#define BOCHS_PM1A_CNT     0xb004 /* Bochs / QEMU piix4 */
#define BOCHS_SHUTDOWN     0x8900 /* Bochs: write "Shutdown" */
#define KBC_CMD            0x64
#define KBC_RESET          0xfe
#define RST_CNT            0xcf9

static void gas_write16(const struct acpi_gas *g, uint16_t v)
{
	if (!g->address)
		return;
	if (g->space_id == ACPI_GAS_IO)
		outw((uint16_t)g->address, v);
	else
		*(volatile uint16_t *)g->address = v;
}

static void acpi_s5(const struct acpi_info *a)
{
	if (!a || !a->has_fadt || !a->has_s5 || a->hw_reduced)
		return;
	gas_write16(&a->pm1a_cnt, (uint16_t)(a->s5_slp_typa << SLP_TYP_SHIFT | SLP_EN));
	gas_write16(&a->pm1b_cnt, (uint16_t)(a->s5_slp_typb << SLP_TYP_SHIFT | SLP_EN));
	udelay(100000);
}

void power_off(const struct acpi_info *acpi)
{
	const char *s = "Shutdown";

	console_drain();
	irq_disable();
	acpi_s5(acpi);
	if (!acpi || !acpi->has_fadt) {
		outw(QEMU_Q35_PM1A_CNT, SLP_EN);
		outw(BOCHS_PM1A_CNT, SLP_EN);
		while (*s)
			outb(BOCHS_SHUTDOWN, (uint8_t)*s++);
		udelay(100000);
	}
	log_raw("power: power-off did not take effect; halted. It is safe to switch off.\n");
	console_drain();
	cpu_stop();
}

void power_reset(const struct acpi_info *acpi)
{
	struct desc_ptr none = { 0, 0 };

	console_drain();
	irq_disable();
	if (acpi && acpi->reset_supported && acpi->reset_reg.space_id == ACPI_GAS_IO) {
		outb((uint16_t)acpi->reset_reg.address, acpi->reset_value);
		udelay(100000);
	}
	outb(KBC_CMD, KBC_RESET);
	udelay(100000);
	outb(RST_CNT, 0x02);
	outb(RST_CNT, 0x06);
	udelay(100000);
	__asm__ volatile("lidt %0; int3" : : "m"(none));
	cpu_stop();
}

static const struct acpi_info *tables;

void power_set_acpi(const struct acpi_info *acpi) { tables = acpi; }

void power_action(enum boot_action action)
{
	switch (action) {
	case ACTION_POWEROFF:
		log_raw("tern: powering off\n");
		power_off(tables);
	case ACTION_REBOOT:
		log_raw("tern: rebooting\n");
		power_reset(tables);
	case ACTION_HALT:
	default:
		log_raw("tern: halted\n");
		console_drain();
		cpu_stop();
	}
}
