/* SPDX-License-Identifier: MIT */
/*
 * The legacy 8259A PICs: moved off the exception vectors and masked. A BIOS
 * leaves IRQ0 on vector 8, where a timer tick would look like a double fault.
 */
#include "drivers/pic.h"
#include "arch/x86.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086      0x01
#define OCW2_NONSPECIFIC_EOI 0x20
#define PIC_CASCADE_IRQ 2

void pic_disable(uint8_t base)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, base);       /* ICW2: vector base */
	outb(PIC2_DATA, base + 8);
	outb(PIC1_DATA, 4);          /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xff);       /* mask everything */
	outb(PIC2_DATA, 0xff);
}

/* OCW1: clear the IRQ's mask bit (the slave's also needs the cascade line open). */
void pic_unmask(uint8_t irq)
{
	if (irq >= 8) {
		outb(PIC2_DATA, inb(PIC2_DATA) & (uint8_t)~(1u << (irq - 8)));
		irq = PIC_CASCADE_IRQ;
	}
	outb(PIC1_DATA, inb(PIC1_DATA) & (uint8_t)~(1u << irq));
}

/* OCW2 non-specific EOI, to the slave too for IRQs 8-15. */
void pic_eoi(uint8_t irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_NONSPECIFIC_EOI);
	outb(PIC1_CMD, OCW2_NONSPECIFIC_EOI);
}
