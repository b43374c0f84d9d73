/* event_names: the names of event types, reject reasons, record kinds, out message types and
 * takedown reasons, which are a contract (docs/CONTRACT.md), and their parsing. */
#include <string.h>

#include "event.h"

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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *
event_type_name(enum event_type t)
{
	return (unsigned)t < EV_TYPE_COUNT ? type_names[t] : NULL;
}

const char *
reject_reason_name(enum reject_reason r)
{
	return (unsigned)r < REJ_COUNT ? reason_names[r] : NULL;
}

static int
name_lookup(const char *const *names, size_t n, const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int
reject_reason_parse(const char *s)
{
	return name_lookup(reason_names, COUNT(reason_names), s);
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
	return name_lookup(takedown_names, COUNT(takedown_names), s);
}

int
event_type_parse(const char *s)
{
	return name_lookup(type_names, COUNT(type_names), s);
}
