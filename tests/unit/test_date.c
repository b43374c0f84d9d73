/* test_date: civil dates, Civil Code month arithmetic and RFC 3339 instants. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "testlib.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

Test(date, add_months_month_end)
{
	static const struct {
		const char *start;
		int months;
		const char *want;
	} cases[] = {
	    /* docs/RULES.md section 2 */
	    {"2024-05-06", 3, "2024-08-06"},
	    {"2024-11-30", 3, "2025-02-28"},
	    {"2024-02-29", 12, "2025-02-28"},
	    {"2024-05-06", 36, "2027-05-06"},
	    /* the last day of a month with no corresponding day */
	    {"2024-01-31", 1, "2024-02-29"},
	    {"2023-01-31", 1, "2023-02-28"},
	    {"2100-01-31", 1, "2100-02-28"}, /* not a leap year: divisible by 100 */
	    {"2000-01-31", 1, "2000-02-29"}, /* leap year: divisible by 400 */
	    {"2024-03-31", 1, "2024-04-30"},
	    {"2024-08-31", 1, "2024-09-30"},
	    {"2024-01-30", 1, "2024-02-29"},
	    {"2024-01-29", 1, "2024-02-29"},
	    {"2024-01-28", 1, "2024-02-28"},
	    /* over the year end */
	    {"2024-12-31", 1, "2025-01-31"},
	    {"2024-12-31", 2, "2025-02-28"},
	    {"2023-12-31", 2, "2024-02-29"},
	    {"2024-11-15", 3, "2025-02-15"},
	    {"2024-12-01", 12, "2025-12-01"},
	    {"2024-10-31", 4, "2025-02-28"},
	    /* a period that ends on a real corresponding day keeps it */
	    {"2025-02-28", 12, "2026-02-28"},
	    {"2024-02-28", 12, "2025-02-28"},
	    {"2023-02-28", 12, "2024-02-28"},
	    {"2024-06-30", 6, "2024-12-30"},
	    {"2024-05-06", 0, "2024-05-06"},
	    {"2024-02-29", 48, "2028-02-29"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char got[DATE_STRLEN];
		date_format(date_add_months(testlib_date(cases[i].start), cases[i].months), got);
		cr_expect_str_eq(got, cases[i].want, "%s + %d months: got %s, want %s",
		                 cases[i].start, cases[i].months, got, cases[i].want);
	}
}

Test(date, parse_rejects)
{
	static const char *const bad[] = {
	    "2024-02-30",
	    "2023-02-29",
	    "2024-13-01",
	    "2024-00-10",
	    "2024-04-31",
	    "2024-01-00",
	    "2024-5-6",
	    "2024-05-6",
	    "24-05-06",
	    "2024-05-06x",
	    "2024-05-06 ",
	    " 2024-05-06",
	    "2024/05/06",
	    "2024-05-06T00:00:00Z",
	    "",
	    "0000-01-01",
	    "2024-0a-01",
	    "+024-05-06",
	    "2024--5-06",
	    "2100-02-29",
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		cs_date d;
		cr_expect_eq(date_parse(bad[i], &d), -1, "\"%s\" was accepted", bad[i]);
	}
}

Test(date, parse_accepts_and_round_trips)
{
	static const char *const good[] = {
	    "1970-01-01", "1969-12-31", "2000-02-29", "2024-02-29", "2024-12-31",
	    "2025-01-01", "0001-01-01", "9999-12-31", "1900-03-01",
	};
	for (size_t i = 0; i < N_ELEMS(good); i++) {
		cs_date d;
		char buf[DATE_STRLEN];
		cr_assert_eq(date_parse(good[i], &d), 0, "\"%s\" was rejected", good[i]);
		cr_expect_str_eq(date_format(d, buf), good[i]);
	}
	/* Every day over several years round-trips through ymd and text, one day apart. */
	cs_date prev = testlib_date("1999-12-31");
	for (cs_date d = prev + 1; d <= testlib_date("2030-12-31"); d++) {
		int y, m, dd;
		cs_date back, parsed;
		char buf[DATE_STRLEN];
		date_to_ymd(d, &y, &m, &dd);
		cr_assert(date_from_ymd(y, m, dd, &back));
		cr_assert_eq(back, d);
		cr_assert_eq(date_parse(date_format(d, buf), &parsed), 0, "%s", buf);
		cr_assert_eq(parsed, d);
		cr_assert_eq(date_year(d), y);
		cr_assert_eq(d - prev, 1);
		prev = d;
	}
	cr_expect_eq(testlib_date("1970-01-01"), 0);
	cr_expect_eq(testlib_date("1970-01-02"), 1);
	cr_expect_eq(testlib_date("1969-12-31"), -1);
}

Test(date, from_ymd_rejects)
{
	static const int bad[][3] = {
	    {2023, 2, 29}, {2024, 2, 30}, {2024, 4, 31}, {2024, 13, 1}, {2024, 0, 1},
	    {2024, 1, 0},  {0, 1, 1},     {10000, 1, 1}, {2024, 1, 32}, {-1, 1, 1},
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		cs_date d;
		cr_expect_not(date_from_ymd(bad[i][0], bad[i][1], bad[i][2], &d),
		              "%04d-%02d-%02d was accepted", bad[i][0], bad[i][1], bad[i][2]);
	}
}

Test(date, weekday)
{
	static const struct {
		const char *date;
		int weekday;
	} cases[] = {
	    {"1970-01-01", 4}, {"1969-12-31", 3}, {"1969-12-28", 7}, {"1969-12-29", 1},
	    {"2024-09-13", 5}, {"2024-09-14", 6}, {"2024-09-15", 7}, {"2024-09-16", 1},
	    {"2024-02-29", 4}, {"2000-01-01", 6}, {"2027-01-01", 5}, {"0001-01-01", 1},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		cr_expect_eq(date_weekday(testlib_date(cases[i].date)), cases[i].weekday,
		             "%s: got %d, want %d", cases[i].date,
		             date_weekday(testlib_date(cases[i].date)), cases[i].weekday);
	/* The weekday advances by one every day, before and after the epoch. */
	for (cs_date d = testlib_date("1960-01-01"); d < testlib_date("1980-01-01"); d++)
		cr_assert_eq(date_weekday(d + 1), date_weekday(d) % 7 + 1);
}

Test(date, rfc3339_valid)
{
	static const struct {
		const char *s;
		const char *utc; /* the same instant, formatted at offset 0 */
		int offset_min;
	} cases[] = {
	    {"2024-05-06T10:15:00+08:00", "2024-05-06T02:15:00Z", 480},
	    {"2024-05-06T10:15:00Z", "2024-05-06T10:15:00Z", 0},
	    {"2024-05-06t10:15:00z", "2024-05-06T10:15:00Z", 0},
	    {"2024-05-06T10:15:00.123+08:00", "2024-05-06T02:15:00Z", 480},
	    {"2024-05-06T10:15:00.999999999Z", "2024-05-06T10:15:00Z", 0},
	    {"2024-09-12T20:00:00-04:00", "2024-09-13T00:00:00Z", -240},
	    {"2024-01-01T00:30:00+05:45", "2023-12-31T18:45:00Z", 345},
	    {"2024-12-31T23:59:59-09:30", "2025-01-01T09:29:59Z", -570},
	    {"2024-02-29T00:00:00+00:00", "2024-02-29T00:00:00Z", 0},
	    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z", 0},
	    {"2024-03-01T07:59:59+08:00", "2024-02-29T23:59:59Z", 480},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		int64_t t;
		int off;
		char buf[TIME_STRLEN];
		cr_assert_eq(time_parse_rfc3339(cases[i].s, &t, &off), 0, "\"%s\" was rejected",
		             cases[i].s);
		cr_expect_eq(off, cases[i].offset_min, "%s: offset %d", cases[i].s, off);
		cr_expect_str_eq(time_format_rfc3339(t, 0, buf), cases[i].utc, "%s", cases[i].s);
	}
	int64_t t;
	int off;
	cr_assert_eq(time_parse_rfc3339("1970-01-01T00:00:00Z", &t, &off), 0);
	cr_expect_eq(t, 0);
	cr_assert_eq(time_parse_rfc3339("1970-01-01T08:00:01+08:00", &t, &off), 0);
	cr_expect_eq(t, 1);
	cr_assert_eq(time_parse_rfc3339("1969-12-31T23:59:59Z", &t, &off), 0);
	cr_expect_eq(t, -1);
}

Test(date, rfc3339_invalid)
{
	static const char *const bad[] = {
	    "2024-05-06T10:15:00",        /* missing offset */
	    "2024-05-06 10:15:00+08:00",  /* space instead of T */
	    "2024-05-06T24:00:00+08:00",  /* hour 24 */
	    "2024-05-06T10:60:00+08:00",  /* minute 60 */
	    "2024-05-06T10:15:60+08:00",  /* second 60 */
	    "2024-02-30T10:15:00+08:00",  /* no such date */
	    "2023-02-29T10:15:00Z",       /* not a leap year */
	    "2024-05-06T10:15:00.+08:00", /* empty fraction */
	    "2024-05-06T10:15:00+0800",   /* offset without colon */
	    "2024-05-06T10:15:00+08",     /* offset without minutes */
	    "2024-05-06T10:15:00+24:00",  /* offset hour out of range */
	    "2024-05-06T10:15:00+08:60",  /* offset minute out of range */
	    "2024-05-06T10:15:00Zjunk",   /* trailing junk after Z */
	    "2024-05-06T10:15:00+08:00 ", /* trailing space */
	    "2024-05-06T10:15Z",          /* no seconds */
	    "2024-05-06T1:15:00Z",        /* one-digit hour */
	    "2024-05-06",                 /* a date only */
	    "2024-5-06T10:15:00Z",        /* one-digit month */
	    "",
	    "2024-05-06T10:15:00+08:00:00", /* seconds in the offset */
	    "2024-05-06T10:15:00.12a+08:00",
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		int64_t t = 42;
		int off = 42;
		cr_expect_eq(time_parse_rfc3339(bad[i], &t, &off), -1, "\"%s\" was accepted",
		             bad[i]);
	}
}

Test(date, rfc3339_format_round_trip)
{
	static const int offsets[] = {0, 480, -240, 345, -570, 60, -60};
	static const int64_t instants[] = {0, -1, 1726210800, 1704038400, 951782400, 4102444800};
	for (size_t i = 0; i < N_ELEMS(instants); i++)
		for (size_t j = 0; j < N_ELEMS(offsets); j++) {
			char buf[TIME_STRLEN];
			int64_t t;
			int off;
			time_format_rfc3339(instants[i], offsets[j], buf);
			cr_assert_eq(time_parse_rfc3339(buf, &t, &off), 0, "\"%s\" was rejected",
			             buf);
			cr_expect_eq(t, instants[i], "%s", buf);
			cr_expect_eq(off, offsets[j], "%s", buf);
		}
	char buf[TIME_STRLEN];
	cr_expect_str_eq(time_format_rfc3339(1726210800, 480, buf), "2024-09-13T15:00:00+08:00");
	cr_expect_str_eq(time_format_rfc3339(1726210800, -240, buf), "2024-09-13T03:00:00-04:00");
	cr_expect_str_eq(time_format_rfc3339(-1, 0, buf), "1969-12-31T23:59:59Z");
}

/* Found by fuzz_out: an instant past the years 1-9999 (a producer's Kafka timestamp can be
 * any int64 of milliseconds) overflowed at INT64_MAX and was written with its year cut to
 * four digits; now it is the format's first or last second, and every date has a year. */
Test(date, format_at_and_past_the_ends)
{
	char buf[TIME_STRLEN], d[DATE_STRLEN];
	cr_expect_str_eq(time_format_rfc3339(INT64_MAX, 480, buf), "9999-12-31T23:59:59+08:00");
	cr_expect_str_eq(time_format_rfc3339(INT64_MAX / 1000, 0, buf), "9999-12-31T23:59:59Z");
	cr_expect_str_eq(time_format_rfc3339(253402300799LL, 0, buf), "9999-12-31T23:59:59Z");
	cr_expect_str_eq(time_format_rfc3339(253402300800LL, 0, buf), "9999-12-31T23:59:59Z");
	cr_expect_str_eq(time_format_rfc3339(INT64_MIN, -240, buf), "0001-01-01T00:00:00-04:00");
	cr_expect_str_eq(time_format_rfc3339(-62135596800LL, 0, buf), "0001-01-01T00:00:00Z");
	cr_expect_str_eq(time_format_rfc3339(-62135596800LL + 3600, 60, buf),
	                 "0001-01-01T02:00:00+01:00");
	/* dates at the ends of int32 are converted without overflow (UBSan), four digits each */
	const cs_date ends[] = {INT32_MAX, INT32_MAX - 719468, INT32_MIN + 1, -719468};
	for (size_t i = 0; i < N_ELEMS(ends); i++) {
		int y, m, dd;
		date_to_ymd(ends[i], &y, &m, &dd);
		cr_expect(m >= 1 && m <= 12 && dd >= 1 && dd <= 31, "%d: %d-%d-%d", ends[i], y, m,
		          dd);
		cr_expect_eq(strlen(date_format(ends[i], d)), DATE_STRLEN - 1, "%d", ends[i]);
	}
	cr_expect_str_eq(date_format(-719468, d), "0000-03-01");
}

Test(date, date_of_instant_and_beijing)
{
	static const struct {
		const char *instant;
		const char *beijing;
		const char *utc;
	} cases[] = {
	    {"2024-09-12T20:00:00Z", "2024-09-13", "2024-09-12"},
	    {"2024-09-12T15:59:59Z", "2024-09-12", "2024-09-12"},
	    {"2024-09-12T16:00:00Z", "2024-09-13", "2024-09-12"},
	    {"2024-09-13T00:00:00+08:00", "2024-09-13", "2024-09-12"},
	    {"2024-09-12T23:59:59+08:00", "2024-09-12", "2024-09-12"},
	    {"2024-09-12T12:00:00-04:00", "2024-09-13", "2024-09-12"},
	    {"1970-01-01T00:00:00Z", "1970-01-01", "1970-01-01"},
	    {"1969-12-31T15:59:59Z", "1969-12-31", "1969-12-31"},
	    {"1969-12-31T16:00:00Z", "1970-01-01", "1969-12-31"},
	    {"2024-12-31T16:00:00Z", "2025-01-01", "2024-12-31"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		int64_t t;
		int off;
		char b[DATE_STRLEN], u[DATE_STRLEN];
		cr_assert_eq(time_parse_rfc3339(cases[i].instant, &t, &off), 0);
		cr_expect_str_eq(date_format(date_beijing(t), b), cases[i].beijing, "%s",
		                 cases[i].instant);
		cr_expect_str_eq(date_format(date_of_instant(t, 0), u), cases[i].utc, "%s",
		                 cases[i].instant);
		cr_expect_eq(date_beijing(t), date_of_instant(t, BEIJING_OFFSET_MIN));
	}
}

/* Nothing here may read the machine's time zone. */
Test(date, independent_of_tz)
{
	static const char *const zones[] = {"America/New_York", "Pacific/Kiritimati", "UTC",
	                                    "Asia/Shanghai"};
	for (size_t i = 0; i < N_ELEMS(zones); i++) {
		cr_assert_eq(setenv("TZ", zones[i], 1), 0);
		tzset();
		int64_t t;
		int off;
		char buf[TIME_STRLEN];
		cr_assert_eq(time_parse_rfc3339("2024-09-12T20:00:00Z", &t, &off), 0);
		cr_expect_eq(t, 1726171200, "TZ=%s", zones[i]);
		cr_expect_str_eq(date_format(date_beijing(t), buf), "2024-09-13", "TZ=%s",
		                 zones[i]);
		cr_expect_str_eq(time_format_rfc3339(t, 480, buf), "2024-09-13T04:00:00+08:00",
		                 "TZ=%s", zones[i]);
	}
}
