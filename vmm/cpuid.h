/* SPDX-License-Identifier: MIT */
/*
 * The CPUID a guest sees, computed from the host's (SDM vol. 2A, CPUID):
 * one table of per-leaf rules in vmm/cpuid.c. Pure: the host's values come
 * from a callback, so host unit tests can play any CPU.
 */
#ifndef TERN_VMM_CPUID_H
#define TERN_VMM_CPUID_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86.h"

/* Leaves 0 to 0x1F and 0x80000000 to 0x80000008 at most are offered. */
#define CPUID_GUEST_MAX_BASIC 0x0000001fu
#define CPUID_GUEST_MAX_EXT   0x80000008u
#define CPUID_GUEST_MAX_LEAF7_SUB 2u
#define CPUID_HV_LEAF_MAX     0x40000001u /* Tern's hypervisor leaves (vmm/abi.h) */

typedef struct cpuid_regs (*cpuid_host_fn)(uint32_t leaf, uint32_t sub);

/* What the guest's CPUID depends on, filled by the caller for each CPUID exit. */
struct cpuid_vm {
	uint32_t nr_vcpus;      /* the VM's vCPUs: one core each, one package */
	uint32_t vcpu_index;    /* the asking vCPU: its (x2)APIC ID */
	uint32_t tsc_khz;       /* Tern's measured TSC rate: leaves 0x15, 0x16, 0x40000001; 0 unknown */
	uint64_t xcr0_mask;     /* XCR0 components a guest may enable; 0: no XSAVE */
	uint32_t xsave_size;    /* bytes of an XSAVE area holding all of xcr0_mask */
	bool guest_osxsave;     /* the guest's CR4.OSXSAVE */
	bool rdtscp;            /* RDTSCP (and RDPID) run in the guest: VMX "enable RDTSCP" */
	bool invpcid;           /* INVPCID runs in the guest: VMX "enable INVPCID" */
	/*
	 * Leaf 7 sub-leaf 0 after the table's rule: hides what the CR4 policy
	 * refuses and sets OSPKE (cr_cpuid_leaf7 in vmm/cr.c). NULL: nothing.
	 */
	void (*leaf7_filter)(uint32_t sub, struct cpuid_regs *r);
};

/* CPUID(leaf, sub) as the guest sees it. host(leaf, sub) gives the real CPU's values. */
struct cpuid_regs cpuid_guest(const struct cpuid_vm *vm, uint32_t leaf, uint32_t sub,
			      cpuid_host_fn host);

#endif
