/* SPDX-License-Identifier: MIT */
/* Host unit tests for vmm/placement.c, ending in a round-robin simulation that checks fairness. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "vmm/placement.h"
#include "kernel/errno.h"

#define ON  { .online = true }
#define OFF { .online = false }
/* A runnable, movable vCPU on cpu c that has run for rt ticks. */
#define VC(c, rt)  { .cpu = (c), .runnable = true, .runtime = (rt) }
#define PIN(c, rt) { .cpu = (c), .runnable = true, .pinned = true, .runtime = (rt) }
#define BLK(c, rt) { .cpu = (c), .runtime = (rt) }
#define N(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* --- place_vcpu ---------------------------------------------------------- */

static void test_place_least_loaded(void **state)
{
	struct place_cpu c[] = { { true, 3 }, { true, 1 }, { true, 2 } };

	assert_int_equal(place_vcpu(c, N(c), -1), 1);
}

static void test_place_ties_lowest_id(void **state)
{
	struct place_cpu c[] = { { true, 2 }, { true, 1 }, { true, 1 } };
	struct place_cpu empty[] = { { true, 0 }, { true, 0 } };

	assert_int_equal(place_vcpu(c, N(c), -1), 1);
	assert_int_equal(place_vcpu(empty, N(empty), -7), 0);
}

static void test_place_skips_offline(void **state)
{
	struct place_cpu c[] = { { true, 3 }, { false, 0 }, { true, 2 }, { false, 0 } };

	assert_int_equal(place_vcpu(c, N(c), -1), 2);
}

static void test_place_pinned(void **state)
{
	struct place_cpu c[] = { { true, 9 }, { false, 0 }, { true, 0 } };

	assert_int_equal(place_vcpu(c, N(c), 0), 0); /* busiest, but pinned there */
	assert_int_equal(place_vcpu(c, N(c), 2), 2);
	assert_int_equal(place_vcpu(c, N(c), 1), -EINVAL); /* offline */
	assert_int_equal(place_vcpu(c, N(c), 3), -EINVAL); /* does not exist */
	assert_int_equal(place_vcpu(c, N(c), INT32_MAX), -EINVAL);
}

static void test_place_none_online(void **state)
{
	struct place_cpu c[] = { { false, 0 }, { false, 1 } };

	assert_int_equal(place_vcpu(c, N(c), -1), -EINVAL);
	assert_int_equal(place_vcpu(c, 0, -1), -EINVAL);
	assert_int_equal(place_vcpu(c, 0, 0), -EINVAL);
}

/* --- balance_step: one rule at a time ---------------------------------- */

static void test_bal_imbalance_moves_most_run(void **state)
{
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 10), VC(0, 30), VC(0, 20), VC(1, 0) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 1);
	assert_int_equal(m[0].vcpu, 1);
	assert_int_equal(m[0].to, 1);
}

static void test_bal_imbalance_ignores_gap(void **state)
{
	/* Rule 1 is about counts: it moves even when runtimes are equal. */
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(1, 5), VC(1, 5), VC(1, 5), VC(1, 5) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), UINT64_MAX, m), 1);
	assert_int_equal(m[0].vcpu, 0); /* equal runtimes: lowest index */
	assert_int_equal(m[0].to, 0);
}

static void test_bal_imbalance_skips_pinned(void **state)
{
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 10), PIN(0, 99), VC(0, 20), VC(0, 5) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 1);
	assert_int_equal(m[0].vcpu, 2);
	assert_int_equal(m[0].to, 1);
}

static void test_bal_busiest_all_pinned(void **state)
{
	/* CPU 0 cannot give anything; CPU 1 is still 3 above CPU 2. */
	struct place_cpu c[] = { ON, ON, ON };
	struct bal_vcpu v[] = { PIN(0, 1), PIN(0, 2), PIN(0, 3), PIN(0, 4),
				VC(1, 7), VC(1, 9), VC(1, 8) };
	struct bal_vcpu only_pinned[] = { PIN(0, 1), PIN(0, 2), PIN(0, 3) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 1);
	assert_int_equal(m[0].vcpu, 5);
	assert_int_equal(m[0].to, 2);
	assert_int_equal(balance_step(only_pinned, N(only_pinned), c, N(c), 0, m), 0);
}

static void test_bal_blocked_not_counted_or_moved(void **state)
{
	struct place_cpu c[] = { ON, ON };
	/* Four queued on CPU 0 but only two runnable: loads 2 vs 1, no 2+ move. */
	struct bal_vcpu v[] = { VC(0, 10), BLK(0, 900), BLK(0, 800), VC(0, 20), VC(1, 30) };
	struct bal_vcpu all_blocked[] = { BLK(0, 1), BLK(0, 2), BLK(0, 3), BLK(0, 4) };
	struct bal_vcpu blocked_lag[] = { VC(0, 100), VC(0, 100), VC(0, 100), BLK(0, 0), VC(1, 100) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 1000, m), 0);
	assert_int_equal(balance_step(all_blocked, N(all_blocked), c, N(c), 0, m), 0);
	/* The blocked vCPU is the most behind but neither counts nor moves. */
	assert_int_equal(balance_step(blocked_lag, N(blocked_lag), c, N(c), 0, m), 1);
	assert_int_not_equal(m[0].vcpu, 3);
}

static void test_bal_diff1_swaps_least_and_most(void **state)
{
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 100), VC(0, 50), VC(0, 200), VC(1, 300), VC(1, 250) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 100, m), 2);
	assert_int_equal(m[0].vcpu, 1); /* least runtime on the busy CPU ... */
	assert_int_equal(m[0].to, 1);
	assert_int_equal(m[1].vcpu, 3); /* ... for the most on the idle one */
	assert_int_equal(m[1].to, 0);
}

static void test_bal_diff1_hysteresis(void **state)
{
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 100), VC(0, 50), VC(0, 200), VC(1, 300), VC(1, 250) };
	struct bal_vcpu behind_idle[] = { VC(0, 500), VC(0, 400), VC(0, 450), VC(1, 10), VC(1, 20) };
	struct bal_move m[BAL_MAX_MOVES];

	/* Gap is 300 - 50 = 250: a swap needs it to exceed min_gap. */
	assert_int_equal(balance_step(v, N(v), c, N(c), 250, m), 0);
	assert_int_equal(balance_step(v, N(v), c, N(c), 249, m), 2);
	assert_int_equal(balance_step(v, N(v), c, N(c), UINT64_MAX, m), 0);
	/* The idle side is behind: nothing to correct, whatever min_gap. */
	assert_int_equal(balance_step(behind_idle, N(behind_idle), c, N(c), 0, m), 0);
}

static void test_bal_diff1_skips_pinned_on_idle(void **state)
{
	/* The idle side's leader is pinned and a movable one has as much: swap that. */
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 10), VC(0, 20), VC(0, 30), PIN(1, 300), VC(1, 300) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 2);
	assert_int_equal(m[0].vcpu, 0);
	assert_int_equal(m[0].to, 1);
	assert_int_equal(m[1].vcpu, 4);
	assert_int_equal(m[1].to, 0);
}

static void test_bal_diff1_pinned_laggard(void **state)
{
	/*
	 * The pinned vCPU on the busy CPU is the most behind: swapping two
	 * others would leave its CPU as busy as before, so one movable vCPU
	 * (the most-run) leaves instead.
	 */
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { PIN(0, 10), VC(0, 50), VC(0, 80), VC(1, 300), VC(1, 250) };
	struct bal_vcpu alone[] = { PIN(0, 10), PIN(0, 50), VC(1, 300) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 100, m), 1);
	assert_int_equal(m[0].vcpu, 2);
	assert_int_equal(m[0].to, 1);
	assert_int_equal(balance_step(v, N(v), c, N(c), 290, m), 0); /* 300 - 10 */
	/* Nothing movable on the laggard's CPU: nothing to do. */
	assert_int_equal(balance_step(alone, N(alone), c, N(c), 0, m), 0);
}

static void test_bal_diff1_pinned_leader(void **state)
{
	/* The leader on the idle CPU cannot come back: the laggard just joins it. */
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 10), VC(0, 50), PIN(1, 300) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 100, m), 1);
	assert_int_equal(m[0].vcpu, 0);
	assert_int_equal(m[0].to, 1);
}

static void test_bal_diff1_to_empty_cpu(void **state)
{
	/* 1 vCPU vs none: moving it would only swap which CPU idles. */
	struct place_cpu c[] = { ON, ON };
	struct bal_vcpu v[] = { VC(0, 1000) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 0);
}

static void test_bal_balanced_no_moves(void **state)
{
	struct place_cpu c[] = { ON, ON, ON };
	struct bal_vcpu v[] = { VC(0, 0), VC(0, 1000000), VC(1, 5), VC(1, 7), VC(2, 1ull << 40), VC(2, 1) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 0);
	assert_int_equal(balance_step(v, 0, c, N(c), 0, m), 0);
	assert_int_equal(balance_step(v, N(v), c, 0, 0, m), 0);
}

static void test_bal_offline_cpus(void **state)
{
	struct place_cpu c[] = { ON, OFF, ON };
	/* The offline CPU holds the most vCPUs and is the emptiest candidate. */
	struct bal_vcpu v[] = { VC(0, 1), VC(0, 2), VC(0, 3), VC(1, 9), VC(1, 8), VC(1, 7), VC(1, 6) };
	struct bal_vcpu stranded[] = { VC(1, 9), VC(1, 8), VC(1, 7), VC(1, 6), VC(2, 1) };
	struct place_cpu none[] = { OFF, OFF };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 1);
	assert_int_equal(m[0].vcpu, 2);
	assert_int_equal(m[0].to, 2);
	/* Only CPU 2's vCPU counts (load 1 vs 0): nothing moves. */
	assert_int_equal(balance_step(stranded, N(stranded), c, N(c), 0, m), 0);
	assert_int_equal(balance_step(v, N(v), none, N(none), 0, m), 0);
}

static void test_bal_three_cpus(void **state)
{
	struct place_cpu c[] = { ON, ON, ON };
	/* Loads 3, 2, 2: trade with the idle CPU whose leader is furthest ahead. */
	struct bal_vcpu v[] = { VC(0, 40), VC(0, 30), VC(0, 60), VC(1, 70), VC(1, 80), VC(2, 90), VC(2, 50) };
	/* Loads 4, 1, 2: move to CPU 1. */
	struct bal_vcpu w[] = { VC(0, 40), VC(0, 30), VC(0, 60), VC(0, 10), VC(1, 80), VC(2, 90), VC(2, 50) };
	/* Loads 2, 3, 3: busiest tie, trade the laggard of both. */
	struct bal_vcpu x[] = { VC(0, 90), VC(0, 95), VC(1, 40), VC(1, 50), VC(1, 60), VC(2, 45), VC(2, 20), VC(2, 70) };
	struct bal_move m[BAL_MAX_MOVES];

	assert_int_equal(balance_step(v, N(v), c, N(c), 0, m), 2);
	assert_int_equal(m[0].vcpu, 1);
	assert_int_equal(m[0].to, 2);
	assert_int_equal(m[1].vcpu, 5);
	assert_int_equal(m[1].to, 0);

	assert_int_equal(balance_step(w, N(w), c, N(c), 0, m), 1);
	assert_int_equal(m[0].vcpu, 2);
	assert_int_equal(m[0].to, 1);

	assert_int_equal(balance_step(x, N(x), c, N(c), 0, m), 2);
	assert_int_equal(m[0].vcpu, 6);
	assert_int_equal(m[0].to, 0);
	assert_int_equal(m[1].vcpu, 1);
	assert_int_equal(m[1].to, 2);
}

/* Deterministic pseudo-random numbers (64-bit LCG, Knuth's MMIX constants). */
static uint64_t lcg_state;

static uint32_t lcg(uint32_t bound)
{
	lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((lcg_state >> 33) % bound);
}

static void loads(const struct bal_vcpu *v, uint32_t n, const struct place_cpu *c, uint32_t nc,
		  uint32_t *hi, uint32_t *lo)
{
	*hi = 0;
	*lo = UINT32_MAX;
	for (uint32_t k = 0; k < nc; k++) {
		uint32_t l = 0;

		for (uint32_t i = 0; i < n; i++)
			l += v[i].cpu == k && v[i].runnable;
		if (c[k].online) {
			*hi = l > *hi ? l : *hi;
			*lo = l < *lo ? l : *lo;
		}
	}
}

/* Random states: every answer obeys the invariants and never widens the spread. */
static void test_bal_random_invariants(void **state)
{
	struct place_cpu c[8];
	struct bal_vcpu v[24];
	struct bal_move m[BAL_MAX_MOVES];

	lcg_state = 42;
	for (int round = 0; round < 20000; round++) {
		uint32_t nc = 1 + lcg(8), n = lcg(25), hi0, lo0, hi1, lo1, k;

		for (k = 0; k < nc; k++)
			c[k] = (struct place_cpu){ .online = lcg(4) != 0 };
		for (uint32_t i = 0; i < n; i++)
			v[i] = (struct bal_vcpu){ .cpu = lcg(nc), .pinned = lcg(4) == 0,
						  .runnable = lcg(4) != 0, .runtime = lcg(1000) };
		loads(v, n, c, nc, &hi0, &lo0);
		k = balance_step(v, n, c, nc, lcg(3) * 100, m);
		assert_in_range(k, 0, BAL_MAX_MOVES);
		for (uint32_t j = 0; j < k; j++) {
			const struct bal_vcpu *p = &v[m[j].vcpu];

			assert_true(m[j].vcpu < n);
			assert_false(p->pinned);
			assert_true(p->runnable);
			assert_true(c[p->cpu].online);
			assert_true(m[j].to < nc && c[m[j].to].online);
			assert_int_not_equal(m[j].to, p->cpu);
		}
		if (k == 2)
			assert_int_not_equal(m[0].vcpu, m[1].vcpu);
		if (lo0 != UINT32_MAX && hi0 == lo0)
			assert_int_equal(k, 0);
		for (uint32_t j = 0; j < k; j++)
			v[m[j].vcpu].cpu = m[j].to;
		if (lo0 != UINT32_MAX) {
			loads(v, n, c, nc, &hi1, &lo1);
			assert_true(hi1 - lo1 <= hi0 - lo0);
		}
	}
}

/* --- jain_index_ppm ------------------------------------------------------ */

static void test_jain_values(void **state)
{
	uint64_t eq[] = { 5, 5, 5, 5 }, half[] = { 1, 0 }, quarter[] = { 0, 0, 7, 0 };
	uint64_t abc[] = { 1, 2, 3 }, fifth[] = { 0, 0, 0, 9, 0 }, zero[] = { 0, 0 };

	assert_int_equal(jain_index_ppm(eq, N(eq)), 1000000);
	assert_int_equal(jain_index_ppm(eq, 1), 1000000);
	assert_int_equal(jain_index_ppm(half, N(half)), 500000);
	assert_int_equal(jain_index_ppm(quarter, N(quarter)), 250000);
	assert_int_equal(jain_index_ppm(abc, N(abc)), 857143); /* 36 / 42 */
	assert_int_equal(jain_index_ppm(fifth, N(fifth)), 200000);
	assert_int_equal(jain_index_ppm(zero, N(zero)), 0);
	assert_int_equal(jain_index_ppm(eq, 0), 0);
}

static void test_jain_large_values(void **state)
{
	static uint64_t many[4096];
	const uint64_t big = (1ull << 40) - 1;
	uint64_t top[] = { big, big, big }, one[] = { big, 0 }, mix[3];

	assert_int_equal(jain_index_ppm(top, N(top)), 1000000);
	assert_int_equal(jain_index_ppm(one, N(one)), 500000);
	/* Scale invariance: {1,2,3} << 38 reaches 2^40 */
	mix[0] = 1ull << 38;
	mix[1] = 2ull << 38;
	mix[2] = 3ull << 38;
	assert_int_equal(jain_index_ppm(mix, N(mix)), 857143);
	for (uint32_t i = 0; i < N(many); i++)
		many[i] = big;
	assert_int_equal(jain_index_ppm(many, N(many)), 1000000);
	for (uint32_t i = 0; i < N(many); i += 2)
		many[i] = 0;
	assert_int_equal(jain_index_ppm(many, N(many)), 500000);
	/* Far beyond 2^40: still no overflow. */
	for (uint32_t i = 0; i < N(many); i++)
		many[i] = UINT64_MAX - i;
	assert_int_equal(jain_index_ppm(many, N(many)), 1000000);
}

static void test_jain_matches_float(void **state)
{
	uint64_t x[64];

	lcg_state = 7;
	for (int round = 0; round < 2000; round++) {
		uint32_t n = 1 + lcg(64);
		double s = 0, q = 0, want;

		for (uint32_t i = 0; i < n; i++) {
			x[i] = ((uint64_t)lcg(1u << 20) << 20) | lcg(1u << 20); /* up to 2^40 */
			s += (double)x[i];
			q += (double)x[i] * (double)x[i];
		}
		want = q > 0 ? s * s / ((double)n * q) * 1e6 : 0;
		assert_true(jain_index_ppm(x, n) >= want - 1.0);
		assert_true(jain_index_ppm(x, n) <= want + 1.0);
	}
}

/* --- simulation ----------------------------------------------------------- */

#define SIM_MAX_CPUS  4
#define SIM_MAX_VCPUS 8
#define SLICE         1000u       /* TSC ticks per time slice */
#define SIM_SLICES    2000u
#define SIM_WARMUP    200u        /* gains are measured from here to SIM_SLICES */
#define BAL_EVERY     4u          /* slices between balancing steps */
#define MIN_GAP       (2 * SLICE)

struct sim {
	uint32_t nr_cpus, nr_vcpus;
	struct place_cpu cpu[SIM_MAX_CPUS];
	struct bal_vcpu v[SIM_MAX_VCPUS];
	int last[SIM_MAX_CPUS]; /* vCPU each CPU ran last, -1: none yet */
	uint64_t gain[SIM_MAX_VCPUS];
	uint32_t moves;
};

struct sim_result {
	uint32_t jain_ppm;
	uint32_t worst_dev_ppm; /* largest |share - mean| / mean */
};

static void sim_init(struct sim *s, uint32_t nr_cpus)
{
	memset(s, 0, sizeof(*s));
	s->nr_cpus = nr_cpus;
	for (uint32_t c = 0; c < nr_cpus; c++) {
		s->cpu[c].online = true;
		s->last[c] = -1;
	}
}

/* Queue a CPU-bound vCPU where place_vcpu says; pinned keeps it there. */
static void sim_add(struct sim *s, int pin, bool pinned)
{
	int c = place_vcpu(s->cpu, s->nr_cpus, pin);

	assert_true(c >= 0);
	s->v[s->nr_vcpus++] = (struct bal_vcpu){ .cpu = (uint32_t)c, .pinned = pinned, .runnable = true };
	s->cpu[c].nr_vcpus++;
}

/* Every online CPU runs the next runnable vCPU of its queue (in index order, wrapping) for one slice. */
static void sim_slice(struct sim *s)
{
	for (uint32_t c = 0; c < s->nr_cpus; c++) {
		for (uint32_t k = 1; s->cpu[c].online && k <= s->nr_vcpus; k++) {
			uint32_t i = (uint32_t)(s->last[c] + (int)k) % s->nr_vcpus;

			if (s->v[i].cpu == c && s->v[i].runnable) {
				s->v[i].runtime += SLICE;
				s->last[c] = (int)i;
				break;
			}
		}
	}
}

static void sim_balance(struct sim *s)
{
	struct bal_move m[BAL_MAX_MOVES];
	uint32_t n = balance_step(s->v, s->nr_vcpus, s->cpu, s->nr_cpus, MIN_GAP, m);

	for (uint32_t j = 0; j < n; j++) {
		struct bal_vcpu *v = &s->v[m[j].vcpu];

		assert_false(v->pinned);
		assert_true(s->cpu[m[j].to].online);
		s->cpu[v->cpu].nr_vcpus--;
		s->cpu[m[j].to].nr_vcpus++;
		v->cpu = m[j].to;
	}
	s->moves += n;
}

static struct sim_result sim_run(struct sim *s, bool balance)
{
	uint64_t start[SIM_MAX_VCPUS] = { 0 }, sum = 0;
	struct sim_result r = { 0, 0 };

	for (uint32_t t = 0; t < SIM_SLICES; t++) {
		if (t == SIM_WARMUP)
			for (uint32_t i = 0; i < s->nr_vcpus; i++)
				start[i] = s->v[i].runtime;
		if (balance && t % BAL_EVERY == 0)
			sim_balance(s);
		sim_slice(s);
	}
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		s->gain[i] = s->v[i].runtime - start[i];
		sum += s->gain[i];
	}
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		uint64_t a = s->gain[i] * s->nr_vcpus, d = a > sum ? a - sum : sum - a;
		uint32_t dev = (uint32_t)(d * 1000000 / sum);

		r.worst_dev_ppm = dev > r.worst_dev_ppm ? dev : r.worst_dev_ppm;
	}
	r.jain_ppm = jain_index_ppm(s->gain, s->nr_vcpus);
	return r;
}

static void sim_check_fair(struct sim *s, const char *name)
{
	struct sim_result r = sim_run(s, true);
	uint64_t sum = 0;

	print_message("%-28s Jain %7u ppm, worst share deviation %5.2f%%, %u moves\n", name,
		      r.jain_ppm, r.worst_dev_ppm / 1e4, s->moves);
	assert_true(r.worst_dev_ppm <= 100000); /* every share within 10% of the mean */
	assert_true(r.jain_ppm >= 990000);
	/* Every CPU stayed busy: balancing never left one idle while another had two. */
	for (uint32_t i = 0; i < s->nr_vcpus; i++)
		sum += s->gain[i];
	assert_int_equal(sum, (uint64_t)(SIM_SLICES - SIM_WARMUP) * SLICE *
			 (s->nr_cpus < s->nr_vcpus ? s->nr_cpus : s->nr_vcpus));
}

static void test_sim_5_on_2(void **state)
{
	struct sim s;

	sim_init(&s, 2);
	for (int i = 0; i < 5; i++)
		sim_add(&s, -1, false);
	assert_int_equal(s.cpu[0].nr_vcpus, 3);
	sim_check_fair(&s, "5 vCPUs on 2 CPUs");
}

static void test_sim_5_on_2_unbalanced(void **state)
{
	struct sim s;
	struct sim_result r;
	const uint64_t window = (SIM_SLICES - SIM_WARMUP) * SLICE;

	sim_init(&s, 2);
	for (int i = 0; i < 5; i++)
		sim_add(&s, -1, false);
	r = sim_run(&s, false);
	print_message("%-28s Jain %7u ppm, worst share deviation %5.2f%%\n", "5 on 2, no balancing",
		      r.jain_ppm, r.worst_dev_ppm / 1e4);
	/* CPU 0's three get 1/3 of a CPU each, CPU 1's two get 1/2. */
	for (uint32_t i = 0; i < s.nr_vcpus; i++)
		assert_int_equal(s.gain[i], s.v[i].cpu == 0 ? window / 3 : window / 2);
	assert_true(r.worst_dev_ppm > 100000);
	assert_true(r.jain_ppm < 990000);
}

static void test_sim_3_on_1(void **state)
{
	struct sim s;

	/* Three queued on CPU 0 of two: rule 1 spreads them, then trades. */
	sim_init(&s, 2);
	for (int i = 0; i < 3; i++)
		sim_add(&s, 0, false);
	sim_check_fair(&s, "3 vCPUs started on 1 of 2");
	assert_int_not_equal(s.cpu[1].nr_vcpus, 0);
	/* A single CPU: round-robin alone is fair. */
	sim_init(&s, 1);
	for (int i = 0; i < 3; i++)
		sim_add(&s, -1, false);
	sim_check_fair(&s, "3 vCPUs on 1 CPU");
	assert_int_equal(s.moves, 0);
}

static void test_sim_7_on_3_pinned(void **state)
{
	struct sim s;

	/* The pinned vCPU lands on the CPU that ends up with three. */
	sim_init(&s, 3);
	sim_add(&s, 0, true);
	for (int i = 1; i < 7; i++)
		sim_add(&s, -1, false);
	assert_int_equal(s.cpu[0].nr_vcpus, 3);
	sim_check_fair(&s, "7 on 3, pinned on busy CPU");
	assert_int_equal(s.v[0].cpu, 0);
	/* ... and on one that starts with two. */
	sim_init(&s, 3);
	for (int i = 0; i < 7; i++)
		sim_add(&s, i == 3 ? 2 : -1, i == 3);
	assert_int_equal(s.cpu[2].nr_vcpus, 2);
	sim_check_fair(&s, "7 on 3, pinned on idle CPU");
	assert_int_equal(s.v[3].cpu, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_least_loaded),
		cmocka_unit_test(test_place_ties_lowest_id),
		cmocka_unit_test(test_place_skips_offline),
		cmocka_unit_test(test_place_pinned),
		cmocka_unit_test(test_place_none_online),
		cmocka_unit_test(test_bal_imbalance_moves_most_run),
		cmocka_unit_test(test_bal_imbalance_ignores_gap),
		cmocka_unit_test(test_bal_imbalance_skips_pinned),
		cmocka_unit_test(test_bal_busiest_all_pinned),
		cmocka_unit_test(test_bal_blocked_not_counted_or_moved),
		cmocka_unit_test(test_bal_diff1_swaps_least_and_most),
		cmocka_unit_test(test_bal_diff1_hysteresis),
		cmocka_unit_test(test_bal_diff1_skips_pinned_on_idle),
		cmocka_unit_test(test_bal_diff1_pinned_laggard),
		cmocka_unit_test(test_bal_diff1_pinned_leader),
		cmocka_unit_test(test_bal_diff1_to_empty_cpu),
		cmocka_unit_test(test_bal_balanced_no_moves),
		cmocka_unit_test(test_bal_offline_cpus),
		cmocka_unit_test(test_bal_three_cpus),
		cmocka_unit_test(test_bal_random_invariants),
		cmocka_unit_test(test_jain_values),
		cmocka_unit_test(test_jain_large_values),
		cmocka_unit_test(test_jain_matches_float),
		cmocka_unit_test(test_sim_5_on_2),
		cmocka_unit_test(test_sim_5_on_2_unbalanced),
		cmocka_unit_test(test_sim_3_on_1),
		cmocka_unit_test(test_sim_7_on_3_pinned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
