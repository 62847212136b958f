/* SPDX-License-Identifier: MIT */
/*
 * kernel_main: take over the machine from the boot front end. The init layer:
 * the one place that starts every other (arch, kernel, drivers, vmm); no
 * layer below includes it (tools/layers.sh).
 */
#include "kernel/kernel.h"
#include "drivers/console.h"
#include "kernel/log.h"
#include "arch/xstate.h"
#include "kernel/memmap.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "arch/pcpu.h"
#include "arch/pcpu_alloc.h"
#include "kernel/string.h"
#include "kernel/fmt.h"
#include "arch/apic.h"
#include "arch/cpuid.h"
#include "arch/desc.h"
#include "arch/paging.h"
#include "arch/smp.h"
#include "arch/trap.h"
#include "arch/x86.h"
#include "drivers/pic.h"
#include "drivers/power.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "arch/vmx.h"
#include "vmm/bootvm.h"
#include "vmm/cpuid.h"
#include "vmm/msr.h"
#include "vmm/apicv.h"
#include "vmm/sched.h"

struct boot_options boot_opts;
struct boot_info boot_info;
struct acpi_info acpi;
bool acpi_present;

static struct pcpu bsp_pcpu __attribute__((aligned(4096)));
static uint8_t boot_ist[IST_COUNT][4096] __attribute__((aligned(16)));

extern void switch_stack_and_call(uint64_t stack_top, void (*fn)(void *), void *arg)
	__attribute__((noreturn));

void kernel_main(struct boot_info *bi);

static void cmdline_report(void *ctx, const char *msg)
{
	pr_warn("%s", msg);
}

/* What panic() reaches above the base (kernel/panic.h). */
static const struct panic_ops panic_hooks = {
	.backtrace = backtrace_print,
	.stop_others = smp_stop_others,
	.action = power_action,
};

/* Exceptions must be caught from the first instruction on: static GDT/TSS/IDT. */
static void early_cpu_setup(void)
{
	bsp_pcpu.is_bsp = true;
	for (unsigned int i = 0; i < IST_COUNT; i++)
		bsp_pcpu.tss.ist[i] = (uint64_t)boot_ist[i] + sizeof(boot_ist[i]);
	pcpu_activate(&bsp_pcpu);
	idt_init();
	idt_load();
}

static void banner(void)
{
	char brand[49] = { 0 };
	struct cpuid_regs r = cpuid(CPUID_LEAF_VENDOR, 0);
	char vendor[13];

	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = '\0';
	if (cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_BRAND0 + 2)
		for (uint32_t i = 0; i < 3; i++) {
			r = cpuid(CPUID_LEAF_BRAND0 + i, 0);
			memcpy(brand + 16 * i, &r, 16);
		}
	pr_info("Tern %s hypervisor booting via %s (TSC at banner: %lu)", TERN_VERSION,
		boot_info.loader == BOOT_LOADER_MULTIBOOT2 ? "Multiboot2" : "UEFI",
		(unsigned long)rdtsc());
	pr_info("cpu: %s %s", vendor, brand);
	pr_info("cmdline: '%s'", boot_info.cmdline);
}

static void print_memmap(const struct boot_mem_region *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pr_debug("mem: [0x%012lx-0x%012lx) %s", (unsigned long)m[i].base,
			 (unsigned long)(m[i].base + m[i].length), memmap_type_name(m[i].type));
	pr_info("mem: %lu MiB usable RAM in a map of %zu regions",
		(unsigned long)(memmap_bytes(m, n, BOOT_MEM_USABLE) >> 20), n);
	for (uint32_t i = 0; i < boot_info.nr_modules; i++)
		pr_info("boot: module '%s' at 0x%lx, %lu bytes", boot_info.modules[i].name,
			(unsigned long)boot_info.modules[i].base, (unsigned long)boot_info.modules[i].size);
}

static const void *acpi_map(void *ctx, uint64_t phys, size_t len)
{
	/* Everything RAM-like is in the direct map; refuse wrap-around. */
	return phys && phys + len > phys ? phys_to_virt(phys) : NULL;
}

static void acpi_diag(void *ctx, const char *msg)
{
	pr_warn("%s", msg);
}

static void acpi_setup(void)
{
	struct acpi_env env = { .map = acpi_map, .diag = acpi_diag, .ctx = NULL };
	int err;

	if (!boot_info.acpi_rsdp) {
		pr_info("acpi: the firmware provides no ACPI tables");
		return;
	}
	err = acpi_parse(boot_info.acpi_rsdp, &env, &acpi);
	if (err) {
		pr_warn("acpi: RSDP at 0x%lx unusable: %s", (unsigned long)boot_info.acpi_rsdp,
			acpi_strerror(err));
		return;
	}
	acpi_present = true;
	power_set_acpi(&acpi);
	pr_info("acpi: revision %u, OEM '%s': MADT %s (%u CPUs), FADT %s, S5 %s, SPCR %s",
		acpi.revision, acpi.oem_id, acpi.has_madt ? "yes" : "no", acpi.nr_cpus,
		acpi.has_fadt ? "yes" : "no", acpi.has_s5 ? "yes" : "no", acpi.has_spcr ? "yes" : "no");
}

static bool same_caps(const struct vmx_cap *a, const struct vmx_cap *b)
{
	return a->verdict == b->verdict && a->ept == b->ept && a->vpid == b->vpid &&
	       a->unrestricted_guest == b->unrestricted_guest &&
	       a->preemption_timer == b->preemption_timer && a->ept_2m == b->ept_2m;
}

/* One readable summary for all CPUs; false when Tern cannot run guests. */
static bool vmx_report(void)
{
	const struct vmx_cap *bsp = &pcpus[0]->vmx;
	uint32_t ready = 0, online = 0;
	char feat[320];

	for (uint32_t i = 0; i < nr_pcpus; i++) {
		const struct pcpu *c = pcpus[i];

		if (c->state != PCPU_ONLINE)
			continue;
		online++;
		if (c->vmx.verdict == VMX_READY)
			ready++;
		if (!same_caps(&c->vmx, bsp))
			pr_warn("vmx: cpu%u differs from cpu0: %s", c->id, vmx_verdict_reason(c->vmx.verdict));
	}
	if (bsp->verdict != VMX_READY) {
		pr_err("vmx: not ready: %s", vmx_verdict_reason(bsp->verdict));
		return false;
	}
	vmx_cap_format(bsp, feat, sizeof(feat));
	pr_info("vmx: VT-x ready on %u of %u CPUs (VMCS revision 0x%x, %u bytes; IA32_FEATURE_CONTROL "
		"0x%lx, %s)", ready, online, bsp->vmcs_revision, bsp->vmcs_size,
		(unsigned long)bsp->feature_control,
		bsp->fc_locked_by_tern ? "VMX set and locked by Tern" : "locked by the firmware with VMX on");
	pr_info("vmx: features: %s", feat);
	if (!bsp->unrestricted_guest)
		pr_warn("vmx: no unrestricted guest: real-mode guests and VMs with more than one vCPU cannot run on this CPU");
	if (!bsp->preemption_timer)
		pr_warn("vmx: no VMX preemption timer: vCPU time slices cannot be enforced");
	return ready == online;
}

/* crash=: deliberate faults to prove the exception path reports and stops. */
__attribute__((noinline)) static void crash_test(enum crash_kind kind)
{
	volatile uint64_t zero = 0;
	volatile uint64_t *bad = (volatile uint64_t *)0xffff8000dead0000ull; /* canonical, never mapped */

	pr_info("crash: deliberately causing a fault (crash= boot option)");
	switch (kind) {
	case CRASH_DE: /* in asm: the compiler may rewrite 1 / x without a div */
		__asm__ volatile("div %2" : "+a"(*(uint64_t[]){ 1 }), "=d"(*(uint64_t[]){ 0 })
				 : "r"(zero), "d"(0ull));
		break;
	case CRASH_UD: __asm__ volatile("ud2"); break;
	case CRASH_GP: *(volatile uint64_t *)0x8000000000000000ull = 1; break;
	case CRASH_PF: *bad = 1; break;
	case CRASH_BP: __asm__ volatile("int3"); break;
	case CRASH_STACK: crash_test(kind); zero++; break;
	case CRASH_PANIC: panic("crash=panic requested on the command line");
	case CRASH_STALL: /* later, on a CPU running VMs: vmm/sched.c */
	case CRASH_TPR:
	case CRASH_NONE: break;
	}
}

static volatile uint32_t vmm_cpus_ready;

/* Every CPU: VMXON, a run queue, then the scheduler loop. */
static void vmm_cpu_start(void)
{
	struct pcpu *c = this_cpu();

	xstate_cpu_init();
	if (vmx_cpu_on() || sched_init_cpu()) {
		pr_err("vmx: cpu%u cannot run guests (VMXON or run queue failed); parked", c->id);
		__atomic_fetch_add(&vmm_cpus_ready, 1, __ATOMIC_RELEASE);
		cpu_stop();
	}
	__atomic_fetch_add(&vmm_cpus_ready, 1, __ATOMIC_RELEASE);
}

__attribute__((noreturn)) static void ap_vmm_main(void)
{
	vmm_cpu_start();
	sched_run();
}

__attribute__((noreturn)) static void vmm_start(void)
{
	uint32_t online = pcpu_online_count();
	uint64_t deadline;

	if (vmx_config_init() || xstate_config_init() || cpuid_host_init() || msr_bitmap_init() ||
	    apicv_init())
		panic("vmx: cannot configure VMX on this CPU");
	vmm_cpu_start();
	console_set_async(true);
	smp_release_aps(ap_vmm_main);
	deadline = tsc_now_us() + 1000000;
	while (vmm_cpus_ready < online && tsc_now_us() < deadline)
		cpu_relax();
	pr_info("vmx: VMX on in %u of %u CPUs; time slice %u us", vmm_cpus_ready, online,
		boot_opts.timeslice_us);
	if (!bootvm_start_all()) {
		pr_info("tern: boot complete, no VMs to run; after_boot=%s",
			boot_opts.after_boot == ACTION_POWEROFF ? "poweroff" :
			boot_opts.after_boot == ACTION_REBOOT ? "reboot" : "halt");
		power_action(boot_opts.after_boot);
	}
	sched_run();
}

static void kernel_main_stack(void *arg)
{
	bool vmx_ok;

	tsc_calibrate(acpi_present ? &acpi : NULL);
	rtc_init();
	log_set_clock(tsc_now_us);
	apic_select_mode(boot_opts.apic);
	apic_init_cpu();
	bsp_pcpu.apic_id = apic_id();
	vmx_probe(&bsp_pcpu.vmx);
	bsp_pcpu.state = PCPU_ONLINE;
	smp_boot((uint64_t)arg);
	vmx_ok = vmx_report();
	mm_print_stats("after boot");
	if (boot_opts.crash && boot_opts.crash != CRASH_STALL && boot_opts.crash != CRASH_TPR)
		crash_test(boot_opts.crash);
	if (!vmx_ok) {
		log_raw("Tern cannot run on this machine because %s.\n",
			vmx_verdict_reason(pcpus[0]->vmx.verdict));
		power_action(ACTION_POWEROFF);
	}
	vmm_start();
}

void kernel_main(struct boot_info *bi)
{
	uint64_t tramp;
	int n;

	early_cpu_setup();
	panic_set_ops(&panic_hooks);
	pic_disable(VEC_LEGACY_PIC);
	if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION)
		cpu_stop(); /* nothing to report through: the console is not known yet */
	memcpy(&boot_info, bi, sizeof(boot_info));
	boot_info.cmdline[BOOT_CMDLINE_MAX - 1] = '\0';
	cmdline_defaults(&boot_opts);
	console_init_early(&boot_opts); /* COM1 while the command line is parsed */
	cmdline_parse(boot_info.cmdline, &boot_opts, cmdline_report, NULL);
	if (boot_opts.console != CONSOLE_AUTO)
		console_init_early(&boot_opts);
	log_set_level(boot_opts.loglevel);
	banner();

	n = memmap_normalize(boot_info.mem, boot_info.nr_mem, BOOT_MAX_MEM);
	if (n < 0)
		panic("mem: the boot memory map does not fit %u entries", BOOT_MAX_MEM);
	boot_info.nr_mem = (uint32_t)n;
	print_memmap(boot_info.mem, boot_info.nr_mem);
	tramp = smp_pick_trampoline(boot_info.mem, boot_info.nr_mem);
	mm_init(boot_info.mem, boot_info.nr_mem);
	paging_init(boot_info.mem, boot_info.nr_mem, tramp);
	acpi_setup();
	console_init_acpi(&boot_opts, acpi_present ? &acpi : NULL);

	pcpus[0] = &bsp_pcpu;
	nr_pcpus = 1;
	if (pcpu_alloc_stacks(&bsp_pcpu))
		panic("pcpu: out of memory for the bootstrap CPU's stacks");
	switch_stack_and_call(bsp_pcpu.stack_hi, kernel_main_stack, (void *)tramp);
}
