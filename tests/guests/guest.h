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
 *   - CR4.OSFXSR clear: no SSE, so guests build with -mgeneral-regs-only. A
 *     guest may enable SSE/AVX/AVX-512 itself (CR0.EM/TS clear, CR4.OSFXSR,
 *     CR4.OSXSAVE, XSETBV; CPUID leaf 0xD lists the XCR0 components
 *     offered). The x87/SSE/AVX/AVX-512/PKRU registers, XCR0, DR0-DR3, DR6,
 *     CR2 and IA32_TSC_AUX are each vCPU's own: no other vCPU ever sees
 *     them, and they survive switches and moves (tests/guests/fpuiso.c).
 *   - RSP = top of guest memory, RDI = guest memory size in bytes,
 *     RSI = vCPU index (0), RDX = VM id (1, 2, 3...), RCX = number of vCPUs
 *     of the VM (N >= 1).
 *   - Guest RAM is [0, memsize), and the rest of a VM's RAM, if it has more
 *     than fits below the device hole at 3 GiB (or its ram_below_4g), from
 *     4 GiB on. Any guest gets its memory map from TERN_HC_VM_MEMMAP with
 *     TERN_VM_SELF, as firmware's e820 would tell it. Tern's structures for the guest (page
 *     tables, GDT) occupy GPA 0x1000-0x7fff; guests may read them but do not
 *     own them. The rest of the low 1 MiB (0x8000-0xfffff) is the guest's,
 *     e.g. for an AP start-up trampoline. An instruction fetch from a GPA
 *     >= memsize is an EPT violation: Tern stops the VM. A data access there
 *     is MMIO: a platform device, or open bus (reads all-ones, writes
 *     dropped), through Tern's instruction emulator (docs/devices.md).
 *
 * Multiprocessor VMs
 *   - Only vCPU 0 (the BSP, APIC ID 0) starts as above. vCPUs 1..N-1 (APIC
 *     IDs 1..N-1) wait for INIT-SIPI-SIPI, as on a real machine: after an INIT
 *     and then a start-up IPI with vector V, the AP starts in 16-bit real mode
 *     at CS:IP = (V << 8):0000 (GPA V << 12) with interrupts off. A SIPI to
 *     an AP that is already running is ignored.
 *   - Each vCPU has its own local APIC and IA32_APIC_BASE (the BSP bit 8 is
 *     set on vCPU 0 only).
 *
 * Local APIC (SDM Vol. 3A, chapter 10)
 *   - CPUID.1:ECX bit 21 (x2APIC) and bit 24 (TSC-deadline timer) are set.
 *   - IA32_APIC_BASE (MSR 0x1b) reads 0xfee00900 on vCPU 0 and 0xfee00800 on
 *     the others: enabled, xAPIC mode. Setting bit 10 (EXTD) switches that
 *     vCPU to x2APIC mode, where register R is MSR 0x800 + (R >> 4); in xAPIC
 *     mode it is 32-bit MMIO at 0xfee00000 + R. The guests access xAPIC
 *     registers only with "mov r32, [r64]" (8B /r) and "mov [r64], r32"
 *     (89 /r) (apic.h).
 *   - The timer counts down at the TSC rate divided by the divide
 *     configuration; one-shot, periodic and TSC-deadline (IA32_TSC_DEADLINE,
 *     MSR 0x6e0: fires when TSC >= deadline, then reads 0; writing 0 disarms).
 *   - Periodic mode ticks at most once every 50 us (VLAPIC_MIN_PERIOD_US,
 *     by Tern's TSC rate): a shorter period (initial count x divider, in TSC
 *     ticks) is lengthened to 50 us, and the current count then runs from the
 *     initial count down to 0 over that longer period. One-shot and
 *     TSC-deadline timers are not clamped.
 *   - While the LVT timer entry is masked the timer goes on counting (the
 *     current count reads as usual) but interrupts nothing. Expiries that
 *     pass while it is masked are not delivered; a periodic timer unmasked
 *     ticks next at its next period boundary.
 *   - A vCPU woken from HLT by an interrupt may run ahead of the vCPUs
 *     sharing its CPU for a short while; its timers buy it no more than its
 *     share of the CPU otherwise.
 *   - Interrupts are delivered with RFLAGS.IF = 1; handlers write EOI. HLT
 *     with interrupts on waits for the next interrupt (or NMI).
 *   - CR8 is TPR[7:4] of the vCPU's own local APIC (SDM Vol. 3A, 10.8.6):
 *     MOV to CR8 sets TPR to (value & 0xf) << 4 (#GP if bits 63:4 are set),
 *     MOV from CR8 reads TPR >> 4. Lowering TPR, through CR8 or the APIC
 *     register, lets an interrupt it held back in before the next
 *     instruction. It never touches the physical APIC.
 *   - ICR (x2APIC: destination in bits 63:32; xAPIC: ICR_HI bits 31:24):
 *     delivery modes fixed, lowest priority (to one vCPU of the destination
 *     set: the lowest TPR, ties to the lowest APIC ID), NMI, INIT (0x4500)
 *     and start-up (0x4600 | V). Destinations: the shorthands self, all, all
 *     but self; physical (an APIC ID, or 0xff / 0xffffffff for all); logical:
 *     xAPIC flat or cluster model by DFR, matched against each vCPU's LDR;
 *     x2APIC cluster (bits 31:16) and member mask (15:0), each vCPU's LDR
 *     being read-only (APIC ID >> 4) << 16 | 1 << (APIC ID & 15). SMI and
 *     ExtINT are logged once and dropped.
 *   - NMIs (from NMI IPIs) are taken at once unless the guest blocks them:
 *     one arriving in the NMI handler is held until its IRET, as on
 *     hardware. (On a CPU without VMX virtual NMIs they are logged once and
 *     dropped.)
 *
 * Real-mode guests (build/guests/NAME.bin)
 *   - Flat binary loaded at GPA 0x7c00, entered at CS:IP = 0000:7c00 in
 *     16-bit real mode with interrupts off.
 *
 * Console (docs/devices.md, "16550A UART")
 *   - A virtual 16550A (COM1) at I/O ports 0x3f8-0x3ff. Each byte written to
 *     THR (0x3f8, LCR.DLAB = 0) is printed at once. LSR (0x3fd) always has
 *     THRE and TEMT set (0x60: transmitter empty), so no polling is needed
 *     before a write. Tern logs each complete line as "[vmname] line", so
 *     guests print whole lines ending in '\n'. Those log lines are
 *     rate-limited per VM (a burst of 8 KiB, then 4 KiB a second, counting
 *     the time stamp and name): past that, whole lines are left out of the
 *     log and a log line says how many. Every VM's output, every byte of
 *     it, is also kept in a 4 KiB ring (TERN_HC_CONSOLE_READ); while a
 *     management guest runs, that ring is the only place other VMs' lines
 *     go, and the management guest's own bytes go to the serial console
 *     unchanged (it sends its own "\r\n"; docs/hypercalls.md).
 *   - Receive side: the VM's receive FIFO (256 bytes) is the UART's receiver
 *     FIFO. The management guest fills it with TERN_HC_CONSOLE_WRITE (for
 *     the management guest itself: what is typed on the serial console).
 *     LSR bit 0 (DR, data ready) is set while input waits; each read of RBR
 *     (0x3f8, DLAB = 0) while DR is set pops one byte.
 *   - Interrupts, as on a PC 16550A: IER (0x3f9) enables received data and
 *     character timeout (bit 0), THR empty (bit 1), line status (bit 2) and
 *     modem status (bit 3); IIR (0x3fa) names the highest pending one; FCR
 *     (0x3fa, write) turns on the FIFO and sets the RX trigger level (1, 4,
 *     8, 14). The interrupt reaches ISA IRQ 4 (8259A master IR4, I/O APIC
 *     pin 4) only while MCR (0x3fc) bit 3, OUT2, is set. THR empty is
 *     pending again right after each THR write. Input that
 *     TERN_HC_CONSOLE_WRITE delivers raises the receive interrupt at once.
 *     Guests may instead poll LSR with IER = 0, as these test guests do.
 *
 * Platform devices (docs/devices.md)
 *   - Every VM has the same PC platform, with no firmware and no ACPI
 *     tables: 8259A pair (0x20, 0xa0, ELCR 0x4d0), 8254 PIT (0x40-0x43,
 *     IRQ 0 -> I/O APIC pin 2) and port 0x61, 8042 (0x60, 0x64; reset
 *     only, no keyboard), MC146818A RTC/CMOS (0x70-0x71, IRQ 8), POST port
 *     0x80, the 16550A above (IRQ 4), ACPI PM1a block and PM timer
 *     (0x600-0x60b, SCI on IRQ 9), PCI configuration mechanism #1 with a
 *     host bridge only (0xcf8-0xcff), reset control 0xcf9, and an I/O APIC
 *     (MMIO 0xfec00000). The 8259A's output reaches vCPU 0 only, through
 *     LINT0 programmed as ExtINT. docs/devices.md has every register.
 *   - ACPI S5 (PM1_CNT 0x604 = 0x3400) ends the VM as FINISHED with
 *     TERN_VMF_POWERED_OFF; a reset through 0xcf9 or the 8042 ends it as
 *     FINISHED with TERN_VMF_RESET. Tern never restarts a VM itself.
 *   - Device timers run on vCPU 0, and guest time (the TSC since VM
 *     creation) does not stop while the VM is paused.
 *
 * CPUID
 *   - Leaf 1: ECX bit 5 (VMX) reads 0, ECX bit 31 (hypervisor) reads 1.
 *   - Leaf 0x40000000: EAX = 0x40000001 (max hypervisor leaf),
 *     EBX, ECX, EDX = "TernTernTern" (TERN_CPUID_SIGNATURE in each).
 *   - Leaf 0x40000001: EAX = TERN_ABI_VERSION.
 *
 * VMCALL (the hypercall ABI: vmm/abi.h, normative text docs/hypercalls.md)
 *   - At CPL 0: RAX = call number, arguments in RDI, RSI, RDX, RCX; result in
 *     RAX (>= 0 success, -TERN_Exxx failure); every other register is kept.
 *     Pointers are guest-physical addresses (here the identity map makes a
 *     pointer its own GPA).
 *   - Call 0 (TERN_HC_VERSION) returns TERN_ABI_VERSION (0x10000) to every
 *     guest. A number >= TERN_HC_COUNT returns -TERN_ENOSYS. Every other call
 *     needs management rights: an ordinary guest gets -TERN_EPERM (counted in
 *     its denied_calls, the first one logged) and simply goes on. From CPL 3
 *     every known call gets -TERN_EPERM, whoever the guest is.
 *
 * The management guest (mgmt=IMAGE on Tern's command line)
 *   - Entered like the other long-mode guests (RCX = 1 vCPU), except RSI =
 *     TERN_MODULES_GPA, the GPA of a read-only struct tern_module_dir listing
 *     every boot module (mapped read-only in the same window above its RAM).
 *   - Holds management rights; its virtual UART is the serial console.
 *
 * Control registers and MSRs (SDM Vol. 2B MOV CR, Vol. 3A 2.5, Vol. 4)
 *   - A value hardware would refuse raises #GP and changes nothing: CR0
 *     reserved bits, PG without PE, NW without CD, PG off in 64-bit code;
 *     CR4 reserved bits, VMXE and SMXE, CET, PKS, Key Locker and user
 *     interrupts (not offered; CPUID leaf 7 hides them), PAE cleared or LA57
 *     changed in long mode, PCIDE set outside long mode or with CR3[11:0]
 *     not 0, and UMIP, LA57, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP and PKE
 *     where the CPU lacks them; IA32_PAT entries other than 0, 1, 4, 5, 6,
 *     7; IA32_EFER reserved bits, NXE without NX, LME changed while paging.
 *   - Any GPR, RSP included, may be the operand of MOV CR and of the xAPIC
 *     MOVs above.
 *
 * Other
 *   - Unknown I/O ports read as all-ones and ignore writes; after 100000
 *     such bytes (VM_IO_STORM_LIMIT) over its life the VM is stopped.
 *   - Unknown MSRs raise #GP in the guest.
 *   - "cli; hlt" (halted with interrupts off) stops that vCPU for good; the VM
 *     ends cleanly once every vCPU that was started has stopped.
 *
 * Conventions of these guests: each prints "<name>: start" first and, when it
 * finishes normally, "<name>: done" last, then halts. Anything unexpected is
 * reported on a line "<name>: ERROR ...".
 */
#ifndef TERN_TESTS_GUESTS_GUEST_H
#define TERN_TESTS_GUESTS_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/abi.h"

#define BIT(n) (1ull << (n))

/* Guest physical layout (guest.ld links images at GUEST_LOAD_ADDR). */
#define GUEST_LOAD_ADDR    0x100000ull
#define GUEST_REALMODE_ADDR 0x7c00u

/* The virtual 16550 (COM1). */
#define UART_COM1_PORT 0x3f8u
#define UART_RBR       0u /* receive buffer (read), THR (write) */
#define UART_LSR       5u /* line status register, offset from the base */
#define UART_LSR_DR    BIT(0) /* data ready: a byte waits in RBR */
#define UART_LSR_THRE  BIT(5)
#define UART_LSR_TEMT  BIT(6)

/* CPUID (SDM Vol. 2A, CPUID; hypervisor leaves per the Tern ABI above). */
#define CPUID_LEAF_BASIC    0x00000000u
#define CPUID_LEAF_FEATURES 0x00000001u
#define CPUID_1_ECX_VMX        BIT(5)
#define CPUID_1_ECX_HYPERVISOR BIT(31)
#define CPUID_LEAF_HV_BASE  0x40000000u
#define CPUID_LEAF_HV_ABI   0x40000001u
#define TERN_CPUID_HV_MAX   0x40000001u

/*
 * A hypercall result for error e. The TERN_Exxx constants are unsigned int:
 * -TERN_EPERM alone is 0xffffffff, which never equals an int64_t -1.
 */
#define TERN_ERR(e) (-(int64_t)(e))

/* MSRs (SDM Vol. 4). */
#define MSR_IA32_TSC 0x00000010u

/* Exception vectors (SDM Vol. 3A, 6.3.1); 32..255 are for interrupts. */
#define X86_VEC_BP 3u
#define X86_VEC_DF 8u
#define X86_VEC_GP 13u
#define X86_NR_EXCEPTIONS 32u
#define X86_NR_VECTORS 256u

/* Each guest names itself; the library prefixes its lines with the name. */
extern const char guest_name[];

/* Entered by start.asm on vCPU 0 with the registers Tern set (see above). */
void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus);

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

static inline uint32_t inl(uint16_t port)
{
	uint32_t val;

	__asm__ volatile("inl %1, %0" : "=a"(val) : "Nd"(port) : "memory");
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

/* A hypercall without arguments (TERN_HC_VERSION): RAX only. */
static inline int64_t vmcall(uint64_t nr)
{
	uint64_t rax = nr;

	__asm__ volatile("vmcall" : "+a"(rax) : : "memory");
	return (int64_t)rax;
}

/*
 * A hypercall with up to four arguments (docs/hypercalls.md). Tern keeps
 * RDI, RSI, RDX and RCX, so they are plain inputs; "memory" because calls
 * read and write guest memory through the pointers.
 */
static inline int64_t vmcall4(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	uint64_t rax = nr;

	__asm__ volatile("vmcall"
			 : "+a"(rax)
			 : "D"(a1), "S"(a2), "d"(a3), "c"(a4)
			 : "memory");
	return (int64_t)rax;
}

/* Whether a byte waits in the virtual UART's receive FIFO (LSR.DR). */
static inline bool uart_rx_ready(void)
{
	return inb(UART_COM1_PORT + UART_LSR) & UART_LSR_DR;
}

/* Pops one received byte; call only after uart_rx_ready(). */
static inline uint8_t uart_rx(void)
{
	return inb(UART_COM1_PORT + UART_RBR);
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

/* Control and debug registers (CPL 0), for the guests that abuse or check them. */
#define GUEST_CR_ACCESS(n)                                                    \
	static inline uint64_t read_cr##n(void)                               \
	{                                                                     \
		uint64_t v;                                                   \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));             \
		return v;                                                     \
	}                                                                     \
	static inline void write_cr##n(uint64_t v)                            \
	{                                                                     \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");    \
	}
GUEST_CR_ACCESS(0)
GUEST_CR_ACCESS(2)
GUEST_CR_ACCESS(3)
GUEST_CR_ACCESS(4)
GUEST_CR_ACCESS(8)
#undef GUEST_CR_ACCESS

#define GUEST_DR_ACCESS(n)                                                    \
	static inline uint64_t read_dr##n(void)                               \
	{                                                                     \
		uint64_t v;                                                   \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));             \
		return v;                                                     \
	}                                                                     \
	static inline void write_dr##n(uint64_t v)                            \
	{                                                                     \
		__asm__ volatile("mov %0, %%db" #n : : "r"(v));               \
	}
GUEST_DR_ACCESS(0)
GUEST_DR_ACCESS(1)
GUEST_DR_ACCESS(2)
GUEST_DR_ACCESS(3)
GUEST_DR_ACCESS(6)
#undef GUEST_DR_ACCESS

/* Halted with interrupts off: Tern stops this vCPU. Loops in case of an NMI. */
static inline __attribute__((noreturn)) void guest_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

/* Raw output, not serialized between vCPUs. */
void guest_putc(char c);
void guest_puts(const char *s);
/*
 * Formats and prints as is: the caller supplies any newline. Each call's
 * output is printed under a console lock, so vCPUs do not interleave it.
 */
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints one whole line "<guest_name>: <formatted>\n", under the console lock. */
void guest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "<guest_name>: done" and halts. */
__attribute__((noreturn)) void guest_done(void);

/* --- exceptions and interrupts (trap.c, trap_entry.asm) --------------------- */

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
/* Handles one interrupt (EOI included); the frame is then resumed. */
typedef void (*guest_irq_fn)(struct guest_trap_frame *frame);

/*
 * Builds and loads an IDT of all 256 vectors: the 32 exception vectors are
 * routed to fn (may be NULL), interrupt vectors to the guest_irq_install()
 * handlers. An exception fn does not handle, or an interrupt with no
 * handler, is reported as an ERROR line, then the vCPU halts. Handlers run
 * with interrupts off (interrupt gates).
 */
void guest_trap_install(guest_trap_fn fn);
/* Loads the IDT built by guest_trap_install() on this vCPU (for APs). */
void guest_trap_load(void);
/* Routes interrupt vector (32..255) to fn; NULL makes it unexpected again. */
void guest_irq_install(unsigned int vector, guest_irq_fn fn);

#endif
