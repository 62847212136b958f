/* SPDX-License-Identifier: MIT */
/*
 * Guest page walker (vmm/emul/walk.c) against SDM vol. 3A ch. 4: page tables
 * built in a host buffer standing for guest RAM [0, 64 KiB).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/emul/walk.h"
#include "arch/x86.h"
#include "arch/msr.h"
#include "arch/paging.h"

/* #PF error code bits, SDM vol. 3A 4.7 figure 4-12. */
#define E_P    0x01u
#define E_W    0x02u
#define E_U    0x04u
#define E_RSVD 0x08u
#define E_I    0x10u
#define E_PK   0x20u

#define PWU (PTE_P | PTE_W | PTE_US)
#define XD  BIT(63)
#define PKEY(k) ((uint64_t)(k) << 59) /* IA-32e leaf bits 62:59 (4.6.2) */
#define AC  BIT(18)                   /* RFLAGS.AC */
#define NXE IA32_EFER_NXE

#define RAM_SIZE 0x10000u
static _Alignas(4096) uint8_t ram[RAM_SIZE];

static void *ram_ptr(void *ctx, uint64_t gpa, size_t len)
{
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static const struct walk_env env = { .ctx = NULL, .gpa_ptr = ram_ptr };

enum mode { M_OFF, M_32, M_PAE, M_4L, M_5L };

/*
 * The default translation of each mode, top level first. Indices differ per
 * level so a wrong index reads a zero (not-present) entry.
 *   32-bit: CR3 0x7000, gva 0x01406789 = PDE 5, PTE 6, offset 0x789.
 *   PAE:    CR3 0x6020, gva 0x80604567 = PDPTE 2, PDE 3, PTE 4, offset 0x567.
 *   4-level: CR3 0x1000, gva 0x8080604567 = PML4E 1, PDPTE 2, PDE 3, PTE 4.
 *   5-level: CR3 0x5000, gva 0x5008080604567 = PML5E 5, then as 4-level.
 */
struct level { uint64_t gpa, val; };
static const struct level chain_32[] = { { 0x7014, 0x8000 | PWU }, { 0x8018, 0xabc000 | PWU } };
static const struct level chain_pae[] = {
	{ 0x6030, 0x3000 | PTE_P }, { 0x3018, 0x4000 | PWU }, { 0x4020, 0xabcd000 | PWU },
};
static const struct level chain_4l[] = {
	{ 0x1008, 0x2000 | PWU }, { 0x2010, 0x3000 | PWU }, { 0x3018, 0x4000 | PWU }, { 0x4020, 0xabcd000 | PWU },
};
static const struct level chain_5l[] = {
	{ 0x5028, 0x1000 | PWU }, { 0x1008, 0x2000 | PWU }, { 0x2010, 0x3000 | PWU },
	{ 0x3018, 0x4000 | PWU }, { 0x4020, 0xabcd000 | PWU },
};

#define G32  0x01406789ull
#define GPAE 0x80604567ull
#define G4   0x0000008080604567ull
#define G5   0x0005008080604567ull
#define GPA32 0xabc789ull   /* 32-bit default 4K leaf: 0xabc000 + 0x789 */
#define GPA64 0xabcd567ull  /* PAE/IA-32e default 4K leaf: 0xabcd000 + 0x567 */
#define K4 0x1000ull
#define M2 0x200000ull
#define M4 0x400000ull
#define G1 0x40000000ull

struct wcase {
	const char *name;
	enum mode mode;
	uint64_t ent[5]; /* replaces level i's entry when nonzero (0 = top level) */
	uint64_t set[5]; /* then these bits are set */
	uint64_t clr[5]; /* and these cleared */
	uint64_t cr0, cr4, efer, rflags; /* ORed into the mode's base */
	uint32_t pkru;
	unsigned int cpl, m; /* m 0: MAXPHYADDR 46 */
	bool loaded;     /* PAE: the PDPTE in the register, not in memory */
	uint64_t gva;    /* 0: the mode's default */
	unsigned int access;
	int fault;
	uint32_t err;
	uint64_t gpa, size;
};

static const struct level *chain_of(enum mode m, size_t *n)
{
	switch (m) {
	case M_32: *n = 2; return chain_32;
	case M_PAE: *n = 3; return chain_pae;
	case M_4L: *n = 4; return chain_4l;
	case M_5L: *n = 5; return chain_5l;
	default: *n = 0; return NULL;
	}
}

static void put(enum mode m, uint64_t gpa, uint64_t v)
{
	if (m == M_32) {
		uint32_t v32 = (uint32_t)v;

		memcpy(ram + gpa, &v32, 4);
	} else {
		memcpy(ram + gpa, &v, 8);
	}
}

static uint64_t get(enum mode m, uint64_t gpa)
{
	uint64_t v = 0;

	memcpy(&v, ram + gpa, m == M_32 ? 4 : 8);
	return v;
}

/* Fill guest RAM and the registers for case c. */
static void setup(const struct wcase *c, struct walk_regs *r, uint64_t *gva)
{
	static const uint64_t cr3[] = { 0, 0x7000, 0x6020, 0x1000, 0x5000 };
	static const uint64_t cr4[] = { 0, 0, CR4_PAE, CR4_PAE, CR4_PAE | CR4_LA57 };
	static const uint64_t gv[] = { 0, G32, GPAE, G4, G5 };
	size_t n;
	const struct level *ch = chain_of(c->mode, &n);

	memset(ram, 0, sizeof(ram));
	*r = (struct walk_regs){
		.cr0 = CR0_PE | (c->mode == M_OFF ? 0 : CR0_PG) | c->cr0,
		.cr3 = cr3[c->mode], .cr4 = cr4[c->mode] | c->cr4,
		.efer = (c->mode >= M_4L ? IA32_EFER_LME | IA32_EFER_LMA : 0) | c->efer,
		.rflags = 2 | c->rflags, .pkru = c->pkru, .cpl = c->cpl,
		.maxphyaddr = c->m ? c->m : 46,
	};
	for (size_t i = 0; i < n; i++) {
		uint64_t v = ((c->ent[i] ? c->ent[i] : ch[i].val) | c->set[i]) & ~c->clr[i];

		if (c->mode == M_PAE && i == 0 && c->loaded) {
			r->pdptes_loaded = true;
			r->pdpte[2] = v;
		} else {
			put(c->mode, ch[i].gpa, v);
		}
	}
	*gva = c->gva ? c->gva : gv[c->mode];
}

static const struct wcase cases[] = {
	/* Paging off (4.1.1): linear = physical, 32 bits outside IA-32e mode. */
	{ "off: truncated", M_OFF, .gva = 0x123456789abcull, .gpa = 0x56789abc },
	{ "off: write", M_OFF, .gva = 0xfffff000ull, .access = WALK_WRITE | WALK_USER, .gpa = 0xfffff000 },

	/* 32-bit paging (4.3). */
	{ "32: 4K", M_32, .gpa = GPA32, .size = K4 },
	{ "32: gva bits 63:32 dropped", M_32, .gva = 0xdead000001406789ull, .gpa = GPA32, .size = K4 },
	{ "32: PDE not present", M_32, .clr = { PTE_P }, .access = WALK_WRITE | WALK_USER,
	  .fault = WALK_PF, .err = E_W | E_U },
	{ "32: PTE not present", M_32, .clr = { 0, PTE_P }, .fault = WALK_PF, .err = 0 },
	{ "32: 4M", M_32, .ent = { 0x12c00000 | PTE_PS | PWU }, .cr4 = CR4_PSE, .gpa = 0x12c06789, .size = M4 },
	{ "32: PS ignored without CR4.PSE", M_32, .set = { PTE_PS }, .gpa = GPA32, .size = K4 },
	{ "32: PSE-36 bits 20:13 = PA 39:32", M_32, .ent = { 0x12c00000 | (0x05u << 13) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 40, .gpa = 0x512c06789ull, .size = M4 },
	{ "32: PSE-36 bit 17 = PA 36 (M 40)", M_32, .ent = { 0x12c00000 | BIT(17) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 40, .gpa = 0x1012c06789ull, .size = M4 },
	{ "32: PSE-36 bit 17 reserved (M 36)", M_32, .ent = { 0x12c00000 | BIT(17) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 36, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "32: PSE-36 bit 16 = PA 35 (M 36)", M_32, .ent = { 0x12c00000 | BIT(16) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 36, .gpa = 0x812c06789ull, .size = M4 },
	{ "32: PSE-36 bit 20 = PA 39 (M 40)", M_32, .ent = { 0x12c00000 | BIT(20) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 40, .gpa = 0x8012c06789ull, .size = M4 },
	{ "32: PSE-36 capped at PA bit 39 (M 46)", M_32, .ent = { 0x12c00000 | BIT(20) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 46, .gpa = 0x8012c06789ull, .size = M4 },
	{ "32: no protection keys (IA-32e only)", M_32, .cr4 = CR4_PKE, .pkru = BIT(0) | BIT(1),
	  .access = WALK_USER | WALK_WRITE, .gpa = GPA32, .size = K4 },
	{ "32: 4M bit 21 reserved", M_32, .ent = { 0x12c00000 | BIT(21) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .m = 40, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "32: 4M bit 21 reserved (M 46: PA capped at 40 bits)", M_32,
	  .ent = { 0x12c00000 | BIT(21) | PTE_PS | PWU }, .cr4 = CR4_PSE, .m = 46, .fault = WALK_PF,
	  .err = E_P | E_RSVD },
	{ "32: 4M PAT bit 12 allowed", M_32, .ent = { 0x12c00000 | BIT(12) | PTE_PS | PWU },
	  .cr4 = CR4_PSE, .gpa = 0x12c06789, .size = M4 },
	{ "32: user read of supervisor PDE", M_32, .clr = { PTE_US }, .access = WALK_USER,
	  .fault = WALK_PF, .err = E_P | E_U },
	{ "32: user write read-only PTE", M_32, .clr = { 0, PTE_W }, .access = WALK_USER | WALK_WRITE,
	  .fault = WALK_PF, .err = E_P | E_W | E_U },
	{ "32: supervisor write read-only, WP=0", M_32, .clr = { 0, PTE_W }, .access = WALK_WRITE,
	  .gpa = GPA32, .size = K4 },
	{ "32: supervisor write read-only, WP=1", M_32, .clr = { 0, PTE_W }, .cr0 = CR0_WP,
	  .access = WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W },
	{ "32: fetch not present, NXE but no PAE: no I/D", M_32, .clr = { 0, PTE_P }, .efer = NXE,
	  .access = WALK_FETCH, .fault = WALK_PF, .err = 0 },
	{ "32: fetch not present, SMEP: I/D", M_32, .clr = { 0, PTE_P }, .cr4 = CR4_SMEP,
	  .access = WALK_FETCH, .fault = WALK_PF, .err = E_I },
	{ "32: SMEP supervisor fetch from user page", M_32, .cr4 = CR4_SMEP, .access = WALK_FETCH,
	  .fault = WALK_PF, .err = E_P | E_I },
	{ "32: SMAP supervisor read of user page", M_32, .cr4 = CR4_SMAP, .fault = WALK_PF, .err = E_P },
	{ "32: PDE not in RAM", M_32, .ent = { 0xfffff000 | PWU }, .fault = WALK_BUS },

	/* PAE paging (4.4). */
	{ "PAE: 4K", M_PAE, .gpa = GPA64, .size = K4 },
	{ "PAE: gva bits 63:32 dropped", M_PAE, .gva = 0xffffffff80604567ull, .gpa = GPA64, .size = K4 },
	{ "PAE: 2M", M_PAE, .ent = { 0, 0x12200000 | PTE_PS | PWU }, .gpa = 0x12204567, .size = M2 },
	{ "PAE: 2M above 4G", M_PAE, .ent = { 0, 0x3012200000ull | PTE_PS | PWU }, .gpa = 0x3012204567ull,
	  .size = M2 },
	{ "PAE: PDPTE not present", M_PAE, .clr = { PTE_P }, .fault = WALK_PF, .err = 0 },
	{ "PAE: PDE not present", M_PAE, .clr = { 0, PTE_P }, .access = WALK_USER,
	  .fault = WALK_PF, .err = E_U },
	{ "PAE: PTE not present", M_PAE, .clr = { 0, 0, PTE_P }, .access = WALK_WRITE,
	  .fault = WALK_PF, .err = E_W },
	{ "PAE: PDPTE register used", M_PAE, .loaded = true, .gpa = GPA64, .size = K4 },
	{ "PAE: PDPTE register not present", M_PAE, .loaded = true, .clr = { PTE_P },
	  .fault = WALK_PF, .err = 0 },
	{ "PAE: PDPTE reserved bit 1: #GP (4.4.1)", M_PAE, .set = { BIT(1) }, .fault = WALK_GP },
	{ "PAE: PDPTE reserved bit 5 (register)", M_PAE, .loaded = true, .set = { BIT(5) }, .fault = WALK_GP },
	{ "PAE: PDPTE bit 63 reserved", M_PAE, .set = { XD }, .efer = NXE, .fault = WALK_GP },
	{ "PAE: PDPTE above MAXPHYADDR", M_PAE, .set = { BIT(46) }, .fault = WALK_GP },
	{ "PAE: PDPTE has no U/S or R/W", M_PAE, .cr0 = CR0_WP, .access = WALK_USER | WALK_WRITE,
	  .gpa = GPA64, .size = K4 },
	{ "PAE: PDE bit 52 reserved (62:M)", M_PAE, .set = { 0, BIT(52) }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "PAE: PTE bit 46 reserved (M 46)", M_PAE, .set = { 0, 0, BIT(46) }, .fault = WALK_PF,
	  .err = E_P | E_RSVD },
	{ "PAE: PTE bit 45 fine (M 46)", M_PAE, .set = { 0, 0, BIT(45) }, .gpa = GPA64 | BIT(45), .size = K4 },
	{ "PAE: 2M bit 13 reserved", M_PAE, .ent = { 0, 0x12200000 | BIT(13) | PTE_PS | PWU },
	  .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "PAE: 2M PAT bit 12 allowed", M_PAE, .ent = { 0, 0x12200000 | BIT(12) | PTE_PS | PWU },
	  .gpa = 0x12204567, .size = M2 },
	{ "PAE: XD without NXE reserved", M_PAE, .set = { 0, 0, XD }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "PAE: XD without NXE reserved, fetch: no I/D", M_PAE, .set = { 0, XD }, .access = WALK_FETCH,
	  .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "PAE: XD fetch with NXE", M_PAE, .set = { 0, 0, XD }, .efer = NXE, .access = WALK_FETCH,
	  .fault = WALK_PF, .err = E_P | E_I },
	{ "PAE: XD read with NXE", M_PAE, .set = { 0, XD }, .efer = NXE, .gpa = GPA64, .size = K4 },
	{ "PAE: no protection keys (IA-32e only)", M_PAE, .cr4 = CR4_PKE, .pkru = BIT(0) | BIT(1),
	  .access = WALK_USER | WALK_WRITE, .gpa = GPA64, .size = K4 },
	{ "PAE: PDPT not in RAM", M_PAE, .ent = { 0x100000000ull | PTE_P }, .fault = WALK_BUS },

	/* 4-level paging (4.5). */
	{ "4L: 4K", M_4L, .gpa = GPA64, .size = K4 },
	{ "4L: 2M", M_4L, .ent = { 0, 0, 0x12200000 | PTE_PS | PWU }, .gpa = 0x12204567, .size = M2 },
	{ "4L: 1G", M_4L, .ent = { 0, 0x1c0000000ull | PTE_PS | PWU }, .gpa = 0x1c0604567ull, .size = G1 },
	{ "4L: PTE PAT bit 7 allowed", M_4L, .set = { 0, 0, 0, PTE_PS }, .gpa = GPA64, .size = K4 },
	{ "4L: bits 62:52 ignored", M_4L, .set = { BIT(52), BIT(58), BIT(62), BIT(55) }, .gpa = GPA64, .size = K4 },
	{ "4L: PML4E not present", M_4L, .clr = { PTE_P }, .access = WALK_USER | WALK_WRITE,
	  .fault = WALK_PF, .err = E_W | E_U },
	{ "4L: PDPTE not present", M_4L, .clr = { 0, PTE_P }, .fault = WALK_PF, .err = 0 },
	{ "4L: PDE not present", M_4L, .clr = { 0, 0, PTE_P }, .fault = WALK_PF, .err = 0 },
	{ "4L: PTE not present", M_4L, .clr = { 0, 0, 0, PTE_P }, .access = WALK_USER,
	  .fault = WALK_PF, .err = E_U },
	{ "4L: fetch not present, no NXE/SMEP: no I/D", M_4L, .clr = { 0, 0, 0, PTE_P },
	  .access = WALK_FETCH, .fault = WALK_PF, .err = 0 },
	{ "4L: fetch not present, NXE: I/D", M_4L, .clr = { 0, 0, 0, PTE_P }, .efer = NXE,
	  .access = WALK_FETCH | WALK_USER, .fault = WALK_PF, .err = E_U | E_I },
	{ "4L: not present beats reserved", M_4L, .set = { BIT(50) }, .clr = { PTE_P },
	  .fault = WALK_PF, .err = 0 },
	{ "4L: PML4E above MAXPHYADDR", M_4L, .set = { BIT(46) }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: PDPTE bit 51 reserved", M_4L, .set = { 0, BIT(51) }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: PTE above MAXPHYADDR 36", M_4L, .m = 36, .set = { 0, 0, 0, BIT(36) },
	  .access = WALK_USER | WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W | E_U | E_RSVD },
	{ "4L: PTE bit 51 with MAXPHYADDR 52", M_4L, .m = 52, .set = { 0, 0, 0, BIT(51) },
	  .gpa = GPA64 | BIT(51), .size = K4 },
	{ "4L: PS in PML4E reserved", M_4L, .set = { PTE_PS }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: 2M bit 20 reserved", M_4L, .ent = { 0, 0, 0x12200000 | BIT(20) | PTE_PS | PWU },
	  .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: 1G bit 29 reserved", M_4L, .ent = { 0, 0x1c0000000ull | BIT(29) | PTE_PS | PWU },
	  .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: 1G bit 13 reserved", M_4L, .ent = { 0, 0x1c0000000ull | BIT(13) | PTE_PS | PWU },
	  .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: 1G PAT bit 12 allowed", M_4L, .ent = { 0, 0x1c0000000ull | BIT(12) | PTE_PS | PWU },
	  .gpa = 0x1c0604567ull, .size = G1 },
	{ "4L: XD in PML4E without NXE", M_4L, .set = { XD }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: XD in PTE without NXE", M_4L, .set = { 0, 0, 0, XD }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "4L: non-canonical bit 47", M_4L, .gva = 0x0000800000000000ull, .fault = WALK_GP },
	{ "4L: non-canonical bit 48 (5-level address)", M_4L, .gva = G5, .fault = WALK_GP },
	{ "4L: canonical high half walks", M_4L, .gva = 0xffff800000000000ull, .fault = WALK_PF, .err = 0 },
	{ "4L: PDPT not in RAM", M_4L, .ent = { 0x100000000ull | PWU }, .fault = WALK_BUS },
	{ "4L: PT not in RAM", M_4L, .ent = { 0, 0, 0xff000 | PWU }, .fault = WALK_BUS },

	/* 4-level: access rights (4.6). */
	{ "4L: user read, U/S=0 in PML4E only", M_4L, .clr = { PTE_US }, .access = WALK_USER,
	  .fault = WALK_PF, .err = E_P | E_U },
	{ "4L: user read, U/S=0 in PTE", M_4L, .clr = { 0, 0, 0, PTE_US }, .access = WALK_USER,
	  .fault = WALK_PF, .err = E_P | E_U },
	{ "4L: user read of read-only page", M_4L, .clr = { 0, PTE_W }, .access = WALK_USER,
	  .gpa = GPA64, .size = K4 },
	{ "4L: user write, R/W=0 in PDE, WP=0", M_4L, .clr = { 0, 0, PTE_W }, .access = WALK_USER | WALK_WRITE,
	  .fault = WALK_PF, .err = E_P | E_W | E_U },
	{ "4L: supervisor write, R/W=0 in PML4E, WP=0", M_4L, .clr = { PTE_W }, .access = WALK_WRITE,
	  .gpa = GPA64, .size = K4 },
	{ "4L: supervisor write, R/W=0 in PML4E, WP=1", M_4L, .clr = { PTE_W }, .cr0 = CR0_WP,
	  .access = WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W },
	{ "4L: supervisor write supervisor RO page, WP=1", M_4L, .clr = { 0, 0, 0, PTE_W | PTE_US },
	  .cr0 = CR0_WP, .access = WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W },
	{ "4L: implicit write at CPL 3, RO, WP=1: U/S=0", M_4L, .clr = { 0, 0, 0, PTE_W | PTE_US },
	  .cr0 = CR0_WP, .cpl = 3, .access = WALK_IMPLICIT | WALK_USER | WALK_WRITE,
	  .fault = WALK_PF, .err = E_P | E_W },
	{ "4L: user fetch, XD in PDPTE, NXE", M_4L, .set = { 0, XD }, .efer = NXE,
	  .access = WALK_FETCH | WALK_USER, .fault = WALK_PF, .err = E_P | E_U | E_I },
	{ "4L: supervisor fetch, XD in PTE, NXE", M_4L, .set = { 0, 0, 0, XD }, .efer = NXE,
	  .access = WALK_FETCH, .fault = WALK_PF, .err = E_P | E_I },
	{ "4L: write to XD page fine", M_4L, .set = { 0, 0, 0, XD }, .efer = NXE, .access = WALK_WRITE,
	  .gpa = GPA64, .size = K4 },
	{ "4L: fetch from read-only page fine", M_4L, .clr = { 0, PTE_W }, .efer = NXE, .cr0 = CR0_WP,
	  .access = WALK_FETCH | WALK_USER, .gpa = GPA64, .size = K4 },
	{ "4L: fetch ignores WALK_WRITE", M_4L, .clr = { 0, PTE_W }, .cr0 = CR0_WP,
	  .access = WALK_FETCH | WALK_WRITE, .gpa = GPA64, .size = K4 },
	{ "4L: fetch fault: W/R=0", M_4L, .clr = { 0, 0, 0, PTE_P }, .access = WALK_FETCH | WALK_WRITE,
	  .fault = WALK_PF, .err = 0 },
	{ "4L: user fetch of supervisor page, no NXE", M_4L, .clr = { 0, 0, PTE_US },
	  .access = WALK_FETCH | WALK_USER, .fault = WALK_PF, .err = E_P | E_U },
	{ "4L: user fetch of supervisor page, NXE", M_4L, .clr = { 0, 0, PTE_US }, .efer = NXE,
	  .access = WALK_FETCH | WALK_USER, .fault = WALK_PF, .err = E_P | E_U | E_I },
	{ "4L: supervisor fetch of user page, no SMEP", M_4L, .access = WALK_FETCH, .gpa = GPA64, .size = K4 },
	{ "4L: SMEP: supervisor fetch of user page", M_4L, .cr4 = CR4_SMEP, .access = WALK_FETCH,
	  .fault = WALK_PF, .err = E_P | E_I },
	{ "4L: SMEP: U/S=0 in PML4E makes it supervisor", M_4L, .cr4 = CR4_SMEP, .clr = { PTE_US },
	  .access = WALK_FETCH, .gpa = GPA64, .size = K4 },
	{ "4L: SMEP: user fetch of user page fine", M_4L, .cr4 = CR4_SMEP, .access = WALK_FETCH | WALK_USER,
	  .gpa = GPA64, .size = K4 },
	{ "4L: SMAP: supervisor read of user page", M_4L, .cr4 = CR4_SMAP, .fault = WALK_PF, .err = E_P },
	{ "4L: SMAP: supervisor write of user page", M_4L, .cr4 = CR4_SMAP, .access = WALK_WRITE,
	  .fault = WALK_PF, .err = E_P | E_W },
	{ "4L: SMAP: AC=1 explicit read fine", M_4L, .cr4 = CR4_SMAP, .rflags = AC, .gpa = GPA64, .size = K4 },
	{ "4L: SMAP: AC=1 explicit write fine", M_4L, .cr4 = CR4_SMAP, .rflags = AC, .access = WALK_WRITE,
	  .gpa = GPA64, .size = K4 },
	{ "4L: SMAP: AC=1 explicit write, RO, WP=1", M_4L, .cr4 = CR4_SMAP, .rflags = AC, .cr0 = CR0_WP,
	  .clr = { 0, 0, 0, PTE_W }, .access = WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W },
	{ "4L: SMAP: AC=1 implicit read", M_4L, .cr4 = CR4_SMAP, .rflags = AC, .access = WALK_IMPLICIT,
	  .fault = WALK_PF, .err = E_P },
	{ "4L: SMAP: AC=1 implicit at CPL 3", M_4L, .cr4 = CR4_SMAP, .rflags = AC, .cpl = 3,
	  .access = WALK_IMPLICIT | WALK_USER | WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W },
	{ "4L: SMAP: supervisor page fine", M_4L, .cr4 = CR4_SMAP, .clr = { 0, 0, 0, PTE_US },
	  .access = WALK_IMPLICIT, .gpa = GPA64, .size = K4 },
	{ "4L: SMAP: user access unaffected", M_4L, .cr4 = CR4_SMAP, .cpl = 3, .access = WALK_USER,
	  .gpa = GPA64, .size = K4 },
	{ "4L: SMAP: fetch unaffected", M_4L, .cr4 = CR4_SMAP, .access = WALK_FETCH, .gpa = GPA64, .size = K4 },

	/* 4-level: protection keys (4.6.2); key 3: AD = PKRU bit 6, WD = bit 7. */
	{ "4L: PK: AD user read", M_4L, .cr4 = CR4_PKE, .pkru = BIT(6), .set = { 0, 0, 0, PKEY(3) },
	  .cpl = 3, .access = WALK_USER, .fault = WALK_PF, .err = E_P | E_U | E_PK },
	{ "4L: PK: AD supervisor read of user page", M_4L, .cr4 = CR4_PKE, .pkru = BIT(6),
	  .set = { 0, 0, 0, PKEY(3) }, .fault = WALK_PF, .err = E_P | E_PK },
	{ "4L: PK: AD supervisor page fine", M_4L, .cr4 = CR4_PKE, .pkru = BIT(6), .set = { 0, 0, 0, PKEY(3) },
	  .clr = { 0, PTE_US }, .gpa = GPA64, .size = K4 },
	{ "4L: PK: AD fetch fine", M_4L, .cr4 = CR4_PKE, .pkru = BIT(6), .set = { 0, 0, 0, PKEY(3) },
	  .access = WALK_FETCH | WALK_USER, .gpa = GPA64, .size = K4 },
	{ "4L: PK: other key's AD", M_4L, .cr4 = CR4_PKE, .pkru = (uint32_t)~BIT(6) & ~BIT(7),
	  .set = { 0, 0, 0, PKEY(3) }, .access = WALK_USER | WALK_WRITE, .gpa = GPA64, .size = K4 },
	{ "4L: PK: key from leaf only", M_4L, .cr4 = CR4_PKE, .pkru = BIT(6), .set = { 0, 0, PKEY(3) },
	  .access = WALK_USER, .gpa = GPA64, .size = K4 },
	{ "4L: PK: CR4.PKE=0 ignores keys", M_4L, .pkru = BIT(6), .set = { 0, 0, 0, PKEY(3) },
	  .access = WALK_USER, .gpa = GPA64, .size = K4 },
	{ "4L: PK: WD user read fine", M_4L, .cr4 = CR4_PKE, .pkru = BIT(7), .set = { 0, 0, 0, PKEY(3) },
	  .access = WALK_USER, .gpa = GPA64, .size = K4 },
	{ "4L: PK: WD user write", M_4L, .cr4 = CR4_PKE, .pkru = BIT(7), .set = { 0, 0, 0, PKEY(3) },
	  .access = WALK_USER | WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W | E_U | E_PK },
	{ "4L: PK: WD user write, WP=0 too", M_4L, .cr4 = CR4_PKE, .pkru = BIT(7), .set = { 0, 0, 0, PKEY(3) },
	  .cpl = 3, .access = WALK_USER | WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W | E_U | E_PK },
	{ "4L: PK: WD supervisor write, WP=1", M_4L, .cr4 = CR4_PKE, .cr0 = CR0_WP, .pkru = BIT(7),
	  .set = { 0, 0, 0, PKEY(3) }, .access = WALK_WRITE, .fault = WALK_PF, .err = E_P | E_W | E_PK },
	{ "4L: PK: WD supervisor write, WP=0", M_4L, .cr4 = CR4_PKE, .pkru = BIT(7),
	  .set = { 0, 0, 0, PKEY(3) }, .access = WALK_WRITE, .gpa = GPA64, .size = K4 },
	{ "4L: PK: WD and R/W=0 both", M_4L, .cr4 = CR4_PKE, .pkru = BIT(7), .set = { 0, 0, 0, PKEY(3) },
	  .clr = { 0, 0, 0, PTE_W }, .access = WALK_USER | WALK_WRITE, .fault = WALK_PF,
	  .err = E_P | E_W | E_U | E_PK },
	{ "4L: PK: key 15 on a 2M page", M_4L, .cr4 = CR4_PKE, .pkru = BIT(30),
	  .ent = { 0, 0, 0x12200000 | PTE_PS | PWU | PKEY(15) }, .access = WALK_USER, .fault = WALK_PF,
	  .err = E_P | E_U | E_PK },
	{ "4L: PK: key 0 default AD", M_4L, .cr4 = CR4_PKE, .pkru = BIT(0), .access = WALK_USER,
	  .fault = WALK_PF, .err = E_P | E_U | E_PK },

	/* 5-level paging (4.5). */
	{ "5L: 4K", M_5L, .gpa = GPA64, .size = K4 },
	{ "5L: 1G", M_5L, .ent = { 0, 0, 0x1c0000000ull | PTE_PS | PWU }, .gpa = 0x1c0604567ull, .size = G1 },
	{ "5L: 2M", M_5L, .ent = { 0, 0, 0, 0x12200000 | PTE_PS | PWU }, .gpa = 0x12204567, .size = M2 },
	{ "5L: PML5E not present", M_5L, .clr = { PTE_P }, .access = WALK_WRITE, .fault = WALK_PF, .err = E_W },
	{ "5L: PML4E not present", M_5L, .clr = { 0, PTE_P }, .fault = WALK_PF, .err = 0 },
	{ "5L: PS in PML5E reserved", M_5L, .set = { PTE_PS }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "5L: PS in PML4E reserved", M_5L, .set = { 0, PTE_PS }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "5L: PML5E above MAXPHYADDR", M_5L, .set = { BIT(47) }, .fault = WALK_PF, .err = E_P | E_RSVD },
	{ "5L: U/S=0 in PML5E", M_5L, .clr = { PTE_US }, .access = WALK_USER, .fault = WALK_PF,
	  .err = E_P | E_U },
	{ "5L: XD in PML5E, NXE", M_5L, .set = { XD }, .efer = NXE, .access = WALK_FETCH,
	  .fault = WALK_PF, .err = E_P | E_I },
	{ "5L: non-canonical bit 56", M_5L, .gva = 0x0100000000000000ull, .fault = WALK_GP },
	{ "5L: bit 47 canonical", M_5L, .gva = 0x0000800000000000ull, .fault = WALK_PF, .err = 0 },
	{ "5L: high half canonical", M_5L, .gva = 0xff00000000000000ull, .fault = WALK_PF, .err = 0 },
	{ "5L: PK: AD user read", M_5L, .cr4 = CR4_PKE, .pkru = BIT(2), .set = { 0, 0, 0, 0, PKEY(1) },
	  .access = WALK_USER, .fault = WALK_PF, .err = E_P | E_U | E_PK },
};

static void test_cases(void **state)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct wcase *c = &cases[i];
		struct walk_regs r;
		struct walk_result res;
		uint64_t gva;
		int rc;

		setup(c, &r, &gva);
		rc = walk_gva(&env, &r, gva, c->access, &res);
		if (res.fault != c->fault || res.pf_error != c->err || rc != (c->fault ? -14 : 0) ||
		    (!c->fault && (res.gpa != c->gpa || res.page_size != c->size))) {
			print_error("%s: fault %d err 0x%x gpa 0x%llx size 0x%llx rc %d; want %d 0x%x 0x%llx 0x%llx\n",
				    c->name, res.fault, res.pf_error, (unsigned long long)res.gpa,
				    (unsigned long long)res.page_size, rc, c->fault, c->err,
				    (unsigned long long)c->gpa, (unsigned long long)c->size);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Run case c, then compare each entry of its chain with want[] (top first). */
static void check_ad(const struct wcase *c, const uint64_t *want)
{
	struct walk_regs r;
	struct walk_result res;
	uint64_t gva;
	size_t n;
	const struct level *ch = chain_of(c->mode, &n);

	setup(c, &r, &gva);
	walk_gva(&env, &r, gva, c->access, &res);
	assert_int_equal(res.fault, c->fault);
	for (size_t i = 0; i < n; i++) {
		if (get(c->mode, ch[i].gpa) != want[i])
			print_error("%s: level %zu 0x%llx want 0x%llx\n", c->name, i,
				    (unsigned long long)get(c->mode, ch[i].gpa), (unsigned long long)want[i]);
		assert_int_equal(get(c->mode, ch[i].gpa), want[i]);
	}
}

#define A PTE_A
#define D PTE_D

/* 4.8: A on every entry used, D on the leaf for writes only. */
static void test_ad_4level(void **state)
{
	const struct wcase rd = { "read", M_4L, .access = WALK_USER };
	const struct wcase wr = { "write", M_4L, .access = WALK_WRITE };
	const struct wcase fe = { "fetch", M_4L, .access = WALK_FETCH };
	const uint64_t r_want[] = { 0x2000 | PWU | A, 0x3000 | PWU | A, 0x4000 | PWU | A, 0xabcd000 | PWU | A };
	const uint64_t w_want[] = { 0x2000 | PWU | A, 0x3000 | PWU | A, 0x4000 | PWU | A,
				    0xabcd000 | PWU | A | D };

	check_ad(&rd, r_want);
	check_ad(&wr, w_want);
	check_ad(&fe, r_want);
}

static void test_ad_large(void **state)
{
	const struct wcase m2 = { "2M write", M_4L, .ent = { 0, 0, 0x12200000 | PTE_PS | PWU },
				  .access = WALK_WRITE };
	const uint64_t m2_want[] = { 0x2000 | PWU | A, 0x3000 | PWU | A, 0x12200000 | PTE_PS | PWU | A | D,
				     0xabcd000 | PWU };
	const struct wcase g1 = { "1G read, other bits kept", M_5L,
				  .ent = { 0, 0, 0x1c0000000ull | PTE_PS | PWU | PTE_G | BIT(9) | BIT(58) } };
	const uint64_t g1_want[] = { 0x1000 | PWU | A, 0x2000 | PWU | A,
				     0x1c0000000ull | PTE_PS | PWU | PTE_G | BIT(9) | BIT(58) | A,
				     0x4000 | PWU, 0xabcd000 | PWU };

	check_ad(&m2, m2_want);
	check_ad(&g1, g1_want);
}

static void test_ad_already_set(void **state)
{
	const struct wcase c = { "write, A/D set", M_4L, .set = { A | D, A, A, A | D }, .access = WALK_WRITE };
	const uint64_t want[] = { 0x2000 | PWU | A | D, 0x3000 | PWU | A, 0x4000 | PWU | A,
				  0xabcd000 | PWU | A | D };

	const struct wcase d = { "write, only A set", M_4L, .set = { 0, 0, 0, A }, .access = WALK_WRITE };
	const uint64_t d_want[] = { 0x2000 | PWU | A, 0x3000 | PWU | A, 0x4000 | PWU | A,
				    0xabcd000 | PWU | A | D };

	check_ad(&c, want);
	check_ad(&d, d_want);
}

/* A fault changes nothing in guest memory. */
static void test_ad_not_on_fault(void **state)
{
	const struct wcase faults[] = {
		{ "protection", M_4L, .clr = { 0, 0, 0, PTE_W }, .cr0 = CR0_WP, .access = WALK_WRITE,
		  .fault = WALK_PF },
		{ "not present", M_4L, .clr = { 0, 0, 0, PTE_P }, .fault = WALK_PF },
		{ "reserved", M_4L, .set = { 0, 0, 0, BIT(50) }, .access = WALK_WRITE, .fault = WALK_PF },
		{ "PK", M_4L, .cr4 = CR4_PKE, .pkru = BIT(0), .access = WALK_USER, .fault = WALK_PF },
		{ "SMEP", M_5L, .cr4 = CR4_SMEP, .access = WALK_FETCH, .fault = WALK_PF },
		{ "32-bit", M_32, .clr = { 0, PTE_US }, .access = WALK_USER, .fault = WALK_PF },
		{ "PAE", M_PAE, .set = { 0, 0, XD }, .access = WALK_WRITE, .fault = WALK_PF },
	};

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		static uint8_t before[RAM_SIZE];
		struct walk_regs r;
		struct walk_result res;
		uint64_t gva;

		setup(&faults[i], &r, &gva);
		memcpy(before, ram, sizeof(ram));
		assert_int_equal(walk_gva(&env, &r, gva, faults[i].access, &res), -14);
		assert_int_equal(res.fault, WALK_PF);
		assert_memory_equal(before, ram, sizeof(ram));
	}
}

/* 32-bit paging has 4-byte entries: the update must not spill into the next one. */
static void test_ad_32bit(void **state)
{
	const struct wcase c = { "32 write", M_32, .access = WALK_WRITE };
	const uint64_t want[] = { 0x8000 | PWU | A, 0xabc000 | PWU | A | D };
	const struct wcase m4 = { "4M write", M_32, .ent = { 0x12c00000 | PTE_PS | PWU }, .cr4 = CR4_PSE,
				  .access = WALK_WRITE };
	const uint64_t m4_want[] = { 0x12c00000 | PTE_PS | PWU | A | D, 0xabc000 | PWU };

	check_ad(&c, want);
	assert_int_equal(get(M_32, 0x7018), 0);
	assert_int_equal(get(M_32, 0x801c), 0);
	check_ad(&m4, m4_want);
}

/* A 4-byte PTE in the last 4 bytes of RAM: the walk reads and updates 4 bytes only (ASan checks). */
static void test_32bit_last_entry(void **state)
{
	const struct wcase c = { "32", M_32, .ent = { 0xf000 | PWU } };
	struct walk_regs r;
	struct walk_result res;
	uint64_t gva;
	uint32_t pte = 0x1234000 | PWU, got;

	setup(&c, &r, &gva);
	memcpy(ram + RAM_SIZE - 4, &pte, 4);
	assert_int_equal(walk_gva(&env, &r, 0x017ffabc, WALK_WRITE, &res), 0);
	assert_int_equal(res.gpa, 0x1234abc);
	memcpy(&got, ram + RAM_SIZE - 4, 4);
	assert_int_equal(got, pte | PTE_A | PTE_D);
}

/* PAE PDPTEs have no Accessed flag (table 4-8): the one in memory stays as it is. */
static void test_ad_pae(void **state)
{
	const struct wcase c = { "PAE write", M_PAE, .access = WALK_WRITE };
	const uint64_t want[] = { 0x3000 | PTE_P, 0x4000 | PWU | A, 0xabcd000 | PWU | A | D };
	const struct wcase l = { "PAE loaded", M_PAE, .loaded = true };
	const uint64_t l_want[] = { 0, 0x4000 | PWU | A, 0xabcd000 | PWU | A };

	check_ad(&c, want);
	check_ad(&l, l_want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_ad_4level),
		cmocka_unit_test(test_ad_large),
		cmocka_unit_test(test_ad_already_set),
		cmocka_unit_test(test_ad_not_on_fault),
		cmocka_unit_test(test_ad_32bit),
		cmocka_unit_test(test_ad_pae),
		cmocka_unit_test(test_32bit_last_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
