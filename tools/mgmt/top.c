/* SPDX-License-Identifier: MIT */
/* top: CPU use and exit rates of every VM, from two samples about a second apart. */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/parse.h"

#define TOP_INTERVAL_US 1000000u
#define TOP_MAX_ROUNDS  1000u

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

/* Sleeps for us of guest time; false if Ctrl-C was typed meanwhile. */
static bool top_sleep(uint64_t us)
{
	uint64_t end = tsc_now() + us_to_tsc(us);

	while (tsc_now() < end) {
		tick_wait();
		con_poll();
		if (con_take(KEY_CTRL_C))
			return false;
	}
	return true;
}

static void top_row(const struct top_sample *b, uint64_t elapsed_us)
{
	char mib[24];
	uint64_t run, exits, pct10;

	if (hc_vm_info(b->id, &top_info) < 0)
		return; /* gone meanwhile */
	run = top_info.run_us >= b->run_us ? top_info.run_us - b->run_us : 0;
	exits = top_info.nr_exits >= b->nr_exits ? top_info.nr_exits - b->nr_exits : 0;
	pct10 = run * 1000 / elapsed_us;
	format_mib(top_info.mem_size, mib, sizeof(mib));
	con_printf("%4u %-20.31s %-9s %5llu.%llu %9llu %8s\n", top_info.id, top_info.name,
		   vm_state_name(top_info.state), (unsigned long long)(pct10 / 10),
		   (unsigned long long)(pct10 % 10),
		   (unsigned long long)(exits * 1000000 / elapsed_us), mib);
}

/* One round: sample, wait, print. 1, 0 when interrupted, -1 on failure. */
static int top_round(void)
{
	uint64_t t0, elapsed;
	int n = sample(before);

	if (n < 0)
		return -1;
	t0 = tsc_now();
	if (!top_sleep(TOP_INTERVAL_US))
		return 0;
	elapsed = tsc_to_us(tsc_now() - t0);
	if (!elapsed)
		elapsed = 1;
	con_printf("%4s %-20s %-9s %7s %9s %8s\n", "ID", "NAME", "STATE", "CPU%", "EXITS/s",
		   "MEM(MiB)");
	for (int i = 0; i < n; i++)
		top_row(&before[i], elapsed);
	return 1;
}

int cmd_top(int argc, char **argv)
{
	uint64_t rounds = 1;

	if (argc > 2)
		return usage_error("top", "too many arguments ('%s')", argv[2]);
	if (argc == 2 && (!parse_u64(argv[1], &rounds) || !rounds || rounds > TOP_MAX_ROUNDS))
		return usage_error("top", "bad count '%s': use 1 to %u", argv[1], TOP_MAX_ROUNDS);
	for (uint64_t i = 0; i < rounds; i++) {
		int r;

		if (i)
			con_printf("\n");
		r = top_round();
		if (r <= 0) {
			if (!r)
				con_printf("^C\n");
			return -1;
		}
	}
	return 0;
}
