/* test_store_batch: store_batch.c: one batch, one transaction: its replay changes nothing, event
 * ids take effect once, inbound rows keep any bytes, records round trip every field (upserted and
 * COPYed), batches about one subject wait for each other, and a batch of megabytes commits in one
 * go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

/* Inbound rows enough for a batch to COPY (store_int.h: COPY_MIN_ROWS). */
#define COPY_MSGS 40

Test(store_batch, replaying_a_committed_batch_changes_nothing, FRESH)
{
	struct store_tp t = storetest_tp(TOPIC, 0);
	struct record rec = storetest_penalty(USCC_A, "呼税罚〔2024〕12号");
	struct obligation ob[2] = {
	    storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2024, 5, 7)),
	    storetest_obligation(OB2, SITE_CREDITCHINA, testlib_ymd(2024, 5, 7))};
	struct store_inbound in[2] = {storetest_inbound(0, EV1, "applied"),
	                              storetest_inbound(1, EV2, "rejected")};
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

	storetest_claim(storetest_st, "A", &t, 1);
	t.offset = 2;
	storetest_commit(storetest_st, &b);
	/* as after a commit whose answer was lost: the caller retries the same batch */
	storetest_commit(storetest_st, &b);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 2);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.records"), 1);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations"), 2);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox"), 2);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT max(seq) FROM credsync.outbox"), 2);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT next_offset FROM credsync.consumer_offsets"),
	             2);
}

Test(store_batch, event_ids_that_took_effect_are_seen, FRESH)
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
		in[i] = storetest_inbound((int64_t)i, ids[i], cases[i].outcome);
	}
	snprintf(ids[N], sizeof ids[N], "%s", "");
	snprintf(ids[N + 1], sizeof ids[N + 1], "%s", "not-a-uuid");
	storetest_commit(storetest_st, &b);

	memset(seen, 1, sizeof seen);
	cr_assert_eq(store_batch_begin(storetest_st, NULL, 0, NULL, 0, NULL, NULL,
	                               (const char(*)[UUID_STRLEN])ids, N + 2, seen, err,
	                               sizeof err),
	             0, "%s", err);
	store_batch_rollback(storetest_st);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(seen[i], cases[i].seen, "outcome %s", cases[i].outcome);
	cr_assert(!seen[N] && !seen[N + 1]);
}

Test(store_batch, an_event_id_takes_effect_once, FRESH)
{
	struct store_inbound first = storetest_inbound(0, EV1, "applied");
	struct store_inbound again = storetest_inbound(1, EV1, "applied");
	struct store_inbound dup = storetest_inbound(1, EV1, "duplicate");
	struct store_batch b1 = {.in = &first, .n_in = 1}, b2 = {.in = &again, .n_in = 1},
	                   b3 = {.in = &dup, .n_in = 1};
	char err[512];

	storetest_commit(storetest_st, &b1);
	/* the index refuses a second effect (the caller should have seen it) */
	cr_assert_eq(store_batch_commit(storetest_st, &b2, err, sizeof err), -1);
	cr_assert(strstr(err, "could not write batch: duplicate key value") == err, "err: %s", err);
	storetest_commit(storetest_st, &b3);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.inbound WHERE event_id = '" EV1 "'"),
	             2);
}

Test(store_batch, inbound_keeps_any_bytes, FRESH)
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
	struct store_inbound ts = storetest_inbound(0, NULL, "ack");
	struct store_batch b = {.in = &in, .n_in = 1}, b2 = {.in = &ts, .n_in = 1};
	char *s;

	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b2);
	s = pgtest_text(storetest_pg, "SELECT encode(payload, 'hex') FROM credsync.inbound WHERE "
	                              "\"offset\" = 42");
	cr_assert_str_eq(s, "7b2261223a00fffe7d");
	free(s);
	s = pgtest_text(storetest_pg, "SELECT uscc || '|' || detail FROM credsync.inbound WHERE "
	                              "\"offset\" = 42");
	cr_assert_str_eq(s, "\xef\xbf\xbd\xef\xbf\xbd"
	                    "ABC|bad byte \xef\xbf\xbd");
	free(s);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM credsync.inbound WHERE \"offset\" = 42 "
	                        "AND event_id IS NULL AND kafka_ts IS NULL"),
	             1);
	s = pgtest_text(storetest_pg, "SELECT to_char(kafka_ts AT TIME ZONE 'UTC', "
	                              "'YYYY-MM-DD HH24:MI:SS.MS') FROM credsync.inbound WHERE "
	                              "\"offset\" = 0");
	cr_assert_str_eq(s, "2024-05-06 02:15:00.123");
	free(s);
}

/* A batch of many messages reaches inbound through COPY (store_batch_copy.c, COPY_MIN_ROWS): it
 * stores what single messages (through the arrays) store, byte for byte, and a replay adds
 * nothing. */
Test(store_batch, inbound_through_copy_stores_what_arrays_store, FRESH)
{
	enum { N = 40 };
	static const char *const texts[] = {
	    "tab\there", "line\nbreak\r", "back\\slash\\N", "\xff\xfe bad \xc3", "呼和浩特", "",
	    NULL};
	static const char payload[] = "{\"a\":\0\xff\xfe\t\n\\}";
	struct store_inbound in[N], one[N];

	for (int i = 0; i < N; i++) {
		const char *t = texts[i % 7];

		in[i] = (struct store_inbound){.topic = "credit.in.x",
		                               .partition = i % 3,
		                               .offset = i,
		                               .event_id = i % 2 ? EV1 : "not-a-uuid",
		                               .producer = t,
		                               .uscc = texts[(i + 1) % 7],
		                               .kafka_ts_ms = i % 4 ? 1726300000123 + i : -1,
		                               .outcome = i % 2 ? "duplicate" : "rejected",
		                               .reason = texts[(i + 2) % 7],
		                               .detail = texts[(i + 3) % 7],
		                               .payload = payload,
		                               .payload_len = i % 5 ? sizeof payload - 1 : 0};
		one[i] = in[i];
		one[i].offset = 1000 + i;
	}
	struct store_batch b = {.in = in, .n_in = N};
	storetest_commit(storetest_st, &b);
	storetest_commit(storetest_st, &b); /* a replay: nothing new */
	for (int i = 0; i < N; i++) {
		struct store_batch b1 = {.in = &one[i], .n_in = 1};
		storetest_commit(storetest_st, &b1);
	}
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 2 * N);
	cr_expect_eq(
	    pgtest_int(storetest_pg,
	               "SELECT count(*) FROM (SELECT topic, partition, \"offset\" % 1000, "
	               "event_id, producer, uscc, kafka_ts, outcome, reason, detail, payload "
	               "FROM credsync.inbound WHERE \"offset\" < 1000 EXCEPT SELECT topic, "
	               "partition, \"offset\" % 1000, event_id, producer, uscc, kafka_ts, "
	               "outcome, reason, detail, payload FROM credsync.inbound WHERE "
	               "\"offset\" >= 1000) d"),
	    0, "COPY and the arrays stored different rows");
	char *s = pgtest_text(storetest_pg,
	                      "SELECT concat_ws('|', producer, uscc, encode(payload, 'hex'), "
	                      "kafka_ts IS NULL, event_id IS NULL) FROM credsync.inbound WHERE "
	                      "\"offset\" = 0");
	cr_expect_str_eq(s, "tab\there|line\nbreak\r||t|t");
	free(s);
	s = pgtest_text(storetest_pg, "SELECT concat_ws('|', producer, uscc, encode(payload, "
	                              "'hex')) FROM credsync.inbound WHERE \"offset\" = 3");
	cr_expect_str_eq(s, "\xef\xbf\xbd\xef\xbf\xbd bad \xef\xbf\xbd|呼和浩特|"
	                    "7b2261223a00fffe090a5c7d");
	free(s);
}

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

/* N obligations of every shape (disclose, takedown, mutual recognition; dates or none) with
 * their messages, ids from base, in one batch with n_in inbound rows from offset off. */
static void
commit_obligations(int n_in, int64_t off, int base)
{
	enum { N = 40 };
	static const char *const payloads[] = {"{\"tab\":\"\t\",\"nl\":\"\n\"}", "back\\slash\\N",
	                                       "呼和浩特", ""};
	struct obligation ob[N];
	struct store_outrow out[N];
	struct store_inbound in[N];
	char ids[N][UUID_STRLEN];
	struct store_batch b = {
	    .in = in, .n_in = (size_t)n_in, .obl = ob, .n_obl = N, .out = out, .n_out = N};

	cr_assert_leq(n_in, N);
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012d", base + i);
		ob[i] = storetest_obligation(ids[i], i % 2 ? SITE_GSXT : SITE_CREDITCHINA,
		                             i % 5 ? testlib_ymd(2024, 5, 7 + i % 3) : DATE_NONE);
		ob[i].type = (enum out_type)(i % 3);
		if (ob[i].type == OUT_TAKEDOWN)
			ob[i].reason = TD_REPAIRED;
		if (ob[i].type == OUT_MUTUAL_RECOGNITION) {
			ob[i].rec_system = SITE_GSXT;
			snprintf(ob[i].rec_decision_no, sizeof ob[i].rec_decision_no, "%s",
			         i % 2 ? "内修复〔2024〕1号" : "");
			ob[i].rec_repaired_on = i % 2 ? testlib_ymd(2024, 6, 1) : DATE_NONE;
		}
		if (i % 4 == 0)
			ob[i].disclose_until = ob[i].repairable_from = DATE_NONE;
		ob[i].received_at += i;
		out[i] = (struct store_outrow){ids[i],
		                               i % 2 ? "credit.out.gsxt" : "credit.out.creditchina",
		                               i % 6 ? USCC_A : NULL, payloads[i % 4]};
		in[i] = storetest_inbound(off + i, NULL, "applied");
	}
	storetest_commit(storetest_st, &b);
}

/* The columns an obligation's writer chooses (all but its id, seq and creation time), its
 * pending row, and its place in seq order, of the obligations WHERE ... */
#define OBLIGATIONS_WHERE                                                                          \
	"o.site, type, reason, kind, uscc, list, decision_no, producer, subject_name, "            \
	"disclose_until, repairable_from, rec_system, rec_decision_no, rec_repair_decision_no, "   \
	"rec_repaired_on, source_event_id, received_at, o.due_date, topic, key, payload, "         \
	"p.site AS p_site, p.due_date AS p_due, p.breach_logged, "                                 \
	"rank() OVER (ORDER BY seq) FROM credsync.obligation_rows o JOIN credsync.pending p "      \
	"USING (id) WHERE "
#define COPIED "SELECT " OBLIGATIONS_WHERE "o.id < '00000000-0000-4000-8000-000000001000'"
#define ARRAYS "SELECT " OBLIGATIONS_WHERE "o.id >= '00000000-0000-4000-8000-000000001000'"

/* A batch of many messages COPYs its obligations and their pending rows (store_batch.c,
 * 014_copy.sql): they store what the arrays of a small batch store, their seqs in the batch's
 * order, and a replay (which the COPY refuses: the rows are there) adds nothing. */
Test(store_batch, obligations_through_copy_store_what_arrays_store, FRESH)
{
	commit_obligations(40, 0, 0);      /* COPY */
	commit_obligations(40, 0, 0);      /* the same again: rolled back, then the arrays */
	commit_obligations(1, 1000, 1000); /* arrays */
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations"), 80);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.pending"), 80);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 41);
	for (int way = 0; way < 2; way++)
		cr_expect_eq(pgtest_int(storetest_pg, way == 0 ? "SELECT count(*) FROM (" COPIED
		                                                 " EXCEPT " ARRAYS ") d"
		                                               : "SELECT count(*) FROM (" ARRAYS
		                                                 " EXCEPT " COPIED ") d"),
		             0, "COPY and the arrays stored different obligations");
	char *s = pgtest_text(
	    storetest_pg, "SELECT concat_ws('|', payload, key IS NULL, rec_decision_no IS NULL, "
	                  "disclose_until IS NULL, to_char(received_at AT TIME ZONE 'UTC', "
	                  "'YYYY-MM-DD HH24:MI:SS')) FROM credsync.obligation_rows "
	                  "WHERE id = '00000000-0000-4000-8000-000000000000'");
	cr_expect_str_eq(s, "{\"tab\":\"\t\",\"nl\":\"\n\"}|f|t|t|2024-05-06 02:15:00");
	free(s);
}

/* An obligation already stored makes the COPY refuse the batch: the batch then goes through the
 * arrays, which keep the stored one and write the others. */
Test(store_batch, a_stored_obligation_does_not_stop_a_copied_batch, FRESH)
{
	commit_obligations(1, 1000, 20); /* ids 20..59 */
	commit_obligations(40, 0, 0);    /* ids 0..39: 20..39 are there */
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.obligations"), 60);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.pending"), 60);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), 41);
	cr_assert_eq(
	    pgtest_int(storetest_pg, "SELECT count(DISTINCT seq) FROM credsync.obligations"), 60);
}

static const char *const five_names[5] = {
    "penalty with every category and a long name", "repaired serious penalty",
    "list entry ended before its add", "serious list entry with dates at the edges",
    "odd characters in the identity"};

/* Five records that between them set every field, edges and odd characters included. */
static void
five_records(struct record recs[5])
{
	recs[0] = storetest_penalty(USCC_A, "呼税罚〔2024〕12号");
	recs[0].categories = (1u << CAT_COUNT) - 1;
	long_name(recs[0].subject_name);

	recs[1] = storetest_penalty(USCC_A, "呼市监罚〔2023〕7号");
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
	recs[1].ended_on = testlib_ymd(2024, 9, 13);
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
	recs[2].ended_on = testlib_ymd(2024, 5, 6);

	recs[3] = recs[2];
	recs[3].key.kind = KIND_SERIOUS;
	snprintf(recs[3].key.list, sizeof recs[3].key.list, "court_dishonest");
	recs[3].status = REC_SHOWN;
	recs[3].added = true;
	recs[3].added_at = -86400; /* before 1970 */
	recs[3].decided_on = testlib_ymd(1969, 12, 31);
	recs[3].repairable_from = 0; /* 1970-01-01, not DATE_NONE */
	recs[3].disclose_until = testlib_ymd(9999, 12, 31);
	recs[3].fine_fen = INT64_C(900000000000000000);
	recs[3].end_reason = TD_NONE;
	recs[3].ended_at = 0;
	recs[3].ended_by[0] = recs[3].end_event_id[0] = '\0';
	recs[3].ended_on = DATE_NONE;

	recs[4] = storetest_penalty(USCC_B, "a\"b\\c,{d}'e\t$1");
	snprintf(recs[4].key.list, sizeof recs[4].key.list, "{x,y}");
	recs[4].key.kind = KIND_SERIOUS;
	snprintf(recs[4].producer, sizeof recs[4].producer, "NULL");
}

static void
assert_records_stored(const struct record *recs, const char *const *names, int n)
{
	struct record got;

	for (int i = 0; i < n; i++) {
		cr_assert(storetest_read_record(storetest_st, &recs[i].key, &got), "%s: not found",
		          names[i]);
		storetest_assert_record_eq(&got, &recs[i], names[i]);
	}
}

Test(store_batch, records_round_trip_every_field, FRESH)
{
	struct record recs[5];
	struct store_batch b = {.recs = recs, .n_recs = 5};
	struct record_key key0;

	five_records(recs);
	storetest_commit(storetest_st, &b);
	assert_records_stored(recs, five_names, 5);

	/* an upsert replaces every field */
	key0 = recs[0].key;
	recs[0] = recs[1];
	recs[0].key = key0;
	b.n_recs = 1;
	storetest_commit(storetest_st, &b);
	assert_records_stored(recs, (const char *[]){"upserted"}, 1);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.records"), 5);
}

/* A batch of many messages COPYs the records it creates (store_batch.c): they store what the
 * upsert stores, and one the batch takes for new that is stored already makes the COPY refuse,
 * after which the upsert writes them all. A statement trigger notes which statements wrote. */
Test(store_batch, records_through_copy_store_what_the_upsert_stores, FRESH)
{
	struct record recs[6];
	bool stored[6] = {false, false, false, false, false, false};
	struct store_inbound in[COPY_MSGS];
	struct store_batch b = {
	    .in = in, .n_in = COPY_MSGS, .recs = recs, .n_recs = 5, .rec_stored = stored};

	pgtest_exec(
	    storetest_pg,
	    "CREATE TABLE public.record_writes (stmt text); "
	    "CREATE FUNCTION public.note_record_write() RETURNS trigger LANGUAGE plpgsql AS "
	    "$$BEGIN INSERT INTO public.record_writes VALUES (split_part(current_query(), "
	    "' ', 1)); RETURN NULL; END$$; "
	    "CREATE TRIGGER note AFTER INSERT ON credsync.records FOR EACH STATEMENT "
	    "EXECUTE FUNCTION public.note_record_write()");
	five_records(recs);
	for (int i = 0; i < COPY_MSGS; i++)
		in[i] = storetest_inbound(i, NULL, "applied");
	storetest_commit(storetest_st, &b);
	assert_records_stored(recs, five_names, 5);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM public.record_writes "
	                                      "WHERE stmt = 'COPY'"),
	             1, "the new records were not COPYed");

	/* one changed (stored), one new, and one taken for new although stored */
	recs[0].status = REC_DOWN;
	stored[0] = true;
	recs[5] = recs[4];
	snprintf(recs[5].key.decision_no, sizeof recs[5].key.decision_no, "新〔2024〕1号");
	recs[1].fine_fen = 1;
	const struct record batch2[3] = {recs[0], recs[5], recs[1]};
	bool stored2[3] = {true, false, false};
	for (int i = 0; i < COPY_MSGS; i++)
		in[i] = storetest_inbound(COPY_MSGS + i, NULL, "applied");
	b.recs = batch2;
	b.n_recs = 3;
	b.rec_stored = stored2;
	storetest_commit(storetest_st, &b);
	assert_records_stored(recs,
	                      (const char *[]){"changed", "taken for new", "unchanged", "unchanged",
	                                       "unchanged", "new"},
	                      6);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.records"), 6);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM public.record_writes "
	                                      "WHERE stmt = 'INSERT'"),
	             1, "the refused COPY did not fall back to the upsert");
}

Test(store_batch, begin_reports_records_not_found, FRESH)
{
	struct record rec = storetest_penalty(USCC_A, "呼税罚〔2024〕12号"), got[2];
	struct record_key keys[2] = {rec.key, rec.key};
	struct store_batch b = {.recs = &rec, .n_recs = 1};
	bool found[2] = {false, true};
	char err[512];

	snprintf(keys[1].decision_no, sizeof keys[1].decision_no, "other");
	storetest_commit(storetest_st, &b);
	cr_assert_eq(store_batch_begin(storetest_st, NULL, 0, keys, 2, got, found, NULL, 0, NULL,
	                               err, sizeof err),
	             0, "%s", err);
	store_batch_rollback(storetest_st);
	cr_assert(found[0]);
	cr_assert(!found[1]);
	cr_assert_str_eq(got[1].key.decision_no, "other");
	cr_assert_eq(got[1].status, 0);
}

Test(store_batch, batches_about_one_subject_wait_for_each_other, FRESH)
{
	store *s = storetest_open(storetest_db, 300), *third = storetest_open(storetest_db, 300);
	static const char a[][USCC_BUF] = {USCC_A}, both[][USCC_BUF] = {USCC_B, USCC_A};
	static const char b[][USCC_BUF] = {USCC_B};
	char err[512];

	cr_assert_eq(store_batch_begin(storetest_st, both, 2, NULL, 0, NULL, NULL, NULL, 0, NULL,
	                               err, sizeof err),
	             0, "%s", err);
	cr_assert_eq(
	    store_batch_begin(s, a, 1, NULL, 0, NULL, NULL, NULL, 0, NULL, err, sizeof err), -1);
	cr_assert_str_eq(err, "could not read batch state: database did not answer within 300 ms");
	store_batch_rollback(storetest_st);
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

/* Several megabytes each way: the pipeline must keep reading while it writes. */
Test(store_batch, a_large_batch_commits_in_one_go, FRESH)
{
	enum { N = 3000 };
	struct store_inbound *in = calloc(N, sizeof *in);
	struct record *recs = calloc(N, sizeof *recs), *got = calloc(N, sizeof *got);
	struct record_key *keys = calloc(N, sizeof *keys);
	struct store_outrow *out = calloc(N, sizeof *out);
	char(*ids)[UUID_STRLEN] = calloc(N, sizeof *ids);
	char(*big)[2048] = calloc(N, sizeof *big);
	bool *found = calloc(N, sizeof *found), *seen = calloc(N, sizeof *seen);
	struct store_tp t = storetest_tp(TOPIC, 0);
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
	storetest_claim(storetest_st, "A", &t, 1);
	for (int i = 0; i < N; i++) {
		char no[32];

		snprintf(no, sizeof no, "罚〔2024〕%d号", i);
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012d", i);
		memset(big[i], 'x', sizeof big[i] - 1);
		in[i] = storetest_inbound(i, ids[i], "applied");
		in[i].payload = big[i];
		in[i].payload_len = sizeof big[i] - 1;
		recs[i] = storetest_penalty(USCC_A, no);
		long_name(recs[i].subject_name);
		keys[i] = recs[i].key;
		out[i] = (struct store_outrow){ids[i], "credit.out.gsxt", USCC_A, big[i]};
	}
	t.offset = N;
	storetest_commit(storetest_st, &b);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.inbound"), N);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.records"), N);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.outbox"), N);
	cr_assert_eq(store_batch_begin(storetest_st, NULL, 0, keys, N, got, found,
	                               (const char(*)[UUID_STRLEN])ids, N, seen, err, sizeof err),
	             0, "%s", err);
	store_batch_rollback(storetest_st);
	for (int i = 0; i < N; i++) {
		cr_assert(found[i] && seen[i], "row %d", i);
		storetest_assert_record_eq(&got[i], &recs[i], "large batch");
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
