/* test_store: the PostgreSQL store against a real server (scripts/pg-test): migrations, fenced
 * offsets, batches and their replay, duplicates, records round trip, obligations and acks,
 * the outbox, and what happens when the database hangs or drops the session. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"
#include "store.h"

#define TIMEOUT_MS 5000
#define USCC_A     "91350100M000100Y43"
#define USCC_B     "91110108551385082Q"
#define TOPIC      "credit.in.nm-tax"
#define EV1        "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b10"
#define EV2        "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b11"
#define EV3        "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b12"
#define OB1        "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40"
#define OB2        "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e41"
#define OB3        "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e42"

static char *db;   /* this test's database */
static store *st;  /* a migrated store on it */
static PGconn *pg; /* a plain connection for checks */

/* --- fixtures and helpers -------------------------------------------------------------- */

static const char *
sqldir(void)
{
	static char buf[4096];
	const char *s = getenv("CREDSYNC_SCHEMAS");

	snprintf(buf, sizeof buf, "%s/sql", s != NULL ? s : CREDSYNC_SRC_SCHEMAS);
	return buf;
}

static store *
open_store(const char *conninfo, int timeout_ms)
{
	char err[512];
	store *s = store_open(conninfo, timeout_ms, err, sizeof err);

	cr_assert(s != NULL, "store_open: %s", err);
	return s;
}

static void
setup_bare(void)
{
	db = pgtest_fresh_db("store");
	st = open_store(db, TIMEOUT_MS);
	pg = pgtest_connect(db);
}

static void
setup(void)
{
	char err[512];

	setup_bare();
	cr_assert(store_migrate(st, sqldir(), err, sizeof err) >= 1, "store_migrate: %s", err);
}

static void
teardown(void)
{
	PQfinish(pg);
	pg = NULL;
	store_close(st);
	st = NULL;
	pgtest_drop_db(db);
	free(db);
	db = NULL;
}

#define FRESH .init = setup, .fini = teardown
#define BARE  .init = setup_bare, .fini = teardown

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls sql until it yields want or timeout_ms passes; returns whether it did. */
static bool
wait_int(const char *sql, long long want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct timespec tick = {0, 20 * 1000 * 1000};

	while (pgtest_int(pg, sql) != want) {
		if (now_ms() > deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

static cs_date
ymd(int y, int m, int d)
{
	cs_date ret;

	cr_assert(date_from_ymd(y, m, d, &ret));
	return ret;
}

static struct record
penalty(const char *uscc, const char *decision_no)
{
	struct record r;

	memset(&r, 0, sizeof r);
	r.key.kind = KIND_PENALTY;
	snprintf(r.key.uscc, sizeof r.key.uscc, "%s", uscc);
	snprintf(r.key.decision_no, sizeof r.key.decision_no, "%s", decision_no);
	r.status = REC_SHOWN;
	r.added = true;
	snprintf(r.producer, sizeof r.producer, "nm-tax");
	snprintf(r.subject_name, sizeof r.subject_name, "呼和浩特某某商贸有限公司");
	r.added_at = 1714961700;
	snprintf(r.add_event_id, sizeof r.add_event_id, EV1);
	r.decided_on = ymd(2024, 5, 6);
	r.categories = CAT_FINE;
	r.field = FIELD_OTHER;
	r.has_fine = true;
	r.fine_fen = 2000000;
	r.severity = SEV_NONE;
	r.channel = SITE_CREDITCHINA;
	r.repairable_from = ymd(2024, 8, 6);
	r.disclose_until = ymd(2025, 5, 6);
	r.end_reason = TD_NONE;
	r.ended_on = DATE_NONE;
	return r;
}

static struct obligation
obligation(const char *id, enum site site, cs_date due)
{
	struct obligation ob;

	memset(&ob, 0, sizeof ob);
	snprintf(ob.id, sizeof ob.id, "%s", id);
	ob.site = site;
	ob.type = OUT_DISCLOSE;
	ob.reason = TD_NONE;
	ob.key = penalty(USCC_A, "呼税罚〔2024〕12号").key;
	snprintf(ob.producer, sizeof ob.producer, "nm-tax");
	snprintf(ob.subject_name, sizeof ob.subject_name, "呼和浩特某某商贸有限公司");
	ob.disclose_until = ymd(2025, 5, 6);
	ob.repairable_from = ymd(2024, 8, 6);
	ob.rec_repaired_on = DATE_NONE;
	snprintf(ob.source_event_id, sizeof ob.source_event_id, EV1);
	ob.received_at = 1714961700;
	ob.due_date = due;
	return ob;
}

static struct store_inbound
inbound(int64_t offset, const char *event_id, const char *outcome)
{
	static const char payload[] = "{\"schema\":\"credsync.event/1\"}";

	return (struct store_inbound){.topic = TOPIC,
	                              .partition = 0,
	                              .offset = offset,
	                              .event_id = event_id,
	                              .producer = "nm-tax",
	                              .uscc = USCC_A,
	                              .kafka_ts_ms = 1714961700123,
	                              .outcome = outcome,
	                              .payload = payload,
	                              .payload_len = sizeof payload - 1};
}

static struct store_tp
tp(const char *topic, int32_t partition)
{
	struct store_tp t;

	memset(&t, 0, sizeof t);
	snprintf(t.topic, sizeof t.topic, "%s", topic);
	t.partition = partition;
	return t;
}

static void
claim(store *s, const char *member, struct store_tp *tps, size_t n)
{
	char err[512];

	cr_assert_eq(store_claim(s, "credsyncd", member, tps, n, err, sizeof err), 0,
	             "store_claim: %s", err);
}

static void
commit_ok(store *s, const struct store_batch *b)
{
	char err[512];

	cr_assert_eq(store_batch_commit(s, b, err, sizeof err), 0, "store_batch_commit: %s", err);
}

/* Reads one record back through store_batch_begin (and rolls back). */
static bool
read_record(store *s, const struct record_key *key, struct record *ret)
{
	char err[512];
	bool found = false;

	cr_assert_eq(
	    store_batch_begin(s, NULL, 0, key, 1, ret, &found, NULL, 0, NULL, err, sizeof err), 0,
	    "store_batch_begin: %s", err);
	store_batch_rollback(s);
	return found;
}

static void
assert_record_eq(const struct record *got, const struct record *want, const char *name)
{
	cr_assert_eq(got->key.kind, want->key.kind, "%s: kind", name);
	cr_assert_str_eq(got->key.uscc, want->key.uscc, "%s: uscc", name);
	cr_assert_str_eq(got->key.list, want->key.list, "%s: list", name);
	cr_assert_str_eq(got->key.decision_no, want->key.decision_no, "%s: decision_no", name);
	cr_assert_eq(got->status, want->status, "%s: status", name);
	cr_assert_eq(got->added, want->added, "%s: added", name);
	cr_assert_str_eq(got->producer, want->producer, "%s: producer", name);
	cr_assert_str_eq(got->subject_name, want->subject_name, "%s: subject_name", name);
	cr_assert_eq(got->added_at, want->added_at, "%s: added_at", name);
	cr_assert_str_eq(got->add_event_id, want->add_event_id, "%s: add_event_id", name);
	cr_assert_eq(got->decided_on, want->decided_on, "%s: decided_on", name);
	cr_assert_eq(got->categories, want->categories, "%s: categories", name);
	cr_assert_eq(got->field, want->field, "%s: field", name);
	cr_assert_eq(got->has_fine, want->has_fine, "%s: has_fine", name);
	cr_assert_eq(got->fine_fen, want->fine_fen, "%s: fine_fen", name);
	cr_assert_eq(got->severity, want->severity, "%s: severity", name);
	cr_assert_eq(got->light, want->light, "%s: light", name);
	cr_assert_eq(got->channel, want->channel, "%s: channel", name);
	cr_assert_eq(got->repairable_from, want->repairable_from, "%s: repairable_from", name);
	cr_assert_eq(got->disclose_until, want->disclose_until, "%s: disclose_until", name);
	cr_assert_eq(got->end_reason, want->end_reason, "%s: end_reason", name);
	cr_assert_eq(got->ended_at, want->ended_at, "%s: ended_at", name);
	cr_assert_str_eq(got->ended_by, want->ended_by, "%s: ended_by", name);
	cr_assert_str_eq(got->end_event_id, want->end_event_id, "%s: end_event_id", name);
	cr_assert_eq(got->ended_on, want->ended_on, "%s: ended_on", name);
	cr_assert_str_eq(got->repair_decision_no, want->repair_decision_no,
	                 "%s: repair_decision_no", name);
}

/* --- migrations ------------------------------------------------------------------------ */

Test(store, migrations_apply_once, BARE)
{
	char err[512];
	int n = store_migrate(st, sqldir(), err, sizeof err);

	cr_assert_geq(n, 1, "store_migrate: %s", err);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.schema_migrations"), n);
	cr_assert_eq(store_migrate(st, sqldir(), err, sizeof err), 0, "second run: %s", err);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.schema_migrations"), n);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = 'credsync' "
	                            "AND tablename IN ('consumer_offsets', 'inbound', 'records', "
	                            "'obligations', 'outbox')"),
	             5);
}

struct racer {
	store *s;
	const char *dir; /* computed before the threads start: sqldir() writes a static buffer */
	int rc;
	char err[512];
};

static void *
race_migrate(void *arg)
{
	struct racer *r = arg;

	r->rc = store_migrate(r->s, r->dir, r->err, sizeof r->err);
	return NULL;
}

Test(store, migrations_run_twice_at_once, BARE)
{
	const char *dir = sqldir();
	struct racer r[2] = {{.s = st, .dir = dir}, {.s = open_store(db, TIMEOUT_MS), .dir = dir}};
	pthread_t th[2];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, race_migrate, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		cr_assert_geq(r[i].rc, 0, "instance %d: %s", i, r[i].err);
	/* one applied everything, the other waited and found nothing left */
	cr_assert(r[0].rc == 0 || r[1].rc == 0, "both applied: %d and %d", r[0].rc, r[1].rc);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.schema_migrations"),
	             r[0].rc + r[1].rc);
	store_close(r[1].s);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert(f != NULL, "could not create %s", path);
	fputs(text, f);
	fclose(f);
}

static void
remove_dir(const char *dir, const char *const *names)
{
	char path[512];

	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

Test(store, a_failed_migration_changes_nothing, BARE)
{
	static const char *const files[] = {"001_one.sql", "002_two.sql", "README", NULL};
	char dir[] = "/tmp/credsync-migrations.XXXXXX", err[512];
	store *other;

	cr_assert(mkdtemp(dir) != NULL);
	write_file(dir, "001_one.sql", "CREATE TABLE credsync.one (x integer);\n");
	write_file(dir, "002_two.sql",
	           "CREATE TABLE credsync.two (x integer);\nSELEC 1;\n"); /* a typo */
	write_file(dir, "README", "not a migration\n");

	cr_assert_eq(store_migrate(st, dir, err, sizeof err), -1);
	cr_assert(strstr(err, "could not apply migration \"002_two.sql\": syntax error") == err,
	          "err: %s", err);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.schema_migrations"), 1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'two'"), 0);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'one'"), 1);

	/* the lock was released: another instance applies the fixed migration */
	write_file(dir, "002_two.sql", "CREATE TABLE credsync.two (x integer);\n");
	other = open_store(db, 2000);
	cr_assert_eq(store_migrate(other, dir, err, sizeof err), 1, "%s", err);
	store_close(other);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.schema_migrations"), 2);
	remove_dir(dir, files);

	cr_assert_eq(store_migrate(st, "/nonexistent/sql", err, sizeof err), -1);
	cr_assert_str_eq(err, "could not open migration directory \"/nonexistent/sql\": No such "
	                      "file or directory");
}

/* --- offsets and fencing --------------------------------------------------------------- */

Test(store, claim_starts_at_zero_and_commits_move_offsets, FRESH)
{
	struct store_tp tps[2] = {tp(TOPIC, 0), tp(TOPIC, 1)};
	struct store_tp again[2] = {tp(TOPIC, 1), tp(TOPIC, 0)};
	struct store_tp other = tp(TOPIC, 0);
	struct store_batch b = {.grp = "credsyncd", .member = "A", .offsets = tps, .n_offsets = 2};
	char err[512];

	claim(st, "A", tps, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(tps[i].offset, 0);
		cr_assert_eq(tps[i].epoch, 1);
	}
	tps[0].offset = 5;
	tps[1].offset = 3;
	commit_ok(st, &b);

	claim(st, "A", again, 2); /* a restart: the same member claims again */
	cr_assert_eq(again[0].offset, 3);
	cr_assert_eq(again[1].offset, 5);
	cr_assert_eq(again[0].epoch, 2);
	cr_assert_eq(again[1].epoch, 2);

	/* another group has offsets of its own */
	cr_assert_eq(store_claim(st, "other-group", "A", &other, 1, err, sizeof err), 0, "%s", err);
	cr_assert_eq(other.offset, 0);
	cr_assert_eq(other.epoch, 1);

	/* the epoch of the first claim is stale now */
	cr_assert_eq(store_batch_commit(st, &b, err, sizeof err), STORE_FENCED, "%s", err);
}

Test(store, a_lost_partition_fences_the_whole_batch, FRESH)
{
	store *bst = open_store(db, TIMEOUT_MS);
	struct store_tp a_tp = tp(TOPIC, 0), b_tp = tp(TOPIC, 0);
	static const char uscc[][USCC_BUF] = {USCC_A};
	struct record rec = penalty(USCC_A, "呼税罚〔2024〕12号"), cur;
	struct obligation ob = obligation(OB1, SITE_GSXT, ymd(2024, 5, 7));
	struct store_inbound in = inbound(0, EV1, "applied");
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

	claim(st, "A", &a_tp, 1);
	cr_assert_eq(store_batch_begin(st, uscc, 1, &rec.key, 1, &cur, &found, NULL, 0, NULL, err,
	                               sizeof err),
	             0, "%s", err);
	/* B takes the partition over while A's batch is open */
	claim(bst, "B", &b_tp, 1);
	cr_assert_eq(b_tp.epoch, 2);
	next = a_tp;
	next.offset = 1;
	cr_assert_eq(store_batch_commit(st, &b, err, sizeof err), STORE_FENCED);
	cr_assert(strstr(err, "could not write batch: partition 0 of \"credit.in.nm-tax\" is no "
	                      "longer owned by \"A\" at epoch 1") == err,
	          "err: %s", err);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound"), 0);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.records"), 0);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations"), 0);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.outbox"), 0);
	cr_assert_eq(pgtest_int(pg, "SELECT next_offset FROM credsync.consumer_offsets"), 0);

	/* B, the owner now, commits the same batch */
	next = b_tp;
	next.offset = 1;
	b.member = "B";
	commit_ok(bst, &b);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound"), 1);
	cr_assert_eq(pgtest_int(pg, "SELECT next_offset FROM credsync.consumer_offsets"), 1);

	/* A's connection is still good: it claims again and carries on */
	claim(st, "A", &a_tp, 1);
	cr_assert_eq(a_tp.offset, 1);
	cr_assert_eq(a_tp.epoch, 3);
	store_close(bst);
}

Test(store, a_partition_never_claimed_is_fenced, FRESH)
{
	struct store_tp t = tp(TOPIC, 7);
	struct store_inbound in = inbound(0, EV1, "applied");
	struct store_batch b = {
	    .in = &in, .n_in = 1, .grp = "credsyncd", .member = "A", .offsets = &t, .n_offsets = 1};
	char err[512];

	t.epoch = -1;
	t.offset = 1;
	cr_assert_eq(store_batch_commit(st, &b, err, sizeof err), STORE_FENCED, "%s", err);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound"), 0);
}

Test(store, replaying_a_committed_batch_changes_nothing, FRESH)
{
	struct store_tp t = tp(TOPIC, 0);
	struct record rec = penalty(USCC_A, "呼税罚〔2024〕12号");
	struct obligation ob[2] = {obligation(OB1, SITE_GSXT, ymd(2024, 5, 7)),
	                           obligation(OB2, SITE_CREDITCHINA, ymd(2024, 5, 7))};
	struct store_inbound in[2] = {inbound(0, EV1, "applied"), inbound(1, EV2, "rejected")};
	struct store_outrow out[2] = {{OB1, "credit.out.gsxt", USCC_A, "{\"n\":1}"},
	                              {OB2, "credit.out.creditchina", USCC_A, "{\"n\":2}"}};
	struct store_batch b = {.in = in,
	                        .n_in = 2,
	                        .recs = &rec,
	                        .n_recs = 1,
	                        .obl = ob,
	                        .n_obl = 2,
	                        .out = out,
	                        .n_out = 2,
	                        .grp = "credsyncd",
	                        .member = "A",
	                        .offsets = &t,
	                        .n_offsets = 1};

	claim(st, "A", &t, 1);
	t.offset = 2;
	commit_ok(st, &b);
	/* as after a commit whose answer was lost: the caller retries the same batch */
	commit_ok(st, &b);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound"), 2);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.records"), 1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations"), 2);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.outbox"), 2);
	cr_assert_eq(pgtest_int(pg, "SELECT max(seq) FROM credsync.outbox"), 2);
	cr_assert_eq(pgtest_int(pg, "SELECT next_offset FROM credsync.consumer_offsets"), 2);
}

/* --- inbound and duplicates ------------------------------------------------------------ */

Test(store, event_ids_that_took_effect_are_seen, FRESH)
{
	static const struct {
		const char *outcome;
		bool seen;
	} cases[] = {
	    {"applied", true},   {"stale", true}, {"noop", true},     {"duplicate", false},
	    {"rejected", false}, {"ack", false},  {"ignored", false},
	};
	enum { N = sizeof cases / sizeof cases[0] };
	char ids[N + 2][UUID_STRLEN];
	struct store_inbound in[N];
	bool seen[N + 2];
	struct store_batch b = {.in = in, .n_in = N};
	char err[512];

	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012zu", i);
		in[i] = inbound((int64_t)i, ids[i], cases[i].outcome);
	}
	snprintf(ids[N], sizeof ids[N], "%s", "");
	snprintf(ids[N + 1], sizeof ids[N + 1], "%s", "not-a-uuid");
	commit_ok(st, &b);

	memset(seen, 1, sizeof seen);
	cr_assert_eq(store_batch_begin(st, NULL, 0, NULL, 0, NULL, NULL,
	                               (const char(*)[UUID_STRLEN])ids, N + 2, seen, err,
	                               sizeof err),
	             0, "%s", err);
	store_batch_rollback(st);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(seen[i], cases[i].seen, "outcome %s", cases[i].outcome);
	cr_assert(!seen[N] && !seen[N + 1]);
}

Test(store, an_event_id_takes_effect_once, FRESH)
{
	struct store_inbound first = inbound(0, EV1, "applied");
	struct store_inbound again = inbound(1, EV1, "applied");
	struct store_inbound dup = inbound(1, EV1, "duplicate");
	struct store_batch b1 = {.in = &first, .n_in = 1}, b2 = {.in = &again, .n_in = 1},
	                   b3 = {.in = &dup, .n_in = 1};
	char err[512];

	commit_ok(st, &b1);
	/* the index refuses a second effect (the caller should have seen it) */
	cr_assert_eq(store_batch_commit(st, &b2, err, sizeof err), -1);
	cr_assert(strstr(err, "could not write batch: duplicate key value") == err, "err: %s", err);
	commit_ok(st, &b3);
	cr_assert_eq(
	    pgtest_int(pg, "SELECT count(*) FROM credsync.inbound WHERE event_id = '" EV1 "'"), 2);
}

Test(store, inbound_keeps_any_bytes, FRESH)
{
	static const char payload[] = "{\"a\":\0\xff\xfe}";
	struct store_inbound in = {.topic = "credit.in.x",
	                           .partition = 3,
	                           .offset = 42,
	                           .event_id = "not-a-uuid",
	                           .producer = "x",
	                           .uscc = "\xff\xfe"
	                                   "ABC",
	                           .kafka_ts_ms = -1,
	                           .outcome = "rejected",
	                           .reason = "malformed_json",
	                           .detail = "bad byte \xc3",
	                           .payload = payload,
	                           .payload_len = sizeof payload - 1};
	struct store_inbound ts = inbound(0, NULL, "ack");
	struct store_batch b = {.in = &in, .n_in = 1}, b2 = {.in = &ts, .n_in = 1};
	char *s;

	commit_ok(st, &b);
	commit_ok(st, &b2);
	s = pgtest_text(pg, "SELECT encode(payload, 'hex') FROM credsync.inbound WHERE "
	                    "\"offset\" = 42");
	cr_assert_str_eq(s, "7b2261223a00fffe7d");
	free(s);
	s = pgtest_text(pg, "SELECT uscc || '|' || detail FROM credsync.inbound WHERE "
	                    "\"offset\" = 42");
	cr_assert_str_eq(s, "\xef\xbf\xbd\xef\xbf\xbd"
	                    "ABC|bad byte \xef\xbf\xbd");
	free(s);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound WHERE \"offset\" = 42 "
	                            "AND event_id IS NULL AND kafka_ts IS NULL"),
	             1);
	s = pgtest_text(pg, "SELECT to_char(kafka_ts AT TIME ZONE 'UTC', "
	                    "'YYYY-MM-DD HH24:MI:SS.MS') FROM credsync.inbound WHERE "
	                    "\"offset\" = 0");
	cr_assert_str_eq(s, "2024-05-06 02:15:00.123");
	free(s);
}

/* --- records --------------------------------------------------------------------------- */

/* A name of exactly NAME_MAX_BYTES bytes of 3- and 4-byte UTF-8 characters. */
static void
long_name(char *buf)
{
	size_t o = 0;

	memcpy(buf + o, "\xf0\xa0\x80\x80", 4); /* U+20000, outside the BMP */
	o += 4;
	while (o + 3 <= NAME_MAX_BYTES) {
		memcpy(buf + o, "呼", 3);
		o += 3;
	}
	while (o < NAME_MAX_BYTES)
		buf[o++] = 'x';
	buf[o] = '\0';
}

Test(store, records_round_trip_every_field, FRESH)
{
	struct record recs[5];
	const char *names[5] = {"penalty with every category and a long name",
	                        "repaired serious penalty", "list entry ended before its add",
	                        "serious list entry with dates at the edges",
	                        "odd characters in the identity"};
	struct store_batch b = {.recs = recs, .n_recs = 5};
	struct record_key key0;
	struct record got;

	recs[0] = penalty(USCC_A, "呼税罚〔2024〕12号");
	recs[0].categories = (1u << CAT_COUNT) - 1;
	long_name(recs[0].subject_name);

	recs[1] = penalty(USCC_A, "呼市监罚〔2023〕7号");
	recs[1].status = REC_DOWN;
	recs[1].field = FIELD_FOOD;
	recs[1].has_fine = false;
	recs[1].fine_fen = 0;
	recs[1].severity = SEV_SERIOUS;
	recs[1].light = true;
	recs[1].channel = SITE_GSXT;
	recs[1].end_reason = TD_REPAIRED;
	recs[1].ended_at = 1726210800;
	snprintf(recs[1].ended_by, sizeof recs[1].ended_by, "gsxt");
	snprintf(recs[1].end_event_id, sizeof recs[1].end_event_id, EV2);
	recs[1].ended_on = ymd(2024, 9, 13);
	snprintf(recs[1].repair_decision_no, sizeof recs[1].repair_decision_no, "信修〔2024〕1号");

	memset(&recs[2], 0, sizeof recs[2]);
	recs[2].key.kind = KIND_ABNORMAL;
	snprintf(recs[2].key.uscc, sizeof recs[2].key.uscc, USCC_B);
	snprintf(recs[2].key.list, sizeof recs[2].key.list, "abnormal_address");
	snprintf(recs[2].key.decision_no, sizeof recs[2].key.decision_no, "内市监异〔2024〕3号");
	recs[2].status = REC_NEVER;
	recs[2].added = false;
	recs[2].decided_on = recs[2].repairable_from = recs[2].disclose_until = DATE_NONE;
	recs[2].end_reason = TD_REMOVED;
	recs[2].ended_at = 1714961700;
	snprintf(recs[2].ended_by, sizeof recs[2].ended_by, "nm-samr");
	snprintf(recs[2].end_event_id, sizeof recs[2].end_event_id, EV3);
	recs[2].ended_on = ymd(2024, 5, 6);

	recs[3] = recs[2];
	recs[3].key.kind = KIND_SERIOUS;
	snprintf(recs[3].key.list, sizeof recs[3].key.list, "court_dishonest");
	recs[3].status = REC_SHOWN;
	recs[3].added = true;
	recs[3].added_at = -86400; /* before 1970 */
	recs[3].decided_on = ymd(1969, 12, 31);
	recs[3].repairable_from = 0; /* 1970-01-01, not DATE_NONE */
	recs[3].disclose_until = ymd(9999, 12, 31);
	recs[3].fine_fen = INT64_C(900000000000000000);
	recs[3].end_reason = TD_NONE;
	recs[3].ended_at = 0;
	recs[3].ended_by[0] = recs[3].end_event_id[0] = '\0';
	recs[3].ended_on = DATE_NONE;

	recs[4] = penalty(USCC_B, "a\"b\\c,{d}'e\t$1");
	snprintf(recs[4].key.list, sizeof recs[4].key.list, "{x,y}");
	recs[4].key.kind = KIND_SERIOUS;
	snprintf(recs[4].producer, sizeof recs[4].producer, "NULL");

	commit_ok(st, &b);
	for (int i = 0; i < 5; i++) {
		cr_assert(read_record(st, &recs[i].key, &got), "%s: not found", names[i]);
		assert_record_eq(&got, &recs[i], names[i]);
	}

	/* an upsert replaces every field */
	key0 = recs[0].key;
	recs[0] = recs[1];
	recs[0].key = key0;
	b.n_recs = 1;
	commit_ok(st, &b);
	cr_assert(read_record(st, &recs[0].key, &got));
	assert_record_eq(&got, &recs[0], "upserted");
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.records"), 5);
}

Test(store, begin_reports_records_not_found, FRESH)
{
	struct record rec = penalty(USCC_A, "呼税罚〔2024〕12号"), got[2];
	struct record_key keys[2] = {rec.key, rec.key};
	struct store_batch b = {.recs = &rec, .n_recs = 1};
	bool found[2] = {false, true};
	char err[512];

	snprintf(keys[1].decision_no, sizeof keys[1].decision_no, "other");
	commit_ok(st, &b);
	cr_assert_eq(
	    store_batch_begin(st, NULL, 0, keys, 2, got, found, NULL, 0, NULL, err, sizeof err), 0,
	    "%s", err);
	store_batch_rollback(st);
	cr_assert(found[0]);
	cr_assert(!found[1]);
	cr_assert_str_eq(got[1].key.decision_no, "other");
	cr_assert_eq(got[1].status, 0);
}

Test(store, expiring_lists_shown_records_past_their_period, FRESH)
{
	struct record recs[5];
	struct record_key keys[4];
	struct store_batch b = {.recs = recs, .n_recs = 5};
	size_t n;
	char err[512];

	recs[0] = penalty(USCC_A, "late");
	recs[0].disclose_until = ymd(2024, 6, 1);
	recs[1] = penalty(USCC_A, "early");
	recs[1].disclose_until = ymd(2024, 1, 1);
	recs[2] = penalty(USCC_A, "down");
	recs[2].status = REC_DOWN;
	recs[2].disclose_until = ymd(2023, 1, 1);
	recs[3] = penalty(USCC_A, "future");
	recs[3].disclose_until = ymd(2030, 1, 1);
	recs[4] = penalty(USCC_A, "today");
	recs[4].disclose_until = ymd(2024, 7, 1);
	commit_ok(st, &b);

	cr_assert_eq(store_expiring(st, ymd(2024, 7, 1), 4, keys, &n, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(keys[0].decision_no, "early");
	cr_assert_str_eq(keys[1].decision_no, "late");
	cr_assert_eq(keys[0].kind, KIND_PENALTY);
	cr_assert_str_eq(keys[0].uscc, USCC_A);
	cr_assert_eq(store_expiring(st, ymd(2024, 7, 1), 1, keys, &n, err, sizeof err), 0);
	cr_assert_eq(n, 1);
}

/* --- obligations, acks, backlog -------------------------------------------------------- */

Test(store, obligations_are_sent_acknowledged_and_counted, FRESH)
{
	struct obligation ob[3] = {obligation(OB1, SITE_GSXT, ymd(2020, 1, 2)),
	                           obligation(OB2, SITE_CREDITCHINA, ymd(2099, 1, 1)),
	                           obligation(OB3, SITE_CREDITCHINA, ymd(2099, 1, 1))};
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
	ob[2].rec_repaired_on = ymd(2024, 9, 13);
	commit_ok(st, &b);
	commit_ok(st, &b); /* the same ids again: no new rows */
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations"), 3);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations WHERE id = '" OB3
	                            "' AND type = 'mutual_recognition' AND reason = 'repaired' "
	                            "AND rec_system = 'gsxt' AND rec_repaired_on = '2024-09-13' "
	                            "AND due_date = '2099-01-01' AND site = 'creditchina'"),
	             1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations WHERE id = '" OB1
	                            "' AND reason IS NULL AND rec_system IS NULL"),
	             1);

	cr_assert_eq(store_backlog(st, &bl, err, sizeof err), 0, "%s", err);
	cr_assert_eq(bl.unsent, 3);
	cr_assert_eq(bl.unacknowledged, 3);
	cr_assert_eq(bl.overdue, 1);
	cr_assert_eq(bl.oldest_due, ymd(2020, 1, 2));

	cr_assert_eq(store_outbox_lock(st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(st, 0, 10, &rows, &n, err, sizeof err), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_outbox_mark_sent(st, &rows[0].seq, 1, err, sizeof err), 0, "%s", err);
	store_outbox_free(rows, n);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations WHERE sent_at IS "
	                            "NOT NULL"),
	             1);

	b = (struct store_batch){.acks = &wrong_site, .n_acks = 1};
	commit_ok(st, &b);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations WHERE acked_at IS "
	                            "NOT NULL"),
	             0);
	b.acks = &right;
	commit_ok(st, &b);
	b.acks = &later;
	commit_ok(st, &b);
	b.acks = &unknown;
	commit_ok(st, &b);
	cr_assert_eq(pgtest_int(pg, "SELECT extract(epoch FROM ack_done_at)::bigint FROM "
	                            "credsync.obligations WHERE acked_at IS NOT NULL"),
	             1726300000);

	cr_assert_eq(store_backlog(st, &bl, err, sizeof err), 0, "%s", err);
	cr_assert_eq(bl.unsent, 2);
	cr_assert_eq(bl.unacknowledged, 2);
	cr_assert_eq(bl.overdue, 0);
	cr_assert_eq(bl.oldest_due, ymd(2099, 1, 1));
}

/* --- outbox ---------------------------------------------------------------------------- */

Test(store, outbox_in_order_sent_once_one_publisher, FRESH)
{
	static const char *const ids[] = {"00000000-0000-4000-8000-000000000003",
	                                  "00000000-0000-4000-8000-000000000001",
	                                  "00000000-0000-4000-8000-000000000002"};
	struct store_outrow out[3] = {{ids[0], "credit.out.gsxt", USCC_A, "{\"n\":0}"},
	                              {ids[1], "credit.out.creditchina", USCC_A, "{\"n\":1}"},
	                              {ids[2], "credit.reject.nm-tax", NULL, "{\"n\":\"税\"}"}};
	struct store_outrow again = {ids[1], "credit.out.creditchina", USCC_A, "{\"n\":99}"};
	struct store_batch b = {.out = out, .n_out = 3}, b2 = {.out = &again, .n_out = 1};
	store *other = open_store(db, TIMEOUT_MS);
	struct outbox_row *rows;
	int64_t seqs[2];
	size_t n;
	bool got;
	char err[512];

	commit_ok(st, &b);
	commit_ok(st, &b2); /* an id already there is left as it is */

	cr_assert_eq(store_outbox_fetch(st, 0, 10, &rows, &n, err, sizeof err), -1);
	cr_assert_str_eq(err, "could not read the outbox: this session does not hold the outbox "
	                      "lock");
	cr_assert_eq(store_outbox_lock(st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_lock(st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got, "taking it again keeps it");
	cr_assert_eq(store_outbox_lock(other, &got, err, sizeof err), 0, "%s", err);
	cr_assert(!got, "a second publisher");

	cr_assert_eq(store_outbox_fetch(st, 0, 10, &rows, &n, err, sizeof err), 0, "%s", err);
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
	cr_assert_eq(store_outbox_mark_sent(st, seqs, 2, err, sizeof err), 0, "%s", err);
	store_outbox_free(rows, n);

	cr_assert_eq(store_outbox_fetch(st, 0, 10, &rows, &n, err, sizeof err), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].seq, 3);
	store_outbox_free(rows, n);
	cr_assert_eq(store_outbox_fetch(st, 3, 10, &rows, &n, err, sizeof err), 0, "%s", err);
	cr_assert_eq(n, 0);
	cr_assert_null(rows);

	/* the lock goes with the connection */
	cr_assert_eq(store_reconnect(st, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_outbox_lock(other, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got, "the lock was released with the old connection");
	store_close(other);
}

/* The set-based statements pass rows as array literals: what the quoting must survive. */
Test(store, array_parameters_keep_quotes_backslashes_and_braces, FRESH)
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
	commit_ok(st, &b);
	cr_assert_eq(store_outbox_lock(st, &got, err, sizeof err), 0, "%s", err);
	cr_assert(got);
	cr_assert_eq(store_outbox_fetch(st, 0, 100, &rows, &n, err, sizeof err), 0, "%s", err);
	cr_assert_eq(n, N);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(rows[i].id, ids[i], "in the batch's order");
		cr_assert_str_eq(rows[i].key, payloads[i]);
		cr_assert_str_eq(rows[i].payload, payloads[i]);
	}
	int64_t except[2] = {rows[0].seq, rows[2].seq};
	store_outbox_free(rows, n);

	/* the publisher's window: rows in flight are left out */
	cr_assert_eq(store_outbox_fetch_except(st, 0, except, 2, 100, &rows, &n, err, sizeof err),
	             0, "%s", err);
	cr_assert_eq(n, N - 2);
	cr_assert_str_eq(rows[0].id, ids[1]);
	cr_assert_str_eq(rows[1].id, ids[3]);
	store_outbox_free(rows, n);
}

/* --- a hung or lost database ----------------------------------------------------------- */

Test(store, a_hung_database_times_out_then_reconnects, FRESH)
{
	store *s = open_store(db, 300);
	static const char uscc[][USCC_BUF] = {USCC_A};
	struct record rec = penalty(USCC_A, "呼税罚〔2024〕12号"), got;
	struct store_tp t = tp(TOPIC, 0);
	bool found;
	char err[512];
	int64_t t0, took;
	int rc;

	pgtest_exec(pg, "BEGIN; LOCK TABLE credsync.records IN ACCESS EXCLUSIVE MODE");
	t0 = now_ms();
	rc = store_batch_begin(s, uscc, 1, &rec.key, 1, &got, &found, NULL, 0, NULL, err,
	                       sizeof err);
	took = now_ms() - t0;
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err, "could not read batch state: database did not answer within 300 ms");
	cr_assert(took >= 290 && took < 2500, "took %lld ms", (long long)took);
	/* the server stopped waiting too: the query was cancelled and the session closed */
	cr_assert(wait_int("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
	                   "AND datname = current_database()",
	                   0, 5000));

	cr_assert_eq(store_claim(s, "credsyncd", "A", &t, 1, err, sizeof err), -1);
	cr_assert(strstr(err, "no connection to the database") != NULL, "err: %s", err);
	pgtest_exec(pg, "ROLLBACK");
	cr_assert_eq(store_reconnect(s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(store_batch_begin(s, uscc, 1, &rec.key, 1, &got, &found, NULL, 0, NULL, err,
	                               sizeof err),
	             0, "%s", err);
	store_batch_rollback(s);
	store_close(s);
}

Test(store, batches_about_one_subject_wait_for_each_other, FRESH)
{
	store *s = open_store(db, 300), *third = open_store(db, 300);
	static const char a[][USCC_BUF] = {USCC_A}, both[][USCC_BUF] = {USCC_B, USCC_A};
	static const char b[][USCC_BUF] = {USCC_B};
	char err[512];

	cr_assert_eq(
	    store_batch_begin(st, both, 2, NULL, 0, NULL, NULL, NULL, 0, NULL, err, sizeof err), 0,
	    "%s", err);
	cr_assert_eq(
	    store_batch_begin(s, a, 1, NULL, 0, NULL, NULL, NULL, 0, NULL, err, sizeof err), -1);
	cr_assert_str_eq(err, "could not read batch state: database did not answer within 300 ms");
	store_batch_rollback(st);
	cr_assert_eq(
	    store_batch_begin(third, b, 1, NULL, 0, NULL, NULL, NULL, 0, NULL, err, sizeof err), 0,
	    "%s", err);
	store_batch_rollback(third);
	cr_assert_eq(store_reconnect(s, err, sizeof err), 0, "%s", err);
	cr_assert_eq(
	    store_batch_begin(s, a, 1, NULL, 0, NULL, NULL, NULL, 0, NULL, err, sizeof err), 0,
	    "%s", err);
	store_batch_rollback(s);
	store_close(s);
	store_close(third);
}

Test(store, reconnects_after_the_session_is_terminated, FRESH)
{
	char *ci = NULL, err[512];
	struct store_tp t = tp(TOPIC, 0);
	store *s;
	size_t len = strlen(db) + 64;

	ci = malloc(len);
	cr_assert(ci != NULL);
	snprintf(ci, len, "%s application_name=store_victim", db);
	s = open_store(ci, TIMEOUT_MS);
	claim(s, "A", &t, 1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	                            "WHERE application_name = 'store_victim'"),
	             1);
	cr_assert(wait_int("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
	                   "'store_victim'",
	                   0, 5000));

	cr_assert_eq(store_claim(s, "credsyncd", "A", &t, 1, err, sizeof err), -1);
	cr_assert(strncmp(err, "could not claim partitions: ", 28) == 0 && strlen(err) > 28,
	          "err: %s", err);
	cr_assert_eq(store_reconnect(s, err, sizeof err), 0, "%s", err);
	claim(s, "A", &t, 1);
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

/* Several megabytes each way: the pipeline must keep reading while it writes. */
Test(store, a_large_batch_commits_in_one_go, FRESH)
{
	enum { N = 3000 };
	struct store_inbound *in = calloc(N, sizeof *in);
	struct record *recs = calloc(N, sizeof *recs), *got = calloc(N, sizeof *got);
	struct record_key *keys = calloc(N, sizeof *keys);
	struct store_outrow *out = calloc(N, sizeof *out);
	char(*ids)[UUID_STRLEN] = calloc(N, sizeof *ids);
	char(*big)[2048] = calloc(N, sizeof *big);
	bool *found = calloc(N, sizeof *found), *seen = calloc(N, sizeof *seen);
	struct store_tp t = tp(TOPIC, 0);
	struct store_batch b = {.in = in,
	                        .n_in = N,
	                        .recs = recs,
	                        .n_recs = N,
	                        .out = out,
	                        .n_out = N,
	                        .grp = "credsyncd",
	                        .member = "A",
	                        .offsets = &t,
	                        .n_offsets = 1};
	char err[512];

	cr_assert(in && recs && got && keys && out && ids && big && found && seen);
	claim(st, "A", &t, 1);
	for (int i = 0; i < N; i++) {
		char no[32];

		snprintf(no, sizeof no, "罚〔2024〕%d号", i);
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012d", i);
		memset(big[i], 'x', sizeof big[i] - 1);
		in[i] = inbound(i, ids[i], "applied");
		in[i].payload = big[i];
		in[i].payload_len = sizeof big[i] - 1;
		recs[i] = penalty(USCC_A, no);
		long_name(recs[i].subject_name);
		keys[i] = recs[i].key;
		out[i] = (struct store_outrow){ids[i], "credit.out.gsxt", USCC_A, big[i]};
	}
	t.offset = N;
	commit_ok(st, &b);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound"), N);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.records"), N);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.outbox"), N);
	cr_assert_eq(store_batch_begin(st, NULL, 0, keys, N, got, found,
	                               (const char(*)[UUID_STRLEN])ids, N, seen, err, sizeof err),
	             0, "%s", err);
	store_batch_rollback(st);
	for (int i = 0; i < N; i++) {
		cr_assert(found[i] && seen[i], "row %d", i);
		assert_record_eq(&got[i], &recs[i], "large batch");
	}
	free(in);
	free(recs);
	free(got);
	free(keys);
	free(out);
	free(ids);
	free(big);
	free(found);
	free(seen);
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
	t0 = now_ms();
	s = store_open(conninfo, 300, err, sizeof err);
	took = now_ms() - t0;
	cr_assert_null(s);
	cr_assert_str_eq(err, "could not connect to the database: no answer within 300 ms");
	cr_assert(took >= 290 && took < 2500, "took %lld ms", (long long)took);
	close(fd);
}
