/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests for tools/mgmt/migstream.c, the migration stream's writer
 * and parser, fed as a hostile network would: any split, every truncation,
 * every bit flip, each ordering rule broken, and random mutations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tools/mgmt/crc32.h"
#include "tools/mgmt/migstream.h"

#define GFN_4G 0x100000ull

static uint8_t stream[1u << 20];
static size_t slen;
static struct migstream_writer w;
static _Alignas(8) uint8_t body[MIGSTREAM_BODY_MAX];
static struct migstream_parser p;
static struct migstream_config cfg;
static struct tern_vcpu_regs regs[2];
static uint8_t devs[28];
static uint8_t pages[8][MIGSTREAM_PAGE_SIZE];

static void sink(void *ctx, const void *buf, size_t n)
{
	assert_ptr_equal(ctx, stream);
	assert_true(slen + n <= sizeof(stream));
	memcpy(stream + slen, buf, n);
	slen += n;
}

/* A VM of 2 MiB: 1 MiB at 0, the I/O APIC page, 1 MiB at 4 GiB; nvcpus vCPUs. */
static void make_config(uint32_t nvcpus)
{
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.name, "web-1");
	cfg.mem_size = 2u << 20;
	cfg.nr_vcpus = nvcpus;
	cfg.tsc_khz = 2400000;
	cfg.vcpu_regs_version = TERN_VCPU_REGS_VERSION;
	cfg.vcpu_regs_size = sizeof(struct tern_vcpu_regs);
	cfg.cpuid_1_ecx = 0x80202001;
	cfg.cpuid_1_edx = 0x178bfbff;
	cfg.cpuid_7_ebx = 0x209c01a9;
	cfg.xcr0_mask = 0x7;
	cfg.nr_regions = 3;
	cfg.regions[0] = (struct tern_mem_region){ 0, 1u << 20, TERN_MEM_RAM, 0 };
	cfg.regions[1] = (struct tern_mem_region){ 0xfec00000, 0x1000, TERN_MEM_MMIO, 0 };
	cfg.regions[2] = (struct tern_mem_region){ GFN_4G << 12, 1u << 20, TERN_MEM_RAM, 0 };
}

static int setup(void **state)
{
	slen = 0;
	migstream_writer_init(&w, sink, stream);
	make_config(2);
	for (unsigned int i = 0; i < 2; i++) {
		memset(&regs[i], 0x11 * (i + 1), sizeof(regs[i]));
		regs[i].version = TERN_VCPU_REGS_VERSION;
		regs[i].size = sizeof(regs[i]);
	}
	/* Two device records as DEV_GET_STATE frames them: "PIT1" of 20 bytes, "PIC1" of 8. */
	memset(devs, 0xa5, sizeof(devs));
	memcpy(devs, &(struct tern_dev_record){ 0x31544950, 1, 20 }, 8);
	memcpy(devs + 20, &(struct tern_dev_record){ 0x31434950, 1, 8 }, 8);
	for (unsigned int i = 0; i < 8; i++)
		for (unsigned int b = 0; b < MIGSTREAM_PAGE_SIZE; b++)
			pages[i][b] = (uint8_t)(i * 31 + b * 7);
	return 0;
}

static void begin(void)
{
	migstream_write_header(&w);
	migstream_write_config(&w, &cfg);
}

/* Every vCPU's state, the devices, END. */
static void finish_stream(void)
{
	for (uint32_t i = 0; i < cfg.nr_vcpus; i++)
		migstream_write_vcpu(&w, i, &regs[i]);
	migstream_write_devices(&w, devs, sizeof(devs));
	migstream_write_end(&w);
}

/* The small stream: one vCPU, one zero page in the only round. */
static void small_stream(void)
{
	uint64_t gfn = 1;

	make_config(1);
	begin();
	migstream_write_zero(&w, &gfn, 1);
	migstream_write_round(&w, 0, 1, true);
	finish_stream();
	assert_false(w.error);
}

/* Three rounds of pages and zero pages, the last the stop-and-copy. */
static void full_stream(void)
{
	static const uint64_t r0[4] = { 0, 1, 2, 3 }, z0[2] = { 10, 11 };
	static const uint64_t r1[2] = { GFN_4G, GFN_4G + 255 }, r2[1] = { 5 };

	begin();
	migstream_write_pages(&w, r0, pages[0], 4);
	migstream_write_zero(&w, z0, 2);
	migstream_write_round(&w, 0, 6, false);
	migstream_write_pages(&w, r1, pages[4], 2);
	migstream_write_round(&w, 1, 2, false);
	migstream_write_pages(&w, r2, pages[6], 1);
	migstream_write_zero(&w, r1, 2);
	migstream_write_round(&w, 2, 3, true);
	finish_stream();
	assert_false(w.error);
}

/* --- feeding ------------------------------------------------------------------ */

struct seen {
	uint32_t type, length, number, crc;
};
static struct seen seen[64];
static unsigned int nseen;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure repeats */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static void on_record(const struct migstream_record *rec)
{
	assert_true(nseen < 64);
	assert_ptr_equal(rec->body, p.buf);
	seen[nseen++] = (struct seen){ rec->type, rec->length, rec->number, crc32(0, rec->body, rec->length) };
}

/* Pushes one piece, copied to a buffer of just its size so that ASan sees any over-read. */
static enum migstream_status push_piece(const uint8_t *s, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	const uint8_t *d = copy;
	enum migstream_status st = MIGSTREAM_MORE;

	memcpy(copy, s, n);
	while (n) {
		struct migstream_record rec;
		size_t taken = 0;

		st = migstream_push(&p, d, n, &taken, &rec);
		assert_true(taken <= n);
		d += taken;
		n -= taken;
		if (st == MIGSTREAM_ERROR)
			break;
		if (st == MIGSTREAM_RECORD)
			on_record(&rec);
		else
			assert_int_equal(n, 0);
	}
	free(copy);
	return st;
}

/* piece: 0 all at once, 1 byte by byte, else random pieces of 1..piece bytes. */
static enum migstream_err parse(const uint8_t *s, size_t len, size_t piece)
{
	size_t off = 0;

	nseen = 0;
	migstream_parser_init(&p, body, sizeof(body));
	while (off < len) {
		size_t n = piece == 0 ? len - off : piece == 1 ? 1 : 1 + rnd() % piece;

		if (n > len - off)
			n = len - off;
		if (push_piece(s + off, n) == MIGSTREAM_ERROR)
			break;
		off += n;
	}
	return migstream_finish(&p);
}

/* --- round trip ----------------------------------------------------------------- */

static void check_full_records(void)
{
	static const uint32_t types[] = {
		MIGSTREAM_VM_CONFIG, MIGSTREAM_PAGE_DATA, MIGSTREAM_PAGE_ZERO, MIGSTREAM_ROUND_END,
		MIGSTREAM_PAGE_DATA, MIGSTREAM_ROUND_END, MIGSTREAM_PAGE_DATA, MIGSTREAM_PAGE_ZERO,
		MIGSTREAM_ROUND_END, MIGSTREAM_VCPU_STATE, MIGSTREAM_VCPU_STATE, MIGSTREAM_DEVICE_STATE,
		MIGSTREAM_END,
	};

	assert_int_equal(nseen, sizeof(types) / sizeof(types[0]));
	for (unsigned int i = 0; i < nseen; i++) {
		assert_int_equal(seen[i].type, types[i]);
		assert_int_equal(seen[i].number, i + 1);
	}
	assert_int_equal(seen[1].length, MIGSTREAM_PAGES_BODY(4, 1));
	assert_int_equal(seen[1].crc, crc32(crc32(crc32(0, &(struct migstream_pages){ 4, 0 }, 8),
						  (const uint64_t[]){ 0, 1, 2, 3 }, 32),
					    pages[0], 4 * MIGSTREAM_PAGE_SIZE));
	assert_int_equal(seen[9].crc, crc32(crc32(0, &(struct migstream_vcpu){ 0, 0 }, 8), &regs[0],
					    sizeof(regs[0])));
	assert_int_equal(seen[11].crc, crc32(0, devs, sizeof(devs)));
	assert_int_equal(seen[12].length, 0);
}

static void test_roundtrip_whole(void **state)
{
	full_stream();
	assert_int_equal(slen % 8, 0);
	assert_int_equal(w.bytes, slen);
	assert_int_equal(parse(stream, slen, 0), MIGSTREAM_OK);
	check_full_records();
	assert_memory_equal(&p.config, &cfg, sizeof(cfg));
	assert_int_equal(p.skipped, 0);
	assert_string_equal(migstream_strerror(&p), "no error");
}

static void test_roundtrip_bytes_and_random_pieces(void **state)
{
	size_t pieces[] = { 1, 2, 7, 16, 100, 5000, 70000 };

	full_stream();
	for (unsigned int i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		assert_int_equal(parse(stream, slen, pieces[i]), MIGSTREAM_OK);
		check_full_records();
	}
}

/* The decoded fields point at what the writer was given. */
static void test_decoded_fields(void **state)
{
	struct migstream_record rec;
	size_t off = 0, taken;
	unsigned int n = 0;

	full_stream();
	migstream_parser_init(&p, body, sizeof(body));
	while (off < slen) {
		enum migstream_status st = migstream_push(&p, stream + off, slen - off, &taken, &rec);

		off += taken;
		assert_int_not_equal(st, MIGSTREAM_ERROR);
		if (st != MIGSTREAM_RECORD)
			continue;
		n++;
		if (n == 1)
			assert_string_equal(rec.config->name, "web-1");
		if (n == 5) {
			assert_int_equal(rec.pages.count, 2);
			assert_int_equal(rec.pages.gfns[1], GFN_4G + 255);
			assert_memory_equal(rec.pages.data, pages[4], 2 * MIGSTREAM_PAGE_SIZE);
		}
		if (n == 8)
			assert_null(rec.pages.data);
		if (n == 9) {
			assert_int_equal(rec.round.round, 2);
			assert_int_equal(rec.round.pages, 3);
			assert_int_equal(rec.round.flags, MIGSTREAM_ROUND_LAST);
		}
		if (n == 11) {
			assert_int_equal(rec.vcpu.index, 1);
			assert_memory_equal(rec.vcpu.regs, &regs[1], sizeof(regs[1]));
		}
		if (n == 12)
			assert_memory_equal(rec.devices.records, devs, sizeof(devs));
	}
	assert_int_equal(n, 13);
	assert_int_equal(migstream_finish(&p), MIGSTREAM_OK);
}

/* --- truncation and corruption ----------------------------------------------- */

static void test_truncation_everywhere(void **state)
{
	small_stream();
	for (size_t cut = 0; cut < slen; cut++)
		assert_int_equal(parse(stream, cut, cut % 3), MIGSTREAM_E_TRUNCATED);
	assert_int_equal(parse(stream, slen, 0), MIGSTREAM_OK);
	parse(stream, 40, 0);
	assert_string_equal(migstream_strerror(&p), "stream truncated: input ended at byte 40 before END");
}

static void test_every_bit_flip(void **state)
{
	unsigned int by_err[MIGSTREAM_NR_ERRORS] = { 0 };

	small_stream();
	for (size_t bit = 0; bit < slen * 8; bit++) {
		enum migstream_err err;

		stream[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		err = parse(stream, slen, 0);
		stream[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(err, MIGSTREAM_OK);
		by_err[err]++;
	}
	/* Most flips land in bodies and are the CRC's to catch; the header's have their own. */
	assert_true(by_err[MIGSTREAM_E_CRC] > slen * 4);
	assert_true(by_err[MIGSTREAM_E_MAGIC] == 64);
	assert_true(by_err[MIGSTREAM_E_PADDING] > 0);
	assert_true(by_err[MIGSTREAM_E_RESERVED] > 0);
}

/* --- order -------------------------------------------------------------------- */

static void expect(enum migstream_err err, uint32_t number)
{
	assert_int_equal(parse(stream, slen, 0), err);
	assert_int_equal(p.err_number, number);
	/* The parser stays failed. */
	assert_int_equal(push_piece(stream, 1), MIGSTREAM_ERROR);
	assert_int_equal(migstream_finish(&p), err);
}

static void last_round(void)
{
	migstream_write_round(&w, 0, 0, true);
}

/* Header, VM_CONFIG, an empty last round: where the state records may come. */
static void up_to_states(void)
{
	begin();
	last_round();
}

/* The same, and both vCPUs' states: where DEVICE_STATE may come. */
static void up_to_devices(void)
{
	up_to_states();
	migstream_write_vcpu(&w, 0, &regs[0]);
	migstream_write_vcpu(&w, 1, &regs[1]);
}

static void expect_msg(enum migstream_err err, uint32_t number, const char *msg)
{
	expect(err, number);
	assert_string_equal(migstream_strerror(&p), msg);
}

static void test_config_must_come_first(void **state)
{
	migstream_write_header(&w);
	last_round();
	expect(MIGSTREAM_E_NO_CONFIG, 1);
	setup(state);
	migstream_write_header(&w);
	migstream_write_record(&w, MIGSTREAM_OPTIONAL | 9, "x", 1);
	expect(MIGSTREAM_E_NO_CONFIG, 1);
}

static void test_second_config(void **state)
{
	begin();
	migstream_write_config(&w, &cfg);
	expect(MIGSTREAM_E_CONFIG_AGAIN, 2);
}

static void test_pages_after_last_round(void **state)
{
	uint64_t gfn = 3;

	begin();
	last_round();
	migstream_write_pages(&w, &gfn, pages[0], 1);
	expect(MIGSTREAM_E_AFTER_LAST, 3);
	setup(state);
	begin();
	last_round();
	migstream_write_round(&w, 1, 0, true);
	expect(MIGSTREAM_E_AFTER_LAST, 3);
}

static void test_state_before_last_round(void **state)
{
	begin();
	migstream_write_round(&w, 0, 0, false);
	migstream_write_vcpu(&w, 0, &regs[0]);
	expect(MIGSTREAM_E_STATE_EARLY, 3);
	setup(state);
	begin();
	migstream_write_devices(&w, devs, sizeof(devs));
	expect(MIGSTREAM_E_STATE_EARLY, 2);
}

static void test_end_too_early(void **state)
{
	begin();
	migstream_write_end(&w);
	expect(MIGSTREAM_E_END_EARLY, 2);
	setup(state);
	up_to_states();
	migstream_write_vcpu(&w, 1, &regs[1]);
	migstream_write_end(&w);
	expect(MIGSTREAM_E_VCPU_MISSING, 4);
	assert_int_equal(p.err_value, 0);
	setup(state);
	up_to_devices();
	migstream_write_end(&w);
	expect(MIGSTREAM_E_DEV_MISSING, 5);
}

static void test_missing_and_duplicate_vcpu(void **state)
{
	up_to_states();
	migstream_write_vcpu(&w, 0, &regs[0]);
	migstream_write_devices(&w, devs, sizeof(devs));
	expect_msg(MIGSTREAM_E_VCPU_MISSING, 4, "record 4 (DEVICE_STATE) at byte 5496: no VCPU_STATE for vCPU 1");
	setup(state);
	up_to_states();
	migstream_write_vcpu(&w, 0, &regs[0]);
	migstream_write_vcpu(&w, 0, &regs[0]);
	expect(MIGSTREAM_E_VCPU_DUP, 4);
	setup(state);
	up_to_states();
	finish_stream();
	slen -= sizeof(struct migstream_rec); /* END off, and a state record after DEVICE_STATE */
	migstream_write_vcpu(&w, 1, &regs[1]);
	expect(MIGSTREAM_E_VCPU_DUP, 6);
}

static void test_second_device_state(void **state)
{
	up_to_states();
	finish_stream();
	slen -= sizeof(struct migstream_rec);
	migstream_write_devices(&w, devs, sizeof(devs));
	expect(MIGSTREAM_E_DEV_DUP, 6);
}

static void test_bytes_after_end(void **state)
{
	small_stream();
	stream[slen++] = 0;
	/* the record END leaves no room for */
	expect_msg(MIGSTREAM_E_TRAILING, 7, "data at byte 5592 after END");
	/* A second stream, header and all, is trailing data too. */
	slen--;
	small_stream();
	expect(MIGSTREAM_E_TRAILING, 7);
}

static void test_rounds_in_sequence(void **state)
{
	uint64_t gfn[2] = { 7, 8 };

	begin();
	migstream_write_round(&w, 1, 0, true);
	expect(MIGSTREAM_E_ROUND, 2);
	setup(state);
	begin();
	migstream_write_round(&w, 0, 0, false);
	migstream_write_round(&w, 0, 0, true);
	expect(MIGSTREAM_E_ROUND, 3);
	setup(state);
	begin();
	migstream_write_zero(&w, gfn, 2);
	migstream_write_round(&w, 0, 3, true);
	expect(MIGSTREAM_E_ROUND_PAGES, 3);
	assert_int_equal(p.err_value, 2);
	setup(state);
	begin();
	migstream_write_record(&w, MIGSTREAM_ROUND_END, &(struct migstream_round){ 0, 3, 0 }, 16);
	expect(MIGSTREAM_E_RESERVED, 2);
}

/* --- lengths, counts, GFNs, indices ----------------------------------------- */

/* A record header alone: refused before any of its body is there. */
static void expect_header_refused(uint32_t type, uint32_t length, enum migstream_err err)
{
	struct migstream_rec h = { type, length, 0, 0 };

	slen = 0;
	begin();
	memcpy(stream + slen, &h, sizeof(h));
	slen += sizeof(h);
	migstream_parser_init(&p, body, sizeof(body));
	nseen = 0;
	assert_int_equal(push_piece(stream, slen), MIGSTREAM_ERROR);
	assert_int_equal(p.err, err);
	assert_int_equal(p.err_value, err == MIGSTREAM_E_TYPE ? type : length);
}

static void test_oversized_lengths(void **state)
{
	expect_header_refused(MIGSTREAM_PAGE_DATA, MIGSTREAM_BODY_MAX + 1, MIGSTREAM_E_TOO_BIG);
	expect_header_refused(MIGSTREAM_PAGE_DATA, 0xffffffff, MIGSTREAM_E_TOO_BIG);
	expect_header_refused(MIGSTREAM_PAGE_ZERO, MIGSTREAM_PAGES_BODY(513, 0), MIGSTREAM_E_TOO_BIG);
	expect_header_refused(MIGSTREAM_ROUND_END, 24, MIGSTREAM_E_TOO_BIG);
	expect_header_refused(MIGSTREAM_END, 8, MIGSTREAM_E_TOO_BIG);
	expect_header_refused(MIGSTREAM_DEVICE_STATE, TERN_DEV_STATE_MAX + 8, MIGSTREAM_E_TOO_BIG);
	expect_header_refused(MIGSTREAM_OPTIONAL | 5, MIGSTREAM_BODY_MAX + 8, MIGSTREAM_E_TOO_BIG);
	expect_header_refused(0x42, 8, MIGSTREAM_E_TYPE);
	assert_string_equal(migstream_strerror(&p),
			    "record 2 (0x42) at byte 216: unknown record type 0x42 (not optional)");
}

static void test_small_buffer(void **state)
{
	static _Alignas(8) uint8_t small[MIGSTREAM_PAGE_SIZE];
	uint64_t gfn[2] = { 1, 2 };

	begin();
	migstream_write_pages(&w, gfn, pages[0], 2);
	migstream_parser_init(&p, small, sizeof(small));
	assert_int_equal(push_piece(stream, slen), MIGSTREAM_ERROR);
	assert_int_equal(p.err, MIGSTREAM_E_NO_ROOM);
	migstream_parser_init(&p, small + 1, sizeof(small) - 1);
	assert_int_equal(migstream_finish(&p), MIGSTREAM_E_BUFFER);
	migstream_parser_init(&p, NULL, 0);
	assert_int_equal(push_piece(stream, slen), MIGSTREAM_ERROR);
	assert_string_equal(migstream_strerror(&p), "receive buffer missing or not 8-byte aligned");
}

/* One record of type with this body, after the header and (but for a VM_CONFIG) VM_CONFIG. */
static void expect_body(uint32_t type, const void *b, uint32_t len, enum migstream_err err)
{
	setup(NULL);
	migstream_write_header(&w);
	if (type != MIGSTREAM_VM_CONFIG)
		migstream_write_config(&w, &cfg);
	migstream_write_record(&w, type, b, len);
	expect(err, type == MIGSTREAM_VM_CONFIG ? 1 : 2);
}

static void test_length_against_counts(void **state)
{
	static uint64_t b[3 + MIGSTREAM_PAGE_SIZE / 8] = { 2, 1, 7, 9 };
	static struct migstream_config c;

	/* count 2 and three GFNs; GFNs and one page of data for two */
	expect_body(MIGSTREAM_PAGE_ZERO, b, 32, MIGSTREAM_E_LENGTH);
	expect_body(MIGSTREAM_PAGE_DATA, b, sizeof(b), MIGSTREAM_E_LENGTH);
	expect_body(MIGSTREAM_PAGE_ZERO, b, 4, MIGSTREAM_E_LENGTH);
	b[0] = 0;
	expect_body(MIGSTREAM_PAGE_ZERO, b, 8, MIGSTREAM_E_COUNT);
	b[0] = 600;
	expect_body(MIGSTREAM_PAGE_ZERO, b, 32, MIGSTREAM_E_COUNT);
	/* a VM_CONFIG of three regions that says two, and one cut short */
	c = cfg;
	c.nr_regions = 2;
	expect_body(MIGSTREAM_VM_CONFIG, &c, MIGSTREAM_CONFIG_FIXED + 3 * 24, MIGSTREAM_E_LENGTH);
	expect_body(MIGSTREAM_VM_CONFIG, &c, 40, MIGSTREAM_E_LENGTH);
	setup(state);
	up_to_states();
	migstream_write_record(&w, MIGSTREAM_VCPU_STATE, b, 12);
	expect(MIGSTREAM_E_LENGTH, 3);
}

static void expect_gfns(const uint64_t *gfns, uint32_t n, enum migstream_err err, uint64_t value)
{
	setup(NULL);
	begin();
	migstream_write_zero(&w, gfns, n);
	expect(err, 2);
	assert_int_equal(p.err_value, value);
}

static void test_gfns(void **state)
{
	expect_gfns((const uint64_t[]){ 0x100 }, 1, MIGSTREAM_E_GFN_RANGE, 0x100);
	assert_string_equal(migstream_strerror(&p), "record 2 (PAGE_ZERO) at byte 216: GFN 0x100 outside guest RAM");
	expect_gfns((const uint64_t[]){ 0xfec00 }, 1, MIGSTREAM_E_GFN_RANGE, 0xfec00); /* MMIO */
	expect_gfns((const uint64_t[]){ 3, GFN_4G + 256 }, 2, MIGSTREAM_E_GFN_RANGE, GFN_4G + 256);
	expect_gfns((const uint64_t[]){ UINT64_MAX }, 1, MIGSTREAM_E_GFN_RANGE, UINT64_MAX);
	expect_gfns((const uint64_t[]){ 1, 2, 2 }, 3, MIGSTREAM_E_GFN_DUP, 2);
	expect_gfns((const uint64_t[]){ 1, 3, 2 }, 3, MIGSTREAM_E_GFN_ORDER, 2);
	/* The edges of RAM are in it. */
	setup(state);
	begin();
	migstream_write_zero(&w, (const uint64_t[]){ 0, 0xff, GFN_4G, GFN_4G + 255 }, 4);
	migstream_write_round(&w, 0, 4, true);
	finish_stream();
	assert_int_equal(parse(stream, slen, 0), MIGSTREAM_OK);
}

static void test_vcpu_state_checks(void **state)
{
	up_to_states();
	migstream_write_vcpu(&w, 2, &regs[0]);
	expect(MIGSTREAM_E_VCPU_INDEX, 3);
	setup(state);
	begin();
	last_round();
	regs[0].version = TERN_VCPU_REGS_VERSION + 1;
	migstream_write_vcpu(&w, 0, &regs[0]);
	expect(MIGSTREAM_E_VCPU_VERSION, 3);
	setup(state);
	begin();
	last_round();
	regs[0].size = 5000;
	migstream_write_vcpu(&w, 0, &regs[0]);
	expect(MIGSTREAM_E_VCPU_SIZE, 3);
	/* VM_CONFIG says which version the VM's state is */
	setup(state);
	cfg.vcpu_regs_version = 1;
	begin();
	expect(MIGSTREAM_E_VCPU_VERSION, 1);
	setup(state);
	cfg.vcpu_regs_size = 4096;
	begin();
	expect(MIGSTREAM_E_VCPU_SIZE, 1);
}

static void expect_config(enum migstream_err err)
{
	slen = 0;
	begin();
	expect(err, 1);
	make_config(2);
}

static void test_config_checks(void **state)
{
	strcpy(cfg.name, "");
	expect_config(MIGSTREAM_E_NAME);
	strcpy(cfg.name, "a b");
	expect_config(MIGSTREAM_E_NAME);
	memset(cfg.name, 'a', sizeof(cfg.name));
	expect_config(MIGSTREAM_E_NAME);
	cfg.name[7] = 'x'; /* after the NUL */
	expect_config(MIGSTREAM_E_NAME);
	cfg.nr_vcpus = 0;
	expect_config(MIGSTREAM_E_NR_VCPUS);
	cfg.nr_vcpus = TERN_MAX_VCPUS + 1;
	expect_config(MIGSTREAM_E_NR_VCPUS);
	cfg.nr_regions = 0;
	expect_config(MIGSTREAM_E_NR_REGIONS);
	cfg.regions[1].gpa = 0x80000; /* overlaps RAM */
	expect_config(MIGSTREAM_E_REGION);
	assert_int_equal(p.err_value, 1);
	cfg.regions[2].size = 0x800;
	expect_config(MIGSTREAM_E_REGION);
	cfg.regions[2].gpa = UINT64_MAX & ~0xfffull; /* wraps */
	expect_config(MIGSTREAM_E_REGION);
	cfg.regions[0].type = 5;
	expect_config(MIGSTREAM_E_REGION);
	cfg.regions[0].reserved = 1;
	expect_config(MIGSTREAM_E_REGION);
	cfg.mem_size = 3u << 20;
	expect_config(MIGSTREAM_E_MEM_SIZE);
	cfg.reserved1 = 1;
	expect_config(MIGSTREAM_E_RESERVED);
}

static void test_device_framing(void **state)
{
	up_to_devices();
	memcpy(devs + 20, &(struct tern_dev_record){ 0x31434950, 1, 9 }, 8); /* past the end */
	migstream_write_devices(&w, devs, sizeof(devs));
	expect_msg(MIGSTREAM_E_DEV_RECORD, 5,
		   "record 5 (DEVICE_STATE) at byte 10744: device record at offset 20 malformed");
	setup(state);
	up_to_devices();
	migstream_write_devices(&w, devs, 4); /* shorter than a record header */
	expect(MIGSTREAM_E_DEV_RECORD, 5);
	assert_int_equal(p.err_value, 0);
}

/* --- types, header, framing ------------------------------------------------------ */

static void test_optional_types_skipped(void **state)
{
	begin();
	migstream_write_record(&w, MIGSTREAM_OPTIONAL | 0x42, "thirteen byte", 13);
	last_round();
	migstream_write_record(&w, MIGSTREAM_OPTIONAL | MIGSTREAM_PAGE_DATA, NULL, 0);
	finish_stream();
	assert_int_equal(parse(stream, slen, 1), MIGSTREAM_OK);
	assert_int_equal(p.skipped, 2);
	assert_int_equal(nseen, 6);
	/* Skipped, but their CRC and padding are still checked. */
	stream[sizeof(struct migstream_hdr) + 16 + MIGSTREAM_CONFIG_FIXED + 3 * 24 + 16 + 2] ^= 1;
	expect(MIGSTREAM_E_CRC, 2);
}

static void reseal_header(struct migstream_hdr *h)
{
	h->crc = crc32(0, h, offsetof(struct migstream_hdr, crc));
}

static void expect_header(void (*edit)(struct migstream_hdr *h), enum migstream_err err)
{
	struct migstream_hdr h;

	setup(NULL);
	small_stream();
	memcpy(&h, stream, sizeof(h));
	edit(&h);
	memcpy(stream, &h, sizeof(h));
	expect(err, 0);
}

static void hdr_magic(struct migstream_hdr *h) { h->magic[0] = 'X'; reseal_header(h); }
static void hdr_crc(struct migstream_hdr *h) { h->crc ^= 0x80000000u; }
static void hdr_version(struct migstream_hdr *h) { h->version = 2; reseal_header(h); }
static void hdr_len(struct migstream_hdr *h) { h->hdr_len = 40; reseal_header(h); }
static void hdr_shift(struct migstream_hdr *h) { h->page_shift = 21; reseal_header(h); }
static void hdr_flags(struct migstream_hdr *h) { h->flags = 1; reseal_header(h); }
static void hdr_reserved(struct migstream_hdr *h) { h->reserved = 1; reseal_header(h); }

static void test_stream_header(void **state)
{
	expect_header(hdr_magic, MIGSTREAM_E_MAGIC);
	expect_header(hdr_crc, MIGSTREAM_E_HDR_CRC);
	expect_header(hdr_version, MIGSTREAM_E_VERSION);
	assert_string_equal(migstream_strerror(&p), "stream header: format version 2 not supported (1 is)");
	expect_header(hdr_len, MIGSTREAM_E_HDR_LEN);
	expect_header(hdr_shift, MIGSTREAM_E_PAGE_SHIFT);
	expect_header(hdr_flags, MIGSTREAM_E_FLAGS);
	expect_header(hdr_reserved, MIGSTREAM_E_RESERVED);
}

static void test_record_framing(void **state)
{
	size_t round = sizeof(struct migstream_hdr) + 16 + MIGSTREAM_CONFIG_FIXED + 3 * 24 + 16 + 16;

	/* The zero-page record's body is 16 bytes; ROUND_END's header follows. */
	small_stream();
	stream[round + 12] = 1; /* reserved */
	expect(MIGSTREAM_E_RESERVED, 3);
	setup(state);
	begin();
	migstream_write_record(&w, MIGSTREAM_OPTIONAL | 7, "abc", 3);
	stream[slen - 1] = 0xee; /* padding */
	expect(MIGSTREAM_E_PADDING, 2);
	setup(state);
	small_stream();
	stream[round + 8] ^= 0x40; /* the CRC itself */
	expect(MIGSTREAM_E_CRC, 3);
}

static void test_writer_refuses(void **state)
{
	uint64_t gfn = 1;

	migstream_write_pages(&w, &gfn, pages[0], 0);
	assert_true(w.error);
	w.error = false;
	migstream_write_zero(&w, &gfn, MIGSTREAM_PAGES_MAX + 1);
	assert_true(w.error);
	w.error = false;
	cfg.nr_regions = TERN_MEM_REGIONS_MAX + 1;
	migstream_write_config(&w, &cfg);
	assert_true(w.error);
	w.error = false;
	migstream_write_record(&w, MIGSTREAM_OPTIONAL, body, MIGSTREAM_BODY_MAX + 1);
	assert_true(w.error);
	assert_int_equal(slen, 0);
	assert_string_equal(migstream_type_name(MIGSTREAM_DEVICE_STATE), "DEVICE_STATE");
	assert_null(migstream_type_name(MIGSTREAM_OPTIONAL | 1));
}

/* --- fuzz --------------------------------------------------------------------------- */

/* Gives each record in s a correct CRC again, so that a mutation reaches the checks behind it. */
static void reseal(uint8_t *s, size_t len)
{
	size_t off = sizeof(struct migstream_hdr);

	while (off + sizeof(struct migstream_rec) <= len) {
		struct migstream_rec h;

		memcpy(&h, s + off, sizeof(h));
		if (h.length > len - off - sizeof(h))
			return;
		h.crc = crc32(crc32(0, &h, 8), s + off + sizeof(h), h.length);
		memcpy(s + off, &h, sizeof(h));
		off += sizeof(h) + ((h.length + 7u) & ~7u);
	}
}

static void mutate(uint8_t *s, size_t *len)
{
	static const uint32_t words[] = { 0, 1, 7, 8, 0xff, 0x1000, 0x7fffffff, 0x80000000, 0xffffffff,
					  MIGSTREAM_BODY_MAX, MIGSTREAM_OPTIONAL | 3 };
	size_t at = rnd() % *len;
	uint32_t v = words[rnd() % (sizeof(words) / sizeof(words[0]))];

	switch (rnd() % 5) {
	case 0:
		s[at] ^= (uint8_t)(1u << (rnd() % 8));
		break;
	case 1:
		s[at] = (uint8_t)rnd();
		break;
	case 2:
		at &= ~(size_t)3;
		if (at + 4 <= *len)
			memcpy(s + at, &v, 4);
		break;
	case 3:
		*len = at ? at : 1; /* cut */
		break;
	default:
		if (*len > at + 8) { /* drop 8 bytes */
			memmove(s + at, s + at + 8, *len - at - 8);
			*len -= 8;
		}
		break;
	}
}

static void test_fuzz(void **state)
{
	static uint8_t orig[sizeof(stream)];
	static uint8_t mut[sizeof(stream)];
	unsigned int ok = 0;
	size_t olen;

	full_stream();
	memcpy(orig, stream, slen);
	olen = slen;
	for (unsigned int i = 0; i < 3000; i++) {
		size_t len = olen;
		enum migstream_err err;

		memcpy(mut, orig, olen);
		for (unsigned int m = 1 + rnd() % 3; m; m--)
			mutate(mut, &len);
		if (rnd() % 2)
			reseal(mut, len);
		err = parse(mut, len, 1 + rnd() % 9000);
		assert_true(err < MIGSTREAM_NR_ERRORS);
		assert_true(strlen(migstream_strerror(&p)) > 0);
		ok += err == MIGSTREAM_OK;
	}
	/* Resealed changes to page contents are valid streams; most mutations are not. */
	assert_true(ok < 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_roundtrip_whole, setup),
		cmocka_unit_test_setup(test_roundtrip_bytes_and_random_pieces, setup),
		cmocka_unit_test_setup(test_decoded_fields, setup),
		cmocka_unit_test_setup(test_truncation_everywhere, setup),
		cmocka_unit_test_setup(test_every_bit_flip, setup),
		cmocka_unit_test_setup(test_config_must_come_first, setup),
		cmocka_unit_test_setup(test_second_config, setup),
		cmocka_unit_test_setup(test_pages_after_last_round, setup),
		cmocka_unit_test_setup(test_state_before_last_round, setup),
		cmocka_unit_test_setup(test_end_too_early, setup),
		cmocka_unit_test_setup(test_missing_and_duplicate_vcpu, setup),
		cmocka_unit_test_setup(test_second_device_state, setup),
		cmocka_unit_test_setup(test_bytes_after_end, setup),
		cmocka_unit_test_setup(test_rounds_in_sequence, setup),
		cmocka_unit_test_setup(test_oversized_lengths, setup),
		cmocka_unit_test_setup(test_small_buffer, setup),
		cmocka_unit_test_setup(test_length_against_counts, setup),
		cmocka_unit_test_setup(test_gfns, setup),
		cmocka_unit_test_setup(test_vcpu_state_checks, setup),
		cmocka_unit_test_setup(test_config_checks, setup),
		cmocka_unit_test_setup(test_device_framing, setup),
		cmocka_unit_test_setup(test_optional_types_skipped, setup),
		cmocka_unit_test_setup(test_stream_header, setup),
		cmocka_unit_test_setup(test_record_framing, setup),
		cmocka_unit_test_setup(test_writer_refuses, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
