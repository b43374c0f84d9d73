/* credsync-pace: the benchmark's latency probe. Produces generated events at a steady rate,
 * stamping each one's production time, consumes credit.out.* live and measures, per out
 * message, the time from its source event's production to its arrival here. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_LEN 36

struct msg {
	char *topic;
	char *key;
	char *payload;
	char id[ID_LEN + 1];
	double sent; /* monotonic seconds; 0 until produced */
};

static struct msg *msgs;
static size_t nmsgs, capmsgs;
static size_t *table; /* open addressing over event ids: index + 1, 0 = empty */
static size_t tmask;

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
	        "usage: credsync-pace --bootstrap SERVERS --dir DIR [--rate N] [--seconds S]\n"
	        "                     [--settle S]\n"
	        "Produces the events of DIR/credit.in.*.tsv (credsync-gen output) at N per second\n"
	        "(default 1000) for S seconds (default 30), in a fixed shuffled order; reads\n"
	        "credit.out.gsxt and credit.out.creditchina from their ends; prints JSON with the\n"
	        "latency from an event's production to each out message's arrival (p50, p99,\n"
	        "max, ms). Waits up to --settle S (default 10) for the last out messages.\n");
}

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < ID_LEN; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void
table_put(size_t idx)
{
	for (size_t i = hash_id(msgs[idx].id) & tmask;; i = (i + 1) & tmask)
		if (table[i] == 0) {
			table[i] = idx + 1;
			return;
		}
}

static struct msg *
table_get(const char *id)
{
	for (size_t i = hash_id(id) & tmask; table[i] != 0; i = (i + 1) & tmask)
		if (memcmp(msgs[table[i] - 1].id, id, ID_LEN) == 0)
			return &msgs[table[i] - 1];
	return NULL;
}

/* The 36 characters after "name":" in a compact JSON text, or NULL. */
static const char *
find_id(const char *json, size_t len, const char *name)
{
	char pat[64];
	size_t plen = (size_t)snprintf(pat, sizeof(pat), "\"%s\":\"", name);

	for (size_t i = 0; i + plen + ID_LEN <= len; i++)
		if (memcmp(json + i, pat, plen) == 0)
			return json + i + plen;
	return NULL;
}

static int
load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		fprintf(stderr, "credsync-pace: could not open \"%s\": %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		char path[4096], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		FILE *fp;

		if (strncmp(de->d_name, "credit.in.", 10) != 0 || nl < 5 ||
		    strcmp(de->d_name + nl - 4, ".tsv") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fp = fopen(path, "r")) == NULL) {
			fprintf(stderr, "credsync-pace: could not open \"%s\"\n", path);
			closedir(d);
			return -1;
		}
		char *topic = strndup(de->d_name, nl - 4);

		while ((len = getline(&line, &cap, fp)) > 0) {
			char *tab = strchr(line, '\t');
			const char *id;

			if (tab == NULL)
				continue;
			if (line[len - 1] == '\n')
				line[--len] = '\0';
			*tab = '\0';
			if (nmsgs == capmsgs) {
				capmsgs = capmsgs ? capmsgs * 2 : 4096;
				msgs = realloc(msgs, capmsgs * sizeof(*msgs));
				if (msgs == NULL)
					return -1;
			}
			struct msg *m = &msgs[nmsgs++];

			memset(m, 0, sizeof(*m));
			m->topic = topic;
			m->key = strdup(line);
			m->payload = strdup(tab + 1);
			if ((id = find_id(m->payload, strlen(m->payload), "event_id")) != NULL)
				memcpy(m->id, id, ID_LEN);
		}
		free(line);
		fclose(fp);
	}
	closedir(d);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Assigns both out topics at their current ends. */
static int
assign_ends(rd_kafka_t *rk)
{
	static const char *const topics[] = {"credit.out.gsxt", "credit.out.creditchina"};
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(32);
	int rc = -1;

	for (int t = 0; t < 2; t++) {
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[t], NULL);
		const struct rd_kafka_metadata *md = NULL;

		if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
		    md->topic_cnt != 1) {
			if (md != NULL)
				rd_kafka_metadata_destroy(md);
			rd_kafka_topic_destroy(rkt);
			fprintf(stderr, "credsync-pace: no metadata for \"%s\"\n", topics[t]);
			goto done;
		}
		for (int p = 0; p < md->topics[0].partition_cnt; p++) {
			int64_t lo, hi;

			if (rd_kafka_query_watermark_offsets(rk, topics[t], p, &lo, &hi, 10000) !=
			    RD_KAFKA_RESP_ERR_NO_ERROR) {
				rd_kafka_metadata_destroy(md);
				rd_kafka_topic_destroy(rkt);
				fprintf(stderr, "credsync-pace: no offsets for \"%s\"\n",
				        topics[t]);
				goto done;
			}
			rd_kafka_topic_partition_list_add(parts, topics[t], p)->offset = hi;
		}
		rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(rkt);
	}
	rc = rd_kafka_assign(rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
done:
	rd_kafka_topic_partition_list_destroy(parts);
	return rc;
}

static int
set_all(rd_kafka_conf_t *conf, const char *const *kv)
{
	char err[512];

	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], err, sizeof(err)) !=
		    RD_KAFKA_CONF_OK) {
			fprintf(stderr, "credsync-pace: %s\n", err);
			return -1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
	                                     {"dir", required_argument, NULL, 'd'},
	                                     {"rate", required_argument, NULL, 'r'},
	                                     {"seconds", required_argument, NULL, 's'},
	                                     {"settle", required_argument, NULL, 'S'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *bootstrap = NULL, *dir = NULL;
	double rate = 1000, seconds = 30, settle = 10;
	rd_kafka_conf_t *pconf, *cconf;
	rd_kafka_t *prod = NULL, *cons = NULL;
	double *lat = NULL, t0, last_arrival, end_produce;
	size_t nlat = 0, caplat, produced = 0, total, unmatched = 0, errors = 0;
	char err[512], *end;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "b:d:r:s:S:h", opts, NULL)) != -1) {
		double *target = NULL;

		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'r':
			target = &rate;
			break;
		case 's':
			target = &seconds;
			break;
		case 'S':
			target = &settle;
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
			*target = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(*target > 0)) {
				fprintf(stderr, "credsync-pace: invalid number \"%s\"\n", optarg);
				return 2;
			}
		}
	}
	if (optind != argc || bootstrap == NULL || dir == NULL) {
		usage(stderr);
		return 2;
	}
	if (load_dir(dir) < 0 || nmsgs == 0) {
		fprintf(stderr, "credsync-pace: no events in \"%s\"\n", dir);
		return 1;
	}
	/* A fixed shuffle, so producers interleave as they would live. */
	uint64_t x = 88172645463325252ULL;
	for (size_t i = nmsgs - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t j = (size_t)(x % (i + 1));
		struct msg tmp = msgs[i];

		msgs[i] = msgs[j];
		msgs[j] = tmp;
	}
	total = (size_t)(rate * seconds);
	if (total > nmsgs)
		total = nmsgs;
	for (tmask = 1; tmask < 2 * total; tmask <<= 1)
		;
	table = calloc(tmask, sizeof(*table));
	tmask--;
	caplat = 4 * total + 16;
	lat = malloc(caplat * sizeof(*lat));
	if (table == NULL || lat == NULL)
		return 1;
	for (size_t i = 0; i < total; i++)
		if (msgs[i].id[0] != '\0' && table_get(msgs[i].id) == NULL)
			table_put(i);

	static const char *const pkv[] = {"linger.ms", "0", "enable.idempotence", "true", NULL};
	static const char *const ckv[] = {"group.id",
	                                  "credsync-pace",
	                                  "enable.auto.commit",
	                                  "false",
	                                  "fetch.wait.max.ms",
	                                  "5",
	                                  "fetch.error.backoff.ms",
	                                  "10",
	                                  NULL};
	pconf = rd_kafka_conf_new();
	cconf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(pconf, "bootstrap.servers", bootstrap, err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(cconf, "bootstrap.servers", bootstrap, err, sizeof(err)) !=
	        RD_KAFKA_CONF_OK ||
	    set_all(pconf, pkv) < 0 || set_all(cconf, ckv) < 0) {
		rd_kafka_conf_destroy(pconf);
		rd_kafka_conf_destroy(cconf);
		return 1;
	}
	if ((prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err))) == NULL ||
	    (cons = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "credsync-pace: %s\n", err);
		goto done;
	}
	if (assign_ends(cons) < 0)
		goto done;

	t0 = now_s();
	last_arrival = t0;
	end_produce = t0 + (double)total / rate;
	for (;;) {
		double now = now_s();
		rd_kafka_message_t *m;

		while (produced < total && t0 + (double)produced / rate <= now) {
			struct msg *s = &msgs[produced];
			rd_kafka_resp_err_t e;

			s->sent = now_s();
			e = rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(s->topic),
			                      RD_KAFKA_V_KEY(s->key, strlen(s->key)),
			                      RD_KAFKA_V_VALUE(s->payload, strlen(s->payload)),
			                      RD_KAFKA_V_END);
			if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
				errors++;
			produced++;
		}
		rd_kafka_poll(prod, 0);
		if (produced == total && now > end_produce + 1 && now - last_arrival > settle)
			break;
		if (produced == total && now > end_produce + 120)
			break;
		while ((m = rd_kafka_consumer_poll(cons, 1)) != NULL) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != NULL) {
				double at = now_s();
				const char *id = find_id(m->payload, m->len, "source_event_id");
				struct msg *s = id != NULL ? table_get(id) : NULL;

				last_arrival = at;
				if (s != NULL && s->sent > 0 && nlat < caplat)
					lat[nlat++] = (at - s->sent) * 1000.0;
				else
					unmatched++;
			}
			rd_kafka_message_destroy(m);
			if (produced < total && t0 + (double)produced / rate <= now_s())
				break;
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("{\"rate\": %.0f, \"produced\": %zu, \"offered_per_s\": %.1f, \"produce_errors\": "
	       "%zu, \"out_messages\": %zu, \"unmatched_out\": %zu, \"p50_ms\": %.2f, \"p99_ms\": "
	       "%.2f, \"max_ms\": %.2f}\n",
	       rate, produced, (double)produced / (end_produce - t0), errors, nlat, unmatched,
	       nlat ? lat[nlat / 2] : -1.0, nlat ? lat[(size_t)((double)(nlat - 1) * 0.99)] : -1.0,
	       nlat ? lat[nlat - 1] : -1.0);
	rc = nlat > 0 ? 0 : 1;
done:
	if (prod != NULL) {
		rd_kafka_flush(prod, 10000);
		rd_kafka_destroy(prod);
	}
	if (cons != NULL) {
		rd_kafka_consumer_close(cons);
		rd_kafka_destroy(cons);
	}
	free(lat);
	free(table);
	return rc;
}
