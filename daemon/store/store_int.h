/* store_int: what the store_*.c files share: the connection, bounded queries, pipelines and
 * statement parameters. Not for use outside the store module. */
#ifndef CREDSYNC_STORE_INT_H
#define CREDSYNC_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

/* The prepared statements of the pipelines, prepared lazily on first use per connection. */
enum sq_stmt_id {
	STMT_CLAIM,
	STMT_LOCK_SUBJECT,
	STMT_RECORD_GET,
	STMT_EVENT_SEEN,
	STMT_OFFSET_CAS,
	STMT_INBOUND_PUT,
	STMT_RECORD_PUT,
	STMT_OBLIGATION_PUT,
	STMT_OUTBOX_PUT,
	STMT_ACK,
	STMT_APP_REPAIRED,
	STMT_APP_APPLIED,
	STMT_APP_ACCEPTED,
	STMT_APP_DECIDED,
	STMT_APPS,
	STMT_COUNT,
};

struct sq_stmt {
	enum sq_stmt_id id;
	const char *name;
	const char *sql;
	int nparams;
	/* the element types of its array parameters, in order, as sq_arrs_begin takes them;
	 * NULL: none */
	const char *arrays;
};

/* One command queued in a pipeline: its prepare, or its execution with the caller's tag. */
struct sq_cmd {
	bool prepare;
	bool quiet; /* the transaction's SET LOCALs (STORE_POOLING_TRANSACTION): no callback */
	enum sq_stmt_id stmt;
	int tag;
};

/* An array parameter, built element by element, for the set-based statements (one statement
 * per table per batch), in PostgreSQL's binary array form: nothing to quote for the client
 * nor to parse for the server (the text form's parsing, array_in, was 4.2% of the server's
 * samples in the profile run). The buffer is kept between uses (sq_arrs_begin empties it);
 * running out of memory is sticky until the next begin. */
struct sq_arr {
	char *buf;
	size_t len, cap;
	bool oom;
	char el; /* the element type: 't' text, 'u' uuid, '4' integer, '8' bigint, 'b' boolean,
	          * 'y' bytea */
	bool row_start; /* sq_copy_*: the next field is the row's first */
	size_t row_at;  /* sq_copy_*: where the row's field count goes */
	int n_el;       /* sq_arr_*: elements so far; sq_copy_*: the row's fields so far */
	bool has_null;  /* sq_arr_*: one of them is NULL */
};
#define SQ_MAXPARAMS_ARR 32 /* the most array parameters of one statement */
#define SQ_APP_ARRAYS    8  /* those of credsync.apps_put */
#define SQ_APP_STEPS     16 /* a batch of as many steps or fewer: a statement each */

/* Statement parameters: NULL values are SQL NULL; numbers are formatted into num. */
#define SQ_MAXPARAMS 34
struct sq_params {
	int n;
	const char *val[SQ_MAXPARAMS];
	int len[SQ_MAXPARAMS];
	int fmt[SQ_MAXPARAMS];
	char num[SQ_MAXPARAMS][24];
	char *owned[SQ_MAXPARAMS]; /* sanitised copies, freed by sq_params_reset */
};
void sq_params_reset(struct sq_params *p);

/* A message the publisher has read (store_outbox.c). */
struct sq_seen {
	int64_t seq;
	bool sent;   /* delivered and marked */
	bool failed; /* its delivery failed: read again, by seq */
	bool resent; /* read as a queued resend, below where the read started */
};

struct store {
	PGconn *conn;   /* NULL once dropped (timeout, lost connection): reconnect first */
	char *conninfo; /* may hold a password: never printed, wiped on close */
	int timeout_ms;
	bool in_tx;         /* a batch transaction is open */
	bool outbox_locked; /* this session holds the outbox lock */
	/* store_outbox.c: how far the publisher has read and delivered (013_write_once.sql);
	 * forgotten when the outbox lock is taken anew, so that what was not recorded goes
	 * again (the same ids) */
	struct sq_seen *seen; /* read, and either above read_through or not delivered yet */
	size_t n_seen, cap_seen;
	int64_t read_through; /* every message up to it has been read; -1: not known yet */
	int64_t fence_seq;    /* an earlier read's last seq drawn, */
	int64_t fence_x;      /* and its snapshot's xmax (0: no fence) */
	int64_t cursor_low;   /* the publish cursor as last read or moved; -1: not known */
	/* store_app_put's steps of the open batch, sent with its commit (sq_apps_send): the
	 * first SQ_APP_STEPS as statements, all of them as apps_put's arrays */
	struct sq_arr app[SQ_APP_ARRAYS];
	const struct sq_stmt *app_stmt[SQ_APP_STEPS];
	struct sq_params app_step[SQ_APP_STEPS];
	size_t n_app;
	unsigned char prep[STMT_COUNT]; /* 0 not prepared, 1 queued in this pipeline, 2 prepared */
	struct sq_cmd *cmds;            /* the pipeline being built */
	size_t n_cmds, cap_cmds;
	bool pipe_broken;                    /* queueing failed: the pipeline is abandoned */
	char sqlstate[6];                    /* of the last failed command, "" if none */
	char sqlmsg[512];                    /* its server's primary message, "" if none */
	struct sq_arr arr[SQ_MAXPARAMS_ARR]; /* array parameters, reused batch after batch */
	/* STORE_POOLING_TRANSACTION: nothing may outlive a transaction (store.h) */
	bool txpool;
	char tx_setup[256];   /* txpool: the settings, as SET LOCAL statements (simple protocol) */
	char tx_setup1[320];  /* txpool: the same as one SELECT of set_config calls (pipelines) */
	char lease_owner[96]; /* txpool: this store's name in credsync.leases */
	int64_t lease_renew_at; /* txpool: when the outbox lease is due for renewal (mono ms) */
};

/* Advisory lock keys (the single-bigint key space; subject locks use the two-int space). */
#define SQ_LOCK_MIGRATE INT64_C(0x63726564730001) /* "creds" 1 */
#define SQ_LOCK_OUTBOX  INT64_C(0x63726564730002)
/* 0x63726564730003 was 007_publish_cursor.sql's seq lock (until 011_seq_fence.sql). */

/* The open batch's repair-application steps (store_app_put), queued in its commit's pipeline
 * (0, or -1: out of memory, in ebuf), and forgotten (sq_apps_clear, also with the batch). */
int sq_apps_send(store *st, struct sq_params *p, char *ebuf, size_t ebufsz);
void sq_apps_clear(store *st);

void sq_p_text(struct sq_params *p, const char *s);         /* NULL stays NULL */
void sq_p_text_or_null(struct sq_params *p, const char *s); /* "" becomes NULL */
/* Text from outside (may be invalid UTF-8): bad bytes become U+FFFD. -1 on ENOMEM. */
int sq_p_text_clean(struct sq_params *p, const char *s);
void sq_p_i64(struct sq_params *p, int64_t v);
void sq_p_bool(struct sq_params *p, bool b);
void sq_p_date(struct sq_params *p, cs_date d);         /* days since 1970; DATE_NONE is NULL */
void sq_p_secs_or_null(struct sq_params *p, int64_t s); /* 0 is NULL */
void sq_p_uuid(struct sq_params *p, const char *s);     /* "" or not a UUID is NULL */
void sq_p_bytes(struct sq_params *p, const void *b, size_t n); /* binary */

/* Begins a[0], a[1], ... one for each letter of types (struct sq_arr's el), which must be the
 * element types the statement casts them to: array_recv refuses any other. Then a text goes
 * to a text or uuid array (not a UUID: NULL, as sq_arr_uuid), an integer (a date, seconds)
 * to an integer or bigint one, a UUID to a uuid one, a boolean to a boolean one, bytes to a
 * bytea one. Anything else, or an integer out of an integer's range, fails as running out of
 * memory does: a mistake in the caller. */
void sq_arrs_begin(struct sq_arr *a, const char *types);
void sq_arr_free(struct sq_arr *a);
void sq_arr_null(struct sq_arr *a);
/* NULL is NULL; bytes that are not UTF-8 become U+FFFD (text from outside). */
void sq_arr_text(struct sq_arr *a, const char *s);
void sq_arr_text_or_null(struct sq_arr *a, const char *s); /* "" is NULL too */
void sq_arr_i64(struct sq_arr *a, int64_t v);
void sq_arr_bool(struct sq_arr *a, bool b);
void sq_arr_date(struct sq_arr *a, cs_date d);         /* DATE_NONE is NULL */
void sq_arr_secs_or_null(struct sq_arr *a, int64_t s); /* 0 is NULL */
void sq_arr_uuid(struct sq_arr *a, const char *s);     /* "" or not a UUID is NULL */
void sq_arr_bytes(struct sq_arr *a, const void *b, size_t n);
/* Closes the array and binds it as the next (binary) parameter of p; -1 when out of memory
 * (or an element of the wrong type). */
int sq_p_arr(struct sq_params *p, struct sq_arr *a);

/* Rows for COPY ... FROM STDIN WITH (FORMAT binary), built field by field into a (reused)
 * sq_arr buffer: sq_copy_begin empties it and writes the header; each sq_copy_* appends one
 * field, in the type of its column (int4, int8, date, timestamptz, uuid, text, bytea), which
 * the server only copies and checks; sq_copy_row_end ends the row and sq_copy_end the rows.
 * Running out of memory is sticky (a->oom). */
void sq_copy_begin(struct sq_arr *a);
void sq_copy_null(struct sq_arr *a);
void sq_copy_text(struct sq_arr *a, const char *s);         /* NULL is NULL; not UTF-8: U+FFFD */
void sq_copy_text_or_null(struct sq_arr *a, const char *s); /* "" is NULL too */
void sq_copy_date(struct sq_arr *a, cs_date d);             /* DATE_NONE is NULL */
void sq_copy_instant_ms(struct sq_arr *a, int64_t ms);      /* a timestamptz, from the epoch */
void sq_copy_secs_or_null(struct sq_arr *a, int64_t s);     /* the same in seconds; 0 is NULL */
void sq_copy_i32(struct sq_arr *a, int32_t v);
void sq_copy_i64(struct sq_arr *a, int64_t v);
void sq_copy_uuid(struct sq_arr *a, const char *s); /* "" or not a UUID is NULL */
void sq_copy_bool(struct sq_arr *a, bool b);
void sq_copy_text_array(struct sq_arr *a, const char *const *el, int n); /* none NULL */
void sq_copy_bytes(struct sq_arr *a, const void *b, size_t n);
void sq_copy_row_end(struct sq_arr *a);
void sq_copy_end(struct sq_arr *a);

/* The outbox lease (STORE_POOLING_TRANSACTION, store_lease.c): take or renew it (*ret_got:
 * whether this store holds it now), renew it when due (-1 with err when it was lost), give it
 * up (best effort, for store_close). */
int sq_lease_take(store *st, bool *ret_got, char *err, size_t errsz);
int sq_lease_keep(store *st, const char *what, char *err, size_t errsz);
void sq_lease_release(store *st);

/* Whether s is a canonical UUID text (8-4-4-4-12 hex digits). */
bool sq_uuid_valid(const char *s);

/* Runs one command outside a pipeline and waits for it (timeout_ms without an answer:
 * cancelled and the connection dropped). p NULL: the simple protocol (several statements
 * allowed). want: the status expected of the last result. *ret (if ret) gets that result
 * on success, to PQclear. Returns 0, or -1 with "what: reason" in err. */
int sq_exec(store *st, const char *what, const char *sql, const struct sq_params *p,
            ExecStatusType want, PGresult **ret, int timeout_ms, char *err, size_t errsz);

/* Runs sql, a COPY ... FROM STDIN, sending data[0..len) (sq_copy_* rows) as its input.
 * Returns 0, or -1 with "what: reason" in err (bounded by the store's timeout). */
int sq_copy(store *st, const char *what, const char *sql, const char *data, size_t len, char *err,
            size_t errsz);

/* A pipeline: sq_pipe_begin, then sq_pipe_sql / sq_pipe_stmt to queue commands (no
 * round trip), then sq_pipe_end sends them all and reads every result, calling cb for each
 * successful result of a queued command with its tag. The first failure (a command, cb, the
 * connection) is reported; the commands after a failed one do not run. */
typedef int (*sq_pipe_cb)(void *ctx, int tag, const PGresult *res, char *err, size_t errsz);
int sq_pipe_begin(store *st, const char *what, char *err, size_t errsz);
void sq_pipe_sql(store *st, const char *sql, int tag);
void sq_pipe_stmt(store *st, const struct sq_stmt *stmt, const struct sq_params *p, int tag);
int sq_pipe_end(store *st, sq_pipe_cb cb, void *ctx, const char *what, char *err, size_t errsz);

/* Forgets the connection (in_tx, the outbox lock and prepared statements go with it);
 * cancel: ask the server to stop what it runs first. NULL connection ok. */
void sq_drop(store *st, bool cancel);

/* Sets err to "what: no connection ..." and returns -1 when st has no connection. */
int sq_need_conn(store *st, const char *what, char *err, size_t errsz);

/* Result fields in text format. Each returns 0, or -1 with err naming the column. */
int sq_get_i64(const PGresult *res, int row, int col, int64_t *ret, char *err, size_t errsz);
int sq_get_str(const PGresult *res, int row, int col, char *buf, size_t bufsz, char *err,
               size_t errsz); /* NULL gives "" */
bool sq_get_bool(const PGresult *res, int row, int col);

/* Whether the last failed command was rolled back by the server's deadlock or serialization
 * check (SQLSTATE 40P01 or 40001): the same transaction may simply be tried again. */
bool store_conflict(const store *st);

/* qsort order of pointers to struct store_tp: by topic, then partition. Claims and commits
 * lock partition rows in this one order, so two instances never deadlock. */
int store_tp_ptr_cmp(const void *a, const void *b);

/* --- SQL of the time-driven reads (store_time.c, store_counts.c) --- */

/* A date parameter $n: dates are passed as days since 1970-01-01; $1 is today in Beijing. */
#define SQ_DAY(n) "(date '1970-01-01' + $" #n "::integer)"
#define SQ_TODAY  SQ_DAY(1)

/* A repair application past its step's due date today: not accepted by accept_due, or
 * accepted and not decided by decide_due. */
#define SQ_APP_OVERDUE                                                                             \
	"decided_at IS NULL AND ((accepted_at IS NULL AND accept_due < " SQ_TODAY ") OR"           \
	" (accepted_at IS NOT NULL AND decide_due < " SQ_TODAY "))"

/* --- one batch's writes (store_batch.c, store_batch_copy.c) --- */

/* The columns a record's writer sets, in struct record's order (put_records, copy_records). */
#define RECORD_PUT_COLUMNS                                                                         \
	"uscc, kind, list, decision_no, status, added, producer, subject_name, added_at, "         \
	"add_event_id, decided_on, categories, field, has_fine, fine_fen, severity, light, "       \
	"channel, repairable_from, disclose_until, end_reason, ended_at, ended_by, end_event_id, " \
	"ended_on, repair_decision_no, end2_reason, end2_at, end2_by, end2_event_id, end2_on, "    \
	"end2_repair_decision_no"

/* The message of each obligation: the batch's out row of the same id, or none. */
struct obl_msg {
	const struct obligation *ob;
	const struct store_outrow *out;
};

/* Batches of at least COPY_MIN_ROWS messages write their inbound rows, the records they create,
 * and their obligations with their pending rows, with COPY straight into the tables: a third less
 * of the server's time than the same rows from arrays (docs/SCALE.md, seventh round; through a
 * staging table, as inbound went before, the INSERT ... SELECT out of it cost what the arrays
 * cost). COPY has no ON CONFLICT, so the copies run under a savepoint: a row already stored (a
 * replayed batch, which the offsets' fence then refuses; an obligation written before) rolls them
 * back, and the batch's rows go through the arrays, whose statements decide as before. The
 * obligations' seqs are drawn first, in the rows' order (014_copy.sql). */
#define COPY_MIN_ROWS 32

/* COPYs the batch's inbound rows, its new records when copy_recs, and its obligations with
 * their pending rows (obl, as store_batch.c pairs them with their messages) when copy_obl, under a
 * savepoint, in the batch's transaction (opened here when the caller did not). Returns 1 when they
 * are written, 0 when a row was already there (rolled back to the savepoint: the arrays are to
 * write them), or -1 with err. */
int sq_batch_copy(store *st, const struct store_batch *b, const struct obl_msg *obl, bool copy_recs,
                  bool copy_obl, char *err, size_t errsz);

#endif
