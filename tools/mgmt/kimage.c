/* SPDX-License-Identifier: MIT */
/*
 * Unmodified kernels in a VM (create NAME --kernel IMAGE [--initrd IMAGE]
 * [--cmdline "..."]): the VM's memory map laid out as the hypervisor will lay
 * it out (vmm/gmap.c, shared), its platform described in ACPI and MP tables
 * (acpitab.c), the kernel planned on that map (kload.c), all before the VM
 * exists, so a kernel that cannot run is refused with nothing created; then
 * the plan is copied in with VM_WRITE and vCPU 0 started at the kernel's entry
 * (VCPU_SET_STATE, ABI 1.4 selectors and 32-bit mode). The plan is checked
 * against the map the hypervisor really made before anything is written.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tests/guests/guest.h"
#include "tools/mgmt/acpitab.h"
#include "tools/mgmt/defs.h"
#include "tools/mgmt/kload.h"
#include "vmm/gmap.h"

#define CPUID_EXT_ADDR     0x80000008u /* EAX[7:0]: physical-address bits (SDM vol. 2A) */
#define PHYS_BITS_FALLBACK 36u

static struct kernel_job {
	const struct tern_module *kernel, *initrd;
	const char *cmdline;
	struct gmap map;
	struct kload_plan plan;
	struct acpitab_out acpi;
	uint8_t boot[KLOAD_BOOT_SIZE];
	uint8_t tables[ACPITAB_SIZE];
} job;

static unsigned int phys_bits(void)
{
	unsigned int bits = cpuid(CPUID_EXT_ADDR, 0).eax & 0xff;

	return bits ? bits : PHYS_BITS_FALLBACK;
}

/* Both modules by name, neither the shell's own. */
static bool find_images(const struct vm_def *d)
{
	job.kernel = image_check("create", d->image, false);
	job.initrd = NULL;
	if (!job.kernel)
		return false;
	if (d->initrd[0]) {
		job.initrd = image_check("create", d->initrd, false);
		if (!job.initrd)
			return false;
	}
	return true;
}

/* An initrd that is itself a kernel is a mix-up of the two options, not a ramdisk. */
static bool initrd_is_kernel(const struct tern_module *m)
{
	static struct kload_plan probe;

	return !kload_detect((const uint8_t *)(uintptr_t)m->gpa, m->size, &probe) &&
	       probe.kind != KLOAD_VMLINUX; /* an ELF may be anything: only boot headers count */
}

bool kernel_fits(const struct vm_def *d)
{
	struct acpitab_cfg cfg = { .nr_vcpus = d->nr_vcpus, .ioapic_id = (uint8_t)d->nr_vcpus };
	struct kload_in in;
	const char *why;
	int r;

	if (!find_images(d))
		return false;
	if (job.initrd && initrd_is_kernel(job.initrd)) {
		err_printf("image '%s' is a kernel, not an initrd: give it as --kernel", d->initrd);
		return false;
	}
	r = gmap_pc_layout(&job.map, d->mem_size, d->ram_below_4g, phys_bits());
	if (r) {
		err_printf("cannot lay out %llu MiB of RAM on this CPU", (unsigned long long)(d->mem_size >> 20));
		return false;
	}
	cfg.cpu_signature = cpuid(1, 0).eax;
	cfg.cpu_features = cpuid(1, 0).edx;
	if (acpitab_build(&cfg, job.tables, sizeof(job.tables), ACPITAB_GPA, &job.acpi, &why)) {
		err_printf("cannot describe a %u-vCPU platform: %s", d->nr_vcpus, why);
		return false;
	}
	in = (struct kload_in){
		.img = (const uint8_t *)(uintptr_t)job.kernel->gpa, .img_len = job.kernel->size,
		.initrd_len = job.initrd ? job.initrd->size : 0, .cmdline = d->cmdline,
		.initrd_str = job.initrd ? job.initrd->name : NULL, .map = job.map.r,
		.nmap = job.map.n, .acpi_rsdp = job.acpi.rsdp_gpa,
	};
	job.cmdline = d->cmdline;
	if (kload_plan(&in, &job.plan, job.boot)) {
		err_printf("cannot load kernel '%s' into %llu MiB: %s", d->image,
			   (unsigned long long)(d->mem_size >> 20), job.plan.why);
		return false;
	}
	return true;
}

static const uint8_t *copy_source(const struct kload_copy *c)
{
	switch (c->src) {
	case KLOAD_SRC_IMAGE:
		return (const uint8_t *)(uintptr_t)job.kernel->gpa + c->offset;
	case KLOAD_SRC_INITRD:
		return (const uint8_t *)(uintptr_t)job.initrd->gpa + c->offset;
	case KLOAD_SRC_BOOT:
		return job.boot + c->offset;
	default:
		return (const uint8_t *)job.cmdline + c->offset;
	}
}

/* The map the hypervisor made must be the one planned on. */
static bool same_map(uint32_t vm)
{
	static struct tern_mem_region r[GMAP_MAX];
	int64_t n = hc_vm_memmap(vm, r, GMAP_MAX);

	return n == (int64_t)job.map.n && !memcmp(r, job.map.r, (size_t)n * sizeof(r[0]));
}

int kernel_load(uint32_t vm, char *why, size_t whylen)
{
	const struct kload_entry *e = &job.plan.entry;
	struct tern_vcpu_state st;
	int64_t r;

	if (!same_map(vm)) {
		fmt_snprintf(why, whylen, "the VM's memory map is not the one planned on");
		return -1;
	}
	/* RAM comes zeroed (VM_CREATE): the zero fill after each copy is there already. */
	for (unsigned int i = 0; i < job.plan.ncopy; i++) {
		const struct kload_copy *c = &job.plan.copy[i];

		r = copy_to_vm(vm, c->gpa, copy_source(c), c->len);
		if (r < 0) {
			fmt_snprintf(why, whylen, "copying to 0x%llx: %s", (unsigned long long)c->gpa,
				     hc_strerror(r));
			return -1;
		}
	}
	r = copy_to_vm(vm, ACPITAB_GPA, job.tables, job.acpi.used);
	if (r < 0) {
		fmt_snprintf(why, whylen, "writing the ACPI tables: %s", hc_strerror(r));
		return -1;
	}
	st = (struct tern_vcpu_state){
		.mode = e->mode == KLOAD_MODE_LONG ? TERN_MODE_LONG : TERN_MODE_PROT32,
		.cs = e->cs, .gdt_limit = e->gdt_limit, .gdt_base = e->gdt_base, .rip = e->rip,
		.rsp = e->rsp, .rsi = e->rsi, .rax = e->rax, .rbx = e->rbx,
		.cr3 = e->mode == KLOAD_MODE_LONG ? e->cr3 : 0,
	};
	r = hc_vcpu_set_state(vm, 0, &st);
	if (r < 0) {
		fmt_snprintf(why, whylen, "setting vCPU 0's entry state: %s", hc_strerror(r));
		return -1;
	}
	return 0;
}

const char *kernel_kind(void)
{
	return kload_kind_name(job.plan.kind);
}
