/* SPDX-License-Identifier: MIT */
/* Console selection and the log sink (see console.h). */
#include "kernel/console.h"
#include "kernel/log.h"
#include "drivers/uart.h"

static struct uart con;

static void sink(const char *s, size_t n)
{
	uart_write(&con, s, n);
}

void console_init_early(const struct boot_options *o)
{
	uint16_t port = o->console == CONSOLE_IO ? o->console_port : COM1_PORT;

	if (o->console == CONSOLE_NONE)
		return;
	if (!uart_init(&con, false, port, 0,
		       o->console_baud ? o->console_baud : UART_DEFAULT_BAUD))
		log_set_sink(sink);
}

void console_init_acpi(const struct boot_options *o, const struct acpi_info *a)
{
	struct uart u;
	bool mmio;

	if (o->console != CONSOLE_AUTO || !a || !a->has_spcr)
		return;
	if (a->spcr_interface != 0) {
		pr_warn("console: SPCR names a UART of interface type %u; only 16550 is supported, staying on COM1",
			a->spcr_interface);
		return;
	}
	mmio = a->spcr_base.space_id == ACPI_GAS_MEMORY;
	if (!mmio && a->spcr_base.address == con.base)
		return;
	if (uart_init(&u, mmio, a->spcr_base.address, a->spcr_base.bit_width == 32 ? 2 : 0,
		      a->spcr_baud)) {
		pr_warn("console: SPCR UART at 0x%lx does not answer; staying on COM1",
			(unsigned long)a->spcr_base.address);
		return;
	}
	pr_info("console: moving to the SPCR UART at %s 0x%lx", mmio ? "MMIO" : "port",
		(unsigned long)a->spcr_base.address);
	con = u;
}

void console_drain(void)
{
	uart_drain(&con);
}

int console_getc(void)
{
	return uart_getc(&con);
}
