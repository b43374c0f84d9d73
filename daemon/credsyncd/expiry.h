/* expiry: the automatic takedown of shown records whose disclosure period ended (the maximum
 * period, or the 3 months of a light penalty), on both sites, exactly once. */
#ifndef CREDSYNC_EXPIRY_H
#define CREDSYNC_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "rules.h"
#include "store.h"

/* Keys read and taken down per transaction. */
#define EXPIRY_GROUP 16

/* Takes down every shown record whose period ended before the Beijing date of now (from
 * clock_now()), a group of keys per transaction: store_batch_begin locks their subjects and
 * reads them again, so a record that another instance (or an event) ended meanwhile is left
 * as it is, and the takedowns' ids are deterministic (a replay inserts nothing). Logs each
 * takedown (msg=expired) and an unknown calendar year. *ret_n: the number taken down.
 * Returns 0, or -1 with err (the open group rolled back; call again later). */
int expiry_run(store *st, const rules *r, const calendar *cal, int64_t now, size_t *ret_n,
               char *err, size_t errsz);

#endif
