/* SPDX-License-Identifier: MIT */
/* Trap dispatch: exceptions dump state and stop the system; interrupts go to handlers. */
#include "arch/trap.h"
#include "arch/desc.h"
#include "arch/apic.h"
#include "arch/x86.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "arch/pcpu.h"
#include "arch/watchdog.h"

static irq_handler_fn irq_handlers[IDT_ENTRIES];

static const char *const exc_names[32] = {
	[VEC_DE] = "#DE divide error",        [VEC_DB] = "#DB debug",
	[VEC_NMI] = "NMI",                    [VEC_BP] = "#BP breakpoint",
	[VEC_OF] = "#OF overflow",            [VEC_BR] = "#BR bound range",
	[VEC_UD] = "#UD invalid opcode",      [VEC_NM] = "#NM device not available",
	[VEC_DF] = "#DF double fault",        [VEC_TS] = "#TS invalid TSS",
	[VEC_NP] = "#NP segment not present", [VEC_SS] = "#SS stack fault",
	[VEC_GP] = "#GP general protection",  [VEC_PF] = "#PF page fault",
	[VEC_MF] = "#MF x87 error",           [VEC_AC] = "#AC alignment check",
	[VEC_MC] = "#MC machine check",       [VEC_XM] = "#XM SIMD error",
	[VEC_VE] = "#VE virtualization",      [VEC_CP] = "#CP control protection",
};

void irq_register(uint8_t vector, irq_handler_fn fn)
{
	irq_handlers[vector] = fn;
}

static bool on_stack(const struct pcpu *c, uint64_t addr)
{
	extern char boot_stack_bottom[], boot_stack_top[];

	if (c && c->stack_hi)
		return addr >= c->stack_lo && addr + 16 <= c->stack_hi;
	return addr >= (uint64_t)boot_stack_bottom && addr + 16 <= (uint64_t)boot_stack_top;
}

unsigned int backtrace_collect(uint64_t rbp, uint64_t *ret, unsigned int max)
{
	struct pcpu *c = this_cpu_or_null();
	unsigned int n = 0;

	while (n < max && rbp && !(rbp & 7) && on_stack(c, rbp)) {
		uint64_t r = ((uint64_t *)rbp)[1];
		uint64_t next = ((uint64_t *)rbp)[0];

		if (!r)
			break;
		ret[n++] = r;
		if (next <= rbp)
			break;
		rbp = next;
	}
	return n;
}

void backtrace_print(uint64_t rbp)
{
	uint64_t ret[32];
	unsigned int n = backtrace_collect(rbp, ret, 32);

	log_raw("backtrace (resolve with: addr2line -f -e build/tern.elf ADDR):\n");
	for (unsigned int i = 0; i < n; i++)
		log_raw("  #%u 0x%016lx\n", i, ret[i]);
}

static void dump_exception(const struct trap_frame *tf)
{
	struct pcpu *c = this_cpu_or_null();
	const char *name = tf->vector < 32 && exc_names[tf->vector] ? exc_names[tf->vector]
								      : "reserved exception";

	log_raw("\n*** EXCEPTION %s (vector %lu, error code 0x%lx) on cpu%u\n", name,
		tf->vector, tf->error_code, c ? c->id : 0);
	log_raw("RIP %016lx  CS %04lx  RFLAGS %016lx\n", tf->rip, tf->cs, tf->rflags);
	log_raw("RSP %016lx  SS %04lx\n", tf->rsp, tf->ss);
	log_raw("RAX %016lx  RBX %016lx  RCX %016lx  RDX %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	log_raw("RSI %016lx  RDI %016lx  RBP %016lx  R8  %016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
	log_raw("R9  %016lx  R10 %016lx  R11 %016lx  R12 %016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
	log_raw("R13 %016lx  R14 %016lx  R15 %016lx\n", tf->r13, tf->r14, tf->r15);
	log_raw("CR0 %016lx  CR2 %016lx  CR3 %016lx  CR4 %016lx\n", read_cr0(), read_cr2(),
		read_cr3(), read_cr4());
	log_raw("  #-1 0x%016lx (faulting instruction)\n", tf->rip);
	backtrace_print(tf->rbp);
}

static void handle_exception(struct trap_frame *tf)
{
	if (tf->vector == VEC_NMI && !panic_in_progress && watchdog_nmi_host(tf->rip, tf->rbp))
		return;
	if (tf->vector == VEC_NMI && panic_in_progress) {
		struct pcpu *c = this_cpu_or_null();

		if (c)
			c->state = PCPU_STOPPED;
		cpu_stop();
	}
	if (!panic_begin())
		cpu_stop();
	dump_exception(tf);
	panic_finish();
}

void trap_dispatch(struct trap_frame *tf)
{
	struct pcpu *c;

	if (tf->vector < VEC_FIRST_IRQ) {
		handle_exception(tf);
		return;
	}
	c = this_cpu_or_null();
	if (c)
		c->nr_irqs++; /* the watchdog's sign that interrupts still arrive */
	if (irq_handlers[tf->vector])
		irq_handlers[tf->vector](tf);
	else if (tf->vector != VEC_SPURIOUS)
		pr_warn("irq: unexpected interrupt on vector %lu", tf->vector);
	if (tf->vector != VEC_SPURIOUS)
		apic_eoi();
}
