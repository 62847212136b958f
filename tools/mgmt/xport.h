/* SPDX-License-Identifier: MIT */
/*
 * A reliable byte stream between two management guests over UDP datagrams,
 * for live migration (docs/transport.md has the wire format and algorithms).
 * A state machine with no I/O and no clock of its own: the caller hands in
 * received datagrams (xport_input), lets it emit packets through a callback
 * (xport_output) and calls xport_output again by xport_next_timer. Pure logic
 * (tests/unit/test_mgmt_xport.c runs it over a simulated hostile link).
 *
 * Times are absolute microseconds on the caller's monotonic clock (a jump
 * back reads as a long silence). One struct per connection, no allocation:
 * it holds both stream buffers (about 700 KiB), so give it static storage,
 * not the stack.
 */
#ifndef TERN_MGMT_XPORT_H
#define TERN_MGMT_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire format (docs/transport.md): a 60-byte header, then the payload. */
#define XPORT_MAGIC     0x5458u /* "TX" */
#define XPORT_VERSION   1u
#define XPORT_HDR_LEN   60u
#define XPORT_MSS       1400u /* payload bytes a packet carries at most */
#define XPORT_PKT_MAX   (XPORT_HDR_LEN + XPORT_MSS)
#define XPORT_SACK_MAX  4u    /* SACK blocks a packet carries (RFC 2018) */

/*
 * The send window: 256 packets of XPORT_MSS bytes, 350 KiB in flight.
 * 1 Gb/s at 2 ms RTT is a bandwidth-delay product of 250 kB (179 packets);
 * the rest is headroom for delayed ACKs and for segments held while a hole
 * is repaired. The receive buffer is the same size, so the receiver's
 * window never limits a sender that the reader keeps up with.
 */
#define XPORT_WND_PKTS  256u
#define XPORT_SNDBUF    (XPORT_WND_PKTS * XPORT_MSS)
#define XPORT_RCVBUF    (XPORT_WND_PKTS * XPORT_MSS)
#define XPORT_OOO_MAX   32u   /* out-of-order ranges the receiver keeps */

_Static_assert(XPORT_PKT_MAX <= 1472u, "a packet must fit one UDP datagram on a 1500-byte MTU");

enum xport_type {
	XPORT_SYN = 1,
	XPORT_SYN_ACK,
	XPORT_DATA,
	XPORT_ACK,
	XPORT_KEEPALIVE,
	XPORT_FIN,
	XPORT_RESET,
};

enum xport_state {
	XPORT_CLOSED,      /* initialised, or finished and lingered */
	XPORT_LISTEN,      /* waiting for a SYN, for as long as the caller wants */
	XPORT_SYN_SENT,
	XPORT_SYN_RCVD,
	XPORT_ESTABLISHED, /* also while either side's FIN is in progress */
	XPORT_FINISHED,    /* both directions closed and acknowledged: success */
	XPORT_DEAD,        /* failed: see dead_reason; nothing more is sent */
};

enum xport_dead {
	XPORT_DEAD_NONE,
	XPORT_DEAD_TIMEOUT, /* nothing valid from the peer for dead_us */
	XPORT_DEAD_RESET,   /* the peer sent RESET */
	XPORT_DEAD_ABORT,   /* xport_abort() here */
};

/* Why an incoming datagram was dropped. */
enum xport_drop {
	XPORT_DROP_SHORT,  /* shorter than the header */
	XPORT_DROP_MAGIC,  /* magic, version, type or reserved bits wrong */
	XPORT_DROP_LEN,    /* payload length disagrees with the datagram or the type */
	XPORT_DROP_CRC,
	XPORT_DROP_CONN,   /* another connection id: a stale or foreign session */
	XPORT_DROP_STATE,  /* not expected in this state, or an impossible ack */
	XPORT_DROP_WINDOW, /* data outside the receive window or past the FIN */
	XPORT_DROP_N,
};

struct xport_conf {
	uint32_t isn;          /* first sequence number sent (random is best) */
	uint32_t rto_init_us;  /* before the first RTT sample */
	uint32_t rto_min_us;
	uint32_t rto_max_us;
	uint32_t ack_delay_us; /* a lone in-order segment's ACK waits this long */
	uint32_t dead_us;      /* peer silence that ends the connection */
};

struct xport_stats {
	uint64_t tx_pkts, rx_pkts;     /* rx: passed the format, CRC and id checks */
	uint64_t tx_data_pkts, rexmits; /* data packets, of which retransmissions */
	uint64_t fast_rexmits;         /* loss events found by SACK (not timeouts) */
	uint64_t timeouts;             /* retransmission timer expiries */
	uint64_t keepalives;           /* sent */
	uint64_t dup_rx;               /* data packets already received */
	uint64_t drops[XPORT_DROP_N];
	uint64_t bytes_acked;          /* of ours, by the peer */
	uint64_t bytes_read;           /* delivered to the reader */
};

struct xport_seg {
	uint64_t sent_us;
	uint64_t order; /* tx_order of its last transmission */
	uint32_t seq;
	uint16_t len;   /* payload bytes (0 for the FIN) */
	uint8_t xmits;  /* transmissions so far (saturating) */
	uint8_t flags;  /* XPORT_SEG_* in xport.c */
};

struct xport_range {
	uint32_t start, end; /* received bytes [start, end) beyond rcv_nxt */
};

typedef bool xport_send_fn(void *ctx, const void *pkt, size_t len);

struct xport {
	struct xport_conf conf;
	enum xport_state state;
	enum xport_dead dead_reason;
	uint32_t conn_id;
	bool passive;

	/* timers and liveness */
	uint64_t last_rx_us, last_tx_us;
	uint64_t rto_deadline;   /* 0: the retransmission timer is off */
	uint64_t ack_deadline;   /* 0: no delayed ACK pending */
	uint64_t linger_until;   /* FINISHED: answer a repeated FIN until then */
	uint32_t srtt_us, rttvar_us, rto_us;
	bool have_rtt;

	/* handshake */
	uint64_t hs_sent_us;
	uint8_t hs_xmits;
	bool hs_resend;

	/* sender: [snd_una, snd_nxt) in flight, [snd_nxt, snd_end) unsent */
	uint32_t snd_una, snd_nxt, snd_end;
	uint32_t snd_off;        /* index of snd_una in snd_buf */
	uint32_t peer_edge;      /* the peer takes bytes before this seq (ack + window) */
	uint32_t cwnd, ssthresh, cwnd_acc; /* in packets */
	uint32_t recover;        /* snd_nxt when loss recovery began */
	bool in_recovery;
	bool close_req, fin_sent, fin_acked;
	bool rst_pending;
	uint32_t seg_head, seg_count;
	struct xport_seg segs[XPORT_WND_PKTS + 1]; /* + the FIN */

	/* receiver: [rcv_read, rcv_nxt) readable */
	uint32_t rcv_read, rcv_nxt;
	uint32_t rcv_off;        /* index of rcv_read in rcv_buf */
	uint32_t rcv_unacked;    /* in-order packets not yet acknowledged */
	uint32_t last_adv_wnd;
	bool ack_now;
	bool peer_fin_seen, fin_rcvd;
	uint32_t peer_fin_seq;
	uint32_t ooo_count;
	uint32_t ooo_recent;     /* seq of the newest out-of-order packet: SACKed first */
	uint64_t tx_order;       /* counts transmissions, for loss detection */
	struct xport_range ooo[XPORT_OOO_MAX];

	struct xport_stats stats;
	uint8_t pkt[XPORT_PKT_MAX];
	uint8_t snd_buf[XPORT_SNDBUF];
	uint8_t rcv_buf[XPORT_RCVBUF];
};

/* Defaults for a LAN between two hosts: RTO 10 ms..1 s, dead after 3 s. */
void xport_conf_default(struct xport_conf *c);
void xport_init(struct xport *x, const struct xport_conf *conf, uint32_t conn_id, uint64_t now_us);
/*
 * conn_id: random and non-zero on the initiator (xport_connect refuses 0);
 * 0 on the listening side accepts the first SYN's id.
 */
void xport_connect(struct xport *x, uint64_t now_us);
void xport_listen(struct xport *x);

size_t xport_write(struct xport *x, const void *buf, size_t len);
size_t xport_read(struct xport *x, void *buf, size_t len);
/* The peer closed its direction and everything before it has been read. */
bool xport_eof(const struct xport *x);
/* Send a FIN once everything written has been sent; no more writes. */
void xport_close(struct xport *x);
/* Give up now: one RESET to the peer, then DEAD. */
void xport_abort(struct xport *x);

void xport_input(struct xport *x, const void *pkt, size_t len, uint64_t now_us);
/* Emits what is due; stops early (and retries later) if send returns false. */
void xport_output(struct xport *x, uint64_t now_us, xport_send_fn *send, void *ctx);
/* When xport_output must next run: now_us if at once, UINT64_MAX if never. */
uint64_t xport_next_timer(const struct xport *x, uint64_t now_us);

/* Bytes written but not yet acknowledged by the peer. */
uint32_t xport_unacked(const struct xport *x);
const char *xport_state_name(enum xport_state s);
const char *xport_drop_name(enum xport_drop d);

#endif
