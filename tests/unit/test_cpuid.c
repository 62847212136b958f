/* SPDX-License-Identifier: MIT */
/* Guest CPUID rules (vmm/cpuid.c) against fake hosts; expected values from SDM vol. 2A CPUID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/cpuid.h"
#include "vmm/abi.h"
#include "arch/cpuid.h"
#include "arch/xstate.h"
#include "kernel/errno.h"

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

/*
 * A Sapphire-Rapids-like Intel host: max basic 0x20, five caches in leaf 4,
 * leaf 7 with sub-leaves 1 and 2, AVX-512 and PKRU state (SDM vol. 1 13.4:
 * standard-format offsets), a real topology in 0xB/0x1F. ECX is ignored
 * where the CPU ignores it.
 */
static struct cpuid_regs spr(uint32_t leaf, uint32_t sub)
{
	static const struct cpuid_regs cache[] = {
		{ 0x1c004121, 0x02c0003f, 0x3f, 0 }, { 0x1c004122, 0x01c0003f, 0x3f, 0 },
		{ 0x1c004143, 0x03c0003f, 0x7ff, 0 }, { 0x1c0fc163, 0x0380003f, 0xdfff, 4 },
	};
	static const struct cpuid_regs xs[] = {
		[2] = { 0x100, 0x240, 0, 0 }, [5] = { 0x40, 0x440, 0, 0 }, [6] = { 0x200, 0x480, 0, 0 },
		[7] = { 0x400, 0x680, 0, 0 }, [9] = { 0x8, 0xa80, 0, 0 }, [17] = { 0x40, 0xac0, 2, 0 },
		[18] = { 0x2000, 0xb00, 6, 0 },
	};

	switch (leaf) {
	case 0: return (struct cpuid_regs){ 0x20, 0x756e6547, 0x6c65746e, 0x49656e69 };
	case 1: return (struct cpuid_regs){ 0x806f8, 0x00800800 | (9u << 24), 0x7ffefbff, 0xbfebfbff };
	case 2: return (struct cpuid_regs){ 0x00feff01, 0xf0, 0, 0 };
	case 4: return sub < 4 ? cache[sub] : (struct cpuid_regs){ 0, 0, 0, 0 };
	case 7:
		if (sub == 0) return (struct cpuid_regs){ 2, 0xf3bfbfbf, 0x1bc1bf7e, 0xffdf4432 };
		if (sub == 1) return (struct cpuid_regs){ 0x00201c30, 0, 0, 0 };
		if (sub == 2) return (struct cpuid_regs){ 0, 0, 0, 0x3f };
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	case 0xb: case 0x1f:
		if (sub == 0) return (struct cpuid_regs){ 1, 2, 0x100, 9 };
		if (sub == 1) return (struct cpuid_regs){ 7, 0x60, 0x201, 9 };
		return (struct cpuid_regs){ 0, 0, sub & 0xff, 9 };
	case 0xd:
		if (sub == 0) return (struct cpuid_regs){ 0x602e7, 0xa88, 0x2b00, 0 };
		if (sub == 1) return (struct cpuid_regs){ 0x1f, 0x990, 0x1900, 0 };
		return sub < sizeof(xs) / sizeof(xs[0]) ? xs[sub] : (struct cpuid_regs){ 0, 0, 0, 0 };
	case 0x15: return (struct cpuid_regs){ 2, 0xb4, 0x01c9c380, 0 };
	case 0x16: return (struct cpuid_regs){ 0x7d0, 0xed8, 0x64, 0 };
	case 0x80000000: return (struct cpuid_regs){ 0x80000008, 0, 0, 0 };
	case 0x80000001: return (struct cpuid_regs){ 0, 0, 0x121, 0x2c100800 };
	case 0x80000002: return (struct cpuid_regs){ 0x65746e49, 0x2952286c, 0x6f655820, 0x2952286e };
	case 0x80000006: return (struct cpuid_regs){ 0, 0, 0x08007040, 0 };
	case 0x80000007: return (struct cpuid_regs){ 0, 0, 0, 0x100 };
	case 0x80000008: return (struct cpuid_regs){ 0x3934, 0x200, 0, 0 };
	default: return (struct cpuid_regs){ 0, 0, 0, 0 }; /* leaf 0x20 too, echoed past the maximum */
	}
}

/* A Core 2-like Intel host: max basic 0xA (no 0xB, no XSAVE), max extended 0x80000004. */
static struct cpuid_regs core2(uint32_t leaf, uint32_t sub)
{
	switch (leaf) {
	case 0: return (struct cpuid_regs){ 0xa, 0x756e6547, 0x6c65746e, 0x49656e69 };
	case 1: return (struct cpuid_regs){ 0x6fb, 0x00020800, 0xe3bd, 0xbfebfbff };
	case 4:
		if (sub == 0) return (struct cpuid_regs){ 0x04000121, 0x01c0003f, 0x3f, 1 };
		if (sub == 1) return (struct cpuid_regs){ 0x04004143, 0x03c0003f, 0xfff, 1 };
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	case 0x80000000: return (struct cpuid_regs){ 0x80000004, 0, 0, 0 };
	case 0x80000001: return (struct cpuid_regs){ 0, 0, 1, 0x20100800 };
	default: return (struct cpuid_regs){ 0x07280202, 0, 0, 0x503 }; /* leaf 0xA, echoed */
	}
}

static const cpuid_host_fn hosts[] = { intel, intel_no_spec, amd, spr, core2 };

/* The guest state a CPUID exit reads: CR4.OSXSAVE and CR4.PKE. */
static bool live_osxsave_on, live_pke_on;

static bool live_osxsave(void)
{
	return live_osxsave_on;
}

/* vmm/cr.c's shape: hide what a (fake) CR4 policy refuses, OSPKE the guest's CR4.PKE. */
static void leaf7_filter(uint32_t sub, struct cpuid_regs *r)
{
	if (sub != 0)
		return;
	r->ecx &= ~(uint32_t)(CPUID_7_ECX_UMIP | CPUID_7_ECX_OSPKE);
	if (live_pke_on)
		r->ecx |= CPUID_7_ECX_OSPKE;
}

static const struct cpuid_snap *cur_snap;

static struct cpuid_regs snap_host(uint32_t leaf, uint32_t sub)
{
	return cpuid_snap_read(cur_snap, leaf, sub);
}

static const uint32_t test_leaves[] = {
	0x21, 0x3fffffff, 0x40000100, 0x4fffffff, 0x50000000, 0x7fffffff, 0x8000000a,
	0x8000001e, 0x8000001f, 0xc0000000, 0xffffffff,
};
static const uint32_t test_subs[] = { 0xff, 0x100, 0x1234, 0x7fffffff, 0xffffffff };

static void check_leaf(const struct cpuid_table *t, const struct cpuid_vm *vm, uint32_t leaf,
		       cpuid_host_fn host)
{
	const struct cpuid_live live = { live_osxsave, leaf7_filter, vm->guest_xcr0 };

	for (uint32_t i = 0; i < 71 + sizeof(test_subs) / sizeof(test_subs[0]); i++) {
		uint32_t sub = i < 71 ? i : test_subs[i - 71];
		struct cpuid_regs want = cpuid_guest(vm, leaf, sub, host);
		struct cpuid_regs got = cpuid_table_lookup(t, leaf, sub, &live);

		if (memcmp(&want, &got, sizeof(want)))
			fail_msg("leaf 0x%x sub 0x%x: want %08x %08x %08x %08x, got %08x %08x %08x %08x",
				 leaf, sub, want.eax, want.ebx, want.ecx, want.edx,
				 got.eax, got.ebx, got.ecx, got.edx);
	}
}

/* Every leaf the brief names, and a few past each range, as cpuid_guest answers them. */
static void check_table(const struct cpuid_table *t, const struct cpuid_vm *vm, cpuid_host_fn host)
{
	for (uint32_t leaf = 0; leaf <= 0x20; leaf++)
		check_leaf(t, vm, leaf, host);
	for (uint32_t leaf = 0x40000000; leaf <= 0x40000002; leaf++)
		check_leaf(t, vm, leaf, host);
	for (uint32_t leaf = 0x80000000; leaf <= 0x80000009; leaf++)
		check_leaf(t, vm, leaf, host);
	for (unsigned int i = 0; i < sizeof(test_leaves) / sizeof(test_leaves[0]); i++)
		check_leaf(t, vm, test_leaves[i], host);
}

static void check_vm(struct cpuid_vm vm, cpuid_host_fn host)
{
	struct cpuid_snap snap;
	struct cpuid_table direct, via_snap;

	assert_int_equal(cpuid_snap_take(&snap, host), 0);
	cur_snap = &snap;
	vm.leaf7_filter = leaf7_filter;
	assert_int_equal(cpuid_table_fill(&direct, &vm, host), 0);
	/* As in the kernel: from the boot snapshot. */
	assert_int_equal(cpuid_table_fill(&via_snap, &vm, snap_host), 0);
	for (unsigned int st = 0; st < 12; st++) {
		static const uint64_t xcr0s[] = { XFEATURE_X87, XMASK, ~0ull };

		live_osxsave_on = vm.guest_osxsave = st & 1;
		live_pke_on = st & 2;
		vm.guest_xcr0 = xcr0s[st >> 2] & (vm.xcr0_mask | XFEATURE_X87);
		check_table(&direct, &vm, host);
		check_table(&via_snap, &vm, host);
	}
}

/* A vCPU's table made from vCPU 0's answers as the rules give it, every host, size and vCPU. */
static void test_table_for_vcpu(void **state)
{
	static const uint32_t sizes[] = { 1, 2, 3, 4, 8, 64 };

	live_osxsave_on = live_pke_on = false;
	for (unsigned int h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct cpuid_vm vm = vm_of(sizes[i], 0);
			static struct cpuid_table tmpl, t;

			vm.leaf7_filter = leaf7_filter;
			assert_int_equal(cpuid_table_fill(&tmpl, &vm, hosts[h]), 0);
			for (uint32_t k = 0; k < sizes[i]; k++) {
				vm.vcpu_index = k;
				assert_int_equal(cpuid_table_for_vcpu(&t, &tmpl, &vm, hosts[h]), 0);
				check_table(&t, &vm, hosts[h]);
				/* Its APIC IDs are its own. */
				assert_int_equal(cpuid_table_lookup(&t, 1, 0, &(struct cpuid_live){ 0 }).ebx >> 24,
						 k & 0xff);
			}
		}
	}
}

/* The table answers exactly as the rules do, on every host, vCPU and guest state. */
static void test_table_matches_rules(void **state)
{
	static const uint32_t vcpus[][2] = { { 1, 0 }, { 2, 1 }, { 4, 3 }, { 64, 37 } };

	for (unsigned int h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		for (unsigned int i = 0; i < sizeof(vcpus) / sizeof(vcpus[0]); i++) {
			struct cpuid_vm vm = vm_of(vcpus[i][0], vcpus[i][1]);

			check_vm(vm, hosts[h]);
			vm.xcr0_mask = XMASK | XFEATURE_AVX512 | XFEATURE_PKRU;
			vm.xsave_size = 0xa88;
			check_vm(vm, hosts[h]);
			vm.xcr0_mask = 0;
			vm.rdtscp = vm.invpcid = false;
			vm.tsc_khz = 0;
			check_vm(vm, hosts[h]);
		}
	}
}

/*
 * What is live: EBX of CPUID.(EAX=0DH,ECX=0 and 1) is the size for the
 * guest's XCR0 (SDM vol. 1 13.2), OSXSAVE mirrors CR4.OSXSAVE, OSPKE
 * CR4.PKE; the x2APIC ID (0xB EDX) is the vCPU's; ECX[7:0] of 0xB echoes
 * the sub-leaf.
 */
static void test_table_live_state(void **state)
{
	struct cpuid_vm vm = vm_of(4, 2);
	struct cpuid_table t;
	struct cpuid_live live = { live_osxsave, leaf7_filter, XFEATURE_X87 };
	/* XCR0, then the standard (sub-leaf 0) and compacted (sub-leaf 1) sizes on spr's components. */
	static const struct { uint64_t xcr0; uint32_t std, compacted; } sizes[] = {
		{ XFEATURE_X87, 0x240, 0x240 },
		{ XMASK, 0x340, 0x340 },
		{ XMASK | XFEATURE_AVX512, 0xa80, 0x980 }, /* 2688, 2432: Linux's check on Skylake-X */
		{ XMASK | XFEATURE_AVX512 | XFEATURE_PKRU, 0xa88, 0x988 },
		{ XMASK | XFEATURE_PKRU, 0xa88, 0x348 },   /* standard: PKRU's fixed offset */
		/* AMX: 17 and 18 64-byte aligned when compacted (2440 -> 2496, 2560). */
		{ XMASK | XFEATURE_AVX512 | XFEATURE_PKRU | BIT(17) | BIT(18), 0x2b00, 0x2a00 },
	};

	vm.xcr0_mask = XMASK | XFEATURE_AVX512 | XFEATURE_PKRU | BIT(17) | BIT(18);
	assert_int_equal(cpuid_table_fill(&t, &vm, spr), 0);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		live.xcr0 = vm.guest_xcr0 = sizes[i].xcr0;
		assert_int_equal(cpuid_table_lookup(&t, 0xd, 0, &live).ebx, sizes[i].std);
		assert_int_equal(cpuid_table_lookup(&t, 0xd, 1, &live).ebx, sizes[i].compacted);
		assert_int_equal(cpuid_guest(&vm, 0xd, 0, spr).ebx, sizes[i].std);
		assert_int_equal(cpuid_guest(&vm, 0xd, 1, spr).ebx, sizes[i].compacted);
	}
	live_osxsave_on = false;
	assert_false(cpuid_table_lookup(&t, 1, 0, &live).ecx & CPUID_1_ECX_OSXSAVE);
	live_osxsave_on = true;
	assert_true(cpuid_table_lookup(&t, 1, 0, &live).ecx & CPUID_1_ECX_OSXSAVE);
	assert_int_equal(cpuid_table_lookup(&t, 1, 0, &live).ebx >> 24, 2);
	live_pke_on = false;
	assert_false(cpuid_table_lookup(&t, 7, 0, &live).ecx & CPUID_7_ECX_OSPKE);
	live_pke_on = true;
	assert_true(cpuid_table_lookup(&t, 7, 0, &live).ecx & CPUID_7_ECX_OSPKE);
	assert_false(cpuid_table_lookup(&t, 7, 0, &live).ecx & CPUID_7_ECX_UMIP);
	assert_int_equal(cpuid_table_lookup(&t, 0xb, 0, &live).edx, 2);
	assert_int_equal(cpuid_table_lookup(&t, 0xb, 0x1234, &live).ecx, 0x34);
	assert_int_equal(cpuid_table_lookup(&t, 0x1f, 7, &live).edx, 2);
}

/* Past the maximum, Intel reads the highest basic leaf (0x1F here), AMD 0s (SDM, APM). */
static void test_table_ranges(void **state)
{
	struct cpuid_vm vm = vm_of(2, 1);
	struct cpuid_table t;
	const struct cpuid_live live = { NULL, NULL, XFEATURE_X87 };
	struct cpuid_regs r;

	assert_int_equal(cpuid_table_fill(&t, &vm, core2), 0);
	r = cpuid_table_lookup(&t, 0x80000000, 0, &live);
	assert_int_equal(r.eax, 0x80000004);
	r = cpuid_table_lookup(&t, 0x80000005, 3, &live); /* past extended max: 0x1F sub-leaf 3 */
	assert_int_equal(r.eax | r.ebx, 0);
	assert_int_equal(r.ecx, 3);
	assert_int_equal(r.edx, 1);
	r = cpuid_table_lookup(&t, 0x40000002, 0, &live); /* a hypervisor leaf past Tern's: 0s */
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	assert_int_equal(cpuid_table_fill(&t, &vm, amd), 0);
	r = cpuid_table_lookup(&t, 0x21, 0, &live);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

/* A host with every XSAVE component: more answers than a table holds. */
static struct cpuid_regs every_component(uint32_t leaf, uint32_t sub)
{
	if (leaf == 0xd)
		return (struct cpuid_regs){ 0x40, 0x240 + 0x40 * sub, 0, 0 };
	return spr(leaf, sub);
}

static void test_table_full(void **state)
{
	struct cpuid_vm vm = vm_of(1, 0);
	struct cpuid_table t;
	struct cpuid_snap snap;

	vm.xcr0_mask = ~0ull;
	assert_int_equal(cpuid_table_fill(&t, &vm, every_component), -ENOSPC);
	/* The snapshot takes only the host's own XCR0 components: SPR's fit. */
	assert_int_equal(cpuid_snap_take(&snap, spr), 0);
	assert_true(snap.n <= CPUID_SNAP_MAX);
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
		cmocka_unit_test(test_table_matches_rules),
		cmocka_unit_test(test_table_for_vcpu),
		cmocka_unit_test(test_table_live_state),
		cmocka_unit_test(test_table_ranges),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
