/* pgtest: fresh databases on the test PostgreSQL and query helpers for the db tests. */
#include "pgtest.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
pgtest_conninfo(void)
{
	const char *state = getenv("CREDSYNC_PGSTATE");
	char path[4096], buf[1024];
	size_t n;
	FILE *f;

	cr_assert(state != NULL && state[0] != '\0',
	          "CREDSYNC_PGSTATE is not set (run scripts/pg-test start DIR and point it there)");
	snprintf(path, sizeof path, "%s/conninfo", state);
	f = fopen(path, "r");
	cr_assert(f != NULL, "could not open \"%s\" (is the test PostgreSQL running?)", path);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	cr_assert(buf[0] != '\0', "\"%s\" is empty", path);
	return strdup(buf);
}

PGconn *
pgtest_connect(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);

	cr_assert(conn != NULL && PQstatus(conn) == CONNECTION_OK,
	          "could not connect to the test database: %s",
	          conn ? PQerrorMessage(conn) : "out of memory");
	return conn;
}

static PGresult *
run(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType s = PQresultStatus(res);

	cr_assert(s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK, "query failed: %s\n%s",
	          PQresultErrorMessage(res), sql);
	return res;
}

void
pgtest_exec(PGconn *conn, const char *sql)
{
	PQclear(run(conn, sql));
}

long long
pgtest_int(PGconn *conn, const char *sql)
{
	PGresult *res = run(conn, sql);
	long long v = -1;

	if (PQntuples(res) > 0)
		v = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

char *
pgtest_text(PGconn *conn, const char *sql)
{
	PGresult *res = run(conn, sql);
	char *v = NULL;

	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

char *
pgtest_fresh_db(const char *prefix)
{
	unsigned char rnd[6];
	char name[64], sql[160], *base = pgtest_conninfo(), *ret;
	size_t len;
	int fd = open("/dev/urandom", O_RDONLY);
	PGconn *conn;

	cr_assert(strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(prefix) &&
	              strlen(prefix) > 0 && strlen(prefix) < 40,
	          "bad database prefix \"%s\"", prefix);
	cr_assert(fd >= 0 && read(fd, rnd, sizeof rnd) == (ssize_t)sizeof rnd,
	          "could not read /dev/urandom");
	close(fd);
	snprintf(name, sizeof name, "%s_%02x%02x%02x%02x%02x%02x", prefix, rnd[0], rnd[1], rnd[2],
	         rnd[3], rnd[4], rnd[5]);
	/* template0: nobody is ever connected to it, so databases can be created concurrently */
	snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", name);
	conn = pgtest_connect(base);
	pgtest_exec(conn, sql);
	PQfinish(conn);
	/* a later keyword wins in a conninfo string */
	len = strlen(base) + strlen(name) + 16;
	ret = malloc(len);
	cr_assert(ret != NULL);
	snprintf(ret, len, "%s dbname=%s", base, name);
	free(base);
	return ret;
}

void
pgtest_drop_db(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char sql[160], *base, *name = NULL;
	PGconn *conn;

	if (conninfo == NULL)
		return;
	opts = PQconninfoParse(conninfo, NULL);
	cr_assert(opts != NULL, "could not parse a test conninfo");
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "dbname") == 0 && o->val != NULL)
			name = strdup(o->val);
	PQconninfoFree(opts);
	cr_assert(name != NULL &&
	              strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name),
	          "not a pgtest database");
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	base = pgtest_conninfo();
	conn = pgtest_connect(base);
	pgtest_exec(conn, sql);
	PQfinish(conn);
	free(base);
	free(name);
}
