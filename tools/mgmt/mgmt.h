/* SPDX-License-Identifier: MIT */
/*
 * The management guest: a shell on Tern's serial console that creates, runs
 * and watches VMs through hypercalls. Declarations shared by its files; the
 * pure parts (lineedit, parse, imgcheck) have their own headers.
 */
#ifndef TERN_MGMT_MGMT_H
#define TERN_MGMT_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/guests/guest.h"
#include "tools/mgmt/hc.h"

#define MGMT_VERSION "1.0"
#define MGMT_PROMPT  "tern> "
#define MGMT_HZ      100u /* console and log polls per second of guest time */
#define MGMT_MAX_VMS 64u  /* VMs a listing shows */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define KEY_CTRL_C       0x03u
#define KEY_CTRL_BRACKET 0x1du /* console escape, as in telnet and virsh */

/* What the shell was started with (main.c). */
struct mgmt_env {
	const struct tern_module_dir *mods; /* NULL if the hand-off was missing or bad */
	uint32_t self_id;
	uint64_t tsc_khz;
};
extern struct mgmt_env mgmt;

/* --- con.c: the serial console and guest time ------------------------------ */
void con_write(const char *s, size_t n);
/* Prints s turning each "\n" into "\r\n". */
void con_puts(const char *s);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Moves typed bytes from the UART to the input queue. */
void con_poll(void);
/* The next typed byte, or -1. */
int con_getc(void);
/* If byte c was typed, drops the input up to and including it and returns true. */
bool con_take(uint8_t c);
/* Starts the periodic tick (MGMT_HZ) on the local APIC timer. */
void tick_init(void);
/* Sleeps until the next tick. */
void tick_wait(void);
uint64_t tsc_now(void);
uint64_t tsc_to_us(uint64_t ticks);
uint64_t us_to_tsc(uint64_t us);

/* --- common.c: errors, VM lookup, names ------------------------------------ */
const char *hc_strerror(int64_t r);
/* Prints "error: " and the formatted message, then a newline. */
void err_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an error, then the usage line of verb. Returns -1. */
int usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* HOST_INFO; prints why on failure. */
bool host_info(struct tern_host_info *hi);
/* The VM ids, oldest first (at most max); -1 after printing why. */
int vm_ids(uint32_t *ids, uint32_t max);
/* VM by id (a number) or name, printing nothing; false if the hypervisor has none. */
bool vm_lookup(const char *arg, struct tern_vm_info *info);
/* As vm_lookup; false after "error: no VM with id or name ..." (or "... is shut off") if none. */
bool vm_find(const char *arg, struct tern_vm_info *info);
const char *vm_state_name(uint32_t state);
const char *vcpu_state_name(uint32_t state);
const char *exit_reason_name(uint32_t reason);
/* Whether m is the image the management guest (this shell) runs. */
bool module_is_mgmt(const struct tern_module *m);
/* The boot module of that name, or NULL. */
const struct tern_module *module_find(const char *name);

/* --- image.c ------------------------------------------------------------- */
/* Loads mod into the CREATED VM and sets vCPU 0's start state. 0, or -1 with why. */
/*
 * VM_CREATE with TERN_CREATE_INCREMENTAL, then VM_POPULATE until the memory
 * is all there: progress shown in place once it takes a while, typed input
 * read meanwhile. The VM id, or the error (nothing is left behind then).
 */
int64_t vm_create_shown(const struct tern_vm_create *args);
int image_load(uint32_t vm, const struct tern_module *mod, uint64_t mem_size,
	       uint32_t nr_vcpus, char *why, size_t whylen);
/* VM_WRITE of len bytes, TERN_IO_MAX at a time, taking typed input between: 0 or the error. */
int64_t copy_to_vm(uint32_t vm, uint64_t dst, const uint8_t *src, uint64_t len);

/* --- kimage.c: unmodified kernels (--kernel, --initrd, --cmdline) ---------- */
struct vm_def;
/* Plans d's kernel on d's memory map and platform; false after why. Keeps the plan. */
bool kernel_fits(const struct vm_def *d);
/* Applies the kept plan to the CREATED VM and sets vCPU 0's entry. 0, or -1 with why. */
int kernel_load(uint32_t vm, char *why, size_t whylen);
/* The kept plan's kernel format ("bzImage", "vmlinux", "Multiboot"). */
const char *kernel_kind(void);

/* --- cmd_vm.c: VMs from definitions (defs.h) ------------------------------ */
struct vm_def;
/* The boot module image names if a guest can be made of it; else NULL after why (usage: with
 * verb's usage line). */
const struct tern_module *image_check(const char *verb, const char *image, bool usage);
/* Whether mod runs in d's memory on this host; false after why. */
bool image_fits(const struct tern_module *mod, const struct vm_def *d,
		const struct tern_host_info *hi);
/*
 * The image options of create and define into d: IMAGE, or --kernel IMAGE with
 * --initrd and --cmdline (NULL: not given), checked against d's memory and vCPUs. 0, or -1
 * after why.
 */
int def_take_image(const char *verb, struct vm_def *d, const char *image, const char *kernel,
		   const char *initrd, const char *cmdline, const struct tern_host_info *hi);
/* Makes d's VM (created, loaded, not started) and records its id in d; 0, or -1 after why. */
int vm_build(struct vm_def *d, bool say);
/* Stops the VM if it runs and destroys it; d (NULL: none) records why it ended and is
 * forgotten if transient, unless keep. 0, or -1 after why. */
int vm_hard_destroy(const char *verb, struct tern_vm_info *in, struct vm_def *d, bool keep);
/*
 * Drops what the definitions say of VMs that are gone; shuts off VMs whose
 * guest powered off and restarts those that reset. True if it printed.
 */
bool defs_sync(void);
/* A VM or a definition by id or name: 1 (info, and *d if the shell has the VM's definition,
 * else NULL), 0 for a shut-off definition (*d), -1 after "no VM with id or name". */
int vm_or_def(const char *arg, struct tern_vm_info *info, struct vm_def **d);

/* --- verbs ---------------------------------------------------------------- */
struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *summary;
	const char *help; /* more lines, or NULL */
};
void shell_exec(char *line);
const struct verb *verb_find(const char *name);

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_clone(int argc, char **argv);
int cmd_define(int argc, char **argv);
int cmd_undefine(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_autostart(int argc, char **argv);
/* At the shell's start: runs the define lines of the boot module "defs", starts autostart VMs. */
void vm_autostart(void);
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_vcpu_list(int argc, char **argv);
int cmd_vcpu_pin(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_log(int argc, char **argv);

/* --- --json output (cmd_show.c; the writer is json.h) ---------------------- */
struct json;
/* The console as a JSON sink (ctx unused). */
void json_con(void *ctx, const char *s, size_t n);
/* Finishes the document and its line; 0, or -1 after an error line if it was malformed. */
int json_done(struct json *j);
/* images --json */
int images_json(void);
/* Tab completion for the line editor (complete.c; see le_complete_fn in lineedit.h). */
struct le;
void shell_complete(void *ctx, struct le *le, const char *line, unsigned int start,
		    const char *word);
/* The verb table, for completion: the i-th verb, or NULL past the last. */
const struct verb *verb_at(unsigned int i);

#endif
