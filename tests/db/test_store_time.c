/* test_store_time: store_time.c: the expiry scan lists the shown records past their period. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "pgtest.h"
#include "store.h"
#include "store_time.h"
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

/* store_counts (the histogram of migration 006) against the full scans store_backlog and
 * store_deadlines, before and after folding. */
static void
expect_counts_as_scanned(cs_date today, const char *when)
{
	struct store_backlog bl, sbl;
	struct store_deadlines dl, sdl;
	char err[512];

	cr_assert_eq(store_counts(storetest_st, today, &bl, &dl, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_deadlines(storetest_st, today, &sdl, err, sizeof err), 0, "%s", err);
	/* store_backlog takes today from the clock: compare with today = the real one only */
	if (today == date_beijing(clock_now())) {
		cr_assert_eq(store_backlog(storetest_st, &sbl, err, sizeof err), 0, "%s", err);
		cr_expect_eq(bl.unsent, sbl.unsent, "%s: unsent", when);
		cr_expect_eq(bl.unacknowledged, sbl.unacknowledged, "%s: unacknowledged", when);
		cr_expect_eq(bl.overdue, sbl.overdue, "%s: overdue", when);
		cr_expect_eq(bl.oldest_due, sbl.oldest_due, "%s: oldest_due", when);
	}
	cr_expect_eq(dl.breach, sdl.breach, "%s: breach", when);
	cr_expect_eq(dl.at_risk, sdl.at_risk, "%s: at_risk", when);
	cr_expect_eq(dl.oldest_breach, sdl.oldest_breach, "%s: oldest_breach", when);
	cr_expect_eq(dl.apps_overdue, sdl.apps_overdue, "%s: apps_overdue", when);
}

static struct ack
mk_ack(const char *id, enum site site)
{
	struct ack a = {.site = site, .done_at = 1726300000};
	snprintf(a.id, sizeof a.id, "%s", id);
	return a;
}

Test(store_time, backlog_counts_agree_with_the_full_scan, FRESH)
{
	static char ids[6][UUID_STRLEN];
	struct obligation ob[6];
	struct store_outrow out[6];
	cs_date today = date_beijing(clock_now());
	const cs_date dues[6] = {today - 3, today - 3, today, today + 5, DATE_NONE, today - 1};
	int64_t folded;
	char err[512];

	for (int i = 0; i < 6; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-0000000000%02d", i + 10);
		ob[i] = storetest_obligation(ids[i], i % 2 ? SITE_GSXT : SITE_CREDITCHINA, dues[i]);
		out[i] = (struct store_outrow){ids[i], "credit.out.gsxt", USCC_A, "{}"};
	}
	expect_counts_as_scanned(today, "empty");
	struct store_batch b = {.obl = ob, .n_obl = 6, .out = out, .n_out = 6};
	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b); /* the same ids again: no new rows, no new counts */
	expect_counts_as_scanned(today, "written");
	expect_counts_as_scanned(today - 2, "written, two days earlier");

	struct ack acks[2] = {mk_ack(ids[0], SITE_CREDITCHINA), mk_ack(ids[2], SITE_CREDITCHINA)};
	b = (struct store_batch){.acks = acks, .n_acks = 2};
	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b); /* acknowledged twice: counted once */
	expect_counts_as_scanned(today, "acknowledged");

	cr_assert_eq(store_counts_fold(storetest_st, &folded, err, sizeof err), 0, "%s", err);
	cr_expect_gt(folded, 0);
	cr_expect_eq(
	    pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligation_count_deltas"), 0,
	    "folded");
	expect_counts_as_scanned(today, "folded");
	expect_counts_as_scanned(today + 6, "folded, six days later");
	cr_assert_eq(store_counts_fold(storetest_st, &folded, err, sizeof err), 0, "%s", err);
	cr_expect_eq(folded, 0, "nothing new to fold");

	/* the rest acknowledged: nothing counted, and nothing left over after a fold */
	struct ack rest[4] = {mk_ack(ids[1], SITE_GSXT), mk_ack(ids[3], SITE_GSXT),
	                      mk_ack(ids[4], SITE_CREDITCHINA), mk_ack(ids[5], SITE_GSXT)};
	b = (struct store_batch){.acks = rest, .n_acks = 4};
	storetest_commit(storetest_st, &b);
	expect_counts_as_scanned(today, "all acknowledged");
	cr_assert_eq(store_counts_fold(storetest_st, &folded, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_counts_fold(storetest_st, &folded, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligation_counts"), 0,
	             "zero counts dropped");
	expect_counts_as_scanned(today, "all acknowledged, folded");
}

/* The migrations up to upto applied from a folder of links to them (in dir); returns the
 * number of the others, for migrate_rest. */
static int
migrate_upto(char *dir, size_t dirsz, int upto)
{
	char err[512];
	size_t n;
	int all = 0;

	char **names = testlib_list_dir(storetest_sqldir(), ".sql", &n);
	for (size_t i = 0; i < n; i++)
		all += names[i][0] >= '0' && names[i][0] <= '9';
	testlib_free_names(names, n);
	storetest_sqldir_upto(dir, dirsz, upto);
	int applied = store_migrate(storetest_st, dir, err, sizeof err);
	cr_assert(applied >= 3, "%s", err);
	return all - applied;
}

/* The rest of the migrations, and dir of migrate_upto removed. */
static void
migrate_rest(const char *dir, int later)
{
	char err[512];

	cr_assert_eq(store_migrate(storetest_st, storetest_sqldir(), err, sizeof err), later, "%s",
	             err);
	storetest_sqldir_remove(dir);
}

/* The migration counts what was there before it: a database of the previous release. */
Test(store_time, backlog_counts_start_from_the_existing_obligations, BARE)
{
	char dir[64];
	cs_date today = date_beijing(clock_now());
	int later = migrate_upto(dir, sizeof dir, 5);

	/* as 005's release wrote them: each obligation carries its message */
	for (int i = 0; i < 3; i++) {
		char due[DATE_STRLEN], sql[1024];
		date_format(today - 1 + i, due);
		snprintf(
		    sql, sizeof sql,
		    "INSERT INTO credsync.obligations (id, site, type, kind, uscc, list, "
		    "decision_no, producer, subject_name, received_at, due_date, topic, key, "
		    "payload, seq) VALUES ('00000000-0000-4000-8000-00000000002%d', 'gsxt', "
		    "'disclose', 'penalty', '%s', '', '罚%d', 'nm-tax', '某公司', now(), '%s', "
		    "'credit.out.gsxt', '%s', '{}', nextval('credsync.outbox_seq_seq'))",
		    i + 1, USCC_A, i, due, USCC_A);
		pgtest_exec(storetest_pg, sql);
	}
	migrate_rest(dir, later);
	expect_counts_as_scanned(today, "migrated");
	struct ack ack = mk_ack("00000000-0000-4000-8000-000000000022", SITE_GSXT);
	struct store_batch b = {.acks = &ack, .n_acks = 1};
	storetest_commit(storetest_st, &b);
	expect_counts_as_scanned(today, "migrated, then acknowledged");
}

/* The statistics of every other session, flushed when it exits. */
static void
others_exited(void)
{
	cr_assert(storetest_wait_int("SELECT count(*) FROM pg_stat_activity WHERE datname = "
	                             "current_database() AND pid <> pg_backend_pid()",
	                             0, 10000),
	          "the other sessions exited");
}

/* The scans of credsync.obligation_rows so far, once every other session has exited and
 * flushed its statistics. */
static long long
obligation_scans(const char *kind)
{
	char sql[256];

	others_exited();
	snprintf(sql, sizeof sql,
	         "SELECT %s FROM pg_stat_user_tables WHERE relid = 'credsync.obligation_rows'"
	         "::regclass",
	         kind);
	return pgtest_int(storetest_pg, sql);
}

/* The daily summary asks every 2 s, until its first summary, whether any obligation came
 * before a day's end. Where none did, the answer must not read the table: with 019's BRIN
 * index it was a sequential scan of every obligation (020_received_btree.sql). */
Test(store_time, any_until_descends_the_arrival_index, FRESH)
{
	cs_date today = date_beijing(clock_now());
	bool any = true;
	char err[512];

	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.obligation_rows (id, site, type, kind, uscc, list, "
	            "decision_no, producer, subject_name, received_at) SELECT gen_random_uuid(), "
	            "'gsxt', 'takedown', 'penalty', '" USCC_A "', '', 'd' || i, 'nm-tax', 'n', "
	            "now() FROM generate_series(1, 20000) i");
	store_close(storetest_st); /* its statistics (the migrations' scans) flushed on exit */
	storetest_st = NULL;
	long long seq0 = obligation_scans("seq_scan"), idx0 = obligation_scans("idx_scan");

	store *s = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	cr_assert_eq(store_any_until(s, today - 1, &any, err, sizeof err), 0, "%s", err);
	cr_expect(!any, "nothing received before today");
	cr_assert_eq(store_any_until(s, today, &any, err, sizeof err), 0, "%s", err);
	cr_expect(any, "today's obligations");
	store_close(s);

	cr_expect_eq(obligation_scans("seq_scan"), seq0, "no sequential scan");
	cr_expect_eq(obligation_scans("idx_scan"), idx0 + 2, "one index scan a question");
}

/* The rows of the tables read so far, by index entries and sequential scans. */
static long long
rows_read(const char *tables)
{
	char sql[512];

	others_exited();
	snprintf(
	    sql, sizeof sql,
	    "SELECT (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE "
	    "schemaname = 'credsync' AND relname IN (%s)) + (SELECT coalesce(sum(seq_tup_read), "
	    "0) FROM pg_stat_user_tables WHERE schemaname = 'credsync' AND relname IN (%s))",
	    tables, tables);
	return pgtest_int(storetest_pg, sql);
}

/* The deadline job asks every second which repair applications are late and not logged yet.
 * An application logged late stays undecided, often for good: a tick must read the ones it
 * logs, not all of those (it read every open application until 024_late_apps_index.sql). */
Test(store_time, late_applications_read_what_they_log, FRESH)
{
	cs_date today = date_beijing(clock_now());
	struct store_late late[64];
	size_t n;
	char err[512], sql[1024];

	/* 20,000 late and logged (half of them accepted), three late and not logged (one to
	 * accept, two to decide), two not due yet, one decided */
	pgtest_exec(storetest_pg,
	            "INSERT INTO credsync.repair_applications (channel, application_no, uscc, "
	            "decision_no, applied_at, accept_due, accepted_at, decide_due, "
	            "accept_late_logged_at, decide_late_logged_at) SELECT 'gsxt', 'old' || g, "
	            "'" USCC_A "', 'd' || g, now(), current_date - 20, CASE WHEN g % 2 = 0 THEN "
	            "now() END, CASE WHEN g % 2 = 0 THEN current_date - 10 END, CASE WHEN g % 2 = "
	            "1 THEN now() END, CASE WHEN g % 2 = 0 THEN now() END FROM generate_series(1, "
	            "20000) g");
	snprintf(
	    sql, sizeof sql,
	    "INSERT INTO credsync.repair_applications (channel, application_no, uscc, "
	    "decision_no, applied_at, accept_due, accepted_at, decide_due, decided_at) VALUES "
	    "('gsxt', 'a1', '" USCC_A "', 'd', now(), date '1970-01-01' + %d, NULL, NULL, NULL),"
	    " ('creditchina', 'd1', '" USCC_A "', 'd', now(), NULL, now(), "
	    "date '1970-01-01' + %d, NULL),"
	    " ('creditchina', 'd2', '" USCC_A "', 'd', now(), NULL, now(), "
	    "date '1970-01-01' + %d, NULL),"
	    " ('gsxt', 'a2', '" USCC_A "', 'd', now(), date '1970-01-01' + %d, NULL, NULL, NULL),"
	    " ('gsxt', 'd3', '" USCC_A "', 'd', now(), NULL, now(), date '1970-01-01' + %d, "
	    "NULL),"
	    " ('gsxt', 'x1', '" USCC_A "', 'd', now(), date '1970-01-01' + %d, NULL, NULL, "
	    "now())",
	    (int)today - 1, (int)today - 2, (int)today - 3, (int)today, (int)today + 1,
	    (int)today - 5);
	pgtest_exec(storetest_pg, sql);
	pgtest_exec(storetest_pg, "ANALYZE credsync.repair_applications");
	store_close(storetest_st);
	storetest_st = NULL;
	long long reads0 = rows_read("'repair_applications'");

	/* takes of at most two: the three late and unlogged over two takes, none twice */
	store *s = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	int seen = 0;
	static const size_t want[] = {2, 1, 0};
	for (size_t take = 0; take < 3; take++) {
		cr_assert_eq(
		    store_late_take(s, STORE_LATE_APP, today, 2, late, &n, err, sizeof err), 0,
		    "%s", err);
		cr_expect_eq(n, want[take], "take %zu: %zu late, %zu expected", take, n,
		             want[take]);
		for (size_t i = 0; i < n; i++) {
			const struct store_late *l = &late[i];
			int bit = strcmp(l->application_no, "a1") == 0   ? 1
			          : strcmp(l->application_no, "d1") == 0 ? 2
			          : strcmp(l->application_no, "d2") == 0 ? 4
			                                                 : 8;
			cr_expect_eq(seen & bit, 0, "%s taken twice or not late",
			             l->application_no);
			seen |= bit;
			cr_expect_str_eq(l->id, "");
			cr_expect_str_eq(l->uscc, USCC_A);
			cr_expect_str_eq(l->what, bit == 1 ? "accept" : "decide");
			cr_expect_str_eq(l->site, bit == 1 ? "gsxt" : "creditchina");
			cr_expect_eq(l->due, bit == 1   ? today - 1
			                     : bit == 2 ? today - 2
			                                : today - 3);
		}
	}
	cr_expect_eq(seen, 7, "a1, d1 and d2 (%d)", seen);
	cr_expect_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.repair_applications WHERE "
	                        "application_no IN ('a1', 'd1', 'd2') AND coalesce("
	                        "accept_late_logged_at, decide_late_logged_at) IS NOT NULL"),
	             3, "each logged");
	store_close(s);

	long long read = rows_read("'repair_applications'") - reads0;
	cr_expect(read < 100, "%lld rows of repair_applications read for 3 late ones", read);
}

/* Obligations due today, the first n_logged of them logged at risk, the first n_pending with a
 * pending row; ids ...-<base + i>. logged_flag: the flag of 025 set with the column. */
static void
due_today(int base, int n, int n_logged, bool logged_flag)
{
	char sql[1536];

	snprintf(sql, sizeof sql,
	         "INSERT INTO credsync.obligation_rows (id, site, type, kind, uscc, list, "
	         "decision_no, producer, subject_name, received_at, due_date, at_risk_logged_at) "
	         "SELECT ('00000000-0000-4000-8000-' || lpad((%d + g)::text, 12, '0'))::uuid, "
	         "'gsxt', 'takedown', 'penalty', '" USCC_A "', '', 'd' || g, 'nm-tax', 'n', now(), "
	         "date '1970-01-01' + %d, CASE WHEN g <= %d THEN now() END FROM "
	         "generate_series(1, %d) g",
	         base, (int)date_beijing(clock_now()), n_logged, n);
	pgtest_exec(storetest_pg, sql);
	snprintf(sql, sizeof sql,
	         "INSERT INTO credsync.pending (id, site, due_date%s) SELECT id, site, due_date%s "
	         "FROM credsync.obligation_rows WHERE id >= ('00000000-0000-4000-8000-' || "
	         "lpad((%d + 1)::text, 12, '0'))::uuid AND id <= ('00000000-0000-4000-8000-' || "
	         "lpad((%d + %d)::text, 12, '0'))::uuid",
	         logged_flag ? ", at_risk_logged" : "",
	         logged_flag ? ", at_risk_logged_at IS NOT NULL" : "", base, base, n);
	pgtest_exec(storetest_pg, sql);
}

/* The at-risk ids taken now, as a mask of ids base + 1 .. base + 31. */
static unsigned
at_risk_taken(store *s, int base)
{
	struct store_late late[64];
	char err[512];
	size_t n;
	unsigned mask = 0;

	cr_assert_eq(store_late_take(s, STORE_LATE_AT_RISK, date_beijing(clock_now()), 64, late, &n,
	                             err, sizeof err),
	             0, "%s", err);
	for (size_t i = 0; i < n; i++) {
		long id = strtol(late[i].id + 24, NULL, 10) - base;
		cr_expect(id > 0 && id < 32, "an at-risk id out of range: %s", late[i].id);
		cr_expect_str_eq(late[i].site, "gsxt");
		cr_expect_eq(late[i].due, date_beijing(clock_now()));
		if (id > 0 && id < 32)
			mask |= 1u << id;
	}
	return mask;
}

/* After 12:00 the deadline job asks every second which obligations due today are not logged
 * at risk yet. A site down on a busy day leaves all of them unacknowledged: a tick must read
 * the ones it logs (it read every one of them until 025_at_risk_unlogged.sql). */
Test(store_time, at_risk_reads_what_it_logs, FRESH)
{
	due_today(100000, 20000, 20000, true); /* logged */
	due_today(0, 3, 0, true);              /* not logged: ids 1-3 */
	pgtest_exec(storetest_pg, "ANALYZE credsync.pending");
	pgtest_exec(storetest_pg, "ANALYZE credsync.obligation_rows");
	store_close(storetest_st);
	storetest_st = NULL;
	long long reads0 = rows_read("'pending', 'obligation_rows'");

	store *s = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	cr_expect_eq(at_risk_taken(s, 0), 0xeu, "ids 1-3 logged");
	cr_expect_eq(at_risk_taken(s, 0), 0u, "and only once");
	store_close(s);
	cr_expect_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligation_rows WHERE "
	                                      "at_risk_logged_at IS NOT NULL"),
	             20003);

	long long read = rows_read("'pending', 'obligation_rows'") - reads0;
	cr_expect(read < 100, "%lld rows of pending and obligation_rows read for 3 at risk", read);
}

/* 025 carries the at-risk lines logged before it over to pending. */
Test(store_time, at_risk_logged_before_the_migration_stays_logged, BARE)
{
	char dir[64];
	int later = migrate_upto(dir, sizeof dir, 24);

	due_today(0, 4, 2, false); /* ids 1-2 logged by the previous release, 3-4 not */
	migrate_rest(dir, later);
	cr_expect_eq(at_risk_taken(storetest_st, 0), 0x18u, "ids 3-4 logged, 1-2 not again");
	cr_expect_eq(at_risk_taken(storetest_st, 0), 0u);
}
