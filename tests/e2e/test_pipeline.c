/* End-to-end: credsyncd between a real PostgreSQL and a Kafka mock cluster in its own
 * process. Each event type's messages on both sites, every reject reason on the right
 * reject topic, duplicates and reordering, SIGKILL at several points, two instances. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "e2e.h"
#include "testlib.h"

#define WAIT_MS 60000

TestSuite(pipeline, .fini = e2e_cleanup);

static const char *const usccs[] = {"91150102MA0N123408", "91150105MA0Q7K3D2H",
                                    "91150203MA0R5T8L6F", "92150602MA0P3W9X1U",
                                    "91150702MA0N8H2C4Q", "91150402MA0M6F1B9H"};

static void
send_event(struct e2e *e, const char *topic_producer, const char *id, const char *type,
           const char *producer, const char *uscc, const char *when, const char *record)
{
	char topic[128];
	char *ev = e2e_event(id, type, producer, uscc, when, record);
	snprintf(topic, sizeof(topic), "credit.in.%s", topic_producer);
	e2e_produce(e, topic, uscc, ev);
	free(ev);
}

static void
send_penalty(struct e2e *e, const char *producer, int i, const char *decided, const char *cats)
{
	char rec[512];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"decided_on\": \"%s\", \"categories\": %s,"
	         " \"fine_yuan\": \"200000.00\", \"field\": \"other\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         i, decided, cats);
	send_event(e, producer, e2e_id("issued", i), "penalty.issued", producer, usccs[i % 6],
	           "2024-05-06T10:15:00+08:00", rec);
}

static void
send_repair(struct e2e *e, const char *system, int i, const char *on)
{
	char rec[256];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"repaired_on\": \"%s\","
	         " \"repair_decision_no\": \"修〔2024〕%d号\"}",
	         i, on, i);
	send_event(e, system, e2e_id("repaired", i), "penalty.repaired", system, usccs[i % 6],
	           "2024-10-08T10:00:00+08:00", rec);
}

static void
send_list(struct e2e *e, const char *type, const char *producer, const char *list, int i,
          const char *when)
{
	char rec[256];
	bool add = strcmp(type, "list.added") == 0;
	snprintf(rec, sizeof(rec),
	         "{\"list\": \"%s\", \"decision_no\": \"列〔2024〕%d号\", \"%s\": \"%.10s\"}", list,
	         i, add ? "listed_on" : "removed_on", when);
	send_event(e, producer, e2e_id(type, i), type, producer, usccs[i % 6], when, rec);
}

/* How many messages of a given type (and reason, or NULL) a site topic holds. */
static size_t
count(json_t *msgs, const char *type, const char *reason)
{
	size_t i, n = 0;
	json_t *m;
	json_array_foreach(msgs, i, m)
	{
		const char *t = json_string_value(json_object_get(m, "type"));
		const char *r = json_string_value(json_object_get(m, "reason"));
		if (t && strcmp(t, type) == 0 && (reason == NULL || (r && strcmp(r, reason) == 0)))
			n++;
	}
	return n;
}

static long long
applied(struct e2e *e)
{
	return e2e_sql_int(e, "SELECT count(*) FROM credsync.inbound");
}

/* Waits, polling fast, until at least n messages were applied: a kill right after lands in
 * the middle of the work when batches are small. */
static void
wait_applied(struct e2e *e, long long n)
{
	time_t deadline = time(NULL) + e2e_ms(WAIT_MS) / 1000;
	while (applied(e) < n)
		cr_assert(time(NULL) < deadline, "fewer than %lld messages applied in time", n);
}

/* Small batches and outbox rounds, so that kills and stops hit work in progress. */
/* Three apply workers whatever the machine: the disturbed runs below apply partitions side by
 * side, the undisturbed one they are compared with applies them one batch at a time. */
#define SMALL_BATCHES "batch.max_events = 5\noutbox.batch = 7\napply.workers = 3\n"
#define ONE_WORKER    "apply.workers = 1\n"

Test(pipeline, each_event_type_reaches_both_sites, .timeout = 180)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	send_penalty(&e, "nm-tax", 1, e2e_days_ago(200), "[\"fine\"]");
	send_penalty(&e, "nm-samr", 2, e2e_days_ago(200), "[\"fine\"]");
	send_penalty(&e, "nm-tax", 3, e2e_days_ago(200), "[\"fine\"]");
	send_list(&e, "list.added", "nm-samr", "abnormal-enterprise", 4,
	          "2024-04-02T10:00:00+08:00");
	send_list(&e, "list.added", "nm-court", "b1-01", 5, "2024-04-02T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 5, WAIT_MS));

	send_repair(&e, "creditchina", 1, e2e_days_ago(10)); /* nm-tax: creditchina decides */
	send_repair(&e, "gsxt", 2, e2e_days_ago(10));        /* nm-samr: gsxt decides */
	send_event(&e, "nm-tax", e2e_id("revoked", 3), "penalty.revoked", "nm-tax", usccs[3],
	           "2024-06-01T10:00:00+08:00",
	           "{\"decision_no\": \"罚〔2024〕3号\", \"revoked_on\": \"2024-06-01\"}");
	send_list(&e, "list.removed", "nm-samr", "abnormal-enterprise", 4,
	          "2024-10-09T10:00:00+08:00");
	send_list(&e, "list.removed", "nm-court", "b1-01", 5, "2024-10-09T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 10, WAIT_MS));

	const char *sites[] = {"credit.out.creditchina", "credit.out.gsxt"};
	for (int s = 0; s < 2; s++) {
		json_t *msgs = e2e_read_topic(&e, sites[s], 10, WAIT_MS);
		cr_expect_eq(count(msgs, "disclose", NULL), 5, "%s disclose", sites[s]);
		cr_expect_eq(count(msgs, "takedown", "revoked"), 1, "%s revoked", sites[s]);
		cr_expect_eq(count(msgs, "takedown", "removed"), 2, "%s removed", sites[s]);
		/* one repair decided here (takedown), the other recognised (mutual_recognition) */
		cr_expect_eq(count(msgs, "takedown", "repaired"), 1, "%s repaired", sites[s]);
		cr_expect_eq(count(msgs, "mutual_recognition", NULL), 1, "%s recognition",
		             sites[s]);
		size_t i;
		json_t *m;
		json_array_foreach(msgs, i, m)
		{
			cr_expect_str_eq(json_string_value(json_object_get(m, "site")),
			                 sites[s] + 11);
			cr_expect(json_is_string(json_object_get(m, "due_date")));
		}
		json_decref(msgs);
	}
	/* Kafka's copy of the offsets (advisory, for lag tools) follows PostgreSQL's: with the
	 * eager roundrobin strategy, commits work on librdkafka 2.0.2 (bug #4059 hits only
	 * cooperative-sticky). */
	for (int p = 0; p < 4; p++) {
		char sql[256];
		snprintf(sql, sizeof(sql),
		         "SELECT coalesce((SELECT next_offset FROM credsync.consumer_offsets WHERE "
		         "topic = 'credit.in.nm-tax' AND partition = %d), -1001)",
		         p);
		long long want = e2e_sql_int(&e, sql);
		long long got = -2;
		for (int tries = 0; tries < 50 && got != want; tries++)
			got = e2e_committed(&e, "credsyncd", "credit.in.nm-tax", p);
		cr_expect_eq(got, want, "partition %d: Kafka has %lld, PostgreSQL %lld", p, got,
		             want);
	}
	/* Mutual recognition both ways: gsxt recognises creditchina's repair and vice versa. */
	cr_expect_eq(
	    e2e_sql_int(&e,
	                "SELECT count(*) FROM credsync.obligations WHERE type = "
	                "'mutual_recognition' AND site = 'gsxt' AND decision_no = '罚〔2024〕1号'"),
	    1);
	cr_expect_eq(e2e_sql_int(&e,
	                         "SELECT count(*) FROM credsync.obligations WHERE type = "
	                         "'mutual_recognition' AND site = 'creditchina' AND decision_no = "
	                         "'罚〔2024〕2号'"),
	             1);
	e2e_stop(&e);
}

struct reject_case {
	const char *topic_producer;
	const char *payload; /* NULL: built by the test */
	const char *reason;
};

Test(pipeline, every_reject_reason_on_the_right_reject_topic, .timeout = 180)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	/* State for the stateful reasons: a tax penalty, a warning-only penalty, a b2-02 entry. */
	send_penalty(&e, "nm-tax", 1, e2e_days_ago(200), "[\"fine\"]");
	send_penalty(&e, "nm-tax", 2, e2e_days_ago(200), "[\"warning\"]");
	send_list(&e, "list.added", "nm-drc", "b2-02", 3, "2024-04-02T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 3, WAIT_MS));

	char *big = malloc(70 * 1024);
	memset(big, ' ', 70 * 1024 - 1);
	big[0] = '{';
	big[70 * 1024 - 2] = '}';
	big[70 * 1024 - 1] = '\0';
	const char *ok_rec =
	    "{\"decision_no\": \"x\", \"decided_on\": \"2024-05-06\", \"categories\": "
	    "[\"fine\"], \"field\": \"other\", \"issuer\": {\"name\": \"某局\", "
	    "\"uscc\": \"11150100MB0123456P\"}}";
	char *ev_schema = e2e_event(e2e_id("schema", 1), "penalty.issued", "nm-tax", usccs[0],
	                            "2024-05-06T10:15:00+08:00", ok_rec);
	char *p = strstr(ev_schema, "credsync.event/1");
	p[15] = '9';
	char *ev_missing = e2e_event(e2e_id("missing", 1), "penalty.issued", "nm-tax", usccs[0],
	                             "2024-05-06T10:15:00+08:00", "{\"decision_no\": \"x\"}");
	char *ev_invalid = e2e_event(e2e_id("invalid", 1), "penalty.issued", "nm-tax", usccs[0],
	                             "2024-05-06 10:15", ok_rec);
	char *ev_uscc = e2e_event(e2e_id("uscc", 1), "penalty.issued", "nm-tax",
	                          "91350200M000000510", "2024-05-06T10:15:00+08:00", ok_rec);
	char *ev_type = e2e_event(e2e_id("type", 1), "penalty.forgotten", "nm-tax", usccs[0],
	                          "2024-05-06T10:15:00+08:00", ok_rec);
	char *ev_forged = e2e_event(e2e_id("forged", 1), "penalty.issued", "nm-samr", usccs[0],
	                            "2024-05-06T10:15:00+08:00", ok_rec);
	char *ev_list = e2e_event(
	    e2e_id("list", 1), "list.added", "nm-tax", usccs[0], "2024-05-06T10:15:00+08:00",
	    "{\"list\": \"b9-99\", \"decision_no\": \"x\", \"listed_on\": \"2024-05-06\"}");
	char *ev_owner = e2e_event(
	    e2e_id("owner", 1), "list.added", "nm-tax", usccs[0], "2024-05-06T10:15:00+08:00",
	    "{\"list\": \"b1-01\", \"decision_no\": \"x\", \"listed_on\": \"2024-05-06\"}");
	char *ev_entry =
	    e2e_event(e2e_id("entry", 1), "list.removed", "nm-transport", usccs[3],
	              "2024-10-09T10:00:00+08:00",
	              "{\"list\": \"b2-02\", \"decision_no\": \"列〔2024〕3号\", \"removed_on\": "
	              "\"2024-10-09\"}");
	char *ev_channel = e2e_event(
	    e2e_id("channel", 1), "penalty.repaired", "gsxt", usccs[1], "2024-10-08T10:00:00+08:00",
	    "{\"decision_no\": \"罚〔2024〕1号\", \"repaired_on\": \"2024-09-13\"}");
	char *ev_early =
	    e2e_event(e2e_id("early", 1), "penalty.repaired", "creditchina", usccs[1],
	              "2024-06-08T10:00:00+08:00",
	              "{\"decision_no\": \"罚〔2024〕1号\", \"repaired_on\": \"2024-06-08\"}");
	char *ev_notrep =
	    e2e_event(e2e_id("notrep", 1), "penalty.repaired", "creditchina", usccs[2],
	              "2024-10-08T10:00:00+08:00",
	              "{\"decision_no\": \"罚〔2024〕2号\", \"repaired_on\": \"2024-09-13\"}");
	struct reject_case cases[] = {
	    {"nm-hrss", "{\"schema\": ", "malformed_json"},
	    {"nm-hrss", big, "too_large"},
	    {"nm-tax", ev_schema, "unsupported_schema"},
	    {"nm-tax", ev_missing, "missing_field"},
	    {"nm-tax", ev_invalid, "invalid_field"},
	    {"nm-tax", ev_uscc, "invalid_uscc"},
	    {"nm-tax", ev_type, "unknown_type"},
	    {"nm-tax", ev_forged, "producer_mismatch"},
	    {"nm-tax", ev_list, "unknown_list"},
	    {"nm-tax", ev_owner, "not_list_owner"},
	    {"nm-transport", ev_entry, "not_entry_owner"},
	    {"gsxt", ev_channel, "wrong_channel"},
	    {"creditchina", ev_early, "before_minimum_period"},
	    {"creditchina", ev_notrep, "not_repairable"},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < n; i++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "credit.in.%s", cases[i].topic_producer);
		e2e_produce(&e, topic, usccs[0], cases[i].payload);
	}
	/* A valid event after the rejects is applied: rejects hold nothing up. */
	send_list(&e, "list.added", "nm-court", "b1-01", 9, "2024-04-02T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", (long long)(3 + n + 1),
	                       WAIT_MS));
	cr_expect_eq(
	    e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = 'rejected'"),
	    (long long)n);
	cr_expect_eq(e2e_sql_int(&e,
	                         "SELECT count(*) FROM credsync.records WHERE list = 'b1-01' AND "
	                         "status = 'shown'"),
	             1);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));

	for (size_t i = 0; i < n; i++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "credit.reject.%s", cases[i].topic_producer);
		size_t expected = 0; /* every reject of this topic, so none is still on its way */
		for (size_t k = 0; k < n; k++)
			expected += strcmp(cases[k].topic_producer, cases[i].topic_producer) == 0;
		json_t *msgs = e2e_read_topic(&e, topic, expected, WAIT_MS);
		bool found = false;
		size_t k;
		json_t *m;
		json_array_foreach(msgs, k, m)
		{
			const char *reason = json_string_value(json_object_get(m, "reason"));
			const char *payload = json_string_value(json_object_get(m, "payload"));
			if (reason && strcmp(reason, cases[i].reason) == 0) {
				found = true;
				cr_expect(payload != NULL && strcmp(payload, cases[i].payload) == 0,
				          "%s: the reject carries the original payload",
				          cases[i].reason);
				char in_topic[64];
				snprintf(in_topic, sizeof(in_topic), "credit.in.%s",
				         cases[i].topic_producer);
				cr_expect_str_eq(json_string_value(json_object_get(m, "topic")),
				                 in_topic);
			}
		}
		cr_expect(found, "no %s on %s", cases[i].reason, topic);
		json_decref(msgs);
	}
	free(big);
	free(ev_schema);
	free(ev_missing);
	free(ev_invalid);
	free(ev_uscc);
	free(ev_type);
	free(ev_forged);
	free(ev_list);
	free(ev_owner);
	free(ev_entry);
	free(ev_channel);
	free(ev_early);
	free(ev_notrep);
	e2e_stop(&e);
}

Test(pipeline, duplicates_reordering_and_removal_before_add, .timeout = 180)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	send_penalty(&e, "nm-tax", 1, e2e_days_ago(200), "[\"fine\"]");
	send_penalty(&e, "nm-tax", 1, e2e_days_ago(200),
	             "[\"fine\"]"); /* the same event_id again */
	/* The removal arrives before its add: never shown. */
	send_list(&e, "list.removed", "nm-tax", "b1-04", 2, "2024-10-09T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 3, WAIT_MS));
	send_list(&e, "list.added", "nm-tax", "b1-04", 2, "2024-04-02T10:00:00+08:00");
	/* Listed, then an older removal arriving late: stale, the entry stays shown. */
	send_list(&e, "list.added", "nm-court", "b1-01", 3, "2024-07-01T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 5, WAIT_MS));
	send_list(&e, "list.removed", "nm-court", "b1-01", 3, "2024-06-01T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 6, WAIT_MS));

	cr_expect_eq(
	    e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = 'duplicate'"),
	    1);
	cr_expect_eq(
	    e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = 'stale'"), 1);
	cr_expect_eq(e2e_sql_int(&e,
	                         "SELECT count(*) FROM credsync.records WHERE list = 'b1-04' AND "
	                         "status = 'never'"),
	             1);
	cr_expect_eq(
	    e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE list = 'b1-04'"), 0);
	cr_expect_eq(e2e_sql_int(&e,
	                         "SELECT count(*) FROM credsync.records WHERE list = 'b1-01' AND "
	                         "status = 'shown'"),
	             1);
	/* one disclose per site for the penalty, one per site for b1-01 */
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations"), 4);
	e2e_stop(&e);
}

/* The workload of the crash and scale-out tests: adds on several producers' topics, then,
 * once they are applied, the ends (an end racing its add on another topic would make the
 * outcome depend on timing, which is the rule, not a fault). */
#define N_RECORDS 60

static void
workload_adds(struct e2e *e)
{
	for (int i = 0; i < N_RECORDS; i++) {
		switch (i % 4) {
		case 0:
			send_penalty(e, "nm-tax", i, e2e_days_ago(200), "[\"fine\"]");
			break;
		case 1:
			send_penalty(e, "nm-samr", i, e2e_days_ago(200),
			             "[\"fine\", \"confiscation\"]");
			break;
		case 2:
			send_list(e, "list.added", "nm-samr", "abnormal-enterprise", i,
			          "2024-04-02T10:00:00+08:00");
			break;
		case 3:
			send_list(e, "list.added", "nm-court", "b1-01", i,
			          "2024-04-02T10:00:00+08:00");
			break;
		}
	}
}

/* Sends the ends (e NULL: only counts them); returns how many. */
static long long
workload_ends(struct e2e *e)
{
	long long n = 0;
	for (int i = 0; i < N_RECORDS; i++) {
		bool send = i % 4 != 3 || i % 8 == 3;
		n += send;
		if (e == NULL || !send)
			continue;
		switch (i % 4) {
		case 0:
			send_repair(e, "creditchina", i, e2e_days_ago(10));
			break;
		case 1:
			send_repair(e, "gsxt", i, e2e_days_ago(10));
			break;
		case 2:
			send_list(e, "list.removed", "nm-samr", "abnormal-enterprise", i,
			          "2024-10-09T10:00:00+08:00");
			break;
		case 3:
			send_list(e, "list.removed", "nm-court", "b1-01", i,
			          "2024-10-09T10:00:00+08:00");
			break;
		}
	}
	return n;
}

static const char *digest_sql =
    "SELECT md5(coalesce((SELECT string_agg(id::text, ',' ORDER BY id) FROM credsync.outbox), '') "
    "|| '|' ||"
    " coalesce((SELECT string_agg(concat_ws(':', uscc, kind, list, decision_no, status, "
    "end_reason),"
    " ',' ORDER BY uscc, kind, list, decision_no) FROM credsync.records), '') || '|' ||"
    " coalesce((SELECT string_agg(concat_ws(':', topic, partition, \"offset\", outcome), ',' ORDER "
    "BY"
    " topic, partition, \"offset\") FROM credsync.inbound), ''))";

static char *
run_undisturbed(void)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){.extra_config = ONE_WORKER};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	workload_adds(&e);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", N_RECORDS, WAIT_MS));
	long long total = N_RECORDS + workload_ends(&e);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", total, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	char *digest = e2e_sql_text(&e, digest_sql);
	e2e_stop(&e);
	return digest;
}

Test(pipeline, sigkill_at_several_points_loses_nothing_and_repeats_nothing, .timeout = 400)
{
	char *want = run_undisturbed();
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){.extra_config = SMALL_BATCHES};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	workload_adds(&e);
	/* Killed twice while applying the adds, once while applying the ends. */
	wait_applied(&e, 10);
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGKILL), 128 + SIGKILL);
	e2e_daemon_start(&e, 0);
	wait_applied(&e, 35);
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGKILL), 128 + SIGKILL);
	e2e_daemon_start(&e, 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", N_RECORDS, WAIT_MS));
	long long total = N_RECORDS + workload_ends(&e);
	wait_applied(&e, N_RECORDS + 20);
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGKILL), 128 + SIGKILL);
	e2e_daemon_start(&e, 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", total, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	char *got = e2e_sql_text(&e, digest_sql);
	cr_expect_str_eq(got, want, "the disturbed run differs from the undisturbed one");

	/* Every obligation reached its site; resends carry the same id (no new ids). */
	long long obligations = e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations");
	json_t *cc = e2e_read_topic(&e, "credit.out.creditchina", (size_t)obligations / 2, WAIT_MS);
	json_t *gs = e2e_read_topic(&e, "credit.out.gsxt", (size_t)obligations / 2, WAIT_MS);
	json_t *ids = json_object();
	size_t i;
	json_t *m;
	json_array_foreach(cc, i, m)
	    json_object_set(ids, json_string_value(json_object_get(m, "id")), json_true());
	json_array_foreach(gs, i, m)
	    json_object_set(ids, json_string_value(json_object_get(m, "id")), json_true());
	cr_expect_eq((long long)json_object_size(ids), obligations,
	             "distinct out ids on the topics vs obligations");
	json_decref(ids);
	json_decref(cc);
	json_decref(gs);
	free(got);
	free(want);
	e2e_stop(&e);
}

Test(pipeline, two_instances_one_stopped_midway_equal_one, .timeout = 400)
{
	char *want = run_undisturbed();
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){.extra_config = SMALL_BATCHES};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);
	cr_assert(e2e_log_has(&e, 0, "workers=3"), "apply.workers is not in force");
	workload_adds(&e);
	wait_applied(&e, N_RECORDS / 3);
	cr_assert_eq(e2e_daemon_stop(&e, 1, SIGTERM), 0, "a stopped instance exits 0");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", N_RECORDS, WAIT_MS));
	long long total = N_RECORDS + workload_ends(&e);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", total, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	char *got = e2e_sql_text(&e, digest_sql);
	cr_expect_str_eq(got, want, "two instances differ from one");
	free(got);
	free(want);
	e2e_stop(&e);
}

Test(pipeline, sigterm_stops_within_10s_losing_nothing, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){.extra_config = SMALL_BATCHES};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	workload_adds(&e);
	wait_applied(&e, 10);
	long long t0 = testlib_now_ms();
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0, "SIGTERM is a clean exit");
	cr_expect_lt(testlib_now_ms() - t0, 10000, "stopped in %lld ms", testlib_now_ms() - t0);
	cr_expect(e2e_log_has(&e, 0, "msg=stopped"));
	e2e_daemon_start(&e, 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", N_RECORDS, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	/* every add shown on both sites, once */
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations"), 2 * N_RECORDS);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(DISTINCT id) FROM credsync.outbox"),
	             2 * N_RECORDS);
	e2e_stop(&e);
}

Test(pipeline, postgresql_restart_is_retried_never_rejected, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){.extra_config = SMALL_BATCHES};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	workload_adds(&e);
	wait_applied(&e, 10);
	e2e_pg_restart();
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", N_RECORDS, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	cr_expect_eq(
	    e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome <> 'applied'"), 0,
	    "an infrastructure failure never turns into a reject or a skip");
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations"), 2 * N_RECORDS);
	cr_expect(e2e_log_has(&e, 0, "retrying"), "the failure was logged and retried");
	e2e_stop(&e);
}

Test(pipeline, sighup_reloads_all_or_nothing, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/credsyncd-0.conf", e.dir);

	/* A broken file: "not reloading", and the daemon goes on with the old settings. */
	FILE *fp = fopen(cfg, "a");
	cr_assert(fp != NULL);
	fputs("no.such.key = 1\n", fp);
	fclose(fp);
	kill(e.daemons[0], SIGHUP);
	send_list(&e, "list.added", "nm-court", "b1-01", 1, "2024-04-02T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 1, WAIT_MS));
	cr_expect(e2e_log_has(&e, 0, "not reloading"));
	cr_expect(e2e_log_has(&e, 0, "no.such.key"), "the reason names the key");

	/* Fixed: reloaded. */
	char *text = NULL;
	size_t len = 0;
	fp = fopen(cfg, "r");
	cr_assert(fp != NULL);
	FILE *mem = open_memstream(&text, &len);
	char line[1024];
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "no.such.key", 11) != 0)
			fputs(line, mem);
	fclose(fp);
	fclose(mem);
	fp = fopen(cfg, "w");
	fputs(text, fp);
	fclose(fp);
	free(text);
	kill(e.daemons[0], SIGHUP);
	long long deadline = testlib_now_ms() + e2e_ms(10000);
	while (!e2e_log_has(&e, 0, "msg=reloaded") && testlib_now_ms() < deadline)
		;
	cr_expect(e2e_log_has(&e, 0, "msg=reloaded"));
	send_list(&e, "list.added", "nm-court", "b1-01", 2, "2024-04-02T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 2, WAIT_MS));
	e2e_stop(&e);
}
