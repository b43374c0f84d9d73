/* test_store_upgrade: a database filled under an earlier release's schema (migrations
 * 001-003: obligations and their outbox rows, sent and unsent, acknowledged and not, a
 * message marked unsent again by credsyncctl resend, a reject, a daily summary, records,
 * inbound, offsets; and 001-012: obligations holding their messages, sent and acknowledged
 * on the row) is migrated in place and worked on: nothing is lost, resent or doubled. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

#define OB4 "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e43"
#define OB5 "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e44"
#define RJ1 "2c5f39cb-3ab2-5e3d-9f70-4a8b0d2e3f50"
#define RJ2 "2c5f39cb-3ab2-5e3d-9f70-4a8b0d2e3f51"
#define SM1 "3d6a4adc-4bc3-5f4e-8a81-5b9c1e3f4a60"

/* An obligation and its outbox row as the previous release wrote them. */
#define OLD_OBLIGATION(id, site, sent, acked)                                                      \
	"INSERT INTO credsync.obligations (id, site, type, kind, uscc, list, decision_no, "        \
	"producer, subject_name, received_at, due_date, sent_at, acked_at, ack_done_at) VALUES "   \
	"('" id "', '" site "', 'disclose', 'penalty', '" USCC_A "', 'penalty', '罚" id "', "      \
	"'nm-tax', '某公司', '2026-12-01 08:00+08', '2026-12-02', " sent ", " acked ", " acked     \
	"); INSERT INTO credsync.outbox (id, topic, key, payload, sent_at) VALUES ('" id           \
	"', 'credit.out." site "', '" USCC_A "', '{\"id\":\"" id "\"}', " sent ");"

/* What the upgrade must keep: every message (id, topic, key, payload, sent or not) in
 * publishing order, and every other row as it was (a record: the columns of 001-003; 004 adds
 * the second early end's, empty on an old record and checked below). */
static const char digest_sql[] =
    "SELECT md5(concat_ws('#', "
    "(SELECT string_agg(concat_ws('|', id, topic, key, payload, sent_at IS NOT NULL), ',' "
    "ORDER BY seq) FROM credsync.outbox), "
    "(SELECT string_agg(concat_ws('|', id, site, type, kind, uscc, list, decision_no, producer, "
    "subject_name, received_at, due_date, acked_at, ack_done_at, created_at), ',' ORDER BY id) "
    "FROM credsync.obligations), "
    "(SELECT string_agg(row(uscc, kind, list, decision_no, status, added, producer, "
    "subject_name, added_at, add_event_id, decided_on, categories, field, has_fine, fine_fen, "
    "severity, light, channel, repairable_from, disclose_until, end_reason, ended_at, ended_by, "
    "end_event_id, ended_on, repair_decision_no, created_at, updated_at)::text, ',' ORDER BY "
    "uscc, kind, list, decision_no) FROM credsync.records), "
    /* the columns of 001-003: 008 adds sqlstate and error, NULL for these rows */
    "(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM (SELECT topic, partition, "
    "\"offset\", event_id, producer, uscc, kafka_ts, outcome, reason, detail, payload, "
    "stored_at FROM credsync.inbound) t), "
    "(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM credsync.consumer_offsets t), "
    "(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM credsync.daily_summaries t)))";

/* Fetches every unsent message, checks their ids are want (in order), marks them sent. */
static void
publish_expect(const char *const *want, size_t n_want)
{
	struct outbox_row *rows;
	size_t n;
	char err[512];

	cr_assert_eq(store_outbox_fetch(storetest_st, 0, 100, &rows, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, n_want, "%zu messages unsent, expected %zu", n, n_want);
	for (size_t i = 0; i < n; i++) {
		cr_expect_str_eq(rows[i].id, want[i], "message %zu", i);
		cr_assert_eq(store_outbox_mark_sent(storetest_st, &rows[i].seq, 1, err, sizeof err),
		             0, "%s", err);
	}
	store_outbox_free(rows, n);
	/* the cursor moves up once a read has seen all there is below it */
	cr_assert_eq(store_outbox_mark_sent(storetest_st, NULL, 0, err, sizeof err), 0, "%s", err);
}

Test(store_upgrade, previous_release_state_is_kept_and_goes_on, BARE)
{
	char dir[64], err[512];
	struct record rec = storetest_penalty(USCC_A, "呼税罚〔2024〕12号");
	struct store_inbound in[2] = {storetest_inbound(5, EV1, "applied"),
	                              storetest_inbound(6, EV2, "applied")};
	struct store_tp tp = storetest_tp(TOPIC, 0);
	bool got;

	storetest_sqldir_upto(dir, sizeof dir, 3);
	cr_assert_eq(store_migrate(storetest_st, dir, err, sizeof err), 3, "old migrations: %s",
	             err);
	storetest_sqldir_remove(dir);

	/* The previous release's state: inbound and offsets through the store (their statements
	 * did not change); records, obligations and the outbox as it wrote them. */
	storetest_claim(storetest_st, "old", &tp, 1);
	tp.offset = 7;
	struct store_batch b = {.in = in,
	                        .n_in = 2,
	                        .grp = "credsyncd",
	                        .member = "old",
	                        .offsets = &tp,
	                        .n_offsets = 1};
	storetest_commit(storetest_st, &b);
	/* storetest_penalty's record, in the columns of 001-003 */
	pgtest_exec(
	    storetest_pg,
	    "INSERT INTO credsync.records (uscc, kind, list, decision_no, status, added, "
	    "producer, subject_name, added_at, add_event_id, decided_on, categories, field, "
	    "has_fine, fine_fen, severity, light, channel, repairable_from, disclose_until, "
	    "end_reason, ended_at, ended_by, end_event_id, ended_on, repair_decision_no) "
	    "VALUES ('" USCC_A "', 'penalty', '', '呼税罚〔2024〕12号', 'shown', true, "
	    "'nm-tax', '呼和浩特某某商贸有限公司', to_timestamp(1714961700), '" EV1 "', "
	    "'2024-05-06', '{fine}', 'other', true, 2000000, NULL, false, 'creditchina', "
	    "'2024-08-06', '2025-05-06', NULL, NULL, '', NULL, NULL, '')");
	pgtest_exec(storetest_pg, OLD_OBLIGATION(OB1, "gsxt", "now()", "now() - interval '1 h'"));
	pgtest_exec(storetest_pg, OLD_OBLIGATION(OB2, "creditchina", "now()", "NULL"));
	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.outbox (id, topic, key, payload) VALUES ('" RJ1
	            "', 'credit.reject.nm-tax', '', '{\"reject\":1}')");
	pgtest_exec(storetest_pg, OLD_OBLIGATION(OB3, "gsxt", "NULL", "NULL"));
	pgtest_exec(storetest_pg, OLD_OBLIGATION(OB4, "creditchina", "now()", "NULL"));
	/* credsyncctl resend of OB4: only its outbox row was marked unsent again */
	pgtest_exec(storetest_pg, "UPDATE credsync.outbox SET sent_at = NULL WHERE id = '" OB4 "'");
	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.daily_summaries (site, day, outbox_id) VALUES ('gsxt', "
	            "'2026-12-01', '" SM1
	            "'); INSERT INTO credsync.outbox (id, topic, key, payload, "
	            "sent_at) VALUES ('" SM1 "', 'credit.out.gsxt', '', '{\"summary\":1}', now())");
	char *before = pgtest_text(storetest_pg, digest_sql);
	long long max_seq = pgtest_int(storetest_pg, "SELECT max(seq) FROM credsync.outbox");

	/* The upgrade, in place. */
	cr_assert_geq(store_migrate(storetest_st, storetest_sqldir(), err, sizeof err), 1,
	              "migrations: %s", err);
	char *after = pgtest_text(storetest_pg, digest_sql);
	cr_expect_str_eq(after, before, "the upgrade changed the stored state");
	free(after);
	free(before);
	struct record kept;
	cr_assert(storetest_read_record(storetest_st, &rec.key, &kept), "the record is gone");
	cr_expect_eq(kept.status, rec.status);
	cr_expect_eq(kept.disclose_until, rec.disclose_until);
	cr_expect_eq(kept.fine_fen, rec.fine_fen);
	cr_expect_eq(kept.end2_reason, TD_NONE, "no second early end on an old record");
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox_rows"), 2,
	             "only the reject and the summary stay outbox rows");

	/* Going on: what was unsent goes out once, in its old order; nothing sent goes again. */
	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	static const char *const unsent[] = {RJ1, OB3, OB4};
	publish_expect(unsent, 3);
	publish_expect(NULL, 0);

	/* The offsets go on from where they were; a new batch, acknowledgements of old
	 * obligations (OB1's second one changes nothing). */
	struct store_tp tp2 = storetest_tp(TOPIC, 0);
	storetest_claim(storetest_st, "new", &tp2, 1);
	cr_expect_eq(tp2.offset, 7);
	struct obligation ob5 = storetest_obligation(OB5, SITE_GSXT, testlib_ymd(2099, 1, 1));
	struct store_outrow out[2] = {{RJ2, "credit.reject.nm-tax", "", "{\"reject\":2}"},
	                              {OB5, "credit.out.gsxt", USCC_A, "{\"id\":5}"}};
	struct ack acks[2] = {{OB2, SITE_CREDITCHINA, 1726300000}, {OB1, SITE_GSXT, 1726400000}};
	struct store_inbound in3 = storetest_inbound(7, EV3, "applied");
	char *ob1_acked =
	    pgtest_text(storetest_pg, "SELECT acked_at::text FROM credsync.obligations "
	                              "WHERE id = '" OB1 "'");
	tp2.offset = 8;
	b = (struct store_batch){.in = &in3,
	                         .n_in = 1,
	                         .obl = &ob5,
	                         .n_obl = 1,
	                         .out = out,
	                         .n_out = 2,
	                         .acks = acks,
	                         .n_acks = 2,
	                         .grp = "credsyncd",
	                         .member = "new",
	                         .offsets = &tp2,
	                         .n_offsets = 1};
	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b); /* a replay writes nothing */
	static const char *const fresh[] = {OB5, RJ2};
	publish_expect(fresh, 2);
	publish_expect(NULL, 0);
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT min(seq) FROM credsync.outbox WHERE id IN ('" OB5 "', '" RJ2
	                        "')"),
	             max_seq + 1, "new messages come after the old ones");

	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox"), 8);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(DISTINCT id) FROM credsync.outbox"), 8);
	cr_expect_eq(
	    pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL"),
	    0);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations WHERE "
	                                      "sent_at IS NULL OR payload IS NULL"),
	             0);
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.obligations WHERE acked_at IS NULL"),
	             3, "OB3, OB4 and OB5 unacknowledged");
	char *ob1_now = pgtest_text(storetest_pg, "SELECT acked_at::text FROM credsync.obligations "
	                                          "WHERE id = '" OB1 "'");
	cr_expect_str_eq(ob1_now, ob1_acked, "OB1's first acknowledgement stays");
	free(ob1_now);
	free(ob1_acked);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 3);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.records"), 1);
}

/* An obligation with its message as release 012 wrote it (005_messages.sql), and its pending
 * row when not acknowledged (010_pending.sql). */
#define OBLIGATION_012(id, sent, acked)                                                            \
	"INSERT INTO credsync.obligations (id, site, type, kind, uscc, list, decision_no, "        \
	"producer, subject_name, received_at, due_date, sent_at, acked_at, ack_done_at, seq, "     \
	"topic, key, payload) VALUES ('" id "', 'gsxt', 'disclose', 'penalty', '" USCC_A "', '', " \
	"'罚" id "', 'nm-tax', '某公司', '2026-12-01 08:00+08', '2026-12-02', " sent ", " acked    \
	", " acked ", nextval('credsync.outbox_seq_seq'), 'credit.out.gsxt', '" USCC_A "', "       \
	"'{\"id\":\"" id "\"}'); INSERT INTO credsync.pending (id, site, due_date) SELECT id, "    \
	"site, due_date FROM credsync.obligations WHERE id = '" id "' AND acked_at IS NULL;"

/* Release 012 kept "sent" and "acknowledged" on the obligation; 013 derives them from the
 * publish cursor and appended acks. A database of 012 with obligations sent below the cursor,
 * one unsent and one sent above it, acknowledged and not, keeps its state through the upgrade
 * and goes on: the unsent one goes once, the one sent above the cursor does not go again, and
 * acknowledgements land on the right obligations once. */
Test(store_upgrade, release_012_state_is_kept_and_goes_on, BARE)
{
	char dir[64], err[512];
	bool got;

	storetest_sqldir_upto(dir, sizeof dir, 12);
	cr_assert_eq(store_migrate(storetest_st, dir, err, sizeof err), 12, "migrations of 012: %s",
	             err);
	storetest_sqldir_remove(dir);
	pgtest_exec(storetest_pg,
	            OBLIGATION_012(OB1, "now() - interval '2 h'", "now() - interval '1 h'"));
	pgtest_exec(storetest_pg, OBLIGATION_012(OB2, "now() - interval '2 h'", "NULL"));
	pgtest_exec(storetest_pg, OBLIGATION_012(OB3, "NULL", "NULL"));
	pgtest_exec(storetest_pg, OBLIGATION_012(OB4, "now() - interval '1 h'", "NULL"));
	pgtest_exec(storetest_pg, "UPDATE credsync.outbox_cursor SET low = (SELECT seq FROM "
	                          "credsync.obligations WHERE id = '" OB2 "')");
	char *before = pgtest_text(storetest_pg, digest_sql);

	cr_assert_geq(store_migrate(storetest_st, storetest_sqldir(), err, sizeof err), 1,
	              "migrations: %s", err);
	char *after = pgtest_text(storetest_pg, digest_sql);
	cr_expect_str_eq(after, before, "the upgrade changed the stored state");
	free(after);
	free(before);

	cr_assert_eq(store_outbox_lock(storetest_st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	static const char *const unsent[] = {OB3};
	publish_expect(unsent, 1);
	publish_expect(NULL, 0);
	cr_expect_eq(
	    pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL"),
	    0);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations "
	                                      "WHERE sent_at < now() - interval '90 minutes'"),
	             2, "OB1 and OB2 keep their sent_at");

	struct ack acks[3] = {{OB1, SITE_GSXT, 1726300000},
	                      {OB2, SITE_GSXT, 1726400000},
	                      {OB3, SITE_GSXT, 1726500000}};
	char *ob1_acked =
	    pgtest_text(storetest_pg, "SELECT acked_at::text FROM credsync.obligations "
	                              "WHERE id = '" OB1 "'");
	struct store_batch b = {.acks = acks, .n_acks = 3};
	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b); /* a second delivery of the acks changes nothing */
	char *ob1_now = pgtest_text(storetest_pg, "SELECT acked_at::text FROM credsync.obligations "
	                                          "WHERE id = '" OB1 "'");
	cr_expect_str_eq(ob1_now, ob1_acked, "OB1's first acknowledgement stays");
	free(ob1_now);
	free(ob1_acked);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.acks"), 2);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations "
	                                      "WHERE acked_at IS NULL"),
	             1, "OB4 only");
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT extract(epoch FROM ack_done_at)::bigint "
	                                      "FROM credsync.obligations WHERE id = '" OB3 "'"),
	             1726500000);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.pending"), 1);
}
