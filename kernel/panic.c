/* SPDX-License-Identifier: MIT */
/* Panic: report, stop the other CPUs, then halt, power off or reboot (see panic.h). */
#include <stdarg.h>
#include "kernel/panic.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/cpu.h"

volatile bool panic_in_progress;
static const struct panic_ops *ops;

void panic_set_ops(const struct panic_ops *o) { ops = o; }

bool panic_begin(void)
{
	irq_disable();
	return !__atomic_exchange_n(&panic_in_progress, true, __ATOMIC_ACQ_REL);
}

void panic_finish(void)
{
	if (ops && ops->stop_others)
		ops->stop_others();
	log_raw("*** system stopped (panic=%s)\n",
		boot_opts.on_panic == ACTION_POWEROFF ? "poweroff" :
		boot_opts.on_panic == ACTION_REBOOT ? "reboot" : "halt");
	if (ops && ops->action)
		ops->action(boot_opts.on_panic);
	cpu_stop();
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!panic_begin())
		cpu_stop();
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("\n*** PANIC on cpu%u: %s\n", cpu_id(), msg);
	if (ops && ops->backtrace)
		ops->backtrace((uint64_t)__builtin_frame_address(0));
	panic_finish();
}
