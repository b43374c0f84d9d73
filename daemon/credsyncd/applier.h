/* applier: the apply workers. N threads, each with its own PostgreSQL connection, apply the
 * consumed batches through one shared pipeline. Each partition belongs to one worker (by its
 * partition number), so the messages of a partition are applied in order, one transaction at
 * a time; workers run side by side on different partitions. Two workers
 * touching one subject serialise on the subject's advisory lock, and the offsets'
 * compare-and-set in each batch's transaction keeps the effect exactly once.
 * A batch that fails because the database is unavailable is tried again as it is until it
 * commits; one the server refuses for its content (a constraint, a trigger: any SQLSTATE but
 * the transient ones of applier.c) three times in a row is applied in halves, recursively,
 * until the messages that fail alone are found: they are stored as failed (pipeline.h), with
 * the later messages of their subjects in the same batch, and everything else is applied. */
#ifndef CREDSYNC_APPLIER_H
#define CREDSYNC_APPLIER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "pipeline.h"

typedef struct applier applier;

/* Called in a worker's thread; may be NULL. */
struct applier_hooks {
	/* A batch committed: msgs[0..n) (still the worker's: borrow them). */
	void (*applied)(void *arg, rd_kafka_message_t *const *msgs, size_t n);
	/* A batch failed and will be tried again (not for conflicts retried at once). */
	void (*failed)(void *arg);
	void *arg;
};

struct applier_conf {
	size_t workers;             /* >= 1 */
	size_t max_batch;           /* the most messages in one transaction (batch.max_events) */
	const char *conninfo;       /* each worker's connection (copied) */
	enum store_pooling pooling; /* pg.pooling */
	int timeout_ms;             /* pg.statement_timeout_ms */
	long max_backoff_ms;        /* retry.max_backoff_ms */
	struct applier_hooks hooks;
};

/* Opens the workers' connections (failing at once if one cannot be made: the caller has just
 * connected with the same settings) and starts the threads. p is borrowed and must outlive the
 * applier. Returns NULL with the reason in err. */
applier *applier_new(pipeline *p, const struct applier_conf *conf, char *err, size_t errsz);

/* Waits up to timeout_ms until every worker has room for more work. Returns true when it has
 * (the main loop then consumes the next batch). */
bool applier_room(applier *a, int timeout_ms);

/* Hands msgs[0..n) (consumed in this order) to the workers, without waiting: each message goes
 * to its partition's worker, in jobs of at most max_batch messages. The messages are the
 * applier's from here on (it destroys them). Returns 0, or -1 when out of memory (nothing was
 * taken: the caller destroys them and rewinds). */
int applier_submit(applier *a, rd_kafka_message_t **msgs, size_t n);

/* Waits up to timeout_ms until no worker has a job, queued or running. Returns true when idle.
 * A worker retrying a failed batch stays busy until it succeeds or the applier stops. */
bool applier_idle(applier *a, int timeout_ms);

/* Whether a worker is retrying a batch that failed for a reason that is not its messages' (the
 * database is unavailable): no more work should be consumed until it clears; the caller keeps
 * serving the consumer with its partitions paused. */
bool applier_stalled(applier *a);

/* Whether a batch was fenced (a partition lost to another instance) since the last call: the
 * caller waits for applier_idle and rewinds the consumer to the held offsets. */
bool applier_take_fenced(applier *a);

/* Stops the workers: each finishes the attempt it is making, the jobs not applied are dropped
 * with their messages (they are read again at the next start), the threads are joined and the
 * connections closed. Call before kafka_close. NULL is fine; afterwards applier_idle is true at
 * once and applier_submit drops what it is given. */
void applier_stop(applier *a);
void applier_free(applier *a); /* stops first if needed; NULL is fine */

#endif
