/* SPDX-License-Identifier: MIT */
/* Guest image loader (see loader.h). Images are untrusted: every header field is checked. */
#include "vmm/loader.h"
#include "vmm/elf.h"
#include "arch/paging.h"
#include "kernel/errno.h"
#include "kernel/fmt.h"
#include "kernel/string.h"
#include "kernel/pmm.h"

#define STACK_RESERVE 0x10000ull

static int fail(char *err, size_t errlen, int code, const char *msg)
{
	fmt_snprintf(err, errlen, "%s", msg);
	return code;
}

/* Identity map of [0, 4 GiB) with 2 MiB pages, and a flat GDT; filled in place. */
static int build_long_mode_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_guest_ptr(vm, GUEST_PT_BASE, PAGE_SIZE);
	uint64_t *pdpt = vm_guest_ptr(vm, GUEST_PT_BASE + PAGE_SIZE, PAGE_SIZE);
	uint64_t gdt[3] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull };

	if (!pml4 || !pdpt)
		return -EFAULT;
	pml4[0] = (GUEST_PT_BASE + PAGE_SIZE) | PTE_P | PTE_W;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t pd_gpa = GUEST_PT_BASE + (2 + i) * PAGE_SIZE;
		uint64_t *pd = vm_guest_ptr(vm, pd_gpa, PAGE_SIZE);

		if (!pd)
			return -EFAULT;
		pdpt[i] = pd_gpa | PTE_P | PTE_W;
		for (unsigned int j = 0; j < 512; j++)
			pd[j] = (((uint64_t)i << 30) + ((uint64_t)j << 21)) | PTE_P | PTE_W | PTE_PS;
	}
	return vm_write_guest(vm, GUEST_GDT_BASE, gdt, sizeof(gdt));
}

static int load_elf(struct vm *vm, const uint8_t *img, size_t len, char *err, size_t errlen)
{
	struct elf64_ehdr eh;
	struct vcpu_init *in = &vm->vcpus[0]->init;

	if (len < sizeof(eh))
		return fail(err, errlen, -EINVAL, "ELF header truncated");
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[EI_CLASS] != ELFCLASS64 || eh.type != ET_EXEC || eh.machine != EM_X86_64 ||
	    eh.phentsize != sizeof(struct elf64_phdr) || eh.phoff > len ||
	    (uint64_t)eh.phnum * sizeof(struct elf64_phdr) > len - eh.phoff)
		return fail(err, errlen, -EINVAL, "not an x86_64 ELF executable with sane program headers");
	for (uint16_t i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, img + eh.phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type != PT_LOAD)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > len || ph.filesz > len - ph.offset)
			return fail(err, errlen, -EINVAL, "ELF segment lies outside the file");
		if (ph.paddr < GUEST_IMAGE_MIN || ph.paddr >= vm->mem_size ||
		    ph.memsz > vm->mem_size - ph.paddr ||
		    vm->mem_size - ph.paddr - ph.memsz < STACK_RESERVE)
			return fail(err, errlen, -E2BIG, "ELF segment does not fit the VM's memory (below 1 MiB, or too large)");
		if (vm_write_guest(vm, ph.paddr, img + ph.offset, ph.filesz))
			return fail(err, errlen, -EFAULT, "cannot copy an ELF segment");
	}
	if (eh.entry < GUEST_IMAGE_MIN || eh.entry >= vm->mem_size)
		return fail(err, errlen, -EINVAL, "ELF entry point outside the VM's memory");
	if (build_long_mode_tables(vm))
		return fail(err, errlen, -EFAULT, "cannot write the guest page tables");
	*in = (struct vcpu_init){
		.mode = GUEST_LONG, .rip = eh.entry, .rsp = vm->mem_size, .rdi = vm->mem_size,
		.rsi = 0, .rdx = vm->id, .cr3 = GUEST_PT_BASE, .gdt_base = GUEST_GDT_BASE,
		.gdt_limit = 3 * 8 - 1,
	};
	vm->vcpus[0]->has_state = true;
	return 0;
}

static int load_flat(struct vm *vm, const uint8_t *img, size_t len, char *err, size_t errlen)
{
	struct vcpu_init *in = &vm->vcpus[0]->init;

	if (!vmx_config.unrestricted)
		return fail(err, errlen, -ENOTSUP, "real-mode images need unrestricted guest, which this CPU lacks");
	if (len > 0xa0000 - GUEST_REAL_ENTRY)
		return fail(err, errlen, -E2BIG, "flat image larger than the real-mode area (0x7c00-0x9ffff)");
	if (vm_write_guest(vm, GUEST_REAL_ENTRY, img, len))
		return fail(err, errlen, -EFAULT, "cannot copy the image");
	*in = (struct vcpu_init){ .mode = GUEST_REAL, .cs = 0, .rip = GUEST_REAL_ENTRY,
				  .rsp = GUEST_REAL_ENTRY, .rdx = vm->id };
	vm->vcpus[0]->has_state = true;
	return 0;
}

const char *vm_vcpus_refused(uint32_t nr_vcpus)
{
	if (nr_vcpus > 1 && !vmx_config.unrestricted)
		return "more than one vCPU needs unrestricted guest (other vCPUs start in real mode), "
		       "which this CPU lacks";
	return NULL;
}

int vm_load_image(struct vm *vm, const void *img, size_t len, char *err, size_t errlen)
{
	uint32_t magic = 0;

	if (len >= 4)
		memcpy(&magic, img, 4);
	if (magic == ELF_MAGIC)
		return load_elf(vm, img, len, err, errlen);
	return load_flat(vm, img, len, err, errlen);
}
