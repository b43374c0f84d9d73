/* publisher: the outbox table -> Kafka, marking rows sent on successful delivery only. */
#include "publisher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

enum slot_state { SLOT_PENDING, SLOT_OK, SLOT_FAILED };

struct publisher {
	store *st;
	kafka *k;
	int batch;
	bool locked;
	/* The rows in flight (their strings owned), at most batch. A window: once half of them
	 * are reported, the delivered ones are marked sent and more rows go out, so that one
	 * slow delivery (librdkafka 2.0.2 holds a partition's first message up to a second)
	 * does not hold up the others. */
	struct outbox_row *rows;
	enum slot_state *state;
	/* each row's opaque, ascending: a late report for a dropped row finds none */
	uint64_t *ticket;
	size_t n_rows, n_reported;
	uint64_t next_ticket;
	bool more;       /* the last fetch was full: more rows are likely waiting */
	int64_t read_at; /* clock_mono_ms of the last fetch */
	/* the thread of publisher_start */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	int idle_ms;
	long max_backoff_ms;
	/* publisher_wake: ends the thread's idle wait at once, so that rows committed by the
	 * pipeline go out without waiting for the next idle_ms read. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool woken;
	bool sync_ok; /* mu and cv initialised */
};

publisher *
publisher_new(store *st, kafka *k, int batch)
{
	publisher *pub = calloc(1, sizeof(*pub));
	if (pub == NULL)
		return NULL;
	pub->st = st;
	pub->k = k;
	pub->batch = batch > 0 ? batch : 1;
	pub->rows = calloc((size_t)pub->batch, sizeof(*pub->rows));
	pub->state = calloc((size_t)pub->batch, sizeof(*pub->state));
	pub->ticket = calloc((size_t)pub->batch, sizeof(*pub->ticket));
	if (pub->rows == NULL || pub->state == NULL || pub->ticket == NULL) {
		publisher_free(pub);
		return NULL;
	}
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0) {
		publisher_free(pub);
		return NULL;
	}
	bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	          pthread_mutex_init(&pub->mu, NULL) == 0;
	if (ok && pthread_cond_init(&pub->cv, &ca) != 0) {
		pthread_mutex_destroy(&pub->mu);
		ok = false;
	}
	pthread_condattr_destroy(&ca);
	if (!ok) {
		publisher_free(pub);
		return NULL;
	}
	pub->sync_ok = true;
	return pub;
}

static void
free_row(struct outbox_row *row)
{
	free(row->key);
	free(row->payload);
	row->key = row->payload = NULL;
}

static void
drop_rows(publisher *pub)
{
	for (size_t i = 0; i < pub->n_rows; i++)
		free_row(&pub->rows[i]);
	pub->n_rows = pub->n_reported = 0;
}

void
publisher_free(publisher *pub)
{
	if (pub == NULL)
		return;
	if (pub->rows != NULL)
		drop_rows(pub);
	free(pub->rows);
	free(pub->state);
	free(pub->ticket);
	if (pub->sync_ok) {
		pthread_cond_destroy(&pub->cv);
		pthread_mutex_destroy(&pub->mu);
	}
	free(pub);
}

void
publisher_wake(publisher *pub)
{
	if (pub == NULL || !pub->sync_ok)
		return;
	pthread_mutex_lock(&pub->mu);
	pub->woken = true;
	pthread_cond_signal(&pub->cv);
	pthread_mutex_unlock(&pub->mu);
}

/* Waits up to ms for publisher_wake (one already given counts; read_due takes it). */
static void
wait_wake(publisher *pub, int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pub->mu);
	while (!pub->woken && !atomic_load(&pub->stop))
		if (pthread_cond_timedwait(&pub->cv, &pub->mu, &until) != 0)
			break; /* ETIMEDOUT: read the outbox anyway */
	pthread_mutex_unlock(&pub->mu);
}

/* Whether to read the outbox now: rows were committed since the last read (the pipeline
 * woke the publisher), the last read was full, or idle_ms have passed (another instance's
 * rows, a fence to pass). Reading every few milliseconds while rows were in flight, whether
 * or not any were committed since, was an eighth of PostgreSQL's statement time in the
 * bench's run 3 (issue 13). Without the thread (idle_ms 0) every step reads. */
static bool
read_due(publisher *pub)
{
	bool due = pub->idle_ms == 0 || pub->more || clock_mono_ms() - pub->read_at >= pub->idle_ms;
	if (pub->sync_ok) {
		pthread_mutex_lock(&pub->mu);
		due = due || pub->woken;
		pub->woken = false;
		pthread_mutex_unlock(&pub->mu);
	}
	return due;
}

void
publisher_reset(publisher *pub)
{
	pub->locked = false;
}

size_t
publisher_in_flight(const publisher *pub)
{
	return pub->n_rows - pub->n_reported;
}

void
publisher_delivered(publisher *pub, void *opaque, rd_kafka_resp_err_t err)
{
	uint64_t t = (uint64_t)(uintptr_t)opaque;
	size_t lo = 0, hi = pub->n_rows;

	/* The tickets ascend: rows are appended with the next one and settle keeps their order.
	 * A linear search was quadratic in the window (500 rows). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pub->ticket[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t i = lo;
	if (i == pub->n_rows || pub->ticket[i] != t || pub->state[i] != SLOT_PENDING)
		return; /* a report for rows already given up on */
	pub->state[i] = err == RD_KAFKA_RESP_ERR_NO_ERROR ? SLOT_OK : SLOT_FAILED;
	pub->n_reported++;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_kv(LOG_LVL_WARN, "delivery failed, will resend with the same id",
		       "id=%s topic=%s error=%s", pub->rows[i].id, pub->rows[i].topic,
		       log_qs(rd_kafka_err2str(err)));
}

/* Whether any row in the window failed: then nothing new goes out until every row in flight
 * is reported, so that the resends come in seq order. */
static bool
any_failed(const publisher *pub)
{
	for (size_t i = 0; i < pub->n_rows; i++)
		if (pub->state[i] == SLOT_FAILED)
			return true;
	return false;
}

/* Whether row i must wait for a failed row of its own subject (the same key, a lower seq). */
static bool
behind_failed(const publisher *pub, size_t i)
{
	for (size_t j = 0; j < pub->n_rows; j++)
		if (pub->state[j] == SLOT_FAILED && pub->rows[j].seq < pub->rows[i].seq &&
		    strcmp(pub->rows[j].key, pub->rows[i].key) == 0)
			return true;
	return false;
}

/* Marks the delivered rows sent and forgets the reported ones (a failed row is read again,
 * still unsent); the rows still pending stay. A row behind a failed row of its own subject is
 * not marked even when delivered (a takedown after the disclosure that failed): it must
 * reach the site again after the failed row's resend, so both are read again and re-sent in
 * seq order (the same ids: duplicates are allowed, reordering is not). Other subjects' rows
 * are marked, so a row that keeps failing holds up its subject only. Returns the number
 * marked, or -1. */
static int
settle(publisher *pub, char *err, size_t errsz)
{
	int64_t *seqs = malloc((pub->n_rows ? pub->n_rows : 1) * sizeof(*seqs));
	size_t n = 0, kept = 0;

	if (seqs == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < pub->n_rows; i++)
		if (pub->state[i] == SLOT_OK && !behind_failed(pub, i))
			seqs[n++] = pub->rows[i].seq;
	int rc = n > 0 ? store_outbox_mark_sent(pub->st, seqs, n, err, errsz) : 0;
	free(seqs);
	if (rc < 0)
		return -1; /* keep the rows: marking is retried on the next step */
	for (size_t i = 0; i < pub->n_rows; i++) {
		if (pub->state[i] != SLOT_PENDING) {
			free_row(&pub->rows[i]);
			continue;
		}
		pub->rows[kept] = pub->rows[i];
		pub->state[kept] = pub->state[i];
		pub->ticket[kept] = pub->ticket[i];
		kept++;
	}
	pub->n_rows = kept;
	pub->n_reported = 0;
	return (int)n;
}

int
publisher_finish(publisher *pub, char *err, size_t errsz)
{
	if (!pub->locked || pub->n_rows == 0)
		return 0;
	return settle(pub, err, errsz);
}

/* Reads up to room more unsent rows (not those in flight) and produces them. */
static int
send_more(publisher *pub, size_t room, char *err, size_t errsz)
{
	int64_t *except = malloc((pub->n_rows ? pub->n_rows : 1) * sizeof(*except));
	struct outbox_row *got = NULL;
	size_t n = 0;

	if (except == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < pub->n_rows; i++)
		except[i] = pub->rows[i].seq;
	int rc = store_outbox_fetch_except(pub->st, 0, except, pub->n_rows, (int)room, &got, &n,
	                                   err, errsz);
	free(except);
	if (rc < 0)
		return -1;
	pub->read_at = clock_mono_ms();
	pub->more = n == room;
	for (size_t j = 0; j < n; j++) {
		size_t i = pub->n_rows++;
		const struct outbox_row *row = &pub->rows[i];
		char perr[256];

		pub->rows[i] = got[j]; /* its strings move over */
		pub->state[i] = SLOT_PENDING;
		pub->ticket[i] = ++pub->next_ticket;
		if (kafka_produce(pub->k, row->topic, row->key, row->payload, strlen(row->payload),
		                  (void *)(uintptr_t)pub->ticket[i], perr, sizeof(perr)) < 0) {
			/* Not queued (queue full, producer fenced): counts as a failed report. */
			pub->state[i] = SLOT_FAILED;
			pub->n_reported++;
			log_kv(LOG_LVL_WARN, "could not produce, will retry",
			       "id=%s topic=%s error=%s", row->id, row->topic, log_qs(perr));
		}
	}
	free(got);
	return 0;
}

int
publisher_step(publisher *pub, char *err, size_t errsz)
{
	/* The lock first, also for marking: after a lost connection another instance may have
	 * taken over, and then the rows in flight are its to send (again, with the same ids). */
	if (!pub->locked) {
		bool got = false;
		if (store_outbox_lock(pub->st, &got, err, errsz) < 0)
			return -1;
		if (!got) {
			drop_rows(pub);
			return 0; /* another instance publishes */
		}
		pub->locked = true;
		log_kv(LOG_LVL_INFO, "this instance publishes the outbox", NULL);
	}
	int marked = 0;
	if (pub->n_rows > 0) {
		if (publisher_in_flight(pub) > (size_t)pub->batch / 2)
			return 0;
		/* After a failure, nothing goes out until every row in flight is reported: a row
		 * of the failed row's subject, delivered later, must not be marked sent, and the
		 * resend of the failed row must come before the resend of the rows after it. */
		if (publisher_in_flight(pub) > 0 && any_failed(pub))
			return 0;
		if ((marked = settle(pub, err, errsz)) < 0)
			return -1;
	} else if (store_outbox_mark_sent(pub->st, NULL, 0, err, errsz) < 0) {
		/* nothing in flight: the cursor catches up with the rows delivered above it */
		return -1;
	}
	if ((size_t)pub->batch > pub->n_rows && read_due(pub) &&
	    send_more(pub, (size_t)pub->batch - pub->n_rows, err, errsz) < 0)
		return -1;
	return marked;
}

/* --- the publisher's thread ------------------------------------------------------------ */

/* Steps until told to stop. The producer's delivery reports are served here only (nothing
 * else polls the producer while the thread runs), so publisher_delivered runs on it too. */
static void *
run(void *arg)
{
	publisher *pub = arg;
	int64_t retry_at = 0;
	long wait = 0;
	char err[1024];

	while (!atomic_load(&pub->stop)) {
		if (clock_mono_ms() >= retry_at) {
			if (publisher_step(pub, err, sizeof(err)) >= 0) {
				wait = 0;
			} else {
				wait = wait ? wait * 2 : 200;
				if (wait > pub->max_backoff_ms)
					wait = pub->max_backoff_ms;
				retry_at = clock_mono_ms() + wait;
				log_kv(LOG_LVL_WARN, "could not publish the outbox, retrying",
				       "error=%s retry_ms=%ld", log_qs(err), wait);
				publisher_reset(pub);
				if (store_reconnect(pub->st, err, sizeof(err)) < 0)
					log_kv(LOG_LVL_WARN, "PostgreSQL unavailable, retrying",
					       "for=publisher error=%s retry_ms=%ld", log_qs(err),
					       wait);
			}
		}
		/* Waits for delivery reports (pushing the rows out: the publisher waits for all of
		 * them, and librdkafka 2.0.2 may otherwise hold some for up to a second), or idles
		 * between outbox reads. */
		if (publisher_in_flight(pub) > 0) {
			kafka_push(pub->k, 5);
		} else if (pub->more) {
			kafka_poll(pub->k, 0);
		} else {
			wait_wake(pub, pub->idle_ms);
			kafka_poll(pub->k, 0);
		}
	}
	return NULL;
}

int
publisher_start(publisher *pub, int idle_ms, long max_backoff_ms, char *err, size_t errsz)
{
	int rc;

	pub->idle_ms = idle_ms > 0 ? idle_ms : 1;
	pub->max_backoff_ms = max_backoff_ms > 200 ? max_backoff_ms : 200;
	atomic_store(&pub->stop, false);
	if ((rc = pthread_create(&pub->thread, NULL, run, pub)) != 0) {
		snprintf(err, errsz, "could not start the publisher's thread: %s", strerror(rc));
		return -1;
	}
	pub->started = true;
	return 0;
}

void
publisher_stop(publisher *pub, int timeout_ms)
{
	char err[1024];

	if (pub == NULL || !pub->started)
		return;
	atomic_store(&pub->stop, true);
	publisher_wake(pub);
	pthread_join(pub->thread, NULL);
	pub->started = false;
	int64_t deadline = clock_mono_ms() + timeout_ms;
	while (publisher_in_flight(pub) > 0 && clock_mono_ms() < deadline)
		kafka_poll(pub->k, 100);
	if (publisher_finish(pub, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "could not mark delivered rows sent", "error=%s", log_qs(err));
}
