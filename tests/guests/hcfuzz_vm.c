/* SPDX-License-Identifier: MIT */
/*
 * hcfuzz as the management guest: VMs it creates and drives through every
 * state (CREATED, RUNNING, PAUSED, STOPPED, FINISHED), checking in each the
 * calls the state refuses, the argument checks of VM_WRITE, VCPU_SET_STATE,
 * VCPU_MOVE and CONSOLE_WRITE, and two payloads run to their output.
 */
#include "tests/guests/hcfuzz.h"

#include "kernel/fmt.h"
#include "kernel/string.h"

#define VM_MEM      (2 * MIB)
/* Where the long-mode payload VM gets its page tables, GDT and code. */
#define LM_PML4     0x1000u
#define LM_PDPT     0x2000u
#define LM_PD       0x3000u
#define LM_GDT      0x4000u
#define LM_SETUP_SIZE (4 * HF_PAGE)
#define LM_CODE     0x10000u
#define GDT_CODE64  0x00af9a000000ffffull
#define GDT_DATA    0x00cf92000000ffffull
#define PTE_P       BIT(0)
#define PTE_W       BIT(1)
#define PTE_PS      BIT(7)
#define REAL_ENTRY  0x7c00u

#define REAL_LINE   "payload: hi\n"
#define REGS_SIZE   sizeof(struct tern_vcpu_regs)
#define LONG_LINE   "payload64: up\n"

/* hcfuzz_asm.asm */
extern const uint8_t hf_payload_real[], hf_payload_long[];
extern const uint64_t hf_payload_real_size, hf_payload_long_size;

/* vCPU start states; the cases change one field of these. */
static struct tern_vcpu_state vs_long, vs_real, vs;

bool hf_vm_info(uint32_t id, struct tern_vm_info *vi)
{
	int64_t r = hf_call(TERN_HC_VM_INFO, "", id, (uint64_t)vi, sizeof(*vi), 0);

	return hf_assert(r == sizeof(*vi), TERN_HC_VM_INFO, "valid call", "VM %u: got %ld", id, r);
}

static uint32_t create(const char *name, uint32_t nr_vcpus)
{
	static struct tern_vm_create vc;
	int64_t id;

	hf_vc_init(&vc, name, VM_MEM, nr_vcpus);
	id = hf_call(TERN_HC_VM_CREATE, name, (uint64_t)&vc, 0, 0, 0);
	hf_assert(id > 0 && id <= UINT32_MAX, TERN_HC_VM_CREATE, name, "got %ld", id);
	return id > 0 && id <= UINT32_MAX ? (uint32_t)id : 0;
}

static bool wait_state(uint32_t id, uint32_t state, struct tern_vm_info *vi)
{
	for (unsigned int t = 0; t < HF_WAIT_TICKS; t++) {
		if (!hf_vm_info(id, vi))
			return false;
		if (vi->state == state)
			return true;
		hf_sleep(1);
	}
	return hf_assert(false, TERN_HC_VM_INFO, "waiting", "VM %u in state %u, want %u", id,
			 vi->state, state);
}

/* Reads a VM's console from its start into buf until it holds text (bounded wait). */
static bool console_wait(uint32_t id, const char *text, char *buf, size_t size)
{
	static struct tern_stream st;
	size_t have = 0;

	for (unsigned int t = 0; t < HF_WAIT_TICKS && have < size - 1; t++) {
		int64_t n;

		st = (struct tern_stream){ .vm = id, .size = (uint32_t)(size - 1 - have),
					   .buf = (uint64_t)(buf + have), .pos = have };
		n = hf_call(TERN_HC_CONSOLE_READ, "", (uint64_t)&st, 0, 0, 0);
		if (!hf_assert(n >= 0 && st.pos == have + (uint64_t)n && st.lost == 0,
			       TERN_HC_CONSOLE_READ, "reading a console", "got %ld, pos %lu, lost %lu",
			       n, st.pos, st.lost))
			return false;
		have += (size_t)n;
		buf[have] = '\0';
		if (hf_contains(buf, text))
			return true;
		hf_sleep(1);
	}
	return false;
}

/* DESTROY, again while a vCPU is still leaving its CPU (-TERN_EBUSY), then the id is gone. */
static void destroy(uint32_t id, const char *what)
{
	int64_t r = HF_ERR(EBUSY);

	for (unsigned int t = 0; t < HF_WAIT_TICKS && r == HF_ERR(EBUSY); t++) {
		r = hf_call(TERN_HC_VM_DESTROY, what, id, 0, 0, 0);
		if (r == HF_ERR(EBUSY))
			hf_sleep(1);
	}
	hf_check(TERN_HC_VM_DESTROY, what, r, 0);
	hf_cases_bad_id(id, "destroyed VM");
}

/* What each call that depends on the VM's state gives in one state; SKIP: not tried. */
#define SKIP 1
struct state_wants {
	const char *state;
	int64_t start, pause, resume, stop, write, set, move, destroy;
	int64_t get, read, dev, power; /* VCPU_GET_REGS, VM_READ, DEV_GET_STATE, POWER_BUTTON */
};

static const struct state_wants st_created = { "CREATED, no start state", HF_ERR(EINVAL),
	HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), 0, SKIP, 0, SKIP,
	HF_ERR(ESTATE), 0, HF_ERR(ESTATE), HF_ERR(ESTATE) };
static const struct state_wants st_running = { "RUNNING", HF_ERR(ESTATE), SKIP, HF_ERR(ESTATE),
	SKIP, HF_ERR(ESTATE), HF_ERR(ESTATE), 0, HF_ERR(EBUSY),
	HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), 0 };
static const struct state_wants st_paused = { "PAUSED", HF_ERR(ESTATE), HF_ERR(ESTATE), SKIP,
	SKIP, 0, HF_ERR(ESTATE), 0, HF_ERR(EBUSY), SKIP, SKIP, SKIP, HF_ERR(ESTATE) };
static const struct state_wants st_stopped = { "STOPPED", HF_ERR(ESTATE), HF_ERR(ESTATE),
	HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), SKIP,
	HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE) };
static const struct state_wants st_finished = { "FINISHED", HF_ERR(ESTATE), HF_ERR(ESTATE),
	HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), SKIP,
	HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE), HF_ERR(ESTATE) };

/*
 * The calls whose result depends on the state, then the argument errors that
 * come before the state check in the document's order (ERANGE, EINVAL).
 */
static void state_calls(uint32_t id, const struct state_wants *w)
{
	const char *s = w->state;
	const uint64_t last = hf.nr_cpus - 1;
	const struct hf_case cases[] = {
		{ s, TERN_HC_VM_START, { id }, w->start },
		{ s, TERN_HC_VM_PAUSE, { id }, w->pause },
		{ s, TERN_HC_VM_RESUME, { id }, w->resume },
		{ s, TERN_HC_VM_STOP, { id }, w->stop },
		{ s, TERN_HC_VM_WRITE, { id, 0x8000, HF_SCR(0), 16 }, w->write },
		{ s, TERN_HC_VCPU_SET_STATE, { id, 0, (uint64_t)&vs_long }, w->set },
		{ s, TERN_HC_VCPU_MOVE, { id, 0, last, TERN_MOVE_PIN }, w->move },
		{ s, TERN_HC_VM_DESTROY, { id }, w->destroy },
		{ s, TERN_HC_VCPU_GET_REGS, { id, 0, HF_SCR(0), REGS_SIZE }, w->get },
		{ s, TERN_HC_VM_READ, { id, 0x8000, HF_SCR(0), 16 }, w->read },
		{ s, TERN_HC_DEV_GET_STATE, { id, HF_SCR(0), HF_PAGE }, w->dev },
		{ s, TERN_HC_VM_POWER_BUTTON, { id }, w->power },
	};
	static char what[3][96];

	for (size_t i = 0; i < HF_N(cases); i++)
		if (cases[i].want != SKIP)
			hf_run(&cases[i], 1);
	fmt_snprintf(what[0], sizeof(what[0]), "%s, destination outside (ERANGE first)", s);
	hf_expect(what[0], TERN_HC_VM_WRITE, id, VM_MEM, HF_SCR(0), 16, HF_ERR(ERANGE));
	fmt_snprintf(what[1], sizeof(what[1]), "%s, cr3 unaligned (EINVAL first)", s);
	vs = vs_long;
	vs.cr3 = LM_PML4 + 8;
	hf_expect(what[1], TERN_HC_VCPU_SET_STATE, id, 0, (uint64_t)&vs, 0, HF_ERR(EINVAL));
	fmt_snprintf(what[2], sizeof(what[2]), "%s, flags 2 (EINVAL first)", s);
	hf_expect(what[2], TERN_HC_VCPU_MOVE, id, 0, 0, 2, HF_ERR(EINVAL));
}

/* Page tables (2 MiB identity page), GDT and code of the long-mode payload. */
static void long_payload(uint32_t id)
{
	static uint64_t setup[LM_SETUP_SIZE / 8] __attribute__((aligned(HF_PAGE)));
	const uint64_t code_len = hf_payload_long_size;

	setup[(LM_PML4 - LM_PML4) / 8] = LM_PDPT | PTE_P | PTE_W;
	setup[(LM_PDPT - LM_PML4) / 8] = LM_PD | PTE_P | PTE_W;
	setup[(LM_PD - LM_PML4) / 8] = 0 | PTE_P | PTE_W | PTE_PS;
	setup[(LM_GDT - LM_PML4) / 8 + 1] = GDT_CODE64;
	setup[(LM_GDT - LM_PML4) / 8 + 2] = GDT_DATA;
	hf_expect("page tables and GDT", TERN_HC_VM_WRITE, id, LM_PML4, (uint64_t)setup,
		  sizeof(setup), 0);
	hf_expect("code", TERN_HC_VM_WRITE, id, LM_CODE, (uint64_t)hf_payload_long, code_len, 0);
}

static void vm_write_cases(uint32_t id)
{
	const uint64_t m = VM_MEM, big = (hf.memsize / 2) & ~(uint64_t)(TERN_IO_MAX - 1);
	const struct hf_case cases[] = {
		{ "len TERN_IO_MAX + 1", TERN_HC_VM_WRITE, { id, 0, HF_SCR(0), TERN_IO_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "len ~0", TERN_HC_VM_WRITE, { id, 0, HF_SCR(0), ~0ull }, HF_ERR(E2BIG) },
		{ "len 2^32 + 16 (16 if truncated)", TERN_HC_VM_WRITE,
		  { id, 0x8000, HF_SCR(0), (1ull << 32) + 16 }, HF_ERR(E2BIG) },
		{ "len too big, bad source and destination (E2BIG first)", TERN_HC_VM_WRITE,
		  { id, ~0ull, ~0ull, TERN_IO_MAX + 1 }, HF_ERR(E2BIG) },
		{ "bad source and destination (EFAULT first)", TERN_HC_VM_WRITE,
		  { id, ~0ull, hf.memsize, 16 }, HF_ERR(EFAULT) },
		{ "destination at its end", TERN_HC_VM_WRITE, { id, m, HF_SCR(0), 16 }, HF_ERR(ERANGE) },
		{ "destination crossing its end", TERN_HC_VM_WRITE, { id, m - 8, HF_SCR(0), 16 },
		  HF_ERR(ERANGE) },
		{ "destination at its last byte", TERN_HC_VM_WRITE, { id, m - 1, HF_SCR(0), 2 },
		  HF_ERR(ERANGE) },
		{ "destination at 2^48", TERN_HC_VM_WRITE, { id, 1ull << 48, HF_SCR(0), 16 },
		  HF_ERR(ERANGE) },
		{ "destination at the APIC page", TERN_HC_VM_WRITE, { id, 0xfee00000, HF_SCR(0), 16 },
		  HF_ERR(ERANGE) },
		{ "destination at ~0 (wrapping)", TERN_HC_VM_WRITE, { id, ~0ull, HF_SCR(0), 16 },
		  HF_ERR(ERANGE) },
		{ "destination at -8 (wrapping to GPA 0)", TERN_HC_VM_WRITE,
		  { id, (uint64_t)-8, HF_SCR(0), 16 }, HF_ERR(ERANGE) },
		{ "destination 2^32 + 0x8000 (0x8000 if truncated)", TERN_HC_VM_WRITE,
		  { id, (1ull << 32) + 0x8000, HF_SCR(0), 16 }, HF_ERR(ERANGE) },
		{ "len 0", TERN_HC_VM_WRITE, { id, 0x8000, HF_SCR(0), 0 }, 0 },
		{ "len TERN_IO_MAX up to its end", TERN_HC_VM_WRITE,
		  { id, m - TERN_IO_MAX, big, TERN_IO_MAX }, 0 },
		{ "source in the module window (read: allowed)", TERN_HC_VM_WRITE,
		  { id, 0x100000, TERN_MODULES_GPA, sizeof(struct tern_module_dir) }, 0 },
	};
	const struct hf_case bad = { "source", TERN_HC_VM_WRITE, { id, 0x8000, 0, 16 },
				     HF_ERR(EFAULT) };

	HF_RUN(cases);
	hf_bad_buffers(&bad, 2, 16, false);
}

/* One SET_STATE case: vs_long (or vs_real) with one thing changed. */
struct vs_case {
	const char *what;
	uint64_t vcpu;
	bool real;
	uint32_t mode;
	uint16_t cs, gdt_limit;
	uint64_t rip, cr3, gdt_base;
	int64_t want;
};

static void set_state_cases(uint32_t id)
{
	const uint64_t m = VM_MEM;
	const int64_t real_ok = hf.features & TERN_FEAT_UNRESTRICTED ? 0 : HF_ERR(EINVAL);
	const uint16_t gl = 23;
	const struct vs_case cases[] = {
		{ "vCPU 1 of 1", 1, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4, LM_GDT,
		  HF_ERR(ENOENT) },
		{ "vCPU ~0", ~0ull, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4, LM_GDT,
		  HF_ERR(ENOENT) },
		{ "vCPU 2^32 (0 if truncated)", 1ull << 32, false, TERN_MODE_LONG, 0, gl, LM_CODE,
		  LM_PML4, LM_GDT, HF_ERR(ENOENT) },
		{ "mode 3", 0, false, 3, 0, gl, LM_CODE, LM_PML4, LM_GDT, HF_ERR(EINVAL) },
		{ "code selector 0x0c (not a GDT index)", 0, false, TERN_MODE_LONG, 0x0c, gl, LM_CODE,
		  LM_PML4, LM_GDT, HF_ERR(EINVAL) },
		{ "code selector 0x10: data at 0x18 past the limit", 0, false, TERN_MODE_LONG, 0x10, gl,
		  LM_CODE, LM_PML4, LM_GDT, HF_ERR(EINVAL) },
		{ "code selector 0xfff8 (wraps past the limit)", 0, false, TERN_MODE_LONG, 0xfff8, 0xffff,
		  LM_CODE, LM_PML4, LM_GDT, HF_ERR(EINVAL) },
		{ "32-bit with a cr3", 0, false, TERN_MODE_PROT32, 0, gl, LM_CODE, LM_PML4, LM_GDT,
		  HF_ERR(EINVAL) },
		{ "32-bit entry at 4 GiB", 0, false, TERN_MODE_PROT32, 0, gl, 1ull << 32, 0, LM_GDT,
		  HF_ERR(EINVAL) },
		{ "32-bit, entry at its end", 0, false, TERN_MODE_PROT32, 0, gl, m, 0, LM_GDT,
		  real_ok ? real_ok : HF_ERR(ERANGE) },
		{ "32-bit at the entry", 0, false, TERN_MODE_PROT32, 0, gl, LM_CODE, 0, LM_GDT, real_ok },
		{ "mode ~0", 0, false, ~0u, 0, gl, LM_CODE, LM_PML4, LM_GDT, HF_ERR(EINVAL) },
		{ "cr3 0x1001", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4 + 1, LM_GDT,
		  HF_ERR(EINVAL) },
		{ "cr3 0x1800", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4 + 0x800, LM_GDT,
		  HF_ERR(EINVAL) },
		{ "cr3 unaligned and outside (EINVAL first)", 0, false, TERN_MODE_LONG, 0, gl, m * 4,
		  m + 8, LM_GDT, HF_ERR(EINVAL) },
		{ "bad mode, entry outside (EINVAL first)", 0, false, 7, 0, gl, m, LM_PML4, LM_GDT,
		  HF_ERR(EINVAL) },
		{ "entry at its end", 0, false, TERN_MODE_LONG, 0, gl, m, LM_PML4, LM_GDT,
		  HF_ERR(ERANGE) },
		{ "entry at 2^48", 0, false, TERN_MODE_LONG, 0, gl, 1ull << 48, LM_PML4, LM_GDT,
		  HF_ERR(ERANGE) },
		{ "entry at ~0", 0, false, TERN_MODE_LONG, 0, gl, ~0ull, LM_PML4, LM_GDT,
		  HF_ERR(ERANGE) },
		{ "cr3 at its end", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, m, LM_GDT,
		  HF_ERR(ERANGE) },
		{ "cr3 at 2^40", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, 1ull << 40, LM_GDT,
		  HF_ERR(ERANGE) },
		{ "cr3 2^32 + 0x1000 (0x1000 if truncated)", 0, false, TERN_MODE_LONG, 0, gl,
		  LM_CODE, (1ull << 32) + LM_PML4, LM_GDT, HF_ERR(ERANGE) },
		{ "GDT at its end", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4, m,
		  HF_ERR(ERANGE) },
		{ "GDT crossing its end", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4, m - 8,
		  HF_ERR(ERANGE) },
		{ "GDT at -8 (wrapping)", 0, false, TERN_MODE_LONG, 0, gl, LM_CODE, LM_PML4,
		  (uint64_t)-8, HF_ERR(ERANGE) },
		{ "real mode at ffff:0010 (1 MiB)", 0, true, TERN_MODE_REAL, 0xffff, 0, 0x10, 0, 0,
		  real_ok ? real_ok : HF_ERR(ERANGE) },
		{ "real mode at ffff:ffff", 0, true, TERN_MODE_REAL, 0xffff, 0, 0xffff, 0, 0,
		  real_ok ? real_ok : HF_ERR(ERANGE) },
		{ "real mode at 0000:7c00", 0, true, TERN_MODE_REAL, 0, 0, REAL_ENTRY, 0, 0, real_ok },
		{ "real mode at f000:fff0", 0, true, TERN_MODE_REAL, 0xf000, 0, 0xfff0, 0, 0, real_ok },
		{ "long mode (again: allowed while CREATED)", 0, false, TERN_MODE_LONG, 0, gl,
		  LM_CODE, LM_PML4, LM_GDT, 0 },
	};
	const struct hf_case bad = { "structure", TERN_HC_VCPU_SET_STATE, { id, 0, 0 },
				     HF_ERR(EFAULT) };

	for (size_t i = 0; i < HF_N(cases); i++) {
		const struct vs_case *c = &cases[i];

		vs = c->real ? vs_real : vs_long;
		vs.mode = c->mode;
		vs.cs = c->cs;
		vs.gdt_limit = c->gdt_limit;
		vs.rip = c->rip;
		vs.cr3 = c->cr3;
		vs.gdt_base = c->gdt_base;
		hf_expect(c->what, TERN_HC_VCPU_SET_STATE, id, c->vcpu, (uint64_t)&vs, 0, c->want);
	}
	hf_bad_buffers(&bad, 2, sizeof(struct tern_vcpu_state), false);
	hf_expect("structure in the module window (read: allowed; mode 'TMOD' is unknown)",
		  TERN_HC_VCPU_SET_STATE, id, 0, TERN_MODULES_GPA, 0, HF_ERR(EINVAL));
}

static void vcpu_move_cases(uint32_t id)
{
	const uint64_t any = TERN_CPU_ANY, off = hf.nr_cpus, last = hf.nr_cpus - 1;
	const struct hf_case cases[] = {
		{ "vCPU 1 of 1", TERN_HC_VCPU_MOVE, { id, 1, 0, 0 }, HF_ERR(ENOENT) },
		{ "vCPU 0xfffffffe", TERN_HC_VCPU_MOVE, { id, 0xfffffffe, 0, 0 }, HF_ERR(ENOENT) },
		{ "vCPU 2^32 (0 if truncated)", TERN_HC_VCPU_MOVE, { id, 1ull << 32, 0, 0 },
		  HF_ERR(ENOENT) },
		{ "vCPU 1, bad flags (ENOENT first)", TERN_HC_VCPU_MOVE, { id, 1, off, 2 },
		  HF_ERR(ENOENT) },
		{ "flags 2", TERN_HC_VCPU_MOVE, { id, 0, 0, 2 }, HF_ERR(EINVAL) },
		{ "flags 2^32", TERN_HC_VCPU_MOVE, { id, 0, 0, 1ull << 32 }, HF_ERR(EINVAL) },
		{ "flags ~0", TERN_HC_VCPU_MOVE, { id, 0, 0, ~0ull }, HF_ERR(EINVAL) },
		{ "CPU not online", TERN_HC_VCPU_MOVE, { id, 0, off, TERN_MOVE_PIN }, HF_ERR(EINVAL) },
		{ "CPU not online, unpinned", TERN_HC_VCPU_MOVE, { id, 0, off, 0 }, HF_ERR(EINVAL) },
		{ "CPU 0xfffffffe", TERN_HC_VCPU_MOVE, { id, 0, 0xfffffffe, 0 }, HF_ERR(EINVAL) },
		{ "CPU 2^32 (0 if truncated)", TERN_HC_VCPU_MOVE, { id, 0, 1ull << 32, 0 },
		  HF_ERR(EINVAL) },
		{ "all vCPUs, CPU not online", TERN_HC_VCPU_MOVE, { id, TERN_ALL_VCPUS, off, 0 },
		  HF_ERR(EINVAL) },
		{ "TERN_CPU_ANY with TERN_MOVE_PIN", TERN_HC_VCPU_MOVE, { id, 0, any, TERN_MOVE_PIN },
		  HF_ERR(EINVAL) },
		{ "pin to CPU 0", TERN_HC_VCPU_MOVE, { id, 0, 0, TERN_MOVE_PIN }, 0 },
		{ "unpin", TERN_HC_VCPU_MOVE, { id, 0, any, 0 }, 0 },
		{ "all vCPUs, pin to the last CPU", TERN_HC_VCPU_MOVE,
		  { id, TERN_ALL_VCPUS, last, TERN_MOVE_PIN }, 0 },
	};
	struct tern_vm_info vi;

	HF_RUN(cases);
	if (hf_vm_info(id, &vi))
		hf_assert(vi.vcpus[0].pinned && vi.vcpus[0].cpu == last, TERN_HC_VCPU_MOVE,
			  "pinned while CREATED", "vcpu0 pinned %u, cpu %u, want pinned on %lu",
			  vi.vcpus[0].pinned, vi.vcpus[0].cpu, last);
}

/* The receive FIFO of a VM that never reads takes 256 bytes, then nothing. */
static void console_write_cases(uint32_t id)
{
	const struct hf_case cases[] = {
		{ "len TERN_IO_MAX + 1", TERN_HC_CONSOLE_WRITE, { id, HF_SCR(0), TERN_IO_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "len ~0, bad buffer (E2BIG first)", TERN_HC_CONSOLE_WRITE, { id, ~0ull, ~0ull },
		  HF_ERR(E2BIG) },
		{ "len 0", TERN_HC_CONSOLE_WRITE, { id, HF_SCR(0), 0 }, 0 },
		{ "300 bytes into an empty FIFO", TERN_HC_CONSOLE_WRITE, { id, HF_SCR(0), 300 }, 256 },
		{ "1 byte into a full FIFO", TERN_HC_CONSOLE_WRITE, { id, HF_SCR(0), 1 }, 0 },
		{ "buffer in the module window (read: allowed)", TERN_HC_CONSOLE_WRITE,
		  { id, TERN_MODULES_GPA, 16 }, 0 },
	};
	const struct hf_case bad = { "buffer", TERN_HC_CONSOLE_WRITE, { id, 0, 16 },
				     HF_ERR(EFAULT) };

	HF_RUN(cases);
	hf_bad_buffers(&bad, 1, 16, false);
}

static void expect_state(uint32_t id, uint32_t state, const char *what)
{
	struct tern_vm_info vi;

	if (hf_vm_info(id, &vi))
		hf_assert(vi.state == state, TERN_HC_VM_INFO, what, "state %u, want %u", vi.state,
			  state);
}

/* CREATED with 2 vCPUs: START needs vCPU 0's state, whatever vCPU 1 has. */
static void created_vm(void)
{
	uint32_t id = create("hcfuzz-smp", 2);

	if (!id)
		return;
	expect_state(id, TERN_VM_CREATED, "after VM_CREATE");
	state_calls(id, &st_created);
	vs = vs_real;
	hf_expect("vCPU 2 of 2", TERN_HC_VCPU_SET_STATE, id, 2, (uint64_t)&vs, 0, HF_ERR(ENOENT));
	hf_expect("vCPU 1 of 2", TERN_HC_VCPU_SET_STATE, id, 1, (uint64_t)&vs, 0, 0);
	hf_expect("only vCPU 1 has a start state", TERN_HC_VM_START, id, 0, 0, 0, HF_ERR(EINVAL));
	expect_state(id, TERN_VM_CREATED, "after a refused START");
	destroy(id, "CREATED");
}

/* Retries a state call while the VM's vCPUs are still leaving their CPUs (-TERN_EBUSY). */
static int64_t settled_call(uint64_t nr, const char *what, uint64_t a1, uint64_t a2,
			    uint64_t a3, uint64_t a4)
{
	int64_t r = HF_ERR(EBUSY);

	for (unsigned int t = 0; t < HF_WAIT_TICKS && r == HF_ERR(EBUSY); t++) {
		r = hf_call(nr, what, a1, a2, a3, a4);
		if (r == HF_ERR(EBUSY))
			hf_sleep(1);
	}
	return r;
}

static struct tern_vcpu_regs regs, regs_bad;

/* VCPU_GET_REGS / SET_REGS on the paused long-mode VM: sizes, buffers, version, refusals. */
static void regs_cases(uint32_t id)
{
	const uint64_t code_end = LM_CODE + hf_payload_long_size;
	const uint64_t r = (uint64_t)&regs_bad;
	int64_t n = settled_call(TERN_HC_VCPU_GET_REGS, "PAUSED", id, 0, (uint64_t)&regs,
				 REGS_SIZE);
	const struct hf_case cases[] = {
		{ "vCPU 1 of 1", TERN_HC_VCPU_GET_REGS, { id, 1, HF_SCR(0), REGS_SIZE },
		  HF_ERR(ENOENT) },
		{ "vCPU 2^32 (0 if truncated)", TERN_HC_VCPU_GET_REGS,
		  { id, 1ull << 32, HF_SCR(0), REGS_SIZE }, HF_ERR(ENOENT) },
		{ "size TERN_IO_MAX + 1", TERN_HC_VCPU_GET_REGS,
		  { id, 0, HF_SCR(0), TERN_IO_MAX + 1 }, HF_ERR(E2BIG) },
		{ "size too big, bad buffer (E2BIG first)", TERN_HC_VCPU_GET_REGS,
		  { id, 0, ~0ull, ~0ull }, HF_ERR(E2BIG) },
		{ "size 4975", TERN_HC_VCPU_GET_REGS, { id, 0, HF_SCR(0), REGS_SIZE - 1 },
		  HF_ERR(EINVAL) },
		{ "size 0", TERN_HC_VCPU_GET_REGS, { id, 0, HF_SCR(0), 0 }, HF_ERR(EINVAL) },
		{ "size 4976 crossing the end of RAM", TERN_HC_VCPU_GET_REGS,
		  { id, 0, hf.memsize - HF_PAGE, REGS_SIZE }, HF_ERR(EFAULT) },
		{ "vCPU 1 of 1", TERN_HC_VCPU_SET_REGS, { id, 1, r, REGS_SIZE }, HF_ERR(ENOENT) },
		{ "size 4975", TERN_HC_VCPU_SET_REGS, { id, 0, r, REGS_SIZE - 1 }, HF_ERR(EINVAL) },
		{ "size 4977", TERN_HC_VCPU_SET_REGS, { id, 0, r, REGS_SIZE + 1 }, HF_ERR(EINVAL) },
		{ "size 2^32 + 4976 (4976 if truncated)", TERN_HC_VCPU_SET_REGS,
		  { id, 0, r, (1ull << 32) + REGS_SIZE }, HF_ERR(EINVAL) },
		{ "size 0, bad buffer (EINVAL first)", TERN_HC_VCPU_SET_REGS, { id, 0, ~0ull, 0 },
		  HF_ERR(EINVAL) },
	};
	const struct hf_case bad_get = { "buffer", TERN_HC_VCPU_GET_REGS,
					 { id, 0, 0, REGS_SIZE }, HF_ERR(EFAULT) };
	const struct hf_case bad_set = { "buffer", TERN_HC_VCPU_SET_REGS,
					 { id, 0, 0, REGS_SIZE }, HF_ERR(EFAULT) };
	const struct { const char *what; size_t off; uint64_t val; unsigned int bytes; } bad[] = {
		{ "version 0", __builtin_offsetof(struct tern_vcpu_regs, version), 0, 4 },
		{ "version 1", __builtin_offsetof(struct tern_vcpu_regs, version), 1, 4 },
		{ "version 3", __builtin_offsetof(struct tern_vcpu_regs, version), 3, 4 },
		{ "size field 4975", __builtin_offsetof(struct tern_vcpu_regs, size), REGS_SIZE - 1, 4 },
		{ "reserved 1", __builtin_offsetof(struct tern_vcpu_regs, reserved), 1, 4 },
		{ "rip 2^47 (non-canonical)", __builtin_offsetof(struct tern_vcpu_regs, rip),
		  1ull << 47, 8 },
		{ "rip 0x8000000000000000 (non-canonical)",
		  __builtin_offsetof(struct tern_vcpu_regs, rip), 1ull << 63, 8 },
		{ "run_state HALTED", __builtin_offsetof(struct tern_vcpu_regs, run_state),
		  TERN_VCPU_HALTED, 4 },
		{ "run_state 99", __builtin_offsetof(struct tern_vcpu_regs, run_state), 99, 4 },
	};

	if (!hf_check(TERN_HC_VCPU_GET_REGS, "PAUSED (retried while EBUSY)", n, REGS_SIZE))
		return;
	hf_assert(regs.version == TERN_VCPU_REGS_VERSION && regs.size == REGS_SIZE &&
		  regs.rip >= LM_CODE && regs.rip <= code_end && regs.cr3 == LM_PML4 &&
		  (regs.efer & BIT(10)) && regs.reserved == 0, TERN_HC_VCPU_GET_REGS, "PAUSED",
		  "version %u, size %u, rip 0x%lx (code 0x%x-0x%lx), cr3 0x%lx, efer 0x%lx, "
		  "reserved %u", regs.version, regs.size, regs.rip, LM_CODE, code_end, regs.cr3,
		  regs.efer, regs.reserved);
	regs_bad = regs;
	HF_RUN(cases);
	hf_bad_buffers(&bad_get, 2, REGS_SIZE, true);
	hf_bad_buffers(&bad_set, 2, REGS_SIZE, false);
	for (size_t i = 0; i < HF_N(bad); i++) {
		regs_bad = regs;
		memcpy((uint8_t *)&regs_bad + bad[i].off, &bad[i].val, bad[i].bytes);
		hf_expect(bad[i].what, TERN_HC_VCPU_SET_REGS, id, 0, r, REGS_SIZE, HF_ERR(EINVAL));
	}
	/* The refusals changed nothing: GET gives what it gave. */
	regs_bad = regs;
	n = hf_call(TERN_HC_VCPU_GET_REGS, "after refused SETs", id, 0, r, REGS_SIZE);
	hf_assert(n == REGS_SIZE && !memcmp(&regs_bad, &regs, REGS_SIZE), TERN_HC_VCPU_GET_REGS,
		  "after refused SETs", "got %ld, %s", n, n == REGS_SIZE ? "state changed" : "");
	hf_expect("what GET gave (round trip)", TERN_HC_VCPU_SET_REGS, id, 0, (uint64_t)&regs,
		  REGS_SIZE, 0);
}

static uint8_t dev[TERN_DEV_STATE_MAX], dev_bad[TERN_DEV_STATE_MAX], dev_again[TERN_DEV_STATE_MAX];

/* DEV_GET_STATE / SET_STATE: sizes, buffers, corrupted records refused with nothing changed. */
static void dev_cases(uint32_t id)
{
	const uint64_t b = (uint64_t)dev_bad;
	int64_t n = hf_call(TERN_HC_DEV_GET_STATE, "PAUSED", id, (uint64_t)dev, sizeof(dev), 0);
	const struct tern_dev_record *first = (const struct tern_dev_record *)dev;
	const struct hf_case cases[] = {
		{ "size TERN_IO_MAX + 1", TERN_HC_DEV_GET_STATE, { id, HF_SCR(0), TERN_IO_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "size 8 (too small for the records)", TERN_HC_DEV_GET_STATE, { id, HF_SCR(0), 8 },
		  HF_ERR(EINVAL) },
		{ "size 4096 crossing the end of RAM", TERN_HC_DEV_GET_STATE,
		  { id, hf.memsize - 8, HF_PAGE }, HF_ERR(EFAULT) },
		{ "size 4097", TERN_HC_DEV_SET_STATE, { id, b, TERN_DEV_STATE_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "size ~0, bad buffer (E2BIG first)", TERN_HC_DEV_SET_STATE, { id, ~0ull, ~0ull },
		  HF_ERR(E2BIG) },
		{ "size 0 (no records)", TERN_HC_DEV_SET_STATE, { id, b, 0 }, HF_ERR(EINVAL) },
	};
	const struct hf_case bad_get = { "buffer", TERN_HC_DEV_GET_STATE, { id, 0, HF_PAGE },
					 HF_ERR(EFAULT) };
	const struct hf_case bad_set = { "buffer", TERN_HC_DEV_SET_STATE, { id, 0, 64 },
					 HF_ERR(EFAULT) };
	uint16_t size0;

	if (!hf_assert(n >= (int64_t)sizeof(*first) && n <= (int64_t)sizeof(dev),
		       TERN_HC_DEV_GET_STATE, "PAUSED", "got %ld", n))
		return;
	size0 = first->size;
	hf_assert(size0 >= sizeof(*first) && size0 <= n, TERN_HC_DEV_GET_STATE, "first record",
		  "magic 0x%x, size %u of %ld", first->magic, size0, n);
	HF_RUN(cases);
	hf_bad_buffers(&bad_get, 1, HF_PAGE, true);
	hf_bad_buffers(&bad_set, 1, 64, false);
	{
		const struct { const char *what; size_t off; uint32_t val; unsigned int bytes;
			       int64_t len; } bad[] = {
			{ "first record's magic changed", 0, 0x21474142u, 4, n },
			{ "first record's size 0", 6, 0, 2, n },
			{ "first record's size 4", 6, 4, 2, n },
			{ "first record's size beyond the buffer", 6, (uint32_t)n + 8, 2, n },
			{ "last byte missing", 0, 0, 0, n - 1 },
			{ "only the first record", 0, 0, 0, size0 },
		};

		for (size_t i = 0; i < HF_N(bad); i++) {
			memcpy(dev_bad, dev, sizeof(dev));
			memcpy(dev_bad + bad[i].off, &bad[i].val, bad[i].bytes);
			hf_expect(bad[i].what, TERN_HC_DEV_SET_STATE, id, b, (uint64_t)bad[i].len, 0,
				  HF_ERR(EINVAL));
		}
		/* The first record twice (and the rest): a duplicate. */
		if (n + size0 <= (int64_t)sizeof(dev_bad)) {
			memcpy(dev_bad, dev, size0);
			memcpy(dev_bad + size0, dev, (size_t)n);
			hf_expect("first record twice", TERN_HC_DEV_SET_STATE, id, b,
				  (uint64_t)(n + size0), 0, HF_ERR(EINVAL));
		}
	}
	/* A refused SET changed no device: GET gives the same records. */
	memset(dev_again, 0, sizeof(dev_again));
	hf_assert(hf_call(TERN_HC_DEV_GET_STATE, "after refused SETs", id, (uint64_t)dev_again,
			  sizeof(dev_again), 0) == n && !memcmp(dev, dev_again, (size_t)n),
		  TERN_HC_DEV_SET_STATE, "corrupted records", "a device changed");
	hf_expect("what GET gave (round trip)", TERN_HC_DEV_SET_STATE, id, (uint64_t)dev,
		  (uint64_t)n, 0, 0);
}

static uint8_t mem_copy[HF_PAGE];

/* VM_READ on the paused VM: the mirror of VM_WRITE's checks, and the code it was given. */
static void vm_read_cases(uint32_t id)
{
	const uint64_t m = VM_MEM;
	const struct hf_case cases[] = {
		{ "len TERN_IO_MAX + 1", TERN_HC_VM_READ, { id, 0, HF_SCR(0), TERN_IO_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "len 2^32 + 16 (16 if truncated)", TERN_HC_VM_READ,
		  { id, 0x8000, HF_SCR(0), (1ull << 32) + 16 }, HF_ERR(E2BIG) },
		{ "len too big, bad source and destination (E2BIG first)", TERN_HC_VM_READ,
		  { id, ~0ull, ~0ull, ~0ull }, HF_ERR(E2BIG) },
		{ "bad source and destination (EFAULT first)", TERN_HC_VM_READ,
		  { id, ~0ull, hf.memsize, 16 }, HF_ERR(EFAULT) },
		{ "destination in the read-only module window", TERN_HC_VM_READ,
		  { id, 0, TERN_MODULES_GPA, 16 }, HF_ERR(EFAULT) },
		{ "source at its end", TERN_HC_VM_READ, { id, m, HF_SCR(0), 16 }, HF_ERR(ERANGE) },
		{ "source crossing its end", TERN_HC_VM_READ, { id, m - 8, HF_SCR(0), 16 },
		  HF_ERR(ERANGE) },
		{ "source at ~0 (wrapping)", TERN_HC_VM_READ, { id, ~0ull, HF_SCR(0), 16 },
		  HF_ERR(ERANGE) },
		{ "source at -8 (wrapping to GPA 0)", TERN_HC_VM_READ,
		  { id, (uint64_t)-8, HF_SCR(0), 16 }, HF_ERR(ERANGE) },
		{ "source 2^32 + 0x8000 (0x8000 if truncated)", TERN_HC_VM_READ,
		  { id, (1ull << 32) + 0x8000, HF_SCR(0), 16 }, HF_ERR(ERANGE) },
		{ "len 0", TERN_HC_VM_READ, { id, 0x8000, HF_SCR(0), 0 }, 0 },
		{ "16 bytes up to its end", TERN_HC_VM_READ, { id, m - 16, HF_SCR(0), 16 }, 0 },
	};
	const struct hf_case bad = { "destination", TERN_HC_VM_READ, { id, 0, 0, 16 },
				     HF_ERR(EFAULT) };
	const uint64_t len = hf_payload_long_size < sizeof(mem_copy) ? hf_payload_long_size :
			     sizeof(mem_copy);

	HF_RUN(cases);
	hf_bad_buffers(&bad, 2, 16, true);
	memset(mem_copy, 0, sizeof(mem_copy));
	hf_expect("the code it was given", TERN_HC_VM_READ, id, LM_CODE, (uint64_t)mem_copy, len, 0);
	hf_assert(!memcmp(mem_copy, hf_payload_long, len), TERN_HC_VM_READ,
		  "the code it was given", "bytes differ from what VM_WRITE put there");
}

/* PAUSED: the whole-VM state calls, a GET -> SET round trip, then it runs on. */
static void paused_state_cases(uint32_t id)
{
	struct tern_vm_info vi;

	regs_cases(id);
	dev_cases(id);
	vm_read_cases(id);
	hf_expect("PAUSED", TERN_HC_VM_POWER_BUTTON, id, 0, 0, 0, HF_ERR(ESTATE));
	hf_expect("after the round trip", TERN_HC_VM_RESUME, id, 0, 0, 0, 0);
	hf_sleep(10);
	if (hf_vm_info(id, &vi))
		hf_assert(vi.state == TERN_VM_RUNNING && vi.console_bytes == strlen(LONG_LINE),
			  TERN_HC_VCPU_SET_REGS, "round trip, resumed", "state %u, %lu console "
			  "bytes, stop_reason '%.*s'", vi.state, vi.console_bytes,
			  (int)sizeof(vi.stop_reason), vi.stop_reason);
	/* Its payload does not listen to the power button: pressed, not heard. */
	hf_expect("RUNNING, no ACPI in the guest", TERN_HC_VM_POWER_BUTTON, id, 0, 0, 0, 0);
	hf_expect("after the round trip", TERN_HC_VM_PAUSE, id, 0, 0, 0, 0);
}

/* The long-mode VM: argument checks while CREATED, then RUNNING, PAUSED, STOPPED. */
static void long_vm(void)
{
	static char con[256];
	struct tern_vm_info vi;
	uint32_t id = create("hcfuzz-long", 1);

	if (!id)
		return;
	long_payload(id);
	vm_write_cases(id);
	set_state_cases(id);
	vcpu_move_cases(id);
	console_write_cases(id);
	hf_expect("CREATED, with a start state", TERN_HC_VM_START, id, 0, 0, 0, 0);
	hf_assert(console_wait(id, LONG_LINE, con, sizeof(con)), TERN_HC_CONSOLE_READ,
		  "long-mode payload", "no 'payload64: up' line in '%s'", con);
	expect_state(id, TERN_VM_RUNNING, "after START");
	state_calls(id, &st_running);
	if (hf_vm_info(id, &vi))
		hf_assert(vi.vcpus[0].pinned && vi.vcpus[0].cpu == hf.nr_cpus - 1 &&
			  (vi.vcpus[0].cpus_seen & ~BIT(hf.nr_cpus - 1)) == 0, TERN_HC_VCPU_MOVE,
			  "pinned before START", "vcpu0 pinned %u, on cpu %u, cpus_seen 0x%lx",
			  vi.vcpus[0].pinned, vi.vcpus[0].cpu, vi.vcpus[0].cpus_seen);

	hf_expect("RUNNING", TERN_HC_VM_PAUSE, id, 0, 0, 0, 0);
	expect_state(id, TERN_VM_PAUSED, "after PAUSE");
	state_calls(id, &st_paused);
	paused_state_cases(id);
	hf_expect("PAUSED", TERN_HC_VM_RESUME, id, 0, 0, 0, 0);
	expect_state(id, TERN_VM_RUNNING, "after RESUME");
	hf_expect("RUNNING again", TERN_HC_VM_PAUSE, id, 0, 0, 0, 0);
	hf_expect("PAUSED", TERN_HC_VM_STOP, id, 0, 0, 0, 0);
	expect_state(id, TERN_VM_STOPPED, "after STOP");
	state_calls(id, &st_stopped);
	if (hf_vm_info(id, &vi))
		hf_assert(hf_contains(vi.stop_reason, "stopped by the operator") &&
			  vi.console_bytes == strlen(LONG_LINE), TERN_HC_VM_INFO, "STOPPED",
			  "stop_reason '%.*s', console_bytes %lu", (int)sizeof(vi.stop_reason),
			  vi.stop_reason, vi.console_bytes);
	destroy(id, "STOPPED");
}

/* CONSOLE_READ in pieces: pos moves by what was copied, nothing lost. */
static void console_pieces(uint32_t id, const char *line)
{
	static struct tern_stream st;
	static char buf[64];
	const uint64_t len = strlen(line);
	const struct { uint32_t size; uint64_t pos; int64_t want; uint64_t next; } steps[] = {
		{ 4, 0, 4, 4 }, { 64, 4, (int64_t)len - 4, len }, { 64, len, 0, len },
		{ 64, 2, (int64_t)len - 2, len },
	};

	for (size_t i = 0; i < HF_N(steps); i++) {
		int64_t n;

		memset(buf, 0, sizeof(buf));
		st = (struct tern_stream){ .vm = id, .size = steps[i].size, .buf = (uint64_t)buf,
					   .pos = steps[i].pos };
		n = hf_call(TERN_HC_CONSOLE_READ, "in pieces", (uint64_t)&st, 0, 0, 0);
		hf_assert(n == steps[i].want && st.pos == steps[i].next && st.lost == 0 &&
			  !memcmp(buf, line + steps[i].pos, (size_t)(n > 0 ? n : 0)),
			  TERN_HC_CONSOLE_READ, "in pieces", "size %u from %lu: got %ld '%s', pos "
			  "%lu, lost %lu", steps[i].size, steps[i].pos, n, buf, st.pos, st.lost);
	}
}

/* The real-mode VM: runs to its halt; what VM_INFO says about it then. */
static void real_vm(void)
{
	static char con[256];
	struct tern_vm_info vi;
	const uint64_t len = hf_payload_real_size;
	uint32_t id;

	if (!(hf.features & TERN_FEAT_UNRESTRICTED)) {
		hf_log("no unrestricted guest: real-mode payload skipped");
		return;
	}
	id = create("hcfuzz-real", 1);
	if (!id)
		return;
	hf_expect("real-mode payload", TERN_HC_VM_WRITE, id, REAL_ENTRY,
		  (uint64_t)hf_payload_real, len, 0);
	hf_expect("real mode at 0000:7c00", TERN_HC_VCPU_SET_STATE, id, 0, (uint64_t)&vs_real, 0, 0);
	hf_expect("real-mode payload", TERN_HC_VM_START, id, 0, 0, 0, 0);
	if (!wait_state(id, TERN_VM_FINISHED, &vi))
		return;
	hf_assert(console_wait(id, REAL_LINE, con, sizeof(con)) && !strcmp(con, REAL_LINE),
		  TERN_HC_CONSOLE_READ, "real-mode payload", "console '%s', want '%s'", con,
		  "payload: hi");
	hf_assert(vi.console_bytes == strlen(REAL_LINE) && vi.created_tsc &&
		  vi.created_tsc < vi.started_tsc && vi.started_tsc < vi.first_output_tsc &&
		  vi.nr_vcpus == 1 && vi.mem_size == VM_MEM && !strcmp(vi.name, "hcfuzz-real") &&
		  !(vi.flags & TERN_VMF_MANAGEMENT) && vi.vcpus[0].state == TERN_VCPU_HALTED,
		  TERN_HC_VM_INFO, "FINISHED", "console_bytes %lu, tsc created %lu started %lu "
		  "first output %lu, %u vCPUs, %lu bytes, vcpu0 state %u", vi.console_bytes,
		  vi.created_tsc, vi.started_tsc, vi.first_output_tsc, vi.nr_vcpus, vi.mem_size,
		  vi.vcpus[0].state);
	console_pieces(id, REAL_LINE);
	state_calls(id, &st_finished);
	destroy(id, "FINISHED");
}

void hf_vm_checks(void)
{
	struct tern_host_info before, after;

	vs_real = (struct tern_vcpu_state){ .mode = TERN_MODE_REAL, .rip = REAL_ENTRY,
					    .rsp = REAL_ENTRY };
	vs_long = (struct tern_vcpu_state){ .mode = TERN_MODE_LONG, .gdt_limit = 3 * 8 - 1,
					    .rip = LM_CODE, .rsp = VM_MEM, .cr3 = LM_PML4,
					    .gdt_base = LM_GDT };
	if (!hf_host_info(&before))
		return;
	created_vm();
	long_vm();
	real_vm();
	if (hf_host_info(&after))
		hf_assert(after.mem_free == before.mem_free && after.nr_vms == before.nr_vms,
			  TERN_HC_VM_DESTROY, "every VM made", "left something behind: mem_free "
			  "%lu -> %lu, nr_vms %lu -> %lu", before.mem_free, after.mem_free,
			  before.nr_vms, after.nr_vms);
}
