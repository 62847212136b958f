/* SPDX-License-Identifier: MIT */
/* Verbs that show state: list, info, vcpu-list, log. */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
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

int cmd_list(int argc, char **argv)
{
	uint32_t ids[MGMT_MAX_VMS];
	int n;

	if (argc > 1)
		return usage_error("list", "too many arguments ('%s')", argv[1]);
	n = vm_ids(ids, MGMT_MAX_VMS);
	if (n < 0)
		return -1;
	con_printf("%4s %-20s %-9s %8s %5s %-8s %9s\n", "ID", "NAME", "STATE", "MEM(MiB)", "VCPUS",
		   "CPUS", "TIME(s)");
	for (int i = 0; i < n; i++) {
		char mib[24], cpus[32], secs[24];

		if (hc_vm_info(ids[i], &vm_buf) < 0)
			continue; /* destroyed meanwhile */
		format_mib(vm_buf.mem_size, mib, sizeof(mib));
		vm_cpus(&vm_buf, cpus, sizeof(cpus));
		format_secs(vm_buf.run_us, secs, sizeof(secs));
		con_printf("%4u %-20.31s %-9s %8s %5u %-8s %9s%s\n", vm_buf.id, vm_buf.name,
			   vm_state_name(vm_buf.state), mib, vm_buf.nr_vcpus, cpus, secs,
			   vm_buf.flags & TERN_VMF_MANAGEMENT ? "  (this shell)" : "");
	}
	return 0;
}

static void host_features(uint64_t f)
{
	static const char *const names[] = { "ept-2m", "vpid", "unrestricted-guest",
					     "apic-register-virt", "preemption-timer" };

	con_printf("features:");
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (f & (1ull << i))
			con_printf(" %s", names[i]);
	con_printf("\n");
}

static int info_host(void)
{
	struct tern_host_info hi;
	char tot[24], fr[24], res[24], av[24], up[24];

	if (!host_info(&hi))
		return -1;
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

static void info_vm(const struct tern_vm_info *in)
{
	char mib[24];

	format_mib(in->mem_size, mib, sizeof(mib));
	con_printf("vm %u '%.31s': %s%s\n", in->id, in->name, vm_state_name(in->state),
		   in->flags & TERN_VMF_MANAGEMENT ? " (the management guest: this shell)" : "");
	if (in->stop_reason[0])
		con_printf("  stop reason:   %.*s\n", (int)sizeof(in->stop_reason), in->stop_reason);
	con_printf("  memory:        %s MiB\n", mib);
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

int cmd_info(int argc, char **argv)
{
	if (argc > 2)
		return usage_error("info", "too many arguments ('%s')", argv[2]);
	if (argc == 1)
		return info_host();
	if (!vm_find(argv[1], &vm_buf))
		return -1;
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

int cmd_vcpu_list(int argc, char **argv)
{
	uint32_t ids[MGMT_MAX_VMS];
	int n;

	if (argc > 2)
		return usage_error("vcpu-list", "too many arguments ('%s')", argv[2]);
	if (argc == 2 && !vm_find(argv[1], &vm_buf))
		return -1;
	con_printf("%-20s %4s %-9s %3s %-6s %9s %7s  %s\n", "VM", "VCPU", "STATE", "CPU", "PINNED",
		   "TIME(s)", "MOVES", "RAN ON");
	if (argc == 2) {
		vcpu_rows(&vm_buf);
		return 0;
	}
	n = vm_ids(ids, MGMT_MAX_VMS);
	for (int i = 0; i < n; i++)
		if (hc_vm_info(ids[i], &vm_buf) >= 0)
			vcpu_rows(&vm_buf);
	return n < 0 ? -1 : 0;
}

/* The hypervisor log ring is 64 KiB: one read of TERN_IO_MAX bytes from its start holds it. */
static char log_buf[TERN_IO_MAX];

int cmd_log(int argc, char **argv)
{
	struct tern_stream st = { .vm = 0, .size = sizeof(log_buf), .buf = hc_ptr(log_buf), .pos = 0 };
	uint64_t want = LOG_DEFAULT_LINES;
	int64_t r;
	size_t start;

	if (argc > 2)
		return usage_error("log", "too many arguments ('%s')", argv[2]);
	if (argc == 2 && (!parse_u64(argv[1], &want) || !want || want > LOG_MAX_LINES))
		return usage_error("log", "bad line count '%s': use 1 to %u", argv[1], LOG_MAX_LINES);
	r = hc_log_read(&st);
	if (r < 0) {
		err_printf("cannot read the hypervisor log: %s", hc_strerror(r));
		return -1;
	}
	/* Back from the end over want line ends (the last byte ends the last line). */
	start = (size_t)r;
	for (uint64_t lines = 0; start > 0; start--)
		if (log_buf[start - 1] == '\n' && start != (size_t)r && ++lines == want)
			break;
	for (size_t i = start; i < (size_t)r; i++) {
		if (log_buf[i] == '\n')
			con_write("\r", 1);
		con_write(&log_buf[i], 1);
	}
	if (r && log_buf[r - 1] != '\n')
		con_write("\r\n", 2);
	return 0;
}
