/* domain: the real rules and calendar for unit tests. */
#include "domain.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static const char *
schemas(void)
{
	const char *dir = getenv("CREDSYNC_SCHEMAS");
	cr_assert(dir != NULL, "CREDSYNC_SCHEMAS is not set");
	return dir;
}

rules *
testlib_rules(void)
{
	char err[512];
	rules *r = rules_load(schemas(), NULL, err, sizeof(err));
	cr_assert(r != NULL, "rules: %s", err);
	return r;
}

calendar *
testlib_calendar(void)
{
	char err[512], path[1024];
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", schemas());
	calendar *cal = calendar_load(path, err, sizeof(err));
	cr_assert(cal != NULL, "calendar: %s", err);
	return cal;
}
