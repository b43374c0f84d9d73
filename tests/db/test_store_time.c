/* test_store_time: store_time.c: the expiry scan lists the shown records past their period. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

Test(store_time, expiring_lists_shown_records_past_their_period, FRESH)
{
	struct record recs[5];
	struct record_key keys[4];
	struct store_batch b = {.recs = recs, .n_recs = 5};
	size_t n;
	char err[512];

	recs[0] = storetest_penalty(USCC_A, "late");
	recs[0].disclose_until = testlib_ymd(2024, 6, 1);
	recs[1] = storetest_penalty(USCC_A, "early");
	recs[1].disclose_until = testlib_ymd(2024, 1, 1);
	recs[2] = storetest_penalty(USCC_A, "down");
	recs[2].status = REC_DOWN;
	recs[2].disclose_until = testlib_ymd(2023, 1, 1);
	recs[3] = storetest_penalty(USCC_A, "future");
	recs[3].disclose_until = testlib_ymd(2030, 1, 1);
	recs[4] = storetest_penalty(USCC_A, "today");
	recs[4].disclose_until = testlib_ymd(2024, 7, 1);
	storetest_commit(storetest_st, &b);

	cr_assert_eq(
	    store_expiring(storetest_st, testlib_ymd(2024, 7, 1), 4, keys, &n, err, sizeof err), 0,
	    "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(keys[0].decision_no, "early");
	cr_assert_str_eq(keys[1].decision_no, "late");
	cr_assert_eq(keys[0].kind, KIND_PENALTY);
	cr_assert_str_eq(keys[0].uscc, USCC_A);
	cr_assert_eq(
	    store_expiring(storetest_st, testlib_ymd(2024, 7, 1), 1, keys, &n, err, sizeof err), 0);
	cr_assert_eq(n, 1);
}
