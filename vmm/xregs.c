/* SPDX-License-Identifier: MIT */
/* Guest registers VMX does not switch, kept per vCPU (see xregs.h). */
#include "vmm/xregs.h"
#include "vmm/exit.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "arch/x86.h"
#include "arch/xstate.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "arch/pcpu.h"

#define DR6_INIT 0xffff0ff0ull /* after RESET/INIT (SDM vol. 3B 18.2.3) */

int vcpu_xregs_init(struct vcpu *v)
{
	struct vcpu_xregs *x = &v->xregs;

	x->area_pages = (xstate_config.size + PAGE_SIZE - 1) / PAGE_SIZE;
	x->area_phys = page_alloc(x->area_pages, PMM_OWNER_VMM);
	if (!x->area_phys)
		return -ENOMEM;
	x->area = phys_to_virt(x->area_phys);
	xstate_area_init(x->area);
	x->xcr0 = XFEATURE_X87;
	x->dr6 = DR6_INIT;
	x->tsc_aux = 0;
	return 0;
}

void vcpu_xregs_free(struct vcpu *v)
{
	/* Normally released when it left its CPU; never leave a CPU pointing at freed memory. */
	for (uint32_t i = 0; i < nr_pcpus; i++) {
		struct vcpu *expect = v;

		if (pcpus[i])
			__atomic_compare_exchange_n(&pcpus[i]->xregs_owner, &expect, NULL, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	if (v->xregs.area_phys)
		page_free(v->xregs.area_phys, v->xregs.area_pages, PMM_OWNER_VMM);
}

static void save(struct vcpu *v)
{
	struct vcpu_xregs *x = &v->xregs;

	xstate_save(x->area);
	x->dr[0] = read_dr0();
	x->dr[1] = read_dr1();
	x->dr[2] = read_dr2();
	x->dr[3] = read_dr3();
	x->dr6 = read_dr6();
	x->cr2 = read_cr2();
	x->tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
}

static void restore(const struct vcpu *v)
{
	const struct vcpu_xregs *x = &v->xregs;

	xstate_restore(x->area);
	if (xstate_config.xsave)
		xsetbv(0, x->xcr0);
	write_dr0(x->dr[0]);
	write_dr1(x->dr[1]);
	write_dr2(x->dr[2]);
	write_dr3(x->dr[3]);
	write_dr6(x->dr6);
	write_cr2(x->cr2);
	wrmsr(MSR_IA32_TSC_AUX, x->tsc_aux);
}

void vcpu_xregs_switch_in(struct vcpu *v)
{
	struct pcpu *c = this_cpu();

	uint64_t t0;

	if (c->xregs_owner == v)
		return;
	t0 = rdtsc();
	if (c->xregs_owner)
		save(c->xregs_owner);
	restore(v);
	c->xregs_owner = v;
	c->nr_xregs_switches++;
	c->xregs_ticks += rdtsc() - t0;
}

void vcpu_xregs_report(void)
{
	uint64_t n = 0, t = 0;

	for (uint32_t i = 0; i < nr_pcpus; i++)
		if (pcpus[i]) {
			n += pcpus[i]->nr_xregs_switches;
			t += pcpus[i]->xregs_ticks;
		}
	pr_info("xregs: %lu switches of FPU/SSE/AVX, debug-register, CR2 and TSC_AUX state, mean %lu ticks",
		(unsigned long)n, (unsigned long)(n ? t / n : 0));
}

void vcpu_xregs_release(struct vcpu *v)
{
	struct pcpu *c = this_cpu();

	if (c->xregs_owner != v)
		return;
	save(v);
	c->xregs_owner = NULL;
}

/*
 * XSETBV (SDM vol. 2D): #UD unless CR4.OSXSAVE, #GP(0) at CPL > 0, for
 * ECX != 0, or for an XCR0 value the CPU (and Tern) would refuse. The running
 * vCPU owns this CPU's registers, so the new XCR0 is loaded at once.
 */
enum exit_action handle_xsetbv(struct vcpu *v, const struct exit_info *e)
{
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	unsigned int cpl = (vmcs_read(VMCS_GUEST_SS_AR_BYTES) >> 5) & 3;

	if (!xstate_config.xsave || !(vmcs_read(VMCS_GUEST_CR4) & CR4_OSXSAVE)) {
		vcpu_inject_exception(VEC_UD, false, 0);
		return EXIT_RESUME;
	}
	if (cpl || (uint32_t)v->regs.rcx || !xcr0_valid(val, xstate_config.mask)) {
		vcpu_inject_exception(VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	v->xregs.xcr0 = val;
	xsetbv(0, val);
	vcpu_skip_instruction();
	return EXIT_RESUME;
}
