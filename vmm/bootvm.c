/* SPDX-License-Identifier: MIT */
/*
 * Boot-time VMs from vm= options: find the image among the boot modules,
 * create the VM, load the image, queue its vCPU. When every VM is gone the
 * bootstrap CPU reports memory and carries out after_boot=.
 */
#include "vmm/bootvm.h"
#include "vmm/hypercall.h"
#include "vmm/loader.h"
#include "vmm/mgmt.h"
#include "vmm/sched.h"
#include "vmm/vm.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/string.h"
#include "arch/pcpu.h"
#include "drivers/power.h"

static struct pmm_stats before;
static int started;

const struct boot_module *boot_find_module(const char *name)
{
	for (uint32_t i = 0; i < boot_info.nr_modules; i++)
		if (!strcmp(boot_info.modules[i].name, name))
			return &boot_info.modules[i];
	return NULL;
}

/* Where in host memory the VM's RAM lies (guest RAM is taken above 4 GiB first). */
static void log_ram_placement(const struct vm *vm)
{
	uint64_t lo = ~0ull, hi = 0;

	for (uint32_t i = 0; i < vm->nr_extents; i++) {
		const struct mem_extent *e = &vm->extents[i];

		if (e->flags & EXT_BORROWED)
			continue;
		lo = e->hpa < lo ? e->hpa : lo;
		hi = e->hpa + e->size > hi ? e->hpa + e->size : hi;
	}
	if (hi)
		pr_debug("vm %s: RAM at host [0x%lx-0x%lx) in %u extents", vm->name, (unsigned long)lo,
			 (unsigned long)hi, vm->nr_extents);
}

static void all_gone(void)
{
	struct pmm_stats now;

	if (!started || vm_count())
		return;
	started = 0;
	mm_get_stats(&now);
	pr_info("vmm: all VMs gone");
	sched_report();
	vcpu_xregs_report();
	mm_print_stats("all VMs gone");
	pr_info("mem: all VMs gone: free %lu pages (before guests: %lu pages)",
		(unsigned long)now.free_pages, (unsigned long)before.free_pages);
	power_action(boot_opts.after_boot);
}

static int start_one(const struct boot_vm_spec *s)
{
	const struct boot_module *m = boot_find_module(s->image);
	const char *refused = vm_vcpus_refused(s->vcpus);
	char why[128];
	struct gmap map;
	struct vm *vm;
	int err, cpu;

	if (!m) {
		pr_err("vm %s: not started: no boot module named '%s'", s->name, s->image);
		return -1;
	}
	if (refused) {
		pr_err("vm %s: not started: %u vCPUs: %s", s->name, s->vcpus, refused);
		return -1;
	}
	/* Admission control, as for VM_CREATE (docs/hypercalls.md). */
	if (hc_vm_footprint(s->mem, s->vcpus) > hc_mem_available()) {
		pr_err("vm %s: not started: %lu KiB asked, %lu KiB available", s->name,
		       (unsigned long)(s->mem >> 10), (unsigned long)(hc_mem_available() >> 10));
		return -1;
	}
	if ((err = vm_layout(&map, s->mem, s->ram_below_4g))) {
		pr_err("vm %s: not started: %lu KiB of RAM does not fit the guest's physical address space",
		       s->name, (unsigned long)(s->mem >> 10));
		return -1;
	}
	/* With a management guest, consoles are read through it and VMs stay until destroyed. */
	vm = vm_create(s->name, &map, s->vcpus, boot_opts.has_mgmt ? VUART_TO_RING : VUART_TO_LOG,
		       &err);
	if (!vm) {
		pr_err("vm %s: not started: cannot allocate %lu KiB of guest memory (error %d)",
		       s->name, (unsigned long)(s->mem >> 10), err);
		return -1;
	}
	err = vm_load_image(vm, phys_to_virt(m->base), m->size, why, sizeof(why));
	if (err) {
		pr_err("vm %s: not started: image '%s': %s", s->name, s->image, why);
		vm_destroy(vm);
		return -1;
	}
	if (s->cpu >= 0 && (s->cpu >= (int)nr_pcpus || pcpus[s->cpu]->state != PCPU_ONLINE)) {
		pr_err("vm %s: not started: cpu%d is not online", s->name, s->cpu);
		vm_destroy(vm);
		return -1;
	}
	vm->vcpus[0]->init.rcx = vm->nr_vcpus;
	vm->persistent = boot_opts.has_mgmt;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		vm->pin[i] = s->cpu >= 0 ? (uint32_t)s->cpu : TERN_CPU_ANY;
	cpu = vm_start(vm);
	pr_info("vm %s: started (id %u, %lu KiB, image '%s', %s, %u vCPUs, vcpu0 on cpu%d%s)",
		vm->name, vm->id, (unsigned long)(vm->mem_size >> 10), s->image,
		vm->vcpus[0]->init.mode == GUEST_LONG ? "64-bit" : "real mode",
		vm->nr_vcpus, cpu, s->cpu >= 0 ? ", pinned" : "");
	log_ram_placement(vm);
	return 0;
}

int bootvm_start_all(void)
{
	mm_get_stats(&before);
	if (boot_opts.nr_vms || boot_opts.has_mgmt)
		mm_print_stats("before guests");
	if (boot_opts.nr_vms || boot_opts.has_mgmt)
		pr_info("mem: before guests: free %lu pages", (unsigned long)before.free_pages);
	sched_set_idle_hook(all_gone);
	if (boot_opts.has_mgmt && !mgmt_start(&boot_opts.mgmt))
		started++;
	for (uint32_t i = 0; i < boot_opts.nr_vms; i++)
		if (!start_one(&boot_opts.vms[i]))
			started++;
	return started;
}
