/* SPDX-License-Identifier: MIT */
/* Guest accesses for the device layer: the walker, string I/O, MMIO (emulate.h). */
#include "vmm/emulate.h"
#include "vmm/emul/insn.h"
#include "vmm/emul/walk.h"
#include "vmm/apicv.h"
#include "vmm/platform.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/msr.h"
#include "arch/vmx.h"
#include "arch/x86.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/string.h"

#define RFLAGS_DF          BIT(10)
#define AR_DPL(ar)         (((ar) >> 5) & 3u)
/* VM-exit instruction information for INS/OUTS (SDM vol. 3C table 28-8): address size. */
#define IO_INFO_ADDR_SIZE(i) (((i) >> 7) & 7u)
/* Elements one exit moves at most: then RIP stays and the instruction exits again. */
#define STRING_IO_BATCH    1024u

static void *gpa_ptr(void *ctx, uint64_t gpa, size_t len)
{
	return vm_guest_ptr(ctx, gpa, len);
}

static unsigned int maxphyaddr(void)
{
	static unsigned int bits;

	if (!bits)
		bits = cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax & 0xffu;
	return bits;
}

static void walk_regs_of(struct walk_regs *r)
{
	*r = (struct walk_regs){
		.cr0 = vmcs_read(VMCS_GUEST_CR0), .cr3 = vmcs_read(VMCS_GUEST_CR3),
		.cr4 = vmcs_read(VMCS_GUEST_CR4), .efer = vmcs_read(VMCS_GUEST_IA32_EFER),
		.rflags = vmcs_read(VMCS_GUEST_RFLAGS),
		.cpl = AR_DPL(vmcs_read(VMCS_GUEST_SS_AR_BYTES)),
		.maxphyaddr = maxphyaddr(),
		/* VM exits save the PDPTEs under PAE paging with EPT (SDM vol. 3C 28.3.4). */
		.pdptes_loaded = true,
		.pdpte = { vmcs_read(VMCS_GUEST_PDPTE0), vmcs_read(VMCS_GUEST_PDPTE1),
			   vmcs_read(VMCS_GUEST_PDPTE2), vmcs_read(VMCS_GUEST_PDPTE3) },
	};
	/* PKRU is the guest's own while it is loaded here (xregs.c); keys are not checked yet. */
}

int emul_translate(struct vcpu *v, uint64_t la, unsigned int access, uint64_t *gpa)
{
	struct walk_env env = { v->vm, gpa_ptr };
	struct walk_regs r;
	struct walk_result res;

	walk_regs_of(&r);
	if (r.cpl == 3)
		access |= WALK_USER;
	if (!walk_gva(&env, &r, la, access, &res)) {
		*gpa = res.gpa;
		return 0;
	}
	if (res.fault == WALK_BUS)
		return -EIO;
	if (res.fault == WALK_PF) {
		write_cr2(la); /* the guest's CR2 is loaded while it runs here (xregs.c) */
		vcpu_inject_exception(VEC_PF, true, res.pf_error);
	} else {
		vcpu_inject_exception(VEC_GP, true, 0);
	}
	return -EFAULT;
}

/* One piece that does not cross a page: RAM only. */
static int copy_piece(struct vcpu *v, uint64_t la, void *buf, unsigned int len, bool write)
{
	uint64_t gpa;
	void *p;
	int err = emul_translate(v, la, write ? WALK_WRITE : 0, &gpa);

	if (err)
		return err;
	if (write && !vm_range_ok(v->vm, gpa, len, true))
		return -EIO;
	p = vm_guest_ptr(v->vm, gpa, len);
	if (!p)
		return -EIO;
	if (write)
		memcpy(p, buf, len);
	else
		memcpy(buf, p, len);
	return 0;
}

static int copy_linear(struct vcpu *v, uint64_t la, void *buf, unsigned int len, bool write)
{
	unsigned int first = (unsigned int)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	int err;

	if (first >= len)
		return copy_piece(v, la, buf, len, write);
	/* Crossing a page: both translations first, so a fault leaves memory untouched. */
	if (write) {
		uint64_t g1, g2;

		if ((err = emul_translate(v, la, WALK_WRITE, &g1)) ||
		    (err = emul_translate(v, la + first, WALK_WRITE, &g2)))
			return err;
	}
	if ((err = copy_piece(v, la, buf, first, write)))
		return err;
	return copy_piece(v, la + first, (uint8_t *)buf + first, len - first, write);
}

int emul_read_linear(struct vcpu *v, uint64_t la, void *buf, unsigned int len)
{
	return copy_linear(v, la, buf, len, false);
}

int emul_write_linear(struct vcpu *v, uint64_t la, const void *buf, unsigned int len)
{
	return copy_linear(v, la, (void *)buf, len, true);
}

/* A register written at an address size: 32-bit writes zero-extend, 16-bit ones merge. */
static uint64_t set_sized(uint64_t old, uint64_t val, uint64_t mask)
{
	return mask == 0xffffull ? (old & ~mask) | (val & mask) : val & mask;
}

/*
 * INS/OUTS: the VMCS gives the linear address of the first element with
 * the segment base applied (SDM vol. 3C 28.2.1, "guest-linear address");
 * RSI/RDI and RCX advance per element by the address size, backwards with
 * RFLAGS.DF. A fault stops the string with the completed elements standing,
 * as the processor does; the rest runs when the guest returns to it.
 */
enum exit_action emul_string_io(struct vcpu *v, uint64_t qual)
{
	uint16_t port = (uint16_t)IO_QUAL_PORT(qual);
	unsigned int size = IO_QUAL_SIZE(qual), asz = IO_INFO_ADDR_SIZE(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_INFO));
	bool in = qual & IO_QUAL_IN, rep = qual & IO_QUAL_REP;
	uint64_t amask = asz == 0 ? 0xffffull : asz == 1 ? 0xffffffffull : ~0ull;
	uint64_t la = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
	int64_t step = vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_DF ? -(int64_t)size : (int64_t)size;
	uint64_t *index = in ? &v->regs.rdi : &v->regs.rsi;
	uint64_t count = rep ? v->regs.rcx & amask : 1;

	for (uint32_t n = 0; count && n < STRING_IO_BATCH; n++) {
		uint32_t val = 0;
		int err;

		if (in) {
			val = vplatform_pio_read(v->vm, port, size);
			err = emul_write_linear(v, la, &val, size);
		} else if (!(err = emul_read_linear(v, la, &val, size))) {
			vplatform_pio_write(v->vm, port, size, val);
		}
		if (err == -EFAULT)
			return EXIT_RESUME; /* the fault is pending; RIP stays on the instruction */
		if (err) {
			vm_stop(v->vm, "%s on port 0x%x with its buffer at linear 0x%lx outside guest RAM",
				in ? "INS" : "OUTS", port, la);
			return EXIT_STOP;
		}
		la += (uint64_t)step;
		*index = set_sized(*index, *index + (uint64_t)step, amask);
		count--;
		if (rep)
			v->regs.rcx = set_sized(v->regs.rcx, count, amask);
	}
	if (!count)
		vcpu_skip_instruction();
	return EXIT_RESUME;
}

/* ---- MMIO through the instruction emulator ---------------------------------------- */

#define AR_L BIT(13) /* CS: 64-bit code segment (SDM vol. 3C 24.4.1, access rights) */
#define AR_D BIT(14) /* CS: default operation size 32 */

/* One access by the emulated instruction, within one page: RAM, the xAPIC page, or the bus. */
static int mmio_piece(struct vcpu *v, uint64_t la, void *buf, unsigned int size, bool write)
{
	uint64_t gpa, val = 0;
	void *ram;
	int err = emul_translate(v, la, write ? WALK_WRITE : 0, &gpa);

	if (err)
		return err;
	ram = vm_guest_ptr(v->vm, gpa, size);
	if (ram && (!write || vm_range_ok(v->vm, gpa, size, true))) {
		if (write)
			memcpy(ram, buf, size);
		else
			memcpy(buf, ram, size);
		return 0;
	}
	if ((gpa & ~0xfffull) == APIC_PAGE_GPA && !vlapic_x2apic(v)) {
		/* xAPIC registers: 32-bit aligned accesses only (SDM vol. 3A 11.4.1). */
		if (size != 4 || (gpa & 3))
			return -EIO;
		if (write) {
			memcpy(&val, buf, 4);
			return vlapic_write(v, (uint32_t)(gpa & 0xff0u), val) ? -EIO : 0;
		}
		if (vlapic_read(v, (uint32_t)(gpa & 0xff0u), &val))
			return -EIO;
		memcpy(buf, &val, 4);
		return 0;
	}
	if (write) {
		memcpy(&val, buf, size);
		vplatform_mmio_write(v->vm, gpa, size, val);
	} else {
		val = vplatform_mmio_read(v->vm, gpa, size);
		memcpy(buf, &val, size);
	}
	return 0;
}

static int mmio_access(void *ctx, uint64_t la, void *buf, unsigned int size, bool write)
{
	unsigned int first = (unsigned int)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	int err;

	if (first >= size)
		return mmio_piece(ctx, la, buf, size, write);
	/* Across a page: byte by byte, each to whatever its page is. */
	for (unsigned int i = 0; i < size; i++)
		if ((err = mmio_piece(ctx, la + i, (uint8_t *)buf + i, 1, write)))
			return err;
	return 0;
}

static int mmio_read(void *ctx, uint64_t la, void *buf, unsigned int size)
{
	return mmio_access(ctx, la, buf, size, false);
}

static int mmio_write(void *ctx, uint64_t la, const void *buf, unsigned int size)
{
	return mmio_access(ctx, la, (void *)buf, size, true);
}

/* Up to INSN_MAX_LEN bytes at CS:RIP, fewer where the next page is not mapped. */
static size_t fetch(struct vcpu *v, uint64_t la, uint8_t *buf)
{
	size_t n = 0;

	while (n < INSN_MAX_LEN) {
		uint64_t gpa;
		size_t in_page = PAGE_SIZE - ((la + n) & (PAGE_SIZE - 1)), k;
		const uint8_t *p;
		struct walk_env env = { v->vm, gpa_ptr };
		struct walk_regs r;
		struct walk_result res;

		walk_regs_of(&r);
		if (walk_gva(&env, &r, la + n, WALK_FETCH | (r.cpl == 3 ? WALK_USER : 0), &res))
			break;
		gpa = res.gpa;
		k = in_page < INSN_MAX_LEN - n ? in_page : INSN_MAX_LEN - n;
		p = vm_guest_ptr(v->vm, gpa, k);
		if (!p)
			break;
		memcpy(buf + n, p, k);
		n += k;
	}
	return n;
}

static void cpu_of(struct vcpu *v, struct insn_cpu *c)
{
	uint64_t ar = vmcs_read(VMCS_GUEST_CS_AR_BYTES);
	bool lma = vmcs_read(VMCS_GUEST_IA32_EFER) & IA32_EFER_LMA;

	for (unsigned int i = 0; i < 16; i++)
		c->gpr[i] = vcpu_gpr(v, i);
	c->rip = vmcs_read(VMCS_GUEST_RIP);
	c->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	c->seg_base[0] = vmcs_read(VMCS_GUEST_ES_BASE);
	c->seg_base[1] = vmcs_read(VMCS_GUEST_CS_BASE);
	c->seg_base[2] = vmcs_read(VMCS_GUEST_SS_BASE);
	c->seg_base[3] = vmcs_read(VMCS_GUEST_DS_BASE);
	c->seg_base[4] = vmcs_read(VMCS_GUEST_FS_BASE);
	c->seg_base[5] = vmcs_read(VMCS_GUEST_GS_BASE);
	c->mode = lma && (ar & AR_L) ? 64 : ar & AR_D ? 32 : 16;
}

enum exit_action emul_mmio(struct vcpu *v, uint64_t gpa, bool write)
{
	struct insn_cpu c, before;
	const struct insn_bus bus = { v, mmio_read, mmio_write };
	uint8_t code[INSN_MAX_LEN];
	size_t n;
	int err;

	cpu_of(v, &c);
	before = c;
	n = fetch(v, c.seg_base[1] + c.rip, code);
	err = insn_emulate(&c, code, n, &bus);
	if (err == -EFAULT)
		return EXIT_RESUME; /* a #PF or #GP is pending: the instruction did nothing */
	if (err) {
		vm_stop(v->vm, "MMIO %s at GPA 0x%lx by an instruction Tern %s (RIP 0x%lx: %02x %02x %02x %02x)",
			write ? "write" : "read", gpa,
			err == -EIO ? "cannot complete" : "does not emulate", before.rip,
			n > 0 ? code[0] : 0, n > 1 ? code[1] : 0, n > 2 ? code[2] : 0, n > 3 ? code[3] : 0);
		return EXIT_STOP;
	}
	if (v->vm->plat.mmio.open_reads + v->vm->plat.mmio.open_writes >= VM_IO_STORM_LIMIT) {
		vm_stop(v->vm, "MMIO storm: %lu bytes accessed where no RAM or device is (last: GPA 0x%lx)",
			(unsigned long)(v->vm->plat.mmio.open_reads + v->vm->plat.mmio.open_writes),
			(unsigned long)v->vm->plat.mmio.last_open);
		return EXIT_STOP;
	}
	for (unsigned int i = 0; i < 16; i++)
		if (c.gpr[i] != before.gpr[i])
			vcpu_set_gpr(v, i, c.gpr[i]);
	if (c.rflags != before.rflags)
		vmcs_write(VMCS_GUEST_RFLAGS, c.rflags);
	if (c.rip != before.rip) {
		uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);

		vmcs_write(VMCS_GUEST_RIP, c.rip);
		/* The instruction completed: STI/MOV-SS blocking ends (SDM vol. 3C 25.4.2). */
		if (intr & (GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING))
			vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO,
				   intr & ~(uint64_t)(GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING));
	}
	return EXIT_RESUME;
}
