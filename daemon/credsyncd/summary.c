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

/* {"count": n, "ids": [...]} of the obligations of site that match. */
static json_t *
part(const char *site, const struct store_day_obl *obl, size_t n,
     bool (*match)(const struct store_day_obl *))
{
	json_t *ids = json_array();
	size_t count = 0;
	if (ids == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(obl[i].site, site) != 0 || !match(&obl[i]))
			continue;
		if (json_array_append_new(ids, json_string(obl[i].id)) < 0) {
			json_decref(ids);
			return NULL;
		}
		count++;
	}
	return json_pack("{s:I, s:o}", "count", (json_int_t)count, "ids", ids);
}

char *
summary_encode(const char *site, cs_date day, const struct store_day_obl *obl, size_t n,
               char id[UUID_STRLEN])
{
	char name[64], d[DATE_STRLEN];
	date_format(day, d);
	snprintf(name, sizeof(name), "daily_summary|%s|%s", site, d);
	uuid5(name, id);
	json_t *repairs = part(site, obl, n, is_repair);
	json_t *expiries = part(site, obl, n, is_expiry);
	if (repairs == NULL || expiries == NULL) {
		json_decref(repairs);
		json_decref(expiries);
		return NULL;
	}
	json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "schema",
	                        "credsync.daily_summary/1", "id", id, "type", "daily_summary",
	                        "site", site, "date", d, "repairs", repairs, "expiries", expiries);
	if (msg == NULL)
		return NULL;
	char *s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return s;
}

static int
summarise(store *st, const char *site, cs_date day, char *err, size_t errsz)
{
	struct store_day_obl *obl;
	size_t n;
	char id[UUID_STRLEN], d[DATE_STRLEN];

	if (store_day_obligations(st, site, day, &obl, &n, err, errsz) < 0)
		return -1;
	char *payload = summary_encode(site, day, obl, n, id);
	free(obl);
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
	cs_date day = date_beijing(now) - 1;
	int any = -1; /* unknown until a summary is missing */
	for (int s = 0; s < SITE_COUNT; s++) {
		const char *site = site_name((enum site)s);
		bool done, b;
		if (store_summary_written(st, site, day, &done, err, errsz) < 0)
			return -1;
		if (done)
			continue;
		if (any < 0) {
			if (store_any_until(st, day, &b, err, errsz) < 0)
				return -1;
			any = b;
		}
		if (any && summarise(st, site, day, err, errsz) < 0)
			return -1;
	}
	return 0;
}
