/* SPDX-License-Identifier: MIT */
/*
 * xAPIC MMIO for guests, on CPUs with APIC-register virtualization (SDM
 * vol. 3C 30.4-30.5): reads of most registers come straight from the
 * virtual-APIC page (the vlapic's own register page), writes land there and
 * trap as APIC-write exits. The few accesses left (the timer's current count)
 * arrive as APIC-access exits and go through the instruction emulator.
 */
#include "vmm/apicv.h"
#include "vmm/emulate.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/paging.h"
#include "arch/vmx.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/string.h"

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
	return ept_map(&vm->ept, APIC_PAGE_GPA, access_page, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_UC);
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

enum exit_action handle_apic_access(struct vcpu *v, const struct exit_info *e)
{
	uint32_t type = APIC_ACCESS_TYPE(e->qual);

	if (type != APIC_ACCESS_LINEAR_READ && type != APIC_ACCESS_LINEAR_WRITE) {
		vm_stop(v->vm, "xAPIC access of type %u at offset 0x%x is not supported", type,
			(uint32_t)APIC_ACCESS_OFFSET(e->qual));
		return EXIT_STOP;
	}
	return emul_mmio(v, APIC_PAGE_GPA + APIC_ACCESS_OFFSET(e->qual),
			 type == APIC_ACCESS_LINEAR_WRITE);
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
	return emul_mmio(v, gpa, write);
}
