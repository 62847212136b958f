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

/*
 * The answers for vCPU 0 of a VM of each size, computed once: a vCPU's own
 * table is then a copy with its APIC-ID leaves answered anew
 * (cpuid_table_for_vcpu), cheap enough for VM_CREATE, which runs with
 * interrupts off on the CPU that takes console input.
 */
static struct cpuid_table templates[TERN_MAX_VCPUS];

static struct cpuid_vm vm_config(uint32_t nr_vcpus, uint32_t index)
{
	return (struct cpuid_vm){
		.nr_vcpus = nr_vcpus, .vcpu_index = index, .tsc_khz = (uint32_t)tsc_khz,
		.xcr0_mask = xstate_config.xsave ? xstate_config.mask : 0,
		.xsave_size = xstate_config.size,
		.rdtscp = vmx_config.proc2 & SECONDARY_ENABLE_RDTSCP,
		.invpcid = vmx_config.proc2 & SECONDARY_ENABLE_INVPCID,
	};
}

int cpuid_host_init(void)
{
	int err = cpuid_snap_take(&host_snap, host_cpuid);

	if (err) {
		pr_err("cpuid: the host's leaves do not fit %u entries", CPUID_SNAP_MAX);
		return err;
	}
	for (uint32_t n = 1; n <= TERN_MAX_VCPUS; n++) {
		struct cpuid_vm cv = vm_config(n, 0);

		err = cpuid_table_fill(&templates[n - 1], &cv, snap_cpuid);
		if (err) {
			pr_err("cpuid: the answers for %u vCPUs do not fit %u entries", n, CPUID_TABLE_MAX);
			return err;
		}
	}
	return 0;
}

int vcpu_cpuid_init(struct vcpu *v)
{
	const struct cpuid_vm cv = vm_config(v->vm->nr_vcpus, v->index);

	if (!host_snap.n)
		return -ENODEV; /* before cpuid_host_init */
	if (cv.nr_vcpus < 1 || cv.nr_vcpus > TERN_MAX_VCPUS)
		return cpuid_table_fill(&v->cpuid, &cv, snap_cpuid);
	return cpuid_table_for_vcpu(&v->cpuid, &templates[cv.nr_vcpus - 1], &cv, snap_cpuid);
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
