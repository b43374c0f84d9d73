/* test_jdoc: jdoc's strict reader against jansson. Whatever it takes, jansson (with
 * JSON_REJECT_DUPLICATES) takes too, into the same document; what it leaves to jansson is
 * read there (event.c). Checked on the fixtures, the fuzz corpus, hand-picked edges and a
 * hundred thousand mutations of real events. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "testlib.h"

/* Reads buf both ways. Returns whether jdoc's reader took it; fails the test when it took
 * what jansson refuses, or read it otherwise. */
static bool
check(const char *buf, size_t len)
{
	struct jdoc fast, slow;
	json_error_t err;
	bool took = jdoc_parse(&fast, buf, len) == 0;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);

	if (took) {
		cr_assert_not_null(j, "jdoc took what jansson refuses (%s): %.*s", err.text,
		                   (int)len, buf);
		cr_assert_eq(jdoc_from_jansson(&slow, j), 0);
		cr_assert(jv_same(jdoc_root(&fast), jdoc_root(&slow)), "read otherwise: %.*s",
		          (int)len, buf);
		cr_assert_eq(fast.depth, slow.depth, "depth of %.*s", (int)len, buf);
		jdoc_free(&fast);
		jdoc_free(&slow);
	}
	json_decref(j);
	return took;
}

/* Every file of a fixtures folder's case folders named name, or of a corpus folder. */
static size_t
each_file(const char *dir, const char *name, size_t *ret_fast,
          void (*also)(const char *buf, size_t len))
{
	size_t n = 0, n_names;
	char **names = testlib_list_dir(dir, "", &n_names);

	cr_assert_not_null(names, "%s", dir);
	for (size_t i = 0; i < n_names; i++) {
		char path[4096];
		size_t len;
		snprintf(path, sizeof path, "%s/%s%s%s", dir, names[i], name ? "/" : "",
		         name ? name : "");
		char *buf = testlib_read_file(path, &len);
		if (buf == NULL)
			continue;
		n++;
		if (check(buf, len))
			++*ret_fast;
		if (also != NULL)
			also(buf, len);
		free(buf);
	}
	testlib_free_names(names, n_names);
	return n;
}

Test(jdoc, fixtures_and_corpus_read_alike)
{
	static const char *const dirs[] = {"events/valid", "events/invalid", "acks/valid",
	                                   "acks/invalid"};
	char dir[4096];
	size_t fast = 0, n = 0;

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(dir, sizeof dir, "%s/%s", testlib_fixtures_dir(), dirs[i]);
		size_t f = 0, m = each_file(dir, "input", &f, NULL);
		if (strstr(dirs[i], "/valid") != NULL)
			/* real messages take the fast way: this is what it is for */
			cr_assert_geq(f * 10, m * 9, "%s: %zu of %zu read by jdoc", dirs[i], f, m);
		fast += f;
		n += m;
	}
	snprintf(dir, sizeof dir, "%s/../fuzz/corpus/event", testlib_fixtures_dir());
	n += each_file(dir, NULL, &fast, NULL);
	cr_assert_gt(n, 100, "the fixtures and corpus: %zu files", n);
	cr_assert_gt(fast, 0);
}

Test(jdoc, edges)
{
	static const struct {
		const char *in;
		bool fast;
	} cases[] = {
	    {"{}", true},
	    {" \t\r\n{ } \n", true},
	    {"{\"a\":1,\"b\":-0,\"c\":123456789012345678,\"d\":-987654321098765432}", true},
	    {"{\"a\":true,\"b\":false,\"c\":null,\"d\":[],\"e\":{},\"f\":[[{}]]}", true},
	    {"{\"\":\"\",\"k\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}", true},
	    {"{\"税\":\"内蒙古 é 𝄞 \x7f\"}", true},
	    {"{\"a\":1234567890123456789}", false}, /* 19 digits: jansson's */
	    {"{\"a\":01}", false},
	    {"{\"a\":1.5}", false},
	    {"{\"a\":1e5}", false},
	    {"{\"a\":-}", false},
	    {"{\"a\":+1}", false},
	    {"{\"a\":\"\\u0041\"}", false},
	    {"{\"a\":\"\\u0000\"}", false},
	    {"{\"a\":\"\\x\"}", false},
	    {"{\"a\":\"tab\there\"}", false},
	    {"{\"a\":\"x\",\"a\":\"y\"}", false},
	    {"{\"a\":{\"b\":1,\"b\":2}}", false},
	    {"{\"a\":1,}", false},
	    {"{\"a\":[1,]}", false},
	    {"{\"a\" 1}", false},
	    {"{'a':1}", false},
	    {"{\"a\":1} x", false},
	    {"{\"a\":1}{}", false},
	    {"[{\"a\":1}]", false},
	    {"\"a\"", false},
	    {"", false},
	    {"{\"a\":tru}", false},
	    {"{\"a\":truex}", false},
	    {"{\"a\":nul}", false},
	    {"{\"a\":\"\xc0\xaf\"}", false},         /* overlong */
	    {"{\"a\":\"\xe0\x80\xaf\"}", false},     /* overlong */
	    {"{\"a\":\"\xed\xa0\x80\"}", false},     /* a surrogate */
	    {"{\"a\":\"\xf4\x90\x80\x80\"}", false}, /* above U+10FFFF */
	    {"{\"a\":\"\xe5\x86\"}", false},         /* cut short */
	    {"{\"a\":\"\xff\"}", false},
	    {"\xef\xbb\xbf{}", false}, /* a byte order mark */
	    {"{\"a\":\"unterminated}", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_assert_eq(check(cases[i].in, strlen(cases[i].in)), cases[i].fast, "case %zu: %s",
		             i, cases[i].in);
	/* a NUL inside and after the object */
	cr_assert_not(check("{\"a\":\"x\0y\"}", 11));
	cr_assert_not(check("{\"a\":1}\0", 8));

	/* JDOC_MAX_DEPTH levels read, one more left to jansson */
	char deep[6 * (JDOC_MAX_DEPTH + 1) + 8];
	for (int levels = JDOC_MAX_DEPTH; levels <= JDOC_MAX_DEPTH + 1; levels++) {
		size_t o = 0;
		deep[o++] = '{';
		for (int l = 1; l < levels; l++)
			o += (size_t)sprintf(deep + o, "\"a\":{");
		for (int l = 0; l < levels; l++)
			deep[o++] = '}';
		cr_assert_eq(check(deep, o), levels == JDOC_MAX_DEPTH, "%d levels", levels);
	}
}

/* ---- mutations of real messages ---- */

static unsigned long rng = 20261206;

static unsigned
next(void)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)(rng >> 33);
}

static void
mutate(const char *buf, size_t len)
{
	static const unsigned char bytes[] = {'"',  '\\', '{',  '}',  '[',  ']',  ',', ':',  '0',
	                                      '9',  '-',  'e',  '.',  ' ',  'u',  'n', 0x00, 0x1f,
	                                      0x7f, 0x80, 0xc3, 0xe5, 0xed, 0xf4, 0xff};
	char *m = malloc(len * 2 + 8);

	cr_assert_not_null(m);
	for (int k = 0; k < 3000; k++) {
		size_t n = len;
		memcpy(m, buf, len);
		for (int edits = 1 + (int)(next() % 3); edits > 0 && n > 0; edits--) {
			size_t at = next() % n;
			unsigned char b =
			    next() % 4 ? bytes[next() % sizeof bytes] : (unsigned char)next();
			switch (next() % 4) {
			case 0: /* replace */
				m[at] = (char)b;
				break;
			case 1: /* insert */
				memmove(m + at + 1, m + at, n - at);
				m[at] = (char)b;
				n++;
				break;
			case 2: /* delete */
				memmove(m + at, m + at + 1, n - at - 1);
				n--;
				break;
			default: { /* repeat a piece (a member, twice) */
				size_t k2 = next() % 24, room = len * 2 + 8 - n;
				if (at + k2 > n)
					k2 = n - at;
				if (k2 > room)
					k2 = room;
				memmove(m + at + k2, m + at, n - at);
				n += k2;
			}
			}
		}
		check(m, n);
	}
	free(m);
}

Test(jdoc, mutations_read_alike)
{
	char dir[4096];
	size_t fast = 0;

	snprintf(dir, sizeof dir, "%s/events/valid", testlib_fixtures_dir());
	cr_assert_gt(each_file(dir, "input", &fast, mutate), 20);
	snprintf(dir, sizeof dir, "%s/acks/valid", testlib_fixtures_dir());
	each_file(dir, "input", &fast, mutate);
}
