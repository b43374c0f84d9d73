/* yuan: amounts of money as written in events, rule files and the CLI. Pure. */
#ifndef CREDSYNC_YUAN_H
#define CREDSYNC_YUAN_H

#include <stdint.h>

/* Parses a non-negative amount of yuan ("20000", "20000.5", "20000.00") into fen.
 * Returns 0, or -1 when s is not one (sign, more than 2 decimals, too large). */
int yuan_parse(const char *s, int64_t *ret_fen);

#endif
