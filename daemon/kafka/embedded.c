/* embedded: librdkafka's mock cluster, hosted by a producer handle that sends nothing. */
#include "embedded.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "log.h"
#include "rules.h"

struct embedded {
	rd_kafka_t *host;
	rd_kafka_mock_cluster_t *mcluster;
	int default_partitions;
	int replication;
};

/* The sites of docs/CONTRACT.md: each has all four topic kinds (a site is a producer too). */
static const char *const site_topics[] = {
    "credit.in.creditchina",     "credit.in.gsxt",         "credit.ack.creditchina",
    "credit.ack.gsxt",           "credit.out.creditchina", "credit.out.gsxt",
    "credit.reject.creditchina", "credit.reject.gsxt",     NULL,
};

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	char qfac[64], qclient[128];

	log_kv(level <= 3   ? LOG_LVL_ERR
	       : level == 4 ? LOG_LVL_WARN
	                    : LOG_LVL_DEBUG,
	       buf, "kafka_client=%s kafka_facility=%s",
	       log_q(qclient, sizeof(qclient), rd_kafka_name(rk)), log_q(qfac, sizeof(qfac), fac));
}

embedded *
embedded_start(int brokers, int default_partitions, char *err, size_t errsz)
{
	rd_kafka_conf_t *conf;
	embedded *e;
	char rerr[512];

	if (brokers < 1 || brokers > 16) {
		snprintf(err, errsz, "invalid number of brokers %d: must be 1 to 16", brokers);
		return NULL;
	}
	if (default_partitions < 1 || default_partitions > 1000) {
		snprintf(err, errsz, "invalid number of partitions %d: must be 1 to 1000",
		         default_partitions);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	e->default_partitions = default_partitions;
	e->replication = brokers < 3 ? brokers : 3;
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, on_log);
	/* The host has no bootstrap servers on purpose: keep its notice about that quiet. */
	if (rd_kafka_conf_set(conf, "log_level", "4", rerr, sizeof(rerr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "credsync-embedded", rerr, sizeof(rerr)) !=
	        RD_KAFKA_CONF_OK) {
		snprintf(err, errsz, "could not configure the embedded cluster: %s", rerr);
		rd_kafka_conf_destroy(conf);
		free(e);
		return NULL;
	}
	if ((e->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof(rerr))) == NULL) {
		snprintf(err, errsz, "could not create the embedded cluster's host: %s", rerr);
		rd_kafka_conf_destroy(conf);
		free(e);
		return NULL;
	}
	if ((e->mcluster = rd_kafka_mock_cluster_new(e->host, brokers)) == NULL) {
		snprintf(err, errsz, "could not start the embedded Kafka cluster");
		goto fail;
	}
	for (size_t i = 0; site_topics[i] != NULL; i++)
		if (embedded_create_topic(e, site_topics[i], 0, err, errsz) < 0)
			goto fail;
	return e;
fail:
	embedded_stop(e);
	return NULL;
}

const char *
embedded_bootstraps(const embedded *e)
{
	return rd_kafka_mock_cluster_bootstraps(e->mcluster);
}

int
embedded_create_topic(embedded *e, const char *topic, int partitions, char *err, size_t errsz)
{
	rd_kafka_resp_err_t rerr;

	if (partitions <= 0)
		partitions = e->default_partitions;
	rerr = rd_kafka_mock_topic_create(e->mcluster, topic, partitions, e->replication);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR && rerr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
		snprintf(err, errsz, "could not create topic \"%s\": %s", topic,
		         rd_kafka_err2str(rerr));
		return -1;
	}
	return 0;
}

int
embedded_write_bootstrap_file(const embedded *e, const char *path, char *err, size_t errsz)
{
	char tmp[4096];
	FILE *fp;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errsz, "bootstrap file name \"%s\" is too long", path);
		return -1;
	}
	if ((fp = fopen(tmp, "w")) == NULL) {
		snprintf(err, errsz, "could not create file \"%s\": %s", tmp, strerror(errno));
		return -1;
	}
	if (fprintf(fp, "%s\n", embedded_bootstraps(e)) < 0 || fflush(fp) != 0 ||
	    fsync(fileno(fp)) != 0) {
		snprintf(err, errsz, "could not write file \"%s\": %s", tmp, strerror(errno));
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	if (fclose(fp) != 0) {
		snprintf(err, errsz, "could not write file \"%s\": %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errsz, "could not rename file \"%s\" to \"%s\": %s", tmp, path,
		         strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
embedded_create_topics(embedded *e, const char *const *topics, size_t n, char *err, size_t errsz)
{
	/* One Metadata request naming every topic: the mock creates the missing ones with its
	 * default partition count. One rd_kafka_mock_topic_create per topic would be a round trip
	 * to the mock's thread each, which in 2.0.2 sometimes waits a quarter of a second. */
	char rerr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_t **rkts = calloc(n ? n : 1, sizeof(*rkts));
	rd_kafka_t *rk = NULL;
	const struct rd_kafka_metadata *md = NULL;
	int rc = -1;

	if (rkts == NULL) {
		snprintf(err, errsz, "out of memory");
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	if (rd_kafka_conf_set(conf, "bootstrap.servers", embedded_bootstraps(e), rerr,
	                      sizeof(rerr)) != RD_KAFKA_CONF_OK ||
	    (rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof(rerr))) == NULL) {
		snprintf(err, errsz, "could not create topics: %s", rerr);
		rd_kafka_conf_destroy(conf);
		free(rkts);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		rkts[i] = rd_kafka_topic_new(rk, topics[i], NULL);
	rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, NULL, &md, 10000);
	if (merr != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(err, errsz, "could not create topics: %s", rd_kafka_err2str(merr));
	else
		rc = 0;
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	for (size_t i = 0; i < n; i++)
		if (rkts[i] != NULL)
			rd_kafka_topic_destroy(rkts[i]);
	free(rkts);
	rd_kafka_destroy(rk);
	return rc;
}

struct rd_kafka_mock_cluster_s *
embedded_mock(embedded *e)
{
	return e->mcluster;
}

void
embedded_stop(embedded *e)
{
	if (e == NULL)
		return;
	if (e->mcluster != NULL)
		rd_kafka_mock_cluster_destroy(e->mcluster);
	rd_kafka_destroy(e->host);
	free(e);
}

int
embedded_create_producer_topics(embedded *e, const rules *r, char *err, size_t errsz)
{
	char names[512][128];
	const char *topics[512];
	const char *code;
	size_t n = 0;

	for (size_t i = 0; (code = rules_producer_at(r, i)) != NULL; i++) {
		if (n + 2 > sizeof(topics) / sizeof(topics[0])) {
			snprintf(err, errsz, "more than %zu producers",
			         sizeof(topics) / sizeof(topics[0]) / 2);
			return -1;
		}
		snprintf(names[n], sizeof(names[n]), "credit.in.%s", code);
		snprintf(names[n + 1], sizeof(names[n + 1]), "credit.reject.%s", code);
		topics[n] = names[n];
		topics[n + 1] = names[n + 1];
		n += 2;
	}
	return embedded_create_topics(e, topics, n, err, errsz);
}
