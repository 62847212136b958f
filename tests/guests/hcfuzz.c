/* SPDX-License-Identifier: MIT */
/*
 * Calls every hypercall with bad arguments and checks each result against
 * docs/hypercalls.md, in either role, chosen by what Tern says:
 *
 *   - as the management guest (mgmt=hcfuzz; RSI at entry is TERN_MODULES_GPA
 *     and HOST_INFO succeeds): every call's errors in their documented order,
 *     VMs created and driven through every state, a payload run in one of
 *     them, memory back to where it was;
 *   - as an ordinary guest (vm=NAME,image=hcfuzz): VERSION answers, unknown
 *     numbers get -TERN_ENOSYS, every other call -TERN_EPERM.
 *
 * Both also call from CPL 3 (-TERN_EPERM, even for the management guest)
 * and time round trips. Lines: one "hcfuzz: ERROR <call> <case>: got X,
 * want Y" per failed check, "hcfuzz: round trip VERSION <t> ticks, VM_INFO
 * <t> ticks" (ordinary: "..., refused <t> ticks"), "hcfuzz: <n> checks, <f>
 * failed", "hcfuzz: done". The management guest's lines go straight to the
 * serial console, so it ends them with "\r\n" itself.
 */
#include "tests/guests/hcfuzz.h"
#include "tests/guests/tick.h"

#include <stdarg.h>

#include "kernel/fmt.h"
#include "kernel/string.h"

#define HF_ROUNDS 1000u
#define HF_LOW_WATCH 256u /* bytes of page 0 watched for wrapped writes */
#define HF_LINE_MAX 200u

const char guest_name[] = "hcfuzz";

struct hf_ctx hf;
uint8_t hf_scratch[HF_SCRATCH_SIZE] __attribute__((aligned(HF_PAGE)));

/* The GPRs hf_vmcall_regs (hcfuzz_asm.asm) loads and saves, in its order. */
enum hf_reg { R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_R8, R_R9, R_R10, R_R11,
	      R_R12, R_R13, R_R14, R_R15, HF_NR_REGS };
static const char *const reg_names[HF_NR_REGS] = {
	"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R8", "R9", "R10", "R11",
	"R12", "R13", "R14", "R15",
};
uint64_t hf_regs_in[HF_NR_REGS], hf_regs_out[HF_NR_REGS];
void hf_vmcall_regs(void);

static const char *const call_names[TERN_HC_COUNT] = {
	"VERSION", "HOST_INFO", "VM_CREATE", "VM_WRITE", "VCPU_SET_STATE", "VM_START",
	"VM_PAUSE", "VM_RESUME", "VM_STOP", "VM_DESTROY", "VM_LIST", "VM_INFO", "VCPU_MOVE",
	"CONSOLE_READ", "CONSOLE_WRITE", "LOG_READ", "VM_POPULATE", "VCPU_GET_REGS",
	"VCPU_SET_REGS", "VM_READ", "DEV_GET_STATE", "DEV_SET_STATE", "VM_POWER_BUTTON",
	"VM_DIRTY_LOG", "VM_MEMMAP",
};

static const struct { unsigned int e; const char *name; } err_names[] = {
	{ TERN_EPERM, "EPERM" },   { TERN_ENOENT, "ENOENT" }, { TERN_E2BIG, "E2BIG" },
	{ TERN_ENOMEM, "ENOMEM" }, { TERN_EFAULT, "EFAULT" }, { TERN_EBUSY, "EBUSY" },
	{ TERN_EEXIST, "EEXIST" }, { TERN_EINVAL, "EINVAL" }, { TERN_ERANGE, "ERANGE" },
	{ TERN_ENOSYS, "ENOSYS" }, { TERN_ESTATE, "ESTATE" },
};

/* Watched memory: the return address slot at the top of RAM, and page 0. */
static volatile uint64_t *top_slot;
static uint64_t top_value;
static volatile uint8_t *low_page;

/*
 * Every line ends in "\r\n" when this is the management guest (its bytes go
 * to the serial console unchanged) and in "\n" otherwise (Tern logs lines).
 */
static void hf_line(const char *fmt, va_list ap)
{
	char line[HF_LINE_MAX];
	size_t len;

	len = (size_t)fmt_snprintf(line, sizeof(line), "%s: ", guest_name);
	if (len < sizeof(line))
		len += (size_t)fmt_vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (len > sizeof(line) - 3)
		len = sizeof(line) - 3;
	if (hf.mgmt)
		line[len++] = '\r';
	line[len++] = '\n';
	line[len] = '\0';
	guest_puts(line);
}

void hf_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hf_line(fmt, ap);
	va_end(ap);
}

const char *hf_call_name(uint64_t nr)
{
	static char unknown[24];

	if (nr < TERN_HC_COUNT && call_names[nr])
		return call_names[nr];
	fmt_snprintf(unknown, sizeof(unknown), "call 0x%lx", nr);
	return unknown;
}

/* "-14 (-EFAULT)", "80", "0x10000" */
static const char *result_str(int64_t r, char *buf, size_t size)
{
	for (size_t i = 0; i < HF_N(err_names); i++)
		if (r == TERN_ERR(err_names[i].e)) {
			fmt_snprintf(buf, size, "%ld (-%s)", r, err_names[i].name);
			return buf;
		}
	fmt_snprintf(buf, size, r >= 0 && r < 0x10000 ? "%ld" : "0x%lx", r);
	return buf;
}

bool hf_assert(bool ok, uint64_t nr, const char *what, const char *fmt, ...)
{
	char msg[HF_LINE_MAX];
	va_list ap;

	hf.checks++;
	if (ok)
		return true;
	hf.failed++;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hf_log("ERROR %s %s: %s", hf_call_name(nr), what, msg);
	return false;
}

bool hf_check(uint64_t nr, const char *what, int64_t got, int64_t want)
{
	char g[32], w[32];

	return hf_assert(got == want, nr, what, "got %s, want %s", result_str(got, g, sizeof(g)),
			 result_str(want, w, sizeof(w)));
}

/* What every call must leave alone: registers, the top of RAM, page 0 (counted if broken). */
static void side_checks(uint64_t nr, const char *what)
{
	for (int i = R_RBX; i < HF_NR_REGS; i++)
		if (hf_regs_out[i] != hf_regs_in[i])
			hf_assert(false, nr, what, "%s changed from 0x%lx to 0x%lx", reg_names[i],
				  hf_regs_in[i], hf_regs_out[i]);
	if (*top_slot != top_value) {
		hf_assert(false, nr, what, "wrote the last 8 bytes of RAM (0x%lx)", *top_slot);
		*top_slot = top_value;
	}
	for (unsigned int i = 0; i < HF_LOW_WATCH; i++)
		if (low_page[i] != HF_FILL) {
			hf_assert(false, nr, what, "wrote GPA 0x%x (wrapped around?)", i);
			for (unsigned int j = 0; j < HF_LOW_WATCH; j++)
				low_page[j] = HF_FILL;
			break;
		}
}

int64_t hf_call(uint64_t nr, const char *what, uint64_t a1, uint64_t a2, uint64_t a3,
		uint64_t a4)
{
	for (int i = 0; i < HF_NR_REGS; i++)
		hf_regs_in[i] = 0x5eed000000000000ull | ((uint64_t)i << 40) | (nr << 8) | (uint64_t)i;
	hf_regs_in[R_RAX] = nr;
	hf_regs_in[R_RDI] = a1;
	hf_regs_in[R_RSI] = a2;
	hf_regs_in[R_RDX] = a3;
	hf_regs_in[R_RCX] = a4;
	hf_vmcall_regs();
	side_checks(nr, what);
	return (int64_t)hf_regs_out[R_RAX];
}

bool hf_expect(const char *what, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, int64_t want)
{
	int64_t got;
	bool ok;

	memset(hf_scratch, HF_FILL, sizeof(hf_scratch));
	got = hf_call(nr, what, a1, a2, a3, a4);
	ok = hf_check(nr, what, got, want);
	if (got < 0)
		for (size_t i = 0; i < sizeof(hf_scratch); i++)
			if (hf_scratch[i] != HF_FILL) {
				hf_assert(false, nr, what, "failed with %ld but wrote its buffer "
					  "(byte 0x%lx)", got, i);
				return false;
			}
	return ok;
}

void hf_run(const struct hf_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hf_expect(c[i].what, c[i].nr, c[i].a[0], c[i].a[1], c[i].a[2], c[i].a[3], c[i].want);
}

void hf_bad_buffers(const struct hf_case *tmpl, unsigned int slot, uint64_t len, bool written)
{
	const struct { const char *name; uint64_t gpa; bool use; } bad[] = {
		{ "crossing the end of RAM", hf.memsize - 8, len > 8 },
		{ "at the last byte of RAM", hf.memsize - 1, len > 1 },
		{ "just past RAM", hf.memsize, true },
		{ "between RAM and the module window", 0x80000000ull, hf.memsize <= 0x80000000ull },
		{ "in the read-only module window", TERN_MODULES_GPA, written },
		{ "past the last module's page", (hf.mod_end + HF_PAGE - 1) & ~(HF_PAGE - 1ull),
		  hf.mod_end != 0 },
		{ "at the APIC page", 0xfee00000ull, true },
		{ "at 4 GiB", 1ull << 32, true },
		{ "at 2^48", 1ull << 48, true },
		{ "at 2^63", 1ull << 63, true },
		{ "at ~0 (wrapping)", ~0ull, len > 1 },
		{ "at -8 (wrapping to GPA 0)", (uint64_t)-8, len > 8 },
	};
	static char what[8][96];

	for (size_t i = 0; i < HF_N(bad); i++) {
		struct hf_case c = *tmpl;
		char *w = what[i % HF_N(what)];

		if (!bad[i].use)
			continue;
		fmt_snprintf(w, sizeof(what[0]), "%s %s (0x%lx)", tmpl->what, bad[i].name,
			     bad[i].gpa);
		c.what = w;
		c.a[slot] = bad[i].gpa;
		hf_run(&c, 1);
	}
}

bool hf_contains(const char *s, const char *text)
{
	size_t n = strlen(text);

	for (; *s; s++)
		if (!strncmp(s, text, n))
			return true;
	return false;
}

void hf_sleep(unsigned int n)
{
	uint64_t seen = tick_count(), end = seen + n;

	while (seen < end)
		seen = tick_wait(seen);
}

/* The calls every guest can make, and what an ordinary guest gets for the rest. */
static void common_checks(void)
{
	const struct hf_case unknown[] = {
		{ "number TERN_HC_COUNT", TERN_HC_COUNT, { 0 }, HF_ERR(ENOSYS) },
		{ "number 255", 255, { 0 }, HF_ERR(ENOSYS) },
		{ "number 2^32", 1ull << 32, { 0 }, HF_ERR(ENOSYS) },
		{ "number 2^32 + 1 (HOST_INFO if truncated)", (1ull << 32) + 1,
		  { HF_SCR(0), sizeof(struct tern_host_info) }, HF_ERR(ENOSYS) },
		{ "number 2^63", 1ull << 63, { 0 }, HF_ERR(ENOSYS) },
		{ "number -1", ~0ull, { 0 }, HF_ERR(ENOSYS) },
		{ "number -TERN_EPERM", (uint64_t)-1, { 1, 2, 3, 4 }, HF_ERR(ENOSYS) },
	};

	hf_expect("no arguments", TERN_HC_VERSION, 0, 0, 0, 0, TERN_ABI_VERSION);
	hf_expect("with arguments", TERN_HC_VERSION, ~0ull, ~0ull, ~0ull, ~0ull, TERN_ABI_VERSION);
	HF_RUN(unknown);
}

/* Plausible arguments for every call; none may do anything for an ordinary guest. */
static void refused_checks(uint64_t vm_id)
{
	static struct tern_vm_create vc;
	static struct tern_vcpu_state vs;
	static struct tern_stream st;
	const struct hf_case cases[] = {
		{ "ordinary guest", TERN_HC_HOST_INFO, { HF_SCR(0), HF_PAGE }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_CREATE, { (uint64_t)&vc }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_WRITE, { vm_id, 0x8000, HF_SCR(0), 16 }, HF_ERR(EPERM) },
		{ "ordinary guest, other VM", TERN_HC_VM_WRITE, { 1, 0x8000, HF_SCR(0), 16 },
		  HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VCPU_SET_STATE, { vm_id, 0, (uint64_t)&vs }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_START, { vm_id }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_PAUSE, { vm_id }, HF_ERR(EPERM) },
		{ "ordinary guest, VM 1", TERN_HC_VM_PAUSE, { 1 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_RESUME, { vm_id }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_STOP, { vm_id }, HF_ERR(EPERM) },
		{ "ordinary guest, VM 1", TERN_HC_VM_STOP, { 1 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_DESTROY, { vm_id }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_LIST, { HF_SCR(0), 16 }, HF_ERR(EPERM) },
		{ "ordinary guest, max 0", TERN_HC_VM_LIST, { 0, 0 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_INFO, { vm_id, HF_SCR(0), sizeof(struct tern_vm_info) },
		  HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VCPU_MOVE, { vm_id, 0, TERN_CPU_ANY, 0 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_CONSOLE_READ, { (uint64_t)&st }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_CONSOLE_WRITE, { vm_id, HF_SCR(0), 4 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_LOG_READ, { (uint64_t)&st }, HF_ERR(EPERM) },
		{ "ordinary guest, bad arguments", TERN_HC_HOST_INFO, { ~0ull, ~0ull }, HF_ERR(EPERM) },
		{ "ordinary guest, bad VM", TERN_HC_VM_DESTROY, { 9999 }, HF_ERR(EPERM) },
		{ "ordinary guest, bad buffer", TERN_HC_VM_INFO, { 9999, ~0ull, 1 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VCPU_GET_REGS,
		  { vm_id, 0, HF_SCR(0), sizeof(struct tern_vcpu_regs) }, HF_ERR(EPERM) },
		{ "ordinary guest, VM 1", TERN_HC_VCPU_GET_REGS,
		  { 1, 0, HF_SCR(0), sizeof(struct tern_vcpu_regs) }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VCPU_SET_REGS,
		  { vm_id, 0, HF_SCR(0), sizeof(struct tern_vcpu_regs) }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_READ, { vm_id, 0x8000, HF_SCR(0), 16 }, HF_ERR(EPERM) },
		{ "ordinary guest, VM 1", TERN_HC_VM_READ, { 1, 0, HF_SCR(0), 16 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_DEV_GET_STATE, { vm_id, HF_SCR(0), HF_PAGE },
		  HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_DEV_SET_STATE, { vm_id, HF_SCR(0), 8 }, HF_ERR(EPERM) },
		{ "ordinary guest", TERN_HC_VM_POWER_BUTTON, { vm_id }, HF_ERR(EPERM) },
		{ "ordinary guest, VM 1", TERN_HC_VM_POWER_BUTTON, { 1 }, HF_ERR(EPERM) },
		{ "ordinary guest, VM 1's map", TERN_HC_VM_MEMMAP, { 1, HF_SCR(0), HF_PAGE },
		  HF_ERR(EPERM) },
		{ "ordinary guest, own id (not TERN_VM_SELF)", TERN_HC_VM_MEMMAP,
		  { vm_id, HF_SCR(0), HF_PAGE }, HF_ERR(EPERM) },
	};

	hf_vc_init(&vc, "hcfuzz-child", 2 * MIB, 1);
	vs = (struct tern_vcpu_state){ .mode = TERN_MODE_REAL, .rip = 0x7c00 };
	st = (struct tern_stream){ .vm = (uint32_t)vm_id, .size = 64, .buf = HF_SCR(0) };
	HF_RUN(cases);
	/* The structures are inputs: the refused calls must not have written them back. */
	hf_assert(st.pos == 0 && st.lost == 0, TERN_HC_CONSOLE_READ, "ordinary guest",
		  "the stream was written back (pos %lu, lost %lu)", st.pos, st.lost);
	for (uint64_t nr = TERN_HC_HOST_INFO; nr < TERN_HC_COUNT; nr++)
		if (nr != TERN_HC_VM_MEMMAP) /* anyone may read its own map */
			hf_expect("ordinary guest, zero arguments", nr, 0, 0, 0, 0, HF_ERR(EPERM));
	hf_cases_memmap();
}

/* Net ticks per call over HF_ROUNDS calls (the loop itself is a few ticks). */
static uint64_t round_trip(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t t0 = rdtsc();

	for (unsigned int i = 0; i < HF_ROUNDS; i++)
		(void)vmcall4(nr, a1, a2, a3, 0);
	return (rdtsc() - t0) / HF_ROUNDS;
}

static void round_trips(void)
{
	static struct tern_vm_info vi;
	uint64_t version = round_trip(TERN_HC_VERSION, 0, 0, 0);

	if (hf.mgmt)
		hf_log("round trip VERSION %lu ticks, VM_INFO %lu ticks", version,
		       round_trip(TERN_HC_VM_INFO, hf.self, (uint64_t)&vi, sizeof(vi)));
	else
		hf_log("round trip VERSION %lu ticks, refused %lu ticks", version,
		       round_trip(TERN_HC_VM_INFO, hf.self, (uint64_t)&vi, sizeof(vi)));
}

/* The management guest's own view: HOST_INFO and VM_INFO about itself. */
static void mgmt_setup(void)
{
	struct tern_host_info hi;
	static struct tern_vm_info vi;

	if (!hf_host_info(&hi))
		return;
	hf.nr_cpus = hi.nr_cpus;
	hf.features = hi.features;
	hf_assert(hi.caller_id == hf.self, TERN_HC_HOST_INFO, "caller_id",
		  "%u, but RDX at entry said %u", hi.caller_id, hf.self);
	if (!hf_vm_info(hf.self, &vi))
		return;
	memcpy(hf.self_name, vi.name, sizeof(hf.self_name));
	hf.self_name[TERN_NAME_MAX - 1] = '\0';
	hf_assert(vi.flags & TERN_VMF_MANAGEMENT, TERN_HC_VM_INFO, "itself",
		  "flags 0x%x without TERN_VMF_MANAGEMENT", vi.flags);
	hf_assert(vi.state == TERN_VM_RUNNING, TERN_HC_VM_INFO, "itself", "state %u", vi.state);
	hf_assert(vi.mem_size == hf.memsize, TERN_HC_VM_INFO, "itself",
		  "mem_size %lu, RDI at entry said %lu", vi.mem_size, hf.memsize);
	hf_log("management guest '%s', id %u, %lu MiB; %u CPUs, %lu KiB available",
	       hf.self_name, hf.self, hf.memsize / MIB, hi.nr_cpus, hi.mem_available >> 10);
}

/* The boot-module directory: read-only, well formed; where the last module ends. */
static void module_dir_setup(void)
{
	const struct tern_module_dir *d = hf.dir;

	if (!hf_assert(d->magic == TERN_MODULES_MAGIC && d->count >= 1 &&
		       d->count <= TERN_MAX_MODULES, TERN_HC_VERSION, "module directory",
		       "magic 0x%x, count %u", d->magic, d->count))
		return;
	for (uint32_t i = 0; i < d->count; i++) {
		uint64_t end = d->mods[i].gpa + d->mods[i].size;

		hf_assert(d->mods[i].gpa >= TERN_MODULES_GPA && end > d->mods[i].gpa,
			  TERN_HC_VERSION, "module directory", "module %u at 0x%lx, %lu bytes", i,
			  d->mods[i].gpa, d->mods[i].size);
		if (end > hf.mod_end)
			hf.mod_end = end;
	}
}

static void mgmt_checks(void)
{
	module_dir_setup();
	mgmt_setup();
	hf_cases_unknown();
	hf_cases_host_info();
	hf_cases_vm_create();
	hf_cases_vm_list_info();
	hf_cases_streams();
	hf_cases_ids();
	hf_cases_memmap();
	hf_vm_checks();
}

/* Whoever we are, these still work at the end: the guest survived. */
static void still_alive(void)
{
	struct tern_host_info hi;

	hf_expect("at the end", TERN_HC_VERSION, 0, 0, 0, 0, TERN_ABI_VERSION);
	if (hf.mgmt)
		hf_host_info(&hi);
}

void guest_main(uint64_t memsize, uint64_t vcpu_or_dir, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t tsc_khz;
	int64_t r;

	hf.memsize = memsize;
	hf.self = (uint32_t)vm_id;
	top_slot = (volatile uint64_t *)(uintptr_t)(memsize - 8);
	top_value = *top_slot;
	/* Hide the null pointer from the compiler: page 0 is RAM here. */
	__asm__("" : "=r"(low_page) : "0"(0ul));
	for (unsigned int i = 0; i < HF_LOW_WATCH; i++)
		low_page[i] = HF_FILL;

	/* Rights decide the role; RSI at entry must agree with them. */
	r = vmcall4(TERN_HC_HOST_INFO, HF_SCR(0), sizeof(struct tern_host_info), 0, 0);
	hf.mgmt = r == sizeof(struct tern_host_info);
	tsc_khz = hf.mgmt ? ((struct tern_host_info *)hf_scratch)->tsc_khz : 0;
	hf_log("start: %s guest (HOST_INFO gave %ld, RSI at entry 0x%lx)",
	       hf.mgmt ? "management" : "ordinary", r, vcpu_or_dir);
	hf_assert(hf.mgmt == (vcpu_or_dir == TERN_MODULES_GPA), TERN_HC_HOST_INFO, "role",
		  "HOST_INFO gave %ld but RSI at entry was 0x%lx", r, vcpu_or_dir);
	if (hf.mgmt)
		hf.dir = (const struct tern_module_dir *)(uintptr_t)vcpu_or_dir;

	tick_start_khz(HF_HZ, tsc_khz ? tsc_khz : tick_tsc_khz());
	common_checks();
	if (hf.mgmt)
		mgmt_checks();
	else
		refused_checks(vm_id);
	hf_user_checks();
	hf_random_phase();
	round_trips();
	still_alive();
	if (hf.mgmt)
		hf_report_others();
	hf_log("%u checks, %u failed", hf.checks, hf.failed);
	hf_log("done");
	guest_halt();
}
