/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests for tools/mgmt/xport.c, the migration transport: two
 * endpoints over a simulated link with a virtual microsecond clock, latency,
 * a modelled bit rate and a deterministic PRNG that drops, duplicates,
 * reorders (extra delay) and corrupts (bit flips) datagrams, plus a cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/mgmt/crc32.h"
#include "tools/mgmt/xport.h"

#define Q_MAX    4096u
#define MIB      (1024u * 1024u)
#define NEVER    UINT64_MAX

struct dgram {
	uint64_t at_us;
	uint32_t len;
	uint8_t data[XPORT_PKT_MAX];
};

/* One direction of the link. Rates are per mille of datagrams. */
struct link {
	struct dgram q[Q_MAX];
	uint32_t n;
	uint64_t free_ns; /* the wire is busy until then */
	uint32_t latency_us;
	uint64_t rate_bps;
	uint32_t drop, dup, reorder, corrupt;
	uint32_t refuse; /* the NIC's ring is full: send returns false */
	bool refused;
	uint64_t sent, corrupted;
};

struct sim {
	struct xport *x[2]; /* 0 sends on ab, 1 on ba */
	struct link *l[2];
	uint64_t now;
	unsigned int cut;   /* bit d: what x[d] sends is lost */
	bool paused[2];     /* x[d]'s reader does not read */
	uint64_t dead_at[2]; /* when x[d] was first seen DEAD, 0 before */
	uint64_t fed[2], got[2], want[2]; /* stream bytes written / read / to move */
};

static struct xport xa, xb;
static struct link lab, lba;
static struct sim sim;
static uint64_t rng_state;
static uint8_t chunk[64 * 1024];

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static bool chance(uint32_t per_mille)
{
	return per_mille && rnd() % 1000 < per_mille;
}

/* Byte i of the stream from endpoint d. */
static uint8_t pattern(unsigned int d, uint64_t i)
{
	return (uint8_t)((i * 0x9e3779b1u) >> 24 ^ i ^ (d ? 0x5a : 0));
}

static uint64_t now_of(const struct sim *s)
{
	return s->now;
}

static void enqueue(struct link *l, const void *pkt, size_t len, uint64_t at)
{
	struct dgram *d;

	if (l->n == Q_MAX)
		return; /* a full queue drops at the tail */
	d = &l->q[l->n++];
	d->at_us = at;
	d->len = (uint32_t)len;
	memcpy(d->data, pkt, len);
	if (chance(l->corrupt)) {
		uint32_t bit = rnd() % (d->len * 8);

		d->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		l->corrupted++;
	}
}

static bool link_send(void *ctx, const void *pkt, size_t len)
{
	struct link *l = ctx;
	uint64_t now_ns = now_of(&sim) * 1000, at;

	assert_true(len >= XPORT_HDR_LEN && len <= XPORT_PKT_MAX);
	if (chance(l->refuse)) {
		l->refused = true;
		return false;
	}
	l->sent++;
	/* Serialisation at the link rate, then the propagation delay. */
	if (l->free_ns < now_ns)
		l->free_ns = now_ns;
	l->free_ns += len * 8 * 1000000000ull / l->rate_bps;
	at = (l->free_ns + 999) / 1000 + l->latency_us;
	if (chance(l->drop))
		return true;
	if (chance(l->reorder))
		at += rnd() % (4 * l->latency_us + 1);
	enqueue(l, pkt, len, at);
	if (chance(l->dup))
		enqueue(l, pkt, len, at + rnd() % (l->latency_us + 1));
	return true;
}

static uint64_t link_next(const struct link *l)
{
	uint64_t t = NEVER;

	for (uint32_t i = 0; i < l->n; i++)
		if (l->q[i].at_us < t)
			t = l->q[i].at_us;
	return t;
}

/* Hands every datagram due by now to x, oldest first; a cut link loses them. */
static void link_deliver(struct sim *s, unsigned int d)
{
	struct link *l = s->l[d];
	struct xport *x = s->x[!d];

	for (;;) {
		uint32_t best = l->n;

		for (uint32_t i = 0; i < l->n; i++)
			if (l->q[i].at_us <= s->now && (best == l->n || l->q[i].at_us < l->q[best].at_us))
				best = i;
		if (best == l->n)
			return;
		if (!(s->cut & (1u << d)))
			xport_input(x, l->q[best].data, l->q[best].len, s->now);
		l->q[best] = l->q[--l->n];
	}
}

static void conf_test(struct xport_conf *c, uint32_t isn)
{
	xport_conf_default(c);
	c->isn = isn;
}

static void link_setup(struct link *l, uint32_t latency_us)
{
	memset(l, 0, sizeof(*l));
	l->latency_us = latency_us;
	l->rate_bps = 1000000000ull;
}

/* A pair over a clean link of rtt_us, a connecting and b listening. */
static void sim_setup(struct sim *s, uint32_t rtt_us, uint32_t isn_a, uint32_t isn_b)
{
	struct xport_conf c;

	memset(s, 0, sizeof(*s));
	s->x[0] = &xa;
	s->x[1] = &xb;
	s->l[0] = &lab;
	s->l[1] = &lba;
	s->now = 1000;
	link_setup(&lab, rtt_us / 2);
	link_setup(&lba, rtt_us / 2);
	conf_test(&c, isn_a);
	xport_init(&xa, &c, 0x1234abcdu, s->now);
	conf_test(&c, isn_b);
	xport_init(&xb, &c, 0, s->now);
	xport_listen(&xb);
	xport_connect(&xa, s->now);
}

static void impair(struct link *l, uint32_t drop, uint32_t dup, uint32_t reorder, uint32_t corrupt)
{
	l->drop = drop;
	l->dup = dup;
	l->reorder = reorder;
	l->corrupt = corrupt;
}

/* The applications: write the pattern while there is some to move, read and check it. */
static void app(struct sim *s)
{
	for (unsigned int d = 0; d < 2; d++) {
		struct xport *tx = s->x[d], *rx = s->x[!d];
		size_t n;

		while (s->fed[d] < s->want[d]) {
			uint64_t left = s->want[d] - s->fed[d];
			size_t k = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);

			for (size_t i = 0; i < k; i++)
				chunk[i] = pattern(d, s->fed[d] + i);
			n = xport_write(tx, chunk, k);
			s->fed[d] += n;
			if (n < k)
				break;
		}
		while (!s->paused[d] && (n = xport_read(rx, chunk, sizeof(chunk))) > 0) {
			for (size_t i = 0; i < n; i++)
				if (chunk[i] != pattern(d, s->got[d] + i))
					fail_msg("stream %u differs at byte %llu", d,
						 (unsigned long long)(s->got[d] + i));
			s->got[d] += n;
		}
	}
}

/* One event: outputs, then the clock jumps to the next timer or arrival. */
static bool sim_step(struct sim *s)
{
	uint64_t next = NEVER;

	app(s);
	for (unsigned int d = 0; d < 2; d++) {
		s->l[d]->refused = false;
		xport_output(s->x[d], s->now, link_send, s->l[d]);
		if (s->x[d]->state == XPORT_DEAD && !s->dead_at[d])
			s->dead_at[d] = s->now;
		/* Output did everything due, unless refused: no busy loop. */
		assert_true(s->l[d]->refused || xport_next_timer(s->x[d], s->now) > s->now);
	}
	for (unsigned int d = 0; d < 2; d++) {
		uint64_t t = xport_next_timer(s->x[d], s->now);

		next = t < next ? t : next;
		t = link_next(s->l[d]);
		next = t < next ? t : next;
	}
	if (next == NEVER)
		return false;
	s->now = next;
	link_deliver(s, 0);
	link_deliver(s, 1);
	return true;
}

typedef bool sim_until_fn(const struct sim *s);

/* Steps until done or the virtual clock passes limit_us from now; true if done. */
static bool run(struct sim *s, sim_until_fn *done, uint64_t limit_us)
{
	uint64_t end = s->now + limit_us;

	while (!done(s) && s->now <= end)
		if (!sim_step(s))
			break;
	return done(s);
}

static bool both_established(const struct sim *s)
{
	return s->x[0]->state == XPORT_ESTABLISHED && s->x[1]->state == XPORT_ESTABLISHED;
}

static bool all_read(const struct sim *s)
{
	return s->got[0] == s->want[0] && s->got[1] == s->want[1];
}

static bool finished(const struct xport *x)
{
	return x->state == XPORT_FINISHED || x->state == XPORT_CLOSED;
}

static bool both_finished(const struct sim *s)
{
	return finished(s->x[0]) && finished(s->x[1]);
}

static bool both_dead(const struct sim *s)
{
	return s->x[0]->state == XPORT_DEAD && s->x[1]->state == XPORT_DEAD;
}

static bool b_syn_rcvd(const struct sim *s)
{
	return s->x[1]->state == XPORT_SYN_RCVD;
}

static bool a_fin_sent(const struct sim *s)
{
	return s->x[0]->fin_sent;
}

static bool a_quarter_read(const struct sim *s)
{
	return s->got[0] >= s->want[0] / 4;
}

static bool never(const struct sim *s)
{
	return false;
}

/* Moves ab bytes a->b and ba bytes b->a, closes both; the virtual microseconds taken. */
static uint64_t transfer(struct sim *s, uint64_t ab, uint64_t ba, uint64_t limit_us)
{
	uint64_t start;

	assert_true(run(s, both_established, limit_us));
	start = s->now;
	s->want[0] = ab;
	s->want[1] = ba;
	assert_true(run(s, all_read, limit_us));
	start = s->now - start;
	xport_close(s->x[0]);
	xport_close(s->x[1]);
	assert_true(run(s, both_finished, limit_us));
	assert_true(xport_eof(s->x[0]) && xport_eof(s->x[1]));
	assert_int_equal(s->x[0]->stats.bytes_acked, ab);
	assert_int_equal(s->x[1]->stats.bytes_acked, ba);
	return start;
}

static void report(const char *what, const struct sim *s, uint64_t bytes, uint64_t us)
{
	const struct xport_stats *a = &s->x[0]->stats, *b = &s->x[1]->stats;
	uint64_t bdrops = 0;

	for (unsigned int i = 0; i < XPORT_DROP_N; i++)
		bdrops += b->drops[i];
	print_message("%-22s %5llu KiB in %6llu us = %4llu Mb/s; a: %llu data pkts, %llu rexmit, "
		      "%llu fast, %llu rto, srtt %u us; b: %llu dropped (%llu crc), %llu dup\n",
		      what, (unsigned long long)(bytes / 1024), (unsigned long long)us,
		      (unsigned long long)(us ? bytes * 8 / us : 0), (unsigned long long)a->tx_data_pkts,
		      (unsigned long long)a->rexmits, (unsigned long long)a->fast_rexmits,
		      (unsigned long long)a->timeouts, s->x[0]->srtt_us, (unsigned long long)bdrops,
		      (unsigned long long)b->drops[XPORT_DROP_CRC], (unsigned long long)b->dup_rx);
}

static int setup(void **state)
{
	rng_state = 0x9e3779b97f4a7c15ull;
	return 0;
}

/* ---- clean link ---------------------------------------------------------- */

static void test_clean_one_way(void **state)
{
	uint64_t n = 4 * MIB, us, ideal;

	sim_setup(&sim, 1000, 1, 0x80000000u);
	us = transfer(&sim, n, 0, 10000000);
	report("clean 1ms 1Gb/s", &sim, n, us);
	/* Ideal: the bytes at 1 Gb/s plus one round trip. */
	ideal = n * 8 / 1000 + 1000;
	assert_true(us < 3 * ideal);
	assert_int_equal(xa.stats.rexmits, 0);
	assert_int_equal(xb.stats.dup_rx, 0);
	assert_true(xa.have_rtt && xa.srtt_us >= 1000 && xa.srtt_us < 3000);
}

static void test_clean_both_ways(void **state)
{
	uint64_t n = 3 * MIB, us;

	sim_setup(&sim, 1000, 77, 99);
	us = transfer(&sim, n, n, 10000000);
	report("clean both ways", &sim, 2 * n, us);
	assert_true(us < 3 * (n * 8 / 1000 + 1000));
	assert_int_equal(xa.stats.rexmits + xb.stats.rexmits, 0);
}

/* A short RTT with the window the limit: 2 ms RTT still fills most of 1 Gb/s. */
static void test_clean_2ms(void **state)
{
	uint64_t n = 4 * MIB, us;

	sim_setup(&sim, 2000, 5, 6);
	us = transfer(&sim, n, 0, 10000000);
	report("clean 2ms 1Gb/s", &sim, n, us);
	assert_true(us < 3 * (n * 8 / 1000 + 2000));
}

/* ---- impairments --------------------------------------------------------- */

struct impairment {
	const char *name;
	uint32_t drop, dup, reorder, corrupt, refuse; /* per mille, both directions */
};

static const struct impairment impairments[] = {
	{ "5% drop", 50, 0, 0, 0, 0 },
	{ "15% drop", 150, 0, 0, 0, 0 },
	{ "5% duplicated", 0, 50, 0, 0, 0 },
	{ "10% reordered", 0, 0, 100, 0, 0 },
	{ "2% corrupted", 0, 0, 0, 20, 0 },
	{ "NIC ring 20% full", 0, 0, 0, 0, 200 },
	{ "all together", 50, 20, 100, 10, 50 },
};

/* Each impairment alone and all together: 2 MiB one way, 512 KiB back. */
static void test_impaired(void **state)
{
	const struct impairment *m = *state;
	uint64_t n = 2 * MIB, us;

	sim_setup(&sim, 1000, 0xdead0000u, 0xbeef0000u);
	impair(&lab, m->drop, m->dup, m->reorder, m->corrupt);
	impair(&lba, m->drop, m->dup, m->reorder, m->corrupt);
	lab.refuse = lba.refuse = m->refuse;
	us = transfer(&sim, n, n / 4, 60000000);
	report(m->name, &sim, n, us);
	if (m->drop)
		assert_true(xa.stats.rexmits > 0 && xb.stats.rexmits > 0);
	if (m->dup)
		assert_true(xb.stats.dup_rx > 0);
	if (m->corrupt) {
		assert_true(xb.stats.drops[XPORT_DROP_CRC] > 0);
		assert_true(xa.stats.drops[XPORT_DROP_CRC] > 0);
		assert_true(xa.stats.rexmits > 0);
	}
}

/* A connection moving bytes a->b, a quarter of them read so far. */
static void start_stream(struct sim *s, uint64_t bytes)
{
	sim_setup(s, 1000, 10, 20);
	assert_true(run(s, both_established, 1000000));
	s->want[0] = bytes;
	assert_true(run(s, a_quarter_read, 1000000));
}

/* Many more packets than the queue and window hold, all lost at once and repaired. */
static void test_burst_loss(void **state)
{
	uint64_t start;

	start_stream(&sim, 4 * MIB);
	impair(&lab, 1000, 0, 0, 0);
	start = sim.now;
	run(&sim, never, 30000); /* 30 ms: the whole window is lost */
	impair(&lab, 0, 0, 0, 0);
	assert_true(run(&sim, all_read, 10000000));
	assert_true(xa.stats.timeouts > 0);
	report("30ms blackout", &sim, 3 * MIB, sim.now - start);
}

/* ---- sequence numbers wrapping ------------------------------------------- */

static void test_wraparound(void **state)
{
	uint64_t n = 3 * MIB;

	/* Both streams cross 2^32 early, with loss and reordering about. */
	sim_setup(&sim, 1000, 0xffffffffu - 300000, 0xfffffff0u);
	impair(&lab, 30, 10, 50, 5);
	impair(&lba, 30, 10, 50, 5);
	report("wrap at 2^32", &sim, 2 * n, transfer(&sim, n, n, 60000000));
	assert_true(xa.snd_una < 0x10000000u && xb.snd_una < 0x10000000u);
}

/* ---- dead peers ---------------------------------------------------------- */

static bool refuse(void *ctx, const void *pkt, size_t len)
{
	fail_msg("a dead connection sent a packet");
	return false;
}

/* Cuts the link now: both ends must go DEAD within dead_us plus one maximum RTO. */
static void cut_and_expect_dead(struct sim *s)
{
	uint64_t t_cut = s->now, bound = xa.conf.dead_us + xa.conf.rto_max_us;
	uint64_t acked[2] = { xa.stats.bytes_acked, xb.stats.bytes_acked };
	uint64_t *dead_at = s->dead_at;

	s->cut = 3;
	while (!(s->dead_at[0] && s->dead_at[1]) && s->now <= t_cut + bound)
		if (!sim_step(s))
			break;
	for (unsigned int d = 0; d < 2; d++) {
		assert_int_equal(s->x[d]->state, XPORT_DEAD);
		assert_int_equal(s->x[d]->dead_reason, XPORT_DEAD_TIMEOUT);
		assert_true(dead_at[d] - t_cut <= bound);
	}
	assert_int_equal(xa.stats.bytes_acked, acked[0]);
	assert_int_equal(xb.stats.bytes_acked, acked[1]);
	/* Dead stays dead, says nothing and takes nothing. */
	assert_int_equal(xport_next_timer(&xa, s->now), NEVER);
	assert_int_equal(xport_write(&xa, "x", 1), 0);
	xport_output(&xa, s->now + 1000000, refuse, NULL);
	assert_int_equal(xa.state, XPORT_DEAD);
	print_message("cut: dead after %llu / %llu us (bound %llu), a timed out %llu times, rto %u us\n",
		      (unsigned long long)(dead_at[0] - t_cut), (unsigned long long)(dead_at[1] - t_cut),
		      (unsigned long long)bound, (unsigned long long)xa.stats.timeouts, xa.rto_us);
}

static void test_cut_mid_transfer(void **state)
{
	start_stream(&sim, 8 * MIB);
	cut_and_expect_dead(&sim);
	assert_true(sim.got[0] < sim.want[0]);
	/* The retransmission timer backed off to its maximum. */
	assert_true(xa.stats.timeouts >= 5);
	assert_int_equal(xa.rto_us, xa.conf.rto_max_us);
}

static void test_cut_handshake(void **state)
{
	sim_setup(&sim, 1000, 10, 20);
	assert_true(run(&sim, b_syn_rcvd, 1000000));
	cut_and_expect_dead(&sim);
}

static void test_cut_idle(void **state)
{
	sim_setup(&sim, 1000, 10, 20);
	sim.want[0] = sim.want[1] = 10000;
	assert_true(run(&sim, all_read, 1000000));
	/* Idle for ten dead times: keepalives keep both alive. */
	run(&sim, never, 10ull * xa.conf.dead_us);
	assert_true(both_established(&sim));
	assert_true(xa.stats.keepalives >= 30 && xb.stats.keepalives >= 30);
	cut_and_expect_dead(&sim);
}

static void test_cut_before_fin_ack(void **state)
{
	sim_setup(&sim, 1000, 10, 20);
	sim.want[0] = 300000;
	assert_true(run(&sim, both_established, 1000000));
	app(&sim);
	xport_close(&xa);
	assert_true(run(&sim, a_fin_sent, 1000000));
	cut_and_expect_dead(&sim);
	assert_false(xa.fin_acked);
}

/* Only the way back breaks: the sender times out, and its RESET ends the receiver. */
static void test_cut_one_way(void **state)
{
	uint64_t t_cut;

	start_stream(&sim, 4 * MIB);
	t_cut = sim.now;
	sim.cut = 2;
	assert_true(run(&sim, both_dead, xa.conf.dead_us + xa.conf.rto_max_us));
	assert_int_equal(xa.dead_reason, XPORT_DEAD_TIMEOUT);
	assert_int_equal(xb.dead_reason, XPORT_DEAD_RESET);
	assert_true(sim.now - t_cut <= xa.conf.dead_us + 1000);
}

/* A reader that stops for longer than dead_us: a zero window is not a dead peer. */
static void test_slow_reader(void **state)
{
	sim_setup(&sim, 1000, 10, 20);
	assert_true(run(&sim, both_established, 1000000));
	sim.want[0] = 2 * MIB;
	sim.paused[0] = true;
	run(&sim, never, 2ull * xa.conf.dead_us);
	assert_true(both_established(&sim));
	assert_int_equal(xa.stats.bytes_acked, XPORT_RCVBUF);
	assert_int_equal(xa.stats.rexmits, 0);
	sim.paused[0] = false;
	assert_true(run(&sim, all_read, 1000000));
}

static void test_listen_waits(void **state)
{
	sim_setup(&sim, 1000, 10, 20);
	sim.cut = 3;
	run(&sim, never, 2ull * xa.conf.dead_us);
	assert_int_equal(xa.state, XPORT_DEAD);
	assert_int_equal(xa.dead_reason, XPORT_DEAD_TIMEOUT);
	assert_true(xa.stats.rexmits >= 3); /* SYN retransmitted with back-off */
	/* The listener waits until its caller gives up. */
	assert_int_equal(xb.state, XPORT_LISTEN);
	xport_close(&xb);
	assert_int_equal(xb.state, XPORT_CLOSED);
}

static void test_reset(void **state)
{
	start_stream(&sim, MIB);
	xport_abort(&xa);
	assert_int_equal(xa.state, XPORT_DEAD);
	assert_int_equal(xa.dead_reason, XPORT_DEAD_ABORT);
	run(&sim, never, 5000);
	assert_int_equal(xb.state, XPORT_DEAD);
	assert_int_equal(xb.dead_reason, XPORT_DEAD_RESET);
}

/* ---- hostile packets ----------------------------------------------------- */

static uint8_t cap[XPORT_PKT_MAX];
static size_t cap_len;

static bool capture(void *ctx, const void *pkt, size_t len)
{
	memcpy(cap, pkt, len);
	cap_len = len;
	return true;
}

static void reseal(uint8_t *p, size_t len)
{
	uint32_t c = crc32(crc32(0, p, 56), p + XPORT_HDR_LEN, len - XPORT_HDR_LEN);

	p[56] = (uint8_t)(c >> 24);
	p[57] = (uint8_t)(c >> 16);
	p[58] = (uint8_t)(c >> 8);
	p[59] = (uint8_t)c;
}

static uint64_t drops(const struct xport *x)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < XPORT_DROP_N; i++)
		n += x->stats.drops[i];
	return n;
}

/* Feeds b a mangled packet: it must be dropped for reason (or any, XPORT_DROP_N). */
static void expect_drop(const uint8_t *p, size_t len, enum xport_drop reason)
{
	uint64_t rx = xb.stats.rx_pkts, all = drops(&xb);
	uint64_t one = reason < XPORT_DROP_N ? xb.stats.drops[reason] : 0;
	uint32_t nxt = xb.rcv_nxt;

	xport_input(&xb, p, len, sim.now);
	assert_int_equal(xb.stats.rx_pkts, rx);
	assert_int_equal(drops(&xb), all + 1);
	if (reason < XPORT_DROP_N)
		assert_int_equal(xb.stats.drops[reason], one + 1);
	assert_int_equal(xb.rcv_nxt, nxt);
}

static void test_rejects(void **state)
{
	uint8_t p[XPORT_PKT_MAX + 16];
	size_t len;

	sim_setup(&sim, 1000, 10, 20);
	assert_true(run(&sim, both_established, 1000000));
	assert_int_equal(xport_write(&xa, chunk, 1000), 1000);
	xport_output(&xa, sim.now, capture, NULL);
	len = cap_len;
	assert_int_equal(len, XPORT_HDR_LEN + 1000);
	assert_int_equal(cap[3], XPORT_DATA);

	memcpy(p, cap, len); /* another session's id, correctly sealed */
	p[7] ^= 1;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_CONN);
	memcpy(p, cap, len); /* not ours at all */
	p[0] = 'G';
	expect_drop(p, len, XPORT_DROP_MAGIC);
	memcpy(p, cap, len); /* version 2 */
	p[2] = 2;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_MAGIC);
	memcpy(p, cap, len); /* unknown type */
	p[3] = 9;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_MAGIC);
	memcpy(p, cap, len); /* too many SACK blocks */
	p[22] = 5;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_MAGIC);
	memcpy(p, cap, len); /* an ACK that carries data */
	p[3] = XPORT_ACK;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_LEN);
	for (size_t n = 0; n < len; n++) /* every truncation */
		expect_drop(cap, n, n < XPORT_HDR_LEN ? XPORT_DROP_SHORT : XPORT_DROP_LEN);
	memcpy(p, cap, len); /* a length beyond the datagram, or the MSS */
	p[20] = 0x05;
	p[21] = 0x79;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_LEN);
	p[20] = 0xff;
	reseal(p, len);
	expect_drop(p, len, XPORT_DROP_LEN);
	memcpy(p, cap, len); /* trailing bytes after the payload */
	memset(p + len, 0, 16);
	expect_drop(p, len + 16, XPORT_DROP_LEN);
	for (size_t bit = 0; bit < len * 8; bit++) { /* every single-bit flip */
		memcpy(p, cap, len);
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_drop(p, len, XPORT_DROP_N);
	}
	/* The packet itself is good, once; again it is a duplicate. */
	xport_input(&xb, cap, len, sim.now);
	assert_int_equal(xb.rcv_nxt - xb.rcv_read, 1000);
	xport_input(&xb, cap, len, sim.now);
	assert_int_equal(xb.stats.dup_rx, 1);
	assert_int_equal(xb.rcv_nxt - xb.rcv_read, 1000);
}

/* Packets of an earlier session (another connection id) do not disturb this one. */
static void test_stale_session(void **state)
{
	struct xport_conf c;
	uint8_t old[XPORT_PKT_MAX];
	size_t old_len;

	sim_setup(&sim, 1000, 10, 20);
	assert_true(run(&sim, both_established, 1000000));
	assert_int_equal(xport_write(&xa, chunk, 500), 500);
	xport_output(&xa, sim.now, capture, NULL);
	memcpy(old, cap, cap_len);
	old_len = cap_len;

	/* A new session on the same endpoints, with a new id. */
	conf_test(&c, 10);
	xport_init(&xa, &c, 0x5555u, sim.now);
	conf_test(&c, 20);
	xport_init(&xb, &c, 0x5555u, sim.now);
	xport_listen(&xb);
	xport_connect(&xa, sim.now);
	lab.n = lba.n = 0;
	assert_true(run(&sim, both_established, 1000000));
	xport_input(&xb, old, old_len, sim.now);
	assert_int_equal(xb.stats.drops[XPORT_DROP_CONN], 1);
	sim.want[0] = 100000;
	assert_true(run(&sim, all_read, 1000000));
	assert_int_equal(xb.stats.dup_rx, 0);
}

static void fuzz_one(struct xport *x, bool sealed)
{
	uint8_t p[XPORT_PKT_MAX + 64];
	size_t len = rnd() % sizeof(p);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	if (sealed && len >= XPORT_HDR_LEN) {
		/* Past the checks that random bytes never get through: a hostile peer. */
		len = XPORT_HDR_LEN + rnd() % (XPORT_MSS + 1);
		p[0] = 0x54;
		p[1] = 0x58;
		p[2] = XPORT_VERSION;
		memcpy(p + 4, cap + 4, 4);
		if (rnd() & 1) /* near the real sequence numbers */
			memcpy(p + 8, cap + 8, 8);
		p[8 + (rnd() & 7)] ^= (uint8_t)rnd();
		p[20] = (uint8_t)((len - XPORT_HDR_LEN) >> 8);
		p[21] = (uint8_t)(len - XPORT_HDR_LEN);
		p[22] = (uint8_t)(rnd() % 5);
		p[23] = 0;
		/* Any type but RESET, which would end the game. */
		p[3] = (uint8_t)(len > XPORT_HDR_LEN ? XPORT_DATA : XPORT_SYN + rnd() % 6);
		reseal(p, len);
	}
	xport_input(x, p, len, sim.now);
	sim.now += rnd() % 50;
	if (rnd() % 16 == 0) {
		xport_output(x, sim.now, capture, NULL);
		xport_read(x, chunk, sizeof(chunk));
	}
	assert_true(x->seg_count <= XPORT_WND_PKTS);
	assert_true(x->ooo_count <= XPORT_OOO_MAX);
	assert_true(x->rcv_nxt - x->rcv_read <= XPORT_RCVBUF + 1);
}

static void test_fuzz(void **state)
{
	struct xport_conf c;
	uint64_t rx;

	sim_setup(&sim, 1000, 10, 20);
	sim.want[0] = sim.want[1] = 200000;
	assert_true(run(&sim, all_read, 1000000));
	sim.want[1] = 400000;
	app(&sim);
	xport_output(&xb, sim.now, capture, NULL); /* a template from b to a */
	rx = xa.stats.rx_pkts;
	for (unsigned int i = 0; i < 30000; i++)
		fuzz_one(&xa, false);
	assert_int_equal(xa.stats.rx_pkts, rx); /* random bytes never pass */
	for (unsigned int i = 0; i < 30000; i++)
		fuzz_one(&xa, i & 1);
	conf_test(&c, 1);
	xport_init(&xb, &c, 0, sim.now);
	xport_listen(&xb);
	for (unsigned int i = 0; i < 10000; i++)
		fuzz_one(&xb, i & 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_clean_one_way, setup),
		cmocka_unit_test_setup(test_clean_both_ways, setup),
		cmocka_unit_test_setup(test_clean_2ms, setup),
#define IMPAIRED(i) { impairments[i].name, test_impaired, setup, NULL, (void *)&impairments[i] }
		IMPAIRED(0), IMPAIRED(1), IMPAIRED(2), IMPAIRED(3), IMPAIRED(4), IMPAIRED(5), IMPAIRED(6),
		cmocka_unit_test_setup(test_burst_loss, setup),
		cmocka_unit_test_setup(test_wraparound, setup),
		cmocka_unit_test_setup(test_cut_mid_transfer, setup),
		cmocka_unit_test_setup(test_cut_handshake, setup),
		cmocka_unit_test_setup(test_cut_idle, setup),
		cmocka_unit_test_setup(test_cut_before_fin_ack, setup),
		cmocka_unit_test_setup(test_cut_one_way, setup),
		cmocka_unit_test_setup(test_slow_reader, setup),
		cmocka_unit_test_setup(test_listen_waits, setup),
		cmocka_unit_test_setup(test_reset, setup),
		cmocka_unit_test_setup(test_rejects, setup),
		cmocka_unit_test_setup(test_stale_session, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
