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
#include "vmm/gmap.h"
#include "vmm/dirty.h"
#include "vmm/platform.h"
#include "vmm/vcpu.h"
#include "vmm/vuart.h"

#define VM_MAX_VCPUS TERN_MAX_VCPUS
#define VM_STOP_REASON_MAX TERN_STOP_REASON_MAX
/* Open-bus port bytes a guest may access before it counts as a storm. */
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
	uint64_t mem_size;  /* bytes of RAM, in map's RAM regions */
	uint64_t mem_ready; /* the first mem_ready bytes of RAM (gmap_ram_gpa) are allocated */
	struct gmap map;    /* what the guest sees where; EPT is derived from it */
	bool mem_pending_counted; /* created partly populated: the rest is in vm_mem_pending() */
	struct mem_extent *extents; /* ascending GPA; the array doubles when full */
	uint32_t nr_extents, extents_cap;
	/*
	 * Lazily zeroed RAM (vm_fault_in): one bit per 2 MiB GPA slot in each
	 * map. lazy: the slot's piece came unzeroed from the allocator (never
	 * cleared); unzeroed: it is still neither zeroed nor mapped in EPT
	 * (cleared, under mem_lock, once it is both). lazy_left counts those.
	 */
	uint64_t *lazy, *unzeroed;
	uint64_t lazy_slots, lazy_left;
	struct spinlock mem_lock;
	/* EPT table pages set aside at create so mapping a piece later cannot fail (a list). */
	uint64_t ept_reserve;
	uint64_t reserved_pd, reserved_pdpt; /* last 1 GiB / 512 GiB slot reserved for, +1 */
	struct ept ept;
	uint64_t eptp;
	/*
	 * Guest time: a vCPU's TSC offset after reset (guest TSC = host TSC +
	 * offset; 0 until a pause), and when a pause settled (0: it has not).
	 * Guest time stands from there until RESUME (vm_resume).
	 */
	uint64_t tsc_offset;
	uint64_t settled_tsc;
	uint32_t nr_vcpus;
	uint32_t live_vcpus; /* not yet halted or stopped */
	uint32_t nr_parked;  /* vCPUs off every CPU while PAUSED (sched.c park) */
	volatile bool ending; /* only APs that never got a SIPI are left: reap them */
	struct vcpu *vcpus[VM_MAX_VCPUS];
	bool management;      /* holds management rights (mgmt=) */
	bool persistent;      /* stays, with its memory, until destroyed */
	volatile bool quiesced; /* every vCPU left its CPU for good (or never ran) */
	uint64_t created_tsc, started_tsc;
	uint64_t denied_calls;
	uint32_t pin[VM_MAX_VCPUS]; /* where START queues each vCPU (TERN_CPU_ANY: anywhere) */
	struct vuart uart;
	struct vplatform plat;  /* every other device */
	struct dirty_log dirty; /* mech DIRTY_NONE: not logging (vm_dirty.c) */
	uint64_t dirty_pml_entries; /* taken from the vCPUs' page-modification logs */
	uint32_t end_flags;     /* TERN_VMF_POWERED_OFF / _RESET / _CRASHED: how the guest ended it */
	uint64_t unhandled_msr; /* (unhandled I/O is counted as open bus: plat.pio) */
	char stop_reason[VM_STOP_REASON_MAX];
	struct vm *next;
};

/*
 * The PC memory map for mem bytes of RAM, at most below_4g of it under the
 * hole (0: the default), within the guest's physical-address width
 * (gmap_pc_layout's errors).
 */
int vm_layout(struct gmap *map, uint64_t mem, uint64_t below_4g);
/* A VM with map's RAM zeroed and mapped; NULL with err set on failure. */
struct vm *vm_create(const char *name, const struct gmap *map, uint32_t nr_vcpus, int sink, int *err);
/*
 * As vm_create, but with at most VM_POPULATE_STEP bytes of guest RAM done:
 * vm_populate() does the rest, a bounded step per call (TERN_HC_VM_POPULATE).
 */
#define VM_POPULATE_STEP (2ull << 20)
struct vm *vm_create_partial(const char *name, const struct gmap *map, uint32_t nr_vcpus, int sink,
			     int *err);
/* The next step of guest RAM: bytes still missing (0: done), or -ENOMEM. */
int64_t vm_populate(struct vm *vm);
static inline bool vm_populated(const struct vm *vm)
{
	return vm->mem_ready == vm->mem_size;
}
/* Guest RAM that VMs being populated will still take (admission control counts it as used). */
uint64_t vm_mem_pending(void);
/*
 * An EPT violation at gpa: when it lies in a lazily zeroed piece, zero and
 * map that piece (once, whichever vCPU comes first) and return true: the
 * guest resumes. Also true when another vCPU mapped the piece meanwhile.
 */
bool vm_fault_in(struct vm *vm, uint64_t gpa);
/* Zero and map every lazily zeroed piece (dirty logging starts from a fully mapped VM). */
void vm_fault_in_all(struct vm *vm);
/* Map [gpa, gpa+size) to host memory the VM does not own, read-only (a ROM region). */
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
/* Park v (its VM is PAUSED): true if it may leave its CPU, false when the VM went on. */
bool vm_vcpu_park(struct vcpu *v);
/* PAUSED with every vCPU parked or done: its whole state can be read and written. */
bool vm_settled(struct vm *vm);
/* The guest powered off or reset its platform (enum emul_request): the VM finishes. */
void vm_guest_end(struct vm *vm, int what);
/* Must vm's vCPUs leave their CPUs for good (stopped, or ended by the guest)? */
static inline bool vm_halting(const struct vm *vm)
{
	return vm->state == VM_STOPPED || vm->state == VM_FINISHED;
}
/* A vCPU of vm left the CPU for good (halted or stopped). */
void vm_vcpu_gone(struct vcpu *v);
uint32_t vm_count(void);

_Static_assert(VCPU_RUNNABLE == TERN_VCPU_RUNNABLE && VCPU_BLOCKED == TERN_VCPU_BLOCKED &&
	       VCPU_HALTED == TERN_VCPU_HALTED && VCPU_STOPPED == TERN_VCPU_STOPPED &&
	       VCPU_WAIT_SIPI == TERN_VCPU_WAIT_SIPI, "vCPU states as the ABI numbers them");

#endif
