/* SPDX-License-Identifier: MIT */
/* What the verbs share: error messages, the usage line, finding VMs and boot images. */
#include "tools/mgmt/mgmt.h"

#include <stdarg.h>

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/defs.h"
#include "tools/mgmt/parse.h"

#define MSG_MAX 384u

static const char *const hc_errors[] = {
	[TERN_EPERM] = "EPERM (not permitted)",
	[TERN_ENOENT] = "ENOENT (no such VM or vCPU)",
	[TERN_E2BIG] = "E2BIG (too large)",
	[TERN_ENOMEM] = "ENOMEM (not enough memory)",
	[TERN_EFAULT] = "EFAULT (bad buffer address)",
	[TERN_EBUSY] = "EBUSY (busy)",
	[TERN_EEXIST] = "EEXIST (already exists)",
	[TERN_EINVAL] = "EINVAL (invalid argument)",
	[TERN_ERANGE] = "ERANGE (outside the VM's memory)",
	[TERN_ENOSYS] = "ENOSYS (unknown hypercall)",
	[TERN_ESTATE] = "ESTATE (not allowed in the VM's state)",
};

const char *hc_strerror(int64_t r)
{
	static char unknown[32];

	if (r < 0 && -r < (int64_t)ARRAY_SIZE(hc_errors) && hc_errors[-r])
		return hc_errors[-r];
	fmt_snprintf(unknown, sizeof(unknown), "error %lld", (long long)r);
	return unknown;
}

void err_printf(const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	con_printf("error: %s\n", msg);
}

int usage_error(const char *verb, const char *fmt, ...)
{
	const struct verb *v = verb_find(verb);
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	con_printf("error: %s\n", msg);
	if (v)
		con_printf("usage: %s\n", v->usage);
	return -1;
}

bool host_info(struct tern_host_info *hi)
{
	int64_t r = hc_host_info(hi);

	if (r < 0) {
		err_printf("cannot read the host information: %s", hc_strerror(r));
		return false;
	}
	return true;
}

int vm_ids(uint32_t *ids, uint32_t max)
{
	int64_t r = hc_vm_list(ids, max);

	if (r < 0) {
		err_printf("cannot list the VMs: %s", hc_strerror(r));
		return -1;
	}
	return r > (int64_t)max ? (int)max : (int)r;
}

/* As virsh: decimal digits are an id (names cannot be all digits), anything else a name. */
bool vm_lookup(const char *arg, struct tern_vm_info *info)
{
	uint32_t ids[MGMT_MAX_VMS];
	uint64_t id;
	int64_t n;

	if (parse_is_decimal(arg))
		return parse_u64(arg, &id) && id <= UINT32_MAX && hc_vm_info((uint32_t)id, info) >= 0;
	n = hc_vm_list(ids, MGMT_MAX_VMS);
	for (int64_t i = 0; i < n && i < MGMT_MAX_VMS; i++)
		if (hc_vm_info(ids[i], info) >= 0 && !strncmp(info->name, arg, TERN_NAME_MAX))
			return true;
	return false;
}

bool vm_find(const char *arg, struct tern_vm_info *info)
{
	const struct vm_def *d;

	if (vm_lookup(arg, info))
		return true;
	d = defs_find(arg);
	if (d && d->persistent && !parse_is_decimal(arg))
		err_printf("vm '%s' is shut off%s%s%s: it has no memory or vCPUs now (start %s)", arg,
			   d->reason[0] ? " (" : "", d->reason, d->reason[0] ? ")" : "", arg);
	else
		err_printf("no VM with id or name '%s' (see list)", arg);
	return false;
}

const char *vm_state_name(uint32_t state)
{
	static const char *const names[] = {
		[TERN_VM_CREATED] = "created", [TERN_VM_RUNNING] = "running",
		[TERN_VM_PAUSED] = "paused",   [TERN_VM_STOPPED] = "crashed",
		[TERN_VM_FINISHED] = "finished",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

const char *vcpu_state_name(uint32_t state)
{
	static const char *const names[] = {
		[TERN_VCPU_RUNNABLE] = "runnable", [TERN_VCPU_BLOCKED] = "blocked",
		[TERN_VCPU_HALTED] = "halted",     [TERN_VCPU_STOPPED] = "stopped",
		[TERN_VCPU_WAIT_SIPI] = "wait-sipi",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

bool module_is_mgmt(const struct tern_module *m)
{
	struct tern_vm_info self;

	/* The management guest is named after its image (mgmt=IMAGE on the command line). */
	return hc_vm_info(mgmt.self_id, &self) >= 0 && !strncmp(self.name, m->name, TERN_NAME_MAX);
}

const struct tern_module *module_find(const char *name)
{
	if (!mgmt.mods)
		return NULL;
	for (uint32_t i = 0; i < mgmt.mods->count && i < TERN_MAX_MODULES; i++)
		if (!strncmp(mgmt.mods->mods[i].name, name, sizeof(mgmt.mods->mods[i].name)) &&
		    strlen(name) < sizeof(mgmt.mods->mods[i].name))
			return &mgmt.mods->mods[i];
	return NULL;
}
