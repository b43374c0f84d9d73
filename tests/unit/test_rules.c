/* Tests of the rules as data: every worked example of docs/RULES.md §2 and §3, rule set selection,
 * list and producer facts, and the exact text of load errors (rule sets in temp dirs). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"
#include "testlib.h"
#include "yuan.h"

static rules *
load_real(const char *enabled)
{
	char err[512];
	rules *r = rules_load(testlib_schemas_dir(), enabled, err, sizeof(err));
	cr_assert(r != NULL, "rules_load(%s): %s", enabled ? enabled : "NULL", err);
	return r;
}

static const char *
fmt(cs_date d, char *buf)
{
	return d == DATE_NONE ? "none" : date_format(d, buf);
}

static unsigned
mask(const char *list)
{
	char buf[256];
	unsigned m = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *item = buf, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		int bit = category_parse(item);
		cr_assert(bit > 0, "unknown category %s", item);
		m |= (unsigned)bit;
	}
	return m;
}

/* One penalty and what the rules must say about it. fine: NULL = no amount given. */
struct pcase {
	const char *what;
	const char *enabled;
	const char *decided;
	const char *cats;
	enum field field;
	const char *fine;
	const char *producer;
	enum severity sev;
	/* expected */
	bool disclosable;
	bool light;
	const char *repairable; /* "none" for DATE_NONE */
	const char *until;
	enum site channel;
	const char *rule_set;
};

static void
check_case(const rules *r, const struct pcase *c)
{
	struct penalty_facts pf = {
	    .decided_on = testlib_date(c->decided),
	    .categories = mask(c->cats),
	    .field = c->field,
	    .has_fine = c->fine != NULL,
	    .producer = c->producer,
	    .severity = c->sev,
	};
	struct periods p;
	char err[256], b1[DATE_STRLEN], b2[DATE_STRLEN];

	if (c->fine != NULL)
		cr_assert_eq(yuan_parse(c->fine, &pf.fine_fen), 0, "%s: fine", c->what);
	cr_assert_eq(rules_periods(r, &pf, &p, err, sizeof(err)), 0, "%s: %s", c->what, err);
	cr_expect_eq(p.disclosable, c->disclosable, "%s: disclosable", c->what);
	cr_expect_eq(p.light, c->light, "%s: light", c->what);
	cr_expect_str_eq(fmt(p.repairable_from, b1), c->repairable, "%s: repairable_from", c->what);
	cr_expect_str_eq(fmt(p.disclose_until, b2), c->until, "%s: disclose_until", c->what);
	cr_expect_eq(p.channel, c->channel, "%s: channel", c->what);
	cr_expect_str_eq(p.rule_set, c->rule_set, "%s: rule set", c->what);
}

static void
check_cases(const struct pcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rules *r = load_real(cases[i].enabled);
		check_case(r, &cases[i]);
		rules_free(r);
	}
}

#define SEED "seed-2024"
#define BOTH "seed-2024,national-2026"
#define NAT  "national-2026"

Test(rules, worked_examples_of_the_disclosure_periods)
{
	static const struct pcase cases[] = {
	    /* docs/RULES.md §2: decided 2024-05-06, 3 months: last day 2024-08-06, repairable from
	     * 2024-08-07; maximum 3 years: disclosed through 2027-05-06. */
	    {"2024-05-06 fine, no amount", NULL, "2024-05-06", "fine", FIELD_OTHER, NULL, "nm-tax",
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"2024-05-06 confiscation", SEED, "2024-05-06", "confiscation", FIELD_OTHER, NULL,
	     "nm-tax", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    /* Decided 2024-11-30, 3 months: last day 2025-02-28. */
	    {"2024-11-30 end of month", NULL, "2024-11-30", "license_suspension", FIELD_OTHER, NULL,
	     "nm-transport", SEV_NONE, true, false, "2025-03-01", "2027-11-30", SITE_CREDITCHINA,
	     SEED},
	    /* Decided 2024-02-29, 1 year (a special field): last day 2025-02-28; 3 years from
	     * a leap day end on 2027-02-28. */
	    {"2024-02-29 food, 1 year", NULL, "2024-02-29", "fine", FIELD_FOOD, "200000", "nm-samr",
	     SEV_NONE, true, false, "2025-03-01", "2027-02-28", SITE_GSXT, SEED},
	    /* Decided before the seed: past its maximum period long ago, an answer all the same. */
	    {"2020-03-02, expired", NULL, "2020-03-02", "fine", FIELD_OTHER, NULL, "nm-tax",
	     SEV_NONE, true, false, "2020-06-03", "2023-03-02", SITE_CREDITCHINA, SEED},
	    /* The example event of docs/CONTRACT.md: nm-tax, fine 20000.00, other field. The light
	     * rule is market regulation's alone (issue 12): §三's periods. */
	    {"interface example", NULL, "2024-05-06", "fine", FIELD_OTHER, "20000.00", "nm-tax",
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(rules, special_fields_have_a_one_year_minimum)
{
	static const enum field fields[] = {FIELD_FOOD, FIELD_DRUG, FIELD_SPECIAL_EQUIPMENT,
	                                    FIELD_WORK_SAFETY, FIELD_FIRE};
	rules *r = load_real(NULL);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct pcase c = {field_name(fields[i]),
		                  NULL,
		                  "2024-05-06",
		                  "license_revocation",
		                  fields[i],
		                  NULL,
		                  "nm-emergency",
		                  SEV_NONE,
		                  true,
		                  false,
		                  "2025-05-07",
		                  "2027-05-06",
		                  SITE_CREDITCHINA,
		                  SEED};
		check_case(r, &c);
	}
	struct pcase other = {"other field",
	                      NULL,
	                      "2024-05-06",
	                      "license_revocation",
	                      FIELD_OTHER,
	                      NULL,
	                      "nm-emergency",
	                      SEV_NONE,
	                      true,
	                      false,
	                      "2024-08-07",
	                      "2027-05-06",
	                      SITE_CREDITCHINA,
	                      SEED};
	check_case(r, &other);
	rules_free(r);
}

Test(rules, warnings_and_light_penalties)
{
	static const struct pcase cases[] = {
	    /* A warning only is never disclosed. */
	    {"warning only", NULL, "2024-05-06", "warning", FIELD_OTHER, NULL, "nm-tax", SEV_NONE,
	     false, false, "none", "none", SITE_CREDITCHINA, SEED},
	    {"warning only, food", NULL, "2024-05-06", "warning", FIELD_FOOD, NULL, "nm-samr",
	     SEV_NONE, false, false, "none", "none", SITE_GSXT, SEED},
	    /* A warning next to a fine adds no period: the fine governs. */
	    {"warning + fine, no amount", NULL, "2024-05-06", "warning,fine", FIELD_OTHER, NULL,
	     "nm-tax", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"warning + fine above", NULL, "2024-05-06", "warning,fine", FIELD_OTHER, "150000",
	     "nm-tax", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"warning + fine below", NULL, "2024-05-06", "warning,fine", FIELD_OTHER, "5000",
	     "nm-samr", SEV_NONE, true, true, "none", "2024-08-06", SITE_GSXT, SEED},
	    /* Criticism and/or a lower-amount fine: 3 months, then down with no application. */
	    {"criticism only", NULL, "2024-05-06", "criticism", FIELD_OTHER, NULL, "nm-samr",
	     SEV_NONE, true, true, "none", "2024-08-06", SITE_GSXT, SEED},
	    {"criticism + fine below", NULL, "2024-11-30", "criticism,fine", FIELD_OTHER, "100",
	     "nm-samr", SEV_NONE, true, true, "none", "2025-02-28", SITE_GSXT, SEED},
	    {"fine just below", NULL, "2024-05-06", "fine", FIELD_OTHER, "99999.99", "nm-samr",
	     SEV_NONE, true, true, "none", "2024-08-06", SITE_GSXT, SEED},
	    {"fine at threshold", NULL, "2024-05-06", "fine", FIELD_OTHER, "100000.00", "nm-samr",
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_GSXT, SEED},
	    {"fine above threshold", NULL, "2024-05-06", "fine", FIELD_OTHER, "100000.01",
	     "nm-samr", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_GSXT, SEED},
	    {"fine, zero", NULL, "2024-05-06", "fine", FIELD_OTHER, "0", "nm-samr", SEV_NONE, true,
	     true, "none", "2024-08-06", SITE_GSXT, SEED},
	    /* Issue 12 item 2: the light rule is SAMR Order 45's, for market regulation only
	     * (art. 2). Other authorities' criticisms and lower-amount fines keep §三's periods,
	     * and the 1-year minimum of the five fields. */
	    {"nm-tax fine below", NULL, "2024-05-06", "fine", FIELD_OTHER, "20000.00", "nm-tax",
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"nm-tax criticism only", NULL, "2024-05-06", "criticism", FIELD_OTHER, NULL, "nm-tax",
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"work-safety fine of 5000", NULL, "2024-05-06", "fine", FIELD_WORK_SAFETY, "5000",
	     "nm-emergency", SEV_NONE, true, false, "2025-05-07", "2027-05-06", SITE_CREDITCHINA,
	     SEED},
	    {"no producer: not light", NULL, "2024-05-06", "criticism", FIELD_OTHER, NULL, NULL,
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"criticism + fine above", NULL, "2024-05-06", "criticism,fine", FIELD_OTHER, "200000",
	     "nm-tax", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    {"fine below + confiscation", NULL, "2024-05-06", "fine,confiscation", FIELD_OTHER,
	     "100", "nm-tax", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA,
	     SEED},
	    /* The light rule has no field exception (SAMR Order 45 art. 13). */
	    {"criticism only, food", NULL, "2024-05-06", "criticism", FIELD_FOOD, NULL, "nm-samr",
	     SEV_NONE, true, true, "none", "2024-08-06", SITE_GSXT, SEED},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* SAMR Order 45 art. 13: 3 months from publication (自公示之日起): the date the event carries,
 * else the day credsync first disclosed it, else (neither known) the decision date. */
Test(rules, a_light_period_runs_from_publication)
{
	rules *r = load_real(NULL);
	struct penalty_facts pf = {.decided_on = testlib_date("2024-05-06"),
	                           .categories = CAT_CRITICISM,
	                           .producer = "nm-samr",
	                           .published_on = testlib_date("2024-05-20"),
	                           .disclosed_on = testlib_date("2024-06-01")};
	struct periods p;
	char err[256], b[DATE_STRLEN];
	cr_assert_eq(rules_periods(r, &pf, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect(p.light);
	cr_expect_str_eq(fmt(p.disclose_until, b), "2024-08-20");
	cr_expect_eq(p.light_basis, LIGHT_FROM_PUBLICATION);
	cr_expect_str_eq(light_basis_name(p.light_basis), "publication");

	pf.published_on = DATE_NONE;
	cr_assert_eq(rules_periods(r, &pf, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(fmt(p.disclose_until, b), "2024-09-01");
	cr_expect_eq(p.light_basis, LIGHT_FROM_FIRST_DISCLOSURE);

	pf.disclosed_on = 0;
	cr_assert_eq(rules_periods(r, &pf, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(fmt(p.disclose_until, b), "2024-08-06");
	cr_expect_eq(p.light_basis, LIGHT_FROM_DECISION);
	rules_free(r);
}

Test(rules, channel_by_producer)
{
	static const struct {
		const char *producer;
		enum site site;
	} cases[] = {
	    {"nm-samr", SITE_GSXT},         {"nm-tax", SITE_CREDITCHINA},
	    {"nm-court", SITE_CREDITCHINA}, {"nm-not-there", SITE_CREDITCHINA},
	    {NULL, SITE_CREDITCHINA},
	};
	rules *r = load_real(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].producer;
		cr_expect_eq(rules_channel(r, p, testlib_date("2024-05-06")), cases[i].site, "%s",
		             p ? p : "NULL");
		/* Also for a date no rule set covers: the default set answers. */
		cr_expect_eq(rules_channel(r, p, testlib_date("2010-01-01")), cases[i].site, "%s",
		             p ? p : "NULL");
	}
	cr_expect_str_eq(rules_repair_url(r, SITE_GSXT), "http://nm.gsxt.gov.cn");
	cr_expect_str_eq(rules_repair_url(r, SITE_CREDITCHINA), "http://fgw.nmg.gov.cn/xynmg/");
	cr_expect_str_eq(rules_repair_url_on(r, SITE_GSXT, testlib_date("2024-05-06")),
	                 "http://nm.gsxt.gov.cn");
	rules_free(r);
}

Test(rules, deadlines_by_rule_set)
{
	static const struct {
		const char *enabled, *on;
		int obligation, acc_cc, dec_cc, acc_gsxt, dec_gsxt;
	} cases[] = {
	    {NULL, "2024-09-13", 1, 3, 7, 5, 10},
	    /* every set by date (the default): SAMR decides within 7 under Order 107 */
	    {NULL, "2026-05-01", 1, 3, 7, 5, 7},
	    {NULL, "2010-01-01", 1, 3, 7, 5, 10}, /* no set covers: the first set */
	    {SEED, "2026-05-01", 1, 3, 7, 5, 10}, /* rules.sets overrides */
	    /* gsxt's deadlines follow Order 107 from 2025-12-25 (effective_from.gsxt) */
	    {BOTH, "2025-12-24", 1, 3, 7, 5, 10},
	    {BOTH, "2025-12-25", 1, 3, 7, 5, 7},
	    {BOTH, "2026-04-01", 1, 3, 7, 5, 7}, /* docs/RULES.md §8: SAMR decides within 7 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rules *r = load_real(cases[i].enabled);
		struct deadlines dl;
		rules_deadlines(r, testlib_date(cases[i].on), &dl);
		cr_expect_eq(dl.obligation_workdays, cases[i].obligation, "%s", cases[i].on);
		cr_expect_eq(dl.accept_workdays[SITE_CREDITCHINA], cases[i].acc_cc, "%s",
		             cases[i].on);
		cr_expect_eq(dl.decide_workdays[SITE_CREDITCHINA], cases[i].dec_cc, "%s",
		             cases[i].on);
		cr_expect_eq(dl.accept_workdays[SITE_GSXT], cases[i].acc_gsxt, "%s", cases[i].on);
		cr_expect_eq(dl.decide_workdays[SITE_GSXT], cases[i].dec_gsxt, "%s", cases[i].on);
		rules_free(r);
	}
}

Test(rules, rule_set_selection_by_decision_date)
{
	static const struct pcase cases[] = {
	    {"2026 general", BOTH, "2026-05-01", "fine", FIELD_OTHER, NULL, "nm-tax", SEV_GENERAL,
	     true, false, "2026-08-02", "2027-05-01", SITE_CREDITCHINA, NAT},
	    {"2025 general: seed", BOTH, "2025-05-01", "fine", FIELD_OTHER, NULL, "nm-tax",
	     SEV_GENERAL, true, false, "2025-08-02", "2028-05-01", SITE_CREDITCHINA, SEED},
	    {"first day of national", BOTH, "2026-04-01", "fine", FIELD_OTHER, NULL, "nm-samr",
	     SEV_SERIOUS, true, false, "2027-04-02", "2029-04-01", SITE_GSXT, NAT},
	    {"last day of seed alone", BOTH, "2026-03-31", "fine", FIELD_OTHER, NULL, "nm-tax",
	     SEV_SERIOUS, true, false, "2026-07-01", "2029-03-31", SITE_CREDITCHINA, SEED},
	    /* market regulation's Order 107 from 2025-12-25 (effective_from.nm-samr) */
	    {"SAMR on 2025-12-24: seed", BOTH, "2025-12-24", "confiscation", FIELD_OTHER, NULL,
	     "nm-samr", SEV_SERIOUS, true, false, "2026-03-25", "2028-12-24", SITE_GSXT, SEED},
	    {"SAMR on 2025-12-25: national", BOTH, "2025-12-25", "confiscation", FIELD_OTHER, NULL,
	     "nm-samr", SEV_SERIOUS, true, false, "2026-12-26", "2028-12-25", SITE_GSXT, NAT},
	    {"tax on 2025-12-25: seed", BOTH, "2025-12-25", "confiscation", FIELD_OTHER, NULL,
	     "nm-tax", SEV_SERIOUS, true, false, "2026-03-26", "2028-12-25", SITE_CREDITCHINA,
	     SEED},
	    {"2026 serious", BOTH, "2026-05-01", "closure", FIELD_OTHER, NULL, "nm-tax",
	     SEV_SERIOUS, true, false, "2027-05-02", "2029-05-01", SITE_CREDITCHINA, NAT},
	    /* minor: shown 3 months, nothing to apply for (minimum = maximum) */
	    {"2026 minor", BOTH, "2026-05-01", "fine", FIELD_OTHER, NULL, "nm-tax", SEV_MINOR, true,
	     false, "none", "2026-08-01", SITE_CREDITCHINA, NAT},
	    /* no severity in the new regime: taken as general, not refused */
	    {"2026 no severity", BOTH, "2026-05-01", "fine", FIELD_OTHER, NULL, "nm-tax", SEV_NONE,
	     true, false, "2026-08-02", "2027-05-01", SITE_CREDITCHINA, NAT},
	    {"2026 warning only", BOTH, "2026-05-01", "warning", FIELD_OTHER, NULL, "nm-tax",
	     SEV_NONE, false, false, "none", "none", SITE_CREDITCHINA, NAT},
	    /* No light rule under national-2026: the severity class decides. */
	    {"2026 criticism general", BOTH, "2026-05-01", "criticism", FIELD_OTHER, NULL, "nm-tax",
	     SEV_GENERAL, true, false, "2026-08-02", "2027-05-01", SITE_CREDITCHINA, NAT},
	    /* Issue 12: by default every set is in force, chosen by date: a decision of
	     * 2026-05-06 by nm-tax gets the 2026 set with no configuration; one of 2024 the seed.
	     */
	    {"2026, default sets", NULL, "2026-05-06", "fine", FIELD_OTHER, NULL, "nm-tax",
	     SEV_GENERAL, true, false, "2026-08-07", "2027-05-06", SITE_CREDITCHINA, NAT},
	    {"2024, default sets", NULL, "2024-05-06", "fine", FIELD_OTHER, "200000", "nm-tax",
	     SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, SEED},
	    /* rules.sets overrides: the seed alone governs 2026 too */
	    {"2026, seed only", SEED, "2026-05-01", "fine", FIELD_OTHER, NULL, "nm-tax",
	     SEV_GENERAL, true, false, "2026-08-02", "2029-05-01", SITE_CREDITCHINA, SEED},
	    /* Listed last wins: the open-ended seed covers everything. */
	    {"seed listed last", "national-2026, seed-2024", "2026-05-01", "fine", FIELD_OTHER,
	     NULL, "nm-tax", SEV_GENERAL, true, false, "2026-08-02", "2029-05-01", SITE_CREDITCHINA,
	     SEED},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(rules, periods_errors)
{
	static const struct {
		const char *enabled, *decided, *cats;
		enum severity sev;
		const char *err;
	} cases[] = {
	    {NAT, "2025-05-01", "fine", SEV_GENERAL,
	     "no enabled rule set covers decision date 2025-05-01 (enabled: national-2026)"},
	    {BOTH, "2015-09-30", "fine", SEV_NONE,
	     "no enabled rule set covers decision date 2015-09-30 (enabled: seed-2024, "
	     "national-2026)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rules *r = load_real(cases[i].enabled);
		struct penalty_facts pf = {.decided_on = testlib_date(cases[i].decided),
		                           .categories = mask(cases[i].cats),
		                           .severity = cases[i].sev};
		struct periods p;
		char err[256] = "";
		cr_expect_eq(rules_periods(r, &pf, &p, err, sizeof(err)), -1, "%zu", i);
		cr_expect_str_eq(err, cases[i].err);
		rules_free(r);
	}
	rules *r = load_real(NULL);
	struct penalty_facts none = {.decided_on = testlib_date("2024-05-06"), .categories = 0};
	struct periods p;
	char err[256];
	cr_expect_eq(rules_periods(r, &none, &p, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "no valid penalty category");
	rules_free(r);
}

Test(rules, lists_and_producers)
{
	static const struct {
		const char *list, *producer;
		bool owner;
	} owners[] = {
	    {"b2-02", "nm-drc", true},
	    {"b2-02", "nm-transport", true},
	    {"b2-02", "nm-samr", false},
	    {"b2-02", "nm-dr", false}, /* a prefix of an owner is not an owner */
	    {"b2-02", "nm-drc,nm-transport", false},
	    {"abnormal-enterprise", "nm-samr", true},
	    {"abnormal-individual", "nm-samr", true},
	    {"abnormal-enterprise", "nm-tax", false},
	    {"b1-04", "nm-tax", true},
	    {"b2-27", "customs-manzhouli", true},
	    {"b9-99", "nm-samr", false},
	    {"b1-01", NULL, false},
	};
	rules *r = load_real(NULL);
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
		cr_expect_eq(rules_list_owner(r, owners[i].list, owners[i].producer),
		             owners[i].owner, "%s / %s", owners[i].list, owners[i].producer);
	cr_expect(rules_list_known(r, "b1-01"));
	cr_expect(rules_list_known(r, "b2-29"));
	cr_expect(!rules_list_known(r, "b2-30"));
	cr_expect(!rules_list_known(r, NULL));
	cr_expect_eq(rules_list_kind(r, "abnormal-enterprise"), LIST_ABNORMAL);
	cr_expect_eq(rules_list_kind(r, "abnormal-individual"), LIST_ABNORMAL);
	cr_expect_eq(rules_list_kind(r, "b1-03"), LIST_SERIOUS);
	cr_expect_eq(rules_list_kind(r, "nope"), -1);
	cr_expect_str_eq(rules_list_name_zh(r, "b1-01"), "失信被执行人名单");
	cr_expect_null(rules_list_name_zh(r, "nope"));

	cr_expect(rules_producer_known(r, "nm-samr"));
	cr_expect(!rules_producer_is_system(r, "nm-samr"));
	cr_expect(rules_producer_known(r, "gsxt"));
	cr_expect(rules_producer_is_system(r, "gsxt"));
	cr_expect(rules_producer_is_system(r, "creditchina"));
	cr_expect(!rules_producer_known(r, "nm-nobody"));
	cr_expect(!rules_producer_is_system(r, "nm-nobody"));
	cr_expect_str_eq(rules_producer_name_zh(r, "nm-samr"), "自治区市场监督管理局");
	cr_expect_null(rules_producer_name_zh(r, "nm-nobody"));
	rules_free(r);
}

Test(rules, names_round_trip)
{
	for (int i = 0; i < CAT_COUNT; i++) {
		enum category c = (enum category)(1u << i);
		cr_expect_eq(category_parse(category_name(c)), (int)c, "%d", i);
	}
	for (int f = 0; f < FIELD_COUNT; f++)
		cr_expect_eq(field_parse(field_name((enum field)f)), f);
	for (int s = SEV_MINOR; s <= SEV_SERIOUS; s++)
		cr_expect_eq(severity_parse(severity_name((enum severity)s)), s);
	for (int s = 0; s < SITE_COUNT; s++)
		cr_expect_eq(site_parse(site_name((enum site)s)), s);
	cr_expect_str_eq(category_name(CAT_LICENSE_REVOCATION), "license_revocation");
	cr_expect_str_eq(field_name(FIELD_SPECIAL_EQUIPMENT), "special_equipment");
	cr_expect_str_eq(site_name(SITE_GSXT), "gsxt");
	cr_expect_eq(category_parse("Warning"), -1);
	cr_expect_eq(category_parse(""), -1);
	cr_expect_eq(category_parse(NULL), -1);
	cr_expect_eq(field_parse("foods"), -1);
	cr_expect_eq(severity_parse("grave"), -1);
	cr_expect_eq(site_parse("creditChina"), -1);
	cr_expect_null(category_name((enum category)3));
}

Test(rules, yuan_amounts)
{
	static const struct {
		const char *s;
		int rc;
		int64_t fen;
	} cases[] = {
	    {"20000", 0, 2000000},
	    {"20000.00", 0, 2000000},
	    {"20000.5", 0, 2000050},
	    {"0.01", 0, 1},
	    {"0", 0, 0},
	    {"999999999999999.99", 0, 99999999999999999},
	    {"1000000000000000", -1, 0},
	    {"20000.001", -1, 0},
	    {"-1", -1, 0},
	    {"+1", -1, 0},
	    {"1.", -1, 0},
	    {".5", -1, 0},
	    {"1e5", -1, 0},
	    {"", -1, 0},
	    {" 1", -1, 0},
	    {"1,000", -1, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t fen = -7;
		cr_expect_eq(yuan_parse(cases[i].s, &fen), cases[i].rc, "\"%s\"", cases[i].s);
		if (cases[i].rc == 0)
			cr_expect_eq(fen, cases[i].fen, "\"%s\"", cases[i].s);
	}
}

/* A data dir in a temp directory: small authority and list tables, and rule files. */
struct tmpdir {
	char root[256];
};

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	cr_assert(fp != NULL, "could not create %s", path);
	cr_assert_eq(fputs(text, fp) >= 0, true);
	cr_assert_eq(fclose(fp), 0);
}

static void
tmp_make(struct tmpdir *t)
{
	char path[512];
	snprintf(t->root, sizeof(t->root), "/tmp/test_rules.XXXXXX");
	cr_assert(mkdtemp(t->root) != NULL);
	snprintf(path, sizeof(path), "%s/rules", t->root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/data", t->root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/data/authorities.tsv", t->root);
	write_file(path, "# code\tkind\tname_zh\tname_en\n"
	                 "creditchina\tsystem\t信用中国\tCredit China\n"
	                 "gsxt\tsystem\t公示系统\tGSXT\n"
	                 "nm-samr\tauthority\t市场监管局\tSAMR\n"
	                 "nm-tax\tauthority\t税务局\tTax\n");
	snprintf(path, sizeof(path), "%s/data/lists.tsv", t->root);
	write_file(path, "abnormal-enterprise\tabnormal\t-\tnm-samr\t企业经营异常名录\n"
	                 "b1-04\tserious\t1\tnm-tax,nm-samr\t重大税收违法失信主体名单\n");
}

static void
tmp_write(const struct tmpdir *t, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	write_file(path, text);
}

static void
rm_dir(const char *path)
{
	DIR *dir = opendir(path);
	if (dir == NULL)
		return;
	for (struct dirent *de; (de = readdir(dir)) != NULL;) {
		char sub[768];
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rm_dir(sub);
		else
			unlink(sub);
	}
	closedir(dir);
	rmdir(path);
}

/* pattern with each '@' replaced by root, into buf. */
static const char *
expand(char *buf, size_t bufsz, const char *pattern, const char *root)
{
	size_t off = 0, rlen = strlen(root);
	for (const char *p = pattern; *p != '\0' && off + rlen + 1 < bufsz; p++) {
		if (*p == '@') {
			memcpy(buf + off, root, rlen);
			off += rlen;
		} else {
			buf[off++] = *p;
		}
	}
	buf[off] = '\0';
	return buf;
}

/* A complete, valid rule set with placeholders for the name and extra lines. */
#define BASE_RULES                                                                                 \
	"effective_from = 2024-01-01\n"                                                            \
	"period.min = 3m\n"                                                                        \
	"period.max = 3y\n"                                                                        \
	"not_disclosable = warning\n"                                                              \
	"channel.default = creditchina\n"                                                          \
	"channel.nm-samr = gsxt\n"                                                                 \
	"deadline.obligation = 1\n"                                                                \
	"deadline.gsxt.accept = 5\n"                                                               \
	"deadline.gsxt.decide = 10\n"                                                              \
	"deadline.creditchina.accept = 3\n"                                                        \
	"deadline.creditchina.decide = 7\n"                                                        \
	"repair_url.gsxt = https://www.gsxt.gov.cn\n"                                              \
	"repair_url.creditchina = https://www.creditchina.gov.cn\n"

Test(rules, longest_type_governs)
{
	struct tmpdir t;
	char err[512];
	tmp_make(&t);
	tmp_write(&t, "rules/t.rules",
	          "# per-category periods\nname = t\n" BASE_RULES "category.confiscation.min = 6m\n"
	          "category.confiscation.max = 1y\n"
	          "category.closure.max = 5y\n"
	          "category.license_revocation.min = 2y\n");
	rules *r = rules_load(t.root, "t", err, sizeof(err));
	cr_assert(r != NULL, "%s", err);
	static const struct pcase cases[] = {
	    {"fine alone", "t", "2024-05-06", "fine", FIELD_OTHER, NULL, "nm-tax", SEV_NONE, true,
	     false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, "t"},
	    {"confiscation alone", "t", "2024-05-06", "confiscation", FIELD_OTHER, NULL, "nm-tax",
	     SEV_NONE, true, false, "2024-11-07", "2025-05-06", SITE_CREDITCHINA, "t"},
	    /* min from confiscation (6m), max from the fine (3y) */
	    {"confiscation + fine", "t", "2024-05-06", "confiscation,fine", FIELD_OTHER, NULL,
	     "nm-samr", SEV_NONE, true, false, "2024-11-07", "2027-05-06", SITE_GSXT, "t"},
	    /* min from confiscation (6m), max from closure (5y) */
	    {"confiscation + closure", "t", "2024-05-06", "confiscation,closure", FIELD_OTHER, NULL,
	     "nm-tax", SEV_NONE, true, false, "2024-11-07", "2029-05-06", SITE_CREDITCHINA, "t"},
	    {"revocation + closure + warning", "t", "2024-05-06",
	     "license_revocation,closure,warning", FIELD_OTHER, NULL, "nm-tax", SEV_NONE, true,
	     false, "2026-05-07", "2029-05-06", SITE_CREDITCHINA, "t"},
	    /* no light rule in this set: criticism takes the general periods */
	    {"criticism, no light rule", "t", "2024-05-06", "criticism", FIELD_OTHER, NULL,
	     "nm-tax", SEV_NONE, true, false, "2024-08-07", "2027-05-06", SITE_CREDITCHINA, "t"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(r, &cases[i]);
	cr_expect_str_eq(rules_repair_url(r, SITE_GSXT), "https://www.gsxt.gov.cn");
	rules_free(r);
	rm_dir(t.root);
}

Test(rules, field_minimum_longer_than_maximum)
{
	struct tmpdir t;
	char err[512];
	tmp_make(&t);
	tmp_write(&t, "rules/t.rules",
	          "name = t\n" BASE_RULES "field.fire.min = 4y\ncategory.confiscation.max = 1y\n");
	rules *r = rules_load(t.root, "t", err, sizeof(err));
	cr_assert(r != NULL, "%s", err);
	/* The minimum wins: shown 4 years, repairable the day after. */
	struct pcase c = {
	    "fire 4y",        "t",      "2024-05-06", "confiscation", FIELD_FIRE,   NULL,
	    "nm-tax",         SEV_NONE, true,         false,          "2028-05-07", "2028-05-06",
	    SITE_CREDITCHINA, "t"};
	check_case(r, &c);
	rules_free(r);
	rm_dir(t.root);
}

Test(rules, rule_set_info)
{
	rules *r = load_real(BOTH);
	struct rule_set_info info;
	char err[256];
	cr_assert_eq(rules_rule_set(r, testlib_date("2024-05-06"), &info, err, sizeof(err)), 0,
	             "%s", err);
	cr_expect_str_eq(info.name, SEED);
	cr_expect(!info.by_severity);
	cr_expect_eq(info.min_months, 3);
	cr_expect_eq(info.max_months, 36);
	cr_expect_eq(info.field_min_months[FIELD_FOOD], 12);
	cr_expect_eq(info.field_min_months[FIELD_OTHER], 0);
	cr_expect_eq(info.effective_to, DATE_NONE);
	cr_expect(strstr(info.notice_basis, "第58号") != NULL);
	cr_assert_eq(rules_rule_set(r, testlib_date("2026-04-01"), &info, err, sizeof(err)), 0,
	             "%s", err);
	cr_expect_str_eq(info.name, NAT);
	cr_expect(info.by_severity);
	cr_expect_eq(rules_rule_set(r, testlib_date("2015-09-30"), &info, err, sizeof(err)), -1);
	rules_free(r);
}

Test(rules, load_errors_name_file_and_line)
{
	static const struct {
		const char *file; /* written to rules/x.rules; NULL: no file */
		const char *enabled;
		const char *err; /* '@' stands for the temp dir */
	} cases[] = {
	    {"name = x\n" BASE_RULES "period.mid = 3m\n", "x",
	     "@/rules/x.rules:15: unknown key \"period.mid\""},
	    {"name = x\n" BASE_RULES "field.food.min = 1 y\n", "x",
	     "@/rules/x.rules:15: invalid period \"1 y\" for \"field.food.min\": expected a number "
	     "of months or years such as \"3m\" or \"1y\""},
	    {"name = x\n" BASE_RULES "field.food.min = 0m\n", "x",
	     "@/rules/x.rules:15: invalid period \"0m\" for \"field.food.min\": expected a number "
	     "of months or years such as \"3m\" or \"1y\""},
	    {"name = x\n" BASE_RULES "field.seafood.min = 1y\n", "x",
	     "@/rules/x.rules:15: unknown field \"seafood\" in \"field.seafood.min\""},
	    {"# c\n\nname = x\n" BASE_RULES "period.min = 1y\n", "x",
	     "@/rules/x.rules:17: duplicate key \"period.min\""},
	    {"name = x\n" BASE_RULES "light.categories = criticism, fines\n", "x",
	     "@/rules/x.rules:15: unknown category \"fines\" in \"light.categories\""},
	    {"name = x\n" BASE_RULES "period max 3y\n", "x",
	     "@/rules/x.rules:15: expected \"key = value\""},
	    {"name = x\n" BASE_RULES "channel.nm-nobody = gsxt\n", "x",
	     "@/rules/x.rules:15: unknown producer \"nm-nobody\" in \"channel.nm-nobody\": not in "
	     "authorities.tsv"},
	    {"name = x\n" BASE_RULES "channel.nm-tax = samr\n", "x",
	     "@/rules/x.rules:15: unknown channel \"samr\" for \"channel.nm-tax\": expected "
	     "creditchina or gsxt"},
	    {"name = x\n" BASE_RULES "effective_to = 2024-02-30\n", "x",
	     "@/rules/x.rules:15: invalid date \"2024-02-30\" for \"effective_to\": expected "
	     "YYYY-MM-DD"},
	    {"name = x\n" BASE_RULES "light.fine_below_yuan = 1e5\n", "x",
	     "@/rules/x.rules:15: invalid amount \"1e5\" for \"light.fine_below_yuan\": expected "
	     "yuan such as \"100000\" or \"100000.00\""},
	    {"name = x\n" BASE_RULES "deadline.gsxt.accept = 5\n", "x",
	     "@/rules/x.rules:15: duplicate key \"deadline.gsxt.accept\""},
	    {"name = x\n" BASE_RULES "notice.basis =\n", "x",
	     "@/rules/x.rules:15: \"notice.basis\" has no value"},
	    {"name = y\n" BASE_RULES, "x",
	     "@/rules/x.rules: rule set name \"y\" does not match the file name (expected \"x\")"},
	    {BASE_RULES, "x", "@/rules/x.rules: missing key \"name\""},
	    {"name = x\n" BASE_RULES "category.fine.min = 4y\ncategory.fine.max = 1y\n", "x",
	     "@/rules/x.rules: category.fine.min is longer than category.fine.max"},
	    {"name = x\n" BASE_RULES "effective_to = 2023-12-31\n", "x",
	     "@/rules/x.rules: effective_to is before effective_from"},
	    {"name = x\n" BASE_RULES "light.categories = criticism, fine\nlight.period = 3m\n", "x",
	     "@/rules/x.rules: missing key \"light.fine_below_yuan\" (light.categories includes "
	     "fine)"},
	    {"name = x\n" BASE_RULES "light.categories = criticism\nlight.period = 3m\n", "x",
	     "@/rules/x.rules: missing key \"light.producers\" (the authorities whose penalties "
	     "the light rule covers)"},
	    {"name = x\n" BASE_RULES "light.producers = nm-samr, gsxt\n", "x",
	     "@/rules/x.rules:15: unknown authority \"gsxt\" in \"light.producers\": not in "
	     "authorities.tsv"},
	    {"name = x\n" BASE_RULES "severity.general.min = 3m\n", "x",
	     "@/rules/x.rules: severity.general.* keys need severity.required = yes"},
	    {"name = x\n" BASE_RULES "severity.required = yes\nseverity.minor.disclosed = no\n",
	     "x",
	     "@/rules/x.rules: severity.required is yes but severity \"general\" needs "
	     "severity.general.min and severity.general.max (or severity.general.disclosed = "
	     "no)"},
	    {"name = x\n" BASE_RULES, "x,zz",
	     "rule set \"zz\" is enabled but \"@/rules/zz.rules\" "
	     "does not exist"},
	    {"name = x\n" BASE_RULES, "x,,x", "empty rule set name in \"x,,x\""},
	    {"name = x\n" BASE_RULES, "x, x", "rule set \"x\" is enabled twice"},
	    {NULL, NULL, "no rule set in the rules directory"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tmpdir t;
		char err[512] = "", want[1024];
		tmp_make(&t);
		if (cases[i].file != NULL)
			tmp_write(&t, "rules/x.rules", cases[i].file);
		rules *r = rules_load(t.root, cases[i].enabled, err, sizeof(err));
		cr_expect_null(r, "case %zu loaded", i);
		rules_free(r);
		cr_expect_str_eq(err, expand(want, sizeof(want), cases[i].err, t.root), "case %zu",
		                 i);
		rm_dir(t.root);
	}
}

Test(rules, table_errors)
{
	static const struct {
		const char *rel, *text, *err;
	} cases[] = {
	    {"data/lists.tsv", "b1-01\tserious\t1\tnm-court\t失信被执行人名单\n",
	     "data/lists.tsv:1: owner \"nm-court\" of list \"b1-01\" is not an authority of "
	     "authorities.tsv"},
	    {"data/lists.tsv", "# h\nb1-01\tserious\t1\tgsxt\tx\n",
	     "data/lists.tsv:2: owner \"gsxt\" of list \"b1-01\" is not an authority of "
	     "authorities.tsv"},
	    {"data/lists.tsv", "b1-01\tgrave\t1\tnm-tax\tx\n",
	     "data/lists.tsv:1: invalid kind \"grave\": expected abnormal or serious"},
	    {"data/lists.tsv", "b1-01\tserious\t1\tnm-tax\n",
	     "data/lists.tsv:1: expected 5 tab-separated columns"},
	    {"data/lists.tsv", "b1-01\tserious\t1\tnm-tax\tx\nb1-01\tserious\t1\tnm-tax\tx\n",
	     "data/lists.tsv:2: duplicate list \"b1-01\""},
	    {"data/authorities.tsv", "nm-tax\tagency\tx\ty\n",
	     "data/authorities.tsv:1: invalid kind \"agency\": expected authority or system"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tmpdir t;
		char err[512] = "", want[1024];
		tmp_make(&t);
		tmp_write(&t, "rules/x.rules", "name = x\n" BASE_RULES);
		tmp_write(&t, cases[i].rel, cases[i].text);
		rules *r = rules_load(t.root, "x", err, sizeof(err));
		cr_expect_null(r, "case %zu loaded", i);
		rules_free(r);
		snprintf(want, sizeof(want), "%s/%s", t.root, cases[i].err);
		cr_expect_str_eq(err, want, "case %zu", i);
		rm_dir(t.root);
	}
}

Test(rules, a_broken_file_fails_the_load_even_when_not_enabled)
{
	struct tmpdir t;
	char err[512], want[1024];
	tmp_make(&t);
	tmp_write(&t, "rules/x.rules", "name = x\n" BASE_RULES);
	tmp_write(&t, "rules/draft.rules", "name = draft\nperiod.min = soon\n");
	tmp_write(&t, "rules/notes.txt", "not a rule file\n");
	rules *r = rules_load(t.root, "x", err, sizeof(err));
	cr_expect_null(r);
	rules_free(r);
	snprintf(want, sizeof(want),
	         "%s/rules/draft.rules:2: invalid period \"soon\" for \"period.min\": expected a "
	         "number of months or years such as \"3m\" or \"1y\"",
	         t.root);
	cr_expect_str_eq(err, want);
	rm_dir(t.root);
}
