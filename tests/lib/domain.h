/* domain: the real rules and calendar of $CREDSYNC_SCHEMAS for unit tests (Criterion asserts
 * on failure). */
#ifndef CREDSYNC_TEST_DOMAIN_H
#define CREDSYNC_TEST_DOMAIN_H

#include "calendar.h"
#include "rules.h"

/* Caller frees with rules_free / calendar_free. */
rules *testlib_rules(void);
calendar *testlib_calendar(void);

#endif
