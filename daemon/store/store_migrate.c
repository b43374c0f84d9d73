/* store_migrate: applies the numbered SQL migrations (schemas/sql/NNN_name.sql) that the
 * database has not seen yet, in order, each in its own transaction, one instance at a time. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define MIGRATION_MAX_BYTES (16 * 1024 * 1024)

struct migration {
	int version;
	char name[256];
};

static int
migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* "NNN_name.sql": the version, or -1 for a file that is not a migration. */
static int
migration_version(const char *name)
{
	size_t len = strlen(name), digits = strspn(name, "0123456789");
	long v;

	if (digits == 0 || digits > 6 || name[digits] != '_' || len < digits + 5 ||
	    strcmp(name + len - 4, ".sql") != 0)
		return -1;
	v = strtol(name, NULL, 10);
	return (int)v;
}

static int
list_migrations(const char *dir, struct migration **ret, size_t *ret_n, char *err, size_t errsz)
{
	struct migration *m = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		snprintf(err, errsz, "could not open migration directory \"%s\": %s", dir,
		         strerror(errno));
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		int v = migration_version(de->d_name);

		if (v < 0)
			continue;
		if (strlen(de->d_name) >= sizeof(m->name)) {
			snprintf(err, errsz, "migration file name \"%s\" is too long", de->d_name);
			goto fail;
		}
		if (n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 16;
			struct migration *nm = realloc(m, ncap * sizeof(*m));

			if (nm == NULL) {
				snprintf(err, errsz, "could not list migrations: out of memory");
				goto fail;
			}
			m = nm;
			cap = ncap;
		}
		m[n].version = v;
		snprintf(m[n].name, sizeof(m[n].name), "%s", de->d_name);
		n++;
	}
	if (errno != 0) {
		snprintf(err, errsz, "could not read migration directory \"%s\": %s", dir,
		         strerror(errno));
		goto fail;
	}
	closedir(d);
	if (n == 0) {
		snprintf(err, errsz, "no migrations (NNN_name.sql) in \"%s\"", dir);
		free(m);
		return -1;
	}
	qsort(m, n, sizeof(*m), migration_cmp);
	for (size_t i = 1; i < n; i++) {
		if (m[i].version == m[i - 1].version) {
			snprintf(err, errsz, "migrations \"%s\" and \"%s\" have the same number",
			         m[i - 1].name, m[i].name);
			free(m);
			return -1;
		}
	}
	*ret = m;
	*ret_n = n;
	return 0;
fail:
	closedir(d);
	free(m);
	return -1;
}

/* Reads a migration into a malloc'd NUL-terminated string. */
static char *
read_sql(const char *dir, const char *name, char *err, size_t errsz)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(err, errsz, "migration path \"%s/%s\" is too long", dir, name);
		return NULL;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errsz, "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			char *nb;

			cap = cap != 0 ? cap * 2 : 16384;
			nb = cap <= MIGRATION_MAX_BYTES ? realloc(buf, cap + 1) : NULL;
			if (nb == NULL) {
				snprintf(err, errsz, "could not read \"%s\": %s", path,
				         cap > MIGRATION_MAX_BYTES ? "file too large"
				                                   : "out of memory");
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		snprintf(err, errsz, "could not read \"%s\": %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errsz, "could not read \"%s\": it contains a NUL byte", path);
		free(buf);
		return NULL;
	}
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

static int
apply_one(store *st, const char *sqldir, const struct migration *m, char *err, size_t errsz)
{
	char what[320], ebuf[256];
	struct sq_params p = {0};
	char *sql;
	int rc = -1;

	snprintf(what, sizeof(what), "could not apply migration \"%s\"", m->name);
	sql = read_sql(sqldir, m->name, err, errsz);
	if (sql == NULL)
		return -1;
	sq_p_i64(&p, m->version);
	sq_p_text(&p, m->name);
	if (sq_exec(st, what, "BEGIN; SET LOCAL statement_timeout = 0", NULL, PGRES_COMMAND_OK,
	            NULL, st->timeout_ms, err, errsz) < 0)
		goto out;
	if (sq_exec(st, what, sql, NULL, PGRES_COMMAND_OK, NULL, STORE_MIGRATE_TIMEOUT_MS, err,
	            errsz) < 0 ||
	    sq_exec(st, what,
	            "INSERT INTO credsync.schema_migrations (version, name) VALUES ($1, $2)", &p,
	            PGRES_COMMAND_OK, NULL, st->timeout_ms, err, errsz) < 0 ||
	    sq_exec(st, what, "COMMIT", NULL, PGRES_COMMAND_OK, NULL, STORE_MIGRATE_TIMEOUT_MS, err,
	            errsz) < 0) {
		if (st->conn != NULL)
			(void)sq_exec(st, what, "ROLLBACK", NULL, PGRES_COMMAND_OK, NULL,
			              st->timeout_ms, ebuf, sizeof(ebuf));
		goto out;
	}
	rc = 0;
out:
	sq_params_reset(&p);
	free(sql);
	return rc;
}

/* Through a transaction pooler: the migration lock is a session's, which the pooler cannot
 * keep, so nothing is applied here; the schema must be complete already. */
static int
check_only(store *st, const struct migration *m, size_t n, char *err, size_t errsz)
{
	static const char what[] = "could not migrate the database";
	PGresult *res = NULL;
	size_t missing = 0;
	const char *first = NULL;
	char ebuf[256];

	if (sq_exec(st, what, "SELECT version FROM credsync.schema_migrations", NULL,
	            PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0) {
		if (strcmp(st->sqlstate, "42P01") != 0 && strcmp(st->sqlstate, "3F000") != 0)
			return -1;
		res = NULL; /* no schema yet: every migration is missing */
	}
	for (size_t i = 0; i < n; i++) {
		bool done = false;

		for (int r = 0; res != NULL && r < PQntuples(res) && !done; r++) {
			int64_t v;

			if (sq_get_i64(res, r, 0, &v, ebuf, sizeof(ebuf)) < 0) {
				snprintf(err, errsz, "%s: %s", what, ebuf);
				PQclear(res);
				return -1;
			}
			done = v == m[i].version;
		}
		if (!done && missing++ == 0)
			first = m[i].name;
	}
	PQclear(res);
	if (missing == 0)
		return 0;
	snprintf(err, errsz,
	         "%s: %zu migration(s) not applied, from \"%s\", and pg.pooling = transaction "
	         "cannot apply them (their lock is held by a session, which a transaction pooler "
	         "does not keep): run credsyncd --migrate-only with a pg.conninfo that reaches "
	         "PostgreSQL directly (pg.pooling = session), then start again",
	         what, missing, first);
	return -1;
}

int
store_migrate(store *st, const char *sqldir, char *err, size_t errsz)
{
	static const char what[] = "could not migrate the database";
	struct migration *m = NULL;
	PGresult *res = NULL;
	char sql[256], ebuf[256];
	size_t n = 0;
	int applied = 0;
	int wait_ms =
	    st->timeout_ms > STORE_MIGRATE_TIMEOUT_MS ? st->timeout_ms : STORE_MIGRATE_TIMEOUT_MS;

	if (st->in_tx) {
		snprintf(err, errsz, "%s: a batch is open", what);
		return -1;
	}
	if (list_migrations(sqldir, &m, &n, err, errsz) < 0)
		return -1;
	if (st->txpool) {
		int rc = check_only(st, m, n, err, errsz);

		free(m);
		return rc;
	}
	/* Another instance may be migrating: wait for it as long as a migration may take. The
	 * lock is the session's, so it outlives this transaction and dies with a lost
	 * connection. */
	snprintf(sql, sizeof(sql),
	         "BEGIN; SET LOCAL statement_timeout = 0; SELECT pg_advisory_lock(%" PRId64
	         "); COMMIT",
	         SQ_LOCK_MIGRATE);
	if (sq_exec(st, what, sql, NULL, PGRES_COMMAND_OK, NULL, wait_ms, err, errsz) < 0) {
		free(m);
		return -1;
	}
	/* Each is created only when missing: CREATE ... IF NOT EXISTS still needs the right to
	 * create, which a role that only runs the daemon (schemas/sql/roles.sql) lacks. */
	if (sq_exec(st, what,
	            "DO $$BEGIN "
	            "IF to_regnamespace('credsync') IS NULL THEN CREATE SCHEMA credsync; END IF; "
	            "IF to_regclass('credsync.schema_migrations') IS NULL THEN "
	            "CREATE TABLE credsync.schema_migrations ("
	            "version integer PRIMARY KEY, name text NOT NULL, "
	            "applied_at timestamptz NOT NULL DEFAULT now()); END IF; END$$",
	            NULL, PGRES_COMMAND_OK, NULL, st->timeout_ms, err, errsz) < 0 ||
	    sq_exec(st, what, "SELECT version FROM credsync.schema_migrations", NULL,
	            PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		bool done = false;

		for (int r = 0; r < PQntuples(res) && !done; r++) {
			int64_t v;

			if (sq_get_i64(res, r, 0, &v, ebuf, sizeof(ebuf)) < 0) {
				snprintf(err, errsz, "%s: %s", what, ebuf);
				goto fail;
			}
			done = v == m[i].version;
		}
		if (done)
			continue;
		if (apply_one(st, sqldir, &m[i], err, errsz) < 0)
			goto fail;
		applied++;
	}
	PQclear(res);
	free(m);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%" PRId64 ")", SQ_LOCK_MIGRATE);
	if (sq_exec(st, what, sql, NULL, PGRES_TUPLES_OK, NULL, st->timeout_ms, err, errsz) < 0)
		return -1;
	return applied;
fail:
	PQclear(res);
	free(m);
	if (st->conn != NULL) {
		snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%" PRId64 ")",
		         SQ_LOCK_MIGRATE);
		(void)sq_exec(st, what, sql, NULL, PGRES_TUPLES_OK, NULL, st->timeout_ms, ebuf,
		              sizeof(ebuf));
	}
	return -1;
}
