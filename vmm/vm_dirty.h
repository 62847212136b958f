/* SPDX-License-Identifier: MIT */
/* Dirty logging of a VM's RAM: mechanism, bitmap and VMCS/EPT wiring (vm_dirty.c). */
#ifndef TERN_VMM_VM_DIRTY_H
#define TERN_VMM_VM_DIRTY_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/dirty.h"
#include "vmm/exit.h"

struct vm;
struct vcpu;

/* The mechanism this CPU offers, no better than limit (DIRTY_NONE: the best). */
int vm_dirty_choose(int limit);
/* Start logging (the VM settled or created): the mechanism, or -ENOTSUP/-EBUSY/-ENOMEM. */
int vm_dirty_enable(struct vm *vm, int limit);
/* Stop logging, free the bitmap; writable pages writable again. */
void vm_dirty_disable(struct vm *vm);
/* Pages [first, first+npages) dirty since the last fetch into out (bit 0 = first), cleared; count. */
int64_t vm_dirty_fetch(struct vm *vm, uint64_t first, uint64_t npages, uint64_t *out);
/* An EPT write violation on RAM: true if it was a write-protected page being logged. */
bool vm_dirty_wrprot_fault(struct vm *vm, uint64_t gpa);
/* v's VMCS current: its PML entries into the log (before it leaves its CPU). */
void vcpu_pml_drain(struct vcpu *v);
/* Before entry when v->dirty_sync: EPTP and PML controls as the VM's log wants. */
void vcpu_dirty_sync(struct vcpu *v);
enum exit_action handle_pml_full(struct vcpu *v, const struct exit_info *e);

#endif
