/* SPDX-License-Identifier: MIT */
/* Segment descriptors, TSS and IDT (SDM vol. 3A ch. 3, 6.14, 8.7). */
#ifndef TERN_ARCH_DESC_H
#define TERN_ARCH_DESC_H

#include <stdint.h>

#define GDT_NULL      0x00u
#define GDT_KERNEL_CS 0x08u
#define GDT_KERNEL_DS 0x10u
#define GDT_TSS       0x18u
#define GDT_ENTRIES   5u

/* IST slots (1-based as in the IDT gate). */
#define IST_DF  1u
#define IST_NMI 2u
#define IST_MC  3u
#define IST_COUNT 3u

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed, aligned(16)));
_Static_assert(sizeof(struct tss) == 104 + 8, "64-bit TSS is 104 bytes (padded to 16)");

struct gdt {
	uint64_t entry[GDT_ENTRIES];
} __attribute__((aligned(16)));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

#define IDT_ENTRIES 256u

/* Exception vectors (SDM vol. 3A table 6-1). */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_OF 4
#define VEC_BR 5
#define VEC_UD 6
#define VEC_NM 7
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_MF 16
#define VEC_AC 17
#define VEC_MC 18
#define VEC_XM 19
#define VEC_VE 20
#define VEC_CP 21
#define VEC_FIRST_IRQ 32

/* Fixed interrupt vectors Tern uses. */
#define VEC_LEGACY_PIC   0x20 /* 8259A, masked: 0x20-0x2f */
#define VEC_IPI_STOP     0xf0
#define VEC_IPI_KICK     0xf1
#define VEC_APIC_TIMER   0xfe
#define VEC_SPURIOUS     0xff

void gdt_init(struct gdt *gdt, struct tss *tss);
void gdt_load(const struct gdt *gdt);
void idt_init(void);
void idt_load(void);

#endif
