/* date: civil dates, Civil Code month arithmetic and RFC 3339 instants (pure, no I/O). */
#ifndef CREDSYNC_DATE_H
#define CREDSYNC_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A civil date as days since 1970-01-01 (proleptic Gregorian); negative before. */
typedef int32_t cs_date;

/* Sentinel for "no date" in structures that may lack one. */
#define DATE_NONE INT32_MIN

/* Beijing time (Asia/Shanghai): UTC+8, no daylight saving since 1991. */
#define BEIJING_OFFSET_MIN (8 * 60)

#define DATE_STRLEN 11 /* "YYYY-MM-DD" + NUL */
#define TIME_STRLEN 32 /* "YYYY-MM-DDTHH:MM:SS+08:00" + NUL, with room */

/* Whether y-m-d exists (1 <= y <= 9999); on success *ret holds the date. */
bool date_from_ymd(int y, int m, int d, cs_date *ret);
void date_to_ymd(cs_date date, int *ret_y, int *ret_m, int *ret_d);
int date_year(cs_date date);

/* Strict "YYYY-MM-DD" of a date that exists. Returns 0, or -1 when s is not one. */
int date_parse(const char *s, cs_date *ret);
/* Writes "YYYY-MM-DD" into buf (at least DATE_STRLEN bytes); returns buf. */
char *date_format(cs_date date, char *buf);

/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int date_weekday(cs_date date);

/* Last day of a period of `months` months starting on `start` (Civil Code arts. 201-202):
 * the start day is not counted; the period ends on the corresponding day of the final
 * month, or on that month's last day when it has no such day. */
cs_date date_add_months(cs_date start, int months);

/* Strict RFC 3339 date-time with a numeric offset or Z ("2024-05-06T10:15:00+08:00",
 * optional fraction, which is truncated). Returns 0 with the instant in Unix seconds and the
 * offset in minutes, or -1 when s is not one (or names a date or time that does not exist). */
int time_parse_rfc3339(const char *s, int64_t *ret_unix, int *ret_offset_min);
/* Formats an instant as RFC 3339 at the given offset; buf of at least TIME_STRLEN bytes. */
char *time_format_rfc3339(int64_t unix_s, int offset_min, char *buf);

/* The civil date of an instant at a UTC offset (minutes). */
cs_date date_of_instant(int64_t unix_s, int offset_min);
/* The civil date of an instant in Beijing, whatever the machine's TZ. */
cs_date date_beijing(int64_t unix_s);

#endif
