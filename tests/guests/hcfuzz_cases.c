/* SPDX-License-Identifier: MIT */
/*
 * hcfuzz as the management guest: each call's argument checks, in the order
 * docs/hypercalls.md lists them, so each case also shows which error wins
 * when two apply. Calls that take a VM id are in hcfuzz_vm.c for the cases
 * that need a VM in some state.
 */
#include "tests/guests/hcfuzz.h"

#include "kernel/fmt.h"
#include "kernel/string.h"

#define HI_SIZE sizeof(struct tern_host_info)
#define VI_SIZE sizeof(struct tern_vm_info)
#define NAME_OK "hcfuzz-new"
#define REGS_SIZE sizeof(struct tern_vcpu_regs)

/* A 64 KiB buffer in the middle of RAM, between the image and the stack. */
static uint64_t big_buf(void)
{
	return (hf.memsize / 2) & ~(uint64_t)(TERN_IO_MAX - 1);
}

void hf_cases_unknown(void)
{
	for (uint64_t nr = TERN_HC_COUNT; nr < 64; nr++)
		hf_expect("unknown number", nr, HF_SCR(0), HI_SIZE, 0, 0, HF_ERR(ENOSYS));
}

/* HOST_INFO into a buffer of its own; checks the fields agree with each other. */
bool hf_host_info(struct tern_host_info *out)
{
	static struct tern_host_info hi;
	int64_t r = hf_call(TERN_HC_HOST_INFO, "", (uint64_t)&hi, sizeof(hi), 0, 0);

	if (!hf_assert(r == (int64_t)HI_SIZE, TERN_HC_HOST_INFO, "valid call", "got %ld", r))
		return false;
	hf_assert(hi.abi_version == TERN_ABI_VERSION && hi.nr_cpus >= 1 &&
		  hi.max_vcpus == TERN_MAX_VCPUS && hi.nr_vms >= 1 && hi.tsc_khz > 0,
		  TERN_HC_HOST_INFO, "fields", "abi 0x%x, %u CPUs, max_vcpus %u, %lu VMs, tsc %lu kHz",
		  hi.abi_version, hi.nr_cpus, hi.max_vcpus, hi.nr_vms, hi.tsc_khz);
	hf_assert(hi.mem_free <= hi.mem_total && hi.mem_reserved <= hi.mem_free &&
		  hi.mem_available == hi.mem_free - hi.mem_reserved, TERN_HC_HOST_INFO,
		  "memory fields", "total %lu, free %lu, reserved %lu, available %lu",
		  hi.mem_total, hi.mem_free, hi.mem_reserved, hi.mem_available);
	*out = hi;
	return true;
}

void hf_cases_host_info(void)
{
	const struct hf_case cases[] = {
		{ "size TERN_IO_MAX + 1", TERN_HC_HOST_INFO, { HF_SCR(0), TERN_IO_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "size 2^40", TERN_HC_HOST_INFO, { HF_SCR(0), 1ull << 40 }, HF_ERR(E2BIG) },
		{ "size ~0", TERN_HC_HOST_INFO, { HF_SCR(0), ~0ull }, HF_ERR(E2BIG) },
		{ "size 2^32 + 80 (80 if truncated)", TERN_HC_HOST_INFO,
		  { HF_SCR(0), (1ull << 32) + HI_SIZE }, HF_ERR(E2BIG) },
		{ "size too big and bad buffer (E2BIG first)", TERN_HC_HOST_INFO,
		  { ~0ull, TERN_IO_MAX + 1 }, HF_ERR(E2BIG) },
		{ "size 79", TERN_HC_HOST_INFO, { HF_SCR(0), HI_SIZE - 1 }, HF_ERR(EINVAL) },
		{ "size 1", TERN_HC_HOST_INFO, { HF_SCR(0), 1 }, HF_ERR(EINVAL) },
		{ "size 0", TERN_HC_HOST_INFO, { HF_SCR(0), 0 }, HF_ERR(EINVAL) },
		{ "size 0 and bad buffer (EINVAL first)", TERN_HC_HOST_INFO, { ~0ull, 0 },
		  HF_ERR(EINVAL) },
		{ "size 79 in the module window (EINVAL first)", TERN_HC_HOST_INFO,
		  { TERN_MODULES_GPA, HI_SIZE - 1 }, HF_ERR(EINVAL) },
		{ "size TERN_IO_MAX crossing the end of RAM (the whole buffer counts)",
		  TERN_HC_HOST_INFO, { hf.memsize - HF_PAGE, TERN_IO_MAX }, HF_ERR(EFAULT) },
		{ "size 80", TERN_HC_HOST_INFO, { HF_SCR(0), HI_SIZE }, HI_SIZE },
		{ "size TERN_IO_MAX", TERN_HC_HOST_INFO, { big_buf(), TERN_IO_MAX }, HI_SIZE },
	};
	const struct hf_case bad = { "buffer", TERN_HC_HOST_INFO, { 0, HI_SIZE }, HF_ERR(EFAULT) };
	struct tern_host_info hi;
	size_t i;

	HF_RUN(cases);
	hf_bad_buffers(&bad, 0, HI_SIZE, true);

	/* Only sizeof(struct tern_host_info) bytes are written, whatever the size. */
	hf_expect("size 4096", TERN_HC_HOST_INFO, HF_SCR(0), HF_PAGE, 0, 0, HI_SIZE);
	for (i = HI_SIZE; i < HF_PAGE && hf_scratch[i] == HF_FILL; i++)
		;
	hf_assert(i == HF_PAGE, TERN_HC_HOST_INFO, "size 4096", "wrote byte %lu, beyond the "
		  "structure", i);
	hf_host_info(&hi);
}

/* A valid tern_vm_create: name, size, vCPUs, no flags, every vCPU on any CPU. */
void hf_vc_init(struct tern_vm_create *vc, const char *name, uint64_t mem, uint32_t nr_vcpus)
{
	memset(vc, 0, sizeof(*vc));
	strlcpy(vc->name, name, sizeof(vc->name));
	vc->mem_size = mem;
	vc->nr_vcpus = nr_vcpus;
	for (unsigned int i = 0; i < TERN_MAX_VCPUS; i++)
		vc->cpus[i] = TERN_CPU_ANY;
}

/* One VM_CREATE case: a valid request with some fields changed. */
struct vc_case {
	const char *what;
	const char *name;     /* NULL: 32 letters, no NUL */
	uint64_t mem;
	uint32_t nr_vcpus, flags, cpu0, cpu1;
	int64_t want;
};

static int64_t vc_run(const struct vc_case *c)
{
	static struct tern_vm_create vc;

	hf_vc_init(&vc, c->name ? c->name : "", c->mem, c->nr_vcpus);
	if (!c->name)
		memset(vc.name, 'a', sizeof(vc.name));
	vc.flags = c->flags;
	vc.cpus[0] = c->cpu0;
	vc.cpus[1] = c->cpu1;
	return hf_expect(c->what, TERN_HC_VM_CREATE, (uint64_t)&vc, 0, 0, 0, c->want);
}

/* tern_vm_create.ram_below_4g: 1 MiB to 3 GiB in whole pages, else EINVAL (before ENOMEM). */
static void below_4g_refusals(void)
{
	static struct tern_vm_create vc;
	const struct { const char *what; uint64_t below, mem; } cases[] = {
		{ "ram_below_4g 512 KiB", 512 << 10, 2 * MIB },
		{ "ram_below_4g 1 MiB + 2 KiB", MIB + 2048, 2 * MIB },
		{ "ram_below_4g 3 GiB + 4 KiB (into the hole)", (3ull << 30) + HF_PAGE, 2 * MIB },
		{ "ram_below_4g ~0", ~0ull, 2 * MIB },
		{ "ram_below_4g 512 KiB, mem 8 GiB (EINVAL first)", 512 << 10, 8ull << 30 },
	};

	for (size_t i = 0; i < HF_N(cases); i++) {
		hf_vc_init(&vc, NAME_OK, cases[i].mem, 1);
		vc.ram_below_4g = cases[i].below;
		hf_expect(cases[i].what, TERN_HC_VM_CREATE, (uint64_t)&vc, 0, 0, 0, HF_ERR(EINVAL));
	}
	hf_vc_init(&vc, NAME_OK, (3ull << 30) + 2 * MIB, 1);
	vc.ram_below_4g = MIB;
	hf_expect("mem 3 GiB + 2 MiB, 1 MiB below 4 GiB", TERN_HC_VM_CREATE, (uint64_t)&vc, 0, 0, 0,
		  HF_ERR(ENOMEM));
}

static void vm_create_refusals(const struct tern_host_info *hi)
{
	/* RAM that ends one page past what the guest's MAXPHYADDR reaches (hole included). */
	const uint64_t phys_top = (1ull << (cpuid(0x80000008u, 0).eax & 0xff)) - (1ull << 30) + HF_PAGE;
	const uint32_t any = TERN_CPU_ANY, off = hf.nr_cpus;
	const uint64_t m2 = 2 * MIB, max = TERN_VM_MEM_MAX;
	const struct vc_case cases[] = {
		{ "empty name", "", m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "32-char name without NUL", NULL, m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "name 'a b'", "a b", m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "name 'x/y'", "x/y", m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "name 'tab\\t'", "tab\t", m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "name with byte 0xe9", "caf\xe9", m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "name 'a:b'", "a:b", m2, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "flags 2 (1 is TERN_CREATE_INCREMENTAL)", NAME_OK, m2, 1, 2, any, any, HF_ERR(EINVAL) },
		{ "flags 0x80000000", NAME_OK, m2, 1, 0x80000000u, any, any, HF_ERR(EINVAL) },
		{ "0 vCPUs", NAME_OK, m2, 0, 0, any, any, HF_ERR(EINVAL) },
		{ "9 vCPUs", NAME_OK, m2, TERN_MAX_VCPUS + 1, 0, any, any, HF_ERR(EINVAL) },
		{ "~0 vCPUs", NAME_OK, m2, ~0u, 0, any, any, HF_ERR(EINVAL) },
		{ "mem 0", NAME_OK, 0, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "mem 4 KiB", NAME_OK, HF_PAGE, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "mem 2 MiB - 4 KiB", NAME_OK, m2 - HF_PAGE, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "mem 2 MiB + 1", NAME_OK, m2 + 1, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "mem 2 MiB + 2 KiB", NAME_OK, m2 + 2048, 1, 0, any, any, HF_ERR(EINVAL) },
		{ "cpus[0] not online", NAME_OK, m2, 1, 0, off, any, HF_ERR(EINVAL) },
		{ "cpus[0] 0xfffffffe", NAME_OK, m2, 1, 0, 0xfffffffeu, any, HF_ERR(EINVAL) },
		{ "cpus[1] not online, 2 vCPUs", NAME_OK, m2, 2, 0, 0, off, HF_ERR(EINVAL) },
		{ "mem 1 TiB + 4 KiB", NAME_OK, max + HF_PAGE, 1, 0, any, any, HF_ERR(E2BIG) },
		{ "mem 2^41", NAME_OK, 1ull << 41, 1, 0, any, any, HF_ERR(E2BIG) },
		{ "mem ~0 & ~0xfff", NAME_OK, ~0xfffull, 1, 0, any, any, HF_ERR(E2BIG) },
		{ "mem past the guest's physical width", NAME_OK, phys_top, 1, 0, any, any,
		  HF_ERR(E2BIG) }, /* past TERN_VM_MEM_MAX too when MAXPHYADDR > 40 */
		{ "bad name, mem too big (EINVAL first)", "a b", max + HF_PAGE, 1, 0, any, any,
		  HF_ERR(EINVAL) },
		{ "mem not 4K-aligned and too big (EINVAL first)", NAME_OK, max + 1, 1, 0, any, any,
		  HF_ERR(EINVAL) },
		{ "own name, flags 2 (EINVAL first)", hf.self_name, m2, 1, 2, any, any,
		  HF_ERR(EINVAL) },
		{ "own name, mem too big (E2BIG first)", hf.self_name, max + HF_PAGE, 1, 0, any, any,
		  HF_ERR(E2BIG) },
		{ "own name", hf.self_name, m2, 1, 0, any, any, HF_ERR(EEXIST) },
		{ "own name, mem 4 GiB (EEXIST before ENOMEM)", hf.self_name, 4ull << 30, 1, 0, any,
		  any, HF_ERR(EEXIST) },
	};
	const uint64_t avail = hi->mem_available & ~(uint64_t)(HF_PAGE - 1);
	const struct vc_case nomem[] = {
		{ "mem 4 GiB (1 GiB above 4 GiB)", NAME_OK, 4ull << 30, 1, 0, any, any, HF_ERR(ENOMEM) },
		{ "mem 2^32 + 2 MiB (2 MiB if truncated)", NAME_OK, (1ull << 32) + m2, 1, 0, any, any,
		  HF_ERR(ENOMEM) },
		{ "mem_available + 4 KiB", NAME_OK, avail + HF_PAGE, 1, 0, any, any, HF_ERR(ENOMEM) },
		{ "mem_available (no room for EPT and VMCS)", NAME_OK, avail, 1, 0, any, any,
		  HF_ERR(ENOMEM) },
		{ "mem_available, 8 vCPUs", NAME_OK, avail, TERN_MAX_VCPUS, 0, any, any,
		  HF_ERR(ENOMEM) },
	};
	const struct hf_case bad = { "structure", TERN_HC_VM_CREATE, { 0 }, HF_ERR(EFAULT) };

	hf_bad_buffers(&bad, 0, sizeof(struct tern_vm_create), false);
	/* Read from the module window it may be: the directory is no valid name. */
	hf_expect("structure in the module window (read: allowed; 'TMOD\\x..' is no name)",
		  TERN_HC_VM_CREATE, TERN_MODULES_GPA, 0, 0, 0, HF_ERR(EINVAL));
	for (size_t i = 0; i < HF_N(cases); i++)
		vc_run(&cases[i]);
	for (size_t i = 0; i < HF_N(nomem); i++)
		if (nomem[i].mem <= max && nomem[i].mem >= TERN_VM_MEM_MIN)
			vc_run(&nomem[i]);
	below_4g_refusals();
}

/* mem_free and nr_vms as they were: nothing left behind. */
static void same_memory(const struct tern_host_info *before, uint64_t nr, const char *what)
{
	struct tern_host_info after;

	if (hf_host_info(&after))
		hf_assert(after.mem_free == before->mem_free && after.nr_vms == before->nr_vms, nr,
			  what, "left something behind: mem_free %lu -> %lu, nr_vms %lu -> %lu",
			  before->mem_free, after.mem_free, before->nr_vms, after.nr_vms);
}

void hf_cases_vm_create(void)
{
	static struct tern_vm_create vc;
	const char *what = "cpus[1] not online, but 1 vCPU";
	struct tern_host_info before;
	int64_t id;

	if (!hf_host_info(&before))
		return;
	vm_create_refusals(&before);
	same_memory(&before, TERN_HC_VM_CREATE, "refused requests");

	/* A valid request: a new id, the name taken, then gone again with its memory. */
	hf_vc_init(&vc, NAME_OK, 2 * MIB, 1);
	vc.cpus[1] = hf.nr_cpus;
	id = hf_call(TERN_HC_VM_CREATE, what, (uint64_t)&vc, 0, 0, 0);
	if (!hf_assert(id > 0 && id <= UINT32_MAX && id != hf.self, TERN_HC_VM_CREATE, what,
		       "got %ld, want a new VM id", id))
		return;
	hf_expect("the same name again", TERN_HC_VM_CREATE, (uint64_t)&vc, 0, 0, 0,
		  HF_ERR(EEXIST));
	hf_expect("a created VM", TERN_HC_VM_DESTROY, (uint64_t)id, 0, 0, 0, 0);
	hf_cases_bad_id((uint64_t)id, "destroyed VM");
	same_memory(&before, TERN_HC_VM_DESTROY, "a created VM");
}

static void vm_list_cases(void)
{
	const struct hf_case cases[] = {
		{ "max TERN_IO_MAX / 4 + 1", TERN_HC_VM_LIST, { HF_SCR(0), TERN_IO_MAX / 4 + 1 },
		  HF_ERR(E2BIG) },
		{ "max ~0", TERN_HC_VM_LIST, { HF_SCR(0), ~0ull }, HF_ERR(E2BIG) },
		{ "max 2^32 + 4 (4 if truncated)", TERN_HC_VM_LIST, { HF_SCR(0), (1ull << 32) + 4 },
		  HF_ERR(E2BIG) },
		{ "max too big and bad array (E2BIG first)", TERN_HC_VM_LIST,
		  { ~0ull, TERN_IO_MAX / 4 + 1 }, HF_ERR(E2BIG) },
		{ "max 16 crossing the end of RAM", TERN_HC_VM_LIST, { hf.memsize - 8, 16 },
		  HF_ERR(EFAULT) },
	};
	const struct hf_case bad = { "array of 4", TERN_HC_VM_LIST, { 0, 4 }, HF_ERR(EFAULT) };
	uint32_t *ids = (uint32_t *)hf_scratch;
	struct tern_host_info hi;
	int64_t n, n1;
	bool self = false;

	HF_RUN(cases);
	hf_bad_buffers(&bad, 0, 4 * sizeof(uint32_t), true);

	/* max 0 only counts: the array (GPA 0, watched) is not written. */
	n = hf_call(TERN_HC_VM_LIST, "max 0", 0, 0, 0, 0);
	hf_assert(n >= 1, TERN_HC_VM_LIST, "max 0", "got %ld, want the number of VMs", n);
	n1 = hf_call(TERN_HC_VM_LIST, "max TERN_IO_MAX / 4", big_buf(), TERN_IO_MAX / 4, 0, 0);
	hf_assert(n1 == n, TERN_HC_VM_LIST, "max TERN_IO_MAX / 4", "got %ld, max 0 gave %ld", n1, n);
	memset(hf_scratch, HF_FILL, sizeof(hf_scratch));
	n1 = hf_call(TERN_HC_VM_LIST, "max 1", HF_SCR(0), 1, 0, 0);
	hf_assert(n1 == n && ids[0] != 0 && ids[1] == 0xa5a5a5a5u, TERN_HC_VM_LIST, "max 1",
		  "got %ld (want %ld), ids[0] %u, ids[1] 0x%x (want untouched)", n1, n, ids[0],
		  ids[1]);
	n1 = hf_call(TERN_HC_VM_LIST, "max 64", HF_SCR(0), 64, 0, 0);
	for (int64_t i = 0; i < n1 && i < 64; i++) {
		self |= ids[i] == hf.self;
		hf_assert(i == 0 || ids[i] > ids[i - 1], TERN_HC_VM_LIST, "max 64",
			  "ids[%ld] %u after %u: not oldest first", i, ids[i], ids[i - 1]);
	}
	hf_assert(n1 == n && self, TERN_HC_VM_LIST, "max 64", "got %ld, own id %u %s", n1, hf.self,
		  self ? "listed" : "missing");
	if (hf_host_info(&hi))
		hf_assert(hi.nr_vms == (uint64_t)n, TERN_HC_HOST_INFO, "nr_vms",
			  "%lu, VM_LIST counts %ld", hi.nr_vms, n);
}

static void vm_info_cases(void)
{
	const struct hf_case cases[] = {
		{ "size TERN_IO_MAX + 1", TERN_HC_VM_INFO, { hf.self, HF_SCR(0), TERN_IO_MAX + 1 },
		  HF_ERR(E2BIG) },
		{ "size ~0", TERN_HC_VM_INFO, { hf.self, HF_SCR(0), ~0ull }, HF_ERR(E2BIG) },
		{ "size 2^32 + 1408 (1408 if truncated)", TERN_HC_VM_INFO,
		  { hf.self, HF_SCR(0), (1ull << 32) + VI_SIZE }, HF_ERR(E2BIG) },
		{ "size too big and bad buffer (E2BIG first)", TERN_HC_VM_INFO,
		  { hf.self, ~0ull, TERN_IO_MAX + 1 }, HF_ERR(E2BIG) },
		{ "size 1407", TERN_HC_VM_INFO, { hf.self, HF_SCR(0), VI_SIZE - 1 }, HF_ERR(EINVAL) },
		{ "size 0", TERN_HC_VM_INFO, { hf.self, HF_SCR(0), 0 }, HF_ERR(EINVAL) },
		{ "size 0 and bad buffer (EINVAL first)", TERN_HC_VM_INFO, { hf.self, ~0ull, 0 },
		  HF_ERR(EINVAL) },
		{ "bad VM and bad size (ENOENT first)", TERN_HC_VM_INFO, { 9999, ~0ull, ~0ull },
		  HF_ERR(ENOENT) },
		{ "itself", TERN_HC_VM_INFO, { hf.self, HF_SCR(0), VI_SIZE }, VI_SIZE },
		{ "itself, size TERN_IO_MAX", TERN_HC_VM_INFO, { hf.self, big_buf(), TERN_IO_MAX },
		  VI_SIZE },
	};
	const struct hf_case bad = { "buffer", TERN_HC_VM_INFO, { hf.self, 0, VI_SIZE },
				     HF_ERR(EFAULT) };
	size_t i;

	HF_RUN(cases);
	hf_bad_buffers(&bad, 1, VI_SIZE, true);
	hf_expect("itself, size 4096", TERN_HC_VM_INFO, hf.self, HF_SCR(0), HF_PAGE, 0, VI_SIZE);
	for (i = VI_SIZE; i < HF_PAGE && hf_scratch[i] == HF_FILL; i++)
		;
	hf_assert(i == HF_PAGE, TERN_HC_VM_INFO, "itself, size 4096",
		  "wrote byte %lu, beyond the structure", i);
}

void hf_cases_vm_list_info(void)
{
	vm_list_cases();
	vm_info_cases();
}

/* A stream with room around it, so buffers can overlap it or just touch it. */
static struct {
	uint8_t before[128];
	struct tern_stream st;
	uint8_t after[128];
} sp __attribute__((aligned(64)));

#define ST ((uint64_t)(uintptr_t)&sp.st)

struct stream_case {
	const char *what;
	uint32_t vm, size;
	uint64_t buf;
	int64_t want;
};

/* CONSOLE_READ or LOG_READ on sp.st; a refused call must not write it back. */
static void stream_run(uint64_t nr, const struct stream_case *c)
{
	sp.st = (struct tern_stream){ .vm = c->vm, .size = c->size, .buf = c->buf, .pos = 0,
				      .lost = 0x1234 };
	hf_expect(c->what, nr, ST, 0, 0, 0, c->want);
	if (c->want < 0)
		hf_assert(sp.st.pos == 0 && sp.st.lost == 0x1234 && sp.st.vm == c->vm &&
			  sp.st.size == c->size && sp.st.buf == c->buf, nr, c->what,
			  "a refused call wrote the stream back (pos %lu, lost %lu)", sp.st.pos,
			  sp.st.lost);
}

static void stream_cases(uint64_t nr, uint32_t vm)
{
	const uint32_t max = TERN_IO_MAX;
	const struct stream_case cases[] = {
		{ "size TERN_IO_MAX + 1", vm, max + 1, HF_SCR(0), HF_ERR(E2BIG) },
		{ "size ~0", vm, ~0u, HF_SCR(0), HF_ERR(E2BIG) },
		{ "size too big and bad buffer (E2BIG first)", vm, max + 1, ~0ull, HF_ERR(E2BIG) },
		{ "buffer crossing the end of RAM", vm, 64, hf.memsize - 8, HF_ERR(EFAULT) },
		{ "buffer in the read-only module window", vm, 64, TERN_MODULES_GPA, HF_ERR(EFAULT) },
		{ "buffer just past RAM", vm, 64, hf.memsize, HF_ERR(EFAULT) },
		{ "buffer at ~0 (wrapping)", vm, 64, ~0ull, HF_ERR(EFAULT) },
		{ "buffer at -8 (wrapping to GPA 0)", vm, 64, (uint64_t)-8, HF_ERR(EFAULT) },
		{ "buffer at 2^48", vm, 64, 1ull << 48, HF_ERR(EFAULT) },
		{ "buffer ending inside the stream", vm, 16, ST - 8, HF_ERR(EINVAL) },
		{ "buffer inside the stream", vm, 8, ST + 8, HF_ERR(EINVAL) },
		{ "buffer on its last byte", vm, 1, ST + sizeof(sp.st) - 1, HF_ERR(EINVAL) },
		{ "buffer around the stream", vm, 128 + sizeof(sp.st) + 16, ST - 128, HF_ERR(EINVAL) },
		{ "buffer the stream itself", vm, sizeof(sp.st), ST, HF_ERR(EINVAL) },
		{ "buffer just after the stream", vm, 64, ST + sizeof(sp.st), 0 },
		{ "size 0", vm, 0, HF_SCR(0), 0 },
	};
	const struct hf_case bad = { "stream", nr, { 0 }, HF_ERR(EFAULT) };

	hf_bad_buffers(&bad, 0, sizeof(struct tern_stream), true);
	for (size_t i = 0; i < HF_N(cases); i++)
		if (cases[i].want >= 0) {
			/* Succeeds (the bytes read depend on the log); only the sign matters. */
			sp.st = (struct tern_stream){ .vm = vm, .size = cases[i].size,
						      .buf = cases[i].buf };
			hf_assert(hf_call(nr, cases[i].what, ST, 0, 0, 0) >= 0, nr, cases[i].what,
				  "refused");
		} else {
			stream_run(nr, &cases[i]);
		}
}

/*
 * A valid LOG_READ stream in .rodata. Its copy inside this guest's own boot
 * module, in the read-only window, can be read but not written back: EFAULT.
 */
#define RO_MAGIC "hcfuzz:ro-stream"
static const struct {
	char magic[16];
	struct tern_stream st;
} ro_stream __attribute__((used, aligned(16))) = {
	RO_MAGIC, { .vm = 0, .size = 16, .buf = (uint64_t)(uintptr_t)hf_scratch },
};

static void stream_in_module(void)
{
	for (uint32_t m = 0; m < hf.dir->count; m++) {
		const char *p = (const char *)(uintptr_t)hf.dir->mods[m].gpa;
		uint64_t size = hf.dir->mods[m].size;

		for (uint64_t off = 0; off + sizeof(ro_stream) <= size; off++) {
			if (p[off] != 'h' || memcmp(p + off, &ro_stream, sizeof(ro_stream)))
				continue;
			hf_expect("valid stream inside a boot module (read-only: cannot be written "
				  "back)", TERN_HC_LOG_READ, (uint64_t)(uintptr_t)(p + off + 16), 0,
				  0, 0, HF_ERR(EFAULT));
			return;
		}
	}
}

void hf_cases_streams(void)
{
	const struct stream_case console[] = {
		{ "VM 0", 0, 64, HF_SCR(0), HF_ERR(ENOENT) },
		{ "VM 9999", 9999, 64, HF_SCR(0), HF_ERR(ENOENT) },
		{ "VM ~0", ~0u, 64, HF_SCR(0), HF_ERR(ENOENT) },
		{ "VM 9999, size too big, bad buffer (ENOENT first)", 9999, ~0u, ~0ull,
		  HF_ERR(ENOENT) },
	};
	const struct stream_case log[] = {
		{ "vm 1", 1, 64, HF_SCR(0), HF_ERR(EINVAL) },
		{ "vm = own id", hf.self, 64, HF_SCR(0), HF_ERR(EINVAL) },
		{ "vm ~0", ~0u, 64, HF_SCR(0), HF_ERR(EINVAL) },
		{ "vm 1, size too big (EINVAL first)", 1, ~0u, ~0ull, HF_ERR(EINVAL) },
	};
	int64_t n;

	for (size_t i = 0; i < HF_N(console); i++)
		stream_run(TERN_HC_CONSOLE_READ, &console[i]);
	stream_cases(TERN_HC_CONSOLE_READ, hf.self);
	for (size_t i = 0; i < HF_N(log); i++)
		stream_run(TERN_HC_LOG_READ, &log[i]);
	stream_cases(TERN_HC_LOG_READ, 0);
	stream_in_module();

	/* The log has lines since boot; reading them advances pos by what was copied. */
	sp.st = (struct tern_stream){ .vm = 0, .size = HF_PAGE, .buf = HF_SCR(0) };
	n = hf_call(TERN_HC_LOG_READ, "from the start", ST, 0, 0, 0);
	hf_assert(n > 0 && n <= HF_PAGE && sp.st.pos >= (uint64_t)n, TERN_HC_LOG_READ,
		  "from the start", "got %ld, pos %lu, lost %lu", n, sp.st.pos, sp.st.lost);
}

/* Every call that takes a VM id, with an id that names no VM: -TERN_ENOENT first. */
void hf_cases_bad_id(uint64_t id, const char *what)
{
	static struct tern_vcpu_state vs;
	const struct hf_case cases[] = {
		{ what, TERN_HC_VM_WRITE, { id, 0x8000, HF_SCR(0), 16 }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_WRITE, { id, ~0ull, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_SET_STATE, { id, 0, (uint64_t)&vs }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_START, { id }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_PAUSE, { id }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_RESUME, { id }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_STOP, { id }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_DESTROY, { id }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_POPULATE, { id }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_INFO, { id, HF_SCR(0), VI_SIZE }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_MOVE, { id, 0, TERN_CPU_ANY, 0 }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_MOVE, { id, ~0ull, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_CONSOLE_WRITE, { id, HF_SCR(0), 1 }, HF_ERR(ENOENT) },
		{ what, TERN_HC_CONSOLE_WRITE, { id, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_GET_REGS, { id, 0, HF_SCR(0), REGS_SIZE }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_GET_REGS, { id, ~0ull, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_SET_REGS, { id, 0, HF_SCR(0), REGS_SIZE }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VCPU_SET_REGS, { id, ~0ull, ~0ull, 0 }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_READ, { id, 0x8000, HF_SCR(0), 16 }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_READ, { id, ~0ull, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_DEV_GET_STATE, { id, HF_SCR(0), HF_PAGE }, HF_ERR(ENOENT) },
		{ what, TERN_HC_DEV_GET_STATE, { id, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_DEV_SET_STATE, { id, HF_SCR(0), 8 }, HF_ERR(ENOENT) },
		{ what, TERN_HC_DEV_SET_STATE, { id, ~0ull, ~0ull }, HF_ERR(ENOENT) },
		{ what, TERN_HC_VM_POWER_BUTTON, { id }, HF_ERR(ENOENT) },
	};

	vs = (struct tern_vcpu_state){ .mode = TERN_MODE_REAL, .rip = 0x7c00 };
	HF_RUN(cases);
	if (id <= UINT32_MAX) {
		const struct stream_case c = { what, (uint32_t)id, 64, HF_SCR(0), HF_ERR(ENOENT) };

		stream_run(TERN_HC_CONSOLE_READ, &c);
	}
}

/* Ids that never name a VM; its own id, which the calls that change a VM refuse. */
void hf_cases_ids(void)
{
	static struct tern_vcpu_state vs;
	const uint64_t self = hf.self;
	const struct hf_case own[] = {
		{ "own id", TERN_HC_VM_WRITE, { self, big_buf(), big_buf(), 16 }, HF_ERR(EPERM) },
		{ "own id, len too big (EPERM first)", TERN_HC_VM_WRITE, { self, 0, ~0ull, ~0ull },
		  HF_ERR(EPERM) },
		{ "own id", TERN_HC_VCPU_SET_STATE, { self, 0, (uint64_t)&vs }, HF_ERR(EPERM) },
		{ "own id, vCPU 99 (ENOENT first)", TERN_HC_VCPU_SET_STATE, { self, 99, ~0ull },
		  HF_ERR(ENOENT) },
		{ "own id, bad structure (EPERM first)", TERN_HC_VCPU_SET_STATE, { self, 0, ~0ull },
		  HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_START, { self }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_RESUME, { self }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_DESTROY, { self }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_POPULATE, { self }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_CONSOLE_WRITE, { self, HF_SCR(0), 0 }, HF_ERR(EPERM) },
		{ "own id, len too big, bad buffer (EPERM first)", TERN_HC_CONSOLE_WRITE,
		  { self, ~0ull, ~0ull }, HF_ERR(EPERM) },
		{ "own id, any CPU (allowed)", TERN_HC_VCPU_MOVE, { self, 0, TERN_CPU_ANY, 0 }, 0 },
		{ "own id, vCPU 1 (ENOENT)", TERN_HC_VCPU_MOVE, { self, 1, TERN_CPU_ANY, 0 },
		  HF_ERR(ENOENT) },
		{ "own id", TERN_HC_VCPU_GET_REGS, { self, 0, HF_SCR(0), REGS_SIZE }, HF_ERR(EPERM) },
		{ "own id, vCPU 99, bad buffer (EPERM first)", TERN_HC_VCPU_GET_REGS,
		  { self, 99, ~0ull, ~0ull }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VCPU_SET_REGS, { self, 0, HF_SCR(0), REGS_SIZE }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_READ, { self, big_buf(), HF_SCR(0), 16 }, HF_ERR(EPERM) },
		{ "own id, len too big (EPERM first)", TERN_HC_VM_READ, { self, 0, ~0ull, ~0ull },
		  HF_ERR(EPERM) },
		{ "own id", TERN_HC_DEV_GET_STATE, { self, HF_SCR(0), HF_PAGE }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_DEV_SET_STATE, { self, HF_SCR(0), 8 }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_POWER_BUTTON, { self }, HF_ERR(EPERM) },
		/* Last: were these accepted, this guest would stop here. */
		{ "own id", TERN_HC_VM_PAUSE, { self }, HF_ERR(EPERM) },
		{ "own id", TERN_HC_VM_STOP, { self }, HF_ERR(EPERM) },
	};
	const uint64_t bad[] = { 0, 9999, 0xffffffffu, ~0ull, (1ull << 32) + self };

	for (size_t i = 0; i < HF_N(bad); i++) {
		static char what[8][48];

		fmt_snprintf(what[i], sizeof(what[i]), "VM id 0x%lx", bad[i]);
		hf_cases_bad_id(bad[i], what[i]);
	}
	vs = (struct tern_vcpu_state){ .mode = TERN_MODE_REAL, .rip = 0x7c00 };
	HF_RUN(own);
}

/*
 * A VM with RAM on both sides of the hole (2 MiB below, 4 MiB from 4 GiB
 * on): its map says so, and VM_WRITE/VM_READ reach exactly its RAM regions.
 */
static void split_vm_cases(void)
{
	static struct tern_vm_create vc;
	struct tern_mem_region *r = (struct tern_mem_region *)HF_SCR(HF_PAGE);
	const uint64_t hi = 1ull << 32;
	static uint64_t buf[8]; /* not the scratch: hf_expect refills that before each call */
	struct tern_host_info before;
	int64_t id;

	if (!hf_host_info(&before))
		return;
	hf_vc_init(&vc, "hcfuzz-split", 6 * MIB, 1);
	vc.ram_below_4g = 2 * MIB;
	id = hf_call(TERN_HC_VM_CREATE, "split RAM", (uint64_t)&vc, 0, 0, 0);
	if (!hf_assert(id > 0, TERN_HC_VM_CREATE, "split RAM", "got %ld", id))
		return;
	hf_expect("split VM's map", TERN_HC_VM_MEMMAP, (uint64_t)id, (uint64_t)r, HF_PAGE, 0, 4);
	hf_assert(r[0].gpa == 0 && r[0].size == 2 * MIB && r[0].type == TERN_MEM_RAM &&
		  r[1].gpa == 0xfec00000u && r[1].type == TERN_MEM_MMIO &&
		  r[2].gpa == 0xfee00000u && r[2].type == TERN_MEM_MMIO &&
		  r[3].gpa == hi && r[3].size == 4 * MIB && r[3].type == TERN_MEM_RAM,
		  TERN_HC_VM_MEMMAP, "split VM's map", "[0x%lx +0x%lx) [0x%lx] [0x%lx] [0x%lx +0x%lx)",
		  r[0].gpa, r[0].size, r[1].gpa, r[2].gpa, r[3].gpa, r[3].size);
	for (unsigned int i = 0; i < 8; i++)
		buf[i] = 0x5157000000000000ull + i;
	hf_expect("split VM: write into the hole", TERN_HC_VM_WRITE, (uint64_t)id, 2 * MIB,
		  (uint64_t)buf, 64, HF_ERR(ERANGE));
	hf_expect("split VM: write across the end of low RAM", TERN_HC_VM_WRITE, (uint64_t)id,
		  2 * MIB - 32, (uint64_t)buf, 64, HF_ERR(ERANGE));
	hf_expect("split VM: write at the I/O APIC", TERN_HC_VM_WRITE, (uint64_t)id, 0xfec00000u,
		  (uint64_t)buf, 8, HF_ERR(ERANGE));
	hf_expect("split VM: write past its RAM above 4 GiB", TERN_HC_VM_WRITE, (uint64_t)id,
		  hi + 4 * MIB - 32, (uint64_t)buf, 64, HF_ERR(ERANGE));
	hf_expect("split VM: write above 4 GiB", TERN_HC_VM_WRITE, (uint64_t)id, hi + 4 * MIB - 64,
		  (uint64_t)buf, 64, 0);
	memset(buf, 0, sizeof(buf));
	hf_expect("split VM: read back above 4 GiB", TERN_HC_VM_READ, (uint64_t)id, hi + 4 * MIB - 64,
		  (uint64_t)buf, 64, 0);
	hf_assert(buf[0] == 0x5157000000000000ull && buf[7] == 0x5157000000000007ull,
		  TERN_HC_VM_READ, "split VM above 4 GiB", "read back 0x%lx ... 0x%lx", buf[0], buf[7]);
	hf_expect("split VM: read from the hole", TERN_HC_VM_READ, (uint64_t)id, 3ull << 30,
		  (uint64_t)buf, 8, HF_ERR(ERANGE));
	hf_expect("split VM", TERN_HC_VM_DESTROY, (uint64_t)id, 0, 0, 0, 0);
	same_memory(&before, TERN_HC_VM_DESTROY, "split VM");
}

/*
 * TERN_HC_VM_MEMMAP on its own map (TERN_VM_SELF): what the guest ABI says
 * (RAM from 0 to memsize, the I/O APIC and local APIC pages, ascending, no
 * overlap; the module window as ROM for the management guest), and the
 * buffer rules: only whole regions written, E2BIG, EFAULT. The management
 * guest also asks for ids that name no VM.
 */
void hf_cases_memmap(void)
{
	struct tern_mem_region *r = (struct tern_mem_region *)HF_SCR(0);
	const uint64_t one = sizeof(*r);
	bool ioapic = false, lapic = false, rom = false;
	int64_t n;

	memset(r, 0xa5, 4 * one);
	n = hf_call(TERN_HC_VM_MEMMAP, "own map, no buffer", TERN_VM_SELF, HF_SCR(0), 0, 0);
	hf_assert(n >= 3 && n <= TERN_MEM_REGIONS_MAX, TERN_HC_VM_MEMMAP, "own map", "%ld regions", n);
	hf_assert(r->type == 0xa5a5a5a5u, TERN_HC_VM_MEMMAP, "own map, no buffer",
		  "something was written");
	hf_expect("own map, room for one and a half", TERN_HC_VM_MEMMAP, TERN_VM_SELF, HF_SCR(0),
		  one + one / 2, 0, n);
	hf_assert(r[1].type == 0xa5a5a5a5u, TERN_HC_VM_MEMMAP, "own map, one and a half",
		  "more than the whole regions that fit were written");
	hf_expect("own map", TERN_HC_VM_MEMMAP, TERN_VM_SELF, HF_SCR(0), HF_PAGE, 0, n);
	hf_assert(r[0].gpa == 0 && r[0].size == hf.memsize && r[0].type == TERN_MEM_RAM,
		  TERN_HC_VM_MEMMAP, "own map", "region 0 is [0x%lx +0x%lx) type %u, not RAM [0, 0x%lx)",
		  r[0].gpa, r[0].size, r[0].type, hf.memsize);
	for (int64_t i = 0; i < n && i < TERN_MEM_REGIONS_MAX; i++) {
		hf_assert(r[i].size && !(r[i].gpa & 0xfff) && !(r[i].size & 0xfff) && !r[i].reserved &&
			  r[i].type >= TERN_MEM_RAM && r[i].type <= TERN_MEM_RESERVED,
			  TERN_HC_VM_MEMMAP, "own map", "region %ld [0x%lx +0x%lx) type %u reserved %u",
			  i, r[i].gpa, r[i].size, r[i].type, r[i].reserved);
		hf_assert(!i || r[i - 1].gpa + r[i - 1].size <= r[i].gpa, TERN_HC_VM_MEMMAP, "own map",
			  "region %ld at 0x%lx overlaps or precedes the one before", i, r[i].gpa);
		ioapic |= r[i].gpa == 0xfec00000u && r[i].type == TERN_MEM_MMIO;
		lapic |= r[i].gpa == 0xfee00000u && r[i].type == TERN_MEM_MMIO;
		rom |= r[i].gpa == TERN_MODULES_GPA && r[i].type == TERN_MEM_ROM;
	}
	hf_assert(ioapic && lapic, TERN_HC_VM_MEMMAP, "own map", "no I/O APIC or local APIC page");
	hf_assert(rom == hf.mgmt, TERN_HC_VM_MEMMAP, "own map", "module window as ROM: %s",
		  rom ? "yes, in an ordinary guest" : "no, in the management guest");
	hf_expect("own map, size past TERN_IO_MAX", TERN_HC_VM_MEMMAP, TERN_VM_SELF, HF_SCR(0),
		  TERN_IO_MAX + 1, 0, HF_ERR(E2BIG));
	hf_expect("own map, buffer past RAM", TERN_HC_VM_MEMMAP, TERN_VM_SELF, hf.memsize - 8,
		  HF_PAGE, 0, HF_ERR(EFAULT));
	hf_expect("own map, buffer wraps", TERN_HC_VM_MEMMAP, TERN_VM_SELF, ~0ull - 7, HF_PAGE, 0,
		  HF_ERR(EFAULT));
	if (!hf.mgmt)
		return;
	hf_expect("own map, buffer in the read-only module window", TERN_HC_VM_MEMMAP, TERN_VM_SELF,
		  TERN_MODULES_GPA, HF_PAGE, 0, HF_ERR(EFAULT));
	hf_expect("own id as a VM id: its map", TERN_HC_VM_MEMMAP, hf.self, HF_SCR(0), HF_PAGE, 0, n);
	hf_expect("VM 9999", TERN_HC_VM_MEMMAP, 9999, HF_SCR(0), HF_PAGE, 0, HF_ERR(ENOENT));
	hf_expect("VM 2^32 + own id", TERN_HC_VM_MEMMAP, (1ull << 32) + hf.self, HF_SCR(0), HF_PAGE,
		  0, HF_ERR(ENOENT));
	split_vm_cases();
}
