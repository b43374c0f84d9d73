/* testlib: small helpers that tests of every kind share (Criterion asserts on failure). */
#ifndef CREDSYNC_TESTLIB_H
#define CREDSYNC_TESTLIB_H

#include <stdint.h>

#include "date.h"

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and durations, never for dates. */
int64_t testlib_now_ms(void);

/* The civil date y-m-d, which must exist. */
cs_date testlib_ymd(int y, int m, int d);

/* The date "YYYY-MM-DD" s, which must parse. */
cs_date testlib_date(const char *s);

/* The Unix time of the RFC 3339 instant s, which must parse. */
int64_t testlib_instant(const char *s);

#endif
