/* SPDX-License-Identifier: MIT */
/*
 * The platform every Tern VM has (docs/devices.md), checked from inside:
 * PCI configuration (host bridge, absent functions), open bus, port 0x80,
 * REP OUTSB to the console (forwards and backwards), a periodic 8254 tick
 * through the 8259A (ExtINT on LINT0) and through the I/O APIC (pin 2),
 * counted against the TSC, the MC146818 clock advancing one second per
 * second with its update-in-progress window, the PM timer's rate, and last
 * an ACPI S5 power-off. Built also as resetcf9 and resetkbc, which reset
 * their platform instead, and as acpibtn, which waits for the ACPI power
 * button (SCI on IRQ 9, level-triggered through the 8259A) and then powers
 * off as an ACPI operating system does, and as pitticker, which prints
 * "pit tick N" every 100 PIT interrupts through the I/O APIC, forever (its
 * ticks need the PIT, I/O APIC and LAPIC state: a clone's test).
 */
#include "tests/guests/guest.h"
#include "tests/guests/apic.h"
#include "tests/guests/tick.h"

#if defined(PLATFORM_PIT_TICKER)
const char guest_name[] = "pitticker";
#elif defined(PLATFORM_POWER_BUTTON)
const char guest_name[] = "acpibtn";
#elif defined(PLATFORM_RESET_CF9)
const char guest_name[] = "resetcf9";
#elif defined(PLATFORM_RESET_KBC)
const char guest_name[] = "resetkbc";
#else
const char guest_name[] = "platform";
#endif

#define PIT_HZ        1193182u
#define PIT_COUNT     1193u     /* ~1000.15 Hz */
#define PIT_TICKS     100u
#define VEC_PIC_BASE  0x20u
#define VEC_IOAPIC    0x31u
#define IOAPIC_BASE   0xfec00000ul
#define PM1_CNT       0x604u
#define PM_TMR        0x608u
#define SLP_TYP_S5    (5u << 10)
#define SLP_EN        (1u << 13)
#define APIC_REG_LVT_LINT0 0x350u
#define LVT_EXTINT    (7u << 8)

static unsigned int failures;
static volatile uint64_t ticks;

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			guest_log("ERROR " __VA_ARGS__);   \
			failures++;                        \
		}                                          \
	} while (0)

static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static uint32_t pci_read(unsigned int dev, unsigned int reg)
{
	outl(0xcf8, 0x80000000u | dev << 11 | reg);
	return inl(0xcfc);
}

static void check_pci_and_open_bus(void)
{
	uint32_t id = pci_read(0, 0), class = pci_read(0, 8);

	CHECK(id == 0x12378086u, "pci 00:00.0 id 0x%x, want 0x12378086", id);
	CHECK(class >> 8 == 0x060000u, "pci 00:00.0 class 0x%x, want 0x060000", class >> 8);
	CHECK(pci_read(1, 0) == 0xffffffffu, "pci 00:01.0 reads 0x%x, want all-ones", pci_read(1, 0));
	CHECK(pci_read(31 | 1 << 5, 0) == 0xffffffffu, "pci 01:1f.0 answers");
	outl(0xcf8, 0x80000000u);
	CHECK(inl(0xcf8) == 0x80000000u, "CONFIG_ADDRESS does not read back");
	CHECK(inb(0x2f8) == 0xff && inw(0x2f8) == 0xffff && inl(0x1234) == 0xffffffffu,
	      "a port with no device does not read all-ones");
	outb(0x80, 0x5a);
	CHECK(inb(0x80) == 0x5a, "port 0x80 does not keep its POST code");
	guest_log("pci and open bus ok");
}

static void check_rep_outsb(void)
{
	static const char fwd[] = "platform: rep outsb forwards\n";
	static const char back[] = "\nsdrawkcab bstuo per :mroftalp";
	const char *p = fwd;
	uint64_t n = sizeof(fwd) - 1;

	__asm__ volatile("cld; rep outsb" : "+S"(p), "+c"(n) : "d"(UART_COM1_PORT) : "memory");
	CHECK(n == 0 && p == fwd + sizeof(fwd) - 1, "rep outsb left rcx %lu", n);
	p = back + sizeof(back) - 2;
	n = sizeof(back) - 1;
	__asm__ volatile("std; rep outsb; cld" : "+S"(p), "+c"(n) : "d"(UART_COM1_PORT) : "memory");
	CHECK(n == 0 && (uintptr_t)p == (uintptr_t)back - 1, "rep outsb with DF=1 left rcx %lu", n);
}

static void pit_irq(struct guest_trap_frame *f)
{
	ticks = ticks + 1;
	outb(0x20, 0x20); /* non-specific EOI to the master 8259A */
}

static void ioapic_irq(struct guest_trap_frame *f)
{
	ticks = ticks + 1;
	x2apic_write(APIC_REG_EOI, 0);
}

static void spurious(struct guest_trap_frame *f)
{
}

static void pic_init(uint8_t master_mask)
{
	outb(0x20, 0x11); outb(0x21, VEC_PIC_BASE); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, VEC_PIC_BASE + 8); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, master_mask);
	outb(0xa1, 0xff);
}

static void pit_start(void)
{
	outb(0x43, 0x34); /* counter 0, LSB then MSB, mode 2 */
	outb(0x40, PIT_COUNT & 0xff);
	outb(0x40, PIT_COUNT >> 8);
}

/* Count PIT_TICKS interrupts; their rate against the TSC, in Hz. */
static uint64_t measure_ticks(uint64_t khz)
{
	uint64_t t0, t1, deadline = rdtsc() + khz * 5000; /* 5 s of TSC at most */

	ticks = 0;
	__asm__ volatile("sti" ::: "memory");
	while (ticks == 0 && rdtsc() < deadline)
		__asm__ volatile("hlt");
	t0 = rdtsc();
	ticks = 0;
	while (ticks < PIT_TICKS && rdtsc() < deadline)
		__asm__ volatile("hlt");
	t1 = rdtsc();
	__asm__ volatile("cli" ::: "memory");
	return ticks * khz * 1000 / (t1 - t0 ? t1 - t0 : 1);
}

static void ioapic_write(unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = val;
}

static uint32_t ioapic_read(unsigned int reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

static void check_pit(uint64_t khz)
{
	uint64_t want = PIT_HZ / PIT_COUNT, hz;
	uint32_t ver;

	guest_trap_install(NULL);
	guest_irq_install(VEC_PIC_BASE, pit_irq);
	guest_irq_install(VEC_PIC_BASE + 7, spurious);
	guest_irq_install(VEC_IOAPIC, ioapic_irq);
	guest_irq_install(0xff, spurious);
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	x2apic_write(APIC_REG_TPR, 0);

	/* Through the 8259A: IRQ 0 -> INTR -> LINT0 as ExtINT. */
	x2apic_write(APIC_REG_LVT_LINT0, LVT_EXTINT);
	pic_init(0xfe);
	pit_start();
	hz = measure_ticks(khz);
	CHECK(hz * 10 >= want * 9 && hz * 10 <= want * 11, "PIT through the PIC: %lu Hz, want %lu", hz, want);
	guest_log("pit through the pic: %lu Hz (want %lu)", hz, want);

	/* Through the I/O APIC: PIC masked, LINT0 masked, pin 2 -> vector, vCPU 0. */
	outb(0x21, 0xff);
	x2apic_write(APIC_REG_LVT_LINT0, APIC_LVT_MASKED | LVT_EXTINT);
	ver = ioapic_read(1);
	CHECK((ver & 0xff) >= 0x11 && ((ver >> 16) & 0xff) == 23, "I/O APIC version 0x%x", ver);
	ioapic_write(0x10 + 2 * 2 + 1, 0);            /* destination APIC ID 0 */
	ioapic_write(0x10 + 2 * 2, VEC_IOAPIC);       /* fixed, physical, edge, unmasked */
	CHECK(ioapic_read(0x10 + 2 * 2) == VEC_IOAPIC, "redirection entry 2 reads 0x%x",
	      ioapic_read(0x10 + 2 * 2));
	hz = measure_ticks(khz);
	CHECK(hz * 10 >= want * 9 && hz * 10 <= want * 11, "PIT through the I/O APIC: %lu Hz, want %lu", hz, want);
	guest_log("pit through the ioapic: %lu Hz (want %lu)", hz, want);
	ioapic_write(0x10 + 2 * 2, 1u << 16 | VEC_IOAPIC); /* masked again */
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

/* The TSC at the next change of the seconds register, after UIP was seen. */
static uint64_t next_second(uint64_t khz, unsigned int *uip_seen)
{
	uint8_t s = cmos(0);
	uint64_t deadline = rdtsc() + khz * 3000;

	for (;;) {
		if (cmos(0x0a) & 0x80)
			(*uip_seen)++;
		if (cmos(0) != s || rdtsc() > deadline)
			return rdtsc();
	}
}

static void check_rtc(uint64_t khz)
{
	unsigned int uip = 0;
	uint64_t t0, t1, t2, ms1, ms2;
	uint8_t b = cmos(0x0b), year = cmos(9), mon = cmos(8);

	CHECK(!(b & 0x04) && (b & 0x02), "RTC register B 0x%x: want BCD, 24-hour", b);
	CHECK(cmos(0x0d) & 0x80, "RTC register D: VRT clear");
	CHECK(mon >= 0x01 && mon <= 0x12 && (mon & 0xf) <= 9, "RTC month 0x%x", mon);
	CHECK(year >= 0x24 && (year & 0xf) <= 9, "RTC year 0x%x (the host's clock is older than 2024?)", year);
	t0 = next_second(khz, &uip);
	t1 = next_second(khz, &uip);
	t2 = next_second(khz, &uip);
	ms1 = (t1 - t0) / khz;
	ms2 = (t2 - t1) / khz;
	CHECK(ms1 >= 950 && ms1 <= 1050 && ms2 >= 950 && ms2 <= 1050,
	      "RTC seconds %lu ms and %lu ms apart, want 1000", ms1, ms2);
	CHECK(uip >= 2, "RTC update-in-progress seen %u times in 2 updates", uip);
	/* Binary mode: the same clock without BCD. */
	outb(0x70, 0x0b);
	outb(0x71, b | 0x04);
	CHECK(cmos(0) < 60 && cmos(2) < 60 && cmos(4) < 24, "RTC binary mode out of range");
	outb(0x70, 0x0b);
	outb(0x71, b);
	guest_log("rtc: seconds %lu and %lu ms apart, update-in-progress seen", ms1, ms2);
}

static void check_pm_timer(uint64_t khz)
{
	uint32_t a = inl(PM_TMR), b;
	uint64_t t0 = rdtsc(), t1, hz;

	while (rdtsc() - t0 < khz * 100) /* 100 ms of TSC */
		;
	b = inl(PM_TMR);
	t1 = rdtsc();
	hz = (uint64_t)(b - a) * khz * 1000 / (t1 - t0);
	CHECK(hz >= 3579545u * 95 / 100 && hz <= 3579545u * 105 / 100, "PM timer at %lu Hz", hz);
	guest_log("pm timer: %lu Hz", hz);
}

#define PM1_STS       0x600u
#define PM1_EN        0x602u
#define PM1_PWRBTN    (1u << 8)
#define PM1_SCI_EN    1u
#define VEC_SCI       (VEC_PIC_BASE + 8 + 1)

static volatile bool button;

/* The SCI: PWRBTN_STS set, cleared by writing it back (ACPI 6.5 4.8.3.1.1), then EOIs. */
static void sci_irq(struct guest_trap_frame *f)
{
	uint16_t sts = inw(PM1_STS);

	if (sts & PM1_PWRBTN) {
		outw(PM1_STS, PM1_PWRBTN);
		button = true;
	}
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

static __attribute__((unused)) void wait_for_power_button(void)
{
	guest_trap_install(NULL);
	guest_irq_install(VEC_SCI, sci_irq);
	guest_irq_install(VEC_PIC_BASE + 7, spurious);
	guest_irq_install(VEC_PIC_BASE + 15, spurious);
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	x2apic_write(APIC_REG_LVT_LINT0, LVT_EXTINT);
	pic_init(0xfb);            /* the cascade (IR2) open on the master */
	outb(0xa1, 0xfd);          /* IRQ 9 open on the slave */
	outb(0x4d1, 0x02);         /* ELCR: IRQ 9 level-triggered, as the SCI is */
	outw(PM1_EN, PM1_PWRBTN);
	outw(PM1_CNT, PM1_SCI_EN);
	guest_log("waiting for the power button");
	__asm__ volatile("sti" ::: "memory");
	while (!button)
		__asm__ volatile("hlt");
	__asm__ volatile("cli" ::: "memory");
	guest_log("power button pressed: powering off");
	outw(PM1_CNT, PM1_SCI_EN | SLP_TYP_S5 | SLP_EN);
	guest_log("ERROR still running after the power-off");
	guest_halt();
}

static __attribute__((unused)) void pit_ticker(void)
{
	uint64_t seen = 0;

	guest_trap_install(NULL);
	guest_irq_install(VEC_IOAPIC, ioapic_irq);
	guest_irq_install(0xff, spurious);
	x2apic_enable();
	x2apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | 0xff);
	pic_init(0xff);
	ioapic_write(0x10 + 2 * 2 + 1, 0);
	ioapic_write(0x10 + 2 * 2, VEC_IOAPIC);
	pit_start();
	guest_log("start");
	__asm__ volatile("sti" ::: "memory");
	for (;;) {
		__asm__ volatile("hlt");
		if (ticks / 100 != seen) {
			seen = ticks / 100;
			guest_log("pit tick %lu", seen);
		}
	}
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t khz = tick_tsc_khz();

#if defined(PLATFORM_PIT_TICKER)
	pit_ticker();
#endif
#if defined(PLATFORM_POWER_BUTTON)
	wait_for_power_button();
#endif
#if defined(PLATFORM_RESET_CF9)
	guest_log("resetting through 0xcf9");
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	guest_log("ERROR still running after the reset");
	guest_halt();
#elif defined(PLATFORM_RESET_KBC)
	guest_log("resetting through the keyboard controller");
	while (inb(0x64) & 0x02)
		;
	outb(0x64, 0xfe);
	guest_log("ERROR still running after the reset");
	guest_halt();
#endif
	check_pci_and_open_bus();
	check_rep_outsb();
	check_pit(khz);
	check_rtc(khz);
	check_pm_timer(khz);
	guest_log("%s: %u failures", failures ? "FAILED" : "passed", failures);
	outw(PM1_CNT, SLP_TYP_S5 | SLP_EN);
	guest_log("ERROR still running after the power-off");
	guest_halt();
}
