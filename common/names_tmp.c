/* names_tmp: stand-ins for the enum name functions of event.c, rules.c and reconcile.c (other
 * branches) so the store builds and tests alone; the lead drops this file when those land. */
#include <string.h>

#include "event.h"
#include "reconcile.h"
#include "rules.h"

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
static const char *const site_names[SITE_COUNT] = {"creditchina", "gsxt"};
static const char *const kind_names[] = {"penalty", "abnormal", "serious"};
static const char *const out_type_names[] = {"disclose", "takedown", "mutual_recognition"};
static const char *const takedown_names[] = {
    NULL, "repaired", "removed", "revoked", "expired", "light_expired", "not_disclosable",
};
static const char *const status_names[] = {NULL, "shown", "down", "never"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int
lookup(const char *const *names, size_t n, const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *
category_name(enum category c)
{
	for (int i = 0; i < CAT_COUNT; i++)
		if ((unsigned)c == 1u << i)
			return category_names[i];
	return NULL;
}

int
category_parse(const char *s)
{
	int i = lookup(category_names, CAT_COUNT, s);

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
	return lookup(field_names, FIELD_COUNT, s);
}

const char *
severity_name(enum severity s)
{
	return (unsigned)s < COUNT(severity_names) ? severity_names[s] : NULL;
}

int
severity_parse(const char *s)
{
	return lookup(severity_names, COUNT(severity_names), s);
}

const char *
site_name(enum site s)
{
	return (unsigned)s < SITE_COUNT ? site_names[s] : NULL;
}

int
site_parse(const char *s)
{
	return lookup(site_names, SITE_COUNT, s);
}

const char *
record_kind_name(enum record_kind k)
{
	return (unsigned)k < COUNT(kind_names) ? kind_names[k] : NULL;
}

const char *
out_type_name(enum out_type t)
{
	return (unsigned)t < COUNT(out_type_names) ? out_type_names[t] : NULL;
}

const char *
takedown_reason_name(enum takedown_reason r)
{
	return (unsigned)r < COUNT(takedown_names) ? takedown_names[r] : NULL;
}

int
takedown_reason_parse(const char *s)
{
	return lookup(takedown_names, COUNT(takedown_names), s);
}

const char *
rec_status_name(enum rec_status s)
{
	return (unsigned)s < COUNT(status_names) && status_names[s] != NULL ? status_names[s]
	                                                                    : "unknown";
}

int
rec_status_parse(const char *s)
{
	return lookup(status_names, COUNT(status_names), s);
}
