/* SPDX-License-Identifier: MIT */
/*
 * IDT-vectoring re-injection (issue 14), as a management guest
 * (mgmt=evreinj): an exit that comes while the CPU delivers an event loses
 * the event unless Tern injects it again (SDM vol. 3C 27.2.4, 28.2.4).
 *
 * The mgmt side makes a payload VM from this same image (its own page
 * tables, GDT and code copied in, entered at payload_main), turns on dirty
 * logging by write-protection while the VM is still CREATED, so every page
 * of its RAM is write-protected, and starts it. The payload then raises
 * each event with RSP at the top of a page nothing has written since:
 * the CPU's first push is a write to a write-protected page, an EPT
 * violation in the middle of delivery, every time, with no race to win
 * (simpler than re-protecting with FETCH in a loop: each event has its own
 * fresh page). Events: a self-IPI (external interrupt), a TSC-deadline
 * timer, a self-NMI by ICR, INT 0x30 (software interrupt: the return RIP
 * must be just past the 2-byte INT, so the instruction length was kept),
 * INT3 (#BP, a trap: RIP past the INT3) and #GP from loading DS with a
 * selector past the GDT limit (error code: that selector; RIP: the MOV).
 * Each must be handled exactly once with the right vector, error code,
 * return RIP and interrupted RSP.
 *
 * Lines (mgmt, on the serial console): "evreinj: payload: <line>" for
 * each of the payload's lines, "evreinj: log: <Tern's re-injected line>",
 * "evreinj: EPT violations N", "evreinj: passed|FAILED", "evreinj: done".
 */
#include "tests/guests/apic.h"

#include "kernel/string.h"

#define PAY_MEM        (4ull << 20)
#define PAY_FRESH_BASE 0x200000ull /* fresh stack pages: one per event, a gap between */
#define PAY_ROUNDS     2u
#define PAY_GP_SEL     0x1000u     /* past Tern's GDT limit (checked) */
#define PAY_WAIT_TSC   (20ull * 50000000) /* 20 s at 50 MHz */
#define PAY_EXIT_EPT_VIOLATION 48u /* SDM vol. 3D appendix C */

#define VEC_IPI      0x40u
#define VEC_TIMER    0x41u
#define VEC_SWINT    0x30u
#define APIC_ICR_DM_NMI     (4ull << 8)
#define APIC_ICR_SELF       (1ull << 18)

const char guest_name[] = "evreinj";

/* --- the payload (runs in the VM the mgmt side makes) -------------------- */

/*
 * Each switches RSP to top (rdi) and raises its event; the handler's IRETQ
 * comes back to RSP = top, and the old RSP is restored. ev_wrmsr_wait
 * writes MSR esi with rdx, then waits for *rcx != 0 (bounded).
 */
void ev_int30(uint64_t top);
void ev_int3(uint64_t top);
void ev_gp(uint64_t top, uint64_t sel);
void ev_wrmsr_wait(uint64_t top, uint64_t msr, uint64_t val, volatile uint32_t *flag);
extern const char ev_int30_ret[], ev_int3_ret[], ev_gp_insn[], ev_gp_ret[];
extern const char ev_wait_start[], ev_wait_end[];

__asm__(".text\n"
	".globl ev_int30, ev_int30_ret, ev_int3, ev_int3_ret, ev_gp, ev_gp_insn, ev_gp_ret\n"
	".globl ev_wrmsr_wait, ev_wait_start, ev_wait_end\n"
	"ev_int30:\n push %rbx\n mov %rsp, %rbx\n mov %rdi, %rsp\n int $0x30\n"
	"ev_int30_ret:\n mov %rbx, %rsp\n pop %rbx\n ret\n"
	"ev_int3:\n push %rbx\n mov %rsp, %rbx\n mov %rdi, %rsp\n int3\n"
	"ev_int3_ret:\n mov %rbx, %rsp\n pop %rbx\n ret\n"
	"ev_gp:\n push %rbx\n mov %rsp, %rbx\n mov %rdi, %rsp\n"
	"ev_gp_insn:\n mov %si, %ds\n"
	"ev_gp_ret:\n mov %rbx, %rsp\n pop %rbx\n ret\n"
	"ev_wrmsr_wait:\n push %rbx\n push %r12\n mov %rsp, %rbx\n mov %rcx, %r12\n"
	" mov %esi, %ecx\n mov %edx, %eax\n shr $32, %rdx\n mov %rdi, %rsp\n wrmsr\n"
	"ev_wait_start:\n mov $4000000, %r8d\n"
	"1: cmpl $0, (%r12)\n jne 2f\n pause\n dec %r8d\n jnz 1b\n"
	"2:\n"
	"ev_wait_end:\n mov %rbx, %rsp\n pop %r12\n pop %rbx\n ret\n");

enum pay_kind { K_IPI, K_TIMER, K_NMI, K_SWINT, K_BP, K_GP, K_NR };
static const char *const kind_name[K_NR] = { "self-IPI", "timer", "NMI", "int 0x30", "int3", "#GP" };
static const uint32_t kind_vec[K_NR] = { VEC_IPI, VEC_TIMER, 2, VEC_SWINT, X86_VEC_BP, X86_VEC_GP };

struct pay_hit {
	uint64_t vector, rip, rsp, error_code;
};
/* Written by the payload's handlers only. */
static volatile uint32_t pay_flag, pay_hits[X86_NR_VECTORS];
static struct pay_hit pay_last;
static unsigned int pay_errors;

static void pay_record(struct guest_trap_frame *f)
{
	pay_hits[f->vector & 0xff]++;
	pay_last = (struct pay_hit){ f->vector, f->rip, f->rsp, f->error_code };
	pay_flag = 1;
}

static void pay_irq(struct guest_trap_frame *f)
{
	pay_record(f);
	if (f->vector != VEC_SWINT)
		x2apic_write(APIC_REG_EOI, 0);
}

static bool pay_exception(struct guest_trap_frame *f)
{
	if (f->vector != 2 && f->vector != X86_VEC_BP && f->vector != X86_VEC_GP)
		return false;
	pay_record(f);
	if (f->vector == X86_VEC_GP && f->rip == (uint64_t)ev_gp_insn)
		f->rip = (uint64_t)ev_gp_ret; /* a fault: skip the MOV */
	return true;
}

#define PFAIL(...) do { guest_printf("ERROR " __VA_ARGS__); pay_errors++; } while (0)

static void pay_one(enum pay_kind k, uint64_t top)
{
	uint32_t before[K_NR], vec = kind_vec[k];
	uint64_t lo = 0, hi = 0, err = 0;

	for (int i = 0; i < K_NR; i++)
		before[i] = pay_hits[kind_vec[i]];
	pay_flag = 0;
	memset(&pay_last, 0, sizeof(pay_last));
	switch (k) {
	case K_IPI:
		ev_wrmsr_wait(top, x2apic_msr(APIC_REG_ICR_LO), APIC_ICR_SELF | VEC_IPI, &pay_flag);
		lo = (uint64_t)ev_wait_start, hi = (uint64_t)ev_wait_end;
		break;
	case K_TIMER:
		ev_wrmsr_wait(top, MSR_IA32_TSC_DEADLINE, rdtsc() + 3000, &pay_flag);
		lo = (uint64_t)ev_wait_start, hi = (uint64_t)ev_wait_end;
		break;
	case K_NMI: /* physical destination 0: this vCPU */
		ev_wrmsr_wait(top, x2apic_msr(APIC_REG_ICR_LO), APIC_ICR_DM_NMI, &pay_flag);
		lo = (uint64_t)ev_wait_start, hi = (uint64_t)ev_wait_end;
		break;
	case K_SWINT:
		ev_int30(top);
		lo = hi = (uint64_t)ev_int30_ret;
		break;
	case K_BP:
		ev_int3(top);
		lo = hi = (uint64_t)ev_int3_ret;
		break;
	default:
		ev_gp(top, PAY_GP_SEL);
		lo = hi = (uint64_t)ev_gp_insn;
		err = PAY_GP_SEL; /* selector error code: index, TI 0, IDT 0, EXT 0 (SDM 6.13) */
		break;
	}
	/* A second delivery of the same event would land in this wait. */
	for (uint64_t t = rdtsc(); rdtsc() - t < 200000;)
		__asm__ volatile("pause");
	for (int i = 0; i < K_NR; i++) {
		uint32_t d = pay_hits[kind_vec[i]] - before[i];

		if (d != (i == (int)k))
			PFAIL("%s: vector %u handled %u times\n", kind_name[k], kind_vec[i], d);
	}
	if (pay_last.vector != vec || pay_last.rip < lo || pay_last.rip > hi ||
	    pay_last.rsp != top || pay_last.error_code != err)
		PFAIL("%s: vector %lu rip 0x%lx rsp 0x%lx error 0x%lx; want vector %u rip 0x%lx-0x%lx "
		      "rsp 0x%lx error 0x%lx\n", kind_name[k], pay_last.vector, pay_last.rip,
		      pay_last.rsp, pay_last.error_code, vec, lo, hi, top, err);
	else
		guest_printf("P %s: once, vector %u, rip 0x%lx, rsp 0x%lx, error 0x%lx\n",
			     kind_name[k], vec, pay_last.rip, pay_last.rsp, pay_last.error_code);
}

void payload_main(void);
void payload_main(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
	uint64_t top = PAY_FRESH_BASE + 0x1000;

	guest_printf("P start\n");
	guest_trap_install(pay_exception);
	guest_irq_install(VEC_IPI, pay_irq);
	guest_irq_install(VEC_TIMER, pay_irq);
	guest_irq_install(VEC_SWINT, pay_irq);
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	x2apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | VEC_TIMER);
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	if (gdtr.limit >= PAY_GP_SEL)
		PFAIL("GDT limit 0x%x: selector 0x%x is inside it\n", gdtr.limit, PAY_GP_SEL);
	__asm__ volatile("sti");
	for (unsigned int r = 0; r < PAY_ROUNDS; r++)
		for (int k = 0; k < K_NR; k++, top += 0x2000)
			pay_one((enum pay_kind)k, top);
	__asm__ volatile("cli");
	guest_printf("P %s: %u events, %u errors\n", pay_errors ? "FAILED" : "passed",
		     PAY_ROUNDS * K_NR, pay_errors);
	guest_halt();
}

/* --- the management side --------------------------------------------------- */

static unsigned int failures;

/* Relays the payload's console lines from *pos on; returns whether "P passed|FAILED" came. */
static bool relay(uint32_t vm, uint64_t *pos, bool *passed)
{
	static char buf[512], line[200];
	static size_t len;
	static struct tern_stream st;
	bool end = false;
	int64_t n;

	st = (struct tern_stream){ vm, sizeof(buf), (uint64_t)(uintptr_t)buf, *pos, 0 };
	n = vmcall4(TERN_HC_CONSOLE_READ, (uint64_t)(uintptr_t)&st, 0, 0, 0);
	for (int64_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = buf[i];
			continue;
		}
		line[len] = 0;
		guest_log("payload: %s", line);
		if (!strncmp(line, "P passed", 8))
			end = *passed = true;
		if (!strncmp(line, "P FAILED", 8) || !strncmp(line, "ERROR", 5)) {
			failures++;
			end = end || line[0] == 'P';
		}
		len = 0;
	}
	if (n > 0)
		*pos = st.pos;
	return end;
}

/* Tern's "re-injected" line for the payload, from its log ring, printed. */
static void show_reinjected(void)
{
	static const char key[] = "vm pay: vcpu0 re-injected";
	static char buf[4096], line[160];
	static struct tern_stream st;
	uint64_t pos = 0;
	int64_t n;

	line[0] = 0;
	for (;;) {
		st = (struct tern_stream){ 0, sizeof(buf), (uint64_t)(uintptr_t)buf, pos, 0 };
		n = vmcall4(TERN_HC_LOG_READ, (uint64_t)(uintptr_t)&st, 0, 0, 0);
		if (n <= 0)
			break;
		for (int64_t i = 0; i + (int64_t)sizeof(key) - 1 <= n; i++) {
			size_t k = 0;

			if (memcmp(buf + i, key, sizeof(key) - 1))
				continue;
			while (i + (int64_t)k < n && buf[i + (int64_t)k] != '\n' && k < sizeof(line) - 1) {
				line[k] = buf[i + (int64_t)k];
				k++;
			}
			line[k] = 0;
		}
		if (n < (int64_t)sizeof(buf))
			break;
		pos = st.pos - sizeof(line); /* a line may straddle two reads */
	}
	guest_log("log: %s", line[0] ? line : "no re-injected line");
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	static struct tern_vm_create args;
	static struct tern_vcpu_state st;
	static struct tern_vm_info info;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
	uint64_t cr3 = read_cr3(), pos = 0, t;
	bool passed = false, ended = false;
	int64_t id, r;

	guest_log("start");
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	if (cr3 >= 0x8000 || gdtr.base < 0x1000 || gdtr.base + gdtr.limit >= 0x8000) {
		guest_log("ERROR CR3 0x%lx, GDT 0x%lx+0x%x: not in 0x1000-0x7fff", cr3, gdtr.base,
			  gdtr.limit);
		guest_halt();
	}
	memset(&args, 0, sizeof(args));
	memcpy(args.name, "pay", 4);
	args.mem_size = PAY_MEM;
	args.nr_vcpus = 1;
	args.cpus[0] = TERN_CPU_ANY;
	id = vmcall4(TERN_HC_VM_CREATE, (uint64_t)(uintptr_t)&args, 0, 0, 0);
	st = (struct tern_vcpu_state){ .mode = TERN_MODE_LONG, .cs = 0x08, .gdt_limit = gdtr.limit,
				       .rip = (uint64_t)(uintptr_t)payload_main,
				       .rsp = PAY_MEM - 8, .cr3 = cr3, .gdt_base = gdtr.base };
	/* Its page tables and GDT (Tern's, 0x1000-0x7fff), then this image. */
	if (id < 0 ||
	    vmcall4(TERN_HC_VM_WRITE, (uint64_t)id, 0x1000, 0x1000, 0x7000) ||
	    vmcall4(TERN_HC_VM_WRITE, (uint64_t)id, (uint64_t)(uintptr_t)__image_start,
		    (uint64_t)(uintptr_t)__image_start, (uint64_t)(__image_end - __image_start)) ||
	    vmcall4(TERN_HC_VCPU_SET_STATE, (uint64_t)id, 0, (uint64_t)(uintptr_t)&st, 0)) {
		guest_log("ERROR the payload VM could not be made (%ld)", id);
		guest_halt();
	}
	static struct tern_dirty_req q;
	q = (struct tern_dirty_req){ TERN_DIRTY_ENABLE, TERN_DIRTY_WRPROT, 0, 0, 0 };
	r = vmcall4(TERN_HC_VM_DIRTY_LOG, (uint64_t)id, (uint64_t)(uintptr_t)&q, 0, 0);
	if (r != TERN_DIRTY_WRPROT) {
		guest_log("ERROR dirty logging by write-protection not on (%ld)", r);
		failures++;
	} else {
		guest_log("write-protect dirty logging on, every page of the payload's RAM read-only");
	}
	if (vmcall4(TERN_HC_VM_START, (uint64_t)id, 0, 0, 0)) {
		guest_log("ERROR the payload VM did not start");
		guest_halt();
	}
	for (t = rdtsc(); !ended && rdtsc() - t < PAY_WAIT_TSC;) {
		ended = relay((uint32_t)id, &pos, &passed);
		vmcall4(TERN_HC_VM_INFO, (uint64_t)id, (uint64_t)(uintptr_t)&info, sizeof(info), 0);
		if (info.state == TERN_VM_STOPPED) {
			relay((uint32_t)id, &pos, &passed);
			guest_log("ERROR the payload was stopped: %s", info.stop_reason);
			failures++;
			break;
		}
	}
	if (!ended && info.state != TERN_VM_STOPPED) {
		guest_log("ERROR the payload did not finish");
		failures++;
	}
	/* Its vCPU halts after the last line: wait for the VM to end and Tern's report. */
	for (t = rdtsc(); rdtsc() - t < PAY_WAIT_TSC / 4;) {
		vmcall4(TERN_HC_VM_INFO, (uint64_t)id, (uint64_t)(uintptr_t)&info, sizeof(info), 0);
		if (info.state == TERN_VM_FINISHED || info.state == TERN_VM_STOPPED)
			break;
	}
	guest_log("payload state %u, EPT violations %lu, exits %lu", info.state,
		  info.exits[PAY_EXIT_EPT_VIOLATION], info.nr_exits);
	show_reinjected();
	if (!passed)
		failures++;
	vmcall4(TERN_HC_VM_STOP, (uint64_t)id, 0, 0, 0);
	for (t = rdtsc(); vmcall4(TERN_HC_VM_DESTROY, (uint64_t)id, 0, 0, 0) == TERN_ERR(TERN_EBUSY) &&
			  rdtsc() - t < PAY_WAIT_TSC;)
		;
	guest_log("%s: %u failures", failures ? "FAILED" : "passed", failures);
	guest_done();
}
