/* SPDX-License-Identifier: MIT */
/*
 * Kernel images the management guest loads unmodified (issue 13): a Linux
 * bzImage through the 64-bit boot protocol (Documentation/arch/x86/boot.rst,
 * protocol 2.12 or later: XLF_KERNEL_64), the uncompressed vmlinux ELF64
 * entered at its ELF entry with the same zero page, and Multiboot v1 kernels
 * (Multiboot Specification 0.6.96). Pure planner: from the image bytes, the
 * initrd's size, the command line and the VM's memory map (TERN_HC_VM_MEMMAP)
 * it says what to copy where and the vCPU's entry state; the zero page or
 * Multiboot information, the page tables and the GDT are generated into one
 * caller buffer (the boot block). Every field of the image is untrusted.
 * Unit-tested on the host (tests/unit/test_mgmt_kload.c).
 *
 * Guest-physical layout (all below 1 MiB, kernels load at or above 1 MiB):
 *   Linux:     0x1000 PML4, 0x2000 PDPT, 0x3000-0x6fff PDs (identity map of
 *              [0, 4 GiB), 2 MiB pages), 0x7000 GDT (__BOOT_CS 0x10,
 *              __BOOT_DS 0x18), 0x8000 zero page (struct boot_params)
 *   Multiboot: 0x1000 GDT (code32 0x08, data 0x10), 0x1100 multiboot info,
 *              0x1200 memory map, 0x1600 module list, 0x1640 loader name,
 *              0x1680 module string
 *   both:      0x20000 command line
 */
#ifndef TERN_MGMT_KLOAD_H
#define TERN_MGMT_KLOAD_H

#include <stdint.h>

#include "vmm/abi.h"

#define KLOAD_BOOT_GPA     0x1000ull
#define KLOAD_BOOT_SIZE    0x8000u     /* the boot block: [0x1000, 0x9000) */
#define KLOAD_PT_GPA       0x1000ull
#define KLOAD_LINUX_GDT    0x7000ull
#define KLOAD_ZERO_PAGE    0x8000ull
#define KLOAD_MB_GDT       0x1000ull
#define KLOAD_MB_INFO      0x1100ull
#define KLOAD_CMDLINE_GPA  0x20000ull
#define KLOAD_CMDLINE_MAX  0xffffu     /* bytes without the NUL: [0x20000, 0x30000) */
#define KLOAD_MB_MODSTR_MAX 0x97fu     /* module string without the NUL */
#define KLOAD_MAX_COPIES   20u
#define KLOAD_E820_MAX     128u        /* E820_MAX_ENTRIES_ZEROPAGE */
#define KLOAD_WHY_LEN      160u

/* boot.rst selectors for the 64-bit entry; Multiboot's are the loader's choice. */
#define KLOAD_BOOT_CS      0x10u
#define KLOAD_BOOT_DS      0x18u
#define KLOAD_MB_CS        0x08u
#define KLOAD_MB_DS        0x10u
#define KLOAD_MB_MAGIC     0x2badb002u /* EAX at a Multiboot entry */

enum kload_kind { KLOAD_NONE, KLOAD_BZIMAGE, KLOAD_VMLINUX, KLOAD_MULTIBOOT };
enum kload_mode { KLOAD_MODE_LONG, KLOAD_MODE_PROT32 };

/* Where a copy's bytes come from: the kernel image, the initrd, the boot block, the command line. */
enum kload_src { KLOAD_SRC_IMAGE, KLOAD_SRC_INITRD, KLOAD_SRC_BOOT, KLOAD_SRC_CMDLINE };

/* Copy len bytes of src from offset to gpa, then zero-fill zero bytes after them. */
struct kload_copy {
	enum kload_src src;
	uint64_t offset, len, gpa, zero;
};

/*
 * The vCPU at entry. Segments are flat (base 0, limit 4 GiB); CS is code
 * (64-bit in long mode, 32-bit otherwise), DS/ES/SS/FS/GS are data with
 * selector ds. Interrupts off (rflags 0x2); other GPRs 0.
 */
struct kload_entry {
	enum kload_mode mode;
	uint64_t rip, rsp, rsi, rax, rbx, rflags;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit, cs, ds;
};

/* The bzImage setup header fields the plan used (boot.rst, "The real-mode kernel header"). */
struct kload_bzhdr {
	uint16_t version, xloadflags;
	uint8_t setup_sects, loadflags, relocatable;
	uint32_t syssize, kernel_alignment, initrd_addr_max, cmdline_size, init_size;
	uint64_t pref_address;
	uint64_t setup_off, pm_len, hdr_end; /* protected-mode code at setup_off, pm_len bytes */
};

struct kload_in {
	const uint8_t *img;
	uint64_t img_len;
	uint64_t initrd_len;                 /* 0: none */
	const char *cmdline;                 /* NULL: empty */
	const char *initrd_str;              /* Multiboot module string; NULL: "" */
	const struct tern_mem_region *map;   /* the VM's memory map, ascending */
	unsigned int nmap;
	uint64_t acpi_rsdp;                  /* zero page acpi_rsdp_addr (2.14); 0: none */
};

struct kload_plan {
	enum kload_kind kind;
	struct kload_bzhdr bz;               /* KLOAD_BZIMAGE */
	uint32_t mb_off, mb_flags;           /* KLOAD_MULTIBOOT: header offset and flags */
	uint64_t kernel_gpa, kernel_end;     /* what the kernel occupies (bzImage: init_size) */
	uint64_t initrd_gpa;                 /* if initrd_len */
	uint64_t boot_len;                   /* bytes of the boot block used */
	unsigned int ncopy;
	struct kload_copy copy[KLOAD_MAX_COPIES];
	struct kload_entry entry;
	char why[KLOAD_WHY_LEN];             /* after an error: one line, no newline */
};

/* The format of img by its own bytes: 0, or -1 with p->why. Fills kind, bz or mb_*. */
int kload_detect(const uint8_t *img, uint64_t len, struct kload_plan *p);

/*
 * The whole plan for in, generating the boot block into boot (KLOAD_BOOT_SIZE
 * bytes, copied to KLOAD_BOOT_GPA by the copy with src KLOAD_SRC_BOOT): 0, or
 * -1 with p->why and nothing to apply.
 */
int kload_plan(const struct kload_in *in, struct kload_plan *p, uint8_t boot[KLOAD_BOOT_SIZE]);

const char *kload_kind_name(enum kload_kind kind);

#endif
