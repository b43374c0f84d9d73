/* End-to-end: credsyncctl's operator commands (status, history, rejects, resend) run as the
 * built binary against a running credsyncd's configuration file, their answers checked
 * against the database. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "e2e.h"

#define WAIT_MS 60000

TestSuite(ctl_ops, .fini = e2e_cleanup);

static const char subject[] = "91150102MA0N123408";
static const char other_subject[] = "91150105MA0Q7K3D2H"; /* valid, never mentioned */

/* Runs credsyncctl with args (NULL-terminated, without the program), its standard output
 * into *ret_out (malloc'd, NUL-terminated); returns its exit status. */
static int
ctl(char **ret_out, const char *const *args)
{
	char path[1024];
	const char *argv[16];
	size_t n = 0;
	const char *dir = getenv("CREDSYNC_BIN");
	cr_assert(dir != NULL, "CREDSYNC_BIN is not set");
	snprintf(path, sizeof(path), "%s/credsyncctl", dir);
	argv[n++] = path;
	for (; args[n - 1] != NULL && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	return e2e_run(ret_out, argv, false);
}

/* Runs a --json command: its exit status, and the parsed answer in *ret (asserted JSON). */
static int
ctl_json(json_t **ret, const char *const *args)
{
	char *out;
	int rc = ctl(&out, args);
	json_error_t jerr;
	*ret = json_loads(out, 0, &jerr);
	cr_assert(*ret != NULL, "%s: not JSON (%s): %s", args[0], jerr.text, out);
	free(out);
	return rc;
}

static const char *
conf(const struct e2e *e)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/credsyncd-0.conf", e->dir);
	return path;
}

static void
send_repair(struct e2e *e, const char *id, const char *uscc, const char *decision)
{
	char rec[512];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"%s\", \"repaired_on\": \"%s\", \"repair_decision_no\": "
	         "\"修〔2024〕1号\"}",
	         decision, e2e_days_ago(10));
	char *ev = e2e_event(id, "penalty.repaired", "creditchina", uscc,
	                     "2024-10-08T10:00:00+08:00", rec);
	e2e_produce(e, "credit.in.creditchina", uscc, ev);
	free(ev);
}

/* Rows of a table about the test's subject. */
static long long
subject_rows(struct e2e *e, const char *table)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM credsync.%s WHERE uscc = '%s'", table,
	         subject);
	return e2e_sql_int(e, sql);
}

static const char *
str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : "";
}

static long long
num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	cr_assert(json_is_integer(v), "\"%s\" is not an integer", key);
	return (long long)json_integer_value(v);
}

/* Today in Beijing, as SQL computes it (independently of credsyncctl's C). */
#define TODAY_SQL "(now() AT TIME ZONE 'Asia/Shanghai')::date"

Test(ctl_ops, status_history_and_rejects_match_the_database, .timeout = 180)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	e2e_send_penalty(&e, "0c000000-0000-4000-8000-000000000001", subject, "罚〔2024〕1号");
	e2e_produce(&e, "credit.in.nm-hrss", subject, "{\"schema\": ");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 2, WAIT_MS));
	send_repair(&e, "0c000000-0000-4000-8000-000000000002", subject, "罚〔2024〕1号");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 3, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	/* gsxt acknowledges its disclose; creditchina's disclose becomes due today */
	char *gsxt_id = e2e_sql_text(&e, "SELECT id FROM credsync.obligations WHERE site = 'gsxt' "
	                                 "AND type = 'disclose'");
	char ack[256];
	snprintf(ack, sizeof(ack),
	         "{\"schema\": \"credsync.ack/1\", \"id\": \"%s\", \"site\": \"gsxt\", "
	         "\"done_at\": \"2024-10-09T10:00:00+08:00\"}",
	         gsxt_id);
	e2e_produce(&e, "credit.ack.gsxt", subject, ack);
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations WHERE acked_at IS NOT NULL",
	                 1, WAIT_MS));
	cr_assert_eq(
	    e2e_sql_int(&e, "WITH u AS (UPDATE credsync.obligation_rows SET due_date = " TODAY_SQL
	                    " WHERE site = 'creditchina' AND type = 'disclose' RETURNING 1) "
	                    "SELECT count(*) FROM u"),
	    1);

	/* status: every stored partition, its next offset, lag from the reachable devbroker */
	json_t *st;
	cr_expect_eq(ctl_json(&st, (const char *[]){"status", "-c", conf(&e), "--json", NULL}), 0);
	json_t *parts = json_object_get(st, "partitions");
	cr_expect_eq((long long)json_array_size(parts),
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.consumer_offsets"));
	cr_expect(json_is_true(json_object_get(json_object_get(st, "kafka"), "reachable")),
	          "the devbroker answers");
	size_t i;
	json_t *p;
	long long lagged_ok = 0;
	json_array_foreach(parts, i, p)
	{
		char sql[512];
		snprintf(sql, sizeof(sql),
		         "SELECT next_offset FROM credsync.consumer_offsets WHERE topic = '%s' AND "
		         "partition = %lld",
		         str(p, "topic"), num(p, "partition"));
		cr_expect_eq(num(p, "next_offset"), e2e_sql_int(&e, sql), "%s [%lld]",
		             str(p, "topic"), num(p, "partition"));
		if (json_is_integer(json_object_get(p, "high_watermark"))) {
			cr_expect_eq(num(p, "lag"),
			             num(p, "high_watermark") - num(p, "next_offset"));
			lagged_ok += num(p, "next_offset") > 0;
		}
	}
	cr_expect_eq(lagged_ok,
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.consumer_offsets WHERE "
	                             "next_offset > 0"),
	             "every partition read from has a high watermark");
	json_t *bl = json_object_get(st, "backlog");
	cr_expect_eq(num(bl, "outbox_unsent"),
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL"));
	cr_expect_eq(num(bl, "sent_unacknowledged"),
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE sent_at IS "
	                             "NOT NULL AND acked_at IS NULL"));
	cr_expect_eq(num(bl, "unacknowledged"),
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE acked_at IS "
	                             "NULL"));
	cr_expect_eq(num(bl, "overdue"), 0);
	cr_expect_eq(num(bl, "at_risk"),
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE acked_at IS "
	                             "NULL AND due_date = " TODAY_SQL));
	cr_expect_eq(num(bl, "at_risk"), 1);
	cr_expect(json_is_true(json_object_get(st, "ok")));
	json_t *prods = json_object_get(st, "producers");
	cr_expect_eq((long long)json_array_size(prods),
	             e2e_sql_int(&e, "SELECT count(DISTINCT producer) FROM credsync.inbound"));
	json_decref(st);

	/* the person-readable status */
	char *text;
	cr_expect_eq(ctl(&text, (const char *[]){"status", "-c", conf(&e), NULL}), 0);
	cr_expect(strstr(text, "credit.in.nm-tax") != NULL && strstr(text, "nm-hrss") != NULL, "%s",
	          text);
	free(text);

	/* history: the subject's messages, records and obligations, in time order */
	json_t *h;
	cr_expect_eq(
	    ctl_json(&h, (const char *[]){"history", "-c", conf(&e), "--json", subject, NULL}), 0);
	json_t *in = json_object_get(h, "inbound");
	cr_expect_eq((long long)json_array_size(in), subject_rows(&e, "inbound"));
	cr_assert_eq(json_array_size(in), 2, "the issue and the repair");
	cr_expect_str_eq(str(json_array_get(in, 0), "type"), "penalty.issued");
	cr_expect_str_eq(str(json_array_get(in, 0), "outcome"), "applied");
	cr_expect_str_eq(str(json_array_get(in, json_array_size(in) - 1), "type"),
	                 "penalty.repaired");
	json_t *m, *prev = NULL;
	json_array_foreach(in, i, m)
	{
		/* RFC 3339 at one offset: text order is time order */
		if (prev != NULL)
			cr_expect(strcmp(str(prev, "stored_at"), str(m, "stored_at")) <= 0);
		prev = m;
	}
	json_t *recs = json_object_get(h, "records");
	cr_expect_eq(json_array_size(recs), 1);
	char *status = e2e_sql_text(&e, "SELECT status FROM credsync.records");
	cr_expect_str_eq(str(json_array_get(recs, 0), "status"), status);
	free(status);
	cr_expect_str_eq(str(json_array_get(recs, 0), "end_reason"), "repaired");
	json_t *obls = json_object_get(h, "obligations");
	cr_expect_eq((long long)json_array_size(obls), subject_rows(&e, "obligations"));
	cr_expect_eq(json_array_size(obls), 4, "disclose to both, then the repair to both");
	prev = NULL;
	json_array_foreach(obls, i, m)
	{
		cr_expect(json_is_string(json_object_get(m, "sent_at")), "%s was sent",
		          str(m, "id"));
		cr_expect_eq(json_is_string(json_object_get(m, "acked_at")),
		             strcmp(str(m, "id"), gsxt_id) == 0, "%s acknowledged", str(m, "id"));
		if (prev != NULL)
			cr_expect(strcmp(str(prev, "created_at"), str(m, "created_at")) <= 0);
		prev = m;
	}
	cr_expect_str_eq(str(json_array_get(obls, 0), "type"), "disclose");
	cr_expect_str_neq(str(json_array_get(obls, 3), "type"), "disclose");
	json_decref(h);
	cr_expect_eq(ctl(&text, (const char *[]){"history", "-c", conf(&e), subject, NULL}), 0);
	cr_expect(strstr(text, "罚〔2024〕1号") != NULL && strstr(text, gsxt_id) != NULL, "%s",
	          text);
	free(text);
	cr_expect_eq(ctl(&text, (const char *[]){"history", "-c", conf(&e), other_subject, NULL}),
	             1);
	cr_expect(strstr(text, "nothing known about") != NULL, "%s", text);
	free(text);
	cr_expect_eq(
	    ctl(&text, (const char *[]){"history", "-c", conf(&e), "91150102MA0N123409", NULL}), 2,
	    "an invalid code is a usage error");
	free(text);

	/* rejects: the malformed message, where it was, and its reject's id */
	json_t *rj;
	cr_expect_eq(ctl_json(&rj, (const char *[]){"rejects", "-c", conf(&e), "--json", NULL}), 0);
	cr_expect_eq(num(rj, "total"),
	             e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                             "'rejected'"));
	json_t *r0 = json_array_get(json_object_get(rj, "rejects"), 0);
	cr_assert(r0 != NULL);
	cr_expect_str_eq(str(r0, "reason"), "malformed_json");
	cr_expect_str_eq(str(r0, "topic"), "credit.in.nm-hrss");
	cr_expect_eq(num(r0, "offset"),
	             e2e_sql_int(&e, "SELECT \"offset\" FROM credsync.inbound WHERE outcome = "
	                             "'rejected'"));
	cr_expect_eq(num(r0, "partition"),
	             e2e_sql_int(&e, "SELECT partition FROM credsync.inbound WHERE outcome = "
	                             "'rejected'"));
	char *reject_id = e2e_sql_text(&e, "SELECT id FROM credsync.outbox WHERE topic = "
	                                   "'credit.reject.nm-hrss'");
	cr_expect_str_eq(str(r0, "reject_id"), reject_id);
	free(reject_id);
	json_decref(rj);
	struct {
		const char *opt, *val;
		long long total;
	} filters[] = {{"--producer", "nm-hrss", 1},
	               {"--producer", "nm-tax", 0},
	               {"--since", e2e_days_ago(1), 1},
	               {"--since", "2999-01-01", 0}};
	for (size_t k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
		cr_expect_eq(ctl_json(&rj, (const char *[]){"rejects", "-c", conf(&e), "--json",
		                                            filters[k].opt, filters[k].val, NULL}),
		             0);
		cr_expect_eq(num(rj, "total"), filters[k].total, "%s %s", filters[k].opt,
		             filters[k].val);
		json_decref(rj);
	}
	cr_expect_eq(ctl(&text, (const char *[]){"rejects", "-c", conf(&e), NULL}), 0);
	cr_expect(strstr(text, "malformed_json") != NULL, "%s", text);
	free(text);
	free(gsxt_id);
	e2e_stop(&e);
}

Test(ctl_ops, resend_publishes_again_with_the_same_id, .timeout = 180)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	e2e_send_penalty(&e, "0c000000-0000-4000-8000-000000000011", subject, "罚〔2024〕2号");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NOT NULL",
	                       2, WAIT_MS));
	char *id = e2e_sql_text(&e, "SELECT id FROM credsync.outbox WHERE topic = "
	                            "'credit.out.gsxt'");
	char *before = e2e_sql_text(&e, "SELECT sent_at FROM credsync.outbox WHERE topic = "
	                                "'credit.out.gsxt'");

	json_t *rs;
	cr_expect_eq(ctl_json(&rs, (const char *[]){"resend", "-c", conf(&e), "--json", id, NULL}),
	             0);
	cr_expect_str_eq(str(rs, "id"), id);
	cr_expect(json_is_true(json_object_get(rs, "queued")));
	cr_expect(json_is_string(json_object_get(rs, "previously_sent_at")));
	json_decref(rs);
	/* marked unsent, then sent again by the daemon: a later sent_at */
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM credsync.outbox WHERE id = '%s' AND sent_at > '%s'", id,
	         before);
	cr_expect(e2e_wait_sql(&e, sql, 1, WAIT_MS), "sent again");
	json_t *msgs = e2e_read_topic(&e, "credit.out.gsxt", 2, WAIT_MS);
	size_t i, copies = 0;
	json_t *m;
	json_array_foreach(msgs, i, m) copies += strcmp(str(m, "id"), id) == 0;
	cr_expect_eq(copies, 2, "the message twice on credit.out.gsxt, with the same id");
	cr_expect_eq(json_array_size(msgs), 2, "nothing else was sent");
	json_decref(msgs);

	char *text;
	cr_expect_eq(ctl(&text, (const char *[]){"resend", "-c", conf(&e),
	                                         "0c000000-0000-4000-8000-0000000000ff", NULL}),
	             1, "an unknown id");
	free(text);
	cr_expect_eq(ctl(&text, (const char *[]){"resend", "-c", conf(&e), "not-a-uuid", NULL}), 2);
	free(text);
	free(id);
	free(before);
	e2e_stop(&e);
}

Test(ctl_ops, an_overdue_obligation_makes_status_exit_1, .timeout = 180)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	e2e_send_penalty(&e, "0c000000-0000-4000-8000-000000000021", subject, "罚〔2024〕3号");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NOT NULL",
	                       2, WAIT_MS));
	char *text;
	cr_expect_eq(ctl(&text, (const char *[]){"status", "-c", conf(&e), NULL}), 0,
	             "nothing overdue yet");
	free(text);

	char *id =
	    e2e_sql_text(&e, "WITH u AS (UPDATE credsync.obligation_rows SET due_date = " TODAY_SQL
	                     " - 3 WHERE site = 'creditchina' RETURNING id) SELECT id FROM u");
	cr_assert_neq(id[0], '\0');
	json_t *st;
	cr_expect_eq(ctl_json(&st, (const char *[]){"status", "-c", conf(&e), "--json", NULL}), 1);
	json_t *bl = json_object_get(st, "backlog");
	cr_expect_eq(num(bl, "overdue"), 1);
	char *due = e2e_sql_text(&e, "SELECT (" TODAY_SQL " - 3)::text");
	cr_expect_str_eq(str(bl, "oldest_overdue_due_date"), due);
	free(due);
	cr_expect_str_eq(str(json_array_get(json_object_get(st, "breaches"), 0), "id"), id);
	cr_expect(json_is_false(json_object_get(st, "ok")));
	json_decref(st);
	cr_expect_eq(ctl(&text, (const char *[]){"status", "-c", conf(&e), NULL}), 1);
	cr_expect(strstr(text, id) != NULL, "the breach is listed: %s", text);
	free(text);
	free(id);
	e2e_stop(&e);
}

Test(ctl_ops, usage_errors_exit_2)
{
	const char *const cases[][6] = {
	    {"status", NULL},
	    {"status", "-c", "/nonexistent.conf", "--bogus", NULL},
	    {"history", "-c", "/nonexistent.conf", NULL},
	    {"history", "-c", "/nonexistent.conf", "9115010", NULL},
	    {"rejects", "-c", "/nonexistent.conf", "--limit", "0", NULL},
	    {"rejects", "-c", "/nonexistent.conf", "--since", "yesterday", NULL},
	    {"resend", "-c", "/nonexistent.conf", "12345", NULL},
	    {"resend", "-c", "/nonexistent.conf", "--producer", "x", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out;
		cr_expect_eq(ctl(&out, cases[i]), 2, "case %zu (%s)", i, cases[i][0]);
		free(out);
	}
	char *out;
	cr_expect_eq(ctl(&out, (const char *[]){"status", "-c", "/nonexistent.conf", NULL}), 1,
	             "an unreadable configuration file is a failure");
	free(out);
}
