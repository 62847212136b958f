/* SPDX-License-Identifier: MIT */
/* Console output for test guests: bytes to the virtual 16550, one line at a time. */
#include "tests/guests/guest.h"

#include <stdarg.h>
#include <stddef.h>

#include "kernel/fmt.h"

/* Longer lines are cut short but still end in '\n'. */
#define GUEST_LINE_MAX 160

/*
 * A ticket lock around each formatted print, so lines from different vCPUs
 * do not interleave. Not recursive: a guest that takes interrupts prints
 * with them off or prints from no handler (the held section is port writes
 * only, which do not fault, so exception-time ERROR reports cannot meet it).
 */
static struct {
	uint32_t next;
	uint32_t owner;
} console_lock;

static void console_acquire(void)
{
	uint32_t ticket = __atomic_fetch_add(&console_lock.next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&console_lock.owner, __ATOMIC_ACQUIRE) != ticket)
		__asm__ volatile("pause");
}

static void console_release(void)
{
	__atomic_store_n(&console_lock.owner, console_lock.owner + 1, __ATOMIC_RELEASE);
}

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
	console_acquire();
	guest_puts(line);
	console_release();
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
	console_acquire();
	guest_puts(line);
	console_release();
}

void guest_done(void)
{
	guest_log("done");
	guest_halt();
}
