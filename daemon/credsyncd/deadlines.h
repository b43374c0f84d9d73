/* deadlines: logs each breach (an obligation not acknowledged by the end of its due date),
 * each at-risk obligation (due today, unacknowledged after 12:00 Beijing) and each late
 * repair application once, whichever instance sees it first. */
#ifndef CREDSYNC_DEADLINES_H
#define CREDSYNC_DEADLINES_H

#include <stddef.h>
#include <stdint.h>

#include "store_time.h"

/* Logs what became late as of now (clock_now()): msg=breach, msg=at_risk (after
 * DUE_AT_RISK_HOUR), msg=repair_overdue, each once (store_late_take). Returns 0, or -1
 * with err. */
int deadlines_run(store *st, int64_t now, char *err, size_t errsz);

#endif
