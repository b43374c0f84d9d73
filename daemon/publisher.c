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

#include "log.h"

enum slot_state { SLOT_PENDING, SLOT_OK, SLOT_FAILED };

struct publisher {
	store *st;
	kafka *k;
	int batch;
	bool locked;
	struct outbox_row *rows; /* the rows in flight, owned */
	enum slot_state *state;
	size_t n_rows, n_reported;
	bool more;    /* the last fetch was full: more rows are likely waiting */
	uint32_t gen; /* tells a late report of a dropped batch from one of the current batch */
	/* the thread of publisher_start */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	int idle_ms;
	long max_backoff_ms;
};

/* A message's opaque: the batch generation and the row's index in it. */
static void *
opaque_of(uint32_t gen, size_t i)
{
	return (void *)(uintptr_t)(((uint64_t)gen << 32) | (uint32_t)i);
}

publisher *
publisher_new(store *st, kafka *k, int batch)
{
	publisher *pub = calloc(1, sizeof(*pub));
	if (pub == NULL)
		return NULL;
	pub->st = st;
	pub->k = k;
	pub->batch = batch > 0 ? batch : 1;
	return pub;
}

static void
drop_rows(publisher *pub)
{
	store_outbox_free(pub->rows, pub->n_rows);
	free(pub->state);
	pub->rows = NULL;
	pub->state = NULL;
	pub->n_rows = pub->n_reported = 0;
}

void
publisher_free(publisher *pub)
{
	if (pub == NULL)
		return;
	drop_rows(pub);
	free(pub);
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
	uint64_t v = (uint64_t)(uintptr_t)opaque;
	size_t i = (size_t)(uint32_t)v;

	if ((uint32_t)(v >> 32) != pub->gen || i >= pub->n_rows || pub->state[i] != SLOT_PENDING)
		return; /* a report for rows already given up on */
	pub->state[i] = err == RD_KAFKA_RESP_ERR_NO_ERROR ? SLOT_OK : SLOT_FAILED;
	pub->n_reported++;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_kv(LOG_LVL_WARN, "delivery failed, will resend with the same id",
		       "id=%s topic=%s error=%s", pub->rows[i].id, pub->rows[i].topic,
		       log_qs(rd_kafka_err2str(err)));
}

/* All reports are in: marks the delivered rows sent and forgets the batch. */
static int
settle(publisher *pub, char *err, size_t errsz)
{
	int64_t *seqs = malloc((pub->n_rows ? pub->n_rows : 1) * sizeof(*seqs));
	size_t n = 0;

	if (seqs == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < pub->n_rows; i++)
		if (pub->state[i] == SLOT_OK)
			seqs[n++] = pub->rows[i].seq;
	int rc = n > 0 ? store_outbox_mark_sent(pub->st, seqs, n, err, errsz) : 0;
	free(seqs);
	if (rc < 0)
		return -1; /* keep the batch: marking is retried on the next step */
	drop_rows(pub);
	return (int)n;
}

int
publisher_finish(publisher *pub, char *err, size_t errsz)
{
	if (!pub->locked || pub->n_rows == 0 || pub->n_reported < pub->n_rows)
		return 0;
	return settle(pub, err, errsz);
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
		if (pub->n_reported < pub->n_rows)
			return 0;
		/* settled: the next rows go out in the same step, not a loop turn later */
		if ((marked = settle(pub, err, errsz)) < 0)
			return -1;
	}
	size_t n = 0;
	if (store_outbox_fetch(pub->st, 0, pub->batch, &pub->rows, &n, err, errsz) < 0)
		return -1;
	pub->n_rows = n;
	pub->more = n == (size_t)pub->batch;
	if (n == 0) {
		drop_rows(pub);
		return marked;
	}
	pub->state = calloc(n, sizeof(*pub->state));
	if (pub->state == NULL) {
		drop_rows(pub);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	pub->gen++;
	for (size_t i = 0; i < n; i++) {
		const struct outbox_row *row = &pub->rows[i];
		char perr[256];
		if (kafka_produce(pub->k, row->topic, row->key, row->payload, strlen(row->payload),
		                  opaque_of(pub->gen, i), perr, sizeof(perr)) < 0) {
			/* Not queued (queue full, producer fenced): counts as a failed report. */
			pub->state[i] = SLOT_FAILED;
			pub->n_reported++;
			log_kv(LOG_LVL_WARN, "could not produce, will retry",
			       "id=%s topic=%s error=%s", row->id, row->topic, log_qs(perr));
		}
	}
	return marked;
}

/* --- the publisher's thread ------------------------------------------------------------ */

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
		if (mono_ms() >= retry_at) {
			if (publisher_step(pub, err, sizeof(err)) >= 0) {
				wait = 0;
			} else {
				wait = wait ? wait * 2 : 200;
				if (wait > pub->max_backoff_ms)
					wait = pub->max_backoff_ms;
				retry_at = mono_ms() + wait;
				log_kv(LOG_LVL_WARN, "could not publish the outbox, retrying",
				       "error=%s retry_ms=%ld", log_qs(err), wait);
				publisher_reset(pub);
				if (store_reconnect(pub->st, err, sizeof(err)) < 0)
					log_kv(LOG_LVL_WARN, "PostgreSQL unavailable, retrying",
					       "for=publisher error=%s retry_ms=%ld", log_qs(err),
					       wait);
			}
		}
		/* Waits for delivery reports, or idles between outbox reads. */
		bool busy = pub->n_rows > 0 || pub->more;
		kafka_poll(pub->k, busy && publisher_in_flight(pub) == 0 ? 0
		                   : busy                                ? 5
		                                                         : pub->idle_ms);
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
	pthread_join(pub->thread, NULL);
	pub->started = false;
	int64_t deadline = mono_ms() + timeout_ms;
	while (publisher_in_flight(pub) > 0 && mono_ms() < deadline)
		kafka_poll(pub->k, 100);
	if (publisher_finish(pub, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "could not mark delivered rows sent", "error=%s", log_qs(err));
}
