/* metrics: Prometheus text format for node_exporter's textfile collector, written atomically. */
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Producers and sites heard from: authorities.tsv has a few dozen; more are dropped. */
#define METRICS_SOURCES 256

struct source {
	char kind[8]; /* "in" or "ack" */
	char name[120];
	int64_t last_s;
};

/* Noted by the main loop and the apply workers, written by the jobs thread: mu guards
 * everything. */
struct metrics {
	pthread_mutex_t mu;
	struct source src[METRICS_SOURCES];
	size_t nsrc;
	uint64_t batches_failed;
};

metrics *
metrics_new(void)
{
	metrics *m = calloc(1, sizeof(metrics));
	if (m != NULL && pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static void
note(metrics *m, const char *kind, const char *name, int64_t ts_s)
{
	for (size_t i = 0; i < m->nsrc; i++)
		if (strcmp(m->src[i].kind, kind) == 0 && strcmp(m->src[i].name, name) == 0) {
			if (ts_s > m->src[i].last_s)
				m->src[i].last_s = ts_s;
			return;
		}
	if (m->nsrc == METRICS_SOURCES || strlen(name) >= sizeof(m->src[0].name))
		return;
	struct source *s = &m->src[m->nsrc++];
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->last_s = ts_s;
}

void
metrics_observe(metrics *m, rd_kafka_message_t *const *msgs, size_t n)
{
	static const char in[] = "credit.in.", ack[] = "credit.ack.";

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n;) {
		/* a batch comes in runs of one topic: a source looked up a run, not a message */
		rd_kafka_topic_t *rkt = msgs[i]->rkt;
		int64_t ts = -1;
		for (; i < n && msgs[i]->rkt == rkt; i++) {
			int64_t t = rd_kafka_message_timestamp(msgs[i], NULL);
			if (t > ts)
				ts = t;
		}
		if (ts < 0)
			continue;
		const char *topic = rd_kafka_topic_name(rkt);
		if (strncmp(topic, in, sizeof(in) - 1) == 0)
			note(m, "in", topic + sizeof(in) - 1, ts / 1000);
		else if (strncmp(topic, ack, sizeof(ack) - 1) == 0)
			note(m, "ack", topic + sizeof(ack) - 1, ts / 1000);
	}
	pthread_mutex_unlock(&m->mu);
}

void
metrics_batch_failed(metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->batches_failed++;
	pthread_mutex_unlock(&m->mu);
}

/* A label value: topic and producer names are [A-Za-z0-9._-], but escape as the format
 * says anyway. */
static void
put_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(FILE *fp, const char *name, const char *type, const char *help, long long value)
{
	family(fp, name, type, help);
	fprintf(fp, "%s %lld\n", name, value);
}

static void
print_all(FILE *fp, const metrics *m, const struct metrics_view *v)
{
	const struct pipeline_stats *ps = v->ps;

	family(fp, "credsync_partition_lag", "gauge",
	       "Messages between the partition's high watermark and the next offset stored in "
	       "PostgreSQL.");
	for (size_t i = 0; i < v->nparts; i++) {
		const struct metrics_partition *p = &v->parts[i];
		fputs("credsync_partition_lag{topic=\"", fp);
		put_label(fp, p->topic);
		fprintf(fp, "\",partition=\"%d\"} %lld\n", (int)p->partition,
		        (long long)(p->high > p->next ? p->high - p->next : 0));
	}
	one(fp, "credsync_batches_total", "counter", "Batches applied since start.",
	    (long long)ps->batches);
	one(fp, "credsync_batches_failed_total", "counter",
	    "Batches that could not be applied (retried) since start.",
	    (long long)m->batches_failed);
	one(fp, "credsync_messages_total", "counter", "Messages consumed in applied batches.",
	    (long long)ps->messages);
	family(fp, "credsync_events_total", "counter", "Inbound messages by outcome since start.");
	const struct {
		const char *outcome;
		uint64_t n;
	} outcomes[] = {{"applied", ps->applied},   {"stale", ps->stale},
	                {"noop", ps->noop},         {"duplicate", ps->duplicates},
	                {"rejected", ps->rejected}, {"ack", ps->acks}};
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		fprintf(fp, "credsync_events_total{outcome=\"%s\"} %llu\n", outcomes[i].outcome,
		        (unsigned long long)outcomes[i].n);
	one(fp, "credsync_obligations_total", "counter",
	    "Obligations to the sites written since start.", (long long)ps->obligations);

	one(fp, "credsync_backlog_up", "gauge",
	    "1 when PostgreSQL answered the backlog queries of this round.",
	    v->bl != NULL && v->dl != NULL);
	if (v->bl != NULL && v->dl != NULL) {
		one(fp, "credsync_backlog_unsent", "gauge", "Messages not published yet.",
		    (long long)v->bl->unsent);
		one(fp, "credsync_backlog_unacknowledged", "gauge",
		    "Obligations not acknowledged, sent or not.", (long long)v->bl->unacknowledged);
		one(fp, "credsync_backlog_overdue", "gauge",
		    "Obligations not acknowledged by the end of their due date (Beijing).",
		    (long long)v->bl->overdue);
		one(fp, "credsync_breaches", "gauge",
		    "Unacknowledged obligations whose due date passed.", (long long)v->dl->breach);
		one(fp, "credsync_at_risk", "gauge",
		    "Unacknowledged obligations due today, in the afternoon (Beijing).",
		    (long long)v->at_risk);
		one(fp, "credsync_repair_overdue", "gauge",
		    "Repair applications not accepted or decided in time.",
		    (long long)v->dl->apps_overdue);
	}
	family(fp, "credsync_last_event_timestamp_seconds", "gauge",
	       "Kafka timestamp of the newest message consumed since start, per producer "
	       "(credit.in.*) and per site's acknowledgements (credit.ack.*).");
	for (size_t i = 0; i < m->nsrc; i++) {
		fprintf(fp, "credsync_last_event_timestamp_seconds{topic_kind=\"%s\",source=\"",
		        m->src[i].kind);
		put_label(fp, m->src[i].name);
		fprintf(fp, "\"} %lld\n", (long long)m->src[i].last_s);
	}
}

int
metrics_write(metrics *m, const struct metrics_view *v, const char *path, char *err, size_t errsz)
{
	char tmp[4096];
	int fd;
	FILE *fp;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(err, errsz, "\"%s\": path too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errsz, "could not create a file beside \"%s\": %s", path,
		         strerror(errno));
		return -1;
	}
	/* node_exporter runs as another user: the counters are no secret */
	if (fchmod(fd, 0644) != 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errsz, "\"%s\": %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	pthread_mutex_lock(&m->mu);
	print_all(fp, m, v);
	pthread_mutex_unlock(&m->mu);
	if (fflush(fp) != 0 || ferror(fp)) {
		snprintf(err, errsz, "could not write \"%s\": %s", tmp, strerror(errno));
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errsz, "could not replace \"%s\": %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
