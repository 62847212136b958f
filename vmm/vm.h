/* SPDX-License-Identifier: MIT */
/* Virtual machines: identity, guest-physical memory behind EPT, vCPUs, state. */
#ifndef TERN_VMM_VM_H
#define TERN_VMM_VM_H

#include <stddef.h>
#include <stdint.h>
#include "arch/ept.h"
#include "kernel/cmdline.h"
#include "kernel/spinlock.h"
#include "vmm/abi.h"
#include "vmm/extent.h"
#include "vmm/vcpu.h"
#include "vmm/vuart.h"

#define VM_MAX_VCPUS TERN_MAX_VCPUS
#define VM_STOP_REASON_MAX TERN_STOP_REASON_MAX
/* Unhandled port accesses a guest may make before it counts as a storm. */
#define VM_IO_STORM_LIMIT 100000u

/* States as the ABI numbers them (docs/hypercalls.md has the diagram). */
enum vm_state {
	VM_CREATED = TERN_VM_CREATED,
	VM_RUNNING = TERN_VM_RUNNING,
	VM_PAUSED = TERN_VM_PAUSED,
	VM_STOPPED = TERN_VM_STOPPED,
	VM_FINISHED = TERN_VM_FINISHED,
};



struct vm {
	uint32_t id;
	char name[VM_NAME_MAX];
	volatile int state;  /* enum vm_state */
	struct spinlock lock;
	uint64_t mem_size;
	uint64_t mem_ready; /* guest RAM [0, mem_ready) is allocated, zeroed and mapped */
	bool mem_pending_counted; /* created partly populated: the rest is in vm_mem_pending() */
	struct mem_extent *extents; /* one page of them */
	uint32_t nr_extents;
	struct ept ept;
	uint64_t eptp;
	uint32_t nr_vcpus;
	uint32_t live_vcpus; /* not yet halted or stopped */
	volatile bool ending; /* only APs that never got a SIPI are left: reap them */
	struct vcpu *vcpus[VM_MAX_VCPUS];
	bool management;      /* holds management rights (mgmt=) */
	bool persistent;      /* stays, with its memory, until destroyed */
	volatile bool quiesced; /* every vCPU left its CPU for good (or never ran) */
	uint64_t created_tsc, started_tsc;
	uint64_t denied_calls;
	uint32_t pin[VM_MAX_VCPUS]; /* where START queues each vCPU (TERN_CPU_ANY: anywhere) */
	struct vuart uart;
	uint64_t unhandled_io, unhandled_msr;
	char stop_reason[VM_STOP_REASON_MAX];
	struct vm *next;
};

/* Guest RAM [0, mem) zeroed and mapped; NULL with err set on failure. */
struct vm *vm_create(const char *name, uint64_t mem, uint32_t nr_vcpus, int sink, int *err);
/*
 * As vm_create, but with at most VM_POPULATE_STEP bytes of guest RAM done:
 * vm_populate() does the rest, a bounded step per call (TERN_HC_VM_POPULATE).
 */
#define VM_POPULATE_STEP (2ull << 20)
struct vm *vm_create_partial(const char *name, uint64_t mem, uint32_t nr_vcpus, int sink, int *err);
/* The next step of guest RAM: bytes still missing (0: done), or -ENOMEM. */
int64_t vm_populate(struct vm *vm);
static inline bool vm_populated(const struct vm *vm)
{
	return vm->mem_ready == vm->mem_size;
}
/* Guest RAM that VMs being populated will still take (admission control counts it as used). */
uint64_t vm_mem_pending(void);
/* Map [gpa, gpa+size) to host memory the VM does not own, read-only. */
int vm_map_borrowed(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size);
/*
 * CREATED -> RUNNING: queue every vCPU (those without a start state wait for
 * a SIPI). Returns vCPU 0's CPU, or -1 when the VM was not CREATED.
 */
int vm_start(struct vm *vm);
/* Operator requests (the management guest); false when the state does not allow it. */
bool vm_pause(struct vm *vm);
bool vm_resume(struct vm *vm);
bool vm_stop_by_operator(struct vm *vm);
/* Find a VM by id or name (NULL: none). The pointer stays valid until vm_destroy. */
struct vm *vm_find(uint32_t id);
struct vm *vm_find_name(const char *name);
/* Up to max VM ids, oldest first; returns how many VMs exist. */
uint32_t vm_list(uint32_t *ids, uint32_t max);
/* Return every page; the vCPUs must be off every CPU. */
void vm_destroy(struct vm *vm);
/* Copy into guest memory; -EFAULT when [gpa, gpa+len) leaves guest RAM. */
int vm_write_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len);
/* Copy out of guest memory (RAM or read-only borrowed); -EFAULT when it leaves it. */
int vm_read_guest(struct vm *vm, uint64_t gpa, void *dst, size_t len);
/* Is [gpa, gpa+len) wholly readable (write: writable RAM) by the guest? */
bool vm_range_ok(struct vm *vm, uint64_t gpa, uint64_t len, bool write);
/* Host pointer for [gpa, gpa+len) of guest RAM when it lies in one extent, else NULL. */
void *vm_guest_ptr(struct vm *vm, uint64_t gpa, size_t len);
/* Stop the VM because of its own doing; logs one line with the reason. */
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A vCPU of vm left the CPU for good (halted or stopped). */
void vm_vcpu_gone(struct vcpu *v);
uint32_t vm_count(void);

_Static_assert(VCPU_RUNNABLE == TERN_VCPU_RUNNABLE && VCPU_BLOCKED == TERN_VCPU_BLOCKED &&
	       VCPU_HALTED == TERN_VCPU_HALTED && VCPU_STOPPED == TERN_VCPU_STOPPED &&
	       VCPU_WAIT_SIPI == TERN_VCPU_WAIT_SIPI, "vCPU states as the ABI numbers them");

#endif
