/* ctl_late: `credsyncctl late -c FILE [--json]`: the obligations in breach (not acknowledged
 * by the end of their due date) and the repair applications overdue, as of credsync's now. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"
#include "ctl_ops.h"
#include "store_time.h"

#define LATE_MAX 100000

static const char synopsis[] = "usage: credsyncctl late -c FILE [--json]\n";

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "%s\n"
	    "The obligations not acknowledged by the end of their due date (breaches), oldest\n"
	    "first, and the repair applications not accepted or decided within their channel's\n"
	    "working days, read from the database that FILE's pg.conninfo names. \"Now\" is\n"
	    "credsyncd's: FILE's test clock settings apply.\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --json             print {\"today\", \"breaches\": [...], \"applications\": [...]}\n"
	    "  --help             print this help\n"
	    "\n"
	    "Exit status: 0 nothing late, 1 something late (or a failure), 2 usage error.\n",
	    synopsis);
}

static json_t *
late_json(const struct store_late *l)
{
	char due[DATE_STRLEN] = "";
	if (l->due != DATE_NONE)
		date_format(l->due, due);
	if (l->id[0] != '\0')
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", l->id, "site", l->site,
		                 "type", l->what, "uscc", l->uscc, "decision_no", l->decision_no,
		                 "due_date", due);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "channel", l->site, "application_no",
	                 l->application_no, "step", l->what, "uscc", l->uscc, "decision_no",
	                 l->decision_no, "due_date", due);
}

static int
print(cs_date today, const struct store_late *l, size_t n, bool json)
{
	char d[DATE_STRLEN];
	date_format(today, d);
	if (json) {
		json_t *obl = json_array(), *apps = json_array();
		for (size_t i = 0; obl != NULL && apps != NULL && i < n; i++)
			json_array_append_new(l[i].id[0] ? obl : apps, late_json(&l[i]));
		json_t *out = obl && apps ? json_pack("{s:s, s:o, s:o}", "today", d, "breaches",
		                                      obl, "applications", apps)
		                          : NULL;
		if (out == NULL) {
			fprintf(stderr, "credsyncctl late: out of memory\n");
			return 1;
		}
		ctl_print_json(out);
	} else {
		printf("%s: %zu late\n", d, n);
		for (size_t i = 0; i < n; i++) {
			char due[DATE_STRLEN] = "-";
			if (l[i].due != DATE_NONE)
				date_format(l[i].due, due);
			if (l[i].id[0])
				printf("breach %s %-11s %-18s %s %s due %s\n", l[i].id, l[i].site,
				       l[i].what, l[i].uscc, l[i].decision_no, due);
			else
				printf("application %s %s %s not %sed, %s %s due %s\n", l[i].site,
				       l[i].application_no, l[i].what, l[i].what, l[i].uscc,
				       l[i].decision_no, due);
		}
	}
	return n > 0 ? 1 : 0;
}

int
ctl_late(int argc, char **argv)
{
	struct ctl_ops_args a;
	int rc = ctl_ops_args("late", "late -c FILE [--json]", help, 0, 0, argc, argv, &a);
	if (rc >= 0)
		return rc;
	const char *path = a.config;
	bool json = a.json;

	char err[1024];
	config *cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL ||
	    clock_test_override(config_int(cfg, CFG_TEST_CLOCK_OFFSET_S),
	                        config_str(cfg, CFG_TEST_FIXED_NOW), err, sizeof(err)) < 0) {
		fprintf(stderr, "credsyncctl late: %s\n", err);
		config_free(cfg);
		return 1;
	}
	store *st = store_open(config_str(cfg, CFG_PG_CONNINFO),
	                       (int)config_int(cfg, CFG_PG_STATEMENT_TIMEOUT_MS), err, sizeof(err));
	config_free(cfg);
	cs_date today = date_beijing(clock_now());
	struct store_late *l = calloc(LATE_MAX, sizeof(*l));
	size_t n = 0;
	if (l == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (st == NULL || l == NULL ||
	    store_breach_list(st, today, LATE_MAX, l, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsyncctl late: %s\n", err);
		store_close(st);
		free(l);
		return 1;
	}
	store_close(st);
	rc = print(today, l, n, json);
	free(l);
	return rc;
}
