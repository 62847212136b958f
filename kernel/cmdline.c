/* SPDX-License-Identifier: MIT */
/* Kernel command line parser: one table of options, each with a value parser and help text. */
#include "kernel/cmdline.h"

#include <stdarg.h>

#include "kernel/fmt.h"
#include "kernel/string.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Longer words are reported and skipped: no option value needs more. */
#define CMDLINE_WORD_MAX 127
/* How much of an overlong word to quote back to the operator. */
#define CMDLINE_QUOTE_MAX 32
/* Room for the unknown-option sentence with a full-length word. */
#define CMDLINE_MSG_MAX 384

/* 16550 divisor latch: baud = 1.8432 MHz / 16 / divisor. */
#define UART_BASE_BAUD 115200u
#define UART_MIN_BAUD 50u

#define CMDLINE_MAXCPUS_MAX 256u

struct cmdline_option {
	const char *name;
	/*
	 * Updates opts only when the whole value is valid, so a bad value leaves
	 * the option as it was. May point *why at a more specific explanation.
	 */
	bool (*parse)(const char *val, struct boot_options *opts, const char **why);
	const char *help; /* the accepted values, for error messages */
};

struct com_port {
	const char *name;
	uint16_t port;
};

/* Legacy PC COM port I/O bases. */
static const struct com_port com_ports[] = {
	{ "com1", 0x3f8 },
	{ "com2", 0x2f8 },
	{ "com3", 0x3e8 },
	{ "com4", 0x2e8 },
};

/* Indexed by LOG_LEVEL_*. */
static const char *const loglevel_names[] = { "error", "warn", "info", "debug" };
/* Indexed by enum boot_action. */
static const char *const action_names[] = { "halt", "poweroff", "reboot" };
/* Indexed by enum crash_kind. */
static const char *const crash_names[] = {
	"none", "de", "ud", "gp", "pf", "bp", "stack", "panic", "stall", "tpr",
};
/* Indexed by enum apic_mode_opt. */
static const char *const apic_names[] = { "auto", "xapic", "x2apic" };

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int match_name(const char *s, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Plain digits only (no sign, no spaces); fails rather than wraps above max. */
static bool parse_uint(const char *s, unsigned int base, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		int d = hex_digit(*s);

		if (d < 0 || (unsigned int)d >= base)
			return false;
		v = v * base + (unsigned int)d;
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	uint32_t v;

	for (size_t i = 0; i < ARRAY_SIZE(com_ports); i++) {
		if (strcmp(s, com_ports[i].name) == 0) {
			*port = com_ports[i].port;
			return true;
		}
	}
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	if (!parse_uint(s + 2, 16, 0xffff, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Only rates the divisor latch can produce exactly. */
static bool parse_baud(const char *s, uint32_t *baud)
{
	uint32_t v;

	if (!parse_uint(s, 10, UART_BASE_BAUD, &v) || v < UART_MIN_BAUD)
		return false;
	if (UART_BASE_BAUD % v != 0)
		return false;
	*baud = v;
	return true;
}

static bool parse_console(const char *val, struct boot_options *opts, const char **why)
{
	const char *comma = strchr(val, ',');
	size_t len = comma ? (size_t)(comma - val) : strlen(val);
	char dev[CMDLINE_WORD_MAX + 1]; /* val is part of a word, so it fits */
	uint16_t port;
	uint32_t baud = 0;

	if (len >= sizeof(dev))
		return false; /* not reached for a word from cmdline_parse */
	memcpy(dev, val, len);
	dev[len] = '\0';
	if (strcmp(dev, "none") == 0) {
		if (comma) {
			*why = "none without a baud rate";
			return false;
		}
		opts->console = CONSOLE_NONE;
		return true;
	}
	if (!parse_port(dev, &port))
		return false;
	if (comma && !parse_baud(comma + 1, &baud)) {
		*why = "a baud rate that divides 115200, at least 50";
		return false;
	}
	opts->console = CONSOLE_IO;
	opts->console_port = port;
	opts->console_baud = baud;
	return true;
}

static bool parse_loglevel(const char *val, struct boot_options *opts, const char **why)
{
	int level = match_name(val, loglevel_names, ARRAY_SIZE(loglevel_names));
	uint32_t n;

	if (level < 0) {
		if (!parse_uint(val, 10, LOG_LEVEL_DEBUG, &n))
			return false;
		level = (int)n;
	}
	opts->loglevel = level;
	return true;
}

static bool parse_action(const char *val, enum boot_action *action)
{
	int i = match_name(val, action_names, ARRAY_SIZE(action_names));

	if (i < 0)
		return false;
	*action = (enum boot_action)i;
	return true;
}

static bool parse_after_boot(const char *val, struct boot_options *opts, const char **why)
{
	return parse_action(val, &opts->after_boot);
}

static bool parse_panic(const char *val, struct boot_options *opts, const char **why)
{
	return parse_action(val, &opts->on_panic);
}

static bool parse_crash(const char *val, struct boot_options *opts, const char **why)
{
	int i = match_name(val, crash_names, ARRAY_SIZE(crash_names));

	if (i < 0)
		return false;
	opts->crash = (enum crash_kind)i;
	return true;
}

static bool parse_maxcpus(const char *val, struct boot_options *opts, const char **why)
{
	uint32_t n;

	if (!parse_uint(val, 10, CMDLINE_MAXCPUS_MAX, &n) || n == 0)
		return false;
	opts->maxcpus = n;
	return true;
}

static bool parse_apic(const char *val, struct boot_options *opts, const char **why)
{
	int i = match_name(val, apic_names, ARRAY_SIZE(apic_names));

	if (i < 0)
		return false;
	opts->apic = (enum apic_mode_opt)i;
	return true;
}

static bool parse_shuffle(const char *val, struct boot_options *opts, const char **why)
{
	uint32_t ms;

	if (!parse_uint(val, 10, 10000, &ms) || ms == 0)
		return false;
	opts->shuffle_ms = ms;
	return true;
}

static bool parse_tpr_shadow(const char *val, struct boot_options *opts, const char **why)
{
	if (strcmp(val, "on") && strcmp(val, "off"))
		return false;
	opts->no_tpr_shadow = !strcmp(val, "off");
	return true;
}

/*
 * Test option: make Tern see this IA32_FEATURE_CONTROL value instead of the
 * MSR's, to test what firmware that locks VMX off gets (SDM vol. 3C 23.7).
 * Only locked values (bit 0 set): an unlocked one would have Tern write the
 * real MSR on the strength of a value it never held.
 */
static bool parse_feature_control(const char *val, struct boot_options *opts, const char **why)
{
	uint32_t v;

	if (strncmp(val, "0x", 2) || !parse_uint(val + 2, 16, 0xffff, &v))
		return false;
	if (!(v & 1u)) {
		*why = "a locked value (bit 0 set): only those can be faked";
		return false;
	}
	opts->fake_feature_control = v;
	return true;
}

static bool parse_timeslice(const char *val, struct boot_options *opts, const char **why)
{
	uint32_t ms;

	if (!parse_uint(val, 10, 1000, &ms) || ms == 0)
		return false;
	opts->timeslice_us = ms * 1000;
	return true;
}

/* "16M", "512K", "1G" or a byte count; 4 KiB multiples only. */
static bool parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0, mult = 1;

	if (!len)
		return false;
	if (s[len - 1] == 'K' || s[len - 1] == 'M' || s[len - 1] == 'G') {
		mult = s[len - 1] == 'K' ? 1ull << 10 : s[len - 1] == 'M' ? 1ull << 20 : 1ull << 30;
		len--;
	}
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (1ull << 40))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v * mult;
	return (*out & 0xfff) == 0;
}

static bool valid_vm_name(const char *s, size_t len)
{
	if (!len || len >= VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool vm_field(struct boot_vm_spec *vm, const char *f, size_t len, const char **why)
{
	const char *eq = memchr(f, '=', len);
	size_t klen = eq ? (size_t)(eq - f) : len, vlen = eq ? len - klen - 1 : 0;
	uint32_t cpu;
	char num[8];

	if (eq && klen == 5 && !strncmp(f, "image", 5) && valid_vm_name(eq + 1, vlen)) {
		memcpy(vm->image, eq + 1, vlen);
		vm->image[vlen] = '\0';
		return true;
	}
	if (eq && klen == 3 && !strncmp(f, "mem", 3)) {
		*why = "mem=SIZE with SIZE a multiple of 4K from 2M to 64G, e.g. mem=16M";
		return parse_size(eq + 1, vlen, &vm->mem) && vm->mem >= VM_MEM_MIN &&
		       vm->mem <= VM_MEM_MAX;
	}
	if (eq && klen == 12 && !strncmp(f, "ram_below_4g", 12)) {
		*why = "ram_below_4g=SIZE with SIZE a multiple of 4K from 1M to 3G, e.g. ram_below_4g=4M";
		return parse_size(eq + 1, vlen, &vm->ram_below_4g) && vm->ram_below_4g >= (1ull << 20) &&
		       vm->ram_below_4g <= (3ull << 30);
	}
	if (eq && klen == 5 && !strncmp(f, "vcpus", 5) && vlen && vlen < sizeof(num)) {
		memcpy(num, eq + 1, vlen);
		num[vlen] = '\0';
		*why = "vcpus=N with N from 1 to 8";
		if (!parse_uint(num, 10, VM_MAX_VCPUS_OPT, &cpu) || !cpu)
			return false;
		vm->vcpus = cpu;
		return true;
	}
	if (eq && klen == 3 && !strncmp(f, "cpu", 3) && vlen && vlen < sizeof(num)) {
		memcpy(num, eq + 1, vlen);
		num[vlen] = '\0';
		*why = "cpu=N with N a CPU number from 0 to 255";
		if (!parse_uint(num, 10, 255, &cpu))
			return false;
		vm->cpu = (int32_t)cpu;
		return true;
	}
	return false;
}

/*
 * NAME[,image=MODULE][,mem=SIZE][,cpu=N][,vcpus=N][,ram_below_4g=SIZE] into
 * vm (defaults: image NAME, 16M, 1 vCPU, RAM up to 3 GiB below the hole).
 */
static bool parse_vm_spec(const char *val, struct boot_vm_spec *vm, const char **why)
{
	const char *p = val, *comma = strchr(p, ',');
	size_t nlen = comma ? (size_t)(comma - p) : strlen(p);

	*vm = (struct boot_vm_spec){ .mem = 16ull << 20, .cpu = -1, .vcpus = 1 };
	if (!valid_vm_name(p, nlen))
		return false;
	memcpy(vm->name, p, nlen);
	memcpy(vm->image, p, nlen);
	while (comma) {
		p = comma + 1;
		comma = strchr(p, ',');
		if (!vm_field(vm, p, comma ? (size_t)(comma - p) : strlen(p), why))
			return false;
	}
	return true;
}

static bool parse_vm(const char *val, struct boot_options *opts, const char **why)
{
	struct boot_vm_spec vm;

	if (!parse_vm_spec(val, &vm, why))
		return false;
	for (uint32_t i = 0; i < opts->nr_vms; i++)
		if (!strcmp(opts->vms[i].name, vm.name)) {
			*why = "a VM name not used before";
			return false;
		}
	if (opts->nr_vms >= BOOT_MAX_VMS) {
		*why = "at most 16 vm= options";
		return false;
	}
	opts->vms[opts->nr_vms++] = vm;
	return true;
}

/* mgmt=IMAGE[,mem=SIZE][,cpu=N]: the VM is named after its image; one vCPU. */
static bool parse_mgmt(const char *val, struct boot_options *opts, const char **why)
{
	struct boot_vm_spec vm;

	if (!parse_vm_spec(val, &vm, why))
		return false;
	if (vm.vcpus != 1 || strcmp(vm.image, vm.name)) {
		*why = "IMAGE[,mem=SIZE][,cpu=N]: one vCPU, named after its image";
		return false;
	}
	opts->mgmt = vm;
	opts->has_mgmt = true;
	return true;
}

static bool parse_reserve(const char *val, struct boot_options *opts, const char **why)
{
	return parse_size(val, strlen(val), &opts->reserve) && opts->reserve <= VM_MEM_MAX;
}

static const struct cmdline_option cmdline_options[] = {
	{ "console", parse_console, "com1..com4, 0xPORT or none, optionally ,BAUD" },
	{ "loglevel", parse_loglevel, "error, warn, info, debug or 0..3" },
	{ "after_boot", parse_after_boot, "halt, poweroff or reboot" },
	{ "panic", parse_panic, "halt, poweroff or reboot" },
	{ "crash", parse_crash, "none, de, ud, gp, pf, bp, stack, panic, stall or tpr" },
	{ "maxcpus", parse_maxcpus, "a number from 1 to 256" },
	{ "apic", parse_apic, "auto, xapic or x2apic" },
	{ "timeslice", parse_timeslice, "milliseconds from 1 to 1000" },
	{ "vm", parse_vm, "NAME[,image=MODULE][,mem=SIZE][,cpu=N][,vcpus=N][,ram_below_4g=SIZE]" },
	{ "shuffle", parse_shuffle, "milliseconds from 1 to 10000 (test option)" },
	{ "tpr_shadow", parse_tpr_shadow, "on or off (test option: off uses CR8 exits)" },
	{ "feature_control", parse_feature_control,
	  "0xVALUE with bit 0 set (test option: the IA32_FEATURE_CONTROL value Tern sees)" },
	{ "mgmt", parse_mgmt, "IMAGE[,mem=SIZE][,cpu=N]: the management guest" },
	{ "reserve", parse_reserve, "SIZE of free memory kept from VM creation, e.g. 8M" },
};

static const struct cmdline_option *find_option(const char *key, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmdline_options); i++) {
		const char *name = cmdline_options[i].name;

		if (strlen(name) == len && strncmp(key, name, len) == 0)
			return &cmdline_options[i];
	}
	return NULL;
}

__attribute__((format(printf, 3, 4)))
static void report_fmt(cmdline_report_fn report, void *ctx, const char *fmt, ...)
{
	char msg[CMDLINE_MSG_MAX];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(ctx, msg);
}

/* The option names, space-separated, straight from the table. */
static void known_names(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(cmdline_options) && len < size; i++)
		len += (size_t)fmt_snprintf(buf + len, size - len, "%s%s", i ? " " : "",
					    cmdline_options[i].name);
}

/* Handles one NUL-terminated word; returns the number of problems (0 or 1). */
static int parse_word(const char *word, struct boot_options *opts, cmdline_report_fn report,
		      void *ctx)
{
	const char *eq = strchr(word, '=');
	const struct cmdline_option *opt;
	const char *why;

	opt = find_option(word, eq ? (size_t)(eq - word) : strlen(word));
	if (!opt) {
		char known[128];

		known_names(known, sizeof(known));
		report_fmt(report, ctx, "cmdline: unknown option '%s' (known: %s)", word, known);
		return 1;
	}
	if (!eq || eq[1] == '\0') {
		report_fmt(report, ctx, "cmdline: missing value for %s= in '%s' (expected %s)",
			   opt->name, word, opt->help);
		return 1;
	}
	why = opt->help;
	if (!opt->parse(eq + 1, opts, &why)) {
		report_fmt(report, ctx, "cmdline: bad value '%s' for %s= (expected %s)", eq + 1,
			   opt->name, why);
		return 1;
	}
	return 0;
}

void cmdline_defaults(struct boot_options *opts)
{
	*opts = (struct boot_options){
		.console = CONSOLE_AUTO,
		.console_port = 0,
		.console_baud = 0,
		.loglevel = LOG_LEVEL_INFO,
		.after_boot = ACTION_HALT,
		.on_panic = ACTION_HALT,
		.crash = CRASH_NONE,
		.maxcpus = 0,
		.apic = APIC_OPT_AUTO,
		.timeslice_us = TIMESLICE_DEFAULT_US,
		.reserve = RESERVE_DEFAULT,
	};
}

int cmdline_parse(const char *cmdline, struct boot_options *opts, cmdline_report_fn report,
		  void *ctx)
{
	char word[CMDLINE_WORD_MAX + 1];
	const char *p = cmdline;
	int problems = 0;
	size_t len;

	if (!p)
		return 0;
	for (;;) {
		while (is_separator(*p))
			p++;
		if (!*p)
			break;
		for (len = 0; p[len] && !is_separator(p[len]); len++)
			;
		if (len > CMDLINE_WORD_MAX) {
			report_fmt(report, ctx,
				   "cmdline: word '%.*s...' is too long (%zu characters, at most %d), skipped",
				   CMDLINE_QUOTE_MAX, p, len, CMDLINE_WORD_MAX);
			problems++;
		} else {
			memcpy(word, p, len);
			word[len] = '\0';
			problems += parse_word(word, opts, report, ctx);
		}
		p += len;
	}
	return problems;
}
