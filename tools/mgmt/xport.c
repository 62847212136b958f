/* SPDX-License-Identifier: MIT */
/* The migration transport (xport.h, docs/transport.md): pure logic, no I/O. */
#include "tools/mgmt/xport.h"

#include "kernel/string.h"
#include "tools/mgmt/crc32.h"

#define SEG_SACKED 1u
#define SEG_LOST   2u /* due for retransmission */
#define SEG_FIN    4u
#define SEG_RING   (XPORT_WND_PKTS + 1u)

#define INIT_CWND  10u /* packets (RFC 6928) */
#define DUPTHRESH  3u  /* SACKed packets sent after a hole that make it a loss */
#define RTT_MAX_US 60000000u

/* Header offsets (docs/transport.md, "Wire format"); all fields big-endian. */
#define OFF_MAGIC   0u
#define OFF_VERSION 2u
#define OFF_TYPE    3u
#define OFF_CONN    4u
#define OFF_SEQ     8u
#define OFF_ACK     12u
#define OFF_WND     16u
#define OFF_LEN     20u
#define OFF_NSACK   22u
#define OFF_RSVD    23u
#define OFF_SACK    24u
#define OFF_CRC     56u
_Static_assert(OFF_SACK + XPORT_SACK_MAX * 8u == OFF_CRC, "SACK blocks end at the CRC");
_Static_assert(OFF_CRC + 4u == XPORT_HDR_LEN, "the CRC ends the header");

struct hdr {
	uint8_t type, nsack;
	uint16_t len;
	uint32_t conn, seq, ack, wnd;
	struct xport_range sack[XPORT_SACK_MAX];
	const uint8_t *data;
};

/* RFC 1982 serial-number arithmetic on 32-bit sequence numbers. */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}
static bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static bool seq_le(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
static uint32_t seq_max(uint32_t a, uint32_t b) { return seq_lt(a, b) ? b : a; }
static uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* Copy n bytes into / out of a ring buffer of size bytes from index pos. */
static void ring_put(uint8_t *ring, uint32_t size, uint32_t pos, const uint8_t *src, uint32_t n)
{
	uint32_t first = n < size - pos ? n : size - pos;

	memcpy(ring + pos, src, first);
	memcpy(ring, src + first, n - first);
}
static void ring_get(uint8_t *dst, const uint8_t *ring, uint32_t size, uint32_t pos, uint32_t n)
{
	uint32_t first = n < size - pos ? n : size - pos;

	memcpy(dst, ring + pos, first);
	memcpy(dst + first, ring, n - first);
}

static struct xport_seg *seg_at(struct xport *x, uint32_t i)
{
	return &x->segs[(x->seg_head + i) % SEG_RING];
}
static const struct xport_seg *cseg_at(const struct xport *x, uint32_t i)
{
	return &x->segs[(x->seg_head + i) % SEG_RING];
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

void xport_conf_default(struct xport_conf *c)
{
	c->isn = 0;
	c->rto_init_us = 200000;
	c->rto_min_us = 10000;
	c->rto_max_us = 1000000;
	c->ack_delay_us = 200;
	c->dead_us = 3000000;
}

void xport_init(struct xport *x, const struct xport_conf *conf, uint32_t conn_id, uint64_t now_us)
{
	memset(x, 0, sizeof(*x) - sizeof(x->snd_buf) - sizeof(x->rcv_buf));
	x->conf = *conf;
	if (x->conf.rto_min_us == 0)
		x->conf.rto_min_us = 1;
	if (x->conf.rto_max_us < x->conf.rto_min_us)
		x->conf.rto_max_us = x->conf.rto_min_us;
	if (x->conf.dead_us < 4)
		x->conf.dead_us = 4;
	x->rto_us = x->conf.rto_init_us;
	if (x->rto_us < x->conf.rto_min_us || x->rto_us > x->conf.rto_max_us)
		x->rto_us = x->conf.rto_max_us;
	x->conn_id = conn_id;
	x->snd_una = x->snd_nxt = x->snd_end = conf->isn;
	x->peer_edge = conf->isn;
	x->cwnd = INIT_CWND;
	x->ssthresh = XPORT_WND_PKTS;
	x->last_rx_us = x->last_tx_us = now_us;
}

void xport_connect(struct xport *x, uint64_t now_us)
{
	if (x->state != XPORT_CLOSED || x->conn_id == 0)
		return;
	x->state = XPORT_SYN_SENT;
	x->last_rx_us = now_us;
}

void xport_listen(struct xport *x)
{
	if (x->state == XPORT_CLOSED) {
		x->state = XPORT_LISTEN;
		x->passive = true;
	}
}

static void die(struct xport *x, enum xport_dead why)
{
	x->state = XPORT_DEAD;
	x->dead_reason = why;
	x->rto_deadline = 0;
	x->ack_deadline = 0;
	x->ack_now = false;
}

void xport_abort(struct xport *x)
{
	bool peer = x->state >= XPORT_SYN_SENT && x->state <= XPORT_ESTABLISHED;

	if (x->state == XPORT_DEAD)
		return;
	die(x, XPORT_DEAD_ABORT);
	x->rst_pending = peer;
}

void xport_close(struct xport *x)
{
	if (x->state == XPORT_CLOSED || x->state == XPORT_LISTEN)
		x->state = XPORT_CLOSED;
	else if (x->state < XPORT_FINISHED)
		x->close_req = true;
}

/* ---- receiver ---------------------------------------------------------- */

static uint32_t rcv_data_end(const struct xport *x)
{
	return x->fin_rcvd ? x->peer_fin_seq : x->rcv_nxt;
}

static uint32_t rcv_wnd(const struct xport *x)
{
	return XPORT_RCVBUF - (rcv_data_end(x) - x->rcv_read);
}

bool xport_eof(const struct xport *x)
{
	return x->fin_rcvd && x->rcv_read == x->peer_fin_seq;
}

size_t xport_read(struct xport *x, void *buf, size_t len)
{
	uint32_t n = rcv_data_end(x) - x->rcv_read;

	if (len < n)
		n = (uint32_t)len;
	ring_get(buf, x->rcv_buf, XPORT_RCVBUF, x->rcv_off, n);
	x->rcv_read += n;
	x->rcv_off = (x->rcv_off + n) % XPORT_RCVBUF;
	x->stats.bytes_read += n;
	/* A window that opened by a quarter is worth an ACK of its own. */
	if (n && rcv_wnd(x) - x->last_adv_wnd >= XPORT_RCVBUF / 4 && x->state == XPORT_ESTABLISHED)
		x->ack_now = true;
	return n;
}

static void rcv_store(struct xport *x, uint32_t seq, const uint8_t *p, uint32_t n)
{
	ring_put(x->rcv_buf, XPORT_RCVBUF, (x->rcv_off + (seq - x->rcv_read)) % XPORT_RCVBUF, p, n);
}

/* Records [s, e) as received out of order; false if no range is free. */
static bool ooo_insert(struct xport *x, uint32_t s, uint32_t e)
{
	struct xport_range *r = x->ooo;
	uint32_t i = 0;

	while (i < x->ooo_count && seq_lt(r[i].end, s))
		i++;
	if (i < x->ooo_count && seq_le(r[i].start, e)) {
		r[i].start = seq_min(r[i].start, s);
		r[i].end = seq_max(r[i].end, e);
		while (i + 1 < x->ooo_count && seq_le(r[i + 1].start, r[i].end)) {
			r[i].end = seq_max(r[i].end, r[i + 1].end);
			memmove(&r[i + 1], &r[i + 2], (x->ooo_count - i - 2) * sizeof(*r));
			x->ooo_count--;
		}
		return true;
	}
	if (x->ooo_count == XPORT_OOO_MAX)
		return false;
	memmove(&r[i + 1], &r[i], (x->ooo_count - i) * sizeof(*r));
	r[i].start = s;
	r[i].end = e;
	x->ooo_count++;
	return true;
}

static bool ooo_covers(const struct xport *x, uint32_t s, uint32_t e)
{
	for (uint32_t i = 0; i < x->ooo_count; i++)
		if (seq_le(x->ooo[i].start, s) && seq_le(e, x->ooo[i].end))
			return true;
	return false;
}

/* rcv_nxt moved: absorb the ranges it reached, and the FIN if it is next. */
static void rcv_advance(struct xport *x)
{
	while (x->ooo_count && seq_le(x->ooo[0].start, x->rcv_nxt)) {
		x->rcv_nxt = seq_max(x->rcv_nxt, x->ooo[0].end);
		memmove(&x->ooo[0], &x->ooo[1], (x->ooo_count - 1) * sizeof(x->ooo[0]));
		x->ooo_count--;
		x->ack_now = true; /* a hole was filled: tell the sender at once */
	}
	if (x->peer_fin_seen && !x->fin_rcvd && x->rcv_nxt == x->peer_fin_seq) {
		x->rcv_nxt++;
		x->fin_rcvd = true;
		x->ack_now = true;
	}
}

static void drop(struct xport *x, enum xport_drop why)
{
	x->stats.drops[why]++;
}

static void rx_data(struct xport *x, const struct hdr *h, uint64_t now)
{
	uint32_t seq = h->seq, n = h->len;
	const uint8_t *p = h->data;

	if (seq_lt(seq, x->rcv_nxt)) {
		uint32_t behind = x->rcv_nxt - seq;

		if (behind >= n) {
			x->stats.dup_rx++;
			x->ack_now = true;
			return;
		}
		seq += behind;
		p += behind;
		n -= behind;
	}
	if ((uint64_t)(seq - x->rcv_read) + n > XPORT_RCVBUF ||
	    (x->peer_fin_seen && seq_lt(x->peer_fin_seq, seq + n))) {
		drop(x, XPORT_DROP_WINDOW);
		x->ack_now = true;
		return;
	}
	if (seq != x->rcv_nxt) {
		if (ooo_covers(x, seq, seq + n)) {
			x->stats.dup_rx++;
		} else if (ooo_insert(x, seq, seq + n)) {
			rcv_store(x, seq, p, n);
			x->ooo_recent = seq;
		} else {
			drop(x, XPORT_DROP_WINDOW);
		}
		x->ack_now = true; /* out of order: a duplicate ACK with SACK (RFC 5681 4.2) */
		return;
	}
	rcv_store(x, seq, p, n);
	x->rcv_nxt += n;
	rcv_advance(x);
	/* Every second packet is acknowledged at once, a lone one after ack_delay_us. */
	if (++x->rcv_unacked >= 2)
		x->ack_now = true;
	else if (!x->ack_deadline)
		x->ack_deadline = now + x->conf.ack_delay_us;
}

static void rx_fin(struct xport *x, const struct hdr *h)
{
	x->ack_now = true;
	if (x->peer_fin_seen) {
		if (h->seq != x->peer_fin_seq)
			drop(x, XPORT_DROP_STATE);
		return;
	}
	/* The FIN ends the stream: nothing may have arrived beyond it. */
	if (seq_lt(h->seq, x->rcv_nxt) || h->seq - x->rcv_read > XPORT_RCVBUF ||
	    (x->ooo_count && seq_lt(h->seq, x->ooo[x->ooo_count - 1].end))) {
		drop(x, XPORT_DROP_STATE);
		return;
	}
	x->peer_fin_seen = true;
	x->peer_fin_seq = h->seq;
	rcv_advance(x);
}

/* ---- sender ------------------------------------------------------------ */

static void rtt_sample(struct xport *x, uint64_t r64)
{
	uint32_t r = r64 > RTT_MAX_US ? RTT_MAX_US : (uint32_t)r64;
	uint64_t rto;

	/* RFC 6298 2.2 and 2.3, alpha 1/8, beta 1/4, G one microsecond. */
	if (!x->have_rtt) {
		x->srtt_us = r;
		x->rttvar_us = r / 2;
		x->have_rtt = true;
	} else {
		uint32_t delta = x->srtt_us > r ? x->srtt_us - r : r - x->srtt_us;

		x->rttvar_us = (3 * x->rttvar_us + delta) / 4;
		x->srtt_us = (7 * x->srtt_us + r) / 8;
	}
	rto = (uint64_t)x->srtt_us + (x->rttvar_us ? 4ull * x->rttvar_us : 1);
	if (rto < x->conf.rto_min_us)
		rto = x->conf.rto_min_us;
	x->rto_us = (uint32_t)min64(rto, x->conf.rto_max_us);
}

static void seg_pop(struct xport *x)
{
	struct xport_seg *s = seg_at(x, 0);

	if (s->flags & SEG_FIN) {
		x->fin_acked = true;
		x->snd_una = s->seq + 1;
	} else {
		x->snd_off = (x->snd_off + s->len) % XPORT_SNDBUF;
		x->snd_una = s->seq + s->len;
		x->stats.bytes_acked += s->len;
	}
	x->seg_head = (x->seg_head + 1) % SEG_RING;
	x->seg_count--;
}

static uint32_t seg_end(const struct xport_seg *s)
{
	return s->seq + s->len + (s->flags & SEG_FIN ? 1u : 0u);
}

/*
 * The RTT sample an ACK gives: from the newest packet it newly covers, sent
 * once (Karn's rule). A cumulative ACK that also covers a retransmission
 * filled a hole, and everything behind that hole waited for the repair:
 * such an ACK gives no sample at all (Karn and Partridge's original rule).
 */
struct rtt_cand {
	uint64_t order, sent_us;
	bool ambiguous;
};

static void rtt_consider(struct rtt_cand *c, const struct xport_seg *s)
{
	if (s->xmits > 1)
		c->ambiguous = true;
	else if (s->order > c->order) {
		c->order = s->order;
		c->sent_us = s->sent_us;
	}
}

static void sack_mark(struct xport *x, const struct hdr *h, struct rtt_cand *c)
{
	for (uint32_t b = 0; b < h->nsack; b++) {
		const struct xport_range *r = &h->sack[b];

		if (!seq_lt(r->start, r->end) || seq_lt(r->start, x->snd_una) || seq_lt(x->snd_nxt, r->end))
			continue; /* impossible: ignored */
		for (uint32_t i = 0; i < x->seg_count; i++) {
			struct xport_seg *s = seg_at(x, i);

			if (!(s->flags & SEG_SACKED) && seq_le(r->start, s->seq) &&
			    seq_le(seg_end(s), r->end)) {
				if (s->xmits == 1)
					rtt_consider(c, s);
				s->flags = (uint8_t)((s->flags | SEG_SACKED) & ~SEG_LOST);
			}
		}
	}
}

/*
 * A packet is lost once DUPTHRESH packets sent after it have been SACKed
 * (RFC 6675's DupThresh, counted in transmission order as RACK does, so a
 * retransmission is not declared lost again by the SACKs that caused it).
 */
static bool sack_detect_loss(struct xport *x)
{
	uint64_t top[DUPTHRESH] = { 0 };
	uint32_t nsacked = 0;
	bool lost = false;

	for (uint32_t i = 0; i < x->seg_count; i++) {
		const struct xport_seg *s = seg_at(x, i);
		uint64_t o = s->order;

		if (!(s->flags & SEG_SACKED))
			continue;
		nsacked++;
		for (uint32_t k = 0; k < DUPTHRESH; k++) {
			if (o > top[k]) {
				uint64_t t = top[k];

				top[k] = o;
				o = t;
			}
		}
	}
	if (nsacked < DUPTHRESH)
		return false;
	for (uint32_t i = 0; i < x->seg_count; i++) {
		struct xport_seg *s = seg_at(x, i);

		if (!(s->flags & (SEG_SACKED | SEG_LOST)) && s->order < top[DUPTHRESH - 1]) {
			s->flags |= SEG_LOST;
			lost = true;
		}
	}
	return lost;
}

static uint32_t pipe_pkts(const struct xport *x)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < x->seg_count; i++)
		n += !(cseg_at(x, i)->flags & (SEG_SACKED | SEG_LOST));
	return n;
}

/* Loss: halve the in-flight limit, once per window of data (RFC 5681, 6582). */
static void congestion(struct xport *x, uint32_t cwnd)
{
	uint32_t half = x->cwnd / 2;

	x->ssthresh = half > 2 ? half : 2;
	x->cwnd = cwnd ? cwnd : x->ssthresh;
	x->cwnd_acc = 0;
	x->in_recovery = true;
	x->recover = x->snd_nxt;
}

/* The cumulative ACK, window and SACK blocks that every packet carries. */
static bool rx_ack(struct xport *x, const struct hdr *h, uint64_t now)
{
	uint32_t acked = 0;
	struct rtt_cand c = { 0, 0, false };

	if (seq_lt(x->snd_nxt, h->ack)) {
		drop(x, XPORT_DROP_STATE); /* acknowledges what was never sent */
		return false;
	}
	if (seq_lt(h->ack, x->snd_una))
		return true; /* an old ACK overtaken by newer ones */
	x->peer_edge = seq_max(x->peer_edge, h->ack + h->wnd);
	while (x->seg_count && seq_le(seg_end(seg_at(x, 0)), h->ack)) {
		const struct xport_seg *s = seg_at(x, 0);

		if (!(s->flags & SEG_SACKED))
			rtt_consider(&c, s);
		seg_pop(x);
		acked++;
	}
	if (c.ambiguous)
		c.order = 0;
	sack_mark(x, h, &c);
	if (c.order)
		rtt_sample(x, now - c.sent_us);
	if (x->in_recovery && seq_le(x->recover, x->snd_una))
		x->in_recovery = false;
	if (sack_detect_loss(x) && !x->in_recovery) {
		x->stats.fast_rexmits++;
		congestion(x, 0);
	}
	if (acked) {
		/* Slow start below ssthresh, then one packet per window (RFC 5681 3.1). */
		if (!x->in_recovery && x->cwnd < x->ssthresh) {
			x->cwnd += acked;
		} else if (!x->in_recovery) {
			x->cwnd_acc += acked;
			while (x->cwnd_acc >= x->cwnd) {
				x->cwnd_acc -= x->cwnd;
				x->cwnd++;
			}
		}
		if (x->cwnd > XPORT_WND_PKTS)
			x->cwnd = XPORT_WND_PKTS;
		x->rto_deadline = x->seg_count ? now + x->rto_us : 0; /* RFC 6298 5.3 */
	}
	return true;
}

static void on_timeout(struct xport *x)
{
	x->stats.timeouts++;
	x->rto_deadline = 0; /* re-armed by the retransmission */
	x->rto_us = (uint32_t)min64(2ull * x->rto_us, x->conf.rto_max_us); /* RFC 6298 5.5 */
	if (x->state != XPORT_ESTABLISHED) {
		x->hs_resend = true;
		return;
	}
	congestion(x, 1);
	for (uint32_t i = 0; i < x->seg_count; i++)
		if (!(seg_at(x, i)->flags & SEG_SACKED))
			seg_at(x, i)->flags |= SEG_LOST;
}

size_t xport_write(struct xport *x, const void *buf, size_t len)
{
	uint32_t room = XPORT_SNDBUF - (x->snd_end - x->snd_una);

	if (x->state < XPORT_SYN_SENT || x->state > XPORT_ESTABLISHED || x->close_req)
		return 0;
	if (len < room)
		room = (uint32_t)len;
	ring_put(x->snd_buf, XPORT_SNDBUF, (x->snd_off + (x->snd_end - x->snd_una)) % XPORT_SNDBUF,
		 buf, room);
	x->snd_end += room;
	return room;
}

uint32_t xport_unacked(const struct xport *x)
{
	return x->snd_end - x->snd_una;
}

/* ---- packets out ------------------------------------------------------- */

static size_t build(struct xport *x, uint8_t type, uint32_t seq, const struct xport_seg *s)
{
	uint8_t *p = x->pkt;
	uint32_t len = s ? s->len : 0, nsack = 0;
	bool acks = type != XPORT_SYN;

	memset(p, 0, XPORT_HDR_LEN);
	put16(p + OFF_MAGIC, XPORT_MAGIC);
	p[OFF_VERSION] = XPORT_VERSION;
	p[OFF_TYPE] = type;
	put32(p + OFF_CONN, x->conn_id);
	put32(p + OFF_SEQ, seq);
	put32(p + OFF_ACK, acks ? x->rcv_nxt : 0);
	put32(p + OFF_WND, rcv_wnd(x));
	put16(p + OFF_LEN, (uint16_t)len);
	/* The range holding the newest arrival first, then the lowest (RFC 2018 4). */
	for (uint32_t i = 0; acks && i < x->ooo_count; i++) {
		const struct xport_range *r = &x->ooo[i];

		if (seq_le(r->start, x->ooo_recent) && seq_lt(x->ooo_recent, r->end)) {
			put32(p + OFF_SACK, r->start);
			put32(p + OFF_SACK + 4, r->end);
			nsack = 1;
		}
	}
	for (uint32_t i = 0; acks && i < x->ooo_count && nsack < XPORT_SACK_MAX; i++) {
		const struct xport_range *r = &x->ooo[i];

		if (nsack && get32(p + OFF_SACK) == r->start)
			continue;
		put32(p + OFF_SACK + 8 * nsack, r->start);
		put32(p + OFF_SACK + 8 * nsack + 4, r->end);
		nsack++;
	}
	p[OFF_NSACK] = (uint8_t)nsack;
	if (len)
		ring_get(p + XPORT_HDR_LEN, x->snd_buf, XPORT_SNDBUF,
			 (x->snd_off + (s->seq - x->snd_una)) % XPORT_SNDBUF, len);
	put32(p + OFF_CRC, crc32(crc32(0, p, OFF_CRC), p + XPORT_HDR_LEN, len));
	return XPORT_HDR_LEN + len;
}

static bool emit(struct xport *x, size_t len, uint64_t now, xport_send_fn *send, void *ctx)
{
	if (!send(ctx, x->pkt, len))
		return false;
	x->stats.tx_pkts++;
	x->last_tx_us = now;
	if (x->pkt[OFF_TYPE] != XPORT_SYN) {
		x->ack_now = false;
		x->ack_deadline = 0;
		x->rcv_unacked = 0;
		x->last_adv_wnd = rcv_wnd(x);
	}
	return true;
}

/* Sends segment s (a copy for a new one); false if send refused it. */
static bool send_seg(struct xport *x, struct xport_seg *s, uint64_t now, xport_send_fn *send, void *ctx)
{
	size_t n = build(x, s->flags & SEG_FIN ? XPORT_FIN : XPORT_DATA, s->seq, s);

	if (!emit(x, n, now, send, ctx))
		return false;
	if (s->xmits)
		x->stats.rexmits++;
	if (s->xmits < UINT8_MAX)
		s->xmits++;
	if (s->len)
		x->stats.tx_data_pkts++;
	s->sent_us = now;
	s->order = ++x->tx_order;
	s->flags &= (uint8_t)~SEG_LOST;
	if (!x->rto_deadline)
		x->rto_deadline = now + x->rto_us;
	return true;
}

/* The next new segment, if the windows allow it and Nagle does not hold it back. */
static bool next_new(const struct xport *x, uint32_t pipe, struct xport_seg *s)
{
	uint32_t unsent = x->snd_end - x->snd_nxt;

	memset(s, 0, sizeof(*s));
	s->seq = x->snd_nxt;
	if (x->fin_sent || x->seg_count >= XPORT_WND_PKTS)
		return false;
	if (!unsent) {
		s->flags = SEG_FIN;
		return x->close_req;
	}
	s->len = (uint16_t)(unsent < XPORT_MSS ? unsent : XPORT_MSS);
	if (pipe >= x->cwnd || seq_lt(x->peer_edge, s->seq + s->len))
		return false;
	/* Nagle (RFC 896): a short packet only when nothing else is in flight. */
	return s->len == XPORT_MSS || x->close_req || x->seg_count == 0;
}

static bool lost_due(const struct xport *x, uint32_t pipe)
{
	for (uint32_t i = 0; i < x->seg_count; i++)
		if (cseg_at(x, i)->flags & SEG_LOST)
			return pipe < x->cwnd;
	return false;
}

static void output_data(struct xport *x, uint64_t now, xport_send_fn *send, void *ctx)
{
	uint32_t pipe = pipe_pkts(x);
	struct xport_seg s;

	for (uint32_t i = 0; i < x->seg_count && pipe < x->cwnd; i++) {
		struct xport_seg *l = seg_at(x, i);

		if (!(l->flags & SEG_LOST))
			continue;
		if (!send_seg(x, l, now, send, ctx))
			return;
		pipe++;
	}
	while (next_new(x, pipe, &s)) {
		if (!send_seg(x, &s, now, send, ctx))
			return;
		*seg_at(x, x->seg_count++) = s;
		x->snd_nxt = seg_end(&s);
		x->fin_sent = s.flags & SEG_FIN;
		pipe++;
	}
	if (x->ack_now || (x->ack_deadline && now >= x->ack_deadline)) {
		if (!emit(x, build(x, XPORT_ACK, x->snd_nxt, NULL), now, send, ctx))
			return;
	}
	if (now - x->last_tx_us >= x->conf.dead_us / 4 &&
	    emit(x, build(x, XPORT_KEEPALIVE, x->snd_nxt, NULL), now, send, ctx))
		x->stats.keepalives++;
}

static void output_handshake(struct xport *x, uint64_t now, xport_send_fn *send, void *ctx)
{
	size_t n;

	if (x->hs_xmits && !x->hs_resend)
		return;
	n = build(x, x->passive ? XPORT_SYN_ACK : XPORT_SYN, x->conf.isn, NULL);
	if (!emit(x, n, now, send, ctx))
		return;
	if (x->hs_xmits)
		x->stats.rexmits++;
	if (x->hs_xmits < UINT8_MAX)
		x->hs_xmits++;
	x->hs_sent_us = now;
	x->hs_resend = false;
	x->rto_deadline = now + x->rto_us;
}

static bool live(const struct xport *x)
{
	return x->state >= XPORT_SYN_SENT && x->state <= XPORT_ESTABLISHED;
}

static void check_timers(struct xport *x, uint64_t now)
{
	if (live(x) && now - x->last_rx_us >= x->conf.dead_us) {
		die(x, XPORT_DEAD_TIMEOUT);
		/* If only the way back is broken, the peer learns it at once. */
		x->rst_pending = true;
	}
	else if (x->state == XPORT_FINISHED && now >= x->linger_until)
		x->state = XPORT_CLOSED;
	else if (live(x) && x->rto_deadline && now >= x->rto_deadline)
		on_timeout(x);
}

void xport_output(struct xport *x, uint64_t now_us, xport_send_fn *send, void *ctx)
{
	check_timers(x, now_us);
	if (x->state == XPORT_DEAD && x->rst_pending) {
		if (emit(x, build(x, XPORT_RESET, x->snd_nxt, NULL), now_us, send, ctx))
			x->rst_pending = false;
	} else if (x->state == XPORT_SYN_SENT || x->state == XPORT_SYN_RCVD) {
		output_handshake(x, now_us, send, ctx);
	} else if (x->state == XPORT_ESTABLISHED) {
		output_data(x, now_us, send, ctx);
	} else if (x->state == XPORT_FINISHED && x->ack_now) {
		emit(x, build(x, XPORT_ACK, x->snd_nxt, NULL), now_us, send, ctx);
	}
}

uint64_t xport_next_timer(const struct xport *x, uint64_t now_us)
{
	uint64_t t;
	struct xport_seg s;
	uint32_t pipe;

	if (x->state == XPORT_DEAD)
		return x->rst_pending ? now_us : UINT64_MAX;
	if (x->state == XPORT_FINISHED)
		return x->ack_now ? now_us : x->linger_until > now_us ? x->linger_until : now_us;
	if (!live(x))
		return UINT64_MAX;
	t = x->last_rx_us + x->conf.dead_us;
	if (x->rto_deadline)
		t = min64(t, x->rto_deadline);
	if (x->state != XPORT_ESTABLISHED)
		return x->hs_xmits == 0 || x->hs_resend ? now_us : t;
	pipe = pipe_pkts(x);
	if (x->ack_now || lost_due(x, pipe) || next_new(x, pipe, &s))
		return now_us;
	if (x->ack_deadline)
		t = min64(t, x->ack_deadline);
	t = min64(t, x->last_tx_us + x->conf.dead_us / 4);
	return t < now_us ? now_us : t;
}

/* ---- packets in -------------------------------------------------------- */

/* Checks a datagram and decodes its header: XPORT_DROP_N if it is sound. */
static enum xport_drop parse(const uint8_t *p, size_t n, struct hdr *h)
{
	if (n < XPORT_HDR_LEN)
		return XPORT_DROP_SHORT;
	if (get16(p + OFF_MAGIC) != XPORT_MAGIC || p[OFF_VERSION] != XPORT_VERSION)
		return XPORT_DROP_MAGIC;
	h->len = get16(p + OFF_LEN);
	if (h->len > XPORT_MSS || n != XPORT_HDR_LEN + (size_t)h->len)
		return XPORT_DROP_LEN;
	if (get32(p + OFF_CRC) != crc32(crc32(0, p, OFF_CRC), p + XPORT_HDR_LEN, h->len))
		return XPORT_DROP_CRC;
	h->type = p[OFF_TYPE];
	h->nsack = p[OFF_NSACK];
	if (h->type < XPORT_SYN || h->type > XPORT_RESET || p[OFF_RSVD] || h->nsack > XPORT_SACK_MAX)
		return XPORT_DROP_MAGIC;
	if ((h->type == XPORT_DATA) != (h->len > 0))
		return XPORT_DROP_LEN;
	h->conn = get32(p + OFF_CONN);
	h->seq = get32(p + OFF_SEQ);
	h->ack = get32(p + OFF_ACK);
	h->wnd = get32(p + OFF_WND);
	if (h->wnd > XPORT_RCVBUF)
		h->wnd = XPORT_RCVBUF; /* no peer has more: keeps window edges comparable */
	for (uint32_t i = 0; i < XPORT_SACK_MAX; i++) {
		h->sack[i].start = get32(p + OFF_SACK + 8 * i);
		h->sack[i].end = get32(p + OFF_SACK + 8 * i + 4);
	}
	h->data = p + XPORT_HDR_LEN;
	return XPORT_DROP_N;
}

static void established(struct xport *x, const struct hdr *h, uint64_t now)
{
	if (x->state == XPORT_SYN_RCVD) {
		if (x->hs_xmits == 1)
			rtt_sample(x, now - x->hs_sent_us);
		x->rto_deadline = 0;
		x->state = XPORT_ESTABLISHED;
	}
	if (h->type == XPORT_SYN || h->type == XPORT_SYN_ACK) {
		if (h->type == XPORT_SYN_ACK && !x->passive)
			x->ack_now = true; /* our ACK of it was lost */
		return;
	}
	if (!rx_ack(x, h, now))
		return;
	if (h->type == XPORT_DATA)
		rx_data(x, h, now);
	else if (h->type == XPORT_FIN)
		rx_fin(x, h);
	if (x->fin_rcvd && x->fin_acked && x->state == XPORT_ESTABLISHED) {
		x->state = XPORT_FINISHED;
		x->rto_deadline = 0;
		x->linger_until = now + x->conf.dead_us;
	}
}

static void handshake(struct xport *x, const struct hdr *h, uint64_t now)
{
	if (x->state == XPORT_LISTEN) {
		x->conn_id = h->conn;
		x->state = XPORT_SYN_RCVD;
	} else if (x->state == XPORT_SYN_RCVD) {
		x->hs_resend = true; /* the SYN-ACK was lost */
		return;
	} else if (h->ack != x->conf.isn) {
		drop(x, XPORT_DROP_STATE);
		return;
	} else {
		if (x->hs_xmits == 1)
			rtt_sample(x, now - x->hs_sent_us);
		x->rto_deadline = 0;
		x->state = XPORT_ESTABLISHED;
		x->ack_now = true;
	}
	x->rcv_nxt = x->rcv_read = h->seq;
	x->peer_edge = x->conf.isn + h->wnd;
}

void xport_input(struct xport *x, const void *pkt, size_t len, uint64_t now_us)
{
	struct hdr h;
	enum xport_drop bad = parse(pkt, len, &h);

	if (bad != XPORT_DROP_N) {
		drop(x, bad);
		return;
	}
	if (x->state == XPORT_LISTEN ? x->conn_id && h.conn != x->conn_id : h.conn != x->conn_id) {
		drop(x, XPORT_DROP_CONN);
		return;
	}
	if (x->state == XPORT_CLOSED || x->state == XPORT_DEAD ||
	    (x->state == XPORT_LISTEN && h.type != XPORT_SYN) ||
	    (x->state == XPORT_SYN_SENT && h.type != XPORT_SYN_ACK && h.type != XPORT_RESET)) {
		drop(x, XPORT_DROP_STATE);
		return;
	}
	x->stats.rx_pkts++;
	x->last_rx_us = now_us;
	if (h.type == XPORT_RESET)
		die(x, XPORT_DEAD_RESET);
	else if (x->state == XPORT_LISTEN || x->state == XPORT_SYN_SENT ||
		 (x->state == XPORT_SYN_RCVD && h.type == XPORT_SYN))
		handshake(x, &h, now_us);
	else if (x->state == XPORT_SYN_RCVD && h.type == XPORT_SYN_ACK)
		drop(x, XPORT_DROP_STATE);
	else
		established(x, &h, now_us);
}

const char *xport_state_name(enum xport_state s)
{
	static const char *const names[] = {
		[XPORT_CLOSED] = "closed",   [XPORT_LISTEN] = "listen",
		[XPORT_SYN_SENT] = "syn-sent", [XPORT_SYN_RCVD] = "syn-rcvd",
		[XPORT_ESTABLISHED] = "established", [XPORT_FINISHED] = "finished",
		[XPORT_DEAD] = "dead",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *xport_drop_name(enum xport_drop d)
{
	static const char *const names[] = {
		[XPORT_DROP_SHORT] = "short", [XPORT_DROP_MAGIC] = "magic", [XPORT_DROP_LEN] = "length",
		[XPORT_DROP_CRC] = "crc",     [XPORT_DROP_CONN] = "conn-id", [XPORT_DROP_STATE] = "state",
		[XPORT_DROP_WINDOW] = "window",
	};

	return (unsigned int)d < XPORT_DROP_N ? names[d] : "?";
}
