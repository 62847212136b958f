/* SPDX-License-Identifier: MIT */
/*
 * The management guest's entry and prompt loop. Each tick (MGMT_HZ a second
 * of guest time) it takes the bytes typed on the serial console through the
 * line editor, runs complete lines, and prints new hypervisor log lines above
 * the prompt: the line being typed is erased, the log lines printed, and the
 * prompt and line drawn again, so log output never garbles typing.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/fmt.h"
#include "kernel/string.h"
#include "tools/mgmt/lineedit.h"
#include "tools/mgmt/parse.h"

#define LOG_CHUNK         4096u
#define LOG_LINE_MAX      512u /* Tern's longest log line */
#define LOG_READS_PER_TICK 16u
#define TSC_KHZ_FALLBACK  1000000u /* if the host does not say: 1 GHz */

const char guest_name[] = "mgmt";
struct mgmt_env mgmt;

static struct le le;
static uint64_t log_pos;
static char log_chunk[LOG_CHUNK];

static void flush_editor(void)
{
	con_write(le.out, le.out_len);
	le.out_len = 0;
}

/* Reads the log from log_pos; the bytes read (0: nothing new), or -1. */
static int64_t log_read(uint64_t *lost)
{
	struct tern_stream st = { .vm = 0, .size = sizeof(log_chunk), .buf = hc_ptr(log_chunk),
				  .pos = log_pos };
	int64_t r = hc_log_read(&st);

	*lost = 0;
	if (r < 0)
		return r;
	*lost = st.lost;
	log_pos = st.pos;
	return r;
}

/* The log's clock (host microseconds since boot) when this VM started; 0 if unknown. */
static uint64_t started_us(void)
{
	static struct tern_vm_info self;
	struct tern_host_info hi;
	uint64_t now, ago;

	if (hc_vm_info(mgmt.self_id, &self) < 0 || !self.started_tsc || hc_host_info(&hi) < 0)
		return 0;
	now = tsc_now(); /* guests see the host's TSC: Tern sets no TSC offset */
	if (now < self.started_tsc)
		return 0;
	ago = tsc_to_us(now - self.started_tsc);
	return hi.uptime_us > ago ? hi.uptime_us - ago : 0;
}

/*
 * Lines logged before this VM started went to the serial console already:
 * relaying starts with the first line stamped later (after all of them if
 * the start time cannot be told).
 */
static void log_skip(void)
{
	uint64_t since = started_us(), lost, us;
	int64_t r;

	log_pos = 0;
	for (unsigned int i = 0; i < 64 && (r = log_read(&lost)) > 0; i++) {
		uint64_t chunk_start = log_pos - (uint64_t)r;
		size_t off = 0;

		while (off < (size_t)r) {
			const char *nl = memchr(log_chunk + off, '\n', (size_t)r - off);
			size_t len = nl ? (size_t)(nl - (log_chunk + off)) : (size_t)r - off;

			if (since && parse_log_time(log_chunk + off, len, &us) && us >= since) {
				log_pos = chunk_start + off;
				return;
			}
			if (!nl) {
				/* A line cut off by the buffer's end: read it again whole. */
				if (r == (int64_t)sizeof(log_chunk) && off)
					log_pos = chunk_start + off;
				break;
			}
			off += len + 1;
		}
	}
}

/* Prints whole lines; a cut-off last line is read again next time. */
static void log_print(int64_t r)
{
	size_t n = (size_t)r;

	while (n > 0 && log_chunk[n - 1] != '\n' && (size_t)r - n < LOG_LINE_MAX)
		n--;
	if (!n)
		n = (size_t)r;
	log_pos -= (size_t)r - n;
	for (size_t i = 0; i < n; i++) {
		if (log_chunk[i] == '\n')
			con_write("\r", 1);
		con_write(&log_chunk[i], 1);
	}
}

static void log_relay(void)
{
	bool shown = false;
	uint64_t lost;
	int64_t r;

	for (unsigned int i = 0; i < LOG_READS_PER_TICK; i++) {
		r = log_read(&lost);
		if (r <= 0 && !lost)
			break;
		if (!shown)
			con_write("\r\033[K", 4);
		shown = true;
		if (lost)
			con_printf("[... %llu bytes of the hypervisor log lost]\n",
				   (unsigned long long)lost);
		if (r > 0)
			log_print(r);
		if (r < (int64_t)sizeof(log_chunk))
			break;
	}
	if (shown) {
		le_prompt(&le);
		flush_editor();
	}
}

static void take_input(void)
{
	int c;

	while ((c = con_getc()) >= 0) {
		enum le_result r = le_feed(&le, (uint8_t)c);

		flush_editor();
		if (r == LE_LINE && le.line_too_long)
			err_printf("line too long (max %u characters); nothing was run", LE_LINE_MAX - 1);
		else if (r == LE_LINE && le.line_dropped)
			err_printf("the line had non-ASCII characters, which the shell does not take; "
				   "nothing was run (names are letters, digits, '.', '_' and '-')");
		else if (r == LE_LINE)
			shell_exec(le.line);
		if (r != LE_NONE) {
			le_prompt(&le);
			flush_editor();
		}
	}
}

static void banner(void)
{
	struct tern_host_info hi;
	int64_t v = hc_version(), r = hc_host_info(&hi);

	if (r < 0) {
		con_printf("Tern management shell %s: the hypervisor refuses management calls "
			   "(HOST_INFO: %s).\n", MGMT_VERSION, hc_strerror(r));
		return;
	}
	con_printf("Tern management shell, ABI %lld.%lld: %u CPU%s, %llu MiB free. Type 'help'.\n",
		   (long long)(v >> 16), (long long)(v & 0xffff), hi.nr_cpus,
		   hi.nr_cpus == 1 ? "" : "s", (unsigned long long)(hi.mem_available >> 20));
}

/* RSI at entry is the module directory's GPA (vmm/abi.h); check it before trusting it. */
static void find_modules(uint64_t dir_gpa)
{
	const struct tern_module_dir *dir = (const struct tern_module_dir *)(uintptr_t)dir_gpa;

	if (dir_gpa != TERN_MODULES_GPA || dir->magic != TERN_MODULES_MAGIC ||
	    dir->count > TERN_MAX_MODULES) {
		con_printf("warning: no boot module directory at entry (RSI 0x%llx)\n",
			   (unsigned long long)dir_gpa);
		return;
	}
	mgmt.mods = dir;
}

void guest_main(uint64_t memsize, uint64_t dir_gpa, uint64_t vm_id, uint64_t nr_vcpus)
{
	struct tern_host_info hi;

	mgmt.self_id = (uint32_t)vm_id;
	mgmt.tsc_khz = hc_host_info(&hi) >= 0 && hi.tsc_khz ? hi.tsc_khz : TSC_KHZ_FALLBACK;
	log_skip();
	tick_init();
	con_write("\r\n", 2);
	find_modules(dir_gpa);
	banner();
	vm_autostart(); /* cmd_def.c: the boot module of definitions, autostart VMs */
	le_init(&le, MGMT_PROMPT);
	le_set_completion(&le, shell_complete, NULL);
	le_prompt(&le);
	flush_editor();
	for (unsigned int t = 1;; t++) {
		tick_wait();
		con_poll();
		take_input();
		log_relay();
		/* Once a second: VMs whose guests powered off or reset themselves (cmd_vm.c). */
		if (t % MGMT_HZ == 0 && defs_sync()) {
			le_prompt(&le);
			flush_editor();
		}
	}
}
