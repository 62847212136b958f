/* SPDX-License-Identifier: MIT */
/*
 * hcfuzz as the management guest, at the end: one line about each VM it did
 * not make (state, console, refused calls, last console line) and the
 * hypervisor log's lines about refused calls, for the tests to read.
 */
#include "tests/guests/hcfuzz.h"

#include "kernel/string.h"

static const char *const state_names[] = {
	[TERN_VM_CREATED] = "CREATED", [TERN_VM_RUNNING] = "RUNNING", [TERN_VM_PAUSED] = "PAUSED",
	[TERN_VM_STOPPED] = "STOPPED", [TERN_VM_FINISHED] = "FINISHED",
};

/* The last complete line of a console, without its line end. */
static const char *last_line(char *con, size_t len)
{
	char *end = con + len;

	while (end > con && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*end = '\0';
	while (end > con && end[-1] != '\n')
		end--;
	return end;
}

/* Reads a VM's whole console (its last 4 KiB) and returns its last line. */
static const char *console_last(uint32_t id, char *buf, size_t size)
{
	static struct tern_stream st;
	int64_t n;

	st = (struct tern_stream){ .vm = id, .size = (uint32_t)size - 1, .buf = (uint64_t)buf };
	n = hf_call(TERN_HC_CONSOLE_READ, "another VM", (uint64_t)&st, 0, 0, 0);
	/* From pos 0 (the oldest byte kept): pos ends at what was lost plus what was read. */
	if (!hf_assert(n >= 0 && st.pos == st.lost + (uint64_t)n, TERN_HC_CONSOLE_READ,
		       "another VM from the start", "VM %u: got %ld, pos %lu, lost %lu", id, n,
		       st.pos, st.lost))
		n = n < 0 ? 0 : n;
	return last_line(buf, (size_t)n);
}

static uint32_t others[64];
static char other_con[4096 + 1];

/* Other VMs: ids into others[]; true when each has finished, stopped or said done. */
static bool others_settled(size_t *count)
{
	int64_t n = hf_call(TERN_HC_VM_LIST, "others", (uint64_t)others, HF_N(others), 0, 0);
	bool settled = true;
	struct tern_vm_info vi;

	*count = n > 0 ? (size_t)(n < (int64_t)HF_N(others) ? n : (int64_t)HF_N(others)) : 0;
	for (size_t i = 0; i < *count; i++) {
		const char *last;

		if (others[i] == hf.self || !hf_vm_info(others[i], &vi) ||
		    vi.state != TERN_VM_RUNNING)
			continue;
		last = console_last(others[i], other_con, sizeof(other_con));
		settled &= strlen(last) >= 6 && !strcmp(last + strlen(last) - 6, ": done");
	}
	return settled;
}

/* Hypervisor log lines about refused calls, as "hcfuzz: log: <line>". */
static void report_log(void)
{
	static struct tern_stream st;
	char *log = (char *)(uintptr_t)((hf.memsize / 2) & ~(uint64_t)(TERN_IO_MAX - 1));
	unsigned int shown = 0;
	int64_t n;

	st = (struct tern_stream){ .vm = 0, .size = TERN_IO_MAX - 1, .buf = (uint64_t)log };
	n = hf_call(TERN_HC_LOG_READ, "whole log", (uint64_t)&st, 0, 0, 0);
	if (!hf_assert(n >= 0, TERN_HC_LOG_READ, "whole log", "got %ld", n))
		return;
	log[n] = '\0';
	for (char *line = log, *end; *line && shown < 10; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		*end = '\0';
		if (hf_contains(line, "refused") || hf_contains(line, "denied") ||
		    hf_contains(line, "not the management")) {
			hf_log("log: %s", line);
			shown++;
		}
	}
}

/*
 * Each VM this guest did not make, once the others have finished or said
 * "done" (bounded wait): "hcfuzz: vm <name> (id N): state S, B console bytes,
 * D refused calls, last line '<text>'".
 */
void hf_report_others(void)
{
	struct tern_vm_info vi;
	size_t n;

	for (unsigned int t = 0; t < HF_WAIT_TICKS / 2 && !others_settled(&n); t++)
		hf_sleep(1);
	for (size_t i = 0; i < n; i++) {
		if (others[i] == hf.self || !hf_vm_info(others[i], &vi))
			continue;
		hf_log("vm %.*s (id %u): %s, %lu console bytes, %lu refused calls, last line "
		       "'%s'", (int)sizeof(vi.name), vi.name, vi.id,
		       vi.state < HF_N(state_names) ? state_names[vi.state] : "?", vi.console_bytes,
		       vi.denied_calls, console_last(others[i], other_con, sizeof(other_con)));
	}
	report_log();
}
