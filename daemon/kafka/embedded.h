/* embedded: an in-process Kafka development cluster (librdkafka's mock cluster). Development
 * and tests only: it keeps everything in memory and forgets it when stopped.
 *
 * What librdkafka 2.0.2's mock cluster does, as tests/db/test_kafka.c and trials with kcat
 * against credsync-devbroker showed:
 * - Topics: embedded_start creates the sites' topics, credit.in.<site>, credit.ack.<site>,
 *   credit.out.<site> and credit.reject.<site> for creditchina and gsxt, with
 *   default_partitions partitions each; embedded_create_topic creates others the same way.
 *   Any other topic is created when a client first asks for its metadata by name: a
 *   producer (kcat -P, credsyncd's publisher) and a consumer of a named topic (kcat -C) alike,
 *   as the mock ignores allow.auto.create.topics. It then always has 4 partitions, the mock's
 *   default, which 2.0.2 gives no way to change. A regex subscription asks for all topics
 *   and creates none: it sees a new topic at the metadata refresh after it exists.
 * - Replication factor min(3, brokers), partition leaders spread over the brokers.
 * - A partition keeps only about the last 5 MiB: older messages vanish and the log start
 *   offset moves (700 messages of 10 kB: offsets below 198 were gone); a consumer asking
 *   for a vanished offset is moved by auto.offset.reset.
 * - The idempotent producer, consumer groups and group offset commits work.
 * - Consumer groups: the first join of a group is answered after about 3 s; a later
 *   rebalance waits up to session.timeout.ms minus 1 s for the members to rejoin. With
 *   session.timeout.ms 2000 a join never completed; tests use 3000 with
 *   heartbeat.interval.ms 500. */
#ifndef CREDSYNC_EMBEDDED_H
#define CREDSYNC_EMBEDDED_H

#include <stddef.h>

typedef struct embedded embedded;

/* Starts a cluster of brokers (1..16) listening on 127.0.0.1 at ports the kernel
 * chooses, and creates the sites' topics with default_partitions (1..1000) partitions each.
 * Runs in its own threads until embedded_stop. Returns NULL with the reason in err. */
embedded *embedded_start(int brokers, int default_partitions, char *err, size_t errsz);

/* The bootstrap servers ("127.0.0.1:PORT,..."); lives as long as e. */
const char *embedded_bootstraps(const embedded *e);

/* Creates topic with partitions partitions (0: the default_partitions of embedded_start).
 * A topic that exists already is fine and keeps its partitions. Returns 0, or -1 with the
 * reason in err. */
int embedded_create_topic(embedded *e, const char *topic, int partitions, char *err, size_t errsz);

/* Creates the missing ones of topics[0..n) in one request, with the mock's default of 4
 * partitions (fast, where embedded_create_topic costs a round trip to the mock's thread per
 * topic). Returns 0, or -1 with the reason in err. */
int embedded_create_topics(embedded *e, const char *const *topics, size_t n, char *err,
                           size_t errsz);

struct rules;
/* Creates credit.in.<producer> and credit.reject.<producer> for every producer of the rules'
 * authorities.tsv (embedded_create_topics: one request, the mock's default partitions), so
 * that a consumer's subscription does not rebalance, and a producer does not wait for a
 * metadata refresh, when a producer first writes. credsyncd's embedded mode and
 * credsync-devbroker both call it. Returns 0, or -1 with the reason in err. */
int embedded_create_producer_topics(embedded *e, const struct rules *r, char *err, size_t errsz);

/* Writes the bootstrap servers and a newline to path, atomically (a temporary file in the
 * same directory, then rename), so a reader never sees a partial address. Returns 0, or -1
 * with the reason in err. */
int embedded_write_bootstrap_file(const embedded *e, const char *path, char *err, size_t errsz);

/* The mock cluster itself (librdkafka's rd_kafka_mock_cluster_t), for fault injection by
 * credsync-devbroker --control; lives as long as e. */
struct rd_kafka_mock_cluster_s *embedded_mock(embedded *e);

/* Stops the brokers (clients connected to it see them go down) and frees e. NULL is fine. */
void embedded_stop(embedded *e);

#endif
