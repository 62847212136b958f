/* SPDX-License-Identifier: MIT */
/* Host unit tests for tools/mgmt/defs.c: checking options, config lines, the table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/mgmt/defs.h"
#include "tools/mgmt/parse.h"

static const struct def_limits host2 = { .nr_cpus = 2, .max_vcpus = 8 };

static int set(struct vm_def *d, const char *mem, const char *vcpus, const char *cpus, char *err)
{
	memset(d, 0, sizeof(*d));
	err[0] = 0;
	return def_set_opts(d, mem, vcpus, cpus, &host2, err, 200);
}

static void test_defaults(void **state)
{
	struct vm_def d;
	char err[200];

	assert_int_equal(set(&d, NULL, NULL, NULL, err), 0);
	assert_true(d.mem_size == 16ull << 20);
	assert_int_equal(d.nr_vcpus, 1);
	assert_string_equal(d.cpus, "");
}

static void test_options_as_create_checks_them(void **state)
{
	struct vm_def d;
	char err[200];

	assert_int_equal(set(&d, "8M", "2", "1,0", err), 0);
	assert_true(d.mem_size == 8ull << 20);
	assert_int_equal(d.nr_vcpus, 2);
	assert_string_equal(d.cpus, "1,0");
	assert_int_equal(set(&d, "1", NULL, NULL, err), -1);
	assert_string_equal(err, "bad size '1': give a unit, K, M or G (e.g. 16M); "
				 "a bare number is not taken as bytes");
	assert_int_equal(set(&d, "12x", NULL, NULL, err), -1);
	assert_string_equal(err, "bad size '12x': use a number with K, M or G (e.g. 16M)");
	assert_int_equal(set(&d, "1M", NULL, NULL, err), -1);
	assert_string_equal(err, "bad size '1M': memory is 2M to 1024G, a multiple of 4K");
	assert_int_equal(set(&d, "4097K", NULL, NULL, err), -1);
	assert_int_equal(set(&d, "1025G", NULL, NULL, err), -1);
	assert_int_equal(set(&d, "4G", NULL, NULL, err), 0); /* 3G below the hole, 1G above 4 GiB */
	assert_int_equal(set(&d, NULL, "9", NULL, err), -1);
	assert_string_equal(err, "bad vCPU count '9': use 1 to 8");
	assert_int_equal(set(&d, NULL, "0", NULL, err), -1);
	assert_int_equal(set(&d, NULL, NULL, "2", err), -1);
	assert_string_equal(err, "bad CPU list '2': no such CPU (CPUs 0 to 1)");
	/* A list longer than a definition keeps is refused, not cut. */
	assert_int_equal(set(&d, NULL, NULL, "0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0",
			     err), -1);
	assert_string_equal(err, "bad CPU list '0,1,0,1,0,1,0,1,0,1,...': at most 47 characters");
}

static void test_vcpus_bounded_by_the_host(void **state)
{
	static const struct def_limits small = { .nr_cpus = 4, .max_vcpus = 2 };
	struct vm_def d;
	char err[200];

	memset(&d, 0, sizeof(d));
	assert_int_equal(def_set_opts(&d, NULL, "3", NULL, &small, err, sizeof(err)), -1);
	assert_string_equal(err, "bad vCPU count '3': use 1 to 2");
}

static void test_format_size(void **state)
{
	char b[24];

	def_format_size(16ull << 20, b, sizeof(b));
	assert_string_equal(b, "16M");
	def_format_size(1ull << 30, b, sizeof(b));
	assert_string_equal(b, "1G");
	def_format_size(3ull << 30, b, sizeof(b));
	assert_string_equal(b, "3G");
	def_format_size(4100ull << 10, b, sizeof(b));
	assert_string_equal(b, "4100K");
	def_format_size(1536ull << 20, b, sizeof(b));
	assert_string_equal(b, "1536M");
}

/* config's line, split into words, is a define line that gives the same definition back. */
static void test_config_line_round_trips(void **state)
{
	static const char *const opts[][3] = {
		{ "8M", "2", "1,0" }, { "3145724K", "1", NULL }, { "1G", "8", "0-1" },
		{ NULL, NULL, NULL }, { "2M", "3", "1" },
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct vm_def d, back;
		struct parse_opt o[] = { { "mem", NULL }, { "vcpus", NULL }, { "cpus", NULL },
					 { NULL, NULL } };
		char line[DEF_LINE_MAX], err[200], *argv[16], *pos[2];
		int argc, npos;

		assert_int_equal(set(&d, opts[i][0], opts[i][1], opts[i][2], err), 0);
		strcpy(d.name, "web.1");
		strcpy(d.image, "ticker");
		d.autostart = i % 2;
		def_format(&d, line, sizeof(line));
		argc = parse_words(line, argv, 16);
		assert_true(argc >= 7);
		assert_string_equal(argv[0], "define");
		assert_int_equal(strcmp(argv[argc - 1], "--autostart") == 0, d.autostart);
		npos = parse_opts(argc - d.autostart, argv, 1, o, pos, 2, err, sizeof(err));
		assert_int_equal(npos, 2);
		assert_string_equal(pos[0], "web.1");
		assert_string_equal(pos[1], "ticker");
		assert_int_equal(set(&back, o[0].value, o[1].value, o[2].value, err), 0);
		assert_true(back.mem_size == d.mem_size);
		assert_int_equal(back.nr_vcpus, d.nr_vcpus);
		assert_string_equal(back.cpus, d.cpus);
	}
}

static void test_config_line_exact(void **state)
{
	struct vm_def d;
	char line[DEF_LINE_MAX], err[200];

	assert_int_equal(set(&d, "8M", "2", "1", err), 0);
	strcpy(d.name, "tk");
	strcpy(d.image, "ticker");
	def_format(&d, line, sizeof(line));
	assert_string_equal(line, "define tk ticker --mem 8M --vcpus 2 --cpus 1");
	assert_int_equal(set(&d, NULL, NULL, NULL, err), 0);
	strcpy(d.name, "h");
	strcpy(d.image, "hello");
	d.autostart = true;
	def_format(&d, line, sizeof(line));
	assert_string_equal(line, "define h hello --mem 16M --vcpus 1 --autostart");
}

/* --on-poweroff/--on-reboot/--on-crash: xl's actions, the defaults, and config prints what was given. */
static void test_actions(void **state)
{
	struct vm_def d;
	char line[DEF_LINE_MAX], err[200];
	const char *none[DEF_EVENTS] = { NULL, NULL, NULL };
	const char *some[DEF_EVENTS] = { "restart", NULL, "destroy" };
	const char *bad[DEF_EVENTS] = { NULL, "reboot", NULL };

	assert_int_equal(set(&d, "8M", NULL, NULL, err), 0);
	assert_int_equal(def_set_actions(&d, none, err, sizeof(err)), 0);
	assert_int_equal(def_action(&d, DEF_ON_POWEROFF), DEF_ACT_DESTROY);
	assert_int_equal(def_action(&d, DEF_ON_REBOOT), DEF_ACT_RESTART);
	assert_int_equal(def_action(&d, DEF_ON_CRASH), DEF_ACT_PRESERVE);
	strcpy(d.name, "l");
	strcpy(d.image, "ticker");
	def_format(&d, line, sizeof(line));
	assert_string_equal(line, "define l ticker --mem 8M --vcpus 1");
	assert_int_equal(def_set_actions(&d, some, err, sizeof(err)), 0);
	assert_int_equal(def_action(&d, DEF_ON_POWEROFF), DEF_ACT_RESTART);
	assert_int_equal(def_action(&d, DEF_ON_REBOOT), DEF_ACT_RESTART);
	assert_int_equal(def_action(&d, DEF_ON_CRASH), DEF_ACT_DESTROY);
	def_format(&d, line, sizeof(line));
	assert_string_equal(line, "define l ticker --mem 8M --vcpus 1 --on-poweroff restart --on-crash destroy");
	/* A bad action changes nothing and says what would do. */
	assert_int_equal(def_set_actions(&d, bad, err, sizeof(err)), -1);
	assert_string_equal(err, "--on-reboot 'reboot': say destroy, restart or preserve");
	assert_int_equal(def_action(&d, DEF_ON_REBOOT), DEF_ACT_RESTART);
	/* Given as the default, it is still printed back: config says what was asked for. */
	some[DEF_ON_REBOOT] = "restart";
	assert_int_equal(def_set_actions(&d, some, err, sizeof(err)), 0);
	def_format(&d, line, sizeof(line));
	assert_string_equal(line, "define l ticker --mem 8M --vcpus 1 --on-poweroff restart "
			    "--on-reboot restart --on-crash destroy");
	assert_string_equal(def_event_name(DEF_ON_CRASH), "crash");
	assert_string_equal(def_action_name(DEF_ACT_PRESERVE), "preserve");
}

static void test_create_args_cycle_the_cpus(void **state)
{
	struct tern_vm_create a;
	struct vm_def d;
	char err[200];

	assert_int_equal(set(&d, "4M", "3", "1,0", err), 0);
	strcpy(d.name, "x");
	def_create_args(&d, &host2, &a);
	assert_string_equal(a.name, "x");
	assert_true(a.mem_size == 4ull << 20);
	assert_int_equal(a.nr_vcpus, 3);
	assert_int_equal(a.cpus[0], 1);
	assert_int_equal(a.cpus[1], 0);
	assert_int_equal(a.cpus[2], 1);
	assert_int_equal(a.cpus[3], TERN_CPU_ANY);
	assert_int_equal(a.flags, 0);
	assert_int_equal(set(&d, NULL, "2", NULL, err), 0);
	def_create_args(&d, &host2, &a);
	assert_int_equal(a.cpus[0], TERN_CPU_ANY);
	assert_int_equal(a.cpus[1], TERN_CPU_ANY);
}

static void test_table(void **state)
{
	struct vm_def *d[DEFS_MAX], *e;
	struct def_row row;
	char name[16];

	defs_clear();
	assert_null(defs_find("a"));
	for (unsigned int i = 0; i < DEFS_MAX; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		d[i] = defs_add(name);
		assert_non_null(d[i]);
		assert_true(d[i]->used);
		d[i]->persistent = i % 2;   /* odd ones defined, even ones created */
		d[i]->has_vm = i % 4 == 1;  /* v1, v5, ... run */
	}
	assert_null(defs_add("full"));  /* the limit holds */
	assert_ptr_equal(defs_find("v7"), d[7]);
	assert_null(defs_find("v7x"));
	assert_null(defs_find("v"));
	/* Shut off: defined ones without a VM, v3, v7, v11... */
	assert_true(defs_shut_off(0, &row));
	assert_string_equal(row.name, "v3");
	assert_string_equal(row.cpus, "-");
	assert_true(defs_shut_off(1, &row));
	assert_string_equal(row.name, "v7");
	assert_true(defs_shut_off(DEFS_MAX / 4 - 1, &row));
	assert_false(defs_shut_off(DEFS_MAX / 4, &row));
	defs_remove(d[3]);
	assert_null(defs_find("v3"));
	assert_true(defs_shut_off(0, &row));
	assert_string_equal(row.name, "v7");
	e = defs_add("new");            /* the freed slot is taken again */
	assert_ptr_equal(e, d[3]);
	assert_false(e->persistent || e->has_vm || e->autostart);
	assert_string_equal(e->name, "new");
	defs_clear();
	assert_false(defs_shut_off(0, &row));
	assert_null(defs_find("v7"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options_as_create_checks_them),
		cmocka_unit_test(test_vcpus_bounded_by_the_host),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_config_line_round_trips),
		cmocka_unit_test(test_config_line_exact),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_create_args_cycle_the_cpus),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
