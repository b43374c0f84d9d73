/* store_batch: one consumed batch in one transaction: subject locks and reads in one round
 * trip, then every write with the fenced offsets and COMMIT in another; and the expiry scan. */
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
	"ended_on - date '1970-01-01' AS ended_on, repair_decision_no"

static const struct sq_stmt lock_stmt = {STMT_LOCK_SUBJECT, "credsync_lock_subject",
                                         "SELECT pg_advisory_xact_lock($1::integer, $2::integer)",
                                         2};

static const struct sq_stmt get_stmt = {
    STMT_RECORD_GET, "credsync_record_get",
    "SELECT " RECORD_COLUMNS " FROM credsync.records "
    "WHERE uscc = $1 AND kind = $2 AND list = $3 AND decision_no = $4",
    4};

static const struct sq_stmt seen_stmt = {STMT_EVENT_SEEN, "credsync_event_seen",
                                         "SELECT 1 FROM credsync.inbound WHERE event_id = $1::uuid "
                                         "AND outcome IN ('applied', 'stale', 'noop')",
                                         1};

static const struct sq_stmt cas_stmt = {STMT_OFFSET_CAS, "credsync_offset_cas",
                                        "SELECT credsync.offset_cas($1, $2, $3, $4, $5, $6)", 6};

static const struct sq_stmt inbound_stmt = {
    STMT_INBOUND_PUT, "credsync_inbound_put",
    "INSERT INTO credsync.inbound (topic, partition, \"offset\", event_id, producer, uscc, "
    "kafka_ts, outcome, reason, detail, payload) VALUES ($1, $2, $3, $4::uuid, $5, $6, "
    "timestamptz 'epoch' + $7::bigint * interval '1 millisecond', $8, $9, $10, $11::bytea) "
    "ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
    11};

static const struct sq_stmt record_stmt = {
    STMT_RECORD_PUT, "credsync_record_put",
    "INSERT INTO credsync.records (uscc, kind, list, decision_no, status, added, producer, "
    "subject_name, added_at, add_event_id, decided_on, categories, field, has_fine, fine_fen, "
    "severity, light, channel, repairable_from, disclose_until, end_reason, ended_at, "
    "ended_by, end_event_id, ended_on, repair_decision_no) VALUES ($1, $2, $3, $4, $5, $6, "
    "$7, $8, to_timestamp($9::bigint), $10::uuid, date '1970-01-01' + $11::integer, "
    "$12::text[], $13, $14, $15, $16, $17, $18, date '1970-01-01' + $19::integer, "
    "date '1970-01-01' + $20::integer, $21, to_timestamp($22::bigint), $23, $24::uuid, "
    "date '1970-01-01' + $25::integer, $26) "
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
    "updated_at = now()",
    26};

static const struct sq_stmt obligation_stmt = {
    STMT_OBLIGATION_PUT, "credsync_obligation_put",
    "INSERT INTO credsync.obligations (id, site, type, reason, kind, uscc, list, decision_no, "
    "producer, subject_name, disclose_until, repairable_from, rec_system, rec_decision_no, "
    "rec_repair_decision_no, rec_repaired_on, source_event_id, received_at, due_date) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "date '1970-01-01' + $11::integer, date '1970-01-01' + $12::integer, $13, $14, $15, "
    "date '1970-01-01' + $16::integer, $17::uuid, to_timestamp($18::bigint), "
    "date '1970-01-01' + $19::integer) ON CONFLICT (id) DO NOTHING",
    19};

static const struct sq_stmt outbox_stmt = {
    STMT_OUTBOX_PUT, "credsync_outbox_put",
    "INSERT INTO credsync.outbox (id, topic, key, payload) VALUES ($1::uuid, $2, $3, $4) "
    "ON CONFLICT (id) DO NOTHING",
    4};

static const struct sq_stmt ack_stmt = {STMT_ACK, "credsync_ack",
                                        "UPDATE credsync.obligations SET acked_at = now(), "
                                        "ack_done_at = to_timestamp($3::bigint) "
                                        "WHERE id = $1::uuid AND site = $2 AND acked_at IS NULL",
                                        3};

/* --- enum names ------------------------------------------------------------------------ */

static int
kind_parse(const char *s)
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
	int status, field, severity, channel, end_reason;

	if (PQnfields(res) != 22) {
		snprintf(err, errsz, "records: %d columns, expected 22", PQnfields(res));
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
	               errsz) < 0)
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
	return 0;
}

/* --- opening a batch ------------------------------------------------------------------- */

enum { TAG_LOCK, TAG_RECORD, TAG_SEEN };
#define TAG(kind, i) ((int)(i)*4 + (kind))

struct begin_ctx {
	const struct record_key *keys;
	struct record *recs;
	bool *found;
	bool *seen;
};

static int
begin_result(void *ctx, int tag, const PGresult *res, char *err, size_t errsz)
{
	struct begin_ctx *c = ctx;
	size_t i = (size_t)tag / 4;

	if (tag < 0)
		return 0;
	switch (tag % 4) {
	case TAG_RECORD:
		if (PQntuples(res) == 0)
			return 0;
		c->found[i] = true;
		if (record_from_row(res, 0, &c->recs[i], err, errsz) < 0) {
			size_t n = strlen(err);

			snprintf(err + n, errsz - n, " (record \"%s\" of %s)",
			         c->keys[i].decision_no, c->keys[i].uscc);
			return -1;
		}
		return 0;
	case TAG_SEEN:
		c->seen[i] = PQntuples(res) > 0;
		return 0;
	default:
		return 0;
	}
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
	struct begin_ctx ctx = {keys, ret_recs, ret_found, ret_seen};
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
	for (size_t i = 0; i < n_locks; i++) {
		sq_params_reset(&p);
		sq_p_i64(&p, half_i32(locks[i], true));
		sq_p_i64(&p, half_i32(locks[i], false));
		sq_pipe_stmt(st, &lock_stmt, &p, TAG(TAG_LOCK, i));
	}
	for (size_t i = 0; i < n_keys; i++) {
		sq_params_reset(&p);
		sq_p_text(&p, keys[i].uscc);
		sq_p_text(&p, record_kind_name(keys[i].kind));
		sq_p_text(&p, keys[i].list);
		sq_p_text(&p, keys[i].decision_no);
		sq_pipe_stmt(st, &get_stmt, &p, TAG(TAG_RECORD, i));
	}
	for (size_t i = 0; i < n_ids; i++) {
		if (!sq_uuid_valid(event_ids[i]))
			continue;
		sq_params_reset(&p);
		sq_p_text(&p, event_ids[i]);
		sq_pipe_stmt(st, &seen_stmt, &p, TAG(TAG_SEEN, i));
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

static int
put_record(store *st, struct sq_params *p, const struct record *r, char *err, size_t errsz)
{
	char cats[CAT_COUNT * 32 + 3];

	if (categories_format(r->categories, cats, sizeof cats) < 0) {
		snprintf(err, errsz, "record \"%s\" of %s has unknown category bits %#x",
		         r->key.decision_no, r->key.uscc, r->categories);
		return -1;
	}
	sq_params_reset(p);
	sq_p_text(p, r->key.uscc);
	sq_p_text(p, record_kind_name(r->key.kind));
	sq_p_text(p, r->key.list);
	sq_p_text(p, r->key.decision_no);
	sq_p_text(p, rec_status_name(r->status));
	sq_p_bool(p, r->added);
	sq_p_text(p, r->producer);
	sq_p_text(p, r->subject_name);
	sq_p_secs_or_null(p, r->added_at);
	sq_p_uuid(p, r->add_event_id);
	sq_p_date(p, r->decided_on);
	sq_p_text(p, cats);
	sq_p_text(p, field_name(r->field));
	sq_p_bool(p, r->has_fine);
	sq_p_i64(p, r->fine_fen);
	sq_p_text(p, r->severity != SEV_NONE ? severity_name(r->severity) : NULL);
	sq_p_bool(p, r->light);
	sq_p_text(p, site_name(r->channel));
	sq_p_date(p, r->repairable_from);
	sq_p_date(p, r->disclose_until);
	sq_p_text(p, r->end_reason != TD_NONE ? takedown_reason_name(r->end_reason) : NULL);
	sq_p_secs_or_null(p, r->ended_at);
	sq_p_text(p, r->ended_by);
	sq_p_uuid(p, r->end_event_id);
	sq_p_date(p, r->ended_on);
	sq_p_text(p, r->repair_decision_no);
	sq_pipe_stmt(st, &record_stmt, p, -1);
	return 0;
}

static void
put_obligation(store *st, struct sq_params *p, const struct obligation *ob)
{
	bool mr = ob->type == OUT_MUTUAL_RECOGNITION;

	sq_params_reset(p);
	sq_p_text(p, ob->id);
	sq_p_text(p, site_name(ob->site));
	sq_p_text(p, out_type_name(ob->type));
	sq_p_text(p, ob->reason != TD_NONE ? takedown_reason_name(ob->reason) : NULL);
	sq_p_text(p, record_kind_name(ob->key.kind));
	sq_p_text(p, ob->key.uscc);
	sq_p_text(p, ob->key.list);
	sq_p_text(p, ob->key.decision_no);
	sq_p_text(p, ob->producer);
	sq_p_text(p, ob->subject_name);
	sq_p_date(p, ob->disclose_until);
	sq_p_date(p, ob->repairable_from);
	sq_p_text(p, mr ? site_name(ob->rec_system) : NULL);
	sq_p_text_or_null(p, mr ? ob->rec_decision_no : NULL);
	sq_p_text_or_null(p, mr ? ob->rec_repair_decision_no : NULL);
	sq_p_date(p, mr ? ob->rec_repaired_on : DATE_NONE);
	sq_p_uuid(p, ob->source_event_id);
	sq_p_i64(p, ob->received_at);
	sq_p_date(p, ob->due_date);
	sq_pipe_stmt(st, &obligation_stmt, p, -1);
}

static int
put_inbound(store *st, struct sq_params *p, const struct store_inbound *in)
{
	sq_params_reset(p);
	sq_p_text(p, in->topic);
	sq_p_i64(p, in->partition);
	sq_p_i64(p, in->offset);
	sq_p_uuid(p, in->event_id);
	if (sq_p_text_clean(p, in->producer) < 0 || sq_p_text_clean(p, in->uscc) < 0)
		return -1;
	if (in->kafka_ts_ms >= 0)
		sq_p_i64(p, in->kafka_ts_ms);
	else
		sq_p_text(p, NULL);
	sq_p_text(p, in->outcome);
	if (sq_p_text_clean(p, in->reason) < 0 || sq_p_text_clean(p, in->detail) < 0)
		return -1;
	sq_p_bytes(p, in->payload, in->payload_len);
	sq_pipe_stmt(st, &inbound_stmt, p, -1);
	return 0;
}

static int
put_outrow(store *st, struct sq_params *p, const struct store_outrow *o)
{
	sq_params_reset(p);
	sq_p_text(p, o->id);
	if (sq_p_text_clean(p, o->topic) < 0 ||
	    sq_p_text_clean(p, o->key != NULL ? o->key : "") < 0 ||
	    sq_p_text_clean(p, o->payload) < 0)
		return -1;
	sq_pipe_stmt(st, &outbox_stmt, p, -1);
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
	for (size_t i = 0; i < b->n_offsets; i++) {
		sq_params_reset(&p);
		sq_p_text(&p, b->grp);
		sq_p_text(&p, b->member);
		sq_p_text(&p, tps[i]->topic);
		sq_p_i64(&p, tps[i]->partition);
		sq_p_i64(&p, tps[i]->epoch);
		sq_p_i64(&p, tps[i]->offset);
		sq_pipe_stmt(st, &cas_stmt, &p, -1);
	}
	for (size_t i = 0; i < b->n_in; i++)
		if (put_inbound(st, &p, &b->in[i]) < 0)
			goto oom;
	for (size_t i = 0; i < b->n_recs; i++)
		if (put_record(st, &p, &b->recs[i], ebuf, sizeof ebuf) < 0)
			goto bad_row;
	for (size_t i = 0; i < b->n_obl; i++)
		put_obligation(st, &p, &b->obl[i]);
	for (size_t i = 0; i < b->n_out; i++)
		if (put_outrow(st, &p, &b->out[i]) < 0)
			goto oom;
	for (size_t i = 0; i < b->n_acks; i++) {
		if (!sq_uuid_valid(acks[i]->id))
			continue; /* no obligation has it */
		sq_params_reset(&p);
		sq_p_text(&p, acks[i]->id);
		sq_p_text(&p, site_name(acks[i]->site));
		sq_p_secs_or_null(&p, acks[i]->done_at);
		sq_pipe_stmt(st, &ack_stmt, &p, -1);
	}
	sq_pipe_sql(st, "COMMIT", -1);
	rc = sq_pipe_end(st, NULL, NULL, what, err, errsz);
	if (rc == 0) {
		st->in_tx = false;
		goto out;
	}
	rc = strcmp(st->sqlstate, "CS001") == 0 ? STORE_FENCED : -1;
	store_batch_rollback(st);
	goto out;

oom:
	snprintf(ebuf, sizeof ebuf, "out of memory");
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

/* --- expiry ---------------------------------------------------------------------------- */

int
store_expiring(store *st, cs_date today, size_t max, struct record_key *ret_keys, size_t *ret_n,
               char *err, size_t errsz)
{
	static const char what[] = "could not read expiring records";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];
	int n;

	*ret_n = 0;
	if (max == 0)
		return 0;
	sq_p_date(&p, today);
	sq_p_i64(&p, max > INT32_MAX ? INT32_MAX : (int64_t)max);
	/* 'shown' as a literal, so that the partial index records_expiry applies. */
	if (sq_exec(st, what,
	            "SELECT uscc, kind, list, decision_no FROM credsync.records "
	            "WHERE status = 'shown' AND disclose_until < date '1970-01-01' + $1::integer "
	            "ORDER BY disclose_until, uscc LIMIT $2",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n && (size_t)i < max; i++) {
		struct record_key *k = &ret_keys[i];
		int kind = kind_parse(PQgetvalue(res, i, 1));

		if (kind < 0) {
			snprintf(ebuf, sizeof ebuf, "unknown record kind \"%s\"",
			         PQgetvalue(res, i, 1));
			goto bad;
		}
		k->kind = (enum record_kind)kind;
		if (sq_get_str(res, i, 0, k->uscc, sizeof k->uscc, ebuf, sizeof ebuf) < 0 ||
		    sq_get_str(res, i, 2, k->list, sizeof k->list, ebuf, sizeof ebuf) < 0 ||
		    sq_get_str(res, i, 3, k->decision_no, sizeof k->decision_no, ebuf,
		               sizeof ebuf) < 0)
			goto bad;
		(*ret_n)++;
	}
	PQclear(res);
	return 0;
bad:
	snprintf(err, errsz, "%s: %s", what, ebuf);
	PQclear(res);
	*ret_n = 0;
	return -1;
}
