/* SPDX-License-Identifier: MIT */
/* Emulated MSR state and its rules (vmsr.h); pure, unit-tested (tests/unit/test_vmsr.c). */
#include "vmm/vmsr.h"
#include "arch/cpuid.h"
#include "arch/msr.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define MISC_ENABLE_KEPT   (BIT(0) | BIT(3) | BIT(16) | BIT(23))
#define MISC_ENABLE_RO     (BIT(7) | BIT(11) | BIT(12))
#define MISC_ENABLE_ZERO   (BIT(18) | BIT(22) | BIT(34))

#define DEF_TYPE_FE        BIT(10)
#define DEF_TYPE_E         BIT(11)
/* PHYSBASEn: type 7:0, base MAXPHYADDR-1:12; PHYSMASKn: V 11, mask MAXPHYADDR-1:12; the rest reserved. */
#define PHYSMASK_V         BIT(11)

void vmsr_reset(struct vmsr_state *s)
{
	memset(s, 0, sizeof(*s));
	s->misc_enable = VMSR_MISC_ENABLE_INIT;
	s->mtrr_def_type = VMSR_DEF_TYPE_INIT;
	/* Fixed ranges WB, so that setting FE alone leaves the first MiB cacheable. */
	for (unsigned int i = 0; i < VMSR_MTRR_FIXED; i++)
		s->mtrr_fixed[i] = 0x0606060606060606ull;
}

bool vmsr_misc_enable_write(struct vmsr_state *s, uint64_t val)
{
	if (val & ~(MISC_ENABLE_KEPT | MISC_ENABLE_RO | MISC_ENABLE_ZERO))
		return false;
	if (val & MISC_ENABLE_ZERO)
		return false;
	s->misc_enable = (s->misc_enable & MISC_ENABLE_RO) | (val & MISC_ENABLE_KEPT);
	return true;
}

/* Memory types an MTRR may hold: UC 0, WC 1, WT 4, WP 5, WB 6 (SDM vol. 3A table 12-8). */
static bool memtype_ok(uint8_t t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Index into mtrr_fixed, or -1 (12.11.2.2: 0x250, 0x258, 0x259, 0x268-0x26f). */
static int fixed_index(uint32_t msr)
{
	if (msr == MSR_IA32_MTRR_FIX64K_00000)
		return 0;
	if (msr == MSR_IA32_MTRR_FIX16K_80000)
		return 1;
	if (msr == MSR_IA32_MTRR_FIX16K_A0000)
		return 2;
	if (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000)
		return 3 + (int)(msr - MSR_IA32_MTRR_FIX4K_C0000);
	return -1;
}

static bool is_var(uint32_t msr)
{
	return msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * VMSR_MTRR_VAR;
}

bool vmsr_is_mtrr(uint32_t msr)
{
	return msr == MSR_IA32_MTRRCAP || msr == MSR_IA32_MTRR_DEF_TYPE || is_var(msr) ||
	       fixed_index(msr) >= 0;
}

/* Bits MAXPHYADDR-1:12 of a physical address (an MTRR's base or mask field). */
static uint64_t addr_bits(unsigned int maxphyaddr)
{
	if (maxphyaddr < 36 || maxphyaddr > 52)
		maxphyaddr = 36;
	return ((1ull << maxphyaddr) - 1) & ~0xfffull;
}

bool vmsr_mtrr_valid(uint32_t msr, uint64_t val, unsigned int maxphyaddr)
{
	int fix = fixed_index(msr);

	if (msr == MSR_IA32_MTRR_DEF_TYPE)
		return !(val & ~(0xffull | DEF_TYPE_FE | DEF_TYPE_E)) && memtype_ok((uint8_t)val);
	if (is_var(msr) && !((msr - MSR_IA32_MTRR_PHYSBASE0) & 1))
		return !(val & ~(0xffull | addr_bits(maxphyaddr))) && memtype_ok((uint8_t)val);
	if (is_var(msr))
		return !(val & ~(PHYSMASK_V | addr_bits(maxphyaddr)));
	if (fix >= 0) {
		for (unsigned int i = 0; i < 8; i++)
			if (!memtype_ok((uint8_t)(val >> (8 * i))))
				return false;
		return true;
	}
	return false; /* MTRRcap is read-only; anything else is no MTRR */
}

int vmsr_mtrr_read(const struct vmsr_state *s, uint32_t msr, uint64_t *val)
{
	int fix = fixed_index(msr);

	if (msr == MSR_IA32_MTRRCAP)
		*val = VMSR_MTRRCAP;
	else if (msr == MSR_IA32_MTRR_DEF_TYPE)
		*val = s->mtrr_def_type;
	else if (is_var(msr))
		*val = s->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
	else if (fix >= 0)
		*val = s->mtrr_fixed[fix];
	else
		return -EPERM;
	return 0;
}

int vmsr_mtrr_write(struct vmsr_state *s, uint32_t msr, uint64_t val, unsigned int maxphyaddr)
{
	int fix = fixed_index(msr);

	if (!vmsr_is_mtrr(msr))
		return -EPERM;
	if (!vmsr_mtrr_valid(msr, val, maxphyaddr))
		return -EINVAL;
	if (msr == MSR_IA32_MTRR_DEF_TYPE)
		s->mtrr_def_type = val;
	else if (is_var(msr))
		s->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0] = val;
	else
		s->mtrr_fixed[fix] = val;
	return 0;
}

uint32_t vmsr_mtrr_saved_msr(unsigned int i)
{
	static const uint32_t fixed[3] = { MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX16K_80000,
					   MSR_IA32_MTRR_FIX16K_A0000 };

	if (i == 0)
		return MSR_IA32_MTRR_DEF_TYPE;
	if (i <= 2 * VMSR_MTRR_VAR)
		return MSR_IA32_MTRR_PHYSBASE0 + (i - 1);
	i -= 1 + 2 * VMSR_MTRR_VAR;
	return i < 3 ? fixed[i] : MSR_IA32_MTRR_FIX4K_C0000 + (i - 3);
}

uint64_t vmsr_guest_tsc(const struct vmsr_state *s, uint64_t host_now)
{
	return host_now + s->tsc_offset;
}

/* SDM vol. 3B 17.17.3: a WRMSR that adds X to the TSC adds X to IA32_TSC_ADJUST. */
void vmsr_tsc_write(struct vmsr_state *s, uint64_t host_now, uint64_t val)
{
	s->tsc_adjust += val - vmsr_guest_tsc(s, host_now);
	s->tsc_offset = val - host_now;
}

/* ... and one that adds X to IA32_TSC_ADJUST adds X to the TSC. */
void vmsr_tsc_adjust_write(struct vmsr_state *s, uint64_t val)
{
	s->tsc_offset += val - s->tsc_adjust;
	s->tsc_adjust = val;
}

uint64_t vmsr_deadline_to_host(const struct vmsr_state *s, uint64_t host_now, uint64_t guest_deadline)
{
	uint64_t guest_now = vmsr_guest_tsc(s, host_now), ahead;

	if (guest_deadline <= guest_now)
		return host_now;
	ahead = guest_deadline - guest_now;
	return ahead >= ~0ull - host_now ? ~0ull - 1 : host_now + ahead;
}

uint64_t vmsr_platform_info(uint32_t tsc_khz)
{
	uint64_t ratio = ((uint64_t)tsc_khz + 50000u) / 100000u;

	return (ratio > 0xff ? 0xff : ratio) << 8;
}

uint64_t vmsr_spec_ctrl_mask(uint32_t cpuid7_edx)
{
	uint64_t m = 0;

	if (cpuid7_edx & CPUID_7_EDX_IBRS_IBPB)
		m |= IA32_SPEC_CTRL_IBRS;
	if (cpuid7_edx & CPUID_7_EDX_STIBP)
		m |= IA32_SPEC_CTRL_STIBP;
	if (cpuid7_edx & CPUID_7_EDX_SSBD)
		m |= IA32_SPEC_CTRL_SSBD;
	return m;
}
