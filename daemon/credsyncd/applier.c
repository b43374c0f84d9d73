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

/* Consumed messages of one worker's partitions, in consumption order: one transaction. Room
 * for max_batch: while the worker applies one job, what is consumed for it joins the last
 * job it has queued, so that a busy worker commits fewer, larger transactions. */
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
	bool busy;    /* applying a job */
	bool stalled; /* retrying a job that failed for a reason that is not its messages' */
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
	/* The subjects with a failed message not retried yet, as this instance knows them (mu):
	 * a job's messages of these ask the database whether they still wait. */
	char (*waiting)[USCC_BUF];
	size_t n_waiting, cap_waiting;
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

/* Whether a failure with this SQLSTATE may go away by itself, so that the same messages are
 * tried again as they are: no answer from the server (""), a connection or resource
 * problem, a shutdown or a cancel (ours: a statement or lock timeout), a serialization
 * failure or a deadlock. Anything else the server says about a batch (a constraint, a
 * trigger, a value it cannot store, a bug of ours) is taken as permanent for the messages
 * once it came PERMANENT_TRIES times in a row. */
static bool
transient(const char *sqlstate)
{
	static const char *const classes[] = {
	    "08", /* connection exception */
	    "40", /* transaction rollback: serialization failure, deadlock */
	    "53", /* insufficient resources: disk full, out of memory, too many connections */
	    "57", /* operator intervention: admin shutdown, cannot connect now, query canceled */
	    "58", /* system error: I/O */
	};
	if (sqlstate[0] == '\0' || strcmp(sqlstate, "55P03") == 0 || /* lock_not_available */
	    strcmp(sqlstate, "25P03") == 0) /* idle_in_transaction_session_timeout */
		return true;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	return false;
}

#define PERMANENT_TRIES 3
#define FAILED_ERRSZ    1024

/* A subject with a failed message: its later messages wait behind it (stored failed too). */
struct waiting {
	char uscc[USCC_BUF];
	char sqlstate[6];
	char error[400]; /* what the later messages are stored with */
};

/* One job being applied: its messages' failure marks (pipeline_failure), their subjects
 * (parsed once, when first needed), and the subjects that wait behind a failed message. */
struct jobrun {
	const struct job *j;
	struct pipeline_failure *fail;
	char (*errors)[FAILED_ERRSZ];
	char (*sqlstates)[6];
	char (*usccs)[USCC_BUF]; /* "" not an event */
	bool parsed;
	struct waiting *waiting;
	size_t n_waiting;
	bool any_failed;
};

static void
jobrun_free(struct jobrun *r)
{
	free(r->fail);
	free(r->errors);
	free(r->sqlstates);
	free(r->usccs);
	free(r->waiting);
	*r = (struct jobrun){.j = r->j};
}

/* The job's arrays, allocated only when a message failed or waits: the jobs that go through
 * pay nothing. Out of memory: waits and tries again. Returns 0, or -1 when stopping. */
static int
jobrun_alloc(struct worker *w, struct jobrun *r)
{
	size_t n = r->j->n ? r->j->n : 1;
	long wait = 0;
	while (r->fail == NULL) {
		r->fail = calloc(n, sizeof(*r->fail));
		r->errors = calloc(n, sizeof(*r->errors));
		r->sqlstates = calloc(n, sizeof(*r->sqlstates));
		r->usccs = calloc(n, sizeof(*r->usccs));
		r->waiting = calloc(n, sizeof(*r->waiting));
		if (r->fail != NULL && r->errors != NULL && r->sqlstates != NULL &&
		    r->usccs != NULL && r->waiting != NULL)
			return 0;
		jobrun_free(r);
		if (stopping(w->a))
			return -1;
		wait = backoff(w->a, wait);
		log_kv(LOG_LVL_WARN, "could not apply batch, retrying",
		       "error=%s messages=%zu retry_ms=%ld worker=%zu", log_qs("out of memory"),
		       r->j->n, wait, w->ix);
		nap(w, wait);
	}
	return 0;
}

static void
parse_subjects(struct worker *w, struct jobrun *r)
{
	if (r->parsed)
		return;
	for (size_t i = 0; i < r->j->n; i++)
		if (!pipeline_subject(w->a->p, r->j->msgs[i], r->usccs[i]))
			r->usccs[i][0] = '\0';
	r->parsed = true;
}

static struct waiting *
waiting_find(const struct jobrun *r, const char *uscc)
{
	for (size_t i = 0; uscc[0] != '\0' && i < r->n_waiting; i++)
		if (strcmp(r->waiting[i].uscc, uscc) == 0)
			return &r->waiting[i];
	return NULL;
}

/* The applier's subjects with a failed message (a->mu held). */
static bool
subject_waits(const applier *a, const char *uscc)
{
	for (size_t i = 0; i < a->n_waiting; i++)
		if (strcmp(a->waiting[i], uscc) == 0)
			return true;
	return false;
}

static void
subject_wait(applier *a, const char *uscc)
{
	pthread_mutex_lock(&a->mu);
	if (!subject_waits(a, uscc)) {
		if (a->n_waiting == a->cap_waiting) {
			size_t cap = a->cap_waiting ? a->cap_waiting * 2 : 16;
			char(*nw)[USCC_BUF] = realloc(a->waiting, cap * sizeof(*nw));
			if (nw != NULL) {
				a->waiting = nw;
				a->cap_waiting = cap;
			}
		}
		/* Out of memory: only the later jobs' messages of the subject are not held. */
		if (a->n_waiting < a->cap_waiting)
			memcpy(a->waiting[a->n_waiting++], uscc, USCC_BUF);
	}
	pthread_mutex_unlock(&a->mu);
}

static void
subject_done(applier *a, const char *uscc)
{
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->n_waiting; i++)
		if (strcmp(a->waiting[i], uscc) == 0) {
			memcpy(a->waiting[i], a->waiting[--a->n_waiting], USCC_BUF);
			break;
		}
	pthread_mutex_unlock(&a->mu);
}

/* Before a job: the subjects of its messages that have a failed message not retried yet,
 * from an earlier job or an earlier run (asked of the database, which credsyncctl retry
 * changes). Returns 0, or -1 when the applier stops first. */
static int
find_waiting(struct worker *w, struct jobrun *r)
{
	applier *a = w->a;
	pthread_mutex_lock(&a->mu);
	bool any = a->n_waiting > 0;
	pthread_mutex_unlock(&a->mu);
	if (!any)
		return 0;
	if (jobrun_alloc(w, r) < 0)
		return -1;
	parse_subjects(w, r);
	long wait = 0;
	for (size_t i = 0; i < r->j->n; i++) {
		const char *uscc = r->usccs[i];
		pthread_mutex_lock(&a->mu);
		bool waits = uscc[0] != '\0' && subject_waits(a, uscc);
		pthread_mutex_unlock(&a->mu);
		if (!waits || waiting_find(r, uscc) != NULL)
			continue;
		struct store_failed_cause c;
		bool found;
		char err[1024];
		while (store_failed_first(w->st, uscc, &c, &found, err, sizeof(err)) < 0) {
			if (stopping(a))
				return -1;
			pthread_mutex_lock(&a->mu);
			w->stalled = true;
			pthread_mutex_unlock(&a->mu);
			wait = backoff(a, wait);
			log_kv(LOG_LVL_WARN, "could not apply batch, retrying",
			       "error=%s messages=%zu retry_ms=%ld worker=%zu", log_qs(err),
			       r->j->n, wait, w->ix);
			nap(w, wait);
			reconnect(w);
		}
		if (!found) {
			subject_done(a, uscc); /* retried */
			continue;
		}
		struct waiting *q = &r->waiting[r->n_waiting++];
		memcpy(q->uscc, uscc, USCC_BUF);
		memcpy(q->sqlstate, c.sqlstate, sizeof(q->sqlstate));
		snprintf(
		    q->error, sizeof(q->error),
		    "not applied: an earlier message of the subject failed (topic %s partition "
		    "%d offset %lld)",
		    c.topic, (int)c.partition, (long long)c.offset);
	}
	return 0;
}

/* Marks message i failed with sqlstate and error; its subject's later messages wait. */
static void
mark_failed(struct worker *w, struct jobrun *r, size_t i, const char *sqlstate, const char *error)
{
	snprintf(r->sqlstates[i], sizeof(r->sqlstates[i]), "%s", sqlstate);
	snprintf(r->errors[i], sizeof(r->errors[i]), "%s", error);
	r->fail[i] = (struct pipeline_failure){r->sqlstates[i], r->errors[i]};
	r->any_failed = true;
	parse_subjects(w, r);
	const char *uscc = r->usccs[i];
	if (uscc[0] == '\0' || waiting_find(r, uscc) != NULL)
		return;
	const rd_kafka_message_t *m = r->j->msgs[i];
	struct waiting *q = &r->waiting[r->n_waiting++];
	memcpy(q->uscc, uscc, USCC_BUF);
	snprintf(q->sqlstate, sizeof(q->sqlstate), "%s", sqlstate);
	snprintf(q->error, sizeof(q->error),
	         "not applied: an earlier message of the subject failed (topic %s partition %d "
	         "offset %lld)",
	         rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
	subject_wait(w->a, uscc);
}

/* Holds back the messages of [lo, hi) whose subject has a failed message before them: they
 * are stored as failed too, so that `credsyncctl retry` applies them after it, in order,
 * instead of letting them overtake it. */
static void
hold_back(struct jobrun *r, size_t lo, size_t hi)
{
	if (r->fail == NULL)
		return;
	for (size_t i = lo; i < hi && r->n_waiting > 0; i++) {
		const struct waiting *q = waiting_find(r, r->usccs[i]);
		if (r->fail[i].sqlstate != NULL || q == NULL)
			continue;
		memcpy(r->sqlstates[i], q->sqlstate, sizeof(r->sqlstates[i]));
		snprintf(r->errors[i], sizeof(r->errors[i]), "%s", q->error);
		r->fail[i] = (struct pipeline_failure){r->sqlstates[i], r->errors[i]};
		r->any_failed = true;
	}
}

static bool
all_marked(const struct jobrun *r, size_t lo, size_t hi)
{
	if (r->fail == NULL)
		return hi == lo;
	for (size_t i = lo; i < hi; i++)
		if (r->fail[i].sqlstate == NULL)
			return false;
	return true;
}

/* Applies the messages [lo, hi) of a job in one transaction, retrying infrastructure failures
 * with the same messages until it commits or the applier stops. A failure the server gives
 * for the messages themselves (see transient), tries times in a row, splits the range in two
 * halves applied in order, recursively, down to the single messages that fail alone: those
 * are stored as failed and everything else goes on. Returns 0 (committed), STORE_FENCED or
 * -1 (stopping). */
static int
apply_range(struct worker *w, struct jobrun *r, size_t lo, size_t hi, int tries)
{
	applier *a = w->a;
	char err[1024];
	long wait = 0;
	int conflicts = 0, permanent = 0;
	while (!stopping(a)) {
		hold_back(r, lo, hi);
		int rc = pipeline_apply(a->p, w->st, r->j->msgs + lo, hi - lo,
		                        r->any_failed ? r->fail + lo : NULL, err, sizeof(err));
		if (rc == 0) {
			if (wait != 0) {
				pthread_mutex_lock(&a->mu);
				w->stalled = false;
				pthread_mutex_unlock(&a->mu);
			}
			if (a->conf.hooks.applied != NULL)
				a->conf.hooks.applied(a->conf.hooks.arg, r->j->msgs + lo, hi - lo);
			return 0;
		}
		if (rc == STORE_FENCED) {
			log_kv(LOG_LVL_NOTICE,
			       "batch fenced: a partition moved to another instance",
			       "messages=%zu worker=%zu", r->j->n, w->ix);
			pthread_mutex_lock(&a->mu);
			a->fenced = true;
			pthread_mutex_unlock(&a->mu);
			return STORE_FENCED;
		}
		if (rc == STORE_CONFLICT && ++conflicts <= CONFLICT_RETRIES) {
			log_kv(LOG_LVL_INFO, "batch rolled back by a lock conflict, retrying",
			       "error=%s messages=%zu worker=%zu", log_qs(err), hi - lo, w->ix);
			continue;
		}
		conflicts = 0;
		const char *state = store_sqlstate(w->st);
		if (transient(state))
			permanent = 0; /* "in a row" */
		/* When only failed messages are left, the failure is not theirs: storing them
		 * must succeed, so that is an outage. */
		else if (!all_marked(r, lo, hi) && ++permanent >= tries) {
			if (jobrun_alloc(w, r) < 0)
				return -1;
			if (hi - lo == 1) {
				const char *msg = store_sqlmsg(w->st);
				mark_failed(w, r, lo, state, msg[0] != '\0' ? msg : err);
				continue; /* stores it */
			}
			log_kv(LOG_LVL_WARN,
			       "batch refused, applying it in halves to find the cause",
			       "error=%s sqlstate=%s messages=%zu worker=%zu", log_qs(err), state,
			       hi - lo, w->ix);
			size_t mid = lo + (hi - lo) / 2;
			rc = apply_range(w, r, lo, mid, 1);
			return rc != 0 ? rc : apply_range(w, r, mid, hi, 1);
		}
		if (a->conf.hooks.failed != NULL)
			a->conf.hooks.failed(a->conf.hooks.arg);
		wait = backoff(a, wait);
		log_kv(LOG_LVL_WARN, "could not apply batch, retrying",
		       "error=%s sqlstate=%s messages=%zu retry_ms=%ld worker=%zu", log_qs(err),
		       state[0] ? state : "\"\"", hi - lo, wait, w->ix);
		pthread_mutex_lock(&a->mu);
		w->stalled = true;
		pthread_mutex_unlock(&a->mu);
		nap(w, wait);
		reconnect(w);
	}
	/* Stopping: the batch was rolled back; its messages are read again at the next start. */
	return -1;
}

/* Applies one job (see apply_range). A fenced job is dropped: whoever holds the partition now
 * applies its messages, and the main thread rewinds the consumer. */
static void
apply_job(struct worker *w, const struct job *j)
{
	struct jobrun r = {.j = j};
	if (find_waiting(w, &r) == 0)
		(void)apply_range(w, &r, 0, j->n, PERMANENT_TRIES);
	pthread_mutex_lock(&w->a->mu);
	w->stalled = false;
	pthread_cond_broadcast(&w->a->done);
	pthread_mutex_unlock(&w->a->mu);
	jobrun_free(&r);
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
	if (store_failed_subjects(a->w[0].st, &a->waiting, &a->n_waiting, err, errsz) < 0)
		goto fail;
	a->cap_waiting = a->n_waiting;
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
	size_t max = a->conf.max_batch;
	struct job **open = calloc(a->n, sizeof(*open)), *jobs = NULL, **last = &jobs;
	int rc = -1;
	if (open == NULL)
		goto out;
	/* Each worker's messages in jobs of at most max, in order; built before anything is
	 * queued, so that running out of memory takes nothing. */
	for (size_t i = 0; i < n; i++) {
		size_t w = worker_of(a, msgs[i]);
		if (open[w] == NULL || open[w]->n == max) {
			struct job *j = malloc(sizeof(*j) + max * sizeof(j->msgs[0]));
			if (j == NULL)
				goto out;
			j->next = NULL;
			j->n = 0;
			*last = j;
			last = &j->next;
			open[w] = j;
		}
		open[w]->msgs[open[w]->n++] = msgs[i];
	}
	pthread_mutex_lock(&a->mu);
	for (struct job *j = jobs, *next; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		struct worker *w = &a->w[worker_of(a, j->msgs[0])];
		if (a->stopping) {
			job_free(j);
			continue;
		}
		if (w->tail != NULL && w->tail->n + j->n <= max) {
			memcpy(w->tail->msgs + w->tail->n, j->msgs, j->n * sizeof(j->msgs[0]));
			w->tail->n += j->n;
			free(j); /* its messages moved */
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
	free(open);
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
applier_stalled(applier *a)
{
	pthread_mutex_lock(&a->mu);
	bool stalled = false;
	for (size_t i = 0; i < a->n && !stalled; i++)
		stalled = a->w[i].stalled;
	pthread_mutex_unlock(&a->mu);
	return stalled;
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
	free(a->waiting);
	free(a->conninfo);
	free(a);
}
