/* End-to-end: what operators rely on (issue 5): the sd_notify sequence systemd sees, the
 * msg=lag/applied/backlog lines during and after a burst, credsyncctl status and history
 * against golden files, the advisory Kafka commits that kcat reads, and no secret in any log
 * line or in --check's output.
 *
 * Golden files: tests/fixtures/golden/{status,history}.json hold the --json answers with the
 * values that vary between runs (times, member ids, dates derived from today, the broker's
 * address: see volatile_keys) replaced by "<key>". After a deliberate change of either
 * answer, regenerate them with
 *     CREDSYNC_UPDATE_GOLDEN=1 ctest -R e2e/test_ops
 * (the test then writes the files instead of comparing) and review the diff. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "e2e.h"
#include "testlib.h"

#define WAIT_MS 60000

TestSuite(ops, .fini = e2e_cleanup);

/* A valid penalty.issued from nm-tax, number i (fixed event id and decision number). */
static void
send_penalty(struct e2e *e, int i)
{
	char rec[512], id[37], no[64];
	snprintf(no, sizeof(no), "罚〔2024〕%d号", i);
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"%s\", \"decided_on\": \"%s\", \"categories\": [\"fine\"],"
	         " \"fine_yuan\": \"200000.00\", \"field\": \"other\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         no, e2e_days_ago(200));
	snprintf(id, sizeof(id), "0b5e0000-0000-4000-8000-%012d", i);
	char *ev = e2e_event(id, "penalty.issued", "nm-tax", "91150102MA0N123408",
	                     "2024-05-06T10:15:00+08:00", rec);
	e2e_produce(e, "credit.in.nm-tax", "91150102MA0N123408", ev);
	free(ev);
}

/* ---- sd_notify ---- */

#define MAX_NOTES 4096

struct notes {
	int fd;
	size_t n;
	char *text[MAX_NOTES];
	long long at[MAX_NOTES]; /* when received (monotonic ms) */
};

/* Reads every datagram that arrives within ms (or none if ms is 0 and nothing waits). */
static void
notes_read(struct notes *ns, int ms)
{
	long long deadline = testlib_now_ms() + ms;
	for (;;) {
		long long left = deadline - testlib_now_ms();
		struct pollfd pfd = {.fd = ns->fd, .events = POLLIN};
		int r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r <= 0)
			return;
		char buf[1024];
		ssize_t got = recv(ns->fd, buf, sizeof(buf) - 1, 0);
		if (got < 0)
			return;
		buf[got] = '\0';
		cr_assert(ns->n < MAX_NOTES, "too many notifications");
		ns->text[ns->n] = strdup(buf);
		ns->at[ns->n++] = testlib_now_ms();
	}
}

/* The index of the first notification at or after from equal to (or starting with, when
 * prefix) s, or -1. */
static long
notes_find(const struct notes *ns, size_t from, const char *s, bool prefix)
{
	for (size_t i = from; i < ns->n; i++)
		if (prefix ? strncmp(ns->text[i], s, strlen(s)) == 0 : strcmp(ns->text[i], s) == 0)
			return (long)i;
	return -1;
}

/* Reads until a notification like s arrives after from, or timeout_ms; returns its index. */
static long
notes_wait(struct notes *ns, size_t from, const char *s, bool prefix, int timeout_ms)
{
	long long deadline = testlib_now_ms() + e2e_ms(timeout_ms);
	long i;
	while ((i = notes_find(ns, from, s, prefix)) < 0 && testlib_now_ms() < deadline)
		notes_read(ns, 100);
	return i;
}

Test(ops, sd_notify_sequence, .timeout = 180)
{
	static struct e2e e;
	static struct notes ns;
	e = (struct e2e){0};
	ns = (struct notes){0};
	e2e_start(&e);

	char path[512];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(path, sizeof(path), "%s/notify", e.dir);
	cr_assert(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ns.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(ns.fd >= 0, "socket: %s", strerror(errno));
	cr_assert(bind(ns.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind: %s",
	          strerror(errno));

	setenv("NOTIFY_SOCKET", path, 1);
	e2e_daemon_start(&e, 0);
	unsetenv("NOTIFY_SOCKET");

	long ready = notes_wait(&ns, 0, "READY=1", false, WAIT_MS);
	cr_assert(ready >= 0, "no READY=1");
	/* Ready means migrated: the schema is there once systemd is told. */
	cr_expect_gt(e2e_sql_int(&e, "SELECT count(*) FROM pg_tables WHERE schemaname = "
	                             "'credsync' AND tablename = 'inbound'"),
	             0);
	long status = notes_wait(&ns, 0, "STATUS=unsent=", true, WAIT_MS);
	cr_assert(status >= 0, "no STATUS= line with the backlog");
	cr_expect(strstr(ns.text[status], "unacknowledged=") != NULL, "%s", ns.text[status]);
	cr_expect(strstr(ns.text[status], "overdue=") != NULL, "%s", ns.text[status]);

	/* Watchdog pings keep coming, at most about once a second. */
	long long window_start = testlib_now_ms();
	notes_read(&ns, 3500);
	size_t pings = 0;
	long long first = -1, last = -1;
	for (size_t i = 0; i < ns.n; i++)
		if (strcmp(ns.text[i], "WATCHDOG=1") == 0 && ns.at[i] >= window_start) {
			pings++;
			if (first < 0)
				first = ns.at[i];
			last = ns.at[i];
		}
	cr_assert_geq(pings, 2, "watchdog pings in 3.5 s: %zu", pings);
	cr_expect_leq((long long)pings, (last - first) / 1000 + 2, "%zu pings in %lld ms", pings,
	              last - first);

	/* SIGHUP: RELOADING=1, then READY=1 again. */
	size_t before_hup = ns.n;
	kill(e.daemons[0], SIGHUP);
	long reloading = notes_wait(&ns, before_hup, "RELOADING=1", false, WAIT_MS);
	cr_assert(reloading >= 0, "no RELOADING=1 after SIGHUP");
	long ready_again = notes_wait(&ns, (size_t)reloading + 1, "READY=1", false, WAIT_MS);
	cr_assert(ready_again > reloading, "no READY=1 after RELOADING=1");

	/* SIGTERM: STOPPING=1 and a clean exit; nothing claims readiness after it. */
	size_t before_term = ns.n;
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);
	notes_read(&ns, 200);
	long stopping = notes_find(&ns, before_term, "STOPPING=1", false);
	cr_assert(stopping >= 0, "no STOPPING=1 after SIGTERM");
	cr_expect_eq(notes_find(&ns, (size_t)stopping, "READY=1", false), -1);
	cr_expect_eq(notes_find(&ns, 0, "RELOADING=1", false), reloading,
	             "RELOADING=1 before the SIGHUP");
	cr_expect_lt(ready, status, "STATUS= before READY=1");

	for (size_t i = 0; i < ns.n; i++)
		free(ns.text[i]);
	close(ns.fd);
	e2e_stop(&e);
}

/* ---- no secret in the logs ---- */

Test(ops, no_secret_in_logs, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e.extra_config = "kafka.sasl.password = s3cr3t-kafka\n";
	e2e_start(&e);
	/* The test server trusts local connections: a password is accepted and ignored. */
	size_t len = strlen(e.conninfo) + 32;
	char *with_password = malloc(len);
	snprintf(with_password, len, "%s password=s3cr3t-pg", e.conninfo);
	free(e.conninfo);
	e.conninfo = with_password;
	e2e_daemon_start(&e, 0);

	send_penalty(&e, 1);
	e2e_produce(&e, "credit.in.nm-tax", "91150102MA0N123408", "not json");
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 2, WAIT_MS));

	kill(e.daemons[0], SIGHUP);
	long long deadline = testlib_now_ms() + e2e_ms(WAIT_MS);
	while (!e2e_log_has(&e, 0, "msg=reloaded"))
		cr_assert(testlib_now_ms() < deadline, "no msg=reloaded after SIGHUP");

	/* A PostgreSQL error path: every session cut, the daemon reconnects. */
	e2e_pg_restart();
	send_penalty(&e, 2);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 3, WAIT_MS));
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);

	char *log = testlib_must_read(e2e_daemon_log(&e, 0));
	cr_expect(strstr(log, "msg=reloaded") != NULL);
	cr_expect(strstr(log, "s3cr3t-pg") == NULL, "the PostgreSQL password is in the log");
	cr_expect(strstr(log, "s3cr3t-kafka") == NULL, "the Kafka password is in the log");
	free(log);

	char conf[512], bin[1024], *out;
	snprintf(conf, sizeof(conf), "%s/credsyncd-0.conf", e.dir);
	snprintf(bin, sizeof(bin), "%s/credsyncd", getenv("CREDSYNC_BIN"));
	/* The daemon was given both secrets. */
	char *text = testlib_must_read(conf);
	cr_expect(strstr(text, "password=s3cr3t-pg") != NULL, "%s", text);
	cr_expect(strstr(text, "kafka.sasl.password = s3cr3t-kafka") != NULL, "%s", text);
	free(text);
	const char *argv[] = {bin, "-c", conf, "--check", NULL};
	cr_expect_eq(e2e_run(&out, argv, true), 0, "%s", out);
	cr_expect(strstr(out, "s3cr3t") == NULL, "--check shows a secret: %s", out);
	cr_expect(strstr(out, "kafka.sasl.password") != NULL, "%s", out);
	cr_expect(strstr(out, "********") != NULL, "%s", out);
	free(out);
	e2e_stop(&e);
}

/* ---- advisory commits, as kcat sees them ---- */

/* Consumes topic with kcat as group to the end of every partition; returns how many messages
 * it printed (one line each). */
static int
kcat_count(struct e2e *e, const char *group, const char *topic)
{
	char *out;
	const char *argv[] = {"/usr/bin/timeout",
	                      "30",
	                      "/usr/bin/kcat",
	                      "-b",
	                      e->bootstrap,
	                      "-G",
	                      group,
	                      "-e",
	                      "-q",
	                      "-f",
	                      "MSG %o\\n",
	                      "-X",
	                      "auto.offset.reset=earliest",
	                      "-X",
	                      "enable.auto.commit=false",
	                      topic,
	                      NULL};
	int rc = e2e_run(&out, argv, true);
	cr_assert_eq(rc, 0, "kcat exited %d: %s", rc, out);
	int n = 0;
	for (const char *p = out; (p = strstr(p, "MSG ")) != NULL; p += 4)
		n++;
	free(out);
	return n;
}

Test(ops, kcat_sees_advisory_commits, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	const int total = 12;
	for (int i = 1; i <= total; i++)
		send_penalty(&e, i);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", total, WAIT_MS));
	/* Kafka's copy follows PostgreSQL's: wait until every partition's commit arrived. */
	for (int p = 0; p < 4; p++) {
		char sql[256];
		snprintf(sql, sizeof(sql),
		         "SELECT coalesce((SELECT next_offset FROM credsync.consumer_offsets WHERE "
		         "topic = 'credit.in.nm-tax' AND partition = %d), -1001)",
		         p);
		long long want = e2e_sql_int(&e, sql), got = -2;
		long long deadline = testlib_now_ms() + e2e_ms(WAIT_MS);
		while ((got = e2e_committed(&e, "credsyncd", "credit.in.nm-tax", p)) != want)
			cr_assert(testlib_now_ms() < deadline,
			          "partition %d: Kafka %lld, PostgreSQL %lld", p, got, want);
	}
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);

	cr_expect_eq(kcat_count(&e, "credsyncd", "credit.in.nm-tax"), 0,
	             "the daemon's group has unconsumed messages");
	cr_expect_eq(kcat_count(&e, "ops-fresh-group", "credit.in.nm-tax"), total,
	             "a new group does not see every message");
	e2e_stop(&e);
}

/* ---- lag, applied and backlog lines ---- */

#define MAX_PARTS 16

/* What the daemon's progress lines said, as last read from its log. */
struct progress {
	bool lag_seen[MAX_PARTS];
	long long last_lag[MAX_PARTS];
	bool lag_positive;      /* some msg=lag line of the topic had lag > 0 */
	long long max_messages; /* msg=applied messages= */
	long long max_applied;  /* msg=applied applied= */
	bool backlog_positive;  /* some msg=backlog line had unsent or unacknowledged > 0 */
	long long last_unacked; /* the last msg=backlog line's unacknowledged= */
	long long last_unsent;
};

static long long
field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	if (p == NULL)
		return -1;
	return strtoll(p + strlen(key), NULL, 10);
}

static void
progress_read(const struct e2e *e, const char *topic, struct progress *pr)
{
	char *log = testlib_must_read(e2e_daemon_log(e, 0)), want[160];
	snprintf(want, sizeof(want), "topic=%s ", topic);
	*pr = (struct progress){.last_unacked = -1, .last_unsent = -1};
	for (char *line = log, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strstr(line, "msg=lag ") != NULL && strstr(line, want) != NULL) {
			long long part = field(line, "partition="), lag = field(line, " lag=");
			cr_assert(part >= 0 && part < MAX_PARTS && lag >= 0, "bad lag line: %s",
			          line);
			pr->lag_seen[part] = true;
			pr->last_lag[part] = lag;
			if (lag > 0)
				pr->lag_positive = true;
		} else if (strstr(line, "msg=applied ") != NULL) {
			long long m = field(line, " messages="), a = field(line, " applied=");
			if (m > pr->max_messages)
				pr->max_messages = m;
			if (a > pr->max_applied)
				pr->max_applied = a;
		} else if (strstr(line, "msg=backlog ") != NULL) {
			pr->last_unsent = field(line, " unsent=");
			pr->last_unacked = field(line, " unacknowledged=");
			if (pr->last_unsent > 0 || pr->last_unacked > 0)
				pr->backlog_positive = true;
		}
	}
	free(log);
}

static void
dr_count(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	*(rd_kafka_resp_err_t *)m->_private = m->err;
}

/* n penalty.issued events from nm-tax, produced without waiting for each delivery (as a busy
 * producer would), then flushed: all delivered before it returns. */
static void
burst_penalties(struct e2e *e, int n)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	cr_assert(rd_kafka_conf_set(conf, "bootstrap.servers", e->bootstrap, err, sizeof(err)) ==
	          RD_KAFKA_CONF_OK);
	rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(conf, dr_count);
	rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	cr_assert(p != NULL, "producer: %s", err);
	rd_kafka_resp_err_t *results = calloc((size_t)n, sizeof(*results));
	for (int i = 0; i < n; i++) {
		char rec[512], id[37], no[64];
		snprintf(no, sizeof(no), "罚〔2024〕%d号", i + 1);
		snprintf(rec, sizeof(rec),
		         "{\"decision_no\": \"%s\", \"decided_on\": \"%s\", \"categories\": "
		         "[\"fine\"], \"fine_yuan\": \"200000.00\", \"field\": \"other\","
		         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
		         no, e2e_days_ago(200));
		snprintf(id, sizeof(id), "0b5e0000-0000-4000-8000-%012d", i + 1);
		char *ev = e2e_event(id, "penalty.issued", "nm-tax", "91150102MA0N123408",
		                     "2024-05-06T10:15:00+08:00", rec);
		results[i] = RD_KAFKA_RESP_ERR__IN_PROGRESS;
		rd_kafka_resp_err_t perr;
		while ((perr = rd_kafka_producev(p, RD_KAFKA_V_TOPIC("credit.in.nm-tax"),
		                                 RD_KAFKA_V_KEY("91150102MA0N123408", 18),
		                                 RD_KAFKA_V_VALUE(ev, strlen(ev)),
		                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                                 RD_KAFKA_V_OPAQUE(&results[i]), RD_KAFKA_V_END)) ==
		       RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(p, 10);
		cr_assert(perr == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s",
		          rd_kafka_err2str(perr));
		free(ev);
		rd_kafka_poll(p, 0);
	}
	cr_assert(rd_kafka_flush(p, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR, "flush timed out");
	for (int i = 0; i < n; i++)
		cr_assert(results[i] == RD_KAFKA_RESP_ERR_NO_ERROR, "delivery %d: %s", i,
		          rd_kafka_err2str(results[i]));
	free(results);
	rd_kafka_destroy(p);
}

Test(ops, lag_and_backlog_lines_follow_a_burst, .timeout = 240)
{
	static struct e2e e;
	e = (struct e2e){0};
	e.extra_config = "batch.max_events = 5\n";
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	/* The burst lands before the daemon joined its group (a few seconds): it starts with
	 * a backlog that batches of 5 work off over several one-second progress lines. */
	const int burst = 5000;
	burst_penalties(&e, burst);

	struct progress pr;
	long long deadline = testlib_now_ms() + e2e_ms(120000);
	for (;;) {
		progress_read(&e, "credit.in.nm-tax", &pr);
		long long unacked =
		    e2e_sql_int(&e,
		                "SELECT count(*) FROM pg_tables WHERE schemaname = 'credsync'") > 0
		        ? e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE "
		                          "acked_at IS NULL")
		        : -2;
		/* every partition of the topic the daemon holds shows no lag */
		int seen = 0, behind = 0;
		for (int p = 0; p < MAX_PARTS; p++)
			if (pr.lag_seen[p]) {
				seen++;
				behind += pr.last_lag[p] > 0;
			}
		bool caught_up = seen > 0 && behind == 0;
		if (caught_up && pr.max_messages >= burst && pr.last_unsent == 0 &&
		    pr.last_unacked == unacked)
			break;
		cr_assert(testlib_now_ms() < deadline,
		          "progress lines did not settle: %d of %d partitions behind, messages "
		          "%lld, unsent %lld, unacknowledged %lld (SQL %lld)",
		          behind, seen, pr.max_messages, pr.last_unsent, pr.last_unacked, unacked);
		struct timespec ts = {0, 200000000L};
		nanosleep(&ts, NULL);
	}
	cr_expect(pr.lag_positive, "no msg=lag line showed the burst's lag");
	cr_expect(pr.backlog_positive, "no msg=backlog line showed a backlog");
	cr_expect_eq(pr.max_messages, burst);
	cr_expect_eq(pr.max_applied, burst);
	cr_expect_gt(pr.last_unacked, 0, "no site acknowledges here: the obligations stay");
	e2e_stop(&e);
}

/* ---- status and history against golden files ---- */

/* Keys whose values vary between runs: times of receipt and sending, member ids, dates
 * derived from today, Kafka's addresses and notes. Their values become "<key>". */
static const char *const volatile_keys[] = {"now",
                                            "today",
                                            "updated_at",
                                            "created_at",
                                            "stored_at",
                                            "sent_at",
                                            "received_at",
                                            "kafka_ts",
                                            "last_kafka_ts",
                                            "last_stored_at",
                                            "oldest_unsent_at",
                                            "owner",
                                            "due_date",
                                            "oldest_due_date",
                                            "oldest_overdue_due_date",
                                            "disclose_until",
                                            "repairable_from",
                                            "ended_at",
                                            "ended_on",
                                            "note",
                                            "bootstrap",
                                            "epoch",
                                            "payload",
                                            "decided_on",
                                            "repaired_on",
                                            "recognised_repaired_on",
                                            "acked_at",
                                            "group"};

static bool
is_volatile(const char *key)
{
	for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++)
		if (strcmp(key, volatile_keys[i]) == 0)
			return true;
	return false;
}

/* Replaces, in place, the values of volatile keys (at any depth) with placeholders, and any
 * string holding the broker's address. */
static void
normalise(json_t *j, const char *bootstrap)
{
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(j, tmp, key, v)
		{
			if (is_volatile(key)) {
				char ph[96];
				snprintf(ph, sizeof(ph), "<%s>", key);
				json_object_set_new(j, key, json_string(ph));
			} else if (json_is_string(v) &&
			           strstr(json_string_value(v), bootstrap) != NULL) {
				json_object_set_new(j, key, json_string("<bootstrap>"));
			} else {
				normalise(v, bootstrap);
			}
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) normalise(v, bootstrap);
	}
}

/* Compares the normalised answer with tests/fixtures/golden/<name>.json, or writes it there
 * when CREDSYNC_UPDATE_GOLDEN=1. */
static void
golden(const char *name, json_t *answer, const char *bootstrap)
{
	char path[1024];
	normalise(answer, bootstrap);
	char *got = json_dumps(answer, JSON_SORT_KEYS | JSON_INDENT(2));
	cr_assert(got != NULL);
	snprintf(path, sizeof(path), "%s/golden/%s.json", getenv("CREDSYNC_FIXTURES"), name);
	const char *update = getenv("CREDSYNC_UPDATE_GOLDEN");
	if (update != NULL && strcmp(update, "1") == 0) {
		FILE *fp = fopen(path, "w");
		cr_assert(fp != NULL, "could not write %s: %s", path, strerror(errno));
		fprintf(fp, "%s\n", got);
		cr_assert(fclose(fp) == 0);
	} else {
		char *want = testlib_must_read(path);
		size_t n = strlen(want);
		if (n > 0 && want[n - 1] == '\n')
			want[n - 1] = '\0';
		cr_expect_str_eq(got, want,
		                 "%s differs from %s (CREDSYNC_UPDATE_GOLDEN=1 rewrites it)", name,
		                 path);
		free(want);
	}
	free(got);
}

static json_t *
ctl_json(struct e2e *e, const char *const *args, int *ret_rc)
{
	char bin[1024], conf[512], *out;
	snprintf(bin, sizeof(bin), "%s/credsyncctl", getenv("CREDSYNC_BIN"));
	snprintf(conf, sizeof(conf), "%s/credsyncd-0.conf", e->dir);
	const char *argv[16] = {bin, args[0], "-c", conf};
	size_t n = 4;
	for (size_t i = 1; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	*ret_rc = e2e_run(&out, argv, true);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert(j != NULL, "%s: not JSON (%s): %s", args[0], jerr.text, out);
	free(out);
	return j;
}

Test(ops, status_and_history_match_golden_files, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);
	send_penalty(&e, 1);
	send_penalty(&e, 2);
	/* The repair after both are stored: one order of events, one answer. */
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 2, WAIT_MS));
	char rec[256];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕1号\", \"repaired_on\": \"%s\","
	         " \"repair_decision_no\": \"修〔2024〕1号\"}",
	         e2e_days_ago(10));
	char *ev = e2e_event("0b5e0000-0000-4000-8000-100000000001", "penalty.repaired",
	                     "creditchina", "91150102MA0N123408", "2024-10-08T10:00:00+08:00", rec);
	e2e_produce(&e, "credit.in.creditchina", "91150102MA0N123408", ev);
	free(ev);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", 3, WAIT_MS));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS));
	cr_assert_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);

	int rc;
	const char *status_args[] = {"status", "--json", NULL};
	json_t *status = ctl_json(&e, status_args, &rc);
	cr_expect_eq(rc, 0, "status exited %d", rc);
	golden("status", status, e.bootstrap);
	json_decref(status);

	const char *history_args[] = {"history", "91150102MA0N123408", "--json", NULL};
	json_t *history = ctl_json(&e, history_args, &rc);
	cr_expect_eq(rc, 0, "history exited %d", rc);
	golden("history", history, e.bootstrap);
	json_decref(history);
	e2e_stop(&e);
}

/* The development broker creates every producer's topics at start, as embedded mode does
 * (issue 15): listing all topics creates none in the mock, so each found was pre-created,
 * and a producer's first event does not wait for a metadata refresh and a rebalance. */
Test(ops, devbroker_creates_every_producers_topics, .timeout = 120)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	const struct rd_kafka_metadata *md = NULL;
	cr_assert_eq(rd_kafka_metadata(e.producer, 1, NULL, &md, e2e_ms(10000)),
	             RD_KAFKA_RESP_ERR_NO_ERROR, "could not list the broker's topics");
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/data/authorities.tsv", getenv("CREDSYNC_SCHEMAS"));
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	int producers = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\t\n")] = '\0';
		producers++;
		static const char *const kinds[] = {"credit.in.", "credit.reject."};
		for (size_t k = 0; k < 2; k++) {
			char topic[1100];
			bool found = false;
			snprintf(topic, sizeof(topic), "%s%s", kinds[k], line);
			for (int i = 0; i < md->topic_cnt; i++)
				found = found || (strcmp(md->topics[i].topic, topic) == 0 &&
				                  md->topics[i].partition_cnt > 0);
			cr_expect(found, "%s was not created at start", topic);
		}
	}
	fclose(fp);
	cr_expect_gt(producers, 10, "authorities.tsv names only %d producers", producers);
	rd_kafka_metadata_destroy(md);
	e2e_stop(&e);
}

/* metrics.textfile (issue 15): after a few events the file holds the counters, lag and
 * backlog in Prometheus's text format, as python3-prometheus-client's parser reads it (the
 * parser node_exporter's users have at hand; tests/metrics/scrape.py). */
Test(ops, metrics_textfile_is_prometheus_text, .timeout = 180)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	char path[600], conf[700], script[1024];
	snprintf(path, sizeof(path), "%s/credsync.prom", e.dir);
	snprintf(conf, sizeof(conf), "metrics.textfile = %s\n", path);
	snprintf(script, sizeof(script), "%s/tests/metrics/scrape.py", getenv("CREDSYNC_SOURCE"));
	e.extra_config = conf;
	e2e_daemon_start(&e, 0);
	for (int i = 1; i <= 3; i++)
		send_penalty(&e, i);
	const char *argv[] = {"/usr/bin/python3", script, path, NULL};
	char *out = NULL;
	int rc = -1;
	long long deadline = testlib_now_ms() + e2e_ms(WAIT_MS);
	for (;;) {
		free(out);
		out = NULL;
		rc = access(path, R_OK) == 0 ? e2e_run(&out, argv, true) : -1;
		if (rc == 0 && strstr(out, "credsync_events_total{outcome=applied} 3\n") != NULL &&
		    strstr(out, "credsync_backlog_up{} 1\n") != NULL)
			break;
		cr_assert(testlib_now_ms() < deadline, "no metrics with 3 applied (exit %d):\n%s",
		          rc, out != NULL ? out : "(no file)");
		struct timespec ts = {0, 200000000L};
		nanosleep(&ts, NULL);
	}
	static const char *const want[] = {
	    "credsync_partition_lag{partition=0,topic=credit.in.nm-tax} ",
	    "credsync_batches_failed_total{} 0\n",
	    "credsync_events_total{outcome=rejected} 0\n",
	    "credsync_backlog_unsent{} ",
	    "credsync_breaches{} 0\n",
	    "credsync_at_risk{} ",
	    "credsync_repair_overdue{} 0\n",
	    "credsync_last_event_timestamp_seconds{source=nm-tax,topic_kind=in} ",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(out, want[i]) != NULL, "no \"%s\" in:\n%s", want[i], out);
	free(out);
	/* replaced by rename: no temporary file is left beside it */
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c 'credsync.prom.'", e.dir);
	cr_expect_neq(system(cmd), 0, "a temporary metrics file was left in %s", e.dir);
	e2e_stop(&e);
}
