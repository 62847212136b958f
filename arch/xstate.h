/* SPDX-License-Identifier: MIT */
/*
 * Guest extended processor state (SDM vol. 1 ch. 13, XSAVE; vol. 3A 2.6
 * XCR0): x87, SSE, AVX, AVX-512 and PKRU, saved and restored whole with
 * XSAVE/XRSTOR, or FXSAVE/FXRSTOR where the CPU has no XSAVE. Tern itself is
 * built without FPU/SSE code (-mgeneral-regs-only): these registers only ever
 * hold guest values, so they need switching only between vCPUs.
 */
#ifndef TERN_ARCH_XSTATE_H
#define TERN_ARCH_XSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86.h"

/* XCR0 state-component bits (SDM vol. 1 13.1). */
#define XFEATURE_X87       BIT(0)
#define XFEATURE_SSE       BIT(1)
#define XFEATURE_AVX       BIT(2)
#define XFEATURE_BNDREGS   BIT(3)
#define XFEATURE_BNDCSR    BIT(4)
#define XFEATURE_OPMASK    BIT(5)
#define XFEATURE_ZMM_HI256 BIT(6)
#define XFEATURE_HI16_ZMM  BIT(7)
#define XFEATURE_PKRU      BIT(9)
#define XFEATURE_AVX512    (XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM)

#define XSTATE_LEGACY_SIZE 512u  /* the FXSAVE image */
#define XSTATE_HEADER_SIZE 64u
#define MXCSR_DEFAULT      0x1f80u /* all SIMD exceptions masked (SDM vol. 1 10.2.3.1) */
#define FCW_DEFAULT        0x037fu /* after FNINIT */

struct xstate_config {
	bool xsave;         /* XSAVE/XRSTOR and XCR0; else FXSAVE/FXRSTOR */
	uint64_t mask;      /* components Tern switches and guests may enable in XCR0 */
	uint32_t size;      /* bytes of one save area (standard format, all of mask) */
};

extern struct xstate_config xstate_config;

/* Bootstrap CPU: what this CPU has and Tern offers. 0, or -ENOTSUP without FXSR. */
int xstate_config_init(void);
/* Every CPU: CR4.OSFXSR/OSXMMEXCPT/OSXSAVE and XCR0 for saving every component. */
void xstate_cpu_init(void);
/* A save area as after RESET/INIT: x87 and SSE in their initial state, the rest init. */
void xstate_area_init(void *area);
/* Save the registers into area / load them from it (64-byte aligned, xstate_config.size). */
void xstate_save(void *area);
void xstate_restore(const void *area);
/*
 * Is val a valid XCR0 for a guest allowed the components in allowed (SDM
 * vol. 1 13.3, XSETBV in vol. 2D)? x87 always on; AVX needs SSE; the three
 * AVX-512 components go together and need AVX; MPX's two go together.
 */
static inline bool xcr0_valid(uint64_t val, uint64_t allowed)
{
	uint64_t avx512 = val & XFEATURE_AVX512, mpx = val & (XFEATURE_BNDREGS | XFEATURE_BNDCSR);

	if (!(val & XFEATURE_X87) || (val & ~allowed))
		return false;
	if ((val & XFEATURE_AVX) && !(val & XFEATURE_SSE))
		return false;
	if (avx512 && (avx512 != XFEATURE_AVX512 || !(val & XFEATURE_AVX)))
		return false;
	return !mpx || mpx == (XFEATURE_BNDREGS | XFEATURE_BNDCSR);
}
static inline void xsetbv(uint32_t reg, uint64_t val)
{
	__asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
}

#endif
