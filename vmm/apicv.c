/* SPDX-License-Identifier: MIT */
/*
 * xAPIC MMIO for guests, on CPUs with APIC-register virtualization (SDM
 * vol. 3C 30.4-30.5): reads of most registers come straight from the
 * virtual-APIC page (the vlapic's own register page), writes land there and
 * trap as APIC-write exits. The few accesses left (the timer's current count)
 * arrive as APIC-access exits and are emulated by decoding the MOV.
 */
#include "vmm/apicv.h"
#include "vmm/decode.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/paging.h"
#include "arch/vmx.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/string.h"

#define APIC_ACCESS_GPA        0xfee00000ull
#define APIC_ACCESS_OFFSET(q)  ((q) & 0xfffu)
#define APIC_ACCESS_TYPE(q)    (((q) >> 12) & 0xfu)
#define APIC_ACCESS_LINEAR_READ  0u
#define APIC_ACCESS_LINEAR_WRITE 1u

static uint64_t access_page;

int apicv_init(void)
{
	if (!vmx_config.apicv)
		return 0;
	access_page = page_alloc(1, PMM_OWNER_VMM);
	return access_page ? 0 : -ENOMEM;
}

int apicv_map(struct vm *vm)
{
	if (!vmx_config.apicv)
		return 0;
	return ept_map(&vm->ept, APIC_ACCESS_GPA, access_page, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_UC);
}

/* The TPR shadow (CR8) comes with or without the rest (arch/vmx.c, vmx_config_init). */
void apicv_setup_vmcs(struct vcpu *v)
{
	if (vmx_config.tpr_shadow) {
		vmcs_write(VMCS_VIRTUAL_APIC_PAGE_ADDR, v->lapic.regs_phys);
		vmcs_write(VMCS_TPR_THRESHOLD, 0);
		v->tpr_threshold = 0;
	}
	if (vmx_config.apicv)
		vmcs_write(VMCS_APIC_ACCESS_ADDR, access_page);
}

enum exit_action handle_apic_write(struct vcpu *v, const struct exit_info *e)
{
	uint32_t off = APIC_ACCESS_OFFSET(e->qual) & ~0xfu;

	/* Trap-like: the value is already in the virtual-APIC page, RIP is past the write. */
	if (vlapic_x2apic(v) || vlapic_write(v, off, v->lapic.regs[off / 4])) {
		vm_stop(v->vm, "xAPIC write to offset 0x%x is not valid", off);
		return EXIT_STOP;
	}
	return EXIT_RESUME;
}

/* Guest linear to guest physical: paging off, or 4- or 5-level long-mode paging. */
static int gva_to_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	uint64_t cr0 = vmcs_read(VMCS_GUEST_CR0), table = vmcs_read(VMCS_GUEST_CR3) & PTE_ADDR;
	int top = vmcs_read(VMCS_GUEST_CR4) & CR4_LA57 ? 4 : 3;

	if (!(cr0 & CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	if (!(vmcs_read(VMCS_GUEST_IA32_EFER) & IA32_EFER_LMA))
		return -ENOTSUP;
	for (int level = top; level >= 0; level--) {
		uint64_t *e = vm_guest_ptr(v->vm, table + ((gva >> (12 + 9 * level)) & 511) * 8, 8);

		if (!e || !(*e & PTE_P))
			return -EFAULT;
		if (level == 0 || ((level == 1 || level == 2) && (*e & PTE_PS))) {
			uint64_t size = 1ull << (12 + 9 * level);

			*gpa = (*e & PTE_ADDR & ~(size - 1)) | (gva & (size - 1));
			return 0;
		}
		table = *e & PTE_ADDR;
	}
	return -EFAULT;
}

static int fetch(struct vcpu *v, uint8_t *buf, size_t len)
{
	uint64_t rip = vmcs_read(VMCS_GUEST_CS_BASE) + vmcs_read(VMCS_GUEST_RIP), gpa;

	for (size_t i = 0; i < len; i++) {
		uint8_t *b;

		if (gva_to_gpa(v, rip + i, &gpa) || !(b = vm_guest_ptr(v->vm, gpa, 1)))
			return (int)i;
		buf[i] = *b;
	}
	return (int)len;
}

/* Emulate one MOV to or from xAPIC register offset off (write: the guest stores). */
static enum exit_action emulate_mmio(struct vcpu *v, uint32_t off, bool write)
{
	uint8_t insn[INSN_MAX_LEN];
	struct mov_insn m;
	uint64_t val;
	int n = fetch(v, insn, sizeof(insn));

	if ((off & 3) || decode_mov(insn, (size_t)n, &m) || m.write != write) {
		vm_stop(v->vm, "xAPIC access at offset 0x%x by an instruction Tern does not emulate, RIP 0x%lx",
			off, vmcs_read(VMCS_GUEST_RIP));
		return EXIT_STOP;
	}
	if (m.write) {
		val = m.has_imm ? m.imm : vcpu_gpr(v, m.reg);
		if (vlapic_write(v, off & ~0xfu, (uint32_t)val))
			goto bad;
	} else {
		if (vlapic_read(v, off & ~0xfu, &val))
			goto bad;
		vcpu_set_gpr(v, m.reg, (uint32_t)val); /* 32-bit loads zero-extend */
	}
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + m.len);
	return EXIT_RESUME;
bad:
	vm_stop(v->vm, "xAPIC %s of offset 0x%x is not valid", m.write ? "write" : "read", off);
	return EXIT_STOP;
}

enum exit_action handle_apic_access(struct vcpu *v, const struct exit_info *e)
{
	uint32_t type = APIC_ACCESS_TYPE(e->qual);

	if (type != APIC_ACCESS_LINEAR_READ && type != APIC_ACCESS_LINEAR_WRITE) {
		vm_stop(v->vm, "xAPIC access of type %u at offset 0x%x is not supported", type,
			(uint32_t)APIC_ACCESS_OFFSET(e->qual));
		return EXIT_STOP;
	}
	return emulate_mmio(v, APIC_ACCESS_OFFSET(e->qual), type == APIC_ACCESS_LINEAR_WRITE);
}

/*
 * Without APIC-register virtualization the APIC page is left out of EPT:
 * every xAPIC access is an EPT violation, emulated here the same way.
 */
enum exit_action apicv_ept_violation(struct vcpu *v, uint64_t gpa, bool write)
{
	if (vlapic_x2apic(v)) {
		vm_stop(v->vm, "xAPIC MMIO access at GPA 0x%lx while the local APIC is in x2APIC mode", gpa);
		return EXIT_STOP;
	}
	return emulate_mmio(v, (uint32_t)(gpa & 0xfffu), write);
}
