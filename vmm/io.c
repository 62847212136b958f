/* SPDX-License-Identifier: MIT */
/* Port I/O exits (SDM vol. 3C table 28-5): the virtual UART, and nothing else answers. */
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "arch/desc.h"
#include "arch/vmx.h"
#include "kernel/log.h"

static uint32_t port_read(struct vm *vm, uint16_t port, unsigned int size)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);

		v |= (vuart_claims(p) ? vuart_read(&vm->uart, p) & 0xffu : 0xffu) << (8 * i);
	}
	return v;
}

static void port_write(struct vm *vm, uint16_t port, unsigned int size, uint32_t val)
{
	for (unsigned int i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);

		if (vuart_claims(p))
			vuart_write(&vm->uart, p, (uint8_t)(val >> (8 * i)));
	}
}

enum exit_action handle_io(struct vcpu *v, const struct exit_info *e)
{
	struct vm *vm = v->vm;
	uint16_t port = (uint16_t)IO_QUAL_PORT(e->qual);
	unsigned int size = IO_QUAL_SIZE(e->qual);
	uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;

	if (e->qual & IO_QUAL_STRING) {
		vm_stop(vm, "string I/O (INS/OUTS) on port 0x%x is not supported, RIP 0x%lx", port,
			vmcs_read(VMCS_GUEST_RIP));
		return EXIT_STOP;
	}
	if (!vuart_claims(port) && ++vm->unhandled_io >= VM_IO_STORM_LIMIT) {
		vm_stop(vm, "I/O port storm: %lu accesses to unhandled ports (last: port 0x%x)",
			(unsigned long)vm->unhandled_io, port);
		return EXIT_STOP;
	}
	if (e->qual & IO_QUAL_IN)
		v->regs.rax = (v->regs.rax & ~mask) | port_read(vm, port, size);
	else
		port_write(vm, port, size, (uint32_t)(v->regs.rax & mask));
	vcpu_skip_instruction();
	return EXIT_RESUME;
}
