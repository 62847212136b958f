/* SPDX-License-Identifier: MIT */
/*
 * The one instruction emulator: decodes and executes the instructions real
 * kernels use on device memory (MMIO) - MOV, MOVZX/MOVSX/MOVSXD, MOVS/STOS/
 * LODS with REP, the ALU group (ADD OR ADC SBB AND SUB XOR CMP), TEST and
 * XCHG - with a memory operand, in 16-, 32- and 64-bit code (SDM vol. 2A
 * ch. 2 for the encoding, vol. 2A/2B per instruction for the semantics).
 * Memory goes through struct insn_bus; registers live in struct insn_cpu.
 * Pure logic, unit-tested on the host (tests/unit/test_insn.c).
 *
 * Not modelled: segment limits and access rights, alignment checks,
 * paging (the bus gets linear addresses), CMPS/SCAS, INS/OUTS.
 */
#ifndef TERN_VMM_EMUL_INSN_H
#define TERN_VMM_EMUL_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSN_MAX_LEN 15
#define INSN_REP_MAX 256 /* iterations per call; more: RIP stays so the instruction runs (exits) again */

/* GPR numbers in x86 encoding order (SDM vol. 2A table 2-2). */
enum insn_gpr {
	INSN_RAX, INSN_RCX, INSN_RDX, INSN_RBX, INSN_RSP, INSN_RBP, INSN_RSI, INSN_RDI,
	INSN_R8, INSN_R9, INSN_R10, INSN_R11, INSN_R12, INSN_R13, INSN_R14, INSN_R15,
};

/* Segment registers in encoding order (SDM vol. 2A 3.1.1.3, Sreg). */
enum insn_seg { INSN_ES, INSN_CS, INSN_SS, INSN_DS, INSN_FS, INSN_GS };

/* RFLAGS bits the emulator reads or writes (SDM vol. 1 3.4.3). */
#define INSN_RFLAGS_CF (1ull << 0)
#define INSN_RFLAGS_PF (1ull << 2)
#define INSN_RFLAGS_AF (1ull << 4)
#define INSN_RFLAGS_ZF (1ull << 6)
#define INSN_RFLAGS_SF (1ull << 7)
#define INSN_RFLAGS_DF (1ull << 10)
#define INSN_RFLAGS_OF (1ull << 11)

struct insn_cpu {
	uint64_t gpr[16];     /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (x86 encoding order) */
	uint64_t rip, rflags;
	uint64_t seg_base[6]; /* ES CS SS DS FS GS (x86 segment-register encoding order) */
	unsigned int mode;    /* 16, 32 or 64: the code size (CS.D / CS.L; 64 = IA-32e 64-bit mode) */
};

struct insn_bus {
	void *ctx;
	/*
	 * Access size bytes at linear address la (segment base already added);
	 * 0 or a negative error passed back to the caller unchanged.
	 */
	int (*read)(void *ctx, uint64_t la, void *buf, unsigned int size);
	int (*write)(void *ctx, uint64_t la, const void *buf, unsigned int size);
};

/* What an opcode does; the executor dispatches on it. */
enum insn_class {
	INSN_NONE,  /* not an instruction Tern emulates */
	INSN_UD,    /* undefined encoding (#UD) */
	INSN_MOV,   /* 88-8B, C6/C7 /0, A0-A3 */
	INSN_MOVZX, /* 0F B6/B7 */
	INSN_MOVSX, /* 0F BE/BF, 63 (MOVSXD, 64-bit mode) */
	INSN_ALU,   /* ADD OR ADC SBB AND SUB XOR CMP: struct insn.alu */
	INSN_TEST,  /* 84/85, F6/F7 /0 */
	INSN_XCHG,  /* 86/87 */
	INSN_MOVS,  /* A4/A5 */
	INSN_STOS,  /* AA/AB */
	INSN_LODS,  /* AC/AD */
	INSN_NR_CLASSES
};

/* The ALU operation: the opcode bits 5:3 of 00-3F and ModRM.reg of 80-83 (SDM vol. 2A A.4.2). */
enum insn_alu {
	INSN_ALU_ADD, INSN_ALU_OR, INSN_ALU_ADC, INSN_ALU_SBB,
	INSN_ALU_AND, INSN_ALU_SUB, INSN_ALU_XOR, INSN_ALU_CMP,
};

struct insn {
	uint8_t len;       /* bytes, prefixes included */
	uint8_t cls;       /* enum insn_class */
	uint8_t alu;       /* enum insn_alu, for INSN_ALU */
	uint8_t opcode;    /* the opcode byte (the one after 0F when map0f) */
	bool map0f;        /* two-byte opcode map (0F xx) */
	uint8_t opsize;    /* operand size in bytes (1, 2, 4, 8); the register's for MOVZX/MOVSX */
	uint8_t srcsize;   /* bytes read from memory by MOVZX/MOVSX/MOVSXD; opsize otherwise */
	uint8_t addrsize;  /* address size in bytes (2, 4, 8) */
	uint8_t rex;       /* the REX byte (0x40-0x4F) or 0 */
	uint8_t rep;       /* 0, 0xF3 (REP/REPE) or 0xF2 (REPNE) */
	bool lock;         /* F0 */
	uint8_t seg;       /* enum insn_seg of the memory operand (MOVS/LODS source) */
	bool mem_first;    /* memory is the first (destination) operand */
	bool has_modrm;
	uint8_t mod;       /* ModRM.mod; 3: the r/m operand is a register */
	uint8_t reg;       /* register operand: ModRM.reg + REX.R, 0 (rAX) for A0-A3 */
	uint8_t rm;        /* ModRM.rm + REX.B (the register when mod == 3) */
	bool has_base, has_index, rip_rel;
	uint8_t base, index, scale; /* GPR numbers; scale is the shift (0-3) */
	int64_t disp;      /* sign-extended displacement */
	bool has_imm;
	uint64_t imm;      /* sign-extended to 64 bits */
	bool has_moffs;
	uint64_t moffs;    /* A0-A3 offset, zero-extended */
};

/*
 * Decode only: fills struct insn (opcode class, operand size, address size,
 * prefixes, ModRM operand, immediate, length). 0, -ENOTSUP (not one Tern
 * emulates) or -EINVAL (truncated, longer than 15 bytes, or would #UD).
 */
int insn_decode(const uint8_t *code, size_t len, unsigned int mode, struct insn *out);

/*
 * Decode and execute one instruction against cpu and bus: 0 (RIP advanced
 * or, for an unfinished REP, left for re-execution), -ENOTSUP (not one Tern
 * emulates, including register-only forms), -EINVAL (bad encoding / would
 * #UD), or the bus's error (cpu then unchanged, but for the REP iterations
 * already completed).
 */
int insn_emulate(struct insn_cpu *cpu, const uint8_t *code, size_t len, const struct insn_bus *bus);

#endif
