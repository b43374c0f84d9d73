/* kafkatest: Kafka helpers for tests: produce and wait for delivery, read a topic with a
 * deadline, read a group's committed offset, wait for a file. Each uses its own short-lived
 * librdkafka handle, so it never disturbs the client under test. */
#ifndef CREDSYNC_KAFKATEST_H
#define CREDSYNC_KAFKATEST_H

#include <stddef.h>
#include <stdint.h>

/* Produces one message to topic (partition -1: librdkafka's partitioner chooses; key NULL:
 * none) and waits up to 10 s for its delivery. Creates the topic when it does not exist and
 * the cluster auto-creates. Returns the message's offset, or -1 with the reason in err. */
int64_t kafkatest_produce(const char *bootstrap, const char *topic, int32_t partition,
                          const char *key, const char *value, char *err, size_t errsz);

struct kafkatest_msg {
	char topic[256];
	int32_t partition;
	int64_t offset;
	char *key;   /* NUL-terminated copy; NULL when the message had none */
	char *value; /* NUL-terminated copy; NULL when the message had none */
};

/* Reads every partition of topic from the beginning, without a group, until want messages
 * arrived or timeout_ms passed. Fills msgs[0..return) in arrival order; free them with
 * kafkatest_msgs_free. Returns the count, or (size_t)-1 with the reason in err. */
size_t kafkatest_consume(const char *bootstrap, const char *topic, size_t want, int timeout_ms,
                         struct kafkatest_msg *msgs, char *err, size_t errsz);
void kafkatest_msgs_free(struct kafkatest_msg *msgs, size_t n);

/* The partition count of topic as the cluster reports it, or -1 with the reason in err.
 * Asking for a topic creates it where the cluster auto-creates (librdkafka's mock does,
 * whatever the client asks). */
int kafkatest_partitions(const char *bootstrap, const char *topic, char *err, size_t errsz);

/* group's committed offset of a partition as Kafka stores it (RD_KAFKA_OFFSET_INVALID when
 * none), without joining the group. Returns 0, or -1 with the reason in err. */
int kafkatest_committed(const char *bootstrap, const char *group, const char *topic,
                        int32_t partition, int64_t *ret_offset, char *err, size_t errsz);

/* Waits up to timeout_ms for path to hold a newline-terminated first line; copies that line
 * without the newline into buf. Returns 0, or -1 on timeout. */
int kafkatest_wait_line(const char *path, int timeout_ms, char *buf, size_t bufsz);

#endif
