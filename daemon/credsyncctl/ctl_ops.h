/* ctl_ops: what credsyncctl's operator subcommands (status, history, rejects, resend) share:
 * their common options, opening the configuration and the database, instants shown in
 * Beijing time, JSON fields from query results, and aligned text tables. */
#ifndef CREDSYNC_CTL_OPS_H
#define CREDSYNC_CTL_OPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ctl_db.h"

/* The extra options a subcommand accepts (bits of ctl_ops_args' extras). */
#define CTL_OPT_PRODUCER 1u /* --producer P */
#define CTL_OPT_SINCE    2u /* --since T */
#define CTL_OPT_LIMIT    4u /* --limit N */

struct ctl_ops_args {
	const char *config; /* -c / --config FILE */
	bool json;
	const char *producer; /* NULL when not given */
	const char *since;
	const char *limit;
	char **rest; /* the positional arguments */
	int n_rest;
};

/* Parses -c FILE, --json, --help and the extras of argv (argv[0] = cmd); n_rest must be the
 * number of positional arguments. help prints the full help. Returns -1 to go on, 0 after
 * printing the help, 2 after a usage error (printed with the synopsis). */
int ctl_ops_args(const char *cmd, const char *synopsis, void (*help)(FILE *), unsigned extras,
                 int n_rest, int argc, char **argv, struct ctl_ops_args *ret);

/* Loads the configuration file and connects to its database. Returns 0, or 1 after printing
 * "credsyncctl CMD: reason" (*ret_cfg and *ret_db are then NULL). */
int ctl_ops_open(const char *cmd, const char *config_path, bool read_only, config **ret_cfg,
                 ctl_db **ret_db);

/* SQL for an instant column as whole Unix seconds (the queries select instants this way). */
#define CTL_EPOCH(col) "floor(extract(epoch FROM " col "))::bigint"

/* An instant in Beijing time: text "YYYY-MM-DD HH:MM:SS" into buf (TIME_STRLEN bytes), "-"
 * for a NULL field; JSON RFC 3339 with +08:00, or null. */
const char *ctl_time_text(const PGresult *res, int row, int col, char *buf);
json_t *ctl_time_json(const PGresult *res, int row, int col);
/* Now, formatted the same ways. */
const char *ctl_now_text(char *buf);
json_t *ctl_now_json(void);

/* A field as a JSON string, integer or boolean ('t'), null when NULL. */
json_t *ctl_json_str(const PGresult *res, int row, int col);
json_t *ctl_json_int(const PGresult *res, int row, int col);
json_t *ctl_json_bool(const PGresult *res, int row, int col);
/* A text field for a table: "-" when NULL or empty. */
const char *ctl_text(const PGresult *res, int row, int col);

/* The end of building a JSON answer: out when ok, else NULL (out released). */
json_t *ctl_json_done(json_t *out, bool ok);

/* Sets key of obj to value (stolen); returns -1 when either is NULL (out of memory). */
int ctl_json_set(json_t *obj, const char *key, json_t *value);

/* How a result column becomes a JSON member: column i of the result is cols[i]. */
enum ctl_col_kind {
	CTL_COL_STR,
	CTL_COL_INT,
	CTL_COL_BOOL,
	CTL_COL_TIME, /* Unix seconds (CTL_EPOCH) -> RFC 3339 +08:00 */
	CTL_COL_JSON, /* JSON text (such as array_to_json) -> its value */
	CTL_COL_SKIP, /* for the text output only */
};
struct ctl_col {
	const char *name;
	enum ctl_col_kind kind;
};
/* Appends one object per row of res to array. Returns 0, or -1 when out of memory. */
int ctl_json_rows(json_t *array, const PGresult *res, const struct ctl_col *cols, size_t n_cols);

/* An aligned table: columns padded to their widest cell (East Asian wide characters count
 * two), two spaces apart, the last column not padded. Cells are copied. */
typedef struct ctl_table ctl_table;
ctl_table *ctl_table_new(size_t n_cols, const char *const *headers); /* NULL: out of memory */
int ctl_table_add(ctl_table *t, const char *const *cells);           /* NULL cells print as "-" */
size_t ctl_table_rows(const ctl_table *t);
void ctl_table_print(const ctl_table *t, FILE *fp, const char *indent);
void ctl_table_free(ctl_table *t); /* NULL ok */

/* Reports an out-of-memory or database error of cmd to stderr; returns 1. */
int ctl_ops_fail(const char *cmd, const char *reason);

#endif
