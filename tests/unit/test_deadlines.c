/* test_deadlines: the pure parts of time and deadlines: the at-risk hour, repair
 * application due dates by channel, the daily summary's message. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadlines.h"
#include "summary.h"
#include "domain.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static rules *r;
static calendar *cal;

static void
setup(void)
{
	r = testlib_rules();
	cal = testlib_calendar();
}

static void
teardown(void)
{
	rules_free(r);
	calendar_free(cal);
}

TestSuite(deadlines, .init = setup, .fini = teardown);

static int64_t
T(const char *s)
{
	int64_t t;
	int off;
	cr_assert_eq(time_parse_rfc3339(s, &t, &off), 0, "bad instant %s", s);
	return t;
}

Test(deadlines, at_risk_from_noon_beijing)
{
	static const struct {
		const char *at;
		bool afternoon;
	} cases[] = {
	    {"2026-12-02T00:00:00+08:00", false}, {"2026-12-02T11:59:59+08:00", false},
	    {"2026-12-02T12:00:00+08:00", true},  {"2026-12-02T23:59:59+08:00", true},
	    {"2026-12-02T04:00:00Z", true},       {"2026-12-02T03:59:59Z", false},
	    {"2026-12-01T16:00:00Z", false}, /* midnight in Beijing */
	    {"1969-12-31T12:00:00+08:00", true},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		cr_expect_eq(deadlines_afternoon(T(cases[i].at)), cases[i].afternoon, "%s",
		             cases[i].at);
}

Test(deadlines, application_due_by_channel)
{
	static const struct {
		enum event_type type;
		const char *producer, *at, *want;
	} cases[] = {
	    /* RULES.md section 3: gsxt accepts within 5, decides within 10 of acceptance */
	    {EV_REPAIR_APPLIED, "gsxt", "2026-11-20T10:00:00+08:00", "2026-11-27"},
	    {EV_REPAIR_ACCEPTED, "gsxt", "2026-11-30T10:00:00+08:00", "2026-12-14"},
	    /* creditchina: 3 and 7 */
	    {EV_REPAIR_APPLIED, "creditchina", "2026-11-30T10:00:00+08:00", "2026-12-03"},
	    {EV_REPAIR_ACCEPTED, "creditchina", "2026-11-06T10:00:00+08:00", "2026-11-17"},
	    /* across National Day: applied 2026-09-30, 3 working days: 10-08, 10-09, 10-10 */
	    {EV_REPAIR_APPLIED, "creditchina", "2026-09-30T10:00:00+08:00", "2026-10-10"},
	    /* no next step to be due */
	    {EV_REPAIR_DECLINED, "gsxt", "2026-11-20T10:00:00+08:00", NULL},
	    {EV_REPAIR_DENIED, "creditchina", "2026-11-20T10:00:00+08:00", NULL},
	    /* not a disclosure system */
	    {EV_REPAIR_APPLIED, "nm-tax", "2026-11-20T10:00:00+08:00", NULL},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct event ev = {.type = cases[i].type, .app_at = T(cases[i].at)};
		snprintf(ev.producer, sizeof(ev.producer), "%s", cases[i].producer);
		int unknown = -1;
		cs_date due = deadlines_app_due(&ev, r, cal, &unknown);
		char got[DATE_STRLEN] = "none";
		if (due != DATE_NONE)
			date_format(due, got);
		cr_expect_str_eq(got, cases[i].want ? cases[i].want : "none", "case %zu (%s %s)", i,
		                 cases[i].producer, cases[i].at);
		cr_expect_eq(unknown, 0, "case %zu", i);
	}
}

Test(deadlines, application_due_in_an_unknown_year_is_named)
{
	struct event ev = {.type = EV_REPAIR_ACCEPTED, .app_at = T("2027-03-01T10:00:00+08:00")};
	snprintf(ev.producer, sizeof(ev.producer), "gsxt");
	int unknown = 0;
	cr_expect_neq(deadlines_app_due(&ev, r, cal, &unknown), DATE_NONE);
	cr_expect_eq(unknown, 2027);
}

static struct store_day_obl
obl(const char *id, const char *site, const char *type, const char *reason)
{
	struct store_day_obl o = {.due = DATE_NONE};
	snprintf(o.id, sizeof(o.id), "%s", id);
	snprintf(o.site, sizeof(o.site), "%s", site);
	snprintf(o.type, sizeof(o.type), "%s", type);
	snprintf(o.reason, sizeof(o.reason), "%s", reason);
	return o;
}

static void
expect_ids(json_t *msg, const char *part, const char *const *want, size_t n)
{
	json_t *p = json_object_get(msg, part), *ids = json_object_get(p, "ids");
	cr_expect_eq(json_integer_value(json_object_get(p, "count")), (json_int_t)n, "%s", part);
	cr_assert_eq(json_array_size(ids), n, "%s", part);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(json_string_value(json_array_get(ids, i)), want[i], "%s %zu", part,
		                 i);
}

Test(deadlines, daily_summary_lists_the_sites_repairs_and_expiries)
{
	const char *a = "00000000-0000-4000-8000-000000000001",
	           *b = "00000000-0000-4000-8000-000000000002",
	           *c = "00000000-0000-4000-8000-000000000003",
	           *d = "00000000-0000-4000-8000-000000000004",
	           *e = "00000000-0000-4000-8000-000000000005",
	           *f = "00000000-0000-4000-8000-000000000006",
	           *g = "00000000-0000-4000-8000-000000000007";
	struct store_day_obl o[] = {
	    obl(a, "creditchina", "takedown", "repaired"),
	    obl(b, "gsxt", "mutual_recognition", ""),
	    obl(c, "creditchina", "mutual_recognition", ""),
	    obl(d, "creditchina", "takedown", "light_expired"),
	    obl(e, "creditchina", "takedown", "expired"),
	    obl(f, "creditchina", "disclose", ""),               /* neither */
	    obl(g, "creditchina", "takedown", "not_repairable"), /* neither */
	};
	cs_date day;
	cr_assert_eq(date_parse("2026-12-01", &day), 0);
	char id[UUID_STRLEN], id2[UUID_STRLEN], id3[UUID_STRLEN];
	char *s = summary_encode("creditchina", day, o, N_ELEMS(o), id);
	cr_assert(s != NULL);
	json_error_t jerr;
	json_t *msg = json_loads(s, 0, &jerr);
	cr_assert(msg != NULL, "%s", jerr.text);
	cr_expect_str_eq(json_string_value(json_object_get(msg, "schema")),
	                 "credsync.daily_summary/1");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "type")), "daily_summary");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "site")), "creditchina");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "date")), "2026-12-01");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "id")), id);
	const char *repairs[] = {a, c}, *expiries[] = {d, e};
	expect_ids(msg, "repairs", repairs, 2);
	expect_ids(msg, "expiries", expiries, 2);
	/* the fixture schema/agreement checks against daily_summary.schema.json is this one */
	char path[1024];
	const char *fixtures = getenv("CREDSYNC_FIXTURES");
	cr_assert(fixtures != NULL, "CREDSYNC_FIXTURES is not set");
	snprintf(path, sizeof(path), "%s/encoded/daily_summary-creditchina.json", fixtures);
	json_t *fixture = json_load_file(path, 0, &jerr);
	cr_assert(fixture != NULL, "%s: %s", path, jerr.text);
	cr_expect(json_equal(msg, fixture), "the encoder and %s differ", path);
	json_decref(fixture);
	json_decref(msg);
	free(s);

	/* the id is that of the site and the day, whatever the content */
	free(summary_encode("creditchina", day, o, 1, id2));
	cr_expect_str_eq(id, id2);
	free(summary_encode("gsxt", day, o, N_ELEMS(o), id3));
	cr_expect_str_neq(id, id3);
	free(summary_encode("creditchina", day + 1, o, N_ELEMS(o), id3));
	cr_expect_str_neq(id, id3);
}
