/* SPDX-License-Identifier: MIT */
/* panic(): hypervisor state can no longer be trusted. Stops every CPU. */
#ifndef TERN_KERNEL_PANIC_H
#define TERN_KERNEL_PANIC_H

#include <stdbool.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* Enter the panic path from an exception; false if another CPU is already in it. */
bool panic_begin(void);
/* Stop the other CPUs and take the panic= action. */
__attribute__((noreturn)) void panic_finish(void);
extern volatile bool panic_in_progress;

#define ASSERT(cond)                                                            \
	do {                                                                    \
		if (!(cond))                                                    \
			panic("assertion '%s' failed at %s:%d", #cond, __FILE__, \
			      __LINE__);                                        \
	} while (0)

#endif
