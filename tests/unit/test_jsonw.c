/* test_jsonw: the JSON writer against jansson's json_dumps(JSON_COMPACT), byte for byte: the
 * messages credsyncd sends must not change when it stops building jansson trees. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* What the encoders wrote before jsonw: the string sanitized, then dumped by jansson. */
static char *
jansson_member(const char *s, size_t n)
{
	size_t clean_len;
	char *clean = utf8_sanitize(s, n, &clean_len);
	json_t *o = json_object();
	json_object_set_new(o, "k", json_stringn(clean, clean_len));
	char *out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(clean);
	return out;
}

Test(jsonw, strings_as_jansson_writes_them)
{
	static const struct {
		const char *s;
		size_t n;
	} cases[] = {
	    {"", 0},
	    {"plain ascii / slash", 19},
	    {"quote \" backslash \\", 19},
	    {"\b\f\n\r\t", 5},
	    {"\x01\x1f\x7f", 3},
	    {"nul \0 inside", 12},
	    {"呼税罚〔2024〕12号", sizeof("呼税罚〔2024〕12号") - 1},
	    {"four bytes \xf0\x9f\x90\x8d", 15},
	    {"bad \xff byte", 10},
	    {"cut \xe8\x92", 6},
	    {"surrogate \xed\xa0\x80 x", 15},
	    {"overlong \xc0\xaf", 11},
	    {"past U+10FFFF \xf4\x90\x80\x80", 18},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct jsonw w;
		jw_begin(&w, 0);
		jw_key(&w, "k");
		jw_strn(&w, cases[i].s, cases[i].n);
		char *got = jw_end(&w), *want = jansson_member(cases[i].s, cases[i].n);
		cr_assert_not_null(got, "case %zu", i);
		cr_expect_str_eq(got, want, "case %zu", i);
		free(got);
		free(want);
	}
}

Test(jsonw, nesting_nulls_and_numbers)
{
	struct jsonw w;
	jw_begin(&w, 4); /* grows past the hint */
	jw_key(&w, "a");
	jw_array(&w);
	jw_str(&w, "x");
	jw_null(&w);
	jw_int(&w, -9223372036854775807LL - 1);
	jw_object(&w);
	jw_close(&w);
	jw_array(&w);
	jw_close(&w);
	jw_close(&w);
	jw_key(&w, "b");
	jw_object(&w);
	jw_key(&w, "c");
	jw_str(&w, NULL);
	jw_key(&w, "d");
	jw_int(&w, 4711);
	char *got = jw_end(&w); /* closes "b" and the top object */

	json_t *want_v =
	    json_pack("{s:[s,n,I,{},[]],s:{s:n,s:I}}", "a", "x",
	              (json_int_t)(-9223372036854775807LL - 1), "b", "c", "d", (json_int_t)4711);
	char *want = json_dumps(want_v, JSON_COMPACT);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, want);
	json_decref(want_v);
	free(want);
	free(got);
}

Test(jsonw, too_deep_or_unbalanced_fails)
{
	struct jsonw w;
	jw_begin(&w, 0);
	for (int i = 0; i < JSONW_DEPTH; i++) {
		jw_key(&w, "k");
		jw_object(&w);
	}
	cr_expect_null(jw_end(&w));

	jw_begin(&w, 0);
	jw_close(&w);
	jw_close(&w);
	cr_expect_null(jw_end(&w));
}
