/* SPDX-License-Identifier: MIT */
/*
 * The live-migration stream (format 1, docs/migration.md): a writer that
 * frames records through a sink, and an incremental push parser that takes
 * the bytes in whatever pieces the network delivers and hands back each
 * record once it is complete, its CRC checked and its body and place in the
 * stream validated. Pure logic (tests/unit/test_mgmt_migstream.c).
 *
 * The wire structures below are the stream's layout: little-endian, every
 * field naturally aligned, no implicit padding (static asserts in
 * migstream.c). Tern runs on x86_64 only, so they are copied, not decoded.
 */
#ifndef TERN_MGMT_MIGSTREAM_H
#define TERN_MGMT_MIGSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/abi.h"

#define MIGSTREAM_MAGIC      "TERNMIG" /* with its NUL: 8 bytes */
#define MIGSTREAM_VERSION    1u
#define MIGSTREAM_PAGE_SHIFT 12u
#define MIGSTREAM_PAGE_SIZE  (1u << MIGSTREAM_PAGE_SHIFT)
#define MIGSTREAM_ALIGN      8u   /* bodies are padded with zeros to this */
#define MIGSTREAM_PAGES_MAX  512u /* pages (or zero pages) in one record */

/* Record types; OPTIONAL set: a reader that does not know the type skips it. */
#define MIGSTREAM_VM_CONFIG    1u
#define MIGSTREAM_PAGE_DATA    2u
#define MIGSTREAM_PAGE_ZERO    3u
#define MIGSTREAM_ROUND_END    4u
#define MIGSTREAM_VCPU_STATE   5u
#define MIGSTREAM_DEVICE_STATE 6u
#define MIGSTREAM_END          7u
#define MIGSTREAM_OPTIONAL     0x80000000u

#define MIGSTREAM_ROUND_LAST 0x1u /* ROUND_END flags: the stop-and-copy round */

/* Stream header: once, first. crc covers the bytes before it. */
struct migstream_hdr {
	char magic[8];       /* MIGSTREAM_MAGIC */
	uint32_t version;    /* MIGSTREAM_VERSION */
	uint32_t flags;      /* none defined: 0 */
	uint32_t page_shift; /* MIGSTREAM_PAGE_SHIFT */
	uint32_t hdr_len;    /* sizeof(struct migstream_hdr) */
	uint32_t reserved;   /* 0 */
	uint32_t crc;
};

/* Record header; crc covers type, length and the body (not the padding). */
struct migstream_rec {
	uint32_t type;
	uint32_t length;     /* of the body, padding excluded */
	uint32_t crc;
	uint32_t reserved;   /* 0 */
};

/* VM_CONFIG body: this structure, with nr_regions of its regions. */
struct migstream_config {
	char name[TERN_NAME_MAX]; /* 1-31 of [A-Za-z0-9._-], then NULs */
	uint64_t mem_size;        /* bytes; the RAM regions add up to it */
	uint32_t nr_vcpus;        /* 1..TERN_MAX_VCPUS */
	uint32_t tsc_khz;         /* the source host's TSC rate */
	uint32_t vcpu_regs_version; /* TERN_VCPU_REGS_VERSION */
	uint32_t vcpu_regs_size;    /* sizeof(struct tern_vcpu_regs) */
	/* CPUID as the VM was offered it (SDM vol. 2A, CPUID) */
	uint32_t cpuid_1_ecx, cpuid_1_edx;
	uint32_t cpuid_7_ebx, cpuid_7_ecx, cpuid_7_edx; /* leaf 7 subleaf 0 */
	uint32_t reserved0;       /* 0 */
	uint64_t xcr0_mask;       /* CPUID.(EAX=0DH,ECX=0):EDX:EAX */
	uint32_t nr_regions;      /* 1..TERN_MEM_REGIONS_MAX */
	uint32_t reserved1;       /* 0 */
	struct tern_mem_region regions[TERN_MEM_REGIONS_MAX]; /* as TERN_HC_VM_MEMMAP gives them */
};
#define MIGSTREAM_CONFIG_FIXED offsetof(struct migstream_config, regions)

/* PAGE_DATA and PAGE_ZERO bodies: this, count GFNs, then (PAGE_DATA) count pages. */
struct migstream_pages {
	uint32_t count;      /* 1..MIGSTREAM_PAGES_MAX */
	uint32_t reserved;   /* 0 */
};

/* ROUND_END body */
struct migstream_round {
	uint32_t round;      /* 0, 1, 2, ... */
	uint32_t flags;      /* MIGSTREAM_ROUND_LAST */
	uint64_t pages;      /* PAGE_DATA and PAGE_ZERO pages since the previous ROUND_END */
};

/* VCPU_STATE body: this, then a struct tern_vcpu_regs as VCPU_GET_REGS wrote it. */
struct migstream_vcpu {
	uint32_t index;      /* < nr_vcpus */
	uint32_t reserved;   /* 0 */
};

/* The largest body of each type; the largest of all is a full PAGE_DATA. */
#define MIGSTREAM_PAGES_BODY(n, data) \
	(sizeof(struct migstream_pages) + (n) * (8u + ((data) ? MIGSTREAM_PAGE_SIZE : 0u)))
#define MIGSTREAM_BODY_MAX MIGSTREAM_PAGES_BODY(MIGSTREAM_PAGES_MAX, 1) /* 2101256 */

/* --- writer ------------------------------------------------------------------ */

typedef void migstream_sink_fn(void *ctx, const void *buf, size_t n);

struct migstream_writer {
	migstream_sink_fn *sink;
	void *ctx;
	uint64_t bytes;      /* written so far */
	bool error;          /* a record the writer refused: nothing written for it */
};

/*
 * Each call writes one whole record, or (bad count, body over
 * MIGSTREAM_BODY_MAX) sets error and writes nothing. The writer frames; it
 * does not enforce the order of records, which is the parser's to check.
 */
void migstream_writer_init(struct migstream_writer *w, migstream_sink_fn *sink, void *ctx);
void migstream_write_header(struct migstream_writer *w);
void migstream_write_record(struct migstream_writer *w, uint32_t type, const void *body, uint32_t len);
void migstream_write_config(struct migstream_writer *w, const struct migstream_config *c);
/* count GFNs and count * 4 KiB of page contents, in the same order. */
void migstream_write_pages(struct migstream_writer *w, const uint64_t *gfns, const void *pages,
			   uint32_t count);
void migstream_write_zero(struct migstream_writer *w, const uint64_t *gfns, uint32_t count);
void migstream_write_round(struct migstream_writer *w, uint32_t round, uint64_t pages, bool last);
void migstream_write_vcpu(struct migstream_writer *w, uint32_t index, const struct tern_vcpu_regs *regs);
void migstream_write_devices(struct migstream_writer *w, const void *records, uint32_t len);
void migstream_write_end(struct migstream_writer *w);

/* --- parser ------------------------------------------------------------------ */

enum migstream_err {
	MIGSTREAM_OK,
	MIGSTREAM_E_TRUNCATED,
	MIGSTREAM_E_BUFFER,
	MIGSTREAM_E_MAGIC,
	MIGSTREAM_E_VERSION,
	MIGSTREAM_E_FLAGS,
	MIGSTREAM_E_PAGE_SHIFT,
	MIGSTREAM_E_HDR_LEN,
	MIGSTREAM_E_HDR_CRC,
	MIGSTREAM_E_TYPE,
	MIGSTREAM_E_TOO_BIG,
	MIGSTREAM_E_NO_ROOM,
	MIGSTREAM_E_RESERVED,
	MIGSTREAM_E_CRC,
	MIGSTREAM_E_PADDING,
	MIGSTREAM_E_LENGTH,
	MIGSTREAM_E_NO_CONFIG,
	MIGSTREAM_E_CONFIG_AGAIN,
	MIGSTREAM_E_AFTER_LAST,
	MIGSTREAM_E_STATE_EARLY,
	MIGSTREAM_E_END_EARLY,
	MIGSTREAM_E_VCPU_MISSING,
	MIGSTREAM_E_DEV_MISSING,
	MIGSTREAM_E_VCPU_DUP,
	MIGSTREAM_E_DEV_DUP,
	MIGSTREAM_E_TRAILING,
	MIGSTREAM_E_NAME,
	MIGSTREAM_E_NR_VCPUS,
	MIGSTREAM_E_NR_REGIONS,
	MIGSTREAM_E_REGION,
	MIGSTREAM_E_MEM_SIZE,
	MIGSTREAM_E_VCPU_VERSION,
	MIGSTREAM_E_VCPU_SIZE,
	MIGSTREAM_E_COUNT,
	MIGSTREAM_E_GFN_RANGE,
	MIGSTREAM_E_GFN_DUP,
	MIGSTREAM_E_GFN_ORDER,
	MIGSTREAM_E_ROUND,
	MIGSTREAM_E_ROUND_PAGES,
	MIGSTREAM_E_VCPU_INDEX,
	MIGSTREAM_E_DEV_RECORD,
	MIGSTREAM_NR_ERRORS /* number of errors */
};

/*
 * One record as the parser hands it back. body (length bytes) lies in the
 * caller's buffer and stays valid until the next push; the decoded fields
 * point into it, except config, which is the parser's own copy.
 */
struct migstream_record {
	uint32_t type;
	uint32_t length;
	uint32_t number;     /* 1: VM_CONFIG */
	uint64_t offset;     /* of its record header in the stream */
	const uint8_t *body;
	union {
		const struct migstream_config *config;   /* VM_CONFIG */
		struct {
			uint32_t count;
			const uint64_t *gfns;
			const uint8_t *data;             /* PAGE_DATA: count pages; else NULL */
		} pages;                                 /* PAGE_DATA, PAGE_ZERO */
		struct migstream_round round;            /* ROUND_END */
		struct {
			uint32_t index;
			const struct tern_vcpu_regs *regs;
		} vcpu;                                  /* VCPU_STATE */
		struct {
			const uint8_t *records;
			uint32_t len;
		} devices;                               /* DEVICE_STATE */
	};
};

enum migstream_phase { MIGSTREAM_HDR, MIGSTREAM_RECHDR, MIGSTREAM_BODY, MIGSTREAM_PAD,
		       MIGSTREAM_DONE, MIGSTREAM_FAILED };

struct migstream_parser {
	uint8_t *buf;        /* the caller's, MIGSTREAM_ALIGN-aligned: one body */
	size_t buf_size;
	enum migstream_phase phase;
	uint8_t head[sizeof(struct migstream_hdr)]; /* the stream or a record header, assembling */
	uint32_t have;       /* bytes of the current piece (header, body, padding) so far */
	struct migstream_rec rec;
	uint32_t crc;        /* of the current record so far */
	bool skip;           /* an unknown optional record: checked, not kept */
	uint64_t offset;     /* bytes taken so far */
	uint64_t rec_offset; /* of the current record's header */
	uint32_t number;     /* of the current record */
	uint32_t skipped;    /* unknown optional records */
	/* Where the stream is (docs/migration.md, "Order") */
	bool have_config, last_round, have_devices;
	uint32_t next_round;
	uint64_t round_pages; /* since the last ROUND_END */
	uint32_t vcpus_seen;  /* bit i: VCPU_STATE of vCPU i */
	struct migstream_config config;
	/* The error: what, in which record (0: the stream header), the detail */
	enum migstream_err err;
	uint32_t err_number;
	uint32_t err_type;
	uint64_t err_offset;
	uint64_t err_value;
	char msg[160];
};

/* buf must be MIGSTREAM_ALIGN-aligned; records longer than size are refused (E_NO_ROOM). */
void migstream_parser_init(struct migstream_parser *p, void *buf, size_t size);

enum migstream_status {
	MIGSTREAM_MORE,   /* every byte taken: push more */
	MIGSTREAM_RECORD, /* *rec is a record; *taken bytes were used: push the rest */
	MIGSTREAM_ERROR,  /* p->err; the parser stays failed */
};
enum migstream_status migstream_push(struct migstream_parser *p, const void *data, size_t len,
				     size_t *taken, struct migstream_record *rec);
/* At the end of input: MIGSTREAM_OK after END, else the error (E_TRUNCATED if none yet). */
enum migstream_err migstream_finish(struct migstream_parser *p);
/*
 * The error, what and where, as the shell prints it: "record 17 (PAGE_DATA)
 * at byte 35136: GFN 0x12345 outside guest RAM". The parser's own buffer.
 */
const char *migstream_strerror(struct migstream_parser *p);
/* "PAGE_DATA" and so on; NULL for a type this version does not know. */
const char *migstream_type_name(uint32_t type);

#endif
