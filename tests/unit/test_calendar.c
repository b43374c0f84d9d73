/* test_calendar: the national working-day schedule and "within N working days" due dates,
 * against the real schemas/data/calendar-cn.txt. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "date.h"
#include "testlib.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* An instant in the middle of a Beijing working day. */
#define AT(day) day "T10:00:00+08:00"

static calendar *
load_real(void)
{
	const char *schemas = getenv("CREDSYNC_SCHEMAS");
	char path[4096], err[512];

	if (schemas == NULL || *schemas == '\0')
		schemas = CREDSYNC_SRC_SCHEMAS;
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", schemas);
	calendar *cal = calendar_load(path, err, sizeof(err));
	cr_assert_not_null(cal, "could not load the calendar: %s", err);
	return cal;
}

#include "due_cases.h" /* due_cases[]: shared with the e2e test of due dates */

static void
check_due_cases(const calendar *cal, const char *tz)
{
	for (size_t i = 0; i < N_ELEMS(due_cases); i++) {
		const struct due_case *c = &due_cases[i];
		cs_date due = 0;
		int unknown = -1;
		char got[DATE_STRLEN];
		int rc = calendar_due_date(cal, testlib_instant(c->received), c->n, &due, &unknown);
		date_format(due, got);
		cr_expect_eq(rc, 0, "%s +%d (%s): not covered (year %d) [TZ=%s]", c->received, c->n,
		             c->why, unknown, tz);
		cr_expect_eq(unknown, 0, "%s: unknown year %d [TZ=%s]", c->received, unknown, tz);
		cr_expect_str_eq(got, c->want, "%s +%d (%s): got %s, want %s [TZ=%s]", c->received,
		                 c->n, c->why, got, c->want, tz);
	}
}

Test(calendar, due_dates_around_every_holiday)
{
	calendar *cal = load_real();
	check_due_cases(cal, getenv("TZ") ? getenv("TZ") : "(unset)");
	calendar_free(cal);
}

/* The machine's time zone must not matter: nothing may call localtime or mktime. */
Test(calendar, due_dates_independent_of_tz)
{
	static const char *const zones[] = {"America/New_York", "Pacific/Kiritimati",
	                                    "Pacific/Pago_Pago", "UTC", "Asia/Shanghai"};
	calendar *cal = load_real();
	for (size_t i = 0; i < N_ELEMS(zones); i++) {
		cr_assert_eq(setenv("TZ", zones[i], 1), 0);
		tzset();
		check_due_cases(cal, zones[i]);
	}
	calendar_free(cal);
}

Test(calendar, day_kinds)
{
	static const struct {
		const char *day;
		enum cal_day kind;
	} cases[] = {
	    {"2024-01-01", CAL_OFF},     {"2024-01-02", CAL_WORK},    {"2024-02-04", CAL_WORK},
	    {"2024-02-09", CAL_WORK},    {"2024-02-10", CAL_OFF},     {"2024-02-12", CAL_OFF},
	    {"2024-02-17", CAL_OFF},     {"2024-02-18", CAL_WORK},    {"2024-02-24", CAL_OFF},
	    {"2024-04-04", CAL_OFF},     {"2024-04-07", CAL_WORK},    {"2024-04-28", CAL_WORK},
	    {"2024-05-01", CAL_OFF},     {"2024-05-05", CAL_OFF},     {"2024-05-06", CAL_WORK},
	    {"2024-05-11", CAL_WORK},    {"2024-05-12", CAL_OFF},     {"2024-06-10", CAL_OFF},
	    {"2024-09-14", CAL_WORK},    {"2024-09-15", CAL_OFF},     {"2024-09-17", CAL_OFF},
	    {"2024-09-29", CAL_WORK},    {"2024-10-01", CAL_OFF},     {"2024-10-07", CAL_OFF},
	    {"2024-10-12", CAL_WORK},    {"2024-12-31", CAL_WORK},    {"2025-01-01", CAL_OFF},
	    {"2025-01-26", CAL_WORK},    {"2025-01-28", CAL_OFF},     {"2025-02-04", CAL_OFF},
	    {"2025-02-08", CAL_WORK},    {"2025-04-04", CAL_OFF},     {"2025-04-27", CAL_WORK},
	    {"2025-05-05", CAL_OFF},     {"2025-06-02", CAL_OFF},     {"2025-09-28", CAL_WORK},
	    {"2025-10-08", CAL_OFF},     {"2025-10-11", CAL_WORK},    {"2026-01-02", CAL_OFF},
	    {"2026-01-04", CAL_WORK},    {"2026-02-14", CAL_WORK},    {"2026-02-23", CAL_OFF},
	    {"2026-02-28", CAL_WORK},    {"2026-04-06", CAL_OFF},     {"2026-05-09", CAL_WORK},
	    {"2026-06-19", CAL_OFF},     {"2026-09-20", CAL_WORK},    {"2026-09-25", CAL_OFF},
	    {"2026-10-07", CAL_OFF},     {"2026-10-10", CAL_WORK},    {"2026-12-31", CAL_WORK},
	    {"2023-12-29", CAL_UNKNOWN}, {"2027-01-04", CAL_UNKNOWN}, {"2027-01-01", CAL_UNKNOWN},
	};
	calendar *cal = load_real();
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		cr_expect_eq(calendar_day(cal, testlib_date(cases[i].day)), cases[i].kind,
		             "%s: got %d, want %d", cases[i].day,
		             calendar_day(cal, testlib_date(cases[i].day)), cases[i].kind);
	calendar_free(cal);
}

/* The statutory holidays (全年节假日办法) give 11 paid days a year before 2025 and 13 from 2025;
 * adjusted working days only move days around, so a year has (days - weekend days - statutory
 * days) working days. A wrong line in the file or a parsing slip shows up here. */
Test(calendar, working_days_per_year)
{
	static const struct {
		int year;
		int statutory;
	} cases[] = {{2024, 11}, {2025, 13}, {2026, 13}};
	calendar *cal = load_real();
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		cs_date d, end;
		int days = 0, weekend = 0, count = 0;
		cr_assert(date_from_ymd(cases[i].year, 1, 1, &d));
		cr_assert(date_from_ymd(cases[i].year, 12, 31, &end));
		for (; d <= end; d++) {
			days++;
			weekend += date_weekday(d) >= 6;
			count += calendar_day(cal, d) == CAL_WORK;
		}
		int want = days - weekend - cases[i].statutory;
		cr_expect_eq(count, want, "%d: %d working days, want %d", cases[i].year, count,
		             want);
	}
	calendar_free(cal);
}

/* For every receipt day covered: the due date is a working day after it, and with n = 1
 * every day in between is off; with n = 2 it is the first working day after the n = 1 one. */
Test(calendar, due_date_properties)
{
	calendar *cal = load_real();
	for (cs_date from = testlib_date("2024-01-01"); from <= testlib_date("2026-12-20");
	     from++) {
		cs_date due1, due2, due3;
		int unknown;
		cr_assert_eq(calendar_add_workdays(cal, from, 1, &due1, &unknown), 0);
		cr_assert_gt(due1, from);
		cr_assert_eq(calendar_day(cal, due1), CAL_WORK);
		for (cs_date d = from + 1; d < due1; d++)
			cr_assert_eq(calendar_day(cal, d), CAL_OFF);
		cr_assert_eq(calendar_add_workdays(cal, from, 2, &due2, &unknown), 0);
		cr_assert_eq(calendar_add_workdays(cal, due1, 1, &due3, &unknown), 0);
		cr_assert_eq(due2, due3);
	}
	calendar_free(cal);
}

Test(calendar, unknown_year_is_estimated_and_reported)
{
	static const struct {
		const char *received;
		int n;
		const char *want;
		int rc;
		int unknown_year;
	} cases[] = {
	    {AT("2026-12-30"), 1, "2026-12-31", 0, 0},
	    {AT("2026-12-31"), 1, "2027-01-01", 1, 2027}, /* Fri, Monday-Friday estimate */
	    {AT("2026-12-31"), 2, "2027-01-04", 1, 2027},
	    {AT("2027-03-05"), 1, "2027-03-08", 1, 2027},
	    {AT("2027-03-08"), 3, "2027-03-11", 1, 2027},
	    {"2026-12-31T16:00:00Z", 1, "2027-01-04", 1, 2027}, /* 2027-01-01 in Beijing */
	    {"2026-12-31T15:59:59Z", 1, "2027-01-01", 1, 2027},
	    /* 2023 walked (a weekend), then 2024's holiday: the answer is right but unsure */
	    {AT("2023-12-29"), 1, "2024-01-02", 1, 2023},
	    {AT("2022-06-01"), 1, "2022-06-02", 1, 2022},
	};
	calendar *cal = load_real();
	int first, last;
	calendar_range(cal, &first, &last);
	cr_expect_eq(first, 2024);
	cr_expect_eq(last, 2026);
	cr_expect(calendar_covers_year(cal, 2024));
	cr_expect(calendar_covers_year(cal, 2025));
	cr_expect(calendar_covers_year(cal, 2026));
	cr_expect_not(calendar_covers_year(cal, 2023));
	cr_expect_not(calendar_covers_year(cal, 2027));
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		cs_date due = 0;
		int unknown = -1;
		char got[DATE_STRLEN];
		int rc = calendar_due_date(cal, testlib_instant(cases[i].received), cases[i].n,
		                           &due, &unknown);
		cr_expect_eq(rc, cases[i].rc, "%s +%d: rc %d", cases[i].received, cases[i].n, rc);
		cr_expect_eq(unknown, cases[i].unknown_year, "%s +%d: unknown year %d",
		             cases[i].received, cases[i].n, unknown);
		cr_expect_str_eq(date_format(due, got), cases[i].want, "%s +%d: got %s, want %s",
		                 cases[i].received, cases[i].n, got, cases[i].want);
	}
	/* ret_unknown_year may be NULL */
	cs_date due;
	cr_expect_eq(calendar_add_workdays(cal, testlib_date("2026-12-31"), 1, &due, NULL), 1);
	calendar_free(cal);
}

/* A year missing between two covered ones is unknown too, and the first one met is named. */
Test(calendar, gap_year_is_unknown)
{
	char err[256] = "";
	calendar *cal =
	    calendar_parse("year 2024\noff 2024-12-31\nyear 2026\n", "gap", err, sizeof(err));
	cr_assert_not_null(cal, "%s", err);
	int first, last;
	calendar_range(cal, &first, &last);
	cr_expect_eq(first, 2024);
	cr_expect_eq(last, 2026);
	cr_expect_not(calendar_covers_year(cal, 2025));
	cr_expect_eq(calendar_day(cal, testlib_date("2025-01-01")), CAL_UNKNOWN);
	cr_expect_eq(calendar_day(cal, testlib_date("2024-12-31")), CAL_OFF);

	cs_date due;
	int unknown;
	cr_expect_eq(calendar_add_workdays(cal, testlib_date("2024-12-30"), 1, &due, &unknown), 1);
	cr_expect_eq(due, testlib_date("2025-01-01"));
	cr_expect_eq(unknown, 2025);
	/* walks through 2025 into 2026: still 2025 reported */
	cr_expect_eq(calendar_add_workdays(cal, testlib_date("2024-12-30"), 270, &due, &unknown),
	             1);
	cr_expect_eq(unknown, 2025);
	cr_expect_eq(date_year(due), 2026);
	calendar_free(cal);
}

Test(calendar, parse_accepts)
{
	static const struct {
		const char *text;
		const char *day;
		enum cal_day kind;
	} cases[] = {
	    {"", "2024-05-06", CAL_UNKNOWN},
	    {"# only a comment\n\n", "2024-05-06", CAL_UNKNOWN},
	    {"year 2024", "2024-05-06", CAL_WORK},
	    {"year 2024\n", "2024-05-04", CAL_OFF},
	    {"year 2024\r\noff 2024-05-06\r\n", "2024-05-06", CAL_OFF},
	    {"\t year\t2024  # comment\n  off\t2024-05-06   #x\n", "2024-05-06", CAL_OFF},
	    {"year 2024\noff 2024-05-06..2024-05-06\n", "2024-05-06", CAL_OFF},
	    {"year 2024\noff 2024-05-06..2024-05-06\n", "2024-05-07", CAL_WORK},
	    {"year 2024\noff 2024-12-30..2024-12-31\n", "2024-12-31", CAL_OFF},
	    {"year 2024\nwork 2024-05-04\nwork 2024-05-04\n", "2024-05-04", CAL_WORK},
	    {"year 2024\noff 2024-05-01..2024-05-05\noff 2024-05-03\n", "2024-05-03", CAL_OFF},
	    {"year 2025\nyear 2024\nwork 2024-05-04\n", "2024-05-04", CAL_WORK},
	    {"year 2024\noff 2024-01-01..2024-12-31\n", "2024-07-01", CAL_OFF},
	    {"year 2024\nwork 2024-01-06\n", "2024-01-06", CAL_WORK},
	    {"year 2024\nwork 2024-01-07\n", "2024-01-07", CAL_WORK},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char err[256] = "";
		calendar *cal = calendar_parse(cases[i].text, "t", err, sizeof(err));
		cr_assert_not_null(cal, "case %zu rejected: %s", i, err);
		cr_expect_eq(calendar_day(cal, testlib_date(cases[i].day)), cases[i].kind,
		             "case %zu: %s", i, cases[i].day);
		calendar_free(cal);
	}

	char err[256];
	calendar *cal = calendar_parse("", "empty", err, sizeof(err));
	cr_assert_not_null(cal);
	int first = -1, last = -1;
	calendar_range(cal, &first, &last);
	cr_expect_eq(first, 0);
	cr_expect_eq(last, 0);
	cs_date due;
	int unknown;
	cr_expect_eq(calendar_add_workdays(cal, testlib_date("2024-09-13"), 1, &due, &unknown), 1);
	cr_expect_eq(due, testlib_date("2024-09-16"));
	cr_expect_eq(unknown, 2024);
	calendar_free(cal);
	calendar_free(NULL);
}

Test(calendar, parse_errors)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"year 2024\nholiday 2024-01-01\n", "cal.txt:2: unknown directive \"holiday\""},
	    {"YEAR 2024\n", "cal.txt:1: unknown directive \"YEAR\""},
	    {"year 2024\noff 2024-02-30\n", "cal.txt:2: invalid date \"2024-02-30\""},
	    {"year 2024\nwork 2024-2-4\n", "cal.txt:2: invalid date \"2024-2-4\""},
	    {"year 2024\noff 2024-01-01..\n", "cal.txt:2: invalid date \"\""},
	    {"year 2024\noff 2025-01-01\n", "cal.txt:2: date \"2025-01-01\" is outside year 2024"},
	    {"year 2024\noff 2024-12-30..2025-01-02\n",
	     "cal.txt:2: date \"2025-01-02\" is outside year 2024"},
	    {"year 2025\noff 2024-12-30..2025-01-02\n",
	     "cal.txt:2: date \"2024-12-30\" is outside year 2025"},
	    {"year 2024\nwork 2025-01-04\n", "cal.txt:2: date \"2025-01-04\" is outside year 2024"},
	    {"year 2024\nwork 2024-05-06\n",
	     "cal.txt:2: working day \"2024-05-06\" is a Monday, not a Saturday or Sunday"},
	    {"year 2024\nwork 2024-09-13\n",
	     "cal.txt:2: working day \"2024-09-13\" is a Friday, not a Saturday or Sunday"},
	    {"year 2024\noff 2024-02-17..2024-02-10\n",
	     "cal.txt:2: range end \"2024-02-10\" is before its start \"2024-02-17\""},
	    {"year 2024\noff 2024-01-01\nyear 2025\n# c\nyear 2024\n",
	     "cal.txt:5: year 2024 appears twice"},
	    {"off 2024-01-01\n", "cal.txt:1: \"off\" before any \"year\" line"},
	    {"# header\nwork 2024-01-06\n", "cal.txt:2: \"work\" before any \"year\" line"},
	    {"year 24\n", "cal.txt:1: invalid year \"24\""},
	    {"year 2024x\n", "cal.txt:1: invalid year \"2024x\""},
	    {"year 0000\n", "cal.txt:1: invalid year \"0000\""},
	    {"year -202\n", "cal.txt:1: invalid year \"-202\""},
	    {"year\n", "cal.txt:1: \"year\" needs a year"},
	    {"year 2024\noff\n", "cal.txt:2: \"off\" needs a date"},
	    {"year 2024\nwork   # nothing\n", "cal.txt:2: \"work\" needs a date"},
	    {"year 2024\noff 2024-01-01 2024-01-02\n",
	     "cal.txt:2: unexpected \"2024-01-02\" after \"2024-01-01\""},
	    {"year 2024 2025\n", "cal.txt:1: unexpected \"2025\" after \"2024\""},
	    {"year 2024\nwork 2024-02-03..2024-02-04\n",
	     "cal.txt:2: \"work\" takes one date, not a range"},
	    {"year 2024\noff 2024-02-04\nwork 2024-02-04\n",
	     "cal.txt:3: date \"2024-02-04\" is both a holiday and a working day"},
	    {"year 2024\nwork 2024-02-04\noff 2024-02-01..2024-02-05\n",
	     "cal.txt:3: date \"2024-02-04\" is both a holiday and a working day"},
	    {"year 2024\r\noff 2024-13-01\r\n", "cal.txt:2: invalid date \"2024-13-01\""},
	    {"year 2024\n\n# comment\n  \t\noff 2024-01-01 # new year\nwork 2024-01-01\n",
	     "cal.txt:6: working day \"2024-01-01\" is a Monday, not a Saturday or Sunday"},
	    {"year 2024\noff 2024-01-01\rX\n", "cal.txt:2: stray carriage return"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char err[256] = "";
		calendar *cal = calendar_parse(cases[i].text, "cal.txt", err, sizeof(err));
		cr_expect_null(cal, "case %zu accepted", i);
		calendar_free(cal);
		cr_expect_str_eq(err, cases[i].err, "case %zu: got \"%s\", want \"%s\"", i, err,
		                 cases[i].err);
	}

	char line[700], err[256];
	memset(line, ' ', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "year 2024", 9);
	cr_expect_null(calendar_parse(line, "long", err, sizeof(err)));
	cr_expect_str_eq(err, "long:1: line is longer than 511 bytes");
}

Test(calendar, load_errors)
{
	char err[512];
	cr_expect_null(calendar_load("/nonexistent/calendar-cn.txt", err, sizeof(err)));
	cr_expect_str_eq(err, "could not open file \"/nonexistent/calendar-cn.txt\": No such file "
	                      "or directory");

	/* A parse error names the file's path and line. */
	char path[] = "/tmp/test_calendar_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	static const char text[] = "year 2024\noff 2024-01-01\nwork 2024-01-03\n";
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	cr_assert_eq(close(fd), 0);
	calendar *cal = calendar_load(path, err, sizeof(err));
	unlink(path);
	cr_expect_null(cal);
	char want[512];
	snprintf(want, sizeof(want),
	         "%s:3: working day \"2024-01-03\" is a Wednesday, not a Saturday or Sunday", path);
	cr_expect_str_eq(err, want);
}
