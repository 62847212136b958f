/* SPDX-License-Identifier: MIT */
/* Guest page walker for every x86 paging mode (SDM vol. 3A ch. 4). */
#include "vmm/emul/walk.h"

#include "arch/x86.h"
#include "arch/msr.h"
#include "arch/paging.h"
#include "kernel/errno.h"

#define WALK_RFLAGS_AC    BIT(18)     /* alignment check / SMAP override (SDM vol. 1 3.4.3.3, vol. 3A 4.6.1) */
#define WALK_PKEY_SHIFT   59          /* IA-32e leaf bits 62:59: protection key (4.6.2) */
#define WALK_PTE32_ADDR   0xfffff000u /* 32-bit PDE/PTE bits 31:12 (4.3, tables 4-5, 4-6) */
#define WALK_PDE32_4M     0xffc00000u /* 32-bit 4-MByte PDE bits 31:22 (table 4-4) */
#define WALK_PAE_CR3_ADDR 0xffffffe0u /* PAE CR3 bits 31:5: the PDPT (4.4.1, table 4-7) */

#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_4M (1ull << 22)
#define SZ_1G (1ull << 30)

struct walker {
	const struct walk_env *env;
	const struct walk_regs *r;
	uint64_t gva;
	unsigned int access;
	struct walk_result *out;
	void *ent[5];     /* the entries used, for the A/D update (PAE PDPTEs have no A flag) */
	uint64_t val[5];  /* their values as read */
	unsigned int n;
	bool narrow;      /* 32-bit paging: 4-byte entries */
	uint64_t and_e;   /* AND of the entries used: R/W and U/S rights (4.6.1), all Accessed (4.8) */
	uint64_t or_e;    /* their OR: XD (4.6.1) */
	bool rw, us, xd;  /* effective rights from and_e and or_e, set by finish */
	uint64_t leaf;
};

/* Mask of bits hi:lo inclusive; empty when hi < lo. */
static uint64_t bits(unsigned int hi, unsigned int lo)
{
	if (hi < lo || lo > 63)
		return 0;
	return (~0ull >> (63 - hi)) & (~0ull << lo);
}

static unsigned int phys_bits(const struct walk_regs *r)
{
	if (r->maxphyaddr < 32)
		return 32;
	return r->maxphyaddr > 52 ? 52 : r->maxphyaddr;
}

static bool is_write(unsigned int access)
{
	return (access & WALK_WRITE) && !(access & WALK_FETCH);
}

/* 4.6: implicit accesses are supervisor-mode accesses even at CPL 3. */
static bool is_user(unsigned int access)
{
	return (access & WALK_USER) && !(access & WALK_IMPLICIT);
}

/* XD is a paging-structure bit only with PAE or IA-32e paging and IA32_EFER.NXE = 1 (4.1.3). */
static bool nx_on(const struct walk_regs *r)
{
	return (r->cr4 & CR4_PAE) && (r->efer & IA32_EFER_NXE);
}

/* 4.7: W/R, U/S and I/D describe the access whatever the cause. */
static int pf(struct walker *w, uint32_t code)
{
	const struct walk_regs *r = w->r;

	if (is_write(w->access))
		code |= WALK_PFEC_W;
	if (is_user(w->access))
		code |= WALK_PFEC_U;
	if ((w->access & WALK_FETCH) && ((r->cr4 & CR4_SMEP) || nx_on(r)))
		code |= WALK_PFEC_I;
	w->out->fault = WALK_PF;
	w->out->pf_error = code;
	return -EFAULT;
}

static int fail(struct walker *w, enum walk_fault f)
{
	w->out->fault = f;
	return -EFAULT;
}

/* Read the entry at gpa; remember it for the A/D update when track. NULL when not RAM. */
static inline __attribute__((always_inline)) void *read_entry(struct walker *w, uint64_t gpa, uint64_t *e,
								 bool track)
{
	const struct walk_env *env = w->env;
	uint64_t len = w->narrow ? 4 : 8;
	void *p = walk_env_direct(env, gpa, len);

	if (!p)
		p = env->gpa_ptr(env->ctx, gpa, len);

	if (!p)
		return NULL;
	if (w->narrow)
		*e = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
	else
		*e = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
	if (track) {
		w->out->entry_gpa[w->n] = gpa;
		w->ent[w->n] = p;
		w->val[w->n++] = *e;
	}
	return p;
}

static void add_rights(struct walker *w, uint64_t e)
{
	w->and_e &= e;
	w->or_e |= e;
}

/* SMAP is off for explicit supervisor accesses at CPL < 3 with RFLAGS.AC = 1 (4.6.1). */
static bool smap_blocks(const struct walker *w)
{
	const struct walk_regs *r = w->r;

	if (!(r->cr4 & CR4_SMAP))
		return false;
	return (w->access & WALK_IMPLICIT) || r->cpl == 3 || !(r->rflags & WALK_RFLAGS_AC);
}

/* 4.6.1: the R/W, U/S, XD, SMEP and SMAP rules for the effective rights. */
static bool rights_deny(const struct walker *w)
{
	const struct walk_regs *r = w->r;
	bool user = is_user(w->access);

	if (w->access & WALK_FETCH) {
		if (w->xd)
			return true;
		if (user)
			return !w->us;
		return w->us && (r->cr4 & CR4_SMEP);
	}
	if (user)
		return !w->us || (is_write(w->access) && !w->rw);
	if (w->us && smap_blocks(w))
		return true;
	return is_write(w->access) && !w->rw && (r->cr0 & CR0_WP);
}

/*
 * 4.6.2: with IA-32e paging and CR4.PKE, PKRU governs data accesses to
 * user-mode addresses, supervisor ones included: AD forbids any, WD forbids
 * user writes and supervisor writes when CR0.WP = 1.
 */
static bool pkey_deny(const struct walker *w)
{
	const struct walk_regs *r = w->r;
	unsigned int key;

	if (!(r->efer & IA32_EFER_LMA) || !(r->cr4 & CR4_PKE) || (w->access & WALK_FETCH) || !w->us)
		return false;
	key = (unsigned int)(w->leaf >> WALK_PKEY_SHIFT) & 0xf;
	if ((r->pkru >> (2 * key)) & 1)
		return true;
	return ((r->pkru >> (2 * key + 1)) & 1) && is_write(w->access) &&
	       (is_user(w->access) || (r->cr0 & CR0_WP));
}

/* 4.8: Accessed on every entry used, Dirty on the leaf for a write; atomic, other bits untouched. */
static void set_ad(struct walker *w)
{
	/* Mostly every flag is set already: nothing to write. */
	if ((w->and_e & PTE_A) && (!is_write(w->access) || (w->leaf & PTE_D)))
		return;
	for (unsigned int i = 0; i < w->n; i++) {
		uint64_t set = PTE_A;

		if (i == w->n - 1 && is_write(w->access))
			set |= PTE_D;
		if ((w->val[i] & set) == set)
			continue;
		if (w->narrow)
			__atomic_fetch_or((uint32_t *)w->ent[i], (uint32_t)set, __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_or((uint64_t *)w->ent[i], set, __ATOMIC_SEQ_CST);
	}
}

/* The leaf is found: check the access, then record the translation. */
static int finish(struct walker *w, uint64_t leaf, uint64_t gpa, uint64_t size)
{
	bool pk;

	w->leaf = leaf;
	w->rw = w->and_e & PTE_W;
	w->us = w->and_e & PTE_US;
	w->xd = nx_on(w->r) && (w->or_e & PTE_NX);
	pk = pkey_deny(w);
	if (rights_deny(w) || pk)
		return pf(w, WALK_PFEC_P | (pk ? WALK_PFEC_PK : 0));
	set_ad(w);
	w->out->nr_entries = w->n;
	w->out->gpa = gpa;
	w->out->page_size = size;
	return 0;
}

/* 32-bit paging (4.3): 4-byte entries, 4-MByte pages with CR4.PSE (PSE-36 above 4 GiB). */
static int walk_32bit(struct walker *w)
{
	const struct walk_regs *r = w->r;
	uint64_t pde, pte, pd = r->cr3 & WALK_PTE32_ADDR;
	unsigned int m = phys_bits(r) > 40 ? 40 : phys_bits(r);

	if (!read_entry(w, pd + ((w->gva >> 22) & 0x3ff) * 4, &pde, true))
		return fail(w, WALK_BUS);
	if (!(pde & PTE_P))
		return pf(w, 0);
	add_rights(w, pde);
	if ((r->cr4 & CR4_PSE) && (pde & PTE_PS)) {
		/* Table 4-4: bits (M-20):13 are PA bits (M-1):32, bits 21:(M-19) reserved. */
		if (pde & bits(21, m - 19))
			return pf(w, WALK_PFEC_P | WALK_PFEC_RSVD);
		return finish(w, pde, (pde & WALK_PDE32_4M) | (((pde >> 13) & 0xff) << 32) |
			      (w->gva & (SZ_4M - 1)), SZ_4M);
	}
	if (!read_entry(w, (pde & WALK_PTE32_ADDR) + ((w->gva >> 12) & 0x3ff) * 4, &pte, true))
		return fail(w, WALK_BUS);
	if (!(pte & PTE_P))
		return pf(w, 0);
	add_rights(w, pte);
	return finish(w, pte, (pte & WALK_PTE32_ADDR) | (w->gva & (SZ_4K - 1)), SZ_4K);
}

/*
 * Reserved bits of a present 64-bit entry at level n (0 = PTE, 1 = PDE,
 * 2 = PDPTE, 3 = PML4E, 4 = PML5E) beyond hi, the mode's high reserved bits:
 * PS in PML4E/PML5E (table 4-15), bits 20:13 of a 2-MByte PDE and 29:13 of
 * a 1-GByte PDPTE (tables 4-9, 4-17, 4-18; bit 12 is PAT).
 */
static uint64_t entry_rsvd(int n, bool leaf, uint64_t hi)
{
	if (n >= 3)
		return hi | PTE_PS;
	if (leaf && n == 2)
		return hi | bits(29, 13);
	if (leaf && n == 1)
		return hi | bits(20, 13);
	return hi;
}

/* Levels top..0 of 8-byte entries (PAE from the PD, IA-32e from the PML4/PML5). */
static int walk_tables(struct walker *w, uint64_t table, int top, uint64_t hi)
{
	for (int n = top; n >= 0; n--) {
		unsigned int shift = 12 + 9 * (unsigned int)n;
		uint64_t e, size = 1ull << shift;
		bool leaf;

		if (!read_entry(w, table + ((w->gva >> shift) & 0x1ff) * 8, &e, true))
			return fail(w, WALK_BUS);
		if (!(e & PTE_P))
			return pf(w, 0);
		leaf = n == 0 || (n <= 2 && (e & PTE_PS));
		if (e & entry_rsvd(n, leaf, hi))
			return pf(w, WALK_PFEC_P | WALK_PFEC_RSVD);
		add_rights(w, e);
		if (leaf)
			return finish(w, e, (e & PTE_ADDR & ~(size - 1)) | (w->gva & (size - 1)), size);
		table = e & PTE_ADDR;
	}
	return fail(w, WALK_BUS); /* not reached: level 0 is always a leaf */
}

/* XD (bit 63) is reserved without IA32_EFER.NXE (4.4.2, 4.5.4). */
static uint64_t nx_rsvd(const struct walk_regs *r)
{
	return (r->efer & IA32_EFER_NXE) ? 0 : PTE_NX;
}

/*
 * PAE paging (4.4). The four PDPTEs are registers loaded at MOV to CR3/CR0/
 * CR4 (or VM entry), which raise #GP and load nothing when a present PDPTE
 * has a reserved bit set (4.4.1): a walk on real hardware never meets one.
 * Tern reports WALK_GP for it rather than invent a #PF error code. PDPTEs
 * have no R/W, U/S, XD or A flags (table 4-8), so they add no rights and
 * are not updated.
 */
static int walk_pae(struct walker *w)
{
	const struct walk_regs *r = w->r;
	unsigned int idx = (unsigned int)(w->gva >> 30) & 3;
	unsigned int m = phys_bits(r);
	uint64_t e;

	if (r->pdptes_loaded) {
		e = r->pdpte[idx];
	} else if (!read_entry(w, (r->cr3 & WALK_PAE_CR3_ADDR) + idx * 8, &e, false)) {
		return fail(w, WALK_BUS);
	}
	if (!(e & PTE_P))
		return pf(w, 0);
	if (e & (bits(63, m) | bits(8, 5) | bits(2, 1)))
		return fail(w, WALK_GP);
	return walk_tables(w, e & PTE_ADDR & bits(m - 1, 12), 1, bits(62, m) | nx_rsvd(r));
}

/* 4-level and 5-level paging (4.5): canonical check (3A 3.3.7.1), then 4 or 5 levels. */
static int walk_ia32e(struct walker *w)
{
	const struct walk_regs *r = w->r;
	bool la57 = r->cr4 & CR4_LA57;
	unsigned int vbits = la57 ? 57 : 48, m = phys_bits(r);
	int64_t ext = (int64_t)(w->gva << (64 - vbits)) >> (64 - vbits);

	if ((uint64_t)ext != w->gva)
		return fail(w, WALK_GP);
	/* Table 4-12: CR3 bits M-1:12 locate the top table. */
	return walk_tables(w, r->cr3 & bits(m - 1, 12), la57 ? 4 : 3, bits(51, m) | nx_rsvd(r));
}

int walk_gva(const struct walk_env *env, const struct walk_regs *r, uint64_t gva, unsigned int access,
	     struct walk_result *out)
{
	struct walker w = {
		.env = env, .r = r, .gva = gva, .access = access, .out = out, .and_e = ~0ull,
	};

	*out = (struct walk_result){ .fault = WALK_OK };
	/* 4.1.1: the mode from CR0.PG, CR4.PAE, IA32_EFER.LMA; linear addresses are 32-bit outside IA-32e mode. */
	if (!(r->cr0 & CR0_PG)) {
		out->gpa = (uint32_t)gva;
		return 0;
	}
	if (!(r->efer & IA32_EFER_LMA))
		w.gva = (uint32_t)gva;
	if (!(r->cr4 & CR4_PAE)) {
		w.narrow = true;
		return walk_32bit(&w);
	}
	if (!(r->efer & IA32_EFER_LMA))
		return walk_pae(&w);
	return walk_ia32e(&w);
}
