/* SPDX-License-Identifier: MIT */
/* VM definitions (see defs.h): checking options, formatting them back, the table. Pure logic. */
#include "tools/mgmt/defs.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/parse.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_4K 4096u /* VM memory is whole 4 KiB pages (docs/hypercalls.md, VM_CREATE) */

static struct vm_def defs[DEFS_MAX];

int def_set_opts(struct vm_def *d, const char *mem, const char *vcpus, const char *cpus,
		 const struct def_limits *lim, char *err, size_t errlen)
{
	uint32_t list[TERN_MAX_VCPUS * 8];
	uint32_t max = lim->max_vcpus < TERN_MAX_VCPUS ? lim->max_vcpus : TERN_MAX_VCPUS;
	const char *why;
	uint64_t v;

	d->mem_size = DEF_DEFAULT_MEM;
	if (mem && parse_u64(mem, &v)) {
		fmt_snprintf(err, errlen, "bad size '%s': give a unit, K, M or G (e.g. 16M); "
			     "a bare number is not taken as bytes", mem);
		return -1;
	}
	if (mem && !parse_size(mem, &d->mem_size)) {
		fmt_snprintf(err, errlen, "bad size '%s': use a number with K, M or G (e.g. 16M)", mem);
		return -1;
	}
	if (d->mem_size < TERN_VM_MEM_MIN || d->mem_size > TERN_VM_MEM_MAX ||
	    d->mem_size % PAGE_4K) {
		fmt_snprintf(err, errlen, "bad size '%s': memory is 2M to 1024G, a multiple of 4K", mem);
		return -1;
	}
	d->ram_below_4g = 0;
	d->nr_vcpus = 1;
	if (vcpus) {
		if (!parse_u64(vcpus, &v) || v < 1 || v > max) {
			fmt_snprintf(err, errlen, "bad vCPU count '%s': use 1 to %u", vcpus, max);
			return -1;
		}
		d->nr_vcpus = (uint32_t)v;
	}
	d->cpus[0] = 0;
	if (cpus) {
		if (parse_cpu_list(cpus, lim->nr_cpus, list, ARRAY_LEN(list), &why) < 0) {
			fmt_snprintf(err, errlen, "bad CPU list '%s': %s (CPUs 0 to %u)", cpus, why,
				     lim->nr_cpus - 1);
			return -1;
		}
		if (strlen(cpus) >= sizeof(d->cpus)) {
			fmt_snprintf(err, errlen, "bad CPU list '%.20s...': at most %u characters",
				     cpus, (unsigned int)sizeof(d->cpus) - 1);
			return -1;
		}
		fmt_snprintf(d->cpus, sizeof(d->cpus), "%s", cpus);
	}
	return 0;
}

int def_set_below_4g(struct vm_def *d, const char *val, char *err, size_t errlen)
{
	uint64_t v;

	if (!val)
		return 0;
	if (!parse_size(val, &v) || v < (1ull << 20) || v > DEF_BELOW_4G_MAX || v % PAGE_4K) {
		fmt_snprintf(err, errlen, "bad size '%s': RAM below 4 GiB is 1M to 3G, a multiple "
			     "of 4K, with a unit (the rest of --mem goes above 4 GiB)", val);
		return -1;
	}
	d->ram_below_4g = v;
	return 0;
}

static const char *const action_names[] = {
	[DEF_ACT_DESTROY] = "destroy", [DEF_ACT_RESTART] = "restart", [DEF_ACT_PRESERVE] = "preserve",
};
static const char *const event_names[DEF_EVENTS] = {
	[DEF_ON_POWEROFF] = "poweroff", [DEF_ON_REBOOT] = "reboot", [DEF_ON_CRASH] = "crash",
};
static const uint8_t event_defaults[DEF_EVENTS] = {
	[DEF_ON_POWEROFF] = DEF_ACT_DESTROY, [DEF_ON_REBOOT] = DEF_ACT_RESTART,
	[DEF_ON_CRASH] = DEF_ACT_PRESERVE,
};

const char *def_action_name(enum def_action a)
{
	return a > DEF_ACT_DEFAULT && a <= DEF_ACT_PRESERVE ? action_names[a] : "default";
}

const char *def_event_name(enum def_event ev)
{
	return ev < DEF_EVENTS ? event_names[ev] : "?";
}

enum def_action def_action(const struct vm_def *d, enum def_event ev)
{
	if (ev >= DEF_EVENTS)
		return DEF_ACT_DESTROY;
	return d->on[ev] > DEF_ACT_DEFAULT && d->on[ev] <= DEF_ACT_PRESERVE ? (enum def_action)d->on[ev] :
	       (enum def_action)event_defaults[ev];
}

int def_set_actions(struct vm_def *d, const char *const val[DEF_EVENTS], char *err, size_t errlen)
{
	for (unsigned int ev = 0; ev < DEF_EVENTS; ev++) {
		unsigned int a;

		if (!val[ev])
			continue;
		for (a = DEF_ACT_DESTROY; a <= DEF_ACT_PRESERVE; a++)
			if (!strcmp(val[ev], action_names[a]))
				break;
		if (a > DEF_ACT_PRESERVE) {
			fmt_snprintf(err, errlen, "--on-%s '%s': say destroy, restart or preserve",
				     event_names[ev], val[ev]);
			return -1;
		}
		d->on[ev] = (uint8_t)a;
	}
	return 0;
}

uint64_t def_low_ram(const struct vm_def *d)
{
	uint64_t below = d->ram_below_4g ? d->ram_below_4g : DEF_BELOW_4G_MAX;

	return d->mem_size < below ? d->mem_size : below;
}

void def_create_args(const struct vm_def *d, const struct def_limits *lim,
		     struct tern_vm_create *args)
{
	uint32_t list[TERN_MAX_VCPUS * 8];
	const char *why;
	int n = d->cpus[0] ? parse_cpu_list(d->cpus, lim->nr_cpus, list, ARRAY_LEN(list), &why) : 0;

	memset(args, 0, sizeof(*args));
	fmt_snprintf(args->name, sizeof(args->name), "%s", d->name);
	args->mem_size = d->mem_size;
	args->ram_below_4g = d->ram_below_4g;
	args->nr_vcpus = d->nr_vcpus;
	for (uint32_t i = 0; i < TERN_MAX_VCPUS; i++)
		args->cpus[i] = n > 0 && i < d->nr_vcpus ? list[i % (uint32_t)n] : TERN_CPU_ANY;
}

void def_format_size(uint64_t bytes, char *buf, size_t size)
{
	if (bytes && !(bytes % (1ull << 30)))
		fmt_snprintf(buf, size, "%lluG", (unsigned long long)(bytes >> 30));
	else if (bytes && !(bytes % (1ull << 20)))
		fmt_snprintf(buf, size, "%lluM", (unsigned long long)(bytes >> 20));
	else
		fmt_snprintf(buf, size, "%lluK", (unsigned long long)(bytes >> 10));
}

/* s in single quotes, each ' in it as '\'' (POSIX XCU 2.2.2): sh reads back s. */
static void quote_sh(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = "'"; *p && n + 1 < size; p++)
		out[n++] = *p;
	for (; *s && n + 5 < size; s++) {
		const char *piece = *s == '\'' ? "'\\''" : NULL;

		if (!piece) {
			out[n++] = *s;
			continue;
		}
		for (; *piece; piece++)
			out[n++] = *piece;
	}
	if (n + 1 < size)
		out[n++] = '\'';
	out[n] = '\0';
}

/* " --kernel K --initrd I --cmdline '...'" for a kernel VM: what stands for IMAGE. */
static void format_kernel(const struct vm_def *d, char *buf, size_t size)
{
	static char quoted[2 * DEF_CMDLINE_MAX + 8];
	size_t n;

	if (!d->kernel) {
		fmt_snprintf(buf, size, " %s", d->image);
		return;
	}
	n = (size_t)fmt_snprintf(buf, size, " --kernel %s", d->image);
	if (d->initrd[0] && n < size)
		n += (size_t)fmt_snprintf(buf + n, size - n, " --initrd %s", d->initrd);
	if (d->cmdline[0] && n < size) {
		quote_sh(d->cmdline, quoted, sizeof(quoted));
		fmt_snprintf(buf + n, size - n, " --cmdline %s", quoted);
	}
}

void def_format(const struct vm_def *d, char *buf, size_t size)
{
	static char image[2 * DEF_CMDLINE_MAX + 160];
	char mem[24], below[48] = "", on[96] = "";
	size_t n = 0;

	def_format_size(d->mem_size, mem, sizeof(mem));
	if (d->ram_below_4g) {
		char size_str[24];

		def_format_size(d->ram_below_4g, size_str, sizeof(size_str));
		fmt_snprintf(below, sizeof(below), " --ram-below-4g %s", size_str);
	}
	format_kernel(d, image, sizeof(image));
	for (unsigned int ev = 0; ev < DEF_EVENTS; ev++)
		if (d->on[ev] != DEF_ACT_DEFAULT && n < sizeof(on))
			n += (size_t)fmt_snprintf(on + n, sizeof(on) - n, " --on-%s %s", event_names[ev],
						  def_action_name((enum def_action)d->on[ev]));
	fmt_snprintf(buf, size, "define %s%s --mem %s%s --vcpus %u%s%s%s%s", d->name, image, mem,
		     below, d->nr_vcpus, d->cpus[0] ? " --cpus " : "", d->cpus, on,
		     d->autostart ? " --autostart" : "");
}

struct vm_def *defs_find(const char *name)
{
	for (unsigned int i = 0; i < DEFS_MAX; i++)
		if (defs[i].used && !strncmp(defs[i].name, name, sizeof(defs[i].name)))
			return &defs[i];
	return NULL;
}

struct vm_def *defs_add(const char *name)
{
	for (unsigned int i = 0; i < DEFS_MAX; i++)
		if (!defs[i].used) {
			memset(&defs[i], 0, sizeof(defs[i]));
			fmt_snprintf(defs[i].name, sizeof(defs[i].name), "%s", name);
			defs[i].used = true;
			return &defs[i];
		}
	return NULL;
}

void defs_remove(struct vm_def *d)
{
	memset(d, 0, sizeof(*d));
}

struct vm_def *defs_slot(unsigned int i)
{
	return i < DEFS_MAX ? &defs[i] : NULL;
}

void defs_clear(void)
{
	memset(defs, 0, sizeof(defs));
}

bool defs_shut_off(unsigned int i, struct def_row *row)
{
	for (unsigned int k = 0; k < DEFS_MAX; k++) {
		const struct vm_def *d = &defs[k];

		if (!d->used || !d->persistent || d->has_vm || i--)
			continue;
		row->name = d->name;
		row->image = d->image;
		row->cpus = d->cpus[0] ? d->cpus : "-";
		row->reason = d->reason;
		row->mem_size = d->mem_size;
		row->nr_vcpus = d->nr_vcpus;
		row->autostart = d->autostart;
		return true;
	}
	return false;
}
