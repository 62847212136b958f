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
#include "arch/pcpu.h"
#include "arch/vmx.h"
#include "arch/x86.h"
#include "kernel/cpu.h"
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

/* The walker's view of vm's RAM: its first extent read directly, the rest through vm_guest_ptr. */
static void walk_env_of(struct walk_env *env, struct vm *vm)
{
	*env = (struct walk_env){ .ctx = vm, .gpa_ptr = gpa_ptr };
	if (vm->nr_extents && !(vm->extents[0].flags & EXT_BORROWED)) {
		env->ram_gpa = vm->extents[0].gpa;
		env->ram_size = vm->extents[0].size;
		env->ram = phys_to_virt(vm->extents[0].hpa);
		env->held = vm->unzeroed; /* not zeroed yet: vm_guest_ptr zeroes them first */
		env->held_slots = vm->lazy_slots;
	}
}

static unsigned int maxphyaddr(void)
{
	static unsigned int bits;

	if (!bits)
		bits = cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax & 0xffu;
	return bits;
}

/* The guest state a walk depends on, read once per emulation: the PDPTEs only under PAE paging. */
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
	};
	if ((r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE) && !(r->efer & IA32_EFER_LMA)) {
		r->pdpte[0] = vmcs_read(VMCS_GUEST_PDPTE0);
		r->pdpte[1] = vmcs_read(VMCS_GUEST_PDPTE1);
		r->pdpte[2] = vmcs_read(VMCS_GUEST_PDPTE2);
		r->pdpte[3] = vmcs_read(VMCS_GUEST_PDPTE3);
	}
	/* PKRU is the guest's own while it is loaded here (xregs.c); keys are not checked yet. */
}

static int translate(struct vcpu *v, const struct walk_regs *r, uint64_t la, unsigned int access,
		     uint64_t *gpa)
{
	struct walk_env env;
	struct walk_result res;

	walk_env_of(&env, v->vm);
	if (r->cpl == 3)
		access |= WALK_USER;
	if (!walk_gva(&env, r, la, access, &res)) {
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

int emul_translate(struct vcpu *v, uint64_t la, unsigned int access, uint64_t *gpa)
{
	struct walk_regs r;

	walk_regs_of(&r);
	return translate(v, &r, la, access, gpa);
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

/*
 * One MMIO emulation: the guest paging state, read once, and the access
 * the exit reported. With the guest-linear address valid and translated
 * (exit qualification bits 7 and 8, SDM vol. 3C table 28-7) the processor
 * has walked that page and checked the access's rights: an access of the
 * same kind to the same linear page needs no walk, its GPA is the exit's
 * page plus the offset. Any other access is walked.
 */
struct mmio_ctx {
	struct vcpu *v;
	struct walk_regs r;
	uint64_t la_page, gpa_page; /* the exit's linear and guest-physical pages */
	uint64_t kinds;             /* EPT_QUAL_READ/WRITE of the exit's access; 0: walk everything */
};

static void mmio_ctx_of(struct mmio_ctx *m, struct vcpu *v, uint64_t gpa)
{
	uint64_t qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	uint64_t gla_ok = EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_XLATED;

	m->v = v;
	walk_regs_of(&m->r);
	m->kinds = 0;
	if ((qual & gla_ok) == gla_ok) {
		m->kinds = qual & (EPT_QUAL_READ | EPT_QUAL_WRITE);
		m->la_page = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS) & ~(uint64_t)(PAGE_SIZE - 1);
		m->gpa_page = gpa & ~(uint64_t)(PAGE_SIZE - 1);
	}
}

/* One access by the emulated instruction, within one page: RAM, the xAPIC page, or the bus. */
static int mmio_piece(struct mmio_ctx *m, uint64_t la, void *buf, unsigned int size, bool write)
{
	struct vcpu *v = m->v;
	uint64_t gpa, val = 0;
	void *ram;

	if ((m->kinds & (write ? EPT_QUAL_WRITE : EPT_QUAL_READ)) &&
	    (la & ~(uint64_t)(PAGE_SIZE - 1)) == m->la_page) {
		gpa = m->gpa_page | (la & (PAGE_SIZE - 1));
	} else {
		int err = translate(v, &m->r, la, write ? WALK_WRITE : 0, &gpa);

		if (err)
			return err;
	}
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

/*
 * The code page each CPU fetched from last, to fetch from again without a
 * walk. The walk is a function of the paging registers and of the entries
 * it reads alone (each entry locates the next), and it left their Accessed
 * flags set: while the vCPU, those registers and every entry's value are
 * as they were, it would find the same page with the same rights. Checking
 * that is a load and a compare per level. IA-32e paging only (PAE's
 * PDPTEs are registers; 32-bit paging is rare where MMIO is hot).
 */
struct fetch_cache {
	uint32_t vm_id;
	const struct vcpu *v;     /* NULL: empty */
	uint64_t cr0, cr3, cr4, efer;
	unsigned int cpl;
	uint64_t la_page, gpa_page;
	unsigned int n;           /* entries */
	uint64_t ent_gpa[5], ent_val[5];
};

static struct fetch_cache fetch_cache[MAX_CPUS];

/* The value of the 8-byte entry at gpa, false when it is not in RAM. */
static bool entry_at(const struct walk_env *env, uint64_t gpa, uint64_t *val)
{
	const uint64_t *p = walk_env_direct(env, gpa, 8);

	if (!p)
		p = gpa_ptr(env->ctx, gpa, 8);
	if (!p)
		return false;
	*val = __atomic_load_n(p, __ATOMIC_RELAXED);
	return true;
}

static bool fetch_cache_hit(const struct fetch_cache *fc, const struct mmio_ctx *m,
			    const struct walk_env *env, uint64_t la_page)
{
	const struct walk_regs *r = &m->r;
	uint64_t e;

	if (fc->v != m->v || fc->vm_id != m->v->vm->id || fc->la_page != la_page || fc->cr3 != r->cr3 ||
	    fc->cr0 != r->cr0 || fc->cr4 != r->cr4 || fc->efer != r->efer || fc->cpl != r->cpl)
		return false;
	for (unsigned int i = 0; i < fc->n; i++)
		if (!entry_at(env, fc->ent_gpa[i], &e) || e != fc->ent_val[i])
			return false;
	return true;
}

/* Remember a successful IA-32e fetch walk, with the entries' values as it left them. */
static void fetch_cache_fill(struct fetch_cache *fc, const struct mmio_ctx *m, const struct walk_env *env,
			     uint64_t la_page, const struct walk_result *res)
{
	const struct walk_regs *r = &m->r;

	fc->v = NULL;
	if (!(r->efer & IA32_EFER_LMA) || !(r->cr0 & CR0_PG) || res->nr_entries > 5)
		return;
	for (unsigned int i = 0; i < res->nr_entries; i++) {
		fc->ent_gpa[i] = res->entry_gpa[i];
		if (!entry_at(env, res->entry_gpa[i], &fc->ent_val[i]))
			return;
	}
	fc->n = res->nr_entries;
	fc->vm_id = m->v->vm->id;
	fc->cr0 = r->cr0;
	fc->cr3 = r->cr3;
	fc->cr4 = r->cr4;
	fc->efer = r->efer;
	fc->cpl = r->cpl;
	fc->la_page = la_page;
	fc->gpa_page = res->gpa & ~(uint64_t)(PAGE_SIZE - 1);
	fc->v = m->v;
}

/* Up to INSN_MAX_LEN bytes at CS:RIP, fewer where the next page is not mapped. */
static size_t fetch(struct mmio_ctx *m, uint64_t la, uint8_t *buf)
{
	struct walk_env env;
	struct fetch_cache *fc = &fetch_cache[cpu_id() % MAX_CPUS];
	unsigned int access = WALK_FETCH | (m->r.cpl == 3 ? WALK_USER : 0);
	size_t n = 0;

	walk_env_of(&env, m->v->vm);
	while (n < INSN_MAX_LEN) {
		uint64_t at = la + n, page = at & ~(uint64_t)(PAGE_SIZE - 1), gpa;
		size_t in_page = PAGE_SIZE - (at & (PAGE_SIZE - 1)), k;
		const uint8_t *p;
		struct walk_result res;

		if (fetch_cache_hit(fc, m, &env, page)) {
			gpa = fc->gpa_page | (at & (PAGE_SIZE - 1));
		} else {
			if (walk_gva(&env, &m->r, at, access, &res))
				break;
			gpa = res.gpa;
			fetch_cache_fill(fc, m, &env, page, &res);
		}
		k = in_page < INSN_MAX_LEN - n ? in_page : INSN_MAX_LEN - n;
		p = walk_env_direct(&env, gpa, k);
		if (!p)
			p = vm_guest_ptr(m->v->vm, gpa, k);
		if (!p)
			break;
		memcpy(buf + n, p, k);
		n += k;
	}
	return n;
}

/*
 * The emulator's view of the vCPU. In 64-bit mode only the FS and GS bases
 * take part in addressing (SDM vol. 3A 3.4.4; CS too is based at 0), so the
 * others are not read there.
 */
static void cpu_of(const struct mmio_ctx *m, struct insn_cpu *c)
{
	const uint64_t *gpr = (const uint64_t *)&m->v->regs; /* x86 order, RSP's slot unused */
	uint64_t ar = vmcs_read(VMCS_GUEST_CS_AR_BYTES);

	for (unsigned int i = 0; i < 16; i++)
		c->gpr[i] = gpr[i];
	c->gpr[INSN_RSP] = vmcs_read(VMCS_GUEST_RSP);
	c->rip = vmcs_read(VMCS_GUEST_RIP);
	c->rflags = m->r.rflags;
	c->mode = (m->r.efer & IA32_EFER_LMA) && (ar & AR_L) ? 64 : ar & AR_D ? 32 : 16;
	if (c->mode == 64) {
		c->seg_base[0] = c->seg_base[1] = c->seg_base[2] = c->seg_base[3] = 0;
	} else {
		c->seg_base[0] = vmcs_read(VMCS_GUEST_ES_BASE);
		c->seg_base[1] = vmcs_read(VMCS_GUEST_CS_BASE);
		c->seg_base[2] = vmcs_read(VMCS_GUEST_SS_BASE);
		c->seg_base[3] = vmcs_read(VMCS_GUEST_DS_BASE);
	}
	c->seg_base[4] = vmcs_read(VMCS_GUEST_FS_BASE);
	c->seg_base[5] = vmcs_read(VMCS_GUEST_GS_BASE);
}

enum exit_action emul_mmio(struct vcpu *v, uint64_t gpa, bool write)
{
	struct mmio_ctx m;
	struct insn_cpu c;
	const uint64_t *gpr = (const uint64_t *)&v->regs;
	uint64_t rip0, rflags0, rsp0;
	const struct insn_bus bus = { &m, mmio_read, mmio_write };
	uint8_t code[INSN_MAX_LEN];
	size_t n;
	int err;

	mmio_ctx_of(&m, v, gpa);
	cpu_of(&m, &c);
	rip0 = c.rip;
	rflags0 = c.rflags;
	rsp0 = c.gpr[INSN_RSP];
	n = fetch(&m, c.seg_base[1] + c.rip, code);
	err = insn_emulate(&c, code, n, &bus);
	if (err == -EFAULT)
		return EXIT_RESUME; /* a #PF or #GP is pending: the instruction did nothing */
	if (err) {
		vm_stop(v->vm, "MMIO %s at GPA 0x%lx by an instruction Tern %s (RIP 0x%lx: %02x %02x %02x %02x)",
			write ? "write" : "read", gpa,
			err == -EIO ? "cannot complete" : "does not emulate", rip0,
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
		if (c.gpr[i] != gpr[i] && i != INSN_RSP)
			vcpu_set_gpr(v, i, c.gpr[i]);
	if (c.gpr[INSN_RSP] != rsp0)
		vcpu_set_gpr(v, INSN_RSP, c.gpr[INSN_RSP]);
	if (c.rflags != rflags0)
		vmcs_write(VMCS_GUEST_RFLAGS, c.rflags);
	if (c.rip != rip0) {
		uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO);

		vmcs_write(VMCS_GUEST_RIP, c.rip);
		/* The instruction completed: STI/MOV-SS blocking ends (SDM vol. 3C 25.4.2). */
		if (intr & (GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING))
			vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO,
				   intr & ~(uint64_t)(GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING));
	}
	return EXIT_RESUME;
}
