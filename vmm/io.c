/* SPDX-License-Identifier: MIT */
/*
 * Port I/O exits (SDM vol. 3C table 28-5). Every port exits (the I/O
 * bitmaps are all ones): the VM's port bus answers (vmm/platform.c), and a
 * port no device claims is open bus there, never host hardware.
 */
#include "vmm/emulate.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/desc.h"
#include "arch/vmx.h"
#include "kernel/log.h"

/* The access is done: what it asked the platform for takes effect. */
static enum exit_action after_access(struct vcpu *v, enum exit_action act)
{
	struct vm *vm = v->vm;
	/* A plain look first: the exchange only when a device asked for something. */
	int req = __atomic_load_n(&vm->plat.request, __ATOMIC_RELAXED) ? vplatform_take_request(vm) : 0;

	if (req) {
		vm_guest_end(vm, req);
		return EXIT_STOP;
	}
	if (vm->plat.pio.open_reads + vm->plat.pio.open_writes >= VM_IO_STORM_LIMIT) {
		vm_stop(vm, "I/O port storm: %lu accesses to ports no device answers (last: port 0x%lx)",
			(unsigned long)(vm->plat.pio.open_reads + vm->plat.pio.open_writes),
			(unsigned long)vm->plat.pio.last_open);
		return EXIT_STOP;
	}
	return act;
}

enum exit_action handle_io(struct vcpu *v, const struct exit_info *e)
{
	struct vm *vm = v->vm;
	uint16_t port = (uint16_t)IO_QUAL_PORT(e->qual);
	unsigned int size = IO_QUAL_SIZE(e->qual);
	uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;

	if (e->qual & IO_QUAL_STRING)
		return after_access(v, emul_string_io(v, e->qual));
	if (e->qual & IO_QUAL_IN) {
		uint64_t val = vplatform_pio_read(vm, port, size);

		/* IN EAX zero-extends into RAX; IN AL/AX leave the rest (SDM vol. 2A, IN). */
		v->regs.rax = size == 4 ? val : (v->regs.rax & ~mask) | val;
	} else {
		vplatform_pio_write(vm, port, size, (uint32_t)(v->regs.rax & mask));
	}
	vcpu_skip_instruction();
	return after_access(v, EXIT_RESUME);
}
