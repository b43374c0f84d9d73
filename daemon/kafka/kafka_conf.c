/* kafka_conf: librdkafka configuration for both handles: which properties belong to which
 * side, credsync's defaults, the kafka.* keys of the configuration file, and the log and
 * error callbacks both handles share. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "log.h"

/* Properties that belong to one side only (librdkafka 2.0.2 CONFIGURATION.md, scope C or P):
 * given to the other side, librdkafka would warn at every start. */
const char *const kafka_consumer_only[] = {
    "auto.commit.enable",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "check.crcs",
    "consume.callback.max.messages",
    "coordinator.query.interval.ms",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "fetch.error.backoff.ms",
    "fetch.max.bytes",
    "fetch.message.max.bytes",
    "fetch.min.bytes",
    "fetch.wait.max.ms",
    "group.id",
    "group.instance.id",
    "group.protocol.type",
    "heartbeat.interval.ms",
    "isolation.level",
    "max.partition.fetch.bytes",
    "max.poll.interval.ms",
    "offset.store.method",
    "offset.store.path",
    "offset.store.sync.interval.ms",
    "partition.assignment.strategy",
    "queued.max.messages.kbytes",
    "queued.min.messages",
    "session.timeout.ms",
    NULL,
};

const char *const kafka_producer_only[] = {
    "acks",
    "batch.num.messages",
    "batch.size",
    "compression.codec",
    "compression.level",
    "compression.type",
    "delivery.report.only.error",
    "delivery.timeout.ms",
    "enable.gapless.guarantee",
    "enable.idempotence",
    "linger.ms",
    "message.send.max.retries",
    "message.timeout.ms",
    "partitioner",
    "produce.offset.report",
    "queue.buffering.backpressure.threshold",
    "queue.buffering.max.kbytes",
    "queue.buffering.max.messages",
    "queue.buffering.max.ms",
    "queuing.strategy",
    "request.required.acks",
    "request.timeout.ms",
    "retries",
    "retry.backoff.ms",
    "sticky.partitioning.linger.ms",
    "transaction.timeout.ms",
    "transactional.id",
    NULL,
};

static bool
in_list(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* librdkafka levels are syslog levels. */
static enum log_level
level_of(int syslog_level)
{
	if (syslog_level <= 3)
		return LOG_LVL_ERR;
	if (syslog_level == 4)
		return LOG_LVL_WARN;
	if (syslog_level == 5)
		return LOG_LVL_NOTICE;
	if (syslog_level == 6)
		return LOG_LVL_INFO;
	return LOG_LVL_DEBUG;
}

/* Called from librdkafka's threads too: log.h writes each line with one write(2). */
static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	char qfac[64], qclient[128];

	log_kv(level_of(level), buf, "kafka_client=%s kafka_facility=%s",
	       log_q(qclient, sizeof(qclient), rd_kafka_name(rk)), log_q(qfac, sizeof(qfac), fac));
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	char qclient[128], qreason[512];
	enum log_level level = LOG_LVL_WARN;

	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL)
		level = LOG_LVL_ERR;
	else if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE)
		level = LOG_LVL_DEBUG; /* the log callback already said so, with the broker */
	log_kv(level, "kafka error", "kafka_client=%s error=%s code=%s",
	       log_q(qclient, sizeof(qclient), rd_kafka_name(rk)),
	       log_q(qreason, sizeof(qreason), reason),
	       rd_kafka_err2name((rd_kafka_resp_err_t)err));
}

int
kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errsz)
{
	char rerr[512];

	if (rd_kafka_conf_set(conf, name, value, rerr, sizeof(rerr)) != RD_KAFKA_CONF_OK) {
		/* The value is not shown: it may be a password. */
		snprintf(err, errsz, "invalid Kafka property \"%s\": %s", name, rerr);
		return -1;
	}
	return 0;
}

int
kafka_conf_set_all(rd_kafka_conf_t *conf, const char *const *kv, char *err, size_t errsz)
{
	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (kafka_conf_set(conf, kv[i], kv[i + 1], err, errsz) < 0)
			return -1;
	return 0;
}

/* Applies props, leaving out the other side's properties. */
static int
conf_set_props(rd_kafka_conf_t *conf, const char *const *props, const char *const *skip, char *err,
               size_t errsz)
{
	for (size_t i = 0; props != NULL && props[i] != NULL; i += 2) {
		if (props[i + 1] == NULL) {
			snprintf(err, errsz, "Kafka property \"%s\" has no value", props[i]);
			return -1;
		}
		if (in_list(skip, props[i]))
			continue;
		if (kafka_conf_set(conf, props[i], props[i + 1], err, errsz) < 0)
			return -1;
	}
	return 0;
}

/* The value of a property as configured, into buf ("" when unset or too long). */
const char *
kafka_conf_get(const rd_kafka_conf_t *conf, const char *name, char *buf, size_t bufsz)
{
	size_t sz = bufsz;

	if (rd_kafka_conf_get(conf, name, buf, &sz) != RD_KAFKA_CONF_OK)
		buf[0] = '\0';
	return buf;
}

/* The configuration both handles share: side defaults, then props (which may change them),
 * then bootstrap. */
rd_kafka_conf_t *
kafka_common_conf(kafka *k, const char *bootstrap, const char *const *defaults,
                  const char *const *props, const char *const *skip, char *err, size_t errsz)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char buf[1024];

	if (kafka_conf_set(conf, "client.id", "credsyncd", err, errsz) < 0 ||
	    kafka_conf_set_all(conf, defaults, err, errsz) < 0 ||
	    conf_set_props(conf, props, skip, err, errsz) < 0 ||
	    (bootstrap != NULL &&
	     kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, errsz) < 0))
		goto fail;
	if (kafka_conf_get(conf, "bootstrap.servers", buf, sizeof(buf))[0] == '\0') {
		snprintf(err, errsz, "no Kafka bootstrap servers: set kafka.bootstrap.servers");
		goto fail;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Collects config_foreach_kafka's pairs; the strings stay cfg's. */
struct props {
	const char **kv;
	size_t n, cap;
};

static int
props_add(const char *prop, const char *value, void *arg)
{
	struct props *p = arg;

	if (p->n + 3 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		const char **kv = realloc(p->kv, cap * sizeof(*kv));
		if (kv == NULL)
			return -1;
		p->kv = kv;
		p->cap = cap;
	}
	p->kv[p->n++] = prop;
	p->kv[p->n++] = value;
	p->kv[p->n] = NULL;
	return 0;
}

int
kafka_conf_props(const config *cfg, const char ***ret_kv, char *err, size_t errsz)
{
	struct props p = {0};

	if (config_foreach_kafka(cfg, props_add, &p) != 0) {
		free(p.kv);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	*ret_kv = p.kv;
	return 0;
}

/* One property at a time, so that the one librdkafka refuses is named with its line. */
int
kafka_check(const config *cfg, char *err, size_t errsz)
{
	static const char *const none[] = {NULL};
	const char **props;
	char why[1024], key[512];
	int rc = 0;

	if (kafka_conf_props(cfg, &props, err, errsz) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && props != NULL && props[i] != NULL; i += 2) {
		const char *one[] = {props[i], props[i + 1], NULL};
		rd_kafka_conf_t *conf = rd_kafka_conf_new();

		rc = conf_set_props(conf, one, none, why, sizeof(why));
		rd_kafka_conf_destroy(conf);
		if (rc == 0)
			continue;
		snprintf(key, sizeof(key), "kafka.%s", props[i]);
		int line = config_key_line(cfg, key);
		if (line > 0)
			snprintf(err, errsz, "%s:%d: %s", config_name(cfg), line, why);
		else
			snprintf(err, errsz, "%s: %s", config_name(cfg), why);
	}
	free(props);
	return rc;
}
