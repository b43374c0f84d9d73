/* rulefile: one rule set file (schemas/rules/NAME.rules) read and checked into a struct
 * ruleset; the format is documented in schemas/rules/README.md. */
#include "rulefile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yuan.h"

#define MAX_MONTHS   1200 /* 100 years: anything longer is a typo */
#define MAX_WORKDAYS 365

int
rulefile_fail(const struct rulefile_src *src, const char *fmt, ...)
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

char *
rulefile_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

bool
rulefile_valid_code(const char *s, size_t max)
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

/* A comma-separated list of category names into a mask; an empty list is 0. */
static int
parse_categories(const struct rulefile_src *src, const char *key, const char *value, unsigned *ret)
{
	char buf[512];
	unsigned mask = 0;

	if (strlen(value) >= sizeof(buf))
		return rulefile_fail(src, "value of \"%s\" is too long", key);
	memcpy(buf, value, strlen(value) + 1);
	if (*rulefile_trim(buf) == '\0') {
		*ret = 0;
		return 0;
	}
	for (char *item = buf, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		char *name = rulefile_trim(item);
		int bit = category_parse(name);
		if (bit < 0)
			return rulefile_fail(src, "unknown category \"%s\" in \"%s\"", name, key);
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

char *
rulefile_dup(const struct rulefile_src *src, const char *s)
{
	char *copy = strdup(s);
	if (copy == NULL)
		rulefile_fail(src, "out of memory");
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
set_months(const struct rulefile_src *src, const char *key, const char *value, int *ret)
{
	if (parse_months(value, ret) < 0)
		return rulefile_fail(
		    src,
		    "invalid period \"%s\" for \"%s\": expected a number of months or "
		    "years such as \"3m\" or \"1y\"",
		    value, key);
	return 0;
}

static int
set_workdays(const struct rulefile_src *src, const char *key, const char *value, int *ret)
{
	if (parse_workdays(value, ret) < 0)
		return rulefile_fail(src, "invalid number of working days \"%s\" for \"%s\"", value,
		                     key);
	return 0;
}

static int
set_string(const struct rulefile_src *src, const char *value, char **ret)
{
	*ret = rulefile_dup(src, value);
	return *ret ? 0 : -1;
}

/* A comma-separated list of authorities of authorities.tsv into ",a,b," (so that ",code," is a
 * substring test). */
static int
parse_producers(const struct rulefile_producers *pr, const struct rulefile_src *src,
                const char *key, const char *value, char **ret)
{
	char buf[1024], out[1024 + 2] = ",";
	size_t off = 1;

	if (strlen(value) >= sizeof(buf))
		return rulefile_fail(src, "value of \"%s\" is too long", key);
	memcpy(buf, value, strlen(value) + 1);
	for (char *item = buf, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		char *name = rulefile_trim(item);
		if (!pr->known(pr->ctx, name) || pr->is_system(pr->ctx, name))
			return rulefile_fail(
			    src, "unknown authority \"%s\" in \"%s\": not in authorities.tsv", name,
			    key);
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s,", name);
	}
	return set_string(src, out, ret);
}

/* One `key = value` of a rule file. */
static int
apply_key(const struct rulefile_producers *pr, struct ruleset *rs, const struct rulefile_src *src,
          const char *key, const char *value)
{
	char name[RULEFILE_NAME_MAX + 1];
	const char *suffix;
	int i;

	if (*value == '\0' && strcmp(key, "not_disclosable") != 0)
		return rulefile_fail(src, "\"%s\" has no value", key);
	if (strcmp(key, "name") == 0) {
		if (!rulefile_valid_code(value, RULEFILE_NAME_MAX))
			return rulefile_fail(
			    src, "invalid rule set name \"%s\": use a-z, 0-9, '-', '_', '.'",
			    value);
		return set_string(src, value, &rs->name);
	}
	if ((suffix = split_key(key, "effective_from", name, sizeof(name))) != NULL &&
	    *suffix == '\0') {
		/* the set governs this producer's decisions (or this channel's deadlines) from
		 * another day than effective_from: the law changed on different days */
		cs_date d;
		if (!pr->known(pr->ctx, name))
			return rulefile_fail(
			    src, "unknown producer \"%s\" in \"%s\": not in authorities.tsv", name,
			    key);
		if (date_parse(value, &d) < 0)
			return rulefile_fail(
			    src, "invalid date \"%s\" for \"%s\": expected YYYY-MM-DD", value, key);
		struct from_rule *grown = realloc(rs->froms, (rs->nfroms + 1) * sizeof(*grown));
		if (grown == NULL)
			return rulefile_fail(src, "out of memory");
		rs->froms = grown;
		grown[rs->nfroms].from = d;
		if ((grown[rs->nfroms].producer = rulefile_dup(src, name)) == NULL)
			return -1;
		rs->nfroms++;
		return 0;
	}
	if (strcmp(key, "effective_from") == 0 || strcmp(key, "effective_to") == 0) {
		cs_date *d = key[10] == 'f' ? &rs->from : &rs->to;
		if (date_parse(value, d) < 0)
			return rulefile_fail(
			    src, "invalid date \"%s\" for \"%s\": expected YYYY-MM-DD", value, key);
		return 0;
	}
	if (strcmp(key, "period.min") == 0)
		return set_months(src, key, value, &rs->min_months);
	if (strcmp(key, "period.max") == 0)
		return set_months(src, key, value, &rs->max_months);
	if ((suffix = split_key(key, "field", name, sizeof(name))) != NULL &&
	    strcmp(suffix, "min") == 0) {
		if ((i = field_parse(name)) < 0)
			return rulefile_fail(src, "unknown field \"%s\" in \"%s\"", name, key);
		return set_months(src, key, value, &rs->field_min[i]);
	}
	if ((suffix = split_key(key, "category", name, sizeof(name))) != NULL &&
	    (strcmp(suffix, "min") == 0 || strcmp(suffix, "max") == 0)) {
		int bit = category_parse(name);
		if (bit < 0)
			return rulefile_fail(src, "unknown category \"%s\" in \"%s\"", name, key);
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
			return rulefile_fail(src, "\"%s\" has no value", key);
		return 0;
	}
	if (strcmp(key, "light.producers") == 0)
		return parse_producers(pr, src, key, value, &rs->light_producers);
	if (strcmp(key, "light.period") == 0)
		return set_months(src, key, value, &rs->light_months);
	if (strcmp(key, "light.fine_below_yuan") == 0) {
		if (yuan_parse(value, &rs->light_fine_below_fen) < 0)
			return rulefile_fail(
			    src,
			    "invalid amount \"%s\" for \"%s\": expected yuan such as "
			    "\"100000\" or \"100000.00\"",
			    value, key);
		return 0;
	}
	if (strcmp(key, "channel.default") == 0 ||
	    ((suffix = split_key(key, "channel", name, sizeof(name))) != NULL && *suffix == '\0')) {
		int site = site_parse(value);
		if (site < 0)
			return rulefile_fail(
			    src, "unknown channel \"%s\" for \"%s\": expected creditchina or gsxt",
			    value, key);
		if (strcmp(key, "channel.default") == 0) {
			rs->channel_default = (enum site)site;
			return 0;
		}
		if (!pr->known(pr->ctx, name))
			return rulefile_fail(
			    src, "unknown producer \"%s\" in \"%s\": not in authorities.tsv", name,
			    key);
		struct channel_rule *grown =
		    realloc(rs->channels, (rs->nchannels + 1) * sizeof(*grown));
		if (grown == NULL)
			return rulefile_fail(src, "out of memory");
		rs->channels = grown;
		grown[rs->nchannels].site = (enum site)site;
		if ((grown[rs->nchannels].producer = rulefile_dup(src, name)) == NULL)
			return -1;
		rs->nchannels++;
		return 0;
	}
	if (strcmp(key, "deadline.abnormal.decide") == 0)
		return set_workdays(src, key, value, &rs->abnormal_decide);
	if (strcmp(key, "deadline.obligation") == 0)
		return set_workdays(src, key, value, &rs->obligation);
	if ((suffix = split_key(key, "deadline", name, sizeof(name))) != NULL &&
	    (strcmp(suffix, "accept") == 0 || strcmp(suffix, "decide") == 0)) {
		if ((i = site_parse(name)) < 0)
			return rulefile_fail(src, "unknown channel \"%s\" in \"%s\"", name, key);
		return set_workdays(src, key, value,
		                    suffix[1] == 'c' ? &rs->accept[i] : &rs->decide[i]);
	}
	if ((suffix = split_key(key, "repair_url", name, sizeof(name))) != NULL &&
	    *suffix == '\0') {
		if ((i = site_parse(name)) < 0)
			return rulefile_fail(src, "unknown channel \"%s\" in \"%s\"", name, key);
		if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
			return rulefile_fail(
			    src,
			    "invalid address \"%s\" for \"%s\": expected http:// or "
			    "https://",
			    value, key);
		return set_string(src, value, &rs->repair_url[i]);
	}
	if (strcmp(key, "severity.required") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return rulefile_fail(
			    src, "invalid value \"%s\" for \"%s\": expected yes or no", value, key);
		rs->by_severity = value[0] == 'y';
		return 0;
	}
	if ((suffix = split_key(key, "severity", name, sizeof(name))) != NULL &&
	    (strcmp(suffix, "min") == 0 || strcmp(suffix, "max") == 0 ||
	     strcmp(suffix, "disclosed") == 0)) {
		i = severity_parse(name);
		if (i <= SEV_NONE)
			return rulefile_fail(src, "unknown severity \"%s\" in \"%s\"", name, key);
		struct sev_rule *sev = &rs->sev[i];
		if (strcmp(suffix, "disclosed") == 0) {
			if (strcmp(value, "no") != 0)
				return rulefile_fail(
				    src,
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
	return rulefile_fail(src, "unknown key \"%s\"", key);
}

/* Whole-file checks once every line is read; src->line is 0 so errors name the file only. */
static int
check_ruleset(const struct ruleset *rs, const struct rulefile_src *src, const char *stem)
{
	if (rs->name == NULL)
		return rulefile_fail(src, "missing key \"name\"");
	if (strcmp(rs->name, stem) != 0)
		return rulefile_fail(
		    src, "rule set name \"%s\" does not match the file name (expected \"%s\")",
		    rs->name, stem);
	if (rs->from == DATE_NONE)
		return rulefile_fail(src, "missing key \"effective_from\"");
	if (rs->to != DATE_NONE && rs->to < rs->from)
		return rulefile_fail(src, "effective_to is before effective_from");
	for (size_t i = 0; i < rs->nfroms; i++)
		if (rs->to != DATE_NONE && rs->to < rs->froms[i].from)
			return rulefile_fail(src, "effective_to is before effective_from.%s",
			                     rs->froms[i].producer);
	if (rs->by_severity) {
		for (int i = SEV_MINOR; i < SEV_COUNT; i++) {
			const struct sev_rule *sev = &rs->sev[i];
			const char *sn = severity_name((enum severity)i);
			if (sev->hidden && (sev->min_months != 0 || sev->max_months != 0))
				return rulefile_fail(
				    src, "severity.%s.disclosed = no contradicts its periods", sn);
			if (!sev->hidden && (sev->min_months == 0 || sev->max_months == 0))
				return rulefile_fail(
				    src,
				    "severity.required is yes but severity \"%s\" needs "
				    "severity.%s.min and severity.%s.max (or "
				    "severity.%s.disclosed = no)",
				    sn, sn, sn, sn);
			if (sev->min_months > sev->max_months)
				return rulefile_fail(
				    src, "severity.%s.min is longer than severity.%s.max",
				    severity_name((enum severity)i),
				    severity_name((enum severity)i));
		}
	} else {
		for (int i = SEV_MINOR; i < SEV_COUNT; i++)
			if (rs->sev[i].hidden || rs->sev[i].min_months || rs->sev[i].max_months)
				return rulefile_fail(
				    src, "severity.%s.* keys need severity.required = yes",
				    severity_name((enum severity)i));
		if (rs->min_months == 0)
			return rulefile_fail(src, "missing key \"period.min\"");
		if (rs->max_months == 0)
			return rulefile_fail(src, "missing key \"period.max\"");
		if (rs->min_months > rs->max_months)
			return rulefile_fail(src, "period.min is longer than period.max");
	}
	for (int i = 0; i < CAT_COUNT; i++)
		if (rs->cat_min[i] != 0 && rs->cat_max[i] != 0 && rs->cat_min[i] > rs->cat_max[i])
			return rulefile_fail(src, "category.%s.min is longer than category.%s.max",
			                     category_name((enum category)(1u << i)),
			                     category_name((enum category)(1u << i)));
	if (rs->light_cats != 0 || rs->light_months != 0 || rs->light_fine_below_fen >= 0) {
		if (rs->light_cats == 0)
			return rulefile_fail(
			    src, "missing key \"light.categories\" (other light.* keys are set)");
		if (rs->light_months == 0)
			return rulefile_fail(
			    src, "missing key \"light.period\" (other light.* keys are set)");
		if ((rs->light_cats & CAT_FINE) && rs->light_fine_below_fen < 0)
			return rulefile_fail(
			    src, "missing key \"light.fine_below_yuan\" (light.categories "
			         "includes fine)");
		if (rs->light_producers == NULL)
			return rulefile_fail(src,
			                     "missing key \"light.producers\" (the authorities "
			                     "whose penalties the light rule covers)");
	}
	if (rs->obligation == 0)
		return rulefile_fail(src, "missing key \"deadline.obligation\"");
	for (int i = 0; i < SITE_COUNT; i++) {
		if (rs->accept[i] == 0)
			return rulefile_fail(src, "missing key \"deadline.%s.accept\"",
			                     site_name((enum site)i));
		if (rs->decide[i] == 0)
			return rulefile_fail(src, "missing key \"deadline.%s.decide\"",
			                     site_name((enum site)i));
		if (rs->repair_url[i] == NULL)
			return rulefile_fail(src, "missing key \"repair_url.%s\"",
			                     site_name((enum site)i));
	}
	return 0;
}

void
rulefile_free(struct ruleset *rs)
{
	free(rs->name);
	for (size_t i = 0; i < rs->nchannels; i++)
		free(rs->channels[i].producer);
	free(rs->channels);
	for (int i = 0; i < SITE_COUNT; i++)
		free(rs->repair_url[i]);
	free(rs->notice_basis);
	free(rs->light_producers);
	for (size_t i = 0; i < rs->nfroms; i++)
		free(rs->froms[i].producer);
	free(rs->froms);
}

/* Keys seen so far in one file, to refuse a second assignment. */
struct seen {
	char **keys;
	size_t n;
};

static int
seen_add(struct seen *seen, const struct rulefile_src *src, const char *key)
{
	for (size_t i = 0; i < seen->n; i++)
		if (strcmp(seen->keys[i], key) == 0)
			return rulefile_fail(src, "duplicate key \"%s\"", key);
	char **grown = realloc(seen->keys, (seen->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return rulefile_fail(src, "out of memory");
	seen->keys = grown;
	if ((grown[seen->n] = rulefile_dup(src, key)) == NULL)
		return -1;
	seen->n++;
	return 0;
}

int
rulefile_load(const struct rulefile_producers *pr, const char *path, const char *stem,
              struct ruleset *rs, char *err, size_t errsz)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		struct rulefile_src src = {path, 0, err, errsz};
		memset(rs, 0, sizeof(*rs));
		rulefile_fail(&src, "could not open file: %s", strerror(errno));
		return -1;
	}
	int rc = rulefile_read(pr, fp, path, stem, rs, err, errsz);
	fclose(fp);
	return rc;
}

int
rulefile_read(const struct rulefile_producers *pr, FILE *fp, const char *path, const char *stem,
              struct ruleset *rs, char *err, size_t errsz)
{
	struct rulefile_src src = {path, 0, err, errsz};
	struct seen seen = {NULL, 0};
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	memset(rs, 0, sizeof(*rs));
	rs->from = rs->to = DATE_NONE;
	rs->light_fine_below_fen = -1;
	while (getline(&line, &cap, fp) >= 0) {
		src.line++;
		char *s = rulefile_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			rulefile_fail(&src, "expected \"key = value\"");
			goto out;
		}
		*eq = '\0';
		char *key = rulefile_trim(s), *value = rulefile_trim(eq + 1);
		if (*key == '\0') {
			rulefile_fail(&src, "expected \"key = value\"");
			goto out;
		}
		if (seen_add(&seen, &src, key) < 0 || apply_key(pr, rs, &src, key, value) < 0)
			goto out;
	}
	if (ferror(fp)) {
		rulefile_fail(&src, "could not read file: %s", strerror(errno));
		goto out;
	}
	src.line = 0;
	rc = check_ruleset(rs, &src, stem);
out:
	for (size_t i = 0; i < seen.n; i++)
		free(seen.keys[i]);
	free(seen.keys);
	free(line);
	if (rc < 0)
		rulefile_free(rs);
	return rc;
}
