/* SPDX-License-Identifier: MIT */
/* MOV decoding for MMIO emulation (SDM vol. 2A 2.1-2.2: prefixes, ModR/M, SIB). */
#include "vmm/decode.h"
#include "kernel/errno.h"

#define OP_MOV_LOAD   0x8bu
#define OP_MOV_STORE  0x89u
#define OP_MOV_IMM    0xc7u
#define REX_W         0x08u
#define REX_R         0x04u

/* Bytes of ModR/M + SIB + displacement for a memory operand, or 0 when not memory. */
static size_t modrm_len(const uint8_t *p, size_t avail)
{
	uint8_t modrm, mod, rm;
	size_t n = 1;

	if (avail < 1)
		return 0;
	modrm = p[0];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3)
		return 0;
	if (rm == 4) {
		if (avail < 2)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4; /* SIB with no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		n += 4;         /* RIP-relative disp32 */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n <= avail ? n : 0;
}

int decode_mov(const uint8_t *insn, size_t avail, struct mov_insn *out)
{
	size_t i = 0, m;
	uint8_t rex = 0, op;

	if (avail > INSN_MAX_LEN)
		avail = INSN_MAX_LEN;
	if (i < avail && (insn[i] & 0xf0u) == 0x40u)
		rex = insn[i++];
	if (i >= avail)
		return -EINVAL;
	op = insn[i++];
	if (op != OP_MOV_LOAD && op != OP_MOV_STORE && op != OP_MOV_IMM)
		return -EINVAL;
	m = modrm_len(insn + i, avail - i);
	if (!m || (op == OP_MOV_IMM && ((insn[i] >> 3) & 7) != 0))
		return -EINVAL;
	*out = (struct mov_insn){
		.write = op != OP_MOV_LOAD,
		.has_imm = op == OP_MOV_IMM,
		.reg = (uint8_t)(((insn[i] >> 3) & 7) | (rex & REX_R ? 8 : 0)),
		.width = rex & REX_W ? 8 : 4,
	};
	i += m;
	if (op == OP_MOV_IMM) {
		uint32_t imm;

		if (i + 4 > avail)
			return -EINVAL;
		imm = (uint32_t)insn[i] | (uint32_t)insn[i + 1] << 8 | (uint32_t)insn[i + 2] << 16 |
		      (uint32_t)insn[i + 3] << 24;
		out->imm = out->width == 8 ? (uint64_t)(int64_t)(int32_t)imm : imm;
		out->reg = 0;
		i += 4;
	}
	out->len = (uint8_t)i;
	return 0;
}
