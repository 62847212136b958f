/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 front end, second half: turn GRUB's boot information (MBI) into
 * struct boot_info and enter the kernel. Multiboot2 specification 2.0,
 * section 3.6. The only file that reads Multiboot2 structures.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "kernel/memmap.h"
#include "kernel/string.h"

#define MB2_LOADER_MAGIC 0x36d76289u

enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_MODULE = 3,
	MB2_TAG_BASIC_MEMINFO = 4,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
};

enum mb2_mmap_type {
	MB2_MEM_AVAILABLE = 1,
	MB2_MEM_ACPI_RECLAIMABLE = 3,
	MB2_MEM_NVS = 4,
	MB2_MEM_BADRAM = 5,
};

#define MB2_FB_TYPE_RGB 1u

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size; /* including this header, excluding padding to 8 bytes */
};

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;
	char string[]; /* the module2 arguments after the file name */
};

struct mb2_tag_meminfo {
	struct mb2_tag tag;
	uint32_t mem_lower; /* KiB from 0 */
	uint32_t mem_upper; /* KiB from 1 MiB */
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_tag_fb {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch;
	uint32_t width;
	uint32_t height;
	uint8_t bpp;
	uint8_t fb_type;
	uint16_t reserved;
	/* fb_type RGB: */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

_Static_assert(sizeof(struct mb2_tag) == 8, "MBI tag header");
_Static_assert(sizeof(struct mb2_tag_module) == 16, "MBI module tag");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "MBI mmap tag");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "MBI mmap entry");
_Static_assert(offsetof(struct mb2_tag_fb, red_pos) == 32, "MBI framebuffer tag");
_Static_assert(KERNEL_LINK_ADDR - KERNEL_VIRT_BASE == KERNEL_LOAD_PHYS,
	       "kernel.ld loads the kernel at its link address minus KERNEL_VIRT_BASE");

#define MB2_INFO_MAX  0x100000u /* a sanity bound: real MBIs are a few KiB */
#define ACPI_RSDP_MAX 64u /* a 36-byte ACPI 2.0 RSDP, with room for a longer one */

void mb2_main(uint32_t magic, uint64_t mbi_phys) __attribute__((noreturn));
void kernel_main(struct boot_info *bi);

extern char __kernel_start[], __kernel_end[];
extern uint64_t mb2_entry_tsc; /* mb2_entry.asm: the TSC at the first instruction */

static struct boot_info mb2_bi;
static uint8_t mb2_rsdp[ACPI_RSDP_MAX] __attribute__((aligned(16)));

/* Physical address of something in the kernel image (as loaded by kernel.ld). */
static uint64_t image_phys(const void *p)
{
	return (uint64_t)p - KERNEL_LINK_ADDR + KERNEL_LOAD_PHYS;
}

/* No console exists yet: say why on COM1 and the debug port, raw, and stop. */
static __attribute__((noreturn)) void mb2_fail(const char *msg)
{
	for (const char *p = "tern: multiboot2: "; *p; p++)
		__asm__ volatile("outb %0, $0xe9; outb %0, %1" : : "a"(*p), "Nd"((uint16_t)0x3f8));
	for (; *msg; msg++)
		__asm__ volatile("outb %0, $0xe9; outb %0, %1" : : "a"(*msg), "Nd"((uint16_t)0x3f8));
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Copy a possibly unterminated string of at most len bytes. */
static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = strnlen(src, len);

	n = n < cap - 1 ? n : cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void add_module(struct boot_info *bi, const struct mb2_tag_module *m)
{
	struct boot_module *mod;
	const char *s = m->string;
	size_t len, n = 0;

	if (m->tag.size < sizeof(*m) || m->mod_end < m->mod_start ||
	    bi->nr_modules >= BOOT_MAX_MODULES)
		return;
	len = m->tag.size - sizeof(*m);
	mod = &bi->modules[bi->nr_modules];
	mod->base = m->mod_start;
	mod->size = m->mod_end - m->mod_start;
	/* The name is the first word of the module string. */
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (n < len && s[n] && s[n] != ' ' && s[n] != '\t')
		n++;
	if (n)
		copy_str(mod->name, sizeof(mod->name), s, n);
	else
		memcpy(mod->name, "module", sizeof("module"));
	bi->nr_modules++;
}

static uint32_t mem_type(uint32_t mb2_type)
{
	switch (mb2_type) {
	case MB2_MEM_AVAILABLE:        return BOOT_MEM_USABLE;
	case MB2_MEM_ACPI_RECLAIMABLE: return BOOT_MEM_ACPI_RECLAIM;
	case MB2_MEM_NVS:              return BOOT_MEM_ACPI_NVS;
	case MB2_MEM_BADRAM:           return BOOT_MEM_UNUSABLE;
	default:                       return BOOT_MEM_RESERVED;
	}
}

static void add_mem(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	if (!len || bi->nr_mem >= BOOT_MAX_MEM)
		return; /* the kernel sees less RAM; never more */
	bi->mem[bi->nr_mem++] = (struct boot_mem_region){ .base = base, .length = len, .type = type };
}

static void add_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	const uint8_t *p = (const uint8_t *)(t + 1), *end = (const uint8_t *)t + t->tag.size;

	if (t->tag.size < sizeof(*t) || t->entry_size < sizeof(struct mb2_mmap_entry))
		return;
	bi->nr_mem = 0; /* only one map counts: the last, if a loader gave two */
	for (; p + t->entry_size <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)p;

		add_mem(bi, e->base, e->length, mem_type(e->type));
	}
}

/* The legacy lower/upper sizes: used only when there is no memory map. */
static void add_meminfo(struct boot_info *bi, const struct mb2_tag_meminfo *t)
{
	if (t->tag.size < sizeof(*t))
		return;
	add_mem(bi, 0, (uint64_t)t->mem_lower << 10, BOOT_MEM_USABLE);
	add_mem(bi, 0x100000, (uint64_t)t->mem_upper << 10, BOOT_MEM_USABLE);
}

/* GRUB copies the RSDP into the MBI: keep it in the kernel image, which stays mapped. */
static void add_rsdp(struct boot_info *bi, const struct mb2_tag *t)
{
	size_t len = t->size - sizeof(*t);

	if (t->size <= sizeof(*t))
		return;
	len = len < sizeof(mb2_rsdp) ? len : sizeof(mb2_rsdp);
	memcpy(mb2_rsdp, t + 1, len);
	bi->acpi_rsdp = image_phys(mb2_rsdp);
}

/* Only direct-colour 32 bpp modes with 8-bit channels map onto struct boot_fb. */
static void add_fb(struct boot_info *bi, const struct mb2_tag_fb *t)
{
	uint32_t format;

	if (t->tag.size < sizeof(*t) || t->fb_type != MB2_FB_TYPE_RGB || t->bpp != 32 ||
	    t->red_size != 8 || t->green_size != 8 || t->blue_size != 8 || t->green_pos != 8)
		return;
	if (t->red_pos == 0 && t->blue_pos == 16)
		format = BOOT_FB_RGBX8888;
	else if (t->red_pos == 16 && t->blue_pos == 0)
		format = BOOT_FB_BGRX8888;
	else
		return;
	bi->fb = (struct boot_fb){
		.base = t->addr, .size = (uint64_t)t->pitch * t->height, .width = t->width,
		.height = t->height, .pitch = t->pitch, .format = format,
	};
}

/* Walk the tags, each checked against the MBI's total size before it is read. */
static void parse_mbi(struct boot_info *bi, const uint8_t *mbi, uint32_t total)
{
	const struct mb2_tag_meminfo *meminfo = NULL; /* a fallback for a missing map */
	bool acpi_new = false;

	for (uint32_t off = sizeof(struct mb2_info_header); off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *t = (const struct mb2_tag *)(mbi + off);

		if (t->type == MB2_TAG_END || t->size < sizeof(*t) || t->size > total - off)
			break;
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			copy_str(bi->cmdline, sizeof(bi->cmdline), (const char *)(t + 1),
				 t->size - sizeof(*t));
			break;
		case MB2_TAG_MODULE:
			add_module(bi, (const struct mb2_tag_module *)t);
			break;
		case MB2_TAG_BASIC_MEMINFO:
			meminfo = (const struct mb2_tag_meminfo *)t;
			break;
		case MB2_TAG_MMAP:
			add_mmap(bi, (const struct mb2_tag_mmap *)t);
			break;
		case MB2_TAG_FRAMEBUFFER:
			add_fb(bi, (const struct mb2_tag_fb *)t);
			break;
		case MB2_TAG_ACPI_OLD:
			if (!acpi_new)
				add_rsdp(bi, t);
			break;
		case MB2_TAG_ACPI_NEW:
			acpi_new = true;
			add_rsdp(bi, t);
			break;
		}
		off += (t->size + 7u) & ~7u;
	}
	if (!bi->nr_mem && meminfo)
		add_meminfo(bi, meminfo);
}

static void carve(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	int n = memmap_set_type(bi->mem, bi->nr_mem, BOOT_MAX_MEM, base, len, type);

	if (n < 0)
		mb2_fail("the memory map is too fragmented to reserve the boot images\r\n");
	bi->nr_mem = (uint32_t)n;
}

void mb2_main(uint32_t magic, uint64_t mbi_phys)
{
	struct boot_info *bi = &mb2_bi;
	const uint8_t *mbi = (const uint8_t *)mbi_phys; /* [0, 4 GiB) is identity-mapped */
	uint32_t total;

	if (magic != MB2_LOADER_MAGIC || !mbi_phys || (mbi_phys & 7))
		mb2_fail("not started by a Multiboot2 loader\r\n");
	total = ((const struct mb2_info_header *)mbi)->total_size;
	if (total < sizeof(struct mb2_info_header) + sizeof(struct mb2_tag) || total > MB2_INFO_MAX)
		mb2_fail("the boot information has an implausible size\r\n");
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	bi->loader = BOOT_LOADER_MULTIBOOT2;
	bi->loader_tsc = mb2_entry_tsc;
	bi->kernel_phys = KERNEL_LOAD_PHYS;
	bi->kernel_size = (uint64_t)__kernel_end - (uint64_t)__kernel_start;
	bi->nr_cpus = 0; /* the kernel reads the MADT */
	parse_mbi(bi, mbi, total);
	if (!bi->nr_mem)
		mb2_fail("the loader gave no memory map\r\n");

	/* Keep the page allocator off everything still in use or handed on. */
	carve(bi, bi->kernel_phys, bi->kernel_size, BOOT_MEM_KERNEL);
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		carve(bi, bi->modules[i].base, bi->modules[i].size, BOOT_MEM_MODULE);
	carve(bi, mbi_phys, total, BOOT_MEM_BOOT_DATA);

	/* The entry contract: boot_info by its identity-mapped physical address. */
	kernel_main((struct boot_info *)image_phys(bi));
	mb2_fail("kernel_main returned\r\n");
}
