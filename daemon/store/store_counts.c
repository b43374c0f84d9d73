/* store_counts: the counts of the backlog line from the histogram of unacknowledged
 * obligations by due date (migration 006), so that reading them costs the number of due
 * dates, not the number of unacknowledged obligations. */
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "store_time.h"

int
store_counts_fold(store *st, int64_t *ret_rows, char *err, size_t errsz)
{
	static const char what[] = "could not fold the backlog counts";
	PGresult *res;
	char ebuf[200];

	*ret_rows = 0;
	if (sq_exec(st, what, "SELECT credsync.obligation_counts_fold()", NULL, PGRES_TUPLES_OK,
	            &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	int rc = 0;
	if (PQntuples(res) != 1 || sq_get_i64(res, 0, 0, ret_rows, ebuf, sizeof(ebuf)) < 0) {
		if (PQntuples(res) != 1)
			snprintf(ebuf, sizeof(ebuf), "no row");
		snprintf(err, errsz, "%s: %s", what, ebuf);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

int
store_counts(store *st, cs_date today, struct store_backlog *bl, struct store_deadlines *dl,
             char *err, size_t errsz)
{
	static const char what[] = "could not read the backlog";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];
	int64_t oldest = 0, breach_oldest = 0;

	memset(bl, 0, sizeof(*bl));
	memset(dl, 0, sizeof(*dl));
	bl->oldest_due = dl->oldest_breach = DATE_NONE;
	sq_p_date(&p, today);
	/* The unsent are the messages above the publish cursor (007_publish_cursor.sql): as
	 * many as the publisher is behind, not the whole backlog. */
	if (sq_exec(st, what,
	            "WITH h AS (SELECT due_date, sum(unacked) AS n FROM ("
	            "  SELECT due_date, unacked FROM credsync.obligation_counts"
	            "  UNION ALL SELECT due_date, unacked FROM credsync.obligation_count_deltas) x"
	            " GROUP BY due_date HAVING sum(unacked) <> 0)"
	            " SELECT (SELECT count(*) FROM credsync.unsent),"
	            " coalesce(sum(n), 0),"
	            " coalesce(sum(n) FILTER (WHERE due_date < " SQ_TODAY "), 0),"
	            " min(due_date) FILTER (WHERE due_date <> 'infinity') - date '1970-01-01',"
	            " coalesce(sum(n) FILTER (WHERE due_date = " SQ_TODAY "), 0),"
	            " min(due_date) FILTER (WHERE due_date < " SQ_TODAY ") - date '1970-01-01',"
	            " (SELECT count(*) FROM credsync.repair_applications WHERE " SQ_APP_OVERDUE ")"
	            " FROM h",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	if (PQntuples(res) != 1 || sq_get_i64(res, 0, 0, &bl->unsent, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 1, &bl->unacknowledged, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 2, &bl->overdue, ebuf, sizeof(ebuf)) < 0 ||
	    (!PQgetisnull(res, 0, 3) && sq_get_i64(res, 0, 3, &oldest, ebuf, sizeof(ebuf)) < 0) ||
	    sq_get_i64(res, 0, 4, &dl->at_risk, ebuf, sizeof(ebuf)) < 0 ||
	    (!PQgetisnull(res, 0, 5) &&
	     sq_get_i64(res, 0, 5, &breach_oldest, ebuf, sizeof(ebuf)) < 0) ||
	    sq_get_i64(res, 0, 6, &dl->apps_overdue, ebuf, sizeof(ebuf)) < 0) {
		if (PQntuples(res) != 1)
			snprintf(ebuf, sizeof(ebuf), "no row");
		snprintf(err, errsz, "%s: %s", what, ebuf);
		PQclear(res);
		return -1;
	}
	dl->breach = bl->overdue;
	if (!PQgetisnull(res, 0, 3))
		bl->oldest_due = (cs_date)oldest;
	if (!PQgetisnull(res, 0, 5))
		dl->oldest_breach = (cs_date)breach_oldest;
	PQclear(res);
	return 0;
}
