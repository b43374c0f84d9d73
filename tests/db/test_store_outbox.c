/* test_store_outbox: store_outbox.c: the outbox is read in order and sent once by one publisher;
 * obligations are sent, acknowledged and counted in the backlog. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

/* What the publisher does between its rounds: a read, which sees how far every message has
 * committed (011_seq_fence.sql), then a mark, which moves the cursor up to what is read and
 * sent (013_write_once.sql). Twice: the first read may set the fence the second passes. */
static void
settle_cursor(store *s)
{
	struct outbox_row *rows;
	size_t n;
	char err[512];

	for (int i = 0; i < 2; i++) {
		cr_assert_eq(store_outbox_fetch(s, 0, 1, &rows, &n, err, sizeof err), 0, "%s", err);
		store_outbox_free(rows, n);
		cr_assert_eq(store_outbox_mark_sent(s, NULL, 0, err, sizeof err), 0, "%s", err);
	}
}

Test(store_outbox, obligations_are_sent_acknowledged_and_counted, FRESH)
{
	struct obligation ob[3] = {
	    storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2020, 1, 2)),
	    storetest_obligation(OB2, SITE_CREDITCHINA, testlib_ymd(2099, 1, 1)),
	    storetest_obligation(OB3, SITE_CREDITCHINA, testlib_ymd(2099, 1, 1))};
	struct store_outrow out = {OB1, "credit.out.gsxt", USCC_A, "{}"};
	struct store_batch b = {.obl = ob, .n_obl = 3, .out = &out, .n_out = 1};
	struct ack wrong_site = {OB1, SITE_CREDITCHINA, 1726300000};
	struct ack right = {OB1, SITE_GSXT, 1726300000};
	struct ack later = {OB1, SITE_GSXT, 1726400000};
	struct ack unknown = {"not-a-uuid", SITE_GSXT, 1726400000};
	struct store_backlog bl;
	struct outbox_row *rows;
	size_t n;
	bool got;
	char err[512];

	ob[2].type = OUT_MUTUAL_RECOGNITION;
	ob[2].reason = TD_REPAIRED;
	ob[2].rec_system = SITE_GSXT;
	snprintf(ob[2].rec_decision_no, sizeof ob[2].rec_decision_no, "呼税罚〔2024〕12号");
	snprintf(ob[2].rec_repair_decision_no, sizeof ob[2].rec_repair_decision_no, "修1");
	ob[2].rec_repaired_on = testlib_ymd(2024, 9, 13);
	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b); /* the same ids again: no new rows */
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations"), 3);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.obligations WHERE id = '" OB3
	                        "' AND type = 'mutual_recognition' AND reason = 'repaired' "
	                        "AND rec_system = 'gsxt' AND rec_repaired_on = '2024-09-13' "
	                        "AND due_date = '2099-01-01' AND site = 'creditchina'"),
	             1);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.obligations WHERE id = '" OB1
	                        "' AND reason IS NULL AND rec_system IS NULL"),
	             1);

	cr_assert_eq(store_backlog(storetest_st, &bl, err, sizeof err), 0, "%s", err);
	cr_assert_eq(bl.unsent, 1, "one message, three obligations");
	cr_assert_eq(bl.unacknowledged, 3);
	cr_assert_eq(bl.overdue, 1);
	cr_assert_eq(bl.oldest_due, testlib_ymd(2020, 1, 2));

	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_outbox_mark_sent(storetest_st, &rows[0].seq, 1, err, sizeof err), 0,
	             "%s", err);
	store_outbox_free(rows, n);
	settle_cursor(storetest_st);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.obligations WHERE sent_at IS "
	                        "NOT NULL"),
	             1);

	b = (struct store_batch){.acks = &wrong_site, .n_acks = 1};
	storetest_commit(storetest_st, &b);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.obligations WHERE acked_at IS "
	                        "NOT NULL"),
	             0);
	b.acks = &right;
	storetest_commit(storetest_st, &b);
	b.acks = &later;
	storetest_commit(storetest_st, &b);
	b.acks = &unknown;
	storetest_commit(storetest_st, &b);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT extract(epoch FROM ack_done_at)::bigint FROM "
	                                      "credsync.obligations WHERE acked_at IS NOT NULL"),
	             1726300000);

	cr_assert_eq(store_backlog(storetest_st, &bl, err, sizeof err), 0, "%s", err);
	cr_assert_eq(bl.unsent, 0, "the message was sent");
	cr_assert_eq(bl.unacknowledged, 2);
	cr_assert_eq(bl.overdue, 0);
	cr_assert_eq(bl.oldest_due, testlib_ymd(2099, 1, 1));
}

Test(store_outbox, outbox_in_order_sent_once_one_publisher, FRESH)
{
	static const char *const ids[] = {"00000000-0000-4000-8000-000000000003",
	                                  "00000000-0000-4000-8000-000000000001",
	                                  "00000000-0000-4000-8000-000000000002"};
	struct store_outrow out[3] = {{ids[0], "credit.out.gsxt", USCC_A, "{\"n\":0}"},
	                              {ids[1], "credit.out.creditchina", USCC_A, "{\"n\":1}"},
	                              {ids[2], "credit.reject.nm-tax", NULL, "{\"n\":\"税\"}"}};
	struct store_outrow again = {ids[1], "credit.out.creditchina", USCC_A, "{\"n\":99}"};
	struct store_batch b = {.out = out, .n_out = 3}, b2 = {.out = &again, .n_out = 1};
	store *other = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	struct outbox_row *rows;
	int64_t seqs[2];
	size_t n;
	bool got;
	char err[512];

	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b2); /* an id already there is left as it is */

	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), -1);
	cr_assert_str_eq(err, "could not read the outbox: this session does not hold the outbox "
	                      "lock");
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got, "taking it again keeps it");
	cr_assert_eq(store_outbox_lock(other, &got, err, sizeof err), 0, "%s", err);
	cr_assert(!got, "a second publisher");

	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(rows[i].seq, (int64_t)i + 1);
		cr_assert_str_eq(rows[i].id, out[i].id);
		cr_assert_str_eq(rows[i].topic, out[i].topic);
		cr_assert_str_eq(rows[i].key, out[i].key != NULL ? out[i].key : "");
		cr_assert_str_eq(rows[i].payload, out[i].payload);
	}
	seqs[0] = rows[0].seq;
	seqs[1] = rows[1].seq;
	cr_assert_eq(store_outbox_mark_sent(storetest_st, seqs, 2, err, sizeof err), 0, "%s", err);
	store_outbox_free(rows, n);

	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].seq, 3);
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_fetch(storetest_st, 3, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 0);
	cr_assert_null(rows);

	/* the lock goes with the connection */
	cr_assert_eq(store_reconnect(storetest_st, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_outbox_lock(other, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got, "the lock was released with the old connection");
	store_close(other);
}

/* Commits three out messages of ids in one batch, takes the outbox lock and reads them: their
 * seqs in seqs. */
static void
commit_and_read_three(const char *const ids[3], int64_t seqs[3])
{
	struct store_outrow out[3] = {{ids[0], "credit.out.gsxt", USCC_A, "{\"n\":0}"},
	                              {ids[1], "credit.out.gsxt", USCC_B, "{\"n\":1}"},
	                              {ids[2], "credit.out.gsxt", USCC_A, "{\"n\":2}"}};
	struct store_batch b = {.out = out, .n_out = 3};
	struct outbox_row *rows;
	size_t n;
	bool got;
	char err[512];

	storetest_commit(storetest_st, &b);
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		seqs[i] = rows[i].seq;
	store_outbox_free(rows, n);
}

/* The publish cursor (007_publish_cursor.sql): every message at or below it is sent. It stays
 * below a message still unsent while later ones are marked (a failed delivery), moves to the
 * last message once all are sent, and a message made unsent below it again (credsyncctl
 * resend) is read again once the cursor is lowered. */
Test(store_outbox, publish_cursor_stays_below_the_first_unsent, FRESH)
{
	static const char *const ids[] = {"00000000-0000-4000-8000-000000000011",
	                                  "00000000-0000-4000-8000-000000000012",
	                                  "00000000-0000-4000-8000-000000000013"};
	struct outbox_row *rows;
	int64_t seqs[3];
	size_t n;
	char err[512];

	commit_and_read_three(ids, seqs);
	int64_t later[2] = {seqs[1], seqs[2]}, first = seqs[0];
	cr_assert_eq(store_outbox_mark_sent(storetest_st, later, 2, err, sizeof err), 0, "%s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), first - 1,
	             "below the first message, still unsent");
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].seq, first);
	cr_assert_eq(store_outbox_mark_sent(storetest_st, &first, 1, err, sizeof err), 0, "%s",
	             err);
	store_outbox_free(rows, n);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), later[1],
	             "all sent: at the last message");
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.unsent"), 0);

	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox "
	                                      "WHERE sent_at IS NULL"),
	             0, "sent_at follows the cursor");

	/* as credsyncctl resend does: queued, read again below the cursor, recorded once sent */
	pgtest_exec(storetest_pg, "INSERT INTO credsync.resends (seq) SELECT seq "
	                          "FROM credsync.outbox_rows "
	                          "WHERE id = '00000000-0000-4000-8000-000000000012'");
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.unsent"), 1);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox "
	                                      "WHERE sent_at IS NULL"),
	             1, "a queued resend is unsent");
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].seq, later[0]);
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_mark_sent(storetest_st, &later[0], 1, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.unsent"), 0);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.resends "
	                                      "WHERE sent_at IS NOT NULL"),
	             1);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), later[1],
	             "a resend does not move the cursor");
}

/* "Sent" is the cursor (013_write_once.sql): a message delivered above a message still unsent
 * is not read again by this store, and gets its sent_at once the cursor passes it; another
 * store taking the outbox over reads it again (the same id). */
Test(store_outbox, delivered_above_the_cursor_is_not_read_again, FRESH)
{
	static const char *const ids[] = {"00000000-0000-4000-8000-000000000031",
	                                  "00000000-0000-4000-8000-000000000032"};
	struct store_outrow out[2] = {{ids[0], "credit.out.gsxt", USCC_A, "{\"n\":0}"},
	                              {ids[1], "credit.out.gsxt", USCC_A, "{\"n\":1}"}};
	struct store_batch b = {.out = out, .n_out = 2};
	struct outbox_row *rows;
	size_t n;
	bool got;
	char err[512];

	storetest_commit(storetest_st, &b);
	store *first_pub = storetest_open(storetest_db, 5000);
	cr_assert_eq(store_outbox_lock(first_pub, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(first_pub, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 2);
	int64_t first = rows[0].seq, second = rows[1].seq;
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_mark_sent(first_pub, &second, 1, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_outbox_fetch(first_pub, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1, "the delivered one is left out");
	cr_assert_eq(rows[0].seq, first);
	store_outbox_free(rows, n);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox "
	                                      "WHERE sent_at IS NULL"),
	             2, "above the cursor: no sent_at yet");

	/* the next publisher sends both again, once the first one's session has ended: its
	 * backend gives the lock up as it exits, after store_close returns */
	store_close(first_pub);
	cr_assert(storetest_wait_int("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", 0,
	                             10000));
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 2);
	store_outbox_free(rows, n);
	int64_t both[2] = {first, second};
	cr_assert_eq(store_outbox_mark_sent(storetest_st, both, 2, err, sizeof err), 0, "%s", err);
	settle_cursor(storetest_st);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox "
	                                      "WHERE sent_at IS NULL"),
	             0);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.sent_marks"), 1);
}

/* Messages may commit out of seq order (011_seq_fence.sql): a transaction that drew a lower
 * seq and is still open when a later message is published and marked keeps the cursor below
 * its message, which is read once it commits; the cursor passes it once the fence does. The
 * later message's transaction has the older id, so that the open one's id is newer than the
 * last completed one: a snapshot does not list it as running (a first version of the fence
 * read "nothing runs" from xmin = xmax and passed it). */
Test(store_outbox, publish_cursor_waits_for_a_message_still_uncommitted, FRESH)
{
	static const char *const late_id = "00000000-0000-4000-8000-000000000021";
	struct outbox_row *rows;
	size_t n;
	bool got;
	char err[512];

	PGconn *older = pgtest_connect(storetest_db), *open_tx = pgtest_connect(storetest_db);
	pgtest_exec(older, "BEGIN; SELECT pg_current_xact_id()");
	pgtest_exec(open_tx, "BEGIN; INSERT INTO credsync.outbox_rows (id, topic, key, payload) "
	                     "VALUES ('00000000-0000-4000-8000-000000000021', 'credit.out.gsxt', "
	                     "'x', '{\"n\":1}')");
	long long late = pgtest_int(open_tx, "SELECT seq FROM credsync.outbox_rows");
	pgtest_exec(older, "INSERT INTO credsync.outbox_rows (id, topic, key, payload) VALUES "
	                   "('00000000-0000-4000-8000-000000000022', 'credit.out.gsxt', 'y', "
	                   "'{\"n\":2}'); COMMIT"); /* a later seq, committed first */
	PQfinish(older);
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1, "only the committed message is visible");
	int64_t early = rows[0].seq;
	cr_assert_gt(early, late);
	store_outbox_free(rows, n);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(store_outbox_mark_sent(storetest_st, &early, 1, err, sizeof err), 0,
		             "%s", err);
	cr_expect_lt(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), late,
	             "the cursor passed a message that was still to commit");
	/* a read while it is still open must not count it as read (013_write_once.sql: a
	 * first version took the snapshot's xmax for its fence and passed it here) */
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 0);
	store_outbox_free(rows, n);

	pgtest_exec(open_tx, "COMMIT");
	PQfinish(open_tx);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1, "the late message is read once committed");
	cr_expect_str_eq(rows[0].id, late_id);
	int64_t seq = rows[0].seq;
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_mark_sent(storetest_st, &seq, 1, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), early,
	             "all sent, nothing running: at the last message");
}

/* A lost mark costs only a resend with the same id (012_async_marks.sql): marking commits
 * without waiting for its WAL flush, and only marking does (the apply transactions do). */
Test(store_outbox, marks_commit_without_waiting_for_the_flush, FRESH)
{
	PGconn *c = pgtest_connect(storetest_db);
	pgtest_exec(c, "BEGIN; SELECT credsync.outbox_mark_sent('{}', NULL, false)");
	char *in_mark = pgtest_text(c, "SHOW synchronous_commit");
	pgtest_exec(c, "COMMIT");
	char *after = pgtest_text(c, "SHOW synchronous_commit");
	cr_expect_str_eq(in_mark, "off");
	cr_expect_str_eq(after, "on", "the setting ends with the marking transaction");
	free(in_mark);
	free(after);
	PQfinish(c);
}

/* A transaction holding an old id and a seq it has drawn keeps the cursor down
 * (011_seq_fence.sql) while messages are read and delivered above it: this store remembers
 * up to 10,000 of them, and marks on their rows beyond (013_write_once.sql), so that its
 * memory stays bounded and nothing is read again. Once the old transaction ends, the cursor
 * passes them all. */
Test(store_outbox, too_many_delivered_above_the_cursor_are_marked_on_their_rows, FRESH)
{
	enum { N = 10001 };
	struct store_outrow *out = calloc(N, sizeof(*out));
	char(*ids)[40] = calloc(N, sizeof(*ids));
	struct outbox_row *rows;
	size_t n;
	bool got;
	char err[512];

	cr_assert(out != NULL && ids != NULL);
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "00000000-0000-4000-8000-%012d", 100000 + i);
		out[i] = (struct store_outrow){ids[i], "credit.out.gsxt", USCC_A, "{}"};
	}
	PGconn *old_tx = pgtest_connect(storetest_db);
	pgtest_exec(old_tx, "BEGIN; SELECT pg_current_xact_id(); "
	                    "SELECT nextval('credsync.outbox_seq_seq')");
	struct store_batch b = {.out = out, .n_out = N};
	storetest_commit(storetest_st, &b);
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, N, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, (size_t)N);
	int64_t *seqs = malloc(N * sizeof(*seqs));
	cr_assert(seqs != NULL);
	for (int i = 0; i < N; i++)
		seqs[i] = rows[i].seq;
	store_outbox_free(rows, n);
	long long low = pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor");
	cr_assert_eq(store_outbox_mark_sent(storetest_st, seqs, N - 1, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(store_outbox_mark_sent(storetest_st, &seqs[N - 1], 1, err, sizeof err), 0,
	             "%s", err);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), low,
	             "the old transaction holds the cursor");
	cr_expect_gt(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox_rows "
	                                      "WHERE sent_at IS NOT NULL"),
	             0, "beyond 10,000 held in memory, marked on their rows");
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, N, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_expect_eq(n, 0, "nothing delivered is read again");
	store_outbox_free(rows, n);

	pgtest_exec(old_tx, "ROLLBACK");
	PQfinish(old_tx);
	settle_cursor(storetest_st);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"),
	             seqs[N - 1], "past them all");
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox "
	                                      "WHERE sent_at IS NULL"),
	             0);
	free(seqs);
	free(ids);
	free(out);
}

/* Messages read one seq after another leave none unread below the last of them
 * (store_outbox.c): the cursor passes them once delivered, without waiting for the fence,
 * while a transaction older than the reads, which has drawn no seq, is still open. */
Test(store_outbox, the_cursor_passes_seqs_read_without_a_gap, FRESH)
{
	static const char *const ids[] = {"00000000-0000-4000-8000-000000000051",
	                                  "00000000-0000-4000-8000-000000000052",
	                                  "00000000-0000-4000-8000-000000000053"};
	int64_t seqs[3];
	char err[512];

	PGconn *old_tx = pgtest_connect(storetest_db);
	pgtest_exec(old_tx, "BEGIN; SELECT pg_current_xact_id()");
	commit_and_read_three(ids, seqs);
	cr_assert_eq(seqs[2] - seqs[0], 2, "one batch: seqs one after another");
	cr_assert_eq(store_outbox_mark_sent(storetest_st, seqs, 3, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), seqs[2],
	             "past the three while the older transaction runs");
	pgtest_exec(old_tx, "ROLLBACK");
	PQfinish(old_tx);
}

/* A delivery that failed is read again by its seq; the messages delivered after it are not
 * read again, and the cursor stays below it until it is delivered (013_write_once.sql). */
Test(store_outbox, a_failed_delivery_is_read_again_alone, FRESH)
{
	static const char *const ids[] = {"00000000-0000-4000-8000-000000000041",
	                                  "00000000-0000-4000-8000-000000000042",
	                                  "00000000-0000-4000-8000-000000000043"};
	struct outbox_row *rows;
	int64_t seqs[3];
	size_t n;
	char err[512];

	commit_and_read_three(ids, seqs);
	int64_t ok[2] = {seqs[0], seqs[2]}, failed = seqs[1];
	cr_assert_eq(store_outbox_mark_sent(storetest_st, ok, 2, err, sizeof err), 0, "%s", err);
	for (int round = 0; round < 3; round++) { /* it keeps failing */
		cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0,
		             "%s", err);
		cr_assert_eq(n, 1, "round %d: only the failed one", round);
		cr_assert_eq(rows[0].seq, failed);
		store_outbox_free(rows, n);
		cr_assert_eq(store_outbox_mark_sent(storetest_st, NULL, 0, err, sizeof err), 0,
		             "%s", err);
		cr_assert_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"),
		             failed - 1, "round %d: below the failed one", round);
	}
	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 10, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 1);
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_mark_sent(storetest_st, &failed, 1, err, sizeof err), 0, "%s",
	             err);
	settle_cursor(storetest_st);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT low FROM credsync.outbox_cursor"), ok[1]);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.unsent"), 0);
}

/* The cursor's history (013_write_once.sql): marks older than 10 minutes are thinned to the
 * last one of each second, so that a message's sent_at is at most a second late; newer
 * marks stay exact. */
Test(store_outbox, old_marks_are_thinned_to_one_a_second, FRESH)
{
	char err[512];

	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.sent_marks (low, at) VALUES "
	            "(10, date_trunc('second', now()) - interval '12 minutes' + interval '0.1 s'), "
	            "(20, date_trunc('second', now()) - interval '12 minutes' + interval '0.5 s'), "
	            "(30, date_trunc('second', now()) - interval '12 minutes' + interval '0.9 s'), "
	            "(40, date_trunc('second', now()) - interval '11 minutes' + interval '0.2 s'), "
	            "(50, now() - interval '1 minute' - interval '0.3 s'), "
	            "(60, now() - interval '1 minute')");
	cr_assert_eq(store_sent_marks_thin(storetest_st, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.sent_marks"), 4);
	cr_expect_eq(
	    pgtest_int(storetest_pg, "SELECT sum(low) FROM credsync.sent_marks WHERE low < 40"), 30,
	    "the last of its second");
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.sent_marks "
	                                      "WHERE low IN (40, 50, 60)"),
	             3, "alone in its second, or newer");
	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.obligation_rows (id, site, type, kind, uscc, list, "
	            "decision_no, producer, subject_name, received_at, seq, topic, key, payload) "
	            "VALUES ('" OB1 "', 'gsxt', 'disclose', 'penalty', '" USCC_A "', '', 'd', "
	            "'nm-tax', 's', now(), 15, 'credit.out.gsxt', '', '{}')");
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT (extract(epoch FROM sent_at) * 10)::bigint % 10 FROM "
	                        "credsync.obligations"),
	             9, "sent_at: the time of the mark that passed it, now the second's last");
}

/* The views' sent_at (023_sent_at_views.sql) is sent_time()'s: a queued resend's own time
 * (NULL until sent), else the row's own sent_at, else the first mark at or above its seq. */
Test(store_outbox, the_views_sent_at_is_sent_times, FRESH)
{
	pgtest_exec(
	    storetest_pg,
	    "INSERT INTO credsync.sent_marks (low, at) VALUES "
	    "(3, now() - interval '3 minutes'), (5, now() - interval '2 minutes'); "
	    "INSERT INTO credsync.outbox_rows (seq, id, topic, key, payload, sent_at) "
	    "SELECT s, md5(s::text)::uuid, 'credit.reject.nm-tax', '', '{}', CASE WHEN s = 6 "
	    "THEN now() - interval '1 hour' END FROM generate_series(1, 7) s; "
	    "INSERT INTO credsync.resends (seq, sent_at) VALUES (2, NULL), (4, now()), "
	    "(7, now() - interval '1 day')");
	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.obligation_rows (id, site, type, kind, uscc, list, "
	            "decision_no, producer, subject_name, received_at, seq, topic, key, payload) "
	            "VALUES ('" OB1 "', 'gsxt', 'disclose', 'penalty', '" USCC_A "', '', 'd', "
	            "'nm-tax', 's', now(), 8, 'credit.out.gsxt', '', '{}')");
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.outbox v JOIN (SELECT seq, sent_at "
	                        "FROM credsync.outbox_rows UNION ALL SELECT seq, sent_at FROM "
	                        "credsync.obligation_rows) t USING (seq) WHERE v.sent_at IS NOT "
	                        "DISTINCT FROM credsync.sent_time(t.seq, t.sent_at)"),
	             8, "every row of the outbox");
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.obligations v JOIN "
	                        "credsync.obligation_rows t USING (id) WHERE v.sent_at IS NOT "
	                        "DISTINCT FROM credsync.sent_time(t.seq, t.sent_at)"),
	             1, "the obligation");
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT sum(seq) FROM credsync.outbox WHERE sent_at "
	                                      "IS NULL"),
	             2 + 8, "unsent: the resend queued and the message above the marks");
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.outbox o JOIN credsync.sent_marks m "
	                        "ON m.low = CASE WHEN o.seq <= 3 THEN 3 ELSE 5 END "
	                        "WHERE o.seq IN (1, 3, 5) AND o.sent_at = m.at"),
	             3, "sent by the first mark at or above the seq");
}
