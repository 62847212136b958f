/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests for tools/mgmt/kload.c: kernel detection and load plans,
 * expected values from Documentation/arch/x86/boot.rst (bzImage, 64-bit boot
 * protocol), the ELF gABI and the Multiboot Specification 0.6.96; and, when
 * `make linux` has fetched it, Debian's own vmlinuz and vmlinux.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/mgmt/kload.h"
#include "vmm/elf.h"

#define MiB (1ull << 20)
#define IMG_MAX (1u << 20)

static uint8_t img[IMG_MAX];
static uint8_t boot[KLOAD_BOOT_SIZE];
static struct tern_mem_region map[4];
static struct kload_plan plan;
static struct kload_in in;

static void put(uint64_t off, uint64_t v, unsigned int n)
{
	memcpy(img + off, &v, n);
}

static uint64_t get(const uint8_t *b, uint64_t off, unsigned int n)
{
	uint64_t v = 0;

	memcpy(&v, b + off, n);
	return v;
}

/* The zero page and the boot block as the guest sees them (boot block at GPA 0x1000). */
static uint64_t zp(uint64_t off, unsigned int n)
{
	return get(boot, KLOAD_ZERO_PAGE - KLOAD_BOOT_GPA + off, n);
}

static uint64_t gpa(uint64_t a, unsigned int n)
{
	return get(boot, a - KLOAD_BOOT_GPA, n);
}

/* RAM [0, mem) and the I/O APIC and local APIC pages, as TERN_HC_VM_MEMMAP gives them. */
static void std_map(uint64_t mem)
{
	map[0] = (struct tern_mem_region){ 0, mem, TERN_MEM_RAM, 0 };
	map[1] = (struct tern_mem_region){ 0xfec00000, 0x1000, TERN_MEM_MMIO, 0 };
	map[2] = (struct tern_mem_region){ 0xfee00000, 0x1000, TERN_MEM_MMIO, 0 };
	in.map = map;
	in.nmap = 3;
}

static int run(void)
{
	memset(&plan, 0xa5, sizeof(plan));
	return kload_plan(&in, &plan, boot);
}

static void assert_why(const char *part)
{
	if (!strstr(plan.why, part))
		fail_msg("reason \"%s\" lacks \"%s\"", plan.why, part);
}

static const struct kload_copy *copy_of(enum kload_src src)
{
	for (unsigned int i = 0; i < plan.ncopy; i++)
		if (plan.copy[i].src == src)
			return &plan.copy[i];
	fail_msg("no copy from source %d", src);
	return NULL;
}

/* --- a bzImage: 4 setup sectors, a 2.15 header, 48 KiB of protected-mode code --- */
#define BZ_LEN   (0xa00u + 0xc000u)

static int bz_setup(void **state)
{
	memset(img, 0, sizeof(img));
	memset(&in, 0, sizeof(in));
	img[0x1f1] = 4;                          /* setup_sects */
	put(0x1f4, (BZ_LEN - 0xa00) / 16, 4);    /* syssize, 16-byte paragraphs */
	put(0x1fe, 0xaa55, 2);                   /* boot_flag */
	img[0x200] = 0xeb;                       /* jump: header ends at 0x202 + 0x6a */
	img[0x201] = 0x6a;
	memcpy(img + 0x202, "HdrS", 4);
	put(0x206, 0x020f, 2);                   /* version 2.15 */
	img[0x211] = 0x01;                       /* loadflags: LOADED_HIGH */
	put(0x214, 0x100000, 4);                 /* code32_start */
	put(0x22c, 0x7fffffff, 4);               /* initrd_addr_max */
	put(0x230, 0x200000, 4);                 /* kernel_alignment */
	img[0x234] = 1;                          /* relocatable_kernel */
	img[0x235] = 21;                         /* min_alignment */
	put(0x236, 0x3, 2);                      /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	put(0x238, 2047, 4);                     /* cmdline_size */
	put(0x250, 0xdeadbeef000ull, 8);         /* setup_data: must not reach the guest */
	put(0x258, 0x1000000, 8);                /* pref_address */
	put(0x260, 0x400000, 4);                 /* init_size */
	for (unsigned int i = 0xa00; i < BZ_LEN; i++)
		img[i] = (uint8_t)i;
	in.img = img;
	in.img_len = BZ_LEN;
	in.cmdline = "console=ttyS0 root=/dev/ram0";
	std_map(64 * MiB);
	return 0;
}

static void test_bz_plan(void **state)
{
	const struct kload_copy *k, *b, *cl;

	in.acpi_rsdp = 0xe0000;
	assert_int_equal(run(), 0);
	assert_int_equal(plan.kind, KLOAD_BZIMAGE);
	assert_int_equal(plan.bz.version, 0x020f);
	/* Protected-mode code from (setup_sects + 1) * 512, at pref_address (2 MiB aligned). */
	k = copy_of(KLOAD_SRC_IMAGE);
	assert_int_equal(k->offset, 5 * 512);
	assert_int_equal(k->len, BZ_LEN - 5 * 512);
	assert_int_equal(k->gpa, 0x1000000);
	assert_int_equal(plan.kernel_gpa, 0x1000000);
	assert_int_equal(plan.kernel_end, 0x1400000); /* + init_size */
	/* 64-bit entry: loaded kernel + 0x200, RSI the zero page, long mode on an identity map. */
	assert_int_equal(plan.entry.mode, KLOAD_MODE_LONG);
	assert_int_equal(plan.entry.rip, 0x1000200);
	assert_int_equal(plan.entry.rsi, KLOAD_ZERO_PAGE);
	assert_int_equal(plan.entry.cs, 0x10);
	assert_int_equal(plan.entry.ds, 0x18);
	assert_int_equal(plan.entry.rflags & 0x200, 0);      /* IF clear */
	assert_true(plan.entry.cr0 & 0x80000000ull);         /* PG */
	assert_true(plan.entry.cr0 & 1);                     /* PE */
	assert_true(plan.entry.cr4 & 0x20);                  /* PAE */
	assert_int_equal(plan.entry.efer & 0x500, 0x500);    /* LME, LMA */
	assert_int_equal(plan.entry.cr3, 0x1000);
	/* The boot block goes to 0x1000 and holds PML4, PDPT, PDs, GDT, zero page. */
	b = copy_of(KLOAD_SRC_BOOT);
	assert_int_equal(b->gpa, KLOAD_BOOT_GPA);
	assert_int_equal(b->len, KLOAD_BOOT_SIZE);
	assert_int_equal(gpa(0x1000, 8), 0x2000 | 3);        /* PML4[0] -> PDPT, P|W */
	assert_int_equal(gpa(0x2000 + 3 * 8, 8), 0x6000 | 3);/* PDPT[3] -> PD for 3-4 GiB */
	/* PD entries covering the kernel, its init_size, zero page and command line: 2 MiB, P|W|PS. */
	assert_int_equal(gpa(0x3000 + 8 * 8, 8), 0x1000000 | 0x83);
	assert_int_equal(gpa(0x3000, 8), 0x83);
	assert_int_equal(gpa(0x6000 + 511 * 8, 8), 0xffe00000ull | 0x83);
	/* GDT: __BOOT_CS 0x10 64-bit code (L, P, S, code R), __BOOT_DS 0x18 flat read/write data. */
	assert_int_equal(plan.entry.gdt_base, 0x7000);
	assert_true(plan.entry.gdt_limit >= 0x1f);
	assert_true(gpa(0x7010, 8) & (1ull << 53));          /* L */
	assert_true(gpa(0x7010, 8) & (1ull << 47));          /* P */
	assert_int_equal((gpa(0x7010, 8) >> 40) & 0x1a, 0x1a); /* S, code, readable */
	assert_int_equal((gpa(0x7018, 8) >> 40) & 0x1a, 0x12); /* S, data, writable */
	assert_int_equal(gpa(0x7018, 8) & 0xffff, 0xffff);   /* limit 4 GiB with G */
	assert_true(gpa(0x7018, 8) & (1ull << 55));
	/* Zero page: the setup header copied, then the loader's fields. */
	assert_memory_equal(boot + 0x7000 + 0x1f1, img + 0x1f1, 0x210 - 0x1f1);
	assert_int_equal(zp(0x202, 4), 0x53726448);
	assert_int_equal(zp(0x206, 2), 0x020f);
	assert_int_equal(zp(0x230, 4), 0x200000);
	assert_int_equal(zp(0x260, 4), 0x400000);
	assert_int_equal(zp(0x210, 1), 0xff);                /* type_of_loader: undefined loader */
	assert_int_equal(zp(0x211, 1) & 0x81, 0x81);         /* LOADED_HIGH, CAN_USE_HEAP */
	assert_int_not_equal(zp(0x224, 2), 0);               /* heap_end_ptr */
	assert_int_equal(zp(0x250, 8), 0);                   /* setup_data */
	assert_int_equal(zp(0x228, 4), KLOAD_CMDLINE_GPA);   /* cmd_line_ptr */
	assert_int_equal(zp(0x0c8, 4), 0);                   /* ext_cmd_line_ptr */
	assert_int_equal(zp(0x218, 8), 0);                   /* no initrd */
	assert_int_equal(zp(0x070, 8), 0xe0000);             /* acpi_rsdp_addr, 2.14 */
	/* The command line with its NUL. */
	cl = copy_of(KLOAD_SRC_CMDLINE);
	assert_int_equal(cl->gpa, KLOAD_CMDLINE_GPA);
	assert_int_equal(cl->len, strlen(in.cmdline) + 1);
	/* e820: low RAM, the legacy hole reserved, RAM from 1 MiB, the two MMIO pages reserved. */
	assert_int_equal(zp(0x1e8, 1), 5);
	static const uint64_t e820[5][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x100000 - 0x9fc00, 2 }, { 0x100000, 63 * MiB, 1 },
		{ 0xfec00000, 0x1000, 2 }, { 0xfee00000, 0x1000, 2 },
	};
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(zp(0x2d0 + 20 * i, 8), e820[i][0]);
		assert_int_equal(zp(0x2d0 + 20 * i + 8, 8), e820[i][1]);
		assert_int_equal(zp(0x2d0 + 20 * i + 16, 4), e820[i][2]);
	}
}

static void test_bz_initrd_high(void **state)
{
	const struct kload_copy *r;

	in.initrd_len = 1 * MiB + 5;
	assert_int_equal(run(), 0);
	/* As high as possible, page-aligned: end <= 64 MiB. */
	assert_int_equal(plan.initrd_gpa, 63 * MiB - 0x1000);
	assert_int_equal(plan.initrd_gpa & 0xfff, 0);
	assert_true(plan.initrd_gpa + in.initrd_len <= 64 * MiB);
	assert_true(plan.initrd_gpa + 0x1000 + in.initrd_len > 64 * MiB);
	r = copy_of(KLOAD_SRC_INITRD);
	assert_int_equal(r->gpa, plan.initrd_gpa);
	assert_int_equal(r->len, in.initrd_len);
	assert_int_equal(zp(0x218, 4), plan.initrd_gpa);     /* ramdisk_image */
	assert_int_equal(zp(0x21c, 4), in.initrd_len);       /* ramdisk_size */
	assert_int_equal(zp(0x0c0, 4), 0);
	assert_int_equal(zp(0x0c4, 4), 0);
}

static void test_bz_initrd_limits(void **state)
{
	/* initrd_addr_max bounds the initrd's last byte. */
	std_map(2048 * MiB);
	put(0x22c, 0x37ffffff, 4);
	in.initrd_len = 1 * MiB;
	assert_int_equal(run(), 0);
	assert_int_equal(plan.initrd_gpa, 0x37f00000);
	/* Not above the kernel: below it. */
	std_map(24 * MiB);
	in.initrd_len = 8 * MiB;
	assert_int_equal(run(), 0);
	assert_int_equal(plan.initrd_gpa, 8 * MiB);
	/* Nowhere. */
	std_map(64 * MiB);
	in.initrd_len = 60 * MiB;
	assert_int_equal(run(), -1);
	assert_why("initrd");
	assert_why("does not fit");
	assert_int_equal(plan.ncopy, 0);
}

static void test_bz_too_small(void **state)
{
	std_map(16 * MiB);
	assert_int_equal(run(), -1);
	/* pref_address 16 MiB + init_size 4 MiB: 20 MiB. */
	assert_why("at least 20 MiB");
}

static void test_bz_relocates(void **state)
{
	/* No room at pref_address: the next kernel_alignment boundary in RAM that holds init_size. */
	map[0] = (struct tern_mem_region){ 0, 17 * MiB, TERN_MEM_RAM, 0 };
	map[1] = (struct tern_mem_region){ 0x2101000, 64 * MiB, TERN_MEM_RAM, 0 };
	in.nmap = 2;
	in.map = map;
	assert_int_equal(run(), 0);
	assert_int_equal(plan.kernel_gpa, 0x2200000);
	assert_int_equal(plan.entry.rip, 0x2200200);
	/* Not relocatable: pref_address or nothing. */
	img[0x234] = 0;
	assert_int_equal(run(), -1);
	assert_why("kernel");
}

static void test_bz_cmdline_size(void **state)
{
	char line[18];

	put(0x238, 16, 4); /* cmdline_size: bytes without the NUL */
	memset(line, 'x', 16);
	line[16] = 0;
	in.cmdline = line;
	assert_int_equal(run(), 0);
	line[16] = 'x';
	line[17] = 0;
	assert_int_equal(run(), -1);
	assert_why("command line is 17 bytes");
	assert_why("at most 16");
}

static void test_bz_protocol(void **state)
{
	put(0x206, 0x0205, 2);
	assert_int_equal(run(), -1);
	assert_string_equal(plan.why, "boot protocol 2.05 is too old (2.06 needed)");
	put(0x206, 0x020b, 2);
	assert_int_equal(run(), -1);
	assert_why("2.11");
	assert_why("64-bit entry");
	put(0x206, 0x020f, 2);
	put(0x236, 0x2, 2); /* XLF_KERNEL_64 clear */
	assert_int_equal(run(), -1);
	assert_why("no 64-bit entry");
}

static void test_bz_bad_fields(void **state)
{
	img[0x1f1] = 0xff; /* setup_sects: 128 KiB of setup in a 50 KiB file */
	assert_int_equal(run(), -1);
	assert_why("setup_sects");
	bz_setup(state);
	img[0x1f1] = 0; /* 0 means 4 */
	assert_int_equal(run(), 0);
	assert_int_equal(copy_of(KLOAD_SRC_IMAGE)->offset, 5 * 512);
	bz_setup(state);
	put(0x1f4, 0x10000000, 4); /* syssize: 4 GiB */
	assert_int_equal(run(), -1);
	assert_why("syssize");
	put(0x1f4, 0, 4);
	assert_int_equal(run(), -1);
	assert_why("syssize");
	bz_setup(state);
	put(0x260, 0x1000, 4); /* init_size smaller than the code */
	assert_int_equal(run(), -1);
	assert_why("init_size");
	put(0x260, 0xffffffff, 4); /* init_size: 4 GiB from 16 MiB */
	assert_int_equal(run(), -1);
	assert_why("--mem");
	bz_setup(state);
	put(0x230, 0x1fffff, 4);
	assert_int_equal(run(), -1);
	assert_why("kernel_alignment");
	put(0x230, 0, 4);
	assert_int_equal(run(), -1);
	assert_why("kernel_alignment");
	bz_setup(state);
	put(0x258, 0xfffffffffffff000ull, 8); /* pref_address: align_up would wrap */
	assert_int_equal(run(), -1);
	assert_why("pref_address");
	bz_setup(state);
	img[0x201] = 0x20; /* header ends at 0x222, before init_size */
	assert_int_equal(run(), -1);
	assert_why("setup header");
}

/* Every truncation of the image fails with a reason (ASan checks no read beyond len). */
static void test_bz_truncations(void **state)
{
	for (uint64_t len = 0; len < BZ_LEN; len += len < 0x1000 ? 1 : 256) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, img, len);
		in.img = copy;
		in.img_len = len;
		if (run() != -1)
			fail_msg("truncated to %llu bytes: planned", (unsigned long long)len);
		assert_true(plan.why[0] != 0);
		free(copy);
	}
}

static void test_not_kernel(void **state)
{
	for (unsigned int i = 0; i < 0x4000; i++)
		img[i] = (uint8_t)(i * 7 + 3);
	in.img_len = 0x4000;
	assert_int_equal(run(), -1);
	assert_why("not a kernel");
	in.img_len = 0;
	assert_int_equal(run(), -1);
	assert_why("not a kernel");
}

/* --- vmlinux: an ELF64 like Debian's (vaddr in the kernel map, paddr at 16 MiB) --- */
static int elf_setup(void **state)
{
	struct elf64_ehdr *eh = (struct elf64_ehdr *)img;
	struct elf64_phdr *ph = (struct elf64_phdr *)(img + 64);

	memset(img, 0, sizeof(img));
	memset(&in, 0, sizeof(in));
	memcpy(img, "\177ELF", 4);
	eh->ident[EI_CLASS] = ELFCLASS64;
	eh->ident[5] = 1;
	eh->type = ET_EXEC;
	eh->machine = EM_X86_64;
	eh->entry = 0x1000000; /* phys_startup_64 */
	eh->phoff = 64;
	eh->phentsize = 56;
	eh->phnum = 3;
	ph[0] = (struct elf64_phdr){ .type = PT_LOAD, .offset = 0x1000, .vaddr = 0xffffffff81000000ull,
				     .paddr = 0x1000000, .filesz = 0x2000, .memsz = 0x2000 };
	ph[1] = (struct elf64_phdr){ .type = PT_LOAD, .offset = 0x3000, .vaddr = 0,
				     .paddr = 0x1200000, .filesz = 0x1000, .memsz = 0x1000 };
	ph[2] = (struct elf64_phdr){ .type = PT_LOAD, .offset = 0x4000, .vaddr = 0xffffffff81400000ull,
				     .paddr = 0x1400000, .filesz = 0x1000, .memsz = 0x10000 };
	in.img = img;
	in.img_len = 0x5000;
	in.cmdline = "console=ttyS0";
	std_map(64 * MiB);
	return 0;
}

static void test_vmlinux(void **state)
{
	unsigned int n = 0;

	in.initrd_len = 0x3000;
	assert_int_equal(run(), 0);
	assert_int_equal(plan.kind, KLOAD_VMLINUX);
	assert_int_equal(plan.entry.mode, KLOAD_MODE_LONG);
	assert_int_equal(plan.entry.rip, 0x1000000);
	assert_int_equal(plan.entry.rsi, KLOAD_ZERO_PAGE);
	assert_int_equal(plan.entry.cs, 0x10);
	for (unsigned int i = 0; i < plan.ncopy; i++) {
		const struct kload_copy *c = &plan.copy[i];

		if (c->src != KLOAD_SRC_IMAGE)
			continue;
		n++;
		if (c->gpa == 0x1400000) {
			assert_int_equal(c->offset, 0x4000);
			assert_int_equal(c->len, 0x1000);
			assert_int_equal(c->zero, 0xf000); /* bss: memsz - filesz */
		}
	}
	assert_int_equal(n, 3);
	assert_int_equal(plan.kernel_end, 0x1410000);
	/* The zero page has a header of the loader's making. */
	assert_int_equal(zp(0x1fe, 2), 0xaa55);
	assert_int_equal(zp(0x202, 4), 0x53726448);
	assert_int_equal(zp(0x210, 1), 0xff);
	assert_int_equal(zp(0x228, 4), KLOAD_CMDLINE_GPA);
	assert_int_equal(zp(0x218, 4), plan.initrd_gpa);
	assert_int_equal(zp(0x21c, 4), 0x3000);
	assert_int_equal(zp(0x1e8, 1), 5);
}

static void test_vmlinux_bad(void **state)
{
	struct elf64_ehdr *eh = (struct elf64_ehdr *)img;
	struct elf64_phdr *ph = (struct elf64_phdr *)(img + 64);

	eh->entry = 0x3000000;
	assert_int_equal(run(), -1);
	assert_why("entry");
	elf_setup(state);
	ph[1].paddr = 0x1001000; /* into segment 0 */
	assert_int_equal(run(), -1);
	assert_why("overlaps");
	elf_setup(state);
	ph[2].paddr = 0x7f00000;
	assert_int_equal(run(), -1);
	assert_why("--mem of at least 128 MiB");
	elf_setup(state);
	ph[2].filesz = 0x20000; /* beyond the file and above memsz */
	assert_int_equal(run(), -1);
	assert_why("outside the file");
	elf_setup(state);
	ph[2].paddr = 0xfffffffffffff000ull;
	assert_int_equal(run(), -1);
	elf_setup(state);
	eh->phnum = 0xffff;
	assert_int_equal(run(), -1);
	assert_why("program headers");
	elf_setup(state);
	eh->machine = 3;
	assert_int_equal(run(), -1);
	assert_why("not an x86_64");
	elf_setup(state);
	in.img_len = 40;
	assert_int_equal(run(), -1);
	assert_why("truncated");
}

/* --- Multiboot v1 --- */
#define MB_OFF 0x40u

static void mb_header(uint64_t off, uint32_t flags)
{
	put(off, 0x1badb002, 4);
	put(off + 4, flags, 4);
	put(off + 8, (uint32_t)-(0x1badb002u + flags), 4);
}

/* a.out kludge: file [0, 0x3000) loaded at 1 MiB, 8 KiB of it, then 8 KiB of bss. */
static int mb_setup(void **state)
{
	memset(img, 0, sizeof(img));
	memset(&in, 0, sizeof(in));
	mb_header(MB_OFF, 0x10003);
	put(MB_OFF + 12, 0x100000 + MB_OFF, 4); /* header_addr */
	put(MB_OFF + 16, 0x100000, 4);          /* load_addr */
	put(MB_OFF + 20, 0x102000, 4);          /* load_end_addr */
	put(MB_OFF + 24, 0x104000, 4);          /* bss_end_addr */
	put(MB_OFF + 28, 0x100080, 4);          /* entry_addr */
	in.img = img;
	in.img_len = 0x3000;
	in.cmdline = "mbtest arg=1";
	in.initrd_len = 0x1234;
	in.initrd_str = "initrd.img";
	std_map(64 * MiB);
	return 0;
}

static void test_mb_aout(void **state)
{
	const struct kload_copy *k;
	uint64_t mbi = KLOAD_MB_INFO, mmap;

	assert_int_equal(run(), 0);
	assert_int_equal(plan.kind, KLOAD_MULTIBOOT);
	k = copy_of(KLOAD_SRC_IMAGE);
	assert_int_equal(k->offset, 0);
	assert_int_equal(k->len, 0x2000);
	assert_int_equal(k->gpa, 0x100000);
	assert_int_equal(k->zero, 0x2000);
	/* 3.2 machine state: EAX magic, EBX info, 32-bit protected mode without paging, IF clear. */
	assert_int_equal(plan.entry.mode, KLOAD_MODE_PROT32);
	assert_int_equal(plan.entry.rip, 0x100080);
	assert_int_equal(plan.entry.rax, 0x2badb002);
	assert_int_equal(plan.entry.rbx, mbi);
	assert_int_equal(plan.entry.cr0 & 0x80000001ull, 1);
	assert_int_equal(plan.entry.efer, 0);
	assert_int_equal(plan.entry.rflags & 0x20200, 0);   /* VM, IF */
	assert_int_equal(plan.entry.cs, 0x08);
	assert_int_equal(plan.entry.ds, 0x10);
	assert_int_equal((gpa(plan.entry.gdt_base + 8, 8) >> 53) & 3, 2); /* D=1, L=0 */
	assert_int_equal((gpa(plan.entry.gdt_base + 8, 8) >> 40) & 0x1a, 0x1a);
	assert_int_equal((gpa(plan.entry.gdt_base + 16, 8) >> 40) & 0x1a, 0x12);
	/* 3.3 boot information: mem (0), cmdline (2), mods (3), mmap (6). */
	assert_int_equal(gpa(mbi, 4) & 0x4d, 0x4d);
	assert_int_equal(gpa(mbi + 4, 4), 639);          /* mem_lower, KiB */
	assert_int_equal(gpa(mbi + 8, 4), 63 * 1024);    /* mem_upper: KiB from 1 MiB */
	assert_int_equal(gpa(mbi + 16, 4), KLOAD_CMDLINE_GPA);
	assert_int_equal(copy_of(KLOAD_SRC_CMDLINE)->len, strlen(in.cmdline) + 1);
	assert_int_equal(gpa(mbi + 20, 4), 1);            /* mods_count */
	uint64_t mod = gpa(mbi + 24, 4);

	assert_int_equal(gpa(mod, 4), plan.initrd_gpa);
	assert_int_equal(plan.initrd_gpa & 0xfff, 0);     /* page-aligned (flags bit 0) */
	assert_int_equal(gpa(mod + 4, 4), plan.initrd_gpa + 0x1234);
	assert_string_equal((const char *)boot + gpa(mod + 8, 4) - KLOAD_BOOT_GPA, "initrd.img");
	assert_int_equal(copy_of(KLOAD_SRC_INITRD)->gpa, plan.initrd_gpa);
	assert_true(plan.initrd_gpa >= 0x104000);
	/* mmap: entries of size 20 (+4), base, length, type 1 RAM / 2 reserved. */
	assert_int_equal(gpa(mbi + 44, 4), 5 * 24);
	mmap = gpa(mbi + 48, 4);
	assert_int_equal(gpa(mmap, 4), 20);
	assert_int_equal(gpa(mmap + 4, 8), 0);
	assert_int_equal(gpa(mmap + 12, 8), 0x9fc00);
	assert_int_equal(gpa(mmap + 20, 4), 1);
	assert_int_equal(gpa(mmap + 2 * 24 + 4, 8), 0x100000);
	assert_int_equal(gpa(mmap + 2 * 24 + 12, 8), 63 * MiB);
	assert_int_equal(gpa(mmap + 3 * 24 + 4, 8), 0xfec00000);
	assert_int_equal(gpa(mmap + 3 * 24 + 20, 4), 2);
	/* Every pointer in the info lies inside the boot block copy. */
	assert_true(mmap >= KLOAD_BOOT_GPA && mmap + 5 * 24 <= KLOAD_BOOT_GPA + plan.boot_len);
	assert_int_equal(copy_of(KLOAD_SRC_BOOT)->len, plan.boot_len);
}

static void test_mb_aout_bad(void **state)
{
	put(MB_OFF + 16, 0x100000 - 0x100, 4); /* load_addr before the file start */
	assert_int_equal(run(), -1);
	assert_why("load_addr");
	mb_setup(state);
	put(MB_OFF + 20, 0x110000, 4); /* load_end_addr beyond the file */
	assert_int_equal(run(), -1);
	assert_why("load_end_addr");
	mb_setup(state);
	put(MB_OFF + 24, 0x101000, 4); /* bss_end below load_end */
	assert_int_equal(run(), -1);
	assert_why("bss_end_addr");
	mb_setup(state);
	put(MB_OFF + 28, 0x200000, 4);
	assert_int_equal(run(), -1);
	assert_why("entry_addr");
	mb_setup(state);
	put(MB_OFF + 12, 0x1000 + MB_OFF, 4); /* loads at 4 KiB: over the boot block */
	put(MB_OFF + 16, 0x1000, 4);
	put(MB_OFF + 20, 0x2000, 4);
	put(MB_OFF + 24, 0, 4);
	put(MB_OFF + 28, 0x1080, 4);
	assert_int_equal(run(), -1);
	assert_why("overlaps");
	mb_setup(state);
	put(MB_OFF + 8, 0x12345678, 4);
	assert_int_equal(run(), -1);
	assert_why("checksum wrong");
	mb_setup(state);
	mb_header(MB_OFF, 0x10007); /* video mode required */
	assert_int_equal(run(), -1);
	assert_why("video mode");
	mb_setup(state);
	in.initrd_len = 63 * MiB;
	assert_int_equal(run(), -1);
	assert_why("module");
	mb_setup(state);
	in.img_len = MB_OFF + 20; /* a.out fields cut */
	assert_int_equal(run(), -1);
	assert_why("truncated");
}

/* An i386 ELF32 with a higher-half vaddr: entry converted through its segment's paddr. */
static void mb_elf32(uint64_t mb_off)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 1;
	img[5] = 1;
	put(16, 2, 2);            /* ET_EXEC */
	put(18, 3, 2);            /* EM_386 */
	put(24, 0xc0100010, 4);   /* e_entry */
	put(28, 52, 4);           /* e_phoff */
	put(42, 32, 2);           /* e_phentsize */
	put(44, 1, 2);            /* e_phnum */
	put(52, PT_LOAD, 4);
	put(52 + 4, 0x3000, 4);   /* p_offset */
	put(52 + 8, 0xc0100000, 4);
	put(52 + 12, 0x100000, 4);
	put(52 + 16, 0x1000, 4);  /* filesz */
	put(52 + 20, 0x5000, 4);  /* memsz */
	mb_header(mb_off, 0x3);
	in.img = img;
	in.img_len = 0x4000;
}

static void test_mb_elf(void **state)
{
	const struct kload_copy *k;

	mb_elf32(0x1000);
	assert_int_equal(run(), 0);
	assert_int_equal(plan.kind, KLOAD_MULTIBOOT);
	assert_int_equal(plan.entry.rip, 0x100010);
	k = copy_of(KLOAD_SRC_IMAGE);
	assert_int_equal(k->offset, 0x3000);
	assert_int_equal(k->len, 0x1000);
	assert_int_equal(k->gpa, 0x100000);
	assert_int_equal(k->zero, 0x4000);
	/* The header must lie wholly in the first 8192 bytes, 4-aligned. */
	mb_elf32(8192 - 12);
	assert_int_equal(run(), 0);
	assert_int_equal(plan.mb_off, 8192 - 12);
	mb_elf32(8192 - 8);
	assert_int_equal(run(), -1);
	mb_elf32(8192);
	assert_int_equal(run(), -1);
	mb_elf32(8193);
	assert_int_equal(run(), -1);
	mb_elf32(0x1002);
	assert_int_equal(run(), -1);
	mb_elf32(0x1000);
	put(18, 62, 2); /* an x86_64 ELF without a.out addresses */
	assert_int_equal(run(), -1);
	assert_why("i386");
}

/* --- Debian's kernel, fetched by make (tools/fetch-linux.sh) --- */
static uint8_t *slurp(const char *name, uint64_t *len)
{
	const char *dir = getenv("TERN_LINUX_DIR");
	char path[512];
	uint8_t *buf;
	FILE *f;
	long n;

#ifdef KLOAD_LINUX_DIR
	if (!dir)
		dir = KLOAD_LINUX_DIR;
#endif
	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (uint64_t)n;
	return buf;
}

static void test_debian(void **state)
{
	uint64_t zlen, vlen, ilen = 0;
	uint8_t *z = slurp("vmlinuz", &zlen), *v, *ird;

	/* make unit fetches it first (the Makefile's $(BUILD)/linux): missing is a failure. */
	assert_non_null(z);
	ird = slurp("initramfs.cpio.gz", &ilen);
	free(ird);
	memset(&in, 0, sizeof(in));
	in.img = z;
	in.img_len = zlen;
	in.initrd_len = ilen;
	in.cmdline = "console=ttyS0 earlyprintk=serial";
	std_map(256 * MiB);
	assert_int_equal(run(), 0);
	assert_int_equal(plan.kind, KLOAD_BZIMAGE);
	assert_true(plan.bz.version >= 0x020f);            /* 6.1: protocol 2.15 */
	assert_int_not_equal(plan.bz.relocatable, 0);
	assert_true(plan.bz.xloadflags & 1);               /* XLF_KERNEL_64 */
	assert_true(plan.bz.init_size >= plan.bz.pm_len);
	assert_true(plan.bz.init_size < 256 * MiB);
	assert_true(plan.bz.cmdline_size >= 255);
	assert_int_equal(plan.bz.kernel_alignment & (plan.bz.kernel_alignment - 1), 0);
	assert_int_equal(plan.kernel_gpa, plan.bz.pref_address);
	assert_int_equal(plan.kernel_gpa % plan.bz.kernel_alignment, 0);
	assert_int_equal(plan.entry.rip, plan.kernel_gpa + 0x200);
	assert_true(plan.initrd_gpa >= plan.kernel_end);
	assert_true(plan.initrd_gpa + ilen <= 256 * MiB);
	/* Too small a VM: the reason names the memory needed. */
	std_map(32 * MiB);
	assert_int_equal(run(), -1);
	assert_why("--mem of at least");
	free(z);

	v = slurp("vmlinux", &vlen);
	assert_non_null(v);
	in.img = v;
	in.img_len = vlen;
	std_map(256 * MiB);
	assert_int_equal(run(), 0);
	assert_int_equal(plan.kind, KLOAD_VMLINUX);
	/* The ELF entry is phys_startup_64: physical, at the lowest segment (LOAD_PHYSICAL_ADDR). */
	assert_int_equal(plan.entry.rip, ((struct elf64_ehdr *)v)->entry);
	assert_int_equal(plan.entry.rip, plan.kernel_gpa);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bz_plan, bz_setup),
		cmocka_unit_test_setup(test_bz_initrd_high, bz_setup),
		cmocka_unit_test_setup(test_bz_initrd_limits, bz_setup),
		cmocka_unit_test_setup(test_bz_too_small, bz_setup),
		cmocka_unit_test_setup(test_bz_relocates, bz_setup),
		cmocka_unit_test_setup(test_bz_cmdline_size, bz_setup),
		cmocka_unit_test_setup(test_bz_protocol, bz_setup),
		cmocka_unit_test_setup(test_bz_bad_fields, bz_setup),
		cmocka_unit_test_setup(test_bz_truncations, bz_setup),
		cmocka_unit_test_setup(test_not_kernel, bz_setup),
		cmocka_unit_test_setup(test_vmlinux, elf_setup),
		cmocka_unit_test_setup(test_vmlinux_bad, elf_setup),
		cmocka_unit_test_setup(test_mb_aout, mb_setup),
		cmocka_unit_test_setup(test_mb_aout_bad, mb_setup),
		cmocka_unit_test_setup(test_mb_elf, mb_setup),
		cmocka_unit_test(test_debian),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
