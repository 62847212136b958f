/* SPDX-License-Identifier: MIT */
/*
 * The few instructions Tern decodes to emulate MMIO (the xAPIC registers
 * hardware does not virtualize): MOV r32/r64 <- m (8B), MOV m <- r32/r64
 * (89), MOV m <- imm32 (C7 /0), with REX and any ModRM/SIB/displacement
 * form. Pure logic, unit-tested on the host.
 */
#ifndef TERN_VMM_DECODE_H
#define TERN_VMM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSN_MAX_LEN 15

struct mov_insn {
	uint8_t len;    /* instruction length in bytes */
	bool write;     /* memory is the destination */
	bool has_imm;   /* C7 /0: the value is imm (sign-extended for 64-bit) */
	uint8_t reg;    /* GPR number (x86 order, REX.R applied) for 8B/89 */
	uint8_t width;  /* 4 or 8 bytes */
	uint64_t imm;
};

/* 0, or -EINVAL for anything else (including truncated input). */
int decode_mov(const uint8_t *insn, size_t avail, struct mov_insn *out);

#endif
