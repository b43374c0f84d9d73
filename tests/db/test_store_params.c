/* test_store_params: store_params.c: array parameters keep quotes, backslashes and braces;
 * integers and UUIDs, converted by hand, read back as the server reads them; each element
 * type of the binary arrays arrives as the text form would have. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "testlib.h"
#include "store.h"
#include "store_int.h"
#include "storetest.h"

/* The set-based statements pass rows as arrays: what the text form's quoting had to survive
 * arrives as it is. */
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

/* An obligation's message goes in a binary text[] (sq_arr_*): the text arrives as it is, with
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

	/* the publisher's window over obligations: the messages in flight are left out (with
	 * none to read again, the read without resends of 018_outbox_read.sql) */
	struct outbox_row *rows;
	size_t n;
	bool locked;
	char err[512];
	cr_assert_eq(store_outbox_lock(storetest_st, &locked, err, sizeof err), 0, "%s", err);
	cr_assert(locked);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 2, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 2);
	int64_t in_flight[2] = {rows[0].seq, rows[1].seq};
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_fetch_except(storetest_st, 0, in_flight, 2, 100, &rows, &n, err,
	                                       sizeof err),
	             0, "%s", err);
	cr_assert_eq(n, n_out - 2);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(rows[i].id, out[i + 2].id);
	store_outbox_free(rows, n);
}

/* Integers are written without snprintf and UUIDs parsed without libuuid (store_params.c):
 * what the server reads must be what printf writes and what PostgreSQL's own uuid_in reads,
 * and a text that is not a canonical UUID must be NULL, never a wrong value. */
Test(store_params, integers_and_uuids_reach_the_server_as_written, FRESH)
{
	static const int64_t nums[] = {
	    INT64_MIN, INT64_MIN + 1, -1234567890123, -10,      -1, 0, 7, 10,
	    99,        100,           4294967296,     INT64_MAX};
	static const char *const uuids[] = {
	    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
	    "F17CC909-A049-53C3-88BE-D09C5C8CC5DC", "f17cc909-a049-53c3-88be-d09c5c8cc5dc",
	    "5c1D3a0e-8F41-4f7b-9d2a-6b0f3c8e7a15"};
	static const char *const not_uuids[] = {
	    "",
	    "f17cc909-a049-53c3-88be-d09c5c8cc5d",   /* short */
	    "f17cc909-a049-53c3-88be-d09c5c8cc5dc0", /* long */
	    "f17cc909a049-53c3-88be-d09c5c8cc5dc-",  /* dash moved */
	    "f17cc909-a049-53c3-88be-d09c5c8cc5dg",  /* not hex */
	    "{17cc909-a049-53c3-88be-d09c5c8cc5dc",  /* braces, as uuid_in allows */
	    "f17cc909-a049-53c3-88be\0d09c5c8cc5dc", /* ends where a dash is due */
	    "f17cc909-a0"};                          /* ends inside a pair */
	enum { NN = sizeof nums / sizeof nums[0], NU = sizeof uuids / sizeof uuids[0] };
	enum { NX = sizeof not_uuids / sizeof not_uuids[0] };
	struct sq_arr a = {0};
	struct sq_params p = {0};
	PGresult *res;
	char err[512], want[64];

	/* one parameter, then an array of them all */
	for (size_t i = 0; i < NN; i++) {
		struct sq_params one = {0};
		sq_p_i64(&one, nums[i]);
		cr_assert_eq(sq_exec(storetest_st, "t", "SELECT $1::bigint::text", &one,
		                     PGRES_TUPLES_OK, &res, 5000, err, sizeof err),
		             0, "%s", err);
		snprintf(want, sizeof want, "%" PRId64, nums[i]);
		cr_assert_str_eq(PQgetvalue(res, 0, 0), want);
		PQclear(res);
	}
	sq_arrs_begin(&a, "8");
	for (size_t i = 0; i < NN; i++)
		sq_arr_i64(&a, nums[i]);
	cr_assert_eq(sq_p_arr(&p, &a), 0);
	cr_assert_eq(sq_exec(storetest_st, "t",
	                     "SELECT string_agg(v::text, ',' ORDER BY i) FROM "
	                     "unnest($1::bigint[]) WITH ORDINALITY AS u(v, i)",
	                     &p, PGRES_TUPLES_OK, &res, 5000, err, sizeof err),
	             0, "%s", err);
	char all[512] = "";
	for (size_t i = 0; i < NN; i++) {
		snprintf(want, sizeof want, "%s%" PRId64, i ? "," : "", nums[i]);
		strcat(all, want);
	}
	cr_assert_str_eq(PQgetvalue(res, 0, 0), all);
	PQclear(res);

	/* UUIDs through the binary COPY, beside their text as uuid_in reads it */
	cr_assert_eq(sq_exec(storetest_st, "t", "CREATE TABLE u (i integer, got uuid, txt text)",
	                     NULL, PGRES_COMMAND_OK, NULL, 5000, err, sizeof err),
	             0, "%s", err);
	sq_copy_begin(&a);
	for (size_t i = 0; i < NU + NX; i++) {
		const char *s = i < NU ? uuids[i] : not_uuids[i - NU];
		cr_assert_eq(sq_uuid_valid(s), i < NU, "%s", s);
		sq_copy_i32(&a, (int32_t)i);
		sq_copy_uuid(&a, s);
		sq_copy_text(&a, s);
		sq_copy_row_end(&a);
	}
	sq_copy_end(&a);
	cr_assert_not(a.oom);
	cr_assert_eq(sq_copy(storetest_st, "t", "COPY u FROM STDIN WITH (FORMAT binary)", a.buf,
	                     a.len, err, sizeof err),
	             0, "%s", err);
	sq_arr_free(&a);
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM u WHERE i < %d AND got = txt::uuid",
	         (int)NU);
	cr_assert_eq(pgtest_int(storetest_pg, sql), NU);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM u WHERE i >= %d AND got IS NULL", (int)NU);
	cr_assert_eq(pgtest_int(storetest_pg, sql), NX);
}

/* Reads back, as text, what one typed binary array (sq_arrs_begin) of type el became on the
 * server: the statement casts it to sqltype[], as the batch statements do. */
static char *
typed_array_text(struct sq_arr *a, const char *sqltype)
{
	struct sq_params p = {0};
	PGresult *res;
	char sql[160], err[512];

	cr_assert_eq(sq_p_arr(&p, a), 0, "the array binds");
	snprintf(sql, sizeof sql, "SELECT $1::%s[]::text", sqltype);
	cr_assert_eq(
	    sq_exec(storetest_st, "t", sql, &p, PGRES_TUPLES_OK, &res, 5000, err, sizeof err), 0,
	    "%s: %s", sqltype, err);
	char *got = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return got;
}

/* The batch statements' arrays go in the binary form, each with the element type of its cast:
 * every element function reaches the server as the text form would have, NULLs included,
 * an empty array is empty, and a value the element type cannot hold fails the bind instead
 * of reaching the server as something else. */
Test(store_params, typed_binary_arrays_reach_the_server_as_the_text_form, FRESH)
{
	static const struct {
		char el;
		const char *sqltype, *want;
	} cases[] = {
	    {'t', "text", "{\"a \\\"q\\\" b\",NULL,\"\",\"{,}\",\xef\xbf\xbd}"},
	    {'u', "uuid", "{f17cc909-a049-53c3-88be-d09c5c8cc5dc,NULL,NULL}"},
	    {'4', "integer", "{-2147483648,NULL,0,2147483647,20000}"},
	    {'8', "bigint", "{-9223372036854775808,NULL,9223372036854775807,1700000000}"},
	    {'b', "boolean", "{t,f,NULL}"},
	    {'y', "bytea", "{\"\\\\x00ff41\",\"\\\\x\"}"},
	};
	struct sq_arr a[6] = {{0}};
	char types[7] = "";

	for (size_t i = 0; i < 6; i++)
		types[i] = cases[i].el;
	sq_arrs_begin(a, types);
	sq_arr_text(&a[0], "a \"q\" b");
	sq_arr_null(&a[0]);
	sq_arr_text(&a[0], "");
	sq_arr_text(&a[0], "{,}");
	sq_arr_text(&a[0], "\xff");
	sq_arr_text(&a[1], "F17CC909-A049-53C3-88BE-D09C5C8CC5DC");
	sq_arr_text(&a[1], NULL);
	sq_arr_uuid(&a[1], "not a uuid");
	sq_arr_i64(&a[2], INT32_MIN);
	sq_arr_date(&a[2], DATE_NONE);
	sq_arr_i64(&a[2], 0);
	sq_arr_i64(&a[2], INT32_MAX);
	sq_arr_date(&a[2], 20000);
	sq_arr_i64(&a[3], INT64_MIN);
	sq_arr_secs_or_null(&a[3], 0);
	sq_arr_i64(&a[3], INT64_MAX);
	sq_arr_secs_or_null(&a[3], 1700000000);
	sq_arr_bool(&a[4], true);
	sq_arr_bool(&a[4], false);
	sq_arr_null(&a[4]);
	sq_arr_bytes(&a[5],
	             "\x00\xff"
	             "A",
	             3);
	sq_arr_bytes(&a[5], "", 0);
	for (size_t i = 0; i < 6; i++) {
		char *got = typed_array_text(&a[i], cases[i].sqltype);
		cr_assert_str_eq(got, cases[i].want, "%s[]: %s", cases[i].sqltype, got);
		free(got);
	}

	/* empty arrays, then values the element type cannot hold */
	sq_arrs_begin(a, "4");
	char *got = typed_array_text(&a[0], "integer");
	cr_assert_str_eq(got, "{}");
	free(got);
	sq_arrs_begin(a, "48tbu");
	sq_arr_i64(&a[0], INT64_C(2147483648));
	sq_arr_text(&a[1], "7");
	sq_arr_i64(&a[2], 7);
	sq_arr_text(&a[3], "t");
	sq_arr_bytes(&a[4], "x", 1);
	for (size_t i = 0; i < 5; i++) {
		struct sq_params p = {0};
		cr_assert_eq(sq_p_arr(&p, &a[i]), -1, "array %zu refuses its element", i);
	}
	for (size_t i = 0; i < 6; i++)
		sq_arr_free(&a[i]);
}
