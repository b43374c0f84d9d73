/* store_outbox: the publisher's side of the outbox: one publisher at a time (a session
 * advisory lock), unsent messages in seq order from the publish cursor (the view
 * credsync.outbox: obligation_rows and outbox_rows, 005_messages.sql, 007_publish_cursor.sql
 * and 013_write_once.sql), marking them sent by moving the cursor; and
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
	if (!st->outbox_locked) {
		/* whoever held it since may have moved the cursor */
		st->n_seen = 0;
		st->read_through = st->cursor_low = -1;
		st->fence_x = 0;
	}
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

/* The most messages read and delivered that the store keeps above read_through: about 20
 * windows of the default outbox.batch. Beyond, marks go on the rows (a delivery that keeps
 * failing, or a transaction holding an old id, keeps read_through down). */
#define SEEN_MAX 10000

static int
cmp_seq(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int
cmp_seen(const void *a, const void *b)
{
	return cmp_seq(&((const struct sq_seen *)a)->seq, &((const struct sq_seen *)b)->seq);
}

static struct sq_seen *
seen_find(store *st, int64_t seq)
{
	struct sq_seen key = {.seq = seq};
	return st->n_seen > 0 ? bsearch(&key, st->seen, st->n_seen, sizeof(key), cmp_seen) : NULL;
}

/* Keeps the entries keep() is true for. */
static void
seen_filter(store *st, bool (*keep)(const store *, const struct sq_seen *))
{
	size_t k = 0;
	for (size_t i = 0; i < st->n_seen; i++)
		if (keep(st, &st->seen[i]))
			st->seen[k++] = st->seen[i];
	st->n_seen = k;
}

/* Delivered at or below read_through: no read returns it again, nothing to remember. */
static bool
seen_needed(const store *st, const struct sq_seen *e)
{
	return !e->sent || e->seq > st->read_through;
}

/* A message read, not delivered and no longer in flight (except, ascending) failed: read
 * again by its seq. The messages delivered since are not read again. */
static void
seen_note_failed(store *st, const int64_t *except, size_t n_except)
{
	for (size_t i = 0; i < st->n_seen; i++) {
		struct sq_seen *e = &st->seen[i];
		if (!e->sent && (n_except == 0 || bsearch(&e->seq, except, n_except,
		                                          sizeof(*except), cmp_seq) == NULL))
			e->failed = true;
	}
}

int
store_outbox_fetch(store *st, int64_t after_seq, int limit, struct outbox_row **ret, size_t *ret_n,
                   char *err, size_t errsz)
{
	return store_outbox_fetch_except(st, after_seq, NULL, 0, limit, ret, ret_n, err, errsz);
}

/* What outbox_read says besides its rows (013_write_once.sql). */
struct read_meta {
	int64_t start;
	bool passed;                /* the store's fence passed */
	int64_t fence_seq, fence_x; /* a new fence; fence_x 0: none */
};

/* After a read of every message from 0 (rows ascending, n of them, limit asked for): how far
 * every message has been read, and the fence for the next read. */
static void
read_advance(store *st, const struct read_meta *m, const struct outbox_row *rows, int n, int limit)
{
	if (st->read_through < 0)
		st->read_through = m->start; /* the cursor: everything below it is sent */
	if (st->cursor_low < 0)
		st->cursor_low = m->start;
	if (m->passed) {
		/* Every message up to fence_seq is committed and visible to this read, or never
		 * will be: read now, or before (in seen, or below read_through). Unless the
		 * limit cut the read short. */
		int64_t reach = st->fence_seq;
		if (n == limit && n > 0 && rows[n - 1].seq < reach)
			reach = rows[n - 1].seq;
		if (reach > st->read_through)
			st->read_through = reach;
		st->fence_x = 0;
	}
	if (m->fence_x != 0) {
		st->fence_seq = m->fence_seq;
		st->fence_x = m->fence_x;
	}
	/* The seqs read one after another above read_through leave no message unread below the
	 * last of them: read through it without waiting for a fence. The fence passes only once
	 * the transactions open when it was taken have ended, and until then every read went
	 * over the rows in flight again: 186,816 index entries for 63,025 rows in the profile
	 * run (issue 13). A gap (a transaction still open, a seq never used) stops the walk. */
	size_t i = 0;
	while (i < st->n_seen && st->seen[i].seq <= st->read_through)
		i++;
	for (; i < st->n_seen && st->seen[i].seq == st->read_through + 1; i++)
		st->read_through++;
}

int
store_outbox_fetch_except(store *st, int64_t after_seq, const int64_t *except, size_t n_except,
                          int limit, struct outbox_row **ret, size_t *ret_n, char *err,
                          size_t errsz)
{
	static const char what[] = "could not read the outbox";
	struct sq_params p = {0};
	struct outbox_row *rows = NULL;
	struct read_meta m = {0};
	PGresult *res;
	char ebuf[200];
	int n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (need_lock(st, what, err, errsz) < 0)
		return -1;
	if (limit <= 0)
		return 0;
	int64_t *ex = malloc((n_except + st->n_seen + 1) * sizeof(*ex));
	if (ex == NULL) {
		snprintf(err, errsz, "%s: out of memory", what);
		return -1;
	}
	if (n_except > 0) {
		memcpy(ex, except, n_except * sizeof(*ex));
		qsort(ex, n_except, sizeof(*ex), cmp_seq);
	}
	seen_note_failed(st, ex, n_except);
	/* skipped: the rows in flight and those read and delivered above read_through; read
	 * again by seq: those whose delivery failed */
	size_t n_skip = n_except, n_retry = 0;
	for (size_t i = 0; i < st->n_seen; i++)
		if (!st->seen[i].failed)
			ex[n_skip++] = st->seen[i].seq;
	char *skip = seq_list(ex, n_skip);
	for (size_t i = 0; i < st->n_seen; i++)
		if (st->seen[i].failed)
			ex[n_retry++] = st->seen[i].seq;
	char *retry = seq_list(ex, n_retry);
	free(ex);
	if (skip == NULL || retry == NULL) {
		free(skip);
		free(retry);
		snprintf(err, errsz, "%s: out of memory", what);
		return -1;
	}
	if (st->read_through >= 0)
		sq_p_i64(&p, st->read_through);
	else
		sq_p_text(&p, NULL);
	sq_p_i64(&p, after_seq);
	sq_p_i64(&p, limit);
	sq_p_text(&p, skip);
	sq_p_text(&p, retry);
	if (st->fence_x != 0) {
		sq_p_i64(&p, st->fence_seq);
		sq_p_i64(&p, st->fence_x);
	} else {
		sq_p_text(&p, NULL);
		sq_p_text(&p, NULL);
	}
	int rc = sq_exec(st, what,
	                 "SELECT seq, id, topic, key, payload, start, passed, fence_seq, fence_x "
	                 "FROM credsync.outbox_read($1::bigint, $2::bigint, $3::integer, "
	                 "$4::bigint[], $5::bigint[], $6::bigint, $7::bigint)",
	                 &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz);
	free(skip);
	free(retry);
	if (rc < 0)
		return -1;
	if (PQntuples(res) < 1) {
		snprintf(ebuf, sizeof(ebuf), "no row");
		goto bad;
	}
	m.passed = sq_get_bool(res, 0, 6);
	if (sq_get_i64(res, 0, 5, &m.start, ebuf, sizeof(ebuf)) < 0 ||
	    (!PQgetisnull(res, 0, 8) &&
	     (sq_get_i64(res, 0, 7, &m.fence_seq, ebuf, sizeof(ebuf)) < 0 ||
	      sq_get_i64(res, 0, 8, &m.fence_x, ebuf, sizeof(ebuf)) < 0)))
		goto bad;
	n = PQgetisnull(res, 0, 0) ? 0 : PQntuples(res);
	size_t need = st->n_seen + (size_t)n;
	if (need > st->cap_seen) {
		struct sq_seen *a = realloc(st->seen, need * 2 * sizeof(*a));
		if (a == NULL) {
			snprintf(ebuf, sizeof(ebuf), "out of memory");
			goto bad;
		}
		st->seen = a;
		st->cap_seen = need * 2;
	}
	if (n > 0 && (rows = calloc((size_t)n, sizeof(*rows))) == NULL) {
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
	size_t old_n = st->n_seen;
	for (int i = 0; i < n; i++) {
		struct sq_seen key = {.seq = rows[i].seq}, *e = NULL;
		if (old_n > 0) /* a retry: in seen already */
			e = bsearch(&key, st->seen, old_n, sizeof(key), cmp_seen);
		if (e != NULL)
			e->failed = false;
		else
			st->seen[st->n_seen++] =
			    (struct sq_seen){.seq = rows[i].seq, .resent = rows[i].seq <= m.start};
	}
	if (st->n_seen > old_n)
		qsort(st->seen, st->n_seen, sizeof(*st->seen), cmp_seen);
	if (after_seq <= 0)
		read_advance(st, &m, rows, n, limit);
	seen_filter(st, seen_needed);
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
	PGresult *res;
	char ebuf[200];
	int64_t low = -1;

	if (need_lock(st, what, err, errsz) < 0)
		return -1;
	/* Beyond SEEN_MAX, marked on their rows, which the reads then leave out. */
	bool on_rows = st->n_seen > SEEN_MAX;
	for (size_t i = 0; i < n; i++) {
		struct sq_seen *e = seen_find(st, seqs[i]);
		if (e != NULL)
			e->sent = true;
	}
	/* The cursor: up to read_through, below the first message read and not delivered. */
	if (st->read_through >= 0) {
		low = st->read_through;
		for (size_t i = 0; i < st->n_seen; i++)
			if (!st->seen[i].sent && !st->seen[i].resent) {
				if (st->seen[i].seq <= low)
					low = st->seen[i].seq - 1;
				break;
			}
	}
	if (n == 0 && low <= st->cursor_low)
		return 0;
	char *sent = seq_list(seqs, n);
	if (sent == NULL) {
		snprintf(err, errsz, "%s: out of memory", what);
		return -1;
	}
	sq_p_text(&p, sent);
	if (low >= 0)
		sq_p_i64(&p, low);
	else
		sq_p_text(&p, NULL);
	sq_p_bool(&p, on_rows);
	int rc = sq_exec(st, what,
	                 "SELECT credsync.outbox_mark_sent($1::bigint[], $2::bigint, $3::boolean)",
	                 &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz);
	free(sent);
	if (rc < 0)
		return -1;
	if (PQntuples(res) != 1 || sq_get_i64(res, 0, 0, &st->cursor_low, ebuf, sizeof(ebuf)) < 0) {
		if (PQntuples(res) != 1)
			snprintf(ebuf, sizeof(ebuf), "no row");
		snprintf(err, errsz, "%s: %s", what, ebuf);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (on_rows) /* on their rows now: the reads leave them out */
		for (size_t i = 0; i < n; i++) {
			struct sq_seen *e = seen_find(st, seqs[i]);
			if (e != NULL)
				e->seq = INT64_MIN; /* sent, at or below read_through: dropped */
		}
	seen_filter(st, seen_needed);
	return 0;
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

int
store_sent_marks_thin(store *st, char *err, size_t errsz)
{
	/* the marks of the last 10 minutes stay exact, older ones a second apart */
	return sq_exec(st, "could not thin the publish cursor's history",
	               "SELECT credsync.sent_marks_thin(interval '10 minutes')", NULL,
	               PGRES_TUPLES_OK, NULL, st->timeout_ms, err, errsz);
}
