/* store_batch: writing and committing one consumed batch (opened by store_batch_open.c):
 * every write with the fenced offsets and COMMIT in one round trip, after a large batch's
 * COPYs (store_batch_copy.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* One statement per table per batch: the rows travel as arrays (unnest), which costs the
 * server far less than a prepared statement per row, even pipelined. */
static const struct sq_stmt cas_stmt = {
    STMT_OFFSET_CAS, "credsync_offsets_cas",
    "SELECT count(credsync.offset_cas($1, $2, t, p, e, o)) "
    "FROM unnest($3::text[], $4::integer[], $5::bigint[], $6::bigint[]) AS k(t, p, e, o)",
    6, "t488"};

static const struct sq_stmt inbound_stmt = {
    STMT_INBOUND_PUT, "credsync_inbound_put",
    "INSERT INTO credsync.inbound (topic, partition, \"offset\", event_id, producer, uscc, "
    "kafka_ts, outcome, reason, detail, payload) SELECT t, p, o, e, pr, u, "
    "timestamptz 'epoch' + ts * interval '1 millisecond', oc, r, d, pl "
    "FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], "
    "$7::bigint[], $8::text[], $9::text[], $10::text[], $11::bytea[]) "
    "AS k(t, p, o, e, pr, u, ts, oc, r, d, pl) "
    "ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
    11, "t48utt8ttty"};

static const struct sq_stmt record_stmt = {
    STMT_RECORD_PUT, "credsync_records_put",
    "INSERT INTO credsync.records (" RECORD_PUT_COLUMNS ") SELECT c1, c2, c3, c4, c5, c6, "
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
    32, "tttttbtt8u4ttb8tbt44t8tu4tt8tu4t"};

/* The obligation row is the message (005_messages.sql): those with a payload take the next seq
 * of the outbox's sequence in the order of the arrays (the batch's out rows), which is the
 * order the publisher sends them in. Each new one is pending (010_pending.sql). */
static const struct sq_stmt obligation_stmt = {
    STMT_OBLIGATION_PUT, "credsync_obligations_put",
    "WITH ins AS (INSERT INTO credsync.obligation_rows (id, site, type, reason, kind, uscc, list, "
    "decision_no, "
    "producer, subject_name, disclose_until, repairable_from, rec_system, rec_decision_no, "
    "rec_repair_decision_no, rec_repaired_on, source_event_id, received_at, due_date, topic, "
    "key, payload, seq) "
    "SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, date '1970-01-01' + c11, "
    "date '1970-01-01' + c12, c13, c14, c15, date '1970-01-01' + c16, c17, to_timestamp(c18), "
    "date '1970-01-01' + c19, c20, c21, c22, "
    "CASE WHEN c22 IS NOT NULL THEN nextval('credsync.outbox_seq_seq') END "
    "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::integer[], $12::integer[], "
    "$13::text[], $14::text[], $15::text[], $16::integer[], $17::uuid[], $18::bigint[], "
    "$19::integer[], $20::text[], $21::text[], $22::text[]) WITH ORDINALITY "
    "AS k(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, "
    "c19, c20, c21, c22, i) ORDER BY i ON CONFLICT (id) DO NOTHING RETURNING id, site, due_date) "
    "INSERT INTO credsync.pending (id, site, due_date) SELECT id, site, due_date FROM ins",
    22, "uttttttttt44ttt4u84ttt"};

/* The other messages (rejects), in the batch's order: seq follows it. */
static const struct sq_stmt outbox_stmt = {
    STMT_OUTBOX_PUT, "credsync_outbox_put",
    "INSERT INTO credsync.outbox_rows (id, topic, key, payload) SELECT id, t, k, pl "
    "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY "
    "AS u(id, t, k, pl, i) ORDER BY i ON CONFLICT (id) DO NOTHING",
    4, "uttt"};

/* Acknowledgements (016_acks_log.sql, 021_ack_positions.sql): the first of each (id, site) deletes
 * the obligation's pending row and is appended to acks with its message; the others are inbound
 * rows. */
static const struct sq_stmt ack_stmt = {
    STMT_ACK, "credsync_acks",
    "SELECT credsync.acknowledge($1::uuid[], $2::text[], $3::bigint[], $4::text[], "
    "$5::integer[], $6::bigint[], $7::bigint[], $8::bytea[])",
    8, "ut8t488y"};

/* --- category masks as PostgreSQL text arrays --- */

/* "{fine,warning}" of a category mask; -1 when a bit has no name. */
static int
categories_format(unsigned mask, char *buf, size_t bufsz)
{
	int n;

	if (bufsz < 3)
		return -1;
	buf[0] = '{';
	n = category_mask_format(mask, buf + 1, bufsz - 2);
	if (n < 0)
		return -1;
	buf[n + 1] = '}';
	buf[n + 2] = '\0';
	return 0;
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

/* The batch's records, or with copied those stored before it only (the others were COPYed). */
static int
put_records(store *st, struct sq_params *p, const struct store_batch *b, bool copied, char *ebuf,
            size_t ebufsz)
{
	struct sq_arr *a = st->arr;
	char cats[CAT_COUNT * 32 + 3];
	size_t m = 0;

	sq_arrs_begin(a, record_stmt.arrays);
	for (size_t i = 0; i < b->n_recs; i++) {
		const struct record *r = &b->recs[i];

		if (copied && !b->rec_stored[i])
			continue;
		m++;
		if (categories_format(r->categories, cats, sizeof(cats)) < 0) {
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
	if (m == 0)
		return 0;
	if (bind_all(p, a, 32, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &record_stmt, p, -1);
	return 0;
}

static int
obl_ptr_cmp(const void *a, const void *b)
{
	const struct obligation *x = *(const struct obligation *const *)a;
	const struct obligation *y = *(const struct obligation *const *)b;

	return strcmp(x->id, y->id);
}

/* Orders the obligations as their messages are in b->out (those without one last), pairs
 * each with its message, and marks in ret_is_obl which out rows are obligations' (the others
 * go to outbox_rows). ret has n_obl entries. Returns 0 or -1 (out of memory). */
static int
pair_messages(const struct store_batch *b, struct obl_msg *ret, bool *ret_is_obl)
{
	const struct obligation **by_id = malloc((b->n_obl + 1) * sizeof(*by_id));
	bool *paired = calloc(b->n_obl + 1, sizeof(*paired));
	size_t n = 0;

	if (by_id == NULL || paired == NULL) {
		free(by_id);
		free(paired);
		return -1;
	}
	for (size_t i = 0; i < b->n_obl; i++)
		by_id[i] = &b->obl[i];
	qsort(by_id, b->n_obl, sizeof(*by_id), obl_ptr_cmp);
	for (size_t j = 0; j < b->n_out; j++) {
		struct obligation key;
		const struct obligation *kp = &key, **hit;

		ret_is_obl[j] = false;
		snprintf(key.id, sizeof(key.id), "%s", b->out[j].id);
		hit = b->n_obl > 0 ? bsearch(&kp, by_id, b->n_obl, sizeof(*by_id), obl_ptr_cmp)
		                   : NULL;
		if (hit == NULL || paired[hit - by_id])
			continue;
		paired[hit - by_id] = true;
		ret_is_obl[j] = true;
		ret[n++] = (struct obl_msg){*hit, &b->out[j]};
	}
	for (size_t i = 0; i < b->n_obl; i++)
		if (!paired[i])
			ret[n++] = (struct obl_msg){by_id[i], NULL};
	free(by_id);
	free(paired);
	return 0;
}

static int
put_obligations(store *st, struct sq_params *p, const struct obl_msg *obl, size_t n, char *ebuf,
                size_t ebufsz)
{
	struct sq_arr *a = st->arr;

	sq_arrs_begin(a, obligation_stmt.arrays);
	for (size_t i = 0; i < n; i++) {
		const struct obligation *ob = obl[i].ob;
		const struct store_outrow *o = obl[i].out;
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
		sq_arr_text(&a[19], o != NULL ? o->topic : NULL);
		sq_arr_text(&a[20], o != NULL ? (o->key != NULL ? o->key : "") : NULL);
		sq_arr_text(&a[21], o != NULL ? o->payload : NULL);
	}
	if (bind_all(p, a, 22, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &obligation_stmt, p, -1);
	return 0;
}

static int
put_inbound(store *st, struct sq_params *p, const struct store_inbound *in, size_t n, char *ebuf,
            size_t ebufsz)
{
	struct sq_arr *a = st->arr;

	sq_arrs_begin(a, inbound_stmt.arrays);
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

/* The out rows that are no obligation's message (is_obl[i] false), if any. */
static int
put_outrows(store *st, struct sq_params *p, const struct store_outrow *o, const bool *is_obl,
            size_t n, char *ebuf, size_t ebufsz)
{
	struct sq_arr *a = st->arr;
	size_t m = 0;

	sq_arrs_begin(a, outbox_stmt.arrays);
	for (size_t i = 0; i < n; i++) {
		if (is_obl[i])
			continue;
		sq_arr_text(&a[0], o[i].id);
		sq_arr_text(&a[1], o[i].topic);
		sq_arr_text(&a[2], o[i].key != NULL ? o[i].key : "");
		sq_arr_text(&a[3], o[i].payload);
		m++;
	}
	if (m == 0)
		return 0;
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

	sq_arrs_begin(a, cas_stmt.arrays);
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

/* Acknowledgements, acks sorted by id (pointers into b->acks), each with its message when
 * b->ack_in; those whose id is no UUID match no obligation (NULL: kept as inbound rows). */
static int
put_acks(store *st, struct sq_params *p, const struct store_batch *b, const struct ack *const *acks,
         char *ebuf, size_t ebufsz)
{
	struct sq_arr *a = st->arr;
	size_t kept = 0;

	sq_arrs_begin(a, ack_stmt.arrays);
	for (size_t i = 0; i < b->n_acks; i++) {
		const struct store_inbound *in = b->ack_in ? &b->ack_in[acks[i] - b->acks] : NULL;
		bool valid = sq_uuid_valid(acks[i]->id);

		if (!valid && in == NULL)
			continue;
		sq_arr_uuid(&a[0], acks[i]->id); /* not a UUID: NULL */
		sq_arr_text(&a[1], site_name(acks[i]->site));
		sq_arr_secs_or_null(&a[2], acks[i]->done_at);
		sq_arr_text(&a[3], in ? in->topic : NULL);
		if (in != NULL) {
			sq_arr_i64(&a[4], in->partition);
			sq_arr_i64(&a[5], in->offset);
		} else {
			sq_arr_null(&a[4]);
			sq_arr_null(&a[5]);
		}
		if (in != NULL && in->kafka_ts_ms >= 0)
			sq_arr_i64(&a[6], in->kafka_ts_ms);
		else
			sq_arr_null(&a[6]);
		if (in != NULL)
			sq_arr_bytes(&a[7], in->payload, in->payload_len);
		else
			sq_arr_null(&a[7]);
		kept++;
	}
	if (kept == 0)
		return 0;
	if (bind_all(p, a, 8, ebuf, ebufsz) < 0)
		return -1;
	sq_pipe_stmt(st, &ack_stmt, p, -1);
	return 0;
}

static int
ack_ptr_cmp(const void *a, const void *b)
{
	const struct ack *x = *(const struct ack *const *)a;
	const struct ack *y = *(const struct ack *const *)b;
	int c = strcmp(x->id, y->id);

	/* Acks of one id stay in the batch's order (they point into one array): the statement
	 * keeps the first one's done_at, and qsort need not be stable. */
	return c != 0 ? c : (x > y) - (x < y);
}

static bool
any_new(const bool *stored, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!stored[i])
			return true;
	return false;
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
	for (size_t i = 0; b->ack_in != NULL && i < b->n_acks; i++) {
		if (b->ack_in[i].topic == NULL ||
		    (b->ack_in[i].payload == NULL && b->ack_in[i].payload_len > 0)) {
			snprintf(err, errsz, "acknowledgement %zu lacks a topic or payload", i);
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
	struct obl_msg *obl = NULL;
	bool *is_obl = NULL;
	struct sq_params p = {0};
	char ebuf[256];
	int rc = -1;

	if (batch_check(b, ebuf, sizeof(ebuf)) < 0) {
		snprintf(err, errsz, "%s: %s", what, ebuf);
		goto fail;
	}
	/* Rows locked in a fixed order (offsets as in store_claim, acks by id). */
	tps = malloc((b->n_offsets + 1) * sizeof(*tps));
	acks = malloc((b->n_acks + 1) * sizeof(*acks));
	obl = malloc((b->n_obl + 1) * sizeof(*obl));
	is_obl = malloc((b->n_out + 1) * sizeof(*is_obl));
	if (tps == NULL || acks == NULL || obl == NULL || is_obl == NULL ||
	    pair_messages(b, obl, is_obl) < 0) {
		snprintf(err, errsz, "%s: out of memory", what);
		goto fail;
	}
	for (size_t i = 0; i < b->n_offsets; i++)
		tps[i] = &b->offsets[i];
	qsort(tps, b->n_offsets, sizeof(*tps), store_tp_ptr_cmp);
	for (size_t i = 0; i < b->n_acks; i++)
		acks[i] = &b->acks[i];
	qsort(acks, b->n_acks, sizeof(*acks), ack_ptr_cmp);

	/* not through a transaction pooler, whose batches keep the arrays */
	bool copy_in = b->n_in >= COPY_MIN_ROWS && !st->txpool;
	bool copy_recs = copy_in && b->rec_stored != NULL && any_new(b->rec_stored, b->n_recs);
	/* pair_messages put the obligations without a message (no seq) last */
	bool copy_obl = copy_in && b->n_obl > 0 && obl[b->n_obl - 1].out != NULL;
	if (copy_in) {
		int c = sq_batch_copy(st, b, obl, copy_recs, copy_obl, err, errsz);
		if (c < 0) {
			rc = store_conflict(st) ? STORE_CONFLICT : -1;
			store_batch_rollback(st);
			goto out;
		}
		if (c == 0)
			copy_in = copy_recs = copy_obl = false;
	}
	if (sq_pipe_begin(st, what, err, errsz) < 0)
		goto fail;
	if (!st->in_tx)
		sq_pipe_sql(st, "BEGIN", -1);
	/* The fence first: a batch whose partition was lost stops before writing anything more
	 * (its copies above roll back with it). */
	if ((b->n_offsets > 0 && put_offsets(st, &p, b, tps, ebuf, sizeof(ebuf)) < 0) ||
	    (b->n_in > 0 && !copy_in &&
	     put_inbound(st, &p, b->in, b->n_in, ebuf, sizeof(ebuf)) < 0) ||
	    (b->n_recs > 0 && put_records(st, &p, b, copy_recs, ebuf, sizeof(ebuf)) < 0) ||
	    sq_apps_send(st, &p, ebuf, sizeof(ebuf)) < 0 || /* store_app_put's */
	    (b->n_acks > 0 && put_acks(st, &p, b, acks, ebuf, sizeof(ebuf)) < 0) ||
	    (b->n_obl > 0 && !copy_obl &&
	     put_obligations(st, &p, obl, b->n_obl, ebuf, sizeof(ebuf)) < 0) ||
	    (b->n_out > 0 && put_outrows(st, &p, b->out, is_obl, b->n_out, ebuf, sizeof(ebuf)) < 0))
		goto bad_row;
	sq_pipe_sql(st, "COMMIT", -1);
	rc = sq_pipe_end(st, NULL, NULL, what, err, errsz);
	if (rc == 0) {
		st->in_tx = false;
		goto out;
	}
	rc = strcmp(st->sqlstate, "CS001") == 0 ? STORE_FENCED
	     : store_conflict(st)               ? STORE_CONFLICT
	                                        : -1;
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
	sq_apps_clear(st);
	sq_params_reset(&p);
	free(tps);
	free(acks);
	free(obl);
	free(is_obl);
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
	if (sq_get_str(res, 0, 0, ret->topic, sizeof(ret->topic), err, errsz) < 0 ||
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
