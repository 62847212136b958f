/* SPDX-License-Identifier: MIT */
/*
 * The management guest's start (docs/hypercalls.md, last section): an ELF
 * guest with management rights, the boot modules mapped read-only behind a
 * directory at TERN_MODULES_GPA, and the serial console as its UART.
 */
#include "vmm/mgmt.h"
#include "vmm/bootvm.h"
#include "vmm/loader.h"
#include "vmm/vm.h"
#include "drivers/console.h"
#include "kernel/errno.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/string.h"

/* The window ends below the I/O APIC page every guest sees (vmm/gmap.h). */
#define MODULES_END GMAP_IOAPIC_BASE

static size_t rx_room(void *ctx)
{
	return vuart_rx_room(ctx);
}

static size_t rx_put(void *ctx, const char *s, size_t n)
{
	return vuart_rx_put(ctx, s, n);
}

/*
 * Map one page of a module at gpa. A page the module only partly fills may
 * hold other host data next to it: the guest gets a copy of the module's
 * bytes instead.
 */
static int map_module_page(struct vm *vm, uint64_t gpa, uint64_t page, const struct boot_module *m)
{
	uint64_t from = m->base > page ? m->base : page;
	uint64_t to = m->base + m->size < page + PAGE_SIZE ? m->base + m->size : page + PAGE_SIZE;
	uint64_t copy;

	if (from == page && to == page + PAGE_SIZE)
		return vm_map_borrowed(vm, gpa, page, PAGE_SIZE);
	copy = page_alloc(1, PMM_OWNER_VMM);
	if (!copy)
		return -ENOMEM;
	memset(phys_to_virt(copy), 0, PAGE_SIZE);
	memcpy((char *)phys_to_virt(copy) + (from - page), phys_to_virt(from), to - from);
	return vm_map_borrowed(vm, gpa, copy, PAGE_SIZE);
}

/* Directory page, then each module's pages, read-only from TERN_MODULES_GPA on. */
static int map_modules(struct vm *vm)
{
	uint64_t dir_phys = page_alloc(1, PMM_OWNER_VMM), gpa = TERN_MODULES_GPA + PAGE_SIZE;
	struct tern_module_dir *dir = dir_phys ? phys_to_virt(dir_phys) : NULL;
	int err;

	if (!dir)
		return -ENOMEM;
	memset(dir, 0, PAGE_SIZE);
	dir->magic = TERN_MODULES_MAGIC;
	/* First: a VM's extents come in ascending guest-physical order (extent_append). */
	if ((err = vm_map_borrowed(vm, TERN_MODULES_GPA, dir_phys, PAGE_SIZE))) {
		page_free(dir_phys, 1, PMM_OWNER_VMM);
		return err;
	}
	for (uint32_t i = 0; i < boot_info.nr_modules && dir->count < TERN_MAX_MODULES; i++) {
		const struct boot_module *m = &boot_info.modules[i];
		uint64_t start = m->base & ~(PAGE_SIZE - 1);
		uint64_t end = (m->base + m->size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		struct tern_module *d = &dir->mods[dir->count];

		if (gpa + (end - start) > MODULES_END)
			break;
		for (uint64_t p = start; p < end; p += PAGE_SIZE)
			if ((err = map_module_page(vm, gpa + (p - start), p, m)))
				return err;
		strlcpy(d->name, m->name, sizeof(d->name));
		d->gpa = gpa + (m->base - start);
		d->size = m->size;
		dir->count++;
		gpa += end - start;
	}
	return 0;
}

int mgmt_start(const struct boot_vm_spec *s)
{
	const struct boot_module *m = boot_find_module(s->image);
	char why[128];
	struct gmap map;
	struct vm *vm;
	int err, cpu;

	if (!m) {
		pr_err("mgmt: not started: no boot module named '%s'", s->image);
		return -ENOENT;
	}
	/* RAM is below the module window at 3 GiB or above 4 GiB (vm_layout). */
	if ((err = vm_layout(&map, s->mem, 0))) {
		pr_err("mgmt: not started: %lu KiB of RAM does not fit the guest's physical address space",
		       (unsigned long)(s->mem >> 10));
		return err;
	}
	vm = vm_create(s->name, &map, 1, VUART_TO_CONSOLE, &err);
	if (!vm) {
		pr_err("mgmt: not started: cannot allocate %lu KiB (error %d)",
		       (unsigned long)(s->mem >> 10), err);
		return err;
	}
	vm->management = vm->persistent = true;
	if ((err = map_modules(vm)) ||
	    (err = vm_load_image(vm, phys_to_virt(m->base), m->size, why, sizeof(why)))) {
		pr_err("mgmt: not started: %s", err == -ENOMEM ? "no memory for the module window" :
		       err == -EINVAL ? "the module window could not be mapped" : why);
		vm_destroy(vm);
		return err;
	}
	vm->vcpus[0]->init.rsi = TERN_MODULES_GPA;
	vm->vcpus[0]->init.rcx = 1;
	if (s->cpu >= 0)
		vm->pin[0] = (uint32_t)s->cpu;
	pr_info("mgmt: starting management guest '%s' (id %u, %lu KiB, %u boot modules visible); from now on the serial console is its console and this log stays in the log ring",
		vm->name, vm->id, (unsigned long)(vm->mem_size >> 10), boot_info.nr_modules);
	console_drain();
	console_guest_attach(rx_room, rx_put, &vm->uart);
	cpu = vm_start(vm);
	pr_info("mgmt: %s started on cpu%d", vm->name, cpu);
	return 0;
}
