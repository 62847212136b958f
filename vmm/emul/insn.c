/* SPDX-License-Identifier: MIT */
/* Table-driven decode and execution of the MMIO instructions (SDM vol. 2A ch. 2, vol. 2A/2B). */
#include "vmm/emul/insn.h"
#include "kernel/errno.h"

/* Per-opcode rules (struct insn_opdef.flags). */
#define F_MODRM  (1u << 0) /* a ModRM byte follows */
#define F_BYTE   (1u << 1) /* 8-bit operands (opcode bit 0 clear) */
#define F_EFIRST (1u << 2) /* r/m (or moffs) is the first operand: Eb,Gb / Ev,Gv / E,I */
#define F_IMM    (1u << 3) /* immediate of operand size: ib for bytes, else iw or id (iz) */
#define F_IMM8   (1u << 4) /* ib, sign-extended to the operand size (83) */
#define F_MOFFS  (1u << 5) /* moffs of address size (A0-A3) */
#define F_LOCK   (1u << 6) /* LOCK allowed with a memory destination (SDM vol. 2A LOCK) */
#define F_ONLY64 (1u << 7) /* defined here only in 64-bit mode (63 is ARPL elsewhere) */
#define F_SRC8   (1u << 8) /* memory source is a byte (MOVZX/MOVSX 0F B6/BE) */
#define F_SRC16  (1u << 9) /* memory source is a word (0F B7/BF) */
#define F_SRC32  (1u << 10) /* memory source is at most a dword (MOVSXD) */

#define PFX_LOCK  0xf0u
#define PFX_REPNE 0xf2u
#define PFX_REP   0xf3u
#define PFX_OPSZ  0x66u
#define PFX_ADSZ  0x67u
#define OP_ESC_0F 0x0fu
#define REX_W     0x08u
#define REX_R     0x04u
#define REX_X     0x02u
#define REX_B     0x01u

struct insn_opdef {
	uint8_t cls; /* enum insn_class; INSN_NONE with grp set: ModRM.reg decides */
	uint8_t alu;
	uint16_t flags;
	const struct insn_opdef *grp; /* group: 8 entries by ModRM.reg, flags ORed in */
};

#define OP(c, a, f) { .cls = (c), .alu = (a), .flags = (f) }
#define GRP(g, f)   { .cls = INSN_NONE, .flags = (f), .grp = (g) }

/* ALU r/m,reg and reg,r/m forms 00-3B: opcode bits 5:3 are the operation (SDM vol. 2A A.3 table A-2). */
#define ALU_ROW(base, op, lk)                                                    \
	[(base) + 0] = OP(INSN_ALU, op, F_MODRM | F_BYTE | F_EFIRST | (lk)), \
	[(base) + 1] = OP(INSN_ALU, op, F_MODRM | F_EFIRST | (lk)),          \
	[(base) + 2] = OP(INSN_ALU, op, F_MODRM | F_BYTE),                   \
	[(base) + 3] = OP(INSN_ALU, op, F_MODRM)

/* Group 1 (80, 81, 83): ModRM.reg is the operation; CMP cannot be locked (SDM vol. 2A table A-6). */
static const struct insn_opdef grp1[8] = {
	OP(INSN_ALU, INSN_ALU_ADD, F_LOCK), OP(INSN_ALU, INSN_ALU_OR, F_LOCK),
	OP(INSN_ALU, INSN_ALU_ADC, F_LOCK), OP(INSN_ALU, INSN_ALU_SBB, F_LOCK),
	OP(INSN_ALU, INSN_ALU_AND, F_LOCK), OP(INSN_ALU, INSN_ALU_SUB, F_LOCK),
	OP(INSN_ALU, INSN_ALU_XOR, F_LOCK), OP(INSN_ALU, INSN_ALU_CMP, 0),
};

/* Group 3 (F6, F7): only TEST /0 here; NOT/NEG/MUL/DIV are not emulated. */
static const struct insn_opdef grp3[8] = {
	[0] = OP(INSN_TEST, 0, F_IMM),
};

/* Group 11 (C6, C7): MOV /0; /1-/7 are #UD (XABORT/XBEGIN need RTM). */
static const struct insn_opdef grp11[8] = {
	[0] = OP(INSN_MOV, 0, 0),
	[1 ... 7] = OP(INSN_UD, 0, 0),
};

/* The one-byte opcode map (SDM vol. 2A table A-2), only the emulated entries. */
static const struct insn_opdef map1[256] = {
	ALU_ROW(0x00, INSN_ALU_ADD, F_LOCK),
	ALU_ROW(0x08, INSN_ALU_OR, F_LOCK),
	ALU_ROW(0x10, INSN_ALU_ADC, F_LOCK),
	ALU_ROW(0x18, INSN_ALU_SBB, F_LOCK),
	ALU_ROW(0x20, INSN_ALU_AND, F_LOCK),
	ALU_ROW(0x28, INSN_ALU_SUB, F_LOCK),
	ALU_ROW(0x30, INSN_ALU_XOR, F_LOCK),
	ALU_ROW(0x38, INSN_ALU_CMP, 0),
	[0x63] = OP(INSN_MOVSX, 0, F_MODRM | F_ONLY64 | F_SRC32),
	[0x80] = GRP(grp1, F_MODRM | F_BYTE | F_EFIRST | F_IMM),
	[0x81] = GRP(grp1, F_MODRM | F_EFIRST | F_IMM),
	[0x83] = GRP(grp1, F_MODRM | F_EFIRST | F_IMM8),
	[0x84] = OP(INSN_TEST, 0, F_MODRM | F_BYTE | F_EFIRST),
	[0x85] = OP(INSN_TEST, 0, F_MODRM | F_EFIRST),
	[0x86] = OP(INSN_XCHG, 0, F_MODRM | F_BYTE | F_EFIRST | F_LOCK),
	[0x87] = OP(INSN_XCHG, 0, F_MODRM | F_EFIRST | F_LOCK),
	[0x88] = OP(INSN_MOV, 0, F_MODRM | F_BYTE | F_EFIRST),
	[0x89] = OP(INSN_MOV, 0, F_MODRM | F_EFIRST),
	[0x8a] = OP(INSN_MOV, 0, F_MODRM | F_BYTE),
	[0x8b] = OP(INSN_MOV, 0, F_MODRM),
	[0xa0] = OP(INSN_MOV, 0, F_MOFFS | F_BYTE),
	[0xa1] = OP(INSN_MOV, 0, F_MOFFS),
	[0xa2] = OP(INSN_MOV, 0, F_MOFFS | F_BYTE | F_EFIRST),
	[0xa3] = OP(INSN_MOV, 0, F_MOFFS | F_EFIRST),
	[0xa4] = OP(INSN_MOVS, 0, F_BYTE),
	[0xa5] = OP(INSN_MOVS, 0, 0),
	[0xaa] = OP(INSN_STOS, 0, F_BYTE),
	[0xab] = OP(INSN_STOS, 0, 0),
	[0xac] = OP(INSN_LODS, 0, F_BYTE),
	[0xad] = OP(INSN_LODS, 0, 0),
	[0xc6] = GRP(grp11, F_MODRM | F_BYTE | F_EFIRST | F_IMM),
	[0xc7] = GRP(grp11, F_MODRM | F_EFIRST | F_IMM),
	[0xf6] = GRP(grp3, F_MODRM | F_BYTE | F_EFIRST),
	[0xf7] = GRP(grp3, F_MODRM | F_EFIRST),
};

/* The two-byte map 0F xx (SDM vol. 2A table A-3). */
static const struct insn_opdef map0f[256] = {
	[0xb6] = OP(INSN_MOVZX, 0, F_MODRM | F_SRC8),
	[0xb7] = OP(INSN_MOVZX, 0, F_MODRM | F_SRC16),
	[0xbe] = OP(INSN_MOVSX, 0, F_MODRM | F_SRC8),
	[0xbf] = OP(INSN_MOVSX, 0, F_MODRM | F_SRC16),
};

/* Decoder cursor over at most INSN_MAX_LEN bytes. */
struct cursor {
	const uint8_t *p;
	size_t len, pos;
};

/* Little-endian n-byte field; false when the instruction would run past the input. */
static bool take(struct cursor *c, unsigned int n, uint64_t *v)
{
	const uint8_t *p = c->p + c->pos;
	uint64_t lo;

	if (c->pos + n > c->len)
		return false;
	c->pos += n;
	if (n == 1) {
		*v = p[0];
		return true;
	}
	lo = (uint64_t)p[0] | (uint64_t)p[1] << 8;
	if (n == 2) {
		*v = lo;
		return true;
	}
	lo |= (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
	if (n == 4) {
		*v = lo;
		return true;
	}
	*v = lo | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
	return true;
}

/* One byte: prefixes, opcode, ModRM and SIB. */
static bool take1(struct cursor *c, uint64_t *v)
{
	if (c->pos >= c->len)
		return false;
	*v = c->p[c->pos++];
	return true;
}

static int64_t sext(uint64_t v, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	return (int64_t)(v << shift) >> shift;
}

static uint64_t size_mask(unsigned int bytes)
{
	return bytes >= 8 ? UINT64_MAX : (1ull << (8 * bytes)) - 1;
}

/* Prefixes that shape decoding but are not part of struct insn as such. */
struct prefixes {
	bool opsz, adsz;
	int seg; /* segment override, -1 for none */
};

/* Legacy prefixes and REX (SDM vol. 2A 2.1.1, 2.2.1); stops at the opcode. */
static int decode_prefixes(struct cursor *c, unsigned int mode, struct insn *in, struct prefixes *px)
{
	uint64_t b;

	for (;;) {
		if (!take1(c, &b))
			return -EINVAL;
		switch (b) {
		case PFX_LOCK:
			in->lock = true;
			break;
		case PFX_REPNE:
		case PFX_REP:
			in->rep = (uint8_t)b;
			break;
		case PFX_OPSZ:
			px->opsz = true;
			break;
		case PFX_ADSZ:
			px->adsz = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: /* ES CS SS DS */
			px->seg = (int)((b >> 3) & 3);
			break;
		case 0x64: case 0x65: /* FS GS */
			px->seg = INSN_FS + (int)(b & 1);
			break;
		default:
			if (mode == 64 && (b & 0xf0u) == 0x40u) {
				in->rex = (uint8_t)b;
				continue; /* only valid right before the opcode */
			}
			c->pos--;
			return 0;
		}
		in->rex = 0; /* a REX followed by a legacy prefix is ignored (2.2.1) */
	}
}

/* Operand size (SDM vol. 1 3.6, table 3-4; vol. 2A 2.2.1.2 for REX.W) and address size. */
static void decode_sizes(struct insn *in, unsigned int mode, uint16_t flags, const struct prefixes *px)
{
	bool opsz = px->opsz, adsz = px->adsz;

	if (flags & F_BYTE)
		in->opsize = 1;
	else if (mode == 64 && (in->rex & REX_W))
		in->opsize = 8;
	else if (mode == 16)
		in->opsize = opsz ? 4 : 2;
	else
		in->opsize = opsz ? 2 : 4;
	if (mode == 64)
		in->addrsize = adsz ? 4 : 8;
	else if (mode == 32)
		in->addrsize = adsz ? 2 : 4;
	else
		in->addrsize = adsz ? 4 : 2;
	in->srcsize = in->opsize;
	if (flags & F_SRC8)
		in->srcsize = 1;
	else if (flags & F_SRC16)
		in->srcsize = 2;
	else if ((flags & F_SRC32) && in->opsize == 8)
		in->srcsize = 4;
}

/* 16-bit ModRM memory forms (SDM vol. 2A table 2-1): base, index, default segment SS for BP. */
static bool decode_ea16(struct cursor *c, struct insn *in, unsigned int rm)
{
	static const uint8_t base[8] = { INSN_RBX, INSN_RBX, INSN_RBP, INSN_RBP, 0, 0, INSN_RBP, INSN_RBX };
	static const uint8_t idx[8] = { INSN_RSI, INSN_RDI, INSN_RSI, INSN_RDI, INSN_RSI, INSN_RDI, 0, 0 };
	uint64_t d = 0;

	in->has_base = rm != 4 && rm != 5 && !(in->mod == 0 && rm == 6);
	in->has_index = rm < 6;
	in->base = base[rm];
	in->index = idx[rm];
	if (in->has_base && in->base == INSN_RBP)
		in->seg = INSN_SS;
	if (in->mod == 1 && !take(c, 1, &d))
		return false;
	if ((in->mod == 2 || (in->mod == 0 && rm == 6)) && !take(c, 2, &d))
		return false;
	in->disp = sext(d, in->mod == 1 ? 1 : 2);
	return true;
}

/* 32/64-bit ModRM and SIB forms (SDM vol. 2A tables 2-2, 2-3; 2.2.1.6 RIP-relative). */
static bool decode_ea32(struct cursor *c, struct insn *in, unsigned int rm, unsigned int mode)
{
	unsigned int dsize = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
	uint64_t sib, d = 0;

	in->has_base = true;
	in->base = (uint8_t)(rm | (in->rex & REX_B ? 8 : 0));
	if (rm == 4) {
		if (!take1(c, &sib))
			return false;
		in->scale = (uint8_t)(sib >> 6);
		in->index = (uint8_t)(((sib >> 3) & 7) | (in->rex & REX_X ? 8 : 0));
		in->has_index = in->index != INSN_RSP; /* 100b without REX.X: no index */
		in->base = (uint8_t)((sib & 7) | (in->rex & REX_B ? 8 : 0));
		if (in->mod == 0 && (sib & 7) == 5) {
			in->has_base = false; /* [scaled index] + disp32 */
			dsize = 4;
		}
	} else if (in->mod == 0 && rm == 5) {
		in->has_base = false;
		in->rip_rel = mode == 64;
		dsize = 4;
	}
	if (in->has_base && (in->base == INSN_RSP || in->base == INSN_RBP))
		in->seg = INSN_SS;
	if (dsize && !take(c, dsize, &d))
		return false;
	in->disp = dsize ? sext(d, dsize) : 0;
	return true;
}

static bool decode_modrm(struct cursor *c, struct insn *in, unsigned int mode)
{
	uint64_t m;
	unsigned int rm;

	if (!take1(c, &m))
		return false;
	in->has_modrm = true;
	in->mod = (uint8_t)(m >> 6);
	in->reg = (uint8_t)(((m >> 3) & 7) | (in->rex & REX_R ? 8 : 0));
	rm = m & 7;
	in->rm = (uint8_t)(rm | (in->rex & REX_B ? 8 : 0));
	if (in->mod == 3)
		return true;
	if (in->addrsize == 2)
		return decode_ea16(c, in, rm);
	return decode_ea32(c, in, rm, mode);
}

/* Immediate and moffs fields, after ModRM. */
static bool decode_operands(struct cursor *c, struct insn *in, uint16_t flags)
{
	uint64_t v;

	if (flags & F_MOFFS) {
		if (!take(c, in->addrsize, &in->moffs))
			return false;
		in->has_moffs = true;
	}
	if (flags & (F_IMM | F_IMM8)) {
		unsigned int n = (flags & F_IMM8) || in->opsize == 1 ? 1 : in->opsize == 2 ? 2 : 4;

		if (!take(c, n, &v))
			return false;
		in->has_imm = true;
		in->imm = (uint64_t)sext(v, n);
	}
	return true;
}

/* Opcode byte(s) and the table entry, group resolved later. */
static int decode_opcode(struct cursor *c, struct insn *in, unsigned int mode, const struct insn_opdef **def)
{
	uint64_t op;

	if (!take1(c, &op))
		return -EINVAL;
	if (op == OP_ESC_0F) {
		if (!take1(c, &op))
			return -EINVAL;
		in->map0f = true;
		/* F2/F3 with 0F opcodes select other instructions (POPCNT, TZCNT...). */
		if (in->rep)
			return -ENOTSUP;
	}
	in->opcode = (uint8_t)op;
	*def = in->map0f ? &map0f[op] : &map1[op];
	if (((*def)->flags & F_ONLY64) && mode != 64)
		return -ENOTSUP;
	if ((*def)->cls == INSN_NONE && !(*def)->grp)
		return -ENOTSUP;
	return 0;
}

/* LOCK: #UD unless the instruction is lockable and its destination memory (SDM vol. 2A LOCK). */
static bool lock_ok(const struct insn *in, uint16_t flags)
{
	bool mem = in->has_modrm && in->mod != 3;

	return !in->lock || ((flags & F_LOCK) && (flags & F_EFIRST) && mem);
}

int insn_decode(const uint8_t *code, size_t len, unsigned int mode, struct insn *out)
{
	struct cursor c = { .p = code, .len = len < INSN_MAX_LEN ? len : INSN_MAX_LEN };
	const struct insn_opdef *def;
	struct prefixes px = { .seg = -1 };
	uint16_t flags;
	int rc;

	if (mode != 16 && mode != 32 && mode != 64)
		return -EINVAL;
	*out = (struct insn){ .seg = INSN_DS };
	rc = decode_prefixes(&c, mode, out, &px);
	if (rc)
		return rc;
	rc = decode_opcode(&c, out, mode, &def);
	if (rc)
		return rc;
	flags = def->flags;
	decode_sizes(out, mode, flags, &px);
	if ((flags & F_MODRM) && !decode_modrm(&c, out, mode))
		return -EINVAL;
	if (px.seg >= 0)
		out->seg = (uint8_t)px.seg; /* else DS, or SS from the ModRM base */
	if (def->grp) {
		def = &def->grp[out->reg & 7];
		flags |= def->flags;
	}
	if (def->cls == INSN_NONE)
		return -ENOTSUP;
	if (def->cls == INSN_UD || !lock_ok(out, flags))
		return -EINVAL;
	if (!decode_operands(&c, out, flags))
		return -EINVAL;
	out->cls = def->cls;
	out->alu = def->alu;
	out->mem_first = flags & F_EFIRST;
	if (out->cls != INSN_MOVS && out->cls != INSN_STOS && out->cls != INSN_LODS)
		out->rep = 0; /* F2/F3 on non-string ops: ignored (or XACQUIRE/XRELEASE hints) */
	out->len = (uint8_t)c.pos;
	return 0;
}

/* ---- execution ---------------------------------------------------------- */

/* Byte registers: without REX, 4-7 are AH CH DH BH (SDM vol. 2A 2.2.1.2 and table 3-1). */
static bool is_high_byte(const struct insn *in, unsigned int r, unsigned int size)
{
	return size == 1 && !in->rex && r >= 4 && r < 8;
}

static uint64_t gpr_get(const struct insn_cpu *cpu, const struct insn *in, unsigned int r, unsigned int size)
{
	if (is_high_byte(in, r, size))
		return (cpu->gpr[r - 4] >> 8) & 0xff;
	return cpu->gpr[r] & size_mask(size);
}

/* 32-bit results zero-extend in 64-bit mode; 8/16-bit keep the rest (SDM vol. 1 3.4.1.1). */
static void gpr_set(struct insn_cpu *cpu, const struct insn *in, unsigned int r, unsigned int size, uint64_t v)
{
	uint64_t m = size_mask(size);

	if (is_high_byte(in, r, size))
		cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xff00ull) | (v & 0xff) << 8;
	else if (size == 4 && cpu->mode == 64)
		cpu->gpr[r] = (uint32_t)v;
	else
		cpu->gpr[r] = (cpu->gpr[r] & ~m) | (v & m);
}

/* Linear address (SDM vol. 3A 3.4.4: in 64-bit mode only FS and GS bases apply; else 32-bit wrap). */
static uint64_t linear(const struct insn_cpu *cpu, unsigned int seg, uint64_t ea)
{
	if (cpu->mode == 64)
		return seg == INSN_FS || seg == INSN_GS ? cpu->seg_base[seg] + ea : ea;
	return (uint32_t)(cpu->seg_base[seg] + ea);
}

/* Effective address of the ModRM or moffs operand, wrapped at the address size (SDM vol. 1 3.7.5). */
static uint64_t mem_la(const struct insn_cpu *cpu, const struct insn *in)
{
	uint64_t ea = (uint64_t)in->disp;

	if (in->has_moffs)
		ea = in->moffs;
	if (in->rip_rel)
		ea += cpu->rip + in->len; /* relative to the next instruction (2.2.1.6) */
	if (in->has_base)
		ea += cpu->gpr[in->base];
	if (in->has_index)
		ea += cpu->gpr[in->index] << in->scale;
	return linear(cpu, in->seg, ea & size_mask(in->addrsize));
}

/* Memory is little-endian, as the host is: the low size bytes of a uint64_t are the operand. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "operands are read in host order");

static int mem_read(const struct insn_bus *bus, uint64_t la, unsigned int size, uint64_t *v)
{
	uint64_t x = 0;
	int rc = bus->read(bus->ctx, la, &x, size);

	if (rc)
		return rc;
	*v = x;
	return 0;
}

static int mem_write(const struct insn_bus *bus, uint64_t la, unsigned int size, uint64_t v)
{
	return bus->write(bus->ctx, la, &v, size);
}

/* PF: set when the low byte of the result has an even number of 1 bits (SDM vol. 1 3.4.3.1). */
static bool parity_even(uint64_t v)
{
	uint8_t b = (uint8_t)v;

	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

/*
 * r = a op b at size bytes and the status flags (SDM vol. 2A ADD/ADC/SUB/SBB/
 * CMP/AND/OR/XOR/TEST "Flags Affected"). Carry/borrow and overflow come from
 * the top bit of the full-adder identities, so 64-bit needs no wider type.
 * Logic ops clear CF and OF; their AF is undefined and is left unchanged.
 */
static uint64_t alu_exec(unsigned int op, uint64_t a, uint64_t b, unsigned int size, uint64_t *rflags)
{
	const uint64_t status = INSN_RFLAGS_CF | INSN_RFLAGS_PF | INSN_RFLAGS_AF | INSN_RFLAGS_ZF |
				INSN_RFLAGS_SF | INSN_RFLAGS_OF;
	uint64_t m = size_mask(size), cin = *rflags & INSN_RFLAGS_CF, r, cf = 0, of = 0, fl;
	unsigned int top = 8 * size - 1;
	bool arith = true;

	switch (op) {
	case INSN_ALU_ADC:
	case INSN_ALU_ADD:
		r = a + b + (op == INSN_ALU_ADC ? cin : 0);
		cf = (a & b) | ((a | b) & ~r);
		of = (a ^ r) & (b ^ r);
		break;
	case INSN_ALU_SBB:
	case INSN_ALU_SUB:
	case INSN_ALU_CMP:
		r = a - b - (op == INSN_ALU_SBB ? cin : 0);
		cf = (~a & b) | ((~a | b) & r);
		of = (a ^ b) & (a ^ r);
		break;
	case INSN_ALU_OR:
		r = a | b;
		arith = false;
		break;
	case INSN_ALU_XOR:
		r = a ^ b;
		arith = false;
		break;
	default: /* AND, TEST */
		r = a & b;
		arith = false;
		break;
	}
	r &= m;
	fl = *rflags & ~status;
	if (arith)
		fl |= ((a ^ b ^ r) & 0x10 ? INSN_RFLAGS_AF : 0);
	else
		fl |= *rflags & INSN_RFLAGS_AF;
	fl |= (cf >> top) & 1 ? INSN_RFLAGS_CF : 0;
	fl |= (of >> top) & 1 ? INSN_RFLAGS_OF : 0;
	fl |= (r >> top) & 1 ? INSN_RFLAGS_SF : 0;
	fl |= r == 0 ? INSN_RFLAGS_ZF : 0;
	fl |= parity_even(r) ? INSN_RFLAGS_PF : 0;
	*rflags = fl;
	return r;
}

/* Executors: 0 done (advance RIP), 1 unfinished REP (RIP stays), <0 error with cpu unchanged. */
typedef int insn_exec_fn(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus);

/* MOV (SDM vol. 2B MOV): store reg/imm, or load into reg. */
static int exec_mov(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	uint64_t la = mem_la(cpu, in), v;
	int rc;

	if (in->mem_first) {
		v = in->has_imm ? in->imm : gpr_get(cpu, in, in->reg, in->opsize);
		return mem_write(bus, la, in->opsize, v & size_mask(in->opsize));
	}
	rc = mem_read(bus, la, in->opsize, &v);
	if (rc)
		return rc;
	gpr_set(cpu, in, in->reg, in->opsize, v);
	return 0;
}

/* MOVZX / MOVSX / MOVSXD (SDM vol. 2B): one read of the source size, extended to the register. */
static int exec_movx(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	uint64_t v;
	int rc = mem_read(bus, mem_la(cpu, in), in->srcsize, &v);

	if (rc)
		return rc;
	if (in->cls == INSN_MOVSX)
		v = (uint64_t)sext(v, in->srcsize);
	gpr_set(cpu, in, in->reg, in->opsize, v);
	return 0;
}

/* ALU ops and TEST: read memory, compute, write the destination unless CMP/TEST. */
static int exec_alu(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	uint64_t la = mem_la(cpu, in), m, src, r, fl = cpu->rflags;
	unsigned int op = in->cls == INSN_TEST ? INSN_ALU_AND : in->alu;
	bool writes = in->cls == INSN_ALU && in->alu != INSN_ALU_CMP;
	int rc = mem_read(bus, la, in->opsize, &m);

	if (rc)
		return rc;
	src = in->has_imm ? in->imm : gpr_get(cpu, in, in->reg, in->opsize);
	src &= size_mask(in->opsize);
	if (in->mem_first)
		r = alu_exec(op, m, src, in->opsize, &fl);
	else
		r = alu_exec(op, src, m, in->opsize, &fl);
	if (writes && in->mem_first) {
		rc = mem_write(bus, la, in->opsize, r);
		if (rc)
			return rc;
	} else if (writes) {
		gpr_set(cpu, in, in->reg, in->opsize, r);
	}
	cpu->rflags = fl;
	return 0;
}

/* XCHG with memory (SDM vol. 2B XCHG): read, write the register, then load the old value. */
static int exec_xchg(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	uint64_t la = mem_la(cpu, in), old;
	int rc = mem_read(bus, la, in->opsize, &old);

	if (rc)
		return rc;
	rc = mem_write(bus, la, in->opsize, gpr_get(cpu, in, in->reg, in->opsize));
	if (rc)
		return rc;
	gpr_set(cpu, in, in->reg, in->opsize, old);
	return 0;
}

/* rSI/rDI += or -= the operand size by DF, at the address size (SDM vol. 2B MOVS). */
static void string_step_reg(struct insn_cpu *cpu, const struct insn *in, unsigned int r)
{
	uint64_t v = cpu->gpr[r];

	v = (cpu->rflags & INSN_RFLAGS_DF) ? v - in->opsize : v + in->opsize;
	gpr_set(cpu, in, r, in->addrsize, v);
}

/* One MOVS/STOS/LODS iteration: source DS:rSI (overridable), destination ES:rDI (not). */
static int string_once(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	uint64_t amask = size_mask(in->addrsize), v = cpu->gpr[INSN_RAX];
	uint64_t src = linear(cpu, in->seg, cpu->gpr[INSN_RSI] & amask);
	uint64_t dst = linear(cpu, INSN_ES, cpu->gpr[INSN_RDI] & amask);
	int rc = 0;

	if (in->cls != INSN_STOS)
		rc = mem_read(bus, src, in->opsize, &v);
	if (!rc && in->cls != INSN_LODS)
		rc = mem_write(bus, dst, in->opsize, v & size_mask(in->opsize));
	if (rc)
		return rc;
	if (in->cls == INSN_LODS)
		gpr_set(cpu, in, INSN_RAX, in->opsize, v);
	if (in->cls != INSN_STOS)
		string_step_reg(cpu, in, INSN_RSI);
	if (in->cls != INSN_LODS)
		string_step_reg(cpu, in, INSN_RDI);
	return 0;
}

/*
 * REP: rCX (by address size) iterations, none when it is 0 (SDM vol. 2B
 * REP/REPE/REPZ/REPNE/REPNZ). F2 on MOVS/STOS/LODS repeats the same way.
 * After INSN_REP_MAX iterations RIP stays, like an interrupted REP on hardware.
 */
static int exec_string(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	uint64_t count;

	if (!in->rep)
		return string_once(cpu, in, bus);
	count = cpu->gpr[INSN_RCX] & size_mask(in->addrsize);
	for (unsigned int n = 0; count && n < INSN_REP_MAX; n++) {
		int rc = string_once(cpu, in, bus);

		if (rc)
			return rc;
		gpr_set(cpu, in, INSN_RCX, in->addrsize, --count);
	}
	return count ? 1 : 0;
}

static int exec_none(struct insn_cpu *cpu, const struct insn *in, const struct insn_bus *bus)
{
	return -ENOTSUP;
}

static insn_exec_fn *const exec_table[INSN_NR_CLASSES] = {
	[INSN_NONE] = exec_none,  [INSN_UD] = exec_none,     [INSN_MOV] = exec_mov,
	[INSN_MOVZX] = exec_movx, [INSN_MOVSX] = exec_movx,  [INSN_ALU] = exec_alu,
	[INSN_TEST] = exec_alu,   [INSN_XCHG] = exec_xchg,   [INSN_MOVS] = exec_string,
	[INSN_STOS] = exec_string, [INSN_LODS] = exec_string,
};

int insn_emulate(struct insn_cpu *cpu, const uint8_t *code, size_t len, const struct insn_bus *bus)
{
	struct insn in;
	int rc = insn_decode(code, len, cpu->mode, &in);

	if (rc)
		return rc;
	if (in.has_modrm && in.mod == 3)
		return -ENOTSUP; /* register operands only: no memory access to emulate */
	rc = exec_table[in.cls](cpu, &in, bus);
	if (rc < 0)
		return rc;
	if (rc == 0)
		cpu->rip = (cpu->rip + in.len) & size_mask(cpu->mode / 8);
	return 0;
}
