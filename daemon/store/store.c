/* store: the PostgreSQL connection of credsync: connecting, bounded queries and pipelines,
 * and the fenced claim of Kafka partitions. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "pgutil.h"
#include "store_int.h"

/* Forgets the connection; cancel: ask the server to stop what it is running first (it may
 * be stuck, and its locks would otherwise outlive us until statement_timeout). */
void
sq_drop(store *st, bool cancel)
{
	if (st->conn == NULL)
		return;
	if (cancel) {
		PGcancel *cn = PQgetCancel(st->conn);
		char ebuf[256];

		if (cn != NULL) {
			(void)PQcancel(cn, ebuf, sizeof(ebuf));
			PQfreeCancel(cn);
		}
	}
	PQfinish(st->conn);
	st->conn = NULL;
	st->in_tx = false;
	st->outbox_locked = false;
	memset(st->prep, 0, sizeof(st->prep));
}

int
sq_need_conn(store *st, const char *what, char *err, size_t errsz)
{
	if (st->conn != NULL)
		return 0;
	pgutil_set_err(err, errsz, what,
	               "no connection to the database (not reconnected since it was lost)");
	return -1;
}

/* The reason of a failed connection-level call; drops the connection when it is gone. */
static void
conn_error(store *st, const char *what, char *err, size_t errsz)
{
	pgutil_set_err(err, errsz, what, st->conn != NULL ? PQerrorMessage(st->conn) : NULL);
	if (st->conn != NULL && PQstatus(st->conn) == CONNECTION_BAD)
		sq_drop(st, false);
}

static void
result_error(store *st, const PGresult *res, const char *what, char *err, size_t errsz)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	snprintf(st->sqlstate, sizeof(st->sqlstate), "%s", state != NULL ? state : "");
	snprintf(st->sqlmsg, sizeof(st->sqlmsg), "%s", state != NULL && msg != NULL ? msg : "");
	if (msg == NULL || msg[0] == '\0')
		msg = PQresultErrorMessage(res);
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(st->conn);
	pgutil_set_err(err, errsz, what, msg);
}

/* Waits until libpq has sent everything queued and a result can be read without blocking.
 * Returns 0, -1 (connection failed) or -2 (nothing from the server for timeout_ms: the
 * wait starts again whenever the server answers, so a long pipeline that keeps answering
 * is not cut, while a stuck server or a lock wait is). */
static int
wait_ready(PGconn *conn, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd;
		int64_t left;
		int flush = PQflush(conn);
		int r;

		if (flush < 0)
			return -1;
		if (flush == 0 && !PQisBusy(conn))
			return 0;
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN | (flush == 1 ? POLLOUT : 0);
		pfd.revents = 0;
		if (pfd.fd < 0)
			return -1;
		left = deadline - clock_mono_ms();
		if (left <= 0)
			return -2;
		r = poll(&pfd, 1, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -2;
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) != 0 && !PQconsumeInput(conn))
			return -1;
		deadline = clock_mono_ms() + timeout_ms;
	}
}

/* After wait_ready failed: the reason, and the connection is dropped (cancelled first when
 * the server did not answer). */
static void
wait_failed(store *st, int w, int timeout_ms, const char *what, char *err, size_t errsz)
{
	if (w == -2) {
		char msg[96];

		snprintf(msg, sizeof(msg), "database did not answer within %d ms", timeout_ms);
		pgutil_set_err(err, errsz, what, msg);
		sq_drop(st, true);
		return;
	}
	pgutil_set_err(err, errsz, what, PQerrorMessage(st->conn));
	sq_drop(st, false);
}

/* Reads every result of the command sent last; the first error is reported, else the last
 * result must have status want (*ret gets it when ret). */
static int
collect(store *st, const char *what, ExecStatusType want, PGresult **ret, int timeout_ms, char *err,
        size_t errsz)
{
	PGresult *last = NULL, *bad = NULL;

	for (;;) {
		PGresult *res;
		int w = wait_ready(st->conn, timeout_ms);

		if (w != 0) {
			PQclear(last);
			PQclear(bad);
			wait_failed(st, w, timeout_ms, what, err, errsz);
			return -1;
		}
		res = PQgetResult(st->conn);
		if (res == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_FATAL_ERROR:
		case PGRES_BAD_RESPONSE:
		case PGRES_NONFATAL_ERROR:
			if (bad == NULL)
				bad = res;
			else
				PQclear(res);
			break;
		case PGRES_COPY_IN:
			/* a COPY FROM STDIN where none was expected: end it */
			PQclear(res);
			if (PQputCopyEnd(st->conn, "unexpected COPY") < 0) {
				PQclear(last);
				PQclear(bad);
				conn_error(st, what, err, errsz);
				return -1;
			}
			break;
		default:
			PQclear(last);
			last = res;
			break;
		}
	}
	if (bad != NULL) {
		result_error(st, bad, what, err, errsz);
		PQclear(bad);
		PQclear(last);
		if (PQstatus(st->conn) == CONNECTION_BAD)
			sq_drop(st, false);
		return -1;
	}
	if (last == NULL || PQresultStatus(last) != want) {
		char msg[96];

		snprintf(msg, sizeof(msg), "unexpected result status %s",
		         last != NULL ? PQresStatus(PQresultStatus(last)) : "(none)");
		pgutil_set_err(err, errsz, what, msg);
		PQclear(last);
		return -1;
	}
	if (ret != NULL)
		*ret = last;
	else
		PQclear(last);
	return 0;
}

/* Whether sql (simple protocol) opens a transaction: "BEGIN" alone or as the first of
 * several statements; *ret_len gets the length of that first statement. */
static bool
opens_tx(const char *sql, size_t *ret_len)
{
	size_t n = strcspn(sql, ";");

	*ret_len = n;
	return strncmp(sql, "BEGIN", 5) == 0 && (sql[5] == '\0' || sql[5] == ';' || sql[5] == ' ');
}

int
sq_exec(store *st, const char *what, const char *sql, const struct sq_params *p,
        ExecStatusType want, PGresult **ret, int timeout_ms, char *err, size_t errsz)
{
	char *with_setup = NULL;
	size_t first;
	int ok;

	if (ret != NULL)
		*ret = NULL;
	if (sq_need_conn(st, what, err, errsz) < 0)
		return -1;
	st->sqlstate[0] = st->sqlmsg[0] = '\0';
	/* Through a transaction pooler the session's settings would stay behind on a server
	 * connection others get next: each transaction makes its own, right after BEGIN (before
	 * the caller's own SET LOCALs, which win). */
	if (st->txpool && p == NULL && opens_tx(sql, &first)) {
		size_t len = strlen(sql) + strlen(st->tx_setup) + 3;

		if ((with_setup = malloc(len)) == NULL) {
			pgutil_set_err(err, errsz, what, "out of memory");
			return -1;
		}
		snprintf(with_setup, len, "%.*s; %s%s", (int)first, sql, st->tx_setup, sql + first);
		sql = with_setup;
	}
	if (p != NULL)
		ok = PQsendQueryParams(st->conn, sql, p->n, NULL, p->val, p->len, p->fmt, 0);
	else
		ok = PQsendQuery(st->conn, sql);
	free(with_setup);
	if (!ok) {
		conn_error(st, what, err, errsz);
		return -1;
	}
	return collect(st, what, want, ret, timeout_ms, err, errsz);
}

int
sq_copy(store *st, const char *what, const char *sql, const char *data, size_t len, char *err,
        size_t errsz)
{
	PGresult *res;
	int w, r;

	if (sq_need_conn(st, what, err, errsz) < 0)
		return -1;
	st->sqlstate[0] = st->sqlmsg[0] = '\0';
	if (!PQsendQuery(st->conn, sql)) {
		conn_error(st, what, err, errsz);
		return -1;
	}
	if ((w = wait_ready(st->conn, st->timeout_ms)) != 0) {
		wait_failed(st, w, st->timeout_ms, what, err, errsz);
		return -1;
	}
	res = PQgetResult(st->conn);
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
		/* refused (an error): report it with whatever follows */
		if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR) {
			char ignore[128];

			result_error(st, res, what, err, errsz);
			PQclear(res);
			(void)collect(st, what, PGRES_COMMAND_OK, NULL, st->timeout_ms, ignore,
			              sizeof(ignore));
			return -1;
		}
		PQclear(res);
		return collect(st, what, PGRES_COPY_IN, NULL, st->timeout_ms, err, errsz);
	}
	PQclear(res);
	/* Non-blocking: 0 means libpq's buffer is full; wait until it drains. */
	while ((r = PQputCopyData(st->conn, data, (int)len)) == 0)
		if ((w = wait_ready(st->conn, st->timeout_ms)) != 0) {
			wait_failed(st, w, st->timeout_ms, what, err, errsz);
			return -1;
		}
	while (r > 0 && (r = PQputCopyEnd(st->conn, NULL)) == 0)
		if ((w = wait_ready(st->conn, st->timeout_ms)) != 0) {
			wait_failed(st, w, st->timeout_ms, what, err, errsz);
			return -1;
		}
	if (r < 0) {
		conn_error(st, what, err, errsz);
		return -1;
	}
	return collect(st, what, PGRES_COMMAND_OK, NULL, st->timeout_ms, err, errsz);
}

int
sq_pipe_begin(store *st, const char *what, char *err, size_t errsz)
{
	if (sq_need_conn(st, what, err, errsz) < 0)
		return -1;
	if (!PQenterPipelineMode(st->conn)) {
		conn_error(st, what, err, errsz);
		return -1;
	}
	st->n_cmds = 0;
	st->pipe_broken = false;
	st->sqlstate[0] = st->sqlmsg[0] = '\0';
	return 0;
}

/* Makes room for one more command before it is queued, so that the list never falls out of
 * step with what libpq sent. */
static int
cmd_reserve(store *st)
{
	struct sq_cmd *cmds;
	size_t cap;

	if (st->n_cmds < st->cap_cmds)
		return 0;
	cap = st->cap_cmds != 0 ? st->cap_cmds * 2 : 64;
	cmds = realloc(st->cmds, cap * sizeof(*cmds));
	if (cmds == NULL)
		return -1;
	st->cmds = cmds;
	st->cap_cmds = cap;
	return 0;
}

static void
cmd_push(store *st, bool prepare, enum sq_stmt_id id, int tag)
{
	st->cmds[st->n_cmds].prepare = prepare;
	st->cmds[st->n_cmds].quiet = false;
	st->cmds[st->n_cmds].stmt = id;
	st->cmds[st->n_cmds].tag = tag;
	st->n_cmds++;
}

void
sq_pipe_sql(store *st, const char *sql, int tag)
{
	if (st->pipe_broken)
		return;
	if (cmd_reserve(st) < 0 ||
	    !PQsendQueryParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
		st->pipe_broken = true;
		return;
	}
	cmd_push(st, false, STMT_COUNT, tag);
	/* through a transaction pooler, each transaction makes its own settings (sq_exec) */
	if (st->txpool && strcmp(sql, "BEGIN") == 0) {
		if (cmd_reserve(st) < 0 ||
		    !PQsendQueryParams(st->conn, st->tx_setup1, 0, NULL, NULL, NULL, NULL, 0)) {
			st->pipe_broken = true;
			return;
		}
		cmd_push(st, false, STMT_COUNT, 0);
		st->cmds[st->n_cmds - 1].quiet = true;
	}
}

void
sq_pipe_stmt(store *st, const struct sq_stmt *stmt, const struct sq_params *p, int tag)
{
	if (st->pipe_broken)
		return;
	if (st->txpool) {
		/* unnamed: a named statement would stay on a server connection that the pooler
		 * gives to another client next (the cost: one more parse per statement) */
		if (cmd_reserve(st) < 0 || !PQsendQueryParams(st->conn, stmt->sql, p->n, NULL,
		                                              p->val, p->len, p->fmt, 0)) {
			st->pipe_broken = true;
			return;
		}
		cmd_push(st, false, stmt->id, tag);
		return;
	}
	if (st->prep[stmt->id] == 0) {
		if (cmd_reserve(st) < 0 ||
		    !PQsendPrepare(st->conn, stmt->name, stmt->sql, stmt->nparams, NULL)) {
			st->pipe_broken = true;
			return;
		}
		cmd_push(st, true, stmt->id, 0);
		st->prep[stmt->id] = 1;
	}
	if (cmd_reserve(st) < 0 ||
	    !PQsendQueryPrepared(st->conn, stmt->name, p->n, p->val, p->len, p->fmt, 0)) {
		st->pipe_broken = true;
		return;
	}
	cmd_push(st, false, stmt->id, tag);
}

int
sq_pipe_end(store *st, sq_pipe_cb cb, void *ctx, const char *what, char *err, size_t errsz)
{
	bool failed = false;
	size_t i = 0;

	if (st->pipe_broken || !PQpipelineSync(st->conn)) {
		pgutil_set_err(err, errsz, what,
		               PQstatus(st->conn) == CONNECTION_BAD
		                   ? PQerrorMessage(st->conn)
		                   : "could not queue the commands");
		sq_drop(st, false);
		return -1;
	}
	for (;;) {
		PGresult *res;
		ExecStatusType s;
		int w = wait_ready(st->conn, st->timeout_ms);

		if (w != 0) {
			wait_failed(st, w, st->timeout_ms, what, err, errsz);
			return -1;
		}
		res = PQgetResult(st->conn);
		if (res == NULL) {
			/* the end of one command's results */
			if (++i > st->n_cmds)
				break;
			continue;
		}
		s = PQresultStatus(res);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (i >= st->n_cmds) {
			PQclear(res);
			pgutil_set_err(err, errsz, what,
			               "more results than commands in the pipeline");
			sq_drop(st, false);
			return -1;
		}
		if (s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE) {
			if (!failed)
				result_error(st, res, what, err, errsz);
			failed = true;
		} else if (s == PGRES_PIPELINE_ABORTED) {
			failed = true; /* reported by the command that failed */
		} else if (st->cmds[i].prepare) {
			st->prep[st->cmds[i].stmt] = 2;
		} else if (!failed && cb != NULL && !st->cmds[i].quiet) {
			char cberr[256];

			if (cb(ctx, st->cmds[i].tag, res, cberr, sizeof(cberr)) < 0) {
				pgutil_set_err(err, errsz, what, cberr);
				failed = true;
			}
		}
		PQclear(res);
	}
	for (i = 0; i < STMT_COUNT; i++)
		if (st->prep[i] == 1)
			st->prep[i] = 0;
	if (st->conn == NULL || PQstatus(st->conn) == CONNECTION_BAD) {
		if (!failed)
			pgutil_set_err(err, errsz, what,
			               st->conn ? PQerrorMessage(st->conn) : NULL);
		sq_drop(st, false);
		return -1;
	}
	if (!PQexitPipelineMode(st->conn)) {
		if (!failed)
			pgutil_set_err(err, errsz, what, PQerrorMessage(st->conn));
		sq_drop(st, false);
		return -1;
	}
	return failed ? -1 : 0;
}

/* --- connecting ------------------------------------------------------------------------ */

static int
session_setup(store *st, char *err, size_t errsz)
{
	char sql[512];
	int64_t stmt_ms = (int64_t)st->timeout_ms * 2;
	int64_t idle_ms = stmt_ms > 10000 ? stmt_ms : 10000;

	/* statement_timeout backs up the client-side deadline when the client is gone;
	 * idle_in_transaction_session_timeout frees the subject locks of an instance that
	 * stopped between store_batch_begin and store_batch_commit. */
	if (st->txpool) {
		/* Nothing for the session: every transaction the store opens sets these (SET
		 * LOCAL); statements outside one name their schema and have the client-side
		 * deadline (a cancel goes through the pooler). */
		snprintf(st->tx_setup, sizeof(st->tx_setup),
		         "SET LOCAL search_path = credsync, pg_catalog; "
		         "SET LOCAL statement_timeout = %" PRId64 "; "
		         "SET LOCAL idle_in_transaction_session_timeout = %" PRId64,
		         stmt_ms < INT32_MAX ? stmt_ms : INT32_MAX,
		         idle_ms < INT32_MAX ? idle_ms : INT32_MAX);
		snprintf(st->tx_setup1, sizeof(st->tx_setup1),
		         "SELECT set_config('search_path', 'credsync, pg_catalog', true), "
		         "set_config('statement_timeout', '%" PRId64 "', true), "
		         "set_config('idle_in_transaction_session_timeout', '%" PRId64 "', true)",
		         stmt_ms < INT32_MAX ? stmt_ms : INT32_MAX,
		         idle_ms < INT32_MAX ? idle_ms : INT32_MAX);
		return 0;
	}
	snprintf(
	    sql, sizeof(sql),
	    "SET search_path = credsync, pg_catalog; SET statement_timeout = %" PRId64 "; "
	    "SET idle_in_transaction_session_timeout = %" PRId64 "%s",
	    stmt_ms < INT32_MAX ? stmt_ms : INT32_MAX, idle_ms < INT32_MAX ? idle_ms : INT32_MAX,
	    PQserverVersion(st->conn) >= 140000 ? "; SET client_connection_check_interval = 5000"
	                                        : "");
	return sq_exec(st, "could not set up the database session", sql, NULL, PGRES_COMMAND_OK,
	               NULL, st->timeout_ms, err, errsz);
}

static int
conn_open(store *st, char *err, size_t errsz)
{
	static const char what[] = "could not connect to the database";
	/* Defaults come before dbname, which the connection string expands into and may
	 * override; client_encoding comes after: credsync speaks UTF-8 only. */
	const char *kw[] = {"keepalives",       "keepalives_idle",  "keepalives_interval",
	                    "keepalives_count", "tcp_user_timeout", "application_name",
	                    "dbname",           "client_encoding",  NULL};
	const char *val[] = {"1",         "30",         "10",   "3", "30000",
	                     "credsyncd", st->conninfo, "UTF8", NULL};
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	int64_t deadline = clock_mono_ms() + st->timeout_ms;
	PGconn *conn;

	if (pgutil_check_conninfo(st->conninfo, err, errsz) < 0)
		return -1;
	conn = PQconnectStartParams(kw, val, 1);
	if (conn == NULL) {
		pgutil_set_err(err, errsz, what, "out of memory");
		return -1;
	}
	while (ps != PGRES_POLLING_OK) {
		struct pollfd pfd;
		int64_t left = deadline - clock_mono_ms();
		int r;

		if (ps == PGRES_POLLING_FAILED || PQstatus(conn) == CONNECTION_BAD) {
			pgutil_set_err(err, errsz, what, PQerrorMessage(conn));
			PQfinish(conn);
			return -1;
		}
		pfd.fd = PQsocket(conn);
		pfd.events = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			char msg[96];

			snprintf(msg, sizeof(msg), "%s within %d ms",
			         r == 0 ? "no answer" : strerror(errno), st->timeout_ms);
			pgutil_set_err(err, errsz, what, msg);
			PQfinish(conn);
			return -1;
		}
		ps = PQconnectPoll(conn);
	}
	PQsetNoticeProcessor(conn, pgutil_log_notices, NULL);
	if (PQsetnonblocking(conn, 1) != 0) {
		pgutil_set_err(err, errsz, what, PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	st->conn = conn;
	if (session_setup(st, err, errsz) < 0) {
		sq_drop(st, false);
		return -1;
	}
	return 0;
}

enum store_pooling
store_pooling_of(const char *name)
{
	return name != NULL && strcmp(name, "transaction") == 0 ? STORE_POOLING_TRANSACTION
	                                                        : STORE_POOLING_SESSION;
}

store *
store_open(const char *conninfo, int timeout_ms, char *err, size_t errsz)
{
	return store_open_pooled(conninfo, timeout_ms, STORE_POOLING_SESSION, err, errsz);
}

store *
store_open_pooled(const char *conninfo, int timeout_ms, enum store_pooling pooling, char *err,
                  size_t errsz)
{
	static unsigned counter;
	char host[64] = "localhost";
	store *st;

	if (conninfo == NULL || timeout_ms <= 0) {
		pgutil_set_err(err, errsz, "could not open the store",
		               "no connection string or timeout");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->conninfo = strdup(conninfo)) == NULL) {
		free(st);
		pgutil_set_err(err, errsz, "could not open the store", "out of memory");
		return NULL;
	}
	st->timeout_ms = timeout_ms;
	st->txpool = pooling == STORE_POOLING_TRANSACTION;
	/* unique among the stores of every instance: the outbox lease's holder */
	(void)gethostname(host, sizeof(host) - 1);
	snprintf(st->lease_owner, sizeof(st->lease_owner), "%s/%ld/%lld/%u", host, (long)getpid(),
	         (long long)time(NULL), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	if (conn_open(st, err, errsz) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(store *st)
{
	if (st == NULL)
		return;
	sq_lease_release(st);
	sq_drop(st, false);
	if (st->conninfo != NULL) {
		/* it may hold a password */
		volatile char *p = st->conninfo;

		while (*p != '\0')
			*p++ = '\0';
		free(st->conninfo);
	}
	free(st->cmds);
	free(st->seen);
	sq_apps_clear(st);
	for (size_t i = 0; i < SQ_MAXPARAMS_ARR; i++)
		sq_arr_free(&st->arr[i]);
	for (size_t i = 0; i < SQ_APP_ARRAYS; i++)
		sq_arr_free(&st->app[i]);
	free(st);
}

int
store_reconnect(store *st, char *err, size_t errsz)
{
	sq_drop(st, st->in_tx);
	return conn_open(st, err, errsz);
}

/* --- claiming partitions --------------------------------------------------------------- */

static const struct sq_stmt claim_stmt = {
    STMT_CLAIM, "credsync_claim",
    "INSERT INTO credsync.consumer_offsets AS c (grp, topic, partition, next_offset, owner, "
    "epoch) VALUES ($1, $2, $3, 0, $4, 1) "
    "ON CONFLICT (grp, topic, partition) DO UPDATE "
    "SET owner = EXCLUDED.owner, epoch = c.epoch + 1, updated_at = now() "
    "RETURNING next_offset, epoch",
    4, NULL};

static int
claim_row(void *ctx, int tag, const PGresult *res, char *err, size_t errsz)
{
	struct store_tp *tp;

	if (tag < 0)
		return 0; /* BEGIN, COMMIT */
	tp = &((struct store_tp *)ctx)[tag];
	if (PQntuples(res) != 1) {
		snprintf(err, errsz, "claim of partition %" PRId32 " of \"%s\" returned %d rows",
		         tp->partition, tp->topic, PQntuples(res));
		return -1;
	}
	if (sq_get_i64(res, 0, 0, &tp->offset, err, errsz) < 0 ||
	    sq_get_i64(res, 0, 1, &tp->epoch, err, errsz) < 0)
		return -1;
	return 0;
}

const char *
store_sqlstate(const store *st)
{
	return st->sqlstate;
}

const char *
store_sqlmsg(const store *st)
{
	return st->sqlmsg;
}

bool
store_conflict(const store *st)
{
	return strcmp(st->sqlstate, "40P01") == 0 || strcmp(st->sqlstate, "40001") == 0;
}

int
store_tp_ptr_cmp(const void *a, const void *b)
{
	const struct store_tp *x = *(const struct store_tp *const *)a;
	const struct store_tp *y = *(const struct store_tp *const *)b;
	int c = strcmp(x->topic, y->topic);

	if (c != 0)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

int
store_claim(store *st, const char *grp, const char *member, struct store_tp *tps, size_t n,
            char *err, size_t errsz)
{
	static const char what[] = "could not claim partitions";
	struct store_tp **order;
	struct sq_params p = {0};
	int rc;

	if (n == 0)
		return 0;
	if (st->in_tx) {
		pgutil_set_err(err, errsz, what, "a batch is open");
		return -1;
	}
	/* Rows are locked in one order by everybody (claims and commits): no deadlock. */
	order = malloc(n * sizeof(*order));
	if (order == NULL) {
		pgutil_set_err(err, errsz, what, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &tps[i];
	qsort(order, n, sizeof(*order), store_tp_ptr_cmp);
	if (sq_pipe_begin(st, what, err, errsz) < 0) {
		free(order);
		return -1;
	}
	sq_pipe_sql(st, "BEGIN", -1);
	for (size_t i = 0; i < n; i++) {
		sq_params_reset(&p);
		sq_p_text(&p, grp);
		sq_p_text(&p, order[i]->topic);
		sq_p_i64(&p, order[i]->partition);
		sq_p_text(&p, member);
		sq_pipe_stmt(st, &claim_stmt, &p, (int)(order[i] - tps));
	}
	sq_pipe_sql(st, "COMMIT", -1);
	rc = sq_pipe_end(st, claim_row, tps, what, err, errsz);
	sq_params_reset(&p);
	free(order);
	if (rc < 0 && st->conn != NULL) {
		char ignore[64];

		(void)sq_exec(st, what, "ROLLBACK", NULL, PGRES_COMMAND_OK, NULL, st->timeout_ms,
		              ignore, sizeof(ignore));
	}
	return rc;
}
