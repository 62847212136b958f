/* SPDX-License-Identifier: MIT */
/* Kernel image detection and load plans (see kload.h): pure logic. */
#include "tools/mgmt/kload.h"

#include <stdarg.h>

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "vmm/elf.h"

#define MiB 0x100000ull
#define GiB4 0x100000000ull
#define PAGE 0x1000ull

/* boot.rst, "The real-mode kernel header": offsets in the image and in struct boot_params. */
#define BZ_SETUP_SECTS   0x1f1
#define BZ_SYSSIZE       0x1f4
#define BZ_BOOT_FLAG     0x1fe
#define BZ_JUMP          0x200
#define BZ_HEADER        0x202
#define BZ_VERSION       0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS     0x211
#define BZ_CODE32_START  0x214
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE  0x21c
#define BZ_HEAP_END_PTR  0x224
#define BZ_EXT_LOADER    0x226
#define BZ_CMD_LINE_PTR  0x228
#define BZ_INITRD_MAX    0x22c
#define BZ_KERNEL_ALIGN  0x230
#define BZ_RELOCATABLE   0x234
#define BZ_XLOADFLAGS    0x236
#define BZ_CMDLINE_SIZE  0x238
#define BZ_SUBARCH       0x23c
#define BZ_SUBARCH_DATA  0x240
#define BZ_SETUP_DATA    0x250
#define BZ_PREF_ADDRESS  0x258
#define BZ_INIT_SIZE     0x260
#define BZ_HDR_MIN_END   0x268     /* through handover_offset: every 2.12 header */
#define BZ_HDR_MAX_END   0x290     /* edd_mbr_sig_buffer follows the header */
#define BZ_HDRS          0x53726448u /* "HdrS" */
#define BZ_64BIT_OFFSET  0x200ull  /* 64-bit entry: loaded kernel + 0x200 */
#define LOADED_HIGH      0x01u
#define CAN_USE_HEAP     0x80u
#define XLF_KERNEL_64    0x01u
/* struct boot_params (arch/x86/include/uapi/asm/bootparam.h). */
#define ZP_ACPI_RSDP     0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE  0x0c4
#define ZP_EXT_CMD_LINE_PTR  0x0c8
#define ZP_E820_ENTRIES  0x1e8
#define ZP_E820_TABLE    0x2d0
#define E820_RAM         1u
#define E820_RESERVED    2u
/* The legacy hole carved out of low RAM: EBDA (last KiB of 640 KiB), VGA, option and BIOS ROMs. */
#define LOW_HOLE_START   0x9fc00ull
#define LOW_HOLE_END     0x100000ull

/* Multiboot Specification 0.6.96, 3.1 (header) and 3.3 (information). */
#define MB_HDR_MAGIC     0x1badb002u
#define MB_SEARCH        8192u
#define MB_PAGE_ALIGN    0x00001u
#define MB_MEMORY_INFO   0x00002u
#define MB_VIDEO_MODE    0x00004u
#define MB_AOUT_KLUDGE   0x10000u
#define MBI_MEM          0x001u
#define MBI_CMDLINE      0x004u
#define MBI_MODS         0x008u
#define MBI_MMAP         0x040u
#define MBI_LOADER_NAME  0x200u
#define MBI_SIZE         0x74u
#define MB_MMAP_OFF      0x200u    /* offsets in the boot block (see kload.h) */
#define MB_MODS_OFF      0x600u
#define MB_NAME_OFF      0x640u
#define MB_MODSTR_OFF    0x680u
#define MB_BLOCK_LEN     0x1000u

/* ELF32 (System V gABI) for Multiboot kernels without a.out addresses. */
#define ELFCLASS32       1
#define EM_386           3
#define ELF32_EHDR       52u
#define ELF32_PHDR       32u

/* Long mode and protected mode (SDM Vol. 3A, 2.5 control registers, 4.5 paging, 3.4.5 descriptors). */
#define CR0_PE  0x00000001ull
#define CR0_ET  0x00000010ull
#define CR0_NE  0x00000020ull
#define CR0_PG  0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define PTE_P   0x1ull
#define PTE_W   0x2ull
#define PTE_PS  0x80ull
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_CODE32 0x00cf9b000000ffffull
#define GDT_DATA   0x00cf93000000ffffull
#define RFLAGS_RESERVED 0x2ull

#define MAX_CLAIMS (KLOAD_MAX_COPIES + 2)

struct claim {
	uint64_t gpa, end;
	const char *what;
};

struct ctx {
	const struct kload_in *in;
	struct kload_plan *p;
	uint8_t *boot;
	unsigned int nclaim;
	struct claim claim[MAX_CLAIMS];
};

static int fail(struct kload_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct kload_plan *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t rd(const uint8_t *b, uint64_t off, unsigned int n)
{
	uint64_t v = 0;

	memcpy(&v, b + off, n);
	return v;
}

static void wr(uint8_t *b, uint64_t off, uint64_t v, unsigned int n)
{
	memcpy(b + off, &v, n);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static unsigned long long mib_up(uint64_t v)
{
	return (unsigned long long)((v + MiB - 1) / MiB);
}

const char *kload_kind_name(enum kload_kind kind)
{
	static const char *const names[] = { "none", "bzImage", "vmlinux", "multiboot" };

	return (unsigned int)kind < 4 ? names[kind] : "?";
}

/* --- detection --------------------------------------------------------- */

static int detect_bz(const uint8_t *img, uint64_t len, struct kload_plan *p)
{
	struct kload_bzhdr *h = &p->bz;
	uint64_t rest, pm;

	if (len < BZ_VERSION + 2)
		return fail(p, "bzImage header truncated (%llu bytes)", (unsigned long long)len);
	h->version = (uint16_t)rd(img, BZ_VERSION, 2);
	if (h->version < 0x206)
		return fail(p, "boot protocol %u.%02u is too old (2.06 needed)", h->version >> 8,
			    h->version & 0xffu);
	if (h->version < 0x20c)
		return fail(p, "boot protocol %u.%02u has no 64-bit entry (xloadflags: 2.12 needed)",
			    h->version >> 8, h->version & 0xffu);
	h->hdr_end = BZ_HEADER + (uint64_t)img[BZ_JUMP + 1];
	if (h->hdr_end < BZ_HDR_MIN_END || h->hdr_end > BZ_HDR_MAX_END)
		return fail(p, "setup header ends at 0x%llx, not in [0x%x, 0x%x]",
			    (unsigned long long)h->hdr_end, BZ_HDR_MIN_END, BZ_HDR_MAX_END);
	if (len < h->hdr_end)
		return fail(p, "bzImage truncated in its setup header");
	h->xloadflags = (uint16_t)rd(img, BZ_XLOADFLAGS, 2);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return fail(p, "bzImage has no 64-bit entry (XLF_KERNEL_64 clear)");
	h->setup_sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	h->setup_off = ((uint64_t)h->setup_sects + 1) * 512;
	if (h->setup_off >= len)
		return fail(p, "setup_sects %u puts the kernel beyond the image (%llu bytes)",
			    h->setup_sects, (unsigned long long)len);
	h->syssize = (uint32_t)rd(img, BZ_SYSSIZE, 4);
	rest = len - h->setup_off;
	pm = (uint64_t)h->syssize * 16;
	if (!pm || pm > align_up(rest, 16))
		return fail(p, pm ? "bzImage truncated: syssize 0x%x says %llu bytes of kernel, the "
				    "image has %llu" : "bzImage syssize 0x%x (%llu bytes) with %llu bytes",
			    h->syssize, (unsigned long long)pm, (unsigned long long)rest);
	h->pm_len = pm;
	h->loadflags = img[BZ_LOADFLAGS];
	h->relocatable = img[BZ_RELOCATABLE];
	h->kernel_alignment = (uint32_t)rd(img, BZ_KERNEL_ALIGN, 4);
	if (h->relocatable && (h->kernel_alignment < PAGE ||
			       (h->kernel_alignment & (h->kernel_alignment - 1))))
		return fail(p, "kernel_alignment 0x%x is not a power of two of at least 4 KiB",
			    h->kernel_alignment);
	h->initrd_addr_max = (uint32_t)rd(img, BZ_INITRD_MAX, 4);
	h->cmdline_size = (uint32_t)rd(img, BZ_CMDLINE_SIZE, 4);
	h->pref_address = rd(img, BZ_PREF_ADDRESS, 8);
	h->init_size = (uint32_t)rd(img, BZ_INIT_SIZE, 4);
	if (h->init_size < h->pm_len)
		return fail(p, "init_size 0x%x is smaller than the kernel (0x%llx)", h->init_size,
			    (unsigned long long)h->pm_len);
	if (h->pm_len > rest)
		h->pm_len = rest; /* syssize is rounded up to 16 bytes */
	p->kind = KLOAD_BZIMAGE;
	return 0;
}

static int detect_mb(const uint8_t *img, uint64_t len, struct kload_plan *p, int *found)
{
	uint64_t lim = len < MB_SEARCH ? len : MB_SEARCH;

	*found = 0;
	for (uint64_t o = 0; o + 12 <= lim; o += 4) {
		uint32_t magic = (uint32_t)rd(img, o, 4), flags = (uint32_t)rd(img, o + 4, 4);

		if (magic != MB_HDR_MAGIC)
			continue;
		*found = 1;
		if ((uint32_t)(magic + flags + (uint32_t)rd(img, o + 8, 4)))
			return fail(p, "multiboot header at 0x%llx: checksum wrong",
				    (unsigned long long)o);
		if (flags & MB_VIDEO_MODE)
			return fail(p, "multiboot kernel asks for a video mode (flags bit 2): not offered");
		if (flags & 0xfff8u)
			return fail(p, "multiboot kernel needs unknown features (flags 0x%x)", flags);
		p->kind = KLOAD_MULTIBOOT;
		p->mb_off = (uint32_t)o;
		p->mb_flags = flags;
		return 0;
	}
	return 0;
}

static int detect_elf64(const uint8_t *img, uint64_t len, struct kload_plan *p)
{
	struct elf64_ehdr eh;

	if (len < sizeof(eh))
		return fail(p, "ELF header truncated");
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[EI_CLASS] != ELFCLASS64 || eh.type != ET_EXEC || eh.machine != EM_X86_64)
		return fail(p, "not a kernel: an ELF, but not an x86_64 ELF64 executable");
	p->kind = KLOAD_VMLINUX;
	return 0;
}

int kload_detect(const uint8_t *img, uint64_t len, struct kload_plan *p)
{
	int found;

	memset(p, 0, sizeof(*p));
	if (len >= BZ_HEADER + 4 && rd(img, BZ_HEADER, 4) == BZ_HDRS)
		return detect_bz(img, len, p);
	if (detect_mb(img, len, p, &found))
		return -1;
	if (found)
		return 0;
	if (len >= 4 && rd(img, 0, 4) == ELF_MAGIC)
		return detect_elf64(img, len, p);
	if (len >= BZ_HEADER + 4 && rd(img, BZ_BOOT_FLAG, 2) == 0xaa55)
		return fail(p, "not a kernel: a boot sector without a Linux header (HdrS at 0x202)");
	return fail(p, "not a kernel: no bzImage header, no Multiboot header in the first 8 KiB, "
		       "not an ELF64");
}

/* --- the VM's memory ---------------------------------------------------- */

static int check_map(struct ctx *c)
{
	uint64_t prev = 0;

	if (!c->in->map || !c->in->nmap || c->in->nmap > TERN_MEM_REGIONS_MAX)
		return fail(c->p, "no memory map");
	for (unsigned int i = 0; i < c->in->nmap; i++) {
		const struct tern_mem_region *r = &c->in->map[i];

		if (r->gpa < prev || r->gpa + r->size < r->gpa)
			return fail(c->p, "memory map not ascending");
		prev = r->gpa + r->size;
	}
	return 0;
}

/* The RAM region holding [gpa, end), or NULL. */
static const struct tern_mem_region *ram_at(const struct ctx *c, uint64_t gpa, uint64_t end)
{
	for (unsigned int i = 0; i < c->in->nmap; i++) {
		const struct tern_mem_region *r = &c->in->map[i];

		if (r->type == TERN_MEM_RAM && gpa >= r->gpa && end <= r->gpa + r->size)
			return r;
	}
	return NULL;
}

/* The end of the RAM there is, for "--mem of at least" hints. */
static uint64_t ram_top(const struct ctx *c)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < c->in->nmap; i++)
		if (c->in->map[i].type == TERN_MEM_RAM)
			top = c->in->map[i].gpa + c->in->map[i].size;
	return top;
}

static const struct claim *overlap(const struct ctx *c, uint64_t gpa, uint64_t end)
{
	for (unsigned int i = 0; i < c->nclaim; i++)
		if (gpa < c->claim[i].end && c->claim[i].gpa < end)
			return &c->claim[i];
	return NULL;
}

/* Takes [gpa, gpa + size) for what: inside one RAM region, clear of everything else. */
static int claim(struct ctx *c, uint64_t gpa, uint64_t size, const char *what)
{
	uint64_t end = gpa + size;
	const struct claim *o;

	if (end < gpa || end > GiB4)
		return fail(c->p, "%s at 0x%llx (0x%llx bytes) lies beyond 4 GiB", what,
			    (unsigned long long)gpa, (unsigned long long)size);
	if (!ram_at(c, gpa, end)) {
		if (end > ram_top(c))
			return fail(c->p, "%s [0x%llx, 0x%llx) is outside RAM: --mem of at least %llu MiB needed",
				    what, (unsigned long long)gpa, (unsigned long long)end, mib_up(end));
		return fail(c->p, "%s [0x%llx, 0x%llx) is not in RAM", what,
			    (unsigned long long)gpa, (unsigned long long)end);
	}
	o = overlap(c, gpa, end);
	if (o)
		return fail(c->p, "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)", what,
			    (unsigned long long)gpa, (unsigned long long)end, o->what,
			    (unsigned long long)o->gpa, (unsigned long long)o->end);
	if (c->nclaim == MAX_CLAIMS)
		return fail(c->p, "too many pieces to load");
	c->claim[c->nclaim++] = (struct claim){ gpa, end, what };
	return 0;
}

static int add_copy(struct ctx *c, enum kload_src src, uint64_t off, uint64_t len, uint64_t gpa,
		    uint64_t zero)
{
	if (c->p->ncopy == KLOAD_MAX_COPIES)
		return fail(c->p, "more than %u pieces to copy", KLOAD_MAX_COPIES);
	c->p->copy[c->p->ncopy++] = (struct kload_copy){ src, off, len, gpa, zero };
	return 0;
}

/* Highest page-aligned [a, a + size) in RAM, clear of the claims, ending at or below max + 1. */
static int place_high(struct ctx *c, uint64_t size, uint64_t max, const char *what, uint64_t *gpa)
{
	for (unsigned int i = c->in->nmap; i-- > 0;) {
		const struct tern_mem_region *r = &c->in->map[i];
		uint64_t lo = r->gpa > MiB ? r->gpa : MiB, top = r->gpa + r->size;

		if (r->type != TERN_MEM_RAM)
			continue;
		if (top > max + 1)
			top = max + 1;
		for (unsigned int tries = 0; tries <= c->nclaim && top >= lo + size; tries++) {
			uint64_t a = (top - size) & ~(PAGE - 1);
			const struct claim *o = overlap(c, a, a + size);

			if (a < lo)
				break;
			if (!o) {
				*gpa = a;
				return claim(c, a, size, what);
			}
			top = o->gpa;
		}
	}
	return fail(c->p, "%s (%llu KiB) does not fit in RAM below 0x%llx beside the kernel", what,
		    (unsigned long long)(size >> 10), (unsigned long long)max + 1);
}

struct e820 {
	unsigned int n;
	uint64_t base[3 * TERN_MEM_REGIONS_MAX], len[3 * TERN_MEM_REGIONS_MAX];
	uint32_t type[3 * TERN_MEM_REGIONS_MAX];
};

static void e820_add(struct e820 *m, uint64_t s, uint64_t e, uint32_t type)
{
	m->base[m->n] = s;
	m->len[m->n] = e - s;
	m->type[m->n++] = type;
}

/* E820 / Multiboot memory map from the VM's: RAM with the legacy hole carved out, the rest reserved. */
static void build_e820(const struct ctx *c, struct e820 *m)
{
	m->n = 0;
	for (unsigned int i = 0; i < c->in->nmap; i++) {
		const struct tern_mem_region *r = &c->in->map[i];
		uint64_t s = r->gpa, e = r->gpa + r->size, hs, he;

		if (!r->size)
			continue;
		if (r->type != TERN_MEM_RAM || e <= LOW_HOLE_START || s >= LOW_HOLE_END) {
			e820_add(m, s, e, r->type == TERN_MEM_RAM ? E820_RAM : E820_RESERVED);
			continue;
		}
		hs = s > LOW_HOLE_START ? s : LOW_HOLE_START;
		he = e < LOW_HOLE_END ? e : LOW_HOLE_END;
		if (s < hs)
			e820_add(m, s, hs, E820_RAM);
		e820_add(m, hs, he, E820_RESERVED);
		if (he < e)
			e820_add(m, he, e, E820_RAM);
	}
}

/* --- Linux -------------------------------------------------------------- */

static void build_long_mode(struct ctx *c)
{
	uint64_t *pml4 = (uint64_t *)c->boot, *pdpt = pml4 + 512, *gdt;

	pml4[0] = (KLOAD_PT_GPA + PAGE) | PTE_P | PTE_W;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t *pd = pml4 + (2 + i) * 512;

		pdpt[i] = (KLOAD_PT_GPA + (2 + i) * PAGE) | PTE_P | PTE_W;
		for (unsigned int j = 0; j < 512; j++)
			pd[j] = (((uint64_t)i << 30) + ((uint64_t)j << 21)) | PTE_P | PTE_W | PTE_PS;
	}
	gdt = (uint64_t *)(c->boot + (KLOAD_LINUX_GDT - KLOAD_BOOT_GPA));
	gdt[KLOAD_BOOT_CS / 8] = GDT_CODE64;
	gdt[KLOAD_BOOT_DS / 8] = GDT_DATA;
	c->p->entry = (struct kload_entry){
		.mode = KLOAD_MODE_LONG, .rsp = KLOAD_CMDLINE_GPA, .rsi = KLOAD_ZERO_PAGE,
		.rflags = RFLAGS_RESERVED, .cr0 = CR0_PG | CR0_NE | CR0_ET | CR0_PE,
		.cr3 = KLOAD_PT_GPA, .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA,
		.gdt_base = KLOAD_LINUX_GDT, .gdt_limit = KLOAD_BOOT_DS + 7,
		.cs = KLOAD_BOOT_CS, .ds = KLOAD_BOOT_DS,
	};
	c->p->boot_len = KLOAD_BOOT_SIZE;
}

/* The zero page: the image's setup header (or one for a vmlinux), then the loader's fields. */
static void build_zero_page(struct ctx *c, uint64_t cmd_len)
{
	uint8_t *zp = c->boot + (KLOAD_ZERO_PAGE - KLOAD_BOOT_GPA);
	struct kload_plan *p = c->p;
	struct e820 m;

	if (p->kind == KLOAD_BZIMAGE) {
		memcpy(zp + BZ_SETUP_SECTS, c->in->img + BZ_SETUP_SECTS, p->bz.hdr_end - BZ_SETUP_SECTS);
	} else {
		wr(zp, BZ_BOOT_FLAG, 0xaa55, 2);
		wr(zp, BZ_HEADER, BZ_HDRS, 4);
		wr(zp, BZ_VERSION, p->bz.version, 2);
		wr(zp, BZ_INITRD_MAX, p->bz.initrd_addr_max, 4);
		wr(zp, BZ_CMDLINE_SIZE, p->bz.cmdline_size, 4);
	}
	zp[BZ_TYPE_OF_LOADER] = 0xff;
	zp[BZ_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	wr(zp, BZ_HEAP_END_PTR, 0xfe00, 2);
	wr(zp, BZ_EXT_LOADER, 0, 2);
	wr(zp, BZ_CODE32_START, p->kernel_gpa, 4);
	wr(zp, BZ_SUBARCH, 0, 4);
	wr(zp, BZ_SUBARCH_DATA, 0, 8);
	wr(zp, BZ_SETUP_DATA, 0, 8); /* a pointer in an untrusted image: never passed on */
	wr(zp, BZ_CMD_LINE_PTR, cmd_len ? KLOAD_CMDLINE_GPA : 0, 4);
	wr(zp, ZP_EXT_CMD_LINE_PTR, 0, 4);
	if (c->in->initrd_len) {
		wr(zp, BZ_RAMDISK_IMAGE, p->initrd_gpa, 4);
		wr(zp, ZP_EXT_RAMDISK_IMAGE, p->initrd_gpa >> 32, 4);
		wr(zp, BZ_RAMDISK_SIZE, c->in->initrd_len, 4);
		wr(zp, ZP_EXT_RAMDISK_SIZE, c->in->initrd_len >> 32, 4);
	} else {
		wr(zp, BZ_RAMDISK_IMAGE, 0, 8);
	}
	if (p->bz.version >= 0x20e)
		wr(zp, ZP_ACPI_RSDP, c->in->acpi_rsdp, 8);
	build_e820(c, &m);
	zp[ZP_E820_ENTRIES] = (uint8_t)m.n;
	for (unsigned int i = 0; i < m.n; i++) {
		wr(zp, ZP_E820_TABLE + 20 * i, m.base[i], 8);
		wr(zp, ZP_E820_TABLE + 20 * i + 8, m.len[i], 8);
		wr(zp, ZP_E820_TABLE + 20 * i + 16, m.type[i], 4);
	}
}

/* Where a relocatable kernel goes: pref_address if it fits, else the lowest aligned RAM above it. */
static int place_bz(struct ctx *c)
{
	const struct kload_bzhdr *h = &c->p->bz;
	uint64_t align = h->relocatable ? h->kernel_alignment : 1;
	uint64_t want = h->pref_address > MiB ? h->pref_address : MiB;

	if (want >= GiB4)
		return fail(c->p, "pref_address 0x%llx beyond 4 GiB", (unsigned long long)want);
	want = align_up(want, align);
	for (unsigned int i = 0; h->relocatable && i < c->in->nmap; i++) {
		const struct tern_mem_region *r = &c->in->map[i];
		uint64_t a = align_up(r->gpa > want ? r->gpa : want, align);

		if (r->type == TERN_MEM_RAM && a + h->init_size <= r->gpa + r->size &&
		    a + h->init_size <= GiB4 && !overlap(c, a, a + h->init_size)) {
			want = a;
			break;
		}
	}
	c->p->kernel_gpa = want;
	c->p->kernel_end = want + h->init_size;
	if (!ram_at(c, want, c->p->kernel_end) && c->p->kernel_end > ram_top(c))
		return fail(c->p, "kernel needs %llu MiB of RAM at 0x%llx (init_size): --mem of at least %llu MiB",
			    mib_up(h->init_size), (unsigned long long)want, mib_up(c->p->kernel_end));
	if (claim(c, want, h->init_size, "kernel"))
		return -1;
	return add_copy(c, KLOAD_SRC_IMAGE, h->setup_off, h->pm_len, want, 0);
}

/* An ELF entry as a physical address: through the segment whose vaddr (or paddr) range holds it. */
static int elf_entry(uint64_t entry, const uint64_t va[], const uint64_t pa[], const uint64_t sz[],
		     unsigned int n, int vaddr_first, uint64_t *phys)
{
	for (int pass = 0; pass < 2; pass++) {
		int by_va = pass == 0 ? vaddr_first : !vaddr_first;

		for (unsigned int i = 0; i < n; i++) {
			uint64_t s = by_va ? va[i] : pa[i];

			if (entry >= s && entry - s < sz[i]) {
				*phys = pa[i] + (entry - s);
				return 0;
			}
		}
	}
	return -1;
}

/* PT_LOAD segments of an ELF64 (vmlinux) by p_paddr. */
static int load_elf64(struct ctx *c)
{
	const uint8_t *img = c->in->img;
	uint64_t len = c->in->img_len, va[16], pa[16], sz[16];
	struct elf64_ehdr eh;
	unsigned int n = 0;

	memcpy(&eh, img, sizeof(eh));
	if (eh.phentsize != sizeof(struct elf64_phdr) || eh.phoff > len ||
	    (uint64_t)eh.phnum * sizeof(struct elf64_phdr) > len - eh.phoff)
		return fail(c->p, "ELF program headers outside the file");
	c->p->kernel_gpa = UINT64_MAX;
	for (uint16_t i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, img + eh.phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > len || ph.filesz > len - ph.offset)
			return fail(c->p, "ELF segment %u lies outside the file", i);
		if (n == 16)
			return fail(c->p, "more than 16 ELF segments to load");
		if (ph.paddr < MiB)
			return fail(c->p, "ELF segment %u below 1 MiB (0x%llx)", i,
				    (unsigned long long)ph.paddr);
		if (claim(c, ph.paddr, ph.memsz, "kernel segment") ||
		    add_copy(c, KLOAD_SRC_IMAGE, ph.offset, ph.filesz, ph.paddr, ph.memsz - ph.filesz))
			return -1;
		va[n] = ph.vaddr, pa[n] = ph.paddr, sz[n++] = ph.memsz;
		if (ph.paddr < c->p->kernel_gpa)
			c->p->kernel_gpa = ph.paddr;
		if (ph.paddr + ph.memsz > c->p->kernel_end)
			c->p->kernel_end = ph.paddr + ph.memsz;
	}
	if (!n)
		return fail(c->p, "no ELF segment to load");
	if (elf_entry(eh.entry, va, pa, sz, n, 0, &c->p->entry.rip))
		return fail(c->p, "ELF entry 0x%llx is in no loaded segment", (unsigned long long)eh.entry);
	return 0;
}

static int check_cmdline(struct ctx *c, uint64_t max, uint64_t *len)
{
	const char *s = c->in->cmdline ? c->in->cmdline : "";

	*len = strnlen(s, KLOAD_CMDLINE_MAX + 1);
	if (*len > max)
		return fail(c->p, "command line is %llu bytes, the kernel takes at most %llu",
			    (unsigned long long)*len, (unsigned long long)max);
	if (claim(c, KLOAD_CMDLINE_GPA, *len + 1, "command line"))
		return -1;
	return add_copy(c, KLOAD_SRC_CMDLINE, 0, *len + 1, KLOAD_CMDLINE_GPA, 0);
}

static int plan_linux(struct ctx *c)
{
	struct kload_plan *p = c->p;
	uint64_t cmd_max, cmd_len, imax;

	if (claim(c, KLOAD_BOOT_GPA, KLOAD_BOOT_SIZE, "boot block") ||
	    add_copy(c, KLOAD_SRC_BOOT, 0, KLOAD_BOOT_SIZE, KLOAD_BOOT_GPA, 0))
		return -1;
	if (p->kind == KLOAD_VMLINUX) {
		/* No header of its own: what every 2.15 kernel takes (COMMAND_LINE_SIZE 2048). */
		p->bz.version = 0x20f;
		p->bz.cmdline_size = 2047;
		p->bz.initrd_addr_max = 0x7fffffff;
	}
	cmd_max = p->bz.cmdline_size < KLOAD_CMDLINE_MAX ? p->bz.cmdline_size : KLOAD_CMDLINE_MAX;
	if (check_cmdline(c, cmd_max, &cmd_len))
		return -1;
	if (p->kind == KLOAD_BZIMAGE) {
		if (place_bz(c))
			return -1;
		p->entry.rip = p->kernel_gpa + BZ_64BIT_OFFSET;
	} else if (load_elf64(c)) {
		return -1;
	}
	imax = p->bz.initrd_addr_max;
	if (c->in->initrd_len &&
	    (place_high(c, c->in->initrd_len, imax, "initrd", &p->initrd_gpa) ||
	     add_copy(c, KLOAD_SRC_INITRD, 0, c->in->initrd_len, p->initrd_gpa, 0)))
		return -1;
	uint64_t rip = p->entry.rip;

	build_long_mode(c);
	p->entry.rip = rip;
	build_zero_page(c, cmd_len + 1);
	return 0;
}

/* --- Multiboot v1 ------------------------------------------------------- */

/* The a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr (3.1.3). */
static int load_mb_aout(struct ctx *c)
{
	const uint8_t *img = c->in->img;
	uint64_t o = c->p->mb_off, len = c->in->img_len;
	uint64_t hdr, load, load_end, bss_end, entry, foff;

	if (o + 32 > len || o + 32 > MB_SEARCH)
		return fail(c->p, "multiboot header truncated (address fields)");
	hdr = rd(img, o + 12, 4), load = rd(img, o + 16, 4), load_end = rd(img, o + 20, 4);
	bss_end = rd(img, o + 24, 4), entry = rd(img, o + 28, 4);
	if (load > hdr || hdr - load > o)
		return fail(c->p, "multiboot load_addr 0x%llx and header_addr 0x%llx disagree with the file",
			    (unsigned long long)load, (unsigned long long)hdr);
	foff = o - (hdr - load);
	if (!load_end)
		load_end = load + (len - foff);
	if (load_end < load || load_end - load > len - foff)
		return fail(c->p, "multiboot load_end_addr 0x%llx beyond the file", (unsigned long long)load_end);
	if (!bss_end)
		bss_end = load_end;
	if (bss_end < load_end)
		return fail(c->p, "multiboot bss_end_addr 0x%llx below load_end_addr", (unsigned long long)bss_end);
	if (entry < load || entry >= bss_end)
		return fail(c->p, "multiboot entry_addr 0x%llx outside the kernel", (unsigned long long)entry);
	c->p->kernel_gpa = load, c->p->kernel_end = bss_end, c->p->entry.rip = entry;
	if (claim(c, load, bss_end - load, "kernel"))
		return -1;
	return add_copy(c, KLOAD_SRC_IMAGE, foff, load_end - load, load, bss_end - load_end);
}

static int load_mb_elf32(struct ctx *c)
{
	const uint8_t *img = c->in->img;
	uint64_t len = c->in->img_len, phoff, phnum, va[16], pa[16], sz[16];
	unsigned int n = 0;

	if (len < ELF32_EHDR || rd(img, 0, 4) != ELF_MAGIC)
		return fail(c->p, "multiboot kernel without a.out addresses (flags bit 16) is not an ELF");
	if (img[EI_CLASS] != ELFCLASS32 || rd(img, 16, 2) != ET_EXEC || rd(img, 18, 2) != EM_386)
		return fail(c->p, "multiboot ELF is not an i386 ELF32 executable");
	phoff = rd(img, 28, 4), phnum = rd(img, 44, 2);
	if (rd(img, 42, 2) != ELF32_PHDR || phoff > len || phnum * ELF32_PHDR > len - phoff)
		return fail(c->p, "ELF program headers outside the file");
	c->p->kernel_gpa = UINT64_MAX;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * ELF32_PHDR;
		uint64_t off = rd(ph, 4, 4), vaddr = rd(ph, 8, 4), paddr = rd(ph, 12, 4);
		uint64_t filesz = rd(ph, 16, 4), memsz = rd(ph, 20, 4);

		if (rd(ph, 0, 4) != PT_LOAD || !memsz)
			continue;
		if (filesz > memsz || off > len || filesz > len - off)
			return fail(c->p, "ELF segment %llu lies outside the file", (unsigned long long)i);
		if (n == 16)
			return fail(c->p, "more than 16 ELF segments to load");
		if (claim(c, paddr, memsz, "kernel segment") ||
		    add_copy(c, KLOAD_SRC_IMAGE, off, filesz, paddr, memsz - filesz))
			return -1;
		va[n] = vaddr, pa[n] = paddr, sz[n++] = memsz;
		if (paddr < c->p->kernel_gpa)
			c->p->kernel_gpa = paddr;
		if (paddr + memsz > c->p->kernel_end)
			c->p->kernel_end = paddr + memsz;
	}
	if (!n)
		return fail(c->p, "no ELF segment to load");
	if (elf_entry(rd(img, 24, 4), va, pa, sz, n, 1, &c->p->entry.rip))
		return fail(c->p, "ELF entry 0x%llx is in no loaded segment",
			    (unsigned long long)rd(img, 24, 4));
	return 0;
}

/* mem_lower: KiB of RAM from 0 (at most 640); mem_upper: KiB of RAM from 1 MiB up to the first hole. */
static void mb_mem(const struct ctx *c, uint8_t *mbi)
{
	const struct tern_mem_region *lo = ram_at(c, 0, 1), *hi = ram_at(c, MiB, MiB + 1);
	uint64_t lower = lo ? lo->gpa + lo->size : 0, upper;

	if (lower > LOW_HOLE_START)
		lower = LOW_HOLE_START;
	upper = hi ? hi->gpa + hi->size - MiB : 0;
	wr(mbi, 4, lower >> 10, 4);
	wr(mbi, 8, (upper >> 10) > UINT32_MAX ? UINT32_MAX : upper >> 10, 4);
}

static int build_mbi(struct ctx *c, uint64_t cmd_len)
{
	uint8_t *b = c->boot, *mbi = b + (KLOAD_MB_INFO - KLOAD_BOOT_GPA);
	uint32_t flags = MBI_MEM | MBI_MMAP | MBI_LOADER_NAME;
	struct e820 m;

	mb_mem(c, mbi);
	build_e820(c, &m);
	for (unsigned int i = 0; i < m.n; i++) {
		uint8_t *e = b + MB_MMAP_OFF + 24 * i;

		wr(e, 0, 20, 4); /* size: of the entry without this field */
		wr(e, 4, m.base[i], 8);
		wr(e, 12, m.len[i], 8);
		wr(e, 20, m.type[i], 4);
	}
	wr(mbi, 44, 24 * m.n, 4);
	wr(mbi, 48, KLOAD_BOOT_GPA + MB_MMAP_OFF, 4);
	memcpy(b + MB_NAME_OFF, "Tern", 5);
	wr(mbi, 64, KLOAD_BOOT_GPA + MB_NAME_OFF, 4);
	if (cmd_len) {
		flags |= MBI_CMDLINE;
		wr(mbi, 16, KLOAD_CMDLINE_GPA, 4);
	}
	if (c->in->initrd_len) {
		const char *s = c->in->initrd_str ? c->in->initrd_str : "";
		uint64_t sl = strnlen(s, KLOAD_MB_MODSTR_MAX + 1);
		uint8_t *mod = b + MB_MODS_OFF;

		if (sl > KLOAD_MB_MODSTR_MAX)
			return fail(c->p, "module string longer than %u bytes", KLOAD_MB_MODSTR_MAX);
		memcpy(b + MB_MODSTR_OFF, s, sl);
		flags |= MBI_MODS;
		wr(mbi, 20, 1, 4);
		wr(mbi, 24, KLOAD_BOOT_GPA + MB_MODS_OFF, 4);
		wr(mod, 0, c->p->initrd_gpa, 4);
		wr(mod, 4, c->p->initrd_gpa + c->in->initrd_len, 4);
		wr(mod, 8, KLOAD_BOOT_GPA + MB_MODSTR_OFF, 4);
	}
	wr(mbi, 0, flags, 4);
	return 0;
}

static int plan_mb(struct ctx *c)
{
	struct kload_plan *p = c->p;
	uint64_t *gdt = (uint64_t *)c->boot, cmd_len;

	if ((p->mb_flags & MB_AOUT_KLUDGE) ? load_mb_aout(c) : load_mb_elf32(c))
		return -1;
	if (claim(c, KLOAD_BOOT_GPA, MB_BLOCK_LEN, "boot block") ||
	    add_copy(c, KLOAD_SRC_BOOT, 0, MB_BLOCK_LEN, KLOAD_BOOT_GPA, 0) ||
	    check_cmdline(c, KLOAD_CMDLINE_MAX, &cmd_len))
		return -1;
	if (c->in->initrd_len &&
	    (place_high(c, c->in->initrd_len, GiB4 - 1, "module", &p->initrd_gpa) ||
	     add_copy(c, KLOAD_SRC_INITRD, 0, c->in->initrd_len, p->initrd_gpa, 0)))
		return -1;
	gdt[KLOAD_MB_CS / 8] = GDT_CODE32;
	gdt[KLOAD_MB_DS / 8] = GDT_DATA;
	p->boot_len = MB_BLOCK_LEN;
	uint64_t rip = p->entry.rip;

	/* 3.2 Machine state: protected mode, paging off, IF clear, flat segments. */
	p->entry = (struct kload_entry){
		.mode = KLOAD_MODE_PROT32, .rip = rip, .rsp = KLOAD_CMDLINE_GPA,
		.rax = KLOAD_MB_MAGIC, .rbx = KLOAD_MB_INFO, .rflags = RFLAGS_RESERVED,
		.cr0 = CR0_ET | CR0_PE, .gdt_base = KLOAD_MB_GDT, .gdt_limit = KLOAD_MB_DS + 7,
		.cs = KLOAD_MB_CS, .ds = KLOAD_MB_DS,
	};
	return build_mbi(c, cmd_len + 1);
}

int kload_plan(const struct kload_in *in, struct kload_plan *p, uint8_t boot[KLOAD_BOOT_SIZE])
{
	struct ctx c = { .in = in, .p = p, .boot = boot };
	int r;

	memset(boot, 0, KLOAD_BOOT_SIZE);
	if (!in->img || kload_detect(in->img, in->img_len, p))
		return in->img ? -1 : fail(p, "no image");
	if (check_map(&c))
		return -1;
	r = p->kind == KLOAD_MULTIBOOT ? plan_mb(&c) : plan_linux(&c);
	if (r)
		p->ncopy = 0;
	return r;
}
