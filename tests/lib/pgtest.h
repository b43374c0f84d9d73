/* pgtest: fresh, independent databases on the test PostgreSQL that scripts/pg-test started
 * ($CREDSYNC_PGSTATE/conninfo), and small query helpers for checking what tests wrote.
 * Every function asserts (Criterion) on failure. */
#ifndef CREDSYNC_PGTEST_H
#define CREDSYNC_PGTEST_H

#include <libpq-fe.h>

/* The server's conninfo, from $CREDSYNC_PGSTATE/conninfo (malloc'd). */
char *pgtest_conninfo(void);

/* Creates an empty database <prefix>_<random> and returns a conninfo for it (malloc'd).
 * prefix: lower-case letters, digits and '_'. */
char *pgtest_fresh_db(const char *prefix);

/* Drops the database of a conninfo returned by pgtest_fresh_db (connections to it are
 * terminated). NULL ok. */
void pgtest_drop_db(const char *conninfo);

/* A new connection (PQfinish it). */
PGconn *pgtest_connect(const char *conninfo);

/* Runs sql, which must succeed; returns the first column of the first row as an integer
 * (-1 when there is no row, 0 for NULL). */
long long pgtest_int(PGconn *conn, const char *sql);

/* Runs sql, which must succeed; the first value as text (malloc'd; NULL when there is no row
 * or the value is NULL). */
char *pgtest_text(PGconn *conn, const char *sql);

/* Runs sql, which must succeed (any number of statements, no result kept). */
void pgtest_exec(PGconn *conn, const char *sql);

#endif
