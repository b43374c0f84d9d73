/* kafka_producer: the producer side of the Kafka edge: the idempotent producer, its
 * delivery reports and its shutdown. Called from the publisher's thread while the consumer
 * side runs in the main thread (kafka.h says what may run concurrently). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "kafka_int.h"
#include "log.h"

/* How long kafka_produce serves delivery reports waiting for room in a full queue. */
#define PRODUCE_FULL_WAIT_MS 5000
/* After a flush timed out and the queue was purged: how long to serve the purge reports. */
#define PURGE_REPORT_MS 2000

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	kafka *k = opaque;

	(void)rk;
	if (k->hooks.delivered != NULL)
		k->hooks.delivered(k->hooks.arg, m->_private, m->err);
}

rd_kafka_t *
kafka_producer_new(kafka *k, const char *bootstrap, const char *const *props, char *err,
                   size_t errsz)
{
	static const char *const none[] = {NULL};
	/* Exactly-once publication from the outbox relies on these. */
	static const char *const forced[] = {
	    "enable.idempotence", "true", "acks", "all", NULL,
	};
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char rerr[512];

	if (pthread_mutex_init(&k->mu, NULL) != 0) {
		snprintf(err, errsz, "could not create the Kafka producer: no mutex");
		return NULL;
	}
	conf = kafka_common_conf(k, bootstrap, none, props, kafka_consumer_only, err, errsz);
	if (conf == NULL) {
		pthread_mutex_destroy(&k->mu);
		return NULL;
	}
	if (kafka_conf_set_all(conf, forced, err, errsz) < 0) {
		rd_kafka_conf_destroy(conf);
		pthread_mutex_destroy(&k->mu);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof(rerr));
	if (rk == NULL) {
		snprintf(err, errsz, "could not create the Kafka producer: %s", rerr);
		rd_kafka_conf_destroy(conf);
		pthread_mutex_destroy(&k->mu);
		return NULL;
	}
	return rk; /* rd_kafka_new took conf */
}

int
kafka_produce(kafka *k, const char *topic, const char *key, const void *payload, size_t len,
              void *opaque, char *err, size_t errsz)
{
	size_t keylen = key != NULL ? strlen(key) : 0;
	const void *keyp = keylen > 0 ? key : NULL;
	int64_t deadline = clock_mono_ms() + PRODUCE_FULL_WAIT_MS;
	rd_kafka_resp_err_t rerr;

	for (;;) {
		/* RD_MSG_F_COPY: librdkafka copies payload and never writes to it. */
		rerr = rd_kafka_producev(
		    k->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_KEY(keyp, keylen), RD_KAFKA_V_VALUE((void *)(uintptr_t)payload, len),
		    RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
		if (rerr != RD_KAFKA_RESP_ERR__QUEUE_FULL || clock_mono_ms() >= deadline)
			break;
		rd_kafka_poll(k->producer, 100);
	}
	if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	if (rerr == RD_KAFKA_RESP_ERR__FATAL && kafka_fatal(k, err, errsz))
		return -1;
	snprintf(err, errsz, "could not produce to \"%s\": %s", topic, rd_kafka_err2str(rerr));
	return -1;
}

void
kafka_poll(kafka *k, int timeout_ms)
{
	rd_kafka_poll(k->producer, timeout_ms);
}

int
kafka_prepare_topics(kafka *k, const char *const *topics, size_t n, int timeout_ms, char *err,
                     size_t errsz)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t rerr;
	int rc = 0;

	pthread_mutex_lock(&k->mu);
	if (n > KAFKA_PREPARE_MAX - k->n_prepared) {
		pthread_mutex_unlock(&k->mu);
		snprintf(err, errsz, "could not prepare %zu topics: more than %d in all", n,
		         KAFKA_PREPARE_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->producer, topics[i], NULL);
		if (rkt == NULL) {
			pthread_mutex_unlock(&k->mu);
			snprintf(err, errsz, "could not prepare \"%s\": %s", topics[i],
			         rd_kafka_err2str(rd_kafka_last_error()));
			return -1;
		}
		k->prepared[k->n_prepared++] = rkt;
	}
	pthread_mutex_unlock(&k->mu);
	/* One request for the whole cluster, whatever n: it updates every handle above (a
	 * broker that does not answer costs timeout_ms once, not once a topic). */
	if ((rerr = rd_kafka_metadata(k->producer, 1, NULL, &md, timeout_ms)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "could not read the cluster's metadata: %s",
		         rd_kafka_err2str(rerr));
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int t = 0;
		while (t < md->topic_cnt && strcmp(md->topics[t].topic, topics[i]) != 0)
			t++;
		if (t == md->topic_cnt || md->topics[t].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(err, errsz, "could not read the metadata of \"%s\": %s", topics[i],
			         t == md->topic_cnt ? "not in the cluster"
			                            : rd_kafka_err2str(md->topics[t].err));
			rc = -1;
		}
	}
	rd_kafka_metadata_destroy(md);
	return rc;
}

void
kafka_push(kafka *k, int timeout_ms)
{
	/* _TIMED_OUT only says that messages are still queued: their reports come later. */
	(void)rd_kafka_flush(k->producer, timeout_ms);
}

int
kafka_fatal(kafka *k, char *err, size_t errsz)
{
	char reason[512];
	rd_kafka_resp_err_t rerr;

	if ((rerr = rd_kafka_fatal_error(k->producer, reason, sizeof(reason))) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "fatal Kafka producer error: %s: %s", rd_kafka_err2name(rerr),
		         reason);
		return 1;
	}
	if ((rerr = rd_kafka_fatal_error(k->consumer, reason, sizeof(reason))) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "fatal Kafka consumer error: %s: %s", rd_kafka_err2name(rerr),
		         reason);
		return 1;
	}
	return 0;
}

void
kafka_producer_flush(kafka *k, int timeout_ms)
{
	if (rd_kafka_flush(k->producer, timeout_ms > 0 ? timeout_ms : 0) ==
	    RD_KAFKA_RESP_ERR__TIMED_OUT) {
		int64_t deadline = clock_mono_ms() + PURGE_REPORT_MS;
		log_kv(LOG_LVL_WARN, "Kafka messages still undelivered at shutdown", "messages=%d",
		       rd_kafka_outq_len(k->producer));
		/* Purged messages get a delivery report with a __PURGE_* error. */
		rd_kafka_purge(k->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		while (rd_kafka_outq_len(k->producer) > 0 && clock_mono_ms() < deadline)
			rd_kafka_poll(k->producer, 100);
	}
}

void
kafka_producer_destroy(kafka *k)
{
	if (k->producer == NULL)
		return;
	for (size_t i = 0; i < k->n_prepared; i++)
		rd_kafka_topic_destroy(k->prepared[i]);
	rd_kafka_destroy(k->producer);
	k->producer = NULL;
	pthread_mutex_destroy(&k->mu);
}
