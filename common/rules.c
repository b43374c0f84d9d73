/* rules: every rule set of a data directory (parsed by rulefile), lists.tsv and
 * authorities.tsv loaded into an immutable value, and the disclosure periods, channels and
 * deadlines they give. */
#include "rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulefile.h"

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

__attribute__((format(printf, 3, 4))) static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
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
read_tsv(const char *path, int nfields, int (*fn)(rules *, const struct rulefile_src *, char **),
         rules *r, char *err, size_t errsz)
{
	struct rulefile_src src = {path, 0, err, errsz};
	char *line = NULL, *fields[8];
	size_t cap = 0;
	int rc = 0;

	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		rulefile_fail(&src, "could not open file: %s", strerror(errno));
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
			rc = rulefile_fail(&src, "expected %d tab-separated columns", nfields);
		else
			rc = fn(r, &src, fields);
	}
	if (rc == 0 && ferror(fp))
		rc = rulefile_fail(&src, "could not read file: %s", strerror(errno));
	free(line);
	fclose(fp);
	return rc;
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

static int
add_authority(rules *r, const struct rulefile_src *src, char **f)
{
	if (!rulefile_valid_code(f[0], RULEFILE_NAME_MAX))
		return rulefile_fail(src, "invalid producer code \"%s\"", f[0]);
	if (find_authority(r, f[0]) != NULL)
		return rulefile_fail(src, "duplicate producer \"%s\"", f[0]);
	if (strcmp(f[1], "authority") != 0 && strcmp(f[1], "system") != 0)
		return rulefile_fail(src, "invalid kind \"%s\": expected authority or system",
		                     f[1]);
	struct authority *grown = realloc(r->auths, (r->nauths + 1) * sizeof(*grown));
	if (grown == NULL)
		return rulefile_fail(src, "out of memory");
	r->auths = grown;
	struct authority *a = &grown[r->nauths];
	a->system = f[1][0] == 's';
	a->code = rulefile_dup(src, f[0]);
	a->name_zh = rulefile_dup(src, f[2]);
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
add_list(rules *r, const struct rulefile_src *src, char **f)
{
	if (!rulefile_valid_code(f[0], RULEFILE_NAME_MAX))
		return rulefile_fail(src, "invalid list code \"%s\"", f[0]);
	if (find_list(r, f[0]) != NULL)
		return rulefile_fail(src, "duplicate list \"%s\"", f[0]);
	int kind = list_kind_parse(f[1]);
	if (kind < 0)
		return rulefile_fail(src, "invalid kind \"%s\": expected abnormal or serious",
		                     f[1]);
	/* Every owner must be a known authority: ownership decides who may add and remove. */
	size_t olen = strlen(f[3]);
	char *owners = malloc(olen + 3);
	if (owners == NULL)
		return rulefile_fail(src, "out of memory");
	owners[0] = ',';
	memcpy(owners + 1, f[3], olen);
	owners[olen + 1] = ',';
	owners[olen + 2] = '\0';
	for (char *p = owners + 1; *p != '\0';) {
		char *comma = strchr(p, ',');
		*comma = '\0';
		const struct authority *a = find_authority(r, p);
		if (a == NULL || a->system) {
			rulefile_fail(
			    src,
			    "owner \"%s\" of list \"%s\" is not an authority of authorities.tsv", p,
			    f[0]);
			free(owners);
			return -1;
		}
		*comma = ',';
		p = comma + 1;
	}
	struct list_entry *grown = realloc(r->lists, (r->nlists + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(owners);
		return rulefile_fail(src, "out of memory");
	}
	r->lists = grown;
	struct list_entry *l = &grown[r->nlists];
	l->kind = (enum list_kind)kind;
	l->owners = owners;
	l->code = rulefile_dup(src, f[0]);
	l->name_zh = rulefile_dup(src, f[4]);
	r->nlists++;
	return l->code && l->name_zh ? 0 : -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
producer_known(const void *ctx, const char *producer)
{
	return rules_producer_known(ctx, producer);
}

static bool
producer_is_system(const void *ctx, const char *producer)
{
	return rules_producer_is_system(ctx, producer);
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
	const struct rulefile_producers pr = {producer_known, producer_is_system, r};

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
		if (rulefile_load(&pr, path, names[i], &r->sets[i], err, errsz) < 0)
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

static const rules *sort_rules; /* qsort has no context argument; loading is single-threaded */

static int
cmp_from(const void *a, const void *b)
{
	const struct ruleset *x = &sort_rules->sets[*(const size_t *)a];
	const struct ruleset *y = &sort_rules->sets[*(const size_t *)b];
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* No list given: every rule set is in force, in the order of their starts, so that for a
 * decision the newest regime whose range covers its date governs (issue 12: the 2025/2026
 * regimes apply by themselves). */
static int
enable_all(rules *r, char *err, size_t errsz)
{
	if (r->nsets == 0) {
		seterr(err, errsz, "no rule set in the rules directory");
		return -1;
	}
	if ((r->enabled = calloc(r->nsets, sizeof(*r->enabled))) == NULL) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->nsets; i++)
		r->enabled[i] = i;
	r->nenabled = r->nsets;
	sort_rules = r;
	qsort(r->enabled, r->nenabled, sizeof(*r->enabled), cmp_from);
	sort_rules = NULL;
	return 0;
}

static int
enable_sets(rules *r, const char *datadir, const char *enabled, char *err, size_t errsz)
{
	char buf[1024];

	if (enabled == NULL || *enabled == '\0' || strcmp(enabled, RULES_AUTO) == 0)
		return enable_all(r, err, errsz);
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
		char *name = rulefile_trim(item);
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
		rulefile_free(&r->sets[i]);
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

/* The day a set starts for a producer (its effective_from.P, else effective_from). */
static cs_date
set_from(const struct ruleset *rs, const char *producer)
{
	if (producer != NULL)
		for (size_t i = 0; i < rs->nfroms; i++)
			if (strcmp(rs->froms[i].producer, producer) == 0)
				return rs->froms[i].from;
	return rs->from;
}

/* The last enabled set whose range covers the date for producer (NULL: any), or NULL. */
static const struct ruleset *
governing(const rules *r, cs_date on, const char *producer)
{
	for (size_t i = r->nenabled; i-- > 0;) {
		const struct ruleset *rs = &r->sets[r->enabled[i]];
		if (on >= set_from(rs, producer) && (rs->to == DATE_NONE || on <= rs->to))
			return rs;
	}
	return NULL;
}

/* For questions that need an answer whatever the date: the first enabled set. */
static const struct ruleset *
governing_or_default(const rules *r, cs_date on, const char *producer)
{
	const struct ruleset *rs = governing(r, on, producer);
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

static const char *const light_basis_names[] = {
    [LIGHT_FROM_PUBLICATION] = "publication",
    [LIGHT_FROM_FIRST_DISCLOSURE] = "first_disclosure",
    [LIGHT_FROM_DECISION] = "decision",
};

const char *
light_basis_name(enum light_basis b)
{
	return b >= LIGHT_FROM_PUBLICATION && b <= LIGHT_FROM_DECISION ? light_basis_names[b]
	                                                               : NULL;
}

/* The light rule is market regulation's own (SAMR Order 45 arts. 2 and 13): only the producers
 * the set names. */
static bool
is_light(const struct ruleset *rs, const struct penalty_facts *pf, unsigned cats)
{
	char needle[RULEFILE_NAME_MAX + 3];

	if (rs->light_cats == 0 || (cats & ~rs->light_cats) != 0)
		return false;
	if (rs->light_producers == NULL || pf->producer == NULL ||
	    !rulefile_valid_code(pf->producer, RULEFILE_NAME_MAX))
		return false;
	snprintf(needle, sizeof(needle), ",%s,", pf->producer);
	if (strstr(rs->light_producers, needle) == NULL)
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
	ret->repairable_from = ret->disclose_until = ret->light_from = DATE_NONE;
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
	const struct ruleset *rs = governing(r, pf->decided_on, pf->producer);
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
		enum severity sv = pf->severity;
		if ((unsigned)sv >= SEV_COUNT) {
			seterr(err, errsz,
			       "rule set \"%s\" needs a severity (minor, general or serious)",
			       rs->name);
			return -1;
		}
		if (sv == SEV_NONE) {
			/* Refusing it would hide the penalty for ever: general, and said so. */
			sv = SEV_GENERAL;
			ret->severity_assumed = true;
		}
		const struct sev_rule *sev = &rs->sev[sv];
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
		if (pf->published_on > 0) {
			ret->light_from = pf->published_on;
			ret->light_basis = LIGHT_FROM_PUBLICATION;
		} else if (pf->disclosed_on > 0) {
			ret->light_from = pf->disclosed_on;
			ret->light_basis = LIGHT_FROM_FIRST_DISCLOSURE;
		} else {
			ret->light_from = pf->decided_on;
			ret->light_basis = LIGHT_FROM_DECISION;
		}
		ret->disclose_until = date_add_months(ret->light_from, rs->light_months);
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
	bool same = min == max; /* a set whose minimum is its maximum: nothing to apply for */
	if (max < min) /* a minimum is a promise to the public; it wins over a shorter maximum */
		max = min;
	ret->min_months = min;
	ret->max_months = max;
	/* A minimum as long as the maximum leaves nothing to apply for: it goes by itself. */
	if (!same)
		ret->repairable_from = date_add_months(pf->decided_on, min) + 1;
	ret->disclose_until = date_add_months(pf->decided_on, max);
	return 0;
}

enum site
rules_channel(const rules *r, const char *producer, cs_date decided_on)
{
	return set_channel(governing_or_default(r, decided_on, producer), producer);
}

void
rules_deadlines(const rules *r, cs_date on, struct deadlines *ret)
{
	const struct ruleset *rs = governing_or_default(r, on, NULL);
	ret->obligation_workdays = rs->obligation;
	/* Each channel's deadlines from the set in force for it (effective_from.gsxt: market
	 * regulation's Order 107 started before NDRC's Order 36). */
	for (int i = 0; i < SITE_COUNT; i++) {
		const struct ruleset *cs = governing_or_default(r, on, site_name((enum site)i));
		ret->accept_workdays[i] = cs->accept[i];
		ret->decide_workdays[i] = cs->decide[i];
		if (i == SITE_GSXT)
			ret->abnormal_decide_workdays =
			    cs->abnormal_decide ? cs->abnormal_decide : cs->decide[i];
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
	char needle[RULEFILE_NAME_MAX + 3];

	if (l == NULL || producer == NULL || !rulefile_valid_code(producer, RULEFILE_NAME_MAX))
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

const char *
rules_producer_at(const rules *r, size_t i)
{
	return i < r->nauths ? r->auths[i].code : NULL;
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
	return governing_or_default(r, on, site_name(channel))->repair_url[channel];
}

int
rules_rule_set(const rules *r, cs_date decided_on, struct rule_set_info *ret, char *err,
               size_t errsz)
{
	return rules_rule_set_for(r, decided_on, NULL, ret, err, errsz);
}

int
rules_rule_set_for(const rules *r, cs_date decided_on, const char *producer,
                   struct rule_set_info *ret, char *err, size_t errsz)
{
	const struct ruleset *rs = governing(r, decided_on, producer);

	memset(ret, 0, sizeof(*ret));
	if (rs == NULL) {
		no_set_error(r, decided_on, err, errsz);
		return -1;
	}
	ret->name = rs->name;
	ret->effective_from = set_from(rs, producer);
	ret->effective_to = rs->to;
	ret->by_severity = rs->by_severity;
	ret->min_months = rs->by_severity ? 0 : rs->min_months;
	ret->max_months = rs->by_severity ? 0 : rs->max_months;
	for (int i = 0; i < FIELD_COUNT; i++)
		ret->field_min_months[i] = rs->field_min[i];
	ret->notice_basis = rs->notice_basis ? rs->notice_basis : "";
	return 0;
}

cs_date
rules_severity_from(const rules *r)
{
	cs_date first = DATE_NONE;
	for (size_t i = 0; i < r->nenabled; i++) {
		const struct ruleset *rs = &r->sets[r->enabled[i]];
		if (!rs->by_severity)
			continue;
		cs_date from = rs->from;
		for (size_t j = 0; j < rs->nfroms; j++)
			if (rs->froms[j].from < from)
				from = rs->froms[j].from;
		if (first == DATE_NONE || from < first)
			first = from;
	}
	return first;
}
