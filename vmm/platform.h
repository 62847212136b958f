/* SPDX-License-Identifier: MIT */
/*
 * A VM's platform: the devices every Tern VM has (docs/devices.md), their
 * buses, and the wiring between them and the vCPUs. Device models
 * (vmm/emul/) are pure; this file is where they meet the hypervisor:
 * guest time from the TSC, ISA IRQ lines into the 8259A pair and the I/O
 * APIC, their outputs into the virtual local APICs (ExtINT through vCPU
 * 0's LINT0; I/O APIC messages by destination), device timers run by vCPU
 * 0, and the guest's power-off and reset requests.
 *
 * Locking: plat.lock covers every device and both buses. It is taken by the
 * VM's vCPUs on their exits and by the management guest (console input,
 * the power button); under it a device may post to a vLAPIC (which takes a
 * run-queue lock), never the other way round: run-queue lock holders only
 * read next_tsc and extint.
 */
#ifndef TERN_VMM_PLATFORM_H
#define TERN_VMM_PLATFORM_H

#include "vmm/gmap.h"
#include <stdbool.h>
#include <stdint.h>
#include "kernel/spinlock.h"
#include "vmm/emul/bus.h"
#include "vmm/emul/dev.h"
#include "vmm/emul/vioapic.h"
#include "vmm/emul/vkbc.h"
#include "vmm/emul/vpci.h"
#include "vmm/emul/vpic.h"
#include "vmm/emul/vpit.h"
#include "vmm/emul/vpm.h"
#include "vmm/emul/vpvpanic.h"
#include "vmm/emul/vrtc.h"

struct vm;
struct vcpu;

#define VPLAT_IOAPIC_BASE GMAP_IOAPIC_BASE
#define VPLAT_IOAPIC_SIZE 0x1000ull
#define VPLAT_POST_PORT   0x80u

struct vplatform {
	struct spinlock lock;
	struct emul_env env;
	struct bus pio, mmio;
	struct vpic pic;
	struct vioapic ioapic;
	struct vpit pit;
	struct vrtc rtc;
	struct vpm pm;
	struct vpci pci;
	struct vkbc kbc;
	struct vpvpanic pvpanic;
	uint8_t post;                /* the last POST code written to port 0x80 */
	uint64_t tsc0;               /* guest time 0, moved on by each pause's length */
	uint64_t paused_tsc;         /* when the VM was paused: guest time stands there (0: running) */
	uint64_t paused_ns;          /* guest time lost to pauses, in all */
	volatile uint64_t next_tsc;  /* the earliest device timer event (~0: none) */
	volatile bool extint;        /* the PIC's INTR is up (vCPU 0's LINT0) */
	volatile int request;        /* enum emul_request the guest made, 0: none */
	bool restoring;              /* loading device records: interrupt lines stay quiet */
	struct vm *vm;
};

int vplatform_init(struct vm *vm);
/* A port access by the guest: the value read (in) or written. */
uint32_t vplatform_pio_read(struct vm *vm, uint16_t port, unsigned int size);
void vplatform_pio_write(struct vm *vm, uint16_t port, unsigned int size, uint32_t val);
/* An MMIO access: false when no device answers at gpa (the caller treats it as open bus). */
bool vplatform_mmio_claims(struct vm *vm, uint64_t gpa);
uint64_t vplatform_mmio_read(struct vm *vm, uint64_t gpa, unsigned int size);
void vplatform_mmio_write(struct vm *vm, uint64_t gpa, unsigned int size, uint64_t val);
/* vCPU 0 before entry: run device timers that are due. */
static inline bool vplatform_timer_due(const struct vplatform *p, uint64_t now)
{
	return now >= p->next_tsc;
}
void vplatform_run_timers(struct vm *vm);
/*
 * The VM's pause settled at host TSC tsc, or it resumed at tsc (vm.c,
 * vm->lock held): device time (emul_env.now_ns) stops and goes on from
 * where it stopped, so no periodic timer catches up in a burst and
 * counters do not jump. The RTC's calendar keeps real time (vrtc_skip).
 */
void vplatform_pause(struct vm *vm, uint64_t tsc);
void vplatform_resume(struct vm *vm, uint64_t tsc);
/* The PIC's INTA cycle for an ExtINT the vCPU is taking: the vector. */
uint8_t vplatform_inta(struct vm *vm);
/* A vLAPIC's EOI of a level-triggered vector (the I/O APIC's remote IRR). */
void vplatform_eoi(struct vm *vm, uint8_t vector);
/* Input arrived in the console's receive FIFO (TERN_HC_CONSOLE_WRITE): RX interrupts. */
void vplatform_uart_rx(struct vm *vm);
/* The operator's power button (ACPI guests shut down on it): true if the guest enabled its event. */
bool vplatform_power_button(struct vm *vm);
/* Every device's record back to back (TERN_HC_DEV_GET_STATE): bytes, or -ENOSPC. */
int vplatform_save(struct vm *vm, void *buf, size_t cap);
/* Load records vplatform_save wrote, all or nothing: 0 or -EINVAL. */
int vplatform_restore(struct vm *vm, const void *buf, size_t len);
/* Take the guest's pending power-off or reset request (0: none). */
int vplatform_take_request(struct vm *vm);

#endif
