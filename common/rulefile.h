/* rulefile: one rule set file (schemas/rules/NAME.rules) read and checked into a struct
 * ruleset. Internal to the rules module (rules.c is its only user); the format is documented
 * in schemas/rules/README.md. */
#ifndef CREDSYNC_RULEFILE_H
#define CREDSYNC_RULEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "date.h"
#include "vocab.h"

#define RULEFILE_NAME_MAX 63 /* longest rule set, producer or list code */

/* The periods of one severity class: hidden (not disclosed) or min..max months. */
struct sev_rule {
	bool hidden;
	int min_months, max_months; /* 0: not set */
};

struct channel_rule {
	char *producer;
	enum site site;
};

/* A start of the set for one producer (an authority, or a disclosure system for the
 * deadlines of its channel) other than the set's effective_from. */
struct from_rule {
	char *producer;
	cs_date from;
};

/* One rule set; every period in months, 0 meaning "not set". */
struct ruleset {
	char *name;
	cs_date from, to;        /* to = DATE_NONE: open-ended */
	struct from_rule *froms; /* effective_from.P */
	size_t nfroms;
	int min_months, max_months;
	int field_min[FIELD_COUNT];
	int cat_min[CAT_COUNT], cat_max[CAT_COUNT];
	unsigned not_disclosable;
	unsigned light_cats; /* 0: no light rule */
	int light_months;
	int64_t light_fine_below_fen; /* -1: not set */
	char *light_producers;        /* ",a,b,": the authorities the light rule covers */
	enum site channel_default;
	struct channel_rule *channels;
	size_t nchannels;
	int obligation;
	int accept[SITE_COUNT], decide[SITE_COUNT];
	int abnormal_decide; /* leaving an abnormal-operation list; 0: gsxt's decide */
	char *repair_url[SITE_COUNT];
	bool by_severity;
	struct sev_rule sev[SEV_COUNT];
	char *notice_basis;
};

/* The producers already loaded (authorities.tsv), asked about by `channel.P`,
 * `effective_from.P` and `light.producers` keys: known() and is_system() are called with ctx.
 * Passed in so that a rule file needs nothing of the rules module. */
struct rulefile_producers {
	bool (*known)(const void *ctx, const char *producer);
	bool (*is_system)(const void *ctx, const char *producer); /* a disclosure system */
	const void *ctx;
};

/* Reads the rule file at path into *ret. stem: the file name without ".rules" (the `name` key
 * must equal it). Returns 0 (free with rulefile_free), or -1 with "FILE:LINE: reason" or
 * "FILE: reason" in err and nothing to free. */
int rulefile_load(const struct rulefile_producers *pr, const char *path, const char *stem,
                  struct ruleset *ret, char *err, size_t errsz);
/* The same from an open stream (read to its end, not closed); path names it in messages.
 * For the fuzz target, which reads from memory. */
int rulefile_read(const struct rulefile_producers *pr, FILE *fp, const char *path, const char *stem,
                  struct ruleset *ret, char *err, size_t errsz);
void rulefile_free(struct ruleset *rs);

/* Where a data file is being read, for "FILE:LINE: reason" (line 0: "FILE: reason"). */
struct rulefile_src {
	const char *path;
	int line;
	char *err;
	size_t errsz;
};
/* Writes the located reason into src->err; returns -1. */
__attribute__((format(printf, 2, 3))) int rulefile_fail(const struct rulefile_src *src,
                                                        const char *fmt, ...);

/* strdup, or NULL with "out of memory" located in src->err. */
char *rulefile_dup(const struct rulefile_src *src, const char *s);
/* Strips spaces, tabs and line ends at both ends, in place; returns the start. */
char *rulefile_trim(char *s);
/* A code of a-z, 0-9, '-', '_' and (not first) '.', 1..max bytes. */
bool rulefile_valid_code(const char *s, size_t max);

#endif
