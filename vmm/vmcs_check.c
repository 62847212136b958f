/* SPDX-License-Identifier: MIT */
/* Software replay of the VM-entry guest-state checks (see vmcs_check.h). */
#include "vmm/vmcs_check.h"
#include "kernel/fmt.h"

#define CR0_PE        (1ull << 0)
#define CR0_PG        (1ull << 31)
#define CR4_PAE       (1ull << 5)
#define EFER_LME      (1ull << 8)
#define EFER_LMA      (1ull << 10)
#define ENTRY_IA32E   (1u << 9)
#define RFLAGS_FIXED1 (1ull << 1)
#define RFLAGS_RSVD   (~0x3fffffull | (1ull << 15) | (1ull << 5) | (1ull << 3))
#define AR_TYPE(a)    ((a) & 0xfu)
#define AR_S          (1u << 4)
#define AR_P          (1u << 7)
#define AR_L          (1u << 13)
#define AR_DB         (1u << 14)
#define AR_UNUSABLE   (1u << 16)
#define ACTIVITY_MAX  3u

static bool fail(char *buf, size_t size, const char *fmt, uint64_t a, uint64_t b)
{
	fmt_snprintf(buf, size, fmt, (unsigned long)a, (unsigned long)b);
	return true;
}

static bool check_cr(const struct guest_state *g, char *buf, size_t size)
{
	uint64_t f0 = g->cr0_fixed0;

	if (g->unrestricted)
		f0 &= ~(CR0_PE | CR0_PG);
	if ((g->cr0 & f0) != f0 || (g->cr0 & ~g->cr0_fixed1))
		return fail(buf, size, "CR0 0x%lx violates IA32_VMX_CR0_FIXED0/FIXED1 (must-be-one 0x%lx)",
			    g->cr0, f0);
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE))
		return fail(buf, size, "CR0 0x%lx has PG set without PE%.0lx", g->cr0, 0);
	if ((g->cr4 & g->cr4_fixed0) != g->cr4_fixed0 || (g->cr4 & ~g->cr4_fixed1))
		return fail(buf, size, "CR4 0x%lx violates IA32_VMX_CR4_FIXED0/FIXED1 (must-be-one 0x%lx)",
			    g->cr4, g->cr4_fixed0);
	return false;
}

static bool check_mode(const struct guest_state *g, char *buf, size_t size)
{
	bool ia32e = g->entry_ctls & ENTRY_IA32E;

	if (ia32e && !((g->cr0 & CR0_PG) && (g->cr4 & CR4_PAE)))
		return fail(buf, size, "IA-32e mode guest needs CR0.PG and CR4.PAE (CR0 0x%lx, CR4 0x%lx)",
			    g->cr0, g->cr4);
	if (!!(g->efer & EFER_LMA) != ia32e)
		return fail(buf, size, "EFER.LMA (EFER 0x%lx) differs from the IA-32e mode guest entry control (%lu)",
			    g->efer, ia32e);
	if ((g->cr0 & CR0_PG) && !!(g->efer & EFER_LMA) != !!(g->efer & EFER_LME))
		return fail(buf, size, "with CR0.PG set, EFER.LME and EFER.LMA must agree (EFER 0x%lx)%.0lx",
			    g->efer, 0);
	if (ia32e && (g->cs_ar & AR_L) && (g->cs_ar & AR_DB))
		return fail(buf, size, "CS access rights 0x%lx: L and D/B both set in IA-32e mode%.0lx",
			    g->cs_ar, 0);
	return false;
}

static bool check_segments(const struct guest_state *g, char *buf, size_t size)
{
	bool ia32e = g->entry_ctls & ENTRY_IA32E;
	uint32_t tr = AR_TYPE(g->tr_ar);

	if (g->cs_ar & AR_UNUSABLE)
		return fail(buf, size, "CS is marked unusable (access rights 0x%lx)%.0lx", g->cs_ar, 0);
	if ((g->tr_ar & AR_UNUSABLE) || (g->tr_ar & AR_S) || !(g->tr_ar & AR_P) ||
	    !(tr == 11 || (!ia32e && tr == 3)))
		return fail(buf, size, "TR access rights 0x%lx: must be a present, usable busy TSS%.0lx",
			    g->tr_ar, 0);
	if (!(g->ldtr_ar & AR_UNUSABLE) &&
	    (AR_TYPE(g->ldtr_ar) != 2 || (g->ldtr_ar & AR_S) || !(g->ldtr_ar & AR_P)))
		return fail(buf, size, "LDTR access rights 0x%lx: a usable LDTR must be a present LDT%.0lx",
			    g->ldtr_ar, 0);
	return false;
}

bool guest_state_check(const struct guest_state *g, char *buf, size_t size)
{
	if (check_cr(g, buf, size) || check_mode(g, buf, size) || check_segments(g, buf, size))
		return true;
	if (!(g->rflags & RFLAGS_FIXED1) || (g->rflags & RFLAGS_RSVD))
		return fail(buf, size, "RFLAGS 0x%lx: bit 1 must be 1 and reserved bits 0%.0lx", g->rflags, 0);
	if (g->activity > ACTIVITY_MAX)
		return fail(buf, size, "activity state %lu is not defined%.0lx", g->activity, 0);
	if (g->link_pointer != ~0ull)
		return fail(buf, size, "VMCS link pointer 0x%lx is not all ones (no shadow VMCS is used)%.0lx",
			    g->link_pointer, 0);
	return false;
}
