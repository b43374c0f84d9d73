/* publisher: the outbox table -> Kafka. Sends unsent rows in outbox order with the
 * idempotent producer and marks a row sent only on a successful delivery report; a failed
 * or missing report leaves it unsent, so it is sent again with the same id. Only the
 * instance holding the outbox lock publishes, which keeps each subject's messages in order. */
#ifndef CREDSYNC_PUBLISHER_H
#define CREDSYNC_PUBLISHER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "kafka.h"
#include "store.h"

typedef struct publisher publisher;

/* st: a store connection of the publisher's own (it holds a session lock); k: the producer.
 * Both borrowed. batch: rows in flight at most. */
publisher *publisher_new(store *st, kafka *k, int batch);
void publisher_free(publisher *pub); /* NULL is fine; rows still in flight stay unsent */

/* Delivery report of a message produced by the publisher (the kafka delivered hook). */
void publisher_delivered(publisher *pub, void *opaque, rd_kafka_resp_err_t err);

/* One non-blocking step: marks delivered rows sent; when nothing is in flight, takes the
 * outbox lock if free and produces the next unsent rows. Returns the number of rows marked
 * sent, or -1 on a store error (err; the caller reconnects the store and calls again). */
int publisher_step(publisher *pub, char *err, size_t errsz);

/* At shutdown: marks the delivered rows sent, produces nothing new. Returns as
 * publisher_step. */
int publisher_finish(publisher *pub, char *err, size_t errsz);

/* Rows produced and not yet reported. */
size_t publisher_in_flight(const publisher *pub);

/* Runs publisher_step on a thread of its own, so that reading and marking the outbox overlaps
 * the pipeline's batches: it serves the producer's delivery reports (nothing else may poll
 * the producer until publisher_stop), waits idle_ms between outbox reads when there is
 * nothing to send, and retries a store failure with backoff capped at max_backoff_ms
 * (reconnecting the store). Returns 0, or -1 with err. */
int publisher_start(publisher *pub, int idle_ms, long max_backoff_ms, char *err, size_t errsz);

/* Stops the thread (NULL or not started: nothing), waits up to timeout_ms for the reports of
 * the rows in flight and marks the delivered ones sent. */
void publisher_stop(publisher *pub, int timeout_ms);

/* Tells the thread of publisher_start that rows were committed to the outbox: it reads them
 * now instead of after its idle wait. Any thread; NULL or not started: nothing. */
void publisher_wake(publisher *pub);

/* Forgets the lock after the store connection was re-established. */
void publisher_reset(publisher *pub);

#endif
