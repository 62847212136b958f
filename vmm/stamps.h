/* SPDX-License-Identifier: MIT */
/*
 * Where an exit's ticks go, for `make bench` only: a build with
 * -DTERN_STAMPS (make KEXTRA=-DTERN_STAMPS) takes a TSC stamp at four points
 * of every exit that resumes the same vCPU, and sums each part per kind of
 * exit (its basic reason; for I/O, its port too). Under Bochs with
 * clock: sync=none a tick is an instruction, so the parts are path lengths.
 * vcpu_report logs them when the VM ends. Every other build compiles none
 * of it: the macros below are empty.
 *
 *   dispatch: from the exit handler's first line to the handler's call
 *   handler:  the handler
 *   events:   the scheduler's look after it, up to the return to the stub
 *
 * The rest of a round trip (saving and loading GPRs, VMRESUME, the exit
 * itself) is the guest's measured total less these.
 */
#ifndef TERN_VMM_STAMPS_H
#define TERN_VMM_STAMPS_H

#include <stdint.h>

#define STAMP_SLOTS 8u
#define STAMP_PARTS 3u

struct stamp_slot {
	uint32_t key;   /* basic exit reason << 16 | port (I/O); 0 with n = 0: free */
	uint64_t n;
	uint64_t part[STAMP_PARTS];
};

struct vcpu_stamps {
	uint32_t key;   /* the exit under way */
	uint64_t t[STAMP_PARTS]; /* its stamps so far */
	struct stamp_slot slot[STAMP_SLOTS];
	uint64_t other; /* exits that found no free slot */
};

#ifdef TERN_STAMPS
struct vcpu;
/* Stamp i (0: dispatch start, 1: handler call, 2: handler return) of the exit under way. */
#define STAMP(v, i) ((v)->stamps.t[(i)] = rdtsc())
/* The exit resumes v: its last stamp, and the parts summed into its slot. */
void stamp_resume(struct vcpu *v);
/* The stamps' own cost, measured once (subtracted from each part in the log). */
uint64_t stamp_cost(void);
void stamp_report(const struct vcpu *v);
#else
#define STAMP(v, i) ((void)0)
#define stamp_resume(v) ((void)0)
#define stamp_report(v) ((void)0)
#endif

#endif
