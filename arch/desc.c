/* SPDX-License-Identifier: MIT */
/* GDT with a TSS per CPU, one shared IDT (SDM vol. 3A 3.4.5, 6.14.1, 8.7). */
#include "arch/desc.h"
#include "arch/x86.h"

#define SEG_P     BIT(47)
#define SEG_S     BIT(44) /* code/data, not system */
#define SEG_CODE  BIT(43)
#define SEG_RW    BIT(41)
#define SEG_L     BIT(53) /* 64-bit code */
#define SEG_G     BIT(55)
#define SEG_LIMIT 0x000f00000000ffffull
#define TSS_TYPE_AVAIL 0x9ull

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
extern const uint64_t idt_stub_table[IDT_ENTRIES];

void gdt_init(struct gdt *gdt, struct tss *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	gdt->entry[0] = 0;
	gdt->entry[GDT_KERNEL_CS / 8] = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_L | SEG_G | SEG_LIMIT;
	gdt->entry[GDT_KERNEL_DS / 8] = SEG_P | SEG_S | SEG_RW | SEG_G | SEG_LIMIT;
	gdt->entry[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				  (TSS_TYPE_AVAIL << 40) | SEG_P | (((limit >> 16) & 0xf) << 48) |
				  (((base >> 24) & 0xff) << 56);
	gdt->entry[GDT_TSS / 8 + 1] = base >> 32;
	tss->iomap_base = sizeof(*tss); /* no I/O bitmap */
}

void gdt_load(const struct gdt *gdt)
{
	struct desc_ptr p = { .limit = sizeof(*gdt) - 1, .base = (uint64_t)gdt };

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "ltr %w3"
			 : : "m"(p), "i"((uint64_t)GDT_KERNEL_CS), "i"(GDT_KERNEL_DS), "r"(GDT_TSS)
			 : "rax", "memory");
}

static uint8_t ist_for(unsigned int vec)
{
	switch (vec) {
	case 8: return IST_DF;
	case 2: return IST_NMI;
	case 18: return IST_MC;
	default: return 0;
	}
}

void idt_init(void)
{
	for (unsigned int v = 0; v < IDT_ENTRIES; v++) {
		uint64_t a = idt_stub_table[v];

		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)a,
			.selector = GDT_KERNEL_CS,
			.ist = ist_for(v),
			.type_attr = GATE_INTERRUPT,
			.offset_mid = (uint16_t)(a >> 16),
			.offset_hi = (uint32_t)(a >> 32),
		};
	}
}

void idt_load(void)
{
	struct desc_ptr p = { .limit = sizeof(idt) - 1, .base = (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(p));
}
