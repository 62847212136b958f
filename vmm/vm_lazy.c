/* SPDX-License-Identifier: MIT */
/*
 * Lazily zeroed guest RAM. A 2 MiB piece comes from page_alloc_unzeroed
 * holding whatever its last owner left there; it is allocated at create
 * (admission stays honest, nothing fails later) but zeroed and mapped in
 * EPT only when first touched: by the guest (an EPT violation on the
 * not-present entry, vm_fault_in) or by Tern (vm_guest_ptr; vm_read_guest
 * reads it as zeros). Creating a VM then costs no longer in proportion to
 * its RAM (docs/design.md has the figures). 4 KiB pieces come zeroed from
 * page_alloc and vm.c maps them at once.
 *
 * A not-present EPT entry yields no cached translation, and the violation
 * invalidated what the faulting CPU had for the address (SDM vol. 3C
 * 29.4.2, 29.4.3.1): mapping a piece needs no INVEPT.
 */
#include "vmm/vm_lazy.h"
#include "vmm/vm.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/panic.h"

#define SLOT(gpa) ((gpa) / EPT_PAGE_2M)
#define SLOT_BIT(slot) (1ull << ((slot) % 64))

static uint64_t bitmap_words(uint64_t slots)
{
	return (slots + 63) / 64;
}

static uint64_t bitmap_pages(uint64_t slots)
{
	return (2 * bitmap_words(slots) * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
}

int vm_lazy_init(struct vm *vm)
{
	uint64_t slots = (gmap_top(&vm->map, GMAP_RAM) + EPT_PAGE_2M - 1) / EPT_PAGE_2M;
	uint64_t p = page_alloc(bitmap_pages(slots), PMM_OWNER_VMM);

	if (!p)
		return -ENOMEM;
	vm->lazy = phys_to_virt(p);
	vm->unzeroed = vm->lazy + bitmap_words(slots);
	vm->lazy_slots = slots;
	return 0;
}

static bool slot_lazy(const struct vm *vm, uint64_t slot)
{
	return slot < vm->lazy_slots && (vm->lazy[slot / 64] & SLOT_BIT(slot));
}

/* Acquire: once clear, the piece's zeroes (and the guest's writes after them) are seen. */
static bool slot_unzeroed(const struct vm *vm, uint64_t slot)
{
	return slot < vm->lazy_slots &&
	       (__atomic_load_n(&vm->unzeroed[slot / 64], __ATOMIC_ACQUIRE) & SLOT_BIT(slot));
}

bool vm_lazy_unzeroed(const struct vm *vm, uint64_t gpa)
{
	return slot_unzeroed(vm, SLOT(gpa));
}

static int reserve_table(struct vm *vm)
{
	uint64_t p = page_alloc(1, PMM_OWNER_VMM);

	if (!p)
		return -ENOMEM;
	*(uint64_t *)phys_to_virt(p) = vm->ept_reserve; /* a list through the pages' first words */
	vm->ept_reserve = p;
	return 0;
}

uint64_t vm_lazy_take_table(struct vm *vm)
{
	uint64_t p = vm->ept_reserve;

	if (p) {
		vm->ept_reserve = *(uint64_t *)phys_to_virt(p);
		*(uint64_t *)phys_to_virt(p) = 0; /* the rest is zero from page_alloc */
	}
	return p;
}

/*
 * The EPT tables a 2 MiB leaf at gpa may need later (a page directory per
 * GiB, a PDPT per 512 GiB; the PML4 exists) are set aside now. Pieces come
 * in ascending GPA order, so one per new GiB or 512 GiB is enough; some go
 * unused (4 KiB pieces made the table already) and go back at free.
 */
int vm_lazy_add(struct vm *vm, uint64_t gpa)
{
	uint64_t slot = SLOT(gpa);
	int err = 0;

	if ((gpa >> 30) + 1 != vm->reserved_pd && !(err = reserve_table(vm)))
		vm->reserved_pd = (gpa >> 30) + 1;
	if (!err && (gpa >> 39) + 1 != vm->reserved_pdpt && !(err = reserve_table(vm)))
		vm->reserved_pdpt = (gpa >> 39) + 1;
	if (err)
		return err;
	vm->lazy[slot / 64] |= SLOT_BIT(slot);
	vm->unzeroed[slot / 64] |= SLOT_BIT(slot);
	vm->lazy_left++;
	return 0;
}

void vm_lazy_free(struct vm *vm)
{
	uint64_t p;

	while ((p = vm_lazy_take_table(vm)))
		page_free(p, 1, PMM_OWNER_VMM);
	if (vm->lazy)
		page_free(virt_to_phys(vm->lazy), bitmap_pages(vm->lazy_slots), PMM_OWNER_VMM);
	vm->lazy = vm->unzeroed = NULL;
	vm->lazy_slots = 0;
}

uint64_t vm_lazy_ept_alloc(void *ctx)
{
	uint64_t p = vm_lazy_take_table(ctx);

	return p ? p : page_alloc(1, PMM_OWNER_VMM);
}

/* Zero and map the piece of slot: mem_lock held, its unzeroed bit set. */
static void materialise(struct vm *vm, uint64_t slot)
{
	uint64_t gpa = slot * EPT_PAGE_2M;
	const struct mem_extent *e = extent_find(vm->extents, vm->nr_extents, gpa);
	uint64_t hpa = e->hpa + (gpa - e->gpa);

	vm_zero_piece(hpa, EPT_PAGE_2M);
	/* The zeroes are stored before the entry that shows them (x86 stores are ordered). */
	if (ept_map(&vm->ept, gpa, hpa, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB))
		panic("vm %s: mapping RAM at GPA 0x%lx failed with its tables set aside", vm->name,
		      (unsigned long)gpa);
	__atomic_and_fetch(&vm->unzeroed[slot / 64], ~SLOT_BIT(slot), __ATOMIC_RELEASE);
	__atomic_sub_fetch(&vm->lazy_left, 1, __ATOMIC_RELEASE);
}

/* Materialise slot unless done: whoever comes first does, the others wait on mem_lock. */
static void fault_in_slot(struct vm *vm, uint64_t slot)
{
	spin_lock(&vm->mem_lock);
	if (slot_unzeroed(vm, slot))
		materialise(vm, slot);
	spin_unlock(&vm->mem_lock);
}

bool vm_fault_in(struct vm *vm, uint64_t gpa)
{
	uint64_t slot = SLOT(gpa);
	uint32_t perms = 0;

	if (!slot_lazy(vm, slot))
		return false;
	if (slot_unzeroed(vm, slot)) {
		fault_in_slot(vm, slot);
		return true;
	}
	/*
	 * Mapped since this vCPU's access (by another vCPU, or for Tern): go
	 * again. A leaf with less than RWX (dirty logging's write-protection)
	 * is for the rest of the EPT-violation handler.
	 */
	return !ept_lookup(&vm->ept, gpa, NULL, &perms, NULL) && perms == EPT_RWX;
}

void vm_fault_in_range(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (!__atomic_load_n(&vm->lazy_left, __ATOMIC_ACQUIRE))
		return;
	for (uint64_t s = SLOT(gpa); s <= SLOT(gpa + (len ? len - 1 : 0)); s++)
		if (slot_unzeroed(vm, s))
			fault_in_slot(vm, s);
}

void vm_fault_in_all(struct vm *vm)
{
	for (uint64_t s = 0; s < vm->lazy_slots && __atomic_load_n(&vm->lazy_left, __ATOMIC_ACQUIRE);
	     s++)
		if (slot_unzeroed(vm, s))
			fault_in_slot(vm, s);
}
