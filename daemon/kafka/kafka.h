/* kafka: credsyncd's Kafka edge: one consumer-group member reading every credit.in.* and
 * credit.ack.* topic from offsets kept in PostgreSQL, and one idempotent producer. */
#ifndef CREDSYNC_KAFKA_H
#define CREDSYNC_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/* The subscription: regular expressions, so topics created later are picked up at the next
 * metadata refresh (topic.metadata.refresh.interval.ms, 10 s unless kafka.* sets it). */
#define KAFKA_SUBSCRIPTION_IN  "^credit\\.in\\..+"
#define KAFKA_SUBSCRIPTION_ACK "^credit\\.ack\\..+"

/* Opaque: one consumer handle and one producer handle, used from two threads.
 * - The consumer side (kafka_consume_batch, kafka_pause_serve, kafka_resume, kafka_rewind,
 *   kafka_commit_async, kafka_high_watermark, kafka_assignment) is not thread-safe: one thread
 * (credsyncd's main thread) makes all of these calls; the assign and revoke hooks run in it, inside
 *   kafka_consume_batch and kafka_close.
 * - The producer side (kafka_produce, kafka_poll, kafka_push, kafka_prepare_topics,
 *   kafka_fatal) may be called from one other thread (the publisher's) at the same time as
 *   the consumer side: it uses only the producer handle (librdkafka's handles are
 *   thread-safe), the hooks (never changed after kafka_new) and a mutex-guarded topic list.
 *   The delivered hook runs in the thread that calls kafka_produce, kafka_poll, kafka_push
 *   or kafka_close.
 * - kafka_new and kafka_close are called alone: kafka_close only after every other call has
 *   returned and no thread will make another.
 * librdkafka's log lines and errors reach log.h from librdkafka's own threads too; log.h is
 * thread-safe. */
typedef struct kafka kafka;

/* Keep the member order: callers initialize this positionally. */
struct kafka_hooks {
	/* An assignment arrived (eager protocol: always the member's whole new assignment).
	 * Must set parts->elems[i].offset to the next offset to read, from the database; every
	 * offset arrives preset to RD_KAFKA_OFFSET_BEGINNING (the offset for a partition the
	 * database does not know), and a negative offset other than BEGINNING or END is read as
	 * BEGINNING: Kafka's committed offsets are never used. Returns 0, or -1 when the offsets
	 * could not be read: nothing was then assigned, and the hook is called again with the
	 * same partitions at the start of every kafka_consume_batch until it succeeds, unless a
	 * revocation comes first. A failing hook must leave nothing claimed. May be NULL (every
	 * partition from the beginning). */
	int (*assign)(void *arg, rd_kafka_topic_partition_list_t *parts);
	/* The assignment is taken away (a rebalance, or kafka_close): called with the partitions
	 * the last successful assign hook accepted, before they are dropped. Not called when the
	 * assign hook never succeeded for them. May be NULL. */
	void (*revoke)(void *arg, const rd_kafka_topic_partition_list_t *parts);
	/* The delivery report of one message queued by kafka_produce: opaque as given there (NULL
	 * included), err RD_KAFKA_RESP_ERR_NO_ERROR on success. Runs inside kafka_poll and
	 * kafka_close; exactly once per queued message. May be NULL. */
	void (*delivered)(void *arg, void *opaque, rd_kafka_resp_err_t err);
	void *arg;
};

/* Creates the consumer (group member of kafka.group.id, subscribed to the two expressions
 * above) and the producer (enable.idempotence=true, acks=all), with cfg's kafka.* properties
 * passed through to librdkafka (config_foreach_kafka); consumer-only properties go to the
 * consumer only, producer-only ones to the producer only. bootstrap, when not NULL, replaces
 * kafka.bootstrap.servers (the embedded cluster's address). credsync's own settings win
 * over kafka.*: enable.auto.commit=false, enable.auto.offset.store=false, and for the
 * producer enable.idempotence=true, acks=all; a cooperative partition.assignment.strategy
 * is refused (librdkafka 2.0.2 loses assignments when it is combined with offset commits).
 * Defaults that kafka.* may change: client.id=credsyncd, partition.assignment.strategy=
 * roundrobin, auto.offset.reset=earliest, topic.metadata.refresh.interval.ms=10000.
 * hooks is copied. librdkafka's log lines go to log.h. Returns NULL with the reason in err. */
kafka *kafka_new(const char *bootstrap, const config *cfg, const struct kafka_hooks *hooks,
                 char *err, size_t errsz);

/* The same without a config: props is a NULL-terminated array of librdkafka property and
 * value pairs ({"session.timeout.ms", "6000", NULL}), or NULL; group, when not NULL, replaces
 * a group.id in props (one of them must give it). Nothing is kept of props. */
kafka *kafka_new_props(const char *bootstrap, const char *group, const char *const *props,
                       const struct kafka_hooks *hooks, char *err, size_t errsz);

/* Hands cfg's kafka.* properties to librdkafka's configuration (rd_kafka_conf_set) without
 * creating a handle (no I/O), for credsyncd --check: a value librdkafka refuses (an unknown
 * security.protocol, say) is reported with librdkafka's reason naming the property, never
 * the value (it may be a secret). What librdkafka checks only when a handle is made (that
 * ssl.ca.location can be read, for one) is reported by kafka_new at start. Returns 0, or -1
 * with "FILE:LINE: reason" in err (the line that set the property). */
int kafka_check(const config *cfg, char *err, size_t errsz);

/* Waits up to timeout_ms for a first message, then takes what is already there, up to max,
 * into ret. Rebalances (and so the assign and revoke hooks) happen inside; when one happens,
 * the messages taken before it are dropped, so every message returned belongs to the
 * assignment in force on return and comes after the offsets its assign hook gave. Errors
 * that are not messages (a broker down, a topic deleted) are logged and skipped. Returns the
 * number of messages; the caller owns them (rd_kafka_message_destroy, before kafka_close). */
size_t kafka_consume_batch(kafka *k, rd_kafka_message_t **ret, size_t max, int timeout_ms);

/* Moves the read position of each partition of offsets that is currently assigned to its
 * offset (after a batch was rolled back), so the next batches start there; messages already
 * fetched past it are discarded. Partitions not assigned any more are ignored. Returns 0, or
 * -1 with the reason in err. */
int kafka_rewind(kafka *k, const rd_kafka_topic_partition_list_t *offsets, char *err, size_t errsz);

/* For while the messages consumed cannot be applied (the database is unavailable): pauses
 * fetching every assigned partition (and those assigned later, until kafka_resume) and serves
 * the consumer for up to timeout_ms without taking a message: rebalances, errors, and the poll
 * that keeps the member in its group (max.poll.interval.ms). Call it at least that often while
 * paused. A message that arrives nonetheless (fetched before the pause) is dropped, and its
 * partition is read again from it at kafka_resume. */
void kafka_pause_serve(kafka *k, int timeout_ms);
/* Fetches again what kafka_pause_serve paused; nothing when not paused. */
void kafka_resume(kafka *k);

/* Queues one message to topic, keyed by key (NULL or "": no key), payload copied. opaque is
 * handed to the delivered hook. When the local queue is full, serves delivery reports for
 * up to 5 s waiting for room. Returns 0 (queued: exactly one delivery report will follow),
 * or -1 with the reason in err (not queued: no report). */
int kafka_produce(kafka *k, const char *topic, const char *key, const void *payload, size_t len,
                  void *opaque, char *err, size_t errsz);

/* Serves the producer's events (delivery reports, errors), waiting up to timeout_ms. */
void kafka_poll(kafka *k, int timeout_ms);

/* Makes the producer fetch the metadata of topics now (one request for the cluster, waiting
 * up to timeout_ms) and keep it, so that the first messages to them do not wait for a
 * metadata request and for the broker thread to take up the new partitions (librdkafka 2.0.2
 * looks unknown topics up once a second). For the topics the daemon will produce to; at most
 * KAFKA_PREPARE_MAX in all over k's life. Returns 0, or -1 with err (a topic the cluster
 * lacks, a timeout): the topics still work then, only the first messages may be slower. */
#define KAFKA_PREPARE_MAX 512
int kafka_prepare_topics(kafka *k, const char *const *topics, size_t n, int timeout_ms, char *err,
                         size_t errsz);

/* As kafka_poll, but first wakes the producer's brokers to send what is queued now, without
 * waiting for linger.ms or the broker thread's next tick (librdkafka's flush). Returns when
 * nothing is in the producer's queue or after timeout_ms; delivered hooks run inside. */
void kafka_push(kafka *k, int timeout_ms);

/* Commits offsets (the next offsets to read) to Kafka's group offsets without waiting: only so
 * that kafka-consumer-groups and kcat show lag. PostgreSQL holds the real ones; these are
 * never read back. NULL or empty: nothing. A failure is logged at the next consume. */
void kafka_commit_async(kafka *k, const rd_kafka_topic_partition_list_t *offsets);

/* The cached high watermark (offset of the next message to arrive) of a partition this
 * member fetches, as of the last fetch. Returns 0, or -1 when it is not known (yet). */
int kafka_high_watermark(kafka *k, const char *topic, int32_t partition, int64_t *ret_high);

/* The current assignment, with the offsets the assign hook gave. Never NULL (empty when
 * nothing is assigned); owned by k and valid until the next kafka_consume_batch or
 * kafka_close. */
const rd_kafka_topic_partition_list_t *kafka_assignment(const kafka *k);

/* Returns 1 and the reason in err when the producer met a fatal error (the idempotent
 * producer's sequence is broken: produce fails from then on; restart the process), else 0. */
int kafka_fatal(kafka *k, char *err, size_t errsz);

/* Leaves the group (the revoke hook runs), delivers what is queued for up to
 * flush_timeout_ms (the delivered hook runs; what is still undelivered then is reported with
 * RD_KAFKA_RESP_ERR__PURGE_QUEUE or __PURGE_INFLIGHT), and frees everything. NULL is fine. */
void kafka_close(kafka *k, int flush_timeout_ms);

#endif
