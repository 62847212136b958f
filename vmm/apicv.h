/* SPDX-License-Identifier: MIT */
/* xAPIC MMIO through APIC-register virtualization (see apicv.c). */
#ifndef TERN_VMM_APICV_H
#define TERN_VMM_APICV_H

#include "vmm/exit.h"
#include "vmm/gmap.h"

struct vm;

int apicv_init(void);          /* boot: the shared APIC-access page */
int apicv_map(struct vm *vm);  /* EPT: 0xfee00000 -> the APIC-access page */
void apicv_setup_vmcs(struct vcpu *v);
enum exit_action handle_apic_write(struct vcpu *v, const struct exit_info *e);
enum exit_action handle_apic_access(struct vcpu *v, const struct exit_info *e);
/* An EPT violation on the APIC page (CPUs without APIC-register virtualization). */
enum exit_action apicv_ept_violation(struct vcpu *v, uint64_t gpa, bool write);
#define APIC_PAGE_GPA GMAP_LAPIC_BASE

#endif
