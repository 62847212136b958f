/* SPDX-License-Identifier: MIT */
/*
 * hcfuzz at CPL 3: every call is refused with -TERN_EPERM, whoever the guest
 * is, and unknown numbers get -TERN_ENOSYS (docs/hypercalls.md, "Who may
 * call"). Needs what Tern's start state lacks: user segments, a TSS for the
 * way back, and page tables with the user bit (hcfuzz_asm.asm does the trip).
 */
#include "tests/guests/hcfuzz.h"

#include "kernel/string.h"

#define X86_VEC_UD 6u
/* This GDT keeps Tern's 0x08 and 0x10, so the loaded selectors stay valid. */
#define SEL_KCODE 0x08u
#define SEL_KDATA 0x10u
#define SEL_TSS   0x28u
/* Segment descriptors (SDM Vol. 3A, 3.4.5): code64 and data, DPL 0 and 3. */
#define GDT_KCODE64 0x00af9a000000ffffull
#define GDT_KDATA   0x00cf92000000ffffull
#define GDT_UCODE64 0x00affa000000ffffull
#define GDT_UDATA   0x00cff2000000ffffull
#define GDT_TSS_AVAIL_P 0x89ull /* present, type 9: available 64-bit TSS (SDM 7.2.3) */
#define PTE_P  BIT(0)
#define PTE_W  BIT(1)
#define PTE_U  BIT(2)
#define PTE_PS BIT(7)
/* What RAX holds after an exception at CPL 3 other than the ud2 that ends a trip. */
#define USER_FAULT (0xfa1700ull << 40) /* | vector << 32 | RIP[31:0] */

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS");

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

int64_t hf_user_vmcall(uint64_t nr, uint64_t user_rsp);
extern const char hf_user_insn[], hf_user_back[];
extern uint64_t hf_user_krsp;

static uint64_t gdt[7] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t kstack[HF_PAGE] __attribute__((aligned(16)));
static uint8_t ustack[HF_PAGE] __attribute__((aligned(16)));
/* PML4, PDPT, PD: [0, 1 GiB) identity-mapped in 2 MiB user pages. */
static uint64_t upt[3][512] __attribute__((aligned(HF_PAGE)));

/* Any exception at CPL 3 ends the trip: back at CPL 0 in hf_user_back. */
static bool user_trap(struct guest_trap_frame *f)
{
	if ((f->cs & 3) != 3)
		return false;
	if (f->vector != X86_VEC_UD || f->rip == (uint64_t)hf_user_insn)
		f->rax = USER_FAULT | (f->vector << 32) | (f->rip & 0xffffffffu);
	f->rip = (uint64_t)hf_user_back;
	f->cs = SEL_KCODE;
	f->ss = SEL_KDATA;
	f->rsp = hf_user_krsp;
	return true;
}

static void user_setup(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	struct desc_ptr gdtr = { .limit = sizeof(gdt) - 1, .base = (uint64_t)gdt };

	gdt[1] = GDT_KCODE64;
	gdt[2] = GDT_KDATA;
	gdt[3] = GDT_UCODE64;
	gdt[4] = GDT_UDATA;
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (GDT_TSS_AVAIL_P << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
	tss.rsp0 = (uint64_t)kstack + sizeof(kstack);
	tss.iomap_base = sizeof(tss);
	upt[0][0] = (uint64_t)upt[1] | PTE_P | PTE_W | PTE_U;
	upt[1][0] = (uint64_t)upt[2] | PTE_P | PTE_W | PTE_U;
	for (uint64_t i = 0; i < 512; i++)
		upt[2][i] = (i << 21) | PTE_P | PTE_W | PTE_U | PTE_PS;
	__asm__ volatile("lgdt %0; ltr %w1" : : "m"(gdtr), "r"((uint16_t)SEL_TSS) : "memory");
	guest_trap_install(user_trap);
}

/* One VMCALL at CPL 3 with RAX = nr and zero arguments; page tables swapped around it. */
static int64_t user_call(uint64_t nr)
{
	uint64_t cr3;
	int64_t r;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)upt[0]) : "memory");
	r = hf_user_vmcall(nr, (uint64_t)ustack + sizeof(ustack));
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	return r;
}

void hf_user_checks(void)
{
	const uint64_t unknown[] = { TERN_HC_COUNT, 255, ~0ull };
	struct tern_vm_info vi;
	uint64_t denied = 0;
	int64_t r;

	if (hf.mgmt && hf_vm_info(hf.self, &vi))
		denied = vi.denied_calls;
	user_setup();
	for (uint64_t nr = 0; nr < TERN_HC_COUNT; nr++) {
		r = user_call(nr);
		if (((uint64_t)r & ~0xffffffffffull) == USER_FAULT)
			hf_assert(false, nr, "at CPL 3", "exception %lu at RIP 0x%lx%s",
				  ((uint64_t)r >> 32) & 0xff, (uint64_t)r & 0xffffffffu,
				  (uint64_t)(r & 0xffffffffu) == (uint64_t)hf_user_insn ?
				  " (the VMCALL)" : "");
		else
			hf_check(nr, "at CPL 3", r, HF_ERR(EPERM));
	}
	for (size_t i = 0; i < HF_N(unknown); i++)
		hf_check(unknown[i], "at CPL 3", user_call(unknown[i]), HF_ERR(ENOSYS));
	/* Each refusal counted; unknown numbers are not refusals. */
	if (hf.mgmt && hf_vm_info(hf.self, &vi))
		hf_assert(vi.denied_calls == denied + TERN_HC_COUNT, TERN_HC_VM_INFO,
			  "denied_calls after CPL 3", "%lu, want %lu", vi.denied_calls,
			  denied + TERN_HC_COUNT);
}
