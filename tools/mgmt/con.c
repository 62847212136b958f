/* SPDX-License-Identifier: MIT */
/*
 * The serial console (the management guest's virtual UART is Tern's serial
 * port) and guest time. Every port access is a VM exit, so the UART is read
 * once per tick of a periodic local APIC timer, with the vCPU halted in
 * between, never busy-polled.
 */
#include "tools/mgmt/mgmt.h"

#include <stdarg.h>

#include "kernel/fmt.h"
#include "tests/guests/apic.h"

#define TICK_VECTOR  0x40u
#define SPURIOUS_VEC 0xffu
/*
 * Typed bytes read but not yet used (the line editor takes them between
 * commands). When it is full, reading stops and the rest waits in the
 * hypervisor's receive buffer: nothing is dropped here.
 */
#define INPUT_MAX    4096u   /* power of two */
#define RX_PER_POLL  256u    /* the virtual UART's FIFO holds as many */
#define CON_LINE_MAX 512u

static uint8_t input[INPUT_MAX];
static uint32_t in_head, in_tail; /* bytes queued: in_head - in_tail */
static volatile uint64_t ticks;

/*
 * One byte to the UART. THRE, looked at once a FIFO's worth (16 bytes, what a
 * 16550 takes on THRE), says the serial line has room: Tern shows it busy
 * while its console queue is full, so output waits for the line instead of
 * being dropped. The wait is bounded: a line that never drains loses bytes,
 * it does not hang the shell.
 */
#define TX_BURST    16u
#define TX_WAIT_MAX 1000000u /* LSR reads, each a VM exit: seconds */

static void con_out(uint8_t c)
{
	static unsigned int burst;

	if (!burst) {
		for (unsigned int i = 0; i < TX_WAIT_MAX; i++)
			if (inb(UART_COM1_PORT + UART_LSR) & UART_LSR_THRE)
				break;
		burst = TX_BURST;
	}
	burst--;
	outb(UART_COM1_PORT, c);
}

void con_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		con_out((uint8_t)s[i]);
}

void con_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			con_out('\r');
		con_out((uint8_t)*s);
	}
}

void con_printf(const char *fmt, ...)
{
	char line[CON_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	con_puts(line);
}

void con_poll(void)
{
	for (unsigned int i = 0; i < RX_PER_POLL && in_head - in_tail < INPUT_MAX; i++) {
		if (!(inb(UART_COM1_PORT + UART_LSR) & UART_LSR_DR))
			return;
		input[in_head++ % INPUT_MAX] = inb(UART_COM1_PORT + UART_RBR);
	}
}

int con_getc(void)
{
	if (in_head == in_tail)
		return -1;
	return input[in_tail++ % INPUT_MAX];
}

bool con_take(uint8_t c)
{
	for (uint32_t i = in_tail; i != in_head; i++) {
		if (input[i % INPUT_MAX] == c) {
			in_tail = i + 1;
			return true;
		}
	}
	return false;
}

static void tick_irq(struct guest_trap_frame *f)
{
	ticks++;
	x2apic_write(APIC_REG_EOI, 0);
}

/* A spurious interrupt needs no EOI (SDM Vol. 3A, 10.9). */
static void spurious_irq(struct guest_trap_frame *f)
{
}

void tick_init(void)
{
	uint64_t count = mgmt.tsc_khz * 1000 / MGMT_HZ;

	if (!count || count > UINT32_MAX)
		count = count ? UINT32_MAX : 1000000u;
	guest_trap_install(NULL);
	guest_irq_install(TICK_VECTOR, tick_irq);
	guest_irq_install(SPURIOUS_VEC, spurious_irq);
	x2apic_enable();
	x2apic_write(APIC_REG_TPR, 0);
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | SPURIOUS_VEC);
	x2apic_write(APIC_REG_TDCR, APIC_TDCR_DIV_1);
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | TICK_VECTOR);
	x2apic_write(APIC_REG_TMICT, count);
	__asm__ volatile("sti" : : : "memory");
}

void tick_wait(void)
{
	uint64_t seen = ticks;

	while (ticks == seen) {
		/* The STI shadow covers HLT: a tick between the test and HLT still wakes it. */
		__asm__ volatile("cli" : : : "memory");
		if (ticks == seen)
			__asm__ volatile("sti; hlt" : : : "memory");
		__asm__ volatile("sti" : : : "memory");
	}
}

uint64_t tsc_now(void)
{
	return rdtsc();
}

uint64_t tsc_to_us(uint64_t t)
{
	if (!mgmt.tsc_khz)
		return 0;
	/* Split so that t * 1000 cannot overflow for any realistic interval. */
	return t / mgmt.tsc_khz * 1000 + t % mgmt.tsc_khz * 1000 / mgmt.tsc_khz;
}

uint64_t us_to_tsc(uint64_t us)
{
	return us * mgmt.tsc_khz / 1000;
}
