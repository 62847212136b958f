/* SPDX-License-Identifier: MIT */
/* Guest control registers: VMX fixed bits owned by the host, shadows for the guest. */
#ifndef TERN_VMM_CR_H
#define TERN_VMM_CR_H

#include <stdint.h>

uint64_t guest_cr0_host_mask(void);
uint64_t guest_cr4_host_mask(void);
/* The value the CPU really runs with for a guest-chosen one. */
uint64_t guest_cr0_hw(uint64_t guest_value);
uint64_t guest_cr4_hw(uint64_t guest_value);

#endif
