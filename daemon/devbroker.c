/* credsync-devbroker: the embedded development Kafka cluster in a process of its own, so that
 * credsyncd can be stopped or killed while the broker keeps its messages. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "embedded.h"
#include "log.h"

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
	        "[--bootstrap-file FILE] [--topics a,b,c]\n"
	        "  --brokers N            brokers in the cluster (default 1)\n"
	        "  --partitions N         partitions of the sites' topics (default 3; --topics\n"
	        "                         and topics a producer creates get the mock's 4)\n"
	        "  --bootstrap-file FILE  also write the bootstrap servers to FILE\n"
	        "                         (removed again at exit)\n"
	        "  --topics a,b,c         topics to create besides the sites' credit.*\n"
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

/* Creates each topic of the comma-separated list. */
static int
create_topics(embedded *e, const char *list, char *err, size_t errsz)
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
	return embedded_create_topics(e, topics, n, err, errsz);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
	                                     {"partitions", required_argument, NULL, 'p'},
	                                     {"bootstrap-file", required_argument, NULL, 'f'},
	                                     {"topics", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *file = NULL, *topics = NULL;
	int brokers = 1, partitions = 3, c;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[1024];
	embedded *e;

	while ((c = getopt_long(argc, argv, "b:p:f:t:h", opts, NULL)) != -1) {
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
		case 'f':
			file = optarg;
			break;
		case 't':
			topics = optarg;
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
	if (topics != NULL && create_topics(e, topics, err, sizeof(err)) < 0) {
		embedded_stop(e);
		fatalx("could not start: %s", err);
	}
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
		nanosleep(&ts, NULL);
	}

	log_kv(LOG_LVL_NOTICE, "stopping", NULL);
	/* A stale address in the file would point the next reader at a dead port. */
	if (file != NULL && unlink(file) != 0 && errno != ENOENT)
		log_warn("could not remove \"%s\"", file);
	embedded_stop(e);
	return 0;
}
