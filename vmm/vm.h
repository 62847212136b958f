/* SPDX-License-Identifier: MIT */
/* Virtual machines: identity, guest-physical memory behind EPT, vCPUs, state. */
#ifndef TERN_VMM_VM_H
#define TERN_VMM_VM_H

#include <stddef.h>
#include <stdint.h>
#include "arch/ept.h"
#include "kernel/cmdline.h"
#include "kernel/spinlock.h"
#include "vmm/vcpu.h"
#include "vmm/vuart.h"

#define VM_MAX_VCPUS 8
#define VM_STOP_REASON_MAX 192
/* Unhandled port accesses a guest may make before it counts as a storm. */
#define VM_IO_STORM_LIMIT 100000u

enum vm_state { VM_CREATED = 0, VM_RUNNING, VM_STOPPED, VM_FINISHED };

/* A physically contiguous piece of guest RAM. */
struct mem_extent {
	uint64_t gpa, hpa, size;
};

struct vm {
	uint32_t id;
	char name[VM_NAME_MAX];
	volatile int state;  /* enum vm_state */
	struct spinlock lock;
	uint64_t mem_size;
	struct mem_extent *extents; /* one page of them */
	uint32_t nr_extents;
	struct ept ept;
	uint64_t eptp;
	uint32_t nr_vcpus;
	uint32_t live_vcpus; /* not yet halted or stopped */
	volatile bool ending; /* only APs that never got a SIPI are left: reap them */
	struct vcpu *vcpus[VM_MAX_VCPUS];
	struct vuart uart;
	uint64_t unhandled_io, unhandled_msr;
	char stop_reason[VM_STOP_REASON_MAX];
	struct vm *next;
};

/* Guest RAM [0, mem) zeroed and mapped; NULL with err set on failure. */
struct vm *vm_create(const char *name, uint64_t mem, uint32_t nr_vcpus, int *err);
/* Return every page; the vCPUs must be off every CPU. */
void vm_destroy(struct vm *vm);
/* Copy into guest memory; -EFAULT when [gpa, gpa+len) leaves guest RAM. */
int vm_write_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len);
/* Host pointer for [gpa, gpa+len) when it lies in one extent, else NULL. */
void *vm_guest_ptr(struct vm *vm, uint64_t gpa, size_t len);
/* Stop the VM because of its own doing; logs one line with the reason. */
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A vCPU of vm left the CPU for good (halted or stopped). */
void vm_vcpu_gone(struct vcpu *v);
uint32_t vm_count(void);

#endif
