/* store_batch_copy: a large batch's rows in COPY's binary format (store_batch.c decides when
 * and writes the rest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static const char copy_inbound_sql[] =
    "COPY credsync.inbound (topic, partition, \"offset\", event_id, producer, uscc, kafka_ts, "
    "outcome, reason, detail, payload) FROM STDIN WITH (FORMAT binary)";
static const char copy_obligations_sql[] =
    "COPY credsync.obligation_rows (id, site, type, reason, kind, uscc, list, decision_no, "
    "producer, subject_name, disclose_until, repairable_from, rec_system, rec_decision_no, "
    "rec_repair_decision_no, rec_repaired_on, source_event_id, received_at, due_date, topic, "
    "key, payload, seq) FROM STDIN WITH (FORMAT binary)";
static const char copy_pending_sql[] =
    "COPY credsync.pending (id, site, due_date) FROM STDIN WITH (FORMAT binary)";
/* The records the batch creates (not found by store_batch_begin, under the subjects' locks):
 * COPY has no ON CONFLICT ... DO UPDATE, so those stored before go through the upsert. */
static const char copy_records_sql[] =
    "COPY credsync.records (" RECORD_PUT_COLUMNS ") FROM STDIN WITH (FORMAT binary)";

/* The COPY input of the inbound rows, as put_inbound's arrays (store_batch.c) give them. */
static void
copy_inbound(struct sq_arr *a, const struct store_inbound *in, size_t n)
{
	sq_copy_begin(a);
	for (size_t i = 0; i < n; i++) {
		sq_copy_text(a, in[i].topic);
		sq_copy_i32(a, in[i].partition);
		sq_copy_i64(a, in[i].offset);
		sq_copy_uuid(a, in[i].event_id);
		sq_copy_text(a, in[i].producer);
		sq_copy_text(a, in[i].uscc);
		if (in[i].kafka_ts_ms >= 0)
			sq_copy_instant_ms(a, in[i].kafka_ts_ms);
		else
			sq_copy_null(a);
		sq_copy_text(a, in[i].outcome);
		sq_copy_text(a, in[i].reason);
		sq_copy_text(a, in[i].detail);
		sq_copy_bytes(a, in[i].payload, in[i].payload_len);
		sq_copy_row_end(a);
	}
	sq_copy_end(a);
}

/* The COPY inputs of the obligations (each with its message and its seq) and of their
 * pending rows, as put_obligations's arrays give them. */
static void
copy_obligations(struct sq_arr *a, struct sq_arr *pend, const struct obl_msg *obl,
                 const int64_t *seqs, size_t n)
{
	sq_copy_begin(a);
	sq_copy_begin(pend);
	for (size_t i = 0; i < n; i++) {
		const struct obligation *ob = obl[i].ob;
		const struct store_outrow *o = obl[i].out;
		bool mr = ob->type == OUT_MUTUAL_RECOGNITION;

		sq_copy_uuid(a, ob->id);
		sq_copy_text(a, site_name(ob->site));
		sq_copy_text(a, out_type_name(ob->type));
		sq_copy_text(a, ob->reason != TD_NONE ? takedown_reason_name(ob->reason) : NULL);
		sq_copy_text(a, record_kind_name(ob->key.kind));
		sq_copy_text(a, ob->key.uscc);
		sq_copy_text(a, ob->key.list);
		sq_copy_text(a, ob->key.decision_no);
		sq_copy_text(a, ob->producer);
		sq_copy_text(a, ob->subject_name);
		sq_copy_date(a, ob->disclose_until);
		sq_copy_date(a, ob->repairable_from);
		sq_copy_text(a, mr ? site_name(ob->rec_system) : NULL);
		sq_copy_text_or_null(a, mr ? ob->rec_decision_no : NULL);
		sq_copy_text_or_null(a, mr ? ob->rec_repair_decision_no : NULL);
		sq_copy_date(a, mr ? ob->rec_repaired_on : DATE_NONE);
		sq_copy_uuid(a, ob->source_event_id);
		sq_copy_instant_ms(a, ob->received_at * 1000);
		sq_copy_date(a, ob->due_date);
		sq_copy_text(a, o->topic);
		sq_copy_text(a, o->key != NULL ? o->key : "");
		sq_copy_text(a, o->payload);
		sq_copy_i64(a, seqs[i]);
		sq_copy_row_end(a);
		sq_copy_uuid(pend, ob->id);
		sq_copy_text(pend, site_name(ob->site));
		sq_copy_date(pend, ob->due_date);
		sq_copy_row_end(pend);
	}
	sq_copy_end(a);
	sq_copy_end(pend);
}

/* The COPY input of the records not stored before the batch, as put_records's arrays give
 * them. Returns 0, or -1 (a category bit without a name, in ebuf). */
static int
copy_records(struct sq_arr *a, const struct store_batch *b, char *ebuf, size_t ebufsz)
{
	sq_copy_begin(a);
	for (size_t i = 0; i < b->n_recs; i++) {
		const struct record *r = &b->recs[i];
		const char *cats[CAT_COUNT];
		int n_cats = 0;

		if (b->rec_stored[i])
			continue;
		for (int c = 0; c < 32; c++) {
			unsigned bit = 1u << c;
			if ((r->categories & bit) == 0)
				continue;
			if (c >= CAT_COUNT || (cats[n_cats++] = category_name(bit)) == NULL) {
				snprintf(ebuf, ebufsz,
				         "record \"%s\" of %s has unknown category bits %#x",
				         r->key.decision_no, r->key.uscc, r->categories);
				return -1;
			}
		}
		sq_copy_text(a, r->key.uscc);
		sq_copy_text(a, record_kind_name(r->key.kind));
		sq_copy_text(a, r->key.list);
		sq_copy_text(a, r->key.decision_no);
		sq_copy_text(a, rec_status_name(r->status));
		sq_copy_bool(a, r->added);
		sq_copy_text(a, r->producer);
		sq_copy_text(a, r->subject_name);
		sq_copy_secs_or_null(a, r->added_at);
		sq_copy_uuid(a, r->add_event_id);
		sq_copy_date(a, r->decided_on);
		sq_copy_text_array(a, cats, n_cats);
		sq_copy_text(a, field_name(r->field));
		sq_copy_bool(a, r->has_fine);
		sq_copy_i64(a, r->fine_fen);
		sq_copy_text(a, r->severity != SEV_NONE ? severity_name(r->severity) : NULL);
		sq_copy_bool(a, r->light);
		sq_copy_text(a, site_name(r->channel));
		sq_copy_date(a, r->repairable_from);
		sq_copy_date(a, r->disclose_until);
		sq_copy_text(a,
		             r->end_reason != TD_NONE ? takedown_reason_name(r->end_reason) : NULL);
		sq_copy_secs_or_null(a, r->ended_at);
		sq_copy_text(a, r->ended_by);
		sq_copy_uuid(a, r->end_event_id);
		sq_copy_date(a, r->ended_on);
		sq_copy_text(a, r->repair_decision_no);
		sq_copy_text(a, r->end2_reason != TD_NONE ? takedown_reason_name(r->end2_reason)
		                                          : NULL);
		sq_copy_secs_or_null(a, r->end2_at);
		sq_copy_text(a, r->end2_by);
		sq_copy_uuid(a, r->end2_event_id);
		sq_copy_date(a, r->end2_on);
		sq_copy_text(a, r->end2_repair_decision_no);
		sq_copy_row_end(a);
	}
	sq_copy_end(a);
	return 0;
}

/* Draws n seqs, ascending, into seqs (014_copy.sql). Returns 0 or -1 with err. */
static int
draw_seqs(store *st, const char *what, int64_t *seqs, size_t n, char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res;
	int rc = -1;

	sq_p_i64(&p, (int64_t)n);
	if (sq_exec(st, what, "SELECT credsync.outbox_seqs($1::integer)", &p, PGRES_TUPLES_OK, &res,
	            st->timeout_ms, err, errsz) < 0)
		goto out;
	if ((size_t)PQntuples(res) != n) {
		snprintf(err, errsz, "%s: %d seqs drawn, %zu asked for", what, PQntuples(res), n);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (sq_get_i64(res, (int)i, 0, &seqs[i], err, errsz) < 0)
			goto done;
	rc = 0;
done:
	PQclear(res);
out:
	sq_params_reset(&p);
	return rc;
}

int
sq_batch_copy(store *st, const struct store_batch *b, const struct obl_msg *obl, bool copy_recs,
              bool copy_obl, char *err, size_t errsz)
{
	static const char what[] = "could not write batch";
	struct sq_arr *in = &st->arr[0], *ob = &st->arr[1], *pend = &st->arr[2], *rec = &st->arr[3];
	int64_t *seqs = NULL;
	char ebuf[256];
	int rc = -1;

	if (!st->in_tx) {
		if (sq_exec(st, what, "BEGIN", NULL, PGRES_COMMAND_OK, NULL, st->timeout_ms, err,
		            errsz) < 0)
			return -1;
		st->in_tx = true;
	}
	if (sq_exec(st, what, "SAVEPOINT credsync_copy", NULL, PGRES_COMMAND_OK, NULL,
	            st->timeout_ms, err, errsz) < 0)
		return -1;
	copy_inbound(in, b->in, b->n_in);
	if (copy_recs && copy_records(rec, b, ebuf, sizeof(ebuf)) < 0) {
		snprintf(err, errsz, "%s: %s", what, ebuf);
		return -1;
	}
	if (copy_obl) {
		if ((seqs = malloc(b->n_obl * sizeof(*seqs))) == NULL) {
			snprintf(err, errsz, "%s: out of memory", what);
			return -1;
		}
		if (draw_seqs(st, what, seqs, b->n_obl, err, errsz) < 0)
			goto out;
		copy_obligations(ob, pend, obl, seqs, b->n_obl);
	}
	if (in->oom || in->len > INT32_MAX || (copy_recs && (rec->oom || rec->len > INT32_MAX)) ||
	    (copy_obl && (ob->oom || ob->len > INT32_MAX || pend->oom))) {
		snprintf(err, errsz, "%s: out of memory", what);
		goto out;
	}
	if (sq_copy(st, what, copy_inbound_sql, in->buf, in->len, err, errsz) == 0 &&
	    (!copy_recs ||
	     sq_copy(st, what, copy_records_sql, rec->buf, rec->len, err, errsz) == 0) &&
	    (!copy_obl ||
	     (sq_copy(st, what, copy_obligations_sql, ob->buf, ob->len, err, errsz) == 0 &&
	      sq_copy(st, what, copy_pending_sql, pend->buf, pend->len, err, errsz) == 0))) {
		rc = 1;
		goto out;
	}
	if (strcmp(st->sqlstate, "23505") != 0) /* unique_violation */
		goto out;
	rc = sq_exec(st, what, "ROLLBACK TO SAVEPOINT credsync_copy", NULL, PGRES_COMMAND_OK, NULL,
	             st->timeout_ms, err, errsz);
out:
	free(seqs);
	return rc;
}
