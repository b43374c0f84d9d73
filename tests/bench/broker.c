/* credsync-benchbroker: the development Kafka cluster for the benchmark. Unlike
 * credsync-devbroker it gives the named topics the same partition count as the sites' topics,
 * since the 2.0.2 mock keeps only about 5 MiB per partition. */
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
	        "usage: credsync-benchbroker [--partitions N] [--bootstrap-file FILE]\n"
	        "                            [--topics a,b,c]\n"
	        "Starts the mock cluster with N partitions (default 16) for the sites' topics\n"
	        "and for each topic of --topics; prints \"bootstrap=<servers>\" and runs until\n"
	        "SIGTERM or SIGINT.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"partitions", required_argument, NULL, 'p'},
	                                     {"bootstrap-file", required_argument, NULL, 'f'},
	                                     {"topics", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *file = NULL, *topics = "";
	long partitions = 16;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[1024], *end;
	embedded *e;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "p:f:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			partitions = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || partitions < 1 ||
			    partitions > 1000) {
				fprintf(stderr,
				        "credsync-benchbroker: invalid --partitions \"%s\"\n",
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
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		perror("credsync-benchbroker: sigaction");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((e = embedded_start(1, (int)partitions, err, sizeof(err))) == NULL) {
		fprintf(stderr, "credsync-benchbroker: could not start: %s\n", err);
		return 1;
	}
	for (const char *p = topics; *p != '\0';) {
		size_t len = strcspn(p, ",");
		char name[256];

		if (len == 0 || len >= sizeof(name)) {
			fprintf(stderr, "credsync-benchbroker: invalid topic list\n");
			goto done;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (embedded_create_topic(e, name, (int)partitions, err, sizeof(err)) < 0) {
			fprintf(stderr, "credsync-benchbroker: could not create \"%s\": %s\n", name,
			        err);
			goto done;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (printf("bootstrap=%s\n", embedded_bootstraps(e)) < 0 || fflush(stdout) != 0) {
		perror("credsync-benchbroker: stdout");
		goto done;
	}
	if (file != NULL && embedded_write_bootstrap_file(e, file, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsync-benchbroker: %s\n", err);
		goto done;
	}
	while (run) {
		struct timespec ts = {0, 100 * 1000000L};

		nanosleep(&ts, NULL);
	}
	rc = 0;
done:
	if (file != NULL && unlink(file) != 0 && errno != ENOENT)
		fprintf(stderr, "credsync-benchbroker: could not remove \"%s\"\n", file);
	embedded_stop(e);
	return rc;
}
