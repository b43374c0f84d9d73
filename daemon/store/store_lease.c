/* store_lease: the publisher's outbox lease for connections through a transaction pooler
 * (STORE_POOLING_TRANSACTION), where a session advisory lock would stay behind on a pooled
 * server connection: a row of credsync.leases (009_leases.sql) that names its holder and
 * expires unless renewed. */
#include <stdio.h>

#include "clock.h"
#include "pgutil.h"
#include "store_int.h"

/* Takes the lease when it is free, expired or already this store's, and pushes its end
 * STORE_LEASE_MS past the server's now; a row comes back only then. */
static const char take_sql[] =
    "INSERT INTO credsync.leases AS l (name, owner, expires_at) "
    "VALUES ('outbox', $1, now() + $2::bigint * interval '1 millisecond') "
    "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at "
    "WHERE l.owner = EXCLUDED.owner OR l.expires_at < now() RETURNING 1";

int
sq_lease_take(store *st, bool *ret_got, char *err, size_t errsz)
{
	static const char what[] = "could not take the outbox lease";
	struct sq_params p = {0};
	PGresult *res;

	*ret_got = false;
	sq_p_text(&p, st->lease_owner);
	sq_p_i64(&p, STORE_LEASE_MS);
	if (sq_exec(st, what, take_sql, &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	st->outbox_locked = PQntuples(res) == 1;
	/* renewed well before it ends, so that a slow round trip or two do not lose it */
	if (st->outbox_locked)
		st->lease_renew_at = clock_mono_ms() + STORE_LEASE_MS / 3;
	*ret_got = st->outbox_locked;
	PQclear(res);
	return 0;
}

int
sq_lease_keep(store *st, const char *what, char *err, size_t errsz)
{
	bool got;

	if (clock_mono_ms() < st->lease_renew_at)
		return 0;
	if (sq_lease_take(st, &got, err, errsz) < 0)
		return -1;
	if (!got) {
		/* it expired and another instance holds it now: the rows in flight are its */
		pgutil_set_err(err, errsz, what, "the outbox lease passed to another instance");
		return -1;
	}
	return 0;
}

void
sq_lease_release(store *st)
{
	struct sq_params p = {0};
	char ignore[256];

	if (!st->txpool || !st->outbox_locked || st->conn == NULL || st->in_tx)
		return;
	sq_p_text(&p, st->lease_owner);
	(void)sq_exec(st, "could not give up the outbox lease",
	              "UPDATE credsync.leases SET expires_at = now() "
	              "WHERE name = 'outbox' AND owner = $1",
	              &p, PGRES_COMMAND_OK, NULL, st->timeout_ms, ignore, sizeof(ignore));
	st->outbox_locked = false;
}
