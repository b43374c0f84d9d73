/* credsync-rawsink: the benchmark's raw limit. Consumes topics with librdkafka and COPYs every
 * message as it is into a one-table sink, one transaction per batch, with the server's
 * durability as configured (the benchmark keeps fsync and synchronous_commit on). */
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOPICS 256

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: credsync-rawsink --bootstrap SERVERS --conninfo STR --topics a,b,...\n"
	        "                        --expect N [--batch N] [--timeout S]\n"
	        "COPYs every message of the topics (all partitions, from the beginning) into\n"
	        "bench_raw_sink and prints {\"messages\", \"seconds\", \"per_s\"} as JSON once N\n"
	        "messages are committed. Seconds run from the assignment of the partitions.\n");
}

/* Appends s (len bytes) to buf escaped for COPY text format. */
static void
put_escaped(char **p, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
			*(*p)++ = '\\';
			c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
		}
		*(*p)++ = c;
	}
}

static int
exec_ok(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "credsync-rawsink: \"%s\": %s", sql, PQerrorMessage(pg));
	PQclear(res);
	return ok ? 0 : -1;
}

/* One transaction: COPY the batch's rows, commit. */
static int
copy_batch(PGconn *pg, rd_kafka_message_t **batch, size_t n)
{
	size_t cap = 0;
	char *buf, *p;
	PGresult *res;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		cap += 2 * (batch[i]->len + batch[i]->key_len) + 300;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	p = buf;
	for (size_t i = 0; i < n; i++) {
		const char *topic = rd_kafka_topic_name(batch[i]->rkt);

		put_escaped(&p, topic, strlen(topic));
		p += snprintf(p, 64, "\t%d\t%lld\t", (int)batch[i]->partition,
		              (long long)batch[i]->offset);
		put_escaped(&p, batch[i]->key != NULL ? batch[i]->key : "", batch[i]->key_len);
		*p++ = '\t';
		put_escaped(&p, batch[i]->payload != NULL ? batch[i]->payload : "", batch[i]->len);
		*p++ = '\n';
	}
	if (exec_ok(pg, "BEGIN") < 0)
		goto done;
	res = PQexec(pg,
	             "COPY bench_raw_sink (topic, partition, \"offset\", key, payload) FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		fprintf(stderr, "credsync-rawsink: COPY: %s", PQerrorMessage(pg));
		PQclear(res);
		goto done;
	}
	PQclear(res);
	if (PQputCopyData(pg, buf, (int)(p - buf)) != 1 || PQputCopyEnd(pg, NULL) != 1) {
		fprintf(stderr, "credsync-rawsink: COPY: %s", PQerrorMessage(pg));
		goto done;
	}
	res = PQgetResult(pg);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "credsync-rawsink: COPY: %s", PQerrorMessage(pg));
		PQclear(res);
		goto done;
	}
	PQclear(res);
	while ((res = PQgetResult(pg)) != NULL)
		PQclear(res);
	rc = exec_ok(pg, "COMMIT");
done:
	free(buf);
	return rc;
}

/* Assigns every partition of the topics from offset 0 (auto.offset.reset takes the earliest
 * where 0 is gone); *t0: when (after the metadata). Not the logical BEGINNING: librdkafka
 * 2.0.2 then asks the broker for each partition's first offset, and the mock cluster answered
 * the first partition's question 0.6 s late in 22 of 26 runs. That one partition's messages
 * came last, 0.8 s after the rest: the "raw limit" measured 42-46k events/s where the stream
 * took 0.26-0.30 s (168-197k) without it. */
static int
assign_all(rd_kafka_t *rk, char **topics, int ntopics, double *t0)
{
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(64);
	int rc = -1;

	for (int i = 0; i < ntopics; i++) {
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[i], NULL);
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);

		if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
			fprintf(stderr, "credsync-rawsink: metadata of \"%s\": %s\n", topics[i],
			        rd_kafka_err2str(e));
			if (md != NULL)
				rd_kafka_metadata_destroy(md);
			rd_kafka_topic_destroy(rkt);
			goto done;
		}
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			rd_kafka_topic_partition_list_add(parts, topics[i], p)->offset = 0;
		rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(rkt);
	}
	*t0 = now_s();
	if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "credsync-rawsink: could not assign the partitions\n");
		goto done;
	}
	rc = 0;
done:
	rd_kafka_topic_partition_list_destroy(parts);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
	                                     {"conninfo", required_argument, NULL, 'c'},
	                                     {"topics", required_argument, NULL, 't'},
	                                     {"expect", required_argument, NULL, 'n'},
	                                     {"batch", required_argument, NULL, 'B'},
	                                     {"timeout", required_argument, NULL, 'T'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *bootstrap = NULL, *conninfo = NULL;
	char *topic_list = NULL, *topics[MAX_TOPICS], err[512], *end;
	long expect = -1, batch_max = 5000, timeout = 600;
	int ntopics = 0, c, rc = 1;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	rd_kafka_message_t **batch = NULL;
	PGconn *pg = NULL;
	long done_n = 0;
	double t0 = 0, start;

	while ((c = getopt_long(argc, argv, "b:c:t:n:B:T:h", opts, NULL)) != -1) {
		long *target = NULL;

		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'c':
			conninfo = optarg;
			break;
		case 't':
			topic_list = optarg;
			break;
		case 'n':
			target = &expect;
			break;
		case 'B':
			target = &batch_max;
			break;
		case 'T':
			target = &timeout;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (target != NULL) {
			errno = 0;
			*target = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || *target < 1) {
				fprintf(stderr, "credsync-rawsink: invalid number \"%s\"\n",
				        optarg);
				return 2;
			}
		}
	}
	if (optind != argc || bootstrap == NULL || conninfo == NULL || topic_list == NULL ||
	    expect < 1) {
		usage(stderr);
		return 2;
	}
	for (char *t = topic_list; *t != '\0' && ntopics < MAX_TOPICS;) {
		size_t len = strcspn(t, ",");

		topics[ntopics++] = t;
		t += len;
		if (*t == ',')
			*t++ = '\0';
	}

	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "credsync-rawsink: could not connect: %s", PQerrorMessage(pg));
		goto done;
	}
	if (exec_ok(pg, "SET client_min_messages = warning") < 0 ||
	    exec_ok(pg, "DROP TABLE IF EXISTS bench_raw_sink") < 0 ||
	    exec_ok(pg,
	            "CREATE TABLE bench_raw_sink (topic text NOT NULL, partition integer NOT "
	            "NULL, \"offset\" bigint NOT NULL, key text NOT NULL, payload text NOT NULL, "
	            "PRIMARY KEY (topic, partition, \"offset\"))") < 0)
		goto done;

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "credsync-rawsink", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    /* librdkafka's 64 MiB of prefetch, more than the stream: with less, the queue
	     * fills while the COPYs run, and librdkafka 2.0.2 fetches again only when its
	     * broker thread next wakes, up to a second later (kafka.c). With credsyncd's 8 or 12
	     * MiB the raw limit came out anywhere from 43k to 177k events/s, as the stream fell
	     * around those gaps. 2 MiB a fetch (librdkafka's 50 MB would answer the first fetch
	     * with the whole stream). The clock starts at the assignment, so that what is
	     * fetched before the first message is returned is timed too. */
	    rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "65536", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "fetch.max.bytes", "2097152", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK) {
		fprintf(stderr, "credsync-rawsink: %s\n", err);
		rd_kafka_conf_destroy(conf);
		goto done;
	}
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "credsync-rawsink: %s\n", err);
		rd_kafka_conf_destroy(conf);
		goto done;
	}
	if (assign_all(rk, topics, ntopics, &t0) < 0)
		goto done;
	if ((batch = calloc((size_t)batch_max, sizeof(*batch))) == NULL)
		goto done;

	start = now_s();
	while (done_n < expect) {
		size_t n = 0;
		rd_kafka_message_t *m;

		if (now_s() - start > (double)timeout) {
			fprintf(stderr, "credsync-rawsink: timed out with %ld of %ld messages\n",
			        done_n, expect);
			goto done;
		}
		/* What has arrived, up to the batch size, then one transaction. */
		while (n < (size_t)batch_max &&
		       (m = rd_kafka_consumer_poll(rk, n == 0 ? 100 : 0)) != NULL) {
			if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
					fprintf(stderr, "credsync-rawsink: %s\n",
					        rd_kafka_message_errstr(m));
				rd_kafka_message_destroy(m);
				continue;
			}
			batch[n++] = m;
		}
		if (n == 0)
			continue;
		int st = copy_batch(pg, batch, n);

		for (size_t i = 0; i < n; i++)
			rd_kafka_message_destroy(batch[i]);
		if (st < 0)
			goto done;
		done_n += (long)n;
		/* The consumer's offsets too, as any consumer must, though not atomically. */
		rd_kafka_commit(rk, NULL, 1);
	}
	double secs = now_s() - t0;

	printf("{\"messages\": %ld, \"seconds\": %.3f, \"per_s\": %.1f}\n", done_n, secs,
	       secs > 0 ? (double)done_n / secs : 0.0);
	rc = 0;
done:
	free(batch);
	if (rk != NULL) {
		rd_kafka_consumer_close(rk);
		rd_kafka_destroy(rk);
	}
	PQfinish(pg);
	return rc;
}
