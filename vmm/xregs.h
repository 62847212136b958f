/* SPDX-License-Identifier: MIT */
/*
 * Guest registers that VM entry and exit leave alone (SDM vol. 3C 27.3,
 * 28.5: they are neither saved nor loaded): x87/SSE/AVX/AVX-512/PKRU state
 * with the guest's XCR0, DR0-DR3 and DR6, CR2 and IA32_TSC_AUX. Each CPU
 * holds one vCPU's set in its registers (the owner); the set moves to
 * memory only when another vCPU enters on that CPU or the owner leaves it,
 * so a vCPU that runs alone on a CPU pays nothing per exit.
 */
#ifndef TERN_VMM_XREGS_H
#define TERN_VMM_XREGS_H

#include <stdint.h>

struct vcpu;

struct vcpu_xregs {
	void *area;        /* xstate_config.size bytes, page-aligned */
	uint64_t area_phys;
	uint32_t area_pages;
	uint64_t xcr0;     /* the guest's XCR0 (XSETBV) */
	uint64_t dr[4], dr6, cr2, tsc_aux;
};

int vcpu_xregs_init(struct vcpu *v);
/* Forget v on every CPU (it is being destroyed) and free its area. */
void vcpu_xregs_free(struct vcpu *v);
/* Before v enters on this CPU: make its registers the live ones. */
void vcpu_xregs_switch_in(struct vcpu *v);
/* v leaves this CPU (moves away or ends): its registers go back to memory. */
void vcpu_xregs_release(struct vcpu *v);
/* Log how often and how expensively that happened (make bench). */
void vcpu_xregs_report(void);

#endif
