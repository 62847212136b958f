/* SPDX-License-Identifier: MIT */
/* VT-x readiness of one CPU from CPUID and the capability MSRs (SDM vol. 3C 24.7, A). */
#include "arch/vmx_cap.h"
#include "arch/vmx_defs.h"
#include "arch/cpuid.h"
#include "arch/msr.h"
#include "kernel/fmt.h"
#include "kernel/kernel.h"
#include "kernel/string.h"

/* A control is available when its allowed-1 bit (high dword) is set. */
static bool allowed1(uint32_t msr, uint64_t bit)
{
	return (rdmsr(msr) >> 32) & bit;
}

/*
 * IA32_FEATURE_CONTROL (SDM vol. 3C 23.7): unlocked, enable VMX outside SMX
 * and lock, as firmware should have; locked, VMXON works only if firmware
 * enabled it. The test option feature_control= stands in for the MSR (locked
 * values only, so Tern never writes the real MSR on a value it did not read).
 */
static int check_feature_control(struct vmx_cap *cap)
{
	uint64_t fc = boot_opts.fake_feature_control ? boot_opts.fake_feature_control
						      : rdmsr(MSR_IA32_FEATURE_CONTROL);

	cap->feature_control = fc;
	if (!(fc & IA32_FEATURE_CONTROL_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX | IA32_FEATURE_CONTROL_LOCK);
		cap->fc_locked_by_tern = true;
		return VMX_READY;
	}
	return fc & IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX ? VMX_READY : VMX_LOCKED_OFF;
}

static void read_ept_vpid(struct vmx_cap *cap)
{
	uint64_t ev = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);

	cap->ept_4level = ev & EPT_CAP_PWL4;
	cap->ept_wb = ev & EPT_CAP_MEMTYPE_WB;
	cap->ept_2m = ev & EPT_CAP_2MB_PAGE;
	cap->ept_1g = ev & EPT_CAP_1GB_PAGE;
	cap->ept_ad = ev & EPT_CAP_AD_BITS;
	cap->invept = ev & EPT_CAP_INVEPT;
	cap->invept_single = ev & EPT_CAP_INVEPT_SINGLE;
	cap->invvpid = ev & VPID_CAP_INVVPID;
}

void vmx_probe(struct vmx_cap *cap)
{
	uint64_t basic;
	uint32_t pin_msr, proc_msr;

	memset(cap, 0, sizeof(*cap));
	if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_1_ECX_VMX)) {
		cap->verdict = VMX_NO_VMX;
		return;
	}
	cap->verdict = check_feature_control(cap);
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	cap->vmcs_revision = basic & VMX_BASIC_REVISION_MASK;
	cap->vmcs_size = VMX_BASIC_VMCS_SIZE(basic);
	cap->true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	pin_msr = cap->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	proc_msr = cap->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	cap->preemption_timer = allowed1(pin_msr, PIN_BASED_VMX_PREEMPTION_TIMER);
	cap->posted_intr = allowed1(pin_msr, PIN_BASED_POSTED_INTR);
	cap->preemption_timer_shift = VMX_MISC_PREEMPTION_TIMER_SHIFT(rdmsr(MSR_IA32_VMX_MISC));
	cap->msr_bitmaps = allowed1(proc_msr, CPU_BASED_USE_MSR_BITMAPS);
	cap->io_bitmaps = allowed1(proc_msr, CPU_BASED_USE_IO_BITMAPS);
	cap->mtf = allowed1(proc_msr, CPU_BASED_MONITOR_TRAP_FLAG);
	cap->secondary_ctls = allowed1(proc_msr, CPU_BASED_ACTIVATE_SECONDARY);
	if (cap->secondary_ctls) {
		uint32_t m = MSR_IA32_VMX_PROCBASED_CTLS2;

		cap->ept = allowed1(m, SECONDARY_ENABLE_EPT);
		cap->vpid = allowed1(m, SECONDARY_ENABLE_VPID);
		cap->unrestricted_guest = allowed1(m, SECONDARY_UNRESTRICTED_GUEST);
		cap->apic_reg_virt = allowed1(m, SECONDARY_APIC_REGISTER_VIRT);
		cap->virt_intr_delivery = allowed1(m, SECONDARY_VIRT_INTR_DELIVERY);
		cap->x2apic_virt = allowed1(m, SECONDARY_VIRT_X2APIC_MODE);
		cap->pml = allowed1(m, SECONDARY_ENABLE_PML);
		cap->vmcs_shadowing = allowed1(m, SECONDARY_VMCS_SHADOWING);
	}
	if (cap->ept || cap->vpid)
		read_ept_vpid(cap);
	if (cap->verdict == VMX_READY && !(cap->ept && cap->ept_4level && cap->ept_wb))
		cap->verdict = VMX_NO_EPT;
}

static size_t put(char *buf, size_t size, size_t len, const char *s, bool on)
{
	if (!on || len >= size)
		return len;
	return len + (size_t)fmt_snprintf(buf + len, size - len, "%s%s", len ? " " : "", s);
}

void vmx_cap_format(const struct vmx_cap *c, char *buf, unsigned long size)
{
	char ept[64], pt[40];
	size_t len = 0;

	fmt_snprintf(ept, sizeof(ept), "EPT(4-level%s%s%s%s)", c->ept_wb ? ",WB" : "",
		     c->ept_2m ? ",2M" : "", c->ept_1g ? ",1G" : "", c->ept_ad ? ",A/D" : "");
	fmt_snprintf(pt, sizeof(pt), "preemption-timer(TSC>>%u)", c->preemption_timer_shift);
	buf[0] = '\0';
	len = put(buf, size, len, ept, c->ept);
	len = put(buf, size, len, "unrestricted-guest", c->unrestricted_guest);
	len = put(buf, size, len, "VPID", c->vpid);
	len = put(buf, size, len, pt, c->preemption_timer);
	len = put(buf, size, len, "MSR-bitmaps", c->msr_bitmaps);
	len = put(buf, size, len, "APIC-register-virt", c->apic_reg_virt);
	len = put(buf, size, len, "virtual-interrupt-delivery", c->virt_intr_delivery);
	len = put(buf, size, len, "posted-interrupts", c->posted_intr);
	len = put(buf, size, len, "VMCS-shadowing", c->vmcs_shadowing);
	len = put(buf, size, len, "PML", c->pml);
	put(buf, size, len, "MTF", c->mtf);
}

const char *vmx_verdict_reason(int verdict)
{
	switch (verdict) {
	case VMX_NO_VMX:
		return "this CPU does not offer Intel VT-x (CPUID.1:ECX.VMX is 0)";
	case VMX_LOCKED_OFF:
		return "the firmware locked IA32_FEATURE_CONTROL with VMX disabled; "
		       "enable Intel Virtualization Technology in the firmware setup";
	case VMX_NO_EPT:
		return "this CPU has VT-x but no usable EPT (4-level, write-back), which Tern needs";
	case VMX_READY:
		return "ready";
	default:
		return "not probed";
	}
}
