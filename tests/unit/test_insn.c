// SPDX-License-Identifier: MIT
/* Unit tests for the MMIO instruction emulator (vmm/emul/insn.c) over a fake, recording bus. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "vmm/emul/insn.h"
#include "kernel/errno.h"

#define MEM_BASE 0xfee00000ull /* linear base of the fake device memory */
#define MEM_SIZE 0x2000u
#define A        (MEM_BASE + 0x100) /* where the memory operand of most cases lives */
#define RIP0     0x7000ull
#define MAX_LOG  1024

#define CF INSN_RFLAGS_CF
#define PF INSN_RFLAGS_PF
#define AF INSN_RFLAGS_AF
#define ZF INSN_RFLAGS_ZF
#define SF INSN_RFLAGS_SF
#define DF INSN_RFLAGS_DF
#define OF INSN_RFLAGS_OF
#define IF (1ull << 9)
#define RFLAGS_FIXED (1ull << 1) /* reserved bit 1 reads as 1 (SDM vol. 1 3.4.3) */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { ES, CS, SS, DS, FS, GS };

struct access {
	uint64_t la;
	unsigned int size; /* 0 ends an expected list */
	bool write;
	uint64_t val;
};

/* Device memory at MEM_BASE; every access is logged; access number fail_at (0-based) fails. */
struct fake_bus {
	uint8_t mem[MEM_SIZE];
	struct access log[MAX_LOG];
	unsigned int n;
	int fail_at; /* -1: never */
};

static struct fake_bus fb;

static uint64_t le_get(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int fb_access(uint64_t la, void *buf, unsigned int size, bool write)
{
	int idx = (int)fb.n;
	uint8_t *p;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(fb.n < MAX_LOG);
	fb.log[fb.n++] = (struct access){ .la = la, .size = size, .write = write };
	if (idx == fb.fail_at)
		return -EIO;
	if (la < MEM_BASE || la + size > MEM_BASE + MEM_SIZE)
		return -EFAULT;
	p = fb.mem + (la - MEM_BASE);
	if (write)
		memcpy(p, buf, size);
	else
		memcpy(buf, p, size);
	fb.log[idx].val = le_get(p, size);
	return 0;
}

static int fb_read(void *ctx, uint64_t la, void *buf, unsigned int size)
{
	return fb_access(la, buf, size, false);
}

static int fb_write(void *ctx, uint64_t la, const void *buf, unsigned int size)
{
	return fb_access(la, (void *)buf, size, true);
}

static const struct insn_bus bus = { .ctx = &fb, .read = fb_read, .write = fb_write };

static void fb_reset(void)
{
	memset(&fb, 0, sizeof(fb));
	fb.fail_at = -1;
}

static void mem_put(uint64_t la, uint64_t v, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		fb.mem[la - MEM_BASE + i] = (uint8_t)(v >> (8 * i));
}

static void expect_u64(const char *what, const char *field, uint64_t got, uint64_t want)
{
	if (got != want) {
		print_error("%s: %s = %#llx, want %#llx\n", what, field, (unsigned long long)got,
			    (unsigned long long)want);
		fail();
	}
}

static void expect_log(const char *what, const struct access *want, unsigned int nwant)
{
	expect_u64(what, "bus accesses", fb.n, nwant);
	for (unsigned int i = 0; i < nwant; i++) {
		expect_u64(what, "access la", fb.log[i].la, want[i].la);
		expect_u64(what, "access size", fb.log[i].size, want[i].size);
		expect_u64(what, "access write", fb.log[i].write, want[i].write);
		expect_u64(what, "access value", fb.log[i].val, want[i].val);
	}
}

#define CODE(...) .code = { __VA_ARGS__ }, .len = sizeof((uint8_t[]){ __VA_ARGS__ })
#define RD(la, size, v) { (la), (size), false, (v) }
#define WR(la, size, v) { (la), (size), true, (v) }
#define OUT(r, v) .out_reg = (r) + 1, .out_val = (v)
#define M64 0xffffffffffffffffull

/* One instruction with one memory operand: state before, expected bus accesses and state after. */
struct mcase {
	const char *what;
	unsigned int mode;
	uint8_t code[INSN_MAX_LEN];
	uint8_t len;           /* all of code: the expected decoded length */
	uint64_t rip;          /* RIP0 when 0 */
	uint64_t gpr[16];      /* registers before (unlisted: 0) */
	uint64_t seg[6];       /* segment bases */
	uint64_t rflags;       /* before */
	uint64_t mem;          /* 8 bytes at A before */
	struct access acc[2];  /* expected accesses in order */
	unsigned int out_reg;  /* 1 + the one GPR that changes, 0 for none */
	uint64_t out_val;      /* its value after */
	uint64_t rflags_out;   /* after */
};

static void run_case(const struct mcase *c)
{
	struct insn_cpu cpu = { .mode = c->mode, .rflags = c->rflags, .rip = c->rip ? c->rip : RIP0 };
	uint64_t want_gpr[16];
	unsigned int nacc = 0;
	struct insn d;

	fb_reset();
	mem_put(A, c->mem, 8);
	memcpy(cpu.gpr, c->gpr, sizeof(cpu.gpr));
	memcpy(cpu.seg_base, c->seg, sizeof(cpu.seg_base));
	memcpy(want_gpr, c->gpr, sizeof(want_gpr));
	if (c->out_reg)
		want_gpr[c->out_reg - 1] = c->out_val;
	while (nacc < 2 && c->acc[nacc].size)
		nacc++;

	expect_u64(c->what, "decode", (uint64_t)insn_decode(c->code, c->len, c->mode, &d), 0);
	expect_u64(c->what, "length", d.len, c->len);
	expect_u64(c->what, "emulate", (uint64_t)insn_emulate(&cpu, c->code, c->len, &bus), 0);
	expect_log(c->what, c->acc, nacc);
	for (unsigned int r = 0; r < 16; r++)
		expect_u64(c->what, "gpr", cpu.gpr[r], want_gpr[r]);
	expect_u64(c->what, "rflags", cpu.rflags, c->rflags_out);
	expect_u64(c->what, "rip", cpu.rip, (c->rip ? c->rip : RIP0) + c->len);
}

static void run_cases(const struct mcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_case(&c[i]);
}

/* MOV 88-8B, C6/C7, A0-A3 (SDM vol. 2B MOV) at every operand size. */
static const struct mcase mov_cases[] = {
	{ "mov eax,[rdi] zero-extends", 64, CODE(0x8b, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0x1122334455667788, .acc = { RD(A, 4, 0x55667788) }, OUT(RAX, 0x55667788) },
	{ "mov rax,[rdi]", 64, CODE(0x48, 0x8b, 0x07), .gpr = { [RDI] = A }, .mem = 0x1122334455667788,
	  .acc = { RD(A, 8, 0x1122334455667788) }, OUT(RAX, 0x1122334455667788) },
	{ "mov ax,[rdi] keeps 63:16", 64, CODE(0x66, 0x8b, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0xbeef, .acc = { RD(A, 2, 0xbeef) }, OUT(RAX, 0xffffffffffffbeef) },
	{ "mov ah,[rdi]", 64, CODE(0x8a, 0x27), .gpr = { [RAX] = 0x1111, [RDI] = A }, .mem = 0x5a,
	  .acc = { RD(A, 1, 0x5a) }, OUT(RAX, 0x5a11) },
	{ "mov spl,[rdi] (REX)", 64, CODE(0x40, 0x8a, 0x27), .gpr = { [RSP] = 0x1234, [RDI] = A },
	  .mem = 0x5a, .acc = { RD(A, 1, 0x5a) }, OUT(RSP, 0x125a) },
	{ "mov r8b,[rdi]", 64, CODE(0x44, 0x8a, 0x07), .gpr = { [R8] = M64, [RDI] = A }, .mem = 0x5a,
	  .acc = { RD(A, 1, 0x5a) }, OUT(R8, 0xffffffffffffff5a) },
	{ "mov r9d,[r12] (SIB for r12)", 64, CODE(0x45, 0x8b, 0x0c, 0x24), .gpr = { [R9] = M64, [R12] = A },
	  .mem = 0x01020304, .acc = { RD(A, 4, 0x01020304) }, OUT(R9, 0x01020304) },
	{ "mov [rdi],esi", 64, CODE(0x89, 0x37), .gpr = { [RSI] = 0xaaaaaaaa12345678, [RDI] = A },
	  .acc = { WR(A, 4, 0x12345678) } },
	{ "mov [rdi],bh", 64, CODE(0x88, 0x3f), .gpr = { [RBX] = 0x4200, [RDI] = A },
	  .acc = { WR(A, 1, 0x42) } },
	{ "mov [rdi],r15w", 64, CODE(0x66, 0x44, 0x89, 0x3f), .gpr = { [R15] = 0x9876, [RDI] = A },
	  .acc = { WR(A, 2, 0x9876) } },
	{ "mov dword [rdi],imm32", 64, CODE(0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), .gpr = { [RDI] = A },
	  .acc = { WR(A, 4, 0x12345678) } },
	{ "mov qword [rdi],-1 (imm32 sign-extended)", 64, CODE(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff),
	  .gpr = { [RDI] = A }, .acc = { WR(A, 8, M64) } },
	{ "mov word [rdi],imm16", 64, CODE(0x66, 0xc7, 0x07, 0x34, 0x12), .gpr = { [RDI] = A },
	  .acc = { WR(A, 2, 0x1234) } },
	{ "mov byte [rdi],imm8", 64, CODE(0xc6, 0x07, 0xab), .gpr = { [RDI] = A },
	  .acc = { WR(A, 1, 0xab) } },
	{ "mov eax,[moffs64]", 64, CODE(0xa1, 0x00, 0x01, 0xe0, 0xfe, 0, 0, 0, 0), .mem = 0xcafe,
	  .acc = { RD(A, 4, 0xcafe) }, OUT(RAX, 0xcafe) },
	{ "mov eax,[moffs32] (67)", 64, CODE(0x67, 0xa1, 0x00, 0x01, 0xe0, 0xfe), .mem = 0xcafe,
	  .acc = { RD(A, 4, 0xcafe) }, OUT(RAX, 0xcafe) },
	{ "mov [moffs64],rax", 64, CODE(0x48, 0xa3, 0x00, 0x01, 0xe0, 0xfe, 0, 0, 0, 0),
	  .gpr = { [RAX] = 0x0123456789abcdef }, .acc = { WR(A, 8, 0x0123456789abcdef) } },
	{ "mov al,[moffs64]", 64, CODE(0xa0, 0x00, 0x01, 0xe0, 0xfe, 0, 0, 0, 0), .gpr = { [RAX] = 0x1200 },
	  .mem = 0x34, .acc = { RD(A, 1, 0x34) }, OUT(RAX, 0x1234) },
	{ "mov [moffs32],al (32-bit)", 32, CODE(0xa2, 0x00, 0x01, 0xe0, 0xfe), .gpr = { [RAX] = 0x77 },
	  .acc = { WR(A, 1, 0x77) } },
	{ "mov ax,[moffs16] (16-bit, DS base)", 16, CODE(0xa1, 0x00, 0x01), .seg = { [DS] = MEM_BASE },
	  .mem = 0x4321, .acc = { RD(A, 2, 0x4321) }, OUT(RAX, 0x4321) },
};

static void test_mov(void **state)
{
	run_cases(mov_cases, sizeof(mov_cases) / sizeof(mov_cases[0]));
}

/* ModRM/SIB forms, RIP-relative, 67, segments (SDM vol. 2A 2.1.5, 2.2.1.6; vol. 3A 3.4.4). */
static const struct mcase addr_cases[] = {
	{ "[rdi+disp32]", 64, CODE(0x8b, 0x87, 0x90, 0x03, 0x00, 0x00), .gpr = { [RDI] = A - 0x390 },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "[rsp+8]: SS base ignored in 64-bit mode", 64, CODE(0x8b, 0x44, 0x24, 0x08),
	  .gpr = { [RSP] = A - 8 }, .seg = { [SS] = 0x1000 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "[rbx+rcx*4+disp8]", 64, CODE(0x8b, 0x44, 0x8b, 0x10), .gpr = { [RBX] = A - 0x30, [RCX] = 8 },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "[rbx+r12] (REX.X)", 64, CODE(0x42, 0x8b, 0x04, 0x23), .gpr = { [RBX] = A - 0x40, [R12] = 0x40 },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "[r13+8] (REX.B)", 64, CODE(0x41, 0x8b, 0x45, 0x08), .gpr = { [R13] = A - 8 }, .mem = 7,
	  .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "SIB index 100b: none", 64, CODE(0x8b, 0x0c, 0x60), .gpr = { [RAX] = A, [RSP] = 0x5555 },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RCX, 7) },
	{ "[rcx*8+disp32] SIB without base", 64, CODE(0x8b, 0x04, 0xcd, 0x00, 0x01, 0x00, 0x00),
	  .gpr = { [RCX] = MEM_BASE / 8 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "[rip+disp32] after the instruction", 64, CODE(0x8b, 0x05, 0xf0, 0x00, 0x00, 0x00),
	  .rip = A - 0xf0 - 6, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "[rip+disp32] with imm32 after it", 64, CODE(0xc7, 0x05, 0xf6, 0x00, 0x00, 0x00, 1, 0, 0, 0),
	  .rip = A - 0x100, .acc = { WR(A, 4, 1) } },
	{ "67: [edi] drops 63:32", 64, CODE(0x67, 0x8b, 0x07), .gpr = { [RDI] = 0xffffffff00000000 | A },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "67: [edi+16] at 32 bits", 64, CODE(0x67, 0x8b, 0x47, 0x10), .gpr = { [RDI] = 0x1fee000f0 },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "fs:[rdi]", 64, CODE(0x64, 0x8b, 0x07), .gpr = { [RDI] = A - 0x1000 }, .seg = { [FS] = 0x1000 },
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "gs:[rdi]", 64, CODE(0x65, 0x89, 0x07), .gpr = { [RAX] = 9, [RDI] = A - 0x2000 },
	  .seg = { [GS] = 0x2000 }, .acc = { WR(A, 4, 9) } },
	{ "cs:[rdi]: CS base ignored in 64-bit mode", 64, CODE(0x2e, 0x8b, 0x07), .gpr = { [RDI] = A },
	  .seg = { [CS] = 0x1000 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "REX then 66: REX ignored", 64, CODE(0x48, 0x66, 0x8b, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0x1234, .acc = { RD(A, 2, 0x1234) }, OUT(RAX, 0xffffffffffff1234) },
	{ "32: [edi] + DS base", 32, CODE(0x8b, 0x07), .gpr = { [RDI] = A - 0x100 },
	  .seg = { [DS] = 0x100 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "32: [ebp+8] uses SS", 32, CODE(0x8b, 0x45, 0x08), .gpr = { [RBP] = A - 0x208 },
	  .seg = { [SS] = 0x200, [DS] = 0x100 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "32: ds:[ebp+8] override", 32, CODE(0x3e, 0x8b, 0x45, 0x08), .gpr = { [RBP] = A - 0x108 },
	  .seg = { [SS] = 0x200, [DS] = 0x100 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "32: es:[esp] override", 32, CODE(0x26, 0x8b, 0x04, 0x24), .gpr = { [RSP] = A - 0x300 },
	  .seg = { [SS] = 0x200, [ES] = 0x300 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "32: [disp32] absolute, no RIP-relative", 32, CODE(0x8b, 0x05, 0x00, 0x01, 0xe0, 0xfe),
	  .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "32: base+ea wraps at 4 GiB", 32, CODE(0x8b, 0x07), .gpr = { [RDI] = 0xffe00100 },
	  .seg = { [DS] = 0xff000000 }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "32: 66 mov ax,[edi]", 32, CODE(0x66, 0x8b, 0x07), .gpr = { [RAX] = 0xffff0000, [RDI] = A },
	  .mem = 0xabcd, .acc = { RD(A, 2, 0xabcd) }, OUT(RAX, 0xffffabcd) },
	{ "32: 67 [bx+16] wraps at 64 KiB", 32, CODE(0x67, 0x8b, 0x47, 0x10), .gpr = { [RBX] = 0x1234fff0 },
	  .seg = { [DS] = A }, .mem = 7, .acc = { RD(A, 4, 7) }, OUT(RAX, 7) },
	{ "16: mov ax,[bx]", 16, CODE(0x8b, 0x07), .gpr = { [RAX] = 0xffff0000, [RBX] = 0x100 },
	  .seg = { [DS] = MEM_BASE }, .mem = 0x55aa, .acc = { RD(A, 2, 0x55aa) }, OUT(RAX, 0xffff55aa) },
	{ "16: [bp+si+4] uses SS", 16, CODE(0x8b, 0x42, 0x04), .gpr = { [RBP] = 0x80, [RSI] = 0x7c },
	  .seg = { [SS] = MEM_BASE, [DS] = 0x5000 }, .mem = 7, .acc = { RD(A, 2, 7) }, OUT(RAX, 7) },
	{ "16: [bx+di+disp16]", 16, CODE(0x8b, 0x81, 0x00, 0x01), .gpr = { [RBX] = 0x10, [RDI] = 0xfff0 },
	  .seg = { [DS] = MEM_BASE }, .mem = 7, .acc = { RD(A, 2, 7) }, OUT(RAX, 7) },
	{ "16: [disp16]", 16, CODE(0x8b, 0x0e, 0x00, 0x01), .seg = { [DS] = MEM_BASE }, .mem = 7,
	  .acc = { RD(A, 2, 7) }, OUT(RCX, 7) },
	{ "16: [si-1] (disp8 sign-extended)", 16, CODE(0x8b, 0x44, 0xff), .gpr = { [RSI] = 0x101 },
	  .seg = { [DS] = MEM_BASE }, .mem = 7, .acc = { RD(A, 2, 7) }, OUT(RAX, 7) },
	{ "16: 66 mov eax,[bx]", 16, CODE(0x66, 0x8b, 0x07), .gpr = { [RBX] = 0x100 },
	  .seg = { [DS] = MEM_BASE }, .mem = 0x12345678, .acc = { RD(A, 4, 0x12345678) },
	  OUT(RAX, 0x12345678) },
	{ "16: 67 mov ax,[esp] (SIB, SS)", 16, CODE(0x67, 0x8b, 0x04, 0x24), .gpr = { [RSP] = 0x100 },
	  .seg = { [SS] = MEM_BASE }, .mem = 7, .acc = { RD(A, 2, 7) }, OUT(RAX, 7) },
};

static void test_addressing(void **state)
{
	fb_reset();
	run_cases(addr_cases, sizeof(addr_cases) / sizeof(addr_cases[0]));
}

/* MOVZX, MOVSX, MOVSXD (SDM vol. 2B). */
static const struct mcase movx_cases[] = {
	{ "movzx eax,byte [rdi]", 64, CODE(0x0f, 0xb6, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0x80, .acc = { RD(A, 1, 0x80) }, OUT(RAX, 0x80) },
	{ "movzx ax,byte [rdi]", 64, CODE(0x66, 0x0f, 0xb6, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0x80, .acc = { RD(A, 1, 0x80) }, OUT(RAX, 0xffffffffffff0080) },
	{ "movzx eax,word [rdi]", 64, CODE(0x0f, 0xb7, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0x8000, .acc = { RD(A, 2, 0x8000) }, OUT(RAX, 0x8000) },
	{ "movzx r10,word [rdi]", 64, CODE(0x4c, 0x0f, 0xb7, 0x17), .gpr = { [R10] = M64, [RDI] = A },
	  .mem = 0x8000, .acc = { RD(A, 2, 0x8000) }, OUT(R10, 0x8000) },
	{ "movsx rax,byte [rdi]", 64, CODE(0x48, 0x0f, 0xbe, 0x07), .gpr = { [RDI] = A }, .mem = 0x80,
	  .acc = { RD(A, 1, 0x80) }, OUT(RAX, 0xffffffffffffff80) },
	{ "movsx eax,word [rdi]", 64, CODE(0x0f, 0xbf, 0x07), .gpr = { [RAX] = M64, [RDI] = A },
	  .mem = 0x8000, .acc = { RD(A, 2, 0x8000) }, OUT(RAX, 0xffff8000) },
	{ "movsx cx,byte [rdi]", 64, CODE(0x66, 0x0f, 0xbe, 0x0f), .gpr = { [RCX] = 0x1111111111111111, [RDI] = A },
	  .mem = 0x7f, .acc = { RD(A, 1, 0x7f) }, OUT(RCX, 0x111111111111007f) },
	{ "movsxd rax,dword [rdi]", 64, CODE(0x48, 0x63, 0x07), .gpr = { [RDI] = A }, .mem = 0x80000000,
	  .acc = { RD(A, 4, 0x80000000) }, OUT(RAX, 0xffffffff80000000) },
	{ "movzx ax,byte [bx] (16-bit)", 16, CODE(0x0f, 0xb6, 0x07), .gpr = { [RAX] = 0xffff, [RBX] = 0x100 },
	  .seg = { [DS] = MEM_BASE }, .mem = 0xfe, .acc = { RD(A, 1, 0xfe) }, OUT(RAX, 0xfe) },
};

static void test_movx(void **state)
{
	run_cases(movx_cases, sizeof(movx_cases) / sizeof(movx_cases[0]));
}

/*
 * ALU flags from SDM vol. 1 3.4.3.1 and vol. 2A/2B "Flags Affected": CF
 * carry/borrow out of the top bit, OF signed overflow, SF the top bit, ZF
 * zero, PF even parity of the low byte, AF carry/borrow out of bit 3.
 * Logic ops and TEST clear CF and OF and leave AF (undefined) as it was.
 */
static const struct mcase alu_cases[] = {
	{ "cmp [rdi],esi equal", 64, CODE(0x39, 0x37), .gpr = { [RSI] = 5, [RDI] = A }, .mem = 5,
	  .rflags = CF | OF | SF, .acc = { RD(A, 4, 5) }, .rflags_out = ZF | PF },
	{ "cmp [rdi],esi below", 64, CODE(0x39, 0x37), .gpr = { [RSI] = 2, [RDI] = A }, .mem = 1,
	  .acc = { RD(A, 4, 1) }, .rflags_out = CF | SF | AF | PF },
	{ "cmp [rdi],esi signed overflow", 64, CODE(0x39, 0x37), .gpr = { [RSI] = 1, [RDI] = A },
	  .mem = 0x80000000, .acc = { RD(A, 4, 0x80000000) }, .rflags_out = OF | AF | PF },
	{ "cmp [rdi],esi greater", 64, CODE(0x39, 0x37), .gpr = { [RSI] = 1, [RDI] = A }, .mem = 3,
	  .acc = { RD(A, 4, 3) }, .rflags_out = 0 },
	{ "cmp esi,[rdi] (reg - mem)", 64, CODE(0x3b, 0x37), .gpr = { [RSI] = 1, [RDI] = A }, .mem = 2,
	  .acc = { RD(A, 4, 2) }, .rflags_out = CF | SF | AF | PF },
	{ "cmp byte [rdi],5", 64, CODE(0x80, 0x3f, 0x05), .gpr = { [RDI] = A }, .mem = 5,
	  .acc = { RD(A, 1, 5) }, .rflags_out = ZF | PF },
	{ "cmp qword [rdi],-1 (imm8)", 64, CODE(0x48, 0x83, 0x3f, 0xff), .gpr = { [RDI] = A }, .mem = M64,
	  .acc = { RD(A, 8, M64) }, .rflags_out = ZF | PF },
	{ "cmp dword [rdi],1 below", 64, CODE(0x83, 0x3f, 0x01), .gpr = { [RDI] = A }, .mem = 0,
	  .acc = { RD(A, 4, 0) }, .rflags_out = CF | SF | AF | PF },
	{ "cmp word [rdi],0x8000 (66 81)", 64, CODE(0x66, 0x81, 0x3f, 0x00, 0x80), .gpr = { [RDI] = A },
	  .mem = 0x7fff, .acc = { RD(A, 2, 0x7fff) }, .rflags_out = CF | OF | SF | PF },
	{ "add [rdi],esi carry to zero", 64, CODE(0x01, 0x37), .gpr = { [RSI] = 1, [RDI] = A },
	  .mem = 0xffffffff, .acc = { RD(A, 4, 0xffffffff), WR(A, 4, 0) }, .rflags_out = CF | ZF | AF | PF },
	{ "add [rdi],rsi signed overflow", 64, CODE(0x48, 0x01, 0x37), .gpr = { [RSI] = 1, [RDI] = A },
	  .mem = 0x7fffffffffffffff, .acc = { RD(A, 8, 0x7fffffffffffffff), WR(A, 8, 0x8000000000000000) },
	  .rflags_out = OF | SF | AF | PF },
	{ "add word [rdi],1 (66 83)", 64, CODE(0x66, 0x83, 0x07, 0x01), .gpr = { [RDI] = A }, .mem = 0x7fff,
	  .acc = { RD(A, 2, 0x7fff), WR(A, 2, 0x8000) }, .rflags_out = OF | SF | AF | PF },
	{ "add byte [rdi],1", 64, CODE(0x80, 0x07, 0x01), .gpr = { [RDI] = A }, .mem = 0xff,
	  .acc = { RD(A, 1, 0xff), WR(A, 1, 0) }, .rflags_out = CF | ZF | AF | PF },
	{ "add esi,[rdi] zero-extends", 64, CODE(0x03, 0x37), .gpr = { [RSI] = 0xffffffff00000001, [RDI] = A },
	  .mem = 2, .acc = { RD(A, 4, 2) }, OUT(RSI, 3), .rflags_out = PF },
	{ "add dl,[rdi] (02)", 64, CODE(0x02, 0x17), .gpr = { [RDX] = 0x1234, [RDI] = A }, .mem = 0x0c,
	  .acc = { RD(A, 1, 0x0c) }, OUT(RDX, 0x1240), .rflags_out = AF },
	{ "add [rdi],dh keeps DF IF and bit 1", 64, CODE(0x00, 0x37), .gpr = { [RDX] = 0x100, [RDI] = A }, .mem = 1,
	  .rflags = DF | IF | RFLAGS_FIXED | ZF, .acc = { RD(A, 1, 1), WR(A, 1, 2) },
	  .rflags_out = DF | IF | RFLAGS_FIXED },
	{ "sub [rdi],esi borrow", 64, CODE(0x29, 0x37), .gpr = { [RSI] = 1, [RDI] = A }, .mem = 0,
	  .acc = { RD(A, 4, 0), WR(A, 4, 0xffffffff) }, .rflags_out = CF | SF | AF | PF },
	{ "sub dword [rdi],0x80000000", 64, CODE(0x81, 0x2f, 0x00, 0x00, 0x00, 0x80), .gpr = { [RDI] = A },
	  .acc = { RD(A, 4, 0), WR(A, 4, 0x80000000) }, .rflags_out = CF | OF | SF | PF },
	{ "sub rsi,[rdi]", 64, CODE(0x48, 0x2b, 0x37), .gpr = { [RSI] = 0x10, [RDI] = A }, .mem = 0x10,
	  .acc = { RD(A, 8, 0x10) }, OUT(RSI, 0), .rflags_out = ZF | PF },
	{ "adc [rdi],esi with CF", 64, CODE(0x11, 0x37), .gpr = { [RSI] = 1, [RDI] = A }, .mem = 1,
	  .rflags = CF, .acc = { RD(A, 4, 1), WR(A, 4, 3) }, .rflags_out = PF },
	{ "adc [rdi],0 with CF carries out", 64, CODE(0x83, 0x17, 0x00), .gpr = { [RDI] = A },
	  .mem = 0xffffffff, .rflags = CF, .acc = { RD(A, 4, 0xffffffff), WR(A, 4, 0) },
	  .rflags_out = CF | ZF | AF | PF },
	{ "sbb [rdi],esi with CF", 64, CODE(0x19, 0x37), .gpr = { [RDI] = A }, .mem = 1, .rflags = CF,
	  .acc = { RD(A, 4, 1), WR(A, 4, 0) }, .rflags_out = ZF | PF },
	{ "sbb byte [rdi],0 with CF borrows", 64, CODE(0x80, 0x1f, 0x00), .gpr = { [RDI] = A }, .mem = 0,
	  .rflags = CF, .acc = { RD(A, 1, 0), WR(A, 1, 0xff) }, .rflags_out = CF | SF | AF | PF },
	{ "and [rdi],esi: CF OF cleared, AF kept", 64, CODE(0x21, 0x37),
	  .gpr = { [RSI] = 0x0ff00ff0, [RDI] = A }, .mem = 0xf0f0f0f0, .rflags = CF | OF | AF,
	  .acc = { RD(A, 4, 0xf0f0f0f0), WR(A, 4, 0x00f000f0) }, .rflags_out = AF | PF },
	{ "and byte [rdi],0x0f", 64, CODE(0x80, 0x27, 0x0f), .gpr = { [RDI] = A }, .mem = 0xf0,
	  .acc = { RD(A, 1, 0xf0), WR(A, 1, 0) }, .rflags_out = ZF | PF },
	{ "or [rdi],esi", 64, CODE(0x09, 0x37), .gpr = { [RSI] = 1, [RDI] = A }, .mem = 0x80000000,
	  .acc = { RD(A, 4, 0x80000000), WR(A, 4, 0x80000001) }, .rflags_out = SF },
	{ "or qword [rdi],imm32 sign-extended", 64, CODE(0x48, 0x81, 0x0f, 0x00, 0x00, 0x00, 0x80),
	  .gpr = { [RDI] = A }, .mem = 1, .acc = { RD(A, 8, 1), WR(A, 8, 0xffffffff80000001) },
	  .rflags_out = SF },
	{ "or esi,[rdi]", 64, CODE(0x0b, 0x37), .gpr = { [RSI] = 0xffffffff00000003, [RDI] = A }, .mem = 4,
	  .acc = { RD(A, 4, 4) }, OUT(RSI, 7), .rflags_out = 0 },
	{ "xor [rdi],esi equal", 64, CODE(0x31, 0x37), .gpr = { [RSI] = 0x5a5a, [RDI] = A }, .mem = 0x5a5a,
	  .rflags = CF, .acc = { RD(A, 4, 0x5a5a), WR(A, 4, 0) }, .rflags_out = ZF | PF },
	{ "xor dword [rdi],-1", 64, CODE(0x83, 0x37, 0xff), .gpr = { [RDI] = A }, .mem = 0xffff,
	  .acc = { RD(A, 4, 0xffff), WR(A, 4, 0xffff0000) }, .rflags_out = SF | PF },
	{ "xor ch,[rdi] (32)", 32, CODE(0x32, 0x2f), .gpr = { [RCX] = 0x0100, [RDI] = A }, .mem = 0x03,
	  .acc = { RD(A, 1, 3) }, OUT(RCX, 0x0200), .rflags_out = 0 },
	{ "test [rdi],esi", 64, CODE(0x85, 0x37), .gpr = { [RSI] = 0x00ff, [RDI] = A }, .mem = 0xff00,
	  .rflags = CF | OF, .acc = { RD(A, 4, 0xff00) }, .rflags_out = ZF | PF },
	{ "test byte [rdi],0x80", 64, CODE(0xf6, 0x07, 0x80), .gpr = { [RDI] = A }, .mem = 0x80,
	  .acc = { RD(A, 1, 0x80) }, .rflags_out = SF },
	{ "test dword [rdi],imm32", 64, CODE(0xf7, 0x07, 0x00, 0x00, 0x00, 0x80), .gpr = { [RDI] = A },
	  .mem = 0x80000000, .acc = { RD(A, 4, 0x80000000) }, .rflags_out = SF | PF },
	{ "test word [bx],imm16 (16)", 16, CODE(0xf7, 0x07, 0x01, 0x00), .gpr = { [RBX] = 0x100 },
	  .seg = { [DS] = MEM_BASE }, .mem = 0x2, .acc = { RD(A, 2, 2) }, .rflags_out = ZF | PF },
	{ "test [rdi],ah", 64, CODE(0x84, 0x27), .gpr = { [RAX] = 0x0300, [RDI] = A }, .mem = 0x01,
	  .acc = { RD(A, 1, 1) }, .rflags_out = 0 },
	{ "lock add [rdi],esi", 64, CODE(0xf0, 0x01, 0x37), .gpr = { [RSI] = 2, [RDI] = A }, .mem = 1,
	  .acc = { RD(A, 4, 1), WR(A, 4, 3) }, .rflags_out = PF },
	{ "lock or dword [rdi],1", 64, CODE(0xf0, 0x83, 0x0f, 0x01), .gpr = { [RDI] = A }, .mem = 2,
	  .acc = { RD(A, 4, 2), WR(A, 4, 3) }, .rflags_out = PF },
};

static void test_alu(void **state)
{
	run_cases(alu_cases, sizeof(alu_cases) / sizeof(alu_cases[0]));
}

/* XCHG (SDM vol. 2B XCHG): one read, one write of the register, register gets the old value. */
static const struct mcase xchg_cases[] = {
	{ "xchg [rdi],esi", 64, CODE(0x87, 0x37), .gpr = { [RSI] = 0xffffffff22222222, [RDI] = A },
	  .mem = 0x11111111, .acc = { RD(A, 4, 0x11111111), WR(A, 4, 0x22222222) }, OUT(RSI, 0x11111111) },
	{ "lock xchg [rdi],rsi", 64, CODE(0xf0, 0x48, 0x87, 0x37), .gpr = { [RSI] = 2, [RDI] = A },
	  .mem = 1, .acc = { RD(A, 8, 1), WR(A, 8, 2) }, OUT(RSI, 1) },
	{ "xchg [rdi],si", 64, CODE(0x66, 0x87, 0x37), .gpr = { [RSI] = 0xaaaa2222, [RDI] = A },
	  .mem = 0x1111, .acc = { RD(A, 2, 0x1111), WR(A, 2, 0x2222) }, OUT(RSI, 0xaaaa1111) },
	{ "xchg [rdi],ah", 64, CODE(0x86, 0x27), .gpr = { [RAX] = 0x2233, [RDI] = A }, .mem = 0x11,
	  .acc = { RD(A, 1, 0x11), WR(A, 1, 0x22) }, OUT(RAX, 0x1133) },
};

static void test_xchg(void **state)
{
	run_cases(xchg_cases, sizeof(xchg_cases) / sizeof(xchg_cases[0]));
}

/* Encodings the emulator refuses: LOCK where #UD, unknown opcodes, register forms, truncation. */
static void test_rejects(void **state)
{
	static const struct {
		unsigned int mode;
		uint8_t code[INSN_MAX_LEN];
		uint8_t len;
		int rc;
	} bad[] = {
		{ 64, CODE(0xf0, 0x89, 0x37), -EINVAL },                   /* lock mov */
		{ 64, CODE(0xf0, 0x8b, 0x37), -EINVAL },                   /* lock mov load */
		{ 64, CODE(0xf0, 0xc7, 0x07, 1, 0, 0, 0), -EINVAL },       /* lock mov imm */
		{ 64, CODE(0xf0, 0x39, 0x37), -EINVAL },                   /* lock cmp */
		{ 64, CODE(0xf0, 0x83, 0x3f, 0x01), -EINVAL },             /* lock cmp imm */
		{ 64, CODE(0xf0, 0x85, 0x37), -EINVAL },                   /* lock test */
		{ 64, CODE(0xf0, 0x03, 0x37), -EINVAL },                   /* lock add reg,mem */
		{ 64, CODE(0xf0, 0x01, 0xf7), -EINVAL },                   /* lock add edi,esi */
		{ 64, CODE(0xf0, 0x0f, 0xb6, 0x07), -EINVAL },             /* lock movzx */
		{ 64, CODE(0xc7, 0x4f, 0x10, 0, 0, 0, 0), -EINVAL },       /* C7 /1 */
		{ 64, CODE(0xc6, 0x17, 0), -EINVAL },                      /* C6 /2 */
		{ 64, CODE(0xf4), -ENOTSUP },                              /* hlt */
		{ 64, CODE(0x0f, 0xa2), -ENOTSUP },                        /* cpuid */
		{ 64, CODE(0xff, 0x07), -ENOTSUP },                        /* inc dword [rdi] */
		{ 64, CODE(0xf6, 0x17), -ENOTSUP },                        /* not byte [rdi] */
		{ 64, CODE(0xa6), -ENOTSUP },                              /* cmpsb */
		{ 64, CODE(0xf3, 0x0f, 0xb8, 0x07), -ENOTSUP },            /* popcnt */
		{ 64, CODE(0x8b, 0xc1), -ENOTSUP },                        /* mov eax,ecx: no memory */
		{ 32, CODE(0x63, 0x07), -ENOTSUP },                        /* arpl */
		{ 32, CODE(0x48, 0x8b, 0x07), -ENOTSUP },                  /* dec eax in 32-bit mode */
	};
	/* mov dword [rdi+0x390],0x12345678 with REX.W: 11 bytes */
	static const uint8_t full[] = { 0x48, 0xc7, 0x87, 0x90, 0x03, 0, 0, 0x78, 0x56, 0x34, 0x12 };
	static const uint8_t sixteen[] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
					   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x8b, 0x07 };
	static const uint8_t fifteen[] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
					   0x66, 0x66, 0x66, 0x66, 0x66, 0x8b, 0x07 };
	struct insn_cpu cpu = { .mode = 64, .rip = RIP0, .gpr = { [RDI] = A } };
	struct insn d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fb_reset();
		cpu.mode = bad[i].mode;
		assert_int_equal(insn_emulate(&cpu, bad[i].code, bad[i].len, &bus), bad[i].rc);
		assert_int_equal(fb.n, 0);
		assert_int_equal(cpu.rip, RIP0);
	}
	for (size_t n = 0; n < sizeof(full); n++)
		assert_int_equal(insn_decode(full, n, 64, &d), -EINVAL);
	assert_int_equal(insn_decode(full, sizeof(full), 64, &d), 0);
	assert_int_equal(d.len, sizeof(full));
	assert_int_equal(insn_decode(sixteen, sizeof(sixteen), 64, &d), -EINVAL);
	assert_int_equal(insn_decode(fifteen, sizeof(fifteen), 64, &d), 0);
	assert_int_equal(d.len, 15);
	assert_int_equal(d.opsize, 2);
	assert_int_equal(insn_decode(full, sizeof(full), 48, &d), -EINVAL);
}

/* insn_decode's view of an instruction, without executing it. */
static void test_decode_fields(void **state)
{
	/* lock xchg [rsp+r9*4+0x100],r14 */
	static const uint8_t a[] = { 0xf0, 0x4e, 0x87, 0xb4, 0x8c, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t regform[] = { 0x48, 0x8b, 0xc1 }; /* mov rax,rcx */
	static const uint8_t imm[] = { 0x48, 0x83, 0x07, 0x80 }; /* add qword [rdi],-128 */
	struct insn d;

	assert_int_equal(insn_decode(a, sizeof(a), 64, &d), 0);
	assert_int_equal(d.len, 9);
	assert_int_equal(d.cls, INSN_XCHG);
	assert_true(d.lock);
	assert_int_equal(d.rex, 0x4e);
	assert_int_equal(d.opsize, 8);
	assert_int_equal(d.addrsize, 8);
	assert_int_equal(d.reg, R14);
	assert_true(d.has_base && d.has_index);
	assert_int_equal(d.base, RSP);
	assert_int_equal(d.index, R9);
	assert_int_equal(d.scale, 2);
	assert_int_equal(d.disp, 0x100);
	assert_int_equal(d.seg, SS);
	assert_true(d.mem_first);

	assert_int_equal(insn_decode(regform, sizeof(regform), 64, &d), 0);
	assert_int_equal(d.mod, 3);
	assert_int_equal(d.rm, RCX);
	assert_int_equal(d.cls, INSN_MOV);

	assert_int_equal(insn_decode(imm, sizeof(imm), 64, &d), 0);
	assert_int_equal(d.cls, INSN_ALU);
	assert_int_equal(d.alu, INSN_ALU_ADD);
	assert_true(d.has_imm);
	assert_int_equal(d.imm, (uint64_t)-128);
	assert_int_equal(d.len, 4);
}

/* 16-bit code: IP wraps at 64 KiB; 32-bit: EIP at 4 GiB (SDM vol. 1 3.6, 6.1). */
static void test_rip_wrap(void **state)
{
	static const uint8_t mov16[] = { 0x8b, 0x07 }, f3mov[] = { 0xf3, 0x89, 0x07 };
	struct insn_cpu cpu = { .mode = 16, .rip = 0xfffe, .gpr = { [RBX] = 0x100 }, .seg_base = { [DS] = MEM_BASE } };
	struct insn d;

	fb_reset();
	assert_int_equal(insn_emulate(&cpu, mov16, sizeof(mov16), &bus), 0);
	assert_int_equal(cpu.rip, 0);
	cpu.mode = 32;
	cpu.rip = 0xfffffffd;
	assert_int_equal(insn_emulate(&cpu, f3mov, sizeof(f3mov), &bus), 0);
	assert_int_equal(cpu.rip, 0);
	assert_int_equal(fb.log[1].write, true);
	/* F3 on MOV (XRELEASE hint) changes nothing: not a REP */
	assert_int_equal(insn_decode(f3mov, sizeof(f3mov), 32, &d), 0);
	assert_int_equal(d.rep, 0);
	assert_int_equal(d.cls, INSN_MOV);
}

/* ---- string instructions (SDM vol. 2A LODS; vol. 2B MOVS, STOS, REP) -------- */

#define B (MEM_BASE + 0x800) /* string destination */

static struct insn_cpu cpu_at(unsigned int mode)
{
	return (struct insn_cpu){ .mode = mode, .rip = RIP0, .rflags = RFLAGS_FIXED };
}

static int emul(struct insn_cpu *cpu, const uint8_t *code, size_t len)
{
	return insn_emulate(cpu, code, len, &bus);
}

static void test_movs(void **state)
{
	static const uint8_t movsd[] = { 0xa5 }, rep_movsd[] = { 0xf3, 0xa5 }, rep_movsb[] = { 0xf3, 0xa4 };
	static const struct access once[] = { RD(A, 4, 0x11111111), WR(B, 4, 0x11111111) };
	static const struct access rep3[] = {
		RD(A, 4, 0x11111111), WR(B, 4, 0x11111111), RD(A + 4, 4, 0x22222222),
		WR(B + 4, 4, 0x22222222), RD(A + 8, 4, 0x33333333), WR(B + 8, 4, 0x33333333),
	};
	static const struct access down[] = {
		RD(A + 2, 1, 0xc3), WR(B + 2, 1, 0xc3), RD(A + 1, 1, 0xb2),
		WR(B + 1, 1, 0xb2), RD(A, 1, 0xa1), WR(B, 1, 0xa1),
	};
	struct insn_cpu cpu = cpu_at(64);

	fb_reset();
	mem_put(A, 0x2222222211111111, 8);
	mem_put(A + 8, 0x33333333, 4);
	cpu.gpr[RSI] = A;
	cpu.gpr[RDI] = B;
	cpu.gpr[RCX] = 3; /* no REP: ignored */
	assert_int_equal(emul(&cpu, movsd, sizeof(movsd)), 0);
	expect_log("movsd", once, 2);
	assert_int_equal(cpu.gpr[RSI], A + 4);
	assert_int_equal(cpu.gpr[RDI], B + 4);
	assert_int_equal(cpu.gpr[RCX], 3);
	assert_int_equal(cpu.rip, RIP0 + 1);

	fb.n = 0;
	cpu.gpr[RSI] = A;
	cpu.gpr[RDI] = B;
	assert_int_equal(emul(&cpu, rep_movsd, sizeof(rep_movsd)), 0);
	expect_log("rep movsd", rep3, 6);
	assert_int_equal(cpu.gpr[RCX], 0);
	assert_int_equal(cpu.gpr[RSI], A + 12);
	assert_int_equal(cpu.gpr[RDI], B + 12);
	assert_int_equal(cpu.rip, RIP0 + 3);

	/* DF=1: addresses decrement (SDM vol. 2B MOVS "Operation") */
	fb_reset();
	mem_put(A, 0xc3b2a1, 3);
	cpu = cpu_at(64);
	cpu.rflags |= DF;
	cpu.gpr[RSI] = A + 2;
	cpu.gpr[RDI] = B + 2;
	cpu.gpr[RCX] = 3;
	assert_int_equal(emul(&cpu, rep_movsb, sizeof(rep_movsb)), 0);
	expect_log("std; rep movsb", down, 6);
	assert_int_equal(cpu.gpr[RSI], A - 1);
	assert_int_equal(cpu.gpr[RDI], B - 1);
	assert_int_equal(cpu.gpr[RCX], 0);
	assert_int_equal(cpu.rflags, RFLAGS_FIXED | DF);
	assert_int_equal(cpu.rip, RIP0 + 2);
}

static void test_stos(void **state)
{
	static const uint8_t rep_stosq[] = { 0xf3, 0x48, 0xab }, rep_stosb[] = { 0xf3, 0xaa };
	static const uint8_t stosw_std[] = { 0x66, 0xab };
	static const struct access two[] = { WR(B, 8, 0x0123456789abcdef), WR(B + 8, 8, 0x0123456789abcdef) };
	static const struct access down[] = { WR(B, 2, 0xcdef) };
	struct insn_cpu cpu = cpu_at(64);

	fb_reset();
	cpu.gpr[RAX] = 0x0123456789abcdef;
	cpu.gpr[RDI] = B;
	cpu.gpr[RCX] = 2;
	assert_int_equal(emul(&cpu, rep_stosq, sizeof(rep_stosq)), 0);
	expect_log("rep stosq", two, 2);
	assert_int_equal(cpu.gpr[RDI], B + 16);
	assert_int_equal(cpu.gpr[RCX], 0);
	assert_int_equal(cpu.rip, RIP0 + 3);

	/* RCX = 0: no iteration, the instruction completes */
	fb.n = 0;
	assert_int_equal(emul(&cpu, rep_stosb, sizeof(rep_stosb)), 0);
	assert_int_equal(fb.n, 0);
	assert_int_equal(cpu.gpr[RDI], B + 16);
	assert_int_equal(cpu.rip, RIP0 + 5);

	fb.n = 0;
	cpu.rflags |= DF;
	cpu.gpr[RDI] = B;
	assert_int_equal(emul(&cpu, stosw_std, sizeof(stosw_std)), 0);
	expect_log("std; stosw", down, 1);
	assert_int_equal(cpu.gpr[RDI], B - 2);
}

/* More than INSN_REP_MAX iterations: RIP stays until RCX reaches 0 over several calls. */
static void test_rep_limit(void **state)
{
	static const uint8_t rep_stosb[] = { 0xf3, 0xaa };
	struct insn_cpu cpu = cpu_at(64);

	fb_reset();
	cpu.gpr[RAX] = 0x5a;
	cpu.gpr[RDI] = A;
	cpu.gpr[RCX] = INSN_REP_MAX + 44;
	assert_int_equal(emul(&cpu, rep_stosb, sizeof(rep_stosb)), 0);
	assert_int_equal(fb.n, INSN_REP_MAX);
	assert_int_equal(fb.log[INSN_REP_MAX - 1].la, A + INSN_REP_MAX - 1);
	assert_int_equal(cpu.gpr[RCX], 44);
	assert_int_equal(cpu.gpr[RDI], A + INSN_REP_MAX);
	assert_int_equal(cpu.rip, RIP0);

	fb.n = 0;
	assert_int_equal(emul(&cpu, rep_stosb, sizeof(rep_stosb)), 0);
	assert_int_equal(fb.n, 44);
	assert_int_equal(fb.log[43].la, A + INSN_REP_MAX + 43);
	assert_int_equal(fb.log[43].val, 0x5a);
	assert_int_equal(cpu.gpr[RCX], 0);
	assert_int_equal(cpu.rip, RIP0 + 2);
}

/* Address size picks rCX/rSI/rDI (SDM vol. 2B REP, MOVS): ECX/EDI with 67, CX/SI/DI in 16-bit code. */
static void test_string_addrsize(void **state)
{
	static const uint8_t a32_stosb[] = { 0x67, 0xf3, 0xaa }, rep_movsw[] = { 0xf3, 0xa5 };
	static const uint8_t movsw[] = { 0xa5 };
	static const struct access two[] = { WR(A, 1, 0x77), WR(A + 1, 1, 0x77) };
	static const struct access w16[] = { RD(A, 2, 0x2211), WR(B, 2, 0x2211), RD(A + 2, 2, 0x4433),
					     WR(B + 2, 2, 0x4433) };
	static const struct access wrap[] = { RD(A, 2, 0x2211), WR(B, 2, 0x2211) };
	struct insn_cpu cpu = cpu_at(64);

	fb_reset();
	cpu.gpr[RAX] = 0x77;
	cpu.gpr[RCX] = 0xffffffff00000002;
	cpu.gpr[RDI] = 0xffffffff00000000 | A;
	assert_int_equal(emul(&cpu, a32_stosb, sizeof(a32_stosb)), 0);
	expect_log("67 rep stosb", two, 2);
	assert_int_equal((uint32_t)cpu.gpr[RCX], 0);
	assert_int_equal((uint32_t)cpu.gpr[RDI], (uint32_t)(A + 2));
	assert_int_equal(cpu.rip, RIP0 + 3);

	/* 16-bit code: DS:SI to ES:DI, CX counts, the upper bits stay (SDM vol. 1 3.4.1.1) */
	fb_reset();
	mem_put(A, 0x44332211, 4);
	cpu = cpu_at(16);
	cpu.seg_base[DS] = A - 0x10;
	cpu.seg_base[ES] = B - 0x20;
	cpu.gpr[RSI] = 0x10;
	cpu.gpr[RDI] = 0x20;
	cpu.gpr[RCX] = 0xabcd0002;
	assert_int_equal(emul(&cpu, rep_movsw, sizeof(rep_movsw)), 0);
	expect_log("16: rep movsw", w16, 4);
	assert_int_equal(cpu.gpr[RCX], 0xabcd0000);
	assert_int_equal(cpu.gpr[RSI], 0x14);
	assert_int_equal(cpu.gpr[RDI], 0x24);
	assert_int_equal(cpu.rip, RIP0 + 2);

	/* SI wraps at 64 KiB */
	fb.n = 0;
	cpu.seg_base[DS] = A - 0xfffe;
	cpu.seg_base[ES] = B;
	cpu.gpr[RSI] = 0x5555fffe;
	cpu.gpr[RDI] = 0;
	assert_int_equal(emul(&cpu, movsw, sizeof(movsw)), 0);
	expect_log("16: movsw wrap", wrap, 2);
	assert_int_equal(cpu.gpr[RSI], 0x55550000);
	assert_int_equal(cpu.gpr[RDI], 2);
}

/* The source segment may be overridden; the ES:rDI destination may not (SDM vol. 2B MOVS). */
static void test_string_segments(void **state)
{
	static const uint8_t fs_movsb[] = { 0x64, 0xa4 }, fs_stosb[] = { 0x64, 0xaa };
	static const struct access m32[] = { RD(A, 1, 0x99), WR(B, 1, 0x99) };
	static const struct access s32[] = { WR(B, 1, 0x42) };
	struct insn_cpu cpu = cpu_at(32);

	fb_reset();
	mem_put(A, 0x99, 1);
	cpu.seg_base[FS] = 0x1000;
	cpu.seg_base[DS] = 0x2000;
	cpu.seg_base[ES] = 0x3000;
	cpu.gpr[RSI] = A - 0x1000;
	cpu.gpr[RDI] = B - 0x3000;
	assert_int_equal(emul(&cpu, fs_movsb, sizeof(fs_movsb)), 0);
	expect_log("32: fs movsb", m32, 2);

	fb.n = 0;
	cpu.gpr[RAX] = 0x42;
	cpu.gpr[RDI] = B - 0x3000;
	assert_int_equal(emul(&cpu, fs_stosb, sizeof(fs_stosb)), 0);
	expect_log("32: fs stosb", s32, 1);

	/* 64-bit: FS base applies to the source, the ES base is ignored */
	fb.n = 0;
	cpu.mode = 64;
	cpu.gpr[RSI] = A - 0x1000;
	cpu.gpr[RDI] = B;
	assert_int_equal(emul(&cpu, fs_movsb, sizeof(fs_movsb)), 0);
	expect_log("64: fs movsb", m32, 2);
}

static void test_lods(void **state)
{
	static const uint8_t lodsb[] = { 0xac }, lodsq[] = { 0x48, 0xad }, lodsd[] = { 0xad };
	static const uint8_t rep_lodsb[] = { 0xf3, 0xac };
	struct insn_cpu cpu = cpu_at(64);

	fb_reset();
	mem_put(A, 0x8877665544332211, 8);
	cpu.gpr[RAX] = 0xffffffffffff0000;
	cpu.gpr[RSI] = A;
	assert_int_equal(emul(&cpu, lodsb, sizeof(lodsb)), 0);
	assert_int_equal(cpu.gpr[RAX], 0xffffffffffff0011);
	assert_int_equal(cpu.gpr[RSI], A + 1);

	cpu.gpr[RSI] = A;
	assert_int_equal(emul(&cpu, lodsd, sizeof(lodsd)), 0);
	assert_int_equal(cpu.gpr[RAX], 0x44332211); /* 32-bit destination zero-extends */

	cpu.gpr[RSI] = A;
	assert_int_equal(emul(&cpu, lodsq, sizeof(lodsq)), 0);
	assert_int_equal(cpu.gpr[RAX], 0x8877665544332211);
	assert_int_equal(cpu.gpr[RSI], A + 8);

	fb.n = 0;
	cpu.gpr[RSI] = A;
	cpu.gpr[RCX] = 2;
	assert_int_equal(emul(&cpu, rep_lodsb, sizeof(rep_lodsb)), 0);
	assert_int_equal(fb.n, 2);
	assert_int_equal(cpu.gpr[RAX] & 0xff, 0x22);
	assert_int_equal(cpu.gpr[RCX], 0);
	assert_int_equal(fb.log[1].write, false);
}

/* A bus error mid-REP: the completed iterations stand, RIP stays (SDM vol. 2B REP: faults restart). */
static void test_rep_bus_error(void **state)
{
	static const uint8_t rep_movsd[] = { 0xf3, 0xa5 };
	struct insn_cpu cpu = cpu_at(64);

	fb_reset();
	fb.fail_at = 4; /* the read of the third iteration */
	cpu.gpr[RSI] = A;
	cpu.gpr[RDI] = B;
	cpu.gpr[RCX] = 5;
	assert_int_equal(emul(&cpu, rep_movsd, sizeof(rep_movsd)), -EIO);
	assert_int_equal(fb.n, 5);
	assert_int_equal(cpu.gpr[RCX], 3);
	assert_int_equal(cpu.gpr[RSI], A + 8);
	assert_int_equal(cpu.gpr[RDI], B + 8);
	assert_int_equal(cpu.rip, RIP0);

	/* the failed write of an iteration leaves its registers too */
	fb_reset();
	fb.fail_at = 1;
	assert_int_equal(emul(&cpu, rep_movsd, sizeof(rep_movsd)), -EIO);
	assert_int_equal(cpu.gpr[RCX], 3);
	assert_int_equal(cpu.gpr[RSI], A + 8);
	assert_int_equal(cpu.rip, RIP0);
}

/* Any bus error leaves the cpu as it was, like a fault, and is passed back unchanged. */
static void test_bus_error(void **state)
{
	static const struct {
		uint8_t code[INSN_MAX_LEN];
		uint8_t len;
		int fail_at;
	} cases[] = {
		{ CODE(0x8b, 0x07), 0 },       /* mov eax,[rdi] */
		{ CODE(0x89, 0x07), 0 },       /* mov [rdi],eax */
		{ CODE(0x03, 0x07), 0 },       /* add eax,[rdi] */
		{ CODE(0x01, 0x07), 0 },       /* add [rdi],eax: read fails */
		{ CODE(0x01, 0x07), 1 },       /* add [rdi],eax: write fails */
		{ CODE(0x87, 0x07), 1 },       /* xchg [rdi],eax: write fails */
		{ CODE(0x0f, 0xb6, 0x07), 0 }, /* movzx eax,byte [rdi] */
		{ CODE(0xa5), 0 },             /* movsd */
		{ CODE(0xa5), 1 },
		{ CODE(0xad), 0 },             /* lodsd */
	};
	struct insn_cpu cpu = cpu_at(64), before;

	cpu.gpr[RAX] = 0x1234;
	cpu.gpr[RSI] = A;
	cpu.gpr[RDI] = B;
	cpu.rflags |= ZF | CF;
	before = cpu;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fb_reset();
		fb.fail_at = cases[i].fail_at;
		assert_int_equal(emul(&cpu, cases[i].code, cases[i].len), -EIO);
		assert_int_equal(fb.n, cases[i].fail_at + 1);
		assert_memory_equal(&cpu, &before, sizeof(cpu));
	}

	/* 64-bit disp32 is sign-extended: the access goes to 0xffffffff80000100 (out of the fake bus) */
	{
		static const uint8_t neg[] = { 0x8b, 0x04, 0x25, 0x00, 0x01, 0x00, 0x80 };

		fb_reset();
		assert_int_equal(emul(&cpu, neg, sizeof(neg)), -EFAULT);
		assert_int_equal(fb.log[0].la, 0xffffffff80000100);
		assert_memory_equal(&cpu, &before, sizeof(cpu));
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mov),
		cmocka_unit_test(test_addressing),
		cmocka_unit_test(test_movx),
		cmocka_unit_test(test_alu),
		cmocka_unit_test(test_xchg),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_decode_fields),
		cmocka_unit_test(test_rip_wrap),
		cmocka_unit_test(test_movs),
		cmocka_unit_test(test_stos),
		cmocka_unit_test(test_rep_limit),
		cmocka_unit_test(test_string_addrsize),
		cmocka_unit_test(test_string_segments),
		cmocka_unit_test(test_lods),
		cmocka_unit_test(test_rep_bus_error),
		cmocka_unit_test(test_bus_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
