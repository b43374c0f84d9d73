/* calendar: the national working-day schedule (holidays and adjusted working days) read
 * from schemas/data/calendar-cn.txt, and "within N working days" due dates. */
#ifndef CREDSYNC_CALENDAR_H
#define CREDSYNC_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "date.h"

/* Opaque; immutable once loaded, so it may be shared read-only. */
typedef struct calendar calendar;

enum cal_day {
	CAL_UNKNOWN = -1, /* the date's year is not in the file */
	CAL_OFF = 0,      /* weekend or holiday */
	CAL_WORK = 1,     /* working day (weekday, or an adjusted weekend working day) */
};

/* Loads the file at path (format documented at its top). Returns a calendar owned by the
 * caller (free with calendar_free), or NULL with "FILE:LINE: reason" in err. */
calendar *calendar_load(const char *path, char *err, size_t errsz);
/* Parses from memory; name is used in error messages. */
calendar *calendar_parse(const char *text, const char *name, char *err, size_t errsz);
void calendar_free(calendar *cal); /* NULL is fine */

int calendar_covers_year(const calendar *cal, int year);
/* First and last year covered (0 when empty). */
void calendar_range(const calendar *cal, int *ret_first, int *ret_last);

enum cal_day calendar_day(const calendar *cal, cs_date day);

/* The Nth working day after `from` (from itself not counted), n >= 1.
 * Returns 0 when every day walked lies in a covered year. Returns 1 when some year was not
 * covered: then *ret is an estimate counting Monday-Friday only for such years, and
 * *ret_unknown_year names the first uncovered year met (callers must say so loudly). */
int calendar_add_workdays(const calendar *cal, cs_date from, int n, cs_date *ret,
                          int *ret_unknown_year);

/* Due date of an act "within n working days of receipt" for an instant received
 * (Unix seconds): the receipt date is its Beijing date whatever the machine's TZ.
 * Same return convention as calendar_add_workdays. */
int calendar_due_date(const calendar *cal, int64_t received_unix, int n, cs_date *ret,
                      int *ret_unknown_year);

#endif
