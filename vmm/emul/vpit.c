/* SPDX-License-Identifier: MIT */
/* Intel 8254 PIT and port 0x61, counted from guest time (see vpit.h). */
#include "vmm/emul/vpit.h"

#include "kernel/errno.h"
#include "kernel/string.h"

#define NS_PER_S 1000000000ull
#define TICK_NEVER UINT64_MAX

/* CLKs completed by guest time ns; split so ns * VPIT_HZ never overflows. */
static uint64_t ns_to_tick(uint64_t ns)
{
	return ns / NS_PER_S * VPIT_HZ + ns % NS_PER_S * VPIT_HZ / NS_PER_S;
}

/* The first guest ns at which ns_to_tick() reaches t. */
static uint64_t tick_to_ns(uint64_t t)
{
	return t / VPIT_HZ * NS_PER_S + (t % VPIT_HZ * NS_PER_S + VPIT_HZ - 1) / VPIT_HZ;
}

static uint64_t pit_now_tick(const struct vpit *p)
{
	if (!p->env || !p->env->now_ns)
		return 0;
	return ns_to_tick(p->env->now_ns(p->env->ctx));
}

/* "Modes": M2-M0 of 11x are modes 3 and 2 (X10 = 2, X11 = 3). */
static unsigned int chan_mode(const struct vpit_chan *c)
{
	unsigned int m = (c->ctl & VPIT_CW_M_MASK) >> 1;

	return m >= 6 ? m - 4 : m;
}

static unsigned int chan_rw(const struct vpit_chan *c)
{
	return (c->ctl & VPIT_CW_RW_MASK) >> VPIT_CW_RW_SHIFT;
}

/* Counting range: binary 2^16, BCD 10^4 ("Control Word Format", BCD bit). */
static uint32_t chan_modulus(const struct vpit_chan *c)
{
	return (c->ctl & VPIT_CW_BCD) ? 10000u : 65536u;
}

/* The count register as a number; 0 is the maximum count (2^16 or 10^4). */
static uint32_t cr_value(const struct vpit_chan *c)
{
	uint32_t v = c->cr, m = chan_modulus(c);

	if (c->ctl & VPIT_CW_BCD)
		v = (v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 + (v >> 4 & 0xf) * 10 + (v & 0xf);
	v %= m;
	return v ? v : m;
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)(v / 1000 << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* Modes 2/3: a count written while counting takes over at switch_tick. */
static void chan_sync(struct vpit_chan *c, uint64_t t)
{
	if ((c->flags & VPIT_F_PENDING) && t >= c->switch_tick) {
		c->load_tick = c->switch_tick;
		c->n = c->pending_n;
		c->skew = c->pending_skew;
		c->flags &= (uint16_t)~VPIT_F_PENDING;
	}
}

/* CLKs counted since CE was loaded; false before the load. */
static bool chan_elapsed(const struct vpit_chan *c, uint64_t t, uint64_t *e)
{
	if (!(c->flags & VPIT_F_ARMED))
		return false;
	if (c->flags & VPIT_F_PAUSED) {
		*e = c->frozen;
		return true;
	}
	if (t < c->load_tick)
		return false;
	*e = t - c->load_tick + c->skew;
	return true;
}

/* Mode 3 counts by two: even N from N, odd N from N-1 in both halves. */
static uint32_t mode3_ce(uint32_t n, uint64_t p)
{
	uint32_t hi = (n + 1) / 2;

	if (!(n & 1))
		return n - 2 * (uint32_t)(p % (n / 2));
	return p < hi ? n - 1 - 2 * (uint32_t)p : n - 1 - 2 * (uint32_t)(p - hi);
}

/* The counting element CE at CLK t, as the guest reads it. */
static uint16_t chan_ce(const struct vpit_chan *c, uint64_t t)
{
	uint32_t m = chan_modulus(c), v;
	uint64_t e;

	if (!chan_elapsed(c, t, &e))
		return c->cr;
	switch (chan_mode(c)) {
	case 2:
		v = c->n - (uint32_t)(e % c->n);
		break;
	case 3:
		v = mode3_ce(c->n, e % c->n);
		break;
	default: /* 0, 1, 4, 5 wrap past zero and keep counting */
		v = c->n + m - (uint32_t)(e % m);
		break;
	}
	v %= m;
	return (c->ctl & VPIT_CW_BCD) ? to_bcd(v) : (uint16_t)v;
}

/* OUT at CLK t, per the mode waveforms ("Mode Definitions", Figures 12-17). */
static bool chan_out(const struct vpit_chan *c, uint64_t t)
{
	unsigned int mode = chan_mode(c);
	uint64_t e;

	if (!chan_elapsed(c, t, &e))
		return mode != 0; /* the control word sets OUT low in mode 0, high otherwise */
	switch (mode) {
	case 0:
	case 1:
		return e >= c->n;
	case 2:
		return (c->flags & VPIT_F_PAUSED) || e % c->n != c->n - 1;
	case 3:
		return (c->flags & VPIT_F_PAUSED) || e % c->n < (c->n + 1) / 2;
	default: /* 4, 5: low for one CLK when CE reaches zero */
		return e != c->n;
	}
}

/* Modes 2/3: the first CLK after 'after' where the cycle restarts (OUT rises). */
static uint64_t cycle_next(uint64_t l, uint32_t n, uint32_t skew, uint64_t after)
{
	uint64_t e;

	if (after < l)
		return l + n - skew;
	e = after - l + skew;
	return l + (e / n + 1) * n - skew;
}

/* The first CLK after 'after' at which OUT rises, or TICK_NEVER. */
static uint64_t chan_next_rise(const struct vpit_chan *c, uint64_t after)
{
	uint64_t r;

	if (!(c->flags & VPIT_F_ARMED) || (c->flags & VPIT_F_PAUSED))
		return TICK_NEVER;
	switch (chan_mode(c)) {
	case 0:
	case 1:
		r = c->load_tick + c->n;
		return r > after ? r : TICK_NEVER;
	case 4:
	case 5:
		r = c->load_tick + c->n + 1;
		return r > after ? r : TICK_NEVER;
	default:
		r = cycle_next(c->load_tick, c->n, c->skew, after);
		if (!(c->flags & VPIT_F_PENDING) || r <= c->switch_tick)
			return r;
		return cycle_next(c->switch_tick, c->pending_n, c->pending_skew,
				  after > c->switch_tick ? after : c->switch_tick);
	}
}

static void pit_pulse_irq0(struct vpit *p)
{
	if (!p->env || !p->env->set_irq)
		return;
	p->env->set_irq(p->env->ctx, VPIT_IRQ, true);
	p->env->set_irq(p->env->ctx, VPIT_IRQ, false);
}

/* Channel 0 OUT drives IRQ 0: one edge per rising OUT, missed edges coalesce. */
static void pit_irq_check(struct vpit *p, uint64_t t)
{
	struct vpit_chan *c = &p->ch[0];

	/* Before chan_sync(): the end of a cycle with a count pending is an edge. */
	if (chan_next_rise(c, p->irq_last) <= t) {
		pit_pulse_irq0(p);
		p->irq_last = t;
	}
	chan_sync(c, t);
}

/* Bring counter i up to CLK t; channel 0 delivers its due IRQ 0 edge first. */
static void pit_sync(struct vpit *p, unsigned int i, uint64_t t)
{
	if (i == 0)
		pit_irq_check(p, t);
	else
		chan_sync(&p->ch[i], t);
}

static void chan_latch_count(struct vpit_chan *c, uint64_t t)
{
	/* "Counter Latch Command": further latches are ignored until read. */
	if (c->flags & VPIT_F_CLATCH)
		return;
	c->ol = chan_ce(c, t);
	c->flags = (uint16_t)((c->flags | VPIT_F_CLATCH) & ~VPIT_F_OLMSB);
}

static void chan_latch_status(struct vpit_chan *c, uint64_t t)
{
	if (c->flags & VPIT_F_SLATCH)
		return;
	c->status = (uint8_t)((chan_out(c, t) ? VPIT_ST_OUT : 0) |
			      (t < c->null_until ? VPIT_ST_NULL : 0) | (c->ctl & 0x3f));
	c->flags |= VPIT_F_SLATCH;
}

/* CE (re)loaded with CR at the next CLK after t. */
static void chan_start(struct vpit_chan *c, uint64_t t)
{
	c->n = cr_value(c);
	c->load_tick = t + 1;
	c->null_until = t + 1;
	c->frozen = 0;
	c->skew = 0;
	c->flags = (uint16_t)((c->flags | VPIT_F_ARMED) & ~(VPIT_F_PAUSED | VPIT_F_PENDING));
}

/*
 * Mode 2 loads a count written while counting at the end of the cycle;
 * mode 3 at the end of the current half-cycle, the new count then going
 * on with the other half.
 */
static void chan_set_pending(struct vpit_chan *c, uint64_t t)
{
	uint32_t n = cr_value(c);
	uint64_t e = 0;

	if (!(c->flags & VPIT_F_PENDING)) {
		chan_elapsed(c, t, &e);
		e %= c->n;
		c->pending_skew = 0;
		c->switch_tick = t - e + c->n;
		if (chan_mode(c) == 3 && e < (c->n + 1) / 2) {
			c->switch_tick = t - e + (c->n + 1) / 2;
			c->pending_skew = 1; /* nonzero: the new count starts in the low half */
		}
	}
	if (c->pending_skew)
		c->pending_skew = (n + 1) / 2;
	c->pending_n = n;
	c->null_until = c->switch_tick;
	c->flags |= VPIT_F_PENDING;
}

/* A complete count was written ("Write Operations", per-mode load rules). */
static void chan_load(struct vpit_chan *c, uint64_t t)
{
	bool running = (c->flags & VPIT_F_ARMED) && !(c->flags & VPIT_F_PAUSED) &&
		       t >= c->load_tick;

	c->flags |= VPIT_F_HAVE_CR;
	switch (chan_mode(c)) {
	case 0:
	case 4:
		chan_start(c, t);
		if (!(c->flags & VPIT_F_GATE))
			c->flags |= VPIT_F_PAUSED;
		break;
	case 1:
	case 5:
		c->null_until = TICK_NEVER; /* loaded by the next GATE trigger */
		break;
	default:
		if (!running) {
			chan_start(c, t);
			if (!(c->flags & VPIT_F_GATE))
				c->flags |= VPIT_F_PAUSED;
			break;
		}
		chan_set_pending(c, t);
		break;
	}
}

static void pit_write_count(struct vpit *p, unsigned int i, uint8_t val, uint64_t t)
{
	struct vpit_chan *c = &p->ch[i];

	pit_sync(p, i, t);
	switch (chan_rw(c)) {
	case 1:
		c->cr = val;
		break;
	case 2:
		c->cr = (uint16_t)(val << 8);
		break;
	default:
		if (!(c->flags & VPIT_F_WMSB)) {
			c->cr = (uint16_t)((c->cr & 0xff00) | val);
			c->flags |= VPIT_F_WMSB;
			/* Mode 0: "writing the first byte disables counting", OUT low. */
			if (chan_mode(c) == 0)
				c->flags &= (uint16_t)~VPIT_F_ARMED;
			return;
		}
		c->cr = (uint16_t)((c->cr & 0x00ff) | val << 8);
		c->flags &= (uint16_t)~VPIT_F_WMSB;
		break;
	}
	chan_load(c, t);
	if (i == 0)
		p->irq_last = t;
}

static uint8_t pit_read_count(struct vpit *p, unsigned int i, uint64_t t)
{
	struct vpit_chan *c = &p->ch[i];
	unsigned int rw = chan_rw(c);
	uint16_t v;
	bool msb;

	pit_sync(p, i, t);
	/* "Read-Back Command": a latched status is read before a latched count. */
	if (c->flags & VPIT_F_SLATCH) {
		c->flags &= (uint16_t)~VPIT_F_SLATCH;
		return c->status;
	}
	if (c->flags & VPIT_F_CLATCH) {
		v = c->ol;
		msb = rw == 2 || (rw == 3 && (c->flags & VPIT_F_OLMSB));
		if (rw == 3 && !msb)
			c->flags |= VPIT_F_OLMSB;
		else
			c->flags &= (uint16_t)~(VPIT_F_CLATCH | VPIT_F_OLMSB);
		return (uint8_t)(msb ? v >> 8 : v);
	}
	v = chan_ce(c, t);
	msb = rw == 2 || (rw == 3 && (c->flags & VPIT_F_RMSB));
	if (rw == 3)
		c->flags ^= VPIT_F_RMSB;
	return (uint8_t)(msb ? v >> 8 : v);
}

static void pit_write_ctl(struct vpit *p, uint8_t val, uint64_t t)
{
	unsigned int sc = val >> 6, i;
	struct vpit_chan *c;

	if (sc == 3) { /* "Read-Back Command": COUNT and STATUS are active low */
		for (i = 0; i < 3; i++) {
			if (!(val & (2u << i)))
				continue;
			pit_sync(p, i, t);
			if (!(val & 0x20))
				chan_latch_count(&p->ch[i], t);
			if (!(val & 0x10))
				chan_latch_status(&p->ch[i], t);
		}
		return;
	}
	c = &p->ch[sc];
	pit_sync(p, sc, t);
	if (!(val & VPIT_CW_RW_MASK)) {
		chan_latch_count(c, t);
		return;
	}
	c->ctl = val & 0x3f;
	c->flags &= VPIT_F_GATE;
	c->null_until = TICK_NEVER;
	if (sc == 0)
		p->irq_last = t;
}

/* GATE edges (Table "Gate Pin Operations Summary"). */
static void chan_set_gate(struct vpit_chan *c, bool level, uint64_t t)
{
	unsigned int mode = chan_mode(c);
	uint64_t e = 0;

	if (level == !!(c->flags & VPIT_F_GATE))
		return;
	chan_sync(c, t);
	if (!level) {
		c->flags &= (uint16_t)~VPIT_F_GATE;
		if (mode == 1 || mode == 5 || !(c->flags & VPIT_F_ARMED) ||
		    (c->flags & VPIT_F_PAUSED))
			return;
		chan_elapsed(c, t, &e);
		c->frozen = e;
		c->flags |= VPIT_F_PAUSED;
		return;
	}
	c->flags |= VPIT_F_GATE;
	if (mode == 0 || mode == 4) {
		if (c->flags & VPIT_F_PAUSED) { /* the next CLK counts again */
			c->load_tick = t - c->frozen;
			c->flags &= (uint16_t)~VPIT_F_PAUSED;
		}
		return;
	}
	if (c->flags & VPIT_F_HAVE_CR) /* 1, 5 trigger; 2, 3 restart */
		chan_start(c, t);
}

static uint8_t pit_read_sc(struct vpit *p)
{
	uint64_t ns = p->env && p->env->now_ns ? p->env->now_ns(p->env->ctx) : 0;
	uint8_t v = p->nmi_sc;

	chan_sync(&p->ch[2], ns_to_tick(ns));
	if (ns / VPIT_REFRESH_NS & 1)
		v |= VPIT_SC_REFRESH;
	if (chan_out(&p->ch[2], ns_to_tick(ns)))
		v |= VPIT_SC_OUT2;
	return v;
}

static uint64_t vpit_read(void *dev, uint64_t addr, unsigned int size)
{
	struct vpit *p = dev;

	if (addr == VPIT_PORT_NMI_SC)
		return pit_read_sc(p);
	if (addr >= VPIT_PORT_CH0 && addr <= VPIT_PORT_CH2)
		return pit_read_count(p, (unsigned int)(addr - VPIT_PORT_CH0), pit_now_tick(p));
	return 0xff; /* 0x43: the control word is write-only */
}

static void vpit_write(void *dev, uint64_t addr, unsigned int size, uint64_t val)
{
	struct vpit *p = dev;
	uint64_t t = pit_now_tick(p);

	if (addr == VPIT_PORT_NMI_SC) {
		p->nmi_sc = (uint8_t)(val & VPIT_SC_WMASK);
		chan_set_gate(&p->ch[2], val & VPIT_SC_GATE2, t);
	} else if (addr == VPIT_PORT_CTL) {
		pit_write_ctl(p, (uint8_t)val, t);
	} else if (addr >= VPIT_PORT_CH0 && addr <= VPIT_PORT_CH2) {
		pit_write_count(p, (unsigned int)(addr - VPIT_PORT_CH0), (uint8_t)val, t);
	}
}

/*
 * Power-on: the 8254's control words and counts are undefined; model
 * each counter as mode 0 LSB/MSB with no count (OUT low), GATE 0/1 tied
 * high as on the PC, GATE 2 low (port 0x61 reads 0).
 */
static void vpit_reset(void *dev)
{
	struct vpit *p = dev;
	unsigned int i;

	memset(p->ch, 0, sizeof(p->ch));
	for (i = 0; i < 3; i++) {
		p->ch[i].ctl = 3u << VPIT_CW_RW_SHIFT;
		p->ch[i].n = 65536;
		p->ch[i].null_until = TICK_NEVER;
		if (i < 2)
			p->ch[i].flags = VPIT_F_GATE;
	}
	p->irq_last = 0;
	p->nmi_sc = 0;
}

static uint64_t vpit_poll(void *dev, uint64_t now_ns)
{
	struct vpit *p = dev;
	uint64_t r;

	pit_irq_check(p, ns_to_tick(now_ns));
	r = chan_next_rise(&p->ch[0], p->irq_last);
	return r == TICK_NEVER ? EMUL_NEVER : tick_to_ns(r);
}

/* The saved record: little-endian (the host and the target are x86). */
struct vpit_chan_rec {
	uint64_t load_tick;
	uint64_t switch_tick;
	uint64_t null_until;
	uint64_t frozen;
	uint32_t n;
	uint32_t pending_n;
	uint32_t skew;
	uint32_t pending_skew;
	uint16_t cr;
	uint16_t ol;
	uint16_t flags;
	uint8_t ctl;
	uint8_t status;
} __attribute__((packed));

struct vpit_record {
	struct dev_record_hdr hdr;
	struct vpit_chan_rec ch[3];
	uint64_t irq_last;
	uint8_t nmi_sc;
	uint8_t pad[7];
} __attribute__((packed));

_Static_assert(sizeof(struct vpit_chan_rec) == 56, "vpit_chan_rec layout");
_Static_assert(sizeof(struct vpit_record) == 192, "vpit_record layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "record is stored in host order");

#define VPIT_MAGIC   DEV_MAGIC('P', 'I', 'T', '1')
#define VPIT_VERSION 1u

static int vpit_save(const void *dev, void *buf, size_t cap)
{
	const struct vpit *p = dev;
	struct vpit_record r;
	unsigned int i;

	if (cap < sizeof(r))
		return -ENOSPC;
	memset(&r, 0, sizeof(r));
	r.hdr.magic = VPIT_MAGIC;
	r.hdr.version = VPIT_VERSION;
	r.hdr.size = sizeof(r);
	for (i = 0; i < 3; i++) {
		const struct vpit_chan *c = &p->ch[i];
		struct vpit_chan_rec *o = &r.ch[i];

		o->load_tick = c->load_tick;
		o->switch_tick = c->switch_tick;
		o->null_until = c->null_until;
		o->frozen = c->frozen;
		o->n = c->n;
		o->pending_n = c->pending_n;
		o->skew = c->skew;
		o->pending_skew = c->pending_skew;
		o->cr = c->cr;
		o->ol = c->ol;
		o->flags = c->flags;
		o->ctl = c->ctl;
		o->status = c->status;
	}
	r.irq_last = p->irq_last;
	r.nmi_sc = p->nmi_sc;
	memcpy(buf, &r, sizeof(r));
	return (int)sizeof(r);
}

static bool chan_rec_ok(const struct vpit_chan_rec *o, unsigned int i, uint8_t nmi_sc)
{
	uint32_t m = (o->ctl & VPIT_CW_BCD) ? 10000u : 65536u;
	unsigned int rw = (o->ctl & VPIT_CW_RW_MASK) >> VPIT_CW_RW_SHIFT;
	bool gate = o->flags & VPIT_F_GATE;

	if ((o->ctl & 0xc0) || rw == 0 || (o->flags & ~VPIT_F_ALL))
		return false;
	if (o->n < 1 || o->n > m || o->skew >= o->n)
		return false;
	if ((o->flags & VPIT_F_PENDING) &&
	    (o->pending_n < 1 || o->pending_n > m || o->pending_skew >= o->pending_n))
		return false;
	if (rw != 3 && (o->flags & (VPIT_F_WMSB | VPIT_F_RMSB | VPIT_F_OLMSB)))
		return false;
	if ((o->flags & VPIT_F_OLMSB) && !(o->flags & VPIT_F_CLATCH))
		return false;
	return i < 2 ? gate : gate == !!(nmi_sc & VPIT_SC_GATE2);
}

static int vpit_restore(void *dev, const void *buf, size_t len)
{
	struct vpit *p = dev;
	struct vpit_record r;
	unsigned int i;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (r.hdr.magic != VPIT_MAGIC || r.hdr.version != VPIT_VERSION || r.hdr.size != sizeof(r))
		return -EINVAL;
	if (r.nmi_sc & ~VPIT_SC_WMASK)
		return -EINVAL;
	for (i = 0; i < 3; i++)
		if (!chan_rec_ok(&r.ch[i], i, r.nmi_sc))
			return -EINVAL;
	for (i = 0; i < 3; i++) {
		struct vpit_chan *c = &p->ch[i];
		const struct vpit_chan_rec *o = &r.ch[i];

		c->load_tick = o->load_tick;
		c->switch_tick = o->switch_tick;
		c->null_until = o->null_until;
		c->frozen = o->frozen;
		c->n = o->n;
		c->pending_n = o->pending_n;
		c->skew = o->skew;
		c->pending_skew = o->pending_skew;
		c->cr = o->cr;
		c->ol = o->ol;
		c->flags = o->flags;
		c->ctl = o->ctl;
		c->status = o->status;
	}
	p->irq_last = r.irq_last;
	p->nmi_sc = r.nmi_sc;
	return 0;
}

void vpit_init(struct vpit *p, const struct emul_env *env)
{
	p->env = env;
	vpit_reset(p);
}

const struct dev_ops vpit_ops = {
	.name = "i8254",
	.read = vpit_read,
	.write = vpit_write,
	.reset = vpit_reset,
	.poll = vpit_poll,
	.save = vpit_save,
	.restore = vpit_restore,
};
