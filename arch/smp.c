/* SPDX-License-Identifier: MIT */
/* Bring up the application processors and park them (SDM vol. 3A 9.4.4.1). */
#include "arch/smp.h"
#include "arch/apic.h"
#include "arch/desc.h"
#include "arch/paging.h"
#include "arch/x86.h"
#include "drivers/acpi.h"
#include "drivers/tsc.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "arch/pcpu_alloc.h"
#include "kernel/string.h"
#include "kernel/panic.h"

#define INIT_DELAY_US   10000  /* after INIT */
#define SIPI_DELAY_US   200    /* between the two SIPIs */
/*
 * For the AP to report online: 10 s, as Linux waits for an AP's first sign
 * of life (arch/x86/kernel/smpboot.c, do_boot_cpu). It costs time only for
 * a CPU that never comes. 500 ms was too short under QEMU TCG with 64 CPUs
 * on 2 host cores, whose TSC is wall time: cpu8 came online just after it
 * and was reported as missing.
 */
#define AP_TIMEOUT_US   10000000

extern const char trampoline_start[], trampoline_end[];

uint64_t smp_pick_trampoline(const struct boot_mem_region *map, size_t n)
{
	/* Highest usable page below 640 KiB: clear of the BDA/EBDA and page 0. */
	for (size_t i = n; i-- > 0;) {
		uint64_t end = map[i].base + map[i].length;

		if (map[i].type != BOOT_MEM_USABLE)
			continue;
		end = end > 0xa0000 ? 0xa0000 : end;
		end &= ~(PAGE_SIZE - 1);
		if (end >= map[i].base + PAGE_SIZE && end - PAGE_SIZE >= 0x1000)
			return end - PAGE_SIZE;
	}
	return 0;
}

/* Why CPUs the processor list names were not taken: reported once, with counts. */
static uint32_t nr_over_max, nr_need_x2apic;

static bool known(uint32_t apic_id)
{
	for (uint32_t i = 0; i < nr_pcpus; i++)
		if (pcpus[i]->apic_id == apic_id)
			return true;
	return false;
}

static void add_cpu(uint32_t apic_id)
{
	struct pcpu *c;

	if (known(apic_id))
		return;
	/* An xAPIC ICR holds 8 destination bits and 0xFF is broadcast (SDM vol. 3A 11.6.1). */
	if (!apic_id_reachable(apic_id)) {
		nr_need_x2apic++;
		return;
	}
	if (nr_pcpus >= MAX_CPUS) {
		nr_over_max++;
		return;
	}
	c = pcpu_create(nr_pcpus, apic_id);
	if (!c)
		return;
	pcpus[nr_pcpus++] = c;
}

/* The CPU list: the MADT when there is one, else the loader's (MP Services). */
static const char *discover(void)
{
	if (acpi_present && acpi.has_madt) {
		for (uint32_t i = 0; i < acpi.nr_cpus; i++)
			if (acpi.cpus[i].enabled)
				add_cpu(acpi.cpus[i].apic_id);
		if (acpi.nr_cpus_dropped)
			pr_warn("smp: the MADT lists %u processors more than the %u Tern reads; "
				"those (disabled ones first) are ignored", acpi.nr_cpus_dropped,
				ACPI_MAX_CPUS);
		return "ACPI MADT";
	}
	if (boot_info.nr_cpus) {
		for (uint32_t i = 0; i < boot_info.nr_cpus; i++)
			if (boot_info.cpus[i].flags & BOOT_CPU_ENABLED)
				add_cpu(boot_info.cpus[i].apic_id);
		return "UEFI MP Services";
	}
	return "no processor list (bootstrap CPU only)";
}

static void report_skipped(void)
{
	if (nr_need_x2apic)
		pr_warn("smp: %u CPUs left offline: their APIC IDs are above 254, which needs "
			"x2APIC mode (%s)", nr_need_x2apic,
			boot_opts.apic == APIC_OPT_XAPIC ? "apic=xapic asked for xAPIC"
							 : "this CPU has no x2APIC");
	if (nr_over_max)
		pr_warn("smp: %u CPUs left offline: Tern runs at most MAX_CPUS = %u", nr_over_max,
			MAX_CPUS);
}

static void (*volatile ap_continue)(void);

void smp_release_aps(void (*fn)(void))
{
	ap_continue = fn;
	for (uint32_t i = 1; i < nr_pcpus; i++)
		if (pcpus[i]->state == PCPU_ONLINE)
			apic_send_ipi(pcpus[i]->apic_id, APIC_ICR_FIXED | VEC_IPI_KICK);
}

__attribute__((noreturn)) static void ap_main(struct pcpu *c)
{
	pcpu_activate(c);
	idt_load();
	apic_init_cpu();
	if (apic_id() != c->apic_id) /* the firmware's list and the CPU disagree */
		pr_warn("smp: cpu%u was started as APIC ID %u but reads %u", c->id, c->apic_id,
			apic_id());
	vmx_probe(&c->vmx);
	__atomic_store_n(&c->state, PCPU_ONLINE, __ATOMIC_RELEASE);
	/* Parked until the bootstrap CPU knows what the APs are for. */
	while (!ap_continue)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	ap_continue();
	cpu_stop();
}

static bool wait_online(struct pcpu *c, uint64_t us)
{
	uint64_t end = tsc_now_us() + us;

	while (tsc_now_us() < end) {
		if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == PCPU_ONLINE)
			return true;
		cpu_relax();
	}
	return c->state == PCPU_ONLINE;
}

static bool start_ap(struct pcpu *c, uint64_t tramp)
{
	struct tramp_data *d = phys_to_virt(tramp + TRAMP_DATA_OFFSET);
	uint32_t sipi = APIC_ICR_STARTUP | (uint32_t)(tramp >> 12);

	memcpy(phys_to_virt(tramp), trampoline_start, (size_t)((uintptr_t)trampoline_end - (uintptr_t)trampoline_start));
	d->far32_off += (uint32_t)tramp;
	d->far64_off += (uint32_t)tramp;
	d->gdt_base += (uint32_t)tramp;
	d->cr3 = paging_cr3();
	d->stack_top = c->stack_hi;
	d->pcpu = (uint64_t)c;
	d->entry = (uint64_t)ap_main;
	c->state = PCPU_STARTING;
	if (apic_send_ipi(c->apic_id, APIC_ICR_INIT | APIC_ICR_ASSERT | APIC_ICR_LEVEL))
		return false;
	udelay(INIT_DELAY_US);
	for (int i = 0; i < 2; i++) {
		if (apic_send_ipi(c->apic_id, sipi))
			return false;
		udelay(SIPI_DELAY_US);
		if (c->state == PCPU_ONLINE)
			return true;
	}
	return wait_online(c, AP_TIMEOUT_US);
}

void smp_boot(uint64_t tramp)
{
	const char *src = discover();
	uint32_t limit = boot_opts.maxcpus ? boot_opts.maxcpus : MAX_CPUS, started = 1;

	_Static_assert(sizeof(struct tramp_data) + TRAMP_DATA_OFFSET < 0x1000, "trampoline fits a page");
	if ((size_t)((uintptr_t)trampoline_end - (uintptr_t)trampoline_start) > PAGE_SIZE)
		panic("smp: trampoline larger than a page");
	for (uint32_t i = 1; i < nr_pcpus; i++) {
		struct pcpu *c = pcpus[i];

		if (started >= limit) {
			pr_info("smp: cpu%u (APIC ID %u) left offline (maxcpus=%u)", c->id, c->apic_id, limit);
			continue;
		}
		if (!tramp || !start_ap(c, tramp)) {
			c->state = PCPU_FAILED;
			pr_err("smp: cpu%u (APIC ID %u) did not come online", c->id, c->apic_id);
			continue;
		}
		started++;
	}
	report_skipped();
	pr_info("smp: %u of %u CPUs online (processor list from %s, %s mode)", pcpu_online_count(),
		nr_pcpus, src, apic_is_x2apic() ? "x2APIC" : "xAPIC");
}

void smp_stop_others(void)
{
	if (nr_pcpus > 1 && pcpu_online_count() > 1)
		apic_send_ipi_all_but_self(APIC_ICR_NMI);
}
