/* test_due: the at-risk hour and repair application due dates by channel. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "due.h"
#include "domain.h"
#include "testlib.h"

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

TestSuite(due, .init = setup, .fini = teardown);

Test(due, at_risk_from_noon_beijing)
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
		cr_expect_eq(due_afternoon(testlib_instant(cases[i].at)), cases[i].afternoon, "%s",
		             cases[i].at);
}

Test(due, application_due_by_channel)
{
	static const struct {
		enum event_type type;
		const char *producer, *at, *want;
	} cases[] = {
	    /* docs/RULES.md section 3: gsxt accepts within 5, decides within 10 of acceptance */
	    {EV_REPAIR_APPLIED, "gsxt", "2026-11-20T10:00:00+08:00", "2026-11-27"},
	    /* ... and from 2025-12-25 within 7 (SAMR Order 107, national-2026) */
	    {EV_REPAIR_ACCEPTED, "gsxt", "2026-11-30T10:00:00+08:00", "2026-12-09"},
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
		struct event ev = {.type = cases[i].type, .app_at = testlib_instant(cases[i].at)};
		snprintf(ev.producer, sizeof(ev.producer), "%s", cases[i].producer);
		int unknown = -1;
		cs_date due = due_application(&ev, r, cal, &unknown);
		char got[DATE_STRLEN] = "none";
		if (due != DATE_NONE)
			date_format(due, got);
		cr_expect_str_eq(got, cases[i].want ? cases[i].want : "none", "case %zu (%s %s)", i,
		                 cases[i].producer, cases[i].at);
		cr_expect_eq(unknown, 0, "case %zu", i);
	}
}

Test(due, application_due_in_an_unknown_year_is_named)
{
	struct event ev = {.type = EV_REPAIR_ACCEPTED,
	                   .app_at = testlib_instant("2027-03-01T10:00:00+08:00")};
	snprintf(ev.producer, sizeof(ev.producer), "gsxt");
	int unknown = 0;
	cr_expect_neq(due_application(&ev, r, cal, &unknown), DATE_NONE);
	cr_expect_eq(unknown, 2027);
}

/* Issue 12 item 7: an application to leave the abnormal-operation list is decided within 10
 * working days of its acceptance (seed §五(三)), also where gsxt decides penalties within 7. */
Test(due, leaving_the_abnormal_list_is_decided_within_10_working_days)
{
	struct event ev = {.type = EV_REPAIR_ACCEPTED,
	                   .app_at = testlib_instant("2026-11-30T10:00:00+08:00")};
	snprintf(ev.producer, sizeof(ev.producer), "gsxt");
	int unknown = -1;
	char got[DATE_STRLEN];
	date_format(due_application(&ev, r, cal, &unknown), got);
	cr_expect_str_eq(got, "2026-12-09", "a penalty: 7 under national-2026");
	ev.key.kind = KIND_ABNORMAL;
	snprintf(ev.key.list, sizeof(ev.key.list), "abnormal-enterprise");
	date_format(due_application(&ev, r, cal, &unknown), got);
	cr_expect_str_eq(got, "2026-12-14", "the abnormal list: 10");
}
