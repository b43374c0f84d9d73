/* test_store_pooling: STORE_POOLING_TRANSACTION (pg.pooling = transaction), on a direct
 * connection: the outbox lease passes between stores, large batches need no temporary table,
 * migrations are checked, not applied, and session stores sharing a server process are told
 * apart from real sessions. tests/e2e/test_pooler.c runs the same through PgBouncer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

static store *
open_pooled(void)
{
	char err[512];
	store *s = store_open_pooled(storetest_db, STORETEST_TIMEOUT_MS, STORE_POOLING_TRANSACTION,
	                             err, sizeof err);
	cr_assert(s != NULL, "store_open_pooled: %s", err);
	return s;
}

static bool
locks(store *s)
{
	bool got = true;
	char err[512];
	cr_assert_eq(store_outbox_lock(s, &got, err, sizeof err), 0, "%s", err);
	return got;
}

Test(store_pooling, the_outbox_lease_has_one_holder_and_passes_on, FRESH)
{
	store *a = open_pooled(), *b = open_pooled();
	struct outbox_row *rows;
	size_t n;
	char err[512];

	cr_assert(locks(a));
	cr_assert(locks(a), "taking it again renews it");
	cr_assert_not(locks(b));
	cr_assert_neq(store_outbox_fetch(b, 0, 10, &rows, &n, err, sizeof err), 0);
	cr_assert_eq(store_outbox_fetch(a, 0, 10, &rows, &n, err, sizeof err), 0, "%s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.leases "
	                                      "WHERE name = 'outbox' AND expires_at > now() "
	                                      "AND expires_at < now() + interval '31 s'"),
	             1);

	/* a holder that stopped renewing: its lease runs out and another store takes it */
	pgtest_exec(storetest_pg, "UPDATE credsync.leases SET expires_at = now() - interval '1 s'");
	cr_assert(locks(b));
	cr_assert_not(locks(a));
	cr_assert_neq(store_outbox_fetch(a, 0, 10, &rows, &n, err, sizeof err), 0);
	cr_assert(strstr(err, "does not hold the outbox lock") != NULL, "%s", err);

	/* a clean close gives it up at once */
	store_close(b);
	cr_assert(locks(a));
	store_close(a);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.leases "
	                                      "WHERE expires_at > now()"),
	             0);
}

/* Batches of COPY_MIN_ROWS inbound rows and more once went through a temporary staging table
 * (a pooler's next transaction may not see it); through a pooler they keep the arrays. */
Test(store_pooling, large_batches_commit_without_a_temporary_table, FRESH)
{
	enum { N = 80 };
	store *s = open_pooled();
	struct store_tp t = storetest_tp(TOPIC, 0);
	struct store_inbound in[N];
	char ids[N][UUID_STRLEN];

	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012d", i);
		in[i] = storetest_inbound(i, ids[i], "applied");
	}
	storetest_claim(s, "A", &t, 1);
	for (int half = 0; half < 2; half++) {
		struct store_batch b = {.in = in + half * N / 2,
		                        .n_in = N / 2,
		                        .grp = "credsyncd",
		                        .member = "A",
		                        .offsets = &t,
		                        .n_offsets = 1};
		t.offset = (half + 1) * N / 2;
		storetest_commit(s, &b);
	}
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), N);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT next_offset FROM credsync.consumer_offsets"),
	             N);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM pg_class "
	                                      "WHERE relname = 'credsync_inbound_stage'"),
	             0);
	store_close(s);
}

Test(store_pooling, migrations_are_checked_not_applied, BARE)
{
	store *s = open_pooled();
	char err[1024];

	cr_assert_eq(store_migrate(s, storetest_sqldir(), err, sizeof err), -1);
	cr_assert(strstr(err, "not applied, from \"001_") != NULL, "%s", err);
	cr_assert(strstr(err, "credsyncd --migrate-only") != NULL, "%s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM pg_namespace "
	                                      "WHERE nspname = 'credsync'"),
	             0, "nothing was created");
	cr_assert(store_migrate(storetest_st, storetest_sqldir(), err, sizeof err) > 0, "%s", err);
	cr_assert_eq(store_migrate(s, storetest_sqldir(), err, sizeof err), 0, "%s", err);
	store_close(s);
}

Test(store_pooling, distinct_sessions_pass_the_session_check, FRESH)
{
	store *b = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	store *const both[] = {storetest_st, b};
	store *const twice[] = {storetest_st, storetest_st};
	char err[1024];

	cr_assert_eq(store_check_sessions(both, 2, err, sizeof err), 0, "%s", err);
	/* one session counted twice stands for two that a pooler put on one server process */
	cr_assert_eq(store_check_sessions(twice, 2, err, sizeof err), -1);
	cr_assert(strstr(err, "set pg.pooling = transaction") != NULL, "%s", err);
	store_close(b);
}
