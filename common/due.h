/* due: the pure deadline helpers: when an unacknowledged obligation due today becomes at
 * risk, and the due date of a repair application's next step by channel. */
#ifndef CREDSYNC_DUE_H
#define CREDSYNC_DUE_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "event.h"
#include "rules.h"

/* The hour (Beijing) from which an obligation due today is at risk. */
#define DUE_AT_RISK_HOUR 12

/* Whether now (Unix seconds) is at or after DUE_AT_RISK_HOUR in Beijing. */
bool due_afternoon(int64_t now);

/* The due date of a repair application event's next step: repair.applied -> accepted
 * within the channel's accept days; repair.accepted -> decided within its decide days
 * (from the event's applied_at / accepted_at); DATE_NONE for the others or when the
 * producer is not a disclosure system. *ret_unknown_year: a year the calendar lacks, or 0. */
cs_date due_application(const struct event *ev, const rules *r, const calendar *cal,
                        int *ret_unknown_year);

#endif
