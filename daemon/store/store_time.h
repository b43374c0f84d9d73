/* store_time: the store's side of time and deadlines: breaches and at-risk obligations
 * marked as logged once, repair applications and their deadlines, the counts of the backlog
 * line, daily summaries and the obligations of a day. Same connection rules as store.h. */
#ifndef CREDSYNC_STORE_TIME_H
#define CREDSYNC_STORE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "event.h"
#include "store.h"

/* Something late: an obligation, or a repair application's acceptance or decision. */
struct store_late {
	char id[UUID_STRLEN]; /* the obligation's id; "" for an application */
	char site[16];        /* the obligation's site, or the application's channel */
	char what[32];        /* obligation type ("takedown"...), or "accept" / "decide" */
	char uscc[USCC_BUF];
	char decision_no[DECISION_NO_MAX + 1];
	char application_no[DECISION_NO_MAX + 1]; /* "" for an obligation */
	cs_date due;
};

enum store_late_kind {
	STORE_LATE_BREACH,  /* obligation not acknowledged by the end of its due date */
	STORE_LATE_AT_RISK, /* obligation due today, unacknowledged (call it after 12:00) */
	STORE_LATE_APP,     /* repair application not accepted / decided by its due date */
};

/* Marks up to max late items of a kind not marked yet as logged and returns them (in one
 * statement: two instances never both get one). today: the Beijing date of clock_now().
 * Returns 0, or -1 with err. */
int store_late_take(store *st, enum store_late_kind kind, cs_date today, size_t max,
                    struct store_late *ret, size_t *ret_n, char *err, size_t errsz);

/* The counts of the backlog line, as of today (Beijing date of clock_now()). */
struct store_deadlines {
	int64_t breach;        /* unacknowledged obligations whose due date passed */
	int64_t at_risk;       /* unacknowledged obligations due today */
	int64_t apps_overdue;  /* repair applications not accepted / decided in time */
	cs_date oldest_breach; /* the due date of the oldest breach; DATE_NONE when none */
};
int store_deadlines(store *st, cs_date today, struct store_deadlines *ret, char *err, size_t errsz);

/* Up to max ids of breached obligations (oldest due first), for credsyncctl. */
int store_breach_list(store *st, cs_date today, size_t max, struct store_late *ret, size_t *ret_n,
                      char *err, size_t errsz);

/* A penalty decided from `from` on whose event had no severity (a regime that classes by
 * severity took it as general): the authority should send a correction. */
struct store_nosev {
	char uscc[USCC_BUF];
	char decision_no[DECISION_NO_MAX + 1];
	char producer[PRODUCER_MAX + 1];
	cs_date decided_on;
};
/* Up to max of them, oldest decision first. Returns 0, or -1 with err. */
int store_no_severity(store *st, cs_date from, size_t max, struct store_nosev *ret, size_t *ret_n,
                      char *err, size_t errsz);

/* A repair application event (repair.*) or a repair decided by its channel
 * (penalty.repaired: closes the record's open applications), in the open batch
 * (store_batch_begin): the batch's steps go in its commit, in the order put, a statement each
 * or (more than 16) in one call; ev's strings are read then, so ev lives until the commit.
 * due: accept_due for repair.applied, decide_due for repair.accepted, DATE_NONE otherwise. */
int store_app_put(store *st, const struct event *ev, cs_date due, char *err, size_t errsz);

/* An obligation of a day (its received_at's Beijing date), for the daily summary and
 * credsyncctl reconcile. */
struct store_day_obl {
	char id[UUID_STRLEN];
	char site[16];
	char type[32];
	char reason[32]; /* "" when none */
	char kind[16];
	char uscc[USCC_BUF];
	char list[LIST_CODE_MAX + 1];
	char decision_no[DECISION_NO_MAX + 1];
	cs_date due;
	int64_t sent_at;  /* Unix seconds; 0 when not sent */
	int64_t acked_at; /* Unix seconds; 0 when not acknowledged */
};
/* The obligations received on day (Beijing), of site (NULL: both), in a malloc'd array
 * owned by the caller (*ret NULL when none), by site then time. */
int store_day_obligations(store *st, const char *site, cs_date day, struct store_day_obl **ret,
                          size_t *ret_n, char *err, size_t errsz);

/* Rows at most per call of a store_day_cb. */
#define STORE_DAY_PAGE 256
/* Given n (>= 1) obligations at a time; returns 0, or -1 with err to stop the scan. */
typedef int (*store_day_cb)(void *arg, const struct store_day_obl *obl, size_t n, char *err,
                            size_t errsz);
/* Streams the obligations of site (NULL: both) received on day (Beijing) that a daily
 * summary may list (takedowns for a repair or an expiry, mutual recognitions), in the order
 * of store_day_obligations, STORE_DAY_PAGE at a time, in one read-only transaction (a
 * cursor): memory does not grow with the day. Returns 0, or -1 with err (cb's, or the
 * store's). */
int store_day_summary_scan(store *st, const char *site, cs_date day, store_day_cb cb, void *arg,
                           char *err, size_t errsz);

/* The newest day summarised for site, or DATE_NONE when none was. */
int store_summary_last(store *st, const char *site, cs_date *ret, char *err, size_t errsz);

/* Whether any obligation was received on or before day: a daily summary of a day before the
 * first is not written. */
int store_any_until(store *st, cs_date day, bool *ret, char *err, size_t errsz);

/* Whether the summary of (site, day) was written. */
int store_summary_written(store *st, const char *site, cs_date day, bool *ret, char *err,
                          size_t errsz);
/* Writes the summary of (site, day) to the outbox (topic credit.out.<site>) in one
 * transaction, once: a summary written already (by any instance) is left as it is.
 * Returns 1 (written now), 0 (written before), or -1 with err. */
int store_summary_put(store *st, const char *site, cs_date day, const char *id, const char *payload,
                      char *err, size_t errsz);

/* The histogram of unacknowledged obligations by due date (migration 006): deltas appended
 * by the writers' transactions, folded into one row per due date by store_counts_fold
 * (returns the number of delta rows folded). store_counts reads the counts of the backlog
 * line (bl and dl as store_backlog and store_deadlines give them) from it: its cost is the
 * number of due dates and of unsent outbox rows, not the size of the backlog. */
int store_counts_fold(store *st, int64_t *ret_rows, char *err, size_t errsz);
int store_counts(store *st, cs_date today, struct store_backlog *bl, struct store_deadlines *dl,
                 char *err, size_t errsz);

#endif
