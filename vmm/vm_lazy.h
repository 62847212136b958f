/* SPDX-License-Identifier: MIT */
/*
 * Lazily zeroed guest RAM (vm_lazy.c): the bookkeeping vm.c's create,
 * populate, host accesses and teardown call. vm_fault_in and
 * vm_fault_in_all are in vm.h.
 */
#ifndef TERN_VMM_VM_LAZY_H
#define TERN_VMM_VM_LAZY_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* The per-slot bitmaps for vm's map; -ENOMEM. */
int vm_lazy_init(struct vm *vm);
/* The 2 MiB piece at gpa (its extent added) is lazy: flag it, set its EPT tables aside; -ENOMEM. */
int vm_lazy_add(struct vm *vm, uint64_t gpa);
/* A zeroed table page set aside by vm_lazy_add, or 0 when none is left. */
uint64_t vm_lazy_take_table(struct vm *vm);
/* A VM's EPT table allocator (ctx: the vm): a page set aside first, else a new one. */
uint64_t vm_lazy_ept_alloc(void *ctx);
/* Is the piece holding gpa still unzeroed (it reads as zeros)? */
bool vm_lazy_unzeroed(const struct vm *vm, uint64_t gpa);
/* Zero and map every lazy piece [gpa, gpa+len) touches. */
void vm_fault_in_range(struct vm *vm, uint64_t gpa, uint64_t len);
/* Zero [hpa, hpa+size) of guest RAM in bounded steps (vm.c: it opens interrupt windows). */
void vm_zero_piece(uint64_t hpa, uint64_t size);
/* Give back the bitmaps and the table pages not used. */
void vm_lazy_free(struct vm *vm);

#endif
