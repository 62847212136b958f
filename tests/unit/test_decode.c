// SPDX-License-Identifier: MIT
/* Unit tests for MOV decoding used by xAPIC MMIO emulation (vmm/decode.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmm/decode.h"

static struct mov_insn d;

static int dec(const uint8_t *b, size_t n)
{
	return decode_mov(b, n, &d);
}

static void test_loads(void **state)
{
	/* mov eax, [rdi+0x390] */
	static const uint8_t a[] = { 0x8b, 0x87, 0x90, 0x03, 0x00, 0x00 };
	/* mov r9d, [rip+0x1234] */
	static const uint8_t b[] = { 0x44, 0x8b, 0x0d, 0x34, 0x12, 0x00, 0x00 };
	/* mov rdx, [rax] */
	static const uint8_t c[] = { 0x48, 0x8b, 0x10 };
	/* mov ecx, [rsp+8] (SIB, disp8) */
	static const uint8_t e[] = { 0x8b, 0x4c, 0x24, 0x08 };
	/* mov eax, [0xfee00390] (SIB, no base, disp32) */
	static const uint8_t f[] = { 0x8b, 0x04, 0x25, 0x90, 0x03, 0xe0, 0xfe };

	assert_int_equal(dec(a, sizeof(a)), 0);
	assert_int_equal(d.len, 6);
	assert_false(d.write);
	assert_int_equal(d.reg, 0);
	assert_int_equal(d.width, 4);
	assert_int_equal(dec(b, sizeof(b)), 0);
	assert_int_equal(d.len, 7);
	assert_int_equal(d.reg, 9);
	assert_int_equal(dec(c, sizeof(c)), 0);
	assert_int_equal(d.len, 3);
	assert_int_equal(d.reg, 2);
	assert_int_equal(d.width, 8);
	assert_int_equal(dec(e, sizeof(e)), 0);
	assert_int_equal(d.len, 4);
	assert_int_equal(d.reg, 1);
	assert_int_equal(dec(f, sizeof(f)), 0);
	assert_int_equal(d.len, 7);
}

static void test_stores(void **state)
{
	/* mov [rdi+0xb0], esi */
	static const uint8_t a[] = { 0x89, 0xb7, 0xb0, 0x00, 0x00, 0x00 };
	/* mov dword [rax+0x380], 0x1000 */
	static const uint8_t b[] = { 0xc7, 0x80, 0x80, 0x03, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00 };
	/* mov qword [rax], -1 */
	static const uint8_t c[] = { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff };

	assert_int_equal(dec(a, sizeof(a)), 0);
	assert_true(d.write);
	assert_false(d.has_imm);
	assert_int_equal(d.reg, 6);
	assert_int_equal(d.len, 6);
	assert_int_equal(dec(b, sizeof(b)), 0);
	assert_true(d.has_imm);
	assert_int_equal(d.imm, 0x1000);
	assert_int_equal(d.len, 10);
	assert_int_equal(dec(c, sizeof(c)), 0);
	assert_int_equal(d.imm, UINT64_MAX);
	assert_int_equal(d.width, 8);
}

static void test_rejects(void **state)
{
	static const uint8_t regreg[] = { 0x8b, 0xc1 };         /* mov eax, ecx */
	static const uint8_t other[] = { 0x0f, 0xb6, 0x07 };     /* movzx */
	static const uint8_t c7_1[] = { 0xc7, 0x48, 0x10, 0, 0, 0, 0 }; /* C7 /1: invalid */
	static const uint8_t trunc[] = { 0x8b, 0x87, 0x90, 0x03 };
	static const uint8_t trunc_imm[] = { 0xc7, 0x00, 0x01, 0x02 };
	static const uint8_t opsize[] = { 0x66, 0x8b, 0x07 };    /* 16-bit: not offered */

	assert_int_equal(dec(regreg, sizeof(regreg)), -22);
	assert_int_equal(dec(other, sizeof(other)), -22);
	assert_int_equal(dec(c7_1, sizeof(c7_1)), -22);
	assert_int_equal(dec(trunc, sizeof(trunc)), -22);
	assert_int_equal(dec(trunc_imm, sizeof(trunc_imm)), -22);
	assert_int_equal(dec(opsize, sizeof(opsize)), -22);
	assert_int_equal(dec(regreg, 0), -22);
	assert_int_equal(dec((const uint8_t *)"\x48", 1), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_stores),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
