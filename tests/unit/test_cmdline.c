/* SPDX-License-Identifier: MIT */
/* Host unit tests for kernel/cmdline.c: every option's values and every error sentence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kernel/cmdline.h"

#define MAX_MSGS 16
#define MSG_SIZE 512

#define CONSOLE_HELP "(expected com1..com4, 0xPORT or none, optionally ,BAUD)"
#define BAUD_HELP "(expected a baud rate that divides 115200, at least 50)"
#define LOGLEVEL_HELP "(expected error, warn, info, debug or 0..3)"
#define ACTION_HELP "(expected halt, poweroff or reboot)"
#define CRASH_HELP "(expected none, de, ud, gp, pf, bp, stack, panic, stall or tpr)"
#define MAXCPUS_HELP "(expected a number from 1 to 256)"
#define APIC_HELP "(expected auto, xapic or x2apic)"
#define KNOWN "(known: console loglevel after_boot panic crash maxcpus apic timeslice vm shuffle tpr_shadow feature_control mgmt reserve)"
#define VM_HELP "(expected NAME[,image=MODULE][,mem=SIZE][,cpu=N][,vcpus=N][,ram_below_4g=SIZE])"

struct capture {
	int count;
	char msgs[MAX_MSGS][MSG_SIZE];
};

static struct capture cap;
static struct boot_options opts;

static void capture_report(void *ctx, const char *msg)
{
	struct capture *c = ctx;

	assert_true(c->count < MAX_MSGS);
	assert_true(strlen(msg) < MSG_SIZE);
	strcpy(c->msgs[c->count++], msg);
}

/* Parses from defaults; checks the return agrees with the reports. */
static int parse(const char *line)
{
	int problems;

	memset(&cap, 0, sizeof(cap));
	cmdline_defaults(&opts);
	problems = cmdline_parse(line, &opts, capture_report, &cap);
	assert_int_equal(problems, cap.count);
	return problems;
}

static void assert_defaults(const struct boot_options *o)
{
	assert_int_equal(o->console, CONSOLE_AUTO);
	assert_int_equal(o->console_port, 0);
	assert_int_equal(o->console_baud, 0);
	assert_int_equal(o->loglevel, LOG_LEVEL_INFO);
	assert_int_equal(o->after_boot, ACTION_HALT);
	assert_int_equal(o->on_panic, ACTION_HALT);
	assert_int_equal(o->crash, CRASH_NONE);
	assert_int_equal(o->maxcpus, 0);
	assert_int_equal(o->apic, APIC_OPT_AUTO);
	assert_int_equal(o->timeslice_us, TIMESLICE_DEFAULT_US);
	assert_int_equal(o->nr_vms, 0);
}

/* One word, one exact sentence, and nothing changed. */
static void expect_error(const char *line, const char *msg)
{
	assert_int_equal(parse(line), 1);
	assert_string_equal(cap.msgs[0], msg);
	assert_defaults(&opts);
}

static void test_defaults(void **state)
{
	cmdline_defaults(&opts);
	assert_defaults(&opts);
}

static void test_empty_lines(void **state)
{
	static const char *const lines[] = { "", " ", "   ", "\t", " \t \n\r ", "\n" };

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(lines[i]), 0);
		assert_defaults(&opts);
	}
	assert_int_equal(parse(NULL), 0);
	assert_defaults(&opts);
}

static void expect_console(const char *line, uint16_t port, uint32_t baud)
{
	assert_int_equal(parse(line), 0);
	assert_int_equal(opts.console, CONSOLE_IO);
	assert_int_equal(opts.console_port, port);
	assert_int_equal(opts.console_baud, baud);
}

static void test_console_good(void **state)
{
	expect_console("console=com1", 0x3f8, 0);
	expect_console("console=com2", 0x2f8, 0);
	expect_console("console=com3", 0x3e8, 0);
	expect_console("console=com4", 0x2e8, 0);
	expect_console("console=0x2f8", 0x2f8, 0);
	expect_console("console=0X3F8", 0x3f8, 0);
	expect_console("console=0x1", 0x1, 0);
	expect_console("console=0xffff", 0xffff, 0);
	expect_console("console=0x00e9", 0xe9, 0);
	expect_console("console=0x00000000000003f8", 0x3f8, 0);
	expect_console("console=com1,9600", 0x3f8, 9600);
	expect_console("console=0x2f8,115200", 0x2f8, 115200);
	expect_console("console=com4,50", 0x2e8, 50);
	expect_console("console=com3,57600", 0x3e8, 57600);
	/* A later console= replaces all of an earlier one, baud included. */
	expect_console("console=com2,9600 console=com1", 0x3f8, 0);

	assert_int_equal(parse("console=none"), 0);
	assert_int_equal(opts.console, CONSOLE_NONE);
}

static void test_console_bad(void **state)
{
	static const char *const bad_devices[] = {
		"com9", "com0", "com", "COM1", "com1x", "0x", "0x0", "0x10000", "0x3g8",
		"3f8", "0x3f8x", "-1", "ttyS0", "none,", "nonex", "0x0000000010000",
	};
	static const char *const bad_bauds[] = {
		"com1,", "com1,9601", "com1,0", "com1,115201", "com1,25", "com1,abc",
		"0x2f8,-9600", "com1,9600,8n1", "com2,4294967296", "com1, 9600",
	};
	char line[64], msg[MSG_SIZE];

	for (size_t i = 0; i < sizeof(bad_devices) / sizeof(bad_devices[0]); i++) {
		snprintf(line, sizeof(line), "console=%s", bad_devices[i]);
		snprintf(msg, sizeof(msg), "cmdline: bad value '%s' for console= " CONSOLE_HELP,
			 bad_devices[i]);
		if (strcmp(bad_devices[i], "none,") == 0)
			snprintf(msg, sizeof(msg),
				 "cmdline: bad value 'none,' for console= (expected none without a baud rate)");
		expect_error(line, msg);
	}
	for (size_t i = 0; i < sizeof(bad_bauds) / sizeof(bad_bauds[0]); i++) {
		/* "com1, 9600" is two words: the second one is unknown. */
		if (strchr(bad_bauds[i], ' '))
			continue;
		snprintf(line, sizeof(line), "console=%s", bad_bauds[i]);
		snprintf(msg, sizeof(msg), "cmdline: bad value '%s' for console= " BAUD_HELP,
			 bad_bauds[i]);
		expect_error(line, msg);
	}
	expect_error("console=com9", "cmdline: bad value 'com9' for console= " CONSOLE_HELP);
	expect_error("console=none,9600",
		     "cmdline: bad value 'none,9600' for console= (expected none without a baud rate)");
	/* A bad port is reported as such even when a baud rate follows. */
	expect_error("console=com9,9600",
		     "cmdline: bad value 'com9,9600' for console= " CONSOLE_HELP);

	/* The earlier good value survives a later bad one. */
	assert_int_equal(parse("console=com2,9600 console=com1,9601"), 1);
	assert_int_equal(opts.console, CONSOLE_IO);
	assert_int_equal(opts.console_port, 0x2f8);
	assert_int_equal(opts.console_baud, 9600);
}

static void test_loglevel(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[32];

	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "loglevel=%s", names[i]);
		assert_int_equal(parse(line), 0);
		assert_int_equal(opts.loglevel, i);
		snprintf(line, sizeof(line), "loglevel=%d", i);
		assert_int_equal(parse(line), 0);
		assert_int_equal(opts.loglevel, i);
	}
	expect_error("loglevel=4", "cmdline: bad value '4' for loglevel= " LOGLEVEL_HELP);
	expect_error("loglevel=-1", "cmdline: bad value '-1' for loglevel= " LOGLEVEL_HELP);
	expect_error("loglevel=verbose",
		     "cmdline: bad value 'verbose' for loglevel= " LOGLEVEL_HELP);
	expect_error("loglevel=DEBUG", "cmdline: bad value 'DEBUG' for loglevel= " LOGLEVEL_HELP);
	expect_error("loglevel=1x", "cmdline: bad value '1x' for loglevel= " LOGLEVEL_HELP);
	expect_error("loglevel=99999999999",
		     "cmdline: bad value '99999999999' for loglevel= " LOGLEVEL_HELP);
}

static void test_actions(void **state)
{
	static const char *const names[] = { "halt", "poweroff", "reboot" };
	char line[32];

	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "after_boot=%s", names[i]);
		assert_int_equal(parse(line), 0);
		assert_int_equal(opts.after_boot, i);
		assert_int_equal(opts.on_panic, ACTION_HALT);
		snprintf(line, sizeof(line), "panic=%s", names[i]);
		assert_int_equal(parse(line), 0);
		assert_int_equal(opts.on_panic, i);
		assert_int_equal(opts.after_boot, ACTION_HALT);
	}
	expect_error("after_boot=shutdown",
		     "cmdline: bad value 'shutdown' for after_boot= " ACTION_HELP);
	expect_error("after_boot=1", "cmdline: bad value '1' for after_boot= " ACTION_HELP);
	expect_error("panic=restart", "cmdline: bad value 'restart' for panic= " ACTION_HELP);
	expect_error("panic=halt,", "cmdline: bad value 'halt,' for panic= " ACTION_HELP);
}

static void test_crash(void **state)
{
	static const char *const names[] = { "none", "de", "ud", "gp", "pf", "bp", "stack", "panic" };
	static const enum crash_kind kinds[] = {
		CRASH_NONE, CRASH_DE, CRASH_UD, CRASH_GP, CRASH_PF, CRASH_BP, CRASH_STACK, CRASH_PANIC,
	};
	char line[32];

	for (int i = 0; i < 8; i++) {
		snprintf(line, sizeof(line), "crash=%s", names[i]);
		assert_int_equal(parse(line), 0);
		assert_int_equal(opts.crash, kinds[i]);
	}
	expect_error("crash=df", "cmdline: bad value 'df' for crash= " CRASH_HELP);
	expect_error("crash=GP", "cmdline: bad value 'GP' for crash= " CRASH_HELP);
}

static void test_maxcpus(void **state)
{
	static const char *const bad[] = { "0", "257", "1000", "4294967296", "-1", "+4", "abc",
					   "1.5", "4k", "0x10" };
	char line[32], msg[MSG_SIZE];

	assert_int_equal(parse("maxcpus=1"), 0);
	assert_int_equal(opts.maxcpus, 1);
	assert_int_equal(parse("maxcpus=256"), 0);
	assert_int_equal(opts.maxcpus, 256);
	assert_int_equal(parse("maxcpus=064"), 0);
	assert_int_equal(opts.maxcpus, 64);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "maxcpus=%s", bad[i]);
		snprintf(msg, sizeof(msg), "cmdline: bad value '%s' for maxcpus= " MAXCPUS_HELP,
			 bad[i]);
		expect_error(line, msg);
	}
}

static void test_feature_control(void **state)
{
	assert_int_equal(opts.fake_feature_control, 0);
	assert_int_equal(parse("feature_control=0x1"), 0);
	assert_int_equal(opts.fake_feature_control, 1);
	assert_int_equal(parse("feature_control=0x5"), 0);
	assert_int_equal(opts.fake_feature_control, 5);
	expect_error("feature_control=0x4", "cmdline: bad value '0x4' for feature_control= "
		     "(expected a locked value (bit 0 set): only those can be faked)");
	expect_error("feature_control=1", "cmdline: bad value '1' for feature_control= "
		     "(expected 0xVALUE with bit 0 set (test option: the IA32_FEATURE_CONTROL value Tern sees))");
	expect_error("feature_control=0x10000", "cmdline: bad value '0x10000' for feature_control= "
		     "(expected 0xVALUE with bit 0 set (test option: the IA32_FEATURE_CONTROL value Tern sees))");
}

static void test_tpr_shadow(void **state)
{
	assert_int_equal(parse(""), 0);
	assert_false(opts.no_tpr_shadow);
	assert_int_equal(parse("tpr_shadow=off"), 0);
	assert_true(opts.no_tpr_shadow);
	assert_int_equal(parse("tpr_shadow=on"), 0);
	assert_false(opts.no_tpr_shadow);
	expect_error("tpr_shadow=no", "cmdline: bad value 'no' for tpr_shadow= (expected on or off (test option: off uses CR8 exits))");
}

static void test_timeslice(void **state)
{
	assert_int_equal(parse("timeslice=5"), 0);
	assert_int_equal(opts.timeslice_us, 5000);
	expect_error("timeslice=0", "cmdline: bad value '0' for timeslice= (expected milliseconds from 1 to 1000)");
	expect_error("timeslice=1001", "cmdline: bad value '1001' for timeslice= (expected milliseconds from 1 to 1000)");
}

static void test_vm(void **state)
{
	assert_int_equal(parse("vm=hello vm=big,image=memtest,mem=64M,cpu=1 vm=k,mem=2048K"), 0);
	assert_int_equal(opts.nr_vms, 3);
	assert_string_equal(opts.vms[0].name, "hello");
	assert_string_equal(opts.vms[0].image, "hello");
	assert_int_equal(opts.vms[0].mem, 16u << 20);
	assert_int_equal(opts.vms[0].cpu, -1);
	assert_string_equal(opts.vms[1].image, "memtest");
	assert_int_equal(opts.vms[1].mem, 64u << 20);
	assert_int_equal(opts.vms[1].cpu, 1);
	assert_int_equal(opts.vms[2].mem, 2u << 20);
	assert_int_equal(opts.vms[0].vcpus, 1);
	assert_int_equal(opts.vms[0].ram_below_4g, 0);
	assert_int_equal(parse("vm=s,image=smp,vcpus=4"), 0);
	assert_int_equal(opts.vms[0].vcpus, 4);
	assert_int_equal(parse("vm=m,mem=8M,ram_below_4g=4M"), 0);
	assert_int_equal(opts.vms[0].ram_below_4g, 4u << 20);
	assert_int_equal(parse("vm=m,ram_below_4g=3G"), 0);
	assert_int_equal(opts.vms[0].ram_below_4g, 3ull << 30);
	expect_error("vm=m,ram_below_4g=512K", "cmdline: bad value 'm,ram_below_4g=512K' for vm= "
		     "(expected ram_below_4g=SIZE with SIZE a multiple of 4K from 1M to 3G, e.g. ram_below_4g=4M)");
	expect_error("vm=m,ram_below_4g=3145732K", "cmdline: bad value 'm,ram_below_4g=3145732K' for vm= "
		     "(expected ram_below_4g=SIZE with SIZE a multiple of 4K from 1M to 3G, e.g. ram_below_4g=4M)");
	expect_error("vm=s,vcpus=9", "cmdline: bad value 's,vcpus=9' for vm= (expected vcpus=N with N from 1 to 8)");
	expect_error("vm=s,vcpus=0", "cmdline: bad value 's,vcpus=0' for vm= (expected vcpus=N with N from 1 to 8)");

	expect_error("vm=", "cmdline: missing value for vm= in 'vm=' " VM_HELP);
	expect_error("vm=bad/name", "cmdline: bad value 'bad/name' for vm= " VM_HELP);
	expect_error("vm=a,mem=1M",
		     "cmdline: bad value 'a,mem=1M' for vm= (expected mem=SIZE with SIZE a multiple of 4K from 2M to 64G, e.g. mem=16M)");
	expect_error("vm=a,mem=5000",
		     "cmdline: bad value 'a,mem=5000' for vm= (expected mem=SIZE with SIZE a multiple of 4K from 2M to 64G, e.g. mem=16M)");
	expect_error("vm=a,cpu=300", "cmdline: bad value 'a,cpu=300' for vm= (expected cpu=N with N a CPU number from 0 to 255)");
	expect_error("vm=a,colour=red", "cmdline: bad value 'a,colour=red' for vm= " VM_HELP);
	assert_int_equal(parse("vm=a vm=a"), 1);
	assert_string_equal(cap.msgs[0], "cmdline: bad value 'a' for vm= (expected a VM name not used before)");
	assert_int_equal(opts.nr_vms, 1);
}

static void test_mgmt(void **state)
{
	assert_int_equal(parse("vm=a"), 0);
	assert_false(opts.has_mgmt);
	assert_int_equal(opts.reserve, 8u << 20);
	assert_int_equal(parse("mgmt=shell,mem=8M reserve=16M"), 0);
	assert_true(opts.has_mgmt);
	assert_string_equal(opts.mgmt.image, "shell");
	assert_int_equal(opts.mgmt.mem, 8u << 20);
	assert_int_equal(opts.mgmt.cpu, -1);
	assert_int_equal(opts.reserve, 16u << 20);
	assert_int_equal(opts.nr_vms, 0);
	expect_error("mgmt=shell,vcpus=2",
		     "cmdline: bad value 'shell,vcpus=2' for mgmt= (expected IMAGE[,mem=SIZE][,cpu=N]: one vCPU, named after its image)");
	expect_error("mgmt=shell,image=other",
		     "cmdline: bad value 'shell,image=other' for mgmt= (expected IMAGE[,mem=SIZE][,cpu=N]: one vCPU, named after its image)");
	expect_error("reserve=lots",
		     "cmdline: bad value 'lots' for reserve= (expected SIZE of free memory kept from VM creation, e.g. 8M)");
}

static void test_apic(void **state)
{
	assert_int_equal(parse("apic=xapic"), 0);
	assert_int_equal(opts.apic, APIC_OPT_XAPIC);
	assert_int_equal(parse("apic=x2apic"), 0);
	assert_int_equal(opts.apic, APIC_OPT_X2APIC);
	assert_int_equal(parse("apic=x2apic apic=auto"), 0);
	assert_int_equal(opts.apic, APIC_OPT_AUTO);
	expect_error("apic=x3apic", "cmdline: bad value 'x3apic' for apic= " APIC_HELP);
	expect_error("apic=on", "cmdline: bad value 'on' for apic= " APIC_HELP);
}

static void test_missing_values(void **state)
{
	expect_error("console", "cmdline: missing value for console= in 'console' " CONSOLE_HELP);
	expect_error("console=", "cmdline: missing value for console= in 'console=' " CONSOLE_HELP);
	expect_error("loglevel", "cmdline: missing value for loglevel= in 'loglevel' " LOGLEVEL_HELP);
	expect_error("after_boot=",
		     "cmdline: missing value for after_boot= in 'after_boot=' " ACTION_HELP);
	expect_error("panic", "cmdline: missing value for panic= in 'panic' " ACTION_HELP);
	expect_error("crash=", "cmdline: missing value for crash= in 'crash=' " CRASH_HELP);
	expect_error("maxcpus", "cmdline: missing value for maxcpus= in 'maxcpus' " MAXCPUS_HELP);
	expect_error("apic=", "cmdline: missing value for apic= in 'apic=' " APIC_HELP);
}

static void test_unknown_options(void **state)
{
	expect_error("foo=bar", "cmdline: unknown option 'foo=bar' " KNOWN);
	expect_error("foo", "cmdline: unknown option 'foo' " KNOWN);
	expect_error("=com1", "cmdline: unknown option '=com1' " KNOWN);
	expect_error("=", "cmdline: unknown option '=' " KNOWN);
	expect_error("Console=com1", "cmdline: unknown option 'Console=com1' " KNOWN);
	expect_error("consol=com1", "cmdline: unknown option 'consol=com1' " KNOWN);
	expect_error("consolex=com1", "cmdline: unknown option 'consolex=com1' " KNOWN);
}

static void test_several_errors(void **state)
{
	assert_int_equal(parse("loglevel=debug foo console=com9 maxcpus=4 apic=bad panic=reboot "
			       "maxcpus=0 crash=ud"),
			 4);
	assert_string_equal(cap.msgs[0], "cmdline: unknown option 'foo' " KNOWN);
	assert_string_equal(cap.msgs[1], "cmdline: bad value 'com9' for console= " CONSOLE_HELP);
	assert_string_equal(cap.msgs[2], "cmdline: bad value 'bad' for apic= " APIC_HELP);
	assert_string_equal(cap.msgs[3], "cmdline: bad value '0' for maxcpus= " MAXCPUS_HELP);
	assert_int_equal(opts.loglevel, LOG_LEVEL_DEBUG);
	assert_int_equal(opts.console, CONSOLE_AUTO);
	assert_int_equal(opts.maxcpus, 4);
	assert_int_equal(opts.apic, APIC_OPT_AUTO);
	assert_int_equal(opts.on_panic, ACTION_REBOOT);
	assert_int_equal(opts.crash, CRASH_UD);
}

static void test_all_options(void **state)
{
	assert_int_equal(parse("console=0x2f8,38400 loglevel=warn after_boot=poweroff "
			       "panic=reboot crash=stack maxcpus=8 apic=x2apic"),
			 0);
	assert_int_equal(opts.console, CONSOLE_IO);
	assert_int_equal(opts.console_port, 0x2f8);
	assert_int_equal(opts.console_baud, 38400);
	assert_int_equal(opts.loglevel, LOG_LEVEL_WARN);
	assert_int_equal(opts.after_boot, ACTION_POWEROFF);
	assert_int_equal(opts.on_panic, ACTION_REBOOT);
	assert_int_equal(opts.crash, CRASH_STACK);
	assert_int_equal(opts.maxcpus, 8);
	assert_int_equal(opts.apic, APIC_OPT_X2APIC);
}

static void test_whitespace(void **state)
{
	assert_int_equal(parse("   loglevel=warn\t\tmaxcpus=2   \n"), 0);
	assert_int_equal(opts.loglevel, LOG_LEVEL_WARN);
	assert_int_equal(opts.maxcpus, 2);
	assert_int_equal(parse("\tapic=xapic"), 0);
	assert_int_equal(opts.apic, APIC_OPT_XAPIC);
	assert_int_equal(parse("maxcpus=3\r\n"), 0);
	assert_int_equal(opts.maxcpus, 3);
	/* A space after '=' ends the word: the value is missing. */
	assert_int_equal(parse("loglevel= debug"), 2);
	assert_string_equal(cap.msgs[0],
			    "cmdline: missing value for loglevel= in 'loglevel=' " LOGLEVEL_HELP);
	assert_string_equal(cap.msgs[1], "cmdline: unknown option 'debug' " KNOWN);
	assert_int_equal(opts.loglevel, LOG_LEVEL_INFO);
}

static void test_overlong_words(void **state)
{
	char line[256], msg[MSG_SIZE];

	/* 200 characters: reported, skipped, and the next word still parsed. */
	memset(line, 'x', 200);
	strcpy(line + 200, " loglevel=debug");
	assert_int_equal(parse(line), 1);
	assert_string_equal(cap.msgs[0],
			    "cmdline: word 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is too long "
			    "(200 characters, at most 127), skipped");
	assert_int_equal(opts.loglevel, LOG_LEVEL_DEBUG);

	/* An overlong known option is skipped too: its value is not applied. */
	strcpy(line, "console=com2,");
	memset(line + 13, '9', 150);
	line[163] = '\0';
	assert_int_equal(parse(line), 1);
	assert_string_equal(cap.msgs[0],
			    "cmdline: word 'console=com2,9999999999999999999...' is too long "
			    "(163 characters, at most 127), skipped");
	assert_defaults(&opts);

	/* 128 is one too many; 127 is parsed, and quoted whole in the message. */
	memset(line, 'y', 128);
	line[128] = '\0';
	assert_int_equal(parse(line), 1);
	assert_non_null(strstr(cap.msgs[0], "(128 characters, at most 127)"));
	line[127] = '\0';
	snprintf(msg, sizeof(msg), "cmdline: unknown option '%s' " KNOWN, line);
	expect_error(line, msg);

	strcpy(line, "console=");
	memset(line + 8, 'z', 119);
	line[127] = '\0';
	snprintf(msg, sizeof(msg), "cmdline: bad value '%s' for console= " CONSOLE_HELP, line + 8);
	expect_error(line, msg);
}

static void test_no_callback(void **state)
{
	cmdline_defaults(&opts);
	assert_int_equal(cmdline_parse("foo maxcpus=0 maxcpus=2", &opts, NULL, NULL), 2);
	assert_int_equal(opts.maxcpus, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_console_good),
		cmocka_unit_test(test_console_bad),
		cmocka_unit_test(test_loglevel),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_maxcpus),
		cmocka_unit_test(test_apic),
		cmocka_unit_test(test_timeslice),
		cmocka_unit_test(test_tpr_shadow),
		cmocka_unit_test(test_feature_control),
		cmocka_unit_test(test_vm),
		cmocka_unit_test(test_mgmt),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_overlong_words),
		cmocka_unit_test(test_no_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
