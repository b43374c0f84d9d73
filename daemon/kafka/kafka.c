/* kafka: credsyncd's Kafka edge made and closed, and its consumer side (offsets from the
 * database, eager rebalances). The producer side is kafka_producer.c, the configuration of
 * both kafka_conf.c. */
#include "kafka.h"
#include "kafka_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* How long kafka_rewind waits for librdkafka to apply the seeks. */
#define REWIND_TIMEOUT_MS 10000

static void
on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
          void *opaque)
{
	char qerr[256];

	(void)rk;
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
		log_kv(LOG_LVL_DEBUG, "advisory offsets committed to Kafka", "partitions=%d",
		       offsets != NULL ? offsets->cnt : 0);
		return;
	}
	log_kv(LOG_LVL_NOTICE, "could not commit advisory offsets to Kafka",
	       "error=%s partitions=%d", log_q(qerr, sizeof(qerr), rd_kafka_err2str(err)),
	       offsets != NULL ? offsets->cnt : 0);
}

/* An empty list: librdkafka aborts on allocation failure, so this never fails. */
static rd_kafka_topic_partition_list_t *
list_empty(void)
{
	return rd_kafka_topic_partition_list_new(0);
}

static void
drop_pending(kafka *k)
{
	if (k->pending != NULL) {
		rd_kafka_topic_partition_list_destroy(k->pending);
		k->pending = NULL;
	}
}

static void
drop_replay(kafka *k)
{
	if (k->replay != NULL) {
		rd_kafka_topic_partition_list_destroy(k->replay);
		k->replay = NULL;
	}
}

/* Pauses or resumes fetching parts; failures are logged (they leave fetching as it was). */
static void
pause_parts(kafka *k, rd_kafka_topic_partition_list_t *parts, bool pause)
{
	char qerr[256];
	if (parts->cnt == 0)
		return;
	rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(k->consumer, parts)
	                                : rd_kafka_resume_partitions(k->consumer, parts);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_kv(LOG_LVL_WARN,
		       pause ? "could not pause Kafka partitions"
		             : "could not resume Kafka partitions",
		       "error=%s partitions=%d", log_q(qerr, sizeof(qerr), rd_kafka_err2str(err)),
		       parts->cnt);
}

/* Stops fetching everything. */
static void
unassign(kafka *k)
{
	char qerr[256];
	rd_kafka_resp_err_t err = rd_kafka_assign(k->consumer, NULL);

	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_kv(LOG_LVL_WARN, "could not drop the Kafka assignment", "error=%s",
		       log_q(qerr, sizeof(qerr), rd_kafka_err2str(err)));
	rd_kafka_topic_partition_list_destroy(k->assignment);
	k->assignment = list_empty();
	drop_replay(k);
}

/* Asks the assign hook for k->pending's offsets and, when it has them, starts fetching
 * there. Returns 0, or -1 (still pending). */
static int
try_assign(kafka *k)
{
	rd_kafka_topic_partition_list_t *parts = k->pending;
	rd_kafka_resp_err_t err;
	char qerr[256];

	for (int i = 0; i < parts->cnt; i++)
		parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
	if (k->hooks.assign != NULL && k->hooks.assign(k->hooks.arg, parts) != 0)
		return -1;
	for (int i = 0; i < parts->cnt; i++) {
		int64_t off = parts->elems[i].offset;
		if (off < 0 && off != RD_KAFKA_OFFSET_BEGINNING && off != RD_KAFKA_OFFSET_END)
			parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	err = rd_kafka_assign(k->consumer, parts);
	k->pending = NULL;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* Only when the consumer is closing or failed: give the claim back. */
		log_kv(LOG_LVL_WARN, "could not assign Kafka partitions", "error=%s partitions=%d",
		       log_q(qerr, sizeof(qerr), rd_kafka_err2str(err)), parts->cnt);
		if (k->hooks.revoke != NULL)
			k->hooks.revoke(k->hooks.arg, parts);
		rd_kafka_topic_partition_list_destroy(parts);
		return 0;
	}
	rd_kafka_topic_partition_list_destroy(k->assignment);
	k->assignment = parts;
	if (k->paused)
		pause_parts(k, k->assignment, true);
	return 0;
}

/* Eager protocol: every rebalance revokes the whole assignment, then assigns a whole new one. */
static void
on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
             void *opaque)
{
	kafka *k = opaque;
	char qerr[256];

	(void)rk;
	k->cut = k->taken;
	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		drop_pending(k);
		k->pending = rd_kafka_topic_partition_list_copy(parts);
		try_assign(k);
		break;
	case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
		if (k->pending != NULL)
			drop_pending(k); /* never accepted: nothing to give back */
		else if (k->assignment->cnt > 0 && k->hooks.revoke != NULL)
			k->hooks.revoke(k->hooks.arg, k->assignment);
		unassign(k);
		break;
	default:
		log_kv(LOG_LVL_WARN, "Kafka rebalance failed", "error=%s",
		       log_q(qerr, sizeof(qerr), rd_kafka_err2str(err)));
		drop_pending(k);
		if (k->assignment->cnt > 0 && k->hooks.revoke != NULL)
			k->hooks.revoke(k->hooks.arg, k->assignment);
		unassign(k);
		break;
	}
}

static rd_kafka_t *
new_consumer(kafka *k, const char *bootstrap, const char *group, const char *const *props,
             char *err, size_t errsz)
{
	static const char *const defaults[] = {
	    "partition.assignment.strategy",
	    "roundrobin",
	    "auto.offset.reset",
	    "earliest",
	    "topic.metadata.refresh.interval.ms",
	    "10000",
	    /* librdkafka prefetches up to 64 MiB by default: a backlog would fill it, and the
	     * daemon's memory with it. Too little starves the workers: once the queue is full,
	     * librdkafka 2.0.2 fetches again only when its broker thread next wakes, up to a
	     * second later (librdkafka issue #2879; 2.1 added fetch.queue.backoff.ms). With
	     * 4 MiB the bench's run 3 drained the queue in half of that second and waited out
	     * the rest (a third of the machine idle). 8 MiB, fetched 2 MiB at a time (the
	     * overshoot past it; fetch.max.bytes would default to the whole 8 MiB): 18.6-20.8k
	     * events/s against 17.4-17.6k, peak RSS 53 MiB against 47. Once the workers grew
	     * faster, 8 MiB held 0.8 s of their work: 0.2 s idle after each fill (run 3's stored
	     * events by 200 ms: 4,983 5,517 7,756 4,507 511 4,028 ...). 12 MiB held more than
	     * the second at 24,000 events/s, but its first fill (librdkafka's per-message ops
	     * add 70% to the bytes) took peak RSS to 58-65 MiB. 10 MiB: no gap in run 3's
	     * timelines at 18-23k events/s, peak RSS 53-56 MiB against 58-62 (profile runs).
	     * The bytes are the payloads' only: each message also holds an op of its own
	     * (massif: 12.8 MB of them beside 14.4 MB of fetched data for a full queue of
	     * events), and the sites' acknowledgements are ~130 bytes each. At the end of a
	     * backfill, when the queue holds mostly acknowledgements, 10 MiB of them took peak RSS
	     * from 55 to 66-68 MiB on a machine half as fast. So at most 30,000 messages (10 MiB is
	     * ~24,000 events): peak RSS 56-58 MiB in the profile run, the rate no lower
	     * (queued.min.messages caps the whole queue: the partitions' queues forward to it).
	     * The fault run's stalls once blamed on it were its harness's (docs/SCALE.md,
	     * eighteenth round). */
	    "queued.max.messages.kbytes",
	    "10240",
	    "queued.min.messages",
	    "30000",
	    "fetch.max.bytes",
	    "2097152",
	    /* librdkafka's 500 ms: a broker that does not answer a waiting fetch as soon as
	     * data arrives (the development mock) added up to that much to each event's
	     * latency. 50 ms costs an idle consumer a few more fetch requests. */
	    "fetch.wait.max.ms",
	    "50",
	    NULL,
	};
	/* Offsets live in PostgreSQL: Kafka's are written by kafka_commit_async only. */
	static const char *const forced[] = {
	    "enable.auto.commit", "false", "enable.auto.offset.store", "false", NULL,
	};
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	char buf[256], rerr[512];

	conf = kafka_common_conf(k, bootstrap, defaults, props, kafka_producer_only, err, errsz);
	if (conf == NULL)
		return NULL;
	if ((group != NULL && kafka_conf_set(conf, "group.id", group, err, errsz) < 0) ||
	    kafka_conf_set_all(conf, forced, err, errsz) < 0)
		goto done;
	if (kafka_conf_get(conf, "group.id", buf, sizeof(buf))[0] == '\0') {
		snprintf(err, errsz, "no Kafka consumer group: set kafka.group.id");
		goto done;
	}
	if (strstr(kafka_conf_get(conf, "partition.assignment.strategy", buf, sizeof(buf)),
	           "cooperative") != NULL) {
		snprintf(err, errsz,
		         "partition.assignment.strategy \"%s\" is not supported: librdkafka 2.0.2 "
		         "loses assignments with a cooperative strategy and offset commits; use "
		         "roundrobin",
		         buf);
		goto done;
	}
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rerr, sizeof(rerr));
	if (rk == NULL) {
		snprintf(err, errsz, "could not create the Kafka consumer: %s", rerr);
		goto done;
	}
	conf = NULL; /* rd_kafka_new took it */
done:
	if (conf != NULL)
		rd_kafka_conf_destroy(conf);
	return rk;
}

static int
subscribe(kafka *k, char *err, size_t errsz)
{
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(2);
	rd_kafka_resp_err_t rerr;

	rd_kafka_topic_partition_list_add(topics, KAFKA_SUBSCRIPTION_IN, RD_KAFKA_PARTITION_UA);
	rd_kafka_topic_partition_list_add(topics, KAFKA_SUBSCRIPTION_ACK, RD_KAFKA_PARTITION_UA);
	rerr = rd_kafka_subscribe(k->consumer, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "could not subscribe to \"%s\" and \"%s\": %s",
		         KAFKA_SUBSCRIPTION_IN, KAFKA_SUBSCRIPTION_ACK, rd_kafka_err2str(rerr));
		return -1;
	}
	return 0;
}

kafka *
kafka_new_props(const char *bootstrap, const char *group, const char *const *props,
                const struct kafka_hooks *hooks, char *err, size_t errsz)
{
	kafka *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (hooks != NULL)
		k->hooks = *hooks;
	k->assignment = list_empty();
	if ((k->consumer = new_consumer(k, bootstrap, group, props, err, errsz)) == NULL ||
	    (k->producer = kafka_producer_new(k, bootstrap, props, err, errsz)) == NULL)
		goto fail;
	/* Errors, logs and commit results of the consumer are served by consumer_poll. */
	rd_kafka_poll_set_consumer(k->consumer);
	if (subscribe(k, err, errsz) < 0)
		goto fail;
	return k;
fail:
	if (k->consumer != NULL)
		rd_kafka_destroy(k->consumer);
	kafka_producer_destroy(k);
	rd_kafka_topic_partition_list_destroy(k->assignment);
	free(k);
	return NULL;
}

kafka *
kafka_new(const char *bootstrap, const config *cfg, const struct kafka_hooks *hooks, char *err,
          size_t errsz)
{
	const char **props;
	kafka *k;

	if (kafka_conf_props(cfg, &props, err, errsz) < 0)
		return NULL;
	k = kafka_new_props(bootstrap, NULL, props, hooks, err, errsz);
	free(props);
	return k;
}

static void
consumer_error(const rd_kafka_message_t *m)
{
	char qerr[512], qtopic[256];

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		return;
	log_kv(m->err == RD_KAFKA_RESP_ERR__FATAL ? LOG_LVL_ERR : LOG_LVL_WARN,
	       "Kafka consumer error", "topic=%s partition=%d error=%s code=%s",
	       log_q(qtopic, sizeof(qtopic), m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : ""),
	       (int)m->partition, log_q(qerr, sizeof(qerr), rd_kafka_message_errstr(m)),
	       rd_kafka_err2name(m->err));
}

size_t
kafka_consume_batch(kafka *k, rd_kafka_message_t **ret, size_t max, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	size_t n = 0;

	if (k->pending != NULL)
		try_assign(k);
	k->taken = 0;
	k->cut = 0;
	while (n < max) {
		int64_t left = n == 0 ? deadline - clock_mono_ms() : 0;
		int wait = left > 0 ? (int)left : 0;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, wait);

		if (m == NULL) {
			if (wait == 0)
				break;
			continue;
		}
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			consumer_error(m);
			rd_kafka_message_destroy(m);
			continue;
		}
		ret[n++] = m;
		k->taken = n;
	}
	/* Taken before a rebalance: their partitions were revoked, and if they came back, the
	 * assign hook chose where reading resumes. */
	if (k->cut > 0) {
		for (size_t i = 0; i < k->cut; i++)
			rd_kafka_message_destroy(ret[i]);
		memmove(ret, ret + k->cut, (n - k->cut) * sizeof(*ret));
		n -= k->cut;
	}
	k->taken = 0;
	k->cut = 0;
	return n;
}

void
kafka_pause_serve(kafka *k, int timeout_ms)
{
	if (!k->paused) {
		k->paused = true;
		pause_parts(k, k->assignment, true);
		log_kv(LOG_LVL_NOTICE, "consumer paused until the batches can be applied",
		       "partitions=%d", k->assignment->cnt);
	}
	rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, timeout_ms);
	if (m == NULL)
		return;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		consumer_error(m);
	} else {
		const char *topic = rd_kafka_topic_name(m->rkt);
		if (k->replay == NULL)
			k->replay = list_empty();
		if (rd_kafka_topic_partition_list_find(k->replay, topic, m->partition) == NULL)
			rd_kafka_topic_partition_list_add(k->replay, topic, m->partition)->offset =
			    m->offset;
	}
	rd_kafka_message_destroy(m);
}

void
kafka_resume(kafka *k)
{
	char err[512];
	if (!k->paused)
		return;
	k->paused = false;
	pause_parts(k, k->assignment, false);
	if (k->replay != NULL && kafka_rewind(k, k->replay, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "could not read again what arrived while paused", "error=%s",
		       log_qs(err));
	drop_replay(k);
	log_kv(LOG_LVL_NOTICE, "consumer resumed", "partitions=%d", k->assignment->cnt);
}

int
kafka_rewind(kafka *k, const rd_kafka_topic_partition_list_t *offsets, char *err, size_t errsz)
{
	rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(offsets->cnt);
	rd_kafka_error_t *error;
	int rc = 0;

	for (int i = 0; i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &offsets->elems[i];
		if (rd_kafka_topic_partition_list_find(k->assignment, p->topic, p->partition))
			rd_kafka_topic_partition_list_add(seek, p->topic, p->partition)->offset =
			    p->offset;
	}
	if (seek->cnt == 0)
		goto done;
	error = rd_kafka_seek_partitions(k->consumer, seek, REWIND_TIMEOUT_MS);
	if (error != NULL) {
		snprintf(err, errsz, "could not rewind the consumer: %s",
		         rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		rc = -1;
		goto done;
	}
	for (int i = 0; i < seek->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &seek->elems[i];
		if (p->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(err, errsz,
			         "could not rewind \"%s\" partition %d to offset %lld: %s",
			         p->topic, (int)p->partition, (long long)p->offset,
			         rd_kafka_err2str(p->err));
			rc = -1;
			break;
		}
	}
done:
	rd_kafka_topic_partition_list_destroy(seek);
	return rc;
}

void
kafka_commit_async(kafka *k, const rd_kafka_topic_partition_list_t *offsets)
{
	rd_kafka_resp_err_t rerr;
	char qerr[256];

	if (offsets == NULL || offsets->cnt == 0)
		return;
	rerr = rd_kafka_commit(k->consumer, offsets, 1);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_kv(LOG_LVL_NOTICE, "could not commit advisory offsets to Kafka", "error=%s",
		       log_q(qerr, sizeof(qerr), rd_kafka_err2str(rerr)));
}

int
kafka_high_watermark(kafka *k, const char *topic, int32_t partition, int64_t *ret_high)
{
	int64_t low = -1, high = -1;

	if (rd_kafka_get_watermark_offsets(k->consumer, topic, partition, &low, &high) !=
	        RD_KAFKA_RESP_ERR_NO_ERROR ||
	    high < 0)
		return -1;
	*ret_high = high;
	return 0;
}

const rd_kafka_topic_partition_list_t *
kafka_assignment(const kafka *k)
{
	return k->assignment;
}

void
kafka_close(kafka *k, int flush_timeout_ms)
{
	rd_kafka_resp_err_t rerr;
	char qerr[256];

	if (k == NULL)
		return;
	/* Leaves the group; the rebalance callback runs in here and revokes. */
	rerr = rd_kafka_consumer_close(k->consumer);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_kv(LOG_LVL_WARN, "could not leave the Kafka consumer group cleanly", "error=%s",
		       log_q(qerr, sizeof(qerr), rd_kafka_err2str(rerr)));
	drop_pending(k);
	drop_replay(k);
	kafka_producer_flush(k, flush_timeout_ms);
	rd_kafka_destroy(k->consumer);
	kafka_producer_destroy(k);
	rd_kafka_topic_partition_list_destroy(k->assignment);
	free(k);
}
