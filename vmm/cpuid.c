/* SPDX-License-Identifier: MIT */
/*
 * Guest CPUID (SDM vol. 2A, CPUID) from one table: each offered leaf lists
 * the host bits it passes (a whitelist: a bit Tern does not know stays
 * hidden) and, where needed, a rule that fills in what Tern virtualizes
 * (topology, timing, XSAVE, its own leaves). A leaf without a row reads 0.
 * What Tern does not virtualize is hidden here, not only refused with #GP:
 * VMX/SMX, MONITOR/MWAIT, performance monitoring, machine checks, debug
 * store, thermal and power MSRs, SGX, PT, MPX, AMX, CET, WAITPKG, ENQCMD,
 * PKS, UINTR, LAM, FRED, AMD's SVM and its extended topology.
 */
#include <stddef.h>
#include "vmm/cpuid.h"
#include "vmm/abi.h"
#include "arch/cpuid.h"
#include "arch/xstate.h"
#include "kernel/errno.h"

#define ANY_SUB 0xffffffffu

struct cpuid_rule {
	uint32_t leaf, sub;         /* sub: ANY_SUB for every sub-leaf */
	struct cpuid_regs keep;     /* host bits passed through */
	void (*fix)(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r);
};

/* log2 of the smallest power of two >= n: the APIC-ID bits n IDs need. */
static uint32_t id_bits(uint32_t n)
{
	uint32_t s = 0;

	while (s < 31 && (1u << s) < n)
		s++;
	return s;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static bool has_avx(const struct cpuid_vm *vm)
{
	return (vm->xcr0_mask & (XFEATURE_SSE | XFEATURE_AVX)) == (XFEATURE_SSE | XFEATURE_AVX);
}

static bool has_avx512(const struct cpuid_vm *vm)
{
	return has_avx(vm) && (vm->xcr0_mask & XFEATURE_AVX512) == XFEATURE_AVX512;
}

static void fix_vendor(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	r->eax = CPUID_GUEST_MAX_BASIC;
}

/*
 * Leaf 1. Topology: EBX[23:16] the addressable logical processors of the
 * package, valid with HTT (one package holds every vCPU); EBX[31:24] the
 * initial APIC ID. XSAVE and the AVX family only with their XCR0 state;
 * OSXSAVE mirrors the guest's CR4. The virtual local APIC offers x2APIC and
 * the TSC-deadline timer everywhere, vmm/msr.c the MTRRs.
 */
static void fix_features(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint32_t n = vm->nr_vcpus ? min_u32(vm->nr_vcpus, 255) : 1;

	r->ebx = (r->ebx & 0xffffu) | (n << CPUID_1_EBX_LOGICAL_SHIFT) |
		 (vm->vcpu_index << CPUID_1_EBX_APIC_ID_SHIFT);
	if (vm->nr_vcpus > 1)
		r->edx |= CPUID_1_EDX_HTT;
	r->edx |= CPUID_1_EDX_APIC | CPUID_1_EDX_MTRR; /* MTRRs emulated (vmm/msr.c) */
	if (!vm->xcr0_mask)
		r->ecx &= ~(uint32_t)CPUID_1_ECX_XSAVE;
	if (!has_avx(vm))
		r->ecx &= ~(uint32_t)(CPUID_1_ECX_AVX | CPUID_1_ECX_FMA | CPUID_1_ECX_F16C);
	if ((r->ecx & CPUID_1_ECX_XSAVE) && vm->guest_osxsave)
		r->ecx |= CPUID_1_ECX_OSXSAVE;
	r->ecx |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_HYPERVISOR;
}

/*
 * Leaf 4, each cache: EAX[31:26] + 1 core IDs in the package (rounded up to
 * a power of two by readers), EAX[25:14] + 1 logical processors sharing the
 * cache: one thread per core, so caches up to L2 are the core's own and L3
 * and beyond are shared by the package.
 */
static void fix_cache_params(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint32_t n = vm->nr_vcpus ? vm->nr_vcpus : 1;
	uint32_t level = (r->eax >> CPUID_4_EAX_LEVEL_SHIFT) & 7u;
	uint32_t sharing = level >= 3 ? min_u32(n, 4096) - 1 : 0;

	if (!(r->eax & CPUID_4_EAX_TYPE_MASK))
		return;
	r->eax = (r->eax & ((1u << CPUID_4_EAX_SHARING_SHIFT) - 1)) |
		 (sharing << CPUID_4_EAX_SHARING_SHIFT) | ((min_u32(n, 64) - 1) << CPUID_4_EAX_CORES_SHIFT);
}

/* Leaf 6: no thermal or power interface; the virtual APIC timer runs in every C-state. */
static void fix_thermal(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){ CPUID_6_EAX_ARAT, 0, 0, 0 };
}

/*
 * Leaf 7 sub-leaf 0: at most sub-leaves 1 and 2; vector extensions with
 * their XCR0 state; PKU with PKRU; INVPCID and RDPID where VMX lets them run.
 * IA32_TSC_ADJUST is emulated everywhere (vmm/msr.c).
 */
static void fix_leaf7(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	r->eax = min_u32(r->eax, CPUID_GUEST_MAX_LEAF7_SUB);
	r->ebx |= CPUID_7_EBX_TSC_ADJUST;
	if (!has_avx(vm)) {
		r->ebx &= ~(uint32_t)CPUID_7_EBX_AVX2;
		r->ecx &= ~(uint32_t)(CPUID_7_ECX_VAES | CPUID_7_ECX_VPCLMULQDQ);
	}
	if (!has_avx512(vm)) {
		r->ebx &= ~(uint32_t)(CPUID_7_EBX_AVX512F | CPUID_7_EBX_AVX512DQ | CPUID_7_EBX_AVX512_IFMA |
				      CPUID_7_EBX_AVX512PF | CPUID_7_EBX_AVX512ER | CPUID_7_EBX_AVX512CD |
				      CPUID_7_EBX_AVX512BW | CPUID_7_EBX_AVX512VL);
		r->ecx &= ~(uint32_t)(CPUID_7_ECX_AVX512_VBMI | CPUID_7_ECX_AVX512_VBMI2 |
				      CPUID_7_ECX_AVX512_VNNI | CPUID_7_ECX_AVX512_BITALG |
				      CPUID_7_ECX_AVX512_VPOPCNTDQ);
		r->edx &= ~(uint32_t)(CPUID_7_EDX_AVX512_4VNNIW | CPUID_7_EDX_AVX512_4FMAPS |
				      CPUID_7_EDX_AVX512_VP2INTERSECT | CPUID_7_EDX_AVX512_FP16);
	}
	if (!(vm->xcr0_mask & XFEATURE_PKRU))
		r->ecx &= ~(uint32_t)CPUID_7_ECX_PKU;
	if (!vm->invpcid)
		r->ebx &= ~(uint32_t)CPUID_7_EBX_INVPCID;
	if (!vm->rdtscp)
		r->ecx &= ~(uint32_t)CPUID_7_ECX_RDPID;
	if (vm->leaf7_filter)
		vm->leaf7_filter(sub, r);
}

static void fix_leaf7_1(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	if (!has_avx(vm)) {
		r->eax &= ~(uint32_t)(CPUID_7_1_EAX_SHA512 | CPUID_7_1_EAX_SM3 | CPUID_7_1_EAX_SM4 |
				      CPUID_7_1_EAX_AVX_VNNI | CPUID_7_1_EAX_AVX_IFMA);
		r->edx &= ~(uint32_t)(CPUID_7_1_EDX_AVX_VNNI_INT8 | CPUID_7_1_EDX_AVX_NE_CONVERT |
				      CPUID_7_1_EDX_AVX_VNNI_INT16);
	}
	if (!has_avx512(vm))
		r->eax &= ~(uint32_t)CPUID_7_1_EAX_AVX512_BF16;
}

/*
 * Leaves 0xB and 0x1F (SDM vol. 3A 10.9.1): an SMT level of one thread per
 * core, then a core level of every vCPU in one package. EAX[4:0] is the
 * right shift of the x2APIC ID to the next level's ID, EBX[15:0] the
 * logical processors at this level, ECX[15:8] the level type with the
 * sub-leaf in ECX[7:0], EDX the x2APIC ID at every sub-leaf.
 */
static void fix_topology(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint32_t n = vm->nr_vcpus ? min_u32(vm->nr_vcpus, 0xffff) : 1;

	r->edx = vm->vcpu_index;
	r->ecx = sub & 0xffu;
	if (sub == 0) {
		r->eax = 0;
		r->ebx = 1;
		r->ecx |= CPUID_TOPO_LEVEL_SMT << CPUID_TOPO_LEVEL_TYPE_SHIFT;
	} else if (sub == 1) {
		r->eax = id_bits(vm->nr_vcpus);
		r->ebx = n;
		r->ecx |= CPUID_TOPO_LEVEL_CORE << CPUID_TOPO_LEVEL_TYPE_SHIFT;
	} else {
		r->eax = 0;
		r->ebx = 0;
	}
}

/*
 * Leaf 0xD (SDM vol. 1 13.2) as Tern offers it: only the components it
 * switches (xcr0_mask), no supervisor state (XSAVES, IA32_XSS and IA32_XFD
 * are not virtualized). EBX of sub-leaves 0 and 1, the sizes for the
 * guest's XCR0, is computed from the components (xsave_area_size), not the
 * CPU's: emulators get sub-leaf 1 wrong.
 */
static void fix_xstate(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint64_t m = vm->xcr0_mask;

	if (!m)
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	else if (sub == 0)
		*r = (struct cpuid_regs){ (uint32_t)m, r->ebx, vm->xsave_size, (uint32_t)(m >> 32) };
	else if (sub == 1)
		*r = (struct cpuid_regs){ r->eax & (CPUID_D_1_EAX_XSAVEOPT | CPUID_D_1_EAX_XSAVEC |
						    CPUID_D_1_EAX_XGETBV1), r->ebx, 0, 0 };
	else if (sub >= 64 || !(m & BIT(sub)))
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	else
		r->ecx &= CPUID_D_N_ECX_ALIGN64; /* a user component: ECX[0] (supervisor) clear */
}

/*
 * Leaf 0x15: TSC = ECX (crystal Hz) * EBX / EAX. The crystal is the TSC
 * itself (or half or a quarter of it, to fit 32 bits), so a guest's
 * figure is exactly Tern's. Readers compute crystal kHz * EBX in 32 bits:
 * EBX stays small.
 */
static void fix_tsc_crystal(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint64_t hz = (uint64_t)vm->tsc_khz * 1000u;
	uint32_t mul = 1;

	*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	if (!hz)
		return;
	while (hz / mul > 0xffffffffull && mul < 8)
		mul *= 2;
	*r = (struct cpuid_regs){ 1, mul, (uint32_t)(hz / mul), 0 };
}

/* Leaf 0x16: base and maximum MHz are the TSC's; the bus (reference) clock 100 MHz. */
static void fix_freq(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint32_t mhz = (vm->tsc_khz + 500u) / 1000u;

	*r = (struct cpuid_regs){ mhz, mhz, vm->tsc_khz ? 100u : 0u, 0 };
}

/* 0x40000000: the highest hypervisor leaf and "Tern" (vmm/abi.h); 0x40000001: ABI and TSC kHz. */
static void fix_hv_base(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){ CPUID_HV_LEAF_MAX, TERN_CPUID_SIGNATURE, TERN_CPUID_SIGNATURE,
				  TERN_CPUID_SIGNATURE };
}

static void fix_hv_info(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){ TERN_ABI_VERSION, vm->tsc_khz, 0, 0 };
}

static void fix_ext_max(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	r->eax = min_u32(r->eax, CPUID_GUEST_MAX_EXT);
}

static void fix_ext_features(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	if (!has_avx(vm))
		r->ecx &= ~(uint32_t)(CPUID_80000001_ECX_XOP | CPUID_80000001_ECX_FMA4);
	if (!vm->rdtscp)
		r->edx &= ~(uint32_t)CPUID_80000001_EDX_RDTSCP;
}

/*
 * 0x80000008 ECX (AMD APM vol. 3, CPUID Fn8000_0008; reserved on Intel,
 * where readers ignore it): ECX[7:0] cores in the package minus 1,
 * ECX[15:12] the APIC-ID bits that number them.
 */
static void fix_addr_sizes(const struct cpuid_vm *vm, uint32_t sub, struct cpuid_regs *r)
{
	uint32_t n = vm->nr_vcpus ? min_u32(vm->nr_vcpus, 256) : 1;

	r->ecx = (n - 1) | (id_bits(vm->nr_vcpus) << CPUID_80000008_ECX_APIC_ID_SIZE_SHIFT);
}

#define ALL 0xffffffffu
#define NONE (struct cpuid_regs){ 0, 0, 0, 0 }

#define KEEP_1_ECX (CPUID_1_ECX_SSE3 | CPUID_1_ECX_PCLMULQDQ | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_FMA | \
		    CPUID_1_ECX_CX16 | CPUID_1_ECX_PCID | CPUID_1_ECX_SSE4_1 | CPUID_1_ECX_SSE4_2 | \
		    CPUID_1_ECX_MOVBE | CPUID_1_ECX_POPCNT | CPUID_1_ECX_AES | CPUID_1_ECX_XSAVE | \
		    CPUID_1_ECX_AVX | CPUID_1_ECX_F16C | CPUID_1_ECX_RDRAND)
#define KEEP_1_EDX (CPUID_1_EDX_FPU | CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE | \
		    CPUID_1_EDX_TSC | CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_CX8 | \
		    CPUID_1_EDX_SEP | CPUID_1_EDX_MTRR | CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV | \
		    CPUID_1_EDX_PAT | CPUID_1_EDX_PSE36 | CPUID_1_EDX_CLFSH | CPUID_1_EDX_MMX | \
		    CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2 | CPUID_1_EDX_SS)
#define KEEP_7_EBX (CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_BMI1 | CPUID_7_EBX_HLE | \
		    CPUID_7_EBX_AVX2 | CPUID_7_EBX_FDP_EXCPTN_ONLY | CPUID_7_EBX_SMEP | CPUID_7_EBX_BMI2 | \
		    CPUID_7_EBX_ERMS | CPUID_7_EBX_INVPCID | CPUID_7_EBX_RTM | CPUID_7_EBX_ZERO_FCS_FDS | \
		    CPUID_7_EBX_AVX512F | CPUID_7_EBX_AVX512DQ | CPUID_7_EBX_RDSEED | CPUID_7_EBX_ADX | \
		    CPUID_7_EBX_SMAP | CPUID_7_EBX_AVX512_IFMA | CPUID_7_EBX_CLFLUSHOPT | CPUID_7_EBX_CLWB | \
		    CPUID_7_EBX_AVX512PF | CPUID_7_EBX_AVX512ER | CPUID_7_EBX_AVX512CD | CPUID_7_EBX_SHA | \
		    CPUID_7_EBX_AVX512BW | CPUID_7_EBX_AVX512VL)
#define KEEP_7_ECX (CPUID_7_ECX_PREFETCHWT1 | CPUID_7_ECX_AVX512_VBMI | CPUID_7_ECX_UMIP | \
		    CPUID_7_ECX_PKU | CPUID_7_ECX_AVX512_VBMI2 | CPUID_7_ECX_GFNI | CPUID_7_ECX_VAES | \
		    CPUID_7_ECX_VPCLMULQDQ | CPUID_7_ECX_AVX512_VNNI | CPUID_7_ECX_AVX512_BITALG | \
		    CPUID_7_ECX_AVX512_VPOPCNTDQ | CPUID_7_ECX_LA57 | CPUID_7_ECX_RDPID | \
		    CPUID_7_ECX_CLDEMOTE | CPUID_7_ECX_MOVDIRI | CPUID_7_ECX_MOVDIR64B)
/*
 * Speculation control as the host has it: vmm/msr.c offers IA32_SPEC_CTRL
 * (the IBRS, STIBP and SSBD bits the host has), IA32_PRED_CMD with IBRS_IBPB
 * and IA32_ARCH_CAPABILITIES (read-only, from the host). Not IA32_FLUSH_CMD
 * (L1D_FLUSH) nor leaf 7.2's further SPEC_CTRL controls: those stay hidden.
 */
#define KEEP_7_EDX (CPUID_7_EDX_AVX512_4VNNIW | CPUID_7_EDX_AVX512_4FMAPS | CPUID_7_EDX_FSRM | \
		    CPUID_7_EDX_AVX512_VP2INTERSECT | CPUID_7_EDX_MD_CLEAR | CPUID_7_EDX_RTM_ALWAYS_ABORT | \
		    CPUID_7_EDX_SERIALIZE | CPUID_7_EDX_TSXLDTRK | CPUID_7_EDX_AVX512_FP16 | \
		    CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP | CPUID_7_EDX_ARCH_CAPABILITIES | CPUID_7_EDX_SSBD)
#define KEEP_7_1_EAX (CPUID_7_1_EAX_SHA512 | CPUID_7_1_EAX_SM3 | CPUID_7_1_EAX_SM4 | \
		      CPUID_7_1_EAX_RAO_INT | CPUID_7_1_EAX_AVX_VNNI | CPUID_7_1_EAX_AVX512_BF16 | \
		      CPUID_7_1_EAX_CMPCCXADD | CPUID_7_1_EAX_FZLRM | CPUID_7_1_EAX_FSRS | \
		      CPUID_7_1_EAX_FSRCS | CPUID_7_1_EAX_WRMSRNS | CPUID_7_1_EAX_AVX_IFMA)
#define KEEP_7_1_EDX (CPUID_7_1_EDX_AVX_VNNI_INT8 | CPUID_7_1_EDX_AVX_NE_CONVERT | \
		      CPUID_7_1_EDX_AVX_VNNI_INT16 | CPUID_7_1_EDX_PREFETCHI)
#define KEEP_7_2_EDX CPUID_7_2_EDX_MCDT_NO
#define KEEP_E1_ECX (CPUID_80000001_ECX_LAHF | CPUID_80000001_ECX_ABM | CPUID_80000001_ECX_SSE4A | \
		     CPUID_80000001_ECX_MISALIGNSSE | CPUID_80000001_ECX_PREFETCHW | \
		     CPUID_80000001_ECX_XOP | CPUID_80000001_ECX_FMA4 | CPUID_80000001_ECX_TBM)
/* AMD repeats leaf 1's EDX bits here: the same ones pass. */
#define KEEP_E1_EDX (KEEP_1_EDX | CPUID_1_EDX_APIC | CPUID_80000001_EDX_SYSCALL | \
		     CPUID_80000001_EDX_NX | CPUID_80000001_EDX_MMXEXT | CPUID_80000001_EDX_FFXSR | \
		     CPUID_80000001_EDX_PAGE1GB | CPUID_80000001_EDX_RDTSCP | CPUID_80000001_EDX_LM | \
		     CPUID_80000001_EDX_3DNOWEXT | CPUID_80000001_EDX_3DNOW)
#define KEEP_E8_EBX (CPUID_80000008_EBX_WBNOINVD | CPUID_80000008_EBX_AMD_SSB_NO | \
		     CPUID_80000008_EBX_AMD_BTC_NO)

static const struct cpuid_rule rules[] = {
	{ CPUID_LEAF_VENDOR, ANY_SUB, { ALL, ALL, ALL, ALL }, fix_vendor },
	{ CPUID_LEAF_FEATURES, ANY_SUB, { ALL, ALL, KEEP_1_ECX, KEEP_1_EDX }, fix_features },
	{ CPUID_LEAF_CACHE_DESC, ANY_SUB, { ALL, ALL, ALL, ALL }, NULL },
	{ CPUID_LEAF_CACHE_PARAMS, ANY_SUB, { ALL, ALL, ALL, ALL }, fix_cache_params },
	{ CPUID_LEAF_THERMAL, ANY_SUB, { 0, 0, 0, 0 }, fix_thermal },
	{ CPUID_LEAF_EXT_FEATURES7, 0, { ALL, KEEP_7_EBX, KEEP_7_ECX, KEEP_7_EDX }, fix_leaf7 },
	{ CPUID_LEAF_EXT_FEATURES7, 1, { KEEP_7_1_EAX, 0, 0, KEEP_7_1_EDX }, fix_leaf7_1 },
	{ CPUID_LEAF_EXT_FEATURES7, 2, { 0, 0, 0, KEEP_7_2_EDX }, NULL },
	/* 0xA: no performance counters offered (RDPMC faults, vmm/exit.c). */
	{ CPUID_LEAF_TOPOLOGY, ANY_SUB, { 0, 0, 0, 0 }, fix_topology },
	{ CPUID_LEAF_XSTATE, ANY_SUB, { ALL, ALL, ALL, ALL }, fix_xstate },
	{ CPUID_LEAF_TSC_CRYSTAL, ANY_SUB, { 0, 0, 0, 0 }, fix_tsc_crystal },
	{ CPUID_LEAF_FREQ, ANY_SUB, { 0, 0, 0, 0 }, fix_freq },
	{ CPUID_LEAF_TOPOLOGY_V2, ANY_SUB, { 0, 0, 0, 0 }, fix_topology },
	{ CPUID_LEAF_HV_BASE, ANY_SUB, { 0, 0, 0, 0 }, fix_hv_base },
	{ CPUID_LEAF_HV_BASE + 1, ANY_SUB, { 0, 0, 0, 0 }, fix_hv_info },
	{ CPUID_LEAF_EXT_MAX, ANY_SUB, { ALL, ALL, ALL, ALL }, fix_ext_max },
	{ CPUID_LEAF_EXT_FEATURES, ANY_SUB, { ALL, ALL, KEEP_E1_ECX, KEEP_E1_EDX }, fix_ext_features },
	{ CPUID_LEAF_BRAND0, ANY_SUB, { ALL, ALL, ALL, ALL }, NULL },
	{ CPUID_LEAF_BRAND1, ANY_SUB, { ALL, ALL, ALL, ALL }, NULL },
	{ CPUID_LEAF_BRAND2, ANY_SUB, { ALL, ALL, ALL, ALL }, NULL },
	{ CPUID_LEAF_L1_CACHE, ANY_SUB, { ALL, ALL, ALL, ALL }, NULL },
	{ CPUID_LEAF_L2_CACHE, ANY_SUB, { ALL, ALL, ALL, ALL }, NULL },
	{ CPUID_LEAF_INVARIANT_TSC, ANY_SUB, { 0, 0, 0, CPUID_80000007_EDX_INVARIANT_TSC }, NULL },
	{ CPUID_LEAF_ADDR_SIZES, ANY_SUB, { CPUID_80000008_EAX_ADDR_BITS, KEEP_E8_EBX, 0, 0 },
	  fix_addr_sizes },
};

/* Does the host have this leaf? Not above its own maximum, nor a hypervisor's. */
static bool host_has(uint32_t leaf, cpuid_host_fn host)
{
	uint32_t max = host(leaf & CPUID_LEAF_EXT_MAX, 0).eax;

	if (leaf >= CPUID_LEAF_HV_BASE && leaf <= CPUID_LEAF_HV_LAST)
		return false;
	return leaf <= max && (!(leaf & CPUID_LEAF_EXT_MAX) || max >= CPUID_LEAF_EXT_MAX);
}

/* The host's leaf, or 0s above its own maximum (its "highest basic leaf" echo is no data). */
static struct cpuid_regs host_leaf(uint32_t leaf, uint32_t sub, cpuid_host_fn host)
{
	return host_has(leaf, host) ? host(leaf, sub) : NONE;
}

/*
 * The bytes of an XSAVE area for the components in xcr0 (SDM vol. 1 13.4.3,
 * 13.2): the standard form ends where the highest enabled component ends
 * (EBX of sub-leaf 0); the compacted form, XSAVEC's, puts each enabled
 * component i >= 2 right after the one before, 64-byte aligned where ECX[1]
 * of sub-leaf i says (EBX of sub-leaf 1, XCR0 | IA32_XSS with IA32_XSS 0).
 * comp(ctx, i) is sub-leaf i as the guest reads it.
 */
#define CPUID_XSTATE_SUBS 64u

typedef struct cpuid_regs (*xcomp_fn)(const void *ctx, uint32_t i);

static uint32_t xsave_area_size(uint64_t xcr0, bool compacted, xcomp_fn comp, const void *ctx)
{
	uint32_t size = XSTATE_LEGACY_SIZE + XSTATE_HEADER_SIZE;

	for (uint32_t i = 2; i < CPUID_XSTATE_SUBS; i++) {
		struct cpuid_regs c;

		if (!(xcr0 & BIT(i)))
			continue;
		c = comp(ctx, i);
		if (compacted) {
			if (c.ecx & CPUID_D_N_ECX_ALIGN64)
				size = (size + 63u) & ~63u;
			size += c.eax;
		} else if (c.ebx + c.eax > size) {
			size = c.ebx + c.eax;
		}
	}
	return size;
}

static struct cpuid_regs apply(const struct cpuid_vm *vm, uint32_t leaf, uint32_t sub,
			       cpuid_host_fn host);

struct guest_comp_ctx {
	const struct cpuid_vm *vm;
	cpuid_host_fn host;
};

static struct cpuid_regs guest_comp(const void *ctx, uint32_t i)
{
	const struct guest_comp_ctx *c = ctx;

	return apply(c->vm, CPUID_LEAF_XSTATE, i, c->host);
}

static struct cpuid_regs apply(const struct cpuid_vm *vm, uint32_t leaf, uint32_t sub,
			       cpuid_host_fn host)
{
	for (unsigned int i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct cpuid_rule *rl = &rules[i];
		struct cpuid_regs r;

		if (rl->leaf != leaf || (rl->sub != ANY_SUB && rl->sub != sub))
			continue;
		r = host_leaf(leaf, sub, host);
		r.eax &= rl->keep.eax;
		r.ebx &= rl->keep.ebx;
		r.ecx &= rl->keep.ecx;
		r.edx &= rl->keep.edx;
		if (rl->fix)
			rl->fix(vm, sub, &r);
		if (leaf == CPUID_LEAF_XSTATE && sub <= 1 && vm->xcr0_mask) {
			const struct guest_comp_ctx c = { vm, host };

			r.ebx = xsave_area_size(vm->guest_xcr0 & vm->xcr0_mask, sub == 1, guest_comp, &c);
		}
		return r;
	}
	return NONE;
}

static bool host_is_intel(cpuid_host_fn host)
{
	struct cpuid_regs v = host(CPUID_LEAF_VENDOR, 0);

	return v.ebx == CPUID_VENDOR_INTEL_EBX && v.edx == CPUID_VENDOR_INTEL_EDX &&
	       v.ecx == CPUID_VENDOR_INTEL_ECX;
}

struct cpuid_regs cpuid_guest(const struct cpuid_vm *vm, uint32_t leaf, uint32_t sub,
			      cpuid_host_fn host)
{
	if (leaf <= CPUID_GUEST_MAX_BASIC)
		return apply(vm, leaf, sub, host); /* the common case first: no range checks */
	if (leaf >= CPUID_LEAF_HV_BASE && leaf <= CPUID_LEAF_HV_LAST)
		return apply(vm, leaf, sub, host); /* software-defined: 0s past Tern's two */
	/*
	 * Past the highest basic or extended leaf, Intel CPUs return the
	 * highest basic leaf's data (SDM vol. 2A CPUID, "invalid input"); AMD
	 * ones return 0s (AMD APM vol. 3, CPUID).
	 */
	if (leaf < CPUID_LEAF_EXT_MAX ||
	    (leaf > CPUID_LEAF_EXT_MAX && leaf > apply(vm, CPUID_LEAF_EXT_MAX, 0, host).eax)) {
		if (!host_is_intel(host))
			return NONE;
		leaf = CPUID_GUEST_MAX_BASIC;
	}
	return apply(vm, leaf, sub, host);
}

/*
 * The sub-leaves a rule answers one by one (SDM vol. 2A CPUID): leaf 4 a
 * cache each (CPUID_CACHE_SUBS at most, 0s after), leaf 0xD a state
 * component each (0s from 64 on), 0xB and 0x1F a level each, the third
 * standing for every higher one. Other leaves ignore ECX: one answer, at 0.
 */
#define CPUID_CACHE_SUBS 8u
#define CPUID_TOPO_SUBS 3u

static uint32_t rule_subs(const struct cpuid_rule *rl)
{
	if (rl->sub != ANY_SUB)
		return 1;
	switch (rl->leaf) {
	case CPUID_LEAF_CACHE_PARAMS: return CPUID_CACHE_SUBS;
	case CPUID_LEAF_XSTATE: return CPUID_XSTATE_SUBS;
	case CPUID_LEAF_TOPOLOGY: case CPUID_LEAF_TOPOLOGY_V2: return CPUID_TOPO_SUBS;
	default: return 1;
	}
}

static uint32_t rule_sub(const struct cpuid_rule *rl, uint32_t i)
{
	return rl->sub != ANY_SUB ? rl->sub : i;
}

static bool regs_zero(struct cpuid_regs r)
{
	return !(r.eax | r.ebx | r.ecx | r.edx);
}

static bool rule_reads_host(const struct cpuid_rule *rl)
{
	return !regs_zero(rl->keep);
}

static bool snap_has(const struct cpuid_snap *s, uint32_t leaf, uint32_t sub)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->e[i].leaf == leaf && s->e[i].sub == sub)
			return true;
	return false;
}

static int snap_add(struct cpuid_snap *s, uint32_t leaf, uint32_t sub, cpuid_host_fn host)
{
	if (snap_has(s, leaf, sub))
		return 0;
	if (s->n == CPUID_SNAP_MAX)
		return -ENOSPC;
	s->e[s->n++] = (struct cpuid_snap_entry){ leaf, sub, host(leaf, sub) };
	return 0;
}

/*
 * What host_leaf can ask: the two maxima, and each rule's sub-leaves where
 * the host has the leaf and the rule keeps any of its bits. Of leaf 0xD only
 * the components the host's XCR0 can hold: fix_xstate offers no others.
 */
int cpuid_snap_take(struct cpuid_snap *s, cpuid_host_fn host)
{
	uint64_t xcr0 = 0;

	s->n = 0;
	if (snap_add(s, CPUID_LEAF_VENDOR, 0, host) || snap_add(s, CPUID_LEAF_EXT_MAX, 0, host))
		return -ENOSPC;
	if (host_has(CPUID_LEAF_XSTATE, host)) {
		struct cpuid_regs d = host(CPUID_LEAF_XSTATE, 0);

		xcr0 = ((uint64_t)d.edx << 32) | d.eax;
	}
	for (unsigned int i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct cpuid_rule *rl = &rules[i];

		if (!rule_reads_host(rl) || !host_has(rl->leaf, host))
			continue;
		for (uint32_t j = 0; j < rule_subs(rl); j++) {
			uint32_t sub = rule_sub(rl, j);

			if (rl->leaf == CPUID_LEAF_XSTATE && sub >= 2 && !(xcr0 & BIT(sub)))
				continue;
			if (snap_add(s, rl->leaf, sub, host))
				return -ENOSPC;
		}
	}
	return 0;
}

struct cpuid_regs cpuid_snap_read(const struct cpuid_snap *s, uint32_t leaf, uint32_t sub)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->e[i].leaf == leaf && s->e[i].sub == sub)
			return s->e[i].r;
	return NONE;
}

/* A leaf's slot in cpuid_table.start, or -1 for a leaf no rule can answer. */
static int leaf_slot(uint32_t leaf)
{
	if (leaf <= CPUID_GUEST_MAX_BASIC)
		return (int)leaf;
	if (leaf >= CPUID_LEAF_HV_BASE && leaf <= CPUID_HV_LEAF_MAX)
		return (int)(CPUID_GUEST_MAX_BASIC + 1 + leaf - CPUID_LEAF_HV_BASE);
	if (leaf >= CPUID_LEAF_EXT_MAX && leaf <= CPUID_GUEST_MAX_EXT)
		return (int)(CPUID_GUEST_MAX_BASIC + 2 + CPUID_HV_LEAF_MAX - CPUID_LEAF_HV_BASE +
			     leaf - CPUID_LEAF_EXT_MAX);
	return -1;
}

/* What of the answer a CPUID exit fills in from the running guest. */
static uint16_t entry_flags(const struct cpuid_vm *vm, const struct cpuid_rule *rl, uint32_t j,
			    struct cpuid_regs *r, cpuid_host_fn host)
{
	uint16_t f = rule_subs(rl) == 1 && rl->sub == ANY_SUB ? CPUID_ENT_FROM : 0;
	uint32_t sub = rule_sub(rl, j);

	if (rl->fix == fix_topology && j == CPUID_TOPO_SUBS - 1) {
		r->ecx &= ~0xffu;
		f |= CPUID_ENT_FROM | CPUID_ENT_SUB_ECX;
	}
	if (rl->leaf == CPUID_LEAF_FEATURES && (r->ecx & CPUID_1_ECX_XSAVE))
		f |= CPUID_ENT_OSXSAVE;
	if (rl->fix == fix_leaf7)
		f |= CPUID_ENT_LEAF7;
	if (rl->leaf == CPUID_LEAF_XSTATE && sub <= 1 && vm->xcr0_mask)
		f |= CPUID_ENT_XSAVE_EBX;
	return f;
}

static int table_add(struct cpuid_table *t, uint32_t *n, const struct cpuid_vm *vm,
		     const struct cpuid_rule *rl, cpuid_host_fn host)
{
	for (uint32_t j = 0; j < rule_subs(rl); j++) {
		uint32_t sub = rule_sub(rl, j);
		struct cpuid_regs r = cpuid_guest(vm, rl->leaf, sub, host);
		uint16_t f = entry_flags(vm, rl, j, &r, host);

		if (regs_zero(r) && !(f & ~CPUID_ENT_FROM))
			continue; /* no entry reads 0 */
		if (*n == CPUID_TABLE_MAX)
			return -ENOSPC;
		t->e[(*n)++] = (struct cpuid_entry){ rl->leaf, (uint16_t)sub, f, r };
	}
	return 0;
}

int cpuid_table_fill(struct cpuid_table *t, const struct cpuid_vm *vm, cpuid_host_fn host)
{
	struct cpuid_vm v = *vm;
	uint32_t n = 0, slot = 0;

	v.guest_osxsave = false;
	v.leaf7_filter = NULL;
	for (unsigned int i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		int s = leaf_slot(rules[i].leaf);

		if (s < 0 || (uint32_t)s + 1 < slot)
			return -EINVAL; /* the rules are in slot order */
		while (slot <= (uint32_t)s)
			t->start[slot++] = (uint8_t)n;
		if (table_add(t, &n, &v, &rules[i], host))
			return -ENOSPC;
	}
	while (slot <= CPUID_TABLE_SLOTS)
		t->start[slot++] = (uint8_t)n;
	t->intel = host_is_intel(host);
	t->xcr0_mask = vm->xcr0_mask;
	t->ext_max = cpuid_guest(&v, CPUID_LEAF_EXT_MAX, 0, host).eax;
	return 0;
}

static bool names_the_vcpu(uint32_t leaf)
{
	return leaf == CPUID_LEAF_FEATURES || leaf == CPUID_LEAF_TOPOLOGY ||
	       leaf == CPUID_LEAF_TOPOLOGY_V2;
}

/*
 * Only leaves 1 (initial APIC ID) and 0xB/0x1F (x2APIC ID) depend on
 * vcpu_index: they are answered anew, the rest copied. A whole fill if an
 * entry the new answers need is not in tmpl.
 */
int cpuid_table_for_vcpu(struct cpuid_table *t, const struct cpuid_table *tmpl,
			 const struct cpuid_vm *vm, cpuid_host_fn host)
{
	struct cpuid_vm v = *vm;

	v.guest_osxsave = false;
	v.leaf7_filter = NULL;
	*t = *tmpl;
	for (unsigned int i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct cpuid_rule *rl = &rules[i];
		int s = leaf_slot(rl->leaf);

		if (!names_the_vcpu(rl->leaf) || s < 0)
			continue;
		for (uint32_t j = 0; j < rule_subs(rl); j++) {
			uint32_t sub = rule_sub(rl, j), k;
			struct cpuid_regs r = cpuid_guest(&v, rl->leaf, sub, host);
			uint16_t f = entry_flags(&v, rl, j, &r, host);

			for (k = t->start[s]; k < t->start[s + 1] && t->e[k].sub != sub; k++)
				;
			if (k < t->start[s + 1] && t->e[k].flags == f)
				t->e[k].r = r;
			else if (!regs_zero(r) || (f & ~CPUID_ENT_FROM))
				return cpuid_table_fill(t, vm, host);
		}
	}
	return 0;
}

/* Out of line: most answers need nothing of the running guest. */
/* Sub-leaf i of leaf 0xD from the table. */
static struct cpuid_regs table_comp(const void *ctx, uint32_t i)
{
	const struct cpuid_table *t = ctx;
	int s = leaf_slot(CPUID_LEAF_XSTATE);

	for (uint32_t j = t->start[s]; j < t->start[s + 1]; j++)
		if (t->e[j].sub == i)
			return t->e[j].r;
	return NONE;
}

__attribute__((noinline)) static struct cpuid_regs entry_live(const struct cpuid_table *t,
							    const struct cpuid_entry *e, uint32_t sub,
							    const struct cpuid_live *live)
{
	struct cpuid_regs r = e->r;

	if (e->flags & CPUID_ENT_SUB_ECX)
		r.ecx |= sub & 0xffu;
	if ((e->flags & CPUID_ENT_OSXSAVE) && live->osxsave && live->osxsave())
		r.ecx |= CPUID_1_ECX_OSXSAVE;
	if ((e->flags & CPUID_ENT_LEAF7) && live->leaf7_filter)
		live->leaf7_filter(sub, &r);
	if (e->flags & CPUID_ENT_XSAVE_EBX)
		r.ebx = xsave_area_size(live->xcr0 & t->xcr0_mask, sub == 1, table_comp, t);
	return r;
}

/* cpuid_guest's leaf ranges, with the guest's highest extended leaf from the table. */
struct cpuid_regs cpuid_table_lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub,
				     const struct cpuid_live *live)
{
	int s;

	if (leaf > CPUID_GUEST_MAX_BASIC && !(leaf >= CPUID_LEAF_HV_BASE && leaf <= CPUID_LEAF_HV_LAST) &&
	    (leaf < CPUID_LEAF_EXT_MAX || (leaf > CPUID_LEAF_EXT_MAX && leaf > t->ext_max))) {
		if (!t->intel)
			return NONE;
		leaf = CPUID_GUEST_MAX_BASIC;
	}
	s = leaf_slot(leaf);
	if (s < 0)
		return NONE;
	for (uint32_t i = t->start[s]; i < t->start[s + 1]; i++) {
		const struct cpuid_entry *e = &t->e[i];

		if (e->sub == sub || ((e->flags & CPUID_ENT_FROM) && sub >= e->sub))
			return e->flags & ~CPUID_ENT_FROM ? entry_live(t, e, sub, live) : e->r;
	}
	return NONE;
}

_Static_assert(sizeof(struct cpuid_entry) == 24, "cpuid_entry: key and four registers");
_Static_assert(CPUID_TABLE_MAX <= 255, "cpuid_table.start holds entry indices in a byte");
