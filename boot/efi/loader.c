/* SPDX-License-Identifier: MIT */
/*
 * Tern's UEFI loader: reads tern.cfg, the kernel ELF and the modules from its
 * own volume, gathers struct boot_info, exits boot services and enters the
 * kernel. Nothing after ExitBootServices touches UEFI.
 */
#include <efi.h>
#include <efilib.h>
#include <elf.h>

#include "boot/boot_info.h"
#include "boot/bootcfg.h"
#include "boot/efi/efi_mp.h"

#define CFG_PATH L"\\EFI\\tern\\tern.cfg"

/* OS-loader memory types (UEFI 2.10 table 7.10: 0x80000000 and up). */
#define TERN_MEM_KERNEL    ((EFI_MEMORY_TYPE)0x80000001u)
#define TERN_MEM_MODULE    ((EFI_MEMORY_TYPE)0x80000002u)
#define TERN_MEM_BOOT_DATA ((EFI_MEMORY_TYPE)0x80000003u)

#define LOW_4G      0xffffffffull
#define SIZE_2M     0x200000ull
#define PTE_P       0x1ull
#define PTE_W       0x2ull
#define PTE_PS      0x80ull

typedef void (__attribute__((sysv_abi)) *kernel_entry_fn)(struct boot_info *);

#define EFI_PAGES_TO_SIZE(p) ((UINT64)(p) << EFI_PAGE_SHIFT)
#define EFI_PERSISTENT_MEMORY 14u /* EfiPersistentMemory, UEFI 2.5 */

static EFI_FILE_HANDLE root;

static void die(const CHAR16 *what, EFI_STATUS st)
{
	Print(L"tern loader: %s: %r\n", what, st);
	uefi_call_wrapper(BS->Stall, 1, 3000000);
}

static UINT64 rdtsc64(void)
{
	UINT32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((UINT64)hi << 32) | lo;
}

/* Pages of the given type below 4 GiB: the kernel's first page tables map only that. */
static EFI_STATUS alloc_low(EFI_MEMORY_TYPE type, UINTN pages, EFI_PHYSICAL_ADDRESS *addr)
{
	*addr = LOW_4G;
	return uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, type, pages, addr);
}

static void to_wide(CHAR16 *dst, const char *src, UINTN cap)
{
	UINTN i = 0;

	for (; src[i] && i < cap - 1; i++)
		dst[i] = src[i] == '/' ? L'\\' : (CHAR16)src[i];
	dst[i] = 0;
}

/* Read a whole file from the boot volume into pages of the given type. */
static EFI_STATUS read_file(const CHAR16 *path, EFI_MEMORY_TYPE type,
			    EFI_PHYSICAL_ADDRESS *addr, UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_FILE_INFO *info;
	EFI_STATUS st;
	UINTN len;

	st = uefi_call_wrapper(root->Open, 5, root, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st)) {
		Print(L"tern loader: cannot open %s: %r\n", path, st);
		return st;
	}
	info = LibFileInfo(f);
	if (!info) {
		uefi_call_wrapper(f->Close, 1, f);
		return EFI_DEVICE_ERROR;
	}
	len = info->FileSize;
	FreePool(info);
	st = alloc_low(type, EFI_SIZE_TO_PAGES(len + 1), addr);
	if (!EFI_ERROR(st)) {
		*size = len;
		st = uefi_call_wrapper(f->Read, 3, f, size, (void *)(UINTN)*addr);
		((char *)(UINTN)*addr)[*size] = 0;
	}
	uefi_call_wrapper(f->Close, 1, f);
	if (EFI_ERROR(st))
		Print(L"tern loader: cannot read %s: %r\n", path, st);
	return st;
}

static EFI_STATUS open_root(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *li;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st))
		return st;
	root = LibOpenRoot(li->DeviceHandle);
	return root ? EFI_SUCCESS : EFI_NOT_FOUND;
}

static int elf_ok(const Elf64_Ehdr *eh, UINTN size)
{
	return size >= sizeof(*eh) && eh->e_ident[EI_MAG0] == ELFMAG0 &&
	       eh->e_ident[EI_MAG1] == ELFMAG1 && eh->e_ident[EI_MAG2] == ELFMAG2 &&
	       eh->e_ident[EI_MAG3] == ELFMAG3 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh->e_machine == EM_X86_64 && eh->e_type == ET_EXEC &&
	       eh->e_phoff + (UINT64)eh->e_phnum * sizeof(Elf64_Phdr) <= size;
}

/* Copy the kernel's PT_LOAD segments to 2 MiB-aligned pages below 4 GiB. */
static EFI_STATUS load_kernel(const char *path, struct boot_info *bi, UINT64 *entry)
{
	CHAR16 wpath[BOOTCFG_PATH_MAX];
	EFI_PHYSICAL_ADDRESS file, mem;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	UINT64 lo = ~0ull, hi = 0, phys;
	UINTN size, pages;
	EFI_STATUS st;

	to_wide(wpath, path, BOOTCFG_PATH_MAX);
	st = read_file(wpath, EfiLoaderData, &file, &size);
	if (EFI_ERROR(st))
		return st;
	eh = (const Elf64_Ehdr *)(UINTN)file;
	if (!elf_ok(eh, size)) {
		Print(L"tern loader: %s is not an x86_64 ELF executable\n", wpath);
		return EFI_LOAD_ERROR;
	}
	ph = (const Elf64_Phdr *)(UINTN)(file + eh->e_phoff);
	for (UINTN i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_offset + ph[i].p_filesz > size || ph[i].p_filesz > ph[i].p_memsz) {
			Print(L"tern loader: %s: segment %d lies outside the file\n", wpath, i);
			return EFI_LOAD_ERROR;
		}
		lo = ph[i].p_vaddr < lo ? ph[i].p_vaddr : lo;
		hi = ph[i].p_vaddr + ph[i].p_memsz > hi ? ph[i].p_vaddr + ph[i].p_memsz : hi;
	}
	if (lo != KERNEL_LINK_ADDR || hi <= lo || hi - lo > 0x40000000ull) {
		Print(L"tern loader: %s is not linked at 0x%lx\n", wpath, KERNEL_LINK_ADDR);
		return EFI_LOAD_ERROR;
	}
	pages = EFI_SIZE_TO_PAGES(hi - lo + SIZE_2M);
	st = alloc_low(TERN_MEM_KERNEL, pages, &mem);
	if (EFI_ERROR(st))
		return st;
	phys = (mem + SIZE_2M - 1) & ~(SIZE_2M - 1);
	/* Give back the pages skipped for alignment and the unused tail. */
	if (phys > mem)
		uefi_call_wrapper(BS->FreePages, 2, mem, EFI_SIZE_TO_PAGES(phys - mem));
	if (mem + pages * EFI_PAGE_SIZE > phys + EFI_PAGES_TO_SIZE(EFI_SIZE_TO_PAGES(hi - lo)))
		uefi_call_wrapper(BS->FreePages, 2,
				  phys + EFI_PAGES_TO_SIZE(EFI_SIZE_TO_PAGES(hi - lo)),
				  EFI_SIZE_TO_PAGES(mem + pages * EFI_PAGE_SIZE - phys) -
					  EFI_SIZE_TO_PAGES(hi - lo));
	SetMem((void *)(UINTN)phys, hi - lo, 0);
	for (UINTN i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			CopyMem((void *)(UINTN)(phys + ph[i].p_vaddr - lo),
				(void *)(UINTN)(file + ph[i].p_offset), ph[i].p_filesz);
	bi->kernel_phys = phys;
	bi->kernel_size = hi - lo;
	*entry = eh->e_entry;
	uefi_call_wrapper(BS->FreePages, 2, file, EFI_SIZE_TO_PAGES(size + 1));
	return EFI_SUCCESS;
}

static EFI_STATUS load_modules(const struct bootcfg *cfg, struct boot_info *bi)
{
	for (unsigned int i = 0; i < cfg->nr_modules; i++) {
		CHAR16 wpath[BOOTCFG_PATH_MAX];
		EFI_PHYSICAL_ADDRESS addr;
		UINTN size;
		EFI_STATUS st;

		to_wide(wpath, cfg->modules[i].path, BOOTCFG_PATH_MAX);
		st = read_file(wpath, TERN_MEM_MODULE, &addr, &size);
		if (EFI_ERROR(st))
			return st;
		bi->modules[i].base = addr;
		bi->modules[i].size = size;
		CopyMem(bi->modules[i].name, (void *)cfg->modules[i].name, BOOT_NAME_MAX);
	}
	bi->nr_modules = cfg->nr_modules;
	return EFI_SUCCESS;
}

static void find_rsdp(struct boot_info *bi)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!CompareGuid(&t->VendorGuid, &acpi20)) {
			bi->acpi_rsdp = (UINT64)(UINTN)t->VendorTable;
			return;
		}
		if (!CompareGuid(&t->VendorGuid, &acpi10))
			bi->acpi_rsdp = (UINT64)(UINTN)t->VendorTable;
	}
}

/* The processor list from MP Services: OVMF under Bochs has no ACPI tables. */
static void find_cpus(struct boot_info *bi)
{
	EFI_GUID guid = EFI_MP_SERVICES_PROTOCOL_GUID;
	EFI_MP_SERVICES_PROTOCOL *mp;
	UINTN n, enabled;

	if (EFI_ERROR(LibLocateProtocol(&guid, (void **)&mp)) ||
	    EFI_ERROR(uefi_call_wrapper(mp->GetNumberOfProcessors, 3, mp, &n, &enabled)))
		return;
	for (UINTN i = 0; i < n && bi->nr_cpus < BOOT_MAX_CPUS; i++) {
		EFI_PROCESSOR_INFORMATION info;

		if (EFI_ERROR(uefi_call_wrapper(mp->GetProcessorInfo, 3, mp, i, &info)))
			continue;
		bi->cpus[bi->nr_cpus].apic_id = (UINT32)info.ProcessorId;
		bi->cpus[bi->nr_cpus].flags =
			(info.StatusFlag & PROCESSOR_AS_BSP_BIT ? BOOT_CPU_BSP : 0) |
			(info.StatusFlag & PROCESSOR_ENABLED_BIT ? BOOT_CPU_ENABLED : 0);
		bi->nr_cpus++;
	}
}

static void find_fb(struct boot_info *bi)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;

	if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop->Mode)
		return;
	info = gop->Mode->Info;
	if (info->PixelFormat != PixelRedGreenBlueReserved8BitPerColor &&
	    info->PixelFormat != PixelBlueGreenRedReserved8BitPerColor)
		return;
	bi->fb.base = gop->Mode->FrameBufferBase;
	bi->fb.size = gop->Mode->FrameBufferSize;
	bi->fb.width = info->HorizontalResolution;
	bi->fb.height = info->VerticalResolution;
	bi->fb.pitch = info->PixelsPerScanLine * 4;
	bi->fb.format = info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor
				? BOOT_FB_RGBX8888 : BOOT_FB_BGRX8888;
}

/*
 * Hand-off page tables: [0, 4 GiB) identity-mapped with 2 MiB pages, and the
 * kernel at KERNEL_LINK_ADDR. The kernel replaces them at once.
 */
static EFI_STATUS build_page_tables(const struct boot_info *bi, UINT64 *cr3)
{
	EFI_PHYSICAL_ADDRESS pt;
	UINT64 *pml4, *pdpt_lo, *pd_lo, *pdpt_hi, *pd_hi;
	UINTN kpages = (bi->kernel_size + SIZE_2M - 1) / SIZE_2M;
	EFI_STATUS st = alloc_low(TERN_MEM_BOOT_DATA, 8, &pt);

	if (EFI_ERROR(st))
		return st;
	SetMem((void *)(UINTN)pt, 8 * EFI_PAGE_SIZE, 0);
	pml4 = (UINT64 *)(UINTN)pt;
	pdpt_lo = pml4 + 512;
	pd_lo = pml4 + 2 * 512; /* four pages */
	pdpt_hi = pml4 + 6 * 512;
	pd_hi = pml4 + 7 * 512;
	pml4[0] = (UINT64)(UINTN)pdpt_lo | PTE_P | PTE_W;
	for (UINTN i = 0; i < 4; i++)
		pdpt_lo[i] = (UINT64)(UINTN)(pd_lo + i * 512) | PTE_P | PTE_W;
	for (UINTN i = 0; i < 4 * 512; i++)
		pd_lo[i] = i * SIZE_2M | PTE_P | PTE_W | PTE_PS;
	pml4[(KERNEL_LINK_ADDR >> 39) & 511] = (UINT64)(UINTN)pdpt_hi | PTE_P | PTE_W;
	pdpt_hi[(KERNEL_LINK_ADDR >> 30) & 511] = (UINT64)(UINTN)pd_hi | PTE_P | PTE_W;
	for (UINTN i = 0; i < kpages; i++)
		pd_hi[((KERNEL_LINK_ADDR >> 21) & 511) + i] =
			(bi->kernel_phys + i * SIZE_2M) | PTE_P | PTE_W | PTE_PS;
	*cr3 = pt;
	return EFI_SUCCESS;
}

static UINT32 mem_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiLoaderCode: case EfiLoaderData:
	case EfiBootServicesCode: case EfiBootServicesData:
	case EfiConventionalMemory:
		return BOOT_MEM_USABLE;
	case EfiACPIReclaimMemory: return BOOT_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:     return BOOT_MEM_ACPI_NVS;
	case EfiUnusableMemory:    return BOOT_MEM_UNUSABLE;
	case EfiMemoryMappedIO: case EfiMemoryMappedIOPortSpace:
		return BOOT_MEM_MMIO;
	case EFI_PERSISTENT_MEMORY: return BOOT_MEM_PERSISTENT;
	case TERN_MEM_KERNEL:      return BOOT_MEM_KERNEL;
	case TERN_MEM_MODULE:      return BOOT_MEM_MODULE;
	case TERN_MEM_BOOT_DATA:   return BOOT_MEM_BOOT_DATA;
	default:                   return BOOT_MEM_RESERVED;
	}
}

/* Translate the firmware map, merging neighbours so it fits BOOT_MAX_MEM. */
static void convert_map(struct boot_info *bi, const UINT8 *map, UINTN size, UINTN desc_size)
{
	struct boot_mem_region *last = 0;

	bi->nr_mem = 0;
	for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)(map + off);
		UINT32 type = mem_type(d->Type);
		UINT64 len = d->NumberOfPages * EFI_PAGE_SIZE;

		if (last && last->type == type && last->base + last->length == d->PhysicalStart) {
			last->length += len;
			continue;
		}
		if (bi->nr_mem == BOOT_MAX_MEM)
			continue; /* the kernel sees less RAM; never more */
		last = &bi->mem[bi->nr_mem++];
		last->base = d->PhysicalStart;
		last->length = len;
		last->type = type;
		last->reserved = 0;
	}
}

/* Take the final map and leave boot services, retrying on a stale map key. */
static EFI_STATUS exit_boot(EFI_HANDLE image, struct boot_info *bi)
{
	UINTN size = 0, key, desc_size, cap;
	UINT32 desc_ver;
	EFI_PHYSICAL_ADDRESS buf;
	EFI_STATUS st;

	uefi_call_wrapper(BS->GetMemoryMap, 5, &size, NULL, &key, &desc_size, &desc_ver);
	cap = size + 16 * EFI_PAGE_SIZE; /* the allocation below may split entries */
	st = alloc_low(EfiLoaderData, EFI_SIZE_TO_PAGES(cap), &buf);
	if (EFI_ERROR(st))
		return st;
	for (int tries = 0; tries < 8; tries++) {
		size = cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size,
				       (EFI_MEMORY_DESCRIPTOR *)(UINTN)buf, &key, &desc_size, &desc_ver);
		if (EFI_ERROR(st))
			return st;
		convert_map(bi, (const UINT8 *)(UINTN)buf, size, desc_size);
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
		if (st != EFI_INVALID_PARAMETER)
			return st;
	}
	return st;
}

static EFI_STATUS read_config(struct bootcfg *cfg)
{
	EFI_PHYSICAL_ADDRESS addr;
	UINTN size;
	char err[160];
	EFI_STATUS st = read_file(CFG_PATH, EfiLoaderData, &addr, &size);

	if (EFI_ERROR(st))
		return st;
	if (bootcfg_parse((const char *)(UINTN)addr, size, cfg, err, sizeof(err))) {
		Print(L"tern loader: %a\n", err);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

/* Everything up to the hand-off; returns only on failure, having said why. */
static EFI_STATUS prepare(EFI_HANDLE image, struct boot_info **bip, UINT64 *entry, UINT64 *cr3)
{
	static struct bootcfg cfg;
	EFI_PHYSICAL_ADDRESS bi_addr;
	struct boot_info *bi;
	UINT64 tsc = rdtsc64();
	EFI_STATUS st;

	st = open_root(image);
	if (EFI_ERROR(st))
		return die(L"cannot open the boot volume", st), st;
	st = read_config(&cfg);
	if (EFI_ERROR(st))
		return die(L"bad or missing \\EFI\\tern\\tern.cfg", st), st;
	st = alloc_low(TERN_MEM_BOOT_DATA, EFI_SIZE_TO_PAGES(sizeof(*bi)), &bi_addr);
	if (EFI_ERROR(st))
		return die(L"out of memory", st), st;
	bi = (struct boot_info *)(UINTN)bi_addr;
	SetMem(bi, sizeof(*bi), 0);
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	bi->loader = BOOT_LOADER_UEFI;
	bi->loader_tsc = tsc;
	CopyMem(bi->cmdline, cfg.cmdline, sizeof(bi->cmdline));
	st = load_kernel(cfg.kernel, bi, entry);
	if (EFI_ERROR(st))
		return die(L"cannot load the kernel", st), st;
	st = load_modules(&cfg, bi);
	if (EFI_ERROR(st))
		return die(L"cannot load a module", st), st;
	find_rsdp(bi);
	find_cpus(bi);
	find_fb(bi);
	st = build_page_tables(bi, cr3);
	if (EFI_ERROR(st))
		return die(L"out of memory", st), st;
	*bip = bi;
	return EFI_SUCCESS;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct boot_info *bi;
	UINT64 entry, cr3;
	EFI_STATUS st;

	InitializeLib(image, systab);
	Print(L"Tern UEFI loader\n");
	st = prepare(image, &bi, &entry, &cr3);
	if (EFI_ERROR(st))
		return st;
	Print(L"tern loader: kernel at 0x%lx, %d modules, %d CPUs, ACPI %a; starting\n",
	      bi->kernel_phys, bi->nr_modules, bi->nr_cpus, bi->acpi_rsdp ? "yes" : "none");
	st = exit_boot(image, bi);
	if (EFI_ERROR(st))
		return die(L"ExitBootServices failed", st), st;
	__asm__ volatile("cli; mov %0, %%cr3" : : "r"(cr3) : "memory");
	((kernel_entry_fn)entry)(bi);
	for (;;)
		__asm__ volatile("cli; hlt");
}
