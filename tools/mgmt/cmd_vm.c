/* SPDX-License-Identifier: MIT */
/*
 * Verbs that make and unmake VMs: images, create, start, pause, resume, destroy,
 * shutdown, reboot, reset (virsh meanings; the definitions they keep: defs.h).
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/defs.h"
#include "vmm/imgplan.h"
#include "tools/mgmt/parse.h"

#define MAX_NAME_SUFFIX  999u
#define DESTROY_RETRY_US 1000000u /* vCPUs leave their CPUs within a slice or so */
#define WHY_MAX          160u

int cmd_images(int argc, char **argv)
{
	if (parse_take_flag(&argc, argv, "--json"))
		return argc > 1 ? usage_error("images", "too many arguments ('%s')", argv[1])
				: images_json(); /* cmd_show.c */
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

		if (module_is_mgmt(m) || !strcmp(m->name, DEF_MODULE))
			continue; /* this shell's own image, or its boot definitions: not guest images */
		if (img_plan(img, m->size, 0, &plan, &why))
			con_printf("%-20.47s %10llu  %s (%s)\n", m->name, (unsigned long long)m->size,
				   img_is_elf(img, m->size) ? "bad ELF" : "unusable", why);
		else
			con_printf("%-20.47s %10llu  %s\n", m->name, (unsigned long long)m->size,
				   plan.kind == IMG_ELF64 ? "ELF64" : "flat (real mode)");
	}
	return 0;
}

/* The image's name, or name-2, name-3... whichever no VM or definition has. */
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

		taken = defs_find(out) != NULL;
		for (int i = 0; i < k && !taken; i++)
			taken = !strncmp(names[i], out, TERN_NAME_MAX);
		if (!taken)
			return true;
		fmt_snprintf(out, size, "%s-%u", base, suffix);
	}
	err_printf("no free name for a vm of image '%s': give one with --name", image);
	return false;
}


/* The boot module that image names, if a guest can be made from it; else NULL after why. */
const struct tern_module *image_check(const char *verb, const char *image, bool usage)
{
	const struct tern_module *mod = module_find(image);
	const char *why = NULL;

	if (!mod)
		why = "no boot image named '%s' (see images)";
	else if (module_is_mgmt(mod))
		why = "image '%s' is the management guest's (this shell); it is not a guest image "
		      "(see images)";
	else if (!strcmp(mod->name, DEF_MODULE))
		why = "image '%s' holds the shell's boot definitions; it is not a guest image "
		      "(see images)";
	if (!why)
		return mod;
	if (usage)
		usage_error(verb, why, image);
	else
		err_printf(why, image);
	return NULL;
}

/* Whether the image runs in d's memory on this CPU; false after why. */
bool image_fits(const struct tern_module *mod, const struct vm_def *d,
		const struct tern_host_info *hi)
{
	static struct img_plan plan;
	const char *why;

	if (img_plan((const uint8_t *)(uintptr_t)mod->gpa, mod->size, def_low_ram(d), &plan, &why)) {
		err_printf("image '%s' cannot run in %llu KiB: %s", mod->name,
			   (unsigned long long)(def_low_ram(d) >> 10), why);
		return false;
	}
	if (plan.kind == IMG_FLAT && !(hi->features & TERN_FEAT_UNRESTRICTED)) {
		err_printf("image '%s' is a real-mode image: this CPU lacks unrestricted guest",
			   mod->name);
		return false;
	}
	return true;
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

/* Makes the VM and loads d's image or kernel (destroyed again if that fails): its id, or -1. */
static int64_t create_vm(const struct vm_def *d, const struct tern_module *mod,
			 struct tern_vm_create *args, bool say)
{
	uint64_t below = args->ram_below_4g ? args->ram_below_4g : DEF_BELOW_4G_MAX;
	char why[WHY_MAX], mib[24];
	int64_t id = vm_create_shown(args), r;
	int bad;

	if (id < 0) {
		create_failed(id, args);
		return -1;
	}
	/* The image goes into the RAM from 0 on; RAM above 4 GiB is the guest's to find (VM_MEMMAP). */
	if (d->kernel)
		bad = kernel_load((uint32_t)id, why, sizeof(why));
	else
		bad = image_load((uint32_t)id, mod, args->mem_size < below ? args->mem_size : below,
				 args->nr_vcpus, why, sizeof(why));
	if (bad) {
		r = hc_vm_op(TERN_HC_VM_DESTROY, (uint32_t)id);
		err_printf("cannot load %s '%s' into vm '%s': %s; %s", d->kernel ? "kernel" : "image",
			   mod->name, args->name, why,
			   r < 0 ? "and it could not be destroyed" : "vm destroyed");
		return -1;
	}
	format_mib(args->mem_size, mib, sizeof(mib));
	if (say && d->kernel)
		con_printf("created vm %lld '%s' (%s MiB, %u vCPU%s, %s kernel '%s'%s%s%s)\n",
			   (long long)id, args->name, mib, args->nr_vcpus,
			   args->nr_vcpus == 1 ? "" : "s", kernel_kind(), mod->name,
			   d->initrd[0] ? ", initrd '" : "", d->initrd, d->initrd[0] ? "'" : "");
	else if (say)
		con_printf("created vm %lld '%s' (%s MiB, %u vCPU%s)\n", (long long)id, args->name,
			   mib, args->nr_vcpus, args->nr_vcpus == 1 ? "" : "s");
	return id;
}

/* Whether d's image (or kernel, initrd and command line) can run as d says; false after why. */
static bool def_loadable(const struct vm_def *d, const struct tern_host_info *hi)
{
	const struct tern_module *mod;

	if (d->kernel)
		return kernel_fits(d);
	mod = image_check("start", d->image, false);
	return mod && image_fits(mod, d, hi);
}

int vm_build(struct vm_def *d, bool say)
{
	static struct tern_vm_create args;
	struct tern_host_info hi;
	struct def_limits lim;
	int64_t id;

	if (!host_info(&hi) || !def_loadable(d, &hi))
		return -1;
	lim.nr_cpus = hi.nr_cpus;
	lim.max_vcpus = hi.max_vcpus;
	def_create_args(d, &lim, &args);
	id = create_vm(d, module_find(d->image), &args, say);
	if (id < 0)
		return -1;
	d->has_vm = true;
	d->vm_id = (uint32_t)id;
	d->preserved = d->reboot_asked = false;
	return 0;
}

/*
 * The image options of create and define into d: IMAGE, or --kernel with
 * --initrd and --cmdline (then no IMAGE is given). 0, or -1 after why.
 */
int def_take_image(const char *verb, struct vm_def *d, const char *image, const char *kernel,
		   const char *initrd, const char *cmdline, const struct tern_host_info *hi)
{
	const struct tern_module *mod;

	if (!kernel && (initrd || cmdline))
		return usage_error(verb, "--%s goes with --kernel IMAGE", initrd ? "initrd" : "cmdline");
	if (kernel && image)
		return usage_error(verb, "give the kernel with --kernel or as IMAGE, not both ('%s')",
				   image);
	if (!kernel && !image)
		return usage_error(verb, "missing IMAGE or --kernel IMAGE (see images)");
	if (cmdline && strlen(cmdline) >= sizeof(d->cmdline))
		return usage_error(verb, "--cmdline is longer than %u bytes", DEF_CMDLINE_MAX - 1);
	mod = image_check(verb, kernel ? kernel : image, true);
	if (!mod || (initrd && !image_check(verb, initrd, true)))
		return -1;
	strlcpy(d->image, mod->name, sizeof(d->image));
	d->kernel = kernel != NULL;
	strlcpy(d->initrd, initrd ? initrd : "", sizeof(d->initrd));
	strlcpy(d->cmdline, cmdline ? cmdline : "", sizeof(d->cmdline));
	return def_loadable(d, hi) ? 0 : -1;
}

int cmd_create(int argc, char **argv)
{
	struct parse_opt o[] = { { "name", NULL }, { "mem", NULL }, { "vcpus", NULL },
				 { "cpus", NULL }, { "ram-below-4g", NULL }, { "kernel", NULL },
				 { "initrd", NULL }, { "cmdline", NULL }, { "on-poweroff", NULL },
				 { "on-reboot", NULL }, { "on-crash", NULL }, { NULL, NULL } };
	static struct vm_def tmp;
	struct tern_host_info hi;
	struct def_limits lim;
	struct vm_def *d;
	char err[PARSE_ERR_MAX * 2], *pos[1];
	const char *image, *name;
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
	/* create IMAGE [--name NAME], or create NAME --kernel IMAGE (as virt-install --boot kernel=). */
	image = o[5].value ? NULL : npos ? pos[0] : NULL;
	name = o[5].value ? (npos ? pos[0] : o[0].value) : o[0].value;
	if (o[5].value && npos && o[0].value)
		return usage_error("create", "the name is given twice ('%s' and --name %s)", pos[0],
				   o[0].value);
	if (o[5].value && !name)
		return usage_error("create", "missing NAME (create NAME --kernel IMAGE)");
	if (!host_info(&hi))
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	lim.nr_cpus = hi.nr_cpus;
	lim.max_vcpus = hi.max_vcpus;
	if (def_set_opts(&tmp, o[1].value, o[2].value, o[3].value, &lim, err, sizeof(err)) ||
	    def_set_below_4g(&tmp, o[4].value, err, sizeof(err)) ||
	    def_set_actions(&tmp, (const char *const[]){ o[8].value, o[9].value, o[10].value }, err,
			    sizeof(err)))
		return usage_error("create", "%s", err);
	if (name && !name_valid(name))
		return usage_error("create", "bad name '%s': " NAME_RULE, name);
	if (def_take_image("create", &tmp, image, o[5].value, o[6].value, o[7].value, &hi))
		return -1;
	defs_sync();
	if (name)
		strlcpy(tmp.name, name, sizeof(tmp.name));
	else if (!unique_name(tmp.image, tmp.name, sizeof(tmp.name)))
		return -1;
	d = defs_find(tmp.name);
	if (d && !d->has_vm) {
		err_printf("a vm named '%s' is defined (shut off): start %s runs it; undefine %s "
			   "frees the name", tmp.name, tmp.name, tmp.name);
		return -1;
	}
	if (d) {
		err_printf("a vm named '%s' exists already", tmp.name);
		return -1;
	}
	d = defs_add(tmp.name);
	if (!d) {
		err_printf("cannot create vm '%s': the shell keeps at most %u VMs and definitions "
			   "(destroy or undefine one)", tmp.name, DEFS_MAX);
		return -1;
	}
	tmp.used = true; /* transient: forgotten when destroyed */
	*d = tmp;
	if (vm_build(d, true)) {
		defs_remove(d);
		return -1;
	}
	if (!start)
		return 0;
	{
		char verb[] = "start", *sargv[] = { verb, tmp.name };

		return cmd_start(2, sargv);
	}
}

/* Why a lifecycle call found the VM in the wrong state, in the operator's terms. */
static void explain_state(const char *verb, const struct tern_vm_info *in)
{
	const char *n = in->name, *s = vm_state_name(in->state);

	switch (in->state) {
	case TERN_VM_CREATED:
		err_printf("vm '%s' has not started (start %s)", n, n);
		break;
	case TERN_VM_RUNNING:
		if (!strcmp(verb, "start"))
			err_printf("vm '%s' is already running", n);
		else if (!strcmp(verb, "resume"))
			err_printf("vm '%s' is not paused: it is running", n);
		else
			err_printf("vm '%s' is running", n);
		break;
	case TERN_VM_PAUSED:
		if (!strcmp(verb, "start"))
			err_printf("vm '%s' is paused: resume it (resume %s)", n, n);
		else if (!strcmp(verb, "pause"))
			err_printf("vm '%s' is already paused", n);
		else
			err_printf("vm '%s' is paused", n);
		break;
	default: /* crashed or finished */
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

/* How the VM ended, for its definition's record. */
static void end_reason(const struct tern_vm_info *in, char *buf, size_t size)
{
	if (in->state == TERN_VM_FINISHED && (in->flags & (TERN_VMF_POWERED_OFF | TERN_VMF_RESET)))
		fmt_snprintf(buf, size, "%.*s", (int)sizeof(in->stop_reason), in->stop_reason);
	else if (in->state == TERN_VM_FINISHED)
		fmt_snprintf(buf, size, "finished: every vCPU halted");
	else if (in->state == TERN_VM_STOPPED && strcmp(in->stop_reason, "stopped by the operator"))
		fmt_snprintf(buf, size, "crashed: %.*s", (int)sizeof(in->stop_reason),
			     in->stop_reason);
	else
		fmt_snprintf(buf, size, "destroyed by the operator");
}

int vm_hard_destroy(const char *verb, struct tern_vm_info *in, struct vm_def *d, bool keep)
{
	char reason[DEF_REASON_MAX];
	int64_t r;

	end_reason(in, reason, sizeof(reason));
	if (in->state == TERN_VM_RUNNING || in->state == TERN_VM_PAUSED) {
		r = hc_vm_op(TERN_HC_VM_STOP, in->id);
		if (r < 0 && r != -(int64_t)TERN_ESTATE) { /* ESTATE: it ended meanwhile */
			op_failed(verb, r, in);
			return -1;
		}
	}
	r = destroy_retry(in);
	if (r == -(int64_t)TERN_EBUSY) {
		err_printf("vm '%s' is still leaving its CPUs; try again", in->name);
		return -1;
	}
	if (r < 0) {
		op_failed(verb, r, in);
		return -1;
	}
	if (d) {
		d->has_vm = false;
		strlcpy(d->reason, reason, sizeof(d->reason));
		if (!d->persistent && !keep)
			defs_remove(d);
	}
	return 0;
}

/*
 * How a VM's guest ended it, for its definition's on_* action: powered off
 * (ACPI S5), reset its platform (0xCF9, the keyboard controller), or
 * crashed (a fault Tern stopped it for, or a pvpanic report). -1: none of
 * these (running, or ended otherwise, e.g. every vCPU halted).
 */
static int guest_event(const struct tern_vm_info *in)
{
	if (in->state == TERN_VM_FINISHED && (in->flags & TERN_VMF_POWERED_OFF))
		return DEF_ON_POWEROFF;
	if (in->state == TERN_VM_FINISHED && (in->flags & TERN_VMF_RESET))
		return DEF_ON_REBOOT;
	if (in->state == TERN_VM_STOPPED && (in->flags & TERN_VMF_CRASHED))
		return DEF_ON_CRASH;
	return -1;
}

static int start_new(struct vm_def *d);

/*
 * The definition's action for how its guest ended the VM (defs.h): destroy
 * shuts it off (memory back at once; a transient one is forgotten), restart
 * makes it anew from its definition and starts it, preserve keeps it as it
 * ended until destroy. After reboot (the power button pressed to reboot), a
 * power-off restarts it. True if something was done and said.
 */
static bool guest_ended(struct vm_def *d, struct tern_vm_info *in)
{
	int ev = guest_event(in);
	bool asked, said;
	enum def_action act;
	char why[TERN_STOP_REASON_MAX + 1], name[TERN_NAME_MAX], how[32];

	if (ev < 0 || d->preserved)
		return false;
	strlcpy(name, d->name, sizeof(name)); /* destroy may forget d */
	fmt_snprintf(why, sizeof(why), "%.*s", (int)sizeof(in->stop_reason), in->stop_reason);
	asked = ev == DEF_ON_POWEROFF && d->reboot_asked;
	act = asked ? DEF_ACT_RESTART : def_action(d, (enum def_event)ev);
	d->reboot_asked = false;
	fmt_snprintf(how, sizeof(how), asked ? "as reboot asked" : "on_%s=%s",
		     def_event_name((enum def_event)ev), def_action_name(act));
	if (act == DEF_ACT_PRESERVE) {
		d->preserved = true;
		/* The default for a crash: the hypervisor's log line has said it already. */
		if (d->on[ev] == DEF_ACT_DEFAULT)
			return false;
		con_printf("\r\033[Kvm '%s': %s; kept as it ended (%s): destroy %s frees it\n", name,
			   why, how, name);
		return true;
	}
	if (vm_hard_destroy("shut off", in, d, act == DEF_ACT_RESTART))
		return false;
	if (act == DEF_ACT_RESTART && !start_new(d)) {
		con_printf("\r\033[Kvm '%s': %s; made anew from its definition as vm %u and started "
			   "(%s)\n", name, why, d->vm_id, how);
		return true;
	}
	if (act == DEF_ACT_RESTART && d->used)
		strlcpy(d->reason, "could not start again after its guest ended it", sizeof(d->reason));
	/* A power-off that shuts the VM off is what the log line said: nothing to add. */
	said = ev != DEF_ON_POWEROFF || act == DEF_ACT_RESTART;
	if (said)
		con_printf("\r\033[Kvm '%s': %s; %s (%s)\n", name, why,
			   d->used ? "shut off" : "destroyed, and forgotten as transient", how);
	return said;
}

bool defs_sync(void)
{
	static struct tern_vm_info in;
	bool said = false;

	for (unsigned int i = 0; i < DEFS_MAX; i++) {
		struct vm_def *d = defs_slot(i);

		if (!d->used || !d->has_vm)
			continue;
		if (hc_vm_info(d->vm_id, &in) >= 0 && !strncmp(in.name, d->name, sizeof(d->name))) {
			said |= guest_ended(d, &in);
			continue;
		}
		d->has_vm = false;
		strlcpy(d->reason, "its VM went away", sizeof(d->reason));
		if (!d->persistent)
			defs_remove(d);
	}
	return said;
}

int vm_or_def(const char *arg, struct tern_vm_info *info, struct vm_def **d)
{
	defs_sync();
	if (vm_lookup(arg, info)) {
		*d = defs_find(info->name);
		if (*d && (!(*d)->has_vm || (*d)->vm_id != info->id))
			*d = NULL;
		return 1;
	}
	*d = parse_is_decimal(arg) ? NULL : defs_find(arg);
	if (*d && !(*d)->has_vm)
		return 0;
	err_printf("no VM with id or name '%s' (see list --all)", arg);
	return -1;
}

/* Checks the words of a verb taking one VM; 0 or -1 after the usage error. */
static int one_vm(const char *verb, int argc, char **argv)
{
	if (argc < 2)
		return usage_error(verb, "missing VM");
	if (argc > 2)
		return usage_error(verb, "too many arguments ('%s')", argv[2]);
	return 0;
}

static bool not_mgmt(const struct tern_vm_info *in, const char *done)
{
	if (!(in->flags & TERN_VMF_MANAGEMENT))
		return true;
	err_printf("vm '%s' is the management guest (this shell): it cannot be %s", in->name, done);
	return false;
}

static int lifecycle(const char *verb, uint64_t nr, const char *done, int argc, char **argv)
{
	struct tern_vm_info info;
	int64_t r;

	if (one_vm(verb, argc, argv) || !vm_find(argv[1], &info) || !not_mgmt(&info, done))
		return -1;
	r = hc_vm_op(nr, info.id);
	if (r < 0) {
		op_failed(verb, r, &info);
		return -1;
	}
	con_printf("%s vm %u '%s'\n", done, info.id, info.name);
	return 0;
}

/* A new VM from d, started; its definition is forgotten if transient and it failed. */
static int start_new(struct vm_def *d)
{
	struct tern_vm_info info;
	int64_t r;

	if (vm_build(d, false)) {
		if (!d->persistent) {
			err_printf("vm '%s' was transient (made by create): it is forgotten", d->name);
			defs_remove(d);
		}
		return -1;
	}
	r = hc_vm_op(TERN_HC_VM_START, d->vm_id);
	if (r < 0 && hc_vm_info(d->vm_id, &info) >= 0) {
		op_failed("start", r, &info);
		return -1;
	}
	return r < 0 ? -1 : 0;
}

int cmd_start(int argc, char **argv)
{
	static struct tern_vm_info info;
	struct vm_def *d;
	uint32_t old;
	int k;

	if (one_vm("start", argc, argv))
		return -1;
	k = vm_or_def(argv[1], &info, &d);
	if (k < 0)
		return -1;
	if (k == 0) { /* shut off: a new VM from the definition */
		if (start_new(d))
			return -1;
		con_printf("started vm %u '%s' from its definition\n", d->vm_id, d->name);
		return 0;
	}
	if (!not_mgmt(&info, "started"))
		return -1;
	if (info.state != TERN_VM_FINISHED && info.state != TERN_VM_STOPPED)
		return lifecycle("start", TERN_HC_VM_START, "started", argc, argv);
	if (!d) {
		err_printf("vm '%s' has %s and was not made by this shell: there is no definition to "
			   "start it from (destroy %s)", info.name, vm_state_name(info.state),
			   info.name);
		return -1;
	}
	old = info.id;
	{
		const char *was = vm_state_name(info.state);

		if (vm_hard_destroy("start", &info, d, true) || start_new(d))
			return -1;
		con_printf("started vm %u '%s' from its definition (vm %u, which had %s, destroyed)\n",
			   d->vm_id, d->name, old, was);
	}
	return 0;
}

int cmd_pause(int argc, char **argv)
{
	return lifecycle("pause", TERN_HC_VM_PAUSE, "paused", argc, argv);
}

int cmd_resume(int argc, char **argv)
{
	return lifecycle("resume", TERN_HC_VM_RESUME, "resumed", argc, argv);
}

int cmd_destroy(int argc, char **argv)
{
	static struct tern_vm_info info;
	struct vm_def *d;
	int k;

	if (one_vm("destroy", argc, argv))
		return -1;
	k = vm_or_def(argv[1], &info, &d);
	if (k < 0)
		return -1;
	if (k == 0) {
		err_printf("vm '%s' is not running: it is shut off (undefine %s forgets it)", d->name,
			   d->name);
		return -1;
	}
	if (!not_mgmt(&info, "destroyed") || vm_hard_destroy("destroy", &info, d, false))
		return -1;
	if (d && d->persistent)
		con_printf("destroyed vm %u '%s'; shut off, its definition kept (start %s)\n",
			   info.id, info.name, info.name);
	else
		con_printf("destroyed vm %u '%s'\n", info.id, info.name);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	con_printf("note: 'stop' is now 'destroy', a hard stop that frees the VM's memory\n");
	return cmd_destroy(argc, argv);
}

/*
 * The VM shutdown or reboot asks: a running or paused one, not this shell.
 * 0 with info, or -1 after saying what was wrong.
 */
static int asked_vm(const char *verb, const char *done, int argc, char **argv,
		    struct tern_vm_info *info)
{
	struct vm_def *d;
	int k;

	if (one_vm(verb, argc, argv))
		return -1;
	k = vm_or_def(argv[1], info, &d);
	if (k < 0)
		return -1;
	if (k == 0) {
		err_printf("vm '%s' is not running: it is shut off", d->name);
		return -1;
	}
	if (!not_mgmt(info, done))
		return -1;
	if (info->state != TERN_VM_RUNNING && info->state != TERN_VM_PAUSED) {
		explain_state(verb, info);
		return -1;
	}
	return 0;
}

/*
 * Presses a running VM's ACPI power button (PM1 PWRBTN_STS and an SCI,
 * docs/devices.md). A guest that enabled the event shuts itself down and
 * powers off (S5); one that did not is not told anything: say so, and name
 * the verb (instead, "destroy" or "reset") that acts without asking. 0 if
 * the guest was told, else -1 after why.
 */
static int press_power_button(const char *verb, const struct tern_vm_info *info,
			      const char *instead, const char *does)
{
	static struct tern_vm_info in;
	int64_t r;

	if (info->state != TERN_VM_RUNNING) {
		explain_state(verb, info);
		return -1;
	}
	r = hc_vm_op(TERN_HC_VM_POWER_BUTTON, info->id);
	if (r < 0) {
		in = *info;
		op_failed(verb, r, &in);
		return -1;
	}
	if (r == 0) {
		err_printf("vm '%s' has not enabled ACPI power-button events: the press is latched but "
			   "the guest is not told; '%s %s' %s at once, without asking", info->name,
			   instead, info->name, does);
		return -1;
	}
	return 0;
}

/* shutdown: the power button; the VM's on_poweroff follows the guest's power-off (defs_sync). */
int cmd_shutdown(int argc, char **argv)
{
	static struct tern_vm_info info;

	if (asked_vm("shutdown", "shut down", argc, argv, &info) ||
	    press_power_button("shutdown", &info, "destroy", "stops it"))
		return -1;
	con_printf("vm %u '%s' is being shut down (ACPI power button); it is shut off when the "
		   "guest powers off\n", info.id, info.name);
	return 0;
}

/*
 * reboot asks the guest to shut down as shutdown does (ACPI has no "please
 * reboot" event) and remembers it: when the guest has powered off, the VM is
 * made anew from its definition and started, whatever on_poweroff says (as
 * libvirt's ACPI reboot of a domain does). A guest that resets itself
 * instead is handled by on_reboot.
 */
int cmd_reboot(int argc, char **argv)
{
	static struct tern_vm_info info;
	struct vm_def *d;

	if (asked_vm("reboot", "rebooted", argc, argv, &info))
		return -1;
	d = defs_find(info.name);
	if (!d || !d->has_vm || d->vm_id != info.id) {
		err_printf("vm '%s' was not made by this shell: there is no definition to start it "
			   "again from", info.name);
		return -1;
	}
	if (press_power_button("reboot", &info, "reset", "restarts it"))
		return -1;
	d->reboot_asked = true;
	con_printf("vm %u '%s' is being rebooted (ACPI power button): when the guest has powered "
		   "off it is made anew and started\n", info.id, info.name);
	return 0;
}

int cmd_reset(int argc, char **argv)
{
	static struct tern_vm_info info;
	struct vm_def *d;
	uint32_t old;
	int k;

	if (one_vm("reset", argc, argv))
		return -1;
	k = vm_or_def(argv[1], &info, &d);
	if (k < 0)
		return -1;
	if (k == 0) {
		err_printf("vm '%s' is not running: it is shut off (start %s)", d->name, d->name);
		return -1;
	}
	if (!not_mgmt(&info, "reset"))
		return -1;
	if (!d) {
		err_printf("vm '%s' was not made by this shell: there is no definition to reset it "
			   "from", info.name);
		return -1;
	}
	if (info.state == TERN_VM_CREATED) {
		explain_state("reset", &info);
		return -1;
	}
	old = info.id;
	if (vm_hard_destroy("reset", &info, d, true) || start_new(d))
		return -1;
	con_printf("reset vm '%s': vm %u destroyed, vm %u made from its definition and started\n",
		   d->name, old, d->vm_id);
	return 0;
}
