/* SPDX-License-Identifier: MIT */
/* Guest MSR policy: an explicit allow list; everything else raises #GP in the guest. */
#ifndef TERN_VMM_MSR_H
#define TERN_VMM_MSR_H

#include <stdint.h>

/* Build the shared MSR bitmap (boot, once). 0 or -ENOMEM. */
int msr_bitmap_init(void);
uint64_t msr_bitmap_phys(void);

#endif
