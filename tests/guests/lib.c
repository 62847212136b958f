/* SPDX-License-Identifier: MIT */
/* Console output for test guests: bytes to the virtual 16550, one line at a time. */
#include "tests/guests/guest.h"

#include <stdarg.h>
#include <stddef.h>

#include "kernel/fmt.h"

/* Longer lines are cut short but still end in '\n'. */
#define GUEST_LINE_MAX 160

/*
 * No LSR polling: Tern's UART is always ready (LSR = 0x60), and each port
 * access is a VM exit, so polling would double the cost of every byte.
 */
void guest_putc(char c)
{
	outb(UART_COM1_PORT, (uint8_t)c);
}

void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
}

void guest_printf(const char *fmt, ...)
{
	char line[GUEST_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	guest_puts(line);
}

void guest_log(const char *fmt, ...)
{
	char line[GUEST_LINE_MAX];
	size_t len;
	va_list ap;

	/* Leave room for the '\n' whatever the message's length. */
	len = (size_t)fmt_snprintf(line, sizeof(line) - 1, "%s: ", guest_name);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	va_start(ap, fmt);
	len += (size_t)fmt_vsnprintf(line + len, sizeof(line) - 1 - len, fmt, ap);
	va_end(ap);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len] = '\n';
	line[len + 1] = '\0';
	guest_puts(line);
}

void guest_done(void)
{
	guest_log("done");
	guest_halt();
}
