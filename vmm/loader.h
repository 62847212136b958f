/* SPDX-License-Identifier: MIT */
/*
 * Guest image loading: ELF64 images run in 64-bit mode on identity page
 * tables Tern builds; flat images run in real mode from 0000:7c00. The guest
 * ABI is written down in tests/guests/guest.h.
 */
#ifndef TERN_VMM_LOADER_H
#define TERN_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include "vmm/vm.h"

#define GUEST_PT_BASE     0x1000ull  /* PML4, PDPT, 4 PDs: [0x1000, 0x7000) */
#define GUEST_GDT_BASE    0x7000ull
#define GUEST_REAL_ENTRY  0x7c00ull
#define GUEST_IMAGE_MIN   0x100000ull /* ELF segments load at or above 1 MiB */
#define GUEST_SEL_CODE64  0x08u
#define GUEST_SEL_DATA    0x10u

/*
 * Load img into vm and prepare the initial state of vCPU 0. 0, or a negative
 * error with a one-line reason in err.
 */
int vm_load_image(struct vm *vm, const void *img, size_t len, char *err, size_t errlen);

/*
 * Why a VM of nr_vcpus vCPUs cannot run on this CPU, or NULL. Application
 * processors start in real mode at their SIPI vector, which needs
 * unrestricted guest, as real-mode images do: without it, one vCPU only.
 */
const char *vm_vcpus_refused(uint32_t nr_vcpus);

#endif
