/* SPDX-License-Identifier: MIT */
/*
 * Random hypercalls (a fixed seed, so a failure replays): numbers, ids,
 * addresses, sizes and argument bytes drawn from edge values and noise.
 * Whatever comes, each result must be a success or a documented error, the
 * registers and memory outside the buffers untouched (hf_call), and the
 * hypervisor still answering. VM ids are drawn only from VMs this phase made
 * (and invalid ones), so the other VMs of the test run on undisturbed; at the
 * end those VMs are destroyed and free memory must be back where it was.
 */
#include "tests/guests/hcfuzz.h"

#include "kernel/string.h"

#define RF_ROUNDS     4000u
#define RF_SEED       0x7465726e2d667a31ull /* "tern-fz1" */
#define RF_MAX_VMS    6u
#define RF_VALID_MEM  (2 * MIB)

static uint64_t rng = RF_SEED;
static uint32_t made[RF_MAX_VMS];
static unsigned int nr_made;

/* xorshift64* (Vigna): enough noise for argument picking. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[rnd() % n];
}

/* A VM id: one made here, an invalid one, or (rarely) this guest's own. */
static uint64_t rand_id(void)
{
	static const uint64_t bad[] = { 0, 9999, 0xffffffffull, 1ull << 32, ~0ull };

	if (nr_made && rnd() % 2)
		return made[rnd() % nr_made];
	return rnd() % 8 ? pick(bad, HF_N(bad)) : hf.self;
}

/*
 * An address: the scratch buffer (in its first page), just past RAM, the
 * read-only module window, noise. Never other RAM: a call may rightly write
 * there, and hf_call watches the top of RAM and page 0 for stray writes.
 */
static uint64_t rand_addr(void)
{
	uint64_t edges[] = { hf.memsize, hf.memsize + 4096, TERN_MODULES_GPA,
			     TERN_MODULES_GPA + 4096, 1ull << 47, ~0ull - 7, 0xfee00000ull };

	switch (rnd() % 4) {
	case 0:
	case 1: return HF_SCR(rnd() % HF_PAGE); /* what any call writes still fits the scratch */
	case 2: return pick(edges, HF_N(edges));
	default: return rnd() | (1ull << 63); /* noise, never in RAM */
	}
}

static uint64_t rand_size(void)
{
	static const uint64_t sizes[] = { 0, 1, 8, 32, 72, 80, 1408, 4096, 4097, 4976, TERN_IO_MAX,
					  TERN_IO_MAX + 1, 1ull << 32, ~0ull };

	return rnd() % 4 ? pick(sizes, HF_N(sizes)) : rnd() % (2 * TERN_IO_MAX);
}

static uint64_t rand_arg(void)
{
	static const uint64_t misc[] = { 0, 1, 2, 3, TERN_CPU_ANY, TERN_ALL_VCPUS, TERN_MOVE_PIN,
					 1ull << 32, ~0ull, 0x7fffffffffffffffull };

	switch (rnd() % 4) {
	case 0: return rand_id();
	case 1: return rand_addr();
	case 2: return rand_size();
	default: return pick(misc, HF_N(misc));
	}
}

/* Scratch bytes the hypervisor may read as an argument structure: noise or near-valid. */
static void fill_scratch(void)
{
	struct tern_vm_create *vc = (struct tern_vm_create *)hf_scratch;

	for (size_t i = 0; i < HF_SCRATCH_SIZE; i += 8) {
		uint64_t r = rnd();

		memcpy(hf_scratch + i, &r, 8);
	}
	if (rnd() % 3 == 0) {
		/* A create that may well succeed (with a name of random letters). */
		hf_vc_init(vc, "rf", RF_VALID_MEM, 1 + (uint32_t)(rnd() % 2));
		vc->name[2] = (char)('a' + rnd() % 26);
		vc->name[3] = (char)('a' + rnd() % 26);
		vc->name[4] = '\0';
	}
}

static bool documented(int64_t r)
{
	static const int64_t errs[] = { TERN_EPERM, TERN_ENOENT, TERN_E2BIG, TERN_ENOMEM,
					TERN_EFAULT, TERN_EBUSY, TERN_EEXIST, TERN_EINVAL,
					TERN_ERANGE, TERN_ENOSYS, TERN_ESTATE };

	if (r >= 0)
		return true;
	for (size_t i = 0; i < HF_N(errs); i++)
		if (r == -errs[i])
			return true;
	return false;
}

/*
 * What each ABI 1.3 call may return (docs/hypercalls.md): its success value
 * and the errors its section lists. 0 for the calls left to documented().
 */
/* Error bits: ESTATE (77) and ERANGE (34) do not fit a shift, so map each to a bit. */
#define E(x) (1u << err_bit(TERN_##x))
static unsigned int err_bit(int e)
{
	switch (e) {
	case TERN_ERANGE: return 20;
	case TERN_ESTATE: return 21;
	case TERN_ENOSYS: return 22;
	default: return e < 20 ? (unsigned int)e : 23;
	}
}

static bool allowed(uint64_t nr, int64_t r)
{
	uint32_t errs;

	switch (nr) {
	case TERN_HC_VCPU_GET_REGS:
		if (r >= 0)
			return r == sizeof(struct tern_vcpu_regs);
		errs = E(ENOENT) | E(EPERM) | E(ESTATE) | E(EBUSY) | E(E2BIG) | E(EINVAL) | E(EFAULT);
		break;
	case TERN_HC_VCPU_SET_REGS:
		if (r >= 0)
			return r == 0;
		errs = E(ENOENT) | E(EPERM) | E(ESTATE) | E(EBUSY) | E(EINVAL) | E(EFAULT);
		break;
	case TERN_HC_VM_READ:
		if (r >= 0)
			return r == 0;
		errs = E(ENOENT) | E(EPERM) | E(E2BIG) | E(EFAULT) | E(ERANGE) | E(ESTATE) | E(EBUSY);
		break;
	case TERN_HC_DEV_GET_STATE:
		if (r >= 0)
			return r > 0 && r <= TERN_DEV_STATE_MAX;
		errs = E(ENOENT) | E(EPERM) | E(ESTATE) | E(EBUSY) | E(E2BIG) | E(EFAULT) | E(EINVAL);
		break;
	case TERN_HC_DEV_SET_STATE:
		if (r >= 0)
			return r == 0;
		errs = E(ENOENT) | E(EPERM) | E(ESTATE) | E(EBUSY) | E(E2BIG) | E(EFAULT) | E(EINVAL);
		break;
	case TERN_HC_VM_POWER_BUTTON:
		if (r >= 0)
			return r == 0 || r == 1;
		errs = E(ENOENT) | E(EPERM) | E(ESTATE);
		break;
	case TERN_HC_VM_MEMMAP:
		if (r >= 0)
			return r >= 3 && r <= TERN_MEM_REGIONS_MAX;
		errs = E(ENOENT) | E(EPERM) | E(E2BIG) | E(EFAULT);
		break;
	default:
		return true;
	}
	/* An ordinary guest gets EPERM from all of them. */
	return -r < 128 && (errs & (1u << err_bit((int)-r)));
}
#undef E

/*
 * The argument slot that points at memory Tern writes, per call (-1: none).
 * It gets only rand_addr(): a small number there is a valid RAM address,
 * and a call writing there does as asked (the guest's page tables at 0x1000
 * included).
 */
static int written_slot(uint64_t nr)
{
	switch (nr) {
	case TERN_HC_HOST_INFO:
	case TERN_HC_VM_CREATE: /* read only, but the same rule keeps it simple */
	case TERN_HC_VM_LIST:
	case TERN_HC_CONSOLE_READ:
	case TERN_HC_LOG_READ:
		return 0;
	case TERN_HC_VM_INFO:
	case TERN_HC_DEV_GET_STATE:
	case TERN_HC_VM_MEMMAP:
		return 1;
	case TERN_HC_VCPU_GET_REGS:
	case TERN_HC_VM_READ:
		return 2;
	default:
		return -1;
	}
}

/* One random call; its first argument is an id for the calls that take one. */
static void one_call(unsigned int round)
{
	uint64_t nr = rnd() % 16 ? rnd() % TERN_HC_COUNT : rand_arg();
	uint64_t a[4] = { rand_arg(), rand_arg(), rand_arg(), rand_arg() };
	bool takes_id = nr >= TERN_HC_VM_WRITE && nr <= TERN_HC_VM_DESTROY;
	int slot = written_slot(nr);
	int64_t r;

	if (slot >= 0)
		a[slot] = rand_addr();

	if (takes_id || nr == TERN_HC_VM_INFO || nr == TERN_HC_VCPU_MOVE ||
	    nr == TERN_HC_CONSOLE_WRITE || nr == TERN_HC_VM_MEMMAP ||
	    (nr >= TERN_HC_VCPU_GET_REGS && nr <= TERN_HC_VM_POWER_BUTTON))
		a[0] = rand_id();
	/* VM_READ writes len bytes from a[2] on: keep them in the scratch (slot 2 is in its first page). */
	if (nr == TERN_HC_VM_READ && a[3] <= TERN_IO_MAX && a[3] > HF_SCRATCH_SIZE - HF_PAGE)
		a[3] %= HF_SCRATCH_SIZE - HF_PAGE + 1;
	/* Destroying what was made is the cleanup's job: keep the ids valid longer. */
	if (nr == TERN_HC_VM_DESTROY && rnd() % 4)
		a[0] = rnd() % 2 ? 9999 : hf.self;
	if (nr == TERN_HC_VM_CREATE && nr_made == RF_MAX_VMS)
		a[0] = hf.memsize; /* no more: a pointer past RAM */
	fill_scratch();
	r = hf_call(nr, "random", a[0], a[1], a[2], a[3]);
	if (!hf_assert(documented(r) && allowed(nr, r), nr, "random",
		       "round %u (0x%lx, 0x%lx, 0x%lx, 0x%lx) gave %ld, not a documented result",
		       round, a[0], a[1], a[2], a[3], r))
		return;
	if (!hf.mgmt)
		hf_assert(r == -TERN_EPERM || r == -TERN_ENOSYS || nr == TERN_HC_VERSION ||
			  nr == TERN_HC_VM_MEMMAP, nr,
			  "random", "round %u: an ordinary guest got %ld", round, r);
	if (hf.mgmt && nr == TERN_HC_VM_CREATE && r > 0 && nr_made < RF_MAX_VMS)
		made[nr_made++] = (uint32_t)r;
}

/* Stop and destroy every VM this phase made; false if one would not go. */
static bool cleanup(void)
{
	bool ok = true;

	for (unsigned int i = 0; i < nr_made; i++) {
		int64_t r;

		(void)vmcall4(TERN_HC_VM_STOP, made[i], 0, 0, 0);
		for (unsigned int t = 0; t < HF_WAIT_TICKS; t++) {
			r = vmcall4(TERN_HC_VM_DESTROY, made[i], 0, 0, 0);
			if (r != -TERN_EBUSY)
				break;
			hf_sleep(1);
		}
		ok &= hf_assert(r == 0 || r == -TERN_ENOENT, TERN_HC_VM_DESTROY, "random cleanup",
				"vm %u: %ld", made[i], r);
	}
	nr_made = 0;
	return ok;
}

void hf_random_phase(void)
{
	struct tern_host_info before, after;
	unsigned int failed = hf.failed;

	if (hf.mgmt && !hf_host_info(&before))
		return;
	for (unsigned int i = 0; i < RF_ROUNDS; i++)
		one_call(i);
	if (hf.mgmt && cleanup() && hf_host_info(&after))
		hf_assert(after.mem_free == before.mem_free, TERN_HC_HOST_INFO, "random cleanup",
			  "free memory %lu before, %lu after", before.mem_free, after.mem_free);
	hf_log("random: %u calls (seed 0x%llx), %u failed checks", RF_ROUNDS, RF_SEED,
	       hf.failed - failed);
}
