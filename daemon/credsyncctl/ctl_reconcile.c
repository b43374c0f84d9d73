/* ctl_reconcile: `credsyncctl reconcile -c FILE --date D [--json]`: every obligation received
 * on a day (Beijing) and whether each site acknowledged it, from credsync's database. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "ctl.h"
#include "store_time.h"

static const char synopsis[] = "usage: credsyncctl reconcile -c FILE --date YYYY-MM-DD [--json]\n";

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "%s\n"
	    "Every obligation (out message) received on a Beijing day, with its site, due date\n"
	    "and whether the site acknowledged it, read from the database that FILE's\n"
	    "pg.conninfo names. The same day's daily_summary lists the repair and expiry ids.\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --date D           the Beijing day\n"
	    "  --json             print {\"date\", \"obligations\": [...], \"unacknowledged\"}\n"
	    "  --help             print this help\n"
	    "\n"
	    "Exit status: 0 every obligation acknowledged, 1 some not (or a failure),\n"
	    "2 usage error.\n",
	    synopsis);
}

static const struct ctl_cmd this_cmd = {"reconcile", synopsis, help, 0};

static const char *
instant(int64_t t, char buf[TIME_STRLEN])
{
	return t == 0 ? "-" : time_format_rfc3339(t, BEIJING_OFFSET_MIN, buf);
}

static json_t *
obl_json(const struct store_day_obl *o)
{
	char due[DATE_STRLEN] = "", sent[TIME_STRLEN], acked[TIME_STRLEN];
	if (o->due != DATE_NONE)
		date_format(o->due, due);
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b}", "id",
	                 o->id, "site", o->site, "type", o->type, "reason",
	                 o->reason[0] ? o->reason : NULL, "kind", o->kind, "uscc", o->uscc, "list",
	                 o->list, "decision_no", o->decision_no, "due_date", due[0] ? due : NULL,
	                 "sent_at", o->sent_at ? instant(o->sent_at, sent) : NULL, "acked_at",
	                 o->acked_at ? instant(o->acked_at, acked) : NULL, "acknowledged",
	                 o->acked_at != 0);
}

static int
print(cs_date day, const struct store_day_obl *obl, size_t n, bool json)
{
	char d[DATE_STRLEN];
	size_t unacked = 0;
	for (size_t i = 0; i < n; i++)
		unacked += obl[i].acked_at == 0;
	date_format(day, d);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++)
			if (json_array_append_new(arr, obl_json(&obl[i])) < 0) {
				json_decref(arr);
				arr = NULL;
			}
		json_t *out =
		    arr ? json_pack("{s:s, s:o, s:I, s:I}", "date", d, "obligations", arr, "count",
		                    (json_int_t)n, "unacknowledged", (json_int_t)unacked)
		        : NULL;
		if (out == NULL) {
			fprintf(stderr, "credsyncctl reconcile: out of memory\n");
			return 1;
		}
		ctl_print_json(out);
	} else {
		printf("%s: %zu obligation%s, %zu unacknowledged\n", d, n, n == 1 ? "" : "s",
		       unacked);
		for (size_t i = 0; i < n; i++) {
			const struct store_day_obl *o = &obl[i];
			char due[DATE_STRLEN] = "-", acked[TIME_STRLEN];
			if (o->due != DATE_NONE)
				date_format(o->due, due);
			printf("%s %-11s %-18s %-13s %s %s %s due %s acked %s\n", o->id, o->site,
			       o->type, o->reason[0] ? o->reason : "-", o->uscc,
			       o->list[0] ? o->list : o->kind, o->decision_no, due,
			       instant(o->acked_at, acked));
		}
	}
	return unacked > 0 ? 1 : 0;
}

int
ctl_reconcile(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"date", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *date = NULL;
	bool json = false;
	int c, status;

	optind = 1;
	opterr = 0;
	while ((c = ctl_getopt(&this_cmd, argc, argv, ":c:h", options, &json, &status)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'd')
			date = optarg;
	}
	if (status >= 0)
		return status;
	if (path == NULL || date == NULL) {
		fprintf(stderr, "credsyncctl reconcile: %s is required\n",
		        path == NULL ? "-c FILE" : "--date");
		return ctl_usage(&this_cmd);
	}
	cs_date day;
	if (date_parse(date, &day) < 0) {
		fprintf(stderr,
		        "credsyncctl reconcile: --date \"%s\" is not a date like 2026-12-01\n",
		        date);
		return 2;
	}
	char err[1024];
	config *cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "credsyncctl reconcile: %s\n", err);
		return 1;
	}
	store *st = store_open_pooled(
	    config_str(cfg, CFG_PG_CONNINFO), (int)config_int(cfg, CFG_PG_STATEMENT_TIMEOUT_MS),
	    store_pooling_of(config_str(cfg, CFG_PG_POOLING)), err, sizeof(err));
	config_free(cfg);
	struct store_day_obl *obl = NULL;
	size_t n = 0;
	if (st == NULL || store_day_obligations(st, NULL, day, &obl, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsyncctl reconcile: %s\n", err);
		store_close(st);
		return 1;
	}
	store_close(st);
	int rc = print(day, obl, n, json);
	free(obl);
	return rc;
}
