/* SPDX-License-Identifier: MIT */
/*
 * top: CPU use and exit rates of every VM, from two samples about a second
 * apart: redrawn in place (as xl top) until q or Ctrl-C, or -b as lines for
 * scripts, or --json.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/json.h"
#include "tools/mgmt/parse.h"

#define TOP_INTERVAL_US 1000000u
#define TOP_MAX_ROUNDS  1000u
#define TOP_LIVE_ROWS   21   /* VM rows of a live frame: 24 lines less the title, heading, cursor */

struct top_sample {
	uint32_t id;
	uint64_t run_us, nr_exits;
};

static struct top_sample before[MGMT_MAX_VMS];
static struct tern_vm_info top_info;

/* Samples every VM; the count, or -1. */
static int sample(struct top_sample *s)
{
	uint32_t ids[MGMT_MAX_VMS];
	int n = vm_ids(ids, MGMT_MAX_VMS), k = 0;

	for (int i = 0; i < n; i++) {
		if (hc_vm_info(ids[i], &top_info) < 0)
			continue;
		s[k++] = (struct top_sample){ ids[i], top_info.run_us, top_info.nr_exits };
	}
	return n < 0 ? -1 : k;
}

/* Sleeps for us of guest time; false if Ctrl-C (or, if quit_q, q) was typed meanwhile. */
static bool top_sleep(uint64_t us, bool quit_q)
{
	uint64_t end = tsc_now() + us_to_tsc(us);

	while (tsc_now() < end) {
		tick_wait();
		con_poll();
		if (con_take(KEY_CTRL_C) || (quit_q && (con_take('q') || con_take('Q'))))
			return false;
	}
	return true;
}

/* What a row shows: CPU% in tenths, exits a second. */
static bool top_measure(const struct top_sample *b, uint64_t elapsed_us, uint64_t *pct10,
			uint64_t *rate)
{
	uint64_t run, exits;

	if (hc_vm_info(b->id, &top_info) < 0)
		return false; /* gone meanwhile */
	run = top_info.run_us >= b->run_us ? top_info.run_us - b->run_us : 0;
	exits = top_info.nr_exits >= b->nr_exits ? top_info.nr_exits - b->nr_exits : 0;
	*pct10 = run * 1000 / elapsed_us;
	*rate = exits * 1000000 / elapsed_us;
	return true;
}

/* eol: what ends a line ("\033[K\n" in place, so the rest of the old row goes). */
static void top_row(const struct top_sample *b, uint64_t elapsed_us, const char *eol)
{
	char mib[24];
	uint64_t pct10, rate;

	if (!top_measure(b, elapsed_us, &pct10, &rate))
		return;
	format_mib(top_info.mem_size, mib, sizeof(mib));
	con_printf("%4u %-20.31s %-9s %5llu.%llu %9llu %8s%s", top_info.id, top_info.name,
		   vm_state_name(top_info.state), (unsigned long long)(pct10 / 10),
		   (unsigned long long)(pct10 % 10), (unsigned long long)rate, mib, eol);
}

static void top_json(int n, uint64_t elapsed)
{
	struct json j;

	json_init(&j, json_con, NULL);
	json_obj_begin(&j, NULL);
	json_u64(&j, "interval_us", elapsed);
	json_arr_begin(&j, "vms");
	for (int i = 0; i < n; i++) {
		uint64_t pct10, rate;

		if (!top_measure(&before[i], elapsed, &pct10, &rate))
			continue;
		json_obj_begin(&j, NULL);
		json_u64(&j, "id", top_info.id);
		json_strn(&j, "name", top_info.name, sizeof(top_info.name));
		json_str(&j, "state", vm_state_name(top_info.state));
		json_fixed(&j, "cpu_pct", pct10, 1);
		json_u64(&j, "exits_per_s", rate);
		json_u64(&j, "mem_bytes", top_info.mem_size);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_done(&j);
}

enum top_mode { TOP_LIVE, TOP_BATCH, TOP_JSON };

/* One round: sample, wait, print. 1, 0 when interrupted, -1 on failure. */
static int top_round(enum top_mode mode, uint64_t round, uint64_t rounds)
{
	const char *eol = mode == TOP_LIVE ? "\033[K\n" : "\n";
	uint64_t t0, elapsed;
	int n = sample(before);

	if (n < 0)
		return -1;
	t0 = tsc_now();
	if (!top_sleep(TOP_INTERVAL_US, mode == TOP_LIVE))
		return 0;
	elapsed = tsc_to_us(tsc_now() - t0);
	if (!elapsed)
		elapsed = 1;
	if (mode == TOP_JSON) {
		top_json(n, elapsed);
		return 1;
	}
	if (mode == TOP_LIVE) {
		/* Back to the top left corner and over the last frame (ECMA-48 CUP, EL, ED). */
		con_printf("\033[H");
		if (rounds)
			con_printf("tern top: %d VMs, sample %llu of %llu; q or Ctrl-C quits%s", n,
				   (unsigned long long)round + 1, (unsigned long long)rounds, eol);
		else
			con_printf("tern top: %d VMs, sample %llu; q or Ctrl-C quits%s", n,
				   (unsigned long long)round + 1, eol);
	}
	con_printf("%4s %-20s %-9s %7s %9s %8s%s", "ID", "NAME", "STATE", "CPU%", "EXITS/s",
		   "MEM(MiB)", eol);
	for (int i = 0; i < n; i++) {
		if (mode == TOP_LIVE && i == TOP_LIVE_ROWS - 1 && n > TOP_LIVE_ROWS) {
			/* Kept to one screen, or the frame would scroll and not stay in place. */
			con_printf("... and %d more VMs (top -b shows all)%s", n - i, eol);
			break;
		}
		top_row(&before[i], elapsed, eol);
	}
	if (mode == TOP_LIVE)
		con_printf("\033[J");
	return 1;
}

/* The arguments: [-b|--batch] [-n N|--iterations N] [--json] [N]. 0, or -1 after why. */
static int top_args(int argc, char **argv, enum top_mode *mode, uint64_t *rounds)
{
	const char *count = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-b") || !strcmp(a, "--batch")) {
			if (*mode == TOP_LIVE)
				*mode = TOP_BATCH;
		} else if (!strcmp(a, "--json")) {
			*mode = TOP_JSON;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--iterations")) {
			if (i + 1 == argc)
				return usage_error("top", "option '%s' needs a value", a);
			if (count)
				return usage_error("top", "the count is given twice");
			count = argv[++i];
		} else if (a[0] == '-') {
			return usage_error("top", "unknown option '%s'", a);
		} else if (count) {
			return usage_error("top", "too many arguments ('%s')", a);
		} else {
			count = a; /* top N: the old form of -n N */
		}
	}
	if (count && (!parse_u64(count, rounds) || !*rounds || *rounds > TOP_MAX_ROUNDS))
		return usage_error("top", "bad count '%s': use 1 to %u", count, TOP_MAX_ROUNDS);
	if (!count && *mode != TOP_LIVE)
		*rounds = 1;
	return 0;
}

int cmd_top(int argc, char **argv)
{
	enum top_mode mode = TOP_LIVE;
	uint64_t rounds = 0; /* 0: until q or Ctrl-C */

	if (top_args(argc, argv, &mode, &rounds))
		return -1;
	if (mode == TOP_LIVE)
		con_printf("\033[H\033[2J"); /* a clear screen, then each frame over the last */
	for (uint64_t i = 0; !rounds || i < rounds; i++) {
		int r;

		if (i && mode == TOP_BATCH)
			con_printf("\n");
		r = top_round(mode, i, rounds);
		if (r <= 0)
			return r ? -1 : 0; /* q or Ctrl-C ends it: nothing to say */
	}
	return 0;
}
