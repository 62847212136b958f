/* SPDX-License-Identifier: MIT */
/* The shell's verbs: the table, dispatch, help and version. */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/json.h"
#include "tools/mgmt/parse.h"

#define MAX_WORDS 16

static const struct verb verbs[] = {
	{ "help", cmd_help, "help [VERB]", "list the commands, or explain one", NULL },
	{ "version", cmd_version, "version [--json]", "shell and hypervisor ABI versions", NULL },
	{ "images", cmd_images, "images [--json]", "boot images VMs can be created from", NULL },
	{ "create", cmd_create, "create IMAGE [--name N] [--mem SIZE] [--vcpus N] [--cpus LIST] [--ram-below-4g SIZE] [--on-EVENT ACTION] [--start]\n"
	  "       create NAME --kernel IMAGE [--initrd IMAGE] [--cmdline \"WORDS\"] [options as above]",
	  "create a VM from a boot image (it waits for start)",
	  "--name defaults to the image's name, made unique with -2, -3...; names are\n"
	  "  letters, digits, '.', '_' and '-', not starting with '-' and not all digits\n"
	  "--mem is 2M to 1024G in multiples of 4K, with a unit K, M or G (default 16M);\n"
	  "  RAM is below the device hole at 3 GiB, and what does not fit from 4 GiB on\n"
	  "--ram-below-4g caps the RAM below the hole (1M to 3G, as QEMU's max-ram-below-4g)\n"
	  "--vcpus is 1 to 8 (default 1)\n"
	  "--cpus 0,1 pins vCPU i to the i-th CPU of the list (cycling); default: any\n"
	  "An ELF64 image runs in 64-bit mode, anything else in real mode from 0000:7c00.\n"
	  "--kernel loads an unmodified kernel, its format found from the image: a Linux\n"
	  "  bzImage or vmlinux (64-bit boot protocol, --initrd as its initramfs) or a\n"
	  "  Multiboot v1 kernel (--initrd as its module); --cmdline is its command line,\n"
	  "  quoted as in sh. The VM gets ACPI and MP tables describing its vCPUs and devices.\n"
	  "--on-poweroff, --on-reboot, --on-crash ACTION: what follows when the guest powers\n"
	  "  off, resets itself, or crashes (a fault, a panic it reports through pvpanic), as\n"
	  "  xl's on_*: destroy (shut off), restart (made anew and started) or preserve (kept\n"
	  "  as it ended until destroy). Defaults: destroy, restart, preserve.\n"
	  "The VM is transient (as virsh create): destroy forgets it; define keeps one." },
	{ "start", cmd_start, "start VM", "start a created or shut-off VM",
	  "A created VM starts as it was loaded. A shut-off one (see list --all), or one that\n"
	  "  finished or crashed, is made anew from its definition: a new id, fresh memory." },
	{ "pause", cmd_pause, "pause VM", "take a running VM off its CPUs", NULL },
	{ "resume", cmd_resume, "resume VM", "run a paused VM again from where it was", NULL },
	{ "destroy", cmd_destroy, "destroy VM", "hard stop: stop the VM at once and free its memory",
	  "As virsh destroy: the guest is not asked. A defined VM is then shut off (start\n"
	  "  runs it again); a created (transient) one is forgotten." },
	{ "shutdown", cmd_shutdown, "shutdown VM", "ask the guest to shut down (ACPI power button)",
	  "Presses the VM's ACPI power button. A guest that listens shuts down and powers\n"
	  "  off: the VM is then shut off (a created one is forgotten). One that does not\n"
	  "  listen is not told: this says so; destroy stops a VM without asking it." },
	{ "reboot", cmd_reboot, "reboot VM", "ask the guest to reboot (ACPI power button, then start)",
	  "Presses the power button as shutdown does; when the guest has powered off, the VM\n"
	  "  is made anew from its definition and started (ACPI has no reboot request). A\n"
	  "  guest that resets itself (0xCF9, the keyboard controller) gets on_reboot." },
	{ "reset", cmd_reset, "reset VM", "hard reset: make the VM anew from its definition, start it",
	  "The VM is destroyed and made again (a new id) from its definition, then started." },
	{ "clone", cmd_clone, "clone VM --name NEW", "copy a running VM whole into a new one, running",
	  "The VM is paused while its memory, vCPU state and device state are copied into\n"
	  "  a new VM of the same size on this host, which then goes on from that point;\n"
	  "  the original resumes. The clone is transient, with the original's definition." },
	{ "stop", cmd_stop, "stop VM", "old name of destroy (says so, then destroys)", NULL },
	{ "define", cmd_define,
	  "define NAME IMAGE [--mem SIZE] [--vcpus N] [--cpus LIST] [--ram-below-4g SIZE] [--on-EVENT ACTION] [--autostart]\n"
	  "       define NAME --kernel IMAGE [--initrd IMAGE] [--cmdline \"WORDS\"] [options as above]",
	  "save a VM definition (shut off until start)",
	  "Options as create's. Definitions live in this shell's memory: they outlast the\n"
	  "  VM's runs, not a host reboot (there is no disk). Lines as config prints them in a\n"
	  "  boot module named 'defs' are defined at every boot." },
	{ "undefine", cmd_undefine, "undefine VM", "forget a shut-off VM's definition", NULL },
	{ "config", cmd_config, "config VM", "print a VM's definition as a define line", NULL },
	{ "autostart", cmd_autostart, "autostart VM [--disable]",
	  "start a defined VM when the shell starts",
	  "The shell starts once per host boot, with the definitions of the boot module\n"
	  "  'defs' (see help define): autostart matters for those; --autostart there sets it." },
	{ "list", cmd_list, "list [--all] [--state STATE] [--json]",
	  "every VM: state, memory, vCPUs, CPUs, run time",
	  "States as virsh's: running, paused, crashed (stopped for a fault; memory kept),\n"
	  "  shut off (--all: defined, no VM now); and created (loaded, not started) and\n"
	  "  finished (every vCPU halted; memory and console kept until destroy or start).\n"
	  "--state shows the VMs in one state: created, running, paused, crashed, finished\n"
	  "  or shut-off (which implies --all). --json: one JSON document (README)." },
	{ "info", cmd_info, "info [VM] [--json]", "the host, or one VM in detail", NULL },
	{ "vcpu-list", cmd_vcpu_list, "vcpu-list [VM] [--json]", "the vCPUs of every VM, or of one",
	  NULL },
	{ "vcpu-pin", cmd_vcpu_pin, "vcpu-pin VM VCPU CPU|any",
	  "keep a vCPU on one CPU, or let the balancer place it (any)", NULL },
	{ "migrate", cmd_migrate, "migrate VM --cpu N", "move every vCPU of a VM to CPU N, pinned",
	  "Between the cores of this host; moving to another host (--host) comes later." },
	{ "console", cmd_console, "console VM [--all]", "connect to a VM's console (Ctrl-] leaves)",
	  "Shows the VM's output from now on (--all: first what its 4 KiB buffer still\n"
	  "holds) and sends what you type to its UART. Ctrl-] returns to the shell." },
	{ "top", cmd_top, "top [-b] [-n N] [--json]", "CPU use and exit rates of every VM, live",
	  "Redraws the screen every second of guest time until q or Ctrl-C (or N times).\n"
	  "-b (batch, for scripts): prints a table per second, N times (default 1).\n"
	  "--json: batch, one JSON document per sample. CPU% is run time over elapsed\n"
	  "time: a VM with several vCPUs can pass 100." },
	{ "log", cmd_log, "log [N] [--level error|warn|info]",
	  "the last N lines of the hypervisor log (default 40)",
	  "--level: only lines of that level or worse (warn: warnings and errors)." },
};

const struct verb *verb_at(unsigned int i)
{
	return i < ARRAY_SIZE(verbs) ? &verbs[i] : NULL;
}

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

	if (argc == PARSE_OPEN_QUOTE) {
		err_printf("a quote is not closed: end the quoted words with the same quote "
			   "(--cmdline \"console=ttyS0 quiet\")");
		return;
	}
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
	con_printf("Keys: Tab completes (twice: lists), Left/Right/Home/End (or Ctrl-A/E) move,\n"
		   "  Ctrl-W/K/U erase a word/to the end/to the start, Up/Down history,\n"
		   "  Ctrl-C abandons the line, Ctrl-L redraws.\n"
		   "Leaving: the shell runs for as long as Tern does; Ctrl-A x quits the emulator\n"
		   "  (QEMU, and Bochs under make run); Ctrl-A Ctrl-A sends a Ctrl-A through\n"
		   "  (under QEMU: Ctrl-A a).\n");
	return 0;
}

static int version_json(int64_t v)
{
	struct json j;
	char s[24];

	json_init(&j, json_con, NULL);
	json_obj_begin(&j, NULL);
	json_str(&j, "shell", MGMT_VERSION);
	fmt_snprintf(s, sizeof(s), "%u.%u", TERN_ABI_MAJOR, TERN_ABI_MINOR);
	json_str(&j, "shell_abi", s);
	fmt_snprintf(s, sizeof(s), "%u.%u", (unsigned int)(v >> 16), (unsigned int)(v & 0xffff));
	json_str(&j, "abi", s);
	json_bool(&j, "abi_compatible", (uint64_t)v >> 16 == TERN_ABI_MAJOR);
	json_obj_end(&j);
	return json_done(&j);
}

int cmd_version(int argc, char **argv)
{
	bool json = parse_take_flag(&argc, argv, "--json");
	int64_t v;

	if (argc > 1)
		return usage_error("version", "too many arguments ('%s')", argv[1]);
	v = hc_version();
	if (v < 0) {
		err_printf("cannot read the hypervisor's ABI version: %s", hc_strerror(v));
		return -1;
	}
	if (json)
		return version_json(v);
	con_printf("tern shell %s (built for ABI %u.%u); hypervisor ABI %u.%u\n", MGMT_VERSION,
		   TERN_ABI_MAJOR, TERN_ABI_MINOR, (unsigned int)(v >> 16),
		   (unsigned int)(v & 0xffff));
	if ((uint64_t)v >> 16 != TERN_ABI_MAJOR)
		con_printf("warning: the hypervisor's ABI major version differs from the shell's\n");
	return 0;
}
