/* SPDX-License-Identifier: MIT */
/*
 * The vm= loader (see loader.h): the plan comes from vmm/imgplan.c, the one
 * planner the management guest's loader uses too; this only copies. Images
 * are untrusted: imgplan checks every header field first.
 */
#include "vmm/loader.h"
#include "vmm/imgplan.h"
#include "arch/vmx.h"
#include "kernel/errno.h"
#include "kernel/fmt.h"
#include "kernel/string.h"

/* Start-up tables, built for one VM at a time (vm= VMs load one after another at boot). */
static uint64_t tables[IMG_PT_PAGES * IMG_PT_ENTRIES];
static uint64_t gdt[IMG_GDT_ENTRIES];

_Static_assert(GUEST_PT_BASE == IMG_PT_BASE && GUEST_GDT_BASE == IMG_GDT_BASE &&
	       GUEST_REAL_ENTRY == IMG_REAL_ENTRY && GUEST_IMAGE_MIN == IMG_ELF_MIN,
	       "the guest ABI's addresses as the planner has them");

static int fail(char *err, size_t errlen, int code, const char *msg)
{
	fmt_snprintf(err, errlen, "%s", msg);
	return code;
}

/* The RAM from GPA 0 on: images go there; RAM above 4 GiB is the guest's to find (VM_MEMMAP). */
static uint64_t low_ram(const struct vm *vm)
{
	return vm->map.r[0].type == GMAP_RAM && !vm->map.r[0].gpa ? vm->map.r[0].size : 0;
}

static int copy_segments(struct vm *vm, const uint8_t *img, const struct img_plan *p)
{
	for (unsigned int i = 0; i < p->nseg; i++)
		if (vm_write_guest(vm, p->seg[i].paddr, img + p->seg[i].offset, p->seg[i].filesz))
			return -EFAULT; /* the rest of memsz is zero: fresh RAM is */
	return 0;
}

static int load_elf(struct vm *vm, const uint8_t *img, const struct img_plan *p, char *err,
		    size_t errlen)
{
	uint64_t low = low_ram(vm);

	img_build_tables(tables, gdt);
	if (copy_segments(vm, img, p) || vm_write_guest(vm, IMG_PT_BASE, tables, sizeof(tables)) ||
	    vm_write_guest(vm, IMG_GDT_BASE, gdt, sizeof(gdt)))
		return fail(err, errlen, -EFAULT, "cannot write the image or its page tables");
	vm->vcpus[0]->init = (struct vcpu_init){
		.mode = GUEST_LONG, .rip = p->entry, .rsp = low, .rdi = low,
		.rsi = 0, .rdx = vm->id, .cr3 = IMG_PT_BASE, .gdt_base = IMG_GDT_BASE,
		.gdt_limit = IMG_GDT_ENTRIES * 8 - 1,
	};
	vm->vcpus[0]->has_state = true;
	return 0;
}

static int load_flat(struct vm *vm, const uint8_t *img, const struct img_plan *p, char *err,
		     size_t errlen)
{
	if (!vmx_config.unrestricted)
		return fail(err, errlen, -ENOTSUP, "real-mode images need unrestricted guest, which this CPU lacks");
	if (copy_segments(vm, img, p))
		return fail(err, errlen, -EFAULT, "cannot copy the image");
	vm->vcpus[0]->init = (struct vcpu_init){ .mode = GUEST_REAL, .cs = 0, .rip = p->entry,
						 .rsp = IMG_REAL_ENTRY, .rdx = vm->id };
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
	static struct img_plan plan;
	const char *why;

	if (img_plan(img, len, low_ram(vm), &plan, &why))
		return fail(err, errlen, -EINVAL, why);
	if (plan.kind == IMG_ELF64)
		return load_elf(vm, img, &plan, err, errlen);
	return load_flat(vm, img, &plan, err, errlen);
}
