/* paths: where the data directory (schemas/: rules, calendar, lists, SQL) is. */
#ifndef CREDSYNC_PATHS_H
#define CREDSYNC_PATHS_H

/* The data directory: $CREDSYNC_SCHEMAS when set, else the installed one (CREDSYNC_DATADIR,
 * fixed when configuring). Only the build tree's own programs (in its bin directory) fall
 * back to the source tree's schemas/ when the installed one is missing; an installed program
 * names its installed path, present or not. Static storage. */
const char *paths_datadir(void);

#endif
