/* SPDX-License-Identifier: MIT */
/*
 * Guest CPUID on this machine: the host's leaves read once at boot, each
 * vCPU's answers computed from them when it is created (vmm/cpuid.c), so a
 * CPUID exit runs no CPUID of its own.
 */
#include "vmm/cpuid.h"
#include "vmm/cr.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arch/cpuid.h"
#include "arch/vmx.h"
#include "arch/vmx_defs.h"
#include "arch/xstate.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/log.h"

/* Every core of a machine is the same model: the bootstrap CPU's leaves serve all. */
static struct cpuid_snap host_snap;

static struct cpuid_regs host_cpuid(uint32_t leaf, uint32_t sub)
{
	return cpuid(leaf, sub);
}

static struct cpuid_regs snap_cpuid(uint32_t leaf, uint32_t sub)
{
	return cpuid_snap_read(&host_snap, leaf, sub);
}

int cpuid_host_init(void)
{
	int err = cpuid_snap_take(&host_snap, host_cpuid);

	if (err)
		pr_err("cpuid: the host's leaves do not fit %u entries", CPUID_SNAP_MAX);
	return err;
}

int vcpu_cpuid_init(struct vcpu *v)
{
	const struct cpuid_vm cv = {
		.nr_vcpus = v->vm->nr_vcpus, .vcpu_index = v->index, .tsc_khz = (uint32_t)tsc_khz,
		.xcr0_mask = xstate_config.xsave ? xstate_config.mask : 0,
		.xsave_size = xstate_config.size,
		.rdtscp = vmx_config.proc2 & SECONDARY_ENABLE_RDTSCP,
		.invpcid = vmx_config.proc2 & SECONDARY_ENABLE_INVPCID,
	};

	if (!host_snap.n)
		return -ENODEV; /* before cpuid_host_init */
	return cpuid_table_fill(&v->cpuid, &cv, snap_cpuid);
}

static bool guest_osxsave(void)
{
	return vmcs_read(VMCS_GUEST_CR4) & CR4_OSXSAVE;
}

/* Live: OSXSAVE (CR4), leaf 7's CR4 filter with OSPKE (vmm/cr.c), and the guest's XCR0. */
struct cpuid_regs vcpu_cpuid(const struct vcpu *v, uint32_t leaf, uint32_t sub)
{
	const struct cpuid_live live = {
		.osxsave = guest_osxsave, .leaf7_filter = cr_cpuid_leaf7, .xcr0 = v->xregs.xcr0,
	};

	return cpuid_table_lookup(&v->cpuid, leaf, sub, &live);
}
