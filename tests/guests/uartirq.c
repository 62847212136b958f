/* SPDX-License-Identifier: MIT */
/*
 * An interrupt-driven 16550 driver (PC16550D datasheet: IER, IIR, LSR;
 * OUT2 gating IRQ 4 on PCs), as operating systems have: the UART's IRQ 4
 * through the 8259A (ExtINT on LINT0). Receive interrupts collect a typed
 * line; the answer "uartirq: got 'LINE' (R rx interrupts, T tx
 * interrupts)" goes out byte by byte from THR-empty interrupts. Answers
 * three lines, then "uartirq: done".
 *
 * The receiver FIFO triggers at 14 bytes (FCR 7:6 = 11, §8.5): a line
 * shorter than that can only come in by character timeouts (IIR 0x0C), and
 * each received-data interrupt (0x04) finds at least 14 bytes. Each answer
 * also says how long the guest waited for the line, on the ACPI PM timer
 * (a device clock, 3.579545 MHz) and on the TSC: while the VM is paused the
 * first stands and the second runs on.
 */
#include "tests/guests/guest.h"
#include "tests/guests/apic.h"
#include "tests/guests/tick.h"
#include "kernel/fmt.h"

#define COM1        0x3f8u
#define REG_IER     1u
#define REG_IIR     2u
#define REG_FCR     2u
#define REG_LCR     3u
#define REG_MCR     4u
#define REG_LSR     5u
#define REG_MSR     6u
#define IER_RX      0x01u
#define IER_TX      0x02u
#define MCR_OUT2    0x08u
#define VEC_PIC     0x20u
#define VEC_COM1    (VEC_PIC + 4)
#define APIC_REG_LVT_LINT0 0x350u
#define LVT_EXTINT  (7u << 8)
#define LINES       3u
#define TRIGGER     14u         /* FCR 7:6 = 11 */
#define PM_TMR      0x608u      /* Tern's PM1 timer (FADT PM_TMR_BLK), 32 bits */
#define PM_HZ       3579545u
#define TXQ         512u

const char guest_name[] = "uartirq";

static volatile char txq[TXQ];
static volatile uint32_t tx_head, tx_tail;
static char line[128];
static volatile uint32_t len;
static volatile bool have_line;
static volatile uint32_t tx_irqs;
static volatile bool tx_done; /* the answer's last byte went out */
/* This line's: data and timeout interrupts, bytes taken, fewest bytes a data interrupt found. */
static volatile uint32_t rda_irqs, cti_irqs, rx_bytes, rda_least;

static void rx_byte(char c)
{
	if (have_line)
		return;
	if (c == '\r' || c == '\n')
		have_line = len > 0;
	else if (len < sizeof(line) - 1)
		line[len++] = c;
}

/* IIR names the highest-priority source until none is left (datasheet, IIR). */
static void uart_irq(struct guest_trap_frame *f)
{
	for (;;) {
		uint8_t iir = inb(COM1 + REG_IIR);

		if (iir & 1)
			break;
		switch (iir & 0x0e) {
		case 0x04: /* received data available */
		case 0x0c: { /* character timeout */
			uint32_t n = 0;

			for (; inb(COM1 + REG_LSR) & 1; n++)
				rx_byte((char)inb(COM1));
			rx_bytes = rx_bytes + n;
			if ((iir & 0x0e) == 0x0c) {
				cti_irqs = cti_irqs + 1;
			} else {
				rda_irqs = rda_irqs + 1;
				if (n < rda_least)
					rda_least = n;
			}
			break;
		}
		case 0x02: /* THR empty */
			tx_irqs = tx_irqs + 1;
			if (tx_tail != tx_head) {
				outb(COM1, (uint8_t)txq[tx_tail % TXQ]);
				tx_tail = tx_tail + 1;
			} else {
				outb(COM1 + REG_IER, IER_RX); /* nothing to send: no more THRE interrupts */
				tx_done = true;
			}
			break;
		default:
			(void)inb(COM1 + REG_LSR);
			(void)inb(COM1 + REG_MSR);
		}
	}
	outb(0x20, 0x20);
}

static void spurious(struct guest_trap_frame *f)
{
}

/* Queue s; enabling the THRE interrupt with THR empty raises it at once. */
static void tx_puts(const char *s)
{
	__asm__ volatile("cli" ::: "memory");
	for (; *s; s++) {
		txq[tx_head % TXQ] = *s;
		tx_head = tx_head + 1;
	}
	outb(COM1 + REG_IER, IER_RX | IER_TX);
	__asm__ volatile("sti" ::: "memory");
}

/*
 * Halts until *cond: interrupts off for the test, STI's shadow keeping the
 * one that ends the wait from coming between the test and HLT (SDM vol. 2B,
 * STI), which would halt past it.
 */
static void wait_until(volatile bool *cond)
{
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		if (*cond)
			break;
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	__asm__ volatile("sti" ::: "memory");
}

static void reset_counts(void)
{
	rda_irqs = cti_irqs = rx_bytes = 0;
	rda_least = ~0u;
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	static char out[256];
	uint64_t khz = tick_tsc_khz(), tsc0;
	uint32_t pm0;

	guest_trap_install(NULL);
	guest_irq_install(VEC_COM1, uart_irq);
	guest_irq_install(VEC_PIC + 7, spurious);
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	x2apic_write(APIC_REG_LVT_LINT0, LVT_EXTINT);
	outb(0x20, 0x11); outb(0x21, VEC_PIC); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, VEC_PIC + 8); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, 0xef); /* IRQ 4 only */
	outb(0xa1, 0xff);
	outb(COM1 + REG_LCR, 0x03);       /* 8N1 */
	outb(COM1 + REG_FCR, 0xc7);       /* FIFOs on and cleared, trigger at 14 bytes */
	outb(COM1 + REG_MCR, 0x03 | MCR_OUT2);
	outb(COM1 + REG_IER, IER_RX);
	reset_counts();
	guest_log("ready");
	__asm__ volatile("sti" ::: "memory");
	tsc0 = rdtsc();
	pm0 = inl(PM_TMR);
	for (unsigned int n = 0; n < LINES; n++) {
		uint32_t pm_ms, tsc_ms;

		wait_until(&have_line);
		pm_ms = (uint32_t)((uint64_t)(inl(PM_TMR) - pm0) * 1000 / PM_HZ);
		tsc_ms = (uint32_t)((rdtsc() - tsc0) / khz);
		__asm__ volatile("cli" ::: "memory");
		line[len] = 0;
		fmt_snprintf(out, sizeof(out), "uartirq: got '%s' (%u rx interrupts, %u tx interrupts;"
			     " %u data, %u timeout, %u bytes, least %u; waited %u ms pm, %u ms tsc)\n",
			     line, rda_irqs + cti_irqs, tx_irqs, rda_irqs, cti_irqs, rx_bytes,
			     rda_irqs ? rda_least : TRIGGER, pm_ms, tsc_ms);
		len = 0;
		reset_counts();
		have_line = false;
		tx_done = false;
		__asm__ volatile("sti" ::: "memory");
		tx_puts(out);
		wait_until(&tx_done);
		tsc0 = rdtsc();
		pm0 = inl(PM_TMR);
	}
	__asm__ volatile("cli" ::: "memory");
	outb(COM1 + REG_IER, 0);
	guest_log("done");
	guest_halt();
}
