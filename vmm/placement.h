/* SPDX-License-Identifier: MIT */
/*
 * vCPU placement and load balancing across physical CPUs. Pure logic: the
 * caller snapshots run-queue state under its own locks, asks what to do, and
 * applies the answer (moves) itself.
 */
#ifndef TERN_VMM_PLACEMENT_H
#define TERN_VMM_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

struct place_cpu {
	bool online;
	uint32_t nr_vcpus; /* vCPUs queued there (runnable or blocked) */
};
/* Where a new vCPU goes: pin >= 0 means exactly that CPU (must exist and be online: else -EINVAL); pin < 0: the online CPU with the fewest vCPUs, ties to the lowest id. -EINVAL when none is online. */
int place_vcpu(const struct place_cpu *cpus, uint32_t nr_cpus, int pin);

struct bal_vcpu {
	uint32_t cpu;      /* where it is queued */
	bool pinned;       /* never moved */
	bool runnable;     /* blocked vCPUs do not count toward load and are not moved */
	uint64_t runtime;  /* CPU time received so far (TSC ticks), i.e. its progress */
};
struct bal_move {
	uint32_t vcpu;     /* index into the bal_vcpu array */
	uint32_t to;       /* destination CPU */
};
#define BAL_MAX_MOVES 2
/*
 * One balancing step, run periodically (every few time slices). Load = runnable vCPUs per online CPU.
 * - If the busiest and the least-busy online CPU differ by 2 or more runnable vCPUs: move one movable runnable vCPU from the busiest to the least busy (the one with the most runtime: it has had the most).
 * - If they differ by exactly 1 (e.g. 5 vCPUs on 2 CPUs): vCPUs on the busier CPU get less time, so swap the movable runnable vCPU with the LEAST runtime on the busiest CPU with the movable runnable vCPU with the MOST runtime on the least-busy CPU — only when that runtime gap exceeds min_gap (hysteresis, so balanced systems do not thrash).
 * - Otherwise nothing.
 * Returns the number of moves written to out (0..BAL_MAX_MOVES). Never moves a pinned, blocked or offline-CPU vCPU, never to an offline CPU.
 *
 * Details the rules above leave open:
 * - Ties: among equally busy CPUs, the one whose candidate vCPU fits best
 *   (least runtime on the busy side, most on the idle side), then the lowest
 *   id; among equal runtimes, the lowest vCPU index.
 * - If the busiest CPU holds nothing movable, the 2+ rule takes the busiest
 *   CPU that does, if it is still 2+ above the least busy.
 * - Pinned vCPUs in the 1-difference rule: a swap never changes any CPU's
 *   load, so a pinned vCPU stuck on a busier CPU would stay behind forever.
 *   The rule therefore compares the least-run runnable vCPU on the busiest
 *   CPUs (the laggard) with the most-run one on the least-busy CPUs (the
 *   leader), pinned or not, against min_gap. Both movable: the swap above.
 *   Laggard pinned: the most-run movable vCPU on its CPU moves to the
 *   leader's CPU instead (one move, making the laggard's CPU the lighter
 *   one). Leader pinned: the laggard alone moves to the leader's CPU.
 * Cost: O(nr_cpus * nr_vcpus), no allocation.
 */
uint32_t balance_step(const struct bal_vcpu *v, uint32_t nr_vcpus, const struct place_cpu *cpus, uint32_t nr_cpus, uint64_t min_gap, struct bal_move *out);
/* Jain's fairness index of x[0..n): (sum x)^2 / (n * sum x^2), in parts per million (1,000,000 = perfectly fair). 0 for n == 0 or all zero. Use 128-bit or careful arithmetic: runtimes are up to 2^40. */
uint32_t jain_index_ppm(const uint64_t *x, uint32_t n);

#endif
