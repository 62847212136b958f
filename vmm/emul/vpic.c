/* SPDX-License-Identifier: MIT */
/*
 * Two cascaded Intel 8259A PICs and the PIIX ELCR (see vpic.h).
 *
 * Where this model departs from the silicon, on purpose:
 * - Only the 8086 (uPM = 1) INTA protocol exists: vpic_ack() returns the
 *   vector whatever ICW4 D0 says. ADI, buffered mode and M/S are ignored.
 * - An edge latched in IRR stays there when the line drops again before the
 *   INTA ("Edge and Level Triggered Modes" wants it held high), because the
 *   VM's edge devices raise then lower a line in one go (dev.h). A request
 *   that goes away still gives the default IR7 in level mode.
 * - The slave answers the cascade whenever the master has ICW3 bit 2 set;
 *   the slave's own ICW3 ID is kept but not compared.
 * - The 8259A has no RESET pin: power-on here is every register zero, all
 *   inputs masked, base 0, master ICW3 = 0x04 and slave ID 2 (the PC's
 *   wiring), so that nothing reaches a guest before it programs the pair.
 */
#include "vmm/emul/vpic.h"

#include "kernel/errno.h"
#include "kernel/string.h"

#define VPIC_MAGIC   DEV_MAGIC('P', 'I', 'C', '1')
#define VPIC_VERSION 1

/* PIIX3 ELCR1/ELCR2: IRQ 0, 1, 2 and 8, 13 are edge only (bits reserved). */
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };

#define BIT8(n) ((uint8_t)(1u << (n)))

/* ICW1 and OCW2/OCW3 bits ("Initialization Command Words", Figure 7/8). */
#define ICW1_IC4   0x01u
#define ICW1_SNGL  0x02u
#define ICW1_LTIM  0x08u
#define ICW1_SEL   0x10u /* A0 = 0, D4 = 1: ICW1 */
#define OCW3_SEL   0x08u /* A0 = 0, D4 = 0, D3 = 1: OCW3 */
#define ICW4_UPM   0x01u
#define ICW4_AEOI  0x02u
#define ICW4_SFNM  0x10u
#define OCW3_RIS   0x01u
#define OCW3_RR    0x02u
#define OCW3_P     0x04u
#define OCW3_SMM   0x20u
#define OCW3_ESMM  0x40u

enum ocw2_cmd { /* OCW2 R, SL, EOI (D7-D5) */
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* IRs in level mode: ICW1 LTIM makes all eight level-triggered. */
static uint8_t level_mask(const struct vpic_chip *c)
{
	return (c->flags & VPIC_F_LTIM) ? 0xff : c->elcr;
}

/* Priority rank of IR ir: 0 is the highest ("Automatic Rotation"). */
static unsigned int rank(const struct vpic_chip *c, unsigned int ir)
{
	return (ir - c->lowest - 1u) & 7u;
}

/* The highest-priority IR set in mask, or -1. */
static int highest(const struct vpic_chip *c, uint8_t mask)
{
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int ir = (c->lowest + 1u + i) & 7u;

		if (mask & BIT8(ir))
			return (int)ir;
	}
	return -1;
}

static bool cascaded(const struct vpic_chip *m)
{
	return !(m->flags & VPIC_F_SNGL) && (m->icw3 & BIT8(VPIC_CASCADE_IR));
}

/*
 * The IR this chip would interrupt for, or -1 (its INT pin low). A request
 * must outrank every in-service level ("Fully Nested Mode"); in special
 * mask mode masked in-service levels do not count ("Special Mask Mode");
 * in special fully nested mode the master lets a slave interrupt again
 * while that slave's IR is in service ("Special Fully Nest Mode").
 */
static int chip_pending(const struct vpic_chip *c, bool master)
{
	int req = highest(c, c->irr & (uint8_t)~c->imr);
	uint8_t in = c->isr;
	int cur;

	if (req < 0)
		return -1;
	if (c->flags & VPIC_F_SMM)
		in &= (uint8_t)~c->imr;
	cur = highest(c, in);
	if (cur < 0 || rank(c, (unsigned int)req) < rank(c, (unsigned int)cur))
		return req;
	if (master && (c->flags & VPIC_F_SFNM) && req == cur && cascaded(c) &&
	    req == (int)VPIC_CASCADE_IR)
		return req;
	return -1;
}

/* An IR input changes: edges latch IRR, level IRs follow the line. */
static void chip_set_line(struct vpic_chip *c, unsigned int ir, bool level)
{
	uint8_t bit = BIT8(ir);

	if (level) {
		if (!(c->lines & bit) || (level_mask(c) & bit))
			c->irr |= bit;
		c->lines |= bit;
	} else {
		c->lines &= (uint8_t)~bit;
		if (level_mask(c) & bit)
			c->irr &= (uint8_t)~bit;
	}
}

/* The trigger mode changed from old: level IRs show the line, edges stay latched. */
static void chip_retrigger(struct vpic_chip *c, uint8_t old)
{
	uint8_t lvl = level_mask(c);

	c->irr = (uint8_t)((c->irr & ~lvl & ~old) | (c->lines & lvl));
}

/*
 * Propagate the slave's INT into master IR2, then tell the VM if the
 * master's INT moved.
 */
static void vpic_update(struct vpic *p)
{
	struct vpic_chip *m = &p->chip[0];
	bool intr;

	chip_set_line(m, VPIC_CASCADE_IR, chip_pending(&p->chip[1], false) >= 0);
	intr = chip_pending(m, true) >= 0;
	if (intr != p->intr) {
		p->intr = intr;
		if (p->env && p->env->kick)
			p->env->kick(p->env->ctx);
	}
}

/* "Interrupt Sequence": IRR to ISR, or in AEOI an automatic EOI (rotating if asked). */
static void chip_ack(struct vpic_chip *c, unsigned int ir)
{
	uint8_t bit = BIT8(ir);

	c->irr = (uint8_t)((c->irr & ~bit) | (c->lines & level_mask(c) & bit));
	if (!(c->flags & VPIC_F_AEOI))
		c->isr |= bit;
	else if (c->flags & VPIC_F_ROTATE_AEOI)
		c->lowest = (uint8_t)ir;
}

int vpic_ack(struct vpic *p)
{
	struct vpic_chip *m = &p->chip[0], *s = &p->chip[1];
	int ir = chip_pending(m, true), sir;
	int vec;

	/* "Interrupt Sequence" / Figure 10: nothing left, the default IR7 without an IS bit. */
	if (ir < 0) {
		vpic_update(p);
		return m->base + 7;
	}
	chip_ack(m, (unsigned int)ir);
	vec = m->base + ir;
	if (ir == (int)VPIC_CASCADE_IR && cascaded(m)) {
		/* "Cascade Mode": the slave supplies the vector; IR2 is in service either way. */
		sir = chip_pending(s, false);
		if (sir < 0) {
			vec = s->base + 7;
		} else {
			chip_ack(s, (unsigned int)sir);
			vec = s->base + sir;
		}
		/* The slave's INT drops during INTA: a request still left is a new edge. */
		m->lines &= (uint8_t)~BIT8(VPIC_CASCADE_IR);
	}
	vpic_update(p);
	return vec;
}

bool vpic_intr(const struct vpic *p)
{
	struct vpic_chip m = p->chip[0];

	/* Without the side effects of vpic_update: what IR2 would see now. */
	chip_set_line(&m, VPIC_CASCADE_IR, chip_pending(&p->chip[1], false) >= 0);
	return chip_pending(&m, true) >= 0;
}

void vpic_set_irq(struct vpic *p, unsigned int irq, bool level)
{
	if (irq >= VPIC_NR_IRQS || irq == VPIC_CASCADE_IR)
		return;
	chip_set_line(&p->chip[irq >> 3], irq & 7u, level);
	vpic_update(p);
}

/* "Initialization Command Words" a-f: what ICW1 resets. */
static void chip_icw1(struct vpic_chip *c, uint8_t val)
{
	c->flags = (uint16_t)(((val & ICW1_LTIM) ? VPIC_F_LTIM : 0) |
			      ((val & ICW1_SNGL) ? VPIC_F_SNGL : 0) |
			      ((val & ICW1_IC4) ? VPIC_F_IC4 : 0));
	c->imr = 0;
	c->isr = 0;
	c->lowest = 7;
	c->icw3 = 7;
	/* Edge sense reset: a line already high must go low and high again. */
	c->irr = c->lines & level_mask(c);
	c->init = VPIC_INIT_ICW2;
}

static void chip_icw(struct vpic_chip *c, uint8_t val)
{
	switch (c->init) {
	case VPIC_INIT_ICW2:
		c->base = val & 0xf8u;
		if (!(c->flags & VPIC_F_SNGL))
			c->init = VPIC_INIT_ICW3;
		else
			c->init = (c->flags & VPIC_F_IC4) ? VPIC_INIT_ICW4 : VPIC_INIT_DONE;
		break;
	case VPIC_INIT_ICW3:
		c->icw3 = val;
		c->init = (c->flags & VPIC_F_IC4) ? VPIC_INIT_ICW4 : VPIC_INIT_DONE;
		break;
	default: /* VPIC_INIT_ICW4 */
		c->flags |= (uint16_t)(((val & ICW4_UPM) ? VPIC_F_UPM : 0) |
				       ((val & ICW4_AEOI) ? VPIC_F_AEOI : 0) |
				       ((val & ICW4_SFNM) ? VPIC_F_SFNM : 0));
		c->init = VPIC_INIT_DONE;
		break;
	}
}

/* OCW2 ("Operation Command Words", "End of Interrupt", "Automatic/Specific Rotation"). */
static void chip_ocw2(struct vpic_chip *c, uint8_t val)
{
	unsigned int l = val & 7u;
	int ir;

	switch ((enum ocw2_cmd)(val >> 5)) {
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		ir = highest(c, c->isr);
		if (ir < 0)
			break;
		c->isr &= (uint8_t)~BIT8(ir);
		if ((val >> 5) == OCW2_ROTATE_EOI)
			c->lowest = (uint8_t)ir;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t)~BIT8(l);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t)~BIT8(l);
		c->lowest = (uint8_t)l;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = (uint8_t)l;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->flags |= VPIC_F_ROTATE_AEOI;
		break;
	case OCW2_ROTATE_AEOI_CLEAR:
		c->flags &= (uint16_t)~VPIC_F_ROTATE_AEOI;
		break;
	case OCW2_NOP:
		break;
	}
}

/* OCW3: special mask mode, poll, read register select. */
static void chip_ocw3(struct vpic_chip *c, uint8_t val)
{
	if (val & OCW3_ESMM) {
		if (val & OCW3_SMM)
			c->flags |= VPIC_F_SMM;
		else
			c->flags &= (uint16_t)~VPIC_F_SMM;
	}
	if (val & OCW3_P)
		c->flags |= VPIC_F_POLL;
	if (val & OCW3_RR) {
		if (val & OCW3_RIS)
			c->flags |= VPIC_F_READ_ISR;
		else
			c->flags &= (uint16_t)~VPIC_F_READ_ISR;
	}
}

/*
 * "Poll Command": the read is the INTA (AEOI included), the byte is
 * I (D7) and the level W2-W0, or 0 with nothing requesting.
 */
static uint8_t chip_poll(struct vpic *p, unsigned int idx)
{
	struct vpic_chip *c = &p->chip[idx];
	int ir = chip_pending(c, idx == 0);

	c->flags &= (uint16_t)~VPIC_F_POLL;
	if (ir < 0)
		return 0;
	chip_ack(c, (unsigned int)ir);
	vpic_update(p);
	return (uint8_t)(0x80u | (unsigned int)ir);
}

static void vpic_write(void *dev, uint64_t addr, unsigned int size, uint64_t val)
{
	struct vpic *p = dev;
	uint8_t v = (uint8_t)val;
	struct vpic_chip *c;
	uint8_t old;

	if (size != 1)
		return;
	if (addr == VPIC_ELCR1 || addr == VPIC_ELCR2) {
		c = &p->chip[addr - VPIC_ELCR1];
		old = level_mask(c);
		c->elcr = v & elcr_writable[addr - VPIC_ELCR1];
		chip_retrigger(c, old);
	} else if ((addr & ~0x81ull) == 0x20) { /* 0x20, 0x21, 0xa0, 0xa1 */
		c = &p->chip[(addr >> 7) & 1u];
		if (addr & 1u) {
			if (c->init != VPIC_INIT_DONE)
				chip_icw(c, v);
			else
				c->imr = v; /* OCW1 */
		} else if (v & ICW1_SEL) {
			chip_icw1(c, v);
		} else if (v & OCW3_SEL) {
			chip_ocw3(c, v);
		} else {
			chip_ocw2(c, v);
		}
	} else {
		return;
	}
	vpic_update(p);
}

static uint64_t vpic_read(void *dev, uint64_t addr, unsigned int size)
{
	struct vpic *p = dev;
	struct vpic_chip *c;

	if (size != 1)
		return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1u;
	if (addr == VPIC_ELCR1 || addr == VPIC_ELCR2)
		return p->chip[addr - VPIC_ELCR1].elcr;
	if ((addr & ~0x81ull) != 0x20)
		return 0xff;
	c = &p->chip[(addr >> 7) & 1u];
	if (c->flags & VPIC_F_POLL)
		return chip_poll(p, (addr >> 7) & 1u);
	/* "Reading the 8259A Status": A0 = 1 is IMR; A0 = 0 is IRR or ISR per OCW3 RIS. */
	if (addr & 1u)
		return c->imr;
	return (c->flags & VPIC_F_READ_ISR) ? c->isr : c->irr;
}

static void chip_power_on(struct vpic_chip *c, uint8_t icw3)
{
	memset(c, 0, sizeof(*c));
	c->imr = 0xff;
	c->lowest = 7;
	c->icw3 = icw3;
	c->flags = VPIC_F_UPM;
}

static void vpic_reset(void *dev)
{
	struct vpic *p = dev;

	chip_power_on(&p->chip[0], BIT8(VPIC_CASCADE_IR));
	chip_power_on(&p->chip[1], VPIC_CASCADE_IR);
	vpic_update(p);
}

void vpic_init(struct vpic *p, const struct emul_env *env)
{
	p->env = env;
	p->intr = false;
	vpic_reset(p);
}

/* The saved record: both chips, little-endian, no padding. */
struct vpic_chip_rec {
	uint8_t irr, isr, imr, lines, elcr, base, icw3, lowest, init;
	uint8_t flags[2];
} __attribute__((packed));

struct vpic_rec {
	struct dev_record_hdr hdr;
	struct vpic_chip_rec chip[2];
} __attribute__((packed));
_Static_assert(sizeof(struct vpic_rec) == 8 + 2 * 11, "vpic record layout");

static int vpic_save(const void *dev, void *buf, size_t cap)
{
	const struct vpic *p = dev;
	struct vpic_rec r;

	if (cap < sizeof(r))
		return -ENOSPC;
	memset(&r, 0, sizeof(r));
	r.hdr.magic = VPIC_MAGIC;
	r.hdr.version = VPIC_VERSION;
	r.hdr.size = sizeof(r);
	for (unsigned int i = 0; i < 2; i++) {
		const struct vpic_chip *c = &p->chip[i];
		struct vpic_chip_rec *o = &r.chip[i];

		o->irr = c->irr;
		o->isr = c->isr;
		o->imr = c->imr;
		o->lines = c->lines;
		o->elcr = c->elcr;
		o->base = c->base;
		o->icw3 = c->icw3;
		o->lowest = c->lowest;
		o->init = c->init;
		o->flags[0] = (uint8_t)c->flags;
		o->flags[1] = (uint8_t)(c->flags >> 8);
	}
	memcpy(buf, &r, sizeof(r));
	return (int)sizeof(r);
}

/* Everything restore needs to believe of one chip's record. */
static bool chip_rec_ok(const struct vpic_chip_rec *o, unsigned int idx, struct vpic_chip *c)
{
	c->irr = o->irr;
	c->isr = o->isr;
	c->imr = o->imr;
	c->lines = o->lines;
	c->elcr = o->elcr;
	c->base = o->base;
	c->icw3 = o->icw3;
	c->lowest = o->lowest;
	c->init = o->init;
	c->flags = (uint16_t)(o->flags[0] | o->flags[1] << 8);
	if ((c->flags & ~VPIC_F_ALL) || (c->base & 7u) || c->lowest > 7 ||
	    c->init > VPIC_INIT_ICW4 || (c->elcr & ~elcr_writable[idx]))
		return false;
	if (c->init == VPIC_INIT_ICW3 && (c->flags & VPIC_F_SNGL))
		return false;
	if (c->init == VPIC_INIT_ICW4 && !(c->flags & VPIC_F_IC4))
		return false;
	/* Level IRs' IRR is their line. */
	return !((c->irr ^ c->lines) & level_mask(c));
}

static int vpic_restore(void *dev, const void *buf, size_t len)
{
	struct vpic *p = dev;
	struct vpic_chip c[2];
	struct vpic_rec r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (r.hdr.magic != VPIC_MAGIC || r.hdr.version != VPIC_VERSION || r.hdr.size != sizeof(r))
		return -EINVAL;
	if (!chip_rec_ok(&r.chip[0], 0, &c[0]) || !chip_rec_ok(&r.chip[1], 1, &c[1]))
		return -EINVAL;
	memcpy(p->chip, c, sizeof(c));
	p->intr = !vpic_intr(p); /* force the kick below */
	vpic_update(p);
	return 0;
}

const struct dev_ops vpic_ops = {
	.name = "8259A",
	.read = vpic_read,
	.write = vpic_write,
	.reset = vpic_reset,
	.poll = NULL,
	.save = vpic_save,
	.restore = vpic_restore,
};
