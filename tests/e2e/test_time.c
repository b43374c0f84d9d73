/* End-to-end: time and deadlines with the test-only clock override (test.clock_offset_s):
 * automatic takedowns at the end of a disclosure period, exactly once with two instances and
 * a restart; due dates across holidays; breaches that appear and clear on acknowledgement. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "due_cases.h"
#include "date.h"
#include "e2e.h"

#define WAIT_MS 60000

TestSuite(time, .fini = e2e_cleanup);

static const char *const usccs[] = {"91150102MA0N123408", "91150105MA0Q7K3D2H",
                                    "91150203MA0R5T8L6F", "92150602MA0P3W9X1U"};

static cs_date
today(void)
{
	return date_beijing((int64_t)time(NULL));
}

/* A penalty decided and published on `decided` (fine in yuan), received at ts_ms (0: now). */
static void
send_penalty_at(struct e2e *e, const char *producer, int i, cs_date decided, const char *cats,
                const char *fine, long long ts_ms)
{
	char rec[512], d[DATE_STRLEN], topic[128];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"decided_on\": \"%s\", \"categories\": %s,"
	         " \"fine_yuan\": \"%s\", \"field\": \"other\", \"published_on\": \"%s\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         i, date_format(decided, d), cats, fine, d);
	char *ev = e2e_event(e2e_id("issued", i), "penalty.issued", producer, usccs[i % 4],
	                     "2024-05-06T10:15:00+08:00", rec);
	snprintf(topic, sizeof(topic), "credit.in.%s", producer);
	e2e_produce_at(e, topic, usccs[i % 4], ev, ts_ms);
	free(ev);
}

/* The latest decision date whose period of `months` months (Civil Code) ends within
 * [from, from + 2]: found by search, so the test holds whatever day it runs. */
static cs_date
decided_for_end(int months, cs_date from)
{
	for (cs_date d = from; d > from - 40 * 31; d--) {
		cs_date end = date_add_months(d, months);
		if (end >= from && end <= from + 2)
			return d;
	}
	cr_assert_fail("no decision date ends a %d-month period near today", months);
	return DATE_NONE;
}

/* How many records of decision number dn meet cond (SQL). */
static long long
count_rec(struct e2e *e, const char *dn, const char *cond)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM credsync.records WHERE decision_no = '%s' AND %s", dn, cond);
	return e2e_sql_int(e, sql);
}

/* Messages on a site topic of a type and reason about decision number dn. */
static size_t
count_out(json_t *msgs, const char *type, const char *reason, const char *dn)
{
	size_t i, n = 0;
	json_t *m;
	json_array_foreach(msgs, i, m)
	{
		const char *t = json_string_value(json_object_get(m, "type"));
		const char *r = json_string_value(json_object_get(m, "reason"));
		json_t *rec = json_object_get(m, "record");
		const char *d = json_string_value(json_object_get(rec, "decision_no"));
		if (t && strcmp(t, type) == 0 &&
		    (reason == NULL || (r && strcmp(r, reason) == 0)) &&
		    (dn == NULL || (d && strcmp(d, dn) == 0)))
			n++;
	}
	return n;
}

/* The light rule is the seed's (SAMR Order 45); decisions of 2026 fall under national-2026 by
 * default, which has none: the expiry tests name the seed's set (rules.sets overrides). */
#define SEED_ONLY "rules.sets = seed-2024\n"

/* Five days ahead: both periods below end within two days of today. */
#define AHEAD "test.clock_offset_s = 432000\nbatch.max_events = 5\n" SEED_ONLY

Test(time, max_period_and_light_penalty_taken_down_once_two_instances_restart, .timeout = 300)
{
	static struct e2e e;
	e = (struct e2e){.extra_config = AHEAD};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);
	cr_expect(e2e_log_has(&e, 0, "TEST CLOCK OVERRIDE ACTIVE"));

	/* received now (Kafka timestamps are real): disclosed, then ended by the clock */
	send_penalty_at(&e, "nm-tax", 1, decided_for_end(36, today()), "[\"fine\"]", "200000.00",
	                0);
	/* light: market regulation's rule, 3 months from the publication the event carries */
	send_penalty_at(&e, "nm-samr", 2, decided_for_end(3, today()), "[\"fine\"]", "500.00", 0);
	/* still disclosed five days from now */
	send_penalty_at(&e, "nm-tax", 3, today() - 30, "[\"fine\"]", "200000.00", 0);
	/* past its maximum period when it arrives, and a warning only: never disclosed */
	send_penalty_at(&e, "nm-tax", 4, date_add_months(today(), -37), "[\"fine\"]", "200000.00",
	                0);
	send_penalty_at(&e, "nm-tax", 5, today() - 30, "[\"warning\"]", "0.00", 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 5, WAIT_MS));
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.records WHERE status = 'down' AND "
	                       "end_reason IN ('expired', 'light_expired')",
	                       2, WAIT_MS));
	/* a restart in between: nothing taken down again */
	e2e_daemon_stop(&e, 1, SIGTERM);
	e2e_daemon_start(&e, 1);
	cr_assert(e2e_log_has(&e, 1, "msg=started"));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));

	cr_expect_eq(count_rec(&e, "罚〔2024〕1号", "end_reason = 'expired'"), 1);
	cr_expect_eq(count_rec(&e, "罚〔2024〕2号", "end_reason = 'light_expired'"), 1);
	cr_expect_eq(count_rec(&e, "罚〔2024〕3号", "status = 'shown'"), 1);
	cr_expect_eq(count_rec(&e, "罚〔2024〕4号", "status = 'never'"), 1);
	cr_expect_eq(count_rec(&e, "罚〔2024〕5号", "status = 'never'"), 1);
	const char *sites[] = {"credit.out.creditchina", "credit.out.gsxt"};
	for (int s = 0; s < 2; s++) {
		json_t *msgs = e2e_read_topic(&e, sites[s], 7, WAIT_MS);
		cr_expect_eq(count_out(msgs, "disclose", NULL, NULL), 3, "%s disclose", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", "expired", "罚〔2024〕1号"), 1,
		             "%s expired", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", "light_expired", "罚〔2024〕2号"), 1,
		             "%s light_expired", sites[s]);
		cr_expect_eq(count_out(msgs, "disclose", NULL, "罚〔2024〕4号"), 0, "%s", sites[s]);
		cr_expect_eq(count_out(msgs, "disclose", NULL, "罚〔2024〕5号"), 0, "%s", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", "expired", "罚〔2024〕4号"), 1, "%s",
		             sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", "not_disclosable", "罚〔2024〕5号"), 1,
		             "%s", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", NULL, NULL), 4, "%s takedowns", sites[s]);
		json_decref(msgs);
	}
	cr_expect(e2e_log_has(&e, 0, "msg=expired") || e2e_log_has(&e, 1, "msg=expired"));
	/* Issue 12 item 3: no working day of grace. The periods ended up to two days after
	 * today, the clock is five days ahead: the scan is late, so the takedowns are due the
	 * day they are sent (the clock's today), not a working day later. */
	char sql[512], d[DATE_STRLEN];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM credsync.obligations WHERE type = 'takedown' AND "
	         "decision_no IN ('罚〔2024〕1号', '罚〔2024〕2号') AND due_date = '%s'",
	         date_format(today() + 5, d));
	cr_expect_eq(e2e_sql_int(&e, sql), 4, "expiry takedowns due %s", d);
	e2e_stop(&e);
}

static long long
ts_ms_of(const char *rfc3339)
{
	int64_t t;
	int off;
	cr_assert(time_parse_rfc3339(rfc3339, &t, &off) == 0, "bad time %s", rfc3339);
	return (long long)t * 1000;
}

/* credsyncctl's JSON answer to args (a shell-quoted argument string). */
static json_t *
ctl_json(const char *args)
{
	char cmd[4096];
	json_error_t jerr;
	snprintf(cmd, sizeof(cmd), "%s'%s/credsyncctl' %s", e2e_shell_prefix("credsyncctl"),
	         getenv("CREDSYNC_BIN"), args);
	FILE *fp = popen(cmd, "r");
	cr_assert(fp != NULL);
	json_t *j = json_loadf(fp, 0, &jerr);
	pclose(fp);
	e2e_valgrind_check();
	cr_assert(j != NULL, "%s: %s", cmd, jerr.text);
	return j;
}

static char *
slurp_log(const struct e2e *e, int idx)
{
	FILE *fp = fopen(e2e_daemon_log(e, idx), "r");
	if (fp == NULL)
		return calloc(1, 1);
	char *buf = calloc(1, 4 << 20);
	size_t n = fread(buf, 1, (4 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* How many lines of daemon idx's log contain needle. */
static int
log_count(const struct e2e *e, int idx, const char *needle)
{
	char *text = slurp_log(e, idx);
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Polls until the newest msg=backlog line of daemon idx has every needle (NULL-ended). */
static bool
wait_backlog(const struct e2e *e, int idx, const char *const *needles)
{
	time_t deadline = time(NULL) + e2e_ms(WAIT_MS) / 1000;
	for (;;) {
		char *text = slurp_log(e, idx);
		char *last = NULL;
		for (char *p = text; (p = strstr(p, "msg=backlog")) != NULL; p++)
			last = p;
		bool ok = last != NULL;
		if (ok) {
			/* every value followed by a space, the last one too */
			size_t end = strcspn(last, "\n");
			last[end] = ' ';
			last[end + 1] = '\0';
			for (size_t i = 0; needles[i] != NULL && ok; i++)
				ok = strstr(last, needles[i]) != NULL;
		}
		if (!ok && time(NULL) >= deadline)
			fprintf(stderr, "e2e: last backlog line: %s\n", last ? last : "(none)");
		free(text);
		if (ok)
			return true;
		if (time(NULL) >= deadline)
			return false;
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void
ack(struct e2e *e, const char *site, const char *id)
{
	char topic[64], msg[256];
	snprintf(topic, sizeof(topic), "credit.ack.%s", site);
	snprintf(msg, sizeof(msg),
	         "{\"schema\": \"credsync.ack/1\", \"id\": \"%s\", \"site\": \"%s\","
	         " \"done_at\": \"2026-12-02T13:00:00+08:00\"}",
	         id, site);
	e2e_produce(e, topic, NULL, msg);
}

/* Acknowledges every obligation of decision number dn on both sites. */
static void
ack_all(struct e2e *e, const char *dn)
{
	const char *sites[] = {"creditchina", "gsxt"};
	for (int s = 0; s < 2; s++) {
		char sql[512];
		snprintf(sql, sizeof(sql),
		         "SELECT id::text FROM credsync.obligations WHERE decision_no = '%s' AND "
		         "site = '%s'",
		         dn, sites[s]);
		char *id = e2e_sql_text(e, sql);
		cr_assert(id[0] != '\0', "no obligation of %s on %s", dn, sites[s]);
		ack(e, sites[s], id);
		free(id);
	}
}

/* The clock's now in these tests: a Wednesday afternoon, Beijing. */
#define CLOCK_NOW "2026-12-02T13:00:00+08:00"

Test(time, due_dates_across_holidays_breach_and_at_risk_logged_once_cleared_by_ack, .timeout = 300)
{
	static struct e2e e;
	static char cfg[256];
	snprintf(cfg, sizeof(cfg), "test.clock_offset_s = %lld\n",
	         ts_ms_of(CLOCK_NOW) / 1000 - (long long)time(NULL));
	e = (struct e2e){.extra_config = cfg};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);

	cs_date decided;
	cr_assert(date_parse("2026-01-05", &decided) == 0);
	/* received before the National Day holidays: due after them; a breach by now */
	send_penalty_at(&e, "nm-tax", 1, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-09-30T15:00:00+08:00"));
	/* received yesterday: due today, at risk this afternoon */
	send_penalty_at(&e, "nm-tax", 2, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-12-01T10:00:00+08:00"));
	/* received today: due tomorrow, neither */
	send_penalty_at(&e, "nm-tax", 3, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-12-02T12:30:00+08:00"));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 6, WAIT_MS));

	/* the due dates agree with the calendar, and the first spans the holidays */
	char path[1024], err[256];
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", getenv("CREDSYNC_SCHEMAS"));
	calendar *cal = calendar_load(path, err, sizeof(err));
	cr_assert(cal != NULL, "%s", err);
	const char *received[] = {"2026-09-30T15:00:00+08:00", "2026-12-01T10:00:00+08:00",
	                          "2026-12-02T12:30:00+08:00"};
	for (int i = 0; i < 3; i++) {
		cs_date want;
		int unknown = 0;
		char sql[512], d[DATE_STRLEN];
		cr_assert(
		    calendar_due_date(cal, ts_ms_of(received[i]) / 1000, 1, &want, &unknown) == 0);
		if (i == 0)
			cr_expect_gt(want, date_beijing(ts_ms_of(received[i]) / 1000) + 7,
			             "the first due date spans the holidays");
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM credsync.obligations WHERE decision_no = "
		         "'罚〔2024〕%d号' AND due_date = '%s'",
		         i + 1, date_format(want, d));
		cr_expect_eq(e2e_sql_int(&e, sql), 2, "due date of %d: %s", i + 1, d);
	}
	calendar_free(cal);

	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.obligations WHERE breach_logged_at "
	                       "IS NOT NULL AND decision_no = '罚〔2024〕1号'",
	                       2, WAIT_MS));
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.obligations WHERE at_risk_logged_at "
	                       "IS NOT NULL AND decision_no = '罚〔2024〕2号'",
	                       2, WAIT_MS));
	const char *late[] = {"breach=2 ", "oldest_breach=2026-10-08 ", "at_risk=2 ", NULL};
	cr_expect(wait_backlog(&e, 0, late));
	/* logged once each, whichever instance saw it */
	cr_expect_eq(log_count(&e, 0, "msg=breach ") + log_count(&e, 1, "msg=breach "), 2);
	cr_expect_eq(log_count(&e, 0, "msg=at_risk ") + log_count(&e, 1, "msg=at_risk "), 2);
	cr_expect_eq(
	    e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE breach_logged_at IS "
	                    "NOT NULL OR (at_risk_logged_at IS NOT NULL AND decision_no <> "
	                    "'罚〔2024〕2号')"),
	    2);

	char args[1024];
	snprintf(args, sizeof(args), "late -c '%s/credsyncd-0.conf' --json", e.dir);
	json_t *view = ctl_json(args);
	json_t *breaches = json_object_get(view, "breaches");
	cr_expect_str_eq(json_string_value(json_object_get(view, "today")), "2026-12-02");
	cr_expect_eq(json_array_size(breaches), 2);
	for (size_t i = 0; i < json_array_size(breaches); i++) {
		char sql[512];
		snprintf(
		    sql, sizeof(sql),
		    "SELECT count(*) FROM credsync.obligations WHERE id = '%s' AND decision_no = "
		    "'罚〔2024〕1号' AND breach_logged_at IS NOT NULL",
		    json_string_value(json_object_get(json_array_get(breaches, i), "id")));
		cr_expect_eq(e2e_sql_int(&e, sql), 1, "breach %zu", i);
	}
	json_decref(view);

	ack_all(&e, "罚〔2024〕1号");
	const char *cleared[] = {"breach=0 ", "oldest_breach=none ", "at_risk=2 ", NULL};
	cr_expect(wait_backlog(&e, 0, cleared));
	ack_all(&e, "罚〔2024〕2号");
	const char *none[] = {"breach=0 ", "at_risk=0 ", NULL};
	cr_expect(wait_backlog(&e, 0, none));
	view = ctl_json(args);
	cr_expect_eq(json_array_size(json_object_get(view, "breaches")), 0);
	json_decref(view);
	cr_expect_eq(log_count(&e, 0, "msg=breach ") + log_count(&e, 1, "msg=breach "), 2);
	e2e_stop(&e);
}

/* An event of type about penalty i from producer, with a Kafka timestamp. */
static void
send_at(struct e2e *e, const char *producer, const char *type, int i, const char *record,
        const char *when)
{
	char topic[128];
	const char *uscc = usccs[i % 10 % 4]; /* event i * 10 + n is about penalty n */
	char *ev = e2e_event(e2e_id(type, i), type, producer, uscc, when, record);
	snprintf(topic, sizeof(topic), "credit.in.%s", producer);
	e2e_produce_at(e, topic, uscc, ev, ts_ms_of(when));
	free(ev);
}

static void
send_repair_at(struct e2e *e, const char *system, int i, const char *when)
{
	char rec[256];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"repaired_on\": \"%.10s\","
	         " \"repair_decision_no\": \"修〔2026〕%d号\"}",
	         i, when, i);
	send_at(e, system, "penalty.repaired", i, rec, when);
}

static void
set_clock(struct e2e *e, char *cfg, size_t cfgsz, const char *now)
{
	snprintf(cfg, cfgsz, "test.clock_offset_s = %lld\n" SEED_ONLY,
	         ts_ms_of(now) / 1000 - (long long)time(NULL));
	e->extra_config = cfg;
}

/* The ids (sorted, comma-joined) of the obligations to site received on 2026-12-01 whose
 * type and reason match cond. */
static char *
day_ids(struct e2e *e, const char *site, const char *cond)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
	         "SELECT coalesce(string_agg(id::text, ',' ORDER BY id::text), '') FROM "
	         "credsync.obligations WHERE site = '%s' AND (%s) AND received_at >= "
	         "'2026-12-01T00:00:00+08:00' AND received_at < '2026-12-02T00:00:00+08:00'",
	         site, cond);
	return e2e_sql_text(e, sql);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of a summary part, sorted, comma-joined (malloc'd). */
static char *
part_ids(json_t *msg, const char *part, long long *ret_count)
{
	json_t *p = json_object_get(msg, part), *ids = json_object_get(p, "ids"), *v;
	const char *list[64];
	size_t i, n = 0;
	size_t cap = 64 * 40, len = 0;
	char *out = calloc(1, cap);
	*ret_count = json_integer_value(json_object_get(p, "count"));
	json_array_foreach(ids, i, v)
	{
		if (n < 64)
			list[n++] = json_string_value(v);
	}
	qsort(list, n, sizeof(list[0]), str_cmp);
	for (i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i > 0 ? "," : "", list[i]);
	return out;
}

/* A summary's message for site and date among msgs (NULL if none); *ret_n: how many. */
static json_t *
find_summary(json_t *msgs, const char *site, const char *date, int *ret_n)
{
	size_t i;
	json_t *m, *found = NULL;
	*ret_n = 0;
	json_array_foreach(msgs, i, m)
	{
		const char *t = json_string_value(json_object_get(m, "type"));
		const char *s = json_string_value(json_object_get(m, "site"));
		const char *d = json_string_value(json_object_get(m, "date"));
		if (t && s && d && strcmp(t, "daily_summary") == 0 && strcmp(s, site) == 0 &&
		    strcmp(d, date) == 0) {
			found = m;
			(*ret_n)++;
		}
	}
	return found;
}

#define DAY_NOON      "2026-12-01T12:00:00+08:00"
#define NEXT_MIDNIGHT "2026-12-02T00:10:00+08:00"

Test(time, daily_summary_lists_exactly_the_days_repairs_and_expiries, .timeout = 300)
{
	static struct e2e e;
	static char cfg[256];
	e = (struct e2e){0};
	set_clock(&e, cfg, sizeof(cfg), DAY_NOON);
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);

	cs_date decided, light;
	cr_assert(date_parse("2026-01-05", &decided) == 0);
	/* a lighter penalty whose 3 months end on 2026-11-30: taken down on 2026-12-01 */
	cr_assert(date_parse("2026-08-30", &light) == 0);
	cs_date end;
	cr_assert(date_parse("2026-11-30", &end) == 0);
	cr_assert_eq(date_add_months(light, 3), end);
	long long before = ts_ms_of("2026-11-20T10:00:00+08:00");
	send_penalty_at(&e, "nm-tax", 1, decided, "[\"fine\"]", "200000.00", before);
	send_penalty_at(&e, "nm-tax", 2, decided, "[\"fine\"]", "200000.00", before);
	send_penalty_at(&e, "nm-samr", 3, light, "[\"fine\"]", "500.00", before);
	send_penalty_at(&e, "nm-tax", 4, decided, "[\"fine\"]", "200000.00", before);
	/* a repair consumed before its penalty would leave the penalty never shown */
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 4, WAIT_MS));
	send_repair_at(&e, "creditchina", 1, "2026-12-01T10:00:00+08:00");
	send_repair_at(&e, "creditchina", 2, "2026-11-30T10:00:00+08:00"); /* the day before */
	send_repair_at(&e, "creditchina", 4, "2026-12-01T23:59:00+08:00");
	/* 4 disclosures, 1 expiry, 3 repairs: two sites each */
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 16, WAIT_MS));

	/* the next day, after a restart */
	e2e_daemon_stop(&e, 0, SIGTERM);
	e2e_daemon_stop(&e, 1, SIGTERM);
	set_clock(&e, cfg, sizeof(cfg), NEXT_MIDNIGHT);
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.daily_summaries WHERE day = "
	                       "'2026-12-01'",
	                       2, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));

	const char *sites[] = {"creditchina", "gsxt"};
	for (int s = 0; s < 2; s++) {
		char line[128];
		snprintf(line, sizeof(line), "msg=\"daily summary\" site=%s date=2026-12-01 ",
		         sites[s]);
		cr_expect_eq(log_count(&e, 0, line) + log_count(&e, 1, line), 1,
		             "%s summary logged once", sites[s]);
	}
	for (int s = 0; s < 2; s++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "credit.out.%s", sites[s]);
		json_t *msgs = e2e_read_topic(&e, topic, 10, WAIT_MS);
		int n;
		json_t *sum = find_summary(msgs, sites[s], "2026-12-01", &n);
		cr_assert_eq(n, 1, "%s: %d summaries of 2026-12-01", sites[s], n);
		long long count;
		char *got = part_ids(sum, "repairs", &count);
		char *want =
		    day_ids(&e, sites[s],
		            "type = 'mutual_recognition' OR (type = 'takedown' AND reason = "
		            "'repaired')");
		cr_expect_str_eq(got, want, "%s repairs", sites[s]);
		cr_expect_eq(count, 2, "%s repairs count", sites[s]); /* #1 and #4, not #2 */
		free(got);
		free(want);
		got = part_ids(sum, "expiries", &count);
		want = day_ids(&e, sites[s], "reason IN ('expired', 'light_expired')");
		cr_expect_str_eq(got, want, "%s expiries", sites[s]);
		cr_expect_eq(count, 1, "%s expiries count", sites[s]);
		/* disclosed through 2026-11-30: gone on 2026-12-01, the day of the scan */
		size_t i;
		json_t *m;
		json_array_foreach(msgs, i, m)
		{
			const char *r = json_string_value(json_object_get(m, "reason"));
			if (r != NULL && strcmp(r, "light_expired") == 0)
				cr_expect_str_eq(json_string_value(json_object_get(m, "due_date")),
				                 "2026-12-01", "%s light expiry due", sites[s]);
		}
		free(got);
		free(want);
		json_decref(msgs);
	}

	/* credsyncctl reconcile: every obligation of the day, and whether it was acknowledged */
	char args[1024];
	snprintf(args, sizeof(args), "reconcile -c '%s/credsyncd-0.conf' --date 2026-12-01 --json",
	         e.dir);
	json_t *rec = ctl_json(args);
	long long day_total = e2e_sql_int(
	    &e, "SELECT count(*) FROM credsync.obligations WHERE received_at >= "
	        "'2026-12-01T00:00:00+08:00' AND received_at < '2026-12-02T00:00:00+08:00'");
	cr_expect_eq(day_total, 6);
	cr_expect_eq(json_integer_value(json_object_get(rec, "count")), day_total);
	cr_expect_eq(json_array_size(json_object_get(rec, "obligations")), (size_t)day_total);
	cr_expect_eq(json_integer_value(json_object_get(rec, "unacknowledged")), day_total);
	json_decref(rec);
	e2e_stop(&e);
}

static void
send_app(struct e2e *e, const char *system, const char *type, int i, int app, const char *at)
{
	char rec[512];
	const char *field = strcmp(type, "repair.applied") == 0    ? "applied_at"
	                    : strcmp(type, "repair.accepted") == 0 ? "accepted_at"
	                                                           : "decided_at";
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"application_no\": \"申〔2026〕%d号\","
	         " \"%s\": \"%s\"}",
	         i, app, field, at);
	send_at(e, system, type, app * 10 + i, rec, at);
}

/* The due date column of application app against the calendar: n working days from at. */
static void
expect_app_due(struct e2e *e, const calendar *cal, int app, const char *col, const char *at, int n)
{
	char sql[512], d[DATE_STRLEN];
	cs_date want;
	int unknown;
	cr_assert(calendar_due_date(cal, ts_ms_of(at) / 1000, n, &want, &unknown) == 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM credsync.repair_applications WHERE application_no = "
	         "'申〔2026〕%d号' AND %s = '%s'",
	         app, col, date_format(want, d));
	cr_expect_eq(e2e_sql_int(e, sql), 1, "application %d: %s %s", app, col, d);
}

Test(time, repair_application_goes_overdue_by_channel_and_clears, .timeout = 300)
{
	static struct e2e e;
	static char cfg[256];
	e = (struct e2e){0};
	set_clock(&e, cfg, sizeof(cfg), DAY_NOON);
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);

	cs_date decided;
	cr_assert(date_parse("2026-01-05", &decided) == 0);
	long long before = ts_ms_of("2026-11-02T10:00:00+08:00");
	send_penalty_at(&e, "nm-samr", 1, decided, "[\"fine\"]", "200000.00", before);
	send_penalty_at(&e, "nm-tax", 2, decided, "[\"fine\"]", "200000.00", before);
	/* gsxt: accept within 5 working days: due 2026-11-27, late by now */
	send_app(&e, "gsxt", "repair.applied", 1, 1, "2026-11-20T10:00:00+08:00");
	/* creditchina: accept within 3: due 2026-12-03, in time */
	send_app(&e, "creditchina", "repair.applied", 2, 2, "2026-11-30T10:00:00+08:00");
	/* creditchina: accepted 2026-11-06, decide within 7: late by now */
	send_app(&e, "creditchina", "repair.applied", 2, 3, "2026-11-05T10:00:00+08:00");
	send_app(&e, "creditchina", "repair.accepted", 2, 3, "2026-11-06T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 6, WAIT_MS));
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.repair_applications WHERE "
	                       "accept_late_logged_at IS NOT NULL OR decide_late_logged_at IS NOT "
	                       "NULL",
	                       2, WAIT_MS));

	char path[1024], err[256];
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", getenv("CREDSYNC_SCHEMAS"));
	calendar *cal = calendar_load(path, err, sizeof(err));
	cr_assert(cal != NULL, "%s", err);
	expect_app_due(&e, cal, 1, "accept_due", "2026-11-20T10:00:00+08:00", 5);
	expect_app_due(&e, cal, 2, "accept_due", "2026-11-30T10:00:00+08:00", 3);
	expect_app_due(&e, cal, 3, "decide_due", "2026-11-06T10:00:00+08:00", 7);

	const char *late[] = {"repair_overdue=2 ", NULL};
	cr_expect(wait_backlog(&e, 0, late));
	cr_expect_eq(
	    log_count(&e, 0, "msg=repair_overdue ") + log_count(&e, 1, "msg=repair_overdue "), 2);
	cr_expect(e2e_log_has(&e, 0, "step=accept application_no=申〔2026〕1号") ||
	          e2e_log_has(&e, 1, "step=accept application_no=申〔2026〕1号"));
	cr_expect(e2e_log_has(&e, 0, "step=decide application_no=申〔2026〕3号") ||
	          e2e_log_has(&e, 1, "step=decide application_no=申〔2026〕3号"));

	char args[1024];
	snprintf(args, sizeof(args), "late -c '%s/credsyncd-1.conf' --json", e.dir);
	json_t *view = ctl_json(args);
	json_t *apps = json_object_get(view, "applications");
	cr_expect_eq(json_array_size(apps), 2);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(apps, 0), "step")),
	                 "decide"); /* oldest due first: 2026-11-17 */
	json_decref(view);

	/* accepted (late, logged once): now due to be decided within 10 working days */
	send_app(&e, "gsxt", "repair.accepted", 1, 1, "2026-11-30T10:00:00+08:00");
	/* the repair decides both applications about penalty 2 */
	send_repair_at(&e, "creditchina", 2, "2026-12-01T10:00:00+08:00");
	const char *cleared[] = {"repair_overdue=0 ", NULL};
	cr_expect(wait_backlog(&e, 0, cleared));
	expect_app_due(&e, cal, 1, "decide_due", "2026-11-30T10:00:00+08:00", 10);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.repair_applications WHERE "
	                             "outcome = 'repaired' AND decided_at IS NOT NULL"),
	             2);
	cr_expect_eq(
	    log_count(&e, 0, "msg=repair_overdue ") + log_count(&e, 1, "msg=repair_overdue "), 2);
	calendar_free(cal);
	e2e_stop(&e);
}

Test(time, credsyncctl_due_and_the_obligations_agree_on_every_calendar_case, .timeout = 300)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	size_t n = sizeof(due_cases) / sizeof(due_cases[0]), sent = 0;
	for (size_t i = 0; i < n; i++) {
		if (due_cases[i].n != 1) /* an obligation is due within 1 working day */
			continue;
		long long ts = ts_ms_of(due_cases[i].received);
		char rec[512], d[DATE_STRLEN], topic[] = "credit.in.nm-tax";
		/* decided the day before: disclosed on receipt, whatever day the test runs */
		snprintf(rec, sizeof(rec),
		         "{\"decision_no\": \"期〔%zu〕号\", \"decided_on\": \"%s\","
		         " \"categories\": [\"fine\"], \"fine_yuan\": \"200000.00\","
		         " \"field\": \"other\","
		         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
		         i, date_format(date_beijing(ts / 1000) - 1, d));
		char *ev = e2e_event(e2e_id("due", (int)i), "penalty.issued", "nm-tax",
		                     usccs[i % 4], due_cases[i].received, rec);
		e2e_produce_at(&e, topic, usccs[i % 4], ev, ts);
		free(ev);
		sent++;
	}
	cr_assert(
	    e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", (long long)sent, WAIT_MS));
	for (size_t i = 0; i < n; i++) {
		if (due_cases[i].n != 1)
			continue;
		char sql[512], args[256];
		snprintf(
		    sql, sizeof(sql),
		    "SELECT coalesce(string_agg(DISTINCT due_date::text, ','), 'none') FROM "
		    "credsync.obligations WHERE type = 'disclose' AND decision_no = '期〔%zu〕号'",
		    i);
		char *in_pg = e2e_sql_text(&e, sql);
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM credsync.obligations WHERE type = 'disclose' AND "
		         "decision_no = '期〔%zu〕号'",
		         i);
		cr_expect_eq(e2e_sql_int(&e, sql), 2, "%s: both sites", due_cases[i].received);
		snprintf(args, sizeof(args), "due --received '%s' --json", due_cases[i].received);
		json_t *ctl = ctl_json(args);
		const char *by_ctl = json_string_value(json_object_get(ctl, "due_date"));
		cr_expect_str_eq(in_pg, by_ctl ? by_ctl : "(none)",
		                 "%s (%s): PostgreSQL %s, ctl %s", due_cases[i].received,
		                 due_cases[i].why, in_pg, by_ctl);
		cr_expect_str_eq(in_pg, due_cases[i].want, "%s (%s)", due_cases[i].received,
		                 due_cases[i].why);
		json_decref(ctl);
		free(in_pg);
	}
	e2e_stop(&e);
}

/* A penalty of severity sev decided on decided (received now). */
static void
send_severity(struct e2e *e, int i, const char *decided, const char *sev)
{
	char rec[512];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2026〕%d号\", \"decided_on\": \"%s\","
	         " \"categories\": [\"fine\"], \"fine_yuan\": \"200000.00\","
	         " \"field\": \"other\", \"severity\": \"%s\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         i, decided, sev);
	char *ev = e2e_event(e2e_id("severity", i), "penalty.issued", "nm-tax", usccs[i % 4],
	                     "2026-06-01T10:00:00+08:00", rec);
	e2e_produce(e, "credit.in.nm-tax", usccs[i % 4], ev);
	free(ev);
}

/* The status and disclose_until of penalty i, as "status until". */
static char *
periods_of(struct e2e *e, int i)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT status || ' ' || coalesce(disclose_until::text, '-') FROM "
	         "credsync.records WHERE decision_no = '罚〔2026〕%d号'",
	         i);
	return e2e_sql_text(e, sql);
}

/* The answer of credsyncctl periods for the same facts, as "shown until" or "never -". */
static char *
periods_by_ctl(const char *sets, const char *decided, const char *sev)
{
	char args[512];
	snprintf(args, sizeof(args),
	         "periods --decided-on %s --categories fine --fine-yuan 200000 --producer nm-tax "
	         "--severity %s --rule-sets '%s' --json",
	         decided, sev, sets);
	json_t *j = ctl_json(args);
	char *out = calloc(1, 64);
	json_t *until = json_object_get(j, "disclose_until");
	snprintf(out, 64, "%s %s",
	         json_is_true(json_object_get(j, "disclosable")) ? "shown" : "never",
	         json_is_string(until) ? json_string_value(until) : "-");
	json_decref(j);
	return out;
}

/* Issue 12: the regimes apply by decision date with no configuration (rules.sets = auto);
 * rules.sets still overrides. credsyncd and credsyncctl periods agree on the last day shown. */
Test(time, rule_sets_by_decision_date_by_default_and_overridden_when_configured, .timeout = 300)
{
	static const struct {
		const char *decided, *severity;
	} cases[] = {
	    {"2026-03-01", "general"}, /* before national-2026 took effect: the seed's 3 years */
	    {"2026-05-01", "general"}, /* national-2026: 1 year */
	    {"2026-05-01", "serious"}, /* national-2026: 3 years */
	    {"2026-05-02", "minor"},   /* national-2026: 3 months, nothing to apply for */
	};
	static const char *const configs[] = {"", "rules.sets = seed-2024\n"};
	static const char *const sets[] = {"auto", "seed-2024"};
	for (int c = 0; c < 2; c++) {
		static struct e2e e;
		e = (struct e2e){.extra_config = configs[c]};
		e2e_start(&e);
		e2e_daemon_start(&e, 0);
		for (int i = 0; i < 4; i++)
			send_severity(&e, i, cases[i].decided, cases[i].severity);
		cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.records", 4, WAIT_MS));
		for (int i = 0; i < 4; i++) {
			char *got = periods_of(&e, i);
			char *want = periods_by_ctl(sets[c], cases[i].decided, cases[i].severity);
			/* the last day shown; a record already past it arrives never shown */
			cr_expect_str_eq(strchr(got, ' '), strchr(want, ' '),
			                 "rules %s, decided %s, %s: got %s, want %s", sets[c],
			                 cases[i].decided, cases[i].severity, got, want);
			if (i == 3)
				cr_expect_str_eq(got,
				                 c == 0 ? "never 2026-08-02" : "shown 2029-05-02",
				                 "minor penalty under %s: %s", sets[c], got);
			free(got);
			free(want);
		}
		e2e_stop(&e);
	}
}

/* Rewrites daemon idx's data.dir to dir and sends SIGHUP; waits for the (count)th reload. */
static void
reload_with_data(struct e2e *e, int idx, const char *dir, int count)
{
	char cfg[600], line[1024];
	snprintf(cfg, sizeof(cfg), "%s/credsyncd-%d.conf", e->dir, idx);
	char *text = NULL;
	size_t len = 0;
	FILE *fp = fopen(cfg, "r");
	cr_assert(fp != NULL);
	FILE *mem = open_memstream(&text, &len);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "data.dir", 8) == 0)
			fprintf(mem, "data.dir = %s\n", dir);
		else
			fputs(line, mem);
	fclose(fp);
	fclose(mem);
	fp = fopen(cfg, "w");
	cr_assert(fp != NULL);
	fputs(text, fp);
	fclose(fp);
	free(text);
	kill(e->daemons[idx], SIGHUP);
	time_t deadline = time(NULL) + e2e_ms(20000) / 1000;
	while (log_count(e, idx, "msg=reloaded") < count)
		cr_assert(time(NULL) < deadline, "no reload %d", count);
}

static char *
due_of(struct e2e *e, int i)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT string_agg(DISTINCT due_date::text, ',') FROM credsync.obligations WHERE "
	         "decision_no = '罚〔2024〕%d号'",
	         i);
	return e2e_sql_text(e, sql);
}

Test(time, a_new_years_calendar_loads_on_sighup_without_a_rebuild, .timeout = 300)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	/* an operator's data directory, a copy of the shipped one */
	char data[512], cmd[1400];
	snprintf(data, sizeof(data), "%s/schemas", e.dir);
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", getenv("CREDSYNC_SCHEMAS"), data);
	cr_assert(system(cmd) == 0, "%s", cmd);
	reload_with_data(&e, 0, data, 1);

	/* due in 2027, which the calendar does not cover: an estimate, and a warning naming it */
	cs_date decided;
	cr_assert(date_parse("2026-06-01", &decided) == 0);
	send_penalty_at(&e, "nm-tax", 1, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-12-31T10:00:00+08:00"));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 2, WAIT_MS));
	const char *warning = "msg=\"calendar does not cover the year of a due date\" year=2027 ";
	cr_expect_eq(log_count(&e, 0, warning), 1);
	char *due = due_of(&e, 1);
	cr_expect_str_eq(due, "2027-01-01"); /* Monday-Friday counted: an estimate */
	free(due);

	/* the 2027 schedule is published: appended to the data file, SIGHUP */
	char path[700];
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", data);
	FILE *fp = fopen(path, "a");
	cr_assert(fp != NULL);
	fputs("year 2027\noff  2027-01-01..2027-01-03\n", fp);
	fclose(fp);
	reload_with_data(&e, 0, data, 2);
	send_penalty_at(&e, "nm-tax", 2, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-12-31T11:00:00+08:00"));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 4, WAIT_MS));
	due = due_of(&e, 2);
	cr_expect_str_eq(due, "2027-01-04");
	free(due);
	cr_expect_eq(log_count(&e, 0, warning), 1, "no warning once 2027 is known");
	e2e_stop(&e);
}

/* Issue 14 item 3: after an outage of more than a day, every missed day gets its own
 * summary, once, and the days before the last summary written are not summarised again. */
Test(time, daily_summary_of_every_day_missed_in_an_outage, .timeout = 300)
{
	static struct e2e e;
	static char cfg[256];
	e = (struct e2e){0};
	set_clock(&e, cfg, sizeof(cfg), DAY_NOON);
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	cs_date decided;
	cr_assert(date_parse("2026-01-05", &decided) == 0);
	send_penalty_at(&e, "nm-tax", 1, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-11-20T10:00:00+08:00"));
	send_penalty_at(&e, "nm-tax", 2, decided, "[\"fine\"]", "200000.00",
	                ts_ms_of("2026-12-01T10:00:00+08:00"));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 2, WAIT_MS));
	send_repair_at(&e, "creditchina", 2, "2026-12-02T10:00:00+08:00");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 6, WAIT_MS));
	/* the first start summarised the day before it (some obligation was received by then) */
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.daily_summaries", 2, WAIT_MS));
	/* and sent it: a stop with messages delivered above the publish cursor sends them again
	 * at the next start (the same ids), which the counts below would take for a second
	 * summary */
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));

	/* down from 2026-12-01 noon to 2026-12-04 00:10: three days missed */
	e2e_daemon_stop(&e, 0, SIGTERM);
	set_clock(&e, cfg, sizeof(cfg), "2026-12-04T00:10:00+08:00");
	e2e_daemon_start(&e, 0);
	e2e_daemon_start(&e, 1);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.daily_summaries", 8, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.daily_summaries WHERE day IN "
	                             "('2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03')"),
	             8, "yesterday's at the first start, then each day missed");

	static const char *const sites[] = {"creditchina", "gsxt"};
	static const char *const days[] = {"2026-12-01", "2026-12-02", "2026-12-03"};
	for (int s = 0; s < 2; s++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "credit.out.%s", sites[s]);
		/* 2 disclosures, 1 repair, 4 summaries */
		json_t *msgs = e2e_read_topic(&e, topic, 7, WAIT_MS);
		for (size_t d = 0; d < 3; d++) {
			char line[128];
			snprintf(line, sizeof(line), "msg=\"daily summary\" site=%s date=%s ",
			         sites[s], days[d]);
			cr_expect_eq(log_count(&e, 0, line) + log_count(&e, 1, line), 1,
			             "%s %s summary logged once", sites[s], days[d]);
			int n;
			json_t *sum = find_summary(msgs, sites[s], days[d], &n);
			cr_expect_eq(n, 1, "%s: %d summaries of %s", sites[s], n, days[d]);
			long long count = -1;
			if (sum != NULL)
				free(part_ids(sum, "repairs", &count));
			/* the repair of 2026-12-02 is in that day's summary only */
			cr_expect_eq(count, d == 1 ? 1 : 0, "%s %s repairs", sites[s], days[d]);
		}
		int n;
		find_summary(msgs, sites[s], "2026-11-30", &n);
		cr_expect_eq(n, 1, "%s: 2026-11-30 once", sites[s]);
		find_summary(msgs, sites[s], "2026-11-29", &n);
		cr_expect_eq(n, 0, "%s: nothing before the last summary written", sites[s]);
		json_decref(msgs);
	}
	e2e_stop(&e);
}
