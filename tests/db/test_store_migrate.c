/* test_store_migrate: store_migrate.c: the migrations of schemas/sql apply once, under a lock when
 * two instances start together, and a failed one changes nothing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"

Test(store_migrate, migrations_apply_once, BARE)
{
	char err[512];
	int n = store_migrate(storetest_st, storetest_sqldir(), err, sizeof err);

	cr_assert_geq(n, 1, "store_migrate: %s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.schema_migrations"),
	             n);
	cr_assert_eq(store_migrate(storetest_st, storetest_sqldir(), err, sizeof err), 0,
	             "second run: %s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.schema_migrations"),
	             n);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM pg_tables WHERE schemaname = 'credsync' "
	                        "AND tablename IN ('consumer_offsets', 'inbound', 'records', "
	                        "'obligation_rows', 'outbox_rows')"),
	             5);
	/* 015_lean_indexes.sql: the subject's rows by a hash of the uscc, the unlogged pending
	 * rows by due date without the id (a batch's rows appended at the end of their day), and
	 * whether logged at risk (025_at_risk_unlogged.sql) */
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'credsync' "
	                        "AND indexdef IN ("
	                        "'CREATE INDEX obligations_uscc ON credsync.obligation_rows "
	                        "USING hash (uscc)', "
	                        "'CREATE INDEX inbound_uscc_hash ON credsync.inbound USING hash "
	                        "(uscc) WHERE (uscc IS NOT NULL)', "
	                        "'CREATE INDEX pending_unlogged_due ON credsync.pending USING "
	                        "btree (due_date, at_risk_logged) WHERE (NOT breach_logged)')"),
	             3);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'credsync' "
	                        "AND indexname IN ('obligations_record', 'inbound_uscc', "
	                        "'pending_unlogged')"),
	             0);
	/* 017_summary_index.sql: the daily summary's obligations alone, in the order it reads them;
	 * its predicate is the summary scan's condition (store_time.c) */
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'credsync' "
	                        "AND indexdef = 'CREATE INDEX obligations_summary ON "
	                        "credsync.obligation_rows USING btree (site, received_at, id) "
	                        "WHERE ((type = ''mutual_recognition''::text) OR ((type = "
	                        "''takedown''::text) AND (reason = ANY (ARRAY[''repaired''::text, "
	                        "''expired''::text, ''light_expired''::text]))))'"),
	             1);
	/* 020_received_btree.sql: the arrival time in a B-tree again, 019's BRIN index gone */
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'credsync' "
	                        "AND indexdef = 'CREATE INDEX obligations_received ON "
	                        "credsync.obligation_rows USING btree (received_at)'"),
	             1);
	cr_assert_eq(pgtest_int(storetest_pg,
	                        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'credsync' "
	                        "AND indexname = 'obligations_received_brin'"),
	             0);
}

struct racer {
	store *s;
	const char
	    *dir; /* computed before the threads start: storetest_sqldir() writes a static buffer */
	int rc;
	char err[512];
};

static void *
race_migrate(void *arg)
{
	struct racer *r = arg;

	r->rc = store_migrate(r->s, r->dir, r->err, sizeof r->err);
	return NULL;
}

Test(store_migrate, migrations_run_twice_at_once, BARE)
{
	const char *dir = storetest_sqldir();
	struct racer r[2] = {{.s = storetest_st, .dir = dir},
	                     {.s = storetest_open(storetest_db, STORETEST_TIMEOUT_MS), .dir = dir}};
	pthread_t th[2];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, race_migrate, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		cr_assert_geq(r[i].rc, 0, "instance %d: %s", i, r[i].err);
	/* one applied everything, the other waited and found nothing left */
	cr_assert(r[0].rc == 0 || r[1].rc == 0, "both applied: %d and %d", r[0].rc, r[1].rc);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.schema_migrations"),
	             r[0].rc + r[1].rc);
	store_close(r[1].s);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert(f != NULL, "could not create %s", path);
	fputs(text, f);
	fclose(f);
}

static void
remove_dir(const char *dir, const char *const *names)
{
	char path[512];

	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

Test(store_migrate, a_failed_migration_changes_nothing, BARE)
{
	static const char *const files[] = {"001_one.sql", "002_two.sql", "README", NULL};
	char dir[] = "/tmp/credsync-migrations.XXXXXX", err[512];
	store *other;

	cr_assert(mkdtemp(dir) != NULL);
	write_file(dir, "001_one.sql", "CREATE TABLE credsync.one (x integer);\n");
	write_file(dir, "002_two.sql",
	           "CREATE TABLE credsync.two (x integer);\nSELEC 1;\n"); /* a typo */
	write_file(dir, "README", "not a migration\n");

	cr_assert_eq(store_migrate(storetest_st, dir, err, sizeof err), -1);
	cr_assert(strstr(err, "could not apply migration \"002_two.sql\": syntax error") == err,
	          "err: %s", err);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.schema_migrations"),
	             1);
	cr_assert_eq(
	    pgtest_int(storetest_pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'two'"), 0);
	cr_assert_eq(
	    pgtest_int(storetest_pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'one'"), 1);

	/* the lock was released: another instance applies the fixed migration */
	write_file(dir, "002_two.sql", "CREATE TABLE credsync.two (x integer);\n");
	other = storetest_open(storetest_db, 2000);
	cr_assert_eq(store_migrate(other, dir, err, sizeof err), 1, "%s", err);
	store_close(other);
	cr_assert_eq(pgtest_int(storetest_pg, "SELECT count(*) FROM credsync.schema_migrations"),
	             2);
	remove_dir(dir, files);

	cr_assert_eq(store_migrate(storetest_st, "/nonexistent/sql", err, sizeof err), -1);
	cr_assert_str_eq(err, "could not open migration directory \"/nonexistent/sql\": No such "
	                      "file or directory");
}
