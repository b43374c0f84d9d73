/* test_clock: the test-only clock override is off unless set, and does what it says. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static void
reset(void)
{
	char err[128];
	cr_assert_eq(clock_test_override(0, NULL, err, sizeof(err)), 0);
}

TestSuite(clock, .init = reset, .fini = reset);

Test(clock, off_unless_set)
{
	char buf[64];
	int64_t before = (int64_t)time(NULL);
	int64_t now = clock_now();
	cr_expect(!clock_test_active());
	cr_expect(now >= before && now <= (int64_t)time(NULL));
	cr_expect_str_eq(clock_test_describe(buf, sizeof(buf)), "none");
}

Test(clock, overrides)
{
	static const struct {
		long long offset_s;
		const char *fixed_now;
		bool active;
		long long want; /* fixed: the instant; else the offset from the real time */
		bool fixed;
		const char *describe;
	} cases[] = {
	    {86400, NULL, true, 86400, false, "clock_offset_s=86400"},
	    {-3600, "", true, -3600, false, "clock_offset_s=-3600"},
	    {0, NULL, false, 0, false, "none"},
	    /* a fixed now wins over an offset */
	    {500, "2026-12-02T13:00:00+08:00", true, 1796187600, true,
	     "fixed_now=2026-12-02T13:00:00+08:00"},
	    {0, "2026-12-01T16:10:00Z", true, 1796141400, true, "fixed_now=2026-12-01T16:10:00Z"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[128], buf[64];
		cr_assert_eq(
		    clock_test_override(cases[i].offset_s, cases[i].fixed_now, err, sizeof(err)), 0,
		    "case %zu: %s", i, err);
		int64_t real = (int64_t)time(NULL);
		int64_t now = clock_now();
		cr_expect_eq(clock_test_active(), cases[i].active, "case %zu", i);
		if (cases[i].fixed)
			cr_expect_eq(now, cases[i].want, "case %zu: %lld", i, (long long)now);
		else
			cr_expect(now - real >= cases[i].want && now - real <= cases[i].want + 1,
			          "case %zu: off by %lld", i, (long long)(now - real));
		cr_expect_str_eq(clock_test_describe(buf, sizeof(buf)), cases[i].describe,
		                 "case %zu", i);
	}
}

Test(clock, bad_fixed_now_changes_nothing)
{
	char err[128];
	cr_assert_eq(clock_test_override(60, NULL, err, sizeof(err)), 0);
	cr_expect_eq(clock_test_override(0, "tomorrow", err, sizeof(err)), -1);
	cr_expect(strstr(err, "\"tomorrow\"") != NULL, "%s", err);
	char buf[64];
	cr_expect_str_eq(clock_test_describe(buf, sizeof(buf)), "clock_offset_s=60");
}
