/* SPDX-License-Identifier: MIT */
/*
 * When VM entry fails with "invalid guest state" the CPU does not say which
 * check failed. This repeats the main checks of SDM vol. 3C "Checks on the
 * Guest State Area" in software on a snapshot of the fields, so the log can
 * name the culprit. Pure logic, unit-tested on the host.
 */
#ifndef TERN_VMM_VMCS_CHECK_H
#define TERN_VMM_VMCS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_state {
	uint64_t cr0, cr4, efer, rflags, link_pointer;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint32_t entry_ctls;
	bool unrestricted;
	uint32_t cs_ar, ss_ar, tr_ar, ldtr_ar;
	uint32_t activity;
};

/* Writes the first violated rule into buf and returns true, or returns false. */
bool guest_state_check(const struct guest_state *g, char *buf, size_t size);

#endif
