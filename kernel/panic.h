/* SPDX-License-Identifier: MIT */
/*
 * panic(): hypervisor state can no longer be trusted. Stops every CPU.
 * The base only reports; what lies above it is reached through hooks
 * start-up registers (init/main.c): the backtrace and stopping the other
 * CPUs (arch/), and the panic= action (drivers/power.c). Before they are
 * registered a panic prints its message and halts this CPU.
 */
#ifndef TERN_KERNEL_PANIC_H
#define TERN_KERNEL_PANIC_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/cmdline.h"

struct panic_ops {
	void (*backtrace)(uint64_t rbp);   /* print the frames above rbp */
	void (*stop_others)(void);         /* stop every other CPU, wait for them */
	/* Halt, power off or reboot; does not return. */
	__attribute__((noreturn)) void (*action)(enum boot_action action);
};

/* Start-up, once the hooks exist; ops must stay valid. */
void panic_set_ops(const struct panic_ops *ops);

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* Enter the panic path from an exception; false if another CPU is already in it. */
bool panic_begin(void);
/* Stop the other CPUs and take the panic= action (boot_opts.on_panic). */
__attribute__((noreturn)) void panic_finish(void);
extern volatile bool panic_in_progress;

#define ASSERT(cond)                                                            \
	do {                                                                    \
		if (!(cond))                                                    \
			panic("assertion '%s' failed at %s:%d", #cond, __FILE__, \
			      __LINE__);                                        \
	} while (0)

#endif
