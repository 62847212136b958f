/* SPDX-License-Identifier: MIT */
/* Host unit tests for arch/vmx_ctls.c with capability MSR values shaped like real CPUs'. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "arch/vmx_ctls.h"
#include "arch/vmx_defs.h"
#include "arch/x86.h"

/*
 * Capability values (SDM vol. 3C A.3-A.5: low dword = must be 1, high dword =
 * may be 1), made up in the shape of what Intel server parts report:
 *
 * TRUE_PINBASED 0x0000007f00000016: bits 1, 2, 4 are "default1" reserved
 *   controls that stay forced even in the TRUE MSR; 0-6 may be set, so
 *   external-interrupt and NMI exiting, virtual NMIs and the preemption timer
 *   exist but posted interrupts (bit 7) do not (a pre-APICv part).
 * PROCBASED 0xfff9fffe0401e172 and TRUE_PROCBASED 0xfff9fffe04006172: the
 *   non-TRUE MSR also forces CR3-load/-store exiting (bits 15, 16); the TRUE
 *   one lets them be cleared. Bits 0, 17, 18 may not be set.
 * PROCBASED_CTLS2 0x000000ff00000000: nothing forced; bits 0-7 (virtual APIC
 *   accesses, EPT, descriptor-table exiting, RDTSCP, x2APIC mode, VPID,
 *   WBINVD exiting, unrestricted guest) available, APIC-register
 *   virtualization, virtual-interrupt delivery and PML absent (Westmere-like).
 * TRUE_EXIT 0x01ffffff00036dfb, TRUE_ENTRY 0x0003ffff000011fb: the usual
 *   default1 masks with "save/load debug controls" (bit 2) clearable.
 */
#define CAP_TRUE_PINBASED   0x0000007f00000016ull
#define CAP_PROCBASED       0xfff9fffe0401e172ull
#define CAP_TRUE_PROCBASED  0xfff9fffe04006172ull
#define CAP_PROCBASED2      0x000000ff00000000ull
#define CAP_TRUE_EXIT       0x01ffffff00036dfbull
#define CAP_TRUE_ENTRY      0x0003ffff000011fbull

/* Controls the tests need beyond arch/vmx_defs.h (SDM vol. 3C 25.6.2, 25.7.1, 25.8.1). */
#define CPU_BASED_HLT_EXITING          BIT(7)
#define CPU_BASED_CR3_LOAD_EXITING     BIT(15)
#define CPU_BASED_CR3_STORE_EXITING    BIT(16)
#define CPU_BASED_TERTIARY_CTLS        BIT(17)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE   BIT(9)
#define VM_EXIT_ACK_INTR_ON_EXIT       BIT(15)
#define VM_EXIT_SAVE_IA32_EFER         BIT(20)
#define VM_EXIT_LOAD_IA32_EFER         BIT(21)
#define VM_EXIT_CLEAR_IA32_RTIT_CTL    BIT(25)
#define VM_ENTRY_IA32E_MODE_GUEST      BIT(9)
#define VM_ENTRY_LOAD_IA32_EFER        BIT(15)
#define VM_ENTRY_LOAD_CET_STATE        BIT(20)

/* Pin-based default1 bits 1, 2, 4 (A.3.1). */
#define PIN_DEFAULT1 0x16u

#define SENTINEL 0xdeadbeefu

static void test_pin_must_be_one_added(void **state)
{
	uint32_t out = SENTINEL, missing = SENTINEL;

	assert_int_equal(vmx_ctl_compute(CAP_TRUE_PINBASED, PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING,
					 PIN_BASED_VIRTUAL_NMIS | PIN_BASED_VMX_PREEMPTION_TIMER, &out, &missing), 0);
	assert_int_equal(out, PIN_DEFAULT1 | PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING |
			      PIN_BASED_VIRTUAL_NMIS | PIN_BASED_VMX_PREEMPTION_TIMER);
	assert_int_equal(out, 0x7f);
	assert_int_equal(missing, 0);

	/* Asking for nothing still yields the must-be-one bits. */
	assert_int_equal(vmx_ctl_compute(CAP_TRUE_PINBASED, 0, 0, &out, NULL), 0);
	assert_int_equal(out, PIN_DEFAULT1);
}

static void test_optional_dropped(void **state)
{
	uint32_t out = SENTINEL;

	/* Posted interrupts are not offered: optional, so silently left out. */
	assert_int_equal(vmx_ctl_compute(CAP_TRUE_PINBASED, PIN_BASED_EXT_INTR_EXITING,
					 PIN_BASED_POSTED_INTR | PIN_BASED_VIRTUAL_NMIS, &out, NULL), 0);
	assert_int_equal(out, PIN_DEFAULT1 | PIN_BASED_EXT_INTR_EXITING | PIN_BASED_VIRTUAL_NMIS);

	/* EPT, unrestricted guest required; VPID kept, APICv and PML dropped. */
	assert_int_equal(vmx_ctl_compute(CAP_PROCBASED2, SECONDARY_ENABLE_EPT | SECONDARY_UNRESTRICTED_GUEST,
					 SECONDARY_ENABLE_VPID | SECONDARY_APIC_REGISTER_VIRT |
					 SECONDARY_VIRT_INTR_DELIVERY | SECONDARY_ENABLE_PML, &out, NULL), 0);
	assert_int_equal(out, SECONDARY_ENABLE_EPT | SECONDARY_UNRESTRICTED_GUEST | SECONDARY_ENABLE_VPID);
}

static void test_required_missing(void **state)
{
	uint32_t out = SENTINEL, missing = 0;

	assert_int_equal(vmx_ctl_compute(CAP_TRUE_PINBASED, PIN_BASED_EXT_INTR_EXITING | PIN_BASED_POSTED_INTR,
					 PIN_BASED_VIRTUAL_NMIS, &out, &missing), -ENOTSUP);
	assert_int_equal(missing, PIN_BASED_POSTED_INTR);
	assert_int_equal(out, SENTINEL);

	/* Only the required bits count as missing, never the optional ones. */
	assert_int_equal(vmx_ctl_compute(CAP_PROCBASED2, SECONDARY_ENABLE_EPT | SECONDARY_ENABLE_PML |
					 SECONDARY_VIRT_INTR_DELIVERY, SECONDARY_VMCS_SHADOWING, &out, &missing),
			 -ENOTSUP);
	assert_int_equal(missing, SECONDARY_ENABLE_PML | SECONDARY_VIRT_INTR_DELIVERY);
	assert_int_equal(out, SENTINEL);

	/* missing may be NULL. */
	assert_int_equal(vmx_ctl_compute(CAP_TRUE_PROCBASED, CPU_BASED_TERTIARY_CTLS, 0, &out, NULL), -ENOTSUP);
	assert_int_equal(out, SENTINEL);

	/* A control MSR offering nothing: only an empty request succeeds. */
	assert_int_equal(vmx_ctl_compute(0, BIT(31), 0, &out, &missing), -ENOTSUP);
	assert_int_equal(missing, BIT(31));
	assert_int_equal(vmx_ctl_compute(0, 0, ~0u, &out, &missing), 0);
	assert_int_equal(out, 0);
	assert_int_equal(missing, 0);
}

/* Why Tern reads the TRUE MSRs: the legacy one forces CR3 exiting on. */
static void test_procbased_true_vs_legacy(void **state)
{
	const uint32_t want = CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_USE_IO_BITMAPS | CPU_BASED_ACTIVATE_SECONDARY;
	uint32_t legacy, true_ctls;

	assert_int_equal(vmx_ctl_compute(CAP_PROCBASED, want, CPU_BASED_MONITOR_TRAP_FLAG, &legacy, NULL), 0);
	assert_int_equal(vmx_ctl_compute(CAP_TRUE_PROCBASED, want, CPU_BASED_MONITOR_TRAP_FLAG, &true_ctls, NULL), 0);
	assert_int_equal(true_ctls, 0x04006172u | want | CPU_BASED_MONITOR_TRAP_FLAG);
	assert_int_equal(legacy, true_ctls | CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING);
	assert_false(true_ctls & CPU_BASED_HLT_EXITING); /* neither asked for nor forced */
}

static void test_exit_entry(void **state)
{
	uint32_t out, missing;

	assert_int_equal(vmx_ctl_compute(CAP_TRUE_EXIT, VM_EXIT_HOST_ADDR_SPACE_SIZE,
					 VM_EXIT_ACK_INTR_ON_EXIT | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER |
					 VM_EXIT_CLEAR_IA32_RTIT_CTL, &out, &missing), 0);
	assert_int_equal(out, 0x36dfbu | VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_ACK_INTR_ON_EXIT |
			      VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER);
	assert_false(out & BIT(2)); /* save debug controls: clearable in the TRUE MSR */

	assert_int_equal(vmx_ctl_compute(CAP_TRUE_ENTRY, VM_ENTRY_IA32E_MODE_GUEST | VM_ENTRY_LOAD_IA32_EFER,
					 0, &out, &missing), 0);
	assert_int_equal(out, 0x11fbu | VM_ENTRY_IA32E_MODE_GUEST | VM_ENTRY_LOAD_IA32_EFER);
	assert_int_equal(vmx_ctl_compute(CAP_TRUE_ENTRY, VM_ENTRY_LOAD_CET_STATE, 0, &out, &missing), -ENOTSUP);
	assert_int_equal(missing, VM_ENTRY_LOAD_CET_STATE);
}

/* Typical IA32_VMX_CR0_FIXED0/1: PE, NE, PG forced on; nothing forced off. */
#define CR0_FIXED0 0x80000021ull
#define CR0_FIXED1 0xffffffffull

static void test_cr0_fixed(void **state)
{
	const uint64_t reset = CR0_CD | CR0_NW | BIT(4); /* 0x60000010, CR0 after RESET */

	assert_int_equal(vmx_cr_fixed(reset, CR0_FIXED0, CR0_FIXED1), 0xe0000031ull);
	assert_int_equal(vmx_cr_fixed(CR0_PE | CR0_PG | CR0_WP | BIT(40), CR0_FIXED0, CR0_FIXED1),
			 CR0_PE | CR0_NE | CR0_WP | CR0_PG);

	assert_true(vmx_cr_valid(0x80050033ull, CR0_FIXED0, CR0_FIXED1)); /* a Linux kernel's CR0 */
	assert_false(vmx_cr_valid(0x80050013ull, CR0_FIXED0, CR0_FIXED1)); /* NE clear */
	assert_false(vmx_cr_valid(reset, CR0_FIXED0, CR0_FIXED1));
	assert_false(vmx_cr_valid(0x80050033ull | BIT(32), CR0_FIXED0, CR0_FIXED1));
	/* Unrestricted guest: the caller drops PE and PG from FIXED0 (SDM 25.8). */
	assert_true(vmx_cr_valid(CR0_NE | BIT(4), CR0_FIXED0 & ~(CR0_PE | CR0_PG), CR0_FIXED1));
	assert_true(vmx_cr_valid(vmx_cr_fixed(reset, CR0_FIXED0, CR0_FIXED1), CR0_FIXED0, CR0_FIXED1));
}

/* Typical IA32_VMX_CR4_FIXED0/1: VMXE forced on; UMIP, LA57, PKE and others not allowed. */
#define CR4_FIXED0 0x2000ull
#define CR4_FIXED1 0x3767ffull
#define CR4_UMIP   BIT(11)
#define CR4_LA57   BIT(12)
#define CR4_PKE    BIT(22)

static void test_cr4_fixed(void **state)
{
	const uint64_t host = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;

	assert_int_equal(vmx_cr_fixed(host, CR4_FIXED0, CR4_FIXED1), host | CR4_VMXE);
	assert_int_equal(vmx_cr_fixed(CR4_PAE | CR4_LA57 | CR4_UMIP | CR4_PKE, CR4_FIXED0, CR4_FIXED1),
			 CR4_PAE | CR4_VMXE);
	assert_int_equal(vmx_cr_fixed(0, CR4_FIXED0, CR4_FIXED1), CR4_VMXE);

	assert_true(vmx_cr_valid(host | CR4_VMXE, CR4_FIXED0, CR4_FIXED1));
	assert_false(vmx_cr_valid(host, CR4_FIXED0, CR4_FIXED1));
	assert_false(vmx_cr_valid(host | CR4_VMXE | CR4_PKE, CR4_FIXED0, CR4_FIXED1));
	assert_false(vmx_cr_valid(CR4_VMXE | CR4_LA57, CR4_FIXED0, CR4_FIXED1));
	assert_true(vmx_cr_valid(CR4_FIXED0, CR4_FIXED0, CR4_FIXED1));
	assert_true(vmx_cr_valid(CR4_FIXED1, CR4_FIXED0, CR4_FIXED1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_must_be_one_added),
		cmocka_unit_test(test_optional_dropped),
		cmocka_unit_test(test_required_missing),
		cmocka_unit_test(test_procbased_true_vs_legacy),
		cmocka_unit_test(test_exit_entry),
		cmocka_unit_test(test_cr0_fixed),
		cmocka_unit_test(test_cr4_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
