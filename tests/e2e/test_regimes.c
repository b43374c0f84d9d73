/* End-to-end: the rules of issue 12 through a running credsyncd: an end that arrives before its
 * add is judged when the add comes (alone, in one batch with it, beside a foreign one); a
 * disclose carries the record; the regime follows the decision date and a missing severity is
 * listed by credsyncctl late; credsyncctl status reports overdue repair applications and an
 * early application is flagged. Automatic takedowns due the day after: tests/e2e/test_time.c. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define WAIT_MS 60000

TestSuite(regimes, .fini = e2e_cleanup);

static const char *const usccs[] = {"91150102MA0N123408", "91150105MA0Q7K3D2H",
                                    "91150203MA0R5T8L6F", "92150602MA0P3W9X1U",
                                    "91150702MA0N8H2C4Q", "91150402MA0M6F1B9H"};

static void
send_event(struct e2e *e, const char *producer, const char *id, const char *type, int i,
           const char *record)
{
	char topic[128];
	char *ev = e2e_event(id, type, producer, usccs[i % 6], "2024-05-06T10:15:00+08:00", record);
	snprintf(topic, sizeof(topic), "credit.in.%s", producer);
	e2e_produce(e, topic, usccs[i % 6], ev);
	free(ev);
}

static void
send_penalty(struct e2e *e, const char *producer, int i, const char *decided, const char *extra)
{
	char rec[768];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"decided_on\": \"%s\","
	         " \"categories\": [\"confiscation\", \"fine\"], \"fine_yuan\": \"200000.00\","
	         " \"field\": \"other\", \"issuer\": {\"name\": \"某局\","
	         " \"uscc\": \"11150100MB0123456P\"}%s}",
	         i, decided, extra ? extra : "");
	send_event(e, producer, e2e_id("issued", i), "penalty.issued", i, rec);
}

static long long sqlf(struct e2e *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static long long
sqlf(struct e2e *e, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return e2e_sql_int(e, sql);
}

/* The reject of event_id on credit.reject.<producer>, or NULL. */
static json_t *
find_reject(json_t *msgs, const char *event_id)
{
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m)
	{
		const char *id = json_string_value(json_object_get(m, "event_id"));
		if (id != NULL && strcmp(id, event_id) == 0)
			return m;
	}
	return NULL;
}

struct early {
	const char *end_producer; /* its topic too */
	const char *end_type;
	const char *add_producer;
	const char *refused; /* NULL: the end stands, the record is never shown */
};

Test(regimes, an_early_end_is_judged_when_its_add_comes, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	/* i is the record: its decision number and subject. */
	static const struct early cases[] = {
	    {"nm-tax", "penalty.revoked", "nm-samr", "not_entry_owner"},
	    {"creditchina", "penalty.repaired", "nm-samr", "wrong_channel"},
	    {"creditchina", "penalty.repaired", "nm-tax", "before_minimum_period"},
	    {"nm-transport", "list.removed", "nm-drc", "not_entry_owner"},
	    {"nm-drc", "list.removed", "nm-drc", NULL},
	    {"nm-samr", "penalty.revoked", "nm-samr", NULL},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	char decided[16];
	snprintf(decided, sizeof(decided), "%s", e2e_days_ago(200));
	char rec[512];
	for (size_t i = 0; i < n; i++) {
		const struct early *c = &cases[i];
		if (strcmp(c->end_type, "list.removed") == 0)
			snprintf(rec, sizeof(rec),
			         "{\"list\": \"b2-02\", \"decision_no\": \"罚〔2024〕%zu号\","
			         " \"removed_on\": \"%s\"}",
			         i, e2e_days_ago(20));
		else if (strcmp(c->end_type, "penalty.revoked") == 0)
			snprintf(rec, sizeof(rec),
			         "{\"decision_no\": \"罚〔2024〕%zu号\", \"revoked_on\": \"%s\"}",
			         i, e2e_days_ago(20));
		else /* repaired: 4 days after the decision (inside the minimum) or 20 days ago */
			snprintf(rec, sizeof(rec),
			         "{\"decision_no\": \"罚〔2024〕%zu号\", \"repaired_on\": \"%s\","
			         " \"repair_decision_no\": \"修〔2024〕%zu号\"}",
			         i,
			         strcmp(c->add_producer, "nm-tax") == 0 ? e2e_days_ago(196)
			                                                : e2e_days_ago(20),
			         i);
		send_event(&e, c->end_producer, e2e_id("end", (int)i), c->end_type, (int)i, rec);
	}
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records WHERE status = 'never'",
	                       (long long)n, WAIT_MS));
	/* The ends happened after their adds: the adds are older events arriving late. */
	for (size_t i = 0; i < n; i++) {
		const struct early *c = &cases[i];
		if (strcmp(c->end_type, "list.removed") == 0) {
			snprintf(rec, sizeof(rec),
			         "{\"list\": \"b2-02\", \"decision_no\": \"罚〔2024〕%zu号\","
			         " \"listed_on\": \"%s\"}",
			         i, decided);
			send_event(&e, c->add_producer, e2e_id("add", (int)i), "list.added", (int)i,
			           rec);
		} else {
			send_penalty(&e, c->add_producer, (int)i, decided, NULL);
		}
	}
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records WHERE added",
	                       (long long)n, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));

	for (size_t i = 0; i < n; i++) {
		const struct early *c = &cases[i];
		char id[40];
		snprintf(id, sizeof(id), "%s", e2e_id("end", (int)i));
		long long shown = sqlf(&e,
		                       "SELECT count(*) FROM credsync.records WHERE decision_no = "
		                       "'罚〔2024〕%zu号' AND status = 'shown'",
		                       i);
		long long disclosed = sqlf(&e,
		                           "SELECT count(*) FROM credsync.obligations WHERE "
		                           "decision_no = '罚〔2024〕%zu号' AND type = 'disclose'",
		                           i);
		long long refused =
		    sqlf(&e,
		         "SELECT count(*) FROM credsync.inbound WHERE event_id = '%s' "
		         "AND outcome = 'rejected' AND reason = '%s'",
		         id, c->refused ? c->refused : "-");
		if (c->refused == NULL) {
			cr_expect_eq(shown, 0, "case %zu: the owner's early end hides it", i);
			cr_expect_eq(disclosed, 0, "case %zu", i);
			cr_expect_eq(sqlf(&e,
			                  "SELECT count(*) FROM credsync.inbound WHERE event_id = "
			                  "'%s' AND outcome = 'applied'",
			                  id),
			             1, "case %zu: the end stands", i);
			continue;
		}
		cr_expect_eq(shown, 1, "case %zu: %s's early end may not hide it", i,
		             c->end_producer);
		cr_expect_eq(disclosed, 2, "case %zu: disclosed on both sites", i);
		cr_expect_eq(refused, 1, "case %zu: inbound shows the end refused (%s)", i,
		             c->refused);
		char topic[128];
		snprintf(topic, sizeof(topic), "credit.reject.%s", c->end_producer);
		json_t *msgs = e2e_read_topic(&e, topic, 1, WAIT_MS);
		json_t *m = find_reject(msgs, id);
		cr_expect(m != NULL, "case %zu: no reject of the end on %s", i, topic);
		if (m != NULL) {
			cr_expect_str_eq(json_string_value(json_object_get(m, "reason")),
			                 c->refused, "case %zu", i);
			char in_topic[128];
			snprintf(in_topic, sizeof(in_topic), "credit.in.%s", c->end_producer);
			cr_expect_str_eq(json_string_value(json_object_get(m, "topic")), in_topic,
			                 "case %zu: the reject names where the end was read", i);
			const char *payload = json_string_value(json_object_get(m, "payload"));
			cr_expect(payload != NULL && strstr(payload, id) != NULL,
			          "case %zu: the reject carries the end itself", i);
		}
		json_decref(msgs);
	}

	/* Issue 12 item 6: the disclose carries the record, so a site shows it from the stream:
	 * case 0 is nm-samr's penalty (shown once the revocation was refused), case 3 nm-drc's
	 * entry of a serious list. */
	const char *sites[] = {"credit.out.creditchina", "credit.out.gsxt"};
	for (int si = 0; si < 2; si++) {
		json_t *msgs = e2e_read_topic(&e, sites[si], 4, WAIT_MS);
		size_t k, seen = 0;
		json_t *m;
		json_array_foreach(msgs, k, m)
		{
			json_t *r = json_object_get(m, "record");
			const char *dn = json_string_value(json_object_get(r, "decision_no"));
			const char *type = json_string_value(json_object_get(m, "type"));
			if (dn == NULL || type == NULL || strcmp(type, "disclose") != 0)
				continue;
			if (strcmp(dn, "罚〔2024〕0号") == 0) {
				seen++;
				cr_expect_str_eq(
				    json_string_value(json_object_get(r, "decided_on")), decided);
				char *cats =
				    json_dumps(json_object_get(r, "categories"), JSON_COMPACT);
				cr_expect_str_eq(cats, "[\"fine\",\"confiscation\"]");
				free(cats);
				cr_expect_str_eq(json_string_value(json_object_get(r, "fine_yuan")),
				                 "200000.00");
				cr_expect_str_eq(json_string_value(json_object_get(r, "field")),
				                 "other");
				cr_expect(json_is_null(json_object_get(r, "severity")));
				json_t *issuer = json_object_get(r, "issuer");
				cr_expect_str_eq(json_string_value(json_object_get(issuer, "name")),
				                 "某局");
				cr_expect_str_eq(json_string_value(json_object_get(issuer, "uscc")),
				                 "11150100MB0123456P");
				cr_expect_str_eq(json_string_value(json_object_get(m, "channel")),
				                 "gsxt");
				cr_expect(json_is_string(json_object_get(m, "disclose_until")));
				cr_expect(json_is_string(json_object_get(m, "repairable_from")));
			} else if (strcmp(dn, "罚〔2024〕3号") == 0) {
				seen++;
				cr_expect_str_eq(json_string_value(json_object_get(r, "listed_on")),
				                 decided);
				cr_expect(json_is_null(json_object_get(m, "channel")));
				cr_expect_null(json_object_get(r, "categories"));
			}
		}
		cr_expect_eq(seen, 2, "%s: both disclosures seen", sites[si]);
		json_decref(msgs);
	}
	e2e_stop(&e);
}

/* Issue 12 item 4: with no configuration the regime follows the decision date: a penalty of
 * 2026-05-06 by nm-tax is under national-2026 (3 months to 1 year when general), one of 2024
 * under the seed (3 months to 3 years). Without a severity the 2026 one is taken as general,
 * logged once (msg=severity_assumed) and listed by credsyncctl late. */
Test(regimes, the_regime_follows_the_decision_date_and_a_missing_severity_is_listed, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	send_penalty(&e, "nm-tax", 1, "2026-05-06", NULL);
	send_penalty(&e, "nm-tax", 2, "2024-05-06", NULL);
	send_penalty(&e, "nm-tax", 3, "2026-05-06", ", \"severity\": \"serious\"");
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records WHERE added", 3, WAIT_MS));
	cr_expect_eq(
	    sqlf(&e, "SELECT count(*) FROM credsync.records WHERE decision_no = '罚〔2024〕1号'"
	             " AND disclose_until = '2027-05-06' AND repairable_from = '2026-08-07'"),
	    1, "2026, general: 3 months to 1 year");
	cr_expect_eq(
	    sqlf(&e, "SELECT count(*) FROM credsync.records WHERE decision_no = '罚〔2024〕2号'"
	             " AND disclose_until = '2027-05-06' AND repairable_from = '2024-08-07'"),
	    1, "2024: the seed's 3 months to 3 years");
	cr_expect_eq(
	    sqlf(&e, "SELECT count(*) FROM credsync.records WHERE decision_no = '罚〔2024〕3号'"
	             " AND disclose_until = '2029-05-06' AND repairable_from = '2027-05-07'"),
	    1, "2026, serious: 1 to 3 years");
	cr_expect(e2e_log_has(&e, 0, "msg=severity_assumed producer=nm-tax"));

	char conf[400], bin[1024], *out = NULL;
	snprintf(conf, sizeof(conf), "%s/credsyncd-0.conf", e.dir);
	snprintf(bin, sizeof(bin), "%s/credsyncctl", getenv("CREDSYNC_BIN"));
	const char *argv[] = {bin, "late", "-c", conf, "--json", NULL};
	int rc = e2e_run(&out, argv, false);
	cr_expect_eq(rc, 1, "late exits 1 when something is listed:\n%s", out);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert(j != NULL, "%s: %s", out, jerr.text);
	json_t *sev = json_object_get(j, "severity_assumed");
	cr_assert_eq(json_array_size(sev), 1, "%s", out);
	json_t *one = json_array_get(sev, 0);
	cr_expect_str_eq(json_string_value(json_object_get(one, "decision_no")), "罚〔2024〕1号");
	cr_expect_str_eq(json_string_value(json_object_get(one, "producer")), "nm-tax");
	json_decref(j);
	free(out);
	e2e_stop(&e);
}

/* Issue 12 item 5: credsyncctl status reports overdue repair applications (issue 5 asked for
 * "overdue obligations and applications"): exit status 1, each listed with its application
 * number, channel, step and due date. */
Test(regimes, status_reports_overdue_repair_applications, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	char conf[400], bin[1024], *out = NULL, rec[512];
	snprintf(conf, sizeof(conf), "%s/credsyncd-0.conf", e.dir);
	snprintf(bin, sizeof(bin), "%s/credsyncctl", getenv("CREDSYNC_BIN"));
	const char *argv[] = {bin, "status", "-c", conf, "--json", NULL};

	send_penalty(&e, "nm-tax", 1, e2e_days_ago(200), NULL);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	int rc = e2e_run(&out, argv, false);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert(j != NULL, "%s: %s", out, jerr.text);
	cr_expect_eq(json_array_size(json_object_get(j, "applications_overdue")), 0, "%s", out);
	json_decref(j);
	free(out);
	(void)rc; /* the disclosures are not acknowledged: only the applications matter here */

	/* applied 30 days ago: creditchina accepts within 3 working days, long past */
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕1号\", \"application_no\": \"申〔2026〕7号\","
	         " \"applied_at\": \"%sT10:00:00+08:00\"}",
	         e2e_days_ago(30));
	send_event(&e, "creditchina", e2e_id("applied", 1), "repair.applied", 1, rec);
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.repair_applications", 1, WAIT_MS));
	rc = e2e_run(&out, argv, false);
	cr_expect_eq(rc, 1, "status exits 1 with an application overdue:\n%s", out);
	j = json_loads(out, 0, &jerr);
	cr_assert(j != NULL, "%s: %s", out, jerr.text);
	json_t *apps = json_object_get(j, "applications_overdue");
	cr_assert_eq(json_array_size(apps), 1, "%s", out);
	json_t *a = json_array_get(apps, 0);
	cr_expect_str_eq(json_string_value(json_object_get(a, "application_no")), "申〔2026〕7号");
	cr_expect_str_eq(json_string_value(json_object_get(a, "channel")), "creditchina");
	cr_expect_str_eq(json_string_value(json_object_get(a, "step")), "accept");
	cr_expect(json_is_string(json_object_get(a, "due_date")));
	cr_expect(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	free(out);

	/* Issue 12 item 7: an application made before the penalty's repairable_from is tracked
	 * and flagged (decided 40 days ago: the 3-month minimum has not passed). */
	send_penalty(&e, "nm-tax", 2, e2e_days_ago(40), NULL);
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records WHERE added", 2, WAIT_MS));
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕2号\", \"application_no\": \"申〔2026〕8号\","
	         " \"applied_at\": \"%sT10:00:00+08:00\"}",
	         e2e_days_ago(1));
	send_event(&e, "creditchina", e2e_id("applied", 2), "repair.applied", 2, rec);
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.repair_applications", 2, WAIT_MS));
	cr_expect(e2e_log_has(&e, 0, "msg=repair_early channel=creditchina"));

	const char *text_argv[] = {bin, "status", "-c", conf, NULL};
	rc = e2e_run(&out, text_argv, false);
	cr_expect_eq(rc, 1);
	cr_expect(strstr(out, "NOT OK: 1 repair application overdue") != NULL, "%s", out);
	cr_expect(strstr(out, "申〔2026〕7号") != NULL, "%s", out);
	free(out);
	e2e_stop(&e);
}

/* The early ends and their adds produced before credsyncd starts: it reads them in one batch,
 * where an end may precede its add (then refused from the batch itself) or follow it (then
 * refused on arrival). Either way the record is shown and the end refused with one reason. */
Test(regimes, an_early_end_in_the_same_batch_as_its_add_is_refused_too, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	char rec[256], decided[16];
	snprintf(decided, sizeof(decided), "%s", e2e_days_ago(200));
	for (int i = 0; i < 4; i++) {
		snprintf(rec, sizeof(rec),
		         "{\"decision_no\": \"罚〔2024〕%d号\", \"revoked_on\": \"%s\"}", i,
		         e2e_days_ago(20));
		send_event(&e, "nm-tax", e2e_id("end", i), "penalty.revoked", i, rec);
		send_penalty(&e, "nm-samr", i, decided, NULL);
	}
	e2e_daemon_start(&e, 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 8, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.records WHERE status = 'shown'"), 4);
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.inbound WHERE producer = 'nm-tax' AND "
	                      "outcome = 'rejected' AND reason = 'not_entry_owner'"),
	             4);
	json_t *msgs = e2e_read_topic(&e, "credit.reject.nm-tax", 4, WAIT_MS);
	cr_expect_eq(json_array_size(msgs), 4, "one reject per refused end");
	for (int i = 0; i < 4; i++)
		cr_expect(find_reject(msgs, e2e_id("end", i)) != NULL, "end %d has its reject", i);
	json_decref(msgs);
	cr_log_info("early ends refused when their add came: %s",
	            e2e_log_has(&e, 0, "msg=\"early end refused\"") ? "yes" : "none this run");
	e2e_stop(&e);
}

/* Two early ends of one penalty from two producers: the foreign one arrives after the owner's
 * and cannot push it out. The owner's revocation hides the penalty, the foreign one is refused
 * when the add comes. */
Test(regimes, a_foreign_early_end_cannot_displace_the_owners, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	char rec[256], decided[16];
	snprintf(decided, sizeof(decided), "%s", e2e_days_ago(200));
	snprintf(rec, sizeof(rec), "{\"decision_no\": \"罚〔2024〕1号\", \"revoked_on\": \"%s\"}",
	         e2e_days_ago(20));
	send_event(&e, "nm-samr", e2e_id("own", 1), "penalty.revoked", 1, rec);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 1, WAIT_MS));
	send_event(&e, "nm-tax", e2e_id("foreign", 1), "penalty.revoked", 1, rec);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records WHERE end2_by = 'nm-tax'",
	                       1, WAIT_MS));
	send_penalty(&e, "nm-samr", 1, decided, NULL);
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records WHERE added", 1, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.records WHERE status = 'never' AND "
	                      "ended_by = 'nm-samr' AND end2_reason IS NULL"),
	             1);
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.obligations"), 0);
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.inbound WHERE producer = 'nm-tax' AND "
	                      "outcome = 'rejected' AND reason = 'not_entry_owner'"),
	             1);
	json_t *msgs = e2e_read_topic(&e, "credit.reject.nm-tax", 1, WAIT_MS);
	cr_expect(find_reject(msgs, e2e_id("foreign", 1)) != NULL);
	json_decref(msgs);
	e2e_stop(&e);
}
