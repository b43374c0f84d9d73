/* ctl_ops_retry: `credsyncctl retry -c FILE [--json] ID|--all-failed`: applies again the
 * messages the database refused for good (inbound outcome 'failed'), once their cause is
 * fixed, through credsyncd's own pipeline, in the order they were consumed per subject. */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "ctl.h"
#include "ctl_ops.h"
#include "event.h"
#include "log.h"
#include "pipeline.h"
#include "rules.h"
#include "store.h"

#define CMD      "retry"
#define SYNOPSIS "retry -c FILE [--json] ID|--all-failed"

/* Deadlock victims (a running credsyncd applying the same subject) are tried again. */
#define CONFLICT_TRIES 10

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncctl " SYNOPSIS "\n"
	    "\n"
	    "Applies again the messages the database refused for good (shown as \"failed\"\n"
	    "by credsyncctl rejects and status): once their cause is fixed (a trigger\n"
	    "dropped, a constraint corrected), each is applied as credsyncd would have\n"
	    "applied it, in its own transaction on credsyncd's database (the pg.conninfo\n"
	    "of FILE, credsyncd's configuration file), and its inbound row gets the outcome\n"
	    "it has now (applied, stale, noop, duplicate, rejected...). What it owes the\n"
	    "sites is queued in the outbox, which a running credsyncd publishes at its next\n"
	    "round. A retry is exactly once: the failed row is replaced in the same\n"
	    "transaction, so two retries of one message apply it once.\n"
	    "\n"
	    "ID is the message's event id, or TOPIC:PARTITION:OFFSET (for a message without\n"
	    "one). The messages of one subject are applied in the order they were consumed:\n"
	    "ID is refused while an earlier failed message of its subject is not retried;\n"
	    "with --all-failed, every failed message goes, oldest first, and a subject whose\n"
	    "message fails again keeps its later messages failed, untouched.\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --all-failed       every failed message\n"
	    "  --json             print [{\"topic\", \"partition\", \"offset\", \"event_id\",\n"
	    "                     \"uscc\", \"outcome\", \"sqlstate\", \"error\"}...]: outcome\n"
	    "                     is the new one, \"failed\" (with why) or \"skipped\"\n"
	    "  --help             print this help\n"
	    "\n"
	    "Exit status: 0 every message asked for was applied, 1 one failed again, was\n"
	    "skipped, is not a failed message, or the database could not be used, 2 usage\n"
	    "error.\n");
}

/* The unresolved failed messages, in the order they were consumed: stored_at orders the
 * transactions that gave up on them, the position orders those of one partition. */
static const char failed_sql[] =
    "SELECT topic, partition, \"offset\", event_id, uscc, payload, "
    "(extract(epoch FROM kafka_ts) * 1000)::bigint FROM credsync.inbound "
    "WHERE outcome = 'failed' ORDER BY stored_at, topic, partition, \"offset\"";

struct row {
	const char *topic, *event_id, *uscc;
	int32_t partition;
	int64_t offset;
	const char *outcome, *sqlstate;
	char error[1024];
};

/* Whether row i of r is what ID names: an event id, or TOPIC:PARTITION:OFFSET. */
static bool
row_is(const PGresult *r, int i, const char *id, const char *uuid)
{
	char where[400];
	if (uuid[0] != '\0')
		return strcmp(ctl_db_str(r, i, 3), uuid) == 0;
	snprintf(where, sizeof(where), "%s:%s:%s", ctl_db_str(r, i, 0), ctl_db_str(r, i, 1),
	         ctl_db_str(r, i, 2));
	return strcmp(where, id) == 0;
}

static bool
subject_in(const char *const *usccs, size_t n, const char *uscc)
{
	for (size_t i = 0; uscc[0] != '\0' && i < n; i++)
		if (strcmp(usccs[i], uscc) == 0)
			return true;
	return false;
}

/* Applies row i of r again; fills out. Returns 0 when it took effect (or was retried by
 * someone else meanwhile), -1 when it failed again. */
static int
retry_one(pipeline *p, store *st, const PGresult *r, int i, struct row *out)
{
	size_t len = 0;
	unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 5), &len);
	struct pipeline_msg m = {
	    .topic = out->topic,
	    .partition = out->partition,
	    .offset = out->offset,
	    .ts_ms = ctl_db_null(r, i, 6) ? -1 : ctl_db_i64(r, i, 6),
	    .payload = bytes,
	    .len = len,
	};
	int rc = -1;
	if (bytes == NULL) {
		snprintf(out->error, sizeof(out->error), "out of memory");
		out->outcome = "failed";
		return -1;
	}
	for (int tries = 0; tries < CONFLICT_TRIES; tries++) {
		rc = pipeline_retry(p, st, &m, &out->outcome, out->error, sizeof(out->error));
		if (rc != STORE_CONFLICT)
			break;
	}
	PQfreemem(bytes);
	if (rc == 0)
		return 0;
	if (rc == PIPELINE_GONE) {
		out->outcome = "retried already";
		return 0;
	}
	out->outcome = "failed";
	out->sqlstate = store_sqlstate(st)[0] ? store_sqlstate(st) : NULL;
	if (store_sqlmsg(st)[0] != '\0')
		snprintf(out->error, sizeof(out->error), "%s", store_sqlmsg(st));
	char ignore[256];
	(void)store_reconnect(st, ignore, sizeof(ignore)); /* a clean session for the next */
	return -1;
}

static void
print_row(const struct row *w, json_t *list)
{
	if (list != NULL) {
		json_t *o = json_object();
		ctl_json_set(o, "topic", json_string(w->topic));
		ctl_json_set(o, "partition", json_integer(w->partition));
		ctl_json_set(o, "offset", json_integer(w->offset));
		ctl_json_set(o, "event_id",
		             w->event_id[0] ? json_string(w->event_id) : json_null());
		ctl_json_set(o, "uscc", w->uscc[0] ? json_string(w->uscc) : json_null());
		ctl_json_set(o, "outcome", json_string(w->outcome));
		ctl_json_set(o, "sqlstate", w->sqlstate ? json_string(w->sqlstate) : json_null());
		ctl_json_set(o, "error", w->error[0] ? json_string(w->error) : json_null());
		json_array_append_new(list, o);
		return;
	}
	printf("%s [%d] @ %lld event_id=%s: %s", w->topic, (int)w->partition, (long long)w->offset,
	       w->event_id[0] ? w->event_id : "-", w->outcome);
	if (w->error[0] != '\0')
		printf(" (%s%s%s)", w->sqlstate ? w->sqlstate : "", w->sqlstate ? ": " : "",
		       w->error);
	printf("\n");
}

static int
retry_rows(const config *cfg, const PGresult *r, const char *id, const char *uuid, bool json)
{
	char err[1024];
	int rc = 0, n = PQntuples(r);
	rules *ru = rules_load(config_str(cfg, CFG_DATA_DIR), config_str(cfg, CFG_RULES_SETS), err,
	                       sizeof(err));
	calendar *cal = NULL;
	store *st = NULL;
	pipeline *p = NULL;
	const char **stuck = calloc((size_t)n + 1, sizeof(*stuck));
	size_t n_stuck = 0;
	json_t *list = json ? json_array() : NULL;

	if (ru != NULL) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/data/calendar-cn.txt",
		         config_str(cfg, CFG_DATA_DIR));
		cal = calendar_load(path, err, sizeof(err));
	}
	if (ru != NULL && cal != NULL)
		st =
		    store_open(config_str(cfg, CFG_PG_CONNINFO),
		               (int)config_int(cfg, CFG_PG_STATEMENT_TIMEOUT_MS), err, sizeof(err));
	if (st != NULL)
		p = pipeline_new(st, ru, cal, "credsyncctl", "credsyncctl retry");
	if (p == NULL || stuck == NULL || (json && list == NULL)) {
		rc = ctl_ops_fail(CMD, st != NULL ? "out of memory" : err);
		goto out;
	}
	bool found = id == NULL;
	for (int i = 0; i < n; i++) {
		const char *uscc = ctl_db_str(r, i, 4);
		bool wanted = id == NULL || row_is(r, i, id, uuid);
		struct row w = {
		    .topic = ctl_db_str(r, i, 0),
		    .partition = (int32_t)ctl_db_i64(r, i, 1),
		    .offset = ctl_db_i64(r, i, 2),
		    .event_id = ctl_db_str(r, i, 3),
		    .uscc = uscc,
		};
		if (!wanted) {
			/* An earlier failed message of the subject stands in the way. */
			if (uscc[0] != '\0' && !subject_in(stuck, n_stuck, uscc))
				stuck[n_stuck++] = uscc;
			continue;
		}
		found = true;
		if (subject_in(stuck, n_stuck, uscc)) {
			w.outcome = "skipped";
			snprintf(w.error, sizeof(w.error),
			         "an earlier failed message of subject %s is not applied yet",
			         uscc);
			rc = 1;
		} else if (retry_one(p, st, r, i, &w) < 0) {
			if (uscc[0] != '\0')
				stuck[n_stuck++] = uscc;
			rc = 1;
		}
		print_row(&w, list);
		if (id != NULL)
			break;
	}
	if (!found) {
		fprintf(stderr, "credsyncctl " CMD ": no failed message %s\n", id);
		rc = 1;
	} else if (list != NULL) {
		ctl_print_json(list);
		list = NULL;
	} else if (n == 0) {
		printf("no failed messages\n");
	}
out:
	json_decref(list);
	free((void *)stuck);
	pipeline_free(p);
	store_close(st);
	calendar_free(cal);
	rules_free(ru);
	return rc;
}

int
ctl_retry(int argc, char **argv)
{
	struct ctl_ops_args a;
	config *cfg;
	ctl_db *db;
	char err[1024], uuid[UUID_STRLEN] = "";
	bool all = false;
	/* --all-failed stands for the ID: take it out before the common options. */
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int n = 0;
	if (args == NULL)
		return ctl_ops_fail(CMD, "out of memory");
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--all-failed") == 0)
			all = true;
		else
			args[n++] = argv[i];
	int rc = ctl_ops_args(CMD, SYNOPSIS, help, 0, all ? 0 : 1, n, args, &a);
	if (rc >= 0)
		goto done;
	const char *id = all ? NULL : a.rest[0];
	if (id != NULL && !event_uuid_normalise(id, uuid) && strchr(id, ':') == NULL) {
		fprintf(stderr,
		        "credsyncctl " CMD
		        ": ID is neither an event id (a UUID) nor TOPIC:PARTITION:OFFSET\n");
		rc = 2;
		goto done;
	}
	if ((rc = ctl_ops_open(CMD, a.config, true, &cfg, &db)) != 0)
		goto done;
	PGresult *r = ctl_db_query(db, "could not read the failed messages", failed_sql, 0, NULL,
	                           err, sizeof(err));
	if (r == NULL)
		rc = ctl_ops_fail(CMD, err);
	else
		rc = retry_rows(cfg, r, id, uuid, a.json);
	PQclear(r);
	ctl_db_close(db);
	config_free(cfg);
done:
	free(args);
	return rc;
}
