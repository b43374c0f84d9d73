/* batch: the working set of one batch of the pipeline (pipeline.c): what each message
 * became, the records its events touch, by key, and the rows to write, in arrays kept per
 * thread from one batch to the next. Not for use outside the pipeline. */
#ifndef CREDSYNC_BATCH_H
#define CREDSYNC_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "pipeline.h"
#include "reconcile.h"
#include "store.h"

/* What one message became, before the write. */
struct item {
	/* IT_FAILED: refused by the database for good (pipeline_failure); stored as 'failed' */
	enum { IT_EVENT, IT_ACK, IT_REJECT, IT_IGNORED, IT_FAILED } kind;
	struct event ev;
	struct ack ack;
	struct reject rej;
	struct refused_end
	    refused[RECON_MAX_REFUSED]; /* an applied add: the early ends it refused */
	int n_refused;
	enum inbound_outcome outcome;
	int rec;       /* index into the batch's records, or -1 */
	size_t id_ix;  /* an event's index into the batch's ids */
	size_t ack_ix; /* an ack's index into the batch's acks */
};

/* The batch's working set: the records its events touch, by key. */
struct batch {
	struct item *items;
	struct record_key *keys;
	struct record *recs;
	bool *found, *dirty;
	bool *stored; /* found by store_batch_begin: stored before the batch */
	size_t n_keys;
	char (*usccs)[USCC_BUF];
	size_t n_uscc;
	char (*ids)[UUID_STRLEN];
	bool *seen;
	size_t n_ids;
	struct store_inbound *in;
	struct obligation *obl;
	size_t n_obl;
	struct store_outrow *out;
	char **payloads; /* owned: encoded out and reject messages */
	char (*out_ids)[UUID_STRLEN];
	char (*out_topics)[300];
	size_t n_out;
	struct ack *acks;
	struct store_inbound *ack_in; /* the message of each ack */
	size_t n_acks;
	struct store_tp *offsets;
	size_t n_offsets;
	size_t last_offset; /* note_offset's last hit: a fetch comes a partition at a time */
	struct pipeline_stats stats; /* added to the pipeline's once committed */
	/* Hash indexes (slot: index + 1, 0 empty; HMASK + 1 slots, at least twice the batch):
	 * lookups inside a batch of thousands stay constant-time. */
	uint32_t *h_keys, *h_usccs, *h_seen, *h_done;
	size_t hmask;
};

/* b: this thread's batch arrays for n messages, zeroed, with empty counts. Returns 0 or -1
 * (out of memory). */
int batch_get(struct batch *b, size_t n);
/* Frees what the batch owns (its encoded messages); the arrays stay for the next. */
void batch_done(struct batch *b);
/* The batch's index of key, adding it when new. */
int batch_key(struct batch *b, const struct record_key *key);
/* Notes that ids[i] took effect (in the database: h_seen; in this batch: h_done). */
void batch_id_note(struct batch *b, uint32_t *tab, size_t i);
/* Whether event_id is noted in tab (h_seen or h_done). */
bool batch_id_in(const struct batch *b, const uint32_t *tab, const char *event_id);
/* Adds an out row; payload is taken over (freed with the batch). Returns 0, or -1 when
 * payload is NULL (its encoding ran out of memory). */
int batch_add_out(struct batch *b, const char *id, const char *topic, const char *key,
                  char *payload);

#endif
