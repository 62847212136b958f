/* SPDX-License-Identifier: MIT */
/*
 * Starts the application processors the way an OS does: an AP trampoline
 * below 1 MiB, then INIT-SIPI-SIPI through the x2APIC ICR to APIC IDs
 * 1..N-1 (N in RCX, guest.h). Each AP reaches long mode (smp_ap.asm),
 * switches its own APIC to x2APIC mode, reports its APIC ID and checks in.
 *
 * Lines:
 *   BSP APIC ID 0, <N> vCPUs
 *   AP with APIC ID <id> online        (one per AP, in any order)
 *   <n> of <N-1> APs online
 *
 * smppit (-DSMP_PIT_ON_AP, 2 vCPUs or more): device timers go on when vCPU 0
 * stops for good. The BSP routes the PIT's IRQ 0 through the I/O APIC to
 * APIC ID 1, starts the PIT at ~1 kHz and halts with interrupts off; AP 1
 * counts the ticks against its TSC:
 *   BSP halts for good, the PIT to APIC ID 1
 *   AP 1: <n> pit ticks in <t> TSC: <hz> Hz (want 1000)   (every 250 ticks)
 * then "done" after SMP_PIT_TICKS.
 */
#include "tests/guests/apic.h"
#include "tests/guests/tick.h"

#include "kernel/string.h"

/*
 * The SIPI vector names a page below 1 MiB; Tern's page tables and GDT take
 * 0x1000-0x7fff (guest.h), so the first free page is 0x8000.
 */
#define SMP_TRAMP_PHYS   0x8000ull
#define SMP_TRAMP_MAX    0x1000ull
#define SMP_SIPI_VECTOR  (SMP_TRAMP_PHYS >> 12)

/* Stacks from the top of memory down: the BSP's, then one per AP. */
#define SMP_BSP_STACK_SIZE 0x10000ull
#define SMP_AP_STACK_SIZE  0x4000ull
/* APIC IDs are bits of ap_id_mask. */
#define SMP_MAX_VCPUS 64u

/*
 * Delays of the MP start-up sequence, in TSC ticks. An emulated or virtual
 * APIC needs none; short ones keep the guest quick under Bochs (~50M TSC/s).
 */
#define SMP_INIT_DELAY_TSC 1000000ull
#define SMP_SIPI_DELAY_TSC 100000ull
/* How long the BSP waits for every AP to check in. */
#define SMP_WAIT_TSC 200000000ull

#define CR4_PSE   BIT(4)
#define CR4_PAE   BIT(5)
#define CR4_PGE   BIT(7)
#define MSR_IA32_EFER 0xc0000080u
#define EFER_SCE  BIT(0)
#define EFER_LME  BIT(8)
#define EFER_NXE  BIT(11)

#ifdef SMP_PIT_ON_AP
const char guest_name[] = "smppit";
#else
const char guest_name[] = "smp";
#endif

/* Shared with smp_ap.asm, which reads them on each AP. */
extern const char smp_tramp_start[], smp_tramp_end[];
extern uint32_t smp_ap_cr0, smp_ap_cr3, smp_ap_cr4, smp_ap_efer, smp_ap_next_slot;
extern uint64_t smp_ap_stack_top, smp_ap_stack_size;
void smp_ap_main(void);

uint32_t smp_ap_cr0, smp_ap_cr3, smp_ap_cr4, smp_ap_efer, smp_ap_next_slot;
uint64_t smp_ap_stack_top, smp_ap_stack_size;

static uint64_t nr_vcpus_expected;
static uint32_t aps_online;
static uint64_t ap_id_mask;

static void delay_tsc(uint64_t n)
{
	uint64_t end = rdtsc() + n;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

#ifdef SMP_PIT_ON_AP
#define PIT_HZ          1193182u
#define PIT_COUNT       1193u     /* ~1000.15 Hz */
#define SMP_PIT_VEC     0x31u
#define SMP_PIT_TICKS   1000u
#define SMP_PIT_REPORT  250u
#define IOAPIC_BASE     0xfec00000ul

static volatile uint32_t pit_ticks;
static volatile bool pit_go;

static void pit_irq(struct guest_trap_frame *f)
{
	pit_ticks = pit_ticks + 1;
	x2apic_write(APIC_REG_EOI, 0);
}

static void spurious(struct guest_trap_frame *f)
{
}

static void ioapic_write(unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = val;
}

/* The BSP: IRQ 0 (I/O APIC pin 2, as the MADT's override says) to APIC ID 1, the PIT on. */
static void pit_to_ap1(void)
{
	guest_irq_install(SMP_PIT_VEC, pit_irq);
	guest_irq_install(0xff, spurious);
	outb(0x21, 0xff);                        /* the 8259A pair masked */
	outb(0xa1, 0xff);
	ioapic_write(0x10 + 2 * 2 + 1, 1u << 24); /* destination APIC ID 1 */
	ioapic_write(0x10 + 2 * 2, SMP_PIT_VEC);  /* fixed, physical, edge, unmasked */
	outb(0x43, 0x34);                        /* counter 0, LSB then MSB, mode 2 */
	outb(0x40, PIT_COUNT & 0xff);
	outb(0x40, PIT_COUNT >> 8);
	__atomic_store_n(&pit_go, true, __ATOMIC_RELEASE);
}

/* AP 1: the ticks against the TSC, in "sti; hlt" between them. */
static void ap1_count_pit(void)
{
	uint64_t khz = tick_tsc_khz(), t0 = 0;

	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	x2apic_write(APIC_REG_TPR, 0);
	while (!__atomic_load_n(&pit_go, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	for (uint32_t seen = 0; seen < SMP_PIT_TICKS;) {
		__asm__ volatile("cli" : : : "memory");
		if (pit_ticks == seen) {
			/* The STI shadow covers HLT: no wake-up is lost in between. */
			__asm__ volatile("sti; hlt" : : : "memory");
			continue;
		}
		seen = pit_ticks;
		if (seen == 1)
			t0 = rdtsc();
		if (seen > 1 && seen % SMP_PIT_REPORT == 1) {
			uint64_t t = rdtsc() - t0;

			guest_log("AP 1: %u pit ticks in %lu TSC: %lu Hz (want %u)", seen - 1, t,
				  (uint64_t)(seen - 1) * khz * 1000 / t, PIT_HZ / PIT_COUNT);
		}
	}
	guest_done();
}
#endif

/* On each AP, from smp_ap.asm, in long mode with interrupts off. */
void smp_ap_main(void)
{
	uint64_t base, id;

	guest_trap_load();
	base = rdmsr(MSR_IA32_APIC_BASE);
	if (base != APIC_BASE_RESET_AP)
		guest_log("ERROR an AP's IA32_APIC_BASE reads 0x%lx, expected 0x%llx", base,
			  APIC_BASE_RESET_AP);
	base = x2apic_enable();
	id = x2apic_read(APIC_REG_ID);
	if (!(base & APIC_BASE_EXTD))
		guest_log("ERROR AP %lu: IA32_APIC_BASE reads 0x%lx after setting EXTD", id, base);
	guest_log("AP with APIC ID %lu online", id);

	if (id == 0 || id >= nr_vcpus_expected)
		guest_log("ERROR AP with APIC ID %lu: expected 1 to %lu", id,
			  nr_vcpus_expected - 1);
	else if (__atomic_fetch_or(&ap_id_mask, BIT(id), __ATOMIC_SEQ_CST) & BIT(id))
		guest_log("ERROR two APs with APIC ID %lu", id);
	__atomic_fetch_add(&aps_online, 1, __ATOMIC_SEQ_CST);
#ifdef SMP_PIT_ON_AP
	if (id == 1)
		ap1_count_pit();
#endif
	guest_halt();
}

/* The APs start with the BSP's paging state; only the bits 32-bit code may set. */
static void smp_prepare(uint64_t memsize, uint64_t nr_aps)
{
	/* Linker symbols of two objects: subtract addresses, not pointers. */
	size_t tramp_len = (uintptr_t)smp_tramp_end - (uintptr_t)smp_tramp_start;
	uint64_t cr0, cr3, cr4;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	smp_ap_cr0 = (uint32_t)cr0;
	smp_ap_cr3 = (uint32_t)cr3;
	smp_ap_cr4 = (uint32_t)(cr4 & (CR4_PSE | CR4_PAE | CR4_PGE));
	smp_ap_efer = (uint32_t)(rdmsr(MSR_IA32_EFER) & (EFER_SCE | EFER_LME | EFER_NXE));
	if (cr3 >> 32) {
		guest_log("ERROR CR3 0x%lx is above 4 GiB: 32-bit code cannot load it", cr3);
		guest_halt();
	}

	smp_ap_stack_top = memsize - SMP_BSP_STACK_SIZE;
	smp_ap_stack_size = SMP_AP_STACK_SIZE;
	if (smp_ap_stack_top - nr_aps * SMP_AP_STACK_SIZE < (uint64_t)__image_end) {
		guest_log("ERROR %lu AP stacks do not fit in %lu bytes of memory", nr_aps,
			  memsize);
		guest_halt();
	}

	if (tramp_len > SMP_TRAMP_MAX) {
		guest_log("ERROR the AP trampoline is larger than a page");
		guest_halt();
	}
	memcpy((void *)(uintptr_t)SMP_TRAMP_PHYS, smp_tramp_start, tramp_len);
	/* Every AP store is ordered after these: the ICR write is a WRMSR. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* INIT, then two start-up IPIs (SDM Vol. 3A, 8.4.4.1). */
static void smp_start_ap(uint32_t apic_id)
{
	uint64_t dest = (uint64_t)apic_id << APIC_ICR_X2APIC_DEST_SHIFT;

	x2apic_write(APIC_REG_ICR_LO, dest | APIC_ICR_LEVEL_ASSERT | APIC_ICR_DM_INIT);
	delay_tsc(SMP_INIT_DELAY_TSC);
	for (int i = 0; i < 2; i++) {
		x2apic_write(APIC_REG_ICR_LO, dest | APIC_ICR_LEVEL_ASSERT | APIC_ICR_DM_STARTUP |
					       SMP_SIPI_VECTOR);
		delay_tsc(SMP_SIPI_DELAY_TSC);
	}
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	struct cpuid_regs r;
	uint64_t base, id, nr_aps, t0, want;
	uint32_t n;

	guest_log("start");
	guest_trap_install(NULL);

	r = cpuid(CPUID_LEAF_FEATURES, 0);
	if (!(r.ecx & CPUID_1_ECX_X2APIC)) {
		guest_log("ERROR CPUID.1:ECX 0x%x: no x2APIC", r.ecx);
		guest_halt();
	}
	base = rdmsr(MSR_IA32_APIC_BASE);
	if (base != APIC_BASE_RESET_BSP)
		guest_log("ERROR IA32_APIC_BASE reads 0x%lx, expected 0x%llx", base,
			  APIC_BASE_RESET_BSP);
	base = x2apic_enable();
	if (!(base & APIC_BASE_EXTD)) {
		guest_log("ERROR IA32_APIC_BASE reads 0x%lx after setting EXTD", base);
		guest_halt();
	}
	id = x2apic_read(APIC_REG_ID);
	guest_log("BSP APIC ID %lu, %lu vCPUs", id, nr_vcpus);
	if (id != 0)
		guest_log("ERROR the BSP has APIC ID %lu, expected 0", id);
	if (nr_vcpus == 0 || nr_vcpus > SMP_MAX_VCPUS) {
		guest_log("ERROR RCX says %lu vCPUs, expected 1 to %u", nr_vcpus, SMP_MAX_VCPUS);
		guest_halt();
	}

	nr_aps = nr_vcpus - 1;
	nr_vcpus_expected = nr_vcpus;
	smp_prepare(memsize, nr_aps);
	for (uint32_t ap = 1; ap <= nr_aps; ap++)
		smp_start_ap(ap);

	t0 = rdtsc();
	while (__atomic_load_n(&aps_online, __ATOMIC_ACQUIRE) < nr_aps &&
	       rdtsc() - t0 < SMP_WAIT_TSC)
		__asm__ volatile("pause");
	n = __atomic_load_n(&aps_online, __ATOMIC_ACQUIRE);

	guest_log("%u of %lu APs online", n, nr_aps);
	want = ((nr_vcpus == SMP_MAX_VCPUS) ? ~0ull : BIT(nr_vcpus) - 1) & ~BIT(0);
	if (n != nr_aps)
		guest_log("ERROR only %u of %lu APs came online", n, nr_aps);
	else if (__atomic_load_n(&ap_id_mask, __ATOMIC_ACQUIRE) != want)
		guest_log("ERROR APs checked in with APIC IDs 0x%lx, expected 0x%lx",
			  __atomic_load_n(&ap_id_mask, __ATOMIC_ACQUIRE), want);
#ifdef SMP_PIT_ON_AP
	if (n != nr_aps || !nr_aps)
		guest_done();
	pit_to_ap1();
	guest_log("BSP halts for good, the PIT to APIC ID 1");
	guest_halt();
#else
	guest_done();
#endif
}
