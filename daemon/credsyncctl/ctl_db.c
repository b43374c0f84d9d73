/* ctl_db: credsyncctl's PostgreSQL connection and queries. */
#include "ctl_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgutil.h"

struct ctl_db {
	PGconn *conn;
	/* pg.pooling = transaction: the settings are made in each transaction (SET LOCAL), as
	 * a session's would stay behind on a server connection the pooler gives to others */
	bool txpool;
	char setup[256];
};

ctl_db *
ctl_db_open(const config *cfg, bool read_only, char *err, size_t errsz)
{
	static const char what[] = "could not connect to the database";
	const char *conninfo = config_str(cfg, CFG_PG_CONNINFO);
	char timeout[16], setup[256];
	ctl_db *db;
	PGresult *res;

	if (conninfo == NULL || conninfo[0] == '\0') {
		pgutil_set_err(err, errsz, what, "pg.conninfo is not set");
		return NULL;
	}
	if (pgutil_check_conninfo(conninfo, err, errsz) < 0)
		return NULL;
	snprintf(timeout, sizeof(timeout), "%d", CTL_DB_CONNECT_TIMEOUT_S);
	/* Defaults come before dbname, which the connection string expands into and may
	 * override; client_encoding comes after: credsync speaks UTF-8 only. */
	const char *kw[] = {
	    "connect_timeout", "keepalives", "keepalives_idle", "application_name", "dbname",
	    "client_encoding", NULL};
	const char *val[] = {timeout, "1", "10", "credsyncctl", conninfo, "UTF8", NULL};

	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		pgutil_set_err(err, errsz, what, "out of memory");
		return NULL;
	}
	db->conn = PQconnectdbParams(kw, val, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		pgutil_set_err(err, errsz, what,
		               db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
		ctl_db_close(db);
		return NULL;
	}
	PQsetNoticeProcessor(db->conn, pgutil_quiet_notices, NULL);
	db->txpool = strcmp(config_str(cfg, CFG_PG_POOLING), "transaction") == 0;
	if (db->txpool) {
		snprintf(db->setup, sizeof(db->setup),
		         "SET LOCAL search_path = credsync, pg_catalog; "
		         "SET LOCAL statement_timeout = %d; SET LOCAL DateStyle = ISO%s",
		         CTL_DB_STATEMENT_TIMEOUT_MS,
		         read_only ? "; SET LOCAL transaction_read_only = on" : "");
		return db;
	}
	snprintf(setup, sizeof(setup),
	         "SET search_path = credsync, pg_catalog; SET statement_timeout = %d; "
	         "SET DateStyle = ISO; SET default_transaction_read_only = %s",
	         CTL_DB_STATEMENT_TIMEOUT_MS, read_only ? "on" : "off");
	res = PQexec(db->conn, setup);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pgutil_set_err(err, errsz, "could not set up the database session",
		               PQerrorMessage(db->conn));
		PQclear(res);
		ctl_db_close(db);
		return NULL;
	}
	PQclear(res);
	return db;
}

void
ctl_db_close(ctl_db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db);
}

/* Runs sql (simple protocol): NULL when it succeeded, else its failed result. */
static PGresult *
exec_failed(ctl_db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);

	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Through a transaction pooler: a statement outside a transaction runs in one of its own,
 * which makes the settings first; a BEGIN of the caller's is followed by them. Returns the
 * statement's result, or the failed result of what went wrong around it. */
static PGresult *
query_txpool(ctl_db *db, const char *sql, int nparams, const char *const *params)
{
	bool opens = strncmp(sql, "BEGIN", 5) == 0;
	bool own = PQtransactionStatus(db->conn) == PQTRANS_IDLE && !opens &&
	           strcmp(sql, "COMMIT") != 0 && strcmp(sql, "ROLLBACK") != 0;
	PGresult *res, *bad;
	ExecStatusType s;

	if (own) {
		char begin[320];

		snprintf(begin, sizeof(begin), "BEGIN; %s", db->setup);
		if ((bad = exec_failed(db, begin)) != NULL) {
			PQclear(exec_failed(db, "ROLLBACK"));
			return bad;
		}
	}
	res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	s = PQresultStatus(res);
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		if (own)
			PQclear(exec_failed(db, "ROLLBACK"));
		return res;
	}
	if ((own && (bad = exec_failed(db, "COMMIT")) != NULL) ||
	    (opens && (bad = exec_failed(db, db->setup)) != NULL)) {
		PQclear(res);
		return bad;
	}
	return res;
}

PGresult *
ctl_db_query(ctl_db *db, const char *what, const char *sql, int nparams, const char *const *params,
             char *err, size_t errsz)
{
	PGresult *res = db->txpool
	                    ? query_txpool(db, sql, nparams, params)
	                    : PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(res);

	if (res != NULL && (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK))
		return res;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "42P01") == 0)
		msg = "credsync's tables do not exist (has credsyncd run against this database?)";
	pgutil_set_err(err, errsz, what, msg != NULL ? msg : PQerrorMessage(db->conn));
	PQclear(res);
	return NULL;
}

const char *
ctl_db_str(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

bool
ctl_db_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) != 0;
}

int64_t
ctl_db_i64(const PGresult *res, int row, int col)
{
	const char *s = PQgetvalue(res, row, col);
	char *end;
	long long v;

	if (PQgetisnull(res, row, col) || s[0] == '\0')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return (int64_t)v;
}
