/* deadlines: logs each breach (an obligation not acknowledged by the end of its due date),
 * each at-risk obligation (due today, unacknowledged after 12:00 Beijing) and each late
 * repair application once, whichever instance sees it first; the due dates of repair
 * applications by channel. */
#ifndef CREDSYNC_DEADLINES_H
#define CREDSYNC_DEADLINES_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "event.h"
#include "rules.h"
#include "store_time.h"

/* The hour (Beijing) from which an obligation due today is at risk. */
#define DEADLINES_AT_RISK_HOUR 12

/* Logs what became late as of now (clock_now()): msg=breach, msg=at_risk (after
 * DEADLINES_AT_RISK_HOUR), msg=repair_overdue, each once (store_late_take). Returns 0, or -1
 * with err. */
int deadlines_run(store *st, int64_t now, char *err, size_t errsz);

/* Whether now is at or after DEADLINES_AT_RISK_HOUR in Beijing. */
bool deadlines_afternoon(int64_t now);

/* The due date of a repair application event's next step: repair.applied -> accepted
 * within the channel's accept days; repair.accepted -> decided within its decide days
 * (from the event's applied_at / accepted_at); DATE_NONE for the others or when the
 * producer is not a disclosure system. *ret_unknown_year: a year the calendar lacks, or 0. */
cs_date deadlines_app_due(const struct event *ev, const rules *r, const calendar *cal,
                          int *ret_unknown_year);

#endif
