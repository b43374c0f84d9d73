/* test_roles: schemas/sql/roles.sql against a real server: the app role runs everything the
 * daemon does through the store API and nothing more (no DDL, no DELETE, no migration), and
 * the owner role applies migrations, whether the roles come before or after them. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"
#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

#define TIMEOUT_MS 5000
#define GROUP      "credsyncd"
#define MEMBER     "host/1/1"

static char *db;   /* this test's database, as the superuser that created it */
static PGconn *pg; /* a superuser connection to it, for checks */

/* Runs roles.sql as the superuser, as the DBA does with psql. */
static void
apply_roles(void)
{
	char path[4400];
	char *sql;

	snprintf(path, sizeof path, "%s/roles.sql", storetest_sqldir());
	sql = testlib_must_read(path);
	pgtest_exec(pg, sql);
	free(sql);
}

/* db's conninfo as another role (the test server trusts local TCP; a later keyword wins). */
static char *
as_role(const char *role)
{
	size_t len = strlen(db) + strlen(role) + 8;
	char *ret = malloc(len);

	cr_assert(ret != NULL);
	snprintf(ret, len, "%s user=%s", db, role);
	return ret;
}

static store *
open_as(const char *role)
{
	char err[512], *conninfo = as_role(role);
	store *st = store_open(conninfo, TIMEOUT_MS, err, sizeof err);

	cr_assert(st != NULL, "store_open as %s: %s", role, err);
	free(conninfo);
	return st;
}

static void
migrate_as(const char *role, const char *dir, int want)
{
	char err[512];
	store *st = open_as(role);
	int n = store_migrate(st, dir, err, sizeof err);

	store_close(st);
	if (want < 0)
		cr_assert_geq(n, 1, "store_migrate as %s: %s", role, err);
	else
		cr_assert_eq(n, want, "store_migrate as %s: %s", role, n < 0 ? err : "");
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void
setup(void)
{
	db = pgtest_fresh_db("roles");
	pg = pgtest_connect(db);
	PQsetNoticeProcessor(pg, quiet, NULL); /* roles.sql run again: "already exists" */
}

static void
teardown(void)
{
	PQfinish(pg);
	pg = NULL;
	pgtest_drop_db(db);
	free(db);
	db = NULL;
}

/* What credsyncd does with its connections, each step through the store API as role:
 * migrations (none left), a claim, a batch with its subject lock, an expiry scan, the
 * outbox, an ack, the backlog. */
static void
run_the_daemon_as(const char *role)
{
	char err[512];
	store *st = open_as(role), *pst = open_as(role);
	struct store_tp tp = {.topic = TOPIC, .partition = 0};
	struct record rec = storetest_penalty(USCC_A, "呼税罚〔2024〕12号"), got;
	struct obligation ob = storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2024, 5, 7));
	struct store_inbound in = storetest_inbound(0, EV1, "applied");
	struct store_outrow out = {OB1, "credit.out.gsxt", USCC_A, "{\"n\":1}"};
	struct store_batch b = {.in = &in,
	                        .n_in = 1,
	                        .recs = &rec,
	                        .n_recs = 1,
	                        .obl = &ob,
	                        .n_obl = 1,
	                        .out = &out,
	                        .n_out = 1,
	                        .grp = GROUP,
	                        .member = MEMBER,
	                        .offsets = &tp,
	                        .n_offsets = 1};
	struct ack ack = {OB1, SITE_GSXT, 1726300000};
	const char usccs[1][USCC_BUF] = {USCC_A};
	const char ids[1][UUID_STRLEN] = {EV1};
	struct record_key keys[8];
	struct outbox_row *rows;
	struct store_backlog bl;
	bool found, seen, locked;
	size_t n;

	cr_assert_eq(store_migrate(st, storetest_sqldir(), err, sizeof err), 0, "store_migrate: %s",
	             err);
	cr_assert_eq(store_claim(st, GROUP, MEMBER, &tp, 1, err, sizeof err), 0, "store_claim: %s",
	             err);
	cr_assert_eq(store_batch_begin(st, usccs, 1, &rec.key, 1, &got, &found, ids, 1, &seen, err,
	                               sizeof err),
	             0, "store_batch_begin: %s", err);
	cr_assert(!found && !seen);
	tp.offset = 1;
	cr_assert_eq(store_batch_commit(st, &b, err, sizeof err), 0, "store_batch_commit: %s", err);
	cr_assert_eq(store_expiring(st, testlib_ymd(2030, 1, 1), 8, keys, &n, err, sizeof err), 0,
	             "store_expiring: %s", err);
	cr_assert_eq(n, 1);

	cr_assert_eq(store_outbox_lock(pst, &locked, err, sizeof err), 0, "outbox lock: %s", err);
	cr_assert(locked);
	cr_assert_eq(store_outbox_fetch(pst, 0, 10, &rows, &n, err, sizeof err), 0, "fetch: %s",
	             err);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_outbox_mark_sent(pst, &rows[0].seq, 1, err, sizeof err), 0,
	             "mark sent: %s", err);
	store_outbox_free(rows, n);
	/* the next round's read sees all is read, and its mark moves the cursor past it */
	cr_assert_eq(store_outbox_fetch(pst, 0, 10, &rows, &n, err, sizeof err), 0, "fetch: %s",
	             err);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_outbox_mark_sent(pst, NULL, 0, err, sizeof err), 0, "mark: %s", err);

	b = (struct store_batch){.acks = &ack, .n_acks = 1};
	cr_assert_eq(store_batch_commit(st, &b, err, sizeof err), 0, "ack: %s", err);
	cr_assert_eq(store_backlog(st, &bl, err, sizeof err), 0, "store_backlog: %s", err);
	cr_assert_eq(bl.unacknowledged, 0);
	store_close(pst);
	store_close(st);

	cr_assert_eq(pgtest_int(pg, "SELECT next_offset FROM credsync.consumer_offsets"), 1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.inbound"), 1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.records"), 1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NOT "
	                            "NULL"),
	             1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.obligations WHERE sent_at IS "
	                            "NOT NULL AND acked_at IS NOT NULL"),
	             1);
}

/* Each statement, run as role, fails for want of a privilege (SQLSTATE 42501). */
static void
expect_refused(const char *role, const char *const *sqls)
{
	char *conninfo = as_role(role);
	PGconn *conn = pgtest_connect(conninfo);

	for (size_t i = 0; sqls[i] != NULL; i++) {
		PGresult *res = PQexec(conn, sqls[i]);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		cr_expect_eq(PQresultStatus(res), PGRES_FATAL_ERROR, "%s: allowed to %s", role,
		             sqls[i]);
		cr_expect_str_eq(state != NULL ? state : "", "42501", "%s: %s: %s", role, sqls[i],
		                 PQresultErrorMessage(res));
		PQclear(res);
	}
	PQfinish(conn);
	free(conninfo);
}

static const char *const app_refused[] = {
    "CREATE TABLE credsync.x (a integer)",
    "CREATE SCHEMA x",
    "CREATE FUNCTION credsync.f() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "CREATE INDEX ON credsync.inbound (producer)",
    "ALTER TABLE credsync.inbound ADD COLUMN x integer",
    "DROP TABLE credsync.inbound",
    "DROP TABLE credsync.schema_migrations",
    "DROP FUNCTION credsync.offset_cas(text, text, text, integer, bigint, bigint)",
    "DROP SCHEMA credsync CASCADE",
    "TRUNCATE credsync.outbox_rows",
    "DELETE FROM credsync.inbound",
    "DELETE FROM credsync.consumer_offsets",
    "INSERT INTO credsync.schema_migrations (version, name) VALUES (999, '999_x.sql')",
    "UPDATE credsync.schema_migrations SET name = 'x'",
    NULL,
};

Test(roles, the_app_runs_the_daemon_after_a_superuser_migrated, .init = setup, .fini = teardown)
{
	store *st = NULL;
	char err[512];

	st = store_open(db, TIMEOUT_MS, err, sizeof err);
	cr_assert(st != NULL, "%s", err);
	cr_assert_geq(store_migrate(st, storetest_sqldir(), err, sizeof err), 1, "%s", err);
	store_close(st);
	apply_roles();
	apply_roles(); /* any number of times */

	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM pg_class WHERE relnamespace = "
	                            "'credsync'::regnamespace AND relkind IN ('r', 'S') AND "
	                            "relowner <> 'credsync_owner'::regrole"),
	             0, "tables and sequences pass to credsync_owner");
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM pg_proc WHERE pronamespace = "
	                            "'credsync'::regnamespace AND proowner <> "
	                            "'credsync_owner'::regrole"),
	             0, "functions pass to credsync_owner");
	run_the_daemon_as("credsync_app");
	expect_refused("credsync_app", app_refused);
}

Test(roles, the_owner_migrates_when_the_roles_come_first, .init = setup, .fini = teardown)
{
	apply_roles();
	migrate_as("credsync_owner", storetest_sqldir(), -1);
	cr_assert_eq(pgtest_int(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = "
	                            "'credsync' AND tableowner <> 'credsync_owner'"),
	             0);
	cr_assert_geq(pgtest_int(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = "
	                             "'credsync'"),
	              6);
	/* the owner's new objects are the app's by default privileges; schema_migrations,
	 * made by roles.sql, stays read-only to it */
	run_the_daemon_as("credsync_app");
	expect_refused("credsync_app", app_refused);
}

static void
link_migrations(const char *dir)
{
	char from[4400], to[4400];
	struct dirent *de;
	DIR *d = opendir(storetest_sqldir());

	cr_assert(d != NULL, "could not open \"%s\": %s", storetest_sqldir(), strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(from, sizeof from, "%s/%s", storetest_sqldir(), de->d_name);
		snprintf(to, sizeof to, "%s/%s", dir, de->d_name);
		cr_assert_eq(symlink(from, to), 0, "symlink %s: %s", to, strerror(errno));
	}
	closedir(d);
}

static void
remove_tree(const char *dir)
{
	char path[4400];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* A new release's migration: the app cannot apply it (credsyncd says so and stops), the
 * owner can, and the app then uses what it created. */
Test(roles, a_new_migration_needs_the_owner, .init = setup, .fini = teardown)
{
	char dir[] = "/tmp/credsync-roles.XXXXXX", path[4400], err[512];
	char *conninfo;
	FILE *f;
	store *st;
	PGconn *conn;

	apply_roles();
	migrate_as("credsync_owner", storetest_sqldir(), -1);
	cr_assert(mkdtemp(dir) != NULL);
	link_migrations(dir);
	snprintf(path, sizeof path, "%s/999_extra.sql", dir);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs("CREATE TABLE credsync.extra (id bigserial PRIMARY KEY, a integer);\n", f);
	fclose(f);

	st = open_as("credsync_app");
	cr_expect_eq(store_migrate(st, dir, err, sizeof err), -1);
	cr_expect_str_eq(err, "could not apply migration \"999_extra.sql\": permission denied for "
	                      "schema credsync");
	store_close(st);
	migrate_as("credsync_owner", dir, 1);
	migrate_as("credsync_app", dir, 0);
	remove_tree(dir);

	conninfo = as_role("credsync_app");
	conn = pgtest_connect(conninfo);
	pgtest_exec(conn, "INSERT INTO credsync.extra (a) VALUES (1)");
	cr_expect_eq(pgtest_int(conn, "UPDATE credsync.extra SET a = 2 RETURNING a"), 2);
	PQfinish(conn);
	free(conninfo);
	static const char *const refused[] = {"DELETE FROM credsync.extra",
	                                      "DROP TABLE credsync.extra", NULL};
	expect_refused("credsync_app", refused);
}

/* Runs credsyncctl (from $CREDSYNC_BIN) with args; its standard output and error into
 * *ret_out (malloc'd); returns its exit status. */
static int
ctl(char **ret_out, const char *const *args)
{
	const char *dir = getenv("CREDSYNC_BIN");
	char path[4096], *argv[16];
	size_t n = 0, cap = 1 << 16, len = 0;
	int fds[2], status;
	ssize_t got;
	char *out;
	pid_t pid;

	cr_assert(dir != NULL, "CREDSYNC_BIN is not set");
	snprintf(path, sizeof path, "%s/credsyncctl", dir);
	argv[n++] = path;
	for (; args[n - 1] != NULL && n < 15; n++)
		argv[n] = (char *)(uintptr_t)args[n - 1]; /* execv does not change them */
	argv[n] = NULL;
	cr_assert(pipe(fds) == 0, "pipe: %s", strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(path, argv);
		_exit(127);
	}
	close(fds[1]);
	out = malloc(cap);
	cr_assert(out != NULL);
	while ((got = read(fds[0], out + len, cap - len - 1)) > 0) {
		len += (size_t)got;
		if (cap - len < 4096) {
			out = realloc(out, cap *= 2);
			cr_assert(out != NULL);
		}
	}
	close(fds[0]);
	out[len] = '\0';
	cr_assert(waitpid(pid, &status, 0) == pid);
	*ret_out = out;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* credsyncctl's operator commands read credsyncd's configuration and so connect as the app
 * role: each works with its rights (resend marks an outbox row unsent again). */
Test(roles, the_operator_commands_run_as_the_app, .init = setup, .fini = teardown)
{
	char conf[] = "/tmp/credsync-roles-conf.XXXXXX";
	const char *const cmds[][8] = {
	    {"status", "-c", conf, NULL},
	    {"history", "-c", conf, USCC_A, NULL},
	    {"rejects", "-c", conf, NULL},
	    {"resend", "-c", conf, OB1, NULL},
	};
	int fd;
	FILE *f;

	apply_roles();
	migrate_as("credsync_owner", storetest_sqldir(), -1);
	run_the_daemon_as("credsync_app");
	fd = mkstemp(conf);
	cr_assert(fd >= 0 && (f = fdopen(fd, "w")) != NULL, "%s: %s", conf, strerror(errno));
	/* no broker: status reports Kafka unreachable, which is not a failure */
	fprintf(f, "kafka.bootstrap.servers = 127.0.0.1:1\npg.conninfo = %s user=credsync_app\n",
	        db);
	fclose(f);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *out;
		int rc = ctl(&out, cmds[i]);

		cr_expect_eq(rc, 0, "credsyncctl %s exited %d:\n%s", cmds[i][0], rc, out);
		cr_expect_null(strstr(out, "permission denied"), "credsyncctl %s:\n%s", cmds[i][0],
		               out);
		free(out);
	}
	unlink(conf);
	cr_expect_eq(pgtest_int(pg, "SELECT count(*) FROM credsync.outbox WHERE id = '" OB1
	                            "' AND sent_at IS NULL"),
	             1, "resend marked the row unsent");
}

/* ---- end to end: credsyncd migrated by the owner, run as the app ---- */

/* Every table's DELETE and TRUNCATE, every routine's DROP, refused to role (42501), with
 * schema-level DDL: what the running daemon must never be able to do, whatever a migration
 * added. */
static void
expect_app_cannot_change_anything(PGconn *super, const char *role)
{
	static const char *const schema_ddl[] = {
	    "ALTER SCHEMA credsync RENAME TO credsync_x",
	    "ALTER SCHEMA credsync OWNER TO credsync_app",
	    "CREATE VIEW credsync.v AS SELECT 1 AS a",
	    "CREATE SEQUENCE credsync.s",
	    "CREATE TYPE credsync.t AS (a integer)",
	    "COMMENT ON SCHEMA credsync IS 'x'",
	    NULL,
	};
	PGresult *res = PQexec(super, "SELECT quote_ident(tablename) FROM pg_tables WHERE "
	                              "schemaname = 'credsync' UNION ALL SELECT "
	                              "'credsync.' || quote_ident(proname) || '(' || "
	                              "pg_get_function_identity_arguments(oid) || ')' FROM "
	                              "pg_proc WHERE pronamespace = 'credsync'::regnamespace");
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(super));
	long long tables = pgtest_int(super, "SELECT count(*) FROM pg_tables WHERE schemaname = "
	                                     "'credsync'");
	cr_assert_geq(tables, 6);
	size_t n = 0, cap = (size_t)PQntuples(res) * 5 + 1;
	char **sqls = calloc(cap, sizeof(*sqls));
	cr_assert(sqls != NULL);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		/* each statement: before, the name, after */
		static const char *const on_table[][2] = {
		    {"DELETE FROM credsync.", ""},
		    {"TRUNCATE credsync.", ""},
		    {"DROP TABLE credsync.", ""},
		    {"ALTER TABLE credsync.", " ADD COLUMN x integer"},
		    {"ALTER TABLE credsync.", " OWNER TO credsync_app"},
		};
		static const char *const on_routine[][2] = {
		    {"DROP ROUTINE ", ""},
		    {"ALTER ROUTINE ", " OWNER TO credsync_app"},
		    {"CREATE OR REPLACE FUNCTION ", " RETURNS integer LANGUAGE sql AS 'SELECT 1'"},
		};
		const char *const(*parts)[2] = i < tables ? on_table : on_routine;
		size_t nparts = i < tables ? 5 : 3;
		for (size_t f = 0; f < nparts; f++) {
			size_t len = strlen(parts[f][0]) + strlen(name) + strlen(parts[f][1]) + 1;
			sqls[n] = malloc(len);
			cr_assert(sqls[n] != NULL);
			snprintf(sqls[n++], len, "%s%s%s", parts[f][0], name, parts[f][1]);
		}
	}
	PQclear(res);
	expect_refused(role, (const char *const *)sqls);
	expect_refused(role, schema_ddl);
	for (size_t i = 0; i < n; i++)
		free(sqls[i]);
	free(sqls);
}

/* $CREDSYNC_BIN/name (static buffer, one at a time). */
static const char *
bin_path(const char *name)
{
	static char path[4096];

	cr_assert(getenv("CREDSYNC_BIN") != NULL, "CREDSYNC_BIN is not set");
	snprintf(path, sizeof path, "%s/%s", getenv("CREDSYNC_BIN"), name);
	return path;
}

/* A penalty a few months old (still disclosed), as nm-tax publishes it. */
static void
send_penalty(struct e2e *e)
{
	char rec[512], day[16];
	time_t t = time(NULL) - 100 * 86400;
	struct tm tm;
	cr_assert(gmtime_r(&t, &tm) != NULL && strftime(day, sizeof day, "%Y-%m-%d", &tm) > 0);
	snprintf(rec, sizeof rec,
	         "{\"decision_no\": \"呼税罚〔2026〕7号\", \"decided_on\": \"%s\", \"categories\": "
	         "[\"fine\"], \"fine_yuan\": \"200000.00\", \"field\": \"other\", \"issuer\": "
	         "{\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         day);
	char *ev = e2e_event(e2e_id("roles", 1), "penalty.issued", "nm-tax", "91150102MA0N123408",
	                     "2026-05-06T10:15:00+08:00", rec);
	e2e_produce(e, "credit.in.nm-tax", "91150102MA0N123408", ev);
	free(ev);
}

/* The deployment the README describes: roles.sql by the DBA, credsyncd --migrate-only as
 * credsync_owner, then credsyncd as credsync_app, which does its whole job with every one of
 * its sessions as that role, and which can change neither the schema nor the history. */
Test(roles, credsyncd_migrated_by_the_owner_runs_as_the_app, .timeout = 240, .fini = e2e_cleanup)
{
	static struct e2e e;
	char cfg[4400], *out, *super_conninfo, *sql;
	PGconn *super;
	FILE *f;

	e = (struct e2e){0};
	e2e_start(&e);
	super_conninfo = e.conninfo;
	db = super_conninfo; /* for as_role and expect_refused */
	super = pgtest_connect(super_conninfo);
	PQsetNoticeProcessor(super, quiet, NULL);
	snprintf(cfg, sizeof cfg, "%s/roles.sql", storetest_sqldir());
	sql = testlib_must_read(cfg);
	pgtest_exec(super, sql);
	free(sql);

	/* the app cannot migrate: credsyncd as the app refuses to start on an empty schema */
	snprintf(cfg, sizeof cfg, "%s/app.conf", e.dir);
	f = fopen(cfg, "w");
	cr_assert(f != NULL);
	fprintf(f, "kafka.bootstrap.servers = %s\npg.conninfo = %s user=credsync_app\n",
	        e.bootstrap, super_conninfo);
	fclose(f);
	const char *app_argv[] = {bin_path("credsyncd"), "-c", cfg, "--migrate-only", NULL};
	cr_expect_eq(e2e_run(&out, app_argv, true), 1, "%s", out);
	cr_expect(strstr(out, "permission denied") != NULL, "%s", out);
	free(out);

	snprintf(cfg, sizeof cfg, "%s/owner.conf", e.dir);
	f = fopen(cfg, "w");
	cr_assert(f != NULL);
	fprintf(f, "kafka.bootstrap.servers = %s\npg.conninfo = %s user=credsync_owner\n",
	        e.bootstrap, super_conninfo);
	fclose(f);
	const char *owner_argv[] = {bin_path("credsyncd"), "-c", cfg, "--migrate-only", NULL};
	cr_assert_eq(e2e_run(&out, owner_argv, true), 0, "%s", out);
	cr_expect(strstr(out, "msg=migrated applied=") != NULL, "%s", out);
	cr_expect(strstr(out, "applied=0") == NULL, "%s", out);
	free(out);
	cr_assert_eq(e2e_run(&out, owner_argv, true), 0, "%s", out);
	cr_expect(strstr(out, "msg=migrated applied=0") != NULL, "again, nothing: %s", out);
	free(out);

	/* the daemon, as the app; the harness's checks read as the app too */
	size_t len = strlen(super_conninfo) + 32;
	e.conninfo = malloc(len);
	cr_assert(e.conninfo != NULL);
	snprintf(e.conninfo, len, "%s user=credsync_app", super_conninfo);
	e2e_daemon_start(&e, 0);
	send_penalty(&e);
	cr_expect(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                       "'applied'",
	                       1, 60000));
	cr_expect(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NOT NULL",
	                       2, 60000),
	          "published to both sites");
	/* the harness's own sessions as the app come and go: wait for only the daemon's: claims,
	 * publisher, periodic jobs, and one per apply worker (apply.workers = 0: one per core) */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long long want = 3 + (cores > 0 ? cores : 1);
	long long sessions = -1;
	for (time_t until = time(NULL) + e2e_ms(20000) / 1000; time(NULL) < until;) {
		sessions =
		    pgtest_int(super, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
		                      "current_database() AND usename = 'credsync_app'");
		if (sessions == want)
			break;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	cr_expect_eq(sessions, want,
	             "the daemon's sessions (claims, publisher, periodic jobs, %ld apply workers), "
	             "as credsync_app",
	             cores);
	cr_expect_eq(pgtest_int(super, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
	                               "current_database() AND pid <> pg_backend_pid() AND "
	                               "backend_type = 'client backend' AND usename <> "
	                               "'credsync_app'"),
	             0, "no session of another role");
	expect_app_cannot_change_anything(super, "credsync_app");
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);
	cr_expect_eq(pgtest_int(super, "SELECT count(*) FROM credsync.inbound"), 1,
	             "the refused statements changed nothing");

	PQfinish(super);
	free(e.conninfo);
	e.conninfo = super_conninfo; /* dropped as the superuser that made it */
	db = NULL;
	e2e_stop(&e);
}
