/* SPDX-License-Identifier: MIT */
/* What CPUID tells the guest: VMX hidden, hypervisor bit and Tern's leaves and ABI version. */
#include "tests/guests/guest.h"

#include "kernel/string.h"

const char guest_name[] = "cpuid";

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	struct cpuid_regs r;
	char sig[13];

	guest_log("start");

	r = cpuid(CPUID_LEAF_FEATURES, 0);
	guest_log("vmx=%d hypervisor=%d", !!(r.ecx & CPUID_1_ECX_VMX),
		  !!(r.ecx & CPUID_1_ECX_HYPERVISOR));

	/* The signature is the 12 bytes of EBX, ECX, EDX in that order. */
	r = cpuid(CPUID_LEAF_HV_BASE, 0);
	memcpy(&sig[0], &r.ebx, 4);
	memcpy(&sig[4], &r.ecx, 4);
	memcpy(&sig[8], &r.edx, 4);
	sig[12] = '\0';
	/* Keep the line printable whatever a non-Tern CPU answers. */
	for (int i = 0; i < 12; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7e)
			sig[i] = '.';
	guest_log("leaf 0x40000000 max=0x%x signature='%s'", r.eax, sig);

	/* Silent when right, so the expected lines stay the same. */
	r = cpuid(CPUID_LEAF_HV_ABI, 0);
	if (r.eax != TERN_ABI_VERSION)
		guest_log("ERROR leaf 0x40000001 EAX 0x%x, expected TERN_ABI_VERSION 0x%x", r.eax,
			  TERN_ABI_VERSION);
	if (vmcall(TERN_HC_VERSION) != (int64_t)TERN_ABI_VERSION)
		guest_log("ERROR TERN_HC_VERSION returned 0x%lx, expected 0x%x",
			  vmcall(TERN_HC_VERSION), TERN_ABI_VERSION);

	guest_done();
}
