/* SPDX-License-Identifier: MIT */
/* Verbs of VM definitions (defs.h): define, undefine, config, autostart; the boot module "defs". */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/defs.h"
#include "tools/mgmt/parse.h"

#define DEFS_LINE_MAX 256u /* a line of the boot module "defs" */
#define DEFS_WORDS    16

/* Takes a flag without a value out of argv; 1 if it was there, 0 if not, -1 if twice. */
static int take_flag(int *argc, char **argv, const char *flag)
{
	int kept = 1, seen = 0;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], flag))
			argv[kept++] = argv[i];
		else
			seen++;
	}
	*argc = kept;
	return seen > 1 ? -1 : seen;
}

int cmd_define(int argc, char **argv)
{
	struct parse_opt o[] = { { "mem", NULL }, { "vcpus", NULL }, { "cpus", NULL },
				 { "ram-below-4g", NULL }, { "kernel", NULL }, { "initrd", NULL },
				 { "cmdline", NULL }, { "on-poweroff", NULL }, { "on-reboot", NULL },
				 { "on-crash", NULL }, { NULL, NULL } };
	static struct vm_def tmp;
	static struct tern_vm_info info;
	struct tern_host_info hi;
	struct def_limits lim;
	struct vm_def *d;
	char err[PARSE_ERR_MAX * 2], *pos[2], mib[24];
	int npos, autostart = take_flag(&argc, argv, "--autostart");

	if (autostart < 0)
		return usage_error("define", "option '--autostart' given twice");
	npos = parse_opts(argc, argv, 1, o, pos, 2, err, sizeof(err));
	if (npos < 0)
		return usage_error("define", "%s", err);
	if (npos == 0)
		return usage_error("define", "missing NAME");
	if (!name_valid(pos[0]))
		return usage_error("define", "bad name '%s': " NAME_RULE, pos[0]);
	defs_sync();
	d = defs_find(pos[0]);
	if (d && d->persistent) {
		err_printf("vm '%s' is defined already (config %s shows it; undefine %s first)",
			   pos[0], pos[0], pos[0]);
		return -1;
	}
	if (d || vm_lookup(pos[0], &info)) {
		err_printf("a vm named '%s' exists already (see list)", pos[0]);
		return -1;
	}
	if (!host_info(&hi))
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	lim.nr_cpus = hi.nr_cpus;
	lim.max_vcpus = hi.max_vcpus;
	if (def_set_opts(&tmp, o[0].value, o[1].value, o[2].value, &lim, err, sizeof(err)) ||
	    def_set_below_4g(&tmp, o[3].value, err, sizeof(err)) ||
	    def_set_actions(&tmp, (const char *const[]){ o[7].value, o[8].value, o[9].value }, err,
			    sizeof(err)))
		return usage_error("define", "%s", err);
	if (def_take_image("define", &tmp, npos > 1 ? pos[1] : NULL, o[4].value, o[5].value,
			   o[6].value, &hi))
		return -1;
	d = defs_add(pos[0]);
	if (!d) {
		err_printf("cannot define vm '%s': the shell keeps at most %u VMs and definitions "
			   "(undefine or destroy one)", pos[0], DEFS_MAX);
		return -1;
	}
	strlcpy(tmp.name, pos[0], sizeof(tmp.name));
	tmp.used = tmp.persistent = true;
	tmp.autostart = autostart;
	*d = tmp;
	format_mib(d->mem_size, mib, sizeof(mib));
	con_printf("defined vm '%s' (image %s, %s MiB, %u vCPU%s%s): start %s runs it\n", d->name,
		   d->image, mib, d->nr_vcpus, d->nr_vcpus == 1 ? "" : "s",
		   d->autostart ? ", autostart" : "", d->name);
	return 0;
}

/* Why a VM found has no definition to work on; -1. */
static int no_definition(const struct tern_vm_info *in, const struct vm_def *d, const char *what)
{
	if (in->flags & TERN_VMF_MANAGEMENT)
		err_printf("vm '%s' is the management guest (this shell): it has no definition",
			   in->name);
	else if (!d)
		err_printf("vm '%s' was not made by this shell: it has no definition", in->name);
	else
		err_printf("vm '%s' is transient (made by create): %s", in->name, what);
	return -1;
}

int cmd_undefine(int argc, char **argv)
{
	static struct tern_vm_info info;
	struct vm_def *d;
	int k;

	if (argc < 2)
		return usage_error("undefine", "missing VM");
	if (argc > 2)
		return usage_error("undefine", "too many arguments ('%s')", argv[2]);
	k = vm_or_def(argv[1], &info, &d);
	if (k < 0)
		return -1;
	if (k == 1 && (!d || !d->persistent))
		return no_definition(&info, d, "it has no definition to undefine; destroy forgets it");
	if (k == 1) {
		err_printf("vm '%s' is %s: destroy it first (destroy %s), then undefine it", d->name,
			   vm_state_name(info.state), d->name);
		return -1;
	}
	con_printf("undefined vm '%s'\n", d->name);
	defs_remove(d);
	return 0;
}

int cmd_config(int argc, char **argv)
{
	static struct tern_vm_info info;
	static char line[DEF_LINE_MAX];
	struct vm_def *d;
	int k;

	if (argc < 2)
		return usage_error("config", "missing VM");
	if (argc > 2)
		return usage_error("config", "too many arguments ('%s')", argv[2]);
	k = vm_or_def(argv[1], &info, &d);
	if (k < 0)
		return -1;
	if (!d)
		return no_definition(&info, d, "");
	def_format(d, line, sizeof(line));
	con_printf("%s\n", line);
	return 0;
}

int cmd_autostart(int argc, char **argv)
{
	static struct tern_vm_info info;
	struct vm_def *d;
	int k, disable = take_flag(&argc, argv, "--disable");

	if (disable < 0)
		return usage_error("autostart", "option '--disable' given twice");
	if (argc < 2)
		return usage_error("autostart", "missing VM");
	if (argc > 2)
		return usage_error("autostart", "too many arguments ('%s')", argv[2]);
	k = vm_or_def(argv[1], &info, &d);
	if (k < 0)
		return -1;
	if (!d || !d->persistent)
		return no_definition(&info, d, "only a defined VM can autostart (see define)");
	d->autostart = !disable;
	con_printf("vm '%s' %s started when the shell starts\n", d->name,
		   disable ? "will not be" : "will be");
	return 0;
}

/* Runs one line of the boot module: define lines only. */
static void defs_line(char *line, unsigned int nr)
{
	char *argv[DEFS_WORDS];
	int argc;

	con_printf("%s: %s\n", DEF_MODULE, line);
	argc = parse_words(line, argv, DEFS_WORDS);
	if (argc == PARSE_OPEN_QUOTE)
		err_printf("%s line %u: a quote is not closed", DEF_MODULE, nr);
	else if (argc < 0)
		err_printf("%s line %u: too many words (at most %d)", DEF_MODULE, nr, DEFS_WORDS);
	else if (argc > 0 && strcmp(argv[0], "define"))
		err_printf("%s line %u: only define lines are taken, not '%s'", DEF_MODULE, nr,
			   argv[0]);
	else if (argc > 0)
		cmd_define(argc, argv);
}

/*
 * The boot module "defs" (a text file GRUB loads, e.g. "module2 /defs.txt defs"):
 * lines as config prints them, '#' comments. What a host reboot keeps, as there is no disk.
 */
static void defs_module(const struct tern_module *m)
{
	const char *text = (const char *)(uintptr_t)m->gpa;
	static char line[DEFS_LINE_MAX];
	unsigned int nr = 1;
	size_t len = 0;
	bool bad = false;

	for (uint64_t i = 0; i <= m->size; i++) {
		char c = i < m->size ? text[i] : '\n';

		if (c != '\n') {
			if (c == '\r' || c == '\t')
				c = c == '\t' ? ' ' : 0;
			else if (c < ' ' || c > '~')
				bad = true;
			if (c && len < sizeof(line) - 1)
				line[len++] = c;
			else if (c)
				bad = true;
			continue;
		}
		line[len] = 0;
		if (bad)
			err_printf("%s line %u: not a line of printable ASCII under %u characters; "
				   "skipped", DEF_MODULE, nr, DEFS_LINE_MAX);
		else if (len && line[0] != '#')
			defs_line(line, nr);
		len = 0;
		bad = false;
		nr++;
	}
}

void vm_autostart(void)
{
	const struct tern_module *m = module_find(DEF_MODULE);

	if (m)
		defs_module(m);
	for (unsigned int i = 0; i < DEFS_MAX; i++) {
		struct vm_def *d = defs_slot(i);
		char verb[] = "start", name[TERN_NAME_MAX], *argv[] = { verb, name };

		if (!d->used || !d->persistent || !d->autostart || d->has_vm)
			continue;
		strlcpy(name, d->name, sizeof(name));
		con_printf("autostart: start %s\n", name);
		cmd_start(2, argv);
	}
}
