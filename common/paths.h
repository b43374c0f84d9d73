/* paths: where the data directory (schemas/: rules, calendar, lists, SQL) is. */
#ifndef CREDSYNC_PATHS_H
#define CREDSYNC_PATHS_H

/* The data directory: $CREDSYNC_SCHEMAS when set, else the installed one when it exists,
 * else the source tree's schemas/ (running from a build directory). Static storage. */
const char *paths_datadir(void);

#endif
