/* credsync-devbroker: the embedded development Kafka cluster in a process of its own, so that
 * credsyncd can be stopped or killed while the broker keeps its messages. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "embedded.h"
#include "log.h"
#include "paths.h"
#include "rules.h"

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
	fprintf(fp,
	        "usage: credsync-devbroker [--brokers N] [--partitions N] "
	        "[--bootstrap-file FILE] [--topics a,b,c] [--topic-partitions N] [--control]\n"
	        "       [--data-dir DIR]\n"
	        "  --brokers N            brokers in the cluster (default 1)\n"
	        "  --partitions N         partitions of the sites' topics (default 3; --topics\n"
	        "                         and topics a producer creates get the mock's 4)\n"
	        "  --bootstrap-file FILE  also write the bootstrap servers to FILE\n"
	        "                         (removed again at exit)\n"
	        "  --topics a,b,c         topics to create besides the sites' credit.* and the\n"
	        "                         producers' credit.in.* and credit.reject.*\n"
	        "  --topic-partitions N   give the --topics N partitions each (slower to create,\n"
	        "                         one at a time; the mock keeps only ~5 MiB a partition)\n"
	        "  --control              read fault commands from stdin, one a line, and answer\n"
	        "                         each with \"ok\" or \"error: REASON\" on stdout:\n"
	        "                           down BROKER | up BROKER | rtt BROKER MS |\n"
	        "                           leader TOPIC PARTITION BROKER\n"
	        "                         (BROKER: an id from 1, or \"all\"); end of input stops\n"
	        "                         reading, not the cluster\n"
	        "  --data-dir DIR         where authorities.tsv names the producers (default:\n"
	        "                         $CREDSYNC_SCHEMAS, else the data directory)\n"
	        "Prints \"bootstrap=<servers>\" on stdout and runs until SIGTERM or SIGINT.\n");
}

/* A positive int from s, or -1. */
static int
parse_count(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > INT_MAX)
		return -1;
	return (int)v;
}

/* A broker id from s (1..INT_MAX, or "all": -1 when all is allowed), or -2. */
static int
parse_broker(const char *s, bool all)
{
	int id;

	if (all && strcmp(s, "all") == 0)
		return -1;
	id = parse_count(s);
	return id < 0 ? -2 : id;
}

/* A non-negative int from s, or -1. */
static int
parse_natural(const char *s)
{
	return strcmp(s, "0") == 0 ? 0 : parse_count(s);
}

/* Runs one control command line (without its newline) against the mock cluster. Returns 0,
 * or -1 with the reason in err. */
static int
control_run(embedded *e, char *line, char *err, size_t errsz)
{
	rd_kafka_mock_cluster_t *mc = embedded_mock(e);
	char *words[5];
	size_t n = 0;
	rd_kafka_resp_err_t rerr;
	int broker;

	for (char *p = line; *p != '\0';) {
		p += strspn(p, " \t\r");
		if (*p == '\0')
			break;
		if (n == sizeof(words) / sizeof(words[0])) {
			snprintf(err, errsz, "too many words");
			return -1;
		}
		words[n++] = p;
		p += strcspn(p, " \t\r");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (n == 0) {
		snprintf(err, errsz, "empty command");
		return -1;
	}
	if ((strcmp(words[0], "down") == 0 || strcmp(words[0], "up") == 0) && n == 2) {
		if ((broker = parse_broker(words[1], true)) == -2) {
			snprintf(err, errsz, "invalid broker \"%s\"", words[1]);
			return -1;
		}
		rerr = words[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, broker)
		                          : rd_kafka_mock_broker_set_up(mc, broker);
	} else if (strcmp(words[0], "rtt") == 0 && n == 3) {
		int ms = parse_natural(words[2]);

		if ((broker = parse_broker(words[1], true)) == -2 || ms < 0) {
			snprintf(err, errsz, "invalid broker \"%s\" or milliseconds \"%s\"",
			         words[1], words[2]);
			return -1;
		}
		rerr = rd_kafka_mock_broker_set_rtt(mc, broker, ms);
	} else if (strcmp(words[0], "leader") == 0 && n == 4) {
		int part = parse_natural(words[2]);

		if (part < 0 || (broker = parse_broker(words[3], false)) == -2) {
			snprintf(err, errsz, "invalid partition \"%s\" or broker \"%s\"", words[2],
			         words[3]);
			return -1;
		}
		rerr = rd_kafka_mock_partition_set_leader(mc, words[1], part, broker);
	} else {
		snprintf(err, errsz, "unknown command \"%s\" or wrong number of arguments",
		         words[0]);
		return -1;
	}
	if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errsz, "%s", rd_kafka_err2str(rerr));
		return -1;
	}
	return 0;
}

/* Reads what stdin has (no wait beyond ms), runs each complete line and answers it on stdout.
 * Returns false once stdin is at its end (or broken). */
static bool
control_poll(embedded *e, char *buf, size_t bufsz, size_t *len, int ms)
{
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	ssize_t got;
	char *nl;

	if (poll(&pfd, 1, ms) <= 0 || (pfd.revents & (POLLIN | POLLHUP)) == 0)
		return true;
	got = read(0, buf + *len, bufsz - 1 - *len);
	if (got <= 0)
		return got < 0 && errno == EINTR;
	*len += (size_t)got;
	buf[*len] = '\0';
	while ((nl = strchr(buf, '\n')) != NULL) {
		char err[512];
		size_t used = (size_t)(nl - buf) + 1;

		*nl = '\0';
		log_kv(LOG_LVL_NOTICE, "control command", "command=%s", log_qs(buf));
		if (control_run(e, buf, err, sizeof(err)) == 0)
			printf("ok\n");
		else
			printf("error: %s\n", err);
		fflush(stdout);
		memmove(buf, buf + used, *len - used + 1);
		*len -= used;
	}
	if (*len == bufsz - 1) { /* a line longer than the buffer: answer and forget it */
		printf("error: command too long\n");
		fflush(stdout);
		*len = 0;
	}
	return true;
}

/* Creates each topic of the comma-separated list: with the mock's default partition count in
 * one request when partitions is 0, else one at a time with that many. */
static int
create_topics(embedded *e, const char *list, int partitions, char *err, size_t errsz)
{
	const char *topics[1024];
	char names[1024][250];
	size_t n = 0;
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= sizeof(names[0]) || n == sizeof(names) / sizeof(names[0])) {
			snprintf(err, errsz, "invalid topic list \"%s\"", list);
			return -1;
		}
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		topics[n] = names[n];
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (partitions == 0)
		return embedded_create_topics(e, topics, n, err, errsz);
	for (size_t i = 0; i < n; i++)
		if (embedded_create_topic(e, topics[i], partitions, err, errsz) < 0)
			return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
	                                     {"partitions", required_argument, NULL, 'p'},
	                                     {"bootstrap-file", required_argument, NULL, 'f'},
	                                     {"topics", required_argument, NULL, 't'},
	                                     {"topic-partitions", required_argument, NULL, 'P'},
	                                     {"control", no_argument, NULL, 'c'},
	                                     {"data-dir", required_argument, NULL, 'd'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *file = NULL, *topics = NULL, *datadir = NULL;
	int brokers = 1, partitions = 3, topic_partitions = 0, c;
	bool control = false;
	char cbuf[1024];
	size_t clen = 0;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[1024];
	embedded *e;

	while ((c = getopt_long(argc, argv, "b:p:f:t:P:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if ((brokers = parse_count(optarg)) < 0) {
				fprintf(stderr, "credsync-devbroker: invalid --brokers \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case 'p':
			if ((partitions = parse_count(optarg)) < 0) {
				fprintf(stderr, "credsync-devbroker: invalid --partitions \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case 'P':
			if ((topic_partitions = parse_count(optarg)) < 0) {
				fprintf(stderr,
				        "credsync-devbroker: invalid --topic-partitions \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case 'f':
			file = optarg;
			break;
		case 't':
			topics = optarg;
			break;
		case 'c':
			control = true;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(LOG_LVL_INFO);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		fatal("could not install signal handlers");
	signal(SIGPIPE, SIG_IGN);

	if ((e = embedded_start(brokers, partitions, err, sizeof(err))) == NULL)
		fatalx("could not start: %s", err);
	if (topics != NULL && create_topics(e, topics, topic_partitions, err, sizeof(err)) < 0) {
		embedded_stop(e);
		fatalx("could not start: %s", err);
	}
	/* As credsyncd's embedded mode does: every producer's topics, from authorities.tsv,
	 * after --topics so that --topic-partitions applies to those it names. */
	rules *r = rules_load(datadir != NULL ? datadir : paths_datadir(), NULL, err, sizeof(err));
	if (r == NULL || embedded_create_producer_topics(e, r, err, sizeof(err)) < 0) {
		rules_free(r);
		embedded_stop(e);
		fatalx("could not start: %s", err);
	}
	rules_free(r);
	if (printf("bootstrap=%s\n", embedded_bootstraps(e)) < 0 || fflush(stdout) != 0) {
		embedded_stop(e);
		fatal("could not write to stdout");
	}
	if (file != NULL && embedded_write_bootstrap_file(e, file, err, sizeof(err)) < 0) {
		embedded_stop(e);
		fatalx("could not start: %s", err);
	}
	log_kv(LOG_LVL_NOTICE, "development Kafka cluster running", "bootstrap=%s brokers=%d",
	       embedded_bootstraps(e), brokers);

	while (run) {
		struct timespec ts = {0, 100 * 1000000L};

		if (control)
			control = control_poll(e, cbuf, sizeof(cbuf), &clen, 100);
		else
			nanosleep(&ts, NULL);
	}

	log_kv(LOG_LVL_NOTICE, "stopping", NULL);
	/* A stale address in the file would point the next reader at a dead port. */
	if (file != NULL && unlink(file) != 0 && errno != ENOENT)
		log_warn("could not remove \"%s\"", file);
	embedded_stop(e);
	return 0;
}
