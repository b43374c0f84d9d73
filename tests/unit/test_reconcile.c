/* Tests of the pure reconciler: every transition of a record and every stateful reject. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "reconcile.h"
#include "rules.h"
#include "domain.h"
#include "testlib.h"

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

TestSuite(reconcile, .init = setup, .fini = teardown);

static const char *
fmt(cs_date d)
{
	static char buf[4][DATE_STRLEN];
	static int i;
	if (d == DATE_NONE)
		return "none";
	return date_format(d, buf[i++ % 4]);
}

#define USCC "91350100M000100Y43"

/* An event about USCC's penalty or list entry `decision`; occurred at `when`. */
static struct event
ev_make(enum event_type type, const char *producer, const char *decision, const char *when,
        const char *id)
{
	struct event ev;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.event_id, sizeof(ev.event_id), "%s", id);
	ev.type = type;
	snprintf(ev.producer, sizeof(ev.producer), "%s", producer);
	ev.occurred_at = testlib_instant(when);
	ev.occurred_offset = 480;
	snprintf(ev.subject_name, sizeof(ev.subject_name), "呼和浩特某某商贸有限公司");
	ev.key.kind = KIND_PENALTY;
	snprintf(ev.key.uscc, sizeof(ev.key.uscc), USCC);
	snprintf(ev.key.decision_no, sizeof(ev.key.decision_no), "%s", decision);
	ev.decided_on = ev.effective_on = ev.published_on = DATE_NONE;
	return ev;
}

static struct event
issued(const char *producer, const char *decided, unsigned cats, const char *when, const char *id)
{
	struct event ev = ev_make(EV_PENALTY_ISSUED, producer, "罚〔2024〕12号", when, id);
	ev.decided_on = testlib_date(decided);
	ev.categories = cats;
	ev.field = FIELD_OTHER;
	return ev;
}

static struct event
repaired(const char *producer, const char *on, const char *when, const char *id)
{
	struct event ev = ev_make(EV_PENALTY_REPAIRED, producer, "罚〔2024〕12号", when, id);
	ev.effective_on = testlib_date(on);
	snprintf(ev.repair_decision_no, sizeof(ev.repair_decision_no), "修复〔2024〕1号");
	return ev;
}

static struct event
listed(enum event_type type, const char *producer, const char *list, const char *on,
       const char *when, const char *id)
{
	struct event ev = ev_make(type, producer, "列〔2024〕3号", when, id);
	ev.key.kind = strncmp(list, "abnormal-", 9) == 0 ? KIND_ABNORMAL : KIND_SERIOUS;
	snprintf(ev.key.list, sizeof(ev.key.list), "%s", list);
	ev.effective_on = testlib_date(on);
	return ev;
}

#define ID1 "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b10"
#define ID2 "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b11"
#define ID3 "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b12"

static struct record
apply_ok(const struct record *cur, const struct event *ev, const char *received, int n_obl)
{
	struct recon_result res;
	reconcile_event(cur, ev, testlib_instant(received), r, cal, &res);
	cr_assert_eq(res.outcome, RO_APPLIED, "outcome %s (%s: %s)",
	             recon_outcome_name(res.outcome), reject_reason_name(res.rej.reason),
	             res.rej.detail);
	cr_assert_eq(res.n_obl, n_obl, "obligations: %d, expected %d", res.n_obl, n_obl);
	return res.rec;
}

static void
assert_rejected(const struct record *cur, const struct event *ev, enum reject_reason reason)
{
	struct recon_result res;
	reconcile_event(cur, ev, testlib_instant("2024-12-02T10:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_REJECTED, "outcome %s", recon_outcome_name(res.outcome));
	cr_assert_eq(res.rej.reason, reason, "reason %s, expected %s (%s)",
	             reject_reason_name(res.rej.reason), reject_reason_name(reason),
	             res.rej.detail);
	cr_assert(res.rej.detail[0] != '\0', "a reject carries a detail");
	cr_assert_eq(res.n_obl, 0);
}

Test(reconcile, issued_penalty_is_disclosed_on_both_sites_with_its_periods)
{
	struct event ev =
	    issued("nm-tax", "2024-05-06", CAT_FINE, "2024-05-06T10:15:00+08:00", ID1);
	struct recon_result res;
	reconcile_event(NULL, &ev, testlib_instant("2024-05-07T09:00:00+08:00"), r, cal, &res);

	cr_assert_eq(res.outcome, RO_APPLIED);
	cr_assert_eq(res.rec.status, REC_SHOWN);
	cr_assert_eq(res.rec.channel, SITE_CREDITCHINA);
	cr_assert_eq(res.n_obl, 2);
	for (int i = 0; i < 2; i++) {
		const struct obligation *ob = &res.obl[i];
		cr_assert_eq(ob->type, OUT_DISCLOSE);
		cr_assert_eq(ob->site, (enum site)i);
		cr_assert_str_eq(fmt(ob->disclose_until), "2027-05-06");
		cr_assert_str_eq(fmt(ob->repairable_from), "2024-08-07");
		cr_assert_str_eq(fmt(ob->due_date), "2024-05-08");
		cr_assert_str_eq(ob->source_event_id, ID1);
		cr_assert_eq(strlen(ob->id), 36);
	}
	cr_assert_str_neq(res.obl[0].id, res.obl[1].id);
}

Test(reconcile, creditchina_repair_is_a_takedown_there_and_mutual_recognition_on_gsxt)
{
	struct event add =
	    issued("nm-tax", "2024-05-06", CAT_FINE, "2024-05-06T10:15:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-05-06T11:00:00+08:00", 2);
	struct event rep = repaired("creditchina", "2024-09-13", "2024-09-13T14:00:00+08:00", ID2);
	struct recon_result res;
	reconcile_event(&rec, &rep, testlib_instant("2024-09-13T15:00:00+08:00"), r, cal, &res);

	cr_assert_eq(res.outcome, RO_APPLIED);
	cr_assert_eq(res.rec.status, REC_DOWN);
	cr_assert_eq(res.rec.end_reason, TD_REPAIRED);
	cr_assert_eq(res.n_obl, 2);
	cr_assert_eq(res.obl[0].site, SITE_CREDITCHINA);
	cr_assert_eq(res.obl[0].type, OUT_TAKEDOWN);
	cr_assert_eq(res.obl[0].reason, TD_REPAIRED);
	cr_assert_eq(res.obl[1].site, SITE_GSXT);
	cr_assert_eq(res.obl[1].type, OUT_MUTUAL_RECOGNITION);
	cr_assert_eq(res.obl[1].rec_system, SITE_CREDITCHINA);
	cr_assert_str_eq(res.obl[1].rec_repair_decision_no, "修复〔2024〕1号");
	cr_assert_str_eq(fmt(res.obl[1].rec_repaired_on), "2024-09-13");
	/* Received Friday 2024-09-13: due the adjusted working Saturday (docs/RULES.md section 4).
	 */
	cr_assert_str_eq(fmt(res.obl[0].due_date), "2024-09-14");
	cr_assert_str_eq(fmt(res.obl[1].due_date), "2024-09-14");
}

Test(reconcile, samr_penalty_is_repaired_on_gsxt_and_recognised_by_creditchina)
{
	struct event add =
	    issued("nm-samr", "2024-01-10", CAT_FINE, "2024-01-10T10:00:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-01-10T11:00:00+08:00", 2);
	cr_assert_eq(rec.channel, SITE_GSXT);
	struct event rep = repaired("gsxt", "2024-06-03", "2024-06-03T09:00:00+08:00", ID2);
	struct recon_result res;
	reconcile_event(&rec, &rep, testlib_instant("2024-06-03T09:30:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_APPLIED);
	cr_assert_eq(res.n_obl, 2);
	cr_assert_eq(res.obl[0].site, SITE_GSXT);
	cr_assert_eq(res.obl[0].type, OUT_TAKEDOWN);
	cr_assert_eq(res.obl[1].site, SITE_CREDITCHINA);
	cr_assert_eq(res.obl[1].type, OUT_MUTUAL_RECOGNITION);
	cr_assert_eq(res.obl[1].rec_system, SITE_GSXT);
}

Test(reconcile, stateful_rejects)
{
	struct event add =
	    issued("nm-tax", "2024-05-06", CAT_FINE, "2024-05-06T10:15:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-05-06T11:00:00+08:00", 2);

	struct event wrong = repaired("gsxt", "2024-09-13", "2024-09-13T14:00:00+08:00", ID2);
	assert_rejected(&rec, &wrong, REJ_WRONG_CHANNEL);

	/* Minimum period: last day 2024-08-06, repairable from 2024-08-07. */
	struct event early =
	    repaired("creditchina", "2024-08-06", "2024-08-06T14:00:00+08:00", ID2);
	assert_rejected(&rec, &early, REJ_BEFORE_MINIMUM_PERIOD);
	struct event first =
	    repaired("creditchina", "2024-08-07", "2024-08-07T14:00:00+08:00", ID2);
	apply_ok(&rec, &first, "2024-08-07T15:00:00+08:00", 2);

	struct event revoke = ev_make(EV_PENALTY_REVOKED, "nm-hrss", "罚〔2024〕12号",
	                              "2024-09-01T10:00:00+08:00", ID3);
	revoke.effective_on = testlib_date("2024-09-01");
	assert_rejected(&rec, &revoke, REJ_NOT_ENTRY_OWNER);

	struct event warn =
	    issued("nm-tax", "2024-05-06", CAT_WARNING, "2024-05-06T10:15:00+08:00", ID1);
	struct record hidden = apply_ok(NULL, &warn, "2024-05-06T11:00:00+08:00", 2);
	cr_assert_eq(hidden.status, REC_NEVER);
	assert_rejected(&hidden, &first, REJ_NOT_REPAIRABLE);
}

Test(reconcile, warning_only_is_never_shown_and_both_sites_are_told)
{
	struct event warn =
	    issued("nm-tax", "2024-05-06", CAT_WARNING, "2024-05-06T10:15:00+08:00", ID1);
	struct recon_result res;
	reconcile_event(NULL, &warn, testlib_instant("2024-05-06T11:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.rec.status, REC_NEVER);
	cr_assert_eq(res.n_obl, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(res.obl[i].type, OUT_TAKEDOWN);
		cr_assert_eq(res.obl[i].reason, TD_NOT_DISCLOSABLE);
	}
}

Test(reconcile, penalty_arriving_after_its_maximum_period_is_never_shown)
{
	struct event old =
	    issued("nm-tax", "2020-03-02", CAT_FINE, "2020-03-02T10:00:00+08:00", ID1);
	struct recon_result res;
	reconcile_event(NULL, &old, testlib_instant("2024-05-06T11:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_APPLIED);
	cr_assert_eq(res.rec.status, REC_NEVER);
	for (int i = 0; i < res.n_obl; i++)
		cr_assert_neq(res.obl[i].type, OUT_DISCLOSE);
	cr_assert_eq(res.rec.end_reason, TD_EXPIRED);
}

Test(reconcile, list_entry_added_and_removed_by_its_owner)
{
	struct event add = listed(EV_LIST_ADDED, "nm-tax", "b1-04", "2024-03-01",
	                          "2024-03-01T10:00:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-03-01T10:05:00+08:00", 2);
	cr_assert_eq(rec.status, REC_SHOWN);
	cr_assert_eq(rec.disclose_until, DATE_NONE);

	struct event rm = listed(EV_LIST_REMOVED, "nm-tax", "b1-04", "2024-06-03",
	                         "2024-06-03T10:00:00+08:00", ID2);
	struct recon_result res;
	reconcile_event(&rec, &rm, testlib_instant("2024-06-03T10:01:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_APPLIED);
	cr_assert_eq(res.rec.status, REC_DOWN);
	cr_assert_eq(res.n_obl, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(res.obl[i].type, OUT_TAKEDOWN);
		cr_assert_eq(res.obl[i].reason, TD_REMOVED);
		cr_assert_str_eq(fmt(res.obl[i].due_date), "2024-06-04");
	}
}

Test(reconcile, only_the_authority_that_listed_an_entry_removes_it)
{
	/* b2-02 has two owners: each may add, only the one that added removes. */
	struct event add = listed(EV_LIST_ADDED, "nm-drc", "b2-02", "2024-03-01",
	                          "2024-03-01T10:00:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-03-01T10:05:00+08:00", 2);
	struct event rm = listed(EV_LIST_REMOVED, "nm-transport", "b2-02", "2024-06-03",
	                         "2024-06-03T10:00:00+08:00", ID2);
	assert_rejected(&rec, &rm, REJ_NOT_ENTRY_OWNER);
}

Test(reconcile, removal_before_its_add_means_never_shown)
{
	struct event rm = listed(EV_LIST_REMOVED, "nm-samr", "abnormal-enterprise", "2024-06-03",
	                         "2024-06-03T10:00:00+08:00", ID2);
	struct record tomb = apply_ok(NULL, &rm, "2024-06-03T10:01:00+08:00", 0);
	cr_assert_eq(tomb.status, REC_NEVER);
	cr_assert(!tomb.added);

	struct event add = listed(EV_LIST_ADDED, "nm-samr", "abnormal-enterprise", "2024-03-01",
	                          "2024-03-01T10:00:00+08:00", ID1);
	struct record rec = apply_ok(&tomb, &add, "2024-06-03T10:02:00+08:00", 0);
	cr_assert_eq(rec.status, REC_NEVER);
	cr_assert(rec.added);
	cr_assert_eq(rec.end_reason, TD_REMOVED);
}

Test(reconcile, an_older_event_never_overrides_a_newer_state)
{
	/* Listed again after a removal: the old removal arriving late is stale. */
	struct event add = listed(EV_LIST_ADDED, "nm-samr", "abnormal-enterprise", "2024-07-01",
	                          "2024-07-01T10:00:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-07-01T10:01:00+08:00", 2);
	struct event rm = listed(EV_LIST_REMOVED, "nm-samr", "abnormal-enterprise", "2024-06-03",
	                         "2024-06-03T10:00:00+08:00", ID2);
	struct recon_result res;
	reconcile_event(&rec, &rm, testlib_instant("2024-07-02T10:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_STALE);
	cr_assert_eq(res.n_obl, 0);

	/* The same add again (a resend under a new id) changes nothing. */
	struct event again = add;
	snprintf(again.event_id, sizeof(again.event_id), ID3);
	reconcile_event(&rec, &again, testlib_instant("2024-07-02T10:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_NOOP);
	cr_assert_eq(res.n_obl, 0);
}

Test(reconcile, an_end_after_the_end_changes_nothing)
{
	struct event add =
	    issued("nm-tax", "2024-05-06", CAT_FINE, "2024-05-06T10:15:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-05-06T11:00:00+08:00", 2);
	struct event rev = ev_make(EV_PENALTY_REVOKED, "nm-tax", "罚〔2024〕12号",
	                           "2024-06-01T10:00:00+08:00", ID2);
	rev.effective_on = testlib_date("2024-06-01");
	struct record down = apply_ok(&rec, &rev, "2024-06-01T10:01:00+08:00", 2);
	cr_assert_eq(down.end_reason, TD_REVOKED);
	struct event rep = repaired("creditchina", "2024-09-13", "2024-09-13T14:00:00+08:00", ID3);
	struct recon_result res;
	reconcile_event(&down, &rep, testlib_instant("2024-09-13T15:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_NOOP);
	cr_assert_eq(res.n_obl, 0);
}

Test(reconcile, obligation_ids_are_deterministic)
{
	struct event add =
	    issued("nm-tax", "2024-05-06", CAT_FINE, "2024-05-06T10:15:00+08:00", ID1);
	struct recon_result a, b, c;
	reconcile_event(NULL, &add, testlib_instant("2024-05-06T11:00:00+08:00"), r, cal, &a);
	reconcile_event(NULL, &add, testlib_instant("2024-05-06T11:00:00+08:00"), r, cal, &b);
	snprintf(add.event_id, sizeof(add.event_id), ID2);
	reconcile_event(NULL, &add, testlib_instant("2024-05-06T11:00:00+08:00"), r, cal, &c);
	for (int i = 0; i < 2; i++) {
		cr_assert_str_eq(a.obl[i].id, b.obl[i].id);
		cr_assert_str_neq(a.obl[i].id, c.obl[i].id);
	}
}

Test(reconcile, expiry_at_the_maximum_and_the_light_period)
{
	struct event add = issued("nm-tax", "2024-05-06", CAT_FINE | CAT_CONFISCATION,
	                          "2024-05-06T10:15:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-05-06T11:00:00+08:00", 2);
	struct recon_result res;
	/* Disclosed through 2027-05-06, taken down automatically on 2027-05-07. */
	cr_assert(!reconcile_expiry(&rec, testlib_date("2027-05-06"),
	                            testlib_instant("2027-05-06T23:00:00+08:00"), r, cal, &res));
	cr_assert(reconcile_expiry(&rec, testlib_date("2027-05-07"),
	                           testlib_instant("2027-05-07T00:05:00+08:00"), r, cal, &res));
	cr_assert_eq(res.rec.status, REC_DOWN);
	cr_assert_eq(res.n_obl, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(res.obl[i].type, OUT_TAKEDOWN);
		cr_assert_eq(res.obl[i].reason, TD_EXPIRED);
		/* due the first day after disclose_until, with no working day of grace */
		cr_assert_str_eq(fmt(res.obl[i].due_date), "2027-05-07");
	}
	struct recon_result late_scan;
	/* a scan that runs late (daemon down over a weekend): due the day it is sent */
	cr_assert(reconcile_expiry(&rec, testlib_date("2027-05-10"),
	                           testlib_instant("2027-05-10T09:00:00+08:00"), r, cal,
	                           &late_scan));
	cr_assert_str_eq(fmt(late_scan.obl[0].due_date), "2027-05-10");
	cr_assert_str_eq(fmt(late_scan.obl[1].due_date), "2027-05-10");
	cr_assert(!reconcile_expiry(&res.rec, testlib_date("2027-05-08"),
	                            testlib_instant("2027-05-08T00:05:00+08:00"), r, cal, &res),
	          "an expired record expires once");

	/* Light (market regulation only): 3 months from its first disclosure, here the day it
	 * arrived, as the event carries no publication date. */
	struct event light =
	    issued("nm-samr", "2024-05-06", CAT_CRITICISM, "2024-05-06T10:15:00+08:00", ID2);
	struct record lrec = apply_ok(NULL, &light, "2024-05-06T11:00:00+08:00", 2);
	cr_assert(lrec.light);
	cr_assert_str_eq(fmt(lrec.disclose_until), "2024-08-06");
	struct event published = light;
	published.published_on = testlib_date("2024-05-04");
	cr_assert_str_eq(
	    fmt(apply_ok(NULL, &published, "2024-05-10T11:00:00+08:00", 2).disclose_until),
	    "2024-08-04", "from the publication date it carries");
	struct event late = light;
	cr_assert_str_eq(fmt(apply_ok(NULL, &late, "2024-05-10T11:00:00+08:00", 2).disclose_until),
	                 "2024-08-10", "from the day credsync first disclosed it");
	struct event tax = light;
	snprintf(tax.producer, sizeof(tax.producer), "nm-tax");
	cr_assert(!apply_ok(NULL, &tax, "2024-05-06T11:00:00+08:00", 2).light,
	          "another authority's criticism is not light");
	cr_assert(reconcile_expiry(&lrec, testlib_date("2024-08-07"),
	                           testlib_instant("2024-08-07T00:05:00+08:00"), r, cal, &res));
	cr_assert_eq(res.obl[0].reason, TD_LIGHT_EXPIRED);
}

/* Issue 12 item 1: an end that arrives before its add is judged when the add comes, exactly as
 * if it had come second. Each row: the early end, then the add; whether the end stands (the
 * record is never shown) or is refused (shown, and the end refused with that reason). */
struct early_case {
	const char *what;
	struct event end;
	struct event add;
	enum reject_reason refused; /* REJ_NONE: the end stands */
};

static void
check_early(const struct early_case *c)
{
	struct record tomb = apply_ok(NULL, &c->end, "2024-10-08T10:00:00+08:00", 0);
	cr_assert_eq(tomb.status, REC_NEVER, "%s", c->what);
	struct recon_result res;
	reconcile_event(&tomb, &c->add, testlib_instant("2024-10-09T10:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_APPLIED, "%s: %s", c->what, recon_outcome_name(res.outcome));
	if (c->refused == REJ_NONE) {
		cr_expect_eq(res.rec.status, REC_NEVER, "%s: never shown", c->what);
		cr_expect_eq(res.n_obl, 0, "%s", c->what);
		cr_expect_eq(res.n_refused, 0, "%s", c->what);
		return;
	}
	cr_expect_eq(res.rec.status, REC_SHOWN, "%s: shown", c->what);
	cr_expect_eq(res.n_obl, 2, "%s", c->what);
	cr_expect_eq(res.obl[0].type, OUT_DISCLOSE, "%s", c->what);
	cr_expect_eq(res.rec.end_reason, TD_NONE, "%s: the marker is forgotten", c->what);
	cr_assert_eq(res.n_refused, 1, "%s", c->what);
	cr_expect_eq(res.refused_end[0].rej.reason, c->refused, "%s: refused %s, expected %s (%s)",
	             c->what, reject_reason_name(res.refused_end[0].rej.reason),
	             reject_reason_name(c->refused), res.refused_end[0].rej.detail);
	cr_expect_str_eq(res.refused_end[0].event_id, c->end.event_id, "%s", c->what);
	cr_expect_str_eq(res.refused_end[0].producer, c->end.producer, "%s", c->what);
	cr_expect(res.refused_end[0].rej.detail[0] != '\0', "%s", c->what);
}

static struct event
revoked(const char *producer, const char *on, const char *when, const char *id)
{
	struct event ev = ev_make(EV_PENALTY_REVOKED, producer, "罚〔2024〕12号", when, id);
	ev.effective_on = testlib_date(on);
	return ev;
}

Test(reconcile, an_early_end_is_judged_when_its_add_comes)
{
	const char *t_add = "2024-05-06T10:15:00+08:00";
	struct early_case cases[] = {
	    {"another authority revokes a SAMR penalty",
	     revoked("nm-tax", "2024-06-01", "2024-06-01T10:00:00+08:00", ID2),
	     issued("nm-samr", "2024-05-06", CAT_CONFISCATION, t_add, ID1), REJ_NOT_ENTRY_OWNER},
	    {"the issuer revokes its own penalty",
	     revoked("nm-samr", "2024-06-01", "2024-06-01T10:00:00+08:00", ID2),
	     issued("nm-samr", "2024-05-06", CAT_CONFISCATION, t_add, ID1), REJ_NONE},
	    {"creditchina repairs a SAMR penalty (wrong channel)",
	     repaired("creditchina", "2024-09-13", "2024-09-13T10:00:00+08:00", ID2),
	     issued("nm-samr", "2024-05-06", CAT_CONFISCATION, t_add, ID1), REJ_WRONG_CHANNEL},
	    {"gsxt repairs a SAMR penalty after the minimum period",
	     repaired("gsxt", "2024-09-13", "2024-09-13T10:00:00+08:00", ID2),
	     issued("nm-samr", "2024-05-06", CAT_CONFISCATION, t_add, ID1), REJ_NONE},
	    {"a repair inside the minimum period",
	     repaired("creditchina", "2024-05-10", "2024-05-10T10:00:00+08:00", ID2),
	     issued("nm-tax", "2024-05-06", CAT_CONFISCATION, t_add, ID1),
	     REJ_BEFORE_MINIMUM_PERIOD},
	    {"a co-owner removes another owner's entry",
	     listed(EV_LIST_REMOVED, "nm-transport", "b2-02", "2024-06-03",
	            "2024-06-03T10:00:00+08:00", ID2),
	     listed(EV_LIST_ADDED, "nm-drc", "b2-02", "2024-03-01", "2024-03-01T10:00:00+08:00",
	            ID1),
	     REJ_NOT_ENTRY_OWNER},
	    {"the owner removes its own entry",
	     listed(EV_LIST_REMOVED, "nm-drc", "b2-02", "2024-06-03", "2024-06-03T10:00:00+08:00",
	            ID2),
	     listed(EV_LIST_ADDED, "nm-drc", "b2-02", "2024-03-01", "2024-03-01T10:00:00+08:00",
	            ID1),
	     REJ_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_early(&cases[i]);
}

Test(reconcile, an_early_repair_of_what_is_never_disclosed_is_refused)
{
	/* A warning alone is never disclosed: second, the repair would be not_repairable. */
	struct event rep = repaired("creditchina", "2024-09-13", "2024-09-13T10:00:00+08:00", ID2);
	struct record tomb = apply_ok(NULL, &rep, "2024-10-08T10:00:00+08:00", 0);
	struct event add =
	    issued("nm-tax", "2024-05-06", CAT_WARNING, "2024-05-06T10:15:00+08:00", ID1);
	struct recon_result res;
	reconcile_event(&tomb, &add, testlib_instant("2024-10-09T10:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_APPLIED);
	cr_assert_eq(res.n_refused, 1);
	cr_expect_eq(res.refused_end[0].rej.reason, REJ_NOT_REPAIRABLE);
	cr_expect_eq(res.rec.status, REC_NEVER);
	cr_expect_eq(res.rec.end_reason, TD_NOT_DISCLOSABLE);
}

/* Issue 12 item 6: a disclose carries what a site shows. */
Test(reconcile, a_disclose_carries_the_records_content)
{
	struct event add = issued("nm-samr", "2024-05-06", CAT_FINE | CAT_CONFISCATION,
	                          "2024-05-06T10:15:00+08:00", ID1);
	add.has_fine = true;
	add.fine_fen = 20000000;
	add.field = FIELD_FOOD;
	add.severity = SEV_GENERAL;
	snprintf(add.issuer_name, sizeof(add.issuer_name), "呼和浩特市市场监督管理局");
	snprintf(add.issuer_uscc, sizeof(add.issuer_uscc), "11150100MB0123456P");
	struct recon_result res;
	reconcile_event(NULL, &add, testlib_instant("2024-05-06T11:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.n_obl, 2);
	for (int i = 0; i < 2; i++) {
		const struct disclosed *c = &res.obl[i].content;
		cr_expect_str_eq(fmt(c->decided_on), "2024-05-06");
		cr_expect_eq(c->categories, CAT_FINE | CAT_CONFISCATION);
		cr_expect(c->has_fine);
		cr_expect_eq(c->fine_fen, 20000000);
		cr_expect_eq(c->field, FIELD_FOOD);
		cr_expect_eq(c->severity, SEV_GENERAL);
		cr_expect_str_eq(c->issuer_name, "呼和浩特市市场监督管理局");
		cr_expect_str_eq(c->issuer_uscc, "11150100MB0123456P");
		cr_expect(c->has_channel);
		cr_expect_eq(c->channel, SITE_GSXT);
	}
	struct event ab = listed(EV_LIST_ADDED, "nm-samr", "abnormal-enterprise", "2024-03-01",
	                         "2024-03-01T10:00:00+08:00", ID2);
	reconcile_event(NULL, &ab, testlib_instant("2024-03-01T11:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.n_obl, 2);
	cr_expect_str_eq(fmt(res.obl[0].content.decided_on), "2024-03-01", "listed on");
	cr_expect(res.obl[0].content.has_channel && res.obl[0].content.channel == SITE_GSXT);
	struct event se = listed(EV_LIST_ADDED, "nm-court", "b1-01", "2024-03-01",
	                         "2024-03-01T10:00:00+08:00", ID3);
	reconcile_event(NULL, &se, testlib_instant("2024-03-01T11:00:00+08:00"), r, cal, &res);
	cr_expect(!res.obl[0].content.has_channel, "a serious list entry: its own authority");
}

/* Issue 12 item 7: a decision, listing or repair dated after the day its event arrived is
 * refused, naming the field. */
Test(reconcile, a_date_after_the_day_of_receipt_is_refused)
{
	struct event add =
	    issued("nm-tax", "2024-05-07", CAT_CONFISCATION, "2024-05-06T10:15:00+08:00", ID1);
	struct recon_result res;
	reconcile_event(NULL, &add, testlib_instant("2024-05-06T23:59:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_REJECTED);
	cr_expect_eq(res.rej.reason, REJ_INVALID_FIELD);
	cr_expect(strstr(res.rej.detail, "record.decided_on") != NULL, "%s", res.rej.detail);
	/* the same day is fine (received in Beijing time) */
	reconcile_event(NULL, &add, testlib_instant("2024-05-07T00:00:00+08:00"), r, cal, &res);
	cr_expect_eq(res.outcome, RO_APPLIED);

	struct event rep = repaired("creditchina", "2024-09-14", "2024-09-13T14:00:00+08:00", ID2);
	reconcile_event(&res.rec, &rep, testlib_instant("2024-09-13T15:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_REJECTED);
	cr_expect(strstr(res.rej.detail, "record.repaired_on") != NULL, "%s", res.rej.detail);

	struct event ls = listed(EV_LIST_ADDED, "nm-court", "b1-01", "2024-03-02",
	                         "2024-03-01T10:00:00+08:00", ID3);
	reconcile_event(NULL, &ls, testlib_instant("2024-03-01T11:00:00+08:00"), r, cal, &res);
	cr_assert_eq(res.outcome, RO_REJECTED);
	cr_expect(strstr(res.rej.detail, "record.listed_on") != NULL, "%s", res.rej.detail);
}

/* Issue 12 item 7: an application about a penalty goes to the system that decides its repair. */
Test(reconcile, a_repair_application_in_the_wrong_channel_is_refused)
{
	struct event add =
	    issued("nm-samr", "2024-05-06", CAT_CONFISCATION, "2024-05-06T10:15:00+08:00", ID1);
	struct record rec = apply_ok(NULL, &add, "2024-05-06T11:00:00+08:00", 2);
	struct event app = ev_make(EV_REPAIR_APPLIED, "creditchina", "罚〔2024〕12号",
	                           "2024-09-13T14:00:00+08:00", ID2);
	snprintf(app.application_no, sizeof(app.application_no), "申1号");
	app.app_at = testlib_instant("2024-09-13T14:00:00+08:00");
	struct recon_result res;
	reconcile_event(&rec, &app, testlib_instant("2024-09-13T15:00:00+08:00"), r, cal, &res);
	cr_expect_eq(res.outcome, RO_REJECTED);
	cr_expect_eq(res.rej.reason, REJ_WRONG_CHANNEL, "%s", res.rej.detail);
	snprintf(app.producer, sizeof(app.producer), "gsxt");
	reconcile_event(&rec, &app, testlib_instant("2024-09-13T15:00:00+08:00"), r, cal, &res);
	cr_expect_eq(res.outcome, RO_NOOP);
	/* no record yet: tracked, as before */
	reconcile_event(NULL, &app, testlib_instant("2024-09-13T15:00:00+08:00"), r, cal, &res);
	cr_expect_eq(res.outcome, RO_NOOP);
}

/* Two early ends from different producers: a foreign one cannot push the owner's out, in
 * either order; the owner's hides the record and the foreign one is refused. */
Test(reconcile, a_foreign_early_end_cannot_displace_the_owners)
{
	struct event own = revoked("nm-samr", "2024-06-01", "2024-06-01T10:00:00+08:00", ID2);
	struct event foreign = revoked("nm-tax", "2024-06-02", "2024-06-02T10:00:00+08:00", ID3);
	struct event add =
	    issued("nm-samr", "2024-05-06", CAT_CONFISCATION, "2024-05-06T10:15:00+08:00", ID1);
	for (int order = 0; order < 2; order++) {
		const struct event *first = order == 0 ? &own : &foreign;
		const struct event *then = order == 0 ? &foreign : &own;
		struct record tomb = apply_ok(NULL, first, "2024-10-08T10:00:00+08:00", 0);
		struct record both = apply_ok(&tomb, then, "2024-10-08T10:01:00+08:00", 0);
		cr_assert_eq(both.status, REC_NEVER);
		cr_assert_eq(both.end2_reason, TD_REVOKED, "order %d: both remembered", order);
		struct recon_result res;
		reconcile_event(&both, &add, testlib_instant("2024-10-09T10:00:00+08:00"), r, cal,
		                &res);
		cr_assert_eq(res.outcome, RO_APPLIED);
		cr_expect_eq(res.rec.status, REC_NEVER, "order %d: the owner's end hides it",
		             order);
		cr_expect_eq(res.n_obl, 0, "order %d", order);
		cr_expect_str_eq(res.rec.ended_by, "nm-samr", "order %d", order);
		cr_expect_eq(res.rec.end2_reason, TD_NONE, "order %d", order);
		cr_assert_eq(res.n_refused, 1, "order %d", order);
		cr_expect_str_eq(res.refused_end[0].producer, "nm-tax", "order %d", order);
		cr_expect_eq(res.refused_end[0].rej.reason, REJ_NOT_ENTRY_OWNER, "order %d", order);
	}
	/* two foreign ones: both refused, the record shown */
	struct event other = revoked("nm-court", "2024-06-03", "2024-06-03T10:00:00+08:00", ID2);
	struct record tomb = apply_ok(NULL, &foreign, "2024-10-08T10:00:00+08:00", 0);
	struct record both = apply_ok(&tomb, &other, "2024-10-08T10:01:00+08:00", 0);
	struct recon_result res;
	reconcile_event(&both, &add, testlib_instant("2024-10-09T10:00:00+08:00"), r, cal, &res);
	cr_expect_eq(res.rec.status, REC_SHOWN);
	cr_expect_eq(res.n_refused, 2);
	cr_expect_eq(res.rec.end_reason, TD_NONE);
	cr_expect_eq(res.rec.end2_reason, TD_NONE);
}
