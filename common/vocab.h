/* vocab: the domain's vocabulary in one place. Every enum whose values travel as text (in
 * messages, rule files, the database, the CLI and the logs) is defined here with its names;
 * the names are a contract (docs/ and schemas/json/), so they never change spelling.
 * Pure: no I/O, no allocation. */
#ifndef CREDSYNC_VOCAB_H
#define CREDSYNC_VOCAB_H

#include <stddef.h>

/* Penalty categories, as bits of a mask. */
enum category {
	CAT_WARNING = 1u << 0,
	CAT_CRITICISM = 1u << 1,
	CAT_FINE = 1u << 2,
	CAT_CONFISCATION = 1u << 3,
	CAT_LICENSE_SUSPENSION = 1u << 4,
	CAT_QUALIFICATION_DOWNGRADE = 1u << 5,
	CAT_LICENSE_REVOCATION = 1u << 6,
	CAT_BUSINESS_RESTRICTION = 1u << 7,
	CAT_PRODUCTION_SUSPENSION = 1u << 8,
	CAT_CLOSURE = 1u << 9,
	CAT_PRACTICE_RESTRICTION = 1u << 10,
	CAT_DETENTION = 1u << 11,
	CAT_OTHER = 1u << 12,
};
#define CAT_COUNT 13

enum field {
	FIELD_OTHER = 0,
	FIELD_FOOD,
	FIELD_DRUG,
	FIELD_SPECIAL_EQUIPMENT,
	FIELD_WORK_SAFETY,
	FIELD_FIRE
};
#define FIELD_COUNT 6

enum severity { SEV_NONE = 0, SEV_MINOR, SEV_GENERAL, SEV_SERIOUS };
#define SEV_COUNT 4 /* SEV_NONE included */

/* The two disclosure systems: each is a site that applies out messages and a repair
 * channel. */
enum site { SITE_CREDITCHINA = 0, SITE_GSXT = 1 };
#define SITE_COUNT 2

enum list_kind { LIST_ABNORMAL, LIST_SERIOUS };

enum event_type {
	EV_PENALTY_ISSUED,
	EV_PENALTY_REPAIRED,
	EV_PENALTY_REVOKED,
	EV_LIST_ADDED,
	EV_LIST_REMOVED,
	EV_REPAIR_APPLIED,
	EV_REPAIR_ACCEPTED,
	EV_REPAIR_DECLINED,
	EV_REPAIR_DENIED,
};
#define EV_TYPE_COUNT 9

/* Reject reasons. */
enum reject_reason {
	REJ_NONE = 0,
	REJ_MALFORMED_JSON,
	REJ_TOO_LARGE,
	REJ_UNSUPPORTED_SCHEMA,
	REJ_MISSING_FIELD,
	REJ_INVALID_FIELD,
	REJ_INVALID_USCC,
	REJ_UNKNOWN_TYPE,
	REJ_PRODUCER_MISMATCH,
	REJ_UNKNOWN_LIST,
	REJ_NOT_LIST_OWNER,
	REJ_NOT_ENTRY_OWNER,
	REJ_WRONG_CHANNEL,
	REJ_BEFORE_MINIMUM_PERIOD,
	REJ_NOT_REPAIRABLE,
};
#define REJ_COUNT 15

/* The three record kinds (docs/RULES.md section 5). */
enum record_kind { KIND_PENALTY, KIND_ABNORMAL, KIND_SERIOUS };

/* Out messages (credit.out.<site>). */
enum out_type { OUT_DISCLOSE, OUT_TAKEDOWN, OUT_MUTUAL_RECOGNITION };

enum takedown_reason {
	TD_NONE = 0,
	TD_REPAIRED,
	TD_REMOVED,
	TD_REVOKED,
	TD_EXPIRED,
	TD_LIGHT_EXPIRED,
	TD_NOT_DISCLOSABLE,
};

/* Where a record stands. */
enum rec_status {
	REC_SHOWN = 1, /* disclosed on both sites */
	REC_DOWN = 2,  /* was shown, taken down (end_reason says why) */
	REC_NEVER = 3, /* never shown: ended before its add arrived, or not disclosable */
};

/* What the reconciler made of one event. */
enum recon_outcome {
	RO_APPLIED,  /* state changed (and maybe obligations) */
	RO_STALE,    /* older than the record's state: kept, no effect */
	RO_NOOP,     /* valid but changes nothing (e.g. repair application tracking) */
	RO_REJECTED, /* refused: reject filled */
};

/* What one consumed message became, as the inbound log records it: the reconciler's outcome
 * for an event, or what happened before it. */
enum inbound_outcome {
	INB_APPLIED,
	INB_STALE,
	INB_NOOP,
	INB_REJECTED,
	INB_DUPLICATE, /* an event id already applied */
	INB_ACK,       /* an acknowledgement from a site */
	INB_IGNORED,   /* a topic credsync does not read */
};

/* Value -> name: NULL for a value out of range, for REJ_NONE and for TD_NONE (except where
 * said). category_name takes one bit. */
const char *category_name(enum category c);
const char *field_name(enum field f);
const char *severity_name(enum severity s);
const char *site_name(enum site s);
/* "credit.out.<site>": where the site's out messages go (docs/CONTRACT.md). */
const char *site_out_topic(enum site s);
const char *list_kind_name(enum list_kind k);
const char *event_type_name(enum event_type t);
const char *reject_reason_name(enum reject_reason r);
const char *record_kind_name(enum record_kind k);
const char *out_type_name(enum out_type t);
const char *takedown_reason_name(enum takedown_reason r);
const char *rec_status_name(enum rec_status s);           /* "unknown" out of range */
const char *recon_outcome_name(enum recon_outcome o);     /* "unknown" out of range */
const char *inbound_outcome_name(enum inbound_outcome o); /* "unknown" out of range */

/* Name -> value: -1 for NULL or an unknown name. category_parse returns the bit. */
int category_parse(const char *s);
int field_parse(const char *s);
int severity_parse(const char *s);
int site_parse(const char *s);
int list_kind_parse(const char *s);
int event_type_parse(const char *s);
int reject_reason_parse(const char *s);
int record_kind_parse(const char *s);
int out_type_parse(const char *s);
int takedown_reason_parse(const char *s);
int rec_status_parse(const char *s);

/* The inbound outcome of an event the reconciler handled. */
enum inbound_outcome inbound_outcome_of(enum recon_outcome o);

/* A category mask as its names joined by commas in bit order ("warning,fine") into buf.
 * Returns the length, or -1 when a bit has no name or buf is too small. */
int category_mask_format(unsigned mask, char *buf, size_t bufsz);
/* The mask of len bytes of comma-joined category names (exact names, no spaces, none empty).
 * Returns 0, or -1 when a name is unknown or empty. */
int category_mask_parse(const char *s, size_t len, unsigned *ret);

#endif
