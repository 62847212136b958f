/* SPDX-License-Identifier: MIT */
/* Guest extended state: XSAVE/XRSTOR or FXSAVE/FXRSTOR (see xstate.h). */
#include "arch/xstate.h"
#include "arch/cpuid.h"
#include "arch/x86.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/string.h"

#define LEGACY_MXCSR_OFF   24u
/* The user-state components Tern switches; supervisor state (IA32_XSS) is not offered. */
#define XSTATE_OFFERED (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_AVX512 | XFEATURE_PKRU)

struct xstate_config xstate_config;

int xstate_config_init(void)
{
	struct cpuid_regs r = cpuid(CPUID_LEAF_FEATURES, 0);
	struct xstate_config *x = &xstate_config;

	if (!(r.edx & CPUID_1_EDX_FXSR)) {
		pr_err("xstate: this CPU has no FXSAVE: guest FPU state cannot be kept apart");
		return -ENOTSUP;
	}
	x->xsave = r.ecx & CPUID_1_ECX_XSAVE;
	if (!x->xsave) {
		x->mask = XFEATURE_X87 | XFEATURE_SSE;
		x->size = XSTATE_LEGACY_SIZE;
	} else {
		struct cpuid_regs d = cpuid(CPUID_LEAF_XSTATE, 0);
		uint32_t end = XSTATE_LEGACY_SIZE + XSTATE_HEADER_SIZE;

		x->mask = (((uint64_t)d.edx << 32) | d.eax) & XSTATE_OFFERED;
		/* AVX-512 is all three components or none. */
		if ((x->mask & XFEATURE_AVX512) != XFEATURE_AVX512)
			x->mask &= ~XFEATURE_AVX512;
		/* The standard-format size of exactly these components (13.4.3). */
		for (uint32_t i = 2; i < 64; i++) {
			struct cpuid_regs c;

			if (!(x->mask & BIT(i)))
				continue;
			c = cpuid(CPUID_LEAF_XSTATE, i);
			if (c.ebx + c.eax > end)
				end = c.ebx + c.eax;
		}
		x->size = (end + 63u) & ~63u;
	}
	pr_info("xstate: guest FPU state by %s, components 0x%lx, %u bytes per vCPU",
		x->xsave ? "XSAVE" : "FXSAVE", (unsigned long)x->mask, x->size);
	return 0;
}

void xstate_cpu_init(void)
{
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;

	if (xstate_config.xsave)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	if (xstate_config.xsave)
		xsetbv(0, xstate_config.mask);
}

void xstate_area_init(void *area)
{
	uint8_t *a = area;

	memset(a, 0, xstate_config.size);
	/* XRSTOR loads MXCSR from memory whenever SSE or AVX is requested (13.8.1). */
	*(uint32_t *)(a + LEGACY_MXCSR_OFF) = MXCSR_DEFAULT;
	/* FXRSTOR has no "initial state" flag: give it the FNINIT control word. */
	*(uint16_t *)a = FCW_DEFAULT;
}

/*
 * XCR0 holds the guest's value while it runs: widen it to every component
 * first, so the area always holds (and XRSTOR always replaces or inits) all
 * of them. A component the outgoing guest never enabled is then saved in its
 * init state, and one the incoming guest has not enabled still gets its own
 * value, never the previous guest's.
 */
void xstate_save(void *area)
{
	uint64_t m = xstate_config.mask;

	if (!xstate_config.xsave) {
		__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[XSTATE_LEGACY_SIZE])area));
		return;
	}
	xsetbv(0, m);
	__asm__ volatile("xsave64 %0" : "+m"(*(uint8_t(*)[XSTATE_LEGACY_SIZE])area)
			 : "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
}

void xstate_restore(const void *area)
{
	uint64_t m = xstate_config.mask;

	if (!xstate_config.xsave) {
		__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[XSTATE_LEGACY_SIZE])area));
		return;
	}
	xsetbv(0, m);
	__asm__ volatile("xrstor64 %0" : : "m"(*(const uint8_t(*)[XSTATE_LEGACY_SIZE])area),
			 "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
}
