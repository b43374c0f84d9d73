/* store_outbox: the publisher's side of the outbox: one publisher at a time (a session
 * advisory lock), unsent messages in seq order from the publish cursor (the view
 * credsync.outbox: obligations and outbox_rows, 005_messages.sql and 007_publish_cursor.sql),
 * marking them sent; and
 * the backlog of obligations not acknowledged. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "store_int.h"

int
store_outbox_lock(store *st, bool *ret_got, char *err, size_t errsz)
{
	static const char what[] = "could not take the outbox lock";
	struct sq_params p = {0};
	PGresult *res;

	*ret_got = false;
	if (sq_need_conn(st, what, err, errsz) < 0)
		return -1;
	if (st->txpool)
		return sq_lease_take(st, ret_got, err, errsz); /* store_lease.c */
	if (st->outbox_locked) {
		/* session locks stack: taking it twice would need two unlocks */
		*ret_got = true;
		return 0;
	}
	sq_p_i64(&p, SQ_LOCK_OUTBOX);
	if (sq_exec(st, what, "SELECT pg_try_advisory_lock($1::bigint)", &p, PGRES_TUPLES_OK, &res,
	            st->timeout_ms, err, errsz) < 0)
		return -1;
	st->outbox_locked = PQntuples(res) == 1 && sq_get_bool(res, 0, 0);
	*ret_got = st->outbox_locked;
	PQclear(res);
	return 0;
}

static int
need_lock(store *st, const char *what, char *err, size_t errsz)
{
	if (sq_need_conn(st, what, err, errsz) < 0)
		return -1;
	if (!st->outbox_locked) {
		snprintf(err, errsz, "%s: this session does not hold the outbox lock", what);
		return -1;
	}
	return st->txpool ? sq_lease_keep(st, what, err, errsz) : 0;
}

static char *
dup_value(const PGresult *res, int row, int col)
{
	int len = PQgetlength(res, row, col);
	char *s = malloc((size_t)len + 1);

	if (s != NULL) {
		memcpy(s, PQgetvalue(res, row, col), (size_t)len);
		s[len] = '\0';
	}
	return s;
}

/* "{1,2,3}", a bigint[] literal (malloc'd), or NULL when out of memory. */
static char *
seq_list(const int64_t *seqs, size_t n)
{
	char *list = malloc(n * 21 + 3), *o;

	if (list == NULL)
		return NULL;
	o = list;
	*o++ = '{';
	for (size_t i = 0; i < n; i++)
		o += snprintf(o, 22, "%s%" PRId64, i > 0 ? "," : "", seqs[i]);
	*o++ = '}';
	*o = '\0';
	return list;
}

int
store_outbox_fetch(store *st, int64_t after_seq, int limit, struct outbox_row **ret, size_t *ret_n,
                   char *err, size_t errsz)
{
	return store_outbox_fetch_except(st, after_seq, NULL, 0, limit, ret, ret_n, err, errsz);
}

int
store_outbox_fetch_except(store *st, int64_t after_seq, const int64_t *except, size_t n_except,
                          int limit, struct outbox_row **ret, size_t *ret_n, char *err,
                          size_t errsz)
{
	static const char what[] = "could not read the outbox";
	struct sq_params p = {0};
	struct outbox_row *rows = NULL;
	PGresult *res;
	char ebuf[200];
	int n;

	*ret = NULL;
	*ret_n = 0;
	if (need_lock(st, what, err, errsz) < 0)
		return -1;
	if (limit <= 0)
		return 0;
	char *ex = seq_list(except, n_except);
	if (ex == NULL) {
		snprintf(err, errsz, "%s: out of memory", what);
		return -1;
	}
	sq_p_i64(&p, after_seq);
	sq_p_i64(&p, limit);
	sq_p_text(&p, ex);
	/* From the publish cursor, in seq order (007_publish_cursor.sql). */
	int rc = sq_exec(st, what,
	                 "SELECT seq, id, topic, key, payload "
	                 "FROM credsync.outbox_unsent($1::bigint, $2::integer, $3::bigint[])",
	                 &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz);
	free(ex);
	if (rc < 0)
		return -1;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return 0;
	}
	rows = calloc((size_t)n, sizeof(*rows));
	if (rows == NULL) {
		snprintf(ebuf, sizeof(ebuf), "out of memory");
		goto bad;
	}
	for (int i = 0; i < n; i++) {
		struct outbox_row *r = &rows[i];

		if (sq_get_i64(res, i, 0, &r->seq, ebuf, sizeof(ebuf)) < 0 ||
		    sq_get_str(res, i, 1, r->id, sizeof(r->id), ebuf, sizeof(ebuf)) < 0 ||
		    sq_get_str(res, i, 2, r->topic, sizeof(r->topic), ebuf, sizeof(ebuf)) < 0)
			goto bad;
		r->key = dup_value(res, i, 3);
		r->payload = dup_value(res, i, 4);
		if (r->key == NULL || r->payload == NULL) {
			snprintf(ebuf, sizeof(ebuf), "out of memory");
			goto bad;
		}
	}
	PQclear(res);
	*ret = rows;
	*ret_n = (size_t)n;
	return 0;
bad:
	snprintf(err, errsz, "%s: %s", what, ebuf);
	store_outbox_free(rows, rows != NULL ? (size_t)n : 0);
	PQclear(res);
	return -1;
}

void
store_outbox_free(struct outbox_row *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(rows[i].key);
		free(rows[i].payload);
	}
	free(rows);
}

int
store_outbox_mark_sent(store *st, const int64_t *seqs, size_t n, char *err, size_t errsz)
{
	static const char what[] = "could not mark outbox rows sent";
	struct sq_params p = {0};
	char *list;
	int rc;

	if (need_lock(st, what, err, errsz) < 0)
		return -1;
	if (n == 0)
		return 0;
	/* a bigint[] literal, one statement for all rows */
	list = seq_list(seqs, n);
	if (list == NULL) {
		snprintf(err, errsz, "%s: out of memory", what);
		return -1;
	}
	sq_p_text(&p, list);
	/* and moves the publish cursor up (007_publish_cursor.sql) */
	rc = sq_exec(st, what, "SELECT credsync.outbox_mark_sent($1::bigint[])", &p,
	             PGRES_TUPLES_OK, NULL, st->timeout_ms, err, errsz);
	free(list);
	return rc;
}

int
store_backlog(store *st, struct store_backlog *ret, char *err, size_t errsz)
{
	static const char what[] = "could not read the backlog";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];
	int64_t oldest;

	ret->unsent = ret->unacknowledged = ret->overdue = 0;
	ret->oldest_due = DATE_NONE;
	sq_p_date(&p, date_beijing(clock_now()));
	/* The reference the maintained counts (store_counts) are tested against: the unsent
	 * from every message, not from the publish cursor. */
	if (sq_exec(
	        st, what,
	        "SELECT (SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL), count(*), "
	        "count(*) FILTER (WHERE due_date < date '1970-01-01' + $1::integer), "
	        "min(due_date) - date '1970-01-01' "
	        "FROM credsync.obligations WHERE acked_at IS NULL",
	        &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	if (PQntuples(res) != 1 || sq_get_i64(res, 0, 0, &ret->unsent, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 1, &ret->unacknowledged, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 2, &ret->overdue, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 3, &oldest, ebuf, sizeof(ebuf)) < 0) {
		if (PQntuples(res) != 1)
			snprintf(ebuf, sizeof(ebuf), "no row");
		snprintf(err, errsz, "%s: %s", what, ebuf);
		PQclear(res);
		return -1;
	}
	if (!PQgetisnull(res, 0, 3))
		ret->oldest_due = (cs_date)oldest;
	PQclear(res);
	return 0;
}
