/* SPDX-License-Identifier: MIT */
/* Verbs that place vCPUs on physical CPUs: vcpu-pin and migrate. */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/parse.h"

/* How long migrate watches the vCPUs arrive (a running vCPU moves within a slice). */
#define MIGRATE_WAIT_US 1000000u

static bool parse_cpu(const char *verb, const char *s, const struct tern_host_info *hi,
		      uint32_t *cpu)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v >= hi->nr_cpus) {
		usage_error(verb, "bad CPU '%s': this host has CPUs 0 to %u", s, hi->nr_cpus - 1);
		return false;
	}
	*cpu = (uint32_t)v;
	return true;
}

static void move_failed(int64_t r, const struct tern_vm_info *in)
{
	if (r == -(int64_t)TERN_ESTATE)
		err_printf("vm '%s' has %s: its vCPUs no longer run", in->name,
			   vm_state_name(in->state));
	else
		err_printf("cannot move the vCPUs of vm '%s': %s", in->name, hc_strerror(r));
}

int cmd_vcpu_pin(int argc, char **argv)
{
	struct tern_vm_info info;
	struct tern_host_info hi;
	uint32_t cpu = TERN_CPU_ANY;
	uint64_t vcpu;
	int64_t r;

	if (argc < 4)
		return usage_error("vcpu-pin", "missing %s", argc < 2 ? "VM" : argc < 3 ? "VCPU" : "CPU");
	if (argc > 4)
		return usage_error("vcpu-pin", "too many arguments ('%s')", argv[4]);
	if (!vm_find(argv[1], &info) || !host_info(&hi))
		return -1;
	if (!parse_u64(argv[2], &vcpu) || vcpu >= info.nr_vcpus)
		return usage_error("vcpu-pin", "bad vCPU '%s': vm '%s' has vCPUs 0 to %u", argv[2],
				   info.name, info.nr_vcpus - 1);
	if (strcmp(argv[3], "any") && !parse_cpu("vcpu-pin", argv[3], &hi, &cpu))
		return -1;
	r = hc_vcpu_move(info.id, (uint32_t)vcpu, cpu, cpu == TERN_CPU_ANY ? 0 : TERN_MOVE_PIN);
	if (r < 0) {
		move_failed(r, &info);
		return -1;
	}
	if (cpu == TERN_CPU_ANY)
		con_printf("vm '%s' vCPU %llu unpinned: the balancer places it\n", info.name,
			   (unsigned long long)vcpu);
	else
		con_printf("vm '%s' vCPU %llu pinned to CPU %u\n", info.name,
			   (unsigned long long)vcpu, cpu);
	return 0;
}

/* True once every vCPU of the VM is queued on cpu (or the VM is not running). */
static bool arrived(uint32_t id, uint32_t cpu, struct tern_vm_info *in)
{
	if (hc_vm_info(id, in) < 0 || in->state != TERN_VM_RUNNING)
		return true;
	for (uint32_t i = 0; i < in->nr_vcpus && i < TERN_MAX_VCPUS; i++)
		if (in->vcpus[i].cpu != cpu)
			return false;
	return true;
}

int cmd_migrate(int argc, char **argv)
{
	struct parse_opt o[] = { { "cpu", NULL }, { "host", NULL }, { NULL, NULL } };
	static struct tern_vm_info info;
	struct tern_host_info hi;
	char err[PARSE_ERR_MAX], *pos[1];
	uint32_t cpu;
	uint64_t end;
	int64_t r;
	int npos = parse_opts(argc, argv, 1, o, pos, 1, err, sizeof(err));

	if (npos < 0)
		return usage_error("migrate", "%s", err);
	if (o[1].value)
		return usage_error("migrate", "--host: moving a VM to another host is not supported "
				   "yet (only between the CPUs of this one)");
	if (npos == 0)
		return usage_error("migrate", "missing VM");
	if (!o[0].value)
		return usage_error("migrate", "missing --cpu N");
	if (!vm_find(pos[0], &info) || !host_info(&hi) || !parse_cpu("migrate", o[0].value, &hi, &cpu))
		return -1;
	r = hc_vcpu_move(info.id, TERN_ALL_VCPUS, cpu, TERN_MOVE_PIN);
	if (r < 0) {
		move_failed(r, &info);
		return -1;
	}
	if (info.state != TERN_VM_RUNNING) {
		con_printf("vm '%s' (%s): its vCPUs will run on CPU %u (pinned)\n", info.name,
			   vm_state_name(info.state), cpu);
		return 0;
	}
	end = tsc_now() + us_to_tsc(MIGRATE_WAIT_US);
	while (!arrived(info.id, cpu, &info) && tsc_now() < end)
		tick_wait();
	if (!arrived(info.id, cpu, &info))
		con_printf("vm '%s': moving to CPU %u (pinned); not every vCPU is there yet\n",
			   info.name, cpu);
	else
		con_printf("vm '%s' is on CPU %u (%u vCPU%s, pinned)\n", info.name, cpu,
			   info.nr_vcpus, info.nr_vcpus == 1 ? "" : "s");
	return 0;
}
