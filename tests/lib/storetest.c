/* storetest: the fixture and builders of the store's tests. */
#include "storetest.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"
#include "testlib.h"

char *storetest_db;
store *storetest_st;
PGconn *storetest_pg;

const char *
storetest_sqldir(void)
{
	static char buf[4096];
	const char *s = getenv("CREDSYNC_SCHEMAS");

	snprintf(buf, sizeof buf, "%s/sql", s != NULL && s[0] != '\0' ? s : CREDSYNC_SRC_SCHEMAS);
	return buf;
}

void
storetest_sqldir_upto(char *buf, size_t bufsz, int upto)
{
	char from[4400], to[4400];

	snprintf(buf, bufsz, "/tmp/credsync-sql.XXXXXX");
	cr_assert(mkdtemp(buf) != NULL, "mkdtemp");
	DIR *d = opendir(storetest_sqldir());
	cr_assert(d != NULL, "opendir %s", storetest_sqldir());
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		int v;
		if (sscanf(e->d_name, "%3d_", &v) != 1 || v > upto)
			continue;
		snprintf(from, sizeof from, "%s/%s", storetest_sqldir(), e->d_name);
		snprintf(to, sizeof to, "%s/%s", buf, e->d_name);
		cr_assert_eq(symlink(from, to), 0, "symlink %s", to);
	}
	closedir(d);
}

void
storetest_sqldir_remove(const char *dir)
{
	char path[4096];
	DIR *d = opendir(dir);

	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

store *
storetest_open(const char *conninfo, int timeout_ms)
{
	char err[512];
	store *s = store_open(conninfo, timeout_ms, err, sizeof err);

	cr_assert(s != NULL, "store_open: %s", err);
	return s;
}

void
storetest_setup_bare(void)
{
	storetest_db = pgtest_fresh_db("store");
	storetest_st = storetest_open(storetest_db, STORETEST_TIMEOUT_MS);
	storetest_pg = pgtest_connect(storetest_db);
}

void
storetest_setup(void)
{
	char err[512];

	storetest_setup_bare();
	cr_assert(store_migrate(storetest_st, storetest_sqldir(), err, sizeof err) >= 1,
	          "store_migrate: %s", err);
}

void
storetest_teardown(void)
{
	PQfinish(storetest_pg);
	storetest_pg = NULL;
	store_close(storetest_st);
	storetest_st = NULL;
	pgtest_drop_db(storetest_db);
	free(storetest_db);
	storetest_db = NULL;
}

bool
storetest_wait_int(const char *sql, long long want, int timeout_ms)
{
	int64_t deadline = testlib_now_ms() + timeout_ms;
	struct timespec tick = {0, 20 * 1000 * 1000};

	while (pgtest_int(storetest_pg, sql) != want) {
		if (testlib_now_ms() > deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

struct record
storetest_penalty(const char *uscc, const char *decision_no)
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
	r.decided_on = testlib_ymd(2024, 5, 6);
	r.categories = CAT_FINE;
	r.field = FIELD_OTHER;
	r.has_fine = true;
	r.fine_fen = 2000000;
	r.severity = SEV_NONE;
	r.channel = SITE_CREDITCHINA;
	r.repairable_from = testlib_ymd(2024, 8, 6);
	r.disclose_until = testlib_ymd(2025, 5, 6);
	r.end_reason = TD_NONE;
	r.ended_on = DATE_NONE;
	return r;
}

struct obligation
storetest_obligation(const char *id, enum site site, cs_date due)
{
	struct obligation ob;

	memset(&ob, 0, sizeof ob);
	snprintf(ob.id, sizeof ob.id, "%s", id);
	ob.site = site;
	ob.type = OUT_DISCLOSE;
	ob.reason = TD_NONE;
	ob.key = storetest_penalty(USCC_A, "呼税罚〔2024〕12号").key;
	snprintf(ob.producer, sizeof ob.producer, "nm-tax");
	snprintf(ob.subject_name, sizeof ob.subject_name, "呼和浩特某某商贸有限公司");
	ob.disclose_until = testlib_ymd(2025, 5, 6);
	ob.repairable_from = testlib_ymd(2024, 8, 6);
	ob.rec_repaired_on = DATE_NONE;
	snprintf(ob.source_event_id, sizeof ob.source_event_id, EV1);
	ob.received_at = 1714961700;
	ob.due_date = due;
	return ob;
}

struct store_inbound
storetest_inbound(int64_t offset, const char *event_id, const char *outcome)
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

struct store_tp
storetest_tp(const char *topic, int32_t partition)
{
	struct store_tp t;

	memset(&t, 0, sizeof t);
	snprintf(t.topic, sizeof t.topic, "%s", topic);
	t.partition = partition;
	return t;
}

void
storetest_claim(store *s, const char *member, struct store_tp *tps, size_t n)
{
	char err[512];

	cr_assert_eq(store_claim(s, "credsyncd", member, tps, n, err, sizeof err), 0,
	             "store_claim: %s", err);
}

void
storetest_commit(store *s, const struct store_batch *b)
{
	char err[512];

	cr_assert_eq(store_batch_commit(s, b, err, sizeof err), 0, "store_batch_commit: %s", err);
}

bool
storetest_read_record(store *s, const struct record_key *key, struct record *ret)
{
	char err[512];
	bool found = false;

	cr_assert_eq(
	    store_batch_begin(s, NULL, 0, key, 1, ret, &found, NULL, 0, NULL, err, sizeof err), 0,
	    "store_batch_begin: %s", err);
	store_batch_rollback(s);
	return found;
}

void
storetest_assert_record_eq(const struct record *got, const struct record *want, const char *name)
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
