/* SPDX-License-Identifier: MIT */
/* The migration stream's writer and push parser (migstream.h, docs/migration.md). */
#include "tools/mgmt/migstream.h"

#include "kernel/string.h"
#include "tools/mgmt/crc32.h"

/* The wire structures are copied to and from memory as they are. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the stream is little-endian");
_Static_assert(sizeof(struct migstream_hdr) == 32, "migstream_hdr");
_Static_assert(offsetof(struct migstream_hdr, crc) == 28, "migstream_hdr.crc");
_Static_assert(sizeof(struct migstream_rec) == 16, "migstream_rec");
_Static_assert(offsetof(struct migstream_rec, crc) == 8, "migstream_rec.crc");
_Static_assert(offsetof(struct migstream_config, mem_size) == 32, "migstream_config.mem_size");
_Static_assert(offsetof(struct migstream_config, cpuid_1_ecx) == 56, "migstream_config.cpuid");
_Static_assert(offsetof(struct migstream_config, xcr0_mask) == 80, "migstream_config.xcr0_mask");
_Static_assert(MIGSTREAM_CONFIG_FIXED == 96, "migstream_config.regions");
_Static_assert(sizeof(struct migstream_config) == 96 + TERN_MEM_REGIONS_MAX * 24, "migstream_config");
_Static_assert(sizeof(struct migstream_pages) == 8, "migstream_pages");
_Static_assert(sizeof(struct migstream_round) == 16, "migstream_round");
_Static_assert(sizeof(struct migstream_vcpu) == 8, "migstream_vcpu");
_Static_assert(MIGSTREAM_BODY_MAX == 2101256, "MIGSTREAM_BODY_MAX");
_Static_assert(TERN_MAX_VCPUS <= 32, "vcpus_seen has a bit per vCPU");
_Static_assert(sizeof(struct migstream_hdr) >= sizeof(struct migstream_rec), "head holds either");

static const uint8_t zeros[MIGSTREAM_ALIGN];

static uint32_t pad_of(uint32_t len)
{
	return (MIGSTREAM_ALIGN - len % MIGSTREAM_ALIGN) % MIGSTREAM_ALIGN;
}

/* --- writer ------------------------------------------------------------------ */

struct part {
	const void *p;
	size_t n;
};

void migstream_writer_init(struct migstream_writer *w, migstream_sink_fn *sink, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->ctx = ctx;
}

static void emit(struct migstream_writer *w, const void *buf, size_t n)
{
	if (!n)
		return;
	w->sink(w->ctx, buf, n);
	w->bytes += n;
}

/* One record whose body is the parts one after the other: sent as they are, no copy. */
static void write_parts(struct migstream_writer *w, uint32_t type, const struct part *parts,
			unsigned int nparts)
{
	struct migstream_rec h = { .type = type };
	uint64_t len = 0;

	for (unsigned int i = 0; i < nparts; i++)
		len += parts[i].n;
	if (len > MIGSTREAM_BODY_MAX) {
		w->error = true;
		return;
	}
	h.length = (uint32_t)len;
	h.crc = crc32(0, &h, offsetof(struct migstream_rec, crc));
	for (unsigned int i = 0; i < nparts; i++)
		h.crc = crc32(h.crc, parts[i].p, parts[i].n);
	emit(w, &h, sizeof(h));
	for (unsigned int i = 0; i < nparts; i++)
		emit(w, parts[i].p, parts[i].n);
	emit(w, zeros, pad_of(h.length));
}

void migstream_write_header(struct migstream_writer *w)
{
	struct migstream_hdr h = {
		.version = MIGSTREAM_VERSION,
		.page_shift = MIGSTREAM_PAGE_SHIFT,
		.hdr_len = sizeof(h),
	};

	memcpy(h.magic, MIGSTREAM_MAGIC, sizeof(h.magic));
	h.crc = crc32(0, &h, offsetof(struct migstream_hdr, crc));
	emit(w, &h, sizeof(h));
}

void migstream_write_record(struct migstream_writer *w, uint32_t type, const void *body, uint32_t len)
{
	struct part p = { body, len };

	write_parts(w, type, &p, 1);
}

void migstream_write_config(struct migstream_writer *w, const struct migstream_config *c)
{
	if (c->nr_regions > TERN_MEM_REGIONS_MAX) {
		w->error = true;
		return;
	}
	migstream_write_record(w, MIGSTREAM_VM_CONFIG, c,
			       MIGSTREAM_CONFIG_FIXED + c->nr_regions * sizeof(c->regions[0]));
}

static void write_page_list(struct migstream_writer *w, uint32_t type, const uint64_t *gfns,
			    const void *pages, uint32_t count)
{
	struct migstream_pages h = { .count = count };
	struct part parts[3] = {
		{ &h, sizeof(h) },
		{ gfns, (size_t)count * sizeof(*gfns) },
		{ pages, pages ? (size_t)count * MIGSTREAM_PAGE_SIZE : 0 },
	};

	if (count < 1 || count > MIGSTREAM_PAGES_MAX) {
		w->error = true;
		return;
	}
	write_parts(w, type, parts, 3);
}

void migstream_write_pages(struct migstream_writer *w, const uint64_t *gfns, const void *pages,
			   uint32_t count)
{
	write_page_list(w, MIGSTREAM_PAGE_DATA, gfns, pages, count);
}

void migstream_write_zero(struct migstream_writer *w, const uint64_t *gfns, uint32_t count)
{
	write_page_list(w, MIGSTREAM_PAGE_ZERO, gfns, NULL, count);
}

void migstream_write_round(struct migstream_writer *w, uint32_t round, uint64_t pages, bool last)
{
	struct migstream_round r = { round, last ? MIGSTREAM_ROUND_LAST : 0, pages };

	migstream_write_record(w, MIGSTREAM_ROUND_END, &r, sizeof(r));
}

void migstream_write_vcpu(struct migstream_writer *w, uint32_t index, const struct tern_vcpu_regs *regs)
{
	struct migstream_vcpu v = { .index = index };
	struct part parts[2] = { { &v, sizeof(v) }, { regs, sizeof(*regs) } };

	write_parts(w, MIGSTREAM_VCPU_STATE, parts, 2);
}

void migstream_write_devices(struct migstream_writer *w, const void *records, uint32_t len)
{
	migstream_write_record(w, MIGSTREAM_DEVICE_STATE, records, len);
}

void migstream_write_end(struct migstream_writer *w)
{
	migstream_write_record(w, MIGSTREAM_END, NULL, 0);
}

/* --- checking each record's body and place ------------------------------------ */

/* Records an error's detail; returns the error for the check to pass up. */
static enum migstream_err bad(struct migstream_parser *p, enum migstream_err err, uint64_t value)
{
	p->err_value = value;
	return err;
}

/* The first vCPU whose VCPU_STATE has not come, or nr_vcpus. */
static uint32_t vcpu_missing(const struct migstream_parser *p)
{
	uint32_t i = 0;

	while (i < p->config.nr_vcpus && (p->vcpus_seen & (1u << i)))
		i++;
	return i;
}

/* 1-31 characters of TERN_HC_VM_CREATE's alphabet, then NULs to the end. */
static bool name_ok(const char *name)
{
	size_t n = strnlen(name, TERN_NAME_MAX);

	if (n < 1 || n >= TERN_NAME_MAX)
		return false;
	for (size_t i = 0; i < TERN_NAME_MAX; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';

		if (i < n ? !ok : c != '\0')
			return false;
	}
	return true;
}

/* TERN_HC_VM_MEMMAP's promises: ascending, disjoint, page-granular, known types; RAM = mem_size. */
static enum migstream_err check_memmap(struct migstream_parser *p, const struct migstream_config *c)
{
	uint64_t ram = 0, end = 0;

	for (uint32_t i = 0; i < c->nr_regions; i++) {
		const struct tern_mem_region *r = &c->regions[i];

		if (!r->size || ((r->gpa | r->size) & (MIGSTREAM_PAGE_SIZE - 1)) ||
		    r->gpa + r->size < r->gpa || (i && r->gpa < end) || r->reserved ||
		    r->type < TERN_MEM_RAM || r->type > TERN_MEM_RESERVED)
			return bad(p, MIGSTREAM_E_REGION, i);
		end = r->gpa + r->size;
		if (r->type == TERN_MEM_RAM)
			ram += r->size;
	}
	if (!ram || ram != c->mem_size)
		return bad(p, MIGSTREAM_E_MEM_SIZE, ram);
	return MIGSTREAM_OK;
}

static enum migstream_err check_config(struct migstream_parser *p, struct migstream_record *rec)
{
	struct migstream_config c;
	enum migstream_err err;

	if (p->have_config)
		return MIGSTREAM_E_CONFIG_AGAIN;
	if (rec->length < MIGSTREAM_CONFIG_FIXED)
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	memset(&c, 0, sizeof(c));
	memcpy(&c, rec->body, rec->length);
	if (c.nr_regions < 1 || c.nr_regions > TERN_MEM_REGIONS_MAX)
		return bad(p, MIGSTREAM_E_NR_REGIONS, c.nr_regions);
	if (rec->length != MIGSTREAM_CONFIG_FIXED + c.nr_regions * sizeof(c.regions[0]))
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	if (c.reserved0 || c.reserved1)
		return bad(p, MIGSTREAM_E_RESERVED, c.reserved0 | c.reserved1);
	if (!name_ok(c.name))
		return MIGSTREAM_E_NAME;
	if (c.nr_vcpus < 1 || c.nr_vcpus > TERN_MAX_VCPUS)
		return bad(p, MIGSTREAM_E_NR_VCPUS, c.nr_vcpus);
	if (c.vcpu_regs_version != TERN_VCPU_REGS_VERSION)
		return bad(p, MIGSTREAM_E_VCPU_VERSION, c.vcpu_regs_version);
	if (c.vcpu_regs_size != sizeof(struct tern_vcpu_regs))
		return bad(p, MIGSTREAM_E_VCPU_SIZE, c.vcpu_regs_size);
	err = check_memmap(p, &c);
	if (err)
		return err;
	p->config = c;
	p->have_config = true;
	rec->config = &p->config;
	return MIGSTREAM_OK;
}

static bool gfn_in_ram(const struct migstream_config *c, uint64_t gfn)
{
	for (uint32_t i = 0; i < c->nr_regions; i++) {
		const struct tern_mem_region *r = &c->regions[i];
		uint64_t first = r->gpa >> MIGSTREAM_PAGE_SHIFT;

		if (r->type == TERN_MEM_RAM && gfn >= first && gfn - first < r->size >> MIGSTREAM_PAGE_SHIFT)
			return true;
	}
	return false;
}

/* PAGE_DATA and PAGE_ZERO: GFNs strictly ascending (so distinct, and checked in one pass). */
static enum migstream_err check_pages(struct migstream_parser *p, struct migstream_record *rec)
{
	bool data = rec->type == MIGSTREAM_PAGE_DATA;
	struct migstream_pages h;
	uint64_t prev = 0;

	if (p->last_round)
		return MIGSTREAM_E_AFTER_LAST;
	if (rec->length < sizeof(h))
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	memcpy(&h, rec->body, sizeof(h));
	if (h.reserved)
		return bad(p, MIGSTREAM_E_RESERVED, h.reserved);
	if (h.count < 1 || h.count > MIGSTREAM_PAGES_MAX)
		return bad(p, MIGSTREAM_E_COUNT, h.count);
	if (rec->length != MIGSTREAM_PAGES_BODY(h.count, data))
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	for (uint32_t i = 0; i < h.count; i++) {
		uint64_t gfn;

		memcpy(&gfn, rec->body + sizeof(h) + i * sizeof(gfn), sizeof(gfn));
		if (i && gfn == prev)
			return bad(p, MIGSTREAM_E_GFN_DUP, gfn);
		if (i && gfn < prev)
			return bad(p, MIGSTREAM_E_GFN_ORDER, gfn);
		if (!gfn_in_ram(&p->config, gfn))
			return bad(p, MIGSTREAM_E_GFN_RANGE, gfn);
		prev = gfn;
	}
	p->round_pages += h.count;
	rec->pages.count = h.count;
	rec->pages.gfns = (const uint64_t *)(rec->body + sizeof(h));
	rec->pages.data = data ? rec->body + sizeof(h) + h.count * sizeof(uint64_t) : NULL;
	return MIGSTREAM_OK;
}

static enum migstream_err check_round(struct migstream_parser *p, struct migstream_record *rec)
{
	struct migstream_round r;

	if (p->last_round)
		return MIGSTREAM_E_AFTER_LAST;
	if (rec->length != sizeof(r))
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	memcpy(&r, rec->body, sizeof(r));
	if (r.flags & ~MIGSTREAM_ROUND_LAST)
		return bad(p, MIGSTREAM_E_RESERVED, r.flags);
	if (r.round != p->next_round)
		return bad(p, MIGSTREAM_E_ROUND, r.round);
	if (r.pages != p->round_pages)
		return bad(p, MIGSTREAM_E_ROUND_PAGES, p->round_pages);
	p->next_round++;
	p->round_pages = 0;
	p->last_round = r.flags & MIGSTREAM_ROUND_LAST;
	rec->round = r;
	return MIGSTREAM_OK;
}

/* The regs blob is VCPU_GET_REGS's, carried as it is: only its version and size are read. */
static enum migstream_err check_vcpu(struct migstream_parser *p, struct migstream_record *rec)
{
	struct migstream_vcpu v;
	uint32_t version_size[2];

	if (!p->last_round)
		return MIGSTREAM_E_STATE_EARLY;
	if (rec->length < sizeof(v) + sizeof(version_size))
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	memcpy(&v, rec->body, sizeof(v));
	memcpy(version_size, rec->body + sizeof(v), sizeof(version_size));
	if (v.reserved)
		return bad(p, MIGSTREAM_E_RESERVED, v.reserved);
	if (version_size[0] != TERN_VCPU_REGS_VERSION)
		return bad(p, MIGSTREAM_E_VCPU_VERSION, version_size[0]);
	if (version_size[1] != sizeof(struct tern_vcpu_regs))
		return bad(p, MIGSTREAM_E_VCPU_SIZE, version_size[1]);
	if (rec->length != sizeof(v) + sizeof(struct tern_vcpu_regs))
		return bad(p, MIGSTREAM_E_LENGTH, rec->length);
	if (v.index >= p->config.nr_vcpus)
		return bad(p, MIGSTREAM_E_VCPU_INDEX, v.index);
	if (p->vcpus_seen & (1u << v.index))
		return bad(p, MIGSTREAM_E_VCPU_DUP, v.index);
	p->vcpus_seen |= 1u << v.index;
	rec->vcpu.index = v.index;
	rec->vcpu.regs = (const struct tern_vcpu_regs *)(rec->body + sizeof(v));
	return MIGSTREAM_OK;
}

/* DEV_GET_STATE's records, opaque but for their framing, which DEV_SET_STATE will rely on. */
static enum migstream_err check_devices(struct migstream_parser *p, struct migstream_record *rec)
{
	uint32_t off = 0;

	if (!p->last_round)
		return MIGSTREAM_E_STATE_EARLY;
	if (p->have_devices)
		return MIGSTREAM_E_DEV_DUP;
	if (vcpu_missing(p) < p->config.nr_vcpus)
		return bad(p, MIGSTREAM_E_VCPU_MISSING, vcpu_missing(p));
	if (!rec->length)
		return bad(p, MIGSTREAM_E_LENGTH, 0);
	while (off < rec->length) {
		struct tern_dev_record d;

		if (rec->length - off < sizeof(d))
			return bad(p, MIGSTREAM_E_DEV_RECORD, off);
		memcpy(&d, rec->body + off, sizeof(d));
		if (d.size < sizeof(d) || d.size > rec->length - off)
			return bad(p, MIGSTREAM_E_DEV_RECORD, off);
		off += d.size;
	}
	p->have_devices = true;
	rec->devices.records = rec->body;
	rec->devices.len = rec->length;
	return MIGSTREAM_OK;
}

static enum migstream_err check_end(struct migstream_parser *p, struct migstream_record *rec)
{
	if (!p->last_round)
		return MIGSTREAM_E_END_EARLY;
	if (vcpu_missing(p) < p->config.nr_vcpus)
		return bad(p, MIGSTREAM_E_VCPU_MISSING, vcpu_missing(p));
	if (!p->have_devices)
		return MIGSTREAM_E_DEV_MISSING;
	return MIGSTREAM_OK;
}

typedef enum migstream_err check_fn(struct migstream_parser *p, struct migstream_record *rec);

/* Each known type: its name, the longest body it may have (checked before any is kept), its check. */
static const struct {
	const char *name;
	uint32_t max;
	check_fn *check;
} kinds[] = {
	[MIGSTREAM_VM_CONFIG] = { "VM_CONFIG", sizeof(struct migstream_config), check_config },
	[MIGSTREAM_PAGE_DATA] = { "PAGE_DATA", MIGSTREAM_BODY_MAX, check_pages },
	[MIGSTREAM_PAGE_ZERO] = { "PAGE_ZERO", MIGSTREAM_PAGES_BODY(MIGSTREAM_PAGES_MAX, 0), check_pages },
	[MIGSTREAM_ROUND_END] = { "ROUND_END", sizeof(struct migstream_round), check_round },
	[MIGSTREAM_VCPU_STATE] = { "VCPU_STATE",
				   sizeof(struct migstream_vcpu) + sizeof(struct tern_vcpu_regs), check_vcpu },
	[MIGSTREAM_DEVICE_STATE] = { "DEVICE_STATE", TERN_DEV_STATE_MAX, check_devices },
	[MIGSTREAM_END] = { "END", 0, check_end },
};

const char *migstream_type_name(uint32_t type)
{
	return type < sizeof(kinds) / sizeof(kinds[0]) ? kinds[type].name : NULL;
}

/* --- the push parser ---------------------------------------------------------- */

void migstream_parser_init(struct migstream_parser *p, void *buf, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->buf_size = size;
	if (!buf || (uintptr_t)buf % MIGSTREAM_ALIGN) {
		p->phase = MIGSTREAM_FAILED;
		p->err = MIGSTREAM_E_BUFFER;
	}
}

static enum migstream_status fail(struct migstream_parser *p, enum migstream_err err, uint64_t value)
{
	p->phase = MIGSTREAM_FAILED;
	p->err = err;
	p->err_value = value;
	p->err_number = p->number;
	p->err_type = p->rec.type;
	p->err_offset = p->rec_offset;
	return MIGSTREAM_ERROR;
}

static void next_record(struct migstream_parser *p, enum migstream_phase phase)
{
	p->phase = phase;
	p->have = 0;
	p->rec_offset = p->offset;
	p->number++;
	memset(&p->rec, 0, sizeof(p->rec));
}

/* Magic first (so that any other data is called what it is), then the CRC, then the fields. */
static enum migstream_status on_header(struct migstream_parser *p)
{
	struct migstream_hdr h;

	memcpy(&h, p->head, sizeof(h));
	if (memcmp(h.magic, MIGSTREAM_MAGIC, sizeof(h.magic)))
		return fail(p, MIGSTREAM_E_MAGIC, 0);
	if (h.crc != crc32(0, &h, offsetof(struct migstream_hdr, crc)))
		return fail(p, MIGSTREAM_E_HDR_CRC, h.crc);
	if (h.version != MIGSTREAM_VERSION)
		return fail(p, MIGSTREAM_E_VERSION, h.version);
	if (h.hdr_len != sizeof(h))
		return fail(p, MIGSTREAM_E_HDR_LEN, h.hdr_len);
	if (h.page_shift != MIGSTREAM_PAGE_SHIFT)
		return fail(p, MIGSTREAM_E_PAGE_SHIFT, h.page_shift);
	if (h.flags)
		return fail(p, MIGSTREAM_E_FLAGS, h.flags);
	if (h.reserved)
		return fail(p, MIGSTREAM_E_RESERVED, h.reserved);
	next_record(p, MIGSTREAM_RECHDR);
	return MIGSTREAM_MORE;
}

/* Type and length are checked before a byte of the body is kept: nothing unbounded is buffered. */
static enum migstream_status on_rec_header(struct migstream_parser *p)
{
	const char *name;

	memcpy(&p->rec, p->head, sizeof(p->rec));
	name = migstream_type_name(p->rec.type);
	if (p->rec.reserved)
		return fail(p, MIGSTREAM_E_RESERVED, p->rec.reserved);
	if (!name && !(p->rec.type & MIGSTREAM_OPTIONAL))
		return fail(p, MIGSTREAM_E_TYPE, p->rec.type);
	if (p->rec.length > (name ? kinds[p->rec.type].max : MIGSTREAM_BODY_MAX))
		return fail(p, MIGSTREAM_E_TOO_BIG, p->rec.length);
	p->skip = !name;
	if (!p->skip && p->rec.length > p->buf_size)
		return fail(p, MIGSTREAM_E_NO_ROOM, p->rec.length);
	p->crc = crc32(0, &p->rec, offsetof(struct migstream_rec, crc));
	p->phase = MIGSTREAM_BODY;
	p->have = 0;
	return MIGSTREAM_MORE;
}

/* Body and padding are in and the CRC matched: the record's place and contents. */
static enum migstream_status on_record(struct migstream_parser *p, struct migstream_record *rec)
{
	enum migstream_err err = MIGSTREAM_OK;

	memset(rec, 0, sizeof(*rec));
	rec->type = p->rec.type;
	rec->length = p->rec.length;
	rec->number = p->number;
	rec->offset = p->rec_offset;
	rec->body = p->buf;
	if (!p->have_config && rec->type != MIGSTREAM_VM_CONFIG)
		err = MIGSTREAM_E_NO_CONFIG;
	else if (!p->skip)
		err = kinds[rec->type].check(p, rec);
	if (err)
		return fail(p, err, p->err_value);
	if (p->skip) {
		p->skipped++;
		next_record(p, MIGSTREAM_RECHDR);
		return MIGSTREAM_MORE;
	}
	next_record(p, rec->type == MIGSTREAM_END ? MIGSTREAM_DONE : MIGSTREAM_RECHDR);
	return MIGSTREAM_RECORD;
}

/* How many of avail bytes the current piece, want bytes long, still needs. */
static size_t need(const struct migstream_parser *p, size_t want, size_t avail)
{
	return want - p->have < avail ? want - p->have : avail;
}

static void took(struct migstream_parser *p, size_t n, size_t *i)
{
	p->have += (uint32_t)n;
	p->offset += n;
	*i += n;
}

/* One step on the piece the parser is in; MIGSTREAM_MORE with *i == len: all taken. */
static enum migstream_status step(struct migstream_parser *p, const uint8_t *data, size_t len,
				  size_t *i, struct migstream_record *rec)
{
	size_t want = p->phase == MIGSTREAM_HDR ? sizeof(struct migstream_hdr) :
		      p->phase == MIGSTREAM_RECHDR ? sizeof(struct migstream_rec) :
		      p->phase == MIGSTREAM_BODY ? p->rec.length : pad_of(p->rec.length);
	size_t n = need(p, want, len - *i);
	const uint8_t *in = data + *i;

	switch (p->phase) {
	case MIGSTREAM_HDR:
	case MIGSTREAM_RECHDR:
		if (n)
			memcpy(p->head + p->have, in, n);
		took(p, n, i);
		if (p->have < want)
			return MIGSTREAM_MORE;
		return p->phase == MIGSTREAM_HDR ? on_header(p) : on_rec_header(p);
	case MIGSTREAM_BODY:
		if (n && !p->skip)
			memcpy(p->buf + p->have, in, n);
		p->crc = crc32(p->crc, in, n);
		took(p, n, i);
		if (p->have < want)
			return MIGSTREAM_MORE;
		if (p->crc != p->rec.crc)
			return fail(p, MIGSTREAM_E_CRC, p->rec.crc);
		p->phase = MIGSTREAM_PAD;
		p->have = 0;
		return MIGSTREAM_MORE;
	case MIGSTREAM_PAD:
		if (n && memcmp(in, zeros, n))
			return fail(p, MIGSTREAM_E_PADDING, 0);
		took(p, n, i);
		if (p->have < want)
			return MIGSTREAM_MORE;
		return on_record(p, rec);
	case MIGSTREAM_DONE:
		if (*i == len)
			return MIGSTREAM_MORE;
		p->rec_offset = p->offset;
		return fail(p, MIGSTREAM_E_TRAILING, p->offset);
	case MIGSTREAM_FAILED:
		break;
	}
	return MIGSTREAM_ERROR;
}

enum migstream_status migstream_push(struct migstream_parser *p, const void *data, size_t len,
				     size_t *taken, struct migstream_record *rec)
{
	enum migstream_status st = MIGSTREAM_MORE;
	size_t i = 0;

	/* A piece that needs no bytes (END's body, no padding) completes without any. */
	do {
		uint64_t before = p->offset;
		enum migstream_phase phase = p->phase;

		st = step(p, data, len, &i, rec);
		if (st == MIGSTREAM_MORE && i == len && p->offset == before && p->phase == phase)
			break;
	} while (st == MIGSTREAM_MORE);
	*taken = i;
	return st;
}

enum migstream_err migstream_finish(struct migstream_parser *p)
{
	if (p->phase == MIGSTREAM_DONE)
		return MIGSTREAM_OK;
	if (p->phase != MIGSTREAM_FAILED)
		fail(p, MIGSTREAM_E_TRUNCATED, p->offset);
	return p->err;
}

/* --- messages ------------------------------------------------------------------ */

/* What went wrong; %u or %x: the error's value. located: the message names the record. */
static const struct {
	const char *text;
	bool located;
} errors[MIGSTREAM_NR_ERRORS] = {
	[MIGSTREAM_OK] = { "no error", false },
	[MIGSTREAM_E_TRUNCATED] = { "stream truncated: input ended at byte %u before END", false },
	[MIGSTREAM_E_BUFFER] = { "receive buffer missing or not 8-byte aligned", false },
	[MIGSTREAM_E_MAGIC] = { "not a Tern migration stream (bad magic)", true },
	[MIGSTREAM_E_VERSION] = { "format version %u not supported (1 is)", true },
	[MIGSTREAM_E_FLAGS] = { "unknown header flags %x", true },
	[MIGSTREAM_E_PAGE_SHIFT] = { "page size shift %u not supported (12 is)", true },
	[MIGSTREAM_E_HDR_LEN] = { "header length %u, expected 32", true },
	[MIGSTREAM_E_HDR_CRC] = { "header CRC mismatch", true },
	[MIGSTREAM_E_TYPE] = { "unknown record type %x (not optional)", true },
	[MIGSTREAM_E_TOO_BIG] = { "body length %u over the limit for its type", true },
	[MIGSTREAM_E_NO_ROOM] = { "body length %u larger than the receive buffer", true },
	[MIGSTREAM_E_RESERVED] = { "reserved field or flags not zero (%x)", true },
	[MIGSTREAM_E_CRC] = { "CRC mismatch (record says %x)", true },
	[MIGSTREAM_E_PADDING] = { "padding not zero", true },
	[MIGSTREAM_E_LENGTH] = { "body length %u does not match its contents", true },
	[MIGSTREAM_E_NO_CONFIG] = { "first record is not VM_CONFIG", true },
	[MIGSTREAM_E_CONFIG_AGAIN] = { "second VM_CONFIG", true },
	[MIGSTREAM_E_AFTER_LAST] = { "pages or round after the last round", true },
	[MIGSTREAM_E_STATE_EARLY] = { "vCPU or device state before the last round", true },
	[MIGSTREAM_E_END_EARLY] = { "END before the last round", true },
	[MIGSTREAM_E_VCPU_MISSING] = { "no VCPU_STATE for vCPU %u", true },
	[MIGSTREAM_E_DEV_MISSING] = { "END without DEVICE_STATE", true },
	[MIGSTREAM_E_VCPU_DUP] = { "second VCPU_STATE for vCPU %u", true },
	[MIGSTREAM_E_DEV_DUP] = { "second DEVICE_STATE", true },
	[MIGSTREAM_E_TRAILING] = { "data at byte %u after END", false },
	[MIGSTREAM_E_NAME] = { "bad VM name", true },
	[MIGSTREAM_E_NR_VCPUS] = { "vCPU count %u not in 1..8", true },
	[MIGSTREAM_E_NR_REGIONS] = { "memory map: region count %u not in 1..16", true },
	[MIGSTREAM_E_REGION] = { "memory map: region %u empty, unaligned, overlapping or of bad type", true },
	[MIGSTREAM_E_MEM_SIZE] = { "memory map: RAM regions add up to %x, not the RAM size", true },
	[MIGSTREAM_E_VCPU_VERSION] = { "vCPU state version %u not supported", true },
	[MIGSTREAM_E_VCPU_SIZE] = { "vCPU state size %u does not match this version's", true },
	[MIGSTREAM_E_COUNT] = { "page count %u not in 1..512", true },
	[MIGSTREAM_E_GFN_RANGE] = { "GFN %x outside guest RAM", true },
	[MIGSTREAM_E_GFN_DUP] = { "GFN %x twice", true },
	[MIGSTREAM_E_GFN_ORDER] = { "GFN %x out of ascending order", true },
	[MIGSTREAM_E_ROUND] = { "round %u out of sequence", true },
	[MIGSTREAM_E_ROUND_PAGES] = { "round sent %u pages, ROUND_END says otherwise", true },
	[MIGSTREAM_E_VCPU_INDEX] = { "vCPU index %u out of range", true },
	[MIGSTREAM_E_DEV_RECORD] = { "device record at offset %u malformed", true },
};

struct out {
	char *s;
	size_t size, len;
};

static void out_c(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->s[o->len++] = c;
	o->s[o->len] = '\0';
}

static void out_s(struct out *o, const char *s)
{
	while (*s)
		out_c(o, *s++);
}

static void out_u(struct out *o, uint64_t v, unsigned int base)
{
	char d[20];
	unsigned int n = 0;

	if (base == 16)
		out_s(o, "0x");
	do {
		d[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		out_c(o, d[--n]);
}

const char *migstream_strerror(struct migstream_parser *p)
{
	struct out o = { p->msg, sizeof(p->msg), 0 };
	const char *name = migstream_type_name(p->err_type);
	const char *t = p->err < MIGSTREAM_NR_ERRORS ? errors[p->err].text : "?";

	p->msg[0] = '\0';
	if (p->err < MIGSTREAM_NR_ERRORS && errors[p->err].located && !p->err_number) {
		out_s(&o, "stream header: ");
	} else if (p->err < MIGSTREAM_NR_ERRORS && errors[p->err].located) {
		out_s(&o, "record ");
		out_u(&o, p->err_number, 10);
		out_s(&o, " (");
		if (name)
			out_s(&o, name);
		else
			out_u(&o, p->err_type, 16);
		out_s(&o, ") at byte ");
		out_u(&o, p->err_offset, 10);
		out_s(&o, ": ");
	}
	for (; *t; t++) {
		if (t[0] == '%' && (t[1] == 'u' || t[1] == 'x'))
			out_u(&o, p->err_value, *++t == 'x' ? 16 : 10);
		else
			out_c(&o, *t);
	}
	return p->msg;
}
