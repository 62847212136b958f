/* SPDX-License-Identifier: MIT */
/* VM objects: guest RAM from the page allocator behind EPT, and their teardown. */
#include <stdarg.h>
#include "vmm/vm.h"
#include "vmm/sched.h"
#include "vmm/exit.h"
#include "vmm/vm_dirty.h"
#include "vmm/vm_lazy.h"
#include "drivers/tsc.h"
#include "vmm/apicv.h"
#include "arch/cpuid.h"
#include "arch/vmx.h"
#include "drivers/console.h"
#include "arch/watchdog.h"
#include "kernel/errno.h"
#include "kernel/fmt.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "arch/msr.h"
#include "vmm/emul/vioapic.h"

/* vmm/gmap.h spells them out so the management guest can include it without arch/. */
_Static_assert(GMAP_IOAPIC_BASE == VIOAPIC_BASE_DEFAULT, "I/O APIC base");
_Static_assert(GMAP_LAPIC_BASE == IA32_APIC_BASE_DEFAULT, "local APIC base");

#define PAGES_2M 512u
#define EXTENTS_INITIAL ((uint32_t)(PAGE_SIZE / sizeof(struct mem_extent)))

static uint64_t extent_pages(uint32_t cap)
{
	return (cap * sizeof(struct mem_extent) + PAGE_SIZE - 1) / PAGE_SIZE;
}

static struct spinlock vms_lock = SPINLOCK_INIT("vms");
static struct vm *vms;
static uint32_t next_vm_id = 1;
static uint32_t nr_vms;
static uint64_t mem_pending; /* RAM of partly populated VMs still to come */

static void ept_free(void *ctx, uint64_t phys)
{
	page_free(phys, 1, PMM_OWNER_VMM);
}

static void *ept_virt(void *ctx, uint64_t phys)
{
	return phys_to_virt(phys);
}

/* Double the extent array (extents live in pages of their own; a VM has no fixed cap). */
static int grow_extents(struct vm *vm)
{
	uint32_t cap = vm->extents_cap * 2;
	uint64_t pages = (cap * sizeof(struct mem_extent) + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t p = page_alloc(pages, PMM_OWNER_VMM);
	struct mem_extent *old = vm->extents;

	if (!p)
		return -ENOMEM;
	vm->extents = phys_to_virt(p);
	memcpy(vm->extents, old, vm->nr_extents * sizeof(*old));
	page_free(virt_to_phys(old), extent_pages(vm->extents_cap), PMM_OWNER_VMM);
	vm->extents_cap = cap;
	return 0;
}

static int add_extent(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t flags)
{
	int err = extent_append(vm->extents, &vm->nr_extents, vm->extents_cap, gpa, hpa, size, flags);

	if (err == -ENOSPC && !(err = grow_extents(vm)))
		err = extent_append(vm->extents, &vm->nr_extents, vm->extents_cap, gpa, hpa, size, flags);
	return err;
}

int vm_map_borrowed(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct gmap map = vm->map;
	int err = gmap_add(&map, gpa, size, GMAP_ROM);

	if (err || (err = add_extent(vm, gpa, hpa, size, EXT_RO | EXT_BORROWED)))
		return err;
	if ((err = ept_map(&vm->ept, gpa, hpa, size, EPT_R, EPT_MT_WB))) {
		extent_unappend(vm->extents, &vm->nr_extents, size);
		return err;
	}
	vm->map = map;
	return 0;
}

/*
 * Zeroes a piece of guest RAM ZERO_STEP bytes at a time, opening an
 * interrupt window between steps as handle_external_interrupt does (callers
 * run with interrupts off, in a hypercall or an EPT-violation exit, holding
 * no lock an interrupt handler takes; vm->mem_lock is none): the console's
 * receive interrupt drains the UART's 16-byte FIFO, which fills in 1.4 ms
 * at 115200 baud, and a 2 MiB piece takes several milliseconds under an
 * emulator. The FIFO is also polled there: Bochs was seen not to deliver
 * the 8259's interrupt in such a window (UEFI boots, no I/O APIC in use).
 */
#define ZERO_STEP (64u << 10)
void vm_zero_piece(uint64_t hpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += ZERO_STEP) {
		uint64_t words = (size - off < ZERO_STEP ? size - off : ZERO_STEP) / 8;
		void *p = phys_to_virt(hpa + off);

		__asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(0ull) : "memory");
		__asm__ volatile("sti; nop; cli" ::: "memory");
		console_rx_poll();
	}
	watchdog_touch();
}

/*
 * Guest RAM from mem_ready on, region by region of the map, at least one
 * piece and then until budget bytes are done: 2 MiB pieces where the
 * allocator has them (EPT large pages, zeroed and mapped lazily), else
 * 4 KiB (zeroed and mapped now).
 */
static int populate(struct vm *vm, uint64_t budget)
{
	uint64_t end = vm->mem_size - vm->mem_ready > budget ? vm->mem_ready + budget : vm->mem_size;

	while (vm->mem_ready < end) {
		uint64_t left, gpa = gmap_ram_gpa(&vm->map, vm->mem_ready, &left), hpa = 0;
		uint64_t size = PAGE_SIZE;
		int err;

		if (left >= EPT_PAGE_2M && !(gpa & (EPT_PAGE_2M - 1))) {
			hpa = page_alloc_unzeroed(PAGES_2M, PAGES_2M, PMM_OWNER_GUEST);
			size = EPT_PAGE_2M;
		}
		if (!hpa) {
			size = PAGE_SIZE;
			hpa = page_alloc(1, PMM_OWNER_GUEST);
		}
		if (!hpa)
			return -ENOMEM;
		err = add_extent(vm, gpa, hpa, size, 0);
		if (!err && (err = size == EPT_PAGE_2M ? vm_lazy_add(vm, gpa) :
				   ept_map(&vm->ept, gpa, hpa, size, EPT_RWX, EPT_MT_WB)))
			extent_unappend(vm->extents, &vm->nr_extents, size); /* or it is freed twice */
		if (err) {
			page_free(hpa, size / PAGE_SIZE, PMM_OWNER_GUEST);
			return err;
		}
		vm->mem_ready += size;
		if (vm->mem_pending_counted)
			__atomic_sub_fetch(&mem_pending, size, __ATOMIC_RELAXED);
	}
	return 0;
}

static void free_guest_ram(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_extents; i++)
		if (!(vm->extents[i].flags & EXT_BORROWED))
			page_free(vm->extents[i].hpa, vm->extents[i].size / PAGE_SIZE, PMM_OWNER_GUEST);
	vm->nr_extents = 0;
}

static void free_vm(struct vm *vm)
{
	vm_dirty_disable(vm);
	if (vm->mem_pending_counted)
		__atomic_sub_fetch(&mem_pending, vm->mem_size - vm->mem_ready, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i])
			vcpu_destroy(vm->vcpus[i]);
	free_guest_ram(vm);
	if (vm->ept.pml4)
		ept_destroy(&vm->ept);
	vm_lazy_free(vm);
	if (vm->extents)
		page_free(virt_to_phys(vm->extents), extent_pages(vm->extents_cap), PMM_OWNER_VMM);
	page_free(virt_to_phys(vm), (sizeof(*vm) + PAGE_SIZE - 1) / PAGE_SIZE, PMM_OWNER_VMM);
}

int vm_layout(struct gmap *map, uint64_t mem, uint64_t below_4g)
{
	unsigned int bits = cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax & 0xff; /* what the guest sees too */

	return gmap_pc_layout(map, mem, below_4g, bits);
}

static struct vm *create(const char *name, const struct gmap *map, uint32_t nr_vcpus, int sink,
			 int *err, uint64_t budget)
{
	uint64_t mem = gmap_total(map, GMAP_RAM);
	uint64_t p = page_alloc((sizeof(struct vm) + PAGE_SIZE - 1) / PAGE_SIZE, PMM_OWNER_VMM);
	struct vm *vm = p ? phys_to_virt(p) : NULL;
	struct ept_ops ops = { vm_lazy_ept_alloc, ept_free, ept_virt, vm };
	struct vm **pp;
	uint64_t ext = 0;

	*err = -ENOMEM;
	if (!vm)
		return NULL;
	vm->lock = (struct spinlock)SPINLOCK_INIT("vm");
	vm->mem_lock = (struct spinlock)SPINLOCK_INIT("vm memory");
	strlcpy(vm->name, name, sizeof(vm->name));
	vm->mem_size = mem;
	vm->map = *map;
	vm->nr_vcpus = nr_vcpus;
	vm->quiesced = true;
	vm->created_tsc = rdtsc();
	for (uint32_t i = 0; i < VM_MAX_VCPUS; i++)
		vm->pin[i] = TERN_CPU_ANY;
	vuart_init(&vm->uart, vm->name, sink);
	if ((*err = vplatform_init(vm)))
		goto fail;
	*err = -ENOMEM;
	ext = page_alloc(extent_pages(EXTENTS_INITIAL), PMM_OWNER_VMM);
	vm->extents = ext ? phys_to_virt(ext) : NULL;
	vm->extents_cap = EXTENTS_INITIAL;
	if (budget < mem) {
		vm->mem_pending_counted = true;
		__atomic_add_fetch(&mem_pending, mem, __ATOMIC_RELAXED);
	}
	if (!vm->extents || vm_lazy_init(vm) || ept_init(&vm->ept, &ops) ||
	    (*err = populate(vm, budget)))
		goto fail;
	vm->eptp = ept_eptp(&vm->ept, vmx_config.ept_ad);
	if ((*err = apicv_map(vm)))
		goto fail;
	for (uint32_t i = 0; i < nr_vcpus; i++) {
		vm->vcpus[i] = vcpu_create(vm, i);
		if (!vm->vcpus[i]) {
			*err = -ENOMEM;
			goto fail;
		}
	}
	vm->live_vcpus = nr_vcpus;
	spin_lock(&vms_lock);
	vm->id = next_vm_id++;
	for (pp = &vms; *pp; pp = &(*pp)->next)
		;
	*pp = vm; /* oldest first */
	__atomic_add_fetch(&nr_vms, 1, __ATOMIC_ACQ_REL);
	spin_unlock(&vms_lock);
	*err = 0;
	return vm;
fail:
	if (*err == 0)
		*err = -ENOMEM;
	free_vm(vm);
	return NULL;
}

struct vm *vm_create(const char *name, const struct gmap *map, uint32_t nr_vcpus, int sink, int *err)
{
	return create(name, map, nr_vcpus, sink, err, ~0ull);
}

struct vm *vm_create_partial(const char *name, const struct gmap *map, uint32_t nr_vcpus, int sink,
			     int *err)
{
	return create(name, map, nr_vcpus, sink, err, VM_POPULATE_STEP);
}

int64_t vm_populate(struct vm *vm)
{
	int err = populate(vm, VM_POPULATE_STEP);

	return err ? err : (int64_t)(vm->mem_size - vm->mem_ready);
}

uint64_t vm_mem_pending(void)
{
	return __atomic_load_n(&mem_pending, __ATOMIC_RELAXED);
}

void vm_destroy(struct vm *vm)
{
	struct vm **pp;

	spin_lock(&vms_lock);
	for (pp = &vms; *pp; pp = &(*pp)->next)
		if (*pp == vm) {
			*pp = vm->next;
			break;
		}
	spin_unlock(&vms_lock);
	vmx_invept_single(vm->eptp);
	free_vm(vm);
	/* Counted out only once every page is back: "all VMs gone" means all memory too. */
	if (!__atomic_sub_fetch(&nr_vms, 1, __ATOMIC_ACQ_REL))
		sched_kick(0); /* the bootstrap CPU reports when every VM is gone */
}

struct vm *vm_find(uint32_t id)
{
	struct vm *vm;

	spin_lock(&vms_lock);
	for (vm = vms; vm && vm->id != id; vm = vm->next)
		;
	spin_unlock(&vms_lock);
	return vm;
}

struct vm *vm_find_name(const char *name)
{
	struct vm *vm;

	spin_lock(&vms_lock);
	for (vm = vms; vm && strcmp(vm->name, name); vm = vm->next)
		;
	spin_unlock(&vms_lock);
	return vm;
}

uint32_t vm_list(uint32_t *ids, uint32_t max)
{
	uint32_t n = 0;

	spin_lock(&vms_lock);
	for (struct vm *vm = vms; vm; vm = vm->next, n++)
		if (n < max)
			ids[n] = vm->id;
	spin_unlock(&vms_lock);
	return n;
}

uint32_t vm_count(void)
{
	return __atomic_load_n(&nr_vms, __ATOMIC_ACQUIRE);
}

static const struct mem_extent *find_extent(const struct vm *vm, uint64_t gpa)
{
	return extent_find(vm->extents, vm->nr_extents, gpa);
}

void *vm_guest_ptr(struct vm *vm, uint64_t gpa, size_t len)
{
	const struct mem_extent *e = find_extent(vm, gpa);

	if (!e || (e->flags & EXT_BORROWED) || len > e->size - (gpa - e->gpa))
		return NULL;
	vm_fault_in_range(vm, gpa, len); /* the caller may write through it */
	return phys_to_virt(e->hpa + (gpa - e->gpa));
}

bool vm_range_ok(struct vm *vm, uint64_t gpa, uint64_t len, bool write)
{
	return extent_range_ok(vm->extents, vm->nr_extents, gpa, len, write);
}

int vm_read_guest(struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
	uint8_t *d = dst;

	if (!vm_range_ok(vm, gpa, len, false))
		return -EFAULT;
	while (len) {
		const struct mem_extent *e = find_extent(vm, gpa);
		size_t chunk = e->size - (gpa - e->gpa);
		size_t in_slot = EPT_PAGE_2M - (gpa & (EPT_PAGE_2M - 1));

		chunk = chunk < len ? chunk : len;
		chunk = chunk < in_slot ? chunk : in_slot;
		/* A piece not yet zeroed reads as the zeroes it will hold (no need to zero it). */
		if (vm_lazy_unzeroed(vm, gpa))
			memset(d, 0, chunk);
		else
			memcpy(d, phys_to_virt(e->hpa + (gpa - e->gpa)), chunk);
		gpa += chunk;
		d += chunk;
		len -= chunk;
	}
	return 0;
}

int vm_write_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
	const uint8_t *s = src;

	if (!vm_range_ok(vm, gpa, len, true))
		return -EFAULT;
	while (len) {
		size_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		void *dst;

		chunk = chunk < len ? chunk : len;
		dst = vm_guest_ptr(vm, gpa, chunk);
		if (!dst)
			return -EFAULT;
		memcpy(dst, s, chunk);
		gpa += chunk;
		s += chunk;
		len -= chunk;
	}
	return 0;
}

/* Make every CPU holding one of vm's vCPUs look at its run queue. */
static void vcpus_gone(struct vm *vm, uint32_t n);

/*
 * The VM is ending: each vCPU's CPU reaps it. Parked vCPUs (a paused VM)
 * are on no CPU: they are gone at once.
 */
static void kick_vcpus(struct vm *vm)
{
	uint32_t parked = 0;

	spin_lock(&vm->lock);
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->parked && vm_halting(vm)) {
			v->parked = false;
			if (v->state != VCPU_HALTED)
				v->state = VCPU_STOPPED;
			parked++;
		}
	}
	vm->nr_parked -= parked;
	spin_unlock(&vm->lock);
	/*
	 * Each CPU holding a vCPU of the VM is asked to look at its run queue
	 * (sched_poke): that is what reaps a vCPU that is not running there,
	 * blocked or an AP never started, and also one that blocks just now,
	 * between the check here and its CPU's. A running one sees the request
	 * at its next exit (v->events makes that exit look).
	 */
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->state != VCPU_HALTED && v->state != VCPU_STOPPED) {
			vcpu_note_event(v);
			sched_poke(v);
		}
	}
	if (parked)
		vcpus_gone(vm, parked); /* last: it may free vm */
}

static bool only_waiting_aps_left(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		int st = vm->vcpus[i]->state;

		if (st != VCPU_HALTED && st != VCPU_STOPPED && st != VCPU_WAIT_SIPI)
			return false;
	}
	return true;
}

/* The management guest is gone: the serial console shows the hypervisor log again. */
static void management_gone(struct vm *vm)
{
	if (!vm->management)
		return;
	console_guest_attach(NULL, NULL, NULL);
	pr_err("vm %s: the management guest has ended (%s); the serial console shows the hypervisor log again",
	       vm->name, vm->state == VM_STOPPED ? vm->stop_reason : "every vCPU halted");
}

/*
 * Move to STOPPED from RUNNING or PAUSED (a fault may also stop a VM still
 * CREATED: a vCPU set up then); true when this call did it.
 */
/* fault: a stop for what the guest did (TERN_VMF_CRASHED), also of a created VM. */
static bool stop_state(struct vm *vm, bool fault, const char *fmt, va_list ap)
{
	bool did = false;

	spin_lock(&vm->lock);
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED ||
	    (fault && vm->state == VM_CREATED)) {
		fmt_vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
		vm->state = VM_STOPPED;
		if (fault)
			vm->end_flags = TERN_VMF_CRASHED;
		did = true;
	}
	spin_unlock(&vm->lock);
	return did;
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	bool did;

	va_start(ap, fmt);
	did = stop_state(vm, true, fmt, ap);
	va_end(ap);
	if (!did)
		return;
	vuart_flush(&vm->uart);
	pr_err("vm %s: stopped: %s", vm->name, vm->stop_reason);
	management_gone(vm);
	kick_vcpus(vm);
}

/*
 * The guest asked its platform to power off or reset (vmm/platform.c): the
 * VM ends as FINISHED, its vCPUs leave their CPUs, and VM_INFO says how
 * (TERN_VMF_POWERED_OFF / TERN_VMF_RESET). One that reported a crash
 * (EMUL_CRASH, pvpanic) is stopped as for a fault: crashed, memory kept.
 * What follows (restart, destroy, preserve) is the management guest's
 * policy, not the hypervisor's.
 */
void vm_guest_end(struct vm *vm, int what)
{
	bool did = false;
	const char *why = what == EMUL_POWER_OFF ? "powered off by the guest (ACPI S5)" :
			  "reset by the guest";

	if (what == EMUL_CRASH) {
		vm_stop(vm, "the guest reported a crash (pvpanic)");
		return;
	}
	spin_lock(&vm->lock);
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED) {
		strlcpy(vm->stop_reason, why, sizeof(vm->stop_reason));
		vm->end_flags = what == EMUL_POWER_OFF ? TERN_VMF_POWERED_OFF : TERN_VMF_RESET;
		vm->state = VM_FINISHED;
		did = true;
	}
	spin_unlock(&vm->lock);
	if (!did)
		return;
	vuart_flush(&vm->uart);
	pr_info("vm %s: %s", vm->name, why);
	kick_vcpus(vm);
}

static bool stop_operator(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	bool did;

	va_start(ap, fmt);
	did = stop_state(vm, false, fmt, ap);
	va_end(ap);
	if (did) {
		pr_info("vm %s: stopped by the operator", vm->name);
		kick_vcpus(vm);
	}
	return did;
}

bool vm_stop_by_operator(struct vm *vm)
{
	return stop_operator(vm, "stopped by the operator");
}

/* Make each CPU holding one of vm's vCPUs look at its run queue (no wake-up). */
static void poke_vcpus(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		sched_poke(vm->vcpus[i]);
}

static bool transition(struct vm *vm, int from, int to)
{
	bool ok;

	spin_lock(&vm->lock);
	ok = vm->state == from;
	if (ok)
		vm->state = to;
	spin_unlock(&vm->lock);
	return ok;
}

/* Is every vCPU off its CPU (parked, or halted or stopped for good)? */
static bool all_off(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		int st = vm->vcpus[i]->state;

		if (!vm->vcpus[i]->parked && st != VCPU_HALTED && st != VCPU_STOPPED)
			return false;
	}
	return true;
}

/*
 * A pause has settled (vm->lock held): the guest's time stands from here
 * until RESUME, the same span for its devices (vplatform_pause), its TSC
 * and its local APIC timers (vm_resume). Not from the pause request: a
 * vCPU still running until its next exit sees its time go on, and a TSC
 * that stood from before would go back for it.
 */
static void note_settled(struct vm *vm)
{
	if (vm->state != VM_PAUSED || vm->settled_tsc || !all_off(vm))
		return;
	vm->settled_tsc = rdtsc() | 1; /* never 0 */
	vplatform_pause(vm, vm->settled_tsc);
}

/*
 * Resuming a VM whose time stood for `stood` ticks (vm->lock held, no
 * vCPU on a CPU): every vCPU's TSC goes on from where it stood (its offset
 * and the VM's, which a vCPU's reset takes, move back by as much), and so
 * does an armed local APIC timer, count-down or TSC-deadline: it expires
 * as far from the resume as it was from the pause. Each vCPU writes its
 * new offset into its VMCS before its next entry (sched.c enter).
 */
static void skip_stood_time(struct vm *vm, uint64_t stood)
{
	vm->tsc_offset -= stood;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		v->msr.tsc_offset -= stood;
		if (v->lapic.timer_next != VLAPIC_NO_EVENT)
			v->lapic.timer_next += stood;
		v->tsc_moved = true;
	}
}

bool vm_pause(struct vm *vm)
{
	if (!transition(vm, VM_RUNNING, VM_PAUSED))
		return false;
	spin_lock(&vm->lock);
	note_settled(vm); /* every vCPU halted already */
	spin_unlock(&vm->lock);
	poke_vcpus(vm);
	pr_info("vm %s: paused", vm->name);
	return true;
}

/* v has left its CPU because its VM is paused (sched.c park); false when the VM went on meanwhile. */
bool vm_vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool ok;

	spin_lock(&vm->lock);
	ok = vm->state == VM_PAUSED;
	if (ok) {
		v->parked = true;
		vm->nr_parked++;
		note_settled(vm);
	}
	spin_unlock(&vm->lock);
	return ok;
}

bool vm_settled(struct vm *vm)
{
	return vm->state == VM_PAUSED && all_off(vm);
}

bool vm_resume(struct vm *vm)
{
	struct vcpu *back[VM_MAX_VCPUS];
	uint32_t n = 0;

	spin_lock(&vm->lock);
	if (vm->state != VM_PAUSED) {
		spin_unlock(&vm->lock);
		return false;
	}
	vm->state = VM_RUNNING;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->parked) {
			vm->vcpus[i]->parked = false;
			back[n++] = vm->vcpus[i];
		}
	vm->nr_parked = 0;
	if (vm->settled_tsc) { /* guest time goes on from where it stood */
		uint64_t now = rdtsc();

		skip_stood_time(vm, now - vm->settled_tsc);
		vplatform_resume(vm, now);
		vm->settled_tsc = 0;
	}
	spin_unlock(&vm->lock);
	/* Parked vCPUs go back to the CPU they left (pinned ones stay pinned). */
	for (uint32_t i = 0; i < n; i++)
		if (sched_add(back[i], (int)back[i]->cpu) < 0)
			sched_add(back[i], -1);
	poke_vcpus(vm);
	pr_info("vm %s: resumed", vm->name);
	return true;
}

int vm_start(struct vm *vm)
{
	int cpu0 = -1;

	if (!transition(vm, VM_CREATED, VM_RUNNING))
		return -1;
	vm->quiesced = false;
	vm->live_vcpus = vm->nr_vcpus;
	vm->started_tsc = rdtsc();
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		int cpu;

		v->state = v->start_state >= 0 ? v->start_state :
			   v->has_state ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
		v->needs_setup = true;
		v->pinned = vm->pin[i] != TERN_CPU_ANY;
		cpu = sched_add(v, v->pinned ? (int)vm->pin[i] : -1);
		if (cpu < 0) {
			v->pinned = false;
			cpu = sched_add(v, -1);
		}
		if (!i)
			cpu0 = cpu;
	}
	return cpu0;
}

static void vcpu_report(const struct vcpu *v);

/* One line of accounting when a VM ends: exits by reason, unhandled accesses. */
static void vm_report(const struct vm *vm)
{
	uint64_t total = 0, by[VMX_EXIT_REASON_MAX] = { 0 };
	char top[128] = "";
	size_t len = 0;

	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		for (uint32_t r = 0; r < VMX_EXIT_REASON_MAX; r++) {
			by[r] += vm->vcpus[i]->exits[r];
			total += vm->vcpus[i]->exits[r];
		}
	for (int n = 0; n < 3; n++) {
		uint32_t best = 0;

		for (uint32_t r = 1; r < VMX_EXIT_REASON_MAX; r++)
			if (by[r] > by[best])
				best = r;
		if (!by[best])
			break;
		len += (size_t)fmt_snprintf(top + len, sizeof(top) - len, "%s%s %lu", n ? ", " : "",
					    exit_reason_name(best), (unsigned long)by[best]);
		by[best] = 0;
	}
	pr_info("vm %s: %lu exits (%s); unhandled I/O %lu, MSR %lu", vm->name,
		(unsigned long)total, top,
		(unsigned long)(vm->plat.pio.open_reads + vm->plat.pio.open_writes),
		(unsigned long)vm->unhandled_msr);
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		vcpu_report(vm->vcpus[i]);
}

/* Run time, scheduling and placement of one vCPU, for the log. */
static void vcpu_report(const struct vcpu *v)
{
	char cpus[96] = "";
	size_t len = 0;

	for (uint32_t c = 0; c < 64 && len < sizeof(cpus); c++)
		if (v->cpus_seen & (1ull << c))
			len += (size_t)fmt_snprintf(cpus + len, sizeof(cpus) - len, "%s%u", len ? "," : "", c);
	pr_info("vm %s: vcpu%u ran %lu ms, scheduled %lu times, moved %lu times, on cpus %s",
		v->vm->name, v->index, (unsigned long)(v->run_tsc / (tsc_khz ? tsc_khz : 1)),
		(unsigned long)v->nr_scheduled, (unsigned long)v->nr_moves, len ? cpus : "none");
	stamp_report(v);
	if (v->nr_reinjected)
		pr_info("vm %s: vcpu%u re-injected %lu events an exit interrupted in delivery",
			v->vm->name, v->index, (unsigned long)v->nr_reinjected);
	if (v->lapic.nr_timer_fired)
		pr_info("vm %s: vcpu%u timer fired %lu times, %lu periods lost, noticed at worst %lu ticks late",
			v->vm->name, v->index, (unsigned long)v->lapic.nr_timer_fired,
			(unsigned long)v->lapic.nr_timer_lost, (unsigned long)v->lapic.max_timer_late);
}

/* n vCPUs of vm left their CPUs for good; the last one ends the VM (it may be freed). */
static void vcpus_gone(struct vm *vm, uint32_t n)
{
	bool last;

	spin_lock(&vm->lock);
	vm->live_vcpus -= n;
	last = vm->live_vcpus == 0;
	note_settled(vm); /* the last vCPU of a pausing VM halted instead of parking */
	spin_unlock(&vm->lock);
	if (!last) {
		if (!vm->ending && only_waiting_aps_left(vm)) {
			vm->ending = true;
			kick_vcpus(vm);
		}
		return;
	}
	vuart_flush(&vm->uart);
	if (transition(vm, VM_RUNNING, VM_FINISHED) || transition(vm, VM_PAUSED, VM_FINISHED)) {
		strlcpy(vm->stop_reason, "every vCPU halted", sizeof(vm->stop_reason));
		pr_info("vm %s: finished: every vCPU halted", vm->name);
	}
	vm_report(vm);
	if (vm->state == VM_FINISHED)
		management_gone(vm);
	if (!vm->persistent) {
		vm_destroy(vm);
		return;
	}
	__atomic_store_n(&vm->quiesced, true, __ATOMIC_RELEASE); /* DESTROY may go ahead */
}

/*
 * v has stopped for good: if it woke for the VM's device timers, the next
 * live vCPU does from now on (device interrupts go on, to whichever vCPU
 * they are routed, while any vCPU runs). Its CPU is asked to look again, as
 * a vCPU blocked there now has the device deadline to wake for. Under
 * vm->lock: a vCPU given the role as it stops itself sees it, and passes it on.
 */
static void hand_on_device_timers(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vcpu *to = NULL;

	spin_lock(&vm->lock);
	for (uint32_t i = 1; v->plat0 && i < vm->nr_vcpus && !to; i++) {
		struct vcpu *w = vm->vcpus[(v->index + i) % vm->nr_vcpus];
		int st = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);

		if (st == VCPU_RUNNABLE || st == VCPU_BLOCKED)
			to = w;
	}
	if (to) {
		to->plat0 = v->plat0;
		v->plat0 = NULL;
	}
	spin_unlock(&vm->lock);
	if (to)
		sched_poke(to);
}

void vm_vcpu_gone(struct vcpu *v)
{
	hand_on_device_timers(v);
	vcpus_gone(v->vm, 1);
}
