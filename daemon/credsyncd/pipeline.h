/* pipeline: one batch of consumed Kafka messages -> one PostgreSQL transaction.
 * Parses each message, drops duplicates, runs the pure reconciler in partition order, and
 * hands the store everything to write (inbound log, records, obligations, outbox rows for
 * both sites and for rejects, acknowledgements, the next offsets) in one commit. */
#ifndef CREDSYNC_PIPELINE_H
#define CREDSYNC_PIPELINE_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "rules.h"
#include "store.h"

/* One pipeline is shared by the apply workers (applier.h), each applying the batches of its own
 * partitions on its own connection: pipeline_apply may run in several threads at once, on
 * disjoint partitions and distinct stores. The held partitions and the counters are guarded
 * inside. pipeline_claim, pipeline_release and pipeline_set_rules are the main thread's, and
 * only while no pipeline_apply runs. */
typedef struct pipeline pipeline;

/* st (the connection of the claims), r and cal are borrowed and must outlive the pipeline
 * (pipeline_set_rules swaps them on reload). grp/member are copied. */
pipeline *pipeline_new(store *st, const rules *r, const calendar *cal, const char *grp,
                       const char *member);
void pipeline_free(pipeline *p); /* NULL is fine */
void pipeline_set_rules(pipeline *p, const rules *r, const calendar *cal);

/* Claims the partitions of an assignment in the database and fills each one's offset with
 * the next offset stored there. Returns 0, or -1 with the reason in err. */
int pipeline_claim(pipeline *p, rd_kafka_topic_partition_list_t *parts, char *err, size_t errsz);
/* Forgets revoked partitions: their effects can no longer be committed by this instance. */
void pipeline_release(pipeline *p, const rd_kafka_topic_partition_list_t *parts);

/* Why the database refused a message for good (its SQLSTATE and the server's message), or
 * sqlstate NULL: the message is applied as usual. */
struct pipeline_failure {
	const char *sqlstate;
	const char *error;
};

/* Applies msgs (in consumption order) in one transaction on st. fail, when not NULL, has one
 * entry per message: those with a sqlstate are not applied but stored in inbound as 'failed'
 * with it (and logged msg=failed once committed); their offsets move like the others'.
 * Returns 0 when committed, STORE_FENCED when a partition was lost (nothing written; the
 * caller re-reads its assignment), STORE_CONFLICT when the server broke a deadlock or a
 * serialization conflict with another transaction (nothing written; retry the same batch at
 * once), or -1 when nothing was written: store_sqlstate(st) then tells whether the server
 * refused something (a SQLSTATE) or the connection failed (""); reconnect st before trying
 * again. */
int pipeline_apply(pipeline *p, store *st, rd_kafka_message_t *const *msgs, size_t n,
                   const struct pipeline_failure *fail, char *err, size_t errsz);

/* A message as read back from inbound: credsyncctl retry. ts_ms < 0: unknown. */
struct pipeline_msg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int64_t ts_ms;
	const void *payload;
	size_t len;
};

/* pipeline_retry: msg is not (or no longer) a failed message; nothing was written. */
#define PIPELINE_GONE 2

/* Applies a failed message again, through the same reconciliation as pipeline_apply, in one
 * transaction on st that replaces its failed inbound row by its outcome now (*ret_outcome, a
 * static string: applied, rejected, duplicate...). No consumer offset moves (it moved when the
 * message failed). Returns 0, PIPELINE_GONE, STORE_CONFLICT or -1 as pipeline_apply. */
int pipeline_retry(pipeline *p, store *st, const struct pipeline_msg *msg, const char **ret_outcome,
                   char *err, size_t errsz);

/* The subject (USCC) of an inbound event, false when m is not one (an ack, a reject). */
bool pipeline_subject(pipeline *p, const rd_kafka_message_t *m, char ret_uscc[USCC_BUF]);

/* The next offset committed for a partition, or -1 when it is not held. */
int64_t pipeline_next_offset(pipeline *p, const char *topic, int32_t partition);

/* Counters since start, for the logs: of the batches committed. */
struct pipeline_stats {
	uint64_t batches, messages, applied, stale, noop, duplicates, rejected, acks, obligations,
	    failed;
};
void pipeline_stats(pipeline *p, struct pipeline_stats *ret);

#endif
