/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests for vmm/vm_lazy.c (lazily zeroed guest RAM) over the real
 * EPT builder and extent list: "physical" addresses are host pointers (Tern
 * identity-maps memory), guest RAM is host memory filled with a previous
 * owner's pattern, and page_alloc / page_free count what they hand out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vm.h"
#include "vmm/vm_lazy.h"
#include "kernel/errno.h"
#include "kernel/mm.h"

#define MiB 0x100000ull
#define GiB 0x40000000ull
#define OLD 0xa5u /* what the pages' last owner left */

static unsigned int allocs, frees, zeroings, locks, unlocks;

uint64_t page_alloc(size_t npages, enum pmm_owner owner)
{
	void *p = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);

	assert_non_null(p);
	memset(p, 0, npages * PAGE_SIZE);
	allocs++;
	return (uint64_t)p;
}

void page_free(uint64_t phys, size_t npages, enum pmm_owner owner)
{
	free((void *)phys);
	frees++;
}

uint64_t virt_to_phys(const void *v)
{
	return (uint64_t)v;
}

void spin_lock(struct spinlock *l)
{
	assert_int_equal(locks, unlocks); /* never nested, always released */
	locks++;
}

void spin_unlock(struct spinlock *l)
{
	unlocks++;
	assert_int_equal(locks, unlocks);
}

void vm_zero_piece(uint64_t hpa, uint64_t size)
{
	assert_int_equal(locks, unlocks + 1); /* zeroed under mem_lock */
	memset((void *)hpa, 0, size);
	zeroings++;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fail_msg("panic");
	abort();
}

static void t_free(void *ctx, uint64_t phys)
{
	page_free(phys, 1, PMM_OWNER_VMM);
}

static void *t_virt(void *ctx, uint64_t phys)
{
	return (void *)phys;
}

/*
 * A VM with RAM [0, 8 MiB) and [4 GiB, 4 GiB + 4 MiB): lazy 2 MiB pieces
 * at 0, 2, 4 MiB and 4 GiB, 4 GiB + 2 MiB; [6, 8) MiB in mapped 4 KiB pages.
 */
struct fixture {
	struct vm *vm;
	uint8_t *ram;  /* the five lazy pieces, 2 MiB-aligned, in GPA order */
	uint8_t *low4k; /* [6, 8) MiB */
};

static const uint64_t lazy_gpa[] = { 0, 2 * MiB, 4 * MiB, 4 * GiB, 4 * GiB + 2 * MiB };
#define NLAZY (sizeof(lazy_gpa) / sizeof(lazy_gpa[0]))

static uint8_t *piece(const struct fixture *f, unsigned int i)
{
	return f->ram + i * 2 * MiB;
}

static bool all_bytes(const uint8_t *p, uint64_t n, uint8_t v)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vm *vm = calloc(1, sizeof(*vm));
	struct ept_ops ops = { vm_lazy_ept_alloc, t_free, t_virt, vm };

	allocs = frees = zeroings = locks = unlocks = 0;
	f->vm = vm;
	f->ram = aligned_alloc(2 * MiB, NLAZY * 2 * MiB);
	f->low4k = aligned_alloc(PAGE_SIZE, 2 * MiB);
	memset(f->ram, OLD, NLAZY * 2 * MiB);
	vm->map.n = 2;
	vm->map.r[0] = (struct tern_mem_region){ .gpa = 0, .size = 8 * MiB, .type = GMAP_RAM };
	vm->map.r[1] = (struct tern_mem_region){ .gpa = 4 * GiB, .size = 4 * MiB, .type = GMAP_RAM };
	vm->extents_cap = 16;
	vm->extents = calloc(vm->extents_cap, sizeof(*vm->extents));
	assert_int_equal(vm_lazy_init(vm), 0);
	assert_int_equal(vm->lazy_slots, (4 * GiB + 4 * MiB) / (2 * MiB));
	assert_int_equal(ept_init(&vm->ept, &ops), 0);
	for (unsigned int i = 0; i < NLAZY; i++) {
		if (i == 3) /* [6, 8) MiB: 4 KiB pieces, mapped at once as vm.c does */
			for (uint64_t off = 0; off < 2 * MiB; off += PAGE_SIZE) {
				assert_int_equal(extent_append(vm->extents, &vm->nr_extents,
							       vm->extents_cap, 6 * MiB + off,
							       (uint64_t)f->low4k + off, PAGE_SIZE, 0), 0);
				assert_int_equal(ept_map(&vm->ept, 6 * MiB + off, (uint64_t)f->low4k + off,
							 PAGE_SIZE, EPT_RWX, EPT_MT_WB), 0);
			}
		assert_int_equal(extent_append(vm->extents, &vm->nr_extents, vm->extents_cap,
					       lazy_gpa[i], (uint64_t)piece(f, i), 2 * MiB, 0), 0);
		assert_int_equal(vm_lazy_add(vm, lazy_gpa[i]), 0);
	}
	assert_int_equal(vm->lazy_left, NLAZY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ept_destroy(&f->vm->ept);
	vm_lazy_free(f->vm);
	assert_int_equal(allocs, frees); /* every table, reserved or not, and the bitmaps */
	free(f->vm->extents);
	free(f->vm);
	free(f->ram);
	free(f->low4k);
	free(f);
	return 0;
}

static void expect_mapped(struct vm *vm, uint64_t gpa, const void *hpa)
{
	uint64_t got = 0, size = 0;
	uint32_t perms = 0;

	assert_int_equal(ept_lookup(&vm->ept, gpa, &got, &perms, &size), 0);
	assert_int_equal(got, (uint64_t)hpa);
	assert_int_equal(perms, EPT_RWX);
	assert_int_equal(size, 2 * MiB);
}

/* Nothing lazy is mapped or zeroed at create; the old contents are still there. */
static void test_created_unmapped(void **state)
{
	struct fixture *f = *state;

	for (unsigned int i = 0; i < NLAZY; i++) {
		assert_int_equal(ept_lookup(&f->vm->ept, lazy_gpa[i] + 0x1234, NULL, NULL, NULL),
				 -ENOENT);
		assert_true(vm_lazy_unzeroed(f->vm, lazy_gpa[i] + 2 * MiB - 1));
	}
	assert_false(vm_lazy_unzeroed(f->vm, 6 * MiB));
	assert_int_equal(zeroings, 0);
	assert_true(all_bytes(f->ram, NLAZY * 2 * MiB, OLD));
}

/* The first touch zeroes and maps that piece alone, with no table allocated; later ones resume. */
static void test_first_touch(void **state)
{
	struct fixture *f = *state;
	unsigned int before = allocs;

	assert_true(vm_fault_in(f->vm, 2 * MiB + 0x777));
	assert_int_equal(zeroings, 1);
	assert_true(all_bytes(piece(f, 1), 2 * MiB, 0));
	expect_mapped(f->vm, 2 * MiB + 0x777, piece(f, 1) + 0x777);
	assert_false(vm_lazy_unzeroed(f->vm, 2 * MiB));
	assert_int_equal(f->vm->lazy_left, NLAZY - 1);
	assert_true(all_bytes(piece(f, 0), 2 * MiB, OLD));
	assert_true(all_bytes(piece(f, 2), 2 * MiB, OLD));
	/* Above 4 GiB: a new PD and PDPT, taken from what create set aside. */
	assert_true(vm_fault_in(f->vm, 4 * GiB + 2 * MiB));
	expect_mapped(f->vm, 4 * GiB + 2 * MiB, piece(f, 4));
	assert_int_equal(allocs, before);
	/* Another vCPU that faulted meanwhile goes again; nothing is zeroed twice. */
	piece(f, 1)[5] = 42;
	assert_true(vm_fault_in(f->vm, 2 * MiB + 5));
	assert_int_equal(piece(f, 1)[5], 42);
	assert_int_equal(zeroings, 2);
	assert_int_equal(locks, unlocks);
}

/* Violations that are not a first touch stay with the rest of the handler. */
static void test_not_lazy(void **state)
{
	struct fixture *f = *state;

	assert_false(vm_fault_in(f->vm, 6 * MiB + 0x100));   /* 4 KiB RAM, mapped */
	assert_false(vm_fault_in(f->vm, 0xfee00000ull));     /* MMIO in the hole */
	assert_false(vm_fault_in(f->vm, 8 * GiB));           /* beyond every slot */
	/* A write-protected (dirty logging) piece: not a first touch. */
	assert_true(vm_fault_in(f->vm, 0));
	assert_int_equal(ept_set_write(&f->vm->ept, 0, 2 * MiB, false), 1);
	assert_false(vm_fault_in(f->vm, 0x10));
	assert_int_equal(zeroings, 1);
}

/* Tern's accesses: a range over two pieces materialises both; all of them at once. */
static void test_host_access(void **state)
{
	struct fixture *f = *state;

	vm_fault_in_range(f->vm, 4 * MiB - 8, 16);
	assert_int_equal(zeroings, 2);
	assert_true(all_bytes(piece(f, 1), 2 * MiB, 0));
	assert_true(all_bytes(piece(f, 2), 2 * MiB, 0));
	assert_true(all_bytes(piece(f, 0), 2 * MiB, OLD)); /* [0, 2) MiB: not touched */
	vm_fault_in_range(f->vm, 0x40, 0);                 /* an empty range in a piece: that one */
	assert_int_equal(zeroings, 3);
	assert_true(all_bytes(piece(f, 0), 2 * MiB, 0));
	vm_fault_in_all(f->vm);
	assert_int_equal(zeroings, NLAZY);
	assert_int_equal(f->vm->lazy_left, 0);
	assert_true(all_bytes(f->ram, NLAZY * 2 * MiB, 0));
	for (unsigned int i = 0; i < NLAZY; i++)
		expect_mapped(f->vm, lazy_gpa[i], piece(f, i));
	vm_fault_in_all(f->vm);
	assert_int_equal(zeroings, NLAZY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_access, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
