/* due_cases: due dates of "within N working days of receipt", around every holiday range and
 * adjusted working day of 2024-2026 and the docs/RULES.md section 4 examples. Shared by the
 * calendar's unit test and the e2e test that credsyncctl due and the obligations in
 * PostgreSQL agree. Include once per test file. */
#ifndef CREDSYNC_DUE_CASES_H
#define CREDSYNC_DUE_CASES_H

#ifndef AT
#define AT(day) day "T10:00:00+08:00"
#endif

struct due_case {
	const char *received;
	int n;
	const char *want;
	const char *why;
};

/* A case around every holiday range and every adjusted working day of 2024-2026
 * (weekdays in the comments are those of the received day). */
static const struct due_case due_cases[] = {
    /* 2024: New Year's Day, off 01-01 (Mon) */
    {AT("2023-12-31"), 1, "2024-01-02", "Sun before New Year's Day; only 2024 walked"},
    {AT("2024-01-01"), 1, "2024-01-02", "received on the holiday"},
    /* 2024: Spring Festival, off 02-10..02-17, work 02-04 (Sun) and 02-18 (Sun) */
    {AT("2024-02-02"), 1, "2024-02-04", "Fri before the adjusted Sunday"},
    {AT("2024-02-03"), 1, "2024-02-04", "Sat before the adjusted Sunday"},
    {AT("2024-02-04"), 1, "2024-02-05", "received on the adjusted Sunday"},
    {AT("2024-02-09"), 1, "2024-02-18", "day before the holiday: next is the adjusted Sunday"},
    {AT("2024-02-09"), 2, "2024-02-19", "two working days over the holiday"},
    {AT("2024-02-10"), 1, "2024-02-18", "first holiday day"},
    {AT("2024-02-17"), 1, "2024-02-18", "last holiday day"},
    {AT("2024-02-18"), 1, "2024-02-19", "received on the adjusted Sunday"},
    /* 2024: Qingming, off 04-04..04-06, work 04-07 (Sun) */
    {AT("2024-04-03"), 1, "2024-04-07", "Wed before the holiday"},
    {AT("2024-04-06"), 1, "2024-04-07", "last holiday day"},
    {AT("2024-04-07"), 1, "2024-04-08", "received on the adjusted Sunday"},
    /* 2024: Labour Day, off 05-01..05-05, work 04-28 (Sun) and 05-11 (Sat) */
    {AT("2024-04-27"), 1, "2024-04-28", "Sat before the adjusted Sunday"},
    {AT("2024-04-28"), 1, "2024-04-29", "received on the adjusted Sunday"},
    {AT("2024-04-30"), 1, "2024-05-06", "day before the holiday"},
    {AT("2024-05-03"), 1, "2024-05-06", "inside the holiday"},
    {AT("2024-05-10"), 1, "2024-05-11", "Fri before the adjusted Saturday"},
    {AT("2024-05-11"), 1, "2024-05-13", "received on the adjusted Saturday"},
    /* 2024: Dragon Boat, off 06-10 (Mon) */
    {AT("2024-06-07"), 1, "2024-06-11", "Fri before the long weekend"},
    {AT("2024-06-10"), 1, "2024-06-11", "received on the holiday"},
    /* 2024: Mid-Autumn, off 09-15..09-17, work 09-14 (Sat) */
    {AT("2024-09-13"), 1, "2024-09-14", "Fri before the adjusted Saturday"},
    {AT("2024-09-14"), 1, "2024-09-18", "received on the adjusted Saturday"},
    {AT("2024-09-15"), 1, "2024-09-18", "first holiday day"},
    {AT("2024-09-17"), 1, "2024-09-18", "last holiday day"},
    {AT("2024-09-13"), 2, "2024-09-18", "two working days over the holiday"},
    {AT("2024-09-13"), 5, "2024-09-23", "five working days over the holiday and a weekend"},
    /* 2024: National Day, off 10-01..10-07, work 09-29 (Sun) and 10-12 (Sat) */
    {AT("2024-09-27"), 1, "2024-09-29", "Fri before the adjusted Sunday"},
    {AT("2024-09-29"), 1, "2024-09-30", "received on the adjusted Sunday"},
    {AT("2024-09-30"), 1, "2024-10-08", "day before the holiday"},
    {AT("2024-09-30"), 5, "2024-10-12", "five working days ending on the adjusted Saturday"},
    {AT("2024-09-27"), 10, "2024-10-16", "ten working days over the whole holiday"},
    {AT("2024-10-07"), 1, "2024-10-08", "last holiday day"},
    {AT("2024-10-11"), 1, "2024-10-12", "Fri before the adjusted Saturday"},
    {AT("2024-10-12"), 1, "2024-10-14", "received on the adjusted Saturday"},
    /* 2025: New Year's Day, off 01-01 (Wed) */
    {AT("2024-12-31"), 1, "2025-01-02", "over the year end, both years covered"},
    /* 2025: Spring Festival, off 01-28..02-04, work 01-26 (Sun) and 02-08 (Sat) */
    {AT("2025-01-24"), 1, "2025-01-26", "Fri before the adjusted Sunday"},
    {AT("2025-01-26"), 1, "2025-01-27", "received on the adjusted Sunday"},
    {AT("2025-01-27"), 1, "2025-02-05", "day before the holiday"},
    {AT("2025-02-04"), 1, "2025-02-05", "last holiday day"},
    {AT("2025-02-07"), 1, "2025-02-08", "Fri before the adjusted Saturday"},
    {AT("2025-02-08"), 1, "2025-02-10", "received on the adjusted Saturday"},
    /* 2025: Qingming, off 04-04..04-06 (Fri-Sun), no adjusted day */
    {AT("2025-04-03"), 1, "2025-04-07", "day before the holiday"},
    /* 2025: Labour Day, off 05-01..05-05, work 04-27 (Sun) */
    {AT("2025-04-26"), 1, "2025-04-27", "Sat before the adjusted Sunday"},
    {AT("2025-04-27"), 1, "2025-04-28", "received on the adjusted Sunday"},
    {AT("2025-04-30"), 1, "2025-05-06", "day before the holiday"},
    /* 2025: Dragon Boat, off 05-31..06-02 (Sat-Mon) */
    {AT("2025-05-30"), 1, "2025-06-03", "day before the holiday"},
    /* 2025: National Day and Mid-Autumn, off 10-01..10-08, work 09-28 (Sun), 10-11 (Sat) */
    {AT("2025-09-26"), 1, "2025-09-28", "Fri before the adjusted Sunday"},
    {AT("2025-09-28"), 1, "2025-09-29", "received on the adjusted Sunday"},
    {AT("2025-09-30"), 1, "2025-10-09", "day before the holiday"},
    {AT("2025-10-08"), 1, "2025-10-09", "last holiday day"},
    {AT("2025-10-10"), 1, "2025-10-11", "Fri before the adjusted Saturday"},
    {AT("2025-10-11"), 1, "2025-10-13", "received on the adjusted Saturday"},
    /* 2026: New Year, off 01-01..01-03, work 01-04 (Sun) */
    {AT("2025-12-31"), 1, "2026-01-04", "over the year end onto the adjusted Sunday"},
    {AT("2026-01-04"), 1, "2026-01-05", "received on the adjusted Sunday"},
    /* 2026: Spring Festival, off 02-15..02-23, work 02-14 (Sat) and 02-28 (Sat) */
    {AT("2026-02-13"), 1, "2026-02-14", "Fri before the adjusted Saturday"},
    {AT("2026-02-14"), 1, "2026-02-24", "received on the adjusted Saturday"},
    {AT("2026-02-23"), 1, "2026-02-24", "last holiday day"},
    {AT("2026-02-27"), 1, "2026-02-28", "Fri before the adjusted Saturday"},
    {AT("2026-02-28"), 1, "2026-03-02", "received on the adjusted Saturday"},
    /* 2026: Qingming, off 04-04..04-06 (Sat-Mon) */
    {AT("2026-04-03"), 1, "2026-04-07", "day before the holiday"},
    /* 2026: Labour Day, off 05-01..05-05, work 05-09 (Sat) */
    {AT("2026-04-30"), 1, "2026-05-06", "day before the holiday"},
    {AT("2026-05-08"), 1, "2026-05-09", "Fri before the adjusted Saturday"},
    {AT("2026-05-09"), 1, "2026-05-11", "received on the adjusted Saturday"},
    /* 2026: Dragon Boat, off 06-19..06-21 (Fri-Sun) */
    {AT("2026-06-18"), 1, "2026-06-22", "day before the holiday"},
    /* 2026: Mid-Autumn, off 09-25..09-27 (Fri-Sun) */
    {AT("2026-09-24"), 1, "2026-09-28", "day before the holiday"},
    /* 2026: National Day, off 10-01..10-07, work 09-20 (Sun) and 10-10 (Sat) */
    {AT("2026-09-18"), 1, "2026-09-20", "Fri before the adjusted Sunday"},
    {AT("2026-09-20"), 1, "2026-09-21", "received on the adjusted Sunday"},
    {AT("2026-09-30"), 1, "2026-10-08", "day before the holiday"},
    {AT("2026-10-09"), 1, "2026-10-10", "Fri before the adjusted Saturday"},
    {AT("2026-10-10"), 1, "2026-10-12", "received on the adjusted Saturday"},
    /* docs/RULES.md section 4 */
    {"2024-09-13T15:00:00+08:00", 1, "2024-09-14", "docs/RULES.md: Fri, due the adjusted Saturday"},
    {"2024-09-15T10:00:00+08:00", 1, "2024-09-18", "docs/RULES.md: Sun in Mid-Autumn"},
    /* The receipt day is the Beijing date, whatever offset the instant was written with. */
    {"2024-09-12T20:00:00Z", 1, "2024-09-14", "Thu in UTC, Fri 04:00 in Beijing"},
    {"2024-09-12T15:59:59Z", 1, "2024-09-13", "Thu 23:59:59 in Beijing"},
    {"2024-09-28T16:00:00Z", 1, "2024-09-30", "Sat in UTC, the adjusted Sunday in Beijing"},
    {"2024-09-28T15:59:59Z", 1, "2024-09-29", "Sat 23:59:59 in Beijing"},
    {"2024-10-11T12:00:00-04:00", 1, "2024-10-14", "Fri in New York, adjusted Sat in Beijing"},
    {"2024-02-08T23:30:00-09:00", 1, "2024-02-18", "Thu in Alaska, Fri before the holiday"},
};

#endif
