/* store_failed: messages the database refused for good (outcome 'failed', 008_failed.sql):
 * stored in the batch that gives up on them, taken back by the transaction that retries one. */
#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"

int
store_failed_put(store *st, const struct store_inbound *in, const char *sqlstate, const char *error,
                 char *err, size_t errsz)
{
	static const char what[] = "could not store a failed message";
	struct sq_params p = {0};
	int rc = -1;

	sq_p_text(&p, in->topic);
	sq_p_i64(&p, in->partition);
	sq_p_i64(&p, in->offset);
	sq_p_uuid(&p, in->event_id);
	if (sq_p_text_clean(&p, in->producer) < 0 || sq_p_text_clean(&p, in->uscc) < 0 ||
	    sq_p_text_clean(&p, error) < 0) {
		snprintf(err, errsz, "%s: out of memory", what);
		goto out;
	}
	if (in->kafka_ts_ms >= 0)
		sq_p_i64(&p, in->kafka_ts_ms);
	else
		sq_p_text(&p, NULL);
	sq_p_text(&p, sqlstate);
	sq_p_bytes(&p, in->payload != NULL ? in->payload : "", in->payload_len);
	/* A message stored before (a batch replayed) is left as it is, as in store_batch_commit. */
	rc = sq_exec(st, what,
	             "INSERT INTO credsync.inbound (topic, partition, \"offset\", event_id, "
	             "producer, uscc, error, kafka_ts, sqlstate, payload, outcome) VALUES ($1, $2, "
	             "$3, $4::uuid, $5, $6, $7, timestamptz 'epoch' + $8::bigint * interval "
	             "'1 millisecond', $9, $10, 'failed') "
	             "ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
	             &p, PGRES_COMMAND_OK, NULL, st->timeout_ms, err, errsz);
out:
	sq_params_reset(&p);
	return rc;
}

int
store_failed_take(store *st, const char *topic, int32_t partition, int64_t offset, bool *ret_found,
                  char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res = NULL;

	*ret_found = false;
	sq_p_text(&p, topic);
	sq_p_i64(&p, partition);
	sq_p_i64(&p, offset);
	int rc = sq_exec(st, "could not take back a failed message",
	                 "DELETE FROM credsync.inbound WHERE topic = $1 AND partition = $2 AND "
	                 "\"offset\" = $3 AND outcome = 'failed' RETURNING 1",
	                 &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz);
	if (rc == 0)
		*ret_found = PQntuples(res) > 0;
	PQclear(res);
	sq_params_reset(&p);
	return rc;
}

int
store_failed_first(store *st, const char *uscc, struct store_failed_cause *ret, bool *ret_found,
                   char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res = NULL;
	int64_t part = 0;

	*ret_found = false;
	sq_p_text(&p, uscc);
	int rc = sq_exec(st, "could not read the failed messages of a subject",
	                 "SELECT coalesce(sqlstate, ''), topic, partition, \"offset\" "
	                 "FROM credsync.inbound WHERE outcome = 'failed' AND uscc = $1 "
	                 "ORDER BY stored_at, topic, partition, \"offset\" LIMIT 1",
	                 &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz);
	if (rc == 0 && PQntuples(res) > 0) {
		if (sq_get_str(res, 0, 0, ret->sqlstate, sizeof(ret->sqlstate), err, errsz) < 0 ||
		    sq_get_str(res, 0, 1, ret->topic, sizeof(ret->topic), err, errsz) < 0 ||
		    sq_get_i64(res, 0, 2, &part, err, errsz) < 0 ||
		    sq_get_i64(res, 0, 3, &ret->offset, err, errsz) < 0)
			rc = -1;
		ret->partition = (int32_t)part;
		*ret_found = rc == 0;
	}
	PQclear(res);
	sq_params_reset(&p);
	return rc;
}

int
store_failed_subjects(store *st, char (**ret)[USCC_BUF], size_t *ret_n, char *err, size_t errsz)
{
	PGresult *res = NULL;

	*ret = NULL;
	*ret_n = 0;
	if (sq_exec(st, "could not read the subjects of the failed messages",
	            "SELECT DISTINCT uscc FROM credsync.inbound WHERE outcome = 'failed' AND uscc "
	            "IS NOT NULL",
	            NULL, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	int n = PQntuples(res), rc = 0;
	if (n > 0 && (*ret = calloc((size_t)n, sizeof(**ret))) == NULL) {
		snprintf(err, errsz, "out of memory");
		rc = -1;
	}
	for (int i = 0; rc == 0 && i < n; i++)
		rc = sq_get_str(res, i, 0, (*ret)[i], USCC_BUF, err, errsz);
	if (rc == 0) {
		*ret_n = (size_t)n;
	} else {
		free(*ret);
		*ret = NULL;
	}
	PQclear(res);
	return rc;
}
