/* credsync-sitesim: both disclosure sites, simulated: acknowledges every out message
 * (credit.out.<site>) on credit.ack.<site>, at least once, until SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

#define BATCH_MAX 1000

static volatile sig_atomic_t run = 1;

static void
on_signal(int sig)
{
	(void)sig;
	run = 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: credsync-sitesim --bootstrap SERVERS [--count-file FILE] [--group G]\n"
	            "Consumes credit.out.gsxt and credit.out.creditchina and answers each message\n"
	            "with an ack on credit.ack.<site>; writes the number acknowledged to FILE\n"
	            "(atomically, at least every second and at exit). Runs until SIGTERM.\n");
}

static int
set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[512];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "credsync-sitesim: %s\n", err);
		return -1;
	}
	return 0;
}

static int
write_count(const char *path, long long n)
{
	char tmp[4096];
	FILE *fp;

	if (path == NULL)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	if (fprintf(fp, "%lld\n", n) < 0) {
		fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

static volatile long long delivery_errors;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		delivery_errors++;
		fprintf(stderr, "credsync-sitesim: ack not delivered: %s\n",
		        rd_kafka_err2str(m->err));
	}
}

/* The string value of member key in the out message m, copied into out: the first
 * "key":"..." in it, which is the top-level member's for "id" and "site" (out_encode writes
 * them before any nested object). false when there is none, or it is too long or escaped:
 * then the caller parses the whole message. The simulated sites share the benchmark's
 * machine with credsyncd; parsing every message whole took a tenth of it. */
static bool
member(const rd_kafka_message_t *m, const char *key, char *out, size_t outsz)
{
	const char *p = m->payload;
	char pat[32];
	size_t k = (size_t)snprintf(pat, sizeof(pat), "\"%s\":\"", key);

	for (size_t i = 0; i + k <= m->len; i++) {
		if (memcmp(p + i, pat, k) != 0)
			continue;
		size_t j = i + k, n = 0;
		while (j < m->len && p[j] != '"' && p[j] != '\\' && n + 1 < outsz)
			out[n++] = p[j++];
		out[n] = '\0';
		return j < m->len && p[j] == '"';
	}
	return false;
}

/* The ack for one out message, or NULL when the message is not one (counted, skipped). */
static char *
ack_for(const rd_kafka_message_t *m)
{
	char id[64], site[32];
	struct ack ack = {0};
	int s;

	if (!member(m, "id", id, sizeof(id)) || !member(m, "site", site, sizeof(site))) {
		json_t *o = json_loadb(m->payload, m->len, 0, NULL);
		const char *i = json_string_value(json_object_get(o, "id"));
		const char *t = json_string_value(json_object_get(o, "site"));
		snprintf(id, sizeof(id), "%s", i ? i : "");
		snprintf(site, sizeof(site), "%s", t ? t : "");
		json_decref(o);
	}
	if ((s = site_parse(site)) < 0 || !event_uuid_normalise(id, ack.id))
		return NULL;
	ack.site = (enum site)s;
	ack.done_at = (int64_t)time(NULL);
	return ack_encode(&ack);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
	                                     {"count-file", required_argument, NULL, 'c'},
	                                     {"group", required_argument, NULL, 'g'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *bootstrap = NULL, *count_file = NULL, *group = "credsync-sitesim";
	rd_kafka_conf_t *cconf, *pconf;
	rd_kafka_t *consumer = NULL, *producer = NULL;
	rd_kafka_topic_partition_list_t *topics;
	struct sigaction sa = {.sa_handler = on_signal};
	rd_kafka_message_t *batch[BATCH_MAX];
	long long acked = 0, skipped = 0;
	time_t last_write = 0;
	char err[512];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "b:c:g:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'c':
			count_file = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || bootstrap == NULL) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		perror("credsync-sitesim: sigaction");
		return 1;
	}

	cconf = rd_kafka_conf_new();
	pconf = rd_kafka_conf_new();
	/* The mock cluster needs a session timeout of at least 3 s (see daemon/embedded.h). */
	if (set(cconf, "bootstrap.servers", bootstrap) < 0 || set(cconf, "group.id", group) < 0 ||
	    set(cconf, "client.id", "credsync-sitesim") < 0 ||
	    set(cconf, "auto.offset.reset", "earliest") < 0 ||
	    set(cconf, "enable.auto.offset.store", "false") < 0 ||
	    set(cconf, "session.timeout.ms", "6000") < 0 ||
	    set(cconf, "heartbeat.interval.ms", "500") < 0 ||
	    set(cconf, "topic.metadata.refresh.interval.ms", "1000") < 0 ||
	    set(pconf, "bootstrap.servers", bootstrap) < 0 ||
	    set(pconf, "client.id", "credsync-sitesim") < 0 || set(pconf, "linger.ms", "5") < 0 ||
	    set(pconf, "enable.idempotence", "true") < 0) {
		rd_kafka_conf_destroy(cconf);
		rd_kafka_conf_destroy(pconf);
		return 1;
	}
	rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
	if ((consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err))) == NULL) {
		rd_kafka_conf_destroy(cconf);
		rd_kafka_conf_destroy(pconf);
		fprintf(stderr, "credsync-sitesim: could not create the consumer: %s\n", err);
		return 1;
	}
	if ((producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err))) == NULL) {
		rd_kafka_conf_destroy(pconf);
		fprintf(stderr, "credsync-sitesim: could not create the producer: %s\n", err);
		goto done;
	}
	rd_kafka_poll_set_consumer(consumer);
	topics = rd_kafka_topic_partition_list_new(2);
	rd_kafka_topic_partition_list_add(topics, "credit.out.gsxt", RD_KAFKA_PARTITION_UA);
	rd_kafka_topic_partition_list_add(topics, "credit.out.creditchina", RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(consumer, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "credsync-sitesim: could not subscribe: %s\n", rd_kafka_err2str(e));
		goto done;
	}
	if (write_count(count_file, 0) < 0) {
		fprintf(stderr, "credsync-sitesim: could not write \"%s\": %s\n", count_file,
		        strerror(errno));
		goto done;
	}

	while (run) {
		size_t n = 0;
		rd_kafka_message_t *m;

		/* A batch: what has arrived, up to BATCH_MAX, then one flush of its acks. */
		while (n < BATCH_MAX &&
		       (m = rd_kafka_consumer_poll(consumer, n == 0 ? 100 : 0)) != NULL) {
			if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
					fprintf(stderr, "credsync-sitesim: %s\n",
					        rd_kafka_message_errstr(m));
				rd_kafka_message_destroy(m);
				continue;
			}
			batch[n++] = m;
		}
		for (size_t i = 0; i < n; i++) {
			const char *topic = rd_kafka_topic_name(batch[i]->rkt);
			char *ack = ack_for(batch[i]);
			char ack_topic[128];

			if (ack == NULL) {
				skipped++;
				continue;
			}
			snprintf(ack_topic, sizeof(ack_topic), "credit.ack.%s",
			         topic + strlen("credit.out."));
			for (;;) {
				e = rd_kafka_producev(
				    producer, RD_KAFKA_V_TOPIC(ack_topic),
				    RD_KAFKA_V_KEY(batch[i]->key, batch[i]->key_len),
				    RD_KAFKA_V_VALUE(ack, strlen(ack)),
				    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
				if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
					break;
				rd_kafka_poll(producer, 100);
			}
			free(ack);
			if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
				fprintf(stderr, "credsync-sitesim: could not produce: %s\n",
				        rd_kafka_err2str(e));
				goto done;
			}
			acked++;
		}
		if (n > 0) {
			/* Offsets only after the acks are delivered: at least once. */
			if (rd_kafka_flush(producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
				fprintf(stderr,
				        "credsync-sitesim: acks not delivered within 30 s\n");
				goto done;
			}
			for (size_t i = 0; i < n; i++) {
				rd_kafka_offset_store(batch[i]->rkt, batch[i]->partition,
				                      batch[i]->offset);
				rd_kafka_message_destroy(batch[i]);
			}
		}
		rd_kafka_poll(producer, 0);
		if (time(NULL) != last_write) {
			last_write = time(NULL);
			if (write_count(count_file, acked) < 0) {
				fprintf(stderr, "credsync-sitesim: could not write \"%s\": %s\n",
				        count_file, strerror(errno));
				goto done;
			}
		}
	}
	rc = 0;
done:
	if (producer != NULL) {
		rd_kafka_flush(producer, 10000);
		rd_kafka_destroy(producer);
	}
	rd_kafka_consumer_close(consumer);
	rd_kafka_destroy(consumer);
	if (rc == 0 && write_count(count_file, acked) < 0)
		rc = 1;
	fprintf(stderr, "credsync-sitesim: acknowledged %lld, skipped %lld, delivery errors %lld\n",
	        acked, skipped, (long long)delivery_errors);
	return rc;
}
