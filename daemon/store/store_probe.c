/* store_probe: telling at start whether the connections really are sessions, or go through a
 * transaction pooler that pg.pooling = session does not expect. */
#include <inttypes.h>
#include <stdio.h>

#include "pgutil.h"
#include "store_int.h"

int
store_check_sessions(store *const *sts, size_t n, char *err, size_t errsz)
{
	static const char what[] = "could not check the database sessions";
	int64_t pids[8];

	if (n > sizeof(pids) / sizeof(pids[0]))
		n = sizeof(pids) / sizeof(pids[0]);
	for (size_t i = 0; i < n; i++) {
		PGresult *res;

		if (sts[i]->txpool)
			return 0;
		if (sq_exec(sts[i], what, "SELECT pg_backend_pid()", NULL, PGRES_TUPLES_OK, &res,
		            sts[i]->timeout_ms, err, errsz) < 0)
			return -1;
		if (PQntuples(res) != 1 || sq_get_i64(res, 0, 0, &pids[i], err, errsz) < 0) {
			PQclear(res);
			pgutil_set_err(err, errsz, what, "no backend process id");
			return -1;
		}
		PQclear(res);
		/* Open sessions never share a server process: these connections are not sessions.
		 * Named statements, session settings and the publisher's session lock would then
		 * land on whichever server connection each transaction gets, and every batch fail.
		 */
		for (size_t k = 0; k < i; k++)
			if (pids[k] == pids[i]) {
				snprintf(
				    err, errsz,
				    "two of credsyncd's database connections share the server "
				    "process "
				    "%" PRId64
				    ": pg.conninfo goes through a transaction pooler (such "
				    "as PgBouncer with pool_mode = transaction), which pg.pooling "
				    "= "
				    "session does not work with: set pg.pooling = transaction (and "
				    "migrate through a direct connection), or use pool_mode = "
				    "session",
				    pids[i]);
				return -1;
			}
	}
	return 0;
}
