/* test_store: store.c (and pgutil.c): opening a session, claiming partitions and the fenced
 * offsets, and what happens when the database hangs, drops the session or never answers; no
 * error shows the password. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

Test(store, claim_starts_at_zero_and_commits_move_offsets, FRESH)
{
	struct store_tp tps[2] = {storetest_tp(TOPIC, 0), storetest_tp(TOPIC, 1)};
	struct store_tp again[2] = {storetest_tp(TOPIC, 1), storetest_tp(TOPIC, 0)};
	struct store_tp other = storetest_tp(TOPIC, 0);
	struct store_batch b = {.grp = "credsyncd", .member = "A", .offsets = tps, .n_offsets = 2};
	char err[512];

	storetest_claim(storetest_st, "A", tps, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(tps[i].offset, 0);
		cr_assert_eq(tps[i].epoch, 1);
	}
	tps[0].offset = 5;
	tps[1].offset = 3;
	storetest_commit(storetest_st, &b);

	storetest_claim(storetest_st, "A", again, 2); /* a restart: the same member claims again */
	cr_assert_eq(again[0].offset, 3);
	cr_assert_eq(again[1].offset, 5);
	cr_assert_eq(again[0].epoch, 2);
	cr_assert_eq(again[1].epoch, 2);

	/* another group has offsets of its own */
	cr_assert_eq(store_claim(storetest_st, "other-group", "A", &other, 1, err, sizeof err), 0,
	             "%s", err);
	cr_assert_eq(other.offset, 0);
	cr_assert_eq(other.epoch, 1);

	/* the epoch of the first claim is stale now */
	cr_assert_eq(store_batch_commit(storetest_st, &b, err, sizeof err), STORE_FENCED, "%s",
	             err);
}

Test(store, a_lost_partition_fences_the_whole_batch, FRESH)
{
	store *bst = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	struct store_tp a_tp = storetest_tp(TOPIC, 0), b_tp = storetest_tp(TOPIC, 0);
	static const char uscc[][USCC_BUF] = {USCC_A};
	struct record rec = storetest_penalty(USCC_A, "呼税罚〔2024〕12号"), cur;
	struct obligation ob = storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2024, 5, 7));
	struct store_inbound in = storetest_inbound(0, EV1, "applied");
	struct store_outrow out = {OB1, "credit.out.gsxt", USCC_A, "{}"};
	struct store_tp next;
	struct store_batch b = {.in = &in,
	                        .n_in = 1,
	                        .recs = &rec,
	                        .n_recs = 1,
	                        .obl = &ob,
	                        .n_obl = 1,
	                        .out = &out,
	                        .n_out = 1,
	                        .grp = "credsyncd",
	                        .member = "A",
	                        .offsets = &next,
	                        .n_offsets = 1};
	char err[512];
	bool found;

	storetest_claim(storetest_st, "A", &a_tp, 1);
	cr_assert_eq(store_batch_begin(storetest_st, uscc, 1, &rec.key, 1, &cur, &found, NULL, 0,
	                               NULL, err, sizeof err),
	             0, "%s", err);
	/* B takes the partition over while A's batch is open */
	storetest_claim(bst, "B", &b_tp, 1);
	cr_assert_eq(b_tp.epoch, 2);
	next = a_tp;
	next.offset = 1;
	cr_assert_eq(store_batch_commit(storetest_st, &b, err, sizeof err), STORE_FENCED);
	cr_assert(strstr(err, "could not write batch: partition 0 of \"credit.in.nm-tax\" is no "
	                      "longer owned by \"A\" at epoch 1") == err,
	          "err: %s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 0);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.records"), 0);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations"), 0);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox"), 0);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT next_offset FROM credsync.consumer_offsets"),
	             0);

	/* B, the owner now, commits the same batch */
	next = b_tp;
	next.offset = 1;
	b.member = "B";
	storetest_commit(bst, &b);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 1);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT next_offset FROM credsync.consumer_offsets"),
	             1);

	/* A's connection is still good: it claims again and carries on */
	storetest_claim(storetest_st, "A", &a_tp, 1);
	cr_assert_eq(a_tp.offset, 1);
	cr_assert_eq(a_tp.epoch, 3);
	store_close(bst);
}

Test(store, a_partition_never_claimed_is_fenced, FRESH)
{
	struct store_tp t = storetest_tp(TOPIC, 7);
	struct store_inbound in = storetest_inbound(0, EV1, "applied");
	struct store_batch b = {
	    .in = &in, .n_in = 1, .grp = "credsyncd", .member = "A", .offsets = &t, .n_offsets = 1};
	char err[512];

	t.epoch = -1;
	t.offset = 1;
	cr_assert_eq(store_batch_commit(storetest_st, &b, err, sizeof err), STORE_FENCED, "%s",
	             err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 0);
}

Test(store, a_hung_database_times_out_then_reconnects, FRESH)
{
	store *s = storetest_open(storetest_db, 300);
	static const char uscc[][USCC_BUF] = {USCC_A};
	struct record rec = storetest_penalty(USCC_A, "呼税罚〔2024〕12号"), got;
	struct store_tp t = storetest_tp(TOPIC, 0);
	bool found;
	char err[512];
	int64_t t0, took;
	int rc;

	pgtest_exec(storetest_pg, "BEGIN; LOCK TABLE credsync.records IN ACCESS EXCLUSIVE MODE");
	t0 = testlib_now_ms();
	rc = store_batch_begin(s, uscc, 1, &rec.key, 1, &got, &found, NULL, 0, NULL, err,
	                       sizeof err);
	took = testlib_now_ms() - t0;
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err, "could not read batch state: database did not answer within 300 ms");
	cr_assert(took >= 290 && took < 2500, "took %lld ms", (long long)took);
	/* the server stopped waiting too: the query was cancelled and the session closed */
	cr_assert(storetest_wait_int(
	    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
	    "AND datname = current_database()",
	    0, 5000));

	cr_assert_eq(store_claim(s, "credsyncd", "A", &t, 1, err, sizeof err), -1);
	cr_assert(strstr(err, "no connection to the database") != NULL, "err: %s", err);
	pgtest_exec(storetest_pg, "ROLLBACK");
	cr_assert_eq(store_reconnect(s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_batch_begin(s, uscc, 1, &rec.key, 1, &got, &found, NULL, 0, NULL, err,
	                               sizeof err),
	             0, "%s", err);
	store_batch_rollback(s);
	store_close(s);
}

Test(store, reconnects_after_the_session_is_terminated, FRESH)
{
	char *ci = NULL, err[512];
	struct store_tp t = storetest_tp(TOPIC, 0);
	store *s;
	size_t len = strlen(storetest_db) + 64;

	ci = malloc(len);
	cr_assert(ci != NULL);
	snprintf(ci, len, "%s application_name=store_victim", storetest_db);
	s = storetest_open(ci, STORETEST_TIMEOUT_MS);
	storetest_claim(s, "A", &t, 1);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	                        "WHERE application_name = 'store_victim'"),
	             1);
	cr_assert(
	    storetest_wait_int("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
	                       "'store_victim'",
	                       0, 5000));

	cr_assert_eq(store_claim(s, "credsyncd", "A", &t, 1, err, sizeof err), -1);
	cr_assert(strncmp(err, "could not claim partitions: ", 28) == 0 && strlen(err) > 28,
	          "err: %s", err);
	cr_assert_eq(store_reconnect(s, err, sizeof err), 0, "%s", err);
	storetest_claim(s, "A", &t, 1);
	cr_assert_eq(t.epoch, 2);
	store_close(s);
	free(ci);
}

Test(store, errors_never_show_the_password)
{
	static const struct {
		const char *conninfo;
		const char *says;
	} cases[] = {
	    {"host=127.0.0.1 port=1 user=nobody password=Sup3rS3cret",
	     "could not connect to the database: "},
	    {"postgresql://nobody:Sup3rS3cret@127.0.0.1:1/x",
	     "could not connect to the database: "},
	    {"host=127.0.0.1 password=Sup3rS3cret junk", "invalid connection string: "},
	    {"host=127.0.0.1 password='Sup3rS3cret", "invalid connection string: "},
	    {"host=127.0.0.1 Sup3rS3cret=1", "invalid connection string: "},
	};
	char err[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		store *s = store_open(cases[i].conninfo, 2000, err, sizeof err);

		cr_assert_null(s, "case %zu opened", i);
		cr_assert(strstr(err, "Sup3rS3cret") == NULL, "case %zu: %s", i, err);
		cr_assert(strncmp(err, cases[i].says, strlen(cases[i].says)) == 0 &&
		              strlen(err) > strlen(cases[i].says),
		          "case %zu: %s", i, err);
	}
}

/* A server that accepts the TCP connection (the kernel does, from the listen backlog) and
 * never says a word: the connection attempt is cut at the deadline. */
Test(store, a_silent_server_times_out_the_connection)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char conninfo[128], err[512];
	int64_t t0, took;
	store *s;

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d sslmode=disable user=x",
	         ntohs(sa.sin_port));
	t0 = testlib_now_ms();
	s = store_open(conninfo, 300, err, sizeof err);
	took = testlib_now_ms() - t0;
	cr_assert_null(s);
	cr_assert_str_eq(err, "could not connect to the database: no answer within 300 ms");
	cr_assert(took >= 290 && took < 2500, "took %lld ms", (long long)took);
	close(fd);
}
