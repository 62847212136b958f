// SPDX-License-Identifier: MIT
/* Unit tests for the software guest-state checks (vmm/vmcs_check.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vmcs_check.h"

/* A 64-bit guest as Tern sets one up, with Bochs skylake fixed bits. */
static struct guest_state good(void)
{
	return (struct guest_state){
		.cr0 = 0x80010033, .cr4 = 0x2020, .efer = 0x500, .rflags = 0x2,
		.link_pointer = ~0ull, .cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff,
		.cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3767ff, .entry_ctls = 0x8200,
		.unrestricted = true, .cs_ar = 0xa09b, .ss_ar = 0xc093, .tr_ar = 0x8b,
		.ldtr_ar = 0x10000, .activity = 0,
	};
}

static char msg[256];

static void expect(struct guest_state g, const char *prefix)
{
	assert_true(guest_state_check(&g, msg, sizeof(msg)));
	assert_memory_equal(msg, prefix, strlen(prefix));
}

static void test_good_states_pass(void **state)
{
	struct guest_state g = good();

	assert_false(guest_state_check(&g, msg, sizeof(msg)));
	/* Real mode with unrestricted guest: PE and PG off is fine. */
	g.cr0 = 0x30;
	g.efer = 0;
	g.entry_ctls = 0;
	g.cs_ar = 0x9b;
	assert_false(guest_state_check(&g, msg, sizeof(msg)));
}

static void test_each_rule(void **state)
{
	struct guest_state g;

	g = good(); g.cr0 &= ~0x20ull; /* NE */
	expect(g, "CR0 0x80010013 violates IA32_VMX_CR0_FIXED0/FIXED1");
	g = good(); g.cr0 = 0x30; g.unrestricted = false; g.entry_ctls = 0; g.efer = 0;
	expect(g, "CR0 0x30 violates");
	g = good(); g.cr0 = 0x80000030; g.entry_ctls = 0; g.efer = 0;
	expect(g, "CR0 0x80000030 has PG set without PE");
	g = good(); g.cr4 = 0x20;
	expect(g, "CR4 0x20 violates IA32_VMX_CR4_FIXED0/FIXED1 (must-be-one 0x2000)");
	g = good(); g.cr4 = 0x2000;
	expect(g, "IA-32e mode guest needs CR0.PG and CR4.PAE");
	g = good(); g.efer = 0x100;
	expect(g, "EFER.LMA (EFER 0x100) differs from the IA-32e mode guest entry control (1)");
	g = good(); g.entry_ctls = 0; g.efer = 0x100; g.cs_ar = 0xc09b;
	expect(g, "with CR0.PG set, EFER.LME and EFER.LMA must agree (EFER 0x100)");
	g = good(); g.cs_ar = 0xe09b;
	expect(g, "CS access rights 0xe09b: L and D/B both set in IA-32e mode");
	g = good(); g.tr_ar = 0x89; /* available, not busy */
	expect(g, "TR access rights 0x89: must be a present, usable busy TSS");
	g = good(); g.ldtr_ar = 0x92;
	expect(g, "LDTR access rights 0x92");
	g = good(); g.rflags = 0;
	expect(g, "RFLAGS 0x0: bit 1 must be 1");
	g = good(); g.rflags = 0x8002;
	expect(g, "RFLAGS 0x8002");
	g = good(); g.activity = 7;
	expect(g, "activity state 7 is not defined");
	g = good(); g.link_pointer = 0x1000;
	expect(g, "VMCS link pointer 0x1000 is not all ones");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_states_pass),
		cmocka_unit_test(test_each_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
