/* SPDX-License-Identifier: MIT */
/* Verbs that make and unmake VMs: images, create, start, pause, resume, stop, destroy. */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/imgcheck.h"
#include "tools/mgmt/parse.h"

#define DEFAULT_MEM      (16ull << 20)
#define MAX_NAME_SUFFIX  999u
#define DESTROY_RETRY_US 1000000u /* vCPUs leave their CPUs within a slice or so */
#define WHY_MAX          160u

int cmd_images(int argc, char **argv)
{
	if (argc > 1)
		return usage_error("images", "too many arguments ('%s')", argv[1]);
	if (!mgmt.mods || !mgmt.mods->count) {
		con_printf("no boot images\n");
		return 0;
	}
	con_printf("%-20s %10s  %s\n", "NAME", "BYTES", "TYPE");
	for (uint32_t i = 0; i < mgmt.mods->count && i < TERN_MAX_MODULES; i++) {
		const struct tern_module *m = &mgmt.mods->mods[i];
		const uint8_t *img = (const uint8_t *)(uintptr_t)m->gpa;
		static struct img_plan plan;
		const char *why;

		if (module_is_mgmt(m))
			continue; /* this shell's own image: a second copy could do nothing */
		if (img_plan(img, m->size, 0, &plan, &why))
			con_printf("%-20.47s %10llu  %s (%s)\n", m->name, (unsigned long long)m->size,
				   img_is_elf(img, m->size) ? "bad ELF" : "unusable", why);
		else
			con_printf("%-20.47s %10llu  %s\n", m->name, (unsigned long long)m->size,
				   plan.kind == IMG_ELF64 ? "ELF64" : "flat (real mode)");
	}
	return 0;
}

/* The image's name, or name-2, name-3... whichever no VM has. */
static bool unique_name(const char *image, char *out, size_t size)
{
	static char names[MGMT_MAX_VMS][TERN_NAME_MAX];
	struct tern_vm_info info;
	uint32_t ids[MGMT_MAX_VMS];
	char base[TERN_NAME_MAX - 4];
	int n = vm_ids(ids, MGMT_MAX_VMS), k = 0;

	if (n < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (hc_vm_info(ids[i], &info) >= 0)
			memcpy(names[k++], info.name, TERN_NAME_MAX);
	name_from(image, base, sizeof(base));
	fmt_snprintf(out, size, "%s", base);
	for (unsigned int suffix = 2; suffix <= MAX_NAME_SUFFIX + 1; suffix++) {
		bool taken = false;

		for (int i = 0; i < k && !taken; i++)
			taken = !strncmp(names[i], out, TERN_NAME_MAX);
		if (!taken)
			return true;
		fmt_snprintf(out, size, "%s-%u", base, suffix);
	}
	err_printf("no free name for a vm of image '%s': give one with --name", image);
	return false;
}

/* create's options, in the order of its parse_opt table. */
enum { OPT_NAME, OPT_MEM, OPT_VCPUS, OPT_CPUS };

/* Fills args from the options; 0, or -1 after printing what is wrong. */
static int create_args(const struct parse_opt *o, const struct tern_host_info *hi,
			struct tern_vm_create *args)
{
	uint32_t cpus[TERN_MAX_VCPUS * 8];
	const char *why;
	uint64_t v;
	int n;

	args->mem_size = DEFAULT_MEM;
	if (o[OPT_MEM].value && parse_u64(o[OPT_MEM].value, &v))
		return usage_error("create", "bad size '%s': give a unit, K, M or G (e.g. 16M); "
				   "a bare number is not taken as bytes", o[OPT_MEM].value);
	if (o[OPT_MEM].value && !parse_size(o[OPT_MEM].value, &args->mem_size))
		return usage_error("create", "bad size '%s': use a number with K, M or G (e.g. 16M)",
				   o[OPT_MEM].value);
	if (args->mem_size < TERN_VM_MEM_MIN || args->mem_size > TERN_VM_MEM_MAX ||
	    args->mem_size % IMG_PAGE_SIZE)
		return usage_error("create", "bad size '%s': memory is 2M to 3G, a multiple of 4K",
				   o[OPT_MEM].value);
	args->nr_vcpus = 1;
	if (o[OPT_VCPUS].value) {
		if (!parse_u64(o[OPT_VCPUS].value, &v) || v < 1 || v > hi->max_vcpus || v > TERN_MAX_VCPUS)
			return usage_error("create", "bad vCPU count '%s': use 1 to %u", o[OPT_VCPUS].value,
					   hi->max_vcpus < TERN_MAX_VCPUS ? hi->max_vcpus
								: TERN_MAX_VCPUS);
		args->nr_vcpus = (uint32_t)v;
	}
	for (uint32_t i = 0; i < TERN_MAX_VCPUS; i++)
		args->cpus[i] = TERN_CPU_ANY;
	if (o[OPT_CPUS].value) {
		n = parse_cpu_list(o[OPT_CPUS].value, hi->nr_cpus, cpus, ARRAY_SIZE(cpus), &why);
		if (n < 0)
			return usage_error("create", "bad CPU list '%s': %s (CPUs 0 to %u)",
					   o[OPT_CPUS].value, why, hi->nr_cpus - 1);
		for (uint32_t i = 0; i < args->nr_vcpus; i++)
			args->cpus[i] = cpus[i % (uint32_t)n];
	}
	return 0;
}

static void create_failed(int64_t r, const struct tern_vm_create *args)
{
	struct tern_host_info hi;
	char asked[24], avail[24];

	if (r == -(int64_t)TERN_ENOMEM && host_info(&hi)) {
		format_mib(args->mem_size, asked, sizeof(asked));
		format_mib(hi.mem_available & ~((1ull << 20) - 1), avail, sizeof(avail));
		err_printf("insufficient memory: asked %s MiB, %s MiB available to VMs (see info)",
			   asked, avail);
	} else if (r == -(int64_t)TERN_EEXIST) {
		err_printf("a vm named '%s' exists already", args->name);
	} else if (r == -(int64_t)TERN_EINVAL && args->nr_vcpus > 1 && host_info(&hi) &&
		   !(hi.features & TERN_FEAT_UNRESTRICTED)) {
		/* The hypervisor's reason (docs/hypercalls.md, VM_CREATE). */
		err_printf("cannot create vm '%s' with %u vCPUs: this CPU lacks unrestricted guest, "
			   "which more than one vCPU needs (the others start in real mode); "
			   "use --vcpus 1", args->name, args->nr_vcpus);
	} else {
		err_printf("cannot create vm '%s': %s", args->name, hc_strerror(r));
	}
}

/* Makes the VM and loads the image; on a load failure the VM is destroyed again. */
static int create_vm(const struct tern_module *mod, struct tern_vm_create *args)
{
	char why[WHY_MAX], mib[24];
	int64_t id = hc_vm_create(args), r;

	if (id < 0) {
		create_failed(id, args);
		return -1;
	}
	if (image_load((uint32_t)id, mod, args->mem_size, args->nr_vcpus, why, sizeof(why))) {
		r = hc_vm_op(TERN_HC_VM_DESTROY, (uint32_t)id);
		err_printf("cannot load image '%s' into vm '%s': %s; %s", mod->name, args->name, why,
			   r < 0 ? "and it could not be destroyed" : "vm destroyed");
		return -1;
	}
	format_mib(args->mem_size, mib, sizeof(mib));
	con_printf("created vm %lld '%s' (%s MiB, %u vCPU%s)\n", (long long)id, args->name, mib,
		   args->nr_vcpus, args->nr_vcpus == 1 ? "" : "s");
	return 0;
}

int cmd_create(int argc, char **argv)
{
	struct parse_opt o[] = { { "name", NULL }, { "mem", NULL }, { "vcpus", NULL },
				 { "cpus", NULL }, { NULL, NULL } };
	static struct tern_vm_create args;
	static struct img_plan plan;
	const struct tern_module *mod;
	struct tern_host_info hi;
	char err[PARSE_ERR_MAX], *pos[1];
	const char *why;
	bool start = false;
	int npos, kept = 1;

	/* --start (as xl create does) is the one option without a value. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--start"))
			argv[kept++] = argv[i];
		else if (start)
			return usage_error("create", "option '--start' given twice");
		else
			start = true;
	}
	argc = kept;
	npos = parse_opts(argc, argv, 1, o, pos, 1, err, sizeof(err));
	if (npos < 0)
		return usage_error("create", "%s", err);
	if (npos == 0)
		return usage_error("create", "missing IMAGE (see images)");
	mod = module_find(pos[0]);
	if (!mod)
		return usage_error("create", "no boot image named '%s' (see images)", pos[0]);
	if (module_is_mgmt(mod))
		return usage_error("create", "image '%s' is the management guest's (this shell); "
				   "it is not a guest image (see images)", pos[0]);
	if (!host_info(&hi))
		return -1;
	memset(&args, 0, sizeof(args));
	if (create_args(o, &hi, &args))
		return -1;
	if (o[OPT_NAME].value && !name_valid(o[OPT_NAME].value))
		return usage_error("create", "bad name '%s': " NAME_RULE, o[OPT_NAME].value);
	if (img_plan((const uint8_t *)(uintptr_t)mod->gpa, mod->size, args.mem_size, &plan, &why)) {
		err_printf("image '%s' cannot run in %llu KiB: %s", mod->name,
			   (unsigned long long)(args.mem_size >> 10), why);
		return -1;
	}
	if (plan.kind == IMG_FLAT && !(hi.features & TERN_FEAT_UNRESTRICTED)) {
		err_printf("image '%s' is a real-mode image: this CPU lacks unrestricted guest",
			   mod->name);
		return -1;
	}
	if (o[OPT_NAME].value)
		fmt_snprintf(args.name, sizeof(args.name), "%s", o[OPT_NAME].value);
	else if (!unique_name(mod->name, args.name, sizeof(args.name)))
		return -1;
	if (create_vm(mod, &args))
		return -1;
	if (!start)
		return 0;
	{
		char verb[] = "start", *sargv[] = { verb, args.name };

		return cmd_start(2, sargv);
	}
}

/* Why a lifecycle call found the VM in the wrong state, in the operator's terms. */
static void explain_state(const char *verb, const struct tern_vm_info *in)
{
	const char *n = in->name, *s = vm_state_name(in->state);

	switch (in->state) {
	case TERN_VM_CREATED:
		err_printf("vm '%s' has not started (start %s)%s", n, n,
			   !strcmp(verb, "stop") ? "; destroy frees it" : "");
		break;
	case TERN_VM_RUNNING:
		if (!strcmp(verb, "start"))
			err_printf("vm '%s' is already running", n);
		else if (!strcmp(verb, "resume"))
			err_printf("vm '%s' is not paused: it is running", n);
		else
			err_printf("vm '%s' is running: stop it first (stop %s)", n, n);
		break;
	case TERN_VM_PAUSED:
		if (!strcmp(verb, "start"))
			err_printf("vm '%s' is paused: resume it (resume %s)", n, n);
		else if (!strcmp(verb, "pause"))
			err_printf("vm '%s' is already paused", n);
		else
			err_printf("vm '%s' is paused: stop it first (stop %s)", n, n);
		break;
	default: /* stopped or finished */
		if (!strcmp(verb, "start"))
			err_printf("vm '%s' has %s and cannot run again (destroy %s, then create it)",
				   n, s, n);
		else if (!strcmp(verb, "stop"))
			err_printf("vm '%s' has %s already", n, s);
		else
			err_printf("vm '%s' is not running: it has %s", n, s);
		break;
	}
}

static void op_failed(const char *verb, int64_t r, struct tern_vm_info *in)
{
	uint32_t id = in->id;

	if (r == -(int64_t)TERN_ENOENT || hc_vm_info(id, in) < 0)
		err_printf("vm %u is gone", id);
	else if (r == -(int64_t)TERN_ESTATE || r == -(int64_t)TERN_EBUSY)
		explain_state(verb, in);
	else if (r == -(int64_t)TERN_EINVAL && !strcmp(verb, "start"))
		err_printf("vm '%s' has no start state for vCPU 0", in->name);
	else
		err_printf("cannot %s vm '%s': %s", verb, in->name, hc_strerror(r));
}

/* After stop, vCPUs may still be leaving their CPUs for a moment: DESTROY says EBUSY. */
static int64_t destroy_retry(struct tern_vm_info *in)
{
	uint64_t end = tsc_now() + us_to_tsc(DESTROY_RETRY_US);
	int64_t r;

	for (;;) {
		r = hc_vm_op(TERN_HC_VM_DESTROY, in->id);
		if (r != -(int64_t)TERN_EBUSY || tsc_now() > end)
			return r;
		if (hc_vm_info(in->id, in) >= 0 &&
		    (in->state == TERN_VM_RUNNING || in->state == TERN_VM_PAUSED))
			return r;
		tick_wait();
	}
}

static int lifecycle(const char *verb, uint64_t nr, const char *done, int argc, char **argv)
{
	struct tern_vm_info info;
	int64_t r;

	if (argc < 2)
		return usage_error(verb, "missing VM");
	if (argc > 2)
		return usage_error(verb, "too many arguments ('%s')", argv[2]);
	if (!vm_find(argv[1], &info))
		return -1;
	if (info.flags & TERN_VMF_MANAGEMENT) {
		err_printf("vm '%s' is the management guest (this shell): it cannot be %s", info.name,
			   done);
		return -1;
	}
	r = nr == TERN_HC_VM_DESTROY ? destroy_retry(&info) : hc_vm_op(nr, info.id);
	if (r == -(int64_t)TERN_EBUSY && nr == TERN_HC_VM_DESTROY &&
	    info.state != TERN_VM_RUNNING && info.state != TERN_VM_PAUSED) {
		err_printf("vm '%s' is still leaving its CPUs; try again", info.name);
		return -1;
	}
	if (r < 0) {
		op_failed(verb, r, &info);
		return -1;
	}
	con_printf("%s vm %u '%s'\n", done, info.id, info.name);
	return 0;
}

int cmd_start(int argc, char **argv)
{
	return lifecycle("start", TERN_HC_VM_START, "started", argc, argv);
}

int cmd_pause(int argc, char **argv)
{
	return lifecycle("pause", TERN_HC_VM_PAUSE, "paused", argc, argv);
}

int cmd_resume(int argc, char **argv)
{
	return lifecycle("resume", TERN_HC_VM_RESUME, "resumed", argc, argv);
}

int cmd_stop(int argc, char **argv)
{
	return lifecycle("stop", TERN_HC_VM_STOP, "stopped", argc, argv);
}

int cmd_destroy(int argc, char **argv)
{
	return lifecycle("destroy", TERN_HC_VM_DESTROY, "destroyed", argc, argv);
}
