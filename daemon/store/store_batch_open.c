/* store_batch_open: opening one consumed batch's transaction: the subjects' advisory locks,
 * the records its events touch and which of its event ids were seen, in one round trip.
 * store_batch.c writes and commits it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "store_int.h"

/* The columns of struct record, as store_batch_begin reads them back. */
#define RECORD_COLUMNS                                                                             \
	"status, added, producer, subject_name, "                                                  \
	"extract(epoch FROM added_at)::bigint AS added_at, add_event_id, "                         \
	"decided_on - date '1970-01-01' AS decided_on, categories, field, has_fine, fine_fen, "    \
	"severity, light, channel, repairable_from - date '1970-01-01' AS repairable_from, "       \
	"disclose_until - date '1970-01-01' AS disclose_until, end_reason, "                       \
	"extract(epoch FROM ended_at)::bigint AS ended_at, ended_by, end_event_id, "               \
	"ended_on - date '1970-01-01' AS ended_on, repair_decision_no, end2_reason, "              \
	"extract(epoch FROM end2_at)::bigint AS end2_at, end2_by, end2_event_id, "                 \
	"end2_on - date '1970-01-01' AS end2_on, end2_repair_decision_no"

#define RECORD_NCOLUMNS 28 /* then the ordinality column k.i */

static const struct sq_stmt lock_stmt = {
    STMT_LOCK_SUBJECT, "credsync_lock_subjects",
    "SELECT count(pg_advisory_xact_lock(h, l)) FROM unnest($1::integer[], $2::integer[]) "
    "AS k(h, l)",
    2, "44"};

static const struct sq_stmt get_stmt = {
    STMT_RECORD_GET, "credsync_records_get",
    "SELECT " RECORD_COLUMNS ", k.i FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
    "WITH ORDINALITY AS k(uscc, kind, list, decision_no, i) JOIN credsync.records r "
    "ON r.uscc = k.uscc AND r.kind = k.kind AND r.list = k.list "
    "AND r.decision_no = k.decision_no",
    4, "tttt"};

static const struct sq_stmt seen_stmt = {
    STMT_EVENT_SEEN, "credsync_events_seen",
    "SELECT k.i FROM unnest($1::uuid[]) WITH ORDINALITY AS k(id, i) JOIN credsync.inbound b "
    "ON b.event_id = k.id AND b.outcome IN ('applied', 'stale', 'noop')",
    1, "u"};

/* A category mask from its PostgreSQL text array ("{fine,warning}"). */
static int
categories_parse(const char *s, unsigned *ret)
{
	size_t len = strlen(s);

	*ret = 0;
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return -1;
	return category_mask_parse(s + 1, len - 2, ret);
}

/* --- reading records ------------------------------------------------------------------- */

static int
get_date(const PGresult *res, int row, int col, cs_date *ret, char *err, size_t errsz)
{
	int64_t v;

	if (PQgetisnull(res, row, col)) {
		*ret = DATE_NONE;
		return 0;
	}
	if (sq_get_i64(res, row, col, &v, err, errsz) < 0)
		return -1;
	if (v <= INT32_MIN || v > INT32_MAX) {
		snprintf(err, errsz, "column \"%s\" holds a date out of range", PQfname(res, col));
		return -1;
	}
	*ret = (cs_date)v;
	return 0;
}

/* An enum column: NULL gives none_value; a name parse does not know is an error. */
static int
get_enum(const PGresult *res, int row, int col, int (*parse)(const char *), int none_value,
         int *ret, char *err, size_t errsz)
{
	const char *s = PQgetvalue(res, row, col);
	int v;

	if (PQgetisnull(res, row, col)) {
		*ret = none_value;
		return 0;
	}
	v = parse(s);
	if (v < 0) {
		snprintf(err, errsz, "column \"%s\" holds the unknown name \"%s\"",
		         PQfname(res, col), s);
		return -1;
	}
	*ret = v;
	return 0;
}

static int
record_from_row(const PGresult *res, int row, struct record *r, char *err, size_t errsz)
{
	int status, field, severity, channel, end_reason, end2_reason;

	if (PQnfields(res) < RECORD_NCOLUMNS) {
		snprintf(err, errsz, "records: %d columns, expected %d", PQnfields(res),
		         RECORD_NCOLUMNS);
		return -1;
	}
	if (get_enum(res, row, 0, rec_status_parse, -1, &status, err, errsz) < 0 ||
	    sq_get_str(res, row, 2, r->producer, sizeof(r->producer), err, errsz) < 0 ||
	    sq_get_str(res, row, 3, r->subject_name, sizeof(r->subject_name), err, errsz) < 0 ||
	    sq_get_i64(res, row, 4, &r->added_at, err, errsz) < 0 ||
	    sq_get_str(res, row, 5, r->add_event_id, sizeof(r->add_event_id), err, errsz) < 0 ||
	    get_date(res, row, 6, &r->decided_on, err, errsz) < 0 ||
	    get_enum(res, row, 8, field_parse, -1, &field, err, errsz) < 0 ||
	    sq_get_i64(res, row, 10, &r->fine_fen, err, errsz) < 0 ||
	    get_enum(res, row, 11, severity_parse, SEV_NONE, &severity, err, errsz) < 0 ||
	    get_enum(res, row, 13, site_parse, -1, &channel, err, errsz) < 0 ||
	    get_date(res, row, 14, &r->repairable_from, err, errsz) < 0 ||
	    get_date(res, row, 15, &r->disclose_until, err, errsz) < 0 ||
	    get_enum(res, row, 16, takedown_reason_parse, TD_NONE, &end_reason, err, errsz) < 0 ||
	    sq_get_i64(res, row, 17, &r->ended_at, err, errsz) < 0 ||
	    sq_get_str(res, row, 18, r->ended_by, sizeof(r->ended_by), err, errsz) < 0 ||
	    sq_get_str(res, row, 19, r->end_event_id, sizeof(r->end_event_id), err, errsz) < 0 ||
	    get_date(res, row, 20, &r->ended_on, err, errsz) < 0 ||
	    sq_get_str(res, row, 21, r->repair_decision_no, sizeof(r->repair_decision_no), err,
	               errsz) < 0 ||
	    get_enum(res, row, 22, takedown_reason_parse, TD_NONE, &end2_reason, err, errsz) < 0 ||
	    sq_get_i64(res, row, 23, &r->end2_at, err, errsz) < 0 ||
	    sq_get_str(res, row, 24, r->end2_by, sizeof(r->end2_by), err, errsz) < 0 ||
	    sq_get_str(res, row, 25, r->end2_event_id, sizeof(r->end2_event_id), err, errsz) < 0 ||
	    get_date(res, row, 26, &r->end2_on, err, errsz) < 0 ||
	    sq_get_str(res, row, 27, r->end2_repair_decision_no, sizeof(r->end2_repair_decision_no),
	               err, errsz) < 0)
		return -1;
	if (categories_parse(PQgetvalue(res, row, 7), &r->categories) < 0) {
		snprintf(err, errsz, "column \"categories\" holds \"%s\", not category names",
		         PQgetvalue(res, row, 7));
		return -1;
	}
	r->status = (enum rec_status)status;
	r->added = sq_get_bool(res, row, 1);
	r->field = (enum field)field;
	r->has_fine = sq_get_bool(res, row, 9);
	r->severity = (enum severity)severity;
	r->light = sq_get_bool(res, row, 12);
	r->channel = (enum site)channel;
	r->end_reason = (enum takedown_reason)end_reason;
	r->end2_reason = (enum takedown_reason)end2_reason;
	return 0;
}

/* --- opening a batch ------------------------------------------------------------------- */

enum { TAG_LOCK, TAG_RECORD, TAG_SEEN };

struct begin_ctx {
	const struct record_key *keys;
	size_t n_keys;
	struct record *recs;
	bool *found;
	size_t n_ids;
	bool *seen;
};

/* The ordinality column k.i (1-based) of a row: the caller's index, checked. */
static int
row_index(const PGresult *res, int row, int col, size_t n, size_t *ret, char *err, size_t errsz)
{
	int64_t v;

	if (sq_get_i64(res, row, col, &v, err, errsz) < 0)
		return -1;
	if (v < 1 || (uint64_t)v > n) {
		snprintf(err, errsz, "row index %" PRId64 " out of range", v);
		return -1;
	}
	*ret = (size_t)(v - 1);
	return 0;
}

static int
begin_result(void *ctx, int tag, const PGresult *res, char *err, size_t errsz)
{
	struct begin_ctx *c = ctx;
	size_t i;

	for (int row = 0; row < PQntuples(res); row++) {
		switch (tag) {
		case TAG_RECORD:
			if (row_index(res, row, RECORD_NCOLUMNS, c->n_keys, &i, err, errsz) < 0)
				return -1;
			c->found[i] = true;
			if (record_from_row(res, row, &c->recs[i], err, errsz) < 0) {
				size_t n = strlen(err);

				snprintf(err + n, errsz - n, " (record \"%s\" of %s)",
				         c->keys[i].decision_no, c->keys[i].uscc);
				return -1;
			}
			break;
		case TAG_SEEN:
			if (row_index(res, row, 0, c->n_ids, &i, err, errsz) < 0)
				return -1;
			c->seen[i] = true;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

/* FNV-1a: a stable 64-bit lock key for a subject, the same in every instance. */
static uint64_t
subject_key(const char *uscc)
{
	return fnv1a64_str(FNV1A64_SEED, uscc);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Two's-complement int32 of the high or low half, without implementation-defined casts. */
static int64_t
half_i32(uint64_t key, bool high)
{
	uint32_t h = high ? (uint32_t)(key >> 32) : (uint32_t)key;

	return h >= UINT32_C(0x80000000) ? (int64_t)h - INT64_C(0x100000000) : (int64_t)h;
}

int
store_batch_begin(store *st, const char (*usccs)[USCC_BUF], size_t n_uscc,
                  const struct record_key *keys, size_t n_keys, struct record *ret_recs,
                  bool *ret_found, const char (*event_ids)[UUID_STRLEN], size_t n_ids,
                  bool *ret_seen, char *err, size_t errsz)
{
	static const char what[] = "could not read batch state";
	struct begin_ctx ctx = {keys, n_keys, ret_recs, ret_found, n_ids, ret_seen};
	struct sq_params p = {0};
	uint64_t *locks = NULL;
	size_t n_locks = 0;
	int rc;

	if (st->in_tx) {
		snprintf(err, errsz, "%s: a batch is already open", what);
		return -1;
	}
	for (size_t i = 0; i < n_keys; i++) {
		memset(&ret_recs[i], 0, sizeof(ret_recs[i]));
		ret_recs[i].key = keys[i];
		ret_found[i] = false;
	}
	for (size_t i = 0; i < n_ids; i++)
		ret_seen[i] = false;
	/* Locks are taken in the order of their keys, the same in every instance: two batches
	 * sharing subjects wait for each other but never deadlock. */
	if (n_uscc > 0) {
		locks = malloc(n_uscc * sizeof(*locks));
		if (locks == NULL) {
			snprintf(err, errsz, "%s: out of memory", what);
			return -1;
		}
		for (size_t i = 0; i < n_uscc; i++)
			locks[i] = subject_key(usccs[i]);
		qsort(locks, n_uscc, sizeof(*locks), u64_cmp);
		for (size_t i = 0; i < n_uscc; i++)
			if (n_locks == 0 || locks[n_locks - 1] != locks[i])
				locks[n_locks++] = locks[i];
	}
	if (sq_pipe_begin(st, what, err, errsz) < 0) {
		free(locks);
		return -1;
	}
	sq_pipe_sql(st, "BEGIN", -1);
	struct sq_arr *arr = st->arr;
	if (n_locks > 0) {
		sq_params_reset(&p);
		sq_arrs_begin(arr, lock_stmt.arrays);
		for (size_t i = 0; i < n_locks; i++) {
			sq_arr_i64(&arr[0], half_i32(locks[i], true));
			sq_arr_i64(&arr[1], half_i32(locks[i], false));
		}
		if (sq_p_arr(&p, &arr[0]) < 0 || sq_p_arr(&p, &arr[1]) < 0)
			goto oom;
		sq_pipe_stmt(st, &lock_stmt, &p, TAG_LOCK);
	}
	if (n_keys > 0) {
		sq_params_reset(&p);
		sq_arrs_begin(arr, get_stmt.arrays);
		for (size_t i = 0; i < n_keys; i++) {
			sq_arr_text(&arr[0], keys[i].uscc);
			sq_arr_text(&arr[1], record_kind_name(keys[i].kind));
			sq_arr_text(&arr[2], keys[i].list);
			sq_arr_text(&arr[3], keys[i].decision_no);
		}
		for (int c = 0; c < 4; c++)
			if (sq_p_arr(&p, &arr[c]) < 0)
				goto oom;
		sq_pipe_stmt(st, &get_stmt, &p, TAG_RECORD);
	}
	if (n_ids > 0) {
		sq_params_reset(&p);
		sq_arrs_begin(arr, seen_stmt.arrays);
		for (size_t i = 0; i < n_ids; i++)
			sq_arr_uuid(&arr[0], event_ids[i]); /* not a UUID: NULL, never seen */
		if (sq_p_arr(&p, &arr[0]) < 0)
			goto oom;
		sq_pipe_stmt(st, &seen_stmt, &p, TAG_SEEN);
	}
	rc = sq_pipe_end(st, begin_result, &ctx, what, err, errsz);
	sq_params_reset(&p);
	free(locks);
	if (rc < 0) {
		rc = store_conflict(st) ? STORE_CONFLICT : -1;
		store_batch_rollback(st);
		return rc;
	}
	st->in_tx = true;
	return 0;
oom:
	snprintf(err, errsz, "%s: out of memory", what);
	free(locks);
	/* The queued commands are abandoned with the connection: nothing was done. */
	sq_drop(st, false);
	return -1;
}

void
store_batch_rollback(store *st)
{
	char ignore[128], state[sizeof(st->sqlstate)], msg[sizeof(st->sqlmsg)];

	sq_apps_clear(st);
	if (st->conn == NULL)
		return;
	/* The failure that led here stays what store_sqlstate reports, not the ROLLBACK's. */
	memcpy(state, st->sqlstate, sizeof(state));
	memcpy(msg, st->sqlmsg, sizeof(msg));
	/* Also after a failed pipeline, whose transaction is open but aborted. */
	if (sq_exec(st, "could not roll back", "ROLLBACK", NULL, PGRES_COMMAND_OK, NULL,
	            st->timeout_ms, ignore, sizeof(ignore)) < 0 &&
	    st->conn != NULL)
		sq_drop(st, false); /* it must not carry the next batch */
	memcpy(st->sqlstate, state, sizeof(state));
	memcpy(st->sqlmsg, msg, sizeof(msg));
	st->in_tx = false;
}
