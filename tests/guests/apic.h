/* SPDX-License-Identifier: MIT */
/* Local APIC access for test guests, in xAPIC (MMIO) and x2APIC (MSR) mode. */
#ifndef TERN_TESTS_GUESTS_APIC_H
#define TERN_TESTS_GUESTS_APIC_H

#include "tests/guests/guest.h"

/* CPUID.1:ECX (SDM Vol. 2A, CPUID, Table 3-10). */
#define CPUID_1_ECX_X2APIC       BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)

/* IA32_APIC_BASE (SDM Vol. 3A, 10.4.4 and 10.12.1). */
#define MSR_IA32_APIC_BASE   0x0000001bu
#define APIC_BASE_BSP        BIT(8)
#define APIC_BASE_EXTD       BIT(10)
#define APIC_BASE_EN         BIT(11)
#define APIC_DEFAULT_PHYS    0xfee00000ull
/* What Tern's IA32_APIC_BASE reads after reset (guest.h). */
#define APIC_BASE_RESET_BSP  (APIC_DEFAULT_PHYS | APIC_BASE_EN | APIC_BASE_BSP)
#define APIC_BASE_RESET_AP   (APIC_DEFAULT_PHYS | APIC_BASE_EN)

#define MSR_IA32_TSC_DEADLINE 0x000006e0u

/* x2APIC register R is MSR 0x800 + (R >> 4) (SDM Vol. 3A, 10.12.1.2). */
#define MSR_X2APIC_FIRST 0x00000800u

/* Register offsets in the xAPIC page (SDM Vol. 3A, 10.4.1, Table 10-1). */
#define APIC_REG_ID        0x020u
#define APIC_REG_TPR       0x080u
#define APIC_REG_EOI       0x0b0u
#define APIC_REG_SVR       0x0f0u
#define APIC_REG_ICR_LO    0x300u
#define APIC_REG_ICR_HI    0x310u
#define APIC_REG_LVT_TIMER 0x320u
#define APIC_REG_TMICT     0x380u /* timer initial count */
#define APIC_REG_TMCCT     0x390u /* timer current count */
#define APIC_REG_TDCR      0x3e0u /* timer divide configuration */

/* xAPIC ID is in bits 31:24 of the ID register; x2APIC uses all 32. */
#define APIC_XAPIC_ID_SHIFT 24

/* Spurious-interrupt vector register (SDM Vol. 3A, 10.9). */
#define APIC_SVR_ENABLE BIT(8)

/* LVT timer (SDM Vol. 3A, 10.5.1, Figure 10-8). */
#define APIC_LVT_MASKED             BIT(16)
#define APIC_LVT_TIMER_ONESHOT      (0ull << 17)
#define APIC_LVT_TIMER_PERIODIC     (1ull << 17)
#define APIC_LVT_TIMER_TSC_DEADLINE (2ull << 17)

/* Divide configuration (SDM Vol. 3A, 10.5.4, Figure 10-10). */
#define APIC_TDCR_DIV_1 0xbu

/* ICR (SDM Vol. 3A, 10.6.1, Figure 10-12). */
#define APIC_ICR_DM_INIT     (5ull << 8)
#define APIC_ICR_DM_STARTUP  (6ull << 8)
#define APIC_ICR_LEVEL_ASSERT BIT(14)
#define APIC_ICR_X2APIC_DEST_SHIFT 32

static inline uint32_t x2apic_msr(uint32_t reg)
{
	return MSR_X2APIC_FIRST + (reg >> 4);
}

static inline uint64_t x2apic_read(uint32_t reg)
{
	return rdmsr(x2apic_msr(reg));
}

static inline void x2apic_write(uint32_t reg, uint64_t val)
{
	wrmsr(x2apic_msr(reg), val);
}

/*
 * One fixed instruction form for every MMIO access (8B /r and 89 /r through
 * a 64-bit base register), so the hypervisor's MMIO decoder sees only these.
 */
static inline uint32_t xapic_read(uint32_t reg)
{
	uint32_t val;

	__asm__ volatile("movl (%1), %0"
			 : "=r"(val)
			 : "r"((uintptr_t)(APIC_DEFAULT_PHYS + reg))
			 : "memory");
	return val;
}

static inline void xapic_write(uint32_t reg, uint32_t val)
{
	__asm__ volatile("movl %0, (%1)"
			 : : "r"(val), "r"((uintptr_t)(APIC_DEFAULT_PHYS + reg))
			 : "memory");
}

/* Switches this vCPU's APIC from xAPIC to x2APIC mode; returns the new base MSR. */
static inline uint64_t x2apic_enable(void)
{
	wrmsr(MSR_IA32_APIC_BASE, rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_EXTD);
	return rdmsr(MSR_IA32_APIC_BASE);
}

#endif
