/* store: credsync's PostgreSQL state (schema credsync): migrations, fenced consumer offsets,
 * batches applied in one transaction with their offsets (exactly-once effect), the outbox. */
#ifndef CREDSYNC_STORE_H
#define CREDSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "event.h"
#include "reconcile.h"

/* One connection. Not thread-safe: one thread uses a store at a time (the consumer and the
 * publisher each open their own). Every call that talks to the server is bounded: when the
 * server sends nothing for timeout_ms the call cancels the query, drops the connection and
 * fails with "database did not answer within N ms"; later calls fail until store_reconnect.
 * Error texts never contain the connection string. */
typedef struct store store;

#define STORE_FENCED 1 /* store_batch_commit: a partition was claimed by someone else */
/* store_batch_begin, store_batch_commit: the server broke a deadlock or a serialization
 * failure (SQLSTATE 40P01, 40001) by rolling this transaction back; retry it at once. Negative,
 * so that callers testing "< 0" see a failure as before. */
#define STORE_CONFLICT (-2)

/* Connects (libpq's PG* environment and ~/.pgpass apply; TCP keepalives are on unless
 * conninfo says otherwise), sets search_path = credsync, pg_catalog, statement_timeout
 * and idle_in_transaction_session_timeout (both from timeout_ms). conninfo is copied.
 * Returns NULL with the reason in err. */
store *store_open(const char *conninfo, int timeout_ms, char *err, size_t errsz);

/* How the connection reaches PostgreSQL (pg.pooling). SESSION: directly or through a pooler
 * that gives each client a server connection for its whole session; named prepared
 * statements, session settings and a session advisory lock for the publisher. TRANSACTION:
 * through a pooler that may hand each transaction to another server connection (PgBouncer's
 * pool_mode = transaction): nothing outlives a transaction (unnamed statements, settings
 * made with SET LOCAL in each transaction the store opens, no temporary table, a lease row
 * for the publisher), and store_migrate only checks that no migration is missing. */
enum store_pooling { STORE_POOLING_SESSION, STORE_POOLING_TRANSACTION };

/* The pooling that pg.pooling's value names ("transaction"; anything else is session). */
enum store_pooling store_pooling_of(const char *name);

/* store_open for a connection reached the way pooling says. */
store *store_open_pooled(const char *conninfo, int timeout_ms, enum store_pooling pooling,
                         char *err, size_t errsz);

/* With STORE_POOLING_SESSION, checks that sts[0..n) (at most 8, all open at once) are
 * distinct sessions: when two share one server process they go through a transaction
 * pooler, and -1 comes back with err naming the cause and the fix (a configuration error:
 * retrying cannot help). Returns 0 otherwise, or -1 when a query failed. A transaction
 * pooler is not always caught (its server connections may happen to differ), but whenever
 * it is, nothing else would have worked. */
int store_check_sessions(store *const *sts, size_t n, char *err, size_t errsz);
void store_close(store *st); /* NULL ok */

/* Drops the connection (if any) and connects again: the open batch is rolled back, the
 * outbox lock is released. Returns 0 or -1 with err. */
int store_reconnect(store *st, char *err, size_t errsz);

/* Applies sqldir/NNN_*.sql not yet in credsync.schema_migrations, in order, each in its own
 * transaction, under a session advisory lock (instances starting together wait for each
 * other). Migrations may run longer than timeout_ms (up to STORE_MIGRATE_TIMEOUT_MS).
 * Returns the number applied (>= 0), or -1 with err naming the file. With
 * STORE_POOLING_TRANSACTION (no session lock possible) it applies nothing: it returns 0 when
 * every migration is applied, else -1 with err saying to migrate through a direct
 * connection. */
#define STORE_MIGRATE_TIMEOUT_MS (10 * 60 * 1000)
int store_migrate(store *st, const char *sqldir, char *err, size_t errsz);

/* A Kafka partition and its position: the offset of the next message to consume. */
struct store_tp {
	char topic[256];
	int32_t partition;
	int64_t offset;
	int64_t epoch;
};

/* Claims tps[0..n) for member of group grp, in one transaction: the owner becomes member,
 * the epoch goes up by one (a partition never seen starts at offset 0, epoch 1), and each
 * tps[i].offset / .epoch is set to the stored next offset and the new epoch. A batch read
 * before the claim can then no longer commit (store_batch_commit returns STORE_FENCED).
 * Returns 0 or -1 with err. */
int store_claim(store *st, const char *grp, const char *member, struct store_tp *tps, size_t n,
                char *err, size_t errsz);

/* Opens a batch's transaction in one round trip: takes a transaction advisory lock per
 * distinct subject USCC of usccs (in a fixed order, so instances holding events about the
 * same subject on different partitions serialise without deadlock), reads the records of
 * keys (ret_found[i]; ret_recs[i] when found, zeroed with its key otherwise) and tells which
 * event ids took effect already (ret_seen[i]: applied, stale or noop; "" never seen). Ids
 * repeated inside one batch are the caller's to mark as duplicates. The transaction stays
 * open until store_batch_commit or store_batch_rollback. Returns 0, or STORE_CONFLICT or -1
 * with err (rolled back). */
int store_batch_begin(store *st, const char (*usccs)[USCC_BUF], size_t n_uscc,
                      const struct record_key *keys, size_t n_keys, struct record *ret_recs,
                      bool *ret_found, const char (*event_ids)[UUID_STRLEN], size_t n_ids,
                      bool *ret_seen, char *err, size_t errsz);

/* One consumed message, whatever its fate. Strings may be NULL ("" for event_id means none;
 * an event id that is not a UUID is stored as none); text that is not valid UTF-8 is stored
 * with U+FFFD in place of the bad bytes. kafka_ts_ms < 0: unknown. */
struct store_inbound {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *event_id;
	const char *producer;
	const char *uscc;
	int64_t kafka_ts_ms;
	const char *outcome; /* applied, stale, noop, duplicate, rejected, ack, ignored */
	const char *reason;
	const char *detail;
	const void *payload;
	size_t payload_len;
};

/* A message to publish; id is a UUID, key may be "" or NULL (no key). */
struct store_outrow {
	const char *id;
	const char *topic;
	const char *key;
	const char *payload;
};

struct store_batch {
	const struct store_inbound *in; /* stored; a message already stored is left as it is */
	size_t n_in;
	const struct record *recs; /* upserted: the final state of each record touched */
	size_t n_recs;
	/* per record: stored before the batch (store_batch_begin found it); NULL: not known.
	 * A large batch COPYs the others. */
	const bool *rec_stored;
	const struct obligation *obl; /* inserted; an id already stored is left as it is */
	size_t n_obl;
	const struct store_outrow *out; /* outbox rows; an id already stored is left as it is */
	size_t n_out;
	const struct ack *acks; /* obligation (id, site) not yet acknowledged becomes so */
	size_t n_acks;
	/* per ack: the message it came in, kept in acks when it takes effect and as an inbound
	 * row ('ack') when not (016_acks_log.sql); NULL: none kept */
	const struct store_inbound *ack_in;
	const char *grp;
	const char *member;
	const struct store_tp *offsets; /* next offset per partition, epoch from store_claim */
	size_t n_offsets;
};

/* Writes the batch in one round trip (pipelined prepared statements), checks that every
 * partition in b->offsets is still member's at its epoch while moving its offset, and
 * commits. Replaying a committed batch changes nothing. Without an open batch (no
 * store_batch_begin) it opens its own transaction, without subject locks.
 * Returns 0 (committed), STORE_FENCED (rolled back: a partition was lost; claim again),
 * STORE_CONFLICT (rolled back by the server's deadlock or serialization check; retry), or
 * -1 (rolled back or unknown; reason in err: reconnect and retry the same batch). */
int store_batch_commit(store *st, const struct store_batch *b, char *err, size_t errsz);
/* Rolls back the open batch, if any. */
void store_batch_rollback(store *st);

/* The SQLSTATE of the last command the server refused on st ("" when the last failure was
 * not the server's answer: a lost connection, a timeout, out of memory), and the server's
 * primary message with it ("" likewise). A batch rolled back keeps the failure that caused
 * it. Valid until the next call on st. */
const char *store_sqlstate(const store *st);
const char *store_sqlmsg(const store *st);

/* In the open batch: stores in->* as a message the database refused for good (outcome
 * 'failed', with sqlstate and error; in->outcome, reason and detail are not used). A message
 * stored already is left as it is. Returns 0, or -1 with err. */
int store_failed_put(store *st, const struct store_inbound *in, const char *sqlstate,
                     const char *error, char *err, size_t errsz);
/* In the open batch: removes the failed inbound row of (topic, partition, offset) so that the
 * batch's commit stores the message's new outcome in its place. *ret_found is false when no
 * such failed row exists (it was retried already). Returns 0, or -1 with err. */
int store_failed_take(store *st, const char *topic, int32_t partition, int64_t offset,
                      bool *ret_found, char *err, size_t errsz);

/* The oldest failed message of a subject: what a later message of it waits behind. */
struct store_failed_cause {
	char sqlstate[6];
	char topic[256];
	int32_t partition;
	int64_t offset;
};
/* Outside a batch: the oldest failed message of uscc, *ret_found false when it has none (any
 * more). Returns 0, or -1 with err. */
int store_failed_first(store *st, const char *uscc, struct store_failed_cause *ret, bool *ret_found,
                       char *err, size_t errsz);
/* The distinct subjects of the failed messages, into a malloc'd array (free it; NULL when
 * none). Returns 0, or -1 with err. */
int store_failed_subjects(store *st, char (**ret)[USCC_BUF], size_t *ret_n, char *err,
                          size_t errsz);

/* An inbound event that had taken effect and is now refused (an end that arrived before its
 * add and fails once the add came): where it was read, and its bytes (malloc'd, owned by the
 * caller: free(payload)). */
struct store_refused {
	char topic[256];
	int32_t partition;
	int64_t offset;
	char *payload;
	size_t payload_len;
};
/* In the open batch: turns the applied inbound row of event_id into a rejected one with reason
 * and detail, and returns where it was read. *ret_found is false (and *ret untouched) when no
 * applied row has that id. Returns 0, or -1 with err. */
int store_inbound_refuse(store *st, const char *event_id, const char *reason, const char *detail,
                         struct store_refused *ret, bool *ret_found, char *err, size_t errsz);

/* Up to max keys of shown records whose disclosure ended before today (Beijing date), oldest
 * first, for reconcile_expiry (read them again under store_batch_begin). */
int store_expiring(store *st, cs_date today, size_t max, struct record_key *ret_keys, size_t *ret_n,
                   char *err, size_t errsz);

/* Outbox. Only the holder of the outbox lock (a session advisory lock) publishes; the lock
 * goes with the connection (store_reconnect, a timeout). *ret_got tells whether this store
 * holds it now. With STORE_POOLING_TRANSACTION the lock is a lease row instead
 * (credsync.leases, STORE_LEASE_MS long), renewed by the fetches and marks that need it and
 * given up by store_close; a lease whose holder stopped renewing it passes to another
 * instance once it expires. */
#define STORE_LEASE_MS 30000
int store_outbox_lock(store *st, bool *ret_got, char *err, size_t errsz);

struct outbox_row {
	int64_t seq;
	char id[UUID_STRLEN];
	char topic[256];
	char *key;     /* "" when none; freed by store_outbox_free */
	char *payload; /* freed by store_outbox_free */
};

/* Up to limit unsent rows with seq > after_seq, in seq order, into a malloc'd array owned
 * by the caller (*ret NULL when none). The read starts from the publish cursor, below which
 * no message can still commit (011_seq_fence.sql): after_seq = 0 reads every unsent row,
 * the resends queued by credsyncctl resend included. Needs the outbox lock. */
int store_outbox_fetch(store *st, int64_t after_seq, int limit, struct outbox_row **ret,
                       size_t *ret_n, char *err, size_t errsz);
/* As store_outbox_fetch, leaving out the rows whose seq is in except[0..n_except) (rows in
 * flight). */
int store_outbox_fetch_except(store *st, int64_t after_seq, const int64_t *except, size_t n_except,
                              int limit, struct outbox_row **ret, size_t *ret_n, char *err,
                              size_t errsz);
void store_outbox_free(struct outbox_row *rows, size_t n); /* NULL ok */

/* Marks rows sent: the publish cursor moves up past them and the rows delivered before them,
 * to below the first row still unsent (as far as the transactions still running allow).
 * The rows it cannot pass yet are kept in this store, left out of the fetches, and passed by
 * a later call (n = 0: only that); beyond 10,000 of them (the cursor held down), rows are
 * marked on the row instead. Needs the outbox lock; taking it anew forgets them, so that
 * they are sent again (the same ids). */
int store_outbox_mark_sent(store *st, const int64_t *seqs, size_t n, char *err, size_t errsz);

/* Thins the publish cursor's history (credsync.sent_marks) older than 10 minutes to its last
 * move of each second: the sent_at of an older message is then up to a second late. */
int store_sent_marks_thin(store *st, char *err, size_t errsz);

/* The obligations not acknowledged yet, for the backlog log line, by a full scan. */
struct store_backlog {
	int64_t unsent;         /* messages not sent (obligations or not) */
	int64_t unacknowledged; /* sent or not */
	int64_t overdue;        /* not acknowledged by the end of their due date (Beijing) */
	cs_date oldest_due;     /* of the unacknowledged; DATE_NONE when there are none */
};
int store_backlog(store *st, struct store_backlog *ret, char *err, size_t errsz);

#endif
