/* rules: the domain rules as data. Rule sets (schemas/rules/<name>.rules) with an effective
 * range of decision dates give disclosure periods, light penalties, repair channels and
 * deadlines; lists.tsv and authorities.tsv give list and producer facts. No period,
 * threshold or deadline is a literal in C code. */
#ifndef CREDSYNC_RULES_H
#define CREDSYNC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "vocab.h"

/* The list of enabled sets that means "every rule set, chosen by decision date" (also what a
 * NULL or empty list means). */
#define RULES_AUTO "auto"

/* Opaque: every rule set in a data directory plus the list and authority tables.
 * Immutable after load; share read-only. */
typedef struct rules rules;

/* Loads every <datadir>/rules/NAME.rules, <datadir>/data/lists.tsv and
 * <datadir>/data/authorities.tsv. enabled: comma-separated rule set names in force, in that
 * order (an operator's override); NULL, "" or RULES_AUTO: every set, ordered by effective_from.
 * For a decision date the last enabled set whose range covers it for the producer
 * (effective_from.P, else effective_from) governs.
 * Returns NULL with "FILE:LINE: reason" in err. */
rules *rules_load(const char *datadir, const char *enabled, char *err, size_t errsz);
void rules_free(rules *r); /* NULL is fine */

/* What a penalty decision says, as the rules need it. */
struct penalty_facts {
	cs_date decided_on;
	unsigned categories; /* mask of enum category, at least one */
	enum field field;
	bool has_fine;
	int64_t fine_fen;     /* fine in fen (0.01 yuan) when has_fine */
	const char *producer; /* authority code; decides the repair channel and the light rule */
	enum severity severity;
	/* Where a light penalty's period starts (SAMR Order 45 art. 13: from its publication):
	 * the publication date the producer sent, else the day credsync first disclosed it.
	 * 0 or DATE_NONE: unknown (then the next one, and last the decision date). */
	cs_date published_on;
	cs_date disclosed_on;
};

/* What a light penalty's period was counted from. */
enum light_basis {
	LIGHT_FROM_NONE = 0,
	LIGHT_FROM_PUBLICATION,
	LIGHT_FROM_FIRST_DISCLOSURE,
	LIGHT_FROM_DECISION
};
const char *light_basis_name(enum light_basis b); /* "publication", ...; NULL for NONE */

struct periods {
	bool disclosable;        /* false: never shown (e.g. a warning only) */
	bool light;              /* light penalty: stops after the light period, no application */
	cs_date repairable_from; /* first day a repair may take effect; DATE_NONE if never */
	cs_date disclose_until;  /* last day shown if nobody repairs it */
	enum site channel;       /* the system that decides its repair */
	const char *rule_set;    /* name of the governing rule set; lives as long as the rules */
	int min_months;          /* minimum that applied; 0 when light or not disclosable */
	int max_months;          /* maximum (light: light period); 0 when not disclosable */
	cs_date light_from;      /* light: the day its period is counted from; else DATE_NONE */
	enum light_basis light_basis; /* light: which date light_from is */
	/* The set classes penalties by severity and the event had none: taken as general. */
	bool severity_assumed;
};

/* Computes the periods of a penalty under the rule set that governs its decision date (and
 * producer). A set that classes by severity takes a penalty without one as general
 * (ret->severity_assumed). repairable_from is DATE_NONE when the set's minimum equals its
 * maximum.
 * Returns 0, or -1 with a reason in err (no rule set covers the date). */
int rules_periods(const rules *r, const struct penalty_facts *pf, struct periods *ret, char *err,
                  size_t errsz);

/* The repair channel of a penalty made by producer (gsxt for nm-samr, creditchina else). */
enum site rules_channel(const rules *r, const char *producer, cs_date decided_on);

/* Working-day deadlines of the rule set governing `on` (default set when none covers it). */
struct deadlines {
	int obligation_workdays;         /* a site applies an out message within this many */
	int accept_workdays[SITE_COUNT]; /* repair application accepted within, by channel */
	int decide_workdays[SITE_COUNT]; /* decided within, counted from acceptance */
	int abnormal_decide_workdays;    /* an application to leave an abnormal list (gsxt) */
};
void rules_deadlines(const rules *r, cs_date on, struct deadlines *ret);

/* Lists (lists.tsv). */
bool rules_list_known(const rules *r, const char *list);
bool rules_list_owner(const rules *r, const char *list, const char *producer);
int rules_list_kind(const rules *r, const char *list); /* enum list_kind, or -1 */
const char *rules_list_name_zh(const rules *r, const char *list);

/* Producers (authorities.tsv): authorities and the two disclosure systems. */
bool rules_producer_known(const rules *r, const char *producer);
bool rules_producer_is_system(const rules *r, const char *producer);
/* The i-th producer of authorities.tsv (0-based), or NULL past the end. */
const char *rules_producer_at(const rules *r, size_t i);
const char *rules_producer_name_zh(const rules *r, const char *producer);

/* Public addresses where a subject applies for repair, by channel (from the rule set). */
const char *rules_repair_url(const rules *r, enum site channel);

/* Additions (after the contract above was written). */

/* Facts of the rule set governing a decision date, for notices and operators. Strings live
 * as long as the rules. Returns 0, or -1 with a reason in err when no enabled set covers it. */
struct rule_set_info {
	const char *name;
	cs_date effective_from;
	cs_date effective_to; /* DATE_NONE when open-ended */
	bool by_severity;     /* periods come from the event's severity */
	int min_months;       /* general minimum and maximum; 0 when by_severity */
	int max_months;
	int field_min_months[FIELD_COUNT]; /* 0 when the set has no minimum for the field */
	const char *notice_basis;          /* legal basis cited by the notice, "" when none */
};
int rules_rule_set(const rules *r, cs_date decided_on, struct rule_set_info *ret, char *err,
                   size_t errsz);
/* The same for a penalty of producer (NULL: the set's general start). */
int rules_rule_set_for(const rules *r, cs_date decided_on, const char *producer,
                       struct rule_set_info *ret, char *err, size_t errsz);

/* The earliest decision date any enabled set that classes by severity governs (for any
 * producer), or DATE_NONE when none does. */
cs_date rules_severity_from(const rules *r);

/* The repair address of a channel under the rule set governing `on` (default set when none
 * covers it). */
const char *rules_repair_url_on(const rules *r, enum site channel, cs_date on);

#endif
