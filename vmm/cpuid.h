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
	uint64_t guest_xcr0;    /* the guest's XCR0: the XSAVE sizes of leaf 0xD */
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

/*
 * The host's raw values for every leaf and sub-leaf the rules read, taken
 * once at boot: real CPUID is slow where Tern itself runs virtualized.
 */
#define CPUID_SNAP_MAX 96u

struct cpuid_snap_entry {
	uint32_t leaf, sub;
	struct cpuid_regs r;
};

struct cpuid_snap {
	uint32_t n;
	struct cpuid_snap_entry e[CPUID_SNAP_MAX];
};

/* Record host()'s values; -ENOSPC if they did not all fit (those left out read 0). */
int cpuid_snap_take(struct cpuid_snap *s, cpuid_host_fn host);
/* The recorded CPUID(leaf, sub); 0s where nothing was recorded. */
struct cpuid_regs cpuid_snap_read(const struct cpuid_snap *s, uint32_t leaf, uint32_t sub);

/*
 * cpuid_guest's answers for one vCPU, computed when it is created: an
 * entry for each leaf and sub-leaf with a non-zero answer, grouped by leaf
 * (slots: 0 to 0x1F, 0x40000000 to 0x40000001, 0x80000000 to 0x80000008).
 * A sub-leaf without an entry reads 0. At a CPUID exit only the guest's
 * current state is patched in (struct cpuid_live).
 */
/*
 * At most 41 with Tern's XCR0 components: leaves 0-2, 6, 0x15, 0x16 and
 * 0x40000000-1 one each, 4 eight, 7 three, 0xB and 0x1F three each, 0xD
 * seven, 0x80000000-8 nine. struct vcpu stays within two pages.
 */
#define CPUID_TABLE_MAX   48u
#define CPUID_TABLE_SLOTS (CPUID_GUEST_MAX_BASIC + 1 + (CPUID_HV_LEAF_MAX - 0x40000000u + 1) + \
			   (CPUID_GUEST_MAX_EXT - 0x80000000u + 1))

#define CPUID_ENT_FROM    BIT(0) /* also every higher sub-leaf of its leaf */
#define CPUID_ENT_SUB_ECX BIT(1) /* ECX[7:0] is the sub-leaf (0xB, 0x1F) */
#define CPUID_ENT_OSXSAVE BIT(2) /* leaf 1: ECX.OSXSAVE is the guest's CR4.OSXSAVE */
#define CPUID_ENT_LEAF7   BIT(3) /* leaf 7: the leaf7 filter runs on it */
#define CPUID_ENT_XSAVE_EBX BIT(4) /* leaf 0xD sub-leaves 0, 1: EBX is the size for the guest's XCR0 */

struct cpuid_entry {
	uint32_t leaf;
	uint16_t sub;
	uint16_t flags;         /* CPUID_ENT_ */
	struct cpuid_regs r;
};

struct cpuid_table {
	uint8_t start[CPUID_TABLE_SLOTS + 1]; /* slot s: entries start[s] to start[s + 1] - 1 */
	bool intel;             /* the host's vendor: what a leaf past the maximum reads */
	uint32_t ext_max;       /* the guest's highest extended leaf */
	uint64_t xcr0_mask;     /* as in struct cpuid_vm */
	struct cpuid_entry e[CPUID_TABLE_MAX];
};

/* What a CPUID exit reads of the running guest, only for the leaves that need it. */
struct cpuid_live {
	bool (*osxsave)(void);  /* the guest's CR4.OSXSAVE */
	void (*leaf7_filter)(uint32_t sub, struct cpuid_regs *r); /* as in struct cpuid_vm; NULL: none */
	uint64_t xcr0;          /* the guest's XCR0: leaf 0xD sub-leaves 0 and 1 (EBX) */
};

/*
 * Fill t with cpuid_guest(vm, leaf, sub, host) for every leaf and sub-leaf;
 * vm->guest_osxsave, guest_xcr0 and leaf7_filter are ignored (live at each exit).
 * 0, or -ENOSPC if the answers do not fit.
 */
int cpuid_table_fill(struct cpuid_table *t, const struct cpuid_vm *vm, cpuid_host_fn host);
/*
 * What cpuid_table_fill(t, vm, host) gives, from tmpl, a table filled for the
 * same VM and another vCPU: only the leaves naming the vCPU are computed, so
 * a vCPU is made in a few microseconds (VM_CREATE runs with interrupts off).
 */
int cpuid_table_for_vcpu(struct cpuid_table *t, const struct cpuid_table *tmpl,
			 const struct cpuid_vm *vm, cpuid_host_fn host);
/* CPUID(leaf, sub) as the guest sees it: cpuid_guest's answer, from t and live. */
struct cpuid_regs cpuid_table_lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub,
				     const struct cpuid_live *live);

/* The kernel's side (vmm/cpuid_host.c). */
struct vcpu;
/* Bootstrap CPU, once: the host snapshot every vCPU's table is computed from. */
int cpuid_host_init(void);
/* At vCPU creation: its table, for its VM's vCPU count and Tern's configuration. */
int vcpu_cpuid_init(struct vcpu *v);
/* A CPUID exit of v (its VMCS current). */
struct cpuid_regs vcpu_cpuid(const struct vcpu *v, uint32_t leaf, uint32_t sub);

#endif
