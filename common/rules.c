/* rules: rule sets (schemas/rules/NAME.rules), lists.tsv and authorities.tsv loaded into an
 * immutable value, and the disclosure periods, channels and deadlines they give. */
#include "rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN    63
#define MAX_MONTHS      1200 /* 100 years: anything longer is a typo */
#define MAX_WORKDAYS    365
#define MAX_YUAN_DIGITS 15 /* keeps fen well inside int64 */

static const char *const category_names[CAT_COUNT] = {
    "warning",
    "criticism",
    "fine",
    "confiscation",
    "license_suspension",
    "qualification_downgrade",
    "license_revocation",
    "business_restriction",
    "production_suspension",
    "closure",
    "practice_restriction",
    "detention",
    "other",
};
static const char *const field_names[FIELD_COUNT] = {
    "other", "food", "drug", "special_equipment", "work_safety", "fire",
};
static const char *const severity_names[] = {"none", "minor", "general", "serious"};
#define SEV_COUNT 4
static const char *const site_names[SITE_COUNT] = {"creditchina", "gsxt"};

const char *
category_name(enum category c)
{
	for (int i = 0; i < CAT_COUNT; i++)
		if ((unsigned)c == 1u << i)
			return category_names[i];
	return NULL;
}

static int
name_index(const char *const *names, int n, const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int
category_parse(const char *s)
{
	int i = name_index(category_names, CAT_COUNT, s);
	return i < 0 ? -1 : (int)(1u << i);
}

const char *
field_name(enum field f)
{
	return (unsigned)f < FIELD_COUNT ? field_names[f] : NULL;
}

int
field_parse(const char *s)
{
	return name_index(field_names, FIELD_COUNT, s);
}

const char *
severity_name(enum severity s)
{
	return (unsigned)s < SEV_COUNT ? severity_names[s] : NULL;
}

int
severity_parse(const char *s)
{
	return name_index(severity_names, SEV_COUNT, s);
}

const char *
site_name(enum site s)
{
	return (unsigned)s < SITE_COUNT ? site_names[s] : NULL;
}

int
site_parse(const char *s)
{
	return name_index(site_names, SITE_COUNT, s);
}

/* The periods of one severity class: hidden (not disclosed) or min..max months. */
struct sev_rule {
	bool hidden;
	int min_months, max_months; /* 0: not set */
};

struct channel_rule {
	char *producer;
	enum site site;
};

struct ruleset {
	char *name;
	cs_date from, to; /* to = DATE_NONE: open-ended */
	int min_months, max_months;
	int field_min[FIELD_COUNT];
	int cat_min[CAT_COUNT], cat_max[CAT_COUNT];
	unsigned not_disclosable;
	unsigned light_cats; /* 0: no light rule */
	int light_months;
	int64_t light_fine_below_fen; /* -1: not set */
	enum site channel_default;
	struct channel_rule *channels;
	size_t nchannels;
	int obligation;
	int accept[SITE_COUNT], decide[SITE_COUNT];
	char *repair_url[SITE_COUNT];
	bool by_severity;
	struct sev_rule sev[SEV_COUNT];
	char *notice_basis;
};

struct list_entry {
	char *code;
	enum list_kind kind;
	char *owners; /* ",a,b," so that ",code," is a substring test */
	char *name_zh;
};

struct authority {
	char *code;
	bool system;
	char *name_zh;
};

struct rules {
	struct ruleset *sets;
	size_t nsets;
	size_t *enabled; /* indices into sets, in the order listed */
	size_t nenabled;
	struct list_entry *lists;
	size_t nlists;
	struct authority *auths;
	size_t nauths;
};

/* Where parsing is, for "FILE:LINE: reason". */
struct src {
	const char *path;
	int line;
	char *err;
	size_t errsz;
};

__attribute__((format(printf, 2, 3))) static int
fail(const struct src *src, const char *fmt, ...)
{
	va_list ap;
	int n = src->line > 0 ? snprintf(src->err, src->errsz, "%s:%d: ", src->path, src->line)
	                      : snprintf(src->err, src->errsz, "%s: ", src->path);
	size_t off = n > 0 && (size_t)n < src->errsz ? (size_t)n : 0;
	va_start(ap, fmt);
	vsnprintf(src->err + off, src->errsz - off, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static bool
valid_code(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      (c == '.' && i > 0)))
			return false;
	}
	return true;
}

/* "3m", "1y", "36m" -> months in 1..MAX_MONTHS. */
static int
parse_months(const char *s, int *ret)
{
	char *end;
	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	if (*end == 'y' && n <= MAX_MONTHS / 12)
		n *= 12;
	else if (*end != 'm')
		return -1;
	if (n > MAX_MONTHS)
		return -1;
	*ret = (int)n;
	return 0;
}

static int
parse_workdays(const char *s, int *ret)
{
	char *end;
	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > MAX_WORKDAYS)
		return -1;
	*ret = (int)n;
	return 0;
}

int
rules_parse_yuan(const char *s, int64_t *ret_fen)
{
	int64_t yuan = 0, fen = 0;
	size_t digits = 0;
	const char *p = s;

	if (s == NULL)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > MAX_YUAN_DIGITS)
			return -1;
		yuan = yuan * 10 + (*p - '0');
	}
	if (digits == 0)
		return -1;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		fen = (*p++ - '0') * 10;
		if (*p >= '0' && *p <= '9')
			fen += *p++ - '0';
	}
	if (*p != '\0')
		return -1;
	*ret_fen = yuan * 100 + fen;
	return 0;
}

/* A comma-separated list of category names into a mask; an empty list is 0. */
static int
parse_categories(const struct src *src, const char *key, const char *value, unsigned *ret)
{
	char buf[512];
	unsigned mask = 0;

	if (strlen(value) >= sizeof(buf))
		return fail(src, "value of \"%s\" is too long", key);
	memcpy(buf, value, strlen(value) + 1);
	if (*trim(buf) == '\0') {
		*ret = 0;
		return 0;
	}
	for (char *item = buf, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		char *name = trim(item);
		int bit = category_parse(name);
		if (bit < 0)
			return fail(src, "unknown category \"%s\" in \"%s\"", name, key);
		mask |= (unsigned)bit;
	}
	*ret = mask;
	return 0;
}

static int
bit_index(unsigned bit)
{
	for (int i = 0; i < CAT_COUNT; i++)
		if (bit == 1u << i)
			return i;
	return -1;
}

static char *
dupstr(const struct src *src, const char *s)
{
	char *copy = strdup(s);
	if (copy == NULL)
		fail(src, "out of memory");
	return copy;
}

/* Parses "<prefix>.<name>.<suffix>" with prefix given: copies name into buf, returns the
 * suffix (after the second dot), "" when there is none, or NULL when key is not prefixed. */
static const char *
split_key(const char *key, const char *prefix, char *buf, size_t bufsz)
{
	size_t plen = strlen(prefix);
	if (strncmp(key, prefix, plen) != 0 || key[plen] != '.')
		return NULL;
	const char *name = key + plen + 1;
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	if (n == 0 || n >= bufsz)
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return dot ? dot + 1 : "";
}

static int
set_months(const struct src *src, const char *key, const char *value, int *ret)
{
	if (parse_months(value, ret) < 0)
		return fail(src,
		            "invalid period \"%s\" for \"%s\": expected a number of months or "
		            "years such as \"3m\" or \"1y\"",
		            value, key);
	return 0;
}

static int
set_workdays(const struct src *src, const char *key, const char *value, int *ret)
{
	if (parse_workdays(value, ret) < 0)
		return fail(src, "invalid number of working days \"%s\" for \"%s\"", value, key);
	return 0;
}

static int
set_string(const struct src *src, const char *value, char **ret)
{
	*ret = dupstr(src, value);
	return *ret ? 0 : -1;
}

static const struct authority *
find_authority(const rules *r, const char *code)
{
	if (code == NULL)
		return NULL;
	for (size_t i = 0; i < r->nauths; i++)
		if (strcmp(r->auths[i].code, code) == 0)
			return &r->auths[i];
	return NULL;
}

/* One `key = value` of a rule file. */
static int
apply_key(const rules *r, struct ruleset *rs, const struct src *src, const char *key,
          const char *value)
{
	char name[NAME_MAX_LEN + 1];
	const char *suffix;
	int i;

	if (*value == '\0' && strcmp(key, "not_disclosable") != 0)
		return fail(src, "\"%s\" has no value", key);
	if (strcmp(key, "name") == 0) {
		if (!valid_code(value, NAME_MAX_LEN))
			return fail(src,
			            "invalid rule set name \"%s\": use a-z, 0-9, '-', '_', '.'",
			            value);
		return set_string(src, value, &rs->name);
	}
	if (strcmp(key, "effective_from") == 0 || strcmp(key, "effective_to") == 0) {
		cs_date *d = key[10] == 'f' ? &rs->from : &rs->to;
		if (date_parse(value, d) < 0)
			return fail(src, "invalid date \"%s\" for \"%s\": expected YYYY-MM-DD",
			            value, key);
		return 0;
	}
	if (strcmp(key, "period.min") == 0)
		return set_months(src, key, value, &rs->min_months);
	if (strcmp(key, "period.max") == 0)
		return set_months(src, key, value, &rs->max_months);
	if ((suffix = split_key(key, "field", name, sizeof(name))) != NULL &&
	    strcmp(suffix, "min") == 0) {
		if ((i = field_parse(name)) < 0)
			return fail(src, "unknown field \"%s\" in \"%s\"", name, key);
		return set_months(src, key, value, &rs->field_min[i]);
	}
	if ((suffix = split_key(key, "category", name, sizeof(name))) != NULL &&
	    (strcmp(suffix, "min") == 0 || strcmp(suffix, "max") == 0)) {
		int bit = category_parse(name);
		if (bit < 0)
			return fail(src, "unknown category \"%s\" in \"%s\"", name, key);
		i = bit_index((unsigned)bit);
		return set_months(src, key, value,
		                  suffix[1] == 'i' ? &rs->cat_min[i] : &rs->cat_max[i]);
	}
	if (strcmp(key, "not_disclosable") == 0)
		return parse_categories(src, key, value, &rs->not_disclosable);
	if (strcmp(key, "light.categories") == 0) {
		if (parse_categories(src, key, value, &rs->light_cats) < 0)
			return -1;
		if (rs->light_cats == 0)
			return fail(src, "\"%s\" has no value", key);
		return 0;
	}
	if (strcmp(key, "light.period") == 0)
		return set_months(src, key, value, &rs->light_months);
	if (strcmp(key, "light.fine_below_yuan") == 0) {
		if (rules_parse_yuan(value, &rs->light_fine_below_fen) < 0)
			return fail(src,
			            "invalid amount \"%s\" for \"%s\": expected yuan such as "
			            "\"100000\" or \"100000.00\"",
			            value, key);
		return 0;
	}
	if (strcmp(key, "channel.default") == 0 ||
	    ((suffix = split_key(key, "channel", name, sizeof(name))) != NULL && *suffix == '\0')) {
		int site = site_parse(value);
		if (site < 0)
			return fail(
			    src, "unknown channel \"%s\" for \"%s\": expected creditchina or gsxt",
			    value, key);
		if (strcmp(key, "channel.default") == 0) {
			rs->channel_default = (enum site)site;
			return 0;
		}
		if (find_authority(r, name) == NULL)
			return fail(src,
			            "unknown producer \"%s\" in \"%s\": not in authorities.tsv",
			            name, key);
		struct channel_rule *grown =
		    realloc(rs->channels, (rs->nchannels + 1) * sizeof(*grown));
		if (grown == NULL)
			return fail(src, "out of memory");
		rs->channels = grown;
		grown[rs->nchannels].site = (enum site)site;
		if ((grown[rs->nchannels].producer = dupstr(src, name)) == NULL)
			return -1;
		rs->nchannels++;
		return 0;
	}
	if (strcmp(key, "deadline.obligation") == 0)
		return set_workdays(src, key, value, &rs->obligation);
	if ((suffix = split_key(key, "deadline", name, sizeof(name))) != NULL &&
	    (strcmp(suffix, "accept") == 0 || strcmp(suffix, "decide") == 0)) {
		if ((i = site_parse(name)) < 0)
			return fail(src, "unknown channel \"%s\" in \"%s\"", name, key);
		return set_workdays(src, key, value,
		                    suffix[1] == 'c' ? &rs->accept[i] : &rs->decide[i]);
	}
	if ((suffix = split_key(key, "repair_url", name, sizeof(name))) != NULL &&
	    *suffix == '\0') {
		if ((i = site_parse(name)) < 0)
			return fail(src, "unknown channel \"%s\" in \"%s\"", name, key);
		if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
			return fail(src,
			            "invalid address \"%s\" for \"%s\": expected http:// or "
			            "https://",
			            value, key);
		return set_string(src, value, &rs->repair_url[i]);
	}
	if (strcmp(key, "severity.required") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return fail(src, "invalid value \"%s\" for \"%s\": expected yes or no",
			            value, key);
		rs->by_severity = value[0] == 'y';
		return 0;
	}
	if ((suffix = split_key(key, "severity", name, sizeof(name))) != NULL &&
	    (strcmp(suffix, "min") == 0 || strcmp(suffix, "max") == 0 ||
	     strcmp(suffix, "disclosed") == 0)) {
		i = severity_parse(name);
		if (i <= SEV_NONE)
			return fail(src, "unknown severity \"%s\" in \"%s\"", name, key);
		struct sev_rule *sev = &rs->sev[i];
		if (strcmp(suffix, "disclosed") == 0) {
			if (strcmp(value, "no") != 0)
				return fail(src,
				            "invalid value \"%s\" for \"%s\": only \"no\" is "
				            "meaningful (give min and max to disclose)",
				            value, key);
			sev->hidden = true;
			return 0;
		}
		return set_months(src, key, value,
		                  suffix[1] == 'i' ? &sev->min_months : &sev->max_months);
	}
	if (strcmp(key, "notice.basis") == 0)
		return set_string(src, value, &rs->notice_basis);
	return fail(src, "unknown key \"%s\"", key);
}

/* Whole-file checks once every line is read; src->line is 0 so errors name the file only. */
static int
check_ruleset(const struct ruleset *rs, const struct src *src, const char *stem)
{
	if (rs->name == NULL)
		return fail(src, "missing key \"name\"");
	if (strcmp(rs->name, stem) != 0)
		return fail(src,
		            "rule set name \"%s\" does not match the file name (expected \"%s\")",
		            rs->name, stem);
	if (rs->from == DATE_NONE)
		return fail(src, "missing key \"effective_from\"");
	if (rs->to != DATE_NONE && rs->to < rs->from)
		return fail(src, "effective_to is before effective_from");
	if (rs->by_severity) {
		for (int i = SEV_MINOR; i < SEV_COUNT; i++) {
			const struct sev_rule *sev = &rs->sev[i];
			const char *sn = severity_names[i];
			if (sev->hidden && (sev->min_months != 0 || sev->max_months != 0))
				return fail(
				    src, "severity.%s.disclosed = no contradicts its periods", sn);
			if (!sev->hidden && (sev->min_months == 0 || sev->max_months == 0))
				return fail(src,
				            "severity.required is yes but severity \"%s\" needs "
				            "severity.%s.min and severity.%s.max (or "
				            "severity.%s.disclosed = no)",
				            sn, sn, sn, sn);
			if (sev->min_months > sev->max_months)
				return fail(src, "severity.%s.min is longer than severity.%s.max",
				            severity_names[i], severity_names[i]);
		}
	} else {
		for (int i = SEV_MINOR; i < SEV_COUNT; i++)
			if (rs->sev[i].hidden || rs->sev[i].min_months || rs->sev[i].max_months)
				return fail(src, "severity.%s.* keys need severity.required = yes",
				            severity_names[i]);
		if (rs->min_months == 0)
			return fail(src, "missing key \"period.min\"");
		if (rs->max_months == 0)
			return fail(src, "missing key \"period.max\"");
		if (rs->min_months > rs->max_months)
			return fail(src, "period.min is longer than period.max");
	}
	for (int i = 0; i < CAT_COUNT; i++)
		if (rs->cat_min[i] != 0 && rs->cat_max[i] != 0 && rs->cat_min[i] > rs->cat_max[i])
			return fail(src, "category.%s.min is longer than category.%s.max",
			            category_names[i], category_names[i]);
	if (rs->light_cats != 0 || rs->light_months != 0 || rs->light_fine_below_fen >= 0) {
		if (rs->light_cats == 0)
			return fail(
			    src, "missing key \"light.categories\" (other light.* keys are set)");
		if (rs->light_months == 0)
			return fail(src,
			            "missing key \"light.period\" (other light.* keys are set)");
		if ((rs->light_cats & CAT_FINE) && rs->light_fine_below_fen < 0)
			return fail(src, "missing key \"light.fine_below_yuan\" (light.categories "
			                 "includes fine)");
	}
	if (rs->obligation == 0)
		return fail(src, "missing key \"deadline.obligation\"");
	for (int i = 0; i < SITE_COUNT; i++) {
		if (rs->accept[i] == 0)
			return fail(src, "missing key \"deadline.%s.accept\"", site_names[i]);
		if (rs->decide[i] == 0)
			return fail(src, "missing key \"deadline.%s.decide\"", site_names[i]);
		if (rs->repair_url[i] == NULL)
			return fail(src, "missing key \"repair_url.%s\"", site_names[i]);
	}
	return 0;
}

static void
ruleset_free(struct ruleset *rs)
{
	free(rs->name);
	for (size_t i = 0; i < rs->nchannels; i++)
		free(rs->channels[i].producer);
	free(rs->channels);
	for (int i = 0; i < SITE_COUNT; i++)
		free(rs->repair_url[i]);
	free(rs->notice_basis);
}

/* Keys seen so far in one file, to refuse a second assignment. */
struct seen {
	char **keys;
	size_t n;
};

static int
seen_add(struct seen *seen, const struct src *src, const char *key)
{
	for (size_t i = 0; i < seen->n; i++)
		if (strcmp(seen->keys[i], key) == 0)
			return fail(src, "duplicate key \"%s\"", key);
	char **grown = realloc(seen->keys, (seen->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return fail(src, "out of memory");
	seen->keys = grown;
	if ((grown[seen->n] = dupstr(src, key)) == NULL)
		return -1;
	seen->n++;
	return 0;
}

static int
load_ruleset(const rules *r, const char *path, const char *stem, struct ruleset *rs, char *err,
             size_t errsz)
{
	struct src src = {path, 0, err, errsz};
	struct seen seen = {NULL, 0};
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	memset(rs, 0, sizeof(*rs));
	rs->from = rs->to = DATE_NONE;
	rs->light_fine_below_fen = -1;
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fail(&src, "could not open file: %s", strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, fp) >= 0) {
		src.line++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			fail(&src, "expected \"key = value\"");
			goto out;
		}
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		if (*key == '\0') {
			fail(&src, "expected \"key = value\"");
			goto out;
		}
		if (seen_add(&seen, &src, key) < 0 || apply_key(r, rs, &src, key, value) < 0)
			goto out;
	}
	if (ferror(fp)) {
		fail(&src, "could not read file: %s", strerror(errno));
		goto out;
	}
	src.line = 0;
	rc = check_ruleset(rs, &src, stem);
out:
	for (size_t i = 0; i < seen.n; i++)
		free(seen.keys[i]);
	free(seen.keys);
	free(line);
	fclose(fp);
	if (rc < 0)
		ruleset_free(rs);
	return rc;
}

/* Splits a TSV line in place into at most max fields; returns the count. */
static int
split_tabs(char *s, char **fields, int max)
{
	int n = 0;
	while (n < max) {
		fields[n++] = s;
		char *tab = strchr(s, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return n;
}

/* Reads a TSV file, calling fn for each line that is not blank or a comment. */
static int
read_tsv(const char *path, int nfields, int (*fn)(rules *, const struct src *, char **), rules *r,
         char *err, size_t errsz)
{
	struct src src = {path, 0, err, errsz};
	char *line = NULL, *fields[8];
	size_t cap = 0;
	int rc = 0;

	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		fail(&src, "could not open file: %s", strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, fp) >= 0) {
		src.line++;
		size_t n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (split_tabs(line, fields, nfields) != nfields)
			rc = fail(&src, "expected %d tab-separated columns", nfields);
		else
			rc = fn(r, &src, fields);
	}
	if (rc == 0 && ferror(fp))
		rc = fail(&src, "could not read file: %s", strerror(errno));
	free(line);
	fclose(fp);
	return rc;
}

static int
add_authority(rules *r, const struct src *src, char **f)
{
	if (!valid_code(f[0], NAME_MAX_LEN))
		return fail(src, "invalid producer code \"%s\"", f[0]);
	if (find_authority(r, f[0]) != NULL)
		return fail(src, "duplicate producer \"%s\"", f[0]);
	if (strcmp(f[1], "authority") != 0 && strcmp(f[1], "system") != 0)
		return fail(src, "invalid kind \"%s\": expected authority or system", f[1]);
	struct authority *grown = realloc(r->auths, (r->nauths + 1) * sizeof(*grown));
	if (grown == NULL)
		return fail(src, "out of memory");
	r->auths = grown;
	struct authority *a = &grown[r->nauths];
	a->system = f[1][0] == 's';
	a->code = dupstr(src, f[0]);
	a->name_zh = dupstr(src, f[2]);
	r->nauths++; /* counted even when a copy failed, so rules_free releases the other */
	return a->code && a->name_zh ? 0 : -1;
}

static const struct list_entry *
find_list(const rules *r, const char *code)
{
	if (code == NULL)
		return NULL;
	for (size_t i = 0; i < r->nlists; i++)
		if (strcmp(r->lists[i].code, code) == 0)
			return &r->lists[i];
	return NULL;
}

static int
add_list(rules *r, const struct src *src, char **f)
{
	if (!valid_code(f[0], NAME_MAX_LEN))
		return fail(src, "invalid list code \"%s\"", f[0]);
	if (find_list(r, f[0]) != NULL)
		return fail(src, "duplicate list \"%s\"", f[0]);
	if (strcmp(f[1], "abnormal") != 0 && strcmp(f[1], "serious") != 0)
		return fail(src, "invalid kind \"%s\": expected abnormal or serious", f[1]);
	/* Every owner must be a known authority: ownership decides who may add and remove. */
	size_t olen = strlen(f[3]);
	char *owners = malloc(olen + 3);
	if (owners == NULL)
		return fail(src, "out of memory");
	owners[0] = ',';
	memcpy(owners + 1, f[3], olen);
	owners[olen + 1] = ',';
	owners[olen + 2] = '\0';
	for (char *p = owners + 1; *p != '\0';) {
		char *comma = strchr(p, ',');
		*comma = '\0';
		const struct authority *a = find_authority(r, p);
		if (a == NULL || a->system) {
			fail(src,
			     "owner \"%s\" of list \"%s\" is not an authority of authorities.tsv",
			     p, f[0]);
			free(owners);
			return -1;
		}
		*comma = ',';
		p = comma + 1;
	}
	struct list_entry *grown = realloc(r->lists, (r->nlists + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(owners);
		return fail(src, "out of memory");
	}
	r->lists = grown;
	struct list_entry *l = &grown[r->nlists];
	l->kind = f[1][0] == 'a' ? LIST_ABNORMAL : LIST_SERIOUS;
	l->owners = owners;
	l->code = dupstr(src, f[0]);
	l->name_zh = dupstr(src, f[4]);
	r->nlists++;
	return l->code && l->name_zh ? 0 : -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.rules of <datadir>/rules, sorted by name so that loading does not depend on readdir's
 * order. */
static int
load_ruleset_dir(rules *r, const char *datadir, char *err, size_t errsz)
{
	char dirpath[4096], path[4096];
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	snprintf(dirpath, sizeof(dirpath), "%s/rules", datadir);
	DIR *dir = opendir(dirpath);
	if (dir == NULL) {
		seterr(err, errsz, "could not open directory \"%s\": %s", dirpath, strerror(errno));
		return -1;
	}
	for (struct dirent *de; (de = readdir(dir)) != NULL;) {
		size_t len = strlen(de->d_name);
		if (len <= 6 || de->d_name[0] == '.' || strcmp(de->d_name + len - 6, ".rules") != 0)
			continue;
		char **grown = realloc(names, (n + 1) * sizeof(*grown));
		if (grown == NULL || (grown[n] = strndup(de->d_name, len - 6)) == NULL) {
			if (grown != NULL)
				names = grown;
			seterr(err, errsz, "out of memory");
			goto out;
		}
		names = grown;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	if ((r->sets = calloc(n > 0 ? n : 1, sizeof(*r->sets))) == NULL) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(path, sizeof(path), "%s/%s.rules", dirpath, names[i]);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			seterr(err, errsz, "path of rule set \"%s\" is too long", names[i]);
			goto out;
		}
		if (load_ruleset(r, path, names[i], &r->sets[i], err, errsz) < 0)
			goto out;
		r->nsets++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return rc;
}

static int
enable_sets(rules *r, const char *datadir, const char *enabled, char *err, size_t errsz)
{
	char buf[1024];

	if (enabled == NULL || *enabled == '\0')
		enabled = RULES_DEFAULT_SET;
	if (strlen(enabled) >= sizeof(buf)) {
		seterr(err, errsz, "list of enabled rule sets is too long");
		return -1;
	}
	memcpy(buf, enabled, strlen(enabled) + 1);
	if ((r->enabled = calloc(r->nsets > 0 ? r->nsets : 1, sizeof(*r->enabled))) == NULL) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	for (char *item = buf, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		char *name = trim(item);
		size_t i;
		if (*name == '\0') {
			seterr(err, errsz, "empty rule set name in \"%s\"", enabled);
			return -1;
		}
		for (i = 0; i < r->nsets; i++)
			if (strcmp(r->sets[i].name, name) == 0)
				break;
		if (i == r->nsets) {
			seterr(err, errsz,
			       "rule set \"%s\" is enabled but \"%s/rules/%s.rules\" does "
			       "not exist",
			       name, datadir, name);
			return -1;
		}
		for (size_t j = 0; j < r->nenabled; j++)
			if (r->enabled[j] == i) {
				seterr(err, errsz, "rule set \"%s\" is enabled twice", name);
				return -1;
			}
		r->enabled[r->nenabled++] = i;
	}
	return 0;
}

rules *
rules_load(const char *datadir, const char *enabled, char *err, size_t errsz)
{
	char path[4096];
	rules *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		seterr(err, errsz, "out of memory");
		return NULL;
	}
	/* Authorities first: lists and channel rules name them. */
	snprintf(path, sizeof(path), "%s/data/authorities.tsv", datadir);
	if (read_tsv(path, 4, add_authority, r, err, errsz) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/data/lists.tsv", datadir);
	if (read_tsv(path, 5, add_list, r, err, errsz) < 0)
		goto fail;
	if (load_ruleset_dir(r, datadir, err, errsz) < 0)
		goto fail;
	if (enable_sets(r, datadir, enabled, err, errsz) < 0)
		goto fail;
	return r;
fail:
	rules_free(r);
	return NULL;
}

void
rules_free(rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsets; i++)
		ruleset_free(&r->sets[i]);
	free(r->sets);
	free(r->enabled);
	for (size_t i = 0; i < r->nlists; i++) {
		free(r->lists[i].code);
		free(r->lists[i].owners);
		free(r->lists[i].name_zh);
	}
	free(r->lists);
	for (size_t i = 0; i < r->nauths; i++) {
		free(r->auths[i].code);
		free(r->auths[i].name_zh);
	}
	free(r->auths);
	free(r);
}

/* The last enabled set whose range covers the date, or NULL. */
static const struct ruleset *
governing(const rules *r, cs_date on)
{
	for (size_t i = r->nenabled; i-- > 0;) {
		const struct ruleset *rs = &r->sets[r->enabled[i]];
		if (on >= rs->from && (rs->to == DATE_NONE || on <= rs->to))
			return rs;
	}
	return NULL;
}

/* For questions that need an answer whatever the date: the first enabled set. */
static const struct ruleset *
governing_or_default(const rules *r, cs_date on)
{
	const struct ruleset *rs = governing(r, on);
	return rs ? rs : &r->sets[r->enabled[0]];
}

static void
no_set_error(const rules *r, cs_date on, char *err, size_t errsz)
{
	char date[DATE_STRLEN], names[256] = "";
	size_t off = 0;
	for (size_t i = 0; i < r->nenabled && off < sizeof(names); i++) {
		int n = snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "",
		                 r->sets[r->enabled[i]].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	seterr(err, errsz, "no enabled rule set covers decision date %s (enabled: %s)",
	       date_format(on, date), names);
}

static enum site
set_channel(const struct ruleset *rs, const char *producer)
{
	if (producer != NULL)
		for (size_t i = 0; i < rs->nchannels; i++)
			if (strcmp(rs->channels[i].producer, producer) == 0)
				return rs->channels[i].site;
	return rs->channel_default;
}

static bool
is_light(const struct ruleset *rs, const struct penalty_facts *pf, unsigned cats)
{
	if (rs->light_cats == 0 || (cats & ~rs->light_cats) != 0)
		return false;
	/* A fine of unknown amount cannot be shown to be below the threshold. */
	if ((cats & CAT_FINE) && !(pf->has_fine && pf->fine_fen < rs->light_fine_below_fen))
		return false;
	return true;
}

int
rules_periods(const rules *r, const struct penalty_facts *pf, struct periods *ret, char *err,
              size_t errsz)
{
	const unsigned all = (1u << CAT_COUNT) - 1;

	memset(ret, 0, sizeof(*ret));
	ret->repairable_from = ret->disclose_until = DATE_NONE;
	if (pf->decided_on == DATE_NONE) {
		seterr(err, errsz, "no decision date");
		return -1;
	}
	if (pf->categories == 0 || (pf->categories & ~all) != 0) {
		seterr(err, errsz, "no valid penalty category");
		return -1;
	}
	if ((unsigned)pf->field >= FIELD_COUNT) {
		seterr(err, errsz, "invalid field %d", (int)pf->field);
		return -1;
	}
	const struct ruleset *rs = governing(r, pf->decided_on);
	if (rs == NULL) {
		no_set_error(r, pf->decided_on, err, errsz);
		return -1;
	}
	ret->rule_set = rs->name;
	ret->channel = set_channel(rs, pf->producer);

	/* Not-disclosable types alone are never shown; next to others they add no period, so
	 * a warning with a lower-amount fine is as light as the fine alone. */
	unsigned cats = pf->categories & ~rs->not_disclosable;
	if (cats == 0)
		return 0;

	int base_min = rs->min_months, base_max = rs->max_months;
	if (rs->by_severity) {
		if ((unsigned)pf->severity >= SEV_COUNT || pf->severity == SEV_NONE) {
			seterr(err, errsz,
			       "rule set \"%s\" needs a severity (minor, general or serious)",
			       rs->name);
			return -1;
		}
		const struct sev_rule *sev = &rs->sev[pf->severity];
		if (sev->hidden)
			return 0;
		base_min = sev->min_months;
		base_max = sev->max_months;
	}
	ret->disclosable = true;
	if (is_light(rs, pf, cats)) {
		/* Taken down when the light period ends, with no application: nothing to repair. */
		ret->light = true;
		ret->max_months = rs->light_months;
		ret->disclose_until = date_add_months(pf->decided_on, rs->light_months);
		return 0;
	}

	/* Each type's own period, then the longest of each bound (§三). */
	int min = 0, max = 0;
	for (int i = 0; i < CAT_COUNT; i++) {
		if (!(cats & (1u << i)))
			continue;
		int cmin = rs->cat_min[i] ? rs->cat_min[i] : base_min;
		int cmax = rs->cat_max[i] ? rs->cat_max[i] : base_max;
		min = cmin > min ? cmin : min;
		max = cmax > max ? cmax : max;
	}
	if (rs->field_min[pf->field] > min)
		min = rs->field_min[pf->field];
	if (max < min) /* a minimum is a promise to the public; it wins over a shorter maximum */
		max = min;
	ret->min_months = min;
	ret->max_months = max;
	ret->repairable_from = date_add_months(pf->decided_on, min) + 1;
	ret->disclose_until = date_add_months(pf->decided_on, max);
	return 0;
}

enum site
rules_channel(const rules *r, const char *producer, cs_date decided_on)
{
	return set_channel(governing_or_default(r, decided_on), producer);
}

void
rules_deadlines(const rules *r, cs_date on, struct deadlines *ret)
{
	const struct ruleset *rs = governing_or_default(r, on);
	ret->obligation_workdays = rs->obligation;
	for (int i = 0; i < SITE_COUNT; i++) {
		ret->accept_workdays[i] = rs->accept[i];
		ret->decide_workdays[i] = rs->decide[i];
	}
}

bool
rules_list_known(const rules *r, const char *list)
{
	return find_list(r, list) != NULL;
}

bool
rules_list_owner(const rules *r, const char *list, const char *producer)
{
	const struct list_entry *l = find_list(r, list);
	char needle[NAME_MAX_LEN + 3];

	if (l == NULL || producer == NULL || !valid_code(producer, NAME_MAX_LEN))
		return false;
	snprintf(needle, sizeof(needle), ",%s,", producer);
	return strstr(l->owners, needle) != NULL;
}

int
rules_list_kind(const rules *r, const char *list)
{
	const struct list_entry *l = find_list(r, list);
	return l ? (int)l->kind : -1;
}

const char *
rules_list_name_zh(const rules *r, const char *list)
{
	const struct list_entry *l = find_list(r, list);
	return l ? l->name_zh : NULL;
}

bool
rules_producer_known(const rules *r, const char *producer)
{
	return find_authority(r, producer) != NULL;
}

bool
rules_producer_is_system(const rules *r, const char *producer)
{
	const struct authority *a = find_authority(r, producer);
	return a != NULL && a->system;
}

const char *
rules_producer_name_zh(const rules *r, const char *producer)
{
	const struct authority *a = find_authority(r, producer);
	return a ? a->name_zh : NULL;
}

const char *
rules_repair_url(const rules *r, enum site channel)
{
	/* The newest enabled set says where subjects apply today. */
	if ((unsigned)channel >= SITE_COUNT)
		return NULL;
	return r->sets[r->enabled[r->nenabled - 1]].repair_url[channel];
}

const char *
rules_repair_url_on(const rules *r, enum site channel, cs_date on)
{
	if ((unsigned)channel >= SITE_COUNT)
		return NULL;
	return governing_or_default(r, on)->repair_url[channel];
}

int
rules_rule_set(const rules *r, cs_date decided_on, struct rule_set_info *ret, char *err,
               size_t errsz)
{
	const struct ruleset *rs = governing(r, decided_on);

	memset(ret, 0, sizeof(*ret));
	if (rs == NULL) {
		no_set_error(r, decided_on, err, errsz);
		return -1;
	}
	ret->name = rs->name;
	ret->effective_from = rs->from;
	ret->effective_to = rs->to;
	ret->by_severity = rs->by_severity;
	ret->min_months = rs->by_severity ? 0 : rs->min_months;
	ret->max_months = rs->by_severity ? 0 : rs->max_months;
	for (int i = 0; i < FIELD_COUNT; i++)
		ret->field_min_months[i] = rs->field_min[i];
	ret->notice_basis = rs->notice_basis ? rs->notice_basis : "";
	return 0;
}
