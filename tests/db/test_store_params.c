/* test_store_params: store_params.c: array parameters keep quotes, backslashes and braces. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "testlib.h"
#include "store.h"
#include "storetest.h"

/* The set-based statements pass rows as array literals: what the quoting must survive. */
Test(store_params, array_parameters_keep_quotes_backslashes_and_braces, FRESH)
{
	static const char *const payloads[] = {"{\"q\":\"a \\\"quoted\\\" word\"}",
	                                       "back\\slash\\\\",
	                                       "NULL",
	                                       "",
	                                       "{,}\" ,",
	                                       "税 \t\n"};
	enum { N = sizeof payloads / sizeof payloads[0] };
	struct store_outrow out[N];
	char ids[N][UUID_STRLEN];
	struct outbox_row *rows;
	size_t n;
	bool got;
	char err[512];

	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012zu", i + 1);
		out[i] = (struct store_outrow){ids[i], "credit.out.gsxt", payloads[i], payloads[i]};
	}
	struct store_batch b = {.out = out, .n_out = N};
	storetest_commit(storetest_st, &b);
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 100, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, N);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(rows[i].id, ids[i], "in the batch's order");
		cr_assert_str_eq(rows[i].key, payloads[i]);
		cr_assert_str_eq(rows[i].payload, payloads[i]);
	}
	int64_t except[2] = {rows[0].seq, rows[2].seq};
	store_outbox_free(rows, n);

	/* the publisher's window: rows in flight are left out */
	cr_assert_eq(
	    store_outbox_fetch_except(storetest_st, 0, except, 2, 100, &rows, &n, err, sizeof err),
	    0, "%s", err);
	cr_assert_eq(n, N - 2);
	cr_assert_str_eq(rows[0].id, ids[1]);
	cr_assert_str_eq(rows[1].id, ids[3]);
	store_outbox_free(rows, n);
}

/* An obligation's message goes as a binary text[] (sq_barr_*): the text arrives as it is, with
 * no quoting to undo, bytes that are not UTF-8 become U+FFFD, and an obligation without a
 * message has a NULL payload. */
Test(store_params, binary_payloads_arrive_as_they_are, FRESH)
{
	static const char *const payloads[] = {"{\"q\":\"a \\\"quoted\\\" word\"}",
	                                       "back\\slash\\\\",
	                                       "",
	                                       "税 \t\n{,}",
	                                       "bad \xff byte",
	                                       NULL};
	static const char *const stored[] = {"{\"q\":\"a \\\"quoted\\\" word\"}",
	                                     "back\\slash\\\\",
	                                     "",
	                                     "税 \t\n{,}",
	                                     "bad \xef\xbf\xbd byte",
	                                     "(none)"};
	enum { N = sizeof payloads / sizeof payloads[0] };
	struct obligation ob[N];
	struct store_outrow out[N];
	char ids[N][UUID_STRLEN], sql[256];
	size_t n_out = 0;

	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012zu", i + 1);
		ob[i] = storetest_obligation(ids[i], SITE_GSXT, testlib_ymd(2099, 1, 1));
		if (payloads[i] != NULL)
			out[n_out++] =
			    (struct store_outrow){ids[i], "credit.out.gsxt", USCC_A, payloads[i]};
	}
	struct store_batch b = {.obl = ob, .n_obl = N, .out = out, .n_out = n_out};
	storetest_commit(storetest_st, &b);
	for (size_t i = 0; i < N; i++) {
		snprintf(
		    sql, sizeof sql,
		    "SELECT coalesce(payload, '(none)') FROM credsync.obligations WHERE id = '%s'",
		    ids[i]);
		char *got = pgtest_text(storetest_pg, sql);
		cr_assert_str_eq(got, stored[i], "payload %zu", i);
		free(got);
	}
}
