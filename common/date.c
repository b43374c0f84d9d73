/* date: civil dates, Civil Code month arithmetic and RFC 3339 instants. */
#include "date.h"

#include <string.h>

/* Howard Hinnant's days_from_civil / civil_from_days, valid over the whole int32 range used. */
static int32_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const int yoe = y - era * 400;
	const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
date_to_ymd(cs_date date, int *ret_y, int *ret_m, int *ret_d)
{
	/* In 64 bits: near INT32_MAX the shift to 0000-03-01 would overflow. */
	const int64_t z = (int64_t)date + 719468;
	const int32_t era = (int32_t)((z >= 0 ? z : z - 146096) / 146097);
	const int32_t doe = (int32_t)(z - (int64_t)era * 146097);
	const int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int32_t mp = (5 * doy + 2) / 153;
	const int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	const int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = (int)(yoe + era * 400 + (m <= 2));
	*ret_m = m;
	*ret_d = d;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

bool
date_from_ymd(int y, int m, int d, cs_date *ret)
{
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*ret = days_from_civil(y, m, d);
	return true;
}

int
date_year(cs_date date)
{
	int y, m, d;
	date_to_ymd(date, &y, &m, &d);
	return y;
}

/* Reads exactly n decimal digits; -1 if any is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
parse_ymd(const char *s, int *y, int *m, int *d)
{
	if ((*y = digits(s, 4)) < 0 || s[4] != '-' || (*m = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (*d = digits(s + 8, 2)) < 0)
		return -1;
	return 0;
}

int
date_parse(const char *s, cs_date *ret)
{
	int y, m, d;
	if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d) < 0)
		return -1;
	return date_from_ymd(y, m, d, ret) ? 0 : -1;
}

/* v (below 10^width) in exactly width decimal digits at o; returns the end. snprintf was
 * 2-3% of credsyncd's CPU in the profile run, every out message carrying dates and times. */
static char *
put_digits(char *o, unsigned v, int width)
{
	for (int k = width - 1; k >= 0; k--) {
		o[k] = (char)('0' + v % 10);
		v /= 10;
	}
	return o + width;
}

/* "YYYY-MM-DD" at o, each field below its width's limit; returns the end (no NUL). */
static char *
put_ymd(char *o, unsigned y, unsigned m, unsigned d)
{
	o = put_digits(o, y, 4);
	*o++ = '-';
	o = put_digits(o, m, 2);
	*o++ = '-';
	return put_digits(o, d, 2);
}

char *
date_format(cs_date date, char *buf)
{
	int y, m, d;
	date_to_ymd(date, &y, &m, &d);
	/* Fields reduced to their widths so the output provably fits DATE_STRLEN. */
	put_ymd(buf, (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u)[0] = '\0';
	return buf;
}

int
date_weekday(cs_date date)
{
	/* 1970-01-01 was a Thursday (4). */
	int w = (int)((date % 7 + 7 + 3) % 7);
	return w + 1;
}

cs_date
date_add_months(cs_date start, int months)
{
	int y, m, d;
	date_to_ymd(start, &y, &m, &d);
	int idx = y * 12 + (m - 1) + months;
	int ny = idx / 12, nm = idx % 12 + 1;
	int dim = days_in_month(ny, nm);
	return days_from_civil(ny, nm, d > dim ? dim : d);
}

int
time_parse_rfc3339(const char *s, int64_t *ret_unix, int *ret_offset_min)
{
	int y, mo, d, h, mi, sec, off;
	size_t len = strlen(s);

	if (len < 20 || parse_ymd(s, &y, &mo, &d) < 0 || (s[10] != 'T' && s[10] != 't') ||
	    (h = digits(s + 11, 2)) < 0 || s[13] != ':' || (mi = digits(s + 14, 2)) < 0 ||
	    s[16] != ':' || (sec = digits(s + 17, 2)) < 0)
		return -1;
	cs_date date;
	if (!date_from_ymd(y, mo, d, &date) || h > 23 || mi > 59 || sec > 59)
		return -1;

	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh = digits(p + 1, 2), om = digits(p + 4, 2);
		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
	} else {
		return -1;
	}
	*ret_unix = (int64_t)date * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
	*ret_offset_min = off;
	return 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

cs_date
date_of_instant(int64_t unix_s, int offset_min)
{
	return (cs_date)floor_div(unix_s + (int64_t)offset_min * 60, 86400);
}

cs_date
date_beijing(int64_t unix_s)
{
	return date_of_instant(unix_s, BEIJING_OFFSET_MIN);
}

char *
time_format_rfc3339(int64_t unix_s, int offset_min, char *buf)
{
	/* An instant whose local year is outside 1-9999 (an absurd Kafka timestamp) is written
	 * as the first or last second the format holds: rather than a year cut to four digits,
	 * or an overflow at the ends of int64. */
	const int64_t shift = (int64_t)offset_min * 60;
	const int64_t first = -62135596800LL - shift, last = 253402300799LL - shift;
	if (unix_s < first)
		unix_s = first;
	else if (unix_s > last)
		unix_s = last;
	int64_t local = unix_s + shift;
	cs_date day = (cs_date)floor_div(local, 86400);
	int64_t tod = local - (int64_t)day * 86400;
	int y, m, d;
	date_to_ymd(day, &y, &m, &d);
	/* Each field reduced to its width, so the output provably fits TIME_STRLEN; offsets
	 * from time_parse_rfc3339 are within +-23:59, and years within 1-9999. */
	unsigned aoff = (unsigned)(offset_min < 0 ? -offset_min : offset_min);
	unsigned yy = (unsigned)y % 10000u, mm = (unsigned)m % 100u, dd = (unsigned)d % 100u;
	unsigned hh = (unsigned)(tod / 3600) % 100u, mi = (unsigned)(tod / 60 % 60),
	         ss = (unsigned)(tod % 60);
	char *o = put_ymd(buf, yy, mm, dd);
	*o++ = 'T';
	o = put_digits(o, hh, 2);
	*o++ = ':';
	o = put_digits(o, mi, 2);
	*o++ = ':';
	o = put_digits(o, ss, 2);
	if (offset_min == 0) {
		*o++ = 'Z';
	} else {
		*o++ = offset_min < 0 ? '-' : '+';
		o = put_digits(o, aoff / 60 % 100u, 2);
		*o++ = ':';
		o = put_digits(o, aoff % 60, 2);
	}
	*o = '\0';
	return buf;
}
