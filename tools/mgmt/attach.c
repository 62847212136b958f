/* SPDX-License-Identifier: MIT */
/*
 * console: the operator's keyboard and screen joined to a VM's virtual UART
 * until Ctrl-]. Each tick reads what was typed first (so Ctrl-] is seen
 * whatever the VM does), then shows the VM's output at no more than half the
 * serial line's rate: a VM writing faster than that is shown in runs of its
 * newest output, whole lines, with a note of what was skipped between runs.
 * Input goes out with CONSOLE_WRITE; what the VM has no room for is dropped
 * and noted. Hypervisor log lines wait until the prompt is back.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/defs.h"
#include "tools/mgmt/parse.h"

#define OUT_RING 4096u /* the VM's console buffer holds 4 KiB */
/* What the operator's serial line carries: 115200 baud, 10 bits a byte (8N1). */
#define SERIAL_BYTES_PER_S 11520u
/*
 * VM bytes shown per tick: half the line. Tern's console sends 16 bytes
 * each time the UART's FIFO has emptied, which comes to 8-10 KB/s; below
 * that nothing piles up in its queue ahead of what the shell prints next
 * (the answer to a Ctrl-]), and the \r of each \n and the notes fit too.
 */
#define OUT_PER_TICK (SERIAL_BYTES_PER_S / 2u / MGMT_HZ)
/* Shown at once after a quiet spell: a screenful, under a tenth of a second of the line. */
#define OUT_BURST 1024u
#define IN_MAX         256u  /* the VM's receive FIFO holds 256 bytes */
#define STATE_POLL_TICKS 50u /* how often to look whether the VM is still there */
#define NOTE_TICKS     MGMT_HZ /* dropped-input notes at most once a second */

struct attach {
	uint32_t id;
	char name[TERN_NAME_MAX];
	uint64_t pos;          /* the VM's next output byte to fetch */
	bool last_cr;          /* the last byte shown was \r */
	bool line_start;       /* nothing shown yet, or the last byte shown was \n */
	bool resync;           /* skipped ahead: show from the next line on */
	uint64_t skipped;      /* output bytes skipped or lost, not yet noted */
	uint32_t out_len, out_shown; /* in out_buf: fetched, shown */
	uint32_t budget;       /* VM bytes that may be shown now (refilled each tick) */
	uint8_t in[IN_MAX];    /* typed, not yet taken by the VM */
	uint32_t in_len;
	uint64_t in_dropped;   /* typed bytes the VM had no room for, not yet noted */
	unsigned int in_noted; /* the tick of the last such note */
	uint32_t state;
};

static char out_buf[OUT_RING];

/* Shows the VM's bytes with each lone \n turned into \r\n. */
static void show(struct attach *a, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && !a->last_cr)
			con_write("\r", 1);
		con_write(&s[i], 1);
		a->last_cr = s[i] == '\r';
		a->line_start = s[i] == '\n';
	}
}

/* A note of the shell's own on a line of its own. */
static void note(struct attach *a, const char *what, uint64_t n)
{
	con_printf("%s[... %llu %s]\n", a->line_start ? "" : "\n", (unsigned long long)n, what);
	a->last_cr = false;
	a->line_start = true;
}

/* The VM's output so far, in bytes: a read from beyond the end stops at the end. */
static bool console_head(uint32_t vm, uint64_t *head)
{
	static char byte;
	struct tern_stream st = { .vm = vm, .size = 1, .buf = hc_ptr(&byte), .pos = UINT64_MAX };

	if (hc_console_read(&st) < 0)
		return false;
	*head = st.pos;
	return true;
}

/*
 * Fills out_buf from a->pos on; when the VM has written more than its buffer
 * keeps since a->pos, from its oldest kept byte, shown from the next line on.
 */
static bool fetch(struct attach *a)
{
	struct tern_stream st;
	uint64_t head;
	int64_t r;

	if (!console_head(a->id, &head))
		return false;
	if (head - a->pos > sizeof(out_buf)) {
		a->skipped += head - sizeof(out_buf) - a->pos;
		a->pos = head - sizeof(out_buf);
		a->resync = true;
	}
	st = (struct tern_stream){ .vm = a->id, .size = sizeof(out_buf), .buf = hc_ptr(out_buf),
				   .pos = a->pos };
	r = hc_console_read(&st);
	if (r < 0)
		return false;
	if (st.lost) {
		a->skipped += st.lost; /* overwritten between the two reads */
		a->resync = true;
	}
	a->pos = st.pos;
	a->out_len = (uint32_t)r;
	a->out_shown = 0;
	if (a->resync && r) {
		const char *nl = memchr(out_buf, '\n', (size_t)r);

		/* No line end at all: show it from where it is. */
		if (nl) {
			a->out_shown = (uint32_t)(nl - out_buf) + 1;
			a->skipped += a->out_shown;
		}
		a->resync = false;
	}
	return true;
}

/*
 * Shows what the budget allows of the VM's output, ending after a line if
 * to_eol and there is a line end to end at; false if the VM is gone.
 */
static bool pump_output(struct attach *a, bool to_eol)
{
	uint32_t n;

	if (a->out_shown == a->out_len && !fetch(a))
		return false;
	n = a->out_len - a->out_shown;
	if (n > a->budget)
		n = a->budget;
	for (uint32_t i = n; to_eol && i; i--) {
		if (out_buf[a->out_shown + i - 1] == '\n') {
			n = i;
			break;
		}
	}
	if (!n)
		return true;
	if (a->skipped) {
		note(a, "bytes skipped", a->skipped);
		a->skipped = 0;
	}
	show(a, out_buf + a->out_shown, n);
	a->out_shown += n;
	a->budget -= n;
	return true;
}

/*
 * Takes every typed byte up to Ctrl-] (true: detach) and hands them to the
 * VM. Reading never waits for the VM: what its receive FIFO and a->in have
 * no room for is dropped and counted.
 */
static bool pump_input(struct attach *a)
{
	bool detach = false;
	int c;
	int64_t r;

	while ((c = con_getc()) >= 0) {
		if (c == KEY_CTRL_BRACKET) {
			detach = true;
			break;
		}
		if (a->in_len < IN_MAX)
			a->in[a->in_len++] = (uint8_t)c;
		else
			a->in_dropped++;
	}
	if (a->in_len) {
		r = hc_console_write(a->id, a->in, a->in_len);
		if (r > 0) {
			memmove(a->in, a->in + r, a->in_len - (uint32_t)r);
			a->in_len -= (uint32_t)r;
		}
	}
	return detach;
}

/*
 * Says once when the VM stops or finishes, and applies its definition's
 * on_* action at once (defs_sync): when that made the VM anew, the console
 * follows the new one from its first byte. False when it is gone.
 */
static bool watch_state(struct attach *a)
{
	static struct tern_vm_info info;
	const struct vm_def *d;

	if (hc_vm_info(a->id, &info) < 0)
		return false;
	if (info.state == a->state || (info.state != TERN_VM_STOPPED && info.state != TERN_VM_FINISHED)) {
		a->state = info.state;
		return true;
	}
	con_printf("%s[vm %s has %s%s%.*s]\n", a->line_start ? "" : "\n", a->name,
		   vm_state_name(info.state), info.stop_reason[0] ? ": " : "",
		   (int)sizeof(info.stop_reason), info.stop_reason);
	a->line_start = true;
	a->state = info.state;
	defs_sync();
	d = defs_find(a->name);
	if (d && d->has_vm && d->vm_id != a->id) {
		con_printf("[vm %s is vm %u now: following its console]\n", a->name, d->vm_id);
		a->id = d->vm_id;
		a->pos = 0;
		a->out_len = a->out_shown = 0;
		a->state = TERN_VM_RUNNING;
	}
	return hc_vm_info(a->id, &info) >= 0;
}

static void attach_loop(struct attach *a)
{
	for (unsigned int t = 1;; t++) {
		bool detach, note_due;

		tick_wait();
		con_poll();
		detach = pump_input(a);
		if (a->budget < OUT_BURST) {
			a->budget += OUT_PER_TICK;
			if (a->budget > OUT_BURST)
				a->budget = OUT_BURST;
		}
		/* Dropped input is noted between the VM's lines, at most once a second. */
		note_due = a->in_dropped && (detach || t - a->in_noted >= NOTE_TICKS);
		if (!pump_output(a, note_due) || (t % STATE_POLL_TICKS == 0 && !watch_state(a))) {
			con_printf("\n[vm %s is gone]\n", a->name);
			return;
		}
		if (note_due && (a->line_start || detach)) {
			note(a, "typed bytes dropped: the VM is not reading", a->in_dropped);
			a->in_dropped = 0;
			a->in_noted = t;
		}
		if (detach) {
			con_printf("\nDisconnected from vm %s\n", a->name);
			return;
		}
	}
}

int cmd_console(int argc, char **argv)
{
	struct parse_opt o[] = { { NULL, NULL } };
	static struct tern_vm_info info;
	static struct attach a;
	char err[PARSE_ERR_MAX], *pos[1];
	bool all = false;
	int npos;

	/* --all takes no value: take it out before the other words are parsed. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			if (all)
				return usage_error("console", "option '--all' given twice");
			all = true;
			for (int j = i; j + 1 < argc; j++)
				argv[j] = argv[j + 1];
			argc--;
			i--;
		}
	}
	npos = parse_opts(argc, argv, 1, o, pos, 1, err, sizeof(err));
	if (npos < 0)
		return usage_error("console", "%s", err);
	if (npos == 0)
		return usage_error("console", "missing VM");
	if (!vm_find(pos[0], &info))
		return -1;
	if (info.flags & TERN_VMF_MANAGEMENT) {
		err_printf("vm '%s' is the management guest: its console is this one", info.name);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.id = info.id;
	a.state = info.state;
	memcpy(a.name, info.name, sizeof(a.name));
	a.name[sizeof(a.name) - 1] = '\0';
	a.line_start = true;
	/* --all: what the buffer holds comes out at once, as asked. */
	a.budget = all ? OUT_RING : OUT_BURST;
	con_printf("Connected to vm %s (escape character is ^])\n", a.name);
	if (!all && !console_head(a.id, &a.pos)) {
		con_printf("[vm %s is gone]\n", a.name);
		return -1;
	}
	attach_loop(&a);
	return 0;
}
