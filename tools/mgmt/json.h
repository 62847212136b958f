/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer (RFC 8259) for the shell's --json output: members
 * and values are written as they come, through a small buffer, to a sink.
 * Strings are escaped: '"', '\\' and control characters, and bytes >= 0x7f
 * as \u00XX (read as Latin-1), so the document is plain ASCII whatever a VM
 * put in its name or stop reason. Pure logic (tests/unit/test_mgmt_json.c).
 *
 * key is the member's name inside an object, NULL inside an array or for the
 * document itself. Nesting deeper than JSON_DEPTH_MAX, or a value after the
 * document, sets error and writes nothing more.
 */
#ifndef TERN_MGMT_JSON_H
#define TERN_MGMT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 8u
#define JSON_BUF       256u

typedef void json_sink_fn(void *ctx, const char *s, size_t n);

struct json {
	json_sink_fn *sink;
	void *ctx;
	unsigned int depth;            /* open objects and arrays */
	bool first[JSON_DEPTH_MAX + 1]; /* nothing written yet at that depth */
	bool done;                     /* the document's value is complete */
	bool error;
	char buf[JSON_BUF];
	unsigned int len;
};

void json_init(struct json *j, json_sink_fn *sink, void *ctx);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *s);
/* At most max bytes of s (a fixed-size field that may lack its NUL). */
void json_strn(struct json *j, const char *key, const char *s, size_t max);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
/* v / 10^decimals as a JSON number: json_fixed(j, "cpu_pct", 123, 1) gives 12.3. */
void json_fixed(struct json *j, const char *key, uint64_t v, unsigned int decimals);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* Sends what is buffered; true if the document was complete and well formed. */
bool json_finish(struct json *j);

#endif
