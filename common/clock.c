/* clock: credsync's "now", real unless the test-only override is set. */
#include "clock.h"

#include <stdio.h>
#include <time.h>

#include "date.h"

static struct {
	bool active;
	bool fixed;
	int64_t offset_s;
	int64_t fixed_now;
	int fixed_offset_min;
} ovr;

int
clock_test_override(int64_t offset_s, const char *fixed_now, char *err, size_t errsz)
{
	if (fixed_now != NULL && fixed_now[0] != '\0') {
		int64_t t;
		int off;
		if (time_parse_rfc3339(fixed_now, &t, &off) != 0) {
			snprintf(err, errsz, "test.fixed_now \"%s\" is not an RFC 3339 date-time",
			         fixed_now);
			return -1;
		}
		ovr.active = ovr.fixed = true;
		ovr.fixed_now = t;
		ovr.fixed_offset_min = off;
		ovr.offset_s = 0;
		return 0;
	}
	ovr.fixed = false;
	ovr.offset_s = offset_s;
	ovr.active = offset_s != 0;
	return 0;
}

bool
clock_test_active(void)
{
	return ovr.active;
}

char *
clock_test_describe(char *buf, size_t bufsz)
{
	char t[TIME_STRLEN];
	if (!ovr.active)
		snprintf(buf, bufsz, "none");
	else if (ovr.fixed)
		snprintf(buf, bufsz, "fixed_now=%s",
		         time_format_rfc3339(ovr.fixed_now, ovr.fixed_offset_min, t));
	else
		snprintf(buf, bufsz, "clock_offset_s=%lld", (long long)ovr.offset_s);
	return buf;
}

int64_t
clock_now(void)
{
	if (ovr.fixed)
		return ovr.fixed_now;
	return (int64_t)time(NULL) + ovr.offset_s;
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec
clock_mono_after(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
