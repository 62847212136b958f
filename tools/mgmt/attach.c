/* SPDX-License-Identifier: MIT */
/*
 * console: the operator's keyboard and screen joined to a VM's virtual UART
 * until Ctrl-]. Output is read with CONSOLE_READ each tick, input goes out
 * with CONSOLE_WRITE; hypervisor log lines wait until the prompt is back.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/parse.h"

#define OUT_CHUNK      4096u /* the VM's console buffer holds 4 KiB */
#define IN_MAX         256u  /* the VM's receive FIFO holds 256 bytes */
#define STATE_POLL_TICKS 50u /* how often to look whether the VM is still there */

struct attach {
	uint32_t id;
	char name[TERN_NAME_MAX];
	uint64_t pos;
	bool last_cr;          /* the last byte shown was \r */
	uint8_t in[IN_MAX];    /* typed, not yet taken by the VM */
	uint32_t in_len;
	uint32_t state;
};

static char out_buf[OUT_CHUNK];

/* Shows the VM's bytes with each lone \n turned into \r\n. */
static void show(struct attach *a, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && !a->last_cr)
			con_write("\r", 1);
		con_write(&s[i], 1);
		a->last_cr = s[i] == '\r';
	}
}

/* Reads and shows what the VM wrote since a->pos; false if the VM is gone. */
static bool pump_output(struct attach *a, bool display)
{
	struct tern_stream st;
	int64_t r;

	do {
		st = (struct tern_stream){ .vm = a->id, .size = sizeof(out_buf),
					   .buf = hc_ptr(out_buf), .pos = a->pos };
		r = hc_console_read(&st);
		if (r < 0)
			return false;
		if (display && st.lost)
			con_printf("\n[... %llu bytes lost]\n", (unsigned long long)st.lost);
		if (display)
			show(a, out_buf, (size_t)r);
		a->pos = st.pos;
	} while (r == (int64_t)sizeof(out_buf));
	return true;
}

/* Takes typed bytes until Ctrl-] (true: detach) and hands them to the VM. */
static bool pump_input(struct attach *a)
{
	bool detach = false;
	int c;
	int64_t r;

	while (a->in_len < IN_MAX && (c = con_getc()) >= 0) {
		if (c == KEY_CTRL_BRACKET) {
			detach = true;
			break;
		}
		a->in[a->in_len++] = (uint8_t)c;
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

/* Says once when the VM stops or finishes; false when it is gone. */
static bool watch_state(struct attach *a)
{
	static struct tern_vm_info info;

	if (hc_vm_info(a->id, &info) < 0)
		return false;
	if (info.state != a->state &&
	    (info.state == TERN_VM_STOPPED || info.state == TERN_VM_FINISHED))
		con_printf("\n[vm %s has %s%s%.*s]\n", a->name, vm_state_name(info.state),
			   info.stop_reason[0] ? ": " : "", (int)sizeof(info.stop_reason),
			   info.stop_reason);
	a->state = info.state;
	return true;
}

static void attach_loop(struct attach *a)
{
	for (unsigned int t = 1;; t++) {
		bool detach;

		tick_wait();
		con_poll();
		detach = pump_input(a);
		if (!pump_output(a, true) || (t % STATE_POLL_TICKS == 0 && !watch_state(a))) {
			con_printf("\n[vm %s is gone]\n", a->name);
			return;
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
	con_printf("Connected to vm %s (escape character is ^])\n", a.name);
	if (!all && !pump_output(&a, false)) {
		con_printf("[vm %s is gone]\n", a.name);
		return -1;
	}
	attach_loop(&a);
	return 0;
}
