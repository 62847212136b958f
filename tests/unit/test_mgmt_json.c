/* SPDX-License-Identifier: MIT */
/* Host unit tests for tools/mgmt/json.c: the shell's JSON writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tools/mgmt/json.h"

static char doc[16384];
static size_t doc_len;
static unsigned int sink_calls;

static void sink(void *ctx, const char *s, size_t n)
{
	assert_ptr_equal(ctx, doc);
	assert_true(n > 0 && n <= JSON_BUF);
	assert_true(doc_len + n < sizeof(doc));
	memcpy(doc + doc_len, s, n);
	doc_len += n;
	doc[doc_len] = '\0';
	sink_calls++;
}

static struct json j;

static int setup(void **state)
{
	doc_len = 0;
	doc[0] = '\0';
	sink_calls = 0;
	json_init(&j, sink, doc);
	return 0;
}

static void test_object_members(void **state)
{
	json_obj_begin(&j, NULL);
	json_u64(&j, "id", 7);
	json_str(&j, "name", "web-1");
	json_bool(&j, "management", false);
	json_null(&j, "cpu");
	json_i64(&j, "delta", -42);
	json_u64(&j, "max", UINT64_MAX);
	json_obj_end(&j);
	assert_int_equal(doc_len, 0); /* buffered until finished */
	assert_true(json_finish(&j));
	assert_string_equal(doc, "{\"id\":7,\"name\":\"web-1\",\"management\":false,\"cpu\":null,"
				 "\"delta\":-42,\"max\":18446744073709551615}");
}

static void test_nesting(void **state)
{
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "vms");
	for (unsigned int i = 0; i < 2; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "id", i);
		json_arr_begin(&j, "cpus");
		json_u64(&j, NULL, 0);
		json_u64(&j, NULL, 1);
		json_arr_end(&j);
		json_obj_begin(&j, "exits");
		json_obj_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "empty");
	json_arr_end(&j);
	json_obj_end(&j);
	assert_true(json_finish(&j));
	assert_string_equal(doc, "{\"vms\":[{\"id\":0,\"cpus\":[0,1],\"exits\":{}},"
				 "{\"id\":1,\"cpus\":[0,1],\"exits\":{}}],\"empty\":[]}");
}

static void test_string_escapes(void **state)
{
	json_obj_begin(&j, NULL);
	json_str(&j, "s", "a\"b\\c\nd\re\tf\x01g\x1f\x7f\x80\xff/");
	json_str(&j, "we\"ird", "");
	json_obj_end(&j);
	assert_true(json_finish(&j));
	assert_string_equal(doc, "{\"s\":\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f\\u007f\\u0080"
				 "\\u00ff/\",\"we\\\"ird\":\"\"}");
}

static void test_strn_stops_at_max(void **state)
{
	char field[4] = { 'a', 'b', 'c', 'd' }; /* no NUL */

	json_arr_begin(&j, NULL);
	json_strn(&j, NULL, field, sizeof(field));
	json_strn(&j, NULL, "xy\0z", 4);
	json_arr_end(&j);
	assert_true(json_finish(&j));
	assert_string_equal(doc, "[\"abcd\",\"xy\"]");
}

static void test_fixed(void **state)
{
	json_arr_begin(&j, NULL);
	json_fixed(&j, NULL, 123, 1);
	json_fixed(&j, NULL, 5, 1);
	json_fixed(&j, NULL, 1000007, 6);
	json_fixed(&j, NULL, 42, 0);
	json_arr_end(&j);
	assert_true(json_finish(&j));
	assert_string_equal(doc, "[12.3,0.5,1.000007,42]");
}

static void test_long_document_flushes_in_pieces(void **state)
{
	char name[40];

	json_arr_begin(&j, NULL);
	for (unsigned int i = 0; i < 200; i++) {
		memset(name, 'a' + i % 26, sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		json_str(&j, NULL, name);
	}
	json_arr_end(&j);
	assert_true(json_finish(&j));
	assert_int_equal(doc_len, 2 + 200 * 41 + 199);
	assert_true(sink_calls > 1);
	assert_int_equal(doc[0], '[');
	assert_int_equal(doc[doc_len - 1], ']');
}

static void test_errors(void **state)
{
	/* Incomplete: not finished. */
	json_obj_begin(&j, NULL);
	assert_false(json_finish(&j));
	setup(state);
	/* A second value after the document. */
	json_u64(&j, NULL, 1);
	json_u64(&j, NULL, 2);
	assert_false(json_finish(&j));
	assert_string_equal(doc, "1");
	setup(state);
	/* A close without an open. */
	json_arr_end(&j);
	assert_false(json_finish(&j));
	setup(state);
	/* Too deep. */
	for (unsigned int i = 0; i < JSON_DEPTH_MAX + 1; i++)
		json_arr_begin(&j, NULL);
	for (unsigned int i = 0; i < JSON_DEPTH_MAX + 1; i++)
		json_arr_end(&j);
	assert_false(json_finish(&j));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_object_members, setup),
		cmocka_unit_test_setup(test_nesting, setup),
		cmocka_unit_test_setup(test_string_escapes, setup),
		cmocka_unit_test_setup(test_strn_stops_at_max, setup),
		cmocka_unit_test_setup(test_fixed, setup),
		cmocka_unit_test_setup(test_long_document_flushes_in_pieces, setup),
		cmocka_unit_test_setup(test_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
