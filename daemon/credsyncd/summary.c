/* summary: one daily_summary per site and day, written once to the outbox. */
#include "summary.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rules.h"
#include "uuid5.h"
#include "vocab.h"

/* The store gives the obligations' type and reason as their names. */
static bool
is_repair(const struct store_day_obl *o)
{
	int type = out_type_parse(o->type);

	return type == OUT_MUTUAL_RECOGNITION ||
	       (type == OUT_TAKEDOWN && takedown_reason_parse(o->reason) == TD_REPAIRED);
}

static bool
is_expiry(const struct store_day_obl *o)
{
	int reason = takedown_reason_parse(o->reason);

	return out_type_parse(o->type) == OUT_TAKEDOWN &&
	       (reason == TD_EXPIRED || reason == TD_LIGHT_EXPIRED);
}

/* The two parts of a summary being built: the ids of the repairs and of the expiries. */
struct parts {
	const char *site;
	json_t *repairs, *expiries;
};

static int
parts_init(struct parts *pt, const char *site)
{
	pt->site = site;
	pt->repairs = json_array();
	pt->expiries = json_array();
	return pt->repairs != NULL && pt->expiries != NULL ? 0 : -1;
}

static void
parts_free(struct parts *pt)
{
	json_decref(pt->repairs);
	json_decref(pt->expiries);
}

/* A store_day_cb: the obligations of the site that are a repair or an expiry, added. */
static int
parts_add(void *arg, const struct store_day_obl *obl, size_t n, char *err, size_t errsz)
{
	struct parts *pt = arg;
	for (size_t i = 0; i < n; i++) {
		json_t *to = NULL;
		if (strcmp(obl[i].site, pt->site) != 0)
			continue;
		if (is_repair(&obl[i]))
			to = pt->repairs;
		else if (is_expiry(&obl[i]))
			to = pt->expiries;
		if (to != NULL && json_array_append_new(to, json_string(obl[i].id)) < 0) {
			snprintf(err, errsz, "out of memory encoding a daily summary");
			return -1;
		}
	}
	return 0;
}

/* The message of pt (malloc'd; NULL when out of memory); id set. */
static char *
parts_encode(struct parts *pt, cs_date day, char id[UUID_STRLEN])
{
	char name[64], d[DATE_STRLEN];
	date_format(day, d);
	snprintf(name, sizeof(name), "daily_summary|%s|%s", pt->site, d);
	uuid5(name, id);
	json_t *msg = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:O}, s:{s:I, s:O}}", "schema",
	    "credsync.daily_summary/1", "id", id, "type", "daily_summary", "site", pt->site, "date",
	    d, "repairs", "count", (json_int_t)json_array_size(pt->repairs), "ids", pt->repairs,
	    "expiries", "count", (json_int_t)json_array_size(pt->expiries), "ids", pt->expiries);
	if (msg == NULL)
		return NULL;
	char *s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return s;
}

char *
summary_encode(const char *site, cs_date day, const struct store_day_obl *obl, size_t n,
               char id[UUID_STRLEN])
{
	struct parts pt;
	char err[128];
	char *s = NULL;
	if (parts_init(&pt, site) == 0 && parts_add(&pt, obl, n, err, sizeof(err)) == 0)
		s = parts_encode(&pt, day, id);
	parts_free(&pt);
	return s;
}

static int
summarise(store *st, const char *site, cs_date day, char *err, size_t errsz)
{
	struct parts pt;
	char id[UUID_STRLEN], d[DATE_STRLEN];

	if (parts_init(&pt, site) < 0) {
		parts_free(&pt);
		snprintf(err, errsz, "out of memory encoding a daily summary");
		return -1;
	}
	if (store_day_summary_scan(st, site, day, parts_add, &pt, err, errsz) < 0) {
		parts_free(&pt);
		return -1;
	}
	char *payload = parts_encode(&pt, day, id);
	parts_free(&pt);
	if (payload == NULL) {
		snprintf(err, errsz, "out of memory encoding a daily summary");
		return -1;
	}
	int rc = store_summary_put(st, site, day, id, payload, err, errsz);
	free(payload);
	if (rc == 1)
		log_kv(LOG_LVL_NOTICE, "daily summary", "site=%s date=%s id=%s", site,
		       date_format(day, d), id);
	return rc;
}

int
summary_run(store *st, int64_t now, char *err, size_t errsz)
{
	int64_t local = now + BEIJING_OFFSET_MIN * 60;
	if (((local % 86400) + 86400) % 86400 < SUMMARY_AFTER_S)
		return 0;
	cs_date yesterday = date_beijing(now) - 1;
	cs_date first_any = DATE_NONE; /* the first day found with an obligation on or before */
	for (int s = 0; s < SITE_COUNT; s++) {
		const char *site = site_name((enum site)s);
		cs_date last;
		if (store_summary_last(st, site, &last, err, errsz) < 0)
			return -1;
		if (last != DATE_NONE && last >= yesterday)
			continue;
		/* The days since the last summary (an outage), oldest first, at most
		 * SUMMARY_LOOKBACK_DAYS; with none written yet, yesterday only. */
		cs_date from = last == DATE_NONE ? yesterday : last + 1;
		if (from < yesterday - (SUMMARY_LOOKBACK_DAYS - 1))
			from = yesterday - (SUMMARY_LOOKBACK_DAYS - 1);
		for (cs_date day = from; day <= yesterday; day++) {
			bool any = first_any != DATE_NONE && day >= first_any;
			if (!any) {
				if (store_any_until(st, day, &any, err, errsz) < 0)
					return -1;
				if (any)
					first_any = day;
			}
			if (any && summarise(st, site, day, err, errsz) < 0)
				return -1;
		}
	}
	return 0;
}
