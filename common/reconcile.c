/* reconcile: the pure heart of credsync: (record state, event, rules, calendar) ->
 * (new state, obligations for both sites, or a reject). No I/O, no clock: the caller passes
 * the instant of receipt, so replaying an event gives the same answer. */
#include "reconcile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct penalty_facts
reconcile_penalty_facts(const struct event *ev, cs_date disclosed_on)
{
	return (struct penalty_facts){
	    .decided_on = ev->decided_on,
	    .categories = ev->categories,
	    .field = ev->field,
	    .has_fine = ev->has_fine,
	    .fine_fen = ev->fine_fen,
	    .producer = ev->producer,
	    .severity = ev->severity,
	    .published_on = ev->published_on,
	    .disclosed_on = disclosed_on,
	};
}

static void
copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

static void fill_reject(struct reject *rej, enum reject_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fill_reject(struct reject *rej, enum reject_reason reason, const char *fmt, ...)
{
	va_list ap;

	rej->reason = reason;
	va_start(ap, fmt);
	vsnprintf(rej->detail, sizeof(rej->detail), fmt, ap);
	va_end(ap);
}

/* A fresh obligation for one site about rec, caused by ev (NULL for automatic ones). */
static struct obligation *
add_obligation(struct recon_result *ret, const struct record *rec, enum site site,
               enum out_type type, enum takedown_reason reason, const struct event *ev,
               int64_t received_at, cs_date due)
{
	struct obligation *ob = &ret->obl[ret->n_obl++];
	memset(ob, 0, sizeof(*ob));
	ob->site = site;
	ob->type = type;
	ob->reason = reason;
	ob->key = rec->key;
	copy_str(ob->producer, sizeof(ob->producer), rec->producer);
	copy_str(ob->subject_name, sizeof(ob->subject_name), rec->subject_name);
	ob->disclose_until = DATE_NONE;
	ob->repairable_from = DATE_NONE;
	ob->rec_repaired_on = DATE_NONE;
	if (ev != NULL)
		copy_str(ob->source_event_id, sizeof(ob->source_event_id), ev->event_id);
	ob->received_at = received_at;
	ob->due_date = due;
	return ob;
}

static void
finish_ids(struct recon_result *ret)
{
	for (int i = 0; i < ret->n_obl; i++)
		obligation_set_id(&ret->obl[i]);
}

/* The same takedown to both sites. */
static void
takedown_both(struct recon_result *ret, const struct record *rec, enum takedown_reason reason,
              const struct event *ev, int64_t received_at, cs_date due)
{
	for (int s = 0; s < SITE_COUNT; s++)
		add_obligation(ret, rec, (enum site)s, OUT_TAKEDOWN, reason, ev, received_at, due);
}

static cs_date
due_date(const rules *r, const calendar *cal, int64_t received_at, struct recon_result *ret)
{
	struct deadlines dl;
	cs_date due;
	int unknown = 0;

	rules_deadlines(r, date_beijing(received_at), &dl);
	if (calendar_due_date(cal, received_at, dl.obligation_workdays, &due, &unknown) != 0)
		ret->unknown_year = unknown;
	return due;
}

static bool
is_add(enum event_type t)
{
	return t == EV_PENALTY_ISSUED || t == EV_LIST_ADDED;
}

static bool
is_end(enum event_type t)
{
	return t == EV_PENALTY_REPAIRED || t == EV_PENALTY_REVOKED || t == EV_LIST_REMOVED;
}

static enum takedown_reason
end_reason_of(enum event_type t)
{
	switch (t) {
	case EV_PENALTY_REPAIRED:
		return TD_REPAIRED;
	case EV_PENALTY_REVOKED:
		return TD_REVOKED;
	default:
		return TD_REMOVED;
	}
}

/* The latest instant the record's state reflects. */
static int64_t
last_event_at(const struct record *rec)
{
	return rec->ended_at > rec->added_at ? rec->ended_at : rec->added_at;
}

/* Fills the add's facts into rec and decides whether it is shown. Returns false with a
 * reject when the rules cannot place the penalty. */
static bool
apply_add_facts(struct record *rec, const struct event *ev, int64_t received_at, const rules *r,
                struct recon_result *ret, enum takedown_reason *ret_hidden)
{
	rec->added = true;
	copy_str(rec->producer, sizeof(rec->producer), ev->producer);
	copy_str(rec->subject_name, sizeof(rec->subject_name), ev->subject_name);
	rec->added_at = ev->occurred_at;
	copy_str(rec->add_event_id, sizeof(rec->add_event_id), ev->event_id);
	*ret_hidden = TD_NONE;

	if (ev->type == EV_LIST_ADDED) {
		rec->decided_on = ev->effective_on;
		rec->repairable_from = DATE_NONE;
		rec->disclose_until = DATE_NONE;
		return true;
	}

	/* credsync discloses it now */
	struct penalty_facts pf = reconcile_penalty_facts(ev, date_beijing(received_at));
	struct periods per;
	char err[sizeof(ret->rej.detail)];
	if (rules_periods(r, &pf, &per, err, sizeof(err)) < 0) {
		ret->outcome = RO_REJECTED;
		fill_reject(&ret->rej, REJ_INVALID_FIELD, "field \"record\": %s", err);
		return false;
	}
	rec->decided_on = ev->decided_on;
	rec->categories = ev->categories;
	rec->field = ev->field;
	rec->has_fine = ev->has_fine;
	rec->fine_fen = ev->fine_fen;
	rec->severity = ev->severity;
	rec->light = per.light;
	ret->severity_assumed = per.severity_assumed;
	rec->channel = per.channel;
	rec->repairable_from = per.repairable_from;
	rec->disclose_until = per.disclose_until;

	if (!per.disclosable)
		*ret_hidden = TD_NOT_DISCLOSABLE;
	else if (date_beijing(received_at) > per.disclose_until)
		*ret_hidden = per.light ? TD_LIGHT_EXPIRED : TD_EXPIRED;
	return true;
}

static bool end_allowed(const struct record *cur, const struct event *ev, struct reject *rej);

/* An end that arrived before its add, judged now that the add's facts are in rec, exactly as it
 * would have been had it come second (docs/RULES.md §5): who ended it, how and on which day are in
 * the marker (ended_by, end_reason, ended_on). hidden: what the add alone would do. Returns
 * true when the end stands (the record is never shown), false with *rej when it is refused. */
static bool
early_end_stands(const struct record *rec, enum takedown_reason hidden, struct reject *rej)
{
	struct record judged = *rec;
	struct event end;

	judged.status = hidden == TD_NONE ? REC_SHOWN : REC_NEVER;
	memset(&end, 0, sizeof(end));
	end.type = rec->end_reason == TD_REPAIRED  ? EV_PENALTY_REPAIRED
	           : rec->end_reason == TD_REVOKED ? EV_PENALTY_REVOKED
	                                           : EV_LIST_REMOVED;
	copy_str(end.producer, sizeof(end.producer), rec->ended_by);
	copy_str(end.event_id, sizeof(end.event_id), rec->end_event_id);
	end.key = rec->key;
	end.effective_on = rec->ended_on;
	end.occurred_at = rec->ended_at;
	return end_allowed(&judged, &end, rej);
}

/* What a disclose carries for a site to show (issue 12): the add's facts. The channel is the
 * system that decides a penalty's repair, gsxt for the abnormal lists (docs/RULES.md §3), and none
 * for a serious list entry, which its own authority removes. */
static void
set_content(struct obligation *ob, const struct record *rec, const struct event *ev)
{
	struct disclosed *c = &ob->content;

	c->decided_on = rec->decided_on;
	if (rec->key.kind == KIND_PENALTY) {
		c->categories = ev->categories;
		c->field = ev->field;
		c->has_fine = ev->has_fine;
		c->fine_fen = ev->fine_fen;
		c->severity = ev->severity;
		copy_str(c->issuer_name, sizeof(c->issuer_name), ev->issuer_name);
		copy_str(c->issuer_uscc, sizeof(c->issuer_uscc), ev->issuer_uscc);
		c->has_channel = true;
		c->channel = rec->channel;
	} else if (rec->key.kind == KIND_ABNORMAL) {
		c->has_channel = true;
		c->channel = SITE_GSXT;
	}
}

/* Judges the early end held in rec's end fields; a refused one is added to ret's list.
 * Returns whether it was refused. */
static bool
judge_early_end(const struct record *rec, enum takedown_reason hidden, struct recon_result *ret)
{
	struct reject rej = {0};
	if (early_end_stands(rec, hidden, &rej))
		return false;
	struct refused_end *re = &ret->refused_end[ret->n_refused++];
	re->rej = rej;
	copy_str(re->event_id, sizeof(re->event_id), rec->end_event_id);
	copy_str(re->producer, sizeof(re->producer), rec->ended_by);
	return true;
}

static void
clear_end2(struct record *rec)
{
	rec->end2_reason = TD_NONE;
	rec->end2_at = 0;
	rec->end2_by[0] = rec->end2_event_id[0] = rec->end2_repair_decision_no[0] = '\0';
	rec->end2_on = DATE_NONE;
}

static void
on_add(const struct record *cur, const struct event *ev, int64_t received_at, const rules *r,
       const calendar *cal, struct recon_result *ret)
{
	struct record *rec = &ret->rec;

	if (cur != NULL && cur->added) {
		/* Already known: a resend under a new id, or a correction we do not model. */
		ret->outcome = ev->occurred_at < last_event_at(cur) ? RO_STALE : RO_NOOP;
		return;
	}
	/* An end arrived first and happened after this add: judged below, as if it came second. */
	bool ended_later =
	    cur != NULL && cur->end_reason != TD_NONE && cur->ended_at >= ev->occurred_at;

	if (cur != NULL)
		*rec = *cur;
	else {
		memset(rec, 0, sizeof(*rec));
		rec->key = ev->key;
		rec->ended_on = rec->end2_on = DATE_NONE;
	}
	enum takedown_reason hidden;
	if (!apply_add_facts(rec, ev, received_at, r, ret, &hidden))
		return;
	ret->outcome = RO_APPLIED;

	/* Each early end that happened after this add is judged; one that fails is refused now,
	 * on its producer's reject topic, and the record is shown as if it never came. */
	bool ended2_later =
	    cur != NULL && cur->end2_reason != TD_NONE && cur->end2_at >= ev->occurred_at;
	struct record second = *rec; /* the second early end in the place of the first */
	second.end_reason = rec->end2_reason;
	second.ended_at = rec->end2_at;
	copy_str(second.ended_by, sizeof(second.ended_by), rec->end2_by);
	copy_str(second.end_event_id, sizeof(second.end_event_id), rec->end2_event_id);
	second.ended_on = rec->end2_on;
	copy_str(second.repair_decision_no, sizeof(second.repair_decision_no),
	         rec->end2_repair_decision_no);
	const struct record *standing = NULL;
	if (ended_later && !judge_early_end(rec, hidden, ret))
		standing = rec;
	if (ended2_later && !judge_early_end(&second, hidden, ret) && standing == NULL)
		standing = &second;
	if (standing != NULL) {
		if (standing == &second)
			*rec = second;
		rec->status = REC_NEVER;
		clear_end2(rec);
		return;
	}
	if (cur != NULL) {
		/* The end was older than this add (a new listing after a removal), or refused:
		 * forget it. */
		rec->end_reason = TD_NONE;
		rec->ended_at = 0;
		rec->ended_by[0] = rec->end_event_id[0] = rec->repair_decision_no[0] = '\0';
		rec->ended_on = DATE_NONE;
		clear_end2(rec);
	}
	cs_date due = due_date(r, cal, received_at, ret);
	if (hidden != TD_NONE) {
		/* Not to be shown at all: tell both sites, in case it reached them another way. */
		rec->status = REC_NEVER;
		rec->end_reason = hidden;
		rec->ended_at = ev->occurred_at;
		rec->ended_on = date_beijing(received_at);
		takedown_both(ret, rec, hidden, ev, received_at, due);
	} else {
		rec->status = REC_SHOWN;
		for (int s = 0; s < SITE_COUNT; s++) {
			struct obligation *ob = add_obligation(ret, rec, (enum site)s, OUT_DISCLOSE,
			                                       TD_NONE, ev, received_at, due);
			ob->disclose_until = rec->disclose_until;
			ob->repairable_from = rec->repairable_from;
			set_content(ob, rec, ev);
		}
	}
	finish_ids(ret);
}

static void
record_end(struct record *rec, const struct event *ev)
{
	rec->end_reason = end_reason_of(ev->type);
	rec->ended_at = ev->occurred_at;
	copy_str(rec->ended_by, sizeof(rec->ended_by), ev->producer);
	copy_str(rec->end_event_id, sizeof(rec->end_event_id), ev->event_id);
	rec->ended_on = ev->effective_on;
	copy_str(rec->repair_decision_no, sizeof(rec->repair_decision_no), ev->repair_decision_no);
}

/* The checks an end must pass against the record it ends (the stateful reject reasons): the
 * issuer or entry owner, the repair channel and the minimum period. Returns false with *rej
 * filled when it fails. Also used for an end that arrived before its add, once the add came. */
static bool
end_allowed(const struct record *cur, const struct event *ev, struct reject *rej)
{
	char a[DATE_STRLEN], b[DATE_STRLEN];

	switch (ev->type) {
	case EV_LIST_REMOVED:
	case EV_PENALTY_REVOKED:
		if (strcmp(ev->producer, cur->producer) != 0) {
			fill_reject(rej, REJ_NOT_ENTRY_OWNER,
			            "producer \"%s\" may not end a record added by \"%s\"",
			            ev->producer, cur->producer);
			return false;
		}
		return true;
	case EV_PENALTY_REPAIRED:
		if (cur->status == REC_NEVER || cur->repairable_from == DATE_NONE) {
			fill_reject(
			    rej, REJ_NOT_REPAIRABLE,
			    "penalty \"%s\" is not disclosed, so there is nothing to repair",
			    cur->key.decision_no);
			return false;
		}
		if (strcmp(ev->producer, site_name(cur->channel)) != 0) {
			fill_reject(rej, REJ_WRONG_CHANNEL,
			            "the repair of this penalty is decided by \"%s\", not \"%s\"",
			            site_name(cur->channel), ev->producer);
			return false;
		}
		if (ev->effective_on < cur->repairable_from) {
			fill_reject(
			    rej, REJ_BEFORE_MINIMUM_PERIOD,
			    "field \"record.repaired_on\" %s is before the end of the minimum "
			    "period: repairable from %s",
			    date_format(ev->effective_on, a), date_format(cur->repairable_from, b));
			return false;
		}
		return true;
	default:
		return true;
	}
}

static void
on_end(const struct record *cur, const struct event *ev, int64_t received_at, const rules *r,
       const calendar *cal, struct recon_result *ret)
{
	struct record *rec = &ret->rec;

	if (cur == NULL || !cur->added) {
		if (cur != NULL && strcmp(ev->producer, cur->ended_by) != 0) {
			/* Another producer's early end: remembered beside the first (the later of
			 * a producer's own stands), so that neither pushes the other out before
			 * the add judges both. A third producer's takes the second place. */
			if (cur->end2_reason != TD_NONE &&
			    strcmp(ev->producer, cur->end2_by) == 0 &&
			    ev->occurred_at <= cur->end2_at) {
				ret->outcome = RO_STALE;
				return;
			}
			*rec = *cur;
			rec->end2_reason = end_reason_of(ev->type);
			rec->end2_at = ev->occurred_at;
			copy_str(rec->end2_by, sizeof(rec->end2_by), ev->producer);
			copy_str(rec->end2_event_id, sizeof(rec->end2_event_id), ev->event_id);
			rec->end2_on = ev->effective_on;
			copy_str(rec->end2_repair_decision_no, sizeof(rec->end2_repair_decision_no),
			         ev->repair_decision_no);
			ret->outcome = RO_APPLIED;
			return;
		}
		if (cur != NULL) {
			/* Two ends of one producer before any add: the later one stands. */
			ret->outcome = ev->occurred_at <= cur->ended_at ? RO_STALE : RO_APPLIED;
			if (ret->outcome == RO_STALE)
				return;
			*rec = *cur;
		} else {
			memset(rec, 0, sizeof(*rec));
			rec->key = ev->key;
			copy_str(rec->subject_name, sizeof(rec->subject_name), ev->subject_name);
			rec->decided_on = rec->repairable_from = rec->disclose_until = DATE_NONE;
			rec->end2_on = DATE_NONE;
		}
		/* The end came before its add: remember it, so the add is never shown. */
		rec->status = REC_NEVER;
		record_end(rec, ev);
		ret->outcome = RO_APPLIED;
		return;
	}
	if (ev->occurred_at < last_event_at(cur)) {
		ret->outcome = RO_STALE;
		return;
	}
	if (cur->end_reason != TD_NONE) {
		/* Already ended; but a repair of what was never shown is refused, not ignored. */
		if (ev->type == EV_PENALTY_REPAIRED && cur->status == REC_NEVER &&
		    !end_allowed(cur, ev, &ret->rej))
			ret->outcome = RO_REJECTED;
		else
			ret->outcome = RO_NOOP;
		return;
	}
	if (!end_allowed(cur, ev, &ret->rej)) {
		ret->outcome = RO_REJECTED;
		return;
	}

	*rec = *cur;
	record_end(rec, ev);
	ret->outcome = RO_APPLIED;
	if (cur->status != REC_SHOWN)
		return; /* never shown: nothing to tell the sites */
	rec->status = REC_DOWN;

	cs_date due = due_date(r, cal, received_at, ret);
	if (ev->type == EV_PENALTY_REPAIRED) {
		/* The deciding system takes it down; the other recognises the repair (互认). */
		enum site decider = cur->channel;
		enum site other = decider == SITE_GSXT ? SITE_CREDITCHINA : SITE_GSXT;
		add_obligation(ret, rec, decider, OUT_TAKEDOWN, TD_REPAIRED, ev, received_at, due);
		struct obligation *ob = add_obligation(ret, rec, other, OUT_MUTUAL_RECOGNITION,
		                                       TD_REPAIRED, ev, received_at, due);
		ob->rec_system = decider;
		copy_str(ob->rec_decision_no, sizeof(ob->rec_decision_no), rec->key.decision_no);
		copy_str(ob->rec_repair_decision_no, sizeof(ob->rec_repair_decision_no),
		         ev->repair_decision_no);
		ob->rec_repaired_on = ev->effective_on;
	} else {
		takedown_both(ret, rec, end_reason_of(ev->type), ev, received_at, due);
	}
	finish_ids(ret);
}

/* A decision, listing or repair cannot take effect after the day its event arrived. */
static bool
dates_possible(const struct event *ev, int64_t received_at, struct recon_result *ret)
{
	static const char *const names[EV_TYPE_COUNT] = {
	    [EV_PENALTY_ISSUED] = "record.decided_on",
	    [EV_PENALTY_REPAIRED] = "record.repaired_on",
	    [EV_LIST_ADDED] = "record.listed_on",
	};
	cs_date d = ev->type == EV_PENALTY_ISSUED ? ev->decided_on : ev->effective_on;
	cs_date today = date_beijing(received_at);
	char a[DATE_STRLEN], b[DATE_STRLEN];

	if (names[ev->type] == NULL || d == DATE_NONE || d <= today)
		return true;
	ret->outcome = RO_REJECTED;
	fill_reject(&ret->rej, REJ_INVALID_FIELD,
	            "field \"%s\" %s is after the day the event was received, %s", names[ev->type],
	            date_format(d, a), date_format(today, b));
	return false;
}

/* A repair application about a penalty goes to the system that decides its repair. */
static bool
app_channel_ok(const struct record *cur, const struct event *ev, struct recon_result *ret)
{
	if (cur == NULL || !cur->added || cur->key.kind != KIND_PENALTY ||
	    cur->repairable_from == DATE_NONE || strcmp(ev->producer, site_name(cur->channel)) == 0)
		return true;
	ret->outcome = RO_REJECTED;
	fill_reject(&ret->rej, REJ_WRONG_CHANNEL,
	            "the repair of penalty \"%s\" is decided by \"%s\": an application to \"%s\" "
	            "is in the wrong channel",
	            cur->key.decision_no, site_name(cur->channel), ev->producer);
	return false;
}

void
reconcile_event(const struct record *cur, const struct event *ev, int64_t received_at,
                const rules *r, const calendar *cal, struct recon_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!dates_possible(ev, received_at, ret))
		return;
	if (is_add(ev->type))
		on_add(cur, ev, received_at, r, cal, ret);
	else if (is_end(ev->type))
		on_end(cur, ev, received_at, r, cal, ret);
	else if (app_channel_ok(cur, ev, ret))
		ret->outcome = RO_NOOP; /* repair applications: tracked by their own table */
}

bool
reconcile_expiry(const struct record *cur, cs_date today, int64_t now, const rules *r,
                 const calendar *cal, struct recon_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (cur->status != REC_SHOWN || cur->disclose_until == DATE_NONE ||
	    today <= cur->disclose_until)
		return false;

	struct record *rec = &ret->rec;
	*rec = *cur;
	rec->status = REC_DOWN;
	rec->end_reason = cur->light ? TD_LIGHT_EXPIRED : TD_EXPIRED;
	rec->ended_at = now;
	copy_str(rec->ended_by, sizeof(rec->ended_by), "credsync");
	rec->ended_on = cur->disclose_until + 1;
	ret->outcome = RO_APPLIED;
	/* No working day of grace: the record must be gone on the first day after its period,
	 * which is today when the scan is on time, and today too when it runs late (the daemon
	 * was down): due the day it is sent. */
	(void)r;
	(void)cal;
	takedown_both(ret, rec, rec->end_reason, NULL, now, today);
	finish_ids(ret);
	return true;
}
