/* SPDX-License-Identifier: MIT */
/* PC16550D UART registers and interrupts over a byte backend (v16550.h). */
#include "vmm/emul/v16550.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define NS_PER_S 1000000000ull

static uint64_t now(const struct v16550 *u)
{
	return u->env && u->env->now_ns ? u->env->now_ns(u->env->ctx) : 0;
}

static bool fifo_on(const struct v16550 *u)
{
	return u->fcr & V16550_FCR_ENABLE;
}

static bool loop_on(const struct v16550 *u)
{
	return u->mcr & V16550_MCR_LOOP;
}

/* Bytes the receiver has: the loopback FIFO's, then (LOOP clear) the backend's. */
static size_t rx_avail(const struct v16550 *u)
{
	size_t n = u->lb_count;

	if (!loop_on(u) && u->be.rx_count)
		n += u->be.rx_count(u->be.ctx);
	return n;
}

/* The receiver FIFO's fill: what the trigger level and timeout count (v16550.h). */
static uint8_t fifo_level(const struct v16550 *u)
{
	size_t n = rx_avail(u);

	return n < V16550_FIFO ? (uint8_t)n : V16550_FIFO;
}

/* RCVR trigger level in bytes (§8.5, FCR bits 7:6). */
static uint8_t trigger(const struct v16550 *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return level[u->fcr >> 6];
}

/* The next received byte, or -1: loopback FIFO first, then the backend. */
static int rx_take(struct v16550 *u)
{
	int b;

	if (u->lb_count) {
		b = u->lb[u->lb_head];
		u->lb_head = (u->lb_head + 1) % V16550_FIFO;
		u->lb_count--;
		return b;
	}
	if (loop_on(u) || !u->be.rx_get)
		return -1;
	return u->be.rx_get(u->be.ctx);
}

/*
 * Four character times (§8.6, character timeout) at the programmed baud,
 * rounded up. A character is a start bit, 5-8 data bits, the parity bit and
 * 1, 1.5 or 2 stop bits (§8.1); counted in half bits. Baud is
 * XTAL / (16 * divisor) (§8.3); divisor 0 is taken as 65536 (the
 * datasheet gives 1 to 2^16 - 1), which at least keeps the timer finite.
 */
static uint64_t timeout_ns(const struct v16550 *u)
{
	uint64_t half_bits = 2 + 2 * (5 + (u->lcr & V16550_LCR_WLS));
	uint64_t div = (uint64_t)u->dlm << 8 | u->dll;

	if (u->lcr & V16550_LCR_PEN)
		half_bits += 2;
	if (!(u->lcr & V16550_LCR_STB))
		half_bits += 2;
	else
		half_bits += (u->lcr & V16550_LCR_WLS) ? 4 : 3;
	if (!div)
		div = 65536;
	/* 4 * (half_bits / 2) * 16 * div / XTAL seconds */
	return (half_bits * 32 * div * NS_PER_S + V16550_XTAL_HZ - 1) / V16550_XTAL_HZ;
}

/* When the character timeout indication sets, or EMUL_NEVER (§8.11 conditions). */
static uint64_t cti_deadline(const struct v16550 *u)
{
	if (!fifo_on(u) || u->cti_pending || !fifo_level(u))
		return EMUL_NEVER;
	return u->rx_last_ns + timeout_ns(u);
}

/*
 * Catch up with the receiver at time t: a rise of the FIFO level is a
 * reception (it restarts the timeout timer), an empty FIFO has no timeout,
 * and a timer that ran out sets the timeout indication.
 */
static void rx_refresh(struct v16550 *u, uint64_t t)
{
	uint8_t lvl = fifo_level(u);
	uint64_t d;

	if (lvl > u->rx_seen)
		u->rx_last_ns = t;
	u->rx_seen = lvl;
	if (!lvl)
		u->cti_pending = false;
	d = cti_deadline(u);
	if (d != EMUL_NEVER && t >= d)
		u->cti_pending = true;
}

/* The highest-priority enabled pending interrupt (§8.6, Table IV), or V16550_IIR_NONE. */
static uint8_t iir_id(const struct v16550 *u)
{
	uint8_t lvl = fifo_level(u);

	if ((u->ier & V16550_IER_ELSI) && u->lsr_err)
		return V16550_IIR_RLS;
	if (u->ier & V16550_IER_ERBFI) {
		if (fifo_on(u) && u->cti_pending)
			return V16550_IIR_CTI;
		if (fifo_on(u) ? lvl >= trigger(u) : lvl > 0)
			return V16550_IIR_RDA;
	}
	if ((u->ier & V16550_IER_ETBEI) && u->thre_pending)
		return V16550_IIR_THRE;
	if ((u->ier & V16550_IER_EDSSI) && (u->msr & V16550_MSR_DELTAS))
		return V16550_IIR_MSI;
	return V16550_IIR_NONE;
}

/* INTR follows any pending interrupt; on a PC it reaches the IRQ line only through OUT2. */
static void update_irq(struct v16550 *u)
{
	bool level = iir_id(u) != V16550_IIR_NONE && (u->mcr & V16550_MCR_OUT2);

	if (level == u->line)
		return;
	u->line = level;
	if (u->env && u->env->set_irq)
		u->env->set_irq(u->env->ctx, u->irq, level);
}

/* The modem inputs as MSR bits 7:4: a connected line, or MCR's outputs in loopback (§8.8). */
static uint8_t msr_inputs(uint8_t mcr)
{
	uint8_t m = 0;

	if (!(mcr & V16550_MCR_LOOP))
		return V16550_MSR_CTS | V16550_MSR_DSR | V16550_MSR_DCD;
	if (mcr & V16550_MCR_RTS)
		m |= V16550_MSR_CTS;
	if (mcr & V16550_MCR_DTR)
		m |= V16550_MSR_DSR;
	if (mcr & V16550_MCR_OUT1)
		m |= V16550_MSR_RI;
	if (mcr & V16550_MCR_OUT2)
		m |= V16550_MSR_DCD;
	return m;
}

/* New inputs into MSR: DCTS, DDSR, DDCD on any change, TERI when RI goes off (§8.9). */
static void msr_track(struct v16550 *u)
{
	uint8_t in = msr_inputs(u->mcr), old = u->msr & 0xf0u;
	uint8_t changed = in ^ old, d = 0;

	if (changed & V16550_MSR_CTS)
		d |= V16550_MSR_DCTS;
	if (changed & V16550_MSR_DSR)
		d |= V16550_MSR_DDSR;
	if (changed & V16550_MSR_DCD)
		d |= V16550_MSR_DDCD;
	if ((old & V16550_MSR_RI) && !(in & V16550_MSR_RI))
		d |= V16550_MSR_TERI;
	u->msr = in | (u->msr & V16550_MSR_DELTAS) | d;
}

/*
 * A THR byte in loopback enters the receiver. A full receiver overruns
 * (§8.4 LSR1): in FIFO mode the new byte is lost, in 16450 mode it
 * overwrites RBR.
 */
static void loop_receive(struct v16550 *u, uint8_t b)
{
	uint8_t cap = fifo_on(u) ? V16550_FIFO : 1;

	if (u->lb_count >= cap) {
		u->lsr_err |= V16550_LSR_OE;
		if (!fifo_on(u))
			u->lb[(u->lb_head + u->lb_count - 1) % V16550_FIFO] = b;
		return;
	}
	u->lb[(u->lb_head + u->lb_count) % V16550_FIFO] = b;
	u->lb_count++;
}

/* Empty the receiver (at most cap bytes are in the chip) and reset its timer logic (§8.5). */
static void rx_clear(struct v16550 *u, uint8_t cap, uint64_t t)
{
	uint8_t n = fifo_level(u);

	if (n > cap)
		n = cap;
	while (n-- && rx_take(u) >= 0)
		;
	u->cti_pending = false;
	u->rx_seen = 0; /* bytes behind the cleared ones come in now */
	rx_refresh(u, t);
}

static void write_fcr(struct v16550 *u, uint8_t val, uint64_t t)
{
	bool was_on = fifo_on(u);

	/* Changing FCR0 clears both FIFOs; the next THRE interrupt is immediate (§8.5, §8.11). */
	if (was_on != (bool)(val & V16550_FCR_ENABLE)) {
		rx_clear(u, was_on ? V16550_FIFO : 1, t);
		u->thre_pending = true;
	}
	if (!(val & V16550_FCR_ENABLE)) {
		/* "FCR0 must be a 1 when other FCR bits are written or they will not be programmed" */
		u->fcr &= (uint8_t)~V16550_FCR_ENABLE;
		return;
	}
	u->fcr = val & V16550_FCR_KEPT;
	if (val & V16550_FCR_CLR_RX)
		rx_clear(u, V16550_FIFO, t);
	/* FCR2 clears the XMIT FIFO, which is always empty here. */
}

static void write_thr(struct v16550 *u, uint8_t val, uint64_t t)
{
	/* Writing THR clears the THRE interrupt (§8.6 Table IV) ... */
	u->thre_pending = false;
	update_irq(u);
	if (loop_on(u))
		loop_receive(u, val);
	else if (u->be.tx)
		u->be.tx(u->be.ctx, val);
	/* ... and the byte is gone at once: THR is empty again. */
	u->thre_pending = true;
	rx_refresh(u, t);
}

static void write_reg(struct v16550 *u, unsigned int reg, uint8_t val, uint64_t t)
{
	bool dlab = u->lcr & V16550_LCR_DLAB;
	uint8_t old;

	switch (reg) {
	case V16550_RBR:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val, t);
		break;
	case V16550_IER:
		if (dlab) {
			u->dlm = val;
			break;
		}
		old = u->ier;
		u->ier = val & V16550_IER_MASK;
		/* Enabling ETBEI with THR empty raises THRE (the interrupt Linux's THRE test expects). */
		if (!(old & V16550_IER_ETBEI) && (u->ier & V16550_IER_ETBEI))
			u->thre_pending = true;
		break;
	case V16550_IIR: write_fcr(u, val, t); break;
	case V16550_LCR: u->lcr = val; break;
	case V16550_MCR:
		u->mcr = val & V16550_MCR_MASK;
		msr_track(u);
		rx_refresh(u, t); /* LOOP connects or disconnects the backend */
		break;
	case V16550_SCR: u->scr = val; break;
	default: break; /* LSR and MSR: factory test writes (§8.4), ignored */
	}
}

static uint8_t read_rbr(struct v16550 *u, uint64_t t)
{
	int b = rx_take(u);

	if (b >= 0)
		u->rbr = (uint8_t)b;
	/* A read clears the timeout indication and restarts its timer (§8.11). */
	u->cti_pending = false;
	u->rx_last_ns = t;
	u->rx_seen = fifo_level(u);
	return u->rbr;
}

static uint8_t read_iir(struct v16550 *u)
{
	uint8_t id = iir_id(u);

	/* Reading IIR clears THRE when it is the interrupt reported (§8.6 Table IV). */
	if (id == V16550_IIR_THRE)
		u->thre_pending = false;
	return id | (fifo_on(u) ? V16550_IIR_FIFO : 0);
}

static uint8_t read_lsr(struct v16550 *u)
{
	uint8_t v = u->lsr_err;

	if (loop_on(u) || !u->be.tx_room || u->be.tx_room(u->be.ctx) >= V16550_FIFO)
		v |= V16550_LSR_THRE | V16550_LSR_TEMT;

	if (fifo_level(u))
		v |= V16550_LSR_DR;
	u->lsr_err = 0; /* bits 1-4 reset on read, and with them the line status interrupt */
	return v;
}

static uint8_t read_reg(struct v16550 *u, unsigned int reg, uint64_t t)
{
	bool dlab = u->lcr & V16550_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case V16550_RBR: return dlab ? u->dll : read_rbr(u, t);
	case V16550_IER: return dlab ? u->dlm : u->ier;
	case V16550_IIR: return read_iir(u);
	case V16550_LCR: return u->lcr;
	case V16550_MCR: return u->mcr;
	case V16550_LSR: return read_lsr(u);
	case V16550_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~V16550_MSR_DELTAS;
		return v;
	default: return u->scr;
	}
}

static uint64_t v16550_read(void *dev, uint64_t addr, unsigned int size)
{
	struct v16550 *u = dev;
	uint64_t t = now(u), val = 0;
	unsigned int i;

	for (i = 0; i < size && i < 8; i++) {
		uint64_t port = addr + i;
		uint64_t b = 0xff; /* nothing drives the bus there */

		if (port >= u->base && port < u->base + V16550_PORTS) {
			rx_refresh(u, t);
			b = read_reg(u, (unsigned int)(port - u->base), t);
			update_irq(u);
		}
		val |= b << (8 * i);
	}
	return val;
}

static void v16550_write(void *dev, uint64_t addr, unsigned int size, uint64_t val)
{
	struct v16550 *u = dev;
	uint64_t t = now(u);
	unsigned int i;

	for (i = 0; i < size && i < 8; i++) {
		uint64_t port = addr + i;

		if (port < u->base || port >= u->base + V16550_PORTS)
			continue;
		rx_refresh(u, t);
		write_reg(u, (unsigned int)(port - u->base), (uint8_t)(val >> (8 * i)), t);
		update_irq(u);
	}
}

/* The Master Reset states (MR pin description), plus a divisor and SCR, which MR leaves alone. */
static void v16550_reset(void *dev)
{
	struct v16550 *u = dev;

	u->dll = 1; /* 115200 baud; the datasheet leaves the divisor undefined */
	u->dlm = u->ier = u->lcr = u->mcr = u->scr = u->fcr = 0;
	u->lsr_err = 0;
	u->msr = msr_inputs(0); /* a connected line, no deltas */
	u->rbr = 0;
	u->thre_pending = u->cti_pending = false;
	u->lb_head = u->lb_count = 0;
	u->rx_seen = 0;
	rx_refresh(u, now(u));
	update_irq(u);
}

void v16550_init(struct v16550 *u, const struct emul_env *env, unsigned int irq, uint16_t base,
		 const struct v16550_backend *be)
{
	memset(u, 0, sizeof(*u));
	u->env = env;
	if (be)
		u->be = *be;
	u->irq = irq;
	u->base = base;
	v16550_reset(u);
}

void v16550_rx_notify(struct v16550 *u)
{
	rx_refresh(u, now(u));
	update_irq(u);
}

static uint64_t v16550_poll(void *dev, uint64_t now_ns)
{
	struct v16550 *u = dev;

	rx_refresh(u, now_ns);
	update_irq(u);
	return cti_deadline(u);
}


static int v16550_save(const void *dev, void *buf, size_t cap)
{
	const struct v16550 *u = dev;
	struct v16550_record r = {
		.hdr = { V16550_MAGIC, 1, sizeof(r) },
		.dll = u->dll, .dlm = u->dlm, .ier = u->ier, .lcr = u->lcr, .mcr = u->mcr,
		.scr = u->scr, .fcr = u->fcr, .lsr_err = u->lsr_err, .msr = u->msr, .rbr = u->rbr,
		.flags = (u->thre_pending ? V16550_REC_THRE : 0) | (u->cti_pending ? V16550_REC_CTI : 0),
		.rx_seen = u->rx_seen, .lb_head = u->lb_head, .lb_count = u->lb_count,
		.rx_last_ns = u->rx_last_ns,
	};

	if (cap < sizeof(r))
		return -ENOSPC;
	memcpy(r.lb, u->lb, sizeof(r.lb));
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

/* Every value the model could have produced itself, nothing else. */
static bool record_ok(const struct v16550_record *r)
{
	if (r->hdr.magic != V16550_MAGIC || r->hdr.version != 1 || r->hdr.size != sizeof(*r))
		return false;
	if ((r->ier & ~V16550_IER_MASK) || (r->mcr & ~V16550_MCR_MASK) ||
	    (r->fcr & ~V16550_FCR_KEPT) || (r->lsr_err & ~V16550_LSR_ERRORS) ||
	    (r->flags & ~(V16550_REC_THRE | V16550_REC_CTI)) || r->reserved[0] || r->reserved[1])
		return false;
	if ((r->msr & 0xf0u) != msr_inputs(r->mcr))
		return false;
	if (r->rx_seen > V16550_FIFO || r->lb_head >= V16550_FIFO || r->lb_count > V16550_FIFO)
		return false;
	return (r->fcr & V16550_FCR_ENABLE) || (r->lb_count <= 1 && !(r->flags & V16550_REC_CTI));
}

static int v16550_restore(void *dev, const void *buf, size_t len)
{
	struct v16550 *u = dev;
	struct v16550_record r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (!record_ok(&r))
		return -EINVAL;
	u->dll = r.dll;
	u->dlm = r.dlm;
	u->ier = r.ier;
	u->lcr = r.lcr;
	u->mcr = r.mcr;
	u->scr = r.scr;
	u->fcr = r.fcr;
	u->lsr_err = r.lsr_err;
	u->msr = r.msr;
	u->rbr = r.rbr;
	u->thre_pending = r.flags & V16550_REC_THRE;
	u->cti_pending = r.flags & V16550_REC_CTI;
	u->rx_seen = r.rx_seen;
	u->lb_head = r.lb_head;
	u->lb_count = r.lb_count;
	u->rx_last_ns = r.rx_last_ns;
	memcpy(u->lb, r.lb, sizeof(u->lb));
	update_irq(u);
	return 0;
}

const struct dev_ops v16550_ops = {
	.name = "16550", .read = v16550_read, .write = v16550_write, .reset = v16550_reset,
	.poll = v16550_poll, .save = v16550_save, .restore = v16550_restore,
};
