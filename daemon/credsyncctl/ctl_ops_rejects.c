/* ctl_ops_rejects: `credsyncctl rejects -c FILE [--producer P] [--since T] [--limit N]`: the
 * inbound messages credsyncd refused, newest first, with the reason and where they were. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_ops.h"
#include "date.h"
#include "uuid5.h"

#define CMD      "rejects"
#define SYNOPSIS "rejects -c FILE [--producer P] [--since T] [--limit N] [--json]"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     100000

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncctl " SYNOPSIS "\n"
	    "\n"
	    "The inbound messages credsyncd refused (each was also published on\n"
	    "credit.reject.<producer>), newest first, from its database (the pg.conninfo of\n"
	    "FILE, credsyncd's configuration file): when consumed, the producer, the reason\n"
	    "code, where it was read (topic [partition] @ offset), the subject and the\n"
	    "detail. Times are Beijing time (UTC+08:00).\n"
	    "With them, reason \"failed\": the messages the database refused for good (the\n"
	    "detail is its SQLSTATE and message), not the producer's fault and not published\n"
	    "as rejects; credsyncctl retry applies them once the cause is fixed.\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --producer P       only messages of producer P (read from credit.in.P)\n"
	    "  --since T          only messages consumed at or after T: RFC 3339 with an\n"
	    "                     offset, or a date YYYY-MM-DD (its start in Beijing)\n"
	    "  --limit N          at most N messages, 1 to %d (default %d)\n"
	    "  --json             print {\"total\": M, \"rejects\": [...]}; M counts every match,\n"
	    "                     beyond the limit too; each reject has a reject_id, the id\n"
	    "                     of its credit.reject message (for credsyncctl resend),\n"
	    "                     an outcome (rejected or failed) and a sqlstate (failed)\n"
	    "  --help             print this help\n"
	    "\n"
	    "Exit status: 0 success (also when nothing was refused), 1 the database could\n"
	    "not be read, 2 usage error.\n",
	    LIMIT_MAX, LIMIT_DEFAULT);
}

/* Failed messages (refused by the database, not by credsyncd) come with them: reason "failed",
 * the server's SQLSTATE and message. */
static const char rejects_sql[] = "SELECT " CTL_EPOCH(
    "stored_at") ", producer, CASE outcome WHEN 'failed' THEN 'failed' ELSE reason END, "
                 "topic, partition, \"offset\", uscc, event_id, "
                 "CASE outcome WHEN 'failed' THEN sqlstate || ': ' || error ELSE detail "
                 "END, " CTL_EPOCH(
                     "kafka_ts") ", count(*) OVER (), outcome, sqlstate "
                                 "FROM credsync.inbound WHERE outcome IN ('rejected', 'failed') "
                                 "AND ($1::text IS NULL OR producer = $1::text OR topic = "
                                 "'credit.in.' || $1::text) "
                                 "AND ($2::bigint IS NULL OR stored_at >= "
                                 "to_timestamp($2::bigint)) "
                                 "ORDER BY stored_at DESC, topic, partition, \"offset\" DESC LIMIT "
                                 "$3::integer";
static const struct ctl_col rejects_cols[] = {
    {"stored_at", CTL_COL_TIME}, {"producer", CTL_COL_STR},  {"reason", CTL_COL_STR},
    {"topic", CTL_COL_STR},      {"partition", CTL_COL_INT}, {"offset", CTL_COL_INT},
    {"uscc", CTL_COL_STR},       {"event_id", CTL_COL_STR},  {"detail", CTL_COL_STR},
    {"kafka_ts", CTL_COL_TIME},  {"total", CTL_COL_SKIP},    {"outcome", CTL_COL_STR},
    {"sqlstate", CTL_COL_STR},
};

/* --since: an instant with its offset, or a Beijing day. Returns 0 or -1. */
static int
parse_since(const char *s, int64_t *ret)
{
	int offset_min;
	cs_date d;

	if (time_parse_rfc3339(s, ret, &offset_min) == 0)
		return 0;
	if (date_parse(s, &d) == 0) {
		*ret = (int64_t)d * 86400 - BEIJING_OFFSET_MIN * 60;
		return 0;
	}
	return -1;
}

static int
parse_limit(const char *s, int *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < 1 || n > LIMIT_MAX)
		return -1;
	*ret = (int)n;
	return 0;
}

/* The id credsyncd gave the message's reject (pipeline.c: uuid5 of its position). */
static void
reject_id(const PGresult *r, int i, char ret[37])
{
	char name[512];

	snprintf(name, sizeof(name), "reject|%s|%s|%s", ctl_db_str(r, i, 3), ctl_db_str(r, i, 4),
	         ctl_db_str(r, i, 5));
	uuid5(name, ret);
}

static json_t *
rejects_json(const PGresult *r)
{
	json_t *out = json_object(), *list = json_array();
	bool ok = ctl_json_rows(list, r, rejects_cols, N(rejects_cols)) == 0;

	for (int i = 0; ok && i < PQntuples(r); i++) {
		char id[37];
		reject_id(r, i, id);
		/* A failed message got no reject message. */
		bool failed = strcmp(ctl_db_str(r, i, 11), "failed") == 0;
		ok = ctl_json_set(json_array_get(list, (size_t)i), "reject_id",
		                  failed ? json_null() : json_string(id)) == 0;
	}
	ok = ok &&
	     ctl_json_set(out, "total",
	                  json_integer(PQntuples(r) > 0 ? (json_int_t)ctl_db_i64(r, 0, 10) : 0)) ==
	         0 &&
	     ctl_json_set(out, "rejects", json_incref(list)) == 0;
	json_decref(list);
	return ctl_json_done(out, ok);
}

static int
rejects_text(const PGresult *r)
{
	static const char *const head[] = {"CONSUMED (UTC+8)", "PRODUCER", "REASON",
	                                   "READ FROM",        "USCC",     "DETAIL"};
	ctl_table *t;

	if (PQntuples(r) == 0) {
		printf("no refused messages\n");
		return 0;
	}
	if ((t = ctl_table_new(N(head), head)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char when[TIME_STRLEN], where[300];
		snprintf(where, sizeof(where), "%s [%s] @ %s", ctl_db_str(r, i, 3),
		         ctl_db_str(r, i, 4), ctl_db_str(r, i, 5));
		const char *row[] = {ctl_time_text(r, i, 0, when),
		                     ctl_text(r, i, 1),
		                     ctl_text(r, i, 2),
		                     where,
		                     ctl_text(r, i, 6),
		                     ctl_text(r, i, 8)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	ctl_table_print(t, stdout, "");
	long long total = (long long)ctl_db_i64(r, 0, 10);
	if (total > PQntuples(r))
		printf("the newest %d of %lld refused messages (--limit shows more)\n",
		       PQntuples(r), total);
	else
		printf("%lld refused message%s\n", total, total == 1 ? "" : "s");
	ctl_table_free(t);
	return 0;
}

int
ctl_rejects(int argc, char **argv)
{
	struct ctl_ops_args a;
	config *cfg;
	ctl_db *db;
	char err[1024], since_s[24], limit_s[16];
	int64_t since = 0;
	int limit = LIMIT_DEFAULT;
	int rc = ctl_ops_args(CMD, SYNOPSIS, help, CTL_OPT_PRODUCER | CTL_OPT_SINCE | CTL_OPT_LIMIT,
	                      0, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (a.since != NULL && parse_since(a.since, &since) < 0) {
		fprintf(stderr,
		        "credsyncctl " CMD ": --since \"%s\" is neither an RFC 3339 date-time with "
		        "an offset nor a date YYYY-MM-DD\n",
		        a.since);
		return 2;
	}
	if (a.limit != NULL && parse_limit(a.limit, &limit) < 0) {
		fprintf(stderr,
		        "credsyncctl " CMD ": --limit \"%s\" is not a whole number from 1 to %d\n",
		        a.limit, LIMIT_MAX);
		return 2;
	}
	if ((rc = ctl_ops_open(CMD, a.config, true, &cfg, &db)) != 0)
		return rc;
	snprintf(since_s, sizeof(since_s), "%lld", (long long)since);
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	const char *p[3] = {a.producer, a.since != NULL ? since_s : NULL, limit_s};
	PGresult *r =
	    ctl_db_query(db, "could not read the inbound log", rejects_sql, 3, p, err, sizeof(err));
	if (r == NULL) {
		rc = ctl_ops_fail(CMD, err);
	} else if (a.json) {
		json_t *out = rejects_json(r);
		if (out == NULL)
			rc = ctl_ops_fail(CMD, "out of memory");
		else
			ctl_print_json(out);
	} else if (rejects_text(r) < 0) {
		rc = ctl_ops_fail(CMD, "out of memory");
	}
	PQclear(r);
	ctl_db_close(db);
	config_free(cfg);
	return rc;
}
