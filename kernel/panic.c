/* SPDX-License-Identifier: MIT */
/* Panic: report, stop the other CPUs, then halt, power off or reboot. */
#include <stdarg.h>
#include "kernel/panic.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/pcpu.h"
#include "arch/trap.h"
#include "arch/smp.h"
#include "arch/x86.h"

volatile bool panic_in_progress;

bool panic_begin(void)
{
	irq_disable();
	return !__atomic_exchange_n(&panic_in_progress, true, __ATOMIC_ACQ_REL);
}

void panic_finish(void)
{
	smp_stop_others();
	log_raw("*** system stopped (panic=%s)\n",
		boot_opts.on_panic == ACTION_POWEROFF ? "poweroff" :
		boot_opts.on_panic == ACTION_REBOOT ? "reboot" : "halt");
	kernel_do_action(boot_opts.on_panic);
}

void panic(const char *fmt, ...)
{
	struct pcpu *c = this_cpu_or_null();
	char msg[256];
	va_list ap;

	if (!panic_begin())
		cpu_stop();
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("\n*** PANIC on cpu%u: %s\n", c ? c->id : 0, msg);
	backtrace_print((uint64_t)__builtin_frame_address(0));
	panic_finish();
}
