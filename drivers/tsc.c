/* SPDX-License-Identifier: MIT */
/*
 * TSC calibration. CPUID 0x15 gives an exact rate when it tells the truth,
 * but firmware, hypervisors and emulators misreport it (Bochs's
 * Cannon Lake, Ice Lake and Tiger Lake say 1.5-2.4 GHz for a 50 MHz TSC), so
 * the leaf is always checked against a timer that really counts: the 8254
 * PIT, else the ACPI PM timer. When the two disagree by more than
 * TSC_AGREE_PCT the measured rate is used, and the log says which and why.
 */
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
#define TSC_AGREE_PCT 2u
/* A timer that does not count must not hang the boot: give up after this much TSC time. */
#define CAL_MAX_TSC   (10000000ull * PIT_CAL_MS) /* PIT_CAL_MS at 10 GHz */
#define CAL_MAX_SPINS 100000000ull

#define MHZ(khz) (unsigned long)((khz) / 1000), (unsigned long)((khz) % 1000)

uint64_t tsc_khz;
static uint64_t tsc_boot;

struct tsc_rate {
	const char *source;
	uint64_t khz; /* 0: none */
};

/*
 * SDM vol. 2A, CPUID leaf 15H: TSC = crystal (ECX Hz) * EBX / EAX; ECX = 0
 * means the crystal rate is not given. Leaf 16H is not used: the SDM calls
 * its base frequency display data, not the TSC rate (Bochs's Skylake-X says
 * 3.5 GHz there for a 50 MHz TSC).
 */
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
		if (++spins > CAL_MAX_SPINS || rdtsc() - start > CAL_MAX_TSC)
			return 0;
	end = rdtsc();
	return (end - start) / PIT_CAL_MS;
}

/* The shortest of three: an SMI or a host preemption only ever lengthens one. */
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
		if (++spins > CAL_MAX_SPINS || rdtsc() - start > CAL_MAX_TSC)
			return 0;
	} while (((t - t0) & mask) < ticks);
	return (rdtsc() - start) * PM_TIMER_HZ / ((t - t0) & mask) / 1000;
}

/* A timer that counts: the PIT, else the ACPI PM timer (acpi may be NULL). */
static struct tsc_rate measure(const struct acpi_info *acpi)
{
	uint64_t khz = from_pit();

	if (khz)
		return (struct tsc_rate){ "PIT", khz };
	return (struct tsc_rate){ "ACPI PM timer", from_pm_timer(acpi) };
}

static bool agree(uint64_t a, uint64_t b)
{
	uint64_t diff = a > b ? a - b : b - a;

	return diff * 100 <= b * TSC_AGREE_PCT;
}

void tsc_calibrate(const struct acpi_info *acpi)
{
	struct tsc_rate leaf = { "CPUID 0x15", from_cpuid() }, timer = measure(acpi);

	tsc_boot = 0; /* the TSC counts from power-on: timestamps say time since reset */
	if (leaf.khz && timer.khz && !agree(leaf.khz, timer.khz)) {
		tsc_khz = timer.khz;
		pr_warn("tsc: %s says %lu.%03lu MHz, the %s measures %lu.%03lu MHz: using the %s "
			"(they differ by more than %u%%)", leaf.source, MHZ(leaf.khz), timer.source,
			MHZ(timer.khz), timer.source, TSC_AGREE_PCT);
	} else if (leaf.khz && timer.khz) {
		tsc_khz = leaf.khz;
		pr_info("tsc: %lu.%03lu MHz from %s (the %s measures %lu.%03lu MHz, within %u%%)",
			MHZ(leaf.khz), leaf.source, timer.source, MHZ(timer.khz), TSC_AGREE_PCT);
	} else if (leaf.khz) {
		tsc_khz = leaf.khz;
		pr_warn("tsc: %lu.%03lu MHz from %s, unchecked: no PIT or ACPI PM timer counts",
			MHZ(leaf.khz), leaf.source);
	} else if (timer.khz) {
		tsc_khz = timer.khz;
		pr_info("tsc: %lu.%03lu MHz (calibrated against the %s; CPUID 0x15 gives no rate)",
			MHZ(timer.khz), timer.source);
	} else {
		tsc_khz = FALLBACK_KHZ;
		pr_warn("tsc: no PIT, PM timer or CPUID 0x15 to calibrate against; assuming 1 GHz");
	}
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
