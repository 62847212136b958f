/* SPDX-License-Identifier: MIT */
/* VMX controls and CR0/CR4 from the capability MSRs (SDM vol. 3C A.3-A.5, A.7-A.8). */
#include "arch/vmx_ctls.h"

/*
 * Bits 31:0 are the allowed 0-settings: a 1 there means the control must be 1.
 * Bits 63:32 are the allowed 1-settings: a 0 there means it must be 0.
 */
static uint32_t ctl_must_be_one(uint64_t cap_msr)
{
	return (uint32_t)cap_msr;
}

static uint32_t ctl_may_be_one(uint64_t cap_msr)
{
	return (uint32_t)(cap_msr >> 32);
}

int vmx_ctl_compute(uint64_t cap_msr, uint32_t required, uint32_t optional, uint32_t *out, uint32_t *missing)
{
	uint32_t may1 = ctl_may_be_one(cap_msr);
	uint32_t lacking = required & ~may1;

	if (missing)
		*missing = lacking;
	if (lacking)
		return -ENOTSUP;
	*out = ctl_must_be_one(cap_msr) | ((required | optional) & may1);
	return 0;
}

uint64_t vmx_cr_fixed(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (value | fixed0) & fixed1;
}

bool vmx_cr_valid(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (value & fixed0) == fixed0 && !(value & ~fixed1);
}
