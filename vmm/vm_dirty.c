/* SPDX-License-Identifier: MIT */
/*
 * Dirty logging of a VM's RAM (TERN_HC_VM_DIRTY_LOG): the mechanism chosen
 * at run time from the capability MSRs (vmm/dirty.c dirty_choose: PML, else
 * EPT accessed/dirty flags, else write-protection), the per-VM bitmap, and
 * the VMCS and EPT changes each mechanism needs.
 *
 * Enable and fetch happen on a settled (paused, every vCPU parked) VM: its
 * vCPUs are off every CPU, each flushes EPT-derived translations on its next
 * entry (vcpu_load), so a D flag cleared or a page write-protected here is
 * seen by the guest's next write: no write is lost between two fetches.
 * Live migration's rounds are pause, fetch, resume.
 */
#include "vmm/vm_dirty.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "arch/vmx_defs.h"
#include "arch/x86.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/string.h"

static uint64_t bitmap_pages(uint64_t npages)
{
	return (DIRTY_BITMAP_WORDS(npages) * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
}

int vm_dirty_choose(int limit)
{
	if (!vmx_config.proc2)
		return DIRTY_NONE;
	return dirty_choose(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2), rdmsr(MSR_IA32_VMX_EPT_VPID_CAP), limit);
}

static void free_log(struct vm *vm)
{
	if (vm->dirty.bits)
		page_free(virt_to_phys(vm->dirty.bits), bitmap_pages(vm->dirty.npages), PMM_OWNER_VMM);
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v && v->pml_page) {
			page_free(v->pml_page, 1, PMM_OWNER_VMM);
			v->pml_page = 0;
		}
	}
	memset(&vm->dirty, 0, sizeof(vm->dirty));
}

/* Every vCPU writes its EPTP and PML controls again before its next entry. */
static void resync(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i]->dirty_sync = true;
}

/* Each RAM region of the map through op (EPT: split, write-protect, unprotect). */
static int each_ram(struct vm *vm, int (*op)(struct ept *ept, uint64_t gpa, uint64_t size, bool w),
		    bool w)
{
	int err;

	for (uint32_t i = 0; i < vm->map.n; i++)
		if (vm->map.r[i].type == GMAP_RAM &&
		    (err = op(&vm->ept, vm->map.r[i].gpa, vm->map.r[i].size, w)) < 0)
			return err;
	return 0;
}

static int split(struct ept *ept, uint64_t gpa, uint64_t size, bool unused)
{
	return ept_split_range(ept, gpa, size);
}

/* Pages are numbered by GPA: the bitmap runs to the top of RAM, holes included. */
int vm_dirty_enable(struct vm *vm, int limit)
{
	uint64_t npages = gmap_top(&vm->map, GMAP_RAM) / PAGE_SIZE, pages = bitmap_pages(npages), p;
	int mech = vm_dirty_choose(limit), err;

	if (mech < 0)
		return mech;
	if (mech == DIRTY_NONE)
		return -ENOTSUP;
	if (vm->dirty.mech)
		return -EBUSY;
	p = page_alloc(pages, PMM_OWNER_VMM);
	if (!p)
		return -ENOMEM;
	if ((err = dirty_init(&vm->dirty, npages, phys_to_virt(p), pages * PAGE_SIZE / 8, mech))) {
		page_free(p, pages, PMM_OWNER_VMM);
		return err;
	}
	/*
	 * Logging starts from RAM wholly mapped: a lazily zeroed piece mapped
	 * later would come as a writable 2 MiB leaf, unsplit and unprotected.
	 * Zeroing it all costs what the first copy of a migration reads anyway.
	 */
	vm_fault_in_all(vm);
	for (uint32_t i = 0; mech == DIRTY_PML && i < vm->nr_vcpus; i++)
		if (!(vm->vcpus[i]->pml_page = page_alloc(1, PMM_OWNER_VMM)))
			goto nomem;
	/* Logging is per 4 KiB page: no 2 MiB leaf may hide 511 pages behind one flag. */
	if ((err = each_ram(vm, split, false)) < 0)
		goto fail;
	if (mech == DIRTY_WRPROT) {
		if ((err = each_ram(vm, ept_set_write, false)) < 0)
			goto fail;
		/*
		 * With EPT A/D on, the CPU's walks of guest page tables count as
		 * writes (SDM vol. 3C 29.3.5): every walk would fault. Off here.
		 */
		vm->eptp = ept_eptp(&vm->ept, false);
	} else {
		vm->eptp = ept_eptp(&vm->ept, true); /* both need the EPT dirty flags */
		/* Start clean: what was dirty before enable is not reported. */
		ept_harvest_dirty(&vm->ept, 0, npages, vm->dirty.bits);
		memset(vm->dirty.bits, 0, DIRTY_BITMAP_WORDS(npages) * 8);
	}
	resync(vm);
	pr_info("vm %s: dirty logging on (%s), %lu pages", vm->name, dirty_mech_name(mech),
		(unsigned long)npages);
	return mech;
nomem:
	err = -ENOMEM;
fail:
	free_log(vm);
	return err;
}

void vm_dirty_disable(struct vm *vm)
{
	if (!vm->dirty.mech)
		return;
	if (vm->dirty.mech == DIRTY_WRPROT)
		each_ram(vm, ept_set_write, true); /* RAM only: ROM stays read-only */
	vm->eptp = ept_eptp(&vm->ept, vmx_config.ept_ad);
	pr_info("vm %s: dirty logging off (%s; %lu PML entries taken)", vm->name,
		dirty_mech_name(vm->dirty.mech), (unsigned long)vm->dirty_pml_entries);
	free_log(vm);
	vm->dirty_pml_entries = 0;
	resync(vm);
}

int64_t vm_dirty_fetch(struct vm *vm, uint64_t first, uint64_t npages, uint64_t *out)
{
	struct dirty_log *d = &vm->dirty;
	uint64_t n;

	if (d->mech == DIRTY_PML || d->mech == DIRTY_EPT_AD)
		ept_harvest_dirty(&vm->ept, 0, d->npages, d->bits); /* PML buffers were drained at park */
	n = dirty_fetch_clear(d, first, npages, out);
	if (d->mech == DIRTY_WRPROT && n)
		ept_set_write(&vm->ept, first * PAGE_SIZE,
			      (npages < d->npages - first ? npages : d->npages - first) * PAGE_SIZE, false);
	return (int64_t)n;
}

bool vm_dirty_wrprot_fault(struct vm *vm, uint64_t gpa)
{
	int err;

	const struct tern_mem_region *r = gmap_find(&vm->map, gpa);

	if (vm->dirty.mech != DIRTY_WRPROT || !r || r->type != GMAP_RAM)
		return false;
	err = ept_set_write(&vm->ept, gpa & ~(PAGE_SIZE - 1), PAGE_SIZE, true);
	if (err < 0)
		return false;
	/* 0: another vCPU restored the page first; either way the write can go again. */
	dirty_mark(&vm->dirty, gpa);
	return true;
}

void vcpu_pml_drain(struct vcpu *v)
{
	uint64_t index;

	if (v->vm->dirty.mech != DIRTY_PML || !v->pml_page || !v->pml_on)
		return;
	index = vmcs_read(VMCS_GUEST_PML_INDEX);
	v->vm->dirty_pml_entries += dirty_pml_drain(&v->vm->dirty, phys_to_virt(v->pml_page),
						    (unsigned int)index);
	vmcs_write(VMCS_GUEST_PML_INDEX, DIRTY_PML_INDEX_START);
}

void vcpu_dirty_sync(struct vcpu *v)
{
	uint32_t proc2 = (uint32_t)vmcs_read(VMCS_SECONDARY_PROC_BASED_VM_EXEC_CONTROL);
	bool pml = v->vm->dirty.mech == DIRTY_PML && v->pml_page;

	vmcs_write(VMCS_EPT_POINTER, v->vm->eptp);
	if (pml) {
		vmcs_write(VMCS_PML_ADDRESS, v->pml_page);
		vmcs_write(VMCS_GUEST_PML_INDEX, DIRTY_PML_INDEX_START);
		proc2 |= SECONDARY_ENABLE_PML;
	} else {
		proc2 &= ~(uint32_t)SECONDARY_ENABLE_PML;
	}
	vmcs_write(VMCS_SECONDARY_PROC_BASED_VM_EXEC_CONTROL, proc2);
	v->pml_on = pml;
	v->dirty_sync = false;
}

/* The log filled (SDM vol. 3C 29.3.6): take its 512 entries, start it again. */
enum exit_action handle_pml_full(struct vcpu *v, const struct exit_info *e)
{
	vcpu_pml_drain(v);
	return EXIT_RESUME;
}
