/* vocab: every enum of the domain mapped to and from its text, from one table each. */
#include "vocab.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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
static const char *const severity_names[SEV_COUNT] = {"none", "minor", "general", "serious"};
static const char *const site_names[SITE_COUNT] = {"creditchina", "gsxt"};
static const char *const site_out_topics[SITE_COUNT] = {"credit.out.creditchina",
                                                        "credit.out.gsxt"};
static const char *const list_kind_names[] = {
    [LIST_ABNORMAL] = "abnormal", [LIST_SERIOUS] = "serious"};

static const char *const type_names[EV_TYPE_COUNT] = {
    [EV_PENALTY_ISSUED] = "penalty.issued",   [EV_PENALTY_REPAIRED] = "penalty.repaired",
    [EV_PENALTY_REVOKED] = "penalty.revoked", [EV_LIST_ADDED] = "list.added",
    [EV_LIST_REMOVED] = "list.removed",       [EV_REPAIR_APPLIED] = "repair.applied",
    [EV_REPAIR_ACCEPTED] = "repair.accepted", [EV_REPAIR_DECLINED] = "repair.declined",
    [EV_REPAIR_DENIED] = "repair.denied",
};

static const char *const reason_names[REJ_COUNT] = {
    [REJ_NONE] = NULL,
    [REJ_MALFORMED_JSON] = "malformed_json",
    [REJ_TOO_LARGE] = "too_large",
    [REJ_UNSUPPORTED_SCHEMA] = "unsupported_schema",
    [REJ_MISSING_FIELD] = "missing_field",
    [REJ_INVALID_FIELD] = "invalid_field",
    [REJ_INVALID_USCC] = "invalid_uscc",
    [REJ_UNKNOWN_TYPE] = "unknown_type",
    [REJ_PRODUCER_MISMATCH] = "producer_mismatch",
    [REJ_UNKNOWN_LIST] = "unknown_list",
    [REJ_NOT_LIST_OWNER] = "not_list_owner",
    [REJ_NOT_ENTRY_OWNER] = "not_entry_owner",
    [REJ_WRONG_CHANNEL] = "wrong_channel",
    [REJ_BEFORE_MINIMUM_PERIOD] = "before_minimum_period",
    [REJ_NOT_REPAIRABLE] = "not_repairable",
};

static const char *const kind_names[] = {
    [KIND_PENALTY] = "penalty",
    [KIND_ABNORMAL] = "abnormal",
    [KIND_SERIOUS] = "serious",
};

static const char *const out_type_names[] = {
    [OUT_DISCLOSE] = "disclose",
    [OUT_TAKEDOWN] = "takedown",
    [OUT_MUTUAL_RECOGNITION] = "mutual_recognition",
};

static const char *const takedown_names[] = {
    [TD_NONE] = NULL,
    [TD_REPAIRED] = "repaired",
    [TD_REMOVED] = "removed",
    [TD_REVOKED] = "revoked",
    [TD_EXPIRED] = "expired",
    [TD_LIGHT_EXPIRED] = "light_expired",
    [TD_NOT_DISCLOSABLE] = "not_disclosable",
};

static const char *const status_names[] = {
    [0] = NULL, [REC_SHOWN] = "shown", [REC_DOWN] = "down", [REC_NEVER] = "never"};

static const char *const outcome_names[] = {
    [RO_APPLIED] = "applied", [RO_STALE] = "stale", [RO_NOOP] = "noop", [RO_REJECTED] = "rejected"};

static const char *const inbound_names[] = {
    [INB_APPLIED] = "applied",   [INB_STALE] = "stale",         [INB_NOOP] = "noop",
    [INB_REJECTED] = "rejected", [INB_DUPLICATE] = "duplicate", [INB_ACK] = "ack",
    [INB_IGNORED] = "ignored",
};

/* The name at index i of a table of n, or NULL. */
static const char *
name_at(const char *const *names, size_t n, unsigned i)
{
	return i < n ? names[i] : NULL;
}

/* The index of s in a table of n (NULL slots skipped), or -1. */
static int
name_index(const char *const *names, size_t n, const char *s)
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
	int i = name_index(category_names, CAT_COUNT, s);
	return i < 0 ? -1 : (int)(1u << i);
}

const char *
field_name(enum field f)
{
	return name_at(field_names, COUNT(field_names), (unsigned)f);
}

int
field_parse(const char *s)
{
	return name_index(field_names, COUNT(field_names), s);
}

const char *
severity_name(enum severity s)
{
	return name_at(severity_names, COUNT(severity_names), (unsigned)s);
}

int
severity_parse(const char *s)
{
	return name_index(severity_names, COUNT(severity_names), s);
}

const char *
site_name(enum site s)
{
	return name_at(site_names, COUNT(site_names), (unsigned)s);
}

const char *
site_out_topic(enum site s)
{
	return name_at(site_out_topics, COUNT(site_out_topics), (unsigned)s);
}

int
site_parse(const char *s)
{
	return name_index(site_names, COUNT(site_names), s);
}

const char *
list_kind_name(enum list_kind k)
{
	return name_at(list_kind_names, COUNT(list_kind_names), (unsigned)k);
}

int
list_kind_parse(const char *s)
{
	return name_index(list_kind_names, COUNT(list_kind_names), s);
}

const char *
event_type_name(enum event_type t)
{
	return name_at(type_names, COUNT(type_names), (unsigned)t);
}

int
event_type_parse(const char *s)
{
	return name_index(type_names, COUNT(type_names), s);
}

const char *
reject_reason_name(enum reject_reason r)
{
	return name_at(reason_names, COUNT(reason_names), (unsigned)r);
}

int
reject_reason_parse(const char *s)
{
	return name_index(reason_names, COUNT(reason_names), s);
}

const char *
record_kind_name(enum record_kind k)
{
	return name_at(kind_names, COUNT(kind_names), (unsigned)k);
}

int
record_kind_parse(const char *s)
{
	return name_index(kind_names, COUNT(kind_names), s);
}

const char *
out_type_name(enum out_type t)
{
	return name_at(out_type_names, COUNT(out_type_names), (unsigned)t);
}

int
out_type_parse(const char *s)
{
	return name_index(out_type_names, COUNT(out_type_names), s);
}

const char *
takedown_reason_name(enum takedown_reason r)
{
	return name_at(takedown_names, COUNT(takedown_names), (unsigned)r);
}

int
takedown_reason_parse(const char *s)
{
	return name_index(takedown_names, COUNT(takedown_names), s);
}

const char *
rec_status_name(enum rec_status s)
{
	const char *name = name_at(status_names, COUNT(status_names), (unsigned)s);
	return name != NULL ? name : "unknown";
}

int
rec_status_parse(const char *s)
{
	return name_index(status_names, COUNT(status_names), s);
}

const char *
recon_outcome_name(enum recon_outcome o)
{
	const char *name = name_at(outcome_names, COUNT(outcome_names), (unsigned)o);
	return name != NULL ? name : "unknown";
}

const char *
inbound_outcome_name(enum inbound_outcome o)
{
	const char *name = name_at(inbound_names, COUNT(inbound_names), (unsigned)o);
	return name != NULL ? name : "unknown";
}

enum inbound_outcome
inbound_outcome_of(enum recon_outcome o)
{
	switch (o) {
	case RO_APPLIED:
		return INB_APPLIED;
	case RO_STALE:
		return INB_STALE;
	case RO_NOOP:
		return INB_NOOP;
	case RO_REJECTED:
		break;
	}
	return INB_REJECTED;
}

int
category_mask_format(unsigned mask, char *buf, size_t bufsz)
{
	size_t o = 0;

	if (bufsz == 0)
		return -1;
	buf[0] = '\0';
	for (int i = 0; i < 32; i++) {
		unsigned bit = 1u << i;
		const char *name;
		int w;

		if ((mask & bit) == 0)
			continue;
		name = i < CAT_COUNT ? category_name((enum category)bit) : NULL;
		if (name == NULL)
			return -1;
		w = snprintf(buf + o, bufsz - o, "%s%s", o > 0 ? "," : "", name);
		if (w < 0 || (size_t)w >= bufsz - o)
			return -1;
		o += (size_t)w;
	}
	return (int)o;
}

int
category_mask_parse(const char *s, size_t len, unsigned *ret)
{
	char name[64];

	*ret = 0;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		int bit;

		while (i + n < len && s[i + n] != ',')
			n++;
		if (n == 0 || n >= sizeof(name))
			return -1;
		memcpy(name, s + i, n);
		name[n] = '\0';
		bit = category_parse(name);
		if (bit <= 0)
			return -1;
		*ret |= (unsigned)bit;
		i += n + 1;
	}
	return 0;
}
