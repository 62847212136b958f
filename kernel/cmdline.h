/* SPDX-License-Identifier: MIT */
/*
 * Kernel command line: "key=value" words separated by spaces. Table-driven;
 * every unknown key or bad value is reported through the callback with a
 * sentence saying what was wrong and what is accepted, and the option keeps
 * its default. Pure logic, unit-tested on the host.
 */
#ifndef TERN_KERNEL_CMDLINE_H
#define TERN_KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum console_kind {
	CONSOLE_AUTO = 0, /* ACPI SPCR when present, else COM1 */
	CONSOLE_IO,       /* 16550 at an I/O port */
	CONSOLE_NONE,
};

enum boot_action { ACTION_HALT = 0, ACTION_POWEROFF, ACTION_REBOOT };

enum crash_kind {
	CRASH_NONE = 0,
	CRASH_DE, /* divide error */
	CRASH_UD, /* invalid opcode */
	CRASH_GP, /* general protection (non-canonical access) */
	CRASH_PF, /* page fault (unmapped address) */
	CRASH_BP, /* int3 */
	CRASH_STACK, /* stack overflow into the guard page: #DF on its IST stack */
	CRASH_PANIC, /* panic() itself */
	CRASH_STALL, /* once VMs run, the last CPU spins 3 s with interrupts off (watchdog test) */
	CRASH_TPR,   /* once VMs run, the last CPU raises its task priority to 15 (watchdog test) */
};

enum apic_mode_opt { APIC_OPT_AUTO = 0, APIC_OPT_XAPIC, APIC_OPT_X2APIC };

#define LOG_LEVEL_ERROR 0
#define LOG_LEVEL_WARN  1
#define LOG_LEVEL_INFO  2
#define LOG_LEVEL_DEBUG 3

#define BOOT_MAX_VMS 16
#define VM_NAME_MAX  32
#define VM_MEM_MIN   (2ull << 20)  /* the low 1 MiB holds Tern-built structures */
#define VM_MEM_MAX   (64ull << 30)
#define TIMESLICE_DEFAULT_US 10000u
#define VM_MAX_VCPUS_OPT 8
#define RESERVE_DEFAULT (8ull << 20)

/* A VM declared on the command line: vm=NAME[,image=MODULE][,mem=SIZE][,cpu=N][,vcpus=N] */
struct boot_vm_spec {
	char name[VM_NAME_MAX];
	char image[64];  /* boot module name; defaults to the VM name */
	uint64_t mem;    /* bytes; default 16 MiB */
	int32_t cpu;     /* physical CPU to pin to; -1: least loaded */
	uint32_t vcpus;  /* 1..VM_MAX_VCPUS_OPT */
	uint64_t ram_below_4g; /* bytes of RAM under the 3 GiB hole at most; 0: as much as fits */
};

struct boot_options {
	enum console_kind console;
	uint16_t console_port; /* CONSOLE_IO */
	uint32_t console_baud; /* 0: keep the default 115200 (or SPCR's) */
	int loglevel;          /* LOG_LEVEL_* */
	enum boot_action after_boot; /* once every CPU is up */
	enum boot_action on_panic;
	enum crash_kind crash; /* test option: fault deliberately after boot */
	uint32_t maxcpus;      /* 0: all */
	enum apic_mode_opt apic;
	uint32_t timeslice_us; /* vCPU time slice */
	uint32_t shuffle_ms;   /* test option: move every unpinned vCPU this often */
	bool no_tpr_shadow;    /* test option tpr_shadow=off: CR8 by exits, as on CPUs without it */
	uint64_t fake_feature_control; /* test option feature_control=: IA32_FEATURE_CONTROL as
					read (locked values only), 0: the real MSR */
	uint32_t nr_vms;
	struct boot_vm_spec vms[BOOT_MAX_VMS];
	bool has_mgmt;         /* mgmt=IMAGE[,mem=SIZE][,cpu=N]: the management guest */
	struct boot_vm_spec mgmt;
	uint64_t reserve;      /* bytes of free memory VM creation leaves to Tern */
};

typedef void (*cmdline_report_fn)(void *ctx, const char *msg);

/* Defaults: console auto, loglevel info, after_boot halt, panic halt. */
void cmdline_defaults(struct boot_options *opts);

/* Parse; returns the number of problems reported (0: all understood). */
int cmdline_parse(const char *cmdline, struct boot_options *opts,
		  cmdline_report_fn report, void *ctx);

#endif
