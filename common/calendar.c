/* calendar: the national working-day schedule and "within N working days" due dates. */
#include "calendar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file is a few hundred bytes; anything this large is not a calendar. */
#define CAL_FILE_MAX (1024 * 1024)

/* What a line of the file said about one day of a year block. */
enum mark {
	MARK_NONE = 0,
	MARK_OFF = 1,
	MARK_WORK = 2,
};

struct cal_year {
	int year;
	cs_date jan1;
	int ndays;
	unsigned char mark[366]; /* enum mark, by day of the year */
};

struct calendar {
	struct cal_year *years;
	size_t nyears;
	int first, last;
};

static const char *const weekday_names[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                             "Friday", "Saturday", "Sunday"};

void
calendar_free(calendar *cal)
{
	if (cal == NULL)
		return;
	free(cal->years);
	free(cal);
}

static const struct cal_year *
find_year(const calendar *cal, int year)
{
	for (size_t i = 0; i < cal->nyears; i++)
		if (cal->years[i].year == year)
			return &cal->years[i];
	return NULL;
}

int
calendar_covers_year(const calendar *cal, int year)
{
	return find_year(cal, year) != NULL;
}

void
calendar_range(const calendar *cal, int *ret_first, int *ret_last)
{
	*ret_first = cal->first;
	*ret_last = cal->last;
}

enum cal_day
calendar_day(const calendar *cal, cs_date day)
{
	const struct cal_year *y = find_year(cal, date_year(day));
	if (y == NULL)
		return CAL_UNKNOWN;
	switch ((enum mark)y->mark[day - y->jan1]) {
	case MARK_OFF:
		return CAL_OFF;
	case MARK_WORK:
		return CAL_WORK;
	case MARK_NONE:
		break;
	}
	return date_weekday(day) <= 5 ? CAL_WORK : CAL_OFF;
}

int
calendar_add_workdays(const calendar *cal, cs_date from, int n, cs_date *ret, int *ret_unknown_year)
{
	int unknown_year = 0;
	cs_date day = from;

	/* Each step either counts a day or skips one; a year is never all days off for long,
	 * and an uncovered year counts every Monday-Friday, so the walk ends. */
	for (int counted = 0; counted < n;) {
		day++;
		enum cal_day kind = calendar_day(cal, day);
		if (kind == CAL_UNKNOWN) {
			if (unknown_year == 0)
				unknown_year = date_year(day);
			kind = date_weekday(day) <= 5 ? CAL_WORK : CAL_OFF;
		}
		if (kind == CAL_WORK)
			counted++;
	}
	*ret = day;
	if (ret_unknown_year != NULL)
		*ret_unknown_year = unknown_year;
	return unknown_year != 0;
}

int
calendar_due_date(const calendar *cal, int64_t received_unix, int n, cs_date *ret,
                  int *ret_unknown_year)
{
	return calendar_add_workdays(cal, date_beijing(received_unix), n, ret, ret_unknown_year);
}

/* Parsing. */

struct parser {
	const char *name;
	int line;
	char *err;
	size_t errsz;
	calendar *cal;
	struct cal_year *cur; /* the current `year` block, NULL before the first */
	size_t cap;
};

static int parse_error(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
parse_error(struct parser *p, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsz, "%s:%d: %s", p->name, p->line, reason);
	return -1;
}

/* Splits the next whitespace-separated token off *s; NULL at the end of the line. */
static char *
next_token(char **s)
{
	char *p = *s;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*s = p;
		return NULL;
	}
	char *tok = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return tok;
}

static int
parse_year(struct parser *p, const char *arg)
{
	char *end;
	long year;

	errno = 0;
	year = strtol(arg, &end, 10);
	if (strlen(arg) != 4 || *end != '\0' || errno != 0 || year < 1 || arg[0] == '+' ||
	    arg[0] == '-')
		return parse_error(p, "invalid year \"%s\"", arg);
	for (size_t i = 0; i < p->cal->nyears; i++)
		if (p->cal->years[i].year == year)
			return parse_error(p, "year %ld appears twice", year);

	if (p->cal->nyears == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct cal_year *years = realloc(p->cal->years, cap * sizeof(*years));
		if (years == NULL)
			return parse_error(p, "out of memory");
		p->cal->years = years;
		p->cap = cap;
	}
	struct cal_year *y = &p->cal->years[p->cal->nyears++];
	memset(y, 0, sizeof(*y));
	y->year = (int)year;
	cs_date dec31;
	if (!date_from_ymd(y->year, 1, 1, &y->jan1) || !date_from_ymd(y->year, 12, 31, &dec31))
		return parse_error(p, "invalid year \"%s\"", arg);
	y->ndays = dec31 - y->jan1 + 1;
	if (p->cal->nyears == 1 || y->year < p->cal->first)
		p->cal->first = y->year;
	if (p->cal->nyears == 1 || y->year > p->cal->last)
		p->cal->last = y->year;
	p->cur = y;
	return 0;
}

/* Parses one date of an `off`/`work` line, which must lie in the current year block. */
static int
parse_day(struct parser *p, const char *s, cs_date *ret)
{
	if (date_parse(s, ret) < 0)
		return parse_error(p, "invalid date \"%s\"", s);
	if (date_year(*ret) != p->cur->year)
		return parse_error(p, "date \"%s\" is outside year %d", s, p->cur->year);
	return 0;
}

static int
mark_day(struct parser *p, cs_date day, enum mark mark)
{
	unsigned char *m = &p->cur->mark[day - p->cur->jan1];
	if (*m != MARK_NONE && *m != mark) {
		char buf[DATE_STRLEN];
		return parse_error(p, "date \"%s\" is both a holiday and a working day",
		                   date_format(day, buf));
	}
	*m = (unsigned char)mark;
	return 0;
}

static int
parse_off(struct parser *p, char *arg)
{
	cs_date from, to;
	char *dots = strstr(arg, "..");

	if (dots != NULL) {
		*dots = '\0';
		if (parse_day(p, arg, &from) < 0 || parse_day(p, dots + 2, &to) < 0)
			return -1;
		if (to < from)
			return parse_error(p, "range end \"%s\" is before its start \"%s\"",
			                   dots + 2, arg);
	} else {
		if (parse_day(p, arg, &from) < 0)
			return -1;
		to = from;
	}
	for (cs_date d = from; d <= to; d++)
		if (mark_day(p, d, MARK_OFF) < 0)
			return -1;
	return 0;
}

static int
parse_work(struct parser *p, const char *arg)
{
	cs_date day;

	if (strstr(arg, "..") != NULL)
		return parse_error(p, "\"work\" takes one date, not a range");
	if (parse_day(p, arg, &day) < 0)
		return -1;
	int wd = date_weekday(day);
	if (wd <= 5)
		return parse_error(p, "working day \"%s\" is a %s, not a Saturday or Sunday", arg,
		                   weekday_names[wd - 1]);
	return mark_day(p, day, MARK_WORK);
}

/* One line, comment and line end already removed. */
static int
parse_line(struct parser *p, char *line)
{
	char *directive = next_token(&line);
	if (directive == NULL)
		return 0;
	bool is_year = strcmp(directive, "year") == 0;
	bool is_off = strcmp(directive, "off") == 0;
	bool is_work = strcmp(directive, "work") == 0;
	if (!is_year && !is_off && !is_work)
		return parse_error(p, "unknown directive \"%s\"", directive);

	char *arg = next_token(&line);
	if (arg == NULL)
		return parse_error(p, "\"%s\" needs %s", directive, is_year ? "a year" : "a date");
	char *extra = next_token(&line);
	if (extra != NULL)
		return parse_error(p, "unexpected \"%s\" after \"%s\"", extra, arg);

	if (is_year)
		return parse_year(p, arg);
	if (p->cur == NULL)
		return parse_error(p, "\"%s\" before any \"year\" line", directive);
	return is_off ? parse_off(p, arg) : parse_work(p, arg);
}

calendar *
calendar_parse(const char *text, const char *name, char *err, size_t errsz)
{
	struct parser p = {.name = name, .err = err, .errsz = errsz};
	char line[512];

	p.cal = calloc(1, sizeof(*p.cal));
	if (p.cal == NULL) {
		snprintf(err, errsz, "%s: out of memory", name);
		return NULL;
	}
	for (const char *s = text; *s != '\0';) {
		p.line++;
		size_t len = strcspn(s, "\n");
		const char *next = s[len] == '\n' ? s + len + 1 : s + len;
		size_t keep = strcspn(s, "#\n");
		if (keep > 0 && s[keep - 1] == '\r')
			keep--;
		if (keep >= sizeof(line)) {
			parse_error(&p, "line is longer than %zu bytes", sizeof(line) - 1);
			goto fail;
		}
		memcpy(line, s, keep);
		line[keep] = '\0';
		if (strchr(line, '\r') != NULL) {
			parse_error(&p, "stray carriage return");
			goto fail;
		}
		if (parse_line(&p, line) < 0)
			goto fail;
		s = next;
	}
	return p.cal;

fail:
	calendar_free(p.cal);
	return NULL;
}

calendar *
calendar_load(const char *path, char *err, size_t errsz)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	calendar *cal = NULL;

	if (fp == NULL) {
		snprintf(err, errsz, "could not open file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(CAL_FILE_MAX + 1);
	if (text == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	size_t len = fread(text, 1, CAL_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		snprintf(err, errsz, "could not read file \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (len > CAL_FILE_MAX) {
		snprintf(err, errsz, "%s: file is larger than %d bytes", path, CAL_FILE_MAX);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errsz, "%s: file contains a NUL byte", path);
		goto out;
	}
	text[len] = '\0';
	cal = calendar_parse(text, path, err, errsz);
out:
	free(text);
	fclose(fp);
	return cal;
}
