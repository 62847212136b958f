/* SPDX-License-Identifier: MIT */
/*
 * Test-guest library: what Tern promises a guest, and small helpers to use it.
 *
 * THE GUEST ABI (what Tern provides)
 *
 * Long-mode guests (build/guests/NAME.elf)
 *   - ELF64 x86_64 ET_EXEC, linked at GPA 0x100000 (1 MiB) by guest.ld. Tern
 *     copies every PT_LOAD segment to its p_paddr (== p_vaddr) and leaves the
 *     rest of p_memsz zero. Every p_paddr is >= 0x100000.
 *   - Entry at e_entry in 64-bit mode, CPL 0, paging on with an identity map
 *     of [0, 4 GiB) in 2 MiB pages (page tables built by Tern at GPA
 *     0x1000-0x6fff; GDT at 0x7000 with code64 selector 0x08, data 0x10).
 *   - Interrupts off (RFLAGS = 0x2), no IDT (IDTR limit 0): any exception
 *     escalates to a triple fault unless the guest installs its own IDT.
 *   - CR4.OSFXSR clear: no SSE, so guests build with -mgeneral-regs-only.
 *   - RSP = top of guest memory, RDI = guest memory size in bytes,
 *     RSI = vCPU index (0), RDX = VM id (1, 2, 3...).
 *   - Guest RAM is [0, memsize). The low 1 MiB holds Tern's structures for
 *     the guest (page tables, GDT); guests may read it but do not own it.
 *     Any access to a GPA >= memsize is an EPT violation: Tern stops the VM.
 *
 * Real-mode guests (build/guests/NAME.bin)
 *   - Flat binary loaded at GPA 0x7c00, entered at CS:IP = 0000:7c00 in
 *     16-bit real mode with interrupts off.
 *
 * Console
 *   - A virtual 16550 at I/O port 0x3f8: each byte written to 0x3f8 is
 *     printed. LSR (0x3fd) reads 0x60 (transmitter empty), so no polling is
 *     needed. Tern prints each complete line on the host console as
 *     "[vmname] line", so guests print whole lines ending in '\n'.
 *
 * CPUID
 *   - Leaf 1: ECX bit 5 (VMX) reads 0, ECX bit 31 (hypervisor) reads 1.
 *   - Leaf 0x40000000: EAX = 0x40000001 (max hypervisor leaf),
 *     EBX, ECX, EDX = "TernTernTern".
 *
 * VMCALL
 *   - RAX = call number, result in RAX. Call 0 (ping) returns 0; any other
 *     number returns -38 (-ENOSYS).
 *
 * Other
 *   - Unknown I/O ports read as all-ones and ignore writes.
 *   - Unknown MSRs raise #GP in the guest.
 *   - "cli; hlt" (halted with interrupts off) ends the VM cleanly.
 *
 * Conventions of these guests: each prints "<name>: start" first and, when it
 * finishes normally, "<name>: done" last, then halts. Anything unexpected is
 * reported on a line "<name>: ERROR ...".
 */
#ifndef TERN_TESTS_GUESTS_GUEST_H
#define TERN_TESTS_GUESTS_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#define BIT(n) (1ull << (n))

/* Guest physical layout (guest.ld links images at GUEST_LOAD_ADDR). */
#define GUEST_LOAD_ADDR    0x100000ull
#define GUEST_REALMODE_ADDR 0x7c00u

/* The virtual 16550 (COM1). */
#define UART_COM1_PORT 0x3f8u
#define UART_LSR       5u /* line status register, offset from the base */
#define UART_LSR_THRE  BIT(5)
#define UART_LSR_TEMT  BIT(6)

/* CPUID (SDM Vol. 2A, CPUID; hypervisor leaves per the Tern ABI above). */
#define CPUID_LEAF_BASIC    0x00000000u
#define CPUID_LEAF_FEATURES 0x00000001u
#define CPUID_1_ECX_VMX        BIT(5)
#define CPUID_1_ECX_HYPERVISOR BIT(31)
#define CPUID_LEAF_HV_BASE  0x40000000u
#define TERN_CPUID_HV_MAX   0x40000001u
#define TERN_CPUID_SIGNATURE "TernTernTern"

/* VMCALL numbers and results. */
#define TERN_HC_PING  0ull
#define TERN_ENOSYS   38

/* MSRs (SDM Vol. 4). */
#define MSR_IA32_TSC 0x00000010u

/* Exception vectors (SDM Vol. 3A, 6.3.1). */
#define X86_VEC_BP 3u
#define X86_VEC_DF 8u
#define X86_VEC_GP 13u
#define X86_NR_EXCEPTIONS 32u

/* Each guest names itself; the library prefixes its lines with the name. */
extern const char guest_name[];

/* Entered by start.asm with the registers Tern set (see above). */
void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id);

/* Linker symbols from guest.ld: the image occupies [__image_start, __image_end). */
extern char __image_start[], __bss_start[], __bss_end[], __image_end[];

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port) : "memory");
	return val;
}

/* lfence keeps rdtsc from being hoisted above the instructions it times. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf)
			 : "memory");
	return r;
}

/* One hypercall; the Tern ABI uses RAX only so far. */
static inline int64_t vmcall(uint64_t nr)
{
	uint64_t rax = nr;

	__asm__ volatile("vmcall" : "+a"(rax) : : "memory");
	return (int64_t)rax;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
}

/* Halted with interrupts off: Tern ends the VM. Loops in case of an NMI. */
static inline __attribute__((noreturn)) void guest_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

void guest_putc(char c);
void guest_puts(const char *s);
/* Formats and prints as is: the caller supplies any newline. */
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints one whole line "<guest_name>: <formatted>\n". */
void guest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "<guest_name>: done" and halts. */
__attribute__((noreturn)) void guest_done(void);

/* --- exceptions (trap.c, trap_entry.asm) ------------------------------------ */

/*
 * What trap_entry.asm leaves on the stack, lowest address first: the GPRs it
 * pushed (rax first, so r15 ends up lowest), the vector, the error code (0
 * when the CPU pushes none), then the CPU's 64-bit interrupt frame.
 */
struct guest_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Returns true when it dealt with the exception; the frame is then resumed. */
typedef bool (*guest_trap_fn)(struct guest_trap_frame *frame);

/*
 * Loads an IDT covering the 32 exception vectors, all routed to fn. An
 * exception fn does not handle is reported as an ERROR line, then the guest
 * halts.
 */
void guest_trap_install(guest_trap_fn fn);

#endif
