/* SPDX-License-Identifier: MIT */
/* The hypercall interface (docs/hypercalls.md; numbers and structures in vmm/abi.h). */
#ifndef TERN_VMM_HYPERCALL_H
#define TERN_VMM_HYPERCALL_H

#include <stdint.h>
#include "vmm/vm.h"

/* Arguments of one call, as the guest passed them (RDI, RSI, RDX, RCX). */
struct hc_args {
	uint64_t a[4];
};

/* One call from caller (CPL cpl); returns RAX: >= 0, or -TERN_Exxx. Never stops the caller. */
int64_t hc_call(struct vm *caller, unsigned int cpl, uint64_t nr, const struct hc_args *args);

/* Admission control: bytes of free memory a VM of mem bytes and nr_vcpus would take. */
uint64_t hc_vm_footprint(uint64_t mem, uint32_t nr_vcpus);
/* Bytes VMs may still take: free memory less what is being populated and Tern's reserve. */
uint64_t hc_mem_available(void);

#endif
