/* SPDX-License-Identifier: MIT */
/*
 * Creating a VM with its memory populated step by step, and loading a boot
 * image into it through hypercalls, as vmm/loader.c
 * does for VMs declared on the command line, so a guest cannot tell the
 * difference: ELF segments go straight from the read-only module window with
 * VM_WRITE; the page tables and GDT are built here and written the same way.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "vmm/imgplan.h"

#define PROGRESS_AFTER_US 300000u /* a create taking longer shows how far it is */
#define PROGRESS_EVERY_US 100000u

static uint64_t pt[IMG_PT_PAGES * IMG_PT_ENTRIES] __attribute__((aligned(4096)));

/* "creating vm 'x': 128/256 MiB", drawn over itself. */
static void show_progress(const struct tern_vm_create *args, uint64_t left)
{
	con_printf("\rcreating vm '%s': %llu/%llu MiB\033[K", args->name,
		   (unsigned long long)((args->mem_size - left) >> 20),
		   (unsigned long long)(args->mem_size >> 20));
}

int64_t vm_create_shown(const struct tern_vm_create *args)
{
	static struct tern_vm_create inc;
	uint64_t t0 = tsc_now(), shown = 0;
	int64_t id, left;

	inc = *args;
	inc.flags |= TERN_CREATE_INCREMENTAL;
	id = hc_vm_create(&inc);
	if (id < 0)
		return id;
	/* Each call does a bounded step (2 MiB): between them, progress and input. */
	while ((left = hc_vm_populate((uint32_t)id)) > 0) {
		uint64_t us = tsc_to_us(tsc_now() - t0);

		con_poll();
		if (us >= PROGRESS_AFTER_US && (!shown || us - shown >= PROGRESS_EVERY_US)) {
			show_progress(args, (uint64_t)left);
			shown = us;
		}
	}
	if (shown) {
		show_progress(args, 0);
		con_write("\r\033[K", 4);
	}
	if (left < 0)
		hc_vm_op(TERN_HC_VM_DESTROY, (uint32_t)id);
	return left < 0 ? left : id;
}

/* Copies len bytes from src (in this guest) to dst in the VM, TERN_IO_MAX at a time. */
int64_t copy_to_vm(uint32_t vm, uint64_t dst, const uint8_t *src, uint64_t len)
{
	while (len) {
		uint64_t n = len < TERN_IO_MAX ? len : TERN_IO_MAX;
		int64_t r = hc_vm_write(vm, dst, src, n);

		if (r < 0)
			return r;
		con_poll(); /* a big image: keep taking what is typed meanwhile */
		dst += n;
		src += n;
		len -= n;
	}
	return 0;
}

static int load_elf(uint32_t vm, const uint8_t *img, const struct img_plan *p,
		    uint64_t mem_size, uint32_t nr_vcpus, char *why, size_t whylen)
{
	uint64_t gdt[IMG_GDT_ENTRIES];
	struct tern_vcpu_state st;
	int64_t r;

	for (unsigned int i = 0; i < p->nseg; i++) {
		r = copy_to_vm(vm, p->seg[i].paddr, img + p->seg[i].offset, p->seg[i].filesz);
		if (r < 0) {
			fmt_snprintf(why, whylen, "copying a segment to 0x%llx: %s",
				     (unsigned long long)p->seg[i].paddr, hc_strerror(r));
			return -1;
		}
	}
	img_build_tables(pt, gdt);
	r = copy_to_vm(vm, IMG_PT_BASE, (const uint8_t *)pt, sizeof(pt));
	if (r >= 0)
		r = copy_to_vm(vm, IMG_GDT_BASE, (const uint8_t *)gdt, sizeof(gdt));
	if (r < 0) {
		fmt_snprintf(why, whylen, "writing the page tables: %s", hc_strerror(r));
		return -1;
	}
	st = (struct tern_vcpu_state){
		.mode = TERN_MODE_LONG, .gdt_limit = sizeof(gdt) - 1, .rip = p->entry,
		.rsp = mem_size, .rdi = mem_size, .rsi = 0, .rdx = vm, .rcx = nr_vcpus,
		.cr3 = IMG_PT_BASE, .gdt_base = IMG_GDT_BASE,
	};
	r = hc_vcpu_set_state(vm, 0, &st);
	if (r < 0) {
		fmt_snprintf(why, whylen, "setting vCPU 0's start state: %s", hc_strerror(r));
		return -1;
	}
	return 0;
}

static int load_flat(uint32_t vm, const uint8_t *img, const struct img_plan *p, char *why,
		     size_t whylen)
{
	struct tern_vcpu_state st;
	int64_t r = copy_to_vm(vm, IMG_REAL_ENTRY, img, p->seg[0].filesz);

	if (r < 0) {
		fmt_snprintf(why, whylen, "copying the image: %s", hc_strerror(r));
		return -1;
	}
	st = (struct tern_vcpu_state){ .mode = TERN_MODE_REAL, .cs = 0, .rip = IMG_REAL_ENTRY,
				       .rsp = IMG_REAL_ENTRY, .rdx = vm };
	r = hc_vcpu_set_state(vm, 0, &st);
	if (r < 0) {
		fmt_snprintf(why, whylen, "setting vCPU 0's start state: %s", hc_strerror(r));
		return -1;
	}
	return 0;
}

int image_load(uint32_t vm, const struct tern_module *mod, uint64_t mem_size,
	       uint32_t nr_vcpus, char *why, size_t whylen)
{
	const uint8_t *img = (const uint8_t *)(uintptr_t)mod->gpa;
	static struct img_plan plan;
	const char *bad;

	if (img_plan(img, mod->size, mem_size, &plan, &bad)) {
		fmt_snprintf(why, whylen, "%s", bad);
		return -1;
	}
	if (plan.kind == IMG_ELF64)
		return load_elf(vm, img, &plan, mem_size, nr_vcpus, why, whylen);
	return load_flat(vm, img, &plan, why, whylen);
}
