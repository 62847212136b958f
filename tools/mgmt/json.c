/* SPDX-License-Identifier: MIT */
/* The shell's JSON writer (see json.h): pure logic, no I/O of its own. */
#include "tools/mgmt/json.h"

#include "kernel/string.h"

static void flush(struct json *j)
{
	if (j->len)
		j->sink(j->ctx, j->buf, j->len);
	j->len = 0;
}

static void put(struct json *j, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (j->len == JSON_BUF)
			flush(j);
		j->buf[j->len++] = s[i];
	}
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

void json_init(struct json *j, json_sink_fn *sink, void *ctx)
{
	memset(j, 0, sizeof(*j));
	j->sink = sink;
	j->ctx = ctx;
	j->first[0] = true;
}

/* RFC 8259 section 7: '"', '\\' and U+0000-U+001F must be escaped; 0x7f and up are too. */
static void put_string(struct json *j, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	put(j, "\"", 1);
	for (size_t i = 0; i < max && s[i]; i++) {
		uint8_t c = (uint8_t)s[i];
		char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

		switch (c) {
		case '"': puts_(j, "\\\""); break;
		case '\\': puts_(j, "\\\\"); break;
		case '\n': puts_(j, "\\n"); break;
		case '\r': puts_(j, "\\r"); break;
		case '\t': puts_(j, "\\t"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				put(j, esc, 6);
			else
				put(j, (const char *)&c, 1);
		}
	}
	put(j, "\"", 1);
}

/* The comma and the key before a value; false if no value may come here. */
static bool member(struct json *j, const char *key)
{
	if (j->error || j->done) {
		j->error = true;
		return false;
	}
	/* Keys inside objects only: the document itself and array items have none. */
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
	if (key) {
		put_string(j, key, (size_t)-1);
		put(j, ":", 1);
	}
	return true;
}

/* After a value: at depth 0 the document is complete. */
static void value_done(struct json *j)
{
	if (!j->depth)
		j->done = true;
}

static void open_(struct json *j, const char *key, const char *brace)
{
	if (!member(j, key))
		return;
	if (j->depth == JSON_DEPTH_MAX) {
		j->error = true;
		return;
	}
	puts_(j, brace);
	j->first[++j->depth] = true;
}

static void close_(struct json *j, const char *brace)
{
	if (j->error || !j->depth) {
		j->error = true;
		return;
	}
	puts_(j, brace);
	j->depth--;
	value_done(j);
}

void json_obj_begin(struct json *j, const char *key) { open_(j, key, "{"); }
void json_obj_end(struct json *j) { close_(j, "}"); }
void json_arr_begin(struct json *j, const char *key) { open_(j, key, "["); }
void json_arr_end(struct json *j) { close_(j, "]"); }

void json_strn(struct json *j, const char *key, const char *s, size_t max)
{
	if (!member(j, key))
		return;
	put_string(j, s, max);
	value_done(j);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, (size_t)-1);
}

static void put_u64(struct json *j, uint64_t v, unsigned int min_digits)
{
	char d[24];
	unsigned int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < min_digits);
	while (n)
		put(j, &d[--n], 1);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	if (!member(j, key))
		return;
	put_u64(j, v, 1);
	value_done(j);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	if (!member(j, key))
		return;
	if (v < 0)
		put(j, "-", 1);
	put_u64(j, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 1);
	value_done(j);
}

void json_fixed(struct json *j, const char *key, uint64_t v, unsigned int decimals)
{
	uint64_t scale = 1;

	if (decimals > 18)
		decimals = 18;
	for (unsigned int i = 0; i < decimals; i++)
		scale *= 10;
	if (!member(j, key))
		return;
	put_u64(j, v / scale, 1);
	if (decimals) {
		put(j, ".", 1);
		put_u64(j, v % scale, decimals);
	}
	value_done(j);
}

void json_bool(struct json *j, const char *key, bool v)
{
	if (!member(j, key))
		return;
	puts_(j, v ? "true" : "false");
	value_done(j);
}

void json_null(struct json *j, const char *key)
{
	if (!member(j, key))
		return;
	puts_(j, "null");
	value_done(j);
}

bool json_finish(struct json *j)
{
	flush(j);
	return !j->error && j->done;
}
