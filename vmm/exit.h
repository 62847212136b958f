/* SPDX-License-Identifier: MIT */
/* VM-exit handling: one handler per basic exit reason, in a const table. */
#ifndef TERN_VMM_EXIT_H
#define TERN_VMM_EXIT_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/vcpu.h"

/* What the scheduler does after a handled exit. */
enum exit_action {
	EXIT_RESUME = 0, /* enter the same vCPU again */
	EXIT_YIELD,      /* its slice is over: run the next one */
	EXIT_BLOCK,      /* HLT with interrupts on */
	EXIT_HALT,       /* HLT with interrupts off: the vCPU is done */
	EXIT_STOP,       /* the VM was stopped */
};

struct exit_info {
	uint32_t reason;  /* basic exit reason */
	bool in_delivery; /* it interrupted an event's delivery, now queued again (X_DELIVERY exits) */
	uint64_t qual;    /* the exit qualification, for the exits whose handler reads it (else 0) */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, const struct exit_info *e);

/* Per-area handlers (vmm/cr.c, vmm/msr.c, vmm/io.c, vmm/xregs.c). */
enum exit_action handle_cr_access(struct vcpu *v, const struct exit_info *e);
enum exit_action handle_rdmsr(struct vcpu *v, const struct exit_info *e);
enum exit_action handle_wrmsr(struct vcpu *v, const struct exit_info *e);
enum exit_action handle_io(struct vcpu *v, const struct exit_info *e);
enum exit_action handle_xsetbv(struct vcpu *v, const struct exit_info *e);

const char *exit_reason_name(uint32_t reason);

#endif
