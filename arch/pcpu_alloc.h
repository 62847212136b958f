/* SPDX-License-Identifier: MIT */
/* Creating per-CPU areas (boot time only). */
#ifndef TERN_ARCH_PCPU_ALLOC_H
#define TERN_ARCH_PCPU_ALLOC_H

#include "arch/pcpu.h"

/* A zeroed struct pcpu with its guarded stacks mapped, or NULL. */
struct pcpu *pcpu_create(uint32_t id, uint32_t apic_id);
/* Map guarded kernel and IST stacks for c (slot chosen by c->id). 0 or -1. */
int pcpu_alloc_stacks(struct pcpu *c);

#endif
