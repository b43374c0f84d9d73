/* End-to-end (issue 14 items 1 and 2): a message the database refuses forever is stored as
 * failed while everything else goes on, and `credsyncctl retry` applies it once the cause is
 * gone; a database outage longer than max.poll.interval.ms is ridden out in the group. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e.h"
#include "pgtest.h"
#include "testlib.h"

#define WAIT_MS 60000

static bool pg_stopped;

/* A test that failed while PostgreSQL was down must not leave it down for the next ones. */
static void
cleanup(void)
{
	if (pg_stopped) {
		pg_stopped = false;
		e2e_pg_start();
	}
	e2e_cleanup();
}

TestSuite(poison, .fini = cleanup);

static const char *const usccs[] = {"91150102MA0N123408", "91150105MA0Q7K3D2H",
                                    "91150203MA0R5T8L6F", "92150602MA0P3W9X1U"};

/* credsyncctl with args (NULL-terminated), its output in *ret_out; its exit status. */
static int
ctl(char **ret_out, const struct e2e *e, const char *const *args)
{
	char path[1024], conf[512];
	const char *argv[16];
	size_t n = 0;
	const char *dir = getenv("CREDSYNC_BIN");
	cr_assert(dir != NULL, "CREDSYNC_BIN is not set");
	snprintf(path, sizeof(path), "%s/credsyncctl", dir);
	snprintf(conf, sizeof(conf), "%s/credsyncd-0.conf", e->dir);
	argv[n++] = path;
	argv[n++] = args[0];
	argv[n++] = "-c";
	argv[n++] = conf;
	for (size_t i = 1; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return e2e_run(ret_out, argv, true);
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

#define ONE_JOB "apply.workers = 1\n"

Test(poison, a_refused_message_is_stored_failed_and_retried, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){.extra_config = ONE_JOB};
	e2e_start(&e);
	e2e_daemon_start(&e, 0); /* migrates */
	/* The database refuses one record forever, as a constraint or a bug would. */
	const char *sql_trigger =
	    "CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
	    "RAISE EXCEPTION 'refused record %', NEW.decision_no; END $$; "
	    "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON credsync.records FOR EACH ROW "
	    "WHEN (NEW.decision_no = '毒〔2024〕1号') EXECUTE FUNCTION public.refuse();";
	PGconn *pg = pgtest_connect(e.conninfo);
	pgtest_exec(pg, sql_trigger);
	/* Stopped, so that the messages below are consumed together: one job. */
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);
	e2e_send_penalty(&e, e2e_id("ok", 1), usccs[1], "罚〔2024〕1号");
	e2e_send_penalty(&e, e2e_id("poison", 1), usccs[0], "毒〔2024〕1号");
	e2e_send_penalty(&e, e2e_id("ok", 2), usccs[2], "罚〔2024〕2号");
	/* the same subject after it: must not overtake it */
	e2e_send_penalty(&e, e2e_id("after", 1), usccs[0], "罚〔2024〕3号");
	e2e_send_penalty(&e, e2e_id("ok", 3), usccs[3], "罚〔2024〕4号");
	e2e_daemon_start(&e, 0);

	/* Everything else goes on. */
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 5, e2e_ms(WAIT_MS)),
	          "a refused message stopped the others");
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                             "'applied'"),
	             3);
	cr_expect_eq(
	    sqlf(&e,
	         "SELECT count(*) FROM credsync.inbound WHERE outcome = 'failed' AND "
	         "event_id = '%s' AND sqlstate = 'P0001' AND error LIKE 'refused record%%'",
	         e2e_id("poison", 1)),
	    1);
	cr_expect_eq(sqlf(&e,
	                  "SELECT count(*) FROM credsync.inbound WHERE outcome = 'failed' AND "
	                  "event_id = '%s' AND error LIKE '%%earlier message of the subject%%'",
	                  e2e_id("after", 1)),
	             1, "the later message of the subject is held back with it");
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.records WHERE uscc = '%s'", usccs[0]),
	             0);
	/* consumed like any other: the offsets moved past it */
	cr_expect_eq(e2e_sql_int(&e, "SELECT sum(next_offset) FROM credsync.consumer_offsets "
	                             "WHERE topic = 'credit.in.nm-tax'"),
	             5);
	/* no reject: the producer did nothing wrong */
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.outbox WHERE topic LIKE "
	                             "'credit.reject.%'"),
	             0);
	char needle[200];
	snprintf(needle, sizeof(needle), "msg=failed event_id=%s topic=credit.in.nm-tax",
	         e2e_id("poison", 1));
	cr_expect(e2e_log_has(&e, 0, needle), "no %s in the log", needle);
	cr_expect(e2e_log_has(&e, 0, "sqlstate=P0001"));

	/* status says so and exits 1; rejects lists them as failed */
	char *out = NULL;
	cr_expect_eq(ctl(&out, &e, (const char *[]){"status", NULL}), 1, "%s", out);
	cr_expect(strstr(out, "NOT OK: 2 messages failed") != NULL, "%s", out);
	free(out);
	cr_expect_eq(ctl(&out, &e, (const char *[]){"rejects", "--json", NULL}), 0);
	cr_expect(strstr(out, "\"outcome\": \"failed\"") != NULL, "%s", out);
	cr_expect(strstr(out, "\"sqlstate\": \"P0001\"") != NULL, "%s", out);
	free(out);

	/* In order: the later one alone is refused while the first is failed. */
	cr_expect_eq(ctl(&out, &e, (const char *[]){"retry", e2e_id("after", 1), NULL}), 1, "%s",
	             out);
	cr_expect(strstr(out, "skipped") != NULL, "%s", out);
	free(out);
	/* Still refused: fails again, nothing changes. */
	cr_expect_eq(ctl(&out, &e, (const char *[]){"retry", "--all-failed", NULL}), 1, "%s", out);
	free(out);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                             "'failed'"),
	             2);

	/* The cause fixed: both applied, in order, once. */
	pgtest_exec(pg, "DROP TRIGGER refuse ON credsync.records");
	PQfinish(pg);
	cr_expect_eq(ctl(&out, &e, (const char *[]){"retry", "--all-failed", NULL}), 0, "%s", out);
	free(out);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                             "'applied'"),
	             5);
	cr_expect_eq(sqlf(&e, "SELECT count(*) FROM credsync.records WHERE uscc = '%s'", usccs[0]),
	             2);
	/* their obligations are published by the running daemon */
	cr_expect(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       e2e_ms(WAIT_MS)));
	cr_expect_eq(ctl(&out, &e, (const char *[]){"retry", "--all-failed", NULL}), 0, "%s", out);
	cr_expect(strstr(out, "no failed messages") != NULL, "%s", out);
	free(out);
	cr_expect_eq(ctl(&out, &e, (const char *[]){"status", NULL}), 0, "%s", out);
	free(out);
	e2e_stop(&e);
}

/* max.poll.interval.ms as low as librdkafka allows with the harness's session.timeout.ms. */
#define SHORT_POLL                                                                                 \
	"apply.workers = 1\n"                                                                      \
	"kafka.max.poll.interval.ms = 8000\n"
#define OUTAGE_MS 14000

Test(poison, a_database_outage_is_ridden_out_in_the_group, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){.extra_config = SHORT_POLL};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	e2e_send_penalty(&e, e2e_id("before", 0), usccs[0], "罚〔2024〕100号");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 1, e2e_ms(WAIT_MS)));

	e2e_pg_stop();
	pg_stopped = true;
	long long t0 = testlib_now_ms();
	/* Several rounds, so that the worker's queue fills while it cannot apply. */
	for (int i = 1; i <= 8; i++) {
		char decision[64];
		snprintf(decision, sizeof(decision), "罚〔2024〕%d号", 100 + i);
		e2e_send_penalty(&e, e2e_id("during", i), usccs[i % 4], decision);
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	/* Longer than max.poll.interval.ms: the member would be evicted if nobody polled. */
	while (testlib_now_ms() - t0 < OUTAGE_MS) {
		cr_assert_eq(kill(e.daemons[0], 0), 0, "credsyncd died during the outage");
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	e2e_pg_start();
	pg_stopped = false;
	long long back = testlib_now_ms();
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 9, e2e_ms(WAIT_MS)));
	long long took = testlib_now_ms() - back;
	cr_expect_lt(took, e2e_ms(5000), "applied %lld ms after the database returned", took);
	cr_expect(!e2e_log_has(&e, 0, "partition revoked"), "a partition was revoked");
	cr_expect(!e2e_log_has(&e, 0, "maximum poll interval"), "the member left the group");
	cr_expect(e2e_log_has(&e, 0, "consumer paused"), "the consumer was not paused");
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome <> "
	                             "'applied'"),
	             0);
	e2e_stop(&e);
}

Test(poison, retry_usage_errors_exit_2)
{
	const char *dir = getenv("CREDSYNC_BIN");
	cr_assert(dir != NULL, "CREDSYNC_BIN is not set");
	char path[1024];
	snprintf(path, sizeof(path), "%s/credsyncctl", dir);
	const char *const cases[][6] = {
	    {path, "retry", "-c", "/nonexistent.conf", NULL},
	    {path, "retry", "-c", "/nonexistent.conf", "a", "b"},
	    {path, "retry", "-c", "/nonexistent.conf", "not-an-id", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[7] = {0};
		memcpy(argv, cases[i], sizeof(cases[i]));
		char *out = NULL;
		cr_expect_eq(e2e_run(&out, argv, true), 2, "case %zu: %s", i, out);
		free(out);
	}
	/* a readable usage error and the help */
	const char *help[] = {path, "retry", "--help", NULL};
	char *out = NULL;
	cr_expect_eq(e2e_run(&out, help, false), 0);
	cr_expect(strstr(out, "--all-failed") != NULL, "%s", out);
	free(out);
}
