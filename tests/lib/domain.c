/* domain: the real rules and calendar for unit tests. */
#include "domain.h"
#include "testlib.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

rules *
testlib_rules(void)
{
	char err[512];
	rules *r = rules_load(testlib_schemas_dir(), NULL, err, sizeof(err));
	cr_assert(r != NULL, "rules: %s", err);
	return r;
}

calendar *
testlib_calendar(void)
{
	char err[512], path[1024];
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", testlib_schemas_dir());
	calendar *cal = calendar_load(path, err, sizeof(err));
	cr_assert(cal != NULL, "calendar: %s", err);
	return cal;
}
