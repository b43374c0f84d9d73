/* pipeline: one batch of consumed Kafka messages -> one PostgreSQL transaction. */
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "due.h"
#include "event.h"
#include "fnv.h"
#include "log.h"
#include "reconcile.h"
#include "store_time.h"
#include "uuid5.h"

#define IN_PREFIX  "credit.in."
#define ACK_PREFIX "credit.ack."

struct held {
	char topic[256];
	int32_t partition;
	int64_t epoch;
	int64_t next_offset;
};

struct pipeline {
	store *st; /* the claims' connection */
	const rules *r;
	const calendar *cal;
	char *grp, *member;
	/* mu guards held and stats: the apply workers read the epochs and move the next offsets
	 * while the main thread reads them for the logs and the advisory commits. */
	pthread_mutex_t mu;
	struct held *held;
	size_t n_held, cap_held;
	struct pipeline_stats stats;
};

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

pipeline *
pipeline_new(store *st, const rules *r, const calendar *cal, const char *grp, const char *member)
{
	pipeline *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return NULL;
	}
	p->st = st;
	p->r = r;
	p->cal = cal;
	p->grp = strdup(grp);
	p->member = strdup(member);
	if (p->grp == NULL || p->member == NULL) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

void
pipeline_free(pipeline *p)
{
	if (p == NULL)
		return;
	free(p->grp);
	free(p->member);
	free(p->held);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void
pipeline_set_rules(pipeline *p, const rules *r, const calendar *cal)
{
	p->r = r;
	p->cal = cal;
}

void
pipeline_stats(pipeline *p, struct pipeline_stats *ret)
{
	pthread_mutex_lock(&p->mu);
	*ret = p->stats;
	pthread_mutex_unlock(&p->mu);
}

static struct held *
held_find(const pipeline *p, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < p->n_held; i++)
		if (p->held[i].partition == partition && strcmp(p->held[i].topic, topic) == 0)
			return &p->held[i];
	return NULL;
}

int64_t
pipeline_next_offset(pipeline *p, const char *topic, int32_t partition)
{
	pthread_mutex_lock(&p->mu);
	const struct held *h = held_find(p, topic, partition);
	int64_t next = h != NULL ? h->next_offset : -1;
	pthread_mutex_unlock(&p->mu);
	return next;
}

/* The partition's epoch as claimed, or -1 when it is not held (its commit is then fenced). */
static int64_t
held_epoch(pipeline *p, const char *topic, int32_t partition)
{
	pthread_mutex_lock(&p->mu);
	const struct held *h = held_find(p, topic, partition);
	int64_t epoch = h != NULL ? h->epoch : -1;
	pthread_mutex_unlock(&p->mu);
	return epoch;
}

int
pipeline_claim(pipeline *p, rd_kafka_topic_partition_list_t *parts, char *err, size_t errsz)
{
	size_t n = (size_t)parts->cnt;
	struct store_tp *tps = calloc(n ? n : 1, sizeof(*tps));
	if (tps == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(tps[i].topic, sizeof(tps[i].topic), "%s", parts->elems[i].topic);
		tps[i].partition = parts->elems[i].partition;
	}
	if (store_claim(p->st, p->grp, p->member, tps, n, err, errsz) < 0) {
		free(tps);
		return -1;
	}
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < n; i++) {
		parts->elems[i].offset = tps[i].offset;
		struct held *h = held_find(p, tps[i].topic, tps[i].partition);
		if (h == NULL) {
			if (p->n_held == p->cap_held) {
				size_t cap = p->cap_held ? p->cap_held * 2 : 16;
				struct held *nh = realloc(p->held, cap * sizeof(*nh));
				if (nh == NULL) {
					pthread_mutex_unlock(&p->mu);
					free(tps);
					snprintf(err, errsz, "out of memory");
					return -1;
				}
				p->held = nh;
				p->cap_held = cap;
			}
			h = &p->held[p->n_held++];
		}
		snprintf(h->topic, sizeof(h->topic), "%s", tps[i].topic);
		h->partition = tps[i].partition;
		h->epoch = tps[i].epoch;
		h->next_offset = tps[i].offset;
	}
	pthread_mutex_unlock(&p->mu);
	free(tps);
	return 0;
}

void
pipeline_release(pipeline *p, const rd_kafka_topic_partition_list_t *parts)
{
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < parts->cnt; i++) {
		struct held *h = held_find(p, parts->elems[i].topic, parts->elems[i].partition);
		if (h != NULL)
			*h = p->held[--p->n_held];
	}
	pthread_mutex_unlock(&p->mu);
}

static bool
key_eq(const struct record_key *a, const struct record_key *b)
{
	return a->kind == b->kind && strcmp(a->uscc, b->uscc) == 0 &&
	       strcmp(a->list, b->list) == 0 && strcmp(a->decision_no, b->decision_no) == 0;
}

/* FNV-1a over s and a separator, continuing from h. */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	return fnv1a64_byte(fnv1a64_str(h, s), 0xff);
}

static uint64_t
hash_key(const struct record_key *k)
{
	uint64_t h = FNV1A64_SEED ^ (uint64_t)k->kind;
	return hash_str(hash_str(hash_str(h, k->uscc), k->list), k->decision_no);
}

/* The slot of the entry eq() finds, or the empty slot where it belongs (linear probing; the
 * table never fills: it has twice the batch's slots). */
static uint32_t *
hslot(uint32_t *tab, size_t mask, uint64_t h,
      bool (*eq)(const struct batch *, size_t, const void *), const struct batch *b,
      const void *want)
{
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
		if (tab[i] == 0 || eq(b, tab[i] - 1, want))
			return &tab[i];
}

static bool
eq_key(const struct batch *b, size_t i, const void *want)
{
	return key_eq(&b->keys[i], want);
}

static bool
eq_uscc(const struct batch *b, size_t i, const void *want)
{
	return strcmp(b->usccs[i], want) == 0;
}

static bool
eq_id(const struct batch *b, size_t i, const void *want)
{
	return strcmp(b->ids[i], want) == 0;
}

/* The batch's index of key, adding it when new. */
static int
batch_key(struct batch *b, const struct record_key *key)
{
	uint32_t *slot = hslot(b->h_keys, b->hmask, hash_key(key), eq_key, b, key);
	if (*slot != 0)
		return (int)(*slot - 1);
	b->keys[b->n_keys] = *key;
	*slot = (uint32_t)++b->n_keys;
	slot =
	    hslot(b->h_usccs, b->hmask, hash_str(FNV1A64_SEED, key->uscc), eq_uscc, b, key->uscc);
	if (*slot == 0) {
		memcpy(b->usccs[b->n_uscc++], key->uscc, USCC_BUF);
		*slot = (uint32_t)b->n_uscc;
	}
	return (int)(b->n_keys - 1);
}

/* Notes that ids[i] took effect (in the database: h_seen; in this batch: h_done). */
static void
id_note(struct batch *b, uint32_t *tab, size_t i)
{
	uint32_t *slot =
	    hslot(tab, b->hmask, hash_str(FNV1A64_SEED, b->ids[i]), eq_id, b, b->ids[i]);
	if (*slot == 0)
		*slot = (uint32_t)i + 1;
}

static bool
id_in(const struct batch *b, const uint32_t *tab, const char *event_id)
{
	for (size_t i = (size_t)hash_str(FNV1A64_SEED, event_id) & b->hmask;;
	     i = (i + 1) & b->hmask) {
		if (tab[i] == 0)
			return false;
		if (strcmp(b->ids[tab[i] - 1], event_id) == 0)
			return true;
	}
}

/* The arrays of a batch for m messages and its hash tables (at least 2m slots). Each message
 * yields at most RECON_MAX_OBLIGATIONS obligations and out rows, or one reject: the arrays of
 * those are written before they are read, and a batch reusing them does not clear them. */
/* clang-format off */
#define BATCH_CLEARED(X, m) \
	X(items, m) X(keys, m) X(recs, m) X(found, m) X(dirty, m) X(stored, m) X(usccs, m) \
	X(ids, m) X(seen, m) X(in, m) X(acks, m) X(ack_in, m) X(offsets, m)
#define BATCH_WRITTEN(X, m) \
	X(obl, (m) * RECON_MAX_OBLIGATIONS) X(out, (m) * RECON_MAX_OBLIGATIONS) \
	X(payloads, (m) * RECON_MAX_OBLIGATIONS) X(out_ids, (m) * RECON_MAX_OBLIGATIONS) \
	X(out_topics, (m) * RECON_MAX_OBLIGATIONS)
/* clang-format on */
#define BATCH_TABLES(X, slots) X(h_keys, slots) X(h_usccs, slots) X(h_seen, slots) X(h_done, slots)

/* Each thread's batch arrays, kept from one batch to the next for up to cap messages. Freed
 * and allocated per batch, their megabytes (3 MiB of obligations alone for 500 messages)
 * were mapped and unmapped by the kernel each time (page faults, TLB shootdowns): a fifth
 * of credsyncd's CPU in the profile run. Those a batch writes before it reads stay
 * uncleared, so that their pages beyond what batches use are never touched (peak RSS). */
struct batch_cache {
	struct batch b; /* the arrays; counts always 0 */
	size_t cap;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_ok;

static void
batch_arrays_free(struct batch *b)
{
#define X(f, n) free(b->f);
	BATCH_CLEARED(X, 0)
	BATCH_WRITTEN(X, 0)
	BATCH_TABLES(X, 0)
#undef X
	memset(b, 0, sizeof(*b));
}

static void
cache_free(void *arg)
{
	struct batch_cache *c = arg;

	batch_arrays_free(&c->b);
	free(c);
}

static void
cache_key_make(void)
{
	cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

/* b: the batch arrays of this thread for n messages, zeroed, with empty counts. Returns 0 or
 * -1 (out of memory). */
static int
batch_get(struct batch *b, size_t n)
{
	size_t m = n ? n : 1, slots = 16;
	struct batch_cache *c;

	memset(b, 0, sizeof(*b));
	if (pthread_once(&cache_once, cache_key_make) != 0 || !cache_ok)
		return -1;
	if ((c = pthread_getspecific(cache_key)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return -1;
		if (pthread_setspecific(cache_key, c) != 0) {
			free(c);
			return -1;
		}
	}
	if (m > c->cap) {
		batch_arrays_free(&c->b);
		c->cap = 0;
		while (slots < 2 * m)
			slots *= 2;
		c->b.hmask = slots - 1;
		bool ok = true;
#define X(f, k) ok = ok && (c->b.f = calloc((k), sizeof(*c->b.f))) != NULL;
		BATCH_CLEARED(X, m)
		BATCH_WRITTEN(X, m)
		BATCH_TABLES(X, slots)
#undef X
		if (!ok) {
			batch_arrays_free(&c->b);
			return -1;
		}
		c->cap = m;
	} else {
#define X(f, k) memset(c->b.f, 0, (k) * sizeof(*c->b.f));
		BATCH_CLEARED(X, m)
		BATCH_TABLES(X, c->b.hmask + 1)
#undef X
	}
	*b = c->b;
	return 0;
}

/* Frees what the batch owns (its encoded messages); the arrays stay for the next. */
static void
batch_done(struct batch *b)
{
	if (b->payloads != NULL)
		for (size_t i = 0; i < b->n_out; i++)
			free(b->payloads[i]);
}

/* snprintf(dst, size, "%s", src) without its formatting: two copies an out message. */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Adds an outbox row; payload is taken over (freed with the batch). */
static int
add_out(struct batch *b, const char *id, const char *topic, const char *key, char *payload)
{
	if (payload == NULL)
		return -1;
	size_t i = b->n_out++;
	b->payloads[i] = payload;
	copy_cut(b->out_ids[i], sizeof(b->out_ids[i]), id);
	copy_cut(b->out_topics[i], sizeof(b->out_topics[i]), topic);
	b->out[i] = (struct store_outrow){
	    .id = b->out_ids[i], .topic = b->out_topics[i], .key = key, .payload = payload};
	return 0;
}

static const char *
topic_suffix(const char *topic, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(topic, prefix, n) == 0 ? topic + n : NULL;
}

/* Parses every message of the batch into items; collects keys, subjects and event ids. A
 * message marked failed is only parsed for its event id and subject, which it is stored
 * with. */
static void
classify(pipeline *p, struct batch *b, const struct pipeline_msg *msgs, size_t n,
         const struct pipeline_failure *fail)
{
	for (size_t i = 0; i < n; i++) {
		struct item *it = &b->items[i];
		const char *topic = msgs[i].topic;
		const char *producer = topic_suffix(topic, IN_PREFIX);
		const char *site = topic_suffix(topic, ACK_PREFIX);
		const char *payload = msgs[i].payload ? msgs[i].payload : "";

		it->rec = -1;
		if (fail != NULL && fail[i].sqlstate != NULL) {
			it->kind = IT_FAILED;
			if (producer != NULL)
				(void)event_parse(payload, msgs[i].len, producer, p->r, &it->ev,
				                  &it->rej);
			continue;
		}
		if (producer != NULL) {
			if (event_parse(payload, msgs[i].len, producer, p->r, &it->ev, &it->rej) <
			    0) {
				it->kind = IT_REJECT;
				continue;
			}
			it->kind = IT_EVENT;
			it->rec = batch_key(b, &it->ev.key);
			it->id_ix = b->n_ids;
			memcpy(b->ids[b->n_ids++], it->ev.event_id, UUID_STRLEN);
		} else if (site != NULL) {
			it->kind = ack_parse(payload, msgs[i].len, site, &it->ack, &it->rej) < 0
			               ? IT_REJECT
			               : IT_ACK;
		} else {
			it->kind = IT_IGNORED;
		}
	}
}

static int
reject_item(struct batch *b, struct item *it, const char *topic, const char *producer,
            const struct pipeline_msg *msg)
{
	char name[512], id[UUID_STRLEN];
	snprintf(name, sizeof(name), "reject|%s|%d|%lld", topic, (int)msg->partition,
	         (long long)msg->offset);
	uuid5(name, id);
	char out_topic[300];
	snprintf(out_topic, sizeof(out_topic), "credit.reject.%s", producer);
	it->outcome = INB_REJECTED;
	const char *event_id = it->ev.event_id[0] ? it->ev.event_id : NULL;
	return add_out(b, id, out_topic, it->ev.key.uscc,
	               reject_encode(event_id, producer, &it->rej, topic, msg->partition,
	                             msg->offset, msg->payload ? msg->payload : "", msg->len));
}

static int
reconcile_item(const pipeline *p, struct batch *b, struct item *it, int64_t received_at)
{
	struct recon_result res;
	const struct record *cur = b->found[it->rec] ? &b->recs[it->rec] : NULL;

	reconcile_event(cur, &it->ev, received_at, p->r, p->cal, &res);
	/* An application before the minimum period ended cannot be granted yet (docs/RULES.md §2):
	 * the channel should not accept it; say so. */
	if (it->ev.type == EV_REPAIR_APPLIED && res.outcome == RO_NOOP && cur != NULL &&
	    cur->added && cur->repairable_from != DATE_NONE &&
	    date_beijing(it->ev.app_at) < cur->repairable_from) {
		char from[DATE_STRLEN];
		log_kv(LOG_LVL_NOTICE, "repair_early",
		       "channel=%s application_no=%s uscc=%s decision_no=%s repairable_from=%s",
		       it->ev.producer, log_qs(it->ev.application_no), it->ev.key.uscc,
		       log_qs(it->ev.key.decision_no), date_format(cur->repairable_from, from));
	}
	if (res.unknown_year)
		log_kv(LOG_LVL_WARN, "calendar does not cover the year of a due date",
		       "year=%d event_id=%s", res.unknown_year, it->ev.event_id);
	it->outcome = inbound_outcome_of(res.outcome);
	switch (res.outcome) {
	case RO_APPLIED:
		b->recs[it->rec] = res.rec;
		b->found[it->rec] = b->dirty[it->rec] = true;
		memcpy(it->refused, res.refused_end, sizeof(it->refused));
		it->n_refused = res.n_refused;
		if (res.severity_assumed)
			log_kv(LOG_LVL_WARN, "severity_assumed",
			       "producer=%s uscc=%s decision_no=%s event_id=%s taken_as=general",
			       it->ev.producer, it->ev.key.uscc, log_qs(it->ev.key.decision_no),
			       it->ev.event_id);
		b->stats.applied++;
		break;
	case RO_STALE:
		b->stats.stale++;
		break;
	case RO_NOOP:
		b->stats.noop++;
		break;
	case RO_REJECTED:
		it->rej = res.rej;
		return 1;
	}
	for (int k = 0; k < res.n_obl; k++) {
		struct obligation *ob = &b->obl[b->n_obl++];
		*ob = res.obl[k];
		if (add_out(b, ob->id, site_out_topic(ob->site), ob->key.uscc, out_encode(ob)) < 0)
			return -1;
		b->stats.obligations++;
	}
	return 0;
}

/* An end that arrived before its add, refused now that the add came (docs/RULES.md §5): its inbound
 * row becomes a rejected one and the reject goes to its producer's topic, as if the end had
 * been refused on arrival. The end is either earlier in this batch or in an earlier one.
 * uscc: the record's subject (the outbox key; lives as long as the batch). */
static int
refuse_early_end(store *st, struct batch *b, const struct pipeline_msg *msgs, size_t upto,
                 const struct refused_end *re, const char *uscc, char *err, size_t errsz)
{
	const char *reason = reject_reason_name(re->rej.reason);

	for (size_t j = 0; j < upto; j++) {
		struct item *it = &b->items[j];
		if (it->kind != IT_EVENT || strcmp(it->ev.event_id, re->event_id) != 0 ||
		    it->outcome != INB_APPLIED)
			continue;
		const char *topic = msgs[j].topic;
		it->kind = IT_REJECT;
		it->rej = re->rej;
		if (reject_item(b, it, topic, re->producer, &msgs[j]) < 0) {
			snprintf(err, errsz, "out of memory encoding a reject");
			return -1;
		}
		b->in[j].outcome = inbound_outcome_name(it->outcome);
		b->in[j].reason = reason;
		b->in[j].detail = it->rej.detail;
		goto refused;
	}
	struct store_refused row = {0};
	bool found;
	if (store_inbound_refuse(st, re->event_id, reason, re->rej.detail, &row, &found, err,
	                         errsz) < 0)
		return -1;
	if (!found) {
		log_kv(LOG_LVL_WARN, "early end to refuse not found in inbound",
		       "event_id=%s producer=%s reason=%s", re->event_id, re->producer, reason);
		return 0;
	}
	char name[512], id[UUID_STRLEN], out_topic[300];
	snprintf(name, sizeof(name), "reject|%s|%d|%lld", row.topic, (int)row.partition,
	         (long long)row.offset);
	uuid5(name, id);
	snprintf(out_topic, sizeof(out_topic), "credit.reject.%s", re->producer);
	int rc = add_out(b, id, out_topic, uscc,
	                 reject_encode(re->event_id, re->producer, &re->rej, row.topic,
	                               row.partition, row.offset, row.payload, row.payload_len));
	free(row.payload);
	if (rc < 0) {
		snprintf(err, errsz, "out of memory encoding a reject");
		return -1;
	}
refused:
	b->stats.rejected++;
	log_kv(LOG_LVL_NOTICE, "early end refused", "event_id=%s producer=%s reason=%s",
	       re->event_id, re->producer, reason);
	return 0;
}

/* Repair applications and the repairs that decide them go to their own table, in the batch's
 * transaction, so that their deadlines can be watched. */
static int
track_app(const pipeline *p, store *st, const struct item *it, char *err, size_t errsz)
{
	const struct event *ev = &it->ev;
	bool app = ev->type == EV_REPAIR_APPLIED || ev->type == EV_REPAIR_ACCEPTED ||
	           ev->type == EV_REPAIR_DECLINED || ev->type == EV_REPAIR_DENIED;
	if (!(app && it->outcome == INB_NOOP) &&
	    !(ev->type == EV_PENALTY_REPAIRED && it->outcome == INB_APPLIED))
		return 0;
	int unknown = 0;
	cs_date due = due_application(ev, p->r, p->cal, &unknown);
	if (unknown)
		log_kv(LOG_LVL_WARN, "calendar does not cover the year of a due date",
		       "year=%d event_id=%s", unknown, ev->event_id);
	return store_app_put(st, ev, due, err, errsz);
}

static void
note_offset(pipeline *p, struct batch *b, const char *topic, int32_t partition, int64_t offset)
{
	for (size_t k = 0; k < b->n_offsets; k++) {
		size_t i = (b->last_offset + k) % b->n_offsets;
		if (b->offsets[i].partition == partition &&
		    strcmp(b->offsets[i].topic, topic) == 0) {
			if (offset + 1 > b->offsets[i].offset)
				b->offsets[i].offset = offset + 1;
			b->last_offset = i;
			return;
		}
	}
	b->last_offset = b->n_offsets;
	struct store_tp *tp = &b->offsets[b->n_offsets++];
	snprintf(tp->topic, sizeof(tp->topic), "%s", topic);
	tp->partition = partition;
	tp->offset = offset + 1;
	tp->epoch = held_epoch(p, topic, partition);
}

/* Stores a message refused for good, in the open batch. */
static int
fail_item(store *st, const struct item *it, const struct pipeline_msg *msg,
          const struct pipeline_failure *f, char *err, size_t errsz)
{
	const char *topic = msg->topic;
	const char *producer = topic_suffix(topic, IN_PREFIX);
	struct store_inbound in = {
	    .topic = topic,
	    .partition = msg->partition,
	    .offset = msg->offset,
	    .event_id = it->ev.event_id[0] ? it->ev.event_id : NULL,
	    .producer = producer ? producer : topic_suffix(topic, ACK_PREFIX),
	    .uscc = it->ev.key.uscc[0] ? it->ev.key.uscc : NULL,
	    .kafka_ts_ms = msg->ts_ms,
	    .payload = msg->payload,
	    .payload_len = msg->len,
	};
	return store_failed_put(st, &in, f->sqlstate, f->error, err, errsz);
}

/* The body of pipeline_apply and pipeline_retry. retry: msgs[0] (n == 1) is a failed message
 * applied again: its failed row is replaced and no offset moves. */
static int
apply_msgs(pipeline *p, store *st, const struct pipeline_msg *msgs, size_t n,
           const struct pipeline_failure *fail, bool retry, const char **ret_outcome, char *err,
           size_t errsz)
{
	struct batch b;
	int rc = -1;

	if (batch_get(&b, n) < 0) {
		snprintf(err, errsz, "out of memory for a batch of %zu messages", n);
		goto out;
	}
	classify(p, &b, msgs, n, fail);
	rc = store_batch_begin(st, (const char(*)[USCC_BUF])b.usccs, b.n_uscc, b.keys, b.n_keys,
	                       b.recs, b.found, (const char(*)[UUID_STRLEN])b.ids, b.n_ids, b.seen,
	                       err, errsz);
	if (rc < 0)
		goto out;
	rc = -1;
	memcpy(b.stored, b.found, b.n_keys * sizeof(*b.stored));
	for (size_t i = 0; i < b.n_ids; i++)
		if (b.seen[i])
			id_note(&b, b.h_seen, i);
	if (retry) {
		bool found = false;
		if (store_failed_take(st, msgs[0].topic, msgs[0].partition, msgs[0].offset, &found,
		                      err, errsz) < 0 ||
		    !found) {
			if (!found)
				snprintf(err, errsz, "not a failed message (any more)");
			store_batch_rollback(st);
			rc = found ? -1 : PIPELINE_GONE;
			goto out;
		}
	}

	for (size_t i = 0; i < n; i++) {
		const struct pipeline_msg *msg = &msgs[i];
		struct item *it = &b.items[i];
		const char *topic = msg->topic;
		const char *producer = topic_suffix(topic, IN_PREFIX);
		int64_t ts_ms = msg->ts_ms;

		if (!retry)
			note_offset(p, &b, topic, msg->partition, msg->offset);
		if (it->kind == IT_FAILED) {
			if (fail_item(st, it, msg, &fail[i], err, errsz) < 0) {
				store_batch_rollback(st);
				goto out;
			}
			b.stats.failed++;
			continue; /* stored: no row in b.in */
		}
		if (it->kind == IT_IGNORED) {
			it->outcome = INB_IGNORED;
		} else if (it->kind == IT_ACK) {
			b.acks[b.n_acks] = it->ack;
			it->ack_ix = b.n_acks++;
			it->outcome = INB_ACK;
			b.stats.acks++;
		} else if (it->kind == IT_EVENT && (id_in(&b, b.h_seen, it->ev.event_id) ||
		                                    id_in(&b, b.h_done, it->ev.event_id))) {
			it->outcome = INB_DUPLICATE;
			b.stats.duplicates++;
		} else if (it->kind == IT_EVENT) {
			int r = reconcile_item(p, &b, it, ts_ms >= 0 ? ts_ms / 1000 : 0);
			if (r < 0) {
				snprintf(err, errsz, "out of memory encoding an out message");
				store_batch_rollback(st);
				goto out;
			}
			/* Took effect: later copies in the batch are duplicates. */
			if (r == 0)
				id_note(&b, b.h_done, it->id_ix);
			else
				it->kind = IT_REJECT;
			if (r == 0 && track_app(p, st, it, err, errsz) < 0) {
				store_batch_rollback(st);
				goto out;
			}
			for (int k = 0; r == 0 && k < it->n_refused; k++)
				if (refuse_early_end(st, &b, msgs, i, &it->refused[k],
				                     it->ev.key.uscc, err, errsz) < 0) {
					store_batch_rollback(st);
					goto out;
				}
		}
		if (it->kind == IT_REJECT) {
			const char *who = producer ? producer : topic_suffix(topic, ACK_PREFIX);
			if (reject_item(&b, it, topic, who, msg) < 0) {
				snprintf(err, errsz, "out of memory encoding a reject");
				store_batch_rollback(st);
				goto out;
			}
			b.stats.rejected++;
			log_kv(LOG_LVL_NOTICE, "rejected",
			       "topic=%s partition=%d offset=%lld reason=%s", topic,
			       (int)msg->partition, (long long)msg->offset,
			       reject_reason_name(it->rej.reason));
		}
		b.in[i] = (struct store_inbound){
		    .topic = topic,
		    .partition = msg->partition,
		    .offset = msg->offset,
		    .event_id = it->kind == IT_EVENT || it->ev.event_id[0] ? it->ev.event_id : NULL,
		    .producer = producer ? producer : topic_suffix(topic, ACK_PREFIX),
		    .uscc = it->kind == IT_EVENT ? it->ev.key.uscc : NULL,
		    .kafka_ts_ms = ts_ms,
		    .outcome = inbound_outcome_name(it->outcome),
		    .reason = it->kind == IT_REJECT ? reject_reason_name(it->rej.reason) : NULL,
		    .detail = it->kind == IT_REJECT ? it->rej.detail : NULL,
		    .payload = msg->payload,
		    .payload_len = msg->len,
		};
	}

	/* The failed messages are stored already; the acknowledgements go with their acks. */
	size_t n_in = 0;
	for (size_t i = 0; i < n; i++)
		if (b.items[i].kind == IT_ACK)
			b.ack_in[b.items[i].ack_ix] = b.in[i];
		else if (b.items[i].kind != IT_FAILED)
			b.in[n_in++] = b.in[i];
	if (ret_outcome != NULL)
		*ret_outcome = n == 0 || b.items[0].kind == IT_FAILED ? "failed"
		               : b.items[0].kind == IT_ACK            ? "ack"
		                                                      : b.in[0].outcome;

	/* Only the records this batch changed are written back. */
	size_t n_dirty = 0;
	for (size_t i = 0; i < b.n_keys; i++)
		if (b.dirty[i]) {
			b.stored[n_dirty] = b.stored[i];
			b.recs[n_dirty++] = b.recs[i];
		}

	struct store_batch sb = {
	    .in = b.in,
	    .n_in = n_in,
	    .recs = b.recs,
	    .n_recs = n_dirty,
	    .rec_stored = b.stored,
	    .obl = b.obl,
	    .n_obl = b.n_obl,
	    .out = b.out,
	    .n_out = b.n_out,
	    .acks = b.acks,
	    .n_acks = b.n_acks,
	    .ack_in = b.ack_in,
	    .grp = p->grp,
	    .member = p->member,
	    .offsets = b.offsets,
	    .n_offsets = b.n_offsets,
	};
	rc = store_batch_commit(st, &sb, err, errsz);
	if (rc == 0) {
		pthread_mutex_lock(&p->mu);
		for (size_t i = 0; i < b.n_offsets; i++) {
			struct held *h = held_find(p, b.offsets[i].topic, b.offsets[i].partition);
			if (h != NULL)
				h->next_offset = b.offsets[i].offset;
		}
		struct pipeline_stats *s = &p->stats;
		s->batches++;
		s->messages += n;
		s->applied += b.stats.applied;
		s->stale += b.stats.stale;
		s->noop += b.stats.noop;
		s->duplicates += b.stats.duplicates;
		s->rejected += b.stats.rejected;
		s->acks += b.stats.acks;
		s->obligations += b.stats.obligations;
		s->failed += b.stats.failed;
		pthread_mutex_unlock(&p->mu);
		for (size_t i = 0; i < n; i++)
			if (b.items[i].kind == IT_FAILED)
				log_kv(LOG_LVL_ERR, "failed",
				       "event_id=%s topic=%s partition=%d offset=%lld sqlstate=%s "
				       "error=%s",
				       log_qs(b.items[i].ev.event_id), msgs[i].topic,
				       (int)msgs[i].partition, (long long)msgs[i].offset,
				       fail[i].sqlstate, log_qs(fail[i].error));
	}
out:
	batch_done(&b);
	return rc;
}

/* A consumed message as the pipeline reads it. */
static void
msg_of(const rd_kafka_message_t *m, struct pipeline_msg *ret)
{
	rd_kafka_timestamp_type_t tstype;
	*ret = (struct pipeline_msg){
	    .topic = rd_kafka_topic_name(m->rkt),
	    .partition = m->partition,
	    .offset = m->offset,
	    .ts_ms = rd_kafka_message_timestamp(m, &tstype),
	    .payload = m->payload,
	    .len = m->len,
	};
}

int
pipeline_apply(pipeline *p, store *st, rd_kafka_message_t *const *msgs, size_t n,
               const struct pipeline_failure *fail, char *err, size_t errsz)
{
	struct pipeline_msg *pm = calloc(n ? n : 1, sizeof(*pm));
	if (pm == NULL) {
		snprintf(err, errsz, "out of memory for a batch of %zu messages", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		msg_of(msgs[i], &pm[i]);
	int rc = apply_msgs(p, st, pm, n, fail, false, NULL, err, errsz);
	free(pm);
	return rc;
}

int
pipeline_retry(pipeline *p, store *st, const struct pipeline_msg *msg, const char **ret_outcome,
               char *err, size_t errsz)
{
	return apply_msgs(p, st, msg, 1, NULL, true, ret_outcome, err, errsz);
}

bool
pipeline_subject(pipeline *p, const rd_kafka_message_t *m, char ret_uscc[USCC_BUF])
{
	const char *producer = topic_suffix(rd_kafka_topic_name(m->rkt), IN_PREFIX);
	struct event ev;
	struct reject rej;
	if (producer == NULL ||
	    event_parse(m->payload ? m->payload : "", m->len, producer, p->r, &ev, &rej) < 0)
		return false;
	memcpy(ret_uscc, ev.key.uscc, USCC_BUF);
	return true;
}
