/* testlib: small helpers that tests of every kind share. */
#include "testlib.h"

#include <criterion/criterion.h>
#include <time.h>

int64_t
testlib_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cs_date
testlib_ymd(int y, int m, int d)
{
	cs_date ret;

	cr_assert(date_from_ymd(y, m, d, &ret), "no such date: %04d-%02d-%02d", y, m, d);
	return ret;
}

cs_date
testlib_date(const char *s)
{
	cs_date d;

	cr_assert_eq(date_parse(s, &d), 0, "test date \"%s\" does not parse", s);
	return d;
}

int64_t
testlib_instant(const char *s)
{
	int64_t t;
	int off;

	cr_assert_eq(time_parse_rfc3339(s, &t, &off), 0, "test instant \"%s\" does not parse", s);
	return t;
}
