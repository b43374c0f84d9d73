/* publisher: the outbox table -> Kafka, marking rows sent on successful delivery only. */
#include "publisher.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool
publisher_busy(const publisher *pub)
{
	return pub->n_rows > 0 || pub->more;
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
