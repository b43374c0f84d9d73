/* kafka_int: what kafka.c (life and consumer side), kafka_producer.c (producer side) and
 * kafka_conf.c (configuration) share. Not for users of kafka.h. */
#ifndef CREDSYNC_KAFKA_INT_H
#define CREDSYNC_KAFKA_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"

/* Two sides used by two threads (see kafka.h): the consumer side's fields are touched only
 * by the consumer thread; the producer side has only the producer handle (librdkafka
 * handles are thread-safe) and `prepared`, under mu. hooks never change after kafka_new. */
struct kafka {
	struct kafka_hooks hooks;

	/* consumer side */
	rd_kafka_t *consumer;
	/* What the assign hook accepted and librdkafka was told to fetch; never NULL. */
	rd_kafka_topic_partition_list_t *assignment;
	/* An assignment whose hook failed, retried by kafka_consume_batch; or NULL. */
	rd_kafka_topic_partition_list_t *pending;
	/* Inside kafka_consume_batch: messages taken so far, and how many of them were taken
	 * before the last rebalance (those belong to an assignment that is gone). */
	size_t taken;
	size_t cut;
	/* kafka_pause_serve: fetching is paused; the partitions of messages that arrived while
	 * paused (fetched before the pause), each at the first such offset, to read again at
	 * kafka_resume (NULL when none). */
	bool paused;
	rd_kafka_topic_partition_list_t *replay;

	/* producer side */
	rd_kafka_t *producer;
	pthread_mutex_t mu; /* guards prepared and n_prepared */
	/* The producer's topic handles of kafka_prepare_topics, kept until kafka_close. */
	rd_kafka_topic_t *prepared[KAFKA_PREPARE_MAX];
	size_t n_prepared;
};

/* Properties that belong to one side only (NULL-terminated). */
extern const char *const kafka_consumer_only[];
extern const char *const kafka_producer_only[];

/* A configuration with what both sides share (client.id, defaults, props without skip,
 * bootstrap, k as opaque, the log and error callbacks), or NULL with err. */
rd_kafka_conf_t *kafka_common_conf(kafka *k, const char *bootstrap, const char *const *defaults,
                                   const char *const *props, const char *const *skip, char *err,
                                   size_t errsz);
/* Sets one property; 0 or -1 with librdkafka's reason (naming the property) in err. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errsz);
/* The value of a property as configured, into buf ("" when unset or too long); returns buf. */
const char *kafka_conf_get(const rd_kafka_conf_t *conf, const char *name, char *buf, size_t bufsz);
/* cfg's kafka.* properties as a NULL-terminated name/value array into *ret_kv (malloc'd, free
 * it; NULL when there are none; the strings stay cfg's). Returns 0, or -1 with err. */
int kafka_conf_props(const config *cfg, const char ***ret_kv, char *err, size_t errsz);
/* Sets every name/value pair of kv (NULL-terminated); 0 or -1 with err. */
int kafka_conf_set_all(rd_kafka_conf_t *conf, const char *const *kv, char *err, size_t errsz);

/* Creates k's producer (and its mutex); NULL with err. */
rd_kafka_t *kafka_producer_new(kafka *k, const char *bootstrap, const char *const *props, char *err,
                               size_t errsz);
/* Delivers what is queued for up to timeout_ms, then purges the rest (reported as purged). */
void kafka_producer_flush(kafka *k, int timeout_ms);
/* Destroys the prepared topics, the producer and its mutex; nothing when there is no
 * producer. */
void kafka_producer_destroy(kafka *k);

#endif
