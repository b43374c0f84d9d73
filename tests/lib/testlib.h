/* testlib: small helpers that tests of every kind share (Criterion asserts on failure). */
#ifndef CREDSYNC_TESTLIB_H
#define CREDSYNC_TESTLIB_H

#include <stddef.h>
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

/* The folders ctest names ($CREDSYNC_FIXTURES, $CREDSYNC_SCHEMAS); by hand, without them,
 * the source tree's. */
const char *testlib_fixtures_dir(void);
const char *testlib_schemas_dir(void);

/* The whole of a file, any bytes, NUL-terminated (malloc'd; free() it), its length in
 * *ret_len (NULL ok); NULL when path does not exist, an assertion failure on any other error. */
char *testlib_read_file(const char *path, size_t *ret_len);

/* testlib_read_file of a file that must exist. */
char *testlib_must_read(const char *path);

/* The names in dir that do not start with '.' and end with suffix ("" for any), sorted;
 * *ret_n of them. Free with testlib_free_names. */
char **testlib_list_dir(const char *dir, const char *suffix, size_t *ret_n);
void testlib_free_names(char **names, size_t n);

#endif
