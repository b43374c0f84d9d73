/* kafkatest: independent librdkafka clients for checking what the code under test did. */
#include "kafkatest.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

/* A handle of type with bootstrap and the pairs of kv (NULL-terminated), or NULL. */
static rd_kafka_t *
client(rd_kafka_type_t type, const char *bootstrap, const char *const *kv,
       void (*dr)(rd_kafka_t *, const rd_kafka_message_t *, void *), char *err, size_t errsz)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char rerr[512];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, rerr, sizeof(rerr)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "kafkatest", rerr, sizeof(rerr)) !=
	        RD_KAFKA_CONF_OK)
		goto fail;
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2)
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], rerr, sizeof(rerr)) !=
		    RD_KAFKA_CONF_OK)
			goto fail;
	if (dr != NULL)
		rd_kafka_conf_set_dr_msg_cb(conf, dr);
	if ((rk = rd_kafka_new(type, conf, rerr, sizeof(rerr))) == NULL)
		goto fail;
	return rk;
fail:
	snprintf(err, errsz, "could not create a test client: %s", rerr);
	rd_kafka_conf_destroy(conf);
	return NULL;
}

struct delivery {
	int done;
	rd_kafka_resp_err_t err;
	int64_t offset;
};

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct delivery *d = m->_private;

	(void)rk;
	(void)opaque;
	d->done = 1;
	d->err = m->err;
	d->offset = m->offset;
}

int64_t
kafkatest_produce(const char *bootstrap, const char *topic, int32_t partition, const char *key,
                  const char *value, char *err, size_t errsz)
{
	struct delivery d = {0, RD_KAFKA_RESP_ERR_NO_ERROR, -1};
	rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL, on_delivery, err, errsz);
	rd_kafka_resp_err_t rerr;
	int64_t deadline = testlib_now_ms() + 10000;

	size_t keylen = key != NULL ? strlen(key) : 0, len = value != NULL ? strlen(value) : 0;
	void *payload = (void *)(uintptr_t)value;

	if (rk == NULL)
		return -1;
	rerr = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
	                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                         RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE(payload, len),
	                         RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "could not produce to \"%s\": %s", topic,
		         rd_kafka_err2str(rerr));
		rd_kafka_destroy(rk);
		return -1;
	}
	while (!d.done && testlib_now_ms() < deadline)
		rd_kafka_poll(rk, 50);
	rd_kafka_destroy(rk);
	if (!d.done) {
		snprintf(err, errsz, "no delivery report from \"%s\" within 10 s", topic);
		return -1;
	}
	if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "could not deliver to \"%s\": %s", topic,
		         rd_kafka_err2str(d.err));
		return -1;
	}
	return d.offset;
}

static char *
copy_bytes(const void *p, size_t len)
{
	char *s;

	if (p == NULL)
		return NULL;
	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* The partition count of topic via rk, or -1. */
static int
partitions_of(rd_kafka_t *rk, const char *topic, char *err, size_t errsz)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t rerr;
	int n = -1;

	if (rkt == NULL) {
		snprintf(err, errsz, "could not create topic handle \"%s\"", topic);
		return -1;
	}
	rerr = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(err, errsz, "could not read metadata of \"%s\": %s", topic,
		         rd_kafka_err2str(rerr));
	else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(err, errsz, "no topic \"%s\": %s", topic,
		         md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not listed");
	else
		n = md->topics[0].partition_cnt;
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

int
kafkatest_partitions(const char *bootstrap, const char *topic, char *err, size_t errsz)
{
	rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL, NULL, err, errsz);
	int n;

	if (rk == NULL)
		return -1;
	n = partitions_of(rk, topic, err, errsz);
	rd_kafka_destroy(rk);
	return n;
}

size_t
kafkatest_consume(const char *bootstrap, const char *topic, size_t want, int timeout_ms,
                  struct kafkatest_msg *msgs, char *err, size_t errsz)
{
	/* assign() needs a group id; nothing joins it. */
	static const char *const kv[] = {"group.id", "kafkatest-reader", NULL};
	rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, kv, NULL, err, errsz);
	rd_kafka_topic_partition_list_t *parts;
	int64_t deadline = testlib_now_ms() + timeout_ms;
	size_t n = 0;
	int cnt;

	if (rk == NULL)
		return (size_t)-1;
	if ((cnt = partitions_of(rk, topic, err, errsz)) < 0) {
		rd_kafka_destroy(rk);
		return (size_t)-1;
	}
	parts = rd_kafka_topic_partition_list_new(cnt);
	for (int i = 0; i < cnt; i++)
		rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "could not assign \"%s\"", topic);
		rd_kafka_topic_partition_list_destroy(parts);
		rd_kafka_destroy(rk);
		return (size_t)-1;
	}
	rd_kafka_topic_partition_list_destroy(parts);
	while (n < want && testlib_now_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			struct kafkatest_msg *t = &msgs[n++];
			snprintf(t->topic, sizeof(t->topic), "%s", rd_kafka_topic_name(m->rkt));
			t->partition = m->partition;
			t->offset = m->offset;
			t->key = copy_bytes(m->key, m->key_len);
			t->value = copy_bytes(m->payload, m->len);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

void
kafkatest_msgs_free(struct kafkatest_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(msgs[i].key);
		free(msgs[i].value);
		msgs[i].key = msgs[i].value = NULL;
	}
}

int
kafkatest_committed(const char *bootstrap, const char *group, const char *topic, int32_t partition,
                    int64_t *ret_offset, char *err, size_t errsz)
{
	const char *const kv[] = {"group.id", group, NULL};
	rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, kv, NULL, err, errsz);
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_resp_err_t rerr;
	int rc = -1;

	if (rk == NULL)
		return -1;
	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, topic, partition);
	rerr = rd_kafka_committed(rk, parts, 5000);
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR || parts->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(err, errsz, "could not read the committed offset: %s",
		         rd_kafka_err2str(
		             rerr != RD_KAFKA_RESP_ERR_NO_ERROR ? rerr : parts->elems[0].err));
	else {
		*ret_offset = parts->elems[0].offset;
		rc = 0;
	}
	rd_kafka_topic_partition_list_destroy(parts);
	rd_kafka_destroy(rk);
	return rc;
}

int
kafkatest_wait_line(const char *path, int timeout_ms, char *buf, size_t bufsz)
{
	int64_t deadline = testlib_now_ms() + timeout_ms;

	do {
		FILE *fp = fopen(path, "r");
		if (fp != NULL) {
			char *got = fgets(buf, (int)bufsz, fp);
			fclose(fp);
			size_t len = got != NULL ? strlen(buf) : 0;
			if (len > 0 && buf[len - 1] == '\n') {
				buf[len - 1] = '\0';
				return 0;
			}
		}
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	} while (testlib_now_ms() < deadline);
	return -1;
}
