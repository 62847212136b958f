/* SPDX-License-Identifier: MIT */
/* TSC calibration against CPUID 0x15, the 8254 PIT or the ACPI PM timer. */
#include "drivers/tsc.h"
#include "arch/cpuid.h"
#include "arch/x86.h"
#include "kernel/log.h"

#define PIT_HZ        1193182u
#define PIT_CH2       0x42
#define PIT_CMD       0x43
#define PIT_GATE      0x61 /* bit 0: channel 2 gate, bit 5: channel 2 output */
#define PIT_CAL_MS    10u
#define PM_TIMER_HZ   3579545u
#define FALLBACK_KHZ  1000000u

uint64_t tsc_khz;
static uint64_t tsc_boot;

static uint64_t from_cpuid(void)
{
	struct cpuid_regs r;

	if (cpuid(CPUID_LEAF_VENDOR, 0).eax < CPUID_LEAF_TSC_CRYSTAL)
		return 0;
	r = cpuid(CPUID_LEAF_TSC_CRYSTAL, 0);
	if (!r.eax || !r.ebx || !r.ecx)
		return 0;
	return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
}

/* One PIT channel 2 one-shot of PIT_CAL_MS; 0 when the output never rises. */
static uint64_t pit_once(void)
{
	uint16_t count = PIT_HZ * PIT_CAL_MS / 1000;
	uint64_t start, end, spins = 0;

	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(PIT_CH2, (uint8_t)count);
	outb(PIT_CH2, (uint8_t)(count >> 8));
	start = rdtsc();
	while (!(inb(PIT_GATE) & 0x20))
		if (++spins > 100000000ull)
			return 0;
	end = rdtsc();
	return (end - start) / PIT_CAL_MS;
}

static uint64_t from_pit(void)
{
	uint64_t best = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t k = pit_once();

		if (!k)
			return 0;
		if (!best || k < best)
			best = k;
	}
	return best;
}

static uint32_t pm_read(const struct acpi_info *a)
{
	return a->pm_tmr.space_id == ACPI_GAS_IO ? inl((uint16_t)a->pm_tmr.address)
						 : *(volatile uint32_t *)a->pm_tmr.address;
}

static uint64_t from_pm_timer(const struct acpi_info *a)
{
	uint32_t mask, ticks = PM_TIMER_HZ / 100, t0, t;
	uint64_t start, spins = 0;

	if (!a || !a->has_fadt || !a->pm_tmr.address)
		return 0;
	mask = a->pm_tmr_32bit ? 0xffffffffu : 0xffffffu;
	t0 = pm_read(a);
	start = rdtsc();
	do {
		t = pm_read(a);
		if (++spins > 100000000ull)
			return 0;
	} while (((t - t0) & mask) < ticks);
	return (rdtsc() - start) * PM_TIMER_HZ / ((t - t0) & mask) / 1000;
}

void tsc_calibrate(const struct acpi_info *acpi)
{
	const char *how = "CPUID 0x15";

	tsc_boot = 0; /* the TSC counts from power-on: timestamps say time since reset */
	tsc_khz = from_cpuid();
	if (!tsc_khz) {
		how = "PIT";
		tsc_khz = from_pit();
	}
	if (!tsc_khz && acpi) {
		how = "ACPI PM timer";
		tsc_khz = from_pm_timer(acpi);
	}
	if (!tsc_khz) {
		tsc_khz = FALLBACK_KHZ;
		pr_warn("tsc: no PIT, PM timer or CPUID 0x15 to calibrate against; assuming 1 GHz");
		return;
	}
	pr_info("tsc: %lu.%03lu MHz (calibrated against the %s)", (unsigned long)(tsc_khz / 1000),
		(unsigned long)(tsc_khz % 1000), how);
}

uint64_t tsc_now_us(void)
{
	return tsc_khz ? (rdtsc() - tsc_boot) * 1000 / tsc_khz : 0;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * (tsc_khz ? tsc_khz : FALLBACK_KHZ) / 1000;

	while (rdtsc() < end)
		cpu_relax();
}
