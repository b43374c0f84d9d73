/* store_time: expiring records, late obligations and applications, deadline counts, daily
 * summaries. */
#include "store_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The unacknowledged obligations are pending's rows (010_pending.sql); its partial index holds
 * those whose breach is not logged yet, by due date and whether the at-risk line was logged
 * (025_at_risk_unlogged.sql): before today for breaches, today and not logged for the at-risk.
 * Within a day, in no particular order (015_lean_indexes.sql). */
static const char *const late_sql[] = {
    [STORE_LATE_BREACH] =
        "WITH t AS (SELECT id FROM credsync.pending WHERE NOT breach_logged"
        "  AND due_date < " SQ_TODAY " ORDER BY due_date LIMIT $2::integer"
        "  FOR UPDATE SKIP LOCKED),"
        " m AS (UPDATE credsync.pending p SET breach_logged = true FROM t WHERE p.id = t.id)"
        " UPDATE credsync.obligation_rows o SET breach_logged_at = now() FROM t WHERE o.id = t.id"
        " RETURNING o.id, o.site, o.type, o.uscc, o.decision_no, '',"
        " o.due_date - date '1970-01-01'",
    [STORE_LATE_AT_RISK] =
        "WITH t AS (SELECT id FROM credsync.pending WHERE NOT breach_logged"
        "  AND due_date = " SQ_TODAY " AND NOT at_risk_logged LIMIT $2::integer"
        "  FOR UPDATE SKIP LOCKED),"
        " m AS (UPDATE credsync.pending p SET at_risk_logged = true FROM t WHERE p.id = t.id)"
        " UPDATE credsync.obligation_rows o SET at_risk_logged_at = now() FROM t WHERE o.id = t.id"
        " RETURNING o.id, o.site, o.type, o.uscc, o.decision_no, '',"
        " o.due_date - date '1970-01-01'",
    /* Each step's late and unlogged applications by their own index (024_late_apps_index.sql):
     * a tick reads what it logs, not every application ever late. */
    [STORE_LATE_APP] =
        "WITH acc AS (SELECT channel, application_no FROM credsync.repair_applications"
        " WHERE decided_at IS NULL AND accepted_at IS NULL AND accept_late_logged_at IS NULL"
        "  AND accept_due < " SQ_TODAY " ORDER BY accept_due LIMIT $2::integer"
        "  FOR UPDATE SKIP LOCKED),"
        " dec AS (SELECT channel, application_no FROM credsync.repair_applications"
        " WHERE decided_at IS NULL AND accepted_at IS NOT NULL"
        "  AND decide_late_logged_at IS NULL AND decide_due < " SQ_TODAY
        "  ORDER BY decide_due LIMIT $2::integer FOR UPDATE SKIP LOCKED),"
        " late AS (SELECT channel, application_no, true AS accept_late FROM acc"
        "  UNION ALL SELECT channel, application_no, false FROM dec LIMIT $2::integer)"
        " UPDATE credsync.repair_applications a SET"
        "  accept_late_logged_at = CASE WHEN l.accept_late THEN now()"
        "   ELSE a.accept_late_logged_at END,"
        "  decide_late_logged_at = CASE WHEN l.accept_late THEN a.decide_late_logged_at"
        "   ELSE now() END"
        " FROM late l WHERE a.channel = l.channel AND a.application_no = l.application_no"
        " RETURNING '', a.channel, CASE WHEN l.accept_late THEN 'accept' ELSE 'decide' END,"
        "  a.uscc, a.decision_no, a.application_no,"
        "  (CASE WHEN l.accept_late THEN a.accept_due ELSE a.decide_due END)"
        "   - date '1970-01-01'",
};

/* Rows of (id, site, what, uscc, decision_no, application_no, due) into ret. */
static int
read_late(const PGresult *res, size_t max, struct store_late *ret, size_t *ret_n, char *err,
          size_t errsz)
{
	int n = PQntuples(res);
	*ret_n = 0;
	for (int i = 0; i < n && (size_t)i < max; i++) {
		struct store_late *l = &ret[i];
		int64_t due = 0;
		if (sq_get_str(res, i, 0, l->id, sizeof(l->id), err, errsz) < 0 ||
		    sq_get_str(res, i, 1, l->site, sizeof(l->site), err, errsz) < 0 ||
		    sq_get_str(res, i, 2, l->what, sizeof(l->what), err, errsz) < 0 ||
		    sq_get_str(res, i, 3, l->uscc, sizeof(l->uscc), err, errsz) < 0 ||
		    sq_get_str(res, i, 4, l->decision_no, sizeof(l->decision_no), err, errsz) < 0 ||
		    sq_get_str(res, i, 5, l->application_no, sizeof(l->application_no), err,
		               errsz) < 0)
			return -1;
		if (PQgetisnull(res, i, 6))
			l->due = DATE_NONE;
		else if (sq_get_i64(res, i, 6, &due, err, errsz) < 0)
			return -1;
		else
			l->due = (cs_date)due;
		(*ret_n)++;
	}
	return 0;
}

int
store_late_take(store *st, enum store_late_kind kind, cs_date today, size_t max,
                struct store_late *ret, size_t *ret_n, char *err, size_t errsz)
{
	static const char what[] = "could not mark late obligations";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];

	*ret_n = 0;
	if (max == 0)
		return 0;
	sq_p_date(&p, today);
	sq_p_i64(&p, max > 10000 ? 10000 : (int64_t)max);
	if (sq_exec(st, what, late_sql[kind], &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err,
	            errsz) < 0)
		return -1;
	int rc = read_late(res, max, ret, ret_n, ebuf, sizeof(ebuf));
	if (rc < 0)
		snprintf(err, errsz, "%s: %s", what, ebuf);
	PQclear(res);
	return rc;
}

int
store_breach_list(store *st, cs_date today, size_t max, struct store_late *ret, size_t *ret_n,
                  char *err, size_t errsz)
{
	static const char what[] = "could not list breaches";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];

	*ret_n = 0;
	sq_p_date(&p, today);
	sq_p_i64(&p, max > 100000 ? 100000 : (int64_t)max);
	if (sq_exec(st, what,
	            "SELECT o.id::text, o.site, o.type, o.uscc, o.decision_no, '',"
	            " o.due_date - date '1970-01-01' FROM credsync.pending p"
	            " JOIN credsync.obligation_rows o ON o.id = p.id WHERE p.due_date < " SQ_TODAY
	            " UNION ALL"
	            " SELECT '', channel,"
	            " CASE WHEN accepted_at IS NULL THEN 'accept' ELSE 'decide' END,"
	            " uscc, decision_no, application_no,"
	            " (CASE WHEN accepted_at IS NULL THEN accept_due ELSE decide_due END)"
	            "  - date '1970-01-01'"
	            " FROM credsync.repair_applications WHERE " SQ_APP_OVERDUE
	            " ORDER BY 7, 1, 6 LIMIT $2::integer",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	int rc = read_late(res, max, ret, ret_n, ebuf, sizeof(ebuf));
	if (rc < 0)
		snprintf(err, errsz, "%s: %s", what, ebuf);
	PQclear(res);
	return rc;
}

int
store_deadlines(store *st, cs_date today, struct store_deadlines *ret, char *err, size_t errsz)
{
	static const char what[] = "could not count late obligations";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];
	int64_t oldest = 0;

	memset(ret, 0, sizeof(*ret));
	ret->oldest_breach = DATE_NONE;
	sq_p_date(&p, today);
	if (sq_exec(st, what,
	            "SELECT count(*) FILTER (WHERE due_date < " SQ_TODAY "),"
	            " count(*) FILTER (WHERE due_date = " SQ_TODAY "),"
	            " min(due_date) FILTER (WHERE due_date < " SQ_TODAY ") - date '1970-01-01',"
	            " (SELECT count(*) FROM credsync.repair_applications WHERE " SQ_APP_OVERDUE ")"
	            " FROM credsync.obligations WHERE acked_at IS NULL",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	if (PQntuples(res) != 1 || sq_get_i64(res, 0, 0, &ret->breach, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 1, &ret->at_risk, ebuf, sizeof(ebuf)) < 0 ||
	    sq_get_i64(res, 0, 3, &ret->apps_overdue, ebuf, sizeof(ebuf)) < 0 ||
	    (!PQgetisnull(res, 0, 2) && sq_get_i64(res, 0, 2, &oldest, ebuf, sizeof(ebuf)) < 0)) {
		if (PQntuples(res) != 1)
			snprintf(ebuf, sizeof(ebuf), "no row");
		snprintf(err, errsz, "%s: %s", what, ebuf);
		PQclear(res);
		return -1;
	}
	if (!PQgetisnull(res, 0, 2))
		ret->oldest_breach = (cs_date)oldest;
	PQclear(res);
	return 0;
}

/* A repair application's step: sets its column once (a later copy keeps the first value). */
#define APP_UPSERT(col)                                                                            \
	"INSERT INTO credsync.repair_applications AS a (channel, application_no, uscc,"            \
	" decision_no, " col ", accept_due, decide_due, outcome)"                                  \
	" VALUES ($1, $2, $3, $4, to_timestamp($5::bigint), " SQ_DAY(6) ", " SQ_DAY(               \
	    7) ", $8)"                                                                             \
	       " ON CONFLICT (channel, application_no) DO UPDATE SET"                              \
	       " " col " = COALESCE(a." col ", EXCLUDED." col "),"                                 \
	       " accept_due = COALESCE(a.accept_due, EXCLUDED.accept_due),"                        \
	       " decide_due = COALESCE(a.decide_due, EXCLUDED.decide_due),"                        \
	       " outcome = COALESCE(a.outcome, EXCLUDED.outcome), updated_at = now()"

static const struct sq_stmt app_repaired_stmt = {
    STMT_APP_REPAIRED, "credsync_app_repaired",
    "UPDATE credsync.repair_applications SET decided_at = to_timestamp($4::bigint),"
    " outcome = 'repaired', updated_at = now()"
    " WHERE channel = $1 AND uscc = $2 AND decision_no = $3 AND decided_at IS NULL",
    4, NULL};
static const struct sq_stmt app_applied_stmt = {STMT_APP_APPLIED, "credsync_app_applied",
                                                APP_UPSERT("applied_at"), 8, NULL};
static const struct sq_stmt app_accepted_stmt = {STMT_APP_ACCEPTED, "credsync_app_accepted",
                                                 APP_UPSERT("accepted_at"), 8, NULL};
static const struct sq_stmt app_decided_stmt = {STMT_APP_DECIDED, "credsync_app_decided",
                                                APP_UPSERT("decided_at"), 8, NULL};

/* All the batch's steps, in the order consumed (022_apps_batch.sql). */
static const struct sq_stmt apps_stmt = {
    STMT_APPS, "credsync_apps",
    "SELECT credsync.apps_put($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::bigint[], $7::integer[], $8::integer[])",
    SQ_APP_ARRAYS, "ttttt844"};

/* The step as one statement (the first SQ_APP_STEPS of a batch). */
static void
app_step(store *st, const struct event *ev, cs_date due)
{
	struct sq_params *p = &st->app_step[st->n_app];

	if (ev->type == EV_PENALTY_REPAIRED) {
		st->app_stmt[st->n_app] = &app_repaired_stmt;
		sq_p_text(p, ev->producer);
		sq_p_text(p, ev->key.uscc);
		sq_p_text(p, ev->key.decision_no);
		sq_p_secs_or_null(p, ev->occurred_at);
		return;
	}
	st->app_stmt[st->n_app] = ev->type == EV_REPAIR_APPLIED    ? &app_applied_stmt
	                          : ev->type == EV_REPAIR_ACCEPTED ? &app_accepted_stmt
	                                                           : &app_decided_stmt;
	sq_p_text(p, ev->producer);
	sq_p_text(p, ev->application_no);
	sq_p_text(p, ev->key.uscc);
	sq_p_text(p, ev->key.decision_no);
	sq_p_secs_or_null(p, ev->app_at);
	sq_p_date(p, ev->type == EV_REPAIR_APPLIED ? due : DATE_NONE);
	sq_p_date(p, ev->type == EV_REPAIR_ACCEPTED ? due : DATE_NONE);
	sq_p_text(p, ev->type == EV_REPAIR_DECLINED ? "declined"
	             : ev->type == EV_REPAIR_DENIED ? "denied"
	                                            : NULL);
}

int
store_app_put(store *st, const struct event *ev, cs_date due, char *err, size_t errsz)
{
	struct sq_arr *a = st->app;
	bool repaired = ev->type == EV_PENALTY_REPAIRED;

	if (st->n_app == 0)
		sq_arrs_begin(a, apps_stmt.arrays);
	if (st->n_app < SQ_APP_STEPS)
		app_step(st, ev, due);
	st->n_app++;
	/* the channel decided (penalty.repaired): its open applications of the record close */
	sq_arr_text(&a[0], repaired                         ? "repaired"
	                   : ev->type == EV_REPAIR_APPLIED  ? "applied"
	                   : ev->type == EV_REPAIR_ACCEPTED ? "accepted"
	                   : ev->type == EV_REPAIR_DECLINED ? "declined"
	                                                    : "denied");
	sq_arr_text(&a[1], ev->producer);
	sq_arr_text(&a[2], repaired ? NULL : ev->application_no);
	sq_arr_text(&a[3], ev->key.uscc);
	sq_arr_text(&a[4], ev->key.decision_no);
	sq_arr_secs_or_null(&a[5], repaired ? ev->occurred_at : ev->app_at);
	sq_arr_date(&a[6], ev->type == EV_REPAIR_APPLIED ? due : DATE_NONE);
	sq_arr_date(&a[7], ev->type == EV_REPAIR_ACCEPTED ? due : DATE_NONE);
	for (int i = 0; i < SQ_APP_ARRAYS; i++)
		if (a[i].oom) {
			snprintf(err, errsz,
			         "could not record a repair application: out of memory");
			return -1;
		}
	return 0;
}

/* SQ_APP_STEPS steps or fewer go as a statement each: for so few, apps_put's call costs more
 * than it saves (at 1,000 events/s, a call of two steps took 0.34 ms of the server's time,
 * the two statements 0.13 ms). */
int
sq_apps_send(store *st, struct sq_params *p, char *ebuf, size_t ebufsz)
{
	if (st->n_app > 0 && st->n_app <= SQ_APP_STEPS) {
		for (size_t i = 0; i < st->n_app; i++)
			sq_pipe_stmt(st, st->app_stmt[i], &st->app_step[i], -1);
	} else if (st->n_app > 0) {
		sq_params_reset(p);
		for (int i = 0; i < SQ_APP_ARRAYS; i++)
			if (sq_p_arr(p, &st->app[i]) < 0) {
				snprintf(ebuf, ebufsz, "out of memory");
				return -1;
			}
		sq_pipe_stmt(st, &apps_stmt, p, -1);
	}
	sq_apps_clear(st);
	return 0;
}

void
sq_apps_clear(store *st)
{
	for (size_t i = 0; i < st->n_app && i < SQ_APP_STEPS; i++)
		sq_params_reset(&st->app_step[i]);
	st->n_app = 0;
}

static int
get_secs(const PGresult *res, int row, int col, int64_t *ret, char *err, size_t errsz)
{
	*ret = 0;
	return PQgetisnull(res, row, col) ? 0 : sq_get_i64(res, row, col, ret, err, errsz);
}

/* Row i of (id, site, type, reason, kind, uscc, list, decision_no, due, sent, acked). */
static int
read_day_obl(const PGresult *res, int i, struct store_day_obl *o, char *err, size_t errsz)
{
	int64_t due = 0;
	if (sq_get_str(res, i, 0, o->id, sizeof(o->id), err, errsz) < 0 ||
	    sq_get_str(res, i, 1, o->site, sizeof(o->site), err, errsz) < 0 ||
	    sq_get_str(res, i, 2, o->type, sizeof(o->type), err, errsz) < 0 ||
	    sq_get_str(res, i, 3, o->reason, sizeof(o->reason), err, errsz) < 0 ||
	    sq_get_str(res, i, 4, o->kind, sizeof(o->kind), err, errsz) < 0 ||
	    sq_get_str(res, i, 5, o->uscc, sizeof(o->uscc), err, errsz) < 0 ||
	    sq_get_str(res, i, 6, o->list, sizeof(o->list), err, errsz) < 0 ||
	    sq_get_str(res, i, 7, o->decision_no, sizeof(o->decision_no), err, errsz) < 0 ||
	    get_secs(res, i, 8, &due, err, errsz) < 0 ||
	    get_secs(res, i, 9, &o->sent_at, err, errsz) < 0 ||
	    get_secs(res, i, 10, &o->acked_at, err, errsz) < 0)
		return -1;
	o->due = PQgetisnull(res, i, 8) ? DATE_NONE : (cs_date)due;
	return 0;
}

/* The obligations of a day ($1) and site ($2, NULL: both), in the order the summary and
 * reconcile list them; more conditions may follow. */
#define DAY_OBL_SQL                                                                                \
	"SELECT id, site, type, coalesce(reason, ''), kind, uscc, list, decision_no,"              \
	" due_date - date '1970-01-01',"                                                           \
	" floor(extract(epoch FROM sent_at))::bigint,"                                             \
	" floor(extract(epoch FROM acked_at))::bigint"                                             \
	" FROM credsync.obligations"                                                               \
	" WHERE received_at >= " SQ_TODAY "::timestamp AT TIME ZONE 'Asia/Shanghai'"               \
	" AND received_at < (" SQ_TODAY " + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'"            \
	" AND ($2::text IS NULL OR site = $2)"

int
store_day_obligations(store *st, const char *site, cs_date day, struct store_day_obl **ret,
                      size_t *ret_n, char *err, size_t errsz)
{
	static const char what[] = "could not read the obligations of a day";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];

	*ret = NULL;
	*ret_n = 0;
	sq_p_date(&p, day);
	sq_p_text(&p, site);
	if (sq_exec(st, what, DAY_OBL_SQL " ORDER BY site, received_at, id", &p, PGRES_TUPLES_OK,
	            &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	int n = PQntuples(res);
	struct store_day_obl *v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	if (v == NULL) {
		snprintf(err, errsz, "%s: out of memory", what);
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (read_day_obl(res, i, &v[i], ebuf, sizeof(ebuf)) < 0) {
			snprintf(err, errsz, "%s: %s", what, ebuf);
			free(v);
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	*ret = v;
	*ret_n = (size_t)n;
	return 0;
}

/* Ends the scan's transaction; keeps the first error in err. */
static int
scan_end(store *st, const char *what, int rc, char *err, size_t errsz)
{
	char ebuf[512];
	if (sq_exec(st, what, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, PGRES_COMMAND_OK, NULL,
	            st->timeout_ms, ebuf, sizeof(ebuf)) < 0 &&
	    rc == 0) {
		snprintf(err, errsz, "%s", ebuf);
		rc = -1;
	}
	return rc;
}

int
store_day_summary_scan(store *st, const char *site, cs_date day, store_day_cb cb, void *arg,
                       char *err, size_t errsz)
{
	static const char what[] = "could not read the obligations of a day";
	struct sq_params p = {0};
	struct store_day_obl page[STORE_DAY_PAGE];
	PGresult *res;
	char ebuf[200], fetch[64];
	int rc = -1;

	if (sq_exec(st, what, "BEGIN", NULL, PGRES_COMMAND_OK, NULL, st->timeout_ms, err, errsz) <
	    0)
		return -1;
	sq_p_date(&p, day);
	sq_p_text(&p, site);
	/* Filtered here, read a page at a time: a day of a million obligations is not held. The
	 * condition on type and reason is the predicate of obligations_summary (017): the scan
	 * reads the listed obligations only, in this order. Change both together. */
	if (sq_exec(st, what,
	            "DECLARE credsync_day NO SCROLL CURSOR FOR " DAY_OBL_SQL
	            " AND (type = 'mutual_recognition' OR (type = 'takedown' AND reason IN"
	            " ('repaired', 'expired', 'light_expired')))"
	            " ORDER BY site, received_at, id",
	            &p, PGRES_COMMAND_OK, NULL, st->timeout_ms, err, errsz) < 0)
		goto out;
	snprintf(fetch, sizeof(fetch), "FETCH %d FROM credsync_day", STORE_DAY_PAGE);
	for (;;) {
		if (sq_exec(st, what, fetch, NULL, PGRES_TUPLES_OK, &res, st->timeout_ms, err,
		            errsz) < 0)
			goto out;
		int n = PQntuples(res);
		for (int i = 0; i < n; i++)
			if (read_day_obl(res, i, &page[i], ebuf, sizeof(ebuf)) < 0) {
				snprintf(err, errsz, "%s: %s", what, ebuf);
				PQclear(res);
				goto out;
			}
		PQclear(res);
		if (n > 0 && cb(arg, page, (size_t)n, err, errsz) < 0)
			goto out;
		if (n < STORE_DAY_PAGE)
			break;
	}
	rc = 0;
out:
	return scan_end(st, what, rc, err, errsz);
}

int
store_summary_last(store *st, const char *site, cs_date *ret, char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res;
	int64_t day = 0;
	char ebuf[200];

	*ret = DATE_NONE;
	sq_p_text(&p, site);
	if (sq_exec(st, "could not read the daily summaries",
	            "SELECT max(day) - date '1970-01-01' FROM credsync.daily_summaries"
	            " WHERE site = $1",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	int rc = 0;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		if (sq_get_i64(res, 0, 0, &day, ebuf, sizeof(ebuf)) < 0) {
			snprintf(err, errsz, "could not read the daily summaries: %s", ebuf);
			rc = -1;
		} else {
			*ret = (cs_date)day;
		}
	}
	PQclear(res);
	return rc;
}

int
store_any_until(store *st, cs_date day, bool *ret, char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res;

	sq_p_date(&p, day);
	if (sq_exec(st, "could not read the first obligation",
	            /* min(): one descent of obligations_received, whatever the table's size
	             * and statistics (020_received_btree.sql); NULL (false) when empty */
	            "SELECT coalesce((SELECT min(received_at) FROM credsync.obligation_rows) <"
	            " (" SQ_TODAY " + 1)::timestamp AT TIME ZONE 'Asia/Shanghai', false)",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	*ret = PQntuples(res) == 1 && sq_get_bool(res, 0, 0);
	PQclear(res);
	return 0;
}

int
store_summary_written(store *st, const char *site, cs_date day, bool *ret, char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res;

	sq_p_text(&p, site);
	sq_p_date(&p, day);
	if (sq_exec(st, "could not read the daily summaries",
	            "SELECT EXISTS (SELECT 1 FROM credsync.daily_summaries"
	            " WHERE site = $1 AND day = " SQ_DAY(2) ")",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	*ret = PQntuples(res) == 1 && sq_get_bool(res, 0, 0);
	PQclear(res);
	return 0;
}

int
store_summary_put(store *st, const char *site, cs_date day, const char *id, const char *payload,
                  char *err, size_t errsz)
{
	struct sq_params p = {0};
	PGresult *res = NULL;
	char topic[64];
	int rc;

	snprintf(topic, sizeof(topic), "credit.out.%s", site);
	sq_p_text(&p, site);
	sq_p_date(&p, day);
	sq_p_uuid(&p, id);
	sq_p_text(&p, topic);
	sq_p_text(&p, payload);
	/* One statement, one transaction: the summary and its outbox row, both once. */
	rc = sq_exec(st, "could not write a daily summary",
	             "WITH s AS (INSERT INTO credsync.daily_summaries (site, day, outbox_id)"
	             " VALUES ($1, " SQ_DAY(
	                 2) ", $3::uuid) ON CONFLICT DO NOTHING RETURNING outbox_id)"
	                    " INSERT INTO credsync.outbox_rows (id, topic, key, payload)"
	                    " SELECT outbox_id, $4, '', $5 FROM s ON CONFLICT (id) DO NOTHING",
	             &p, PGRES_COMMAND_OK, &res, st->timeout_ms, err, errsz);
	sq_params_reset(&p);
	if (rc == 0) {
		rc = strcmp(PQcmdTuples(res), "1") == 0 ? 1 : 0;
		PQclear(res);
	}
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
		int kind = record_kind_parse(PQgetvalue(res, i, 1));

		if (kind < 0) {
			snprintf(ebuf, sizeof(ebuf), "unknown record kind \"%s\"",
			         PQgetvalue(res, i, 1));
			goto bad;
		}
		k->kind = (enum record_kind)kind;
		if (sq_get_str(res, i, 0, k->uscc, sizeof(k->uscc), ebuf, sizeof(ebuf)) < 0 ||
		    sq_get_str(res, i, 2, k->list, sizeof(k->list), ebuf, sizeof(ebuf)) < 0 ||
		    sq_get_str(res, i, 3, k->decision_no, sizeof(k->decision_no), ebuf,
		               sizeof(ebuf)) < 0)
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

int
store_no_severity(store *st, cs_date from, size_t max, struct store_nosev *ret, size_t *ret_n,
                  char *err, size_t errsz)
{
	static const char what[] = "could not list penalties without a severity";
	struct sq_params p = {0};
	PGresult *res;
	char ebuf[200];
	int rc = 0;

	*ret_n = 0;
	sq_p_date(&p, from);
	sq_p_i64(&p, max > 100000 ? 100000 : (int64_t)max);
	if (sq_exec(st, what,
	            "SELECT uscc, decision_no, producer, decided_on - date '1970-01-01'"
	            " FROM credsync.records WHERE kind = 'penalty' AND added AND severity IS NULL"
	            " AND decided_on >= " SQ_TODAY " ORDER BY decided_on, uscc, decision_no"
	            " LIMIT $2::integer",
	            &p, PGRES_TUPLES_OK, &res, st->timeout_ms, err, errsz) < 0)
		return -1;
	for (int row = 0; row < PQntuples(res) && (size_t)row < max; row++) {
		struct store_nosev *n = &ret[row];
		int64_t d;
		if (sq_get_str(res, row, 0, n->uscc, sizeof(n->uscc), ebuf, sizeof(ebuf)) < 0 ||
		    sq_get_str(res, row, 1, n->decision_no, sizeof(n->decision_no), ebuf,
		               sizeof(ebuf)) < 0 ||
		    sq_get_str(res, row, 2, n->producer, sizeof(n->producer), ebuf, sizeof(ebuf)) <
		        0 ||
		    sq_get_i64(res, row, 3, &d, ebuf, sizeof(ebuf)) < 0) {
			snprintf(err, errsz, "%s: %s", what, ebuf);
			rc = -1;
			break;
		}
		n->decided_on = (cs_date)d;
		(*ret_n)++;
	}
	PQclear(res);
	return rc;
}
