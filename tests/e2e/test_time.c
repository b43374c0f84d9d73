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

static char *
id_of(const char *what, int i)
{
	static char buf[8][37];
	static int k;
	unsigned h = 2166136261u;
	for (const char *p = what; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	char *b = buf[k++ % 8];
	snprintf(b, 37, "%08x-0000-4000-8000-%012d", h, i);
	return b;
}

/* A penalty decided on `decided` (fine in yuan), received at ts_ms (0: now). */
static void
send_penalty_at(struct e2e *e, const char *producer, int i, cs_date decided, const char *cats,
                const char *fine, long long ts_ms)
{
	char rec[512], d[DATE_STRLEN], topic[128];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"decided_on\": \"%s\", \"categories\": %s,"
	         " \"fine_yuan\": \"%s\", \"field\": \"other\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         i, date_format(decided, d), cats, fine);
	char *ev = e2e_event(id_of("issued", i), "penalty.issued", producer, usccs[i % 4],
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

/* Five days ahead: both periods below end within two days of today. */
#define AHEAD "test.clock_offset_s = 432000\nbatch.max_events = 5\n"

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
	send_penalty_at(&e, "nm-tax", 2, decided_for_end(3, today()), "[\"fine\"]", "500.00", 0);
	/* still disclosed five days from now */
	send_penalty_at(&e, "nm-tax", 3, today() - 30, "[\"fine\"]", "200000.00", 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 3, WAIT_MS));
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
	const char *sites[] = {"credit.out.creditchina", "credit.out.gsxt"};
	for (int s = 0; s < 2; s++) {
		json_t *msgs = e2e_read_topic(&e, sites[s], 5, WAIT_MS);
		cr_expect_eq(count_out(msgs, "disclose", NULL, NULL), 3, "%s disclose", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", "expired", "罚〔2024〕1号"), 1,
		             "%s expired", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", "light_expired", "罚〔2024〕2号"), 1,
		             "%s light_expired", sites[s]);
		cr_expect_eq(count_out(msgs, "takedown", NULL, NULL), 2, "%s takedowns", sites[s]);
		json_decref(msgs);
	}
	cr_expect(e2e_log_has(&e, 0, "msg=expired") || e2e_log_has(&e, 1, "msg=expired"));
	e2e_stop(&e);
}
