/* SPDX-License-Identifier: MIT */
/*
 * The guest page walker: translate a guest linear address to a guest-physical
 * one in every x86 paging mode, with the permission checks, reserved-bit
 * checks, error code and A/D updates of the SDM (vol. 3A 4.1-4.8).
 *
 * Pure C: it sees guest memory only through struct walk_env, so a host unit
 * test builds it alone (tests/unit/test_walk.c).
 */
#ifndef TERN_VMM_EMUL_WALK_H
#define TERN_VMM_EMUL_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct walk_env {
	void *ctx;
	/* Host pointer to guest-physical [gpa, gpa+len) when it is guest RAM, else NULL (MMIO, hole, beyond). */
	void *(*gpa_ptr)(void *ctx, uint64_t gpa, size_t len);
	/*
	 * Optional (ram_size 0: none): guest-physical [ram_gpa, ram_gpa+ram_size)
	 * is RAM at host address ram, read without asking gpa_ptr, except the
	 * 2 MiB slots (GPA / 2 MiB) set in the bitmap held (those gpa_ptr must
	 * see first: RAM not yet zeroed, vm_lazy.c). The rest goes to gpa_ptr.
	 * Where page tables mostly are, it saves a call a level.
	 */
	uint64_t ram_gpa, ram_size;
	uint8_t *ram;
	const uint64_t *held; /* NULL: none */
	uint64_t held_slots;
};

/* The host pointer for [gpa, gpa+len) (within one page) through the direct window, or NULL. */
static inline void *walk_env_direct(const struct walk_env *env, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - env->ram_gpa, slot = gpa >> 21;

	if (off >= env->ram_size || env->ram_size - off < len)
		return NULL;
	if (env->held && slot < env->held_slots &&
	    ((__atomic_load_n(&env->held[slot / 64], __ATOMIC_ACQUIRE) >> (slot % 64)) & 1))
		return NULL;
	return env->ram + off;
}

/* The guest state the walk depends on (VMCS guest fields, PKRU from XSAVE state). */
struct walk_regs {
	uint64_t cr0, cr3, cr4, efer, rflags;
	uint32_t pkru;
	unsigned int cpl;        /* 0-3 */
	unsigned int maxphyaddr; /* CPUID 0x80000008 EAX[7:0]: bits above are reserved in entries (clamped to 32..52) */
	bool pdptes_loaded;      /* PAE: pdpte[] holds the PDPTE registers (VMCS GUEST_PDPTEn); else read from CR3 */
	uint64_t pdpte[4];
};

/* access: a bitwise OR of these; 0 is a supervisor explicit data read. */
#define WALK_WRITE    1u  /* data write */
#define WALK_USER     2u  /* user-mode access (CPL 3, not implicit); ignored with WALK_IMPLICIT */
#define WALK_FETCH    4u  /* instruction fetch (WALK_WRITE is ignored with it) */
#define WALK_IMPLICIT 8u  /* supervisor access to GDT/IDT/TSS etc. (SMAP: always checked) */

enum walk_fault { WALK_OK = 0, WALK_PF, WALK_GP, WALK_BUS };

/* #PF error code (SDM vol. 3A 4.7, figure 4-12). */
#define WALK_PFEC_P    (1u << 0) /* 0: not-present page; 1: protection or reserved-bit violation */
#define WALK_PFEC_W    (1u << 1) /* the access was a write */
#define WALK_PFEC_U    (1u << 2) /* a user-mode access */
#define WALK_PFEC_RSVD (1u << 3) /* a reserved bit was set in a paging-structure entry */
#define WALK_PFEC_I    (1u << 4) /* instruction fetch, reported when SMEP or (PAE and NXE) */
#define WALK_PFEC_PK   (1u << 5) /* protection-key violation */

struct walk_result {
	/*
	 * enum walk_fault: PF (inject #PF, CR2 = gva), GP (non-canonical
	 * address, or a PAE PDPTE with a reserved bit read from CR3: see
	 * walk.c), BUS (a paging structure is not in RAM).
	 */
	int fault;
	uint32_t pf_error;  /* SDM 4.7: P W U RSVD I PK bits; 0 unless fault == WALK_PF */
	uint64_t gpa;
	uint64_t page_size; /* 4K, 2M, 4M, 1G, or 0 when paging is off */
	/* On success: the GPAs of the paging-structure entries used, top level first (PAE PDPTEs not). */
	unsigned int nr_entries;
	uint64_t entry_gpa[5];
};

/*
 * Translate gva for one access as the guest's CPU would. On success sets the
 * Accessed flag of every paging-structure entry used and, for writes, the
 * Dirty flag of the leaf (SDM 4.8), atomically in guest memory; a fault sets
 * neither. Returns 0 when out->fault == WALK_OK, else -EFAULT.
 */
int walk_gva(const struct walk_env *env, const struct walk_regs *r, uint64_t gva, unsigned int access,
	     struct walk_result *out);

#endif
