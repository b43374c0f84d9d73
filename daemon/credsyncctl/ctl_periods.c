/* ctl_periods: `credsyncctl periods`: the disclosure periods of a penalty under the rule set
 * that governs its decision date; and the validation of penalty options it shares with
 * `credsyncctl notice`. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "yuan.h"

#define SYNOPSIS                                                                                   \
	"usage: credsyncctl periods --decided-on DATE --categories LIST [--field F]\n"             \
	"                           [--fine-yuan X] [--producer P] [--severity S]\n"               \
	"                           [--published-on DATE] [--rule-sets LIST] [--json]\n"

static void
help(FILE *fp)
{
	fputs(
	    SYNOPSIS
	    "\n"
	    "The disclosure periods of a penalty decision under the rule set that governs its\n"
	    "decision date (schemas/rules/README.md): the first day a repair may take effect and\n"
	    "the last day it is shown if nobody repairs it (taken down automatically the day\n"
	    "after).\n"
	    "\n"
	    "  --decided-on DATE   the decision date, YYYY-MM-DD\n"
	    "  --categories LIST   comma-separated: warning, criticism, fine, confiscation,\n"
	    "                      license_suspension, qualification_downgrade,\n"
	    "                      license_revocation, business_restriction,\n"
	    "                      production_suspension, closure, practice_restriction,\n"
	    "                      detention, other\n"
	    "  --field F           food, drug, special_equipment, work_safety, fire or other\n"
	    "                      (default other)\n"
	    "  --fine-yuan X       the fine in yuan (such as 20000.00); without it a fine's\n"
	    "                      amount is unknown and it is never a lower-amount fine\n"
	    "  --producer P        the issuing authority (authorities.tsv); decides the channel\n"
	    "  --severity S        minor, general or serious, for rule sets that need it\n"
	    "  --published-on DATE when the authority published it: a light penalty (market\n"
	    "                      regulation's own rule) is shown 3 months from then; without\n"
	    "                      it, from the day credsync first discloses it, which is\n"
	    "                      unknown here: the decision date stands in for it\n"
	    "  --rule-sets LIST    the rule sets in force (default: every set, chosen by the\n"
	    "                      decision date and the producer)\n"
	    "  --json              print {\"disclosable\": ..., \"repairable_from\": ...,\n"
	    "                      \"disclose_until\": ...} and more keys\n"
	    "  --help              print this help\n"
	    "\n"
	    "Not disclosable (a warning only) is an answer: dates are null, exit status 0.\n"
	    "Exit status: 0 success, 1 failure (no rule set covers the date), 2 usage error.\n",
	    fp);
}

static const struct ctl_cmd this_cmd = {"periods", SYNOPSIS, help, 0};

/* "fine, criticism" -> mask; prints the unknown name and returns -1. */
static int
parse_categories(const char *cmd, const char *list, unsigned *ret)
{
	char buf[512];
	size_t len = strlen(list);
	unsigned mask = 0;

	if (len >= sizeof(buf)) {
		fprintf(stderr, "credsyncctl %s: --categories is too long\n", cmd);
		return -1;
	}
	memcpy(buf, list, len + 1);
	for (char *item = buf, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		while (*item == ' ')
			item++;
		size_t n = strlen(item);
		while (n > 0 && item[n - 1] == ' ')
			item[--n] = '\0';
		int bit = category_parse(item);
		if (bit < 0) {
			fprintf(
			    stderr,
			    "credsyncctl %s: --categories: unknown category \"%s\" (see --help)\n",
			    cmd, item);
			return -1;
		}
		mask |= (unsigned)bit;
	}
	*ret = mask;
	return 0;
}

bool
ctl_penalty_opt(struct ctl_penalty_args *args, int c)
{
	switch (c) {
	case 'd':
		args->decided_on = optarg;
		return true;
	case 'c':
		args->categories = optarg;
		return true;
	case 'f':
		args->field = optarg;
		return true;
	case 'y':
		args->fine_yuan = optarg;
		return true;
	case 'p':
		args->producer = optarg;
		return true;
	case 's':
		args->severity = optarg;
		return true;
	case 'P':
		args->published_on = optarg;
		return true;
	case 'r':
		args->rule_sets = optarg;
		return true;
	}
	return false;
}

int
ctl_penalty_facts(const char *cmd, const rules *r, const struct ctl_penalty_args *args,
                  struct penalty_facts *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->decided_on = ret->published_on = ret->disclosed_on = DATE_NONE;
	if (args->decided_on == NULL || args->categories == NULL) {
		fprintf(stderr, "credsyncctl %s: %s is required\n", cmd,
		        args->decided_on == NULL ? "--decided-on" : "--categories");
		return -1;
	}
	if (date_parse(args->decided_on, &ret->decided_on) < 0) {
		fprintf(stderr, "credsyncctl %s: --decided-on \"%s\" is not a date (YYYY-MM-DD)\n",
		        cmd, args->decided_on);
		return -1;
	}
	if (parse_categories(cmd, args->categories, &ret->categories) < 0)
		return -1;
	if (args->published_on != NULL && (date_parse(args->published_on, &ret->published_on) < 0 ||
	                                   ret->published_on < ret->decided_on)) {
		fprintf(stderr,
		        "credsyncctl %s: --published-on \"%s\" is not a date (YYYY-MM-DD) on or "
		        "after --decided-on\n",
		        cmd, args->published_on);
		return -1;
	}
	if (args->field != NULL) {
		int f = field_parse(args->field);
		if (f < 0) {
			fprintf(stderr,
			        "credsyncctl %s: --field: unknown field \"%s\" (food, drug, "
			        "special_equipment, work_safety, fire or other)\n",
			        cmd, args->field);
			return -1;
		}
		ret->field = (enum field)f;
	}
	if (args->fine_yuan != NULL) {
		if (!(ret->categories & CAT_FINE)) {
			fprintf(stderr,
			        "credsyncctl %s: --fine-yuan given but --categories has no "
			        "\"fine\"\n",
			        cmd);
			return -1;
		}
		if (yuan_parse(args->fine_yuan, &ret->fine_fen) < 0) {
			fprintf(
			    stderr,
			    "credsyncctl %s: --fine-yuan \"%s\" is not an amount of yuan (such as "
			    "20000 or 20000.00)\n",
			    cmd, args->fine_yuan);
			return -1;
		}
		ret->has_fine = true;
	}
	if (args->producer != NULL) {
		if (!rules_producer_known(r, args->producer)) {
			fprintf(stderr,
			        "credsyncctl %s: --producer: unknown producer \"%s\" (not in "
			        "authorities.tsv)\n",
			        cmd, args->producer);
			return -1;
		}
		if (rules_producer_is_system(r, args->producer)) {
			fprintf(stderr,
			        "credsyncctl %s: --producer \"%s\" is a disclosure system, not an "
			        "authority that issues penalties\n",
			        cmd, args->producer);
			return -1;
		}
		ret->producer = args->producer;
	}
	if (args->severity != NULL) {
		int s = severity_parse(args->severity);
		if (s <= SEV_NONE) {
			fprintf(
			    stderr,
			    "credsyncctl %s: --severity: unknown severity \"%s\" (minor, general "
			    "or serious)\n",
			    cmd, args->severity);
			return -1;
		}
		ret->severity = (enum severity)s;
	}
	/* A rule set that classes penalties by severity cannot answer without one: that is the
	 * caller's missing option, not a failure of the rules. */
	struct rule_set_info info;
	char err[256];
	if (ret->severity == SEV_NONE &&
	    rules_rule_set_for(r, ret->decided_on, ret->producer, &info, err, sizeof(err)) == 0 &&
	    info.by_severity) {
		fprintf(stderr,
		        "credsyncctl %s: --severity is required: rule set \"%s\" governs decisions "
		        "of %s and sets periods by severity\n",
		        cmd, info.name, args->decided_on);
		return -1;
	}
	return 0;
}

static json_t *
json_date(cs_date d)
{
	char buf[DATE_STRLEN];
	return d == DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

static void
print_text(const rules *r, cs_date decided_on, const struct periods *p)
{
	char b1[DATE_STRLEN], b2[DATE_STRLEN];

	printf("rule set:         %s\n", p->rule_set);
	if (!p->disclosable) {
		printf("disclosable:      no (never shown, so nothing to repair or take down)\n");
		return;
	}
	printf("disclosable:      yes\n");
	if (p->light) {
		static const char *const from[] = {
		    [LIGHT_FROM_PUBLICATION] = "its publication",
		    [LIGHT_FROM_FIRST_DISCLOSURE] = "the day credsync first disclosed it",
		    [LIGHT_FROM_DECISION] = "the decision date; in credsyncd the day it first "
		                            "discloses it, unless the event has a publication date",
		};
		printf(
		    "light:            yes (taken down %d months after %s: %s; no application)\n",
		    p->max_months, date_format(p->light_from, b1), from[p->light_basis]);
		printf("repairable from:  - (nothing to apply for)\n");
	} else {
		printf("light:            no\n");
		printf("repairable from:  %s (minimum period %d months)\n",
		       date_format(p->repairable_from, b1), p->min_months);
	}
	printf("disclose until:   %s (taken down automatically on %s)\n",
	       date_format(p->disclose_until, b1), date_format(p->disclose_until + 1, b2));
	printf("repair channel:   %s (%s)\n", site_name(p->channel),
	       rules_repair_url_on(r, p->channel, decided_on));
}

int
ctl_periods(int argc, char **argv)
{
	static const struct option options[] = {
	    CTL_PENALTY_OPTIONS,
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_penalty_args args = {0};
	bool json = false;
	int c, rc = 1, status;

	optind = 1;
	opterr = 0;
	while ((c = ctl_getopt(&this_cmd, argc, argv, ":h", options, &json, &status)) != -1) {
		ctl_penalty_opt(&args, c);
	}
	if (status >= 0)
		return status;

	rules *r = ctl_load_rules(args.rule_sets);
	if (r == NULL)
		return 1;
	struct penalty_facts pf;
	struct periods p;
	char err[256];
	if (ctl_penalty_facts("periods", r, &args, &pf) < 0) {
		rc = ctl_usage(&this_cmd);
		goto out;
	}
	if (rules_periods(r, &pf, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsyncctl periods: %s\n", err);
		goto out;
	}
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "disclosable", json_boolean(p.disclosable));
		json_object_set_new(o, "repairable_from", json_date(p.repairable_from));
		json_object_set_new(o, "disclose_until", json_date(p.disclose_until));
		json_object_set_new(o, "light", json_boolean(p.light));
		if (p.light) {
			json_object_set_new(o, "light_from", json_date(p.light_from));
			json_object_set_new(o, "light_from_basis",
			                    json_string(light_basis_name(p.light_basis)));
		}
		json_object_set_new(o, "channel", json_string(site_name(p.channel)));
		json_object_set_new(o, "rule_set", json_string(p.rule_set));
		if (p.disclosable) {
			json_object_set_new(o, "min_months", json_integer(p.min_months));
			json_object_set_new(o, "max_months", json_integer(p.max_months));
		}
		ctl_print_json(o);
	} else {
		print_text(r, pf.decided_on, &p);
	}
	rc = 0;
out:
	rules_free(r);
	return rc;
}
