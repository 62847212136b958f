/* SPDX-License-Identifier: MIT */
/*
 * A Multiboot v1 test kernel (32-bit, no paging) for the management shell's
 * kernel loader (tools/mgmt/kload.c, tests/integration/test_mb1.py). Checks
 * the entry magic, then prints on COM1 one line each for what the loader gave
 * (Multiboot Specification 0.6.96, 3.3 Boot information format): the magic,
 * mem_lower/mem_upper, every memory-map entry, the command line, and each
 * module with the FNV-1a hash of its bytes. It checks that everything the
 * loader wrote lies in RAM the map calls type 1 and clear of the kernel
 * ("mb1: error: ..." lines). Then it waits for one byte on COM1 (so the host
 * may attach to its console before it goes) and powers the VM off through
 * ACPI PM1a S5 (docs/devices.md, "Power-off and reset").
 *
 * Output, one line each ([...] is the string itself, which holds no newline):
 *   mb1: magic 0xMAGIC flags 0xFLAGS
 *   mb1: mem lower N upper N
 *   mb1: mmap base 0xBASE len 0xLEN type N
 *   mb1: cmdline [WORDS]
 *   mb1: mod N start 0xS end 0xE fnv 0xH string [WORDS]
 *   mb1: kernel 0xSTART-0xEND
 *   mb1: error: WHAT
 *   mb1: ready: N errors; a key powers off
 */
#include <stdint.h>

#define MB_MAGIC        0x2badb002u
#define MBI_MEM         0x001u
#define MBI_CMDLINE     0x004u
#define MBI_MODS        0x008u
#define MBI_MMAP        0x040u
#define MB_RAM          1u

/* 16550 COM1 (PC16550D): THR/RBR at +0, LSR at +5 with DR (bit 0) and THRE (bit 5). */
#define COM1            0x3f8u
#define UART_LSR        5u
#define LSR_DR          0x01u
#define LSR_THRE        0x20u
/* Tern's ACPI PM1a control block (docs/devices.md): SLP_TYP 5 with SLP_EN is S5. */
#define PM1A_CNT        0x604u
#define SLP_TYP_S5      (5u << 10)
#define SLP_EN          (1u << 13)

#define FNV_OFFSET      0x811c9dc5u
#define FNV_PRIME       0x01000193u

/* 3.3: the fields this kernel reads. */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mod {
	uint32_t start, end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

extern char __image_start[], __bss_end[];
void mb1_main(uint32_t magic, uint32_t mbi_pa);

static unsigned int errors;
static const struct mb_info *mbi;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1, (uint8_t)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

/* A string from the loader, at most max bytes: newlines shown as '?' to keep one line. */
static void put_str(uint32_t pa, uint32_t max)
{
	const char *s = (const char *)(uintptr_t)pa;

	for (uint32_t i = 0; i < max && s[i]; i++)
		putc(s[i] == '\n' || s[i] == '\r' ? '?' : s[i]);
}

static void put_hex(uint64_t v)
{
	char buf[17];
	int n = 0;

	puts("0x");
	do {
		buf[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n)
		putc(buf[--n]);
}

static void put_dec(uint32_t v)
{
	char buf[11];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putc(buf[--n]);
}

static uint32_t str_len(uint32_t pa)
{
	const char *s = (const char *)(uintptr_t)pa;
	uint32_t n = 0;

	while (s[n])
		n++;
	return n;
}

static void error(const char *what, uint64_t a, uint64_t b)
{
	errors++;
	puts("mb1: error: ");
	puts(what);
	puts(" [");
	put_hex(a);
	puts(", ");
	put_hex(b);
	puts(")\n");
}

/* [a, b) lies in one type-1 map entry and does not overlap the kernel image. */
static void check_range(const char *what, uint64_t a, uint64_t b)
{
	uint64_t ks = (uintptr_t)__image_start, ke = (uintptr_t)__bss_end;
	int in_ram = 0;

	if (mbi->flags & MBI_MMAP) {
		for (uint32_t off = 0; off + sizeof(struct mb_mmap) <= mbi->mmap_length;) {
			const struct mb_mmap *e = (const struct mb_mmap *)(uintptr_t)(mbi->mmap_addr + off);

			if (e->type == MB_RAM && a >= e->base && b <= e->base + e->len)
				in_ram = 1;
			off += e->size + 4;
		}
	}
	if (!in_ram)
		error(what, a, b);
	if (a < ke && ks < b)
		error(what, a, b);
}

static uint32_t fnv1a(uint32_t start, uint32_t end)
{
	uint32_t h = FNV_OFFSET;

	for (uint32_t pa = start; pa < end; pa++)
		h = (h ^ *(const uint8_t *)(uintptr_t)pa) * FNV_PRIME;
	return h;
}

void mb1_main(uint32_t magic, uint32_t mbi_pa)
{
	mbi = (const struct mb_info *)(uintptr_t)mbi_pa;
	puts("mb1: magic ");
	put_hex(magic);
	if (magic != MB_MAGIC) {
		puts("\nmb1: error: not entered by a Multiboot loader\n");
		return;
	}
	puts(" flags ");
	put_hex(mbi->flags);
	putc('\n');
	check_range("multiboot information", mbi_pa, mbi_pa + sizeof(*mbi));
	if (mbi->flags & MBI_MEM) {
		puts("mb1: mem lower ");
		put_dec(mbi->mem_lower);
		puts(" upper ");
		put_dec(mbi->mem_upper);
		putc('\n');
	} else {
		error("no mem_lower/mem_upper (flags bit 0)", mbi->flags, 0);
	}
	if (mbi->flags & MBI_MMAP) {
		check_range("memory map", mbi->mmap_addr, (uint64_t)mbi->mmap_addr + mbi->mmap_length);
		for (uint32_t off = 0; off + sizeof(struct mb_mmap) <= mbi->mmap_length;) {
			const struct mb_mmap *e = (const struct mb_mmap *)(uintptr_t)(mbi->mmap_addr + off);

			puts("mb1: mmap base ");
			put_hex(e->base);
			puts(" len ");
			put_hex(e->len);
			puts(" type ");
			put_dec(e->type);
			putc('\n');
			off += e->size + 4;
		}
	} else {
		error("no memory map (flags bit 6)", mbi->flags, 0);
	}
	if (mbi->flags & MBI_CMDLINE) {
		check_range("command line", mbi->cmdline, (uint64_t)mbi->cmdline + str_len(mbi->cmdline) + 1);
		puts("mb1: cmdline [");
		put_str(mbi->cmdline, 4096);
		puts("]\n");
	}
	if (mbi->flags & MBI_MODS) {
		const struct mb_mod *m = (const struct mb_mod *)(uintptr_t)mbi->mods_addr;

		check_range("module list", mbi->mods_addr,
			    (uint64_t)mbi->mods_addr + (uint64_t)mbi->mods_count * sizeof(*m));
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			puts("mb1: mod ");
			put_dec(i);
			puts(" start ");
			put_hex(m[i].start);
			puts(" end ");
			put_hex(m[i].end);
			if (m[i].end < m[i].start) {
				error("module ends before it starts", m[i].start, m[i].end);
				continue;
			}
			check_range("module", m[i].start, m[i].end);
			if (m[i].start & 0xfff)
				error("module not page-aligned (flags bit 0)", m[i].start, m[i].end);
			puts(" fnv ");
			put_hex(fnv1a(m[i].start, m[i].end));
			puts(" string [");
			if (m[i].string)
				put_str(m[i].string, 4096);
			puts("]\n");
			if (m[i].string)
				check_range("module string", m[i].string,
					    (uint64_t)m[i].string + str_len(m[i].string) + 1);
		}
	}
	puts("mb1: kernel ");
	put_hex((uintptr_t)__image_start);
	putc('-');
	put_hex((uintptr_t)__bss_end);
	puts("\nmb1: ready: ");
	put_dec(errors);
	puts(" errors; a key powers off\n");
	while (!(inb(COM1 + UART_LSR) & LSR_DR))
		for (int i = 0; i < 10000; i++) /* fewer port exits while waiting */
			__asm__ volatile("pause");
	(void)inb(COM1);
	puts("mb1: powering off (ACPI S5)\n");
	outw(PM1A_CNT, SLP_TYP_S5 | SLP_EN);
}
