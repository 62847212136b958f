/* SPDX-License-Identifier: MIT */
/* CR0/CR4/CR8 virtualization and control-register access exits (SDM vol. 3C 25.6.6, table 28-3). */
#include "vmm/cr.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/apic.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "arch/vmx_ctls.h"
#include "arch/paging.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define CR_QUAL_NUM(q)   ((q) & 0xfu)
#define CR_QUAL_TYPE(q)  (((q) >> 4) & 3u)
#define CR_QUAL_GPR(q)   (((q) >> 8) & 0xfu)
#define CR_QUAL_LMSW(q)  (((q) >> 16) & 0xffffu)
#define CR_TYPE_MOV_TO   0u
#define CR_TYPE_MOV_FROM 1u
#define CR_TYPE_CLTS     2u
#define CR_TYPE_LMSW     3u
#define SEG_AR_L         BIT(13) /* 64-bit code segment (25.4.1) */
#define CR3_PCID_MASK    0xfffull
#define CR3_PAE_PDPT     0xffffffe0ull /* PAE: CR3 bits 31:5 locate the PDPT (SDM vol. 3A table 4-7) */
/* PDPTE bits 2:1 and 8:5 are reserved (SDM vol. 3A table 4-8); so are 63:MAXPHYADDR. */
#define PDPTE_RSVD_LOW   0x1e6ull

/*
 * CR4 bits the guest owns: every value is valid on any x86-64 CPU and the
 * CPU's own checks are the architectural ones, so writing them does not
 * exit. Every other bit is Tern's: a MOV to CR4 that changes one exits and
 * is checked in cr4_write.
 */
#define CR4_GUEST_OWNED  (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | \
			  CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT)
/* Changing these flushes the guest's TLB entries (SDM vol. 3A 4.10.4.1). */
#define CR0_TLB_BITS     (CR0_PG | CR0_WP | CR0_CD)
#define CR4_TLB_BITS     (CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE | \
			  CR4_LA57)

enum cpuid_reg { REG_EBX, REG_ECX, REG_EDX };

/*
 * CR4 features beyond the baseline, each with its CPUID bit (SDM vol. 2A
 * CPUID, leaf 1 and leaf 7 sub-leaf 0). An offered one may be set where the
 * CPU reports it; the others are refused with #GP and their leaf-7 bits
 * hidden. VMXE and SMXE are always refused (CPUID.1 hides VMX and SMX).
 */
static const struct cr4_feature {
	uint64_t cr4;
	uint32_t leaf;
	enum cpuid_reg reg;
	uint32_t bit;
	bool offered;
} cr4_features[] = {
	{ CR4_UMIP, CPUID_LEAF_EXT_FEATURES7, REG_ECX, CPUID_7_ECX_UMIP, true },
	{ CR4_LA57, CPUID_LEAF_EXT_FEATURES7, REG_ECX, CPUID_7_ECX_LA57, true },
	{ CR4_FSGSBASE, CPUID_LEAF_EXT_FEATURES7, REG_EBX, CPUID_7_EBX_FSGSBASE, true },
	{ CR4_PCIDE, CPUID_LEAF_FEATURES, REG_ECX, CPUID_1_ECX_PCID, true },
	{ CR4_OSXSAVE, CPUID_LEAF_FEATURES, REG_ECX, CPUID_1_ECX_XSAVE, true },
	{ CR4_SMEP, CPUID_LEAF_EXT_FEATURES7, REG_EBX, CPUID_7_EBX_SMEP, true },
	{ CR4_SMAP, CPUID_LEAF_EXT_FEATURES7, REG_EBX, CPUID_7_EBX_SMAP, true },
	{ CR4_PKE, CPUID_LEAF_EXT_FEATURES7, REG_ECX, CPUID_7_ECX_PKU, true },
	/* Not virtualized: Key Locker, CET (MSRs and supervisor XSAVE state), PKS, user interrupts. */
	{ CR4_KL, CPUID_LEAF_EXT_FEATURES7, REG_ECX, CPUID_7_ECX_KL, false },
	{ CR4_CET, CPUID_LEAF_EXT_FEATURES7, REG_ECX, CPUID_7_ECX_CET_SS, false },
	{ CR4_CET, CPUID_LEAF_EXT_FEATURES7, REG_EDX, CPUID_7_EDX_CET_IBT, false },
	{ CR4_PKS, CPUID_LEAF_EXT_FEATURES7, REG_ECX, CPUID_7_ECX_PKS, false },
	{ CR4_UINTR, CPUID_LEAF_EXT_FEATURES7, REG_EDX, CPUID_7_EDX_UINTR, false },
};

static uint32_t *cpuid_reg(struct cpuid_regs *r, enum cpuid_reg reg)
{
	return reg == REG_EBX ? &r->ebx : reg == REG_ECX ? &r->ecx : &r->edx;
}

/* The CR4 bits a guest may set on this machine (the same on every CPU). */
static uint64_t cr4_allowed(void)
{
	static uint64_t allowed; /* computed once; racing CPUs compute the same */
	struct cpuid_regs l1, l7 = { 0, 0, 0, 0 };
	uint64_t ok = CR4_GUEST_OWNED | CR4_PAE;

	if (allowed)
		return allowed;
	l1 = cpuid(CPUID_LEAF_FEATURES, 0);
	if (cpuid(CPUID_LEAF_VENDOR, 0).eax >= CPUID_LEAF_EXT_FEATURES7)
		l7 = cpuid(CPUID_LEAF_EXT_FEATURES7, 0);
	for (unsigned int i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
		const struct cr4_feature *f = &cr4_features[i];

		if (f->offered && (*cpuid_reg(f->leaf == CPUID_LEAF_FEATURES ? &l1 : &l7, f->reg) & f->bit))
			ok |= f->cr4;
	}
	allowed = ok & vmx_config.cr4_fixed1 & ~(CR4_VMXE | CR4_SMXE);
	return allowed;
}

static uint64_t cr0_fixed0(void)
{
	uint64_t f = vmx_config.cr0_fixed0;

	/* Unrestricted guests may run with paging or protection off (26.3.1.1). */
	if (vmx_config.unrestricted)
		f &= ~(CR0_PE | CR0_PG);
	return f;
}

/*
 * CD and NW are Tern's: a VM exit leaves them as the guest had them (SDM
 * vol. 3C 28.5.1), so a guest's CD (Linux sets it around every MTRR update)
 * would run the host uncached. The guest reads and writes its own values
 * through the shadow; the hardware keeps caching on (Jailhouse does the same).
 */
#define CR0_CACHE_BITS (CR0_CD | CR0_NW)

uint64_t guest_cr0_host_mask(void)
{
	return (cr0_fixed0() | ~vmx_config.cr0_fixed1 | CR0_CACHE_BITS) & 0xffffffffull;
}

uint64_t guest_cr4_host_mask(void)
{
	return vmx_config.cr4_fixed0 | ~vmx_config.cr4_fixed1 | ~CR4_GUEST_OWNED;
}

uint64_t guest_cr0_hw(uint64_t v)
{
	return vmx_cr_fixed(v & ~CR0_CACHE_BITS, cr0_fixed0(), vmx_config.cr0_fixed1);
}

uint64_t guest_cr4_hw(uint64_t v)
{
	return vmx_cr_fixed(v, vmx_config.cr4_fixed0, vmx_config.cr4_fixed1);
}

/* What a MOV from CR0/CR4 would give the guest: its own bits, and the shadow for Tern's (25.6.6). */
uint64_t guest_cr0_read(void)
{
	uint64_t m = guest_cr0_host_mask();

	return (vmcs_read(VMCS_GUEST_CR0) & ~m) | (vmcs_read(VMCS_CR0_READ_SHADOW) & m);
}

uint64_t guest_cr4_read(void)
{
	uint64_t m = guest_cr4_host_mask();

	return (vmcs_read(VMCS_GUEST_CR4) & ~m) | (vmcs_read(VMCS_CR4_READ_SHADOW) & m);
}

void cr_cpuid_leaf7(uint32_t sub, struct cpuid_regs *r)
{
	uint64_t ok = cr4_allowed();

	if (sub != 0)
		return;
	for (unsigned int i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
		const struct cr4_feature *f = &cr4_features[i];

		if (f->leaf == CPUID_LEAF_EXT_FEATURES7 && !(ok & f->cr4))
			*cpuid_reg(r, f->reg) &= ~f->bit;
	}
	/* OSPKE mirrors CR4.PKE: the guest's, not Tern's own. */
	r->ecx &= ~(uint32_t)CPUID_7_ECX_OSPKE;
	if (guest_cr4_read() & CR4_PKE)
		r->ecx |= (uint32_t)CPUID_7_ECX_OSPKE;
}

static enum exit_action inject_gp(void)
{
	vcpu_inject_exception(VEC_GP, true, 0);
	return EXIT_RESUME;
}

/* The guest's cached translations may no longer hold after an emulated change (4.10.4.1). */
static void flush_guest_tlb(const struct vcpu *v, uint64_t changed)
{
	if (changed && v->vpid)
		vmx_invvpid_single(v->vpid);
}

/* Entering or leaving IA-32e mode follows CR0.PG with EFER.LME set (SDM 10.8.5). */
static void update_long_mode(uint64_t cr0)
{
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	uint64_t entry = vmcs_read(VMCS_VM_ENTRY_CONTROLS);

	if ((cr0 & CR0_PG) && (efer & IA32_EFER_LME)) {
		efer |= IA32_EFER_LMA;
		entry |= VM_ENTRY_IA32E_MODE_GUEST;
	} else {
		efer &= ~IA32_EFER_LMA;
		entry &= ~(uint64_t)VM_ENTRY_IA32E_MODE_GUEST;
	}
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry);
}

/* PAE paging: CR0.PG = 1, CR4.PAE = 1, IA32_EFER.LME = 0 (SDM vol. 3A 4.1.1). */
static bool pae_paging(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & IA32_EFER_LME);
}

static uint64_t pdpte_rsvd(void)
{
	static unsigned int m;

	if (!m)
		m = cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax & 0xffu;
	return PDPTE_RSVD_LOW | (m < 64 ? ~0ull << m : 0);
}

/* The four PDPTEs at cr3; all-ones, as a read there gives, where the table is not guest RAM. */
static void fetch_pdptes(struct vm *vm, uint64_t cr3, uint64_t pdpte[4])
{
	const void *p = vm_guest_ptr(vm, cr3 & CR3_PAE_PDPT, 4 * sizeof(uint64_t));

	if (p)
		memcpy(pdpte, p, 4 * sizeof(uint64_t));
	else
		memset(pdpte, 0xff, 4 * sizeof(uint64_t));
}

/* A present PDPTE with a reserved bit set makes MOV to CR raise #GP and load nothing (4.4.1). */
static bool pdptes_valid(const uint64_t pdpte[4])
{
	for (unsigned int i = 0; i < 4; i++)
		if ((pdpte[i] & PTE_P) && (pdpte[i] & pdpte_rsvd()))
			return false;
	return true;
}

/* With EPT, VM entry takes PAE paging's PDPTEs from the guest-state area (SDM vol. 3C 27.3.2.4). */
static void write_pdptes(const uint64_t pdpte[4])
{
	vmcs_write(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmcs_write(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmcs_write(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmcs_write(VMCS_GUEST_PDPTE3, pdpte[3]);
}

/*
 * An emulated MOV to CR0/CR4 loads the PDPTEs where the CPU would (4.4.1):
 * PAE paging in use after it, and CR0.CD, NW, PG, CR4.PAE, PGE, PSE or SMEP
 * changed. Checked before the write is made, as a #GP leaves CR0/CR4 as
 * they were. The VMCS fields hold them until VM exit saves the CPU's own.
 */
static int load_pdptes_for(struct vm *vm, uint64_t cr0, uint64_t cr4, bool changed)
{
	uint64_t pdpte[4];

	if (!changed || !pae_paging(cr0, cr4, vmcs_read(VMCS_GUEST_IA32_EFER)))
		return 0;
	fetch_pdptes(vm, vmcs_read(VMCS_GUEST_CR3), pdpte);
	if (!pdptes_valid(pdpte))
		return -EINVAL;
	write_pdptes(pdpte);
	return 0;
}

void cr_sync_pdptes(struct vcpu *v)
{
	uint64_t pdpte[4];

	if (!pae_paging(vmcs_read(VMCS_GUEST_CR0), vmcs_read(VMCS_GUEST_CR4),
			vmcs_read(VMCS_GUEST_IA32_EFER)))
		return;
	/* Loaded even if invalid: VM entry then fails its PDPTE check (vol. 3C 27.3.1.6), as on hardware. */
	fetch_pdptes(v->vm, vmcs_read(VMCS_GUEST_CR3), pdpte);
	write_pdptes(pdpte);
}

static enum exit_action cr0_write(struct vcpu *v, uint64_t val)
{
	uint64_t old = guest_cr0_read(), cr4 = guest_cr4_read();
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	bool code64 = (efer & IA32_EFER_LMA) && (vmcs_read(VMCS_GUEST_CS_AR_BYTES) & SEG_AR_L);

	/*
	 * MOV to CR0 faults (SDM vol. 2B MOV CR; vol. 3A 10.8.5, 4.10.1) on
	 * reserved bits, PG without PE, NW without CD, paging on with EFER.LME
	 * but no CR4.PAE, and paging off in 64-bit code or with CR4.PCIDE.
	 */
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)) ||
	    ((val & CR0_PG) && (efer & IA32_EFER_LME) && !(cr4 & CR4_PAE)) ||
	    (!(val & CR0_PG) && (code64 || (cr4 & CR4_PCIDE))))
		return inject_gp();
	if (load_pdptes_for(v->vm, guest_cr0_hw(val), guest_cr4_read(),
			    (old ^ val) & (CR0_CD | CR0_NW | CR0_PG)))
		return inject_gp();
	vmcs_write(VMCS_CR0_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR0, guest_cr0_hw(val));
	update_long_mode(val);
	flush_guest_tlb(v, (old ^ val) & CR0_TLB_BITS);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_action cr4_write(struct vcpu *v, uint64_t val)
{
	uint64_t old = guest_cr4_read();
	bool lma = vmcs_read(VMCS_GUEST_IA32_EFER) & IA32_EFER_LMA;

	/*
	 * MOV to CR4 faults (SDM vol. 2B MOV CR; vol. 3A 2.5, 4.10.1) on bits
	 * reserved or not offered here, on clearing PAE or changing LA57 in
	 * IA-32e mode, and on setting PCIDE outside IA-32e mode or while
	 * CR3[11:0] is not 0.
	 */
	if ((val & ~cr4_allowed()) || (lma && (!(val & CR4_PAE) || ((val ^ old) & CR4_LA57))) ||
	    ((val & ~old & CR4_PCIDE) && (!lma || (vmcs_read(VMCS_GUEST_CR3) & CR3_PCID_MASK))))
		return inject_gp();
	if (load_pdptes_for(v->vm, vmcs_read(VMCS_GUEST_CR0), val,
			    (old ^ val) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)))
		return inject_gp();
	vmcs_write(VMCS_CR4_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR4, guest_cr4_hw(val));
	flush_guest_tlb(v, (old ^ val) & CR4_TLB_BITS);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

/*
 * CR8 is TPR[7:4] (SDM vol. 3A 11.8.6). These exits come only on CPUs
 * without the TPR shadow (arch/vmx.c): the value goes to the vCPU's own
 * virtual APIC, never to the physical one.
 */
static enum exit_action cr8_write(struct vcpu *v, uint64_t val)
{
	if (val >> 4)
		return inject_gp(); /* bits 63:4 are reserved */
	vlapic_write(v, APIC_TPR, (val & 0xfu) << 4);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_action cr8_read(struct vcpu *v, unsigned int gpr)
{
	uint64_t tpr = 0;

	vlapic_read(v, APIC_TPR, &tpr);
	vcpu_set_gpr(v, gpr, (tpr >> 4) & 0xfu);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}

enum exit_action handle_cr_access(struct vcpu *v, const struct exit_info *e)
{
	unsigned int cr = CR_QUAL_NUM(e->qual), type = CR_QUAL_TYPE(e->qual), gpr = CR_QUAL_GPR(e->qual);
	uint64_t cr0;

	switch (type) {
	case CR_TYPE_MOV_TO:
		if (cr == 0)
			return cr0_write(v, vcpu_gpr(v, gpr));
		if (cr == 4)
			return cr4_write(v, vcpu_gpr(v, gpr));
		if (cr == 8)
			return cr8_write(v, vcpu_gpr(v, gpr));
		break;
	case CR_TYPE_MOV_FROM:
		if (cr == 8)
			return cr8_read(v, gpr);
		break;
	case CR_TYPE_CLTS:
		return cr0_write(v, guest_cr0_read() & ~CR0_TS);
	case CR_TYPE_LMSW:
		/* LMSW sets PE but can never clear it. */
		cr0 = guest_cr0_read();
		return cr0_write(v, (cr0 & ~0xeull) | (CR_QUAL_LMSW(e->qual) & 0xfu) | (cr0 & CR0_PE));
	default:
		break;
	}
	vm_stop(v->vm, "unexpected control-register access (CR%u, type %u) at RIP 0x%lx", cr, type,
		vmcs_read(VMCS_GUEST_RIP));
	return EXIT_STOP;
}
