/* ctl_db: credsyncctl's PostgreSQL: one short-lived connection from a configuration file's
 * pg.conninfo, parameterised queries, and reading their fields. Blocking; for credsyncctl
 * only (credsyncd uses store.h). */
#ifndef CREDSYNC_CTL_DB_H
#define CREDSYNC_CTL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"

/* Seconds allowed to connect (unless pg.conninfo sets connect_timeout) and for a statement. */
#define CTL_DB_CONNECT_TIMEOUT_S    5
#define CTL_DB_STATEMENT_TIMEOUT_MS 30000

typedef struct ctl_db ctl_db;

/* Connects with cfg's pg.conninfo (libpq's PG* environment and ~/.pgpass apply) and sets up
 * the session: search_path credsync, pg_catalog; UTF-8; a statement timeout; read_only makes
 * every transaction read-only. Returns NULL with "could not connect to the database: reason"
 * in err; the reason never contains the connection string or its password. */
ctl_db *ctl_db_open(const config *cfg, bool read_only, char *err, size_t errsz);
void ctl_db_close(ctl_db *db); /* NULL ok */

/* Runs sql with params[0..nparams) as text ($1, $2, ...; a NULL pointer is SQL NULL).
 * Returns the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK), which the caller PQclears, or
 * NULL with "what: reason" in err. */
PGresult *ctl_db_query(ctl_db *db, const char *what, const char *sql, int nparams,
                       const char *const *params, char *err, size_t errsz);

/* Fields in text format. ctl_db_str gives "" for NULL; the string lives as long as res. */
const char *ctl_db_str(const PGresult *res, int row, int col);
bool ctl_db_null(const PGresult *res, int row, int col);
/* The integer of a field; 0 when NULL or not an integer. */
int64_t ctl_db_i64(const PGresult *res, int row, int col);

#endif
