/* store_batch: one consumed batch in one transaction: subject locks and reads in one round
 * trip, then every write with the fenced offsets and COMMIT in another. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One statement per table per batch: the rows travel as arrays (unnest), which costs the
 * server far less than a prepared statement per row, even pipelined. */
static const struct sq_stmt lock_stmt = {
    STMT_LOCK_SUBJECT, "credsync_lock_subjects",
    "SELECT count(pg_advisory_xact_lock(h, l)) FROM unnest($1::integer[], $2::integer[]) "
    "AS k(h, l)",
    2};

static const struct sq_stmt get_stmt = {
    STMT_RECORD_GET, "credsync_records_get",
    "SELECT " RECORD_COLUMNS ", k.i FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
    "WITH ORDINALITY AS k(uscc, kind, list, decision_no, i) JOIN credsync.records r "
    "ON r.uscc = k.uscc AND r.kind = k.kind AND r.list = k.list "
    "AND r.decision_no = k.decision_no",
    4};

static const struct sq_stmt seen_stmt = {
    STMT_EVENT_SEEN, "credsync_events_seen",
    "SELECT k.i FROM unnest($1::uuid[]) WITH ORDINALITY AS k(id, i) JOIN credsync.inbound b "
    "ON b.event_id = k.id AND b.outcome IN ('applied', 'stale', 'noop')",
    1};

static const struct sq_stmt cas_stmt = {
    STMT_OFFSET_CAS, "credsync_offsets_cas",
    "SELECT count(credsync.offset_cas($1, $2, t, p, e, o)) "
    "FROM unnest($3::text[], $4::integer[], $5::bigint[], $6::bigint[]) AS k(t, p, e, o)",
    6};

static const struct sq_stmt inbound_stmt = {
    STMT_INBOUND_PUT, "credsync_inbound_put",
    "INSERT INTO credsync.inbound (topic, partition, \"offset\", event_id, producer, uscc, "
    "kafka_ts, outcome, reason, detail, payload) SELECT t, p, o, e, pr, u, "
    "timestamptz 'epoch' + ts * interval '1 millisecond', oc, r, d, pl "
    "FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], "
    "$7::bigint[], $8::text[], $9::text[], $10::text[], $11::bytea[]) "
    "AS k(t, p, o, e, pr, u, ts, oc, r, d, pl) "
    "ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
    11};

static const struct sq_stmt record_stmt = {
    STMT_RECORD_PUT, "credsync_records_put",
    "INSERT INTO credsync.records (uscc, kind, list, decision_no, status, added, producer, "
    "subject_name, added_at, add_event_id, decided_on, categories, field, has_fine, fine_fen, "
    "severity, light, channel, repairable_from, disclose_until, end_reason, ended_at, "
    "ended_by, end_event_id, ended_on, repair_decision_no, end2_reason, end2_at, end2_by, "
    "end2_event_id, end2_on, end2_repair_decision_no) SELECT c1, c2, c3, c4, c5, c6, "
    "c7, c8, to_timestamp(c9), c10, date '1970-01-01' + c11, c12::text[], c13, c14, c15, "
    "c16, c17, c18, date '1970-01-01' + c19, date '1970-01-01' + c20, c21, "
    "to_timestamp(c22), c23, c24, date '1970-01-01' + c25, c26, c27, to_timestamp(c28), c29, "
    "c30, date '1970-01-01' + c31, c32 "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], "
    "$7::text[], $8::text[], $9::bigint[], $10::uuid[], $11::integer[], $12::text[], "
    "$13::text[], $14::boolean[], $15::bigint[], $16::text[], $17::boolean[], $18::text[], "
    "$19::integer[], $20::integer[], $21::text[], $22::bigint[], $23::text[], $24::uuid[], "
    "$25::integer[], $26::text[], $27::text[], $28::bigint[], $29::text[], $30::uuid[], "
    "$31::integer[], $32::text[]) AS k(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, "
    "c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, "
    "c30, c31, c32) "
    "ON CONFLICT (uscc, kind, list, decision_no) DO UPDATE SET status = EXCLUDED.status, "
    "added = EXCLUDED.added, producer = EXCLUDED.producer, "
    "subject_name = EXCLUDED.subject_name, added_at = EXCLUDED.added_at, "
    "add_event_id = EXCLUDED.add_event_id, decided_on = EXCLUDED.decided_on, "
    "categories = EXCLUDED.categories, field = EXCLUDED.field, "
    "has_fine = EXCLUDED.has_fine, fine_fen = EXCLUDED.fine_fen, "
    "severity = EXCLUDED.severity, light = EXCLUDED.light, channel = EXCLUDED.channel, "
    "repairable_from = EXCLUDED.repairable_from, disclose_until = EXCLUDED.disclose_until, "
    "end_reason = EXCLUDED.end_reason, ended_at = EXCLUDED.ended_at, "
    "ended_by = EXCLUDED.ended_by, end_event_id = EXCLUDED.end_event_id, "
    "ended_on = EXCLUDED.ended_on, repair_decision_no = EXCLUDED.repair_decision_no, "
    "end2_reason = EXCLUDED.end2_reason, end2_at = EXCLUDED.end2_at, "
    "end2_by = EXCLUDED.end2_by, end2_event_id = EXCLUDED.end2_event_id, "
    "end2_on = EXCLUDED.end2_on, "
    "end2_repair_decision_no = EXCLUDED.end2_repair_decision_no, updated_at = now()",
    32};

static const struct sq_stmt obligation_stmt = {
    STMT_OBLIGATION_PUT, "credsync_obligations_put",
    "INSERT INTO credsync.obligations (id, site, type, reason, kind, uscc, list, decision_no, "
    "producer, subject_name, disclose_until, repairable_from, rec_system, rec_decision_no, "
    "rec_repair_decision_no, rec_repaired_on, source_event_id, received_at, due_date) "
    "SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, date '1970-01-01' + c11, "
    "date '1970-01-01' + c12, c13, c14, c15, date '1970-01-01' + c16, c17, to_timestamp(c18), "
    "date '1970-01-01' + c19 "
    "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::integer[], $12::integer[], "
    "$13::text[], $14::text[], $15::text[], $16::integer[], $17::uuid[], $18::bigint[], "
    "$19::integer[]) AS k(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, "
    "c16, c17, c18, c19) ON CONFLICT (id) DO NOTHING",
    19};

/* In the batch's order: seq follows it, and the publisher sends in seq order. */
static const struct sq_stmt outbox_stmt = {
    STMT_OUTBOX_PUT, "credsync_outbox_put",
    "INSERT INTO credsync.outbox (id, topic, key, payload) SELECT id, t, k, pl "
    "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY "
    "AS u(id, t, k, pl, i) ORDER BY i ON CONFLICT (id) DO NOTHING",
    4};

/* The acknowledged rows are locked in id order first (as another instance would), then the
 * first acknowledgement of each (id, site) in the batch sets them. Neither names
 * "acked_at IS NULL" as such: with statistics that say no obligation is unacknowledged
 * (after a bulk load, on a long-running instance) the planner then walked the whole partial
 * index obligations_unacked instead of the primary key (EXPLAIN: 34 ms and 53 ms -> 6 ms and
 * 22 ms per 500 acks with 50000 unacknowledged rows). */
static const struct sq_stmt ack_lock_stmt = {
    STMT_ACK_LOCK, "credsync_acks_lock",
    "SELECT count(*) FROM (SELECT 1 FROM credsync.obligations WHERE id = ANY ($1::uuid[]) "
    "ORDER BY id FOR UPDATE) l",
    1};

static const struct sq_stmt ack_stmt = {
    STMT_ACK, "credsync_acks",
    "UPDATE credsync.obligations o SET acked_at = now(), ack_done_at = to_timestamp(a.done) "
    "FROM (SELECT DISTINCT ON (id, site) id, site, done FROM unnest($1::uuid[], $2::text[], "
    "$3::bigint[]) WITH ORDINALITY AS u(id, site, done, i) ORDER BY id, site, i) a "
    "WHERE o.id = a.id AND o.site = a.site AND (o.acked_at + interval '0 s') IS NULL",
    3};

/* --- enum names ------------------------------------------------------------------------ */

int
sq_kind_parse(const char *s)
{
	static const enum record_kind kinds[] = {KIND_PENALTY, KIND_ABNORMAL, KIND_SERIOUS};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(record_kind_name(kinds[i]), s) == 0)
			return (int)kinds[i];
	return -1;
}

/* "{fine,warning}" of a category mask; -1 when a bit has no name. */
static int
categories_format(unsigned mask, char *buf, size_t bufsz)
{
	size_t o = 0;

	buf[o++] = '{';
	for (int i = 0; i < 32; i++) {
		unsigned bit = 1u << i;
		const char *name;
		int w;

		if ((mask & bit) == 0)
			continue;
		name = i < CAT_COUNT ? category_name((enum category)bit) : NULL;
		if (name == NULL)
			return -1;
		w = snprintf(buf + o, bufsz - o, "%s%s", o > 1 ? "," : "", name);
		if (w < 0 || (size_t)w >= bufsz - o)
			return -1;
		o += (size_t)w;
	}
	if (o + 2 > bufsz)
		return -1;
	buf[o++] = '}';
	buf[o] = '\0';
	return 0;
}

static int
categories_parse(const char *s, unsigned *ret)
{
	size_t len = strlen(s);
	char name[64];

	*ret = 0;
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return -1;
	for (size_t i = 1; i < len - 1;) {
		size_t n = strcspn(s + i, ",}");
		int bit;

		if (n == 0 || n >= sizeof name)
			return -1;
		memcpy(name, s + i, n);
		name[n] = '\0';
		bit = category_parse(name);
		if (bit <= 0)
			return -1;
		*ret |= (unsigned)bit;
		i += n + 1;
	}
	return 0;
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
	    sq_get_str(res, row, 2, r->producer, sizeof r->producer, err, errsz) < 0 ||
	    sq_get_str(res, row, 3, r->subject_name, sizeof r->subject_name, err, errsz) < 0 ||
	    sq_get_i64(res, row, 4, &r->added_at, err, errsz) < 0 ||
	    sq_get_str(res, row, 5, r->add_event_id, sizeof r->add_event_id, err, errsz) < 0 ||
	    get_date(res, row, 6, &r->decided_on, err, errsz) < 0 ||
	    get_enum(res, row, 8, field_parse, -1, &field, err, errsz) < 0 ||
	    sq_get_i64(res, row, 10, &r->fine_fen, err, errsz) < 0 ||
	    get_enum(res, row, 11, severity_parse, SEV_NONE, &severity, err, errsz) < 0 ||
	    get_enum(res, row, 13, site_parse, -1, &channel, err, errsz) < 0 ||
	    get_date(res, row, 14, &r->repairable_from, err, errsz) < 0 ||
	    get_date(res, row, 15, &r->disclose_until, err, errsz) < 0 ||
	    get_enum(res, row, 16, takedown_reason_parse, TD_NONE, &end_reason, err, errsz) < 0 ||
	    sq_get_i64(res, row, 17, &r->ended_at, err, errsz) < 0 ||
	    sq_get_str(res, row, 18, r->ended_by, sizeof r->ended_by, err, errsz) < 0 ||
	    sq_get_str(res, row, 19, r->end_event_id, sizeof r->end_event_id, err, errsz) < 0 ||
	    get_date(res, row, 20, &r->ended_on, err, errsz) < 0 ||
	    sq_get_str(res, row, 21, r->repair_decision_no, sizeof r->repair_decision_no, err,
	               errsz) < 0 ||
	    get_enum(res, row, 22, takedown_reason_parse, TD_NONE, &end2_reason, err, errsz) < 0 ||
	    sq_get_i64(res, row, 23, &r->end2_at, err, errsz) < 0 ||
	    sq_get_str(res, row, 24, r->end2_by, sizeof r->end2_by, err, errsz) < 0 ||
	    sq_get_str(res, row, 25, r->end2_event_id, sizeof r->end2_event_id, err, errsz) < 0 ||
	    get_date(res, row, 26, &r->end2_on, err, errsz) < 0 ||
	    sq_get_str(res, row, 27, r->end2_repair_decision_no, sizeof r->end2_repair_decision_no,
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
	uint64_t h = UINT64_C(14695981039346656037);

	for (const unsigned char *s = (const unsigned char *)uscc; *s != '\0'; s++) {
		h ^= *s;
		h *= UINT64_C(1099511628211);
	}
	return h;
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
		memset(&ret_recs[i], 0, sizeof ret_recs[i]);
		ret_recs[i].key = keys[i];
		ret_found[i] = false;
	}
	for (size_t i = 0; i < n_ids; i++)
		ret_seen[i] = false;
	/* Locks are taken in the order of their keys, the same in every instance: two batches
	 * sharing subjects wait for each other but never deadlock. */
	if (n_uscc > 0) {
		locks = malloc(n_uscc * sizeof *locks);
		if (locks == NULL) {
			snprintf(err, errsz, "%s: out of memory", what);
			return -1;
		}
		for (size_t i = 0; i < n_uscc; i++)
			locks[i] = subject_key(usccs[i]);
		qsort(locks, n_uscc, sizeof *locks, u64_cmp);
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
		sq_arr_begin(&arr[0]);
		sq_arr_begin(&arr[1]);
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
		for (int c = 0; c < 4; c++)
			sq_arr_begin(&arr[c]);
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
		sq_arr_begin(&arr[0]);
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
		store_batch_rollback(st);
		return -1;
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
	char ignore[128];

	if (st->conn == NULL)
		return;
	/* Also after a failed pipeline, whose transaction is open but aborted. */
	if (sq_exec(st, "could not roll back", "ROLLBACK", NULL, PGRES_COMMAND_OK, NULL,
	            st->timeout_ms, ignore, sizeof ignore) < 0 &&
	    st->conn != NULL)
		sq_drop(st, false); /* it must not carry the next batch */
	st->in_tx = false;
}

/* --- writing a batch ------------------------------------------------------------------- */

/* Each put_* queues one statement for all its rows (n > 0). Returns 0, or -1 with ebuf (out of
 * memory, a row the server would refuse). */

static int
bind_all(struct sq_params *p, struct sq_arr *arr, int n, char *ebuf, size_t ebufsz)
{
	sq_params_reset(p);
	for (int c = 0; c < n; c++)
		if (sq_p_arr(p, &arr[c]) < 0) {
			snprintf(ebuf, ebufsz, "out of memory");
			return -1;
		}
	return 0;
}

static int
put_records(store *st, struct sq_params *p, const struct record *recs, size_t n, char *ebuf,
            size_t ebufsz)
{
	struct sq_arr *a = st->arr;
	char cats[CAT_COUNT * 32 + 3];

	for (int c = 0; c < 32; c++)
		sq_arr_begin(&a[c]);
	for (size_t i = 0; i < n; i++) {
		const struct record *r = &recs[i];

		if (categories_format(r->categories, cats, sizeof cats) < 0) {
			snprintf(ebuf, ebufsz, "record \"%s\" of %s has unknown category bits %#x",
			         r->key.decision_no, r->key.uscc, r->categories);
			return -1;
		}
		sq_arr_text(&a[0], r->key.uscc);
		sq_arr_text(&a[1], record_kind_name(r->key.kind));
		sq_arr_text(&a[2], r->key.list);
		sq_arr_text(&a[3], r->key.decision_no);
		sq_arr_text(&a[4], rec_status_name(r->status));
		sq_arr_bool(&a[5], r->added);
		sq_arr_text(&a[6], r->producer);
		sq_arr_text(&a[7], r->subject_name);
		sq_arr_secs_or_null(&a[8], r->added_at);
		sq_arr_uuid(&a[9], r->add_event_id);
		sq_arr_date(&a[10], r->decided_on);
		sq_arr_text(&a[11], cats);
		sq_arr_text(&a[12], field_name(r->field));
		sq_arr_bool(&a[13], r->has_fine);
		sq_arr_i64(&a[14], r->fine_fen);
		sq_arr_text(&a[15], r->severity != SEV_NONE ? severity_name(r->severity) : NULL);
		sq_arr_bool(&a[16], r->light);
		sq_arr_text(&a[17], site_name(r->channel));
		sq_arr_date(&a[18], r->repairable_from);
		sq_arr_date(&a[19], r->disclose_until);
		sq_arr_text(&a[20],
		            r->end_reason != TD_NONE ? takedown_reason_name(r->end_reason) : NULL);
		sq_arr_secs_or_null(&a[21], r->ended_at);
		sq_arr_text(&a[22], r->ended_by);
		sq_arr_uuid(&a[23], r->end_event_id);
		sq_arr_date(&a[24], r->ended_on);
		sq_arr_text(&a[25], r->repair_decision_no);
		sq_arr_text(&a[26], r->end2_reason != TD_NONE ? takedown_reason_name(r->end2_reason)
		                                              : NULL);
		sq_arr_secs_or_null(&a[27], r->end2_at);
		sq_arr_text(&a[28], r->end2_by);
		sq_arr_uuid(&a[29], r->end2_event_id);
		sq_arr_date(&a[30], r->end2_on);
		sq_arr_text(&a[31], r->end2_repair_decision_no);
	}
	if (bind_all(p, a, 32, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &record_stmt, p, -1);
	return 0;
}

static int
put_obligations(store *st, struct sq_params *p, const struct obligation *obl, size_t n, char *ebuf,
                size_t ebufsz)
{
	struct sq_arr *a = st->arr;

	for (int c = 0; c < 19; c++)
		sq_arr_begin(&a[c]);
	for (size_t i = 0; i < n; i++) {
		const struct obligation *ob = &obl[i];
		bool mr = ob->type == OUT_MUTUAL_RECOGNITION;

		sq_arr_text(&a[0], ob->id);
		sq_arr_text(&a[1], site_name(ob->site));
		sq_arr_text(&a[2], out_type_name(ob->type));
		sq_arr_text(&a[3], ob->reason != TD_NONE ? takedown_reason_name(ob->reason) : NULL);
		sq_arr_text(&a[4], record_kind_name(ob->key.kind));
		sq_arr_text(&a[5], ob->key.uscc);
		sq_arr_text(&a[6], ob->key.list);
		sq_arr_text(&a[7], ob->key.decision_no);
		sq_arr_text(&a[8], ob->producer);
		sq_arr_text(&a[9], ob->subject_name);
		sq_arr_date(&a[10], ob->disclose_until);
		sq_arr_date(&a[11], ob->repairable_from);
		sq_arr_text(&a[12], mr ? site_name(ob->rec_system) : NULL);
		sq_arr_text_or_null(&a[13], mr ? ob->rec_decision_no : NULL);
		sq_arr_text_or_null(&a[14], mr ? ob->rec_repair_decision_no : NULL);
		sq_arr_date(&a[15], mr ? ob->rec_repaired_on : DATE_NONE);
		sq_arr_uuid(&a[16], ob->source_event_id);
		sq_arr_i64(&a[17], ob->received_at);
		sq_arr_date(&a[18], ob->due_date);
	}
	if (bind_all(p, a, 19, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &obligation_stmt, p, -1);
	return 0;
}

static int
put_inbound(store *st, struct sq_params *p, const struct store_inbound *in, size_t n, char *ebuf,
            size_t ebufsz)
{
	struct sq_arr *a = st->arr;

	for (int c = 0; c < 11; c++)
		sq_arr_begin(&a[c]);
	for (size_t i = 0; i < n; i++) {
		sq_arr_text(&a[0], in[i].topic);
		sq_arr_i64(&a[1], in[i].partition);
		sq_arr_i64(&a[2], in[i].offset);
		sq_arr_uuid(&a[3], in[i].event_id);
		sq_arr_text(&a[4], in[i].producer);
		sq_arr_text(&a[5], in[i].uscc);
		if (in[i].kafka_ts_ms >= 0)
			sq_arr_i64(&a[6], in[i].kafka_ts_ms);
		else
			sq_arr_null(&a[6]);
		sq_arr_text(&a[7], in[i].outcome);
		sq_arr_text(&a[8], in[i].reason);
		sq_arr_text(&a[9], in[i].detail);
		sq_arr_bytes(&a[10], in[i].payload, in[i].payload_len);
	}
	if (bind_all(p, a, 11, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &inbound_stmt, p, -1);
	return 0;
}

static int
put_outrows(store *st, struct sq_params *p, const struct store_outrow *o, size_t n, char *ebuf,
            size_t ebufsz)
{
	struct sq_arr *a = st->arr;

	for (int c = 0; c < 4; c++)
		sq_arr_begin(&a[c]);
	for (size_t i = 0; i < n; i++) {
		sq_arr_text(&a[0], o[i].id);
		sq_arr_text(&a[1], o[i].topic);
		sq_arr_text(&a[2], o[i].key != NULL ? o[i].key : "");
		sq_arr_text(&a[3], o[i].payload);
	}
	if (bind_all(p, a, 4, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &outbox_stmt, p, -1);
	return 0;
}

/* The fence: every partition's offset moves, or CS001 aborts the transaction. tps sorted. */
static int
put_offsets(store *st, struct sq_params *p, const struct store_batch *b,
            const struct store_tp *const *tps, char *ebuf, size_t ebufsz)
{
	struct sq_arr *a = st->arr;

	for (int c = 0; c < 4; c++)
		sq_arr_begin(&a[c]);
	for (size_t i = 0; i < b->n_offsets; i++) {
		sq_arr_text(&a[0], tps[i]->topic);
		sq_arr_i64(&a[1], tps[i]->partition);
		sq_arr_i64(&a[2], tps[i]->epoch);
		sq_arr_i64(&a[3], tps[i]->offset);
	}
	sq_params_reset(p);
	sq_p_text(p, b->grp);
	sq_p_text(p, b->member);
	for (int c = 0; c < 4; c++)
		if (sq_p_arr(p, &a[c]) < 0) {
			snprintf(ebuf, ebufsz, "out of memory");
			return -1;
		}
	sq_pipe_stmt(st, &cas_stmt, p, -1);
	return 0;
}

/* Acknowledgements, acks sorted by id; those whose id is no UUID match no obligation. */
static int
put_acks(store *st, struct sq_params *p, const struct ack *const *acks, size_t n, char *ebuf,
         size_t ebufsz)
{
	struct sq_arr *a = st->arr;
	size_t valid = 0;

	for (int c = 0; c < 3; c++)
		sq_arr_begin(&a[c]);
	for (size_t i = 0; i < n; i++) {
		if (!sq_uuid_valid(acks[i]->id))
			continue;
		sq_arr_text(&a[0], acks[i]->id);
		sq_arr_text(&a[1], site_name(acks[i]->site));
		sq_arr_secs_or_null(&a[2], acks[i]->done_at);
		valid++;
	}
	if (valid == 0)
		return 0;
	if (bind_all(p, a, 3, ebuf, ebufsz) < 0)
		return -1;
	struct sq_params ids = {0};
	sq_p_text(&ids, p->val[0]);
	sq_pipe_stmt(st, &ack_lock_stmt, &ids, -1);
	sq_pipe_stmt(st, &ack_stmt, p, -1);
	return 0;
}

static int
tp_ptr_cmp(const void *a, const void *b)
{
	const struct store_tp *x = *(const struct store_tp *const *)a;
	const struct store_tp *y = *(const struct store_tp *const *)b;
	int c = strcmp(x->topic, y->topic);

	if (c != 0)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

static int
ack_ptr_cmp(const void *a, const void *b)
{
	const struct ack *x = *(const struct ack *const *)a;
	const struct ack *y = *(const struct ack *const *)b;

	return strcmp(x->id, y->id);
}

/* What the server would refuse for good is refused here, with a reason naming the row:
 * the same batch is retried after an error, and must not fail the same way forever. */
static int
batch_check(const struct store_batch *b, char *err, size_t errsz)
{
	if (b->n_offsets > 0 && (b->grp == NULL || b->member == NULL)) {
		snprintf(err, errsz, "offsets without a group or member");
		return -1;
	}
	for (size_t i = 0; i < b->n_in; i++) {
		if (b->in[i].topic == NULL || b->in[i].outcome == NULL ||
		    (b->in[i].payload == NULL && b->in[i].payload_len > 0) ||
		    b->in[i].payload_len > INT32_MAX) {
			snprintf(err, errsz,
			         "inbound message %zu lacks a topic, outcome or payload", i);
			return -1;
		}
	}
	for (size_t i = 0; i < b->n_obl; i++) {
		if (!sq_uuid_valid(b->obl[i].id)) {
			snprintf(err, errsz, "obligation %zu has the invalid id \"%s\"", i,
			         b->obl[i].id);
			return -1;
		}
	}
	for (size_t i = 0; i < b->n_out; i++) {
		if (!sq_uuid_valid(b->out[i].id) || b->out[i].topic == NULL ||
		    b->out[i].payload == NULL) {
			snprintf(err, errsz,
			         "outbox row %zu lacks a topic or payload or has an invalid id", i);
			return -1;
		}
	}
	return 0;
}

int
store_batch_commit(store *st, const struct store_batch *b, char *err, size_t errsz)
{
	static const char what[] = "could not write batch";
	const struct store_tp **tps = NULL;
	const struct ack **acks = NULL;
	struct sq_params p = {0};
	char ebuf[256];
	int rc = -1;

	if (batch_check(b, ebuf, sizeof ebuf) < 0) {
		snprintf(err, errsz, "%s: %s", what, ebuf);
		goto fail;
	}
	/* Rows locked in a fixed order (offsets as in store_claim, acks by id). */
	tps = malloc((b->n_offsets + 1) * sizeof *tps);
	acks = malloc((b->n_acks + 1) * sizeof *acks);
	if (tps == NULL || acks == NULL) {
		snprintf(err, errsz, "%s: out of memory", what);
		goto fail;
	}
	for (size_t i = 0; i < b->n_offsets; i++)
		tps[i] = &b->offsets[i];
	qsort(tps, b->n_offsets, sizeof *tps, tp_ptr_cmp);
	for (size_t i = 0; i < b->n_acks; i++)
		acks[i] = &b->acks[i];
	qsort(acks, b->n_acks, sizeof *acks, ack_ptr_cmp);

	if (sq_pipe_begin(st, what, err, errsz) < 0)
		goto fail;
	if (!st->in_tx)
		sq_pipe_sql(st, "BEGIN", -1);
	/* The fence first: a batch whose partition was lost stops before writing anything. */
	if ((b->n_offsets > 0 && put_offsets(st, &p, b, tps, ebuf, sizeof ebuf) < 0) ||
	    (b->n_in > 0 && put_inbound(st, &p, b->in, b->n_in, ebuf, sizeof ebuf) < 0) ||
	    (b->n_recs > 0 && put_records(st, &p, b->recs, b->n_recs, ebuf, sizeof ebuf) < 0) ||
	    (b->n_obl > 0 && put_obligations(st, &p, b->obl, b->n_obl, ebuf, sizeof ebuf) < 0) ||
	    (b->n_out > 0 && put_outrows(st, &p, b->out, b->n_out, ebuf, sizeof ebuf) < 0) ||
	    (b->n_acks > 0 && put_acks(st, &p, acks, b->n_acks, ebuf, sizeof ebuf) < 0))
		goto bad_row;
	sq_pipe_sql(st, "COMMIT", -1);
	rc = sq_pipe_end(st, NULL, NULL, what, err, errsz);
	if (rc == 0) {
		st->in_tx = false;
		goto out;
	}
	rc = strcmp(st->sqlstate, "CS001") == 0 ? STORE_FENCED : -1;
	store_batch_rollback(st);
	goto out;

bad_row:
	snprintf(err, errsz, "%s: %s", what, ebuf);
	/* The queued commands are abandoned with the connection: nothing was committed. */
	sq_drop(st, false);
	rc = -1;
	goto out;
fail:
	store_batch_rollback(st);
	rc = -1;
out:
	sq_params_reset(&p);
	free(tps);
	free(acks);
	return rc;
}

int
store_inbound_refuse(store *st, const char *event_id, const char *reason, const char *detail,
                     struct store_refused *ret, bool *ret_found, char *err, size_t errsz)
{
	static const char what[] = "could not refuse an early end";
	struct sq_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	*ret_found = false;
	sq_p_uuid(&p, event_id);
	sq_p_text(&p, reason);
	sq_p_text(&p, detail);
	if (sq_exec(st, what,
	            "UPDATE credsync.inbound SET outcome = 'rejected', reason = $2, detail = $3"
	            " WHERE event_id = $1::uuid AND outcome = 'applied'"
	            " RETURNING topic, partition, \"offset\", payload",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out;
	}
	int64_t part;
	if (sq_get_str(res, 0, 0, ret->topic, sizeof ret->topic, err, errsz) < 0 ||
	    sq_get_i64(res, 0, 1, &part, err, errsz) < 0 ||
	    sq_get_i64(res, 0, 2, &ret->offset, err, errsz) < 0)
		goto out;
	ret->partition = (int32_t)part;
	size_t n = 0;
	unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 3), &n);
	if (bytes == NULL || (ret->payload = malloc(n + 1)) == NULL) {
		PQfreemem(bytes);
		snprintf(err, errsz, "%s: out of memory", what);
		goto out;
	}
	memcpy(ret->payload, bytes, n);
	ret->payload[n] = '\0';
	ret->payload_len = n;
	PQfreemem(bytes);
	*ret_found = true;
	rc = 0;
out:
	PQclear(res);
	sq_params_reset(&p);
	return rc;
}
