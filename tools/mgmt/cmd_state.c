/* SPDX-License-Identifier: MIT */
/*
 * clone: a running or paused VM copied whole into a new one on this host,
 * which goes on from where the original was (ABI 1.2: VCPU_GET/SET_REGS,
 * DEV_GET/SET_STATE, VM_READ). The same steps, over a network, are live
 * migration's last phase; here the policy lives where it belongs, in the
 * management guest: the hypervisor only reads and writes state.
 */
#include "tools/mgmt/mgmt.h"
#include "tools/mgmt/defs.h"
#include "tools/mgmt/parse.h"
#include "kernel/fmt.h"
#include "kernel/string.h"

#define CLONE_CHUNK   TERN_IO_MAX
#define SETTLE_US     2000000ull /* how long a paused VM's vCPUs may take to leave their CPUs */

static uint8_t chunk[CLONE_CHUNK];
static struct tern_vcpu_regs regs;
static uint8_t devs[TERN_DEV_STATE_MAX];

/* A state call on a VM still settling says EBUSY: wait, bounded. */
static int64_t settled(int64_t (*call)(uint32_t vm, uint32_t arg), uint32_t vm, uint32_t arg)
{
	uint64_t end = tsc_now() + us_to_tsc(SETTLE_US);
	int64_t r;

	while ((r = call(vm, arg)) == -(int64_t)TERN_EBUSY && tsc_now() < end)
		tick_wait();
	return r;
}

static int64_t get_regs(uint32_t vm, uint32_t vcpu)
{
	return hc_vcpu_get_regs(vm, vcpu, &regs);
}

static int64_t get_devs(uint32_t vm, uint32_t unused)
{
	return hc_dev_get_state(vm, devs, sizeof(devs));
}

static struct tern_mem_region map[TERN_MEM_REGIONS_MAX];
static int64_t nr_regions;

/* RAM below 4 GiB that makes a VM's map like src's (0: the default). */
static uint64_t ram_below_4g(void)
{
	for (int64_t i = 1; i < nr_regions; i++)
		if (map[i].type == TERN_MEM_RAM && map[0].type == TERN_MEM_RAM && !map[0].gpa)
			return map[0].size; /* RAM above the hole too */
	return 0;
}

/* Every RAM region of src (its map in map[]) into dst, a chunk at a time. */
static int64_t copy_ram(const struct tern_vm_info *src, uint32_t dst)
{
	int64_t r;

	for (int64_t i = 0; i < nr_regions; i++) {
		const struct tern_mem_region *m = &map[i];

		for (uint64_t off = 0; m->type == TERN_MEM_RAM && off < m->size; off += CLONE_CHUNK) {
			uint64_t len = m->size - off < CLONE_CHUNK ? m->size - off : CLONE_CHUNK;

			if ((r = hc_vm_read(src->id, m->gpa + off, chunk, len)) < 0 ||
			    (r = hc_vm_write(dst, m->gpa + off, chunk, len)) < 0)
				return r;
			con_poll();
		}
	}
	return 0;
}

/* Memory, every vCPU and the devices of src into dst (CREATED, same map): 0 or -1. */
static int copy_vm(const struct tern_vm_info *src, uint32_t dst)
{
	int64_t r, n;
	const char *what = "memory";

	if ((r = copy_ram(src, dst)) < 0)
		goto fail;
	what = "vCPU state";
	for (uint32_t i = 0; i < src->nr_vcpus; i++)
		if ((r = settled(get_regs, src->id, i)) < 0 || (r = hc_vcpu_set_regs(dst, i, &regs)) < 0)
			goto fail;
	what = "device state";
	if ((n = r = settled(get_devs, src->id, 0)) < 0 || (r = hc_dev_set_state(dst, devs, (uint64_t)n)) < 0)
		goto fail;
	return 0;
fail:
	err_printf("cannot copy the %s of vm '%s': %s", what, src->name, hc_strerror(r));
	return -1;
}

int cmd_clone(int argc, char **argv)
{
	struct parse_opt o[] = { { "name", NULL }, { NULL, NULL } };
	static struct tern_vm_info src, other;
	static struct tern_vm_create args;
	char err[PARSE_ERR_MAX], *pos[1], mib[24];
	struct vm_def *sd, *d;
	bool was_running;
	int64_t id, r;
	int npos = parse_opts(argc, argv, 1, o, pos, 1, err, sizeof(err));

	if (npos < 0)
		return usage_error("clone", "%s", err);
	if (npos == 0)
		return usage_error("clone", "missing VM");
	if (!o[0].value)
		return usage_error("clone", "missing --name NEW");
	if (!name_valid(o[0].value))
		return usage_error("clone", "bad name '%s': " NAME_RULE, o[0].value);
	npos = vm_or_def(pos[0], &src, &sd);
	if (npos == 0)
		err_printf("vm '%s' is shut off: only a running or paused VM can be cloned", pos[0]);
	if (npos <= 0)
		return -1;
	if (src.flags & TERN_VMF_MANAGEMENT) {
		err_printf("vm '%s' is the management guest (this shell): it cannot be cloned", src.name);
		return -1;
	}
	if (src.state != TERN_VM_RUNNING && src.state != TERN_VM_PAUSED) {
		err_printf("vm '%s' is %s: only a running or paused VM can be cloned", src.name,
			   vm_state_name(src.state));
		return -1;
	}
	if (defs_find(o[0].value) || vm_lookup(o[0].value, &other)) {
		err_printf("a vm named '%s' exists already", o[0].value);
		return -1;
	}
	d = defs_add(o[0].value);
	if (!d) {
		err_printf("cannot clone: the shell keeps at most %u VMs and definitions", DEFS_MAX);
		return -1;
	}
	/* The clone's definition is the original's: reset remakes it from the same image. */
	if (sd) {
		*d = *sd;
		d->persistent = d->autostart = false;
	} else {
		memset(d, 0, sizeof(*d));
		d->mem_size = src.mem_size;
		d->nr_vcpus = src.nr_vcpus;
	}
	d->used = true;
	d->has_vm = false;
	d->reason[0] = 0;
	strlcpy(d->name, o[0].value, sizeof(d->name));
	memset(&args, 0, sizeof(args));
	strlcpy(args.name, d->name, sizeof(args.name));
	nr_regions = hc_vm_memmap(src.id, map, TERN_MEM_REGIONS_MAX);
	if (nr_regions < 0 || nr_regions > TERN_MEM_REGIONS_MAX) {
		err_printf("cannot read the memory map of vm '%s': %s", src.name,
			   nr_regions < 0 ? hc_strerror(nr_regions) : "too many regions");
		defs_remove(d);
		return -1;
	}
	args.mem_size = src.mem_size;
	args.ram_below_4g = ram_below_4g();
	if (!sd)
		d->ram_below_4g = args.ram_below_4g;
	args.nr_vcpus = src.nr_vcpus;
	for (uint32_t i = 0; i < TERN_MAX_VCPUS; i++)
		args.cpus[i] = TERN_CPU_ANY;
	was_running = src.state == TERN_VM_RUNNING;
	if (was_running && (r = hc_vm_op(TERN_HC_VM_PAUSE, src.id)) < 0) {
		err_printf("cannot pause vm '%s': %s", src.name, hc_strerror(r));
		defs_remove(d);
		return -1;
	}
	id = vm_create_shown(&args);
	if (id < 0) {
		err_printf("cannot create vm '%s': %s", d->name, hc_strerror(id));
	} else if (copy_vm(&src, (uint32_t)id) || (r = hc_vm_op(TERN_HC_VM_START, (uint32_t)id)) < 0) {
		hc_vm_op(TERN_HC_VM_DESTROY, (uint32_t)id);
		id = -1;
	}
	if (was_running && (r = hc_vm_op(TERN_HC_VM_RESUME, src.id)) < 0)
		err_printf("vm '%s' could not be resumed: %s", src.name, hc_strerror(r));
	if (id < 0) {
		defs_remove(d);
		return -1;
	}
	d->has_vm = true;
	d->vm_id = (uint32_t)id;
	format_mib(src.mem_size, mib, sizeof(mib));
	con_printf("cloned vm %u '%s' to vm %lld '%s' (%s MiB, %u vCPU%s) and started it\n", src.id,
		   src.name, (long long)id, d->name, mib, src.nr_vcpus, src.nr_vcpus == 1 ? "" : "s");
	return 0;
}
