/* SPDX-License-Identifier: MIT */
/*
 * VMX control values and CR0/CR4 forced to what the capability MSRs allow
 * (SDM vol. 3C appendix A.3-A.5, A.7-A.8). Pure logic: the caller reads the MSRs.
 */
#ifndef TERN_ARCH_VMX_CTLS_H
#define TERN_ARCH_VMX_CTLS_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/errno.h"

/* Not in kernel/errno.h yet; Linux's value, like the rest of that file. */
#ifndef ENOTSUP
#define ENOTSUP 95
#endif

/*
 * want = required | optional, forced to what the CPU allows. 0 and *out
 * (required bits all present, optional ones where allowed, must-be-one bits
 * added), or -ENOTSUP with *missing = the required bits the CPU cannot set
 * (out untouched). missing may be NULL; it is 0 on success.
 */
int vmx_ctl_compute(uint64_t cap_msr, uint32_t required, uint32_t optional, uint32_t *out, uint32_t *missing);

/* (value | fixed0) & fixed1 */
uint64_t vmx_cr_fixed(uint64_t value, uint64_t fixed0, uint64_t fixed1);

/* Is value acceptable as-is? (all fixed0 bits set, no bit outside fixed1) */
bool vmx_cr_valid(uint64_t value, uint64_t fixed0, uint64_t fixed1);

#endif
