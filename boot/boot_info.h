/* SPDX-License-Identifier: MIT */
/*
 * struct boot_info: everything a boot front end (UEFI loader, Multiboot2
 * entry) hands the kernel. After the kernel is entered nothing else of the
 * firmware is used. Plain C, no firmware types: included by boot/, the kernel
 * and host unit tests.
 *
 * Entry contract (both front ends): 64-bit long mode, interrupts disabled,
 * paging on with [0, 4 GiB) identity-mapped and the kernel image mapped at its
 * link address; kernel_entry(struct boot_info *bi) is called with the SysV
 * ABI (RDI = bi, an identity-mapped physical address). Every pointer-sized
 * field below is a physical address.
 */
#ifndef TERN_BOOT_BOOT_INFO_H
#define TERN_BOOT_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x544f4f424e524554ull /* "TERNBOOT" little-endian */
#define BOOT_INFO_VERSION 1u

#define BOOT_MAX_MEM      512u
#define BOOT_MAX_CPUS     256u
#define BOOT_MAX_MODULES  32u
#define BOOT_CMDLINE_MAX  1024u
#define BOOT_NAME_MAX     64u

/* Where the kernel is linked; the UEFI loader maps it there wherever it lands. */
#define KERNEL_VIRT_BASE  0xffffffff80000000ull
#define KERNEL_LINK_ADDR  0xffffffff80200000ull
#define KERNEL_LOAD_PHYS  0x200000ull /* Multiboot2 load address (ELF p_paddr) */

enum boot_loader {
	BOOT_LOADER_UEFI = 1,
	BOOT_LOADER_MULTIBOOT2 = 2,
};

enum boot_mem_type {
	BOOT_MEM_USABLE = 1,   /* free RAM once the kernel runs */
	BOOT_MEM_RESERVED,     /* firmware, holes, unknown types */
	BOOT_MEM_ACPI_RECLAIM, /* ACPI tables */
	BOOT_MEM_ACPI_NVS,
	BOOT_MEM_UNUSABLE,     /* bad RAM */
	BOOT_MEM_KERNEL,       /* the kernel image as loaded */
	BOOT_MEM_MODULE,       /* boot modules (guest images) */
	BOOT_MEM_BOOT_DATA,    /* boot_info, loader page tables */
	BOOT_MEM_MMIO,
	BOOT_MEM_PERSISTENT,
	BOOT_MEM_TYPE_MAX,
};

struct boot_mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum boot_mem_type */
	uint32_t reserved;
};

#define BOOT_CPU_BSP     (1u << 0)
#define BOOT_CPU_ENABLED (1u << 1)

struct boot_cpu {
	uint32_t apic_id;
	uint32_t flags;
};

struct boot_module {
	uint64_t base;
	uint64_t size;
	char name[BOOT_NAME_MAX];
};

enum boot_fb_format {
	BOOT_FB_NONE = 0,
	BOOT_FB_RGBX8888,
	BOOT_FB_BGRX8888,
};

struct boot_fb {
	uint64_t base;
	uint64_t size;
	uint32_t width;
	uint32_t height;
	uint32_t pitch; /* bytes per scan line */
	uint32_t format; /* enum boot_fb_format */
};

struct boot_info {
	uint64_t magic;
	uint32_t version;
	uint32_t size; /* sizeof(struct boot_info) as the loader saw it */
	uint32_t loader; /* enum boot_loader */
	uint32_t reserved0;

	uint64_t kernel_phys; /* where KERNEL_LINK_ADDR landed */
	uint64_t kernel_size;
	uint64_t acpi_rsdp;   /* 0 when the firmware gave none */
	uint64_t loader_tsc;  /* TSC when the front end started, for boot timing */

	char cmdline[BOOT_CMDLINE_MAX];

	uint32_t nr_mem;
	uint32_t nr_cpus;    /* 0: the front end could not tell (use ACPI) */
	uint32_t nr_modules;
	uint32_t reserved1;

	struct boot_mem_region mem[BOOT_MAX_MEM];
	struct boot_cpu cpus[BOOT_MAX_CPUS];
	struct boot_module modules[BOOT_MAX_MODULES];
	struct boot_fb fb;
};

_Static_assert(sizeof(struct boot_mem_region) == 24, "boot_mem_region layout");
_Static_assert(sizeof(struct boot_cpu) == 8, "boot_cpu layout");
_Static_assert(sizeof(struct boot_module) == 80, "boot_module layout");
_Static_assert(__builtin_offsetof(struct boot_info, cmdline) == 56, "boot_info layout");

#endif
