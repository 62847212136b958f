/* SPDX-License-Identifier: MIT */
/* Guest CPUID rules (vmm/cpuid.c) against fake hosts; expected values from SDM vol. 2A CPUID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/cpuid.h"
#include "vmm/abi.h"
#include "arch/cpuid.h"
#include "arch/xstate.h"

#define XMASK (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX)

/* A Skylake-like Intel host: max basic 0x16, max extended 0x80000008. */
static struct cpuid_regs intel(uint32_t leaf, uint32_t sub)
{
	switch (leaf) {
	case 0: return (struct cpuid_regs){ 0x16, 0x756e6547, 0x6c65746e, 0x49656e69 };
	case 1: return (struct cpuid_regs){ 0x50654, 0x00100800 | (7u << 24), 0xfffab223, 0xbfebfbff };
	case 4:
		if (sub == 0) return (struct cpuid_regs){ 0x1c004121, 0x1c0003f, 0x3f, 0 };
		if (sub == 3) return (struct cpuid_regs){ 0x1c03c163, 0x2c0003f, 0x3fff, 6 };
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	case 6: return (struct cpuid_regs){ 0x77, 2, 9, 0 };
	case 7:
		if (sub == 0) return (struct cpuid_regs){ 0, 0xffffffff, 0xffffffff, 0xffffffff };
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	case 0xa: return (struct cpuid_regs){ 0x07300404, 0, 0, 0x603 };
	case 0xd:
		if (sub == 0) return (struct cpuid_regs){ 0x2ff, 0x340, 0xa88, 0 };
		if (sub == 1) return (struct cpuid_regs){ 0x1f, 0x340, 0x100, 0 };
		if (sub == 2) return (struct cpuid_regs){ 0x100, 0x240, 0, 0 };
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	case 0x16: return (struct cpuid_regs){ 0x0e10, 0x1068, 0x64, 0 }; /* last basic: echoed above */
	case 0x80000000: return (struct cpuid_regs){ 0x80000008, 0, 0, 0 };
	case 0x80000001: return (struct cpuid_regs){ 0, 0, 0x121, 0x2c100800 };
	case 0x80000007: return (struct cpuid_regs){ 0, 0, 0, 0x100 };
	case 0x80000008: return (struct cpuid_regs){ 0x3027, 0, 0, 0 };
	default: return (struct cpuid_regs){ 0x0e10, 0x1068, 0x64, 0 };
	}
}

/* An AMD-like host: SVM, TOPOEXT, MONITORX set; max extended 0x8000001f. */
static struct cpuid_regs amd(uint32_t leaf, uint32_t sub)
{
	switch (leaf) {
	case 0: return (struct cpuid_regs){ 0x10, 0x68747541, 0x444d4163, 0x69746e65 };
	case 1: return (struct cpuid_regs){ 0x800f82, 0x00100800, 0x7ed8320b, 0x178bfbff };
	case 0x80000000: return (struct cpuid_regs){ 0x8000001f, 0x68747541, 0x444d4163, 0x69746e65 };
	case 0x80000001: return (struct cpuid_regs){ 0x800f82, 0, 0x35c233ff, 0x2fd3fbff };
	case 0x80000008: return (struct cpuid_regs){ 0x3030, 0x7, 0x400f, 0 };
	default: return (struct cpuid_regs){ 0, 0, 0, 0 };
	}
}

static struct cpuid_vm vm_of(uint32_t n, uint32_t index)
{
	return (struct cpuid_vm){ .nr_vcpus = n, .vcpu_index = index, .tsc_khz = 3000000,
				  .xcr0_mask = XMASK, .xsave_size = 0x340, .rdtscp = true, .invpcid = true };
}

static void test_hypervisor_leaves(void **state)
{
	struct cpuid_vm vm = vm_of(2, 0);
	struct cpuid_regs r = cpuid_guest(&vm, 0x40000000, 0, intel);

	assert_int_equal(r.eax, 0x40000001);
	assert_int_equal(r.ebx, TERN_CPUID_SIGNATURE);
	r = cpuid_guest(&vm, 0x40000001, 0, intel);
	assert_int_equal(r.eax, TERN_ABI_VERSION);
	assert_int_equal(r.ebx, 3000000);
	r = cpuid_guest(&vm, 0x40000100, 0, intel);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_leaf1(void **state)
{
	struct cpuid_vm vm = vm_of(4, 3);
	struct cpuid_regs r = cpuid_guest(&vm, 1, 0, intel);

	assert_int_equal(r.ecx & (CPUID_1_ECX_VMX | CPUID_1_ECX_SMX | CPUID_1_ECX_MONITOR), 0);
	assert_true(r.ecx & CPUID_1_ECX_HYPERVISOR);
	assert_true(r.ecx & CPUID_1_ECX_X2APIC);
	assert_true(r.ecx & CPUID_1_ECX_TSC_DEADLINE);
	assert_false(r.ecx & CPUID_1_ECX_OSXSAVE);
	assert_true(r.edx & CPUID_1_EDX_APIC);
	assert_true(r.edx & CPUID_1_EDX_HTT);
	assert_int_equal(r.ebx >> 24, 3);
	assert_int_equal((r.ebx >> 16) & 0xff, 4);
	vm.guest_osxsave = true;
	assert_true(cpuid_guest(&vm, 1, 0, intel).ecx & CPUID_1_ECX_OSXSAVE);
	vm = vm_of(1, 0);
	r = cpuid_guest(&vm, 1, 0, intel);
	assert_false(r.edx & CPUID_1_EDX_HTT);
	assert_int_equal(r.ecx & CPUID_1_ECX_PDCM, 0);
	assert_int_equal(r.edx & (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA | CPUID_1_EDX_DS), 0);
}

static void check_topology(uint32_t n, uint32_t shift)
{
	for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb) {
		struct cpuid_vm vm = vm_of(n, n - 1);
		struct cpuid_regs r = cpuid_guest(&vm, leaf, 0, intel);

		assert_int_equal(r.eax, 0);
		assert_int_equal(r.ebx, 1);
		assert_int_equal(r.ecx, 1u << 8);
		assert_int_equal(r.edx, n - 1);
		r = cpuid_guest(&vm, leaf, 1, intel);
		assert_int_equal(r.eax, shift);
		assert_int_equal(r.ebx, n);
		assert_int_equal(r.ecx, 1 | (2u << 8));
		r = cpuid_guest(&vm, leaf, 2, intel);
		assert_int_equal(r.eax | r.ebx, 0);
		assert_int_equal(r.ecx, 2);
		assert_int_equal(r.edx, n - 1);
		r = cpuid_guest(&vm, 4, 0, intel);
		assert_int_equal(r.eax >> 26, n - 1);
		assert_int_equal((r.eax >> 14) & 0xfff, 0);
		r = cpuid_guest(&vm, 4, 3, intel);
		assert_int_equal((r.eax >> 14) & 0xfff, n - 1);
		assert_int_equal(cpuid_guest(&vm, 0x80000008, 0, intel).ecx & 0xff, n - 1);
	}
}

static void test_topology(void **state)
{
	check_topology(1, 0);
	check_topology(2, 1);
	check_topology(4, 2);
	check_topology(64, 6);
}

static void test_timing_and_pmu(void **state)
{
	struct cpuid_vm vm = vm_of(1, 0);
	struct cpuid_regs r = cpuid_guest(&vm, 6, 0, intel);

	assert_int_equal(r.eax, CPUID_6_EAX_ARAT);
	assert_int_equal(r.ebx | r.ecx | r.edx, 0);
	r = cpuid_guest(&vm, 0x15, 0, intel);
	assert_int_equal((uint64_t)r.ecx * r.ebx / r.eax, 3000000000ull);
	vm.tsc_khz = 5000000;
	r = cpuid_guest(&vm, 0x15, 0, intel);
	assert_int_equal((uint64_t)r.ecx * r.ebx / r.eax, 5000000000ull);
	assert_int_equal(cpuid_guest(&vm, 0x16, 0, intel).eax, 5000);
	r = cpuid_guest(&vm, 0xa, 0, intel);
	assert_int_equal(r.eax | r.edx, 0);
}

static void test_xstate_and_leaf7(void **state)
{
	struct cpuid_vm vm = vm_of(1, 0);
	struct cpuid_regs r = cpuid_guest(&vm, 0xd, 0, intel);

	assert_int_equal(r.eax, XMASK);
	assert_int_equal(r.ecx, 0x340);
	assert_int_equal(cpuid_guest(&vm, 0xd, 1, intel).eax & (CPUID_D_1_EAX_XSAVES | CPUID_D_1_EAX_XFD), 0);
	assert_int_equal(cpuid_guest(&vm, 0xd, 5, intel).eax, 0);
	r = cpuid_guest(&vm, 7, 0, intel);
	assert_true(r.ebx & CPUID_7_EBX_AVX2);
	assert_false(r.ebx & (CPUID_7_EBX_AVX512F | CPUID_7_EBX_MPX | CPUID_7_EBX_SGX | CPUID_7_EBX_PT));
	assert_false(r.ecx & (CPUID_7_ECX_PKU | CPUID_7_ECX_WAITPKG | CPUID_7_ECX_CET_SS));
	assert_false(r.edx & (CPUID_7_EDX_AMX_TILE | CPUID_7_EDX_L1D_FLUSH | CPUID_7_EDX_HYBRID));
	vm.xcr0_mask = 0;
	assert_false(cpuid_guest(&vm, 1, 0, intel).ecx & (CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX));
	assert_int_equal(cpuid_guest(&vm, 0xd, 0, intel).eax, 0);
}

/* The Intel host without leaf 7's EBX/EDX features (no speculation control, no TSC_ADJUST). */
static struct cpuid_regs intel_no_spec(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = intel(leaf, sub);

	if (leaf == 7)
		r.ebx = r.edx = 0;
	return r;
}

/*
 * IA32_TSC_ADJUST (CPUID.7.0:EBX[1]) and the MTRRs (CPUID.1:EDX[12]) are
 * emulated on every host; IA32_SPEC_CTRL/PRED_CMD (EDX[26]), STIBP (27),
 * ARCH_CAPABILITIES (29) and SSBD (31) show where the host has them;
 * IA32_FLUSH_CMD (28) and sub-leaf 2's SPEC_CTRL controls never.
 */
static void test_speculation_tsc_adjust_mtrr(void **state)
{
	struct cpuid_vm vm = vm_of(1, 0);
	uint32_t spec = CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP | CPUID_7_EDX_ARCH_CAPABILITIES |
			CPUID_7_EDX_SSBD;
	struct cpuid_regs r = cpuid_guest(&vm, 7, 0, intel);

	assert_true(r.ebx & CPUID_7_EBX_TSC_ADJUST);
	assert_int_equal(r.edx & spec, spec);
	assert_false(r.edx & CPUID_7_EDX_L1D_FLUSH);
	r = cpuid_guest(&vm, 7, 0, intel_no_spec);
	assert_true(r.ebx & CPUID_7_EBX_TSC_ADJUST);
	assert_int_equal(r.edx & spec, 0);
	assert_int_equal(cpuid_guest(&vm, 7, 2, intel).edx & (CPUID_7_2_EDX_PSFD | CPUID_7_2_EDX_IPRED_CTRL |
							      CPUID_7_2_EDX_RRSBA_CTRL | CPUID_7_2_EDX_BHI_CTRL), 0);
	assert_true(cpuid_guest(&vm, 1, 0, intel).edx & CPUID_1_EDX_MTRR);
}

static void test_leaf_ranges(void **state)
{
	struct cpuid_vm vm = vm_of(1, 0);
	struct cpuid_regs top = cpuid_guest(&vm, CPUID_GUEST_MAX_BASIC, 0, intel);
	struct cpuid_regs r = cpuid_guest(&vm, 0x20, 0, intel);

	assert_int_equal(cpuid_guest(&vm, 0, 0, intel).eax, CPUID_GUEST_MAX_BASIC);
	assert_int_equal(cpuid_guest(&vm, 0, 0, intel).ebx, 0x756e6547);
	assert_memory_equal(&r, &top, sizeof(r));
	r = cpuid_guest(&vm, 0x80000009, 0, intel);
	assert_memory_equal(&r, &top, sizeof(r));
	r = cpuid_guest(&vm, 0x80000001, 0, intel);
	assert_true(r.edx & CPUID_80000001_EDX_LM);
	assert_true(r.edx & CPUID_80000001_EDX_RDTSCP);
	vm.rdtscp = false;
	assert_false(cpuid_guest(&vm, 0x80000001, 0, intel).edx & CPUID_80000001_EDX_RDTSCP);
	/* AMD: past the maximum reads 0; SVM, TOPOEXT, MONITORX hidden. */
	assert_int_equal(cpuid_guest(&vm, 0x80000000, 0, amd).eax, CPUID_GUEST_MAX_EXT);
	r = cpuid_guest(&vm, 0x8000001e, 0, amd);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = cpuid_guest(&vm, 0x80000001, 0, amd);
	assert_int_equal(r.ecx & (CPUID_80000001_ECX_SVM | CPUID_80000001_ECX_TOPOEXT |
				  CPUID_80000001_ECX_MONITORX), 0);
	assert_true(r.ecx & CPUID_80000001_ECX_LAHF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hypervisor_leaves),
		cmocka_unit_test(test_leaf1),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_timing_and_pmu),
		cmocka_unit_test(test_xstate_and_leaf7),
		cmocka_unit_test(test_speculation_tsc_adjust_mtrr),
		cmocka_unit_test(test_leaf_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
