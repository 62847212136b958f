/* SPDX-License-Identifier: MIT */
/* Verbs that show state: list, info, vcpu-list, log (text, or --json: tools/mgmt/README.md). */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/defs.h"
#include "vmm/imgplan.h"
#include "tools/mgmt/json.h"
#include "tools/mgmt/parse.h"

#define LOG_DEFAULT_LINES 40u
#define LOG_MAX_LINES     2000u

static struct tern_vm_info vm_buf; /* one VM at a time: 1.4 KiB is too much for a loop's stack */

static void vm_cpus(const struct tern_vm_info *in, char *buf, size_t size)
{
	uint64_t set = 0;

	for (uint32_t i = 0; i < in->nr_vcpus && i < TERN_MAX_VCPUS; i++)
		if (in->vcpus[i].cpu < 64)
			set |= 1ull << in->vcpus[i].cpu;
	format_cpuset(set, buf, size);
}

void json_con(void *ctx, const char *s, size_t n)
{
	con_write(s, n);
}

int json_done(struct json *j)
{
	bool ok = json_finish(j);

	con_write("\r\n", 2);
	if (!ok) {
		err_printf("internal error: the JSON document above is incomplete");
		return -1;
	}
	return 0;
}

/* One row of list: a VM, or a definition with no VM (has_id false: "shut off"). */
struct list_row {
	bool has_id;
	uint32_t id;
	const char *name;
	const char *state;
	uint64_t mem_size;
	uint32_t nr_vcpus;
	const struct tern_vm_info *vm; /* NULL for a shut-off definition */
	const char *cpus;              /* the definition's --cpus, "-" for any (no VM) */
};

static const char *const list_states[] = { "created", "running", "paused", "crashed",
					   "finished", "shut-off" };

/* "shut-off" (one word, as typed) is the state "shut off". */
static bool state_is(const char *want, const char *state)
{
	if (!strcmp(want, "shut-off"))
		want = DEF_STATE_SHUT_OFF;
	return !strcmp(want, state);
}

static void list_row(const struct list_row *r, struct json *j)
{
	char mib[24], cpus[32], secs[24];
	bool self = r->vm && (r->vm->flags & TERN_VMF_MANAGEMENT);

	if (j) {
		json_obj_begin(j, NULL);
		if (r->has_id)
			json_u64(j, "id", r->id);
		else
			json_null(j, "id");
		json_strn(j, "name", r->name, TERN_NAME_MAX);
		json_str(j, "state", r->state);
		json_u64(j, "mem_bytes", r->mem_size);
		json_u64(j, "vcpus", r->nr_vcpus);
		if (r->vm) {
			json_arr_begin(j, "cpus");
			for (uint32_t c = 0; c < 64; c++)
				for (uint32_t i = 0; i < r->vm->nr_vcpus && i < TERN_MAX_VCPUS; i++)
					if (r->vm->vcpus[i].cpu == c) {
						json_u64(j, NULL, c);
						break;
					}
			json_arr_end(j);
			json_u64(j, "run_us", r->vm->run_us);
		} else {
			json_null(j, "cpus");
			json_null(j, "run_us");
		}
		json_bool(j, "management", self);
		json_obj_end(j);
		return;
	}
	format_mib(r->mem_size, mib, sizeof(mib));
	if (r->vm) {
		vm_cpus(r->vm, cpus, sizeof(cpus));
		format_secs(r->vm->run_us, secs, sizeof(secs));
		con_printf("%4u %-20.31s %-9s %8s %5u %-8s %9s%s\n", r->id, r->name, r->state, mib,
			   r->nr_vcpus, cpus, secs, self ? "  (this shell)" : "");
	} else {
		con_printf("%4s %-20.31s %-9s %8s %5u %-8s %9s\n", "-", r->name, r->state, mib,
			   r->nr_vcpus, r->cpus, "-");
	}
}

int cmd_list(int argc, char **argv)
{
	struct parse_opt o[] = { { "state", NULL }, { NULL, NULL } };
	uint32_t ids[MGMT_MAX_VMS];
	static struct json jw;
	struct json *j = NULL;
	struct def_row row;
	char err[PARSE_ERR_MAX];
	bool all = parse_take_flag(&argc, argv, "--all");
	const char *want;
	int n;

	if (parse_take_flag(&argc, argv, "--json"))
		j = &jw;
	if (parse_opts(argc, argv, 1, o, NULL, 0, err, sizeof(err)) < 0)
		return usage_error("list", "%s", err);
	want = o[0].value;
	if (want) {
		bool known = false;

		for (size_t i = 0; i < ARRAY_SIZE(list_states); i++)
			known |= !strcmp(want, list_states[i]);
		if (!known)
			return usage_error("list", "bad state '%s': use created, running, paused, "
					   "crashed, finished or shut-off", want);
		all |= state_is(want, DEF_STATE_SHUT_OFF);
	}
	n = vm_ids(ids, MGMT_MAX_VMS);
	if (n < 0)
		return -1;
	if (j) {
		json_init(j, json_con, NULL);
		json_obj_begin(j, NULL);
		json_arr_begin(j, "vms");
	} else {
		con_printf("%4s %-20s %-9s %8s %5s %-8s %9s\n", "ID", "NAME", "STATE", "MEM(MiB)",
			   "VCPUS", "CPUS", "TIME(s)");
	}
	for (int i = 0; i < n; i++) {
		struct list_row r;

		if (hc_vm_info(ids[i], &vm_buf) < 0)
			continue; /* destroyed meanwhile */
		r = (struct list_row){ true, vm_buf.id, vm_buf.name, vm_state_name(vm_buf.state),
				       vm_buf.mem_size, vm_buf.nr_vcpus, &vm_buf, NULL };
		if (!want || state_is(want, r.state))
			list_row(&r, j);
	}
	for (unsigned int i = 0; all && defs_shut_off(i, &row); i++) { /* defined, no VM now */
		struct list_row r = { false, 0, row.name, DEF_STATE_SHUT_OFF, row.mem_size,
				      row.nr_vcpus, NULL, row.cpus };

		if (!want || state_is(want, r.state))
			list_row(&r, j);
	}
	if (!j)
		return 0;
	json_arr_end(j);
	json_obj_end(j);
	return json_done(j);
}

static const char *const feature_names[] = { "ept-2m", "vpid", "unrestricted-guest",
					     "apic-register-virt", "preemption-timer" };

static void host_features(uint64_t f)
{
	con_printf("features:");
	for (unsigned int i = 0; i < ARRAY_SIZE(feature_names); i++)
		if (f & (1ull << i))
			con_printf(" %s", feature_names[i]);
	con_printf("\n");
}

static void abi_json(struct json *j, const char *key, uint32_t v)
{
	char s[24];

	fmt_snprintf(s, sizeof(s), "%u.%u", v >> 16, v & 0xffff);
	json_str(j, key, s);
}

static int info_host_json(const struct tern_host_info *hi)
{
	struct json j;

	json_init(&j, json_con, NULL);
	json_obj_begin(&j, NULL);
	json_u64(&j, "cpus", hi->nr_cpus);
	abi_json(&j, "abi", hi->abi_version);
	json_u64(&j, "uptime_us", hi->uptime_us);
	json_u64(&j, "tsc_khz", hi->tsc_khz);
	json_u64(&j, "mem_total_bytes", hi->mem_total);
	json_u64(&j, "mem_free_bytes", hi->mem_free);
	json_u64(&j, "mem_reserved_bytes", hi->mem_reserved);
	json_u64(&j, "mem_available_bytes", hi->mem_available);
	json_arr_begin(&j, "features");
	for (unsigned int i = 0; i < ARRAY_SIZE(feature_names); i++)
		if (hi->features & (1ull << i))
			json_str(&j, NULL, feature_names[i]);
	json_arr_end(&j);
	json_u64(&j, "vms", hi->nr_vms);
	json_u64(&j, "max_vcpus", hi->max_vcpus);
	json_u64(&j, "shell_vm_id", hi->caller_id);
	json_obj_end(&j);
	return json_done(&j);
}

static int info_host(bool json)
{
	struct tern_host_info hi;
	char tot[24], fr[24], res[24], av[24], up[24];

	if (!host_info(&hi))
		return -1;
	if (json)
		return info_host_json(&hi);
	format_mib(hi.mem_total, tot, sizeof(tot));
	format_mib(hi.mem_free, fr, sizeof(fr));
	format_mib(hi.mem_reserved, res, sizeof(res));
	format_mib(hi.mem_available, av, sizeof(av));
	format_secs(hi.uptime_us, up, sizeof(up));
	con_printf("host: %u CPUs, ABI %u.%u, up %s s, TSC %llu kHz\n", hi.nr_cpus,
		   hi.abi_version >> 16, hi.abi_version & 0xffff, up,
		   (unsigned long long)hi.tsc_khz);
	con_printf("memory: %s MiB total, %s MiB free, %s MiB reserved, %s MiB available\n", tot,
		   fr, res, av);
	con_printf("memory bytes: free %llu, available %llu\n", (unsigned long long)hi.mem_free,
		   (unsigned long long)hi.mem_available);
	host_features(hi.features);
	con_printf("vms: %llu (up to %u vCPUs each); this shell is vm %u\n",
		   (unsigned long long)hi.nr_vms, hi.max_vcpus, hi.caller_id);
	return 0;
}

static void info_exits(const struct tern_vm_info *in)
{
	con_printf("  exits:         %llu\n", (unsigned long long)in->nr_exits);
	for (uint32_t r = 0; r < TERN_EXIT_REASONS; r++)
		if (in->exits[r])
			con_printf("    %-22s %12llu\n", exit_reason_name(r),
				   (unsigned long long)in->exits[r]);
}

static struct tern_mem_region mem_map[TERN_MEM_REGIONS_MAX];

static const char *region_type(uint32_t type)
{
	static const char *const names[] = { "?", "ram", "rom", "mmio", "reserved" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

/* The VM's regions into mem_map: how many (0 when it cannot be read). */
static uint32_t read_map(uint32_t id)
{
	int64_t n = hc_vm_memmap(id, mem_map, TERN_MEM_REGIONS_MAX);

	return n < 0 ? 0 : n > TERN_MEM_REGIONS_MAX ? TERN_MEM_REGIONS_MAX : (uint32_t)n;
}

static void info_map(const struct tern_vm_info *in)
{
	uint32_t n = read_map(in->id);

	for (uint32_t i = 0; i < n; i++)
		con_printf("%s0x%010llx-0x%010llx %s\n", i ? "                 " : "  memory map:    ",
			   (unsigned long long)mem_map[i].gpa,
			   (unsigned long long)(mem_map[i].gpa + mem_map[i].size - 1),
			   region_type(mem_map[i].type));
}

static void info_vm(const struct tern_vm_info *in)
{
	char mib[24];

	format_mib(in->mem_size, mib, sizeof(mib));
	con_printf("vm %u '%.31s': %s%s\n", in->id, in->name, vm_state_name(in->state),
		   in->flags & TERN_VMF_MANAGEMENT ? " (the management guest: this shell)" : "");
	if (in->stop_reason[0])
		con_printf("  stop reason:   %.*s\n", (int)sizeof(in->stop_reason), in->stop_reason);
	con_printf("  memory:        %s MiB\n", mib);
	info_map(in);
	con_printf("  vCPUs:         %u\n", in->nr_vcpus);
	con_printf("  run time:      %llu.%06llu s\n", (unsigned long long)(in->run_us / 1000000),
		   (unsigned long long)(in->run_us % 1000000));
	con_printf("  console bytes: %llu\n", (unsigned long long)in->console_bytes);
	con_printf("  refused calls: %llu\n", (unsigned long long)in->denied_calls);
	con_printf("  unhandled:     %llu I/O, %llu MSR\n", (unsigned long long)in->unhandled_io,
		   (unsigned long long)in->unhandled_msr);
	if (in->started_tsc && in->first_output_tsc && in->first_output_tsc >= in->started_tsc) {
		uint64_t t = in->first_output_tsc - in->started_tsc;

		con_printf("  first output:  %llu ticks after start (%llu us), %llu after create\n",
			   (unsigned long long)t, (unsigned long long)tsc_to_us(t),
			   (unsigned long long)(in->first_output_tsc - in->created_tsc));
	}
	info_exits(in);
}

static int info_vm_json(const struct tern_vm_info *in)
{
	struct json j;

	json_init(&j, json_con, NULL);
	json_obj_begin(&j, NULL);
	json_u64(&j, "id", in->id);
	json_strn(&j, "name", in->name, sizeof(in->name));
	json_str(&j, "state", vm_state_name(in->state));
	json_bool(&j, "management", in->flags & TERN_VMF_MANAGEMENT);
	if (in->stop_reason[0])
		json_strn(&j, "stop_reason", in->stop_reason, sizeof(in->stop_reason));
	else
		json_null(&j, "stop_reason");
	json_u64(&j, "mem_bytes", in->mem_size);
	json_arr_begin(&j, "memory_map");
	for (uint32_t i = 0, n = read_map(in->id); i < n; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "gpa", mem_map[i].gpa);
		json_u64(&j, "size", mem_map[i].size);
		json_str(&j, "type", region_type(mem_map[i].type));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_u64(&j, "vcpus", in->nr_vcpus);
	json_u64(&j, "run_us", in->run_us);
	json_u64(&j, "console_bytes", in->console_bytes);
	json_u64(&j, "refused_calls", in->denied_calls);
	json_u64(&j, "unhandled_io", in->unhandled_io);
	json_u64(&j, "unhandled_msr", in->unhandled_msr);
	if (in->started_tsc && in->first_output_tsc && in->first_output_tsc >= in->started_tsc)
		json_u64(&j, "first_output_us", tsc_to_us(in->first_output_tsc - in->started_tsc));
	else
		json_null(&j, "first_output_us");
	json_u64(&j, "exits_total", in->nr_exits);
	json_obj_begin(&j, "exits");
	for (uint32_t r = 0; r < TERN_EXIT_REASONS; r++) {
		char key[32];

		if (!in->exits[r])
			continue;
		if (strcmp(exit_reason_name(r), "?"))
			fmt_snprintf(key, sizeof(key), "%s", exit_reason_name(r));
		else
			fmt_snprintf(key, sizeof(key), "reason-%u", r);
		json_u64(&j, key, in->exits[r]);
	}
	json_obj_end(&j);
	json_obj_end(&j);
	return json_done(&j);
}

int cmd_info(int argc, char **argv)
{
	bool json = parse_take_flag(&argc, argv, "--json");

	if (argc > 2)
		return usage_error("info", "too many arguments ('%s')", argv[2]);
	if (argc == 1)
		return info_host(json);
	if (!vm_find(argv[1], &vm_buf))
		return -1;
	if (json)
		return info_vm_json(&vm_buf);
	info_vm(&vm_buf);
	return 0;
}

static void vcpu_rows(const struct tern_vm_info *in)
{
	for (uint32_t i = 0; i < in->nr_vcpus && i < TERN_MAX_VCPUS; i++) {
		const struct tern_vcpu_info *v = &in->vcpus[i];
		char secs[24], seen[32];

		char cpu[12];

		format_secs(v->run_us, secs, sizeof(secs));
		format_cpuset(v->cpus_seen, seen, sizeof(seen));
		if (v->cpu == TERN_CPU_ANY)
			fmt_snprintf(cpu, sizeof(cpu), "-"); /* not placed yet */
		else
			fmt_snprintf(cpu, sizeof(cpu), "%u", v->cpu);
		con_printf("%-20.31s %4u %-9s %3s %-6s %9s %7llu  %s\n", in->name, i,
			   vcpu_state_name(v->state), cpu, v->pinned ? "yes" : "no", secs,
			   (unsigned long long)v->nr_moves, seen);
	}
}

static void vcpu_json(struct json *j, const struct tern_vm_info *in)
{
	for (uint32_t i = 0; i < in->nr_vcpus && i < TERN_MAX_VCPUS; i++) {
		const struct tern_vcpu_info *v = &in->vcpus[i];

		json_obj_begin(j, NULL);
		json_u64(j, "vm_id", in->id);
		json_strn(j, "vm", in->name, sizeof(in->name));
		json_u64(j, "vcpu", i);
		json_str(j, "state", vcpu_state_name(v->state));
		if (v->cpu == TERN_CPU_ANY)
			json_null(j, "cpu");
		else
			json_u64(j, "cpu", v->cpu);
		json_bool(j, "pinned", v->pinned);
		json_u64(j, "run_us", v->run_us);
		json_u64(j, "moves", v->nr_moves);
		json_arr_begin(j, "cpus_seen");
		for (uint32_t c = 0; c < 64; c++)
			if (v->cpus_seen >> c & 1)
				json_u64(j, NULL, c);
		json_arr_end(j);
		json_obj_end(j);
	}
}

static void vcpu_vm(struct json *j, const struct tern_vm_info *in)
{
	if (j)
		vcpu_json(j, in);
	else
		vcpu_rows(in);
}

int cmd_vcpu_list(int argc, char **argv)
{
	uint32_t ids[MGMT_MAX_VMS];
	static struct json jw;
	struct json *j = NULL;
	int n = 0;

	if (parse_take_flag(&argc, argv, "--json"))
		j = &jw;
	if (argc > 2)
		return usage_error("vcpu-list", "too many arguments ('%s')", argv[2]);
	if (argc == 2 && !vm_find(argv[1], &vm_buf))
		return -1;
	if (argc == 1 && (n = vm_ids(ids, MGMT_MAX_VMS)) < 0)
		return -1;
	if (j) {
		json_init(j, json_con, NULL);
		json_obj_begin(j, NULL);
		json_arr_begin(j, "vcpus");
	} else {
		con_printf("%-20s %4s %-9s %3s %-6s %9s %7s  %s\n", "VM", "VCPU", "STATE", "CPU",
			   "PINNED", "TIME(s)", "MOVES", "RAN ON");
	}
	if (argc == 2)
		vcpu_vm(j, &vm_buf);
	for (int i = 0; i < n; i++)
		if (hc_vm_info(ids[i], &vm_buf) >= 0)
			vcpu_vm(j, &vm_buf);
	if (!j)
		return 0;
	json_arr_end(j);
	json_obj_end(j);
	return json_done(j);
}

/* The hypervisor log ring is 64 KiB: one read of TERN_IO_MAX bytes from its start holds it. */
static char log_buf[TERN_IO_MAX];

/* A log line's level as kernel/log.c tags it after the time stamp: 0 error, 1 warning, 2 info. */
static unsigned int log_level(const char *line, size_t len)
{
	const char *p = memchr(line, ']', len < 24 ? len : 24);
	size_t rest;

	if (!p || (size_t)(p - line) + 2 > len)
		return 2;
	p += 2;
	rest = len - (size_t)(p - line);
	if (rest >= 7 && !strncmp(p, "ERROR: ", 7))
		return 0;
	if (rest >= 6 && !strncmp(p, "WARN: ", 6))
		return 1;
	return 2;
}

/* Calls for each whole line of log_buf[0..n) at level max or worse, skipping the first skip. */
static uint64_t log_lines(size_t n, unsigned int max, uint64_t skip, bool print)
{
	uint64_t count = 0;

	for (size_t off = 0; off < n;) {
		const char *nl = memchr(log_buf + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (log_buf + off)) : n - off;

		if (log_level(log_buf + off, len) <= max && count++ >= skip && print) {
			con_write(log_buf + off, len);
			con_write("\r\n", 2);
		}
		off += len + 1;
	}
	return count;
}

int cmd_log(int argc, char **argv)
{
	static const char *const levels[] = { "error", "warn", "info" };
	struct parse_opt o[] = { { "level", NULL }, { NULL, NULL } };
	struct tern_stream st = { .vm = 0, .size = sizeof(log_buf), .buf = hc_ptr(log_buf), .pos = 0 };
	uint64_t want = LOG_DEFAULT_LINES, total;
	unsigned int max = 2;
	char err[PARSE_ERR_MAX], *pos[1];
	int npos = parse_opts(argc, argv, 1, o, pos, 1, err, sizeof(err));
	int64_t r;

	if (npos < 0)
		return usage_error("log", "%s", err);
	if (npos == 1 && (!parse_u64(pos[0], &want) || !want || want > LOG_MAX_LINES))
		return usage_error("log", "bad line count '%s': use 1 to %u", pos[0], LOG_MAX_LINES);
	if (o[0].value) {
		for (max = 0; max < ARRAY_SIZE(levels) && strcmp(o[0].value, levels[max]); max++)
			;
		if (max == ARRAY_SIZE(levels))
			return usage_error("log", "bad level '%s': use error, warn or info (that "
					   "level and worse)", o[0].value);
	}
	r = hc_log_read(&st);
	if (r < 0) {
		err_printf("cannot read the hypervisor log: %s", hc_strerror(r));
		return -1;
	}
	total = log_lines((size_t)r, max, 0, false);
	log_lines((size_t)r, max, total > want ? total - want : 0, true);
	return 0;
}

int images_json(void)
{
	struct json j;

	json_init(&j, json_con, NULL);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "images");
	for (uint32_t i = 0; mgmt.mods && i < mgmt.mods->count && i < TERN_MAX_MODULES; i++) {
		const struct tern_module *m = &mgmt.mods->mods[i];
		const uint8_t *img = (const uint8_t *)(uintptr_t)m->gpa;
		static struct img_plan plan;
		const char *why;
		bool bad;

		if (module_is_mgmt(m) || !strcmp(m->name, DEF_MODULE))
			continue; /* as images: not guest images */
		bad = img_plan(img, m->size, 0, &plan, &why) != 0;
		json_obj_begin(&j, NULL);
		json_strn(&j, "name", m->name, sizeof(m->name));
		json_u64(&j, "bytes", m->size);
		json_str(&j, "type", bad ? (img_is_elf(img, m->size) ? "bad-elf" : "unusable") :
			 plan.kind == IMG_ELF64 ? "elf64" : "flat");
		json_bool(&j, "usable", !bad);
		if (bad)
			json_str(&j, "why", why);
		else
			json_null(&j, "why");
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	return json_done(&j);
}
