/* applier: the apply workers, their job queues and their retries. */
#include "applier.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "store.h"

/* A worker has room while fewer jobs than this wait in its queue: one is applied while the
 * next waits and the main thread consumes the one after. */
#define QUEUE_ROOM 2
/* Deadlock victims are tried again at once this many times in a row, then with backoff. */
#define CONFLICT_RETRIES 10

/* Consumed messages of one worker's partitions, in consumption order: one transaction. */
struct job {
	struct job *next;
	size_t n;
	rd_kafka_message_t *msgs[];
};

struct worker {
	applier *a;
	size_t ix;
	store *st;
	pthread_t thread;
	bool started;
	pthread_cond_t cv; /* a job arrived, or stop */
	struct job *head, *tail;
	size_t queued;
	bool busy; /* applying a job */
};

struct applier {
	pipeline *p;
	struct applier_conf conf;
	char *conninfo;
	/* mu guards every worker's queue and busy flag, stopping and fenced. */
	pthread_mutex_t mu;
	pthread_cond_t done; /* a job finished: room or idleness may have come */
	bool sync_ok;        /* mu and done initialised */
	bool stopping;
	bool fenced;
	struct worker *w;
	size_t n;
};

/* The absolute CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait. */
static int
cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0)
		return -1;
	int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	                 pthread_cond_init(cv, &attr) == 0
	             ? 0
	             : -1;
	pthread_condattr_destroy(&attr);
	return rc;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->n; i++)
		rd_kafka_message_destroy(j->msgs[i]);
	free(j);
}

static bool
stopping(applier *a)
{
	pthread_mutex_lock(&a->mu);
	bool s = a->stopping;
	pthread_mutex_unlock(&a->mu);
	return s;
}

/* Sleeps up to ms, waking early when the applier stops. */
static void
nap(struct worker *w, long ms)
{
	applier *a = w->a;
	struct timespec until = clock_mono_after(ms);
	pthread_mutex_lock(&a->mu);
	while (!a->stopping && pthread_cond_timedwait(&w->cv, &a->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&a->mu);
}

static long
backoff(const applier *a, long prev)
{
	long next = prev ? prev * 2 : 200;
	return next > a->conf.max_backoff_ms ? a->conf.max_backoff_ms : next;
}

static void
reconnect(struct worker *w)
{
	char err[1024];
	long wait = 0;
	while (!stopping(w->a) && store_reconnect(w->st, err, sizeof(err)) < 0) {
		wait = backoff(w->a, wait);
		log_kv(LOG_LVL_WARN, "PostgreSQL unavailable, retrying",
		       "for=%s error=%s retry_ms=%ld worker=%zu", log_qs("batch"), log_qs(err),
		       wait, w->ix);
		nap(w, wait);
	}
}

/* Applies one job, retrying infrastructure failures with the same messages until it commits
 * or the applier stops. A fenced job is dropped: whoever holds the partition now applies its
 * messages, and the main thread rewinds the consumer. */
static void
apply_job(struct worker *w, const struct job *j)
{
	applier *a = w->a;
	char err[1024];
	long wait = 0;
	int conflicts = 0;
	while (!stopping(a)) {
		int rc = pipeline_apply(a->p, w->st, j->msgs, j->n, err, sizeof(err));
		if (rc == 0) {
			if (a->conf.hooks.applied != NULL)
				a->conf.hooks.applied(a->conf.hooks.arg, j->msgs, j->n);
			return;
		}
		if (rc == STORE_FENCED) {
			log_kv(LOG_LVL_NOTICE,
			       "batch fenced: a partition moved to another instance",
			       "messages=%zu worker=%zu", j->n, w->ix);
			pthread_mutex_lock(&a->mu);
			a->fenced = true;
			pthread_mutex_unlock(&a->mu);
			return;
		}
		if (rc == STORE_CONFLICT && ++conflicts <= CONFLICT_RETRIES) {
			log_kv(LOG_LVL_INFO, "batch rolled back by a lock conflict, retrying",
			       "error=%s messages=%zu worker=%zu", log_qs(err), j->n, w->ix);
			continue;
		}
		conflicts = 0;
		if (a->conf.hooks.failed != NULL)
			a->conf.hooks.failed(a->conf.hooks.arg);
		wait = backoff(a, wait);
		log_kv(LOG_LVL_WARN, "could not apply batch, retrying",
		       "error=%s messages=%zu retry_ms=%ld worker=%zu", log_qs(err), j->n, wait,
		       w->ix);
		nap(w, wait);
		reconnect(w);
	}
	/* Stopping: the batch was rolled back; its messages are read again at the next start. */
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	applier *a = w->a;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (w->head == NULL && !a->stopping)
			pthread_cond_wait(&w->cv, &a->mu);
		if (a->stopping)
			break;
		struct job *j = w->head;
		w->head = j->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->queued--;
		w->busy = true;
		pthread_mutex_unlock(&a->mu);
		apply_job(w, j);
		job_free(j);
		pthread_mutex_lock(&a->mu);
		w->busy = false;
		pthread_cond_broadcast(&a->done);
	}
	/* A job after one that was given up must not be applied: its partition would skip the
	 * messages of the one before. All are dropped. */
	while (w->head != NULL) {
		struct job *j = w->head;
		w->head = j->next;
		job_free(j);
	}
	w->tail = NULL;
	w->queued = 0;
	pthread_cond_broadcast(&a->done);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

applier *
applier_new(pipeline *p, const struct applier_conf *conf, char *err, size_t errsz)
{
	applier *a = calloc(1, sizeof(*a));
	if (a == NULL || conf->workers < 1 || conf->max_batch < 1) {
		snprintf(err, errsz, a == NULL ? "out of memory" : "no workers or no batch size");
		free(a);
		return NULL;
	}
	a->p = p;
	a->conf = *conf;
	a->conninfo = strdup(conf->conninfo != NULL ? conf->conninfo : "");
	a->conf.conninfo = a->conninfo;
	a->w = calloc(conf->workers, sizeof(*a->w));
	if (a->conninfo == NULL || a->w == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	if (pthread_mutex_init(&a->mu, NULL) != 0 || cond_init(&a->done) != 0) {
		snprintf(err, errsz, "could not initialise the apply workers' lock");
		goto fail;
	}
	a->sync_ok = true;
	for (; a->n < conf->workers; a->n++) {
		struct worker *w = &a->w[a->n];
		w->a = a;
		w->ix = a->n;
		if (cond_init(&w->cv) != 0) {
			snprintf(err, errsz, "could not initialise an apply worker");
			goto fail;
		}
		w->st = store_open_pooled(a->conninfo, conf->timeout_ms, conf->pooling, err, errsz);
		if (w->st == NULL) {
			pthread_cond_destroy(&w->cv);
			goto fail;
		}
	}
	/* The workers take no signals: the main thread's handlers see them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < a->n; i++) {
		int rc = pthread_create(&a->w[i].thread, NULL, worker_main, &a->w[i]);
		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(err, errsz, "could not start an apply worker: %s", strerror(rc));
			goto fail;
		}
		a->w[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return a;
fail:
	applier_free(a);
	return NULL;
}

/* The worker of a partition: by its number alone, not its topic. Producers that key by
 * subject with one partitioner over topics of one partition count (docs/SCALE.md) put a
 * subject's events on the same partition number in every topic: they then meet in one
 * worker, in order, instead of waiting for each other's subject locks across workers. */
static size_t
worker_of(const applier *a, const rd_kafka_message_t *m)
{
	return (size_t)((uint32_t)m->partition % a->n);
}

bool
applier_room(applier *a, int timeout_ms)
{
	struct timespec until = clock_mono_after(timeout_ms);
	bool room = false;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		room = true;
		for (size_t i = 0; i < a->n && room; i++)
			room = a->w[i].queued < QUEUE_ROOM;
		if (room || a->stopping ||
		    pthread_cond_timedwait(&a->done, &a->mu, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&a->mu);
	return room;
}

int
applier_submit(applier *a, rd_kafka_message_t **msgs, size_t n)
{
	size_t *count = calloc(a->n, sizeof(*count)), max = a->conf.max_batch;
	struct job **open = calloc(a->n, sizeof(*open)), *jobs = NULL, **last = &jobs;
	size_t *wix = NULL;
	int rc = -1;
	if (count == NULL || open == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		count[worker_of(a, msgs[i])]++;
	/* Each worker's messages in jobs of at most max, in order; built before anything is
	 * queued, so that running out of memory takes nothing. */
	size_t n_jobs = 0;
	for (size_t i = 0; i < a->n; i++)
		n_jobs += (count[i] + max - 1) / max;
	wix = calloc(n_jobs ? n_jobs : 1, sizeof(*wix));
	if (wix == NULL)
		goto out;
	size_t built = 0;
	for (size_t i = 0; i < n; i++) {
		size_t w = worker_of(a, msgs[i]);
		if (open[w] == NULL || open[w]->n == max) {
			size_t left = count[w] < max ? count[w] : max;
			struct job *j = malloc(sizeof(*j) + left * sizeof(j->msgs[0]));
			if (j == NULL)
				goto out;
			j->next = NULL;
			j->n = 0;
			*last = j;
			last = &j->next;
			wix[built++] = w;
			open[w] = j;
		}
		open[w]->msgs[open[w]->n++] = msgs[i];
		count[w]--;
	}
	pthread_mutex_lock(&a->mu);
	size_t k = 0;
	for (struct job *j = jobs, *next; j != NULL; j = next, k++) {
		next = j->next;
		j->next = NULL;
		struct worker *w = &a->w[wix[k]];
		if (a->stopping) {
			job_free(j);
			continue;
		}
		if (w->tail != NULL)
			w->tail->next = j;
		else
			w->head = j;
		w->tail = j;
		w->queued++;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&a->mu);
	jobs = NULL;
	rc = 0;
out:
	/* Not queued: the jobs only borrowed the messages; the caller keeps them. */
	for (struct job *j = jobs, *next; j != NULL; j = next) {
		next = j->next;
		free(j);
	}
	free(count);
	free(open);
	free(wix);
	return rc;
}

bool
applier_idle(applier *a, int timeout_ms)
{
	struct timespec until = clock_mono_after(timeout_ms);
	bool idle = false;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		idle = true;
		for (size_t i = 0; i < a->n && idle; i++)
			idle = a->w[i].queued == 0 && !a->w[i].busy;
		if (idle || pthread_cond_timedwait(&a->done, &a->mu, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&a->mu);
	return idle;
}

bool
applier_take_fenced(applier *a)
{
	pthread_mutex_lock(&a->mu);
	bool f = a->fenced;
	a->fenced = false;
	pthread_mutex_unlock(&a->mu);
	return f;
}

void
applier_stop(applier *a)
{
	if (a == NULL || !a->sync_ok)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	for (size_t i = 0; i < a->n; i++)
		pthread_cond_signal(&a->w[i].cv);
	pthread_mutex_unlock(&a->mu);
	for (size_t i = 0; i < a->n; i++)
		if (a->w[i].started) {
			pthread_join(a->w[i].thread, NULL);
			a->w[i].started = false;
		}
	for (size_t i = 0; i < a->n; i++) {
		store_close(a->w[i].st);
		a->w[i].st = NULL;
	}
}

void
applier_free(applier *a)
{
	if (a == NULL)
		return;
	applier_stop(a);
	for (size_t i = 0; i < a->n; i++) {
		store_close(a->w[i].st);
		pthread_cond_destroy(&a->w[i].cv);
	}
	if (a->sync_ok) {
		pthread_cond_destroy(&a->done);
		pthread_mutex_destroy(&a->mu);
	}
	free(a->w);
	free(a->conninfo);
	free(a);
}
