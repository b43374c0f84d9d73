/* End-to-end: credsyncd and credsyncctl through PgBouncer with pool_mode = transaction
 * (pg.pooling = transaction), where any state kept in a session (named prepared statements,
 * session settings, advisory locks, temporary tables) would land on a server connection that
 * the pooler hands to other clients next. The same events give the same result as through a
 * direct connection; starting without the migrations applied stops at once with the fix. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"
#include "testlib.h"

#define WAIT_MS 60000
#define EVENTS  50

static pid_t bouncer_pid;
static char bouncer_dir[64];

static void
bouncer_stop(void)
{
	if (bouncer_pid > 0) {
		kill(bouncer_pid, SIGTERM);
		waitpid(bouncer_pid, NULL, 0);
		bouncer_pid = 0;
	}
	if (bouncer_dir[0] != '\0' && getenv("CREDSYNC_KEEP") == NULL) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bouncer_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "pooler: could not remove %s\n", bouncer_dir);
	}
	bouncer_dir[0] = '\0';
}

static void
cleanup(void)
{
	bouncer_stop();
	e2e_cleanup();
}

TestSuite(pooler, .fini = cleanup);

/* printf into a malloc'd string. */
__attribute__((format(printf, 1, 2))) static char *
fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	cr_assert(n >= 0);
	char *s = malloc((size_t)n + 1);
	cr_assert(s != NULL);
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* The path of one of our programs (malloc'd). */
static char *
bin(const char *name)
{
	const char *dir = getenv("CREDSYNC_BIN");
	cr_assert(dir != NULL, "CREDSYNC_BIN is not set");
	return fmt("%s/%s", dir, name);
}

static int
free_port(void)
{
	char *out = NULL;
	const char *argv[] = {"/usr/bin/python3", "-c",
	                      "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); "
	                      "print(s.getsockname()[1])",
	                      NULL};
	cr_assert_eq(e2e_run(&out, argv, false), 0, "no free port");
	int port = (int)strtol(out, NULL, 10);
	free(out);
	return port;
}

/* The value of keyword kw in a conninfo (static buffer; "" when absent). */
static const char *
conninfo_get(const char *conninfo, const char *kw)
{
	static char val[256];
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);

	cr_assert(opts != NULL, "conninfo: %s", perr != NULL ? perr : "?");
	val[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, kw) == 0 && o->val != NULL)
			snprintf(val, sizeof(val), "%s", o->val);
	PQconninfoFree(opts);
	return val;
}

/* Starts PgBouncer in transaction mode in front of the test PostgreSQL, with fewer server
 * connections than credsyncd opens clients, so that transactions do move between server
 * connections; returns the conninfo of e's database through it (malloc'd). PgBouncer refuses
 * to run as root: as root, it runs as postgres (as scripts/pg-test runs the server). */
static char *
bouncer_start(struct e2e *e)
{
	char tmpl[] = "/tmp/credsync-pgb.XXXXXX", path[256], host[128], user[128], db[128];
	int pg_port, port = free_port();
	bool root = geteuid() == 0;

	cr_assert(access("/usr/sbin/pgbouncer", X_OK) == 0,
	          "/usr/sbin/pgbouncer is missing (run scripts/bootstrap)");
	cr_assert(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(bouncer_dir, sizeof(bouncer_dir), "%s", tmpl);
	snprintf(host, sizeof(host), "%s", conninfo_get(e->conninfo, "host"));
	pg_port = (int)strtol(conninfo_get(e->conninfo, "port"), NULL, 10);
	snprintf(user, sizeof(user), "%s", conninfo_get(e->conninfo, "user"));
	snprintf(db, sizeof(db), "%s", conninfo_get(e->conninfo, "dbname"));

	snprintf(path, sizeof(path), "%s/userlist.txt", bouncer_dir);
	FILE *fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fprintf(fp, "\"%s\" \"\"\n", user);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/pgbouncer.ini", bouncer_dir);
	fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fprintf(fp,
	        "[databases]\n"
	        "%s = host=%s port=%d dbname=%s\n"
	        "[pgbouncer]\n"
	        "listen_addr = 127.0.0.1\n"
	        "listen_port = %d\n"
	        "unix_socket_dir =\n"
	        "auth_type = trust\n"
	        "auth_file = %s/userlist.txt\n"
	        "pool_mode = transaction\n"
	        "default_pool_size = 2\n"
	        "max_client_conn = 100\n"
	        "logfile = %s/pgbouncer.log\n"
	        "pidfile = %s/pgbouncer.pid\n",
	        db, host, pg_port, db, port, bouncer_dir, bouncer_dir, bouncer_dir);
	fclose(fp);
	if (root) {
		struct passwd *pw = getpwnam("postgres");
		cr_assert(pw != NULL, "no user postgres to run pgbouncer as");
		cr_assert(chown(bouncer_dir, pw->pw_uid, pw->pw_gid) == 0);
		chmod(bouncer_dir, 0755);
		snprintf(path, sizeof(path), "%s/pgbouncer.ini", bouncer_dir);
		cr_assert(chmod(path, 0644) == 0);
		snprintf(path, sizeof(path), "%s/userlist.txt", bouncer_dir);
		cr_assert(chmod(path, 0644) == 0);
	}

	snprintf(path, sizeof(path), "%s/pgbouncer.ini", bouncer_dir);
	bouncer_pid = fork();
	cr_assert(bouncer_pid >= 0, "fork: %s", strerror(errno));
	if (bouncer_pid == 0) {
		char out[256];
		snprintf(out, sizeof(out), "%s/stdout", bouncer_dir);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (root)
			execl("/usr/sbin/runuser", "runuser", "-u", "postgres", "--",
			      "/usr/sbin/pgbouncer", path, (char *)NULL);
		else
			execl("/usr/sbin/pgbouncer", "pgbouncer", path, (char *)NULL);
		_exit(127);
	}

	char *conninfo = fmt("host=127.0.0.1 port=%d user=%s dbname=%s", port, user, db);
	long long deadline = testlib_now_ms() + e2e_ms(20000);
	while (PQping(conninfo) != PQPING_OK) {
		int status;
		cr_assert(waitpid(bouncer_pid, &status, WNOHANG) == 0,
		          "pgbouncer exited (see %s/pgbouncer.log)", bouncer_dir);
		cr_assert(testlib_now_ms() < deadline, "pgbouncer did not answer on port %d", port);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return conninfo;
}

/* A configuration file for credsyncd --migrate-only and credsyncctl. */
static char *
write_conf(struct e2e *e, const char *name, const char *conninfo, const char *pooling)
{
	char *path = fmt("%s/%s", e->dir, name);
	FILE *fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fprintf(fp,
	        "kafka.bootstrap.servers = %s\n"
	        "pg.conninfo = %s\n"
	        "pg.pooling = %s\n"
	        "data.dir = %s\n",
	        e->bootstrap, conninfo, pooling, getenv("CREDSYNC_SCHEMAS"));
	fclose(fp);
	return path;
}

static const char *const usccs[] = {"91150102MA0N123408", "91150105MA0Q7K3D2H",
                                    "91150203MA0R5T8L6F", "92150602MA0P3W9X1U",
                                    "91150702MA0N8H2C4Q", "91150402MA0M6F1B9H"};

/* EVENTS events: penalties of two producers over six subjects, then (once those are applied:
 * they come on other topics, whose order against them is not given) repairs of some. */
static void
send_events(struct e2e *e)
{
	for (int i = 1; i <= EVENTS; i++) {
		if (i == 41)
			cr_assert(
			    e2e_wait_sql(e, "SELECT count(*) FROM credsync.inbound", 40, WAIT_MS),
			    "the penalties were not applied (log %s)", e2e_daemon_log(e, 0));
		const char *producer = i % 2 == 0 ? "nm-tax" : "nm-samr";
		char topic[64], rec[512];
		char *ev;

		if (i <= 40) {
			snprintf(rec, sizeof(rec),
			         "{\"decision_no\": \"罚〔2024〕%d号\", \"decided_on\": \"%s\", "
			         "\"categories\": [\"fine\"], \"fine_yuan\": \"200000.00\", "
			         "\"field\": \"other\", \"issuer\": {\"name\": \"某局\", "
			         "\"uscc\": \"11150100MB0123456P\"}}",
			         i, e2e_days_ago(200));
			ev = e2e_event(e2e_id("issued", i), "penalty.issued", producer,
			               usccs[i % 6], "2024-05-06T10:15:00+08:00", rec);
			snprintf(topic, sizeof(topic), "credit.in.%s", producer);
		} else {
			/* a repair of penalty i - 40 (nm-tax's go to creditchina, nm-samr's to
			 * gsxt) */
			int j = i - 40;
			const char *system = j % 2 == 0 ? "creditchina" : "gsxt";
			snprintf(rec, sizeof(rec),
			         "{\"decision_no\": \"罚〔2024〕%d号\", \"repaired_on\": \"%s\", "
			         "\"repair_decision_no\": \"修〔2024〕%d号\"}",
			         j, e2e_days_ago(10), j);
			ev = e2e_event(e2e_id("repaired", j), "penalty.repaired", system,
			               usccs[j % 6], "2024-10-08T10:00:00+08:00", rec);
			snprintf(topic, sizeof(topic), "credit.in.%s", system);
		}
		e2e_produce(e, topic, usccs[i % 6], ev);
		free(ev);
	}
}

/* What the events came to: the records and the messages, without times and ids (malloc'd). */
static char *
outcome(struct e2e *e)
{
	char *records = e2e_sql_text(
	    e,
	    "SELECT string_agg(concat_ws('|', uscc, kind, list, decision_no, status, producer, "
	    "disclose_until, end_reason), ',' ORDER BY uscc, decision_no) FROM credsync.records");
	char *inbound =
	    e2e_sql_text(e, "SELECT string_agg(outcome || '=' || n, ',' ORDER BY outcome) "
	                    "FROM (SELECT outcome, count(*) n FROM credsync.inbound "
	                    "GROUP BY outcome) c");
	char *sent = e2e_sql_text(e, "SELECT string_agg(topic || '=' || n, ',' ORDER BY topic) "
	                             "FROM (SELECT topic, count(*) n FROM credsync.outbox "
	                             "WHERE sent_at IS NOT NULL GROUP BY topic) c");
	size_t counts[2] = {0, 0};
	const char *sites[] = {"credit.out.creditchina", "credit.out.gsxt"};
	for (int s = 0; s < 2; s++) {
		/* all the messages recorded as sent: a first one alone lets a loaded machine cut
		 * the read short, while a partition is still being reset to its beginning */
		char *q = fmt("SELECT count(*) FROM credsync.outbox WHERE topic = '%s' "
		              "AND sent_at IS NOT NULL",
		              sites[s]);
		long long want = e2e_sql_int(e, q);
		free(q);
		json_t *msgs =
		    e2e_read_topic(e, sites[s], want > 0 ? (size_t)want : 1, e2e_ms(10000));
		counts[s] = json_array_size(msgs);
		json_decref(msgs);
	}
	char *out = fmt("records: %s\ninbound: %s\nsent: %s\nkafka: %zu %zu\n", records, inbound,
	                sent, counts[0], counts[1]);
	free(records);
	free(inbound);
	free(sent);
	return out;
}

/* Small batches and outbox rounds, three apply workers: many transactions, side by side. */
#define SMALL "batch.max_events = 5\noutbox.batch = 7\napply.workers = 3\n"

/* The events through one credsyncd, direct or through PgBouncer; returns outcome(). */
static char *
run(bool pooled)
{
	static struct e2e e;
	char *through = NULL, *out;

	e = (struct e2e){0};
	e.extra_config = pooled ? SMALL "pg.pooling = transaction\n" : SMALL;
	e2e_start(&e);
	if (pooled) {
		/* Every statement must name its schema or run where the store set search_path:
		 * the default "$user" would otherwise find schema credsync for user credsync. */
		char *alter = fmt("ALTER DATABASE %s SET search_path = public",
		                  conninfo_get(e.conninfo, "dbname"));
		PGconn *conn = PQconnectdb(e.conninfo);
		PGresult *res = PQexec(conn, alter);
		cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		free(alter);
		through = bouncer_start(&e);
		e.daemon_conninfo = through;

		/* No schema yet: a configuration error, said once with its fix, not retried. */
		char *conf = write_conf(&e, "pooled.conf", through, "transaction"), *log = NULL;
		char *daemon = bin("credsyncd");
		const char *argv[] = {daemon, "-c", conf, NULL};
		int rc = e2e_run(&log, argv, true);
		cr_expect_eq(rc, 1, "credsyncd without migrations through the pooler exited %d",
		             rc);
		cr_expect(strstr(log, "pg.pooling = transaction cannot apply them") != NULL &&
		              strstr(log, "--migrate-only") != NULL,
		          "no reason and fix in: %s", log);
		free(log);

		/* credsyncd --migrate-only through a direct connection, as deploy/README.md says */
		char *direct = write_conf(&e, "direct.conf", e.conninfo, "session");
		const char *margv[] = {daemon, "-c", direct, "--migrate-only", NULL};
		rc = e2e_run(&log, margv, true);
		cr_assert_eq(rc, 0, "--migrate-only: %s", log);
		free(log);

		/* pg.pooling = session through it (what every version before had): found out at
		 * start and stopped with the fix, instead of retrying every batch forever */
		char *session = write_conf(&e, "session.conf", through, "session");
		const char *sargv[] = {daemon, "-c", session, NULL};
		rc = e2e_run(&log, sargv, true);
		cr_expect_eq(
		    rc, 1, "credsyncd with pg.pooling = session through the pooler exited %d", rc);
		cr_expect(strstr(log, "goes through a transaction pooler") != NULL &&
		              strstr(log, "set pg.pooling = transaction") != NULL,
		          "no reason and fix in: %s", log);
		free(log);
		free(session);
		free(direct);
		free(conf);
		free(daemon);
	}
	e2e_daemon_start(&e, 0);
	send_events(&e);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.inbound", EVENTS, WAIT_MS),
	          "not every event applied (log %s)", e2e_daemon_log(&e, 0));
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS),
	          "not every message published (log %s)", e2e_daemon_log(&e, 0));
	out = outcome(&e);

	if (pooled) {
		/* the publisher held the lease, the one kind of lock that outlives a transaction */
		cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.leases "
		                             "WHERE name = 'outbox' AND expires_at > now()"),
		             1);
		/* credsyncctl through the pooler too */
		char *conf = write_conf(&e, "ctl.conf", through, "transaction"), *text = NULL;
		char *ctl = bin("credsyncctl");
		const char *sargv[] = {ctl, "status", "-c", conf, NULL};
		int rc = e2e_run(&text, sargv, true);
		cr_expect_eq(rc, 0, "credsyncctl status through the pooler: %s", text);
		free(text);
		free(conf);
		free(ctl);
	}
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0, "credsyncd did not stop cleanly");
	if (pooled)
		/* a clean stop gives the lease up: another instance need not wait for its end */
		cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.leases "
		                             "WHERE name = 'outbox' AND expires_at > now()"),
		             0);
	bouncer_stop();
	e2e_stop(&e);
	free(through);
	return out;
}

Test(pooler, transaction_pooling_gives_the_direct_result, .timeout = 300)
{
	char *direct = run(false);
	char *pooled = run(true);

	cr_expect(strstr(direct, "inbound: applied=") != NULL, "direct: %s", direct);
	cr_expect_str_eq(pooled, direct, "through PgBouncer:\n%s\ndirect:\n%s", pooled, direct);
	free(direct);
	free(pooled);
}
