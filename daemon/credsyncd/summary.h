/* summary: the daily sharing of seed §5(2): shortly after midnight Beijing, one
 * daily_summary message per site on credit.out.<site> listing the previous day's repair
 * results and expiries (ids and counts), so that each system can check it missed nothing. */
#ifndef CREDSYNC_SUMMARY_H
#define CREDSYNC_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "store_time.h"

/* Seconds after midnight (Beijing) before the previous day is summarised: the batches of
 * the day's last seconds have committed by then. */
#define SUMMARY_AFTER_S 300

/* After an outage, the days missed since the last summary are summarised, each once, up to
 * this many days back from yesterday: older days are left to credsyncctl reconcile. */
#define SUMMARY_LOOKBACK_DAYS 31

/* The message of one site and day (JSON, schemas/json/daily_summary.schema.json; malloc'd,
 * NULL when out of memory), from that day's obligations of the site (store_day_obligations):
 * repairs are takedowns for "repaired" and mutual recognitions, expiries are takedowns for
 * "expired" and "light_expired". id: uuid5("daily_summary|<site>|<YYYY-MM-DD>"). */
char *summary_encode(const char *site, cs_date day, const struct store_day_obl *obl, size_t n,
                     char id[UUID_STRLEN]);

/* Writes the summaries of each site not written yet (by any instance), when now
 * (clock_now()) is SUMMARY_AFTER_S past midnight Beijing: the previous day's, and every day
 * since the site's last summary (at most SUMMARY_LOOKBACK_DAYS back), oldest first; a day
 * before the first obligation ever received is not summarised. The obligations are read a
 * page at a time (store_day_summary_scan). Logs each summary written. Returns 0, or -1 with
 * err. */
int summary_run(store *st, int64_t now, char *err, size_t errsz);

#endif
