/* SPDX-License-Identifier: MIT */
/* vCPU placement and run-queue balancing decisions (see placement.h). */
#include "vmm/placement.h"
#include "kernel/errno.h"

#define NONE (-1)

int place_vcpu(const struct place_cpu *cpus, uint32_t nr_cpus, int pin)
{
	int best = NONE;

	if (pin >= 0)
		return (uint32_t)pin < nr_cpus && cpus[pin].online ? pin : -EINVAL;
	for (uint32_t c = 0; c < nr_cpus && c <= INT32_MAX; c++)
		if (cpus[c].online && (best == NONE || cpus[c].nr_vcpus < cpus[best].nr_vcpus))
			best = (int)c;
	return best == NONE ? -EINVAL : best;
}

/* What one online CPU's queue holds, as far as balancing cares. */
struct cpu_scan {
	uint32_t load;  /* runnable vCPUs */
	int most;       /* movable runnable vCPU with the most runtime */
	int lag;        /* runnable vCPU (pinned or not) with the least runtime */
	int lead;       /* runnable vCPU (pinned or not) with the most runtime */
};

/* Strict comparisons keep the lowest index on equal runtimes. */
static void scan_cpu(const struct bal_vcpu *v, uint32_t nr_vcpus, uint32_t cpu, struct cpu_scan *s)
{
	*s = (struct cpu_scan){ .load = 0, .most = NONE, .lag = NONE, .lead = NONE };
	for (uint32_t i = 0; i < nr_vcpus && i <= INT32_MAX; i++) {
		if (v[i].cpu != cpu || !v[i].runnable)
			continue;
		s->load++;
		if (s->lag == NONE || v[i].runtime < v[s->lag].runtime)
			s->lag = (int)i;
		if (s->lead == NONE || v[i].runtime > v[s->lead].runtime)
			s->lead = (int)i;
		if (!v[i].pinned && (s->most == NONE || v[i].runtime > v[s->most].runtime))
			s->most = (int)i;
	}
}

/* Rule 1: the busiest CPU with something movable gives its most-run vCPU to dst. */
static uint32_t move_one(const struct bal_vcpu *v, uint32_t nr_vcpus, const struct place_cpu *cpus,
			 uint32_t nr_cpus, uint32_t lo, uint32_t dst, struct bal_move *out)
{
	struct cpu_scan s;
	uint32_t src_load = 0;
	int pick = NONE;

	for (uint32_t c = 0; c < nr_cpus; c++) {
		if (!cpus[c].online)
			continue;
		scan_cpu(v, nr_vcpus, c, &s);
		if (s.most == NONE || s.load < lo + 2 || s.load < src_load)
			continue;
		if (pick == NONE || s.load > src_load || v[s.most].runtime > v[pick].runtime) {
			pick = s.most;
			src_load = s.load;
		}
	}
	if (pick == NONE)
		return 0;
	out[0] = (struct bal_move){ .vcpu = (uint32_t)pick, .to = dst };
	return 1;
}

/* Rule 2: loads differ by one; let the laggard on the busy side catch up. */
static uint32_t trade(const struct bal_vcpu *v, uint32_t nr_vcpus, const struct place_cpu *cpus,
		      uint32_t nr_cpus, uint32_t hi, uint32_t lo, uint64_t min_gap, struct bal_move *out)
{
	struct cpu_scan s;
	int lag = NONE, lead = NONE, lead_movable = NONE;

	for (uint32_t c = 0; c < nr_cpus; c++) {
		if (!cpus[c].online)
			continue;
		scan_cpu(v, nr_vcpus, c, &s);
		if (s.load == hi && s.lag != NONE && (lag == NONE || v[s.lag].runtime < v[lag].runtime))
			lag = s.lag;
		if (s.load == lo && s.lead != NONE && (lead == NONE || v[s.lead].runtime > v[lead].runtime))
			lead = s.lead;
		if (s.load == lo && s.most != NONE &&
		    (lead_movable == NONE || v[s.most].runtime > v[lead_movable].runtime))
			lead_movable = s.most;
	}
	if (lag == NONE || lead == NONE || v[lead].runtime <= v[lag].runtime ||
	    v[lead].runtime - v[lag].runtime <= min_gap)
		return 0;
	/* Equal runtimes: prefer a movable leader, so the plain swap happens. */
	if (v[lead].pinned && lead_movable != NONE && v[lead_movable].runtime == v[lead].runtime)
		lead = lead_movable;
	if (v[lag].pinned) {
		scan_cpu(v, nr_vcpus, v[lag].cpu, &s);
		if (s.most == NONE)
			return 0;
		out[0] = (struct bal_move){ .vcpu = (uint32_t)s.most, .to = v[lead].cpu };
		return 1;
	}
	out[0] = (struct bal_move){ .vcpu = (uint32_t)lag, .to = v[lead].cpu };
	if (v[lead].pinned)
		return 1;
	out[1] = (struct bal_move){ .vcpu = (uint32_t)lead, .to = v[lag].cpu };
	return 2;
}

uint32_t balance_step(const struct bal_vcpu *v, uint32_t nr_vcpus, const struct place_cpu *cpus,
		      uint32_t nr_cpus, uint64_t min_gap, struct bal_move *out)
{
	struct cpu_scan s;
	uint32_t hi = 0, lo = UINT32_MAX, dst = 0;

	for (uint32_t c = 0; c < nr_cpus; c++) {
		if (!cpus[c].online)
			continue;
		scan_cpu(v, nr_vcpus, c, &s);
		if (s.load > hi)
			hi = s.load;
		if (s.load < lo) {
			lo = s.load;
			dst = c;
		}
	}
	if (lo == UINT32_MAX)
		return 0;
	if (hi - lo >= 2)
		return move_one(v, nr_vcpus, cpus, nr_cpus, lo, dst, out);
	if (hi - lo == 1)
		return trade(v, nr_vcpus, cpus, nr_cpus, hi, lo, min_gap, out);
	return 0;
}

/* Bits needed to hold x (0 for 0). */
static unsigned int bit_width(uint64_t x)
{
	return x ? 64u - (unsigned int)__builtin_clzll(x) : 0u;
}

/*
 * Values are scaled to below 2^31 so that sum x < 2^63, (sum x)^2 < 2^126 and
 * n * sum x^2 < 2^126 all fit in 128 bits; the quotient is then formed one bit
 * at a time, so there is no 128-bit division (no __udivti3 in the kernel).
 */
uint32_t jain_index_ppm(const uint64_t *x, uint32_t n)
{
	uint64_t max = 0, sum = 0, frac = 0;
	unsigned __int128 sq = 0, num, den;
	unsigned int shift;

	for (uint32_t i = 0; i < n; i++)
		max = x[i] > max ? x[i] : max;
	if (!max)
		return 0;
	shift = bit_width(max) > 31 ? bit_width(max) - 31 : 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t s = x[i] >> shift;

		sum += s;
		sq += (unsigned __int128)s * s;
	}
	num = (unsigned __int128)sum * sum;
	den = sq * n;
	if (num >= den) /* Cauchy-Schwarz: only when all are equal */
		return 1000000;
	for (int b = 0; b < 32; b++) {
		num <<= 1;
		frac <<= 1;
		if (num >= den) {
			num -= den;
			frac |= 1;
		}
	}
	return (uint32_t)((frac * 1000000 + (1ull << 31)) >> 32);
}
