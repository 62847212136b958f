/* SPDX-License-Identifier: MIT */
/*
 * Where guest instructions meet the device layer: guest linear addresses
 * through the one page walker (vmm/emul/walk.c) with the vCPU's paging
 * state from its VMCS, string port I/O, and MMIO through the instruction
 * emulator (vmm/emul/insn.c). Every guest access is checked against the
 * VM's memory: RAM through its extents, devices through its buses.
 */
#ifndef TERN_VMM_EMULATE_H
#define TERN_VMM_EMULATE_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/exit.h"

struct vcpu;

/*
 * Translate guest linear address la for an access (WALK_* bits). 0 with
 * *gpa; -EFAULT when the walk faulted and the fault (#PF with CR2, or #GP)
 * is now pending for the guest; -EIO when a paging structure is not in RAM.
 */
int emul_translate(struct vcpu *v, uint64_t la, unsigned int access, uint64_t *gpa);
/* Copy [la, la+len) of guest RAM in or out through the guest's paging (len <= 8, may cross a page). */
int emul_read_linear(struct vcpu *v, uint64_t la, void *buf, unsigned int len);
int emul_write_linear(struct vcpu *v, uint64_t la, const void *buf, unsigned int len);
/* INS/OUTS, with or without REP (SDM vol. 2B; exit qualification in vol. 3C table 28-5). */
enum exit_action emul_string_io(struct vcpu *v, uint64_t qual);
/* An access to gpa that EPT does not map to RAM: the instruction is emulated against the bus. */
enum exit_action emul_mmio(struct vcpu *v, uint64_t gpa, bool write);

#endif
