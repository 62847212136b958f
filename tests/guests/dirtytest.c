/* SPDX-License-Identifier: MIT */
/*
 * Dirty logging, checked as a management guest (mgmt=dirtytest): for each
 * mechanism (PML, EPT dirty flags, write-protection) a VM runs a real-mode
 * payload (dirtytest_payload.asm) that writes exactly DIRTY_PAGES known
 * pages per round and nothing else; between rounds the VM is paused and the
 * dirty bitmap fetched: it must hold exactly those pages, a round without
 * writes none, and the mechanism must be the one asked for (or, where the
 * CPU lacks it, the next one, said so).
 *
 * Lines: "dirtytest: MECH: ..." per check, "ERROR ..." on a failure,
 * "dirtytest: done".
 */
#include "tests/guests/guest.h"
#include "kernel/string.h"

#define DIRTY_PAGES  16u
#define FIRST_PAGE   0x10u
#define PAGE_STRIDE  7u
#define VM_MEM       (2ull << 20)
#define NPAGES       (VM_MEM >> 12)
#define ENTRY        0x7c00u
#define WAIT_TSC     (2000ull * 50000) /* 2 s of Bochs' 50 MHz TSC */

const char guest_name[] = "dirtytest";

extern const uint8_t dirty_payload[], dirty_payload_end[];

static const char *const mech_name[] = { "best", "pml", "ept-ad", "write-protect" };
static uint64_t bitmap[NPAGES / 64];
static unsigned int failures;

static int64_t dirty(uint32_t vm, uint32_t op, uint32_t mech, uint64_t *bits)
{
	static struct tern_dirty_req q;

	q = (struct tern_dirty_req){ op, mech, 0, NPAGES, (uint64_t)(uintptr_t)bits };
	return vmcall4(TERN_HC_VM_DIRTY_LOG, vm, (uint64_t)(uintptr_t)&q, 0, 0);
}

/* A call on a paused VM says EBUSY until its vCPUs have parked: retry, bounded. */
static int64_t settled(uint32_t vm, uint32_t op, uint32_t mech, uint64_t *bits)
{
	uint64_t end = rdtsc() + WAIT_TSC;
	int64_t r;

	while ((r = dirty(vm, op, mech, bits)) == -(int64_t)TERN_EBUSY && rdtsc() < end)
		;
	return r;
}

/* Sends one byte to the payload and waits for its "D". */
static bool round_trip(uint32_t vm, uint64_t *seen)
{
	static char buf[256];
	static struct tern_stream st;
	uint64_t end = rdtsc() + WAIT_TSC;
	char c = 'g';

	if (vmcall4(TERN_HC_CONSOLE_WRITE, vm, (uint64_t)(uintptr_t)&c, 1, 0) != 1)
		return false;
	while (rdtsc() < end) {
		int64_t n;

		st = (struct tern_stream){ vm, sizeof(buf), (uint64_t)(uintptr_t)buf, *seen, 0 };
		n = vmcall4(TERN_HC_CONSOLE_READ, (uint64_t)(uintptr_t)&st, 0, 0, 0);
		for (int64_t i = 0; i < n; i++)
			if (buf[i] == 'D') {
				*seen = st.pos;
				return true;
			}
		if (n > 0)
			*seen = st.pos;
	}
	return false;
}

/* The fetched bitmap against the pages the payload writes (want) or none. */
static void check_bitmap(const char *mech, const char *what, int64_t n, bool want)
{
	unsigned int wrong = 0;

	for (uint64_t p = 0; p < NPAGES; p++) {
		bool expect = want && p >= FIRST_PAGE && (p - FIRST_PAGE) % PAGE_STRIDE == 0 &&
			      (p - FIRST_PAGE) / PAGE_STRIDE < DIRTY_PAGES;
		bool got = bitmap[p / 64] & (1ull << (p % 64));

		if (got != expect && wrong++ < 4)
			guest_log("ERROR %s: %s: page 0x%lx %s", mech, what, p,
				  got ? "dirty, not written" : "written, not dirty");
	}
	if (n != (want ? DIRTY_PAGES : 0))
		guest_log("ERROR %s: %s: %ld pages dirty, want %u", mech, what, n, want ? DIRTY_PAGES : 0);
	else if (!wrong)
		guest_log("%s: %s: %ld pages dirty, exactly the ones written", mech, what, n);
	failures += wrong || n != (want ? DIRTY_PAGES : 0);
}

/* The hypervisor's last "dirty logging off" line, from its log ring, printed. */
static void show_log_line(const char *mech)
{
	static const char key[] = "dirty logging off (";
	static char buf[4096], line[160];
	static struct tern_stream st;
	uint64_t pos = 0;
	int64_t n;

	line[0] = 0;
	for (;;) {
		st = (struct tern_stream){ 0, sizeof(buf), (uint64_t)(uintptr_t)buf, pos, 0 };
		n = vmcall4(TERN_HC_LOG_READ, (uint64_t)(uintptr_t)&st, 0, 0, 0);
		if (n <= 0)
			break;
		for (int64_t i = 0; i + (int64_t)sizeof(key) - 1 <= n; i++) {
			size_t k = 0;

			if (memcmp(buf + i, key, sizeof(key) - 1))
				continue;
			while (i + (int64_t)k < n && buf[i + (int64_t)k] != '\n' && k < sizeof(line) - 1) {
				line[k] = buf[i + (int64_t)k];
				k++;
			}
			line[k] = 0;
		}
		if (n < (int64_t)sizeof(buf))
			break; /* the end of the ring */
		/* Read the tail again with what follows: a line may straddle two reads. */
		pos = st.pos - sizeof(line);
	}
	if (line[0])
		guest_log("%s: log: %s", mech, line);
}

static void one_mech(uint32_t mech)
{
	static struct tern_vm_create args;
	static struct tern_vcpu_state st;
	static struct tern_vm_info info;
	const char *name = mech_name[mech];
	uint64_t seen = 0, t;
	int64_t id, r;

	memset(&args, 0, sizeof(args));
	args.name[0] = 'd';
	args.name[1] = (char)('0' + mech);
	args.mem_size = VM_MEM;
	args.nr_vcpus = 1;
	args.cpus[0] = TERN_CPU_ANY;
	id = vmcall4(TERN_HC_VM_CREATE, (uint64_t)(uintptr_t)&args, 0, 0, 0);
	st = (struct tern_vcpu_state){ .mode = TERN_MODE_REAL, .cs = 0, .rip = ENTRY };
	if (id < 0 ||
	    vmcall4(TERN_HC_VM_WRITE, (uint64_t)id, ENTRY, (uint64_t)(uintptr_t)dirty_payload,
		    (uint64_t)(dirty_payload_end - dirty_payload)) ||
	    vmcall4(TERN_HC_VCPU_SET_STATE, (uint64_t)id, 0, (uint64_t)(uintptr_t)&st, 0) ||
	    vmcall4(TERN_HC_VM_START, (uint64_t)id, 0, 0, 0)) {
		guest_log("ERROR %s: the VM could not be made (%ld)", name, id);
		failures++;
		return;
	}
	/* Running, waiting for its first byte: pause, log from here on. */
	for (t = rdtsc(); rdtsc() - t < WAIT_TSC / 20;)
		;
	vmcall4(TERN_HC_VM_PAUSE, (uint64_t)id, 0, 0, 0);
	r = settled((uint32_t)id, TERN_DIRTY_ENABLE, mech, NULL);
	if (r != mech) {
		guest_log("%s: not offered here: the call chose %s (%ld)", name,
			  r > 0 && r <= 3 ? mech_name[r] : "nothing", r);
	} else {
		guest_log("%s: logging", name);
		vmcall4(TERN_HC_VM_INFO, (uint64_t)id, (uint64_t)(uintptr_t)&info, sizeof(info), 0);
		if (((info.flags & TERN_VMF_DIRTY_MASK) >> TERN_VMF_DIRTY_SHIFT) != mech) {
			guest_log("ERROR %s: VM_INFO flags 0x%x do not say so", name, info.flags);
			failures++;
		}
		check_bitmap(name, "at enable", settled((uint32_t)id, TERN_DIRTY_FETCH, 0, bitmap), false);
		for (int round = 1; round <= 2; round++) {
			vmcall4(TERN_HC_VM_RESUME, (uint64_t)id, 0, 0, 0);
			if (!round_trip((uint32_t)id, &seen)) {
				guest_log("ERROR %s: round %d: the payload did not answer", name, round);
				failures++;
				break;
			}
			vmcall4(TERN_HC_VM_PAUSE, (uint64_t)id, 0, 0, 0);
			check_bitmap(name, round == 1 ? "round 1" : "round 2",
				     settled((uint32_t)id, TERN_DIRTY_FETCH, 0, bitmap), true);
		}
		/* A round without a byte: the payload writes nothing. */
		vmcall4(TERN_HC_VM_RESUME, (uint64_t)id, 0, 0, 0);
		for (t = rdtsc(); rdtsc() - t < WAIT_TSC / 10;)
			;
		vmcall4(TERN_HC_VM_PAUSE, (uint64_t)id, 0, 0, 0);
		check_bitmap(name, "idle round", settled((uint32_t)id, TERN_DIRTY_FETCH, 0, bitmap), false);
		/* What a fetch costs (make bench): the VM is settled, nothing is dirty. */
		t = rdtsc();
		r = dirty((uint32_t)id, TERN_DIRTY_FETCH, 0, bitmap);
		t = rdtsc() - t;
		guest_log("%s: a fetch of %lu pages took %lu ticks (%ld dirty)", name, (unsigned long)NPAGES, t, r);
		if (dirty((uint32_t)id, TERN_DIRTY_DISABLE, 0, NULL) != 0) {
			guest_log("ERROR %s: disable failed", name);
			failures++;
		}
		show_log_line(name);
		/* Off: fetching is refused, and the payload still runs. */
		if (dirty((uint32_t)id, TERN_DIRTY_FETCH, 0, bitmap) != -(int64_t)TERN_ESTATE) {
			guest_log("ERROR %s: fetch after disable not refused", name);
			failures++;
		}
		vmcall4(TERN_HC_VM_RESUME, (uint64_t)id, 0, 0, 0);
		if (!round_trip((uint32_t)id, &seen)) {
			guest_log("ERROR %s: the payload stopped after disable", name);
			failures++;
		}
	}
	vmcall4(TERN_HC_VM_STOP, (uint64_t)id, 0, 0, 0);
	for (t = rdtsc(); vmcall4(TERN_HC_VM_DESTROY, (uint64_t)id, 0, 0, 0) == -(int64_t)TERN_EBUSY &&
			  rdtsc() - t < WAIT_TSC;)
		;
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	guest_log("start");
	for (uint32_t m = TERN_DIRTY_PML; m <= TERN_DIRTY_WRPROT; m++)
		one_mech(m);
	guest_log("%s: %u failures", failures ? "FAILED" : "passed", failures);
	guest_done();
}
