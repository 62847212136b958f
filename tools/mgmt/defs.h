/* SPDX-License-Identifier: MIT */
/*
 * VM definitions: what the shell keeps of each VM it made (image and options)
 * so that a VM can be started again after it stopped, as virsh keeps domains.
 * define makes a persistent one (kept when shut off, until undefine); create a
 * transient one (forgotten when destroyed, as virsh forgets transient domains).
 * They live in the management guest's memory only: there is no disk, so a host
 * reboot forgets them (except those the boot module "defs" holds, see cmd_vm.c).
 * Pure logic, unit-tested on the host (tests/unit/test_mgmt_defs.c).
 */
#ifndef TERN_MGMT_DEFS_H
#define TERN_MGMT_DEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/abi.h"

#define DEFS_MAX         64u  /* definitions kept, defined and created ones together */
#define DEF_IMAGE_MAX    48u  /* a boot module's name, with the NUL (struct tern_module) */
#define DEF_CPUS_MAX     48u  /* a --cpus list as typed, with the NUL */
#define DEF_REASON_MAX   (TERN_STOP_REASON_MAX + 16u) /* "crashed: " and the reason */
#define DEF_CMDLINE_MAX  4096u /* --cmdline with the NUL: a typed line at most (LE_LINE_MAX) */
#define DEF_LINE_MAX     (2 * DEF_CMDLINE_MAX + 256u) /* what def_format writes, at most */
#define DEF_DEFAULT_MEM  (16ull << 20)
#define DEF_BELOW_4G_MAX (3ull << 30) /* the hole for devices starts there (docs/devices.md) */
#define DEF_MODULE       "defs" /* the boot module of define lines the shell runs at start */

/*
 * What the shell does when a VM's guest ends it (xl.cfg's on_poweroff,
 * on_reboot, on_crash; virsh's <on_*> elements): destroy (shut off; a
 * transient VM is forgotten), restart (made anew from the definition and
 * started), preserve (kept as it ended, memory and all, until destroy).
 * DEF_ACT_DEFAULT stands for the event's default: on_poweroff destroy,
 * on_reboot restart, on_crash preserve (the crashed VM is there to look at).
 */
enum def_event { DEF_ON_POWEROFF, DEF_ON_REBOOT, DEF_ON_CRASH, DEF_EVENTS };
enum def_action { DEF_ACT_DEFAULT, DEF_ACT_DESTROY, DEF_ACT_RESTART, DEF_ACT_PRESERVE };

struct vm_def {
	bool used;
	bool persistent; /* made by define; else by create (transient) */
	bool autostart;  /* started when the shell starts */
	bool has_vm;     /* vm_id is the hypervisor's VM of this definition */
	uint32_t vm_id;
	char name[TERN_NAME_MAX];
	char image[DEF_IMAGE_MAX];
	bool kernel;             /* image is a kernel (--kernel), loaded with initrd and cmdline */
	char initrd[DEF_IMAGE_MAX];  /* --initrd: "" for none */
	char cmdline[DEF_CMDLINE_MAX]; /* --cmdline */
	uint64_t mem_size;
	uint64_t ram_below_4g; /* --ram-below-4g: 0 for as much as fits below the hole */
	uint32_t nr_vcpus;
	char cpus[DEF_CPUS_MAX]; /* "" for any CPU */
	char reason[DEF_REASON_MAX]; /* why its last VM ended; "" if it never had one */
	uint8_t on[DEF_EVENTS];  /* enum def_action for each enum def_event */
	bool reboot_asked;       /* reboot pressed the power button: the power-off restarts it */
	bool preserved;          /* its VM ended and is kept (preserve): nothing more to do */
};

/* The host's bounds for the options. */
struct def_limits {
	uint32_t nr_cpus;
	uint32_t max_vcpus;
};

/*
 * Sets d's memory, vCPUs and CPU list from the option values (NULL: not given,
 * the default), checked as create checks them. 0, or -1 with the message in err.
 */
int def_set_opts(struct vm_def *d, const char *mem, const char *vcpus, const char *cpus,
		 const struct def_limits *lim, char *err, size_t errlen);

/*
 * --ram-below-4g (NULL: not given): at most that much RAM below the hole at
 * 3 GiB, the rest from 4 GiB on. Call after def_set_opts. 0 or -1 with err.
 */
int def_set_below_4g(struct vm_def *d, const char *val, char *err, size_t errlen);
/*
 * --on-poweroff, --on-reboot, --on-crash (NULL: not given, the default):
 * each "destroy", "restart" or "preserve". 0 or -1 with err.
 */
int def_set_actions(struct vm_def *d, const char *const val[DEF_EVENTS], char *err, size_t errlen);
/* What d does on ev: its action, or the event's default (never DEF_ACT_DEFAULT). */
enum def_action def_action(const struct vm_def *d, enum def_event ev);
/* "destroy", "restart", "preserve"; and the events' names, "poweroff", "reboot", "crash". */
const char *def_action_name(enum def_action a);
const char *def_event_name(enum def_event ev);

/* Bytes of RAM from GPA 0 on: what an image is loaded into. */
uint64_t def_low_ram(const struct vm_def *d);

/* The VM_CREATE arguments of d (vCPU i pinned to the i-th CPU of its list, cycling). */
void def_create_args(const struct vm_def *d, const struct def_limits *lim,
		     struct tern_vm_create *args);

/*
 * "define NAME IMAGE --mem SIZE[ --ram-below-4g SIZE] --vcpus N[ --cpus LIST][ --on-EVENT ACTION]...[ --autostart]",
 * with "--kernel IMAGE[ --initrd IMAGE][ --cmdline 'WORDS']" for IMAGE if a kernel
 * (the command line quoted as sh reads it back): define takes it back.
 */
void def_format(const struct vm_def *d, char *buf, size_t size);

/* Bytes with the largest unit that divides them exactly: "8M", "1G", "4100K". */
void def_format_size(uint64_t bytes, char *buf, size_t size);

/* --- the table ------------------------------------------------------------ */
/* The definition of that name, or NULL. */
struct vm_def *defs_find(const char *name);
/* A new empty definition of that name, or NULL if the table is full. */
struct vm_def *defs_add(const char *name);
void defs_remove(struct vm_def *d);
/* The i-th slot (i < DEFS_MAX), used or not. */
struct vm_def *defs_slot(unsigned int i);
/* Forgets every definition (for tests). */
void defs_clear(void);

/* A persistent definition that has no VM now: a "shut off" row of list --all. */
struct def_row {
	const char *name;
	const char *image;
	const char *cpus;   /* "-" for any */
	const char *reason; /* "" if it never ran */
	uint64_t mem_size;
	uint32_t nr_vcpus;
	bool autostart;
};
#define DEF_STATE_SHUT_OFF "shut off" /* virsh's name for a defined domain that is not running */
/* The i-th shut-off definition, in the table's order; false past the last. */
bool defs_shut_off(unsigned int i, struct def_row *row);

#endif
