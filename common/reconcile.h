/* reconcile: the pure heart of credsync. (record state, event, rules, calendar) ->
 * (new state, obligations to publish, or a reject). No I/O: every rule is a unit test. */
#ifndef CREDSYNC_RECONCILE_H
#define CREDSYNC_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "event.h"
#include "rules.h"

/* The state of one record (identity: key). Plain data, no pointers: the store persists
 * every field. A record exists once any event about it was applied, even an end that
 * arrived before its add (then added is false and status REC_NEVER). */
struct record {
	struct record_key key;
	enum rec_status status;
	bool added;                      /* its add (penalty.issued / list.added) was applied */
	char producer[PRODUCER_MAX + 1]; /* who added it */
	char subject_name[NAME_MAX_BYTES + 1];
	int64_t added_at; /* occurred_at of the add; 0 before it */
	char add_event_id[UUID_STRLEN];

	/* penalty facts and their periods (zero / DATE_NONE for list entries) */
	cs_date decided_on; /* penalty decision date, or the listing date */
	unsigned categories;
	enum field field;
	bool has_fine;
	int64_t fine_fen;
	enum severity severity;
	bool light;
	enum site channel;
	cs_date repairable_from;
	cs_date disclose_until;

	/* its end, if any */
	enum takedown_reason end_reason; /* TD_NONE while not ended */
	int64_t ended_at;                /* occurred_at of the ending event; 0 if none */
	char ended_by[PRODUCER_MAX + 1];
	char end_event_id[UUID_STRLEN];
	cs_date ended_on; /* repaired_on / removed_on / revoked_on / expiry day */
	char repair_decision_no[DECISION_NO_MAX + 1];

	/* Before the add: an early end from another producer than ended_by, remembered beside
	 * the first so that a foreign end cannot push the owner's out; both are judged when the
	 * add comes (issue 12). end2_reason is TD_NONE when there is none. */
	enum takedown_reason end2_reason;
	int64_t end2_at;
	char end2_by[PRODUCER_MAX + 1];
	char end2_event_id[UUID_STRLEN];
	cs_date end2_on;
	char end2_repair_decision_no[DECISION_NO_MAX + 1];
};

#define RECON_MAX_OBLIGATIONS 4
#define RECON_MAX_REFUSED     2 /* early ends remembered before an add: ended_*, end2_* */

/* An end (removal, repair, revocation) that arrived before its add and fails the checks it
 * would have met had it come second (issuer or entry owner, channel, minimum period): it is
 * refused when the add comes. rej.reason is REJ_NONE when there is none. */
struct refused_end {
	char event_id[UUID_STRLEN]; /* the end's event id */
	char producer[PRODUCER_MAX + 1];
	struct reject rej;
};

struct recon_result {
	enum recon_outcome outcome;
	struct record rec; /* the new state when outcome == RO_APPLIED */
	struct obligation obl[RECON_MAX_OBLIGATIONS];
	int n_obl;
	struct reject rej;
	/* With an applied penalty: its rule set classes by severity and the event had none, so
	 * it was taken as general (log it: msg=severity_assumed). */
	bool severity_assumed;
	/* With an applied add: the early ends it judged and refused now (see above). */
	struct refused_end refused_end[RECON_MAX_REFUSED];
	int n_refused;
	/* A due date fell in a year the calendar does not cover (0 if none): log it. */
	int unknown_year;
};

/* Applies one validated event (already parsed by event_parse, not a duplicate) to the
 * current state of its record (cur NULL when the store has none), received at
 * received_at (Unix seconds; obligations are due calendar-wise from it).
 * Always fills *ret; never fails otherwise. */
void reconcile_event(const struct record *cur, const struct event *ev, int64_t received_at,
                     const rules *r, const calendar *cal, struct recon_result *ret);

/* The automatic end of a shown record whose disclosure period ended before `today`
 * (Beijing date): fills *ret with a takedown to both sites (expired / light_expired), due
 * `today` (the first day after disclose_until, or later when the scan ran late), and
 * returns true; or returns false when nothing is due. now: the instant of the decision. */
bool reconcile_expiry(const struct record *cur, cs_date today, int64_t now, const rules *r,
                      const calendar *cal, struct recon_result *ret);

/* The facts of a penalty.issued event that its periods depend on (ev->producer is borrowed).
 * disclosed_on: the day credsync first disclosed it, or DATE_NONE. */
struct penalty_facts reconcile_penalty_facts(const struct event *ev, cs_date disclosed_on);

#endif
