/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls (docs/hypercalls.md). Each call first decodes: it copies its
 * argument structure out of the caller once and checks everything, in the
 * documented order, with no side effect; then it invokes, which does not
 * fail (seL4's decode/invoke split). VM_CREATE alone can still meet an
 * allocation failure after admission control, and then leaves nothing behind.
 */
#include "vmm/hypercall.h"
#include "vmm/vcpu_state.h"
#include "vmm/vm_dirty.h"
#include "vmm/loader.h"
#include "vmm/sched.h"
#include "arch/vmx.h"
#include "drivers/console.h"
#include "drivers/tsc.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "arch/pcpu.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define BOUNCE 512u /* bytes copied per step between guests */
#define LIST_MAX 256u /* VM ids one VM_LIST returns at most */

_Static_assert(TERN_EXIT_REASONS >= VMX_EXIT_REASON_MAX, "every exit reason fits tern_vm_info");
_Static_assert(TERN_NAME_MAX == VM_NAME_MAX, "VM names");
_Static_assert(TERN_EPERM == EPERM && TERN_ENOENT == ENOENT && TERN_E2BIG == E2BIG &&
	       TERN_ENOMEM == ENOMEM && TERN_EFAULT == EFAULT && TERN_EBUSY == EBUSY &&
	       TERN_EEXIST == EEXIST && TERN_EINVAL == EINVAL && TERN_ERANGE == ERANGE &&
	       TERN_ENOSYS == ENOSYS, "ABI errors have Linux values");

typedef int64_t (*hc_fn)(struct vm *caller, const uint64_t *a);

/* Management calls run one at a time: VM objects change only here and on their own CPUs. */
static struct spinlock hc_lock = SPINLOCK_INIT("hypercall");

static bool cpu_online(uint32_t cpu)
{
	return cpu < nr_pcpus && pcpus[cpu]->state == PCPU_ONLINE && pcpus[cpu]->rq;
}

/* A VM the management guest may act on: exists, and is not itself (-ENOENT, -EPERM). */
static int64_t target(struct vm *caller, uint64_t id, struct vm **out)
{
	struct vm *vm = id <= 0xffffffffull ? vm_find((uint32_t)id) : NULL;

	if (!vm)
		return -(int64_t)TERN_ENOENT;
	if (vm == caller)
		return -(int64_t)TERN_EPERM;
	*out = vm;
	return 0;
}

static struct vm *lookup(uint64_t id)
{
	return id <= 0xffffffffull ? vm_find((uint32_t)id) : NULL;
}

/* Copy len bytes from the caller's gpa to dst, or -EFAULT. */
static int64_t copy_in(struct vm *caller, void *dst, uint64_t gpa, uint64_t len)
{
	return vm_read_guest(caller, gpa, dst, len) ? -(int64_t)TERN_EFAULT : 0;
}

static int64_t copy_out(struct vm *caller, uint64_t gpa, const void *src, uint64_t len)
{
	if (!vm_range_ok(caller, gpa, len, true))
		return -(int64_t)TERN_EFAULT;
	return vm_write_guest(caller, gpa, src, len) ? -(int64_t)TERN_EFAULT : 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A result structure of want bytes into a buffer of size bytes: E2BIG, EINVAL, EFAULT. */
static int64_t check_out_buffer(struct vm *caller, uint64_t gpa, uint64_t size, uint64_t want)
{
	if (size > TERN_IO_MAX)
		return -(int64_t)TERN_E2BIG;
	if (size < want)
		return -(int64_t)TERN_EINVAL;
	return vm_range_ok(caller, gpa, size, true) ? 0 : -(int64_t)TERN_EFAULT;
}

uint64_t hc_vm_footprint(uint64_t mem, uint32_t nr_vcpus)
{
	uint64_t pages = mem / PAGE_SIZE;

	/*
	 * RAM, EPT tables if mapped in 4 KiB pages, the VM object, vCPUs, and
	 * extents if every page is one (while the array doubles, old and new).
	 */
	return (pages + pages / 512 + 16 + 8ull * nr_vcpus) * PAGE_SIZE +
	       pages * 3 * sizeof(struct mem_extent);
}

uint64_t hc_mem_available(void)
{
	struct pmm_stats st;
	uint64_t free;

	mm_get_stats(&st);
	/* Memory VMs being populated will still take is not free any more. */
	free = st.free_pages * PAGE_SIZE;
	free = free > vm_mem_pending() ? free - vm_mem_pending() : 0;
	return free > boot_opts.reserve ? free - boot_opts.reserve : 0;
}

/* ---- calls anyone may make ---------------------------------------------------- */

static int64_t hc_version(struct vm *caller, const uint64_t *a)
{
	return TERN_ABI_VERSION;
}

/* ---- host ------------------------------------------------------------------------ */

static int64_t hc_host_info(struct vm *caller, const uint64_t *a)
{
	struct tern_host_info hi = { 0 };
	struct pmm_stats st;
	int64_t err = check_out_buffer(caller, a[0], a[1], sizeof(hi));

	if (err)
		return err;
	mm_get_stats(&st);
	hi.abi_version = TERN_ABI_VERSION;
	hi.nr_cpus = pcpu_online_count();
	hi.max_vcpus = TERN_MAX_VCPUS;
	hi.caller_id = caller->id;
	hi.mem_total = st.total_pages * PAGE_SIZE;
	hi.mem_free = st.free_pages * PAGE_SIZE;
	hi.mem_reserved = hi.mem_free < boot_opts.reserve ? hi.mem_free : boot_opts.reserve;
	hi.mem_available = hi.mem_free - hi.mem_reserved;
	hi.tsc_khz = tsc_khz;
	hi.uptime_us = tsc_now_us();
	hi.features = TERN_FEAT_EPT_2M | TERN_FEAT_PREEMPT_TIMER |
		      (vmx_config.vpid ? TERN_FEAT_VPID : 0) |
		      (vmx_config.unrestricted ? TERN_FEAT_UNRESTRICTED : 0) |
		      (vmx_config.apicv ? TERN_FEAT_APICV : 0);
	hi.nr_vms = vm_count();
	return copy_out(caller, a[0], &hi, sizeof(hi)) ?: (int64_t)sizeof(hi);
}

/* ---- creating and loading ---------------------------------------------------- */

static bool valid_name(const char *name)
{
	size_t n = strnlen(name, TERN_NAME_MAX);

	if (!n || n == TERN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int64_t decode_create(struct vm *caller, uint64_t gpa, struct tern_vm_create *c,
			     struct gmap *map)
{
	int err;

	if (copy_in(caller, c, gpa, sizeof(*c)))
		return -(int64_t)TERN_EFAULT;
	if (!valid_name(c->name) || (c->flags & ~TERN_CREATE_INCREMENTAL) || !c->nr_vcpus || c->nr_vcpus > TERN_MAX_VCPUS ||
	    (c->mem_size & (PAGE_SIZE - 1)) || c->mem_size < TERN_VM_MEM_MIN ||
	    vm_vcpus_refused(c->nr_vcpus))
		return -(int64_t)TERN_EINVAL;
	for (uint32_t i = 0; i < c->nr_vcpus; i++)
		if (c->cpus[i] != TERN_CPU_ANY && !cpu_online(c->cpus[i]))
			return -(int64_t)TERN_EINVAL;
	if (c->mem_size > TERN_VM_MEM_MAX)
		return -(int64_t)TERN_E2BIG;
	if ((err = vm_layout(map, c->mem_size, c->ram_below_4g)))
		return err == -E2BIG ? -(int64_t)TERN_E2BIG : -(int64_t)TERN_EINVAL;
	if (vm_find_name(c->name))
		return -(int64_t)TERN_EEXIST;
	if (hc_vm_footprint(c->mem_size, c->nr_vcpus) > hc_mem_available())
		return -(int64_t)TERN_ENOMEM;
	return 0;
}

static void log_created(const struct vm *vm)
{
	pr_info("vm %s: created (id %u, %lu KiB, %u vCPU%s)", vm->name, vm->id,
		(unsigned long)(vm->mem_size >> 10), vm->nr_vcpus, vm->nr_vcpus == 1 ? "" : "s");
}

static int64_t hc_vm_create(struct vm *caller, const uint64_t *a)
{
	struct tern_vm_create c;
	struct gmap map;
	int64_t err = decode_create(caller, a[0], &c, &map);
	struct vm *vm;
	int e;

	if (err) {
		if (err == -(int64_t)TERN_ENOMEM)
			pr_info("vm %.31s: not created: %lu KiB asked, %lu KiB available", c.name,
				(unsigned long)(c.mem_size >> 10), (unsigned long)(hc_mem_available() >> 10));
		else if (err == -(int64_t)TERN_EINVAL && vm_vcpus_refused(c.nr_vcpus))
			pr_info("vm %.31s: not created: %u vCPUs: %s", c.name, c.nr_vcpus,
				vm_vcpus_refused(c.nr_vcpus));
		return err;
	}
	if (c.flags & TERN_CREATE_INCREMENTAL)
		vm = vm_create_partial(c.name, &map, c.nr_vcpus, VUART_TO_RING, &e);
	else
		vm = vm_create(c.name, &map, c.nr_vcpus, VUART_TO_RING, &e);
	if (!vm)
		return -(int64_t)TERN_ENOMEM;
	vm->persistent = true;
	for (uint32_t i = 0; i < c.nr_vcpus; i++)
		vm->pin[i] = c.cpus[i];
	if (vm_populated(vm))
		log_created(vm);
	return vm->id;
}

/* The rest of an incrementally created VM's memory, one bounded step a call. */
static int64_t hc_vm_populate(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	int64_t err = target(caller, a[0], &vm), left;

	if (err)
		return err;
	if (vm_populated(vm))
		return 0;
	left = vm_populate(vm);
	if (left < 0) {
		pr_warn("vm %s: memory could not be populated: %lu of %lu KiB done (out of memory)",
			vm->name, (unsigned long)(vm->mem_ready >> 10), (unsigned long)(vm->mem_size >> 10));
		return -(int64_t)TERN_ENOMEM;
	}
	if (!left)
		log_created(vm);
	return left;
}

/* A target VM and bytes of the caller to give it: ENOENT, EPERM, E2BIG, EFAULT in that order. */
static int64_t decode_source(struct vm *caller, uint64_t id, uint64_t src, uint64_t len,
			     struct vm **vm)
{
	int64_t err = target(caller, id, vm);

	if (err)
		return err;
	if (len > TERN_IO_MAX)
		return -(int64_t)TERN_E2BIG;
	return vm_range_ok(caller, src, len, false) ? 0 : -(int64_t)TERN_EFAULT;
}

/* Guest to guest through a bounce buffer; both ranges checked by the caller. */
/*
 * A step of copying costs some 1,500 ticks under Bochs, and a copy of
 * TERN_IO_MAX runs with interrupts off: the console's receive FIFO (16
 * bytes in 1.39 ms at 115200 baud) is drained every POLL_STEPS steps, as
 * vm_zero_piece does. A 24 KiB VM_WRITE without it was measured to leave
 * the FIFO 1.48 ms undrained during a paste into the shell, and lose a byte.
 */
#define POLL_STEPS 8u

static void copy_between(struct vm *to, uint64_t dst, struct vm *from, uint64_t src, uint64_t len)
{
	char buf[BOUNCE];

	for (uint32_t step = 1; len; step++) {
		uint64_t n = len < BOUNCE ? len : BOUNCE;

		if (!(step % POLL_STEPS))
			console_rx_poll();
		vm_read_guest(from, src, buf, n);
		vm_write_guest(to, dst, buf, n);
		src += n;
		dst += n;
		len -= n;
	}
}

static int64_t hc_vm_write(struct vm *caller, const uint64_t *a)
{
	uint64_t dst = a[1], src = a[2], len = a[3];
	struct vm *vm;
	int64_t err = decode_source(caller, a[0], src, len, &vm);

	if (err)
		return err;
	if (!gmap_covers(&vm->map, dst, len, GMAP_MASK(GMAP_RAM)))
		return -(int64_t)TERN_ERANGE;
	if ((vm->state != VM_CREATED && vm->state != VM_PAUSED) || !vm_populated(vm))
		return -(int64_t)TERN_ESTATE;
	copy_between(vm, dst, caller, src, len);
	return 0;
}

static bool ram(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return gmap_covers(&vm->map, gpa, len, GMAP_MASK(GMAP_RAM));
}

static int64_t decode_state(struct vm *vm, const struct tern_vcpu_state *s)
{
	uint16_t sel = s->cs ? s->cs : GUEST_SEL_CODE64;

	if (s->mode == TERN_MODE_REAL) {
		uint64_t entry = ((uint64_t)s->cs << 4) + s->rip;

		if (!vmx_config.unrestricted || s->rip > 0xffff)
			return -(int64_t)TERN_EINVAL;
		if (!ram(vm, entry, 1) || entry >= (1ull << 20))
			return -(int64_t)TERN_ERANGE;
		return 0;
	}
	/* The code descriptor and the data one after it inside the GDT, from index 1 (SDM vol. 3A 3.4.2). */
	if ((s->mode != TERN_MODE_LONG && s->mode != TERN_MODE_PROT32) || (sel & 7) ||
	    (uint32_t)sel + 15 > s->gdt_limit)
		return -(int64_t)TERN_EINVAL;
	if (s->mode == TERN_MODE_PROT32) {
		/* Paging off: VMX allows it only with unrestricted guest (SDM vol. 3C 26.3.1.1). */
		if (!vmx_config.unrestricted || s->cr3 || (s->rip >> 32) || (s->rsp >> 32))
			return -(int64_t)TERN_EINVAL;
	} else if (s->cr3 & (PAGE_SIZE - 1)) {
		return -(int64_t)TERN_EINVAL;
	}
	if (!ram(vm, s->rip, 1) || (s->mode == TERN_MODE_LONG && !ram(vm, s->cr3, PAGE_SIZE)) ||
	    !ram(vm, s->gdt_base, (uint64_t)s->gdt_limit + 1))
		return -(int64_t)TERN_ERANGE;
	return 0;
}

static int64_t hc_vcpu_set_state(struct vm *caller, const uint64_t *a)
{
	struct tern_vcpu_state s;
	struct vm *vm = lookup(a[0]);
	struct vcpu *v;
	int64_t err;

	if (!vm || a[1] >= vm->nr_vcpus)
		return -(int64_t)TERN_ENOENT;
	if (vm == caller)
		return -(int64_t)TERN_EPERM;
	if (copy_in(caller, &s, a[2], sizeof(s)))
		return -(int64_t)TERN_EFAULT;
	if ((err = decode_state(vm, &s)))
		return err;
	if (vm->state != VM_CREATED || !vm_populated(vm))
		return -(int64_t)TERN_ESTATE;
	v = vm->vcpus[a[1]];
	v->init = (struct vcpu_init){
		.mode = s.mode == TERN_MODE_LONG ? GUEST_LONG :
			s.mode == TERN_MODE_PROT32 ? GUEST_PROT32 : GUEST_REAL,
		.rip = s.rip, .rsp = s.rsp, .rdi = s.rdi, .rsi = s.rsi, .rdx = s.rdx, .rcx = s.rcx,
		.rax = s.rax, .rbx = s.rbx, .cs = s.cs,
		.cr3 = s.cr3, .gdt_base = s.gdt_base, .gdt_limit = s.gdt_limit,
	};
	v->has_state = true;
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int64_t hc_vm_start(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	int64_t err = target(caller, a[0], &vm);
	int cpu;

	if (err)
		return err;
	if (vm->state != VM_CREATED || !vm_populated(vm))
		return -(int64_t)TERN_ESTATE;
	if (!vm->vcpus[0]->has_state)
		return -(int64_t)TERN_EINVAL;
	cpu = vm_start(vm);
	pr_info("vm %s: started (%u vCPU%s, vcpu0 on cpu%d)", vm->name, vm->nr_vcpus,
		vm->nr_vcpus == 1 ? "" : "s", cpu);
	return 0;
}

/* PAUSE, RESUME, STOP: a transition the VM's state may refuse (-ESTATE). */
static int64_t transition(struct vm *caller, uint64_t id, bool (*op)(struct vm *vm))
{
	struct vm *vm;
	int64_t err = target(caller, id, &vm);

	if (err)
		return err;
	return op(vm) ? 0 : -(int64_t)TERN_ESTATE;
}

static int64_t hc_vm_pause(struct vm *caller, const uint64_t *a)
{
	return transition(caller, a[0], vm_pause);
}

static int64_t hc_vm_resume(struct vm *caller, const uint64_t *a)
{
	return transition(caller, a[0], vm_resume);
}

static int64_t hc_vm_stop(struct vm *caller, const uint64_t *a)
{
	return transition(caller, a[0], vm_stop_by_operator);
}

static int64_t hc_vm_destroy(struct vm *caller, const uint64_t *a)
{
	struct pmm_stats before, after;
	struct vm *vm;
	int64_t err = target(caller, a[0], &vm);
	char name[VM_NAME_MAX];

	if (err)
		return err;
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED ||
	    !__atomic_load_n(&vm->quiesced, __ATOMIC_ACQUIRE))
		return -(int64_t)TERN_EBUSY;
	strlcpy(name, vm->name, sizeof(name));
	mm_get_stats(&before);
	vm_destroy(vm);
	mm_get_stats(&after);
	pr_info("vm %s: destroyed, %lu pages returned", name,
		(unsigned long)(after.free_pages - before.free_pages));
	return 0;
}

/* ---- inspection --------------------------------------------------------------- */

static int64_t hc_vm_list(struct vm *caller, const uint64_t *a)
{
	uint32_t ids[LIST_MAX], n, total = vm_list(ids, LIST_MAX);
	uint64_t max = a[1];

	if (max > TERN_IO_MAX / 4)
		return -(int64_t)TERN_E2BIG;
	if (!vm_range_ok(caller, a[0], max * 4, true))
		return -(int64_t)TERN_EFAULT;
	n = total < max ? total : (uint32_t)max;
	n = n < LIST_MAX ? n : LIST_MAX;
	vm_write_guest(caller, a[0], ids, n * 4ull);
	return total;
}

static void fill_info(const struct vm *vm, struct tern_vm_info *in)
{
	uint64_t khz = tsc_khz ? tsc_khz : 1;

	in->id = vm->id;
	in->state = (uint32_t)vm->state;
	strlcpy(in->name, vm->name, sizeof(in->name));
	in->mem_size = vm->mem_size;
	in->nr_vcpus = vm->nr_vcpus;
	in->flags = (vm->management ? TERN_VMF_MANAGEMENT : 0) |
		    (vm_populated(vm) ? 0 : TERN_VMF_POPULATING);
	in->created_tsc = vm->created_tsc;
	in->started_tsc = vm->started_tsc;
	in->first_output_tsc = vm->uart.first_out_tsc;
	in->console_bytes = vuart_bytes_out(&vm->uart);
	in->denied_calls = vm->denied_calls;
	in->unhandled_io = vm->plat.pio.open_reads + vm->plat.pio.open_writes;
	in->unhandled_msr = vm->unhandled_msr;
	if (vm->state == VM_STOPPED || vm->state == VM_FINISHED)
		strlcpy(in->stop_reason, vm->stop_reason, sizeof(in->stop_reason));
	in->flags |= vm->end_flags | (uint32_t)vm->dirty.mech << TERN_VMF_DIRTY_SHIFT;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		struct tern_vcpu_info *vi = &in->vcpus[i];

		vi->state = (uint32_t)v->state;
		vi->cpu = vm->state == VM_CREATED ? vm->pin[i] : v->cpu;
		vi->pinned = vm->state == VM_CREATED ? vm->pin[i] != TERN_CPU_ANY : v->pinned;
		vi->run_us = v->run_tsc * 1000 / khz;
		vi->nr_exits = 0;
		for (uint32_t r = 0; r <= VMX_EXIT_REASON_MAX; r++)
			vi->nr_exits += v->exits[r];
		vi->nr_moves = v->nr_moves;
		vi->nr_scheduled = v->nr_scheduled;
		vi->cpus_seen = v->cpus_seen;
		in->run_us += vi->run_us;
		in->nr_exits += vi->nr_exits;
		for (uint32_t r = 0; r < VMX_EXIT_REASON_MAX; r++)
			in->exits[r] += v->exits[r];
	}
}

static int64_t hc_vm_info(struct vm *caller, const uint64_t *a)
{
	struct tern_vm_info in;
	struct vm *vm = lookup(a[0]);
	int64_t err;

	if (!vm)
		return -(int64_t)TERN_ENOENT;
	if ((err = check_out_buffer(caller, a[1], a[2], sizeof(in))))
		return err;
	memset(&in, 0, sizeof(in));
	fill_info(vm, &in);
	return copy_out(caller, a[1], &in, sizeof(in)) ?: (int64_t)sizeof(in);
}

static int64_t hc_vcpu_move(struct vm *caller, const uint64_t *a)
{
	struct vm *vm = lookup(a[0]);
	uint64_t vcpu = a[1], cpu = a[2], flags = a[3];
	bool pin = flags & TERN_MOVE_PIN;

	if (!vm || (vcpu != TERN_ALL_VCPUS && vcpu >= vm->nr_vcpus))
		return -(int64_t)TERN_ENOENT;
	if ((flags & ~(uint64_t)TERN_MOVE_PIN) || (cpu == TERN_CPU_ANY && pin) ||
	    (cpu != TERN_CPU_ANY && !cpu_online((uint32_t)cpu)) || cpu > TERN_CPU_ANY)
		return -(int64_t)TERN_EINVAL;
	if (vm->state == VM_STOPPED || vm->state == VM_FINISHED)
		return -(int64_t)TERN_ESTATE;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu != TERN_ALL_VCPUS && i != vcpu)
			continue;
		if (vm->state == VM_CREATED)
			vm->pin[i] = pin ? (uint32_t)cpu : TERN_CPU_ANY;
		else
			sched_place(vm->vcpus[i], (uint32_t)cpu, pin);
	}
	if (vm->state != VM_CREATED && cpu != TERN_CPU_ANY)
		pr_info("vm %s: %s moving to cpu%lu%s", vm->name,
			vcpu == TERN_ALL_VCPUS ? "all vCPUs" : "a vCPU", (unsigned long)cpu,
			pin ? ", pinned" : "");
	return 0;
}

/* ---- consoles and the log ------------------------------------------------------- */

/* Copy in a tern_stream and check its buffer (the order both stream calls share). */
static int64_t decode_stream(struct vm *caller, uint64_t gpa, struct tern_stream *s, bool log)
{
	/* Written back with pos and lost: it must be the caller's RAM. */
	if (!vm_range_ok(caller, gpa, sizeof(*s), true) || copy_in(caller, s, gpa, sizeof(*s)))
		return -(int64_t)TERN_EFAULT;
	if (log && s->vm)
		return -(int64_t)TERN_EINVAL;
	if (!log && !lookup(s->vm))
		return -(int64_t)TERN_ENOENT;
	if (s->size > TERN_IO_MAX)
		return -(int64_t)TERN_E2BIG;
	if (!vm_range_ok(caller, s->buf, s->size, true))
		return -(int64_t)TERN_EFAULT;
	if (overlaps(s->buf, s->size, gpa, sizeof(*s)))
		return -(int64_t)TERN_EINVAL;
	return 0;
}

static int64_t read_stream(struct vm *caller, uint64_t gpa, bool log)
{
	struct tern_stream s;
	int64_t err = decode_stream(caller, gpa, &s, log);
	struct vm *vm = log ? NULL : lookup(s.vm);
	uint64_t done = 0, lost = 0;
	char buf[BOUNCE];

	if (err)
		return err;
	s.lost = 0;
	while (done < s.size) {
		uint64_t want = s.size - done < BOUNCE ? s.size - done : BOUNCE, p0 = s.pos;
		size_t n;

		if (log) {
			n = log_ring_read(&s.pos, buf, want);
			lost = s.pos - n - p0;
		} else {
			n = vuart_out_read(&vm->uart, &s.pos, &lost, buf, want);
		}
		if (!done)
			s.lost = lost;
		if (!n)
			break;
		vm_write_guest(caller, s.buf + done, buf, n);
		done += n;
	}
	vm_write_guest(caller, gpa, &s, sizeof(s));
	return (int64_t)done;
}

static int64_t hc_console_read(struct vm *caller, const uint64_t *a)
{
	return read_stream(caller, a[0], false);
}

static int64_t hc_log_read(struct vm *caller, const uint64_t *a)
{
	return read_stream(caller, a[0], true);
}

static int64_t hc_console_write(struct vm *caller, const uint64_t *a)
{
	uint64_t src = a[1], len = a[2], done = 0;
	struct vm *vm;
	int64_t err = decode_source(caller, a[0], src, len, &vm);
	char buf[BOUNCE];

	if (err)
		return err;
	while (done < len) {
		uint64_t want = len - done < BOUNCE ? len - done : BOUNCE;
		size_t n;

		vm_read_guest(caller, src + done, buf, want);
		n = vuart_rx_put(&vm->uart, buf, want);
		if (n)
			vplatform_uart_rx(vm);
		done += n;
		if (n < want)
			break;
	}
	return (int64_t)done;
}

/* ---- dispatch ------------------------------------------------------------------- */

struct hc_entry {
	hc_fn fn;
	const char *name;
	bool anyone; /* no management rights needed */
};

/* ---- whole-VM state: vCPUs, devices, memory (ABI 1.2) --------------------------- */

static struct tern_vcpu_regs regs_bounce; /* one call at a time (the management lock) */
static uint8_t dev_bounce[TERN_DEV_STATE_MAX];

/*
 * A vCPU of a VM whose state may be read (PAUSED and settled) or written
 * (also CREATED): ENOENT, EPERM, then ESTATE, then EBUSY while a paused
 * VM's vCPUs are still leaving their CPUs.
 */
#define NO_VCPU (~0ull) /* the device calls name no vCPU */
static int64_t state_target(struct vm *caller, uint64_t id, uint64_t vcpu, bool write,
			    struct vm **out)
{
	int64_t err = target(caller, id, out);
	struct vm *vm;

	if (err)
		return err;
	vm = *out;
	if (vcpu != NO_VCPU && vcpu >= vm->nr_vcpus)
		return -(int64_t)TERN_ENOENT;
	if (write && vm->state == VM_CREATED)
		return vm_populated(vm) ? 0 : -(int64_t)TERN_ESTATE;
	if (vm->state != VM_PAUSED)
		return -(int64_t)TERN_ESTATE;
	return vm_settled(vm) ? 0 : -(int64_t)TERN_EBUSY;
}

static int64_t hc_vcpu_get_regs(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	int64_t err = state_target(caller, a[0], a[1], false, &vm);

	struct vcpu *v;

	if (err || (err = check_out_buffer(caller, a[2], a[3], sizeof(struct tern_vcpu_regs))))
		return err;
	v = vm->vcpus[a[1]];
	memcpy(&regs_bounce, &v->arch, sizeof(regs_bounce));
	if (!v->parked && !v->apply_arch) {
		/* Halted for good before its VM paused: it has no state to resume from. */
		vcpu_state_capture_waiting(v);
		memcpy(&regs_bounce, &v->arch, sizeof(regs_bounce));
		regs_bounce.run_state = TERN_VCPU_HALTED;
	}
	err = copy_out(caller, a[2], &regs_bounce, sizeof(regs_bounce));
	return err ? err : (int64_t)sizeof(regs_bounce);
}

static int64_t hc_vcpu_set_regs(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	struct vcpu *v;
	int64_t err = state_target(caller, a[0], a[1], true, &vm);

	if (err)
		return err;
	if (a[3] != sizeof(struct tern_vcpu_regs))
		return -(int64_t)TERN_EINVAL;
	if (copy_in(caller, &regs_bounce, a[2], sizeof(regs_bounce)))
		return -(int64_t)TERN_EFAULT;
	v = vm->vcpus[a[1]];
	if (vcpu_state_check(v, &regs_bounce) || regs_bounce.run_state == TERN_VCPU_HALTED ||
	    (v->state != VCPU_WAIT_SIPI && vm->state == VM_PAUSED &&
	     regs_bounce.run_state == TERN_VCPU_WAIT_SIPI))
		return -(int64_t)TERN_EINVAL;
	if (!v->parked && vm->state == VM_PAUSED)
		return -(int64_t)TERN_ESTATE; /* it halted for good before the pause */
	memcpy(&v->arch, &regs_bounce, sizeof(regs_bounce));
	v->apply_arch = regs_bounce.run_state != TERN_VCPU_WAIT_SIPI;
	if (v->apply_arch)
		vcpu_state_apply_soft(v);
	if (vm->state == VM_CREATED) {
		/* VM_START sets the VMCS up from a long-mode start, then this state goes over it. */
		v->init = (struct vcpu_init){ .mode = GUEST_LONG };
		v->has_state = v->apply_arch;
	}
	v->start_state = regs_bounce.run_state == TERN_VCPU_BLOCKED ? VCPU_BLOCKED :
			 regs_bounce.run_state == TERN_VCPU_WAIT_SIPI ? VCPU_WAIT_SIPI : VCPU_RUNNABLE;
	if (vm->state == VM_PAUSED)
		v->state = v->start_state; /* parked: no CPU looks at it until resumed */
	return 0;
}

/* VM_READ: the mirror of VM_WRITE, from a CREATED or PAUSED (settled) VM. */
static int64_t hc_vm_read(struct vm *caller, const uint64_t *a)
{
	uint64_t src = a[1], dst = a[2], len = a[3];
	struct vm *vm;
	int64_t err = target(caller, a[0], &vm);

	if (err)
		return err;
	if (len > TERN_IO_MAX)
		return -(int64_t)TERN_E2BIG;
	if (!vm_range_ok(caller, dst, len, true))
		return -(int64_t)TERN_EFAULT;
	if (!gmap_covers(&vm->map, src, len, GMAP_MASK(GMAP_RAM)))
		return -(int64_t)TERN_ERANGE;
	if ((vm->state != VM_CREATED && vm->state != VM_PAUSED) || !vm_populated(vm))
		return -(int64_t)TERN_ESTATE;
	if (vm->state == VM_PAUSED && !vm_settled(vm))
		return -(int64_t)TERN_EBUSY;
	copy_between(caller, dst, vm, src, len);
	return 0;
}

static int64_t hc_dev_get_state(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	int64_t err = state_target(caller, a[0], NO_VCPU, false, &vm);
	int n;

	if (err || (err = check_out_buffer(caller, a[1], a[2], 0)))
		return err;
	n = vplatform_save(vm, dev_bounce, a[2] < sizeof(dev_bounce) ? a[2] : sizeof(dev_bounce));
	if (n < 0)
		return -(int64_t)TERN_EINVAL; /* the buffer is too small for the records */
	return copy_out(caller, a[1], dev_bounce, (uint64_t)n) ?: n;
}

static int64_t hc_dev_set_state(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	int64_t err = state_target(caller, a[0], NO_VCPU, true, &vm);

	if (err)
		return err;
	if (a[2] > sizeof(dev_bounce))
		return -(int64_t)TERN_E2BIG;
	if (copy_in(caller, dev_bounce, a[1], a[2]))
		return -(int64_t)TERN_EFAULT;
	return vplatform_restore(vm, dev_bounce, a[2]) ? -(int64_t)TERN_EINVAL : 0;
}

static int64_t hc_vm_power_button(struct vm *caller, const uint64_t *a)
{
	struct vm *vm;
	int64_t err = target(caller, a[0], &vm);

	if (err)
		return err;
	if (vm->state != VM_RUNNING)
		return -(int64_t)TERN_ESTATE;
	return vplatform_power_button(vm) ? 1 : 0;
}

_Static_assert(TERN_DIRTY_PML == DIRTY_PML && TERN_DIRTY_EPT_AD == DIRTY_EPT_AD &&
	       TERN_DIRTY_WRPROT == DIRTY_WRPROT, "dirty-log mechanisms as the ABI numbers them");

static uint64_t dirty_bounce[TERN_IO_MAX / 8];

/*
 * VM_DIRTY_LOG: ENOENT/EPERM, EFAULT (the request), EINVAL (op, mech), then
 * per op: ESTATE/EBUSY (not settled), ENOTSUP-as-EINVAL, ENOMEM; FETCH also
 * ESTATE when not logging, ERANGE, E2BIG, EFAULT (the bitmap).
 */
static int64_t hc_vm_dirty_log(struct vm *caller, const uint64_t *a)
{
	struct tern_dirty_req q;
	struct vm *vm;
	int64_t err = target(caller, a[0], &vm), n;
	uint64_t words;

	if (err)
		return err;
	if (copy_in(caller, &q, a[1], sizeof(q)))
		return -(int64_t)TERN_EFAULT;
	if (q.op < TERN_DIRTY_ENABLE || q.op > TERN_DIRTY_DISABLE || q.mech > TERN_DIRTY_WRPROT)
		return -(int64_t)TERN_EINVAL;
	if (q.op == TERN_DIRTY_DISABLE) {
		vm_dirty_disable(vm);
		return 0;
	}
	if (vm->state != VM_CREATED && vm->state != VM_PAUSED)
		return -(int64_t)TERN_ESTATE;
	if (vm->state == VM_PAUSED && !vm_settled(vm))
		return -(int64_t)TERN_EBUSY;
	if (q.op == TERN_DIRTY_ENABLE) {
		if (!vm_populated(vm))
			return -(int64_t)TERN_ESTATE;
		n = vm_dirty_enable(vm, (int)q.mech);
		return n == -EBUSY ? -(int64_t)TERN_EBUSY : n == -ENOMEM ? -(int64_t)TERN_ENOMEM :
		       n < 0 ? -(int64_t)TERN_EINVAL : n;
	}
	if (!vm->dirty.mech)
		return -(int64_t)TERN_ESTATE;
	if (q.first_page >= vm->dirty.npages || q.npages > vm->dirty.npages - q.first_page)
		return -(int64_t)TERN_ERANGE;
	words = (q.npages + 63) / 64;
	if (words > sizeof(dirty_bounce) / 8)
		return -(int64_t)TERN_E2BIG;
	if (!vm_range_ok(caller, q.bitmap, words * 8, true))
		return -(int64_t)TERN_EFAULT;
	n = vm_dirty_fetch(vm, q.first_page, q.npages, dirty_bounce);
	err = copy_out(caller, q.bitmap, dirty_bounce, words * 8);
	return err ? err : n;
}

struct hc_entry;
static int64_t deny(struct vm *caller, const struct hc_entry *e, unsigned int cpl);
static const struct hc_entry hc_table[TERN_HC_COUNT];

/* VM_MEMMAP: anyone its own map (TERN_VM_SELF), the management guest any VM's. */
static int64_t hc_vm_memmap(struct vm *caller, const uint64_t *a)
{
	struct gmap map;
	struct vm *vm = caller;
	uint64_t n, size = a[2];

	if (size > TERN_IO_MAX)
		return -(int64_t)TERN_E2BIG;
	if (a[0] != TERN_VM_SELF) {
		if (!caller->management)
			return deny(caller, &hc_table[TERN_HC_VM_MEMMAP], 0);
		spin_lock(&hc_lock); /* VMs are made and destroyed under it */
		vm = lookup(a[0]);
		if (vm)
			memcpy(&map, &vm->map, sizeof(map));
		spin_unlock(&hc_lock);
		if (!vm)
			return -(int64_t)TERN_ENOENT;
	} else {
		memcpy(&map, &vm->map, sizeof(map)); /* one's own map does not change while one runs */
	}
	n = map.n;
	size = size / sizeof(map.r[0]) < n ? size / sizeof(map.r[0]) * sizeof(map.r[0]) :
					      n * sizeof(map.r[0]);
	return copy_out(caller, a[1], map.r, size) ?: (int64_t)n;
}

#define HC(nr, fn, anyone) [nr] = { fn, #fn + sizeof("hc_") - 1, anyone }
static const struct hc_entry hc_table[TERN_HC_COUNT] = {
	HC(TERN_HC_VERSION, hc_version, true),
	HC(TERN_HC_HOST_INFO, hc_host_info, false),
	HC(TERN_HC_VM_CREATE, hc_vm_create, false),
	HC(TERN_HC_VM_WRITE, hc_vm_write, false),
	HC(TERN_HC_VCPU_SET_STATE, hc_vcpu_set_state, false),
	HC(TERN_HC_VM_START, hc_vm_start, false),
	HC(TERN_HC_VM_PAUSE, hc_vm_pause, false),
	HC(TERN_HC_VM_RESUME, hc_vm_resume, false),
	HC(TERN_HC_VM_STOP, hc_vm_stop, false),
	HC(TERN_HC_VM_DESTROY, hc_vm_destroy, false),
	HC(TERN_HC_VM_LIST, hc_vm_list, false),
	HC(TERN_HC_VM_INFO, hc_vm_info, false),
	HC(TERN_HC_VCPU_MOVE, hc_vcpu_move, false),
	HC(TERN_HC_CONSOLE_READ, hc_console_read, false),
	HC(TERN_HC_CONSOLE_WRITE, hc_console_write, false),
	HC(TERN_HC_LOG_READ, hc_log_read, false),
	HC(TERN_HC_VM_POPULATE, hc_vm_populate, false),
	HC(TERN_HC_VCPU_GET_REGS, hc_vcpu_get_regs, false),
	HC(TERN_HC_VCPU_SET_REGS, hc_vcpu_set_regs, false),
	HC(TERN_HC_VM_READ, hc_vm_read, false),
	HC(TERN_HC_DEV_GET_STATE, hc_dev_get_state, false),
	HC(TERN_HC_DEV_SET_STATE, hc_dev_set_state, false),
	HC(TERN_HC_VM_POWER_BUTTON, hc_vm_power_button, false),
	HC(TERN_HC_VM_DIRTY_LOG, hc_vm_dirty_log, false),
	HC(TERN_HC_VM_MEMMAP, hc_vm_memmap, true),
};
#undef HC

static int64_t deny(struct vm *caller, const struct hc_entry *e, unsigned int cpl)
{
	if (!caller->denied_calls++)
		pr_warn("vm %s: hypercall %s refused: %s (counted; the guest goes on)", caller->name,
			e->name, cpl ? "made from CPL > 0" : "only the management guest may make it");
	return -(int64_t)TERN_EPERM;
}

/* The management calls, one at a time (they create, change and free VMs). */
static __attribute__((noinline)) int64_t call_locked(const struct hc_entry *e, struct vm *caller,
						      const uint64_t *a)
{
	int64_t ret;

	spin_lock(&hc_lock);
	ret = e->fn(caller, a);
	spin_unlock(&hc_lock);
	return ret;
}

/* Kept short: the calls anyone may make are a tail call, with nothing saved. */
int64_t hc_call(struct vm *caller, unsigned int cpl, uint64_t nr, const struct hc_args *args)
{
	const struct hc_entry *e;

	if (nr >= TERN_HC_COUNT || !hc_table[nr].fn)
		return -(int64_t)TERN_ENOSYS;
	e = &hc_table[nr];
	if (cpl || (!e->anyone && !caller->management))
		return deny(caller, e, cpl);
	if (e->anyone)
		return e->fn(caller, args->a);
	return call_locked(e, caller, args->a);
}
