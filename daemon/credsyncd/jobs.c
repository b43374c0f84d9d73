/* jobs: the periodic jobs' thread: the clock's jobs, the progress lines and the metrics file. */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "deadlines.h"
#include "due.h"
#include "expiry.h"
#include "log.h"
#include "notify.h"
#include "store_time.h"
#include "summary.h"

#define TIME_JOBS_EVERY_MS 2000
/* The longest wait for the main loop's snapshot: it answers between batches, so only a batch
 * retried through an outage is slower; then the previous snapshot is logged. */
#define SNAPSHOT_WAIT_MS 1000

struct jobs {
	store *st;
	kafka *k;
	metrics *met;
	pthread_t thread;
	bool started, sync_ok;
	atomic_bool stop;

	/* What a reload changes, under dom (held by the jobs thread while it runs a job). */
	pthread_mutex_t dom;
	const rules *r;
	const calendar *cal;
	char *metrics_path; /* NULL: no metrics file */
	long lag_interval_ms, max_backoff_ms;

	/* The snapshot of the apply side and the thread's sleep, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool want;
	bool served;
	struct pipeline_stats ps;
	rd_kafka_topic_partition_list_t *offsets;

	int64_t time_at, progress_at; /* the next runs (monotonic ms) */
	long time_wait;               /* the clock jobs' backoff after a failure */
};

static void
set_config(jobs *j, const config *cfg)
{
	const char *path = config_str(cfg, CFG_METRICS_TEXTFILE);
	free(j->metrics_path);
	j->metrics_path = path != NULL ? strdup(path) : NULL;
	if (path != NULL && j->metrics_path == NULL)
		log_kv(LOG_LVL_WARN, "out of memory: no metrics file", NULL);
	j->lag_interval_ms = (long)config_int(cfg, CFG_LOG_LAG_INTERVAL_S) * 1000;
	j->max_backoff_ms = (long)config_int(cfg, CFG_RETRY_MAX_BACKOFF_MS);
}

jobs *
jobs_new(store *st, kafka *k, metrics *met, const config *cfg, const rules *r, const calendar *cal)
{
	jobs *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->st = st;
	j->k = k;
	j->met = met;
	j->r = r;
	j->cal = cal;
	set_config(j, cfg);
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0) {
		free(j);
		return NULL;
	}
	bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
	if (ok && pthread_mutex_init(&j->mu, NULL) != 0)
		ok = false;
	else if (ok && pthread_mutex_init(&j->dom, NULL) != 0) {
		pthread_mutex_destroy(&j->mu);
		ok = false;
	} else if (ok && pthread_cond_init(&j->cv, &ca) != 0) {
		pthread_mutex_destroy(&j->mu);
		pthread_mutex_destroy(&j->dom);
		ok = false;
	}
	pthread_condattr_destroy(&ca);
	if (!ok) {
		free(j->metrics_path);
		free(j);
		return NULL;
	}
	j->sync_ok = true;
	return j;
}

void
jobs_free(jobs *j)
{
	if (j == NULL)
		return;
	jobs_stop(j);
	if (j->sync_ok) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
		pthread_mutex_destroy(&j->dom);
	}
	if (j->offsets != NULL)
		rd_kafka_topic_partition_list_destroy(j->offsets);
	free(j->metrics_path);
	free(j);
}

void
jobs_pause(jobs *j)
{
	pthread_mutex_lock(&j->dom);
}

void
jobs_configure(jobs *j, const config *cfg, const rules *r, const calendar *cal)
{
	j->r = r;
	j->cal = cal;
	set_config(j, cfg);
	pthread_mutex_unlock(&j->dom);
}

bool
jobs_wants_snapshot(jobs *j)
{
	return j != NULL && atomic_load(&j->want);
}

void
jobs_give_snapshot(jobs *j, const struct pipeline_stats *ps,
                   rd_kafka_topic_partition_list_t *offsets)
{
	pthread_mutex_lock(&j->mu);
	if (j->offsets != NULL)
		rd_kafka_topic_partition_list_destroy(j->offsets);
	j->offsets = offsets;
	j->ps = *ps;
	j->served = true;
	atomic_store(&j->want, false);
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Asks the main loop for a snapshot and copies it (or the previous one, when the main loop
 * does not answer in time) into ret_ps / *ret_offsets (a copy to destroy, NULL when none). */
static void
take_snapshot(jobs *j, struct pipeline_stats *ret_ps, rd_kafka_topic_partition_list_t **ret_offsets)
{
	struct timespec until = clock_mono_after(SNAPSHOT_WAIT_MS);
	pthread_mutex_lock(&j->mu);
	j->served = false;
	atomic_store(&j->want, true);
	while (!j->served && !atomic_load(&j->stop))
		if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT)
			break;
	atomic_store(&j->want, false);
	*ret_ps = j->ps;
	*ret_offsets = j->offsets != NULL ? rd_kafka_topic_partition_list_copy(j->offsets) : NULL;
	pthread_mutex_unlock(&j->mu);
}

static long
backoff(long prev, long max)
{
	long next = prev ? prev * 2 : 200;
	return next > max ? max : next;
}

/* One attempt: the next round tries again. */
static void
reconnect_once(jobs *j)
{
	char err[1024];
	if (store_reconnect(j->st, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "PostgreSQL unavailable", "error=%s", log_qs(err));
}

/* The jobs of the clock: automatic takedowns, late obligations and applications, the daily
 * summaries, thinning the publish cursor's history. A failure waits with capped backoff. Under dom.
 */
static void
time_jobs(jobs *j)
{
	char err[1024];
	size_t n = 0;
	int64_t rows;
	int64_t now = clock_now();
	if (expiry_run(j->st, j->r, j->cal, now, &n, err, sizeof(err)) < 0 ||
	    deadlines_run(j->st, now, err, sizeof(err)) < 0 ||
	    summary_run(j->st, now, err, sizeof(err)) < 0 ||
	    store_counts_fold(j->st, &rows, err, sizeof(err)) < 0 ||
	    store_sent_marks_thin(j->st, err, sizeof(err)) < 0) {
		j->time_wait = backoff(j->time_wait, j->max_backoff_ms);
		j->time_at = clock_mono_ms() + j->time_wait;
		log_kv(LOG_LVL_WARN, "could not run the clock's jobs, retrying",
		       "error=%s retry_ms=%ld", log_qs(err), j->time_wait);
		reconnect_once(j);
		return;
	}
	j->time_wait = 0;
	j->time_at = clock_mono_ms() + (n > 0 ? 0 : TIME_JOBS_EVERY_MS);
}

/* metrics.textfile, when set: the same numbers as the progress lines. */
static void
write_metrics(jobs *j, const struct metrics_view *v)
{
	char err[1024];
	if (j->metrics_path != NULL &&
	    metrics_write(j->met, v, j->metrics_path, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "could not write the metrics file", "error=%s", log_qs(err));
}

/* msg=applied (counters since start), msg=lag per held partition and msg=backlog: what
 * operators alert on; and the metrics file. The snapshot is taken before dom: a reload
 * waiting for dom in the main loop could not give it. */
static void
progress(jobs *j)
{
	struct pipeline_stats ps;
	rd_kafka_topic_partition_list_t *held;
	take_snapshot(j, &ps, &held);
	pthread_mutex_lock(&j->dom);
	log_kv(LOG_LVL_INFO, "applied",
	       "batches=%llu messages=%llu applied=%llu stale=%llu noop=%llu duplicates=%llu "
	       "rejected=%llu acks=%llu obligations=%llu",
	       (unsigned long long)ps.batches, (unsigned long long)ps.messages,
	       (unsigned long long)ps.applied, (unsigned long long)ps.stale,
	       (unsigned long long)ps.noop, (unsigned long long)ps.duplicates,
	       (unsigned long long)ps.rejected, (unsigned long long)ps.acks,
	       (unsigned long long)ps.obligations);
	struct metrics_partition *parts = NULL;
	struct metrics_view v = {.ps = &ps};
	if (held != NULL && held->cnt > 0)
		parts = calloc((size_t)held->cnt, sizeof(*parts)); /* NULL: lag lines only */
	for (int i = 0; held != NULL && i < held->cnt; i++) {
		const char *topic = held->elems[i].topic;
		int32_t part = held->elems[i].partition;
		int64_t next = held->elems[i].offset, high = -1;
		if (kafka_high_watermark(j->k, topic, part, &high) < 0 || next < 0)
			continue;
		log_kv(LOG_LVL_INFO, "lag", "topic=%s partition=%d high=%lld next=%lld lag=%lld",
		       topic, (int)part, (long long)high, (long long)next,
		       (long long)(high > next ? high - next : 0));
		if (parts != NULL)
			parts[v.nparts++] = (struct metrics_partition){topic, part, high, next};
	}
	v.parts = parts;
	struct store_backlog bl;
	struct store_deadlines dl;
	char err[512], due[DATE_STRLEN] = "none", breach[DATE_STRLEN] = "none";
	int64_t now = clock_now(), rows;
	if (store_counts_fold(j->st, &rows, err, sizeof(err)) < 0 ||
	    store_counts(j->st, date_beijing(now), &bl, &dl, err, sizeof(err)) < 0) {
		log_kv(LOG_LVL_WARN, "could not read the backlog", "error=%s", log_qs(err));
		reconnect_once(j);
		write_metrics(j, &v);
		goto out;
	}
	if (bl.oldest_due != DATE_NONE)
		date_format(bl.oldest_due, due);
	if (dl.oldest_breach != DATE_NONE)
		date_format(dl.oldest_breach, breach);
	v.bl = &bl;
	v.dl = &dl;
	v.at_risk = due_afternoon(now) ? dl.at_risk : 0;
	log_kv(LOG_LVL_INFO, "backlog",
	       "unsent=%lld unacknowledged=%lld overdue=%lld oldest_due=%s breach=%lld "
	       "oldest_breach=%s at_risk=%lld repair_overdue=%lld",
	       (long long)bl.unsent, (long long)bl.unacknowledged, (long long)bl.overdue, due,
	       (long long)dl.breach, breach, (long long)v.at_risk, (long long)dl.apps_overdue);
	write_metrics(j, &v);
	char what[128];
	if (clock_test_active())
		log_kv(LOG_LVL_WARN, "TEST CLOCK OVERRIDE ACTIVE: not for production",
		       "override=%s", log_qs(clock_test_describe(what, sizeof(what))));
	notify_status("unsent=%lld unacknowledged=%lld overdue=%lld", (long long)bl.unsent,
	              (long long)bl.unacknowledged, (long long)bl.overdue);
out:
	j->progress_at = clock_mono_ms() + j->lag_interval_ms;
	pthread_mutex_unlock(&j->dom);
	free(parts);
	if (held != NULL)
		rd_kafka_topic_partition_list_destroy(held);
}

static void *
run(void *arg)
{
	jobs *j = arg;
	while (!atomic_load(&j->stop)) {
		int64_t now = clock_mono_ms();
		if (now >= j->time_at) {
			pthread_mutex_lock(&j->dom);
			time_jobs(j);
			pthread_mutex_unlock(&j->dom);
		}
		if (atomic_load(&j->stop))
			break;
		if (clock_mono_ms() >= j->progress_at)
			progress(j);
		int64_t next = j->time_at < j->progress_at ? j->time_at : j->progress_at;
		long wait = (long)(next - clock_mono_ms());
		if (wait <= 0)
			continue;
		/* woken early only by jobs_stop (a snapshot given wakes it too: it waits on) */
		struct timespec until = clock_mono_after(wait);
		pthread_mutex_lock(&j->mu);
		while (!atomic_load(&j->stop))
			if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&j->mu);
	}
	return NULL;
}

int
jobs_start(jobs *j, char *err, size_t errsz)
{
	int rc;
	atomic_store(&j->stop, false);
	if ((rc = pthread_create(&j->thread, NULL, run, j)) != 0) {
		snprintf(err, errsz, "could not start the periodic jobs' thread: %s", strerror(rc));
		return -1;
	}
	j->started = true;
	return 0;
}

void
jobs_stop(jobs *j)
{
	if (j == NULL || !j->started)
		return;
	pthread_mutex_lock(&j->mu);
	atomic_store(&j->stop, true);
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	j->started = false;
}
