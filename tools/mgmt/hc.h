/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls from the management guest: VMCALL with RAX = call number,
 * arguments in RDI, RSI, RDX, RCX, result in RAX (docs/hypercalls.md).
 * Pointers are GPAs; the guest runs on an identity map, so a pointer is its
 * own GPA.
 */
#ifndef TERN_MGMT_HC_H
#define TERN_MGMT_HC_H

#include <stdint.h>

#include "tests/guests/guest.h" /* vmcall4 */
#include "vmm/abi.h"

static inline uint64_t hc_ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline int64_t hc_version(void)
{
	return vmcall4(TERN_HC_VERSION, 0, 0, 0, 0);
}

static inline int64_t hc_host_info(struct tern_host_info *hi)
{
	return vmcall4(TERN_HC_HOST_INFO, hc_ptr(hi), sizeof(*hi), 0, 0);
}

static inline int64_t hc_vm_create(const struct tern_vm_create *args)
{
	return vmcall4(TERN_HC_VM_CREATE, hc_ptr(args), 0, 0, 0);
}

/* The next bounded step of a TERN_CREATE_INCREMENTAL VM's memory: bytes still to do. */
static inline int64_t hc_vm_populate(uint32_t vm)
{
	return vmcall4(TERN_HC_VM_POPULATE, vm, 0, 0, 0);
}

static inline int64_t hc_vm_write(uint32_t vm, uint64_t dst, const void *src, uint64_t len)
{
	return vmcall4(TERN_HC_VM_WRITE, vm, dst, hc_ptr(src), len);
}

static inline int64_t hc_vcpu_set_state(uint32_t vm, uint32_t vcpu,
					const struct tern_vcpu_state *st)
{
	return vmcall4(TERN_HC_VCPU_SET_STATE, vm, vcpu, hc_ptr(st), 0);
}

static inline int64_t hc_vcpu_get_regs(uint32_t vm, uint32_t vcpu, struct tern_vcpu_regs *r)
{
	return vmcall4(TERN_HC_VCPU_GET_REGS, vm, vcpu, hc_ptr(r), sizeof(*r));
}

static inline int64_t hc_vcpu_set_regs(uint32_t vm, uint32_t vcpu, const struct tern_vcpu_regs *r)
{
	return vmcall4(TERN_HC_VCPU_SET_REGS, vm, vcpu, hc_ptr(r), sizeof(*r));
}

static inline int64_t hc_vm_read(uint32_t vm, uint64_t src, void *dst, uint64_t len)
{
	return vmcall4(TERN_HC_VM_READ, vm, src, hc_ptr(dst), len);
}

/* A VM's memory map (TERN_VM_SELF: this shell's): how many regions; as many as fit written. */
static inline int64_t hc_vm_memmap(uint32_t vm, struct tern_mem_region *r, uint32_t max)
{
	return vmcall4(TERN_HC_VM_MEMMAP, vm, hc_ptr(r), (uint64_t)max * sizeof(*r), 0);
}

static inline int64_t hc_dev_get_state(uint32_t vm, void *buf, uint64_t size)
{
	return vmcall4(TERN_HC_DEV_GET_STATE, vm, hc_ptr(buf), size, 0);
}

static inline int64_t hc_dev_set_state(uint32_t vm, const void *buf, uint64_t len)
{
	return vmcall4(TERN_HC_DEV_SET_STATE, vm, hc_ptr(buf), len, 0);
}

/* START, PAUSE, RESUME, STOP, DESTROY and POWER_BUTTON take the VM id only. */
static inline int64_t hc_vm_op(uint64_t nr, uint32_t vm)
{
	return vmcall4(nr, vm, 0, 0, 0);
}

static inline int64_t hc_vm_list(uint32_t *ids, uint32_t max)
{
	return vmcall4(TERN_HC_VM_LIST, hc_ptr(ids), max, 0, 0);
}

static inline int64_t hc_vm_info(uint32_t vm, struct tern_vm_info *info)
{
	return vmcall4(TERN_HC_VM_INFO, vm, hc_ptr(info), sizeof(*info), 0);
}

static inline int64_t hc_vcpu_move(uint32_t vm, uint32_t vcpu, uint32_t cpu, uint32_t flags)
{
	return vmcall4(TERN_HC_VCPU_MOVE, vm, vcpu, cpu, flags);
}

static inline int64_t hc_console_read(struct tern_stream *st)
{
	return vmcall4(TERN_HC_CONSOLE_READ, hc_ptr(st), 0, 0, 0);
}

static inline int64_t hc_console_write(uint32_t vm, const void *buf, uint64_t len)
{
	return vmcall4(TERN_HC_CONSOLE_WRITE, vm, hc_ptr(buf), len, 0);
}

static inline int64_t hc_log_read(struct tern_stream *st)
{
	return vmcall4(TERN_HC_LOG_READ, hc_ptr(st), 0, 0, 0);
}

#endif
