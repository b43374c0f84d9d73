/* pgutil: what every libpq user of credsync shares: error text, quiet notices, and a
 * connection string check whose reason never quotes the string (it may hold a password). */
#ifndef CREDSYNC_PGUTIL_H
#define CREDSYNC_PGUTIL_H

#include <stddef.h>

/* Writes "what: <first line of msg>" into err, without libpq's trailing period or newline.
 * msg NULL or empty reads "unknown error". */
void pgutil_set_err(char *err, size_t errsz, const char *what, const char *msg);

/* Notice processors (PQsetNoticeProcessor): one drops server notices (credsyncctl, whose
 * output is for a person), the other routes them through the daemon's logger. */
void pgutil_quiet_notices(void *arg, const char *message);
void pgutil_log_notices(void *arg, const char *message);

/* Checks that conninfo parses (a bare database name always does). Returns 0, or -1 with
 * "invalid connection string: ..." in err, the quoted parts of libpq's reason removed. */
int pgutil_check_conninfo(const char *conninfo, char *err, size_t errsz);

#endif
