/* pipeline: one batch of consumed Kafka messages -> one PostgreSQL transaction. */
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "due.h"
#include "event.h"
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
	return batch_add_out(b, id, out_topic, it->ev.key.uscc,
	                     reject_encode(event_id, producer, &it->rej, topic, msg->partition,
	                                   msg->offset, msg->payload ? msg->payload : "",
	                                   msg->len));
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
		if (batch_add_out(b, ob->id, site_out_topic(ob->site), ob->key.uscc,
		                  out_encode(ob)) < 0)
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
	int rc =
	    batch_add_out(b, id, out_topic, uscc,
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
			batch_id_note(&b, b.h_seen, i);
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
		} else if (it->kind == IT_EVENT && (batch_id_in(&b, b.h_seen, it->ev.event_id) ||
		                                    batch_id_in(&b, b.h_done, it->ev.event_id))) {
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
				batch_id_note(&b, b.h_done, it->id_ix);
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
