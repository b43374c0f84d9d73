/* credsync-naivesink: the benchmark's naive baseline, what a first version of a Kafka ->
 * PostgreSQL sink typically is: a consumer group member that, per message, runs one INSERT
 * of the event in its own transaction (BEGIN, INSERT, COMMIT, as psycopg2 sends them) and
 * then commits the message's offset to Kafka synchronously. With the server's durability as
 * configured (the benchmark keeps fsync and synchronous_commit on). */
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t run = 1;

static void
on_signal(int sig)
{
	(void)sig;
	run = 0;
}

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
	        "usage: credsync-naivesink --bootstrap SERVERS --conninfo STR --topics a,b,...\n"
	        "                          [--seconds S] [--expect N] [--group G]\n"
	        "Subscribes to the topics (from the beginning) and, per message: BEGIN, one\n"
	        "INSERT into bench_naive_sink, COMMIT, then a synchronous offset commit. Stops\n"
	        "after S seconds from the first message (default 20), after N messages, or on\n"
	        "SIGTERM, and prints {\"messages\", \"seconds\", \"per_s\"} as JSON; seconds run\n"
	        "from the first message consumed to the last one committed.\n");
}

static int
exec_ok(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "credsync-naivesink: \"%s\": %s", sql, PQerrorMessage(pg));
	PQclear(res);
	return ok ? 0 : -1;
}

/* One message: its own transaction with one INSERT. */
static int
insert_one(PGconn *pg, const rd_kafka_message_t *m)
{
	char part[16], off[24];
	const char *topic = rd_kafka_topic_name(m->rkt);
	const char *vals[5];
	int lens[5] = {0, 0, 0, 0, (int)m->len}, fmts[5] = {0, 0, 0, 0, 1};
	PGresult *res;

	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	vals[0] = topic;
	vals[1] = part;
	vals[2] = off;
	vals[3] = m->key != NULL ? (const char *)m->key : NULL;
	lens[3] = (int)m->key_len;
	fmts[3] = 1; /* the key as bytes: any bytes */
	vals[4] = m->payload != NULL ? (const char *)m->payload : "";
	if (exec_ok(pg, "BEGIN") < 0)
		return -1;
	res = PQexecParams(pg,
	                   "INSERT INTO bench_naive_sink (topic, partition, \"offset\", key, "
	                   "payload) VALUES ($1, $2, $3, $4::bytea, $5::bytea)",
	                   5, NULL, vals, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "credsync-naivesink: INSERT: %s", PQerrorMessage(pg));
		PQclear(res);
		exec_ok(pg, "ROLLBACK");
		return -1;
	}
	PQclear(res);
	return exec_ok(pg, "COMMIT");
}

static int
parse_long(const char *s, long *ret)
{
	char *end;

	errno = 0;
	*ret = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *ret < 1 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
	                                     {"conninfo", required_argument, NULL, 'c'},
	                                     {"topics", required_argument, NULL, 't'},
	                                     {"seconds", required_argument, NULL, 's'},
	                                     {"expect", required_argument, NULL, 'n'},
	                                     {"group", required_argument, NULL, 'g'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *bootstrap = NULL, *conninfo = NULL, *group = "credsync-naivesink";
	char *topic_list = NULL, err[512];
	long seconds = 20, expect = 0;
	int c, rc = 1;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_partition_list_t *subs = NULL;
	PGconn *pg = NULL;
	long done_n = 0;
	double t0 = 0, t_last = 0;

	while ((c = getopt_long(argc, argv, "b:c:t:s:n:g:h", opts, NULL)) != -1) {
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
		case 's':
		case 'n':
			if (parse_long(optarg, c == 's' ? &seconds : &expect) < 0) {
				fprintf(stderr, "credsync-naivesink: invalid number \"%s\"\n",
				        optarg);
				return 2;
			}
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
	if (optind != argc || bootstrap == NULL || conninfo == NULL || topic_list == NULL) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "credsync-naivesink: could not connect: %s", PQerrorMessage(pg));
		goto done;
	}
	if (exec_ok(pg, "SET client_min_messages = warning") < 0 ||
	    exec_ok(pg, "DROP TABLE IF EXISTS bench_naive_sink") < 0 ||
	    exec_ok(pg, "CREATE TABLE bench_naive_sink (topic text NOT NULL, partition integer NOT "
	                "NULL, \"offset\" bigint NOT NULL, key bytea, payload bytea NOT NULL, "
	                "stored_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
	                "PRIMARY KEY (topic, partition, \"offset\"))") < 0)
		goto done;

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK) {
		fprintf(stderr, "credsync-naivesink: %s\n", err);
		rd_kafka_conf_destroy(conf);
		goto done;
	}
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "credsync-naivesink: %s\n", err);
		rd_kafka_conf_destroy(conf);
		goto done;
	}
	rd_kafka_poll_set_consumer(rk);
	subs = rd_kafka_topic_partition_list_new(16);
	for (char *t = topic_list; *t != '\0';) {
		size_t len = strcspn(t, ",");
		char save = t[len];

		t[len] = '\0';
		rd_kafka_topic_partition_list_add(subs, t, RD_KAFKA_PARTITION_UA);
		t[len] = save;
		t += len;
		if (*t == ',')
			t++;
	}
	if (rd_kafka_subscribe(rk, subs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "credsync-naivesink: could not subscribe\n");
		goto done;
	}

	while (run && (expect == 0 || done_n < expect) &&
	       (t0 == 0 || now_s() - t0 < (double)seconds)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		rd_kafka_resp_err_t cerr;

		if (m == NULL)
			continue;
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "credsync-naivesink: %s\n",
				        rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (t0 == 0)
			t0 = now_s();
		if (insert_one(pg, m) < 0) {
			rd_kafka_message_destroy(m);
			goto done;
		}
		cerr = rd_kafka_commit_message(rk, m, 0);
		rd_kafka_message_destroy(m);
		if (cerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "credsync-naivesink: offset commit: %s\n",
			        rd_kafka_err2str(cerr));
			goto done;
		}
		done_n++;
		t_last = now_s();
	}
	double secs = done_n > 0 ? t_last - t0 : 0;

	printf("{\"messages\": %ld, \"seconds\": %.3f, \"per_s\": %.1f}\n", done_n, secs,
	       secs > 0 ? (double)done_n / secs : 0.0);
	rc = 0;
done:
	if (subs != NULL)
		rd_kafka_topic_partition_list_destroy(subs);
	if (rk != NULL) {
		rd_kafka_consumer_close(rk);
		rd_kafka_destroy(rk);
	}
	PQfinish(pg);
	return rc;
}
