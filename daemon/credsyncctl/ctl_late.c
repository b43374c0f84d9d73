/* ctl_late: `credsyncctl late -c FILE [--json]`: the obligations in breach (not acknowledged
 * by the end of their due date), the repair applications overdue, as of credsync's now, and
 * the penalties of a regime that classes by severity whose event had none (taken as general
 * until the authority sends a correction). */
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
	    "credsyncd's: FILE's test clock settings apply. Also the penalties of a rule set that\n"
	    "classes by severity whose event had none: credsyncd took them as general\n"
	    "(msg=severity_assumed) until the authority sends a correction.\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --json             print {\"today\", \"breaches\": [...], \"applications\": [...],\n"
	    "                     \"severity_assumed\": [...]}\n"
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
print(cs_date today, const struct store_late *l, size_t n, const struct store_nosev *ns,
      size_t n_ns, bool json)
{
	char d[DATE_STRLEN], dd[DATE_STRLEN];
	date_format(today, d);
	if (json) {
		json_t *obl = json_array(), *apps = json_array(), *sev = json_array();
		for (size_t i = 0; obl != NULL && apps != NULL && i < n; i++)
			json_array_append_new(l[i].id[0] ? obl : apps, late_json(&l[i]));
		for (size_t i = 0; sev != NULL && i < n_ns; i++)
			json_array_append_new(
			    sev, json_pack("{s:s, s:s, s:s, s:s, s:s}", "producer", ns[i].producer,
			                   "uscc", ns[i].uscc, "decision_no", ns[i].decision_no,
			                   "decided_on", date_format(ns[i].decided_on, dd),
			                   "taken_as", "general"));
		json_t *out = obl && apps && sev
		                  ? json_pack("{s:s, s:o, s:o, s:o}", "today", d, "breaches", obl,
		                              "applications", apps, "severity_assumed", sev)
		                  : NULL;
		if (out == NULL) {
			fprintf(stderr, "credsyncctl late: out of memory\n");
			return 1;
		}
		ctl_print_json(out);
	} else {
		printf("%s: %zu late\n", d, n + n_ns);
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
		for (size_t i = 0; i < n_ns; i++)
			printf("severity %s %s %s decided %s: no severity, taken as general\n",
			       ns[i].producer, ns[i].uscc, ns[i].decision_no,
			       date_format(ns[i].decided_on, dd));
	}
	return n + n_ns > 0 ? 1 : 0;
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
	rules *r = rules_load(config_str(cfg, CFG_DATA_DIR), config_str(cfg, CFG_RULES_SETS), err,
	                      sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "credsyncctl late: %s\n", err);
		config_free(cfg);
		return 1;
	}
	store *st = store_open_pooled(
	    config_str(cfg, CFG_PG_CONNINFO), (int)config_int(cfg, CFG_PG_STATEMENT_TIMEOUT_MS),
	    store_pooling_of(config_str(cfg, CFG_PG_POOLING)), err, sizeof(err));
	config_free(cfg);
	cs_date today = date_beijing(clock_now());
	struct store_late *l = calloc(LATE_MAX, sizeof(*l));
	size_t n = 0;
	if (l == NULL)
		snprintf(err, sizeof(err), "out of memory");
	struct store_nosev *ns = calloc(LATE_MAX, sizeof(*ns));
	size_t n_ns = 0;
	cs_date sev_from = rules_severity_from(r);
	if (ns == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (st == NULL || l == NULL || ns == NULL ||
	    store_breach_list(st, today, LATE_MAX, l, &n, err, sizeof(err)) < 0 ||
	    (sev_from != DATE_NONE &&
	     store_no_severity(st, sev_from, LATE_MAX, ns, &n_ns, err, sizeof(err)) < 0)) {
		fprintf(stderr, "credsyncctl late: %s\n", err);
		store_close(st);
		rules_free(r);
		free(l);
		free(ns);
		return 1;
	}
	store_close(st);
	/* only those the governing set classes by severity (a producer's own start may differ) */
	size_t kept = 0;
	for (size_t i = 0; i < n_ns; i++) {
		struct rule_set_info info;
		char e2[256];
		if (rules_rule_set_for(r, ns[i].decided_on, ns[i].producer, &info, e2,
		                       sizeof(e2)) == 0 &&
		    info.by_severity)
			ns[kept++] = ns[i];
	}
	rc = print(today, l, n, ns, kept, json);
	rules_free(r);
	free(l);
	free(ns);
	return rc;
}
