/* expiry: one transaction per group of expiring records -> takedowns to both sites. */
#include "expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reconcile.h"

/* A group's working set; out payloads are owned. */
struct group {
	struct record_key keys[EXPIRY_GROUP];
	struct record recs[EXPIRY_GROUP];
	bool found[EXPIRY_GROUP];
	char usccs[EXPIRY_GROUP][USCC_BUF];
	struct record done[EXPIRY_GROUP];
	struct obligation obl[EXPIRY_GROUP * RECON_MAX_OBLIGATIONS];
	struct store_outrow out[EXPIRY_GROUP * RECON_MAX_OBLIGATIONS];
	char *payloads[EXPIRY_GROUP * RECON_MAX_OBLIGATIONS];
	size_t n_keys, n_uscc, n_done, n_obl;
};

static void
group_free(struct group *g)
{
	for (size_t i = 0; i < g->n_obl; i++)
		free(g->payloads[i]);
}

static void
log_takedown(const struct record *rec)
{
	char until[DATE_STRLEN];
	log_kv(LOG_LVL_NOTICE, "expired",
	       "uscc=%s kind=%s list=%s decision_no=%s reason=%s disclose_until=%s", rec->key.uscc,
	       record_kind_name(rec->key.kind), log_qs(rec->key.list), log_qs(rec->key.decision_no),
	       takedown_reason_name(rec->end_reason), date_format(rec->disclose_until, until));
}

/* Decides the group's takedowns on the state read under the locks. */
static int
decide(struct group *g, const rules *r, const calendar *cal, int64_t now, char *err, size_t errsz)
{
	cs_date today = date_beijing(now);
	for (size_t i = 0; i < g->n_keys; i++) {
		struct recon_result res;
		if (!g->found[i] || !reconcile_expiry(&g->recs[i], today, now, r, cal, &res))
			continue;
		if (res.unknown_year)
			log_kv(LOG_LVL_WARN, "calendar does not cover the year of a due date",
			       "year=%d uscc=%s", res.unknown_year, res.rec.key.uscc);
		g->done[g->n_done++] = res.rec;
		for (int k = 0; k < res.n_obl; k++) {
			size_t j = g->n_obl;
			g->obl[j] = res.obl[k];
			g->payloads[j] = out_encode(&g->obl[j]);
			if (g->payloads[j] == NULL) {
				snprintf(err, errsz, "out of memory encoding a takedown");
				return -1;
			}
			g->out[j] = (struct store_outrow){.id = g->obl[j].id,
			                                  .topic = site_out_topic(res.obl[k].site),
			                                  .key = g->obl[j].key.uscc,
			                                  .payload = g->payloads[j]};
			g->n_obl++;
		}
	}
	return 0;
}

/* One group: returns the number of keys store_expiring gave (0: nothing left), or -1. */
static int
run_group(store *st, const rules *r, const calendar *cal, int64_t now, size_t *ret_n, char *err,
          size_t errsz)
{
	struct group *g = calloc(1, sizeof(*g));
	int rc = -1;
	if (g == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (store_expiring(st, date_beijing(now), EXPIRY_GROUP, g->keys, &g->n_keys, err, errsz) <
	    0)
		goto out;
	if (g->n_keys == 0) {
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < g->n_keys; i++) {
		bool dup = false;
		for (size_t j = 0; j < g->n_uscc && !dup; j++)
			dup = strcmp(g->usccs[j], g->keys[i].uscc) == 0;
		if (!dup)
			memcpy(g->usccs[g->n_uscc++], g->keys[i].uscc, USCC_BUF);
	}
	if (store_batch_begin(st, (const char(*)[USCC_BUF])g->usccs, g->n_uscc, g->keys, g->n_keys,
	                      g->recs, g->found, NULL, 0, NULL, err, errsz) < 0)
		goto out;
	if (decide(g, r, cal, now, err, errsz) < 0) {
		store_batch_rollback(st);
		goto out;
	}
	struct store_batch b = {.recs = g->done,
	                        .n_recs = g->n_done,
	                        .obl = g->obl,
	                        .n_obl = g->n_obl,
	                        .out = g->out,
	                        .n_out = g->n_obl};
	if (store_batch_commit(st, &b, err, errsz) != 0)
		goto out;
	for (size_t i = 0; i < g->n_done; i++)
		log_takedown(&g->done[i]);
	*ret_n += g->n_done;
	/* Every key read was still shown and ended, or was ended meanwhile: the next scan
	 * moves on. When none changed, stop (another instance is on them). */
	rc = g->n_done > 0 ? (int)g->n_keys : 0;
out:
	group_free(g);
	free(g);
	return rc;
}

int
expiry_run(store *st, const rules *r, const calendar *cal, int64_t now, size_t *ret_n, char *err,
           size_t errsz)
{
	*ret_n = 0;
	/* Bounded, so that the main loop goes on consuming during a large expiry day. */
	for (int round = 0; round < 64; round++) {
		int n = run_group(st, r, cal, now, ret_n, err, errsz);
		if (n < 0)
			return -1;
		if (n < EXPIRY_GROUP)
			break;
	}
	return 0;
}
