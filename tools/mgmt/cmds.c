/* SPDX-License-Identifier: MIT */
/* The shell's verbs: the table, dispatch, help and version. */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/parse.h"

#define MAX_WORDS 16

static const struct verb verbs[] = {
	{ "help", cmd_help, "help [VERB]", "list the commands, or explain one", NULL },
	{ "version", cmd_version, "version", "shell and hypervisor ABI versions", NULL },
	{ "images", cmd_images, "images", "boot images VMs can be created from", NULL },
	{ "create", cmd_create, "create IMAGE [--name N] [--mem SIZE] [--vcpus N] [--cpus LIST] [--start]",
	  "create a VM from a boot image (it waits for start)",
	  "--name defaults to the image's name, made unique with -2, -3...; names are\n"
	  "  letters, digits, '.', '_' and '-', not starting with '-' and not all digits\n"
	  "--mem is 2M to 3G in multiples of 4K, with a unit K, M or G (default 16M)\n"
	  "--vcpus is 1 to 8 (default 1)\n"
	  "--cpus 0,1 pins vCPU i to the i-th CPU of the list (cycling); default: any\n"
	  "An ELF64 image runs in 64-bit mode, anything else in real mode from 0000:7c00." },
	{ "start", cmd_start, "start VM", "start a created VM", NULL },
	{ "pause", cmd_pause, "pause VM", "take a running VM off its CPUs", NULL },
	{ "resume", cmd_resume, "resume VM", "run a paused VM again from where it was", NULL },
	{ "stop", cmd_stop, "stop VM", "stop a running or paused VM for good",
	  "A stopped VM keeps its memory until destroy; it cannot be started again." },
	{ "destroy", cmd_destroy, "destroy VM", "free a VM that is not running",
	  "Works on created, stopped and finished VMs; stop a running one first." },
	{ "list", cmd_list, "list", "every VM: state, memory, vCPUs, CPUs, run time", NULL },
	{ "info", cmd_info, "info [VM]", "the host, or one VM in detail", NULL },
	{ "vcpu-list", cmd_vcpu_list, "vcpu-list [VM]", "the vCPUs of every VM, or of one",
	  NULL },
	{ "vcpu-pin", cmd_vcpu_pin, "vcpu-pin VM VCPU CPU|any",
	  "keep a vCPU on one CPU, or let the balancer place it (any)", NULL },
	{ "migrate", cmd_migrate, "migrate VM --cpu N", "move every vCPU of a VM to CPU N, pinned",
	  "Between the cores of this host; moving to another host (--host) comes later." },
	{ "console", cmd_console, "console VM [--all]", "connect to a VM's console (Ctrl-] leaves)",
	  "Shows the VM's output from now on (--all: first what its 4 KiB buffer still\n"
	  "holds) and sends what you type to its UART. Ctrl-] returns to the shell." },
	{ "top", cmd_top, "top [N]", "CPU use and exit rates of every VM over a second",
	  "Samples for about a second of guest time, N times (default 1); Ctrl-C stops.\n"
	  "CPU% is run time over elapsed time: a VM with several vCPUs can pass 100." },
	{ "log", cmd_log, "log [N]", "the last N lines of the hypervisor log (default 40)",
	  NULL },
};

const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

void shell_exec(char *line)
{
	char *argv[MAX_WORDS];
	const struct verb *v;
	int argc = parse_words(line, argv, MAX_WORDS);

	if (argc < 0) {
		err_printf("too many words (at most %d)", MAX_WORDS);
		return;
	}
	if (!argc)
		return;
	v = verb_find(argv[0]);
	if (!v) {
		err_printf("unknown command '%s'; type 'help' for the list", argv[0]);
		return;
	}
	v->fn(argc, argv);
}

int cmd_help(int argc, char **argv)
{
	const struct verb *v;

	if (argc > 2)
		return usage_error("help", "too many arguments ('%s')", argv[2]);
	if (argc == 2) {
		v = verb_find(argv[1]);
		if (!v)
			return usage_error("help", "unknown command '%s'", argv[1]);
		con_printf("usage: %s\n%s\n", v->usage, v->summary);
		if (v->help)
			con_printf("%s\n", v->help);
		return 0;
	}
	con_printf("Commands (VM is an id or a name, see list; 'help VERB' for more):\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		con_printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
	con_printf("Keys: Up/Down history, Ctrl-U erase line, Ctrl-C abandon line.\n");
	return 0;
}

int cmd_version(int argc, char **argv)
{
	int64_t v;

	if (argc > 1)
		return usage_error("version", "too many arguments ('%s')", argv[1]);
	v = hc_version();
	if (v < 0) {
		err_printf("cannot read the hypervisor's ABI version: %s", hc_strerror(v));
		return -1;
	}
	con_printf("tern shell %s (built for ABI %u.%u); hypervisor ABI %u.%u\n", MGMT_VERSION,
		   TERN_ABI_MAJOR, TERN_ABI_MINOR, (unsigned int)(v >> 16),
		   (unsigned int)(v & 0xffff));
	if ((uint64_t)v >> 16 != TERN_ABI_MAJOR)
		con_printf("warning: the hypervisor's ABI major version differs from the shell's\n");
	return 0;
}
