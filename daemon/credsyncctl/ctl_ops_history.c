/* ctl_ops_history: `credsyncctl history -c FILE [--json] USCC`: everything credsync knows
 * about one subject: the messages received about it, its records and what each site was
 * told, in time order. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_ops.h"
#include "date.h"
#include "uscc.h"

#define CMD      "history"
#define SYNOPSIS "history -c FILE [--json] USCC"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
help(FILE *fp)
{
	fprintf(fp,
	        "usage: credsyncctl " SYNOPSIS "\n"
	        "\n"
	        "Everything credsyncd's database (the pg.conninfo of FILE, credsyncd's\n"
	        "configuration file) knows about the subject with Unified Social Credit Code\n"
	        "USCC, each part in time order:\n"
	        "  - the inbound messages about it: when consumed, from which producer, the\n"
	        "    event's type and decision number, the outcome (applied, stale, noop,\n"
	        "    duplicate, rejected) with the reason and detail of a refusal, and where it\n"
	        "    was read (topic [partition] @ offset);\n"
	        "  - its records (penalties and list entries) in their current state: status,\n"
	        "    decision date, repairable from, shown until, and how and when it ended;\n"
	        "  - the obligations sent to the sites: type, site, reason, due date, when the\n"
	        "    message was sent (the outbox row of the same id) and acknowledged.\n"
	        "Times are Beijing time (UTC+08:00).\n"
	        "\n"
	        "  -c, --config FILE  credsyncd's configuration file\n"
	        "  --json             print {\"uscc\", \"subject_name\", \"inbound\": [...],\n"
	        "                     \"records\": [...], \"obligations\": [...]}\n"
	        "  --help             print this help\n"
	        "\n"
	        "Exit status: 0 something is known, 1 nothing is known about USCC or the\n"
	        "database could not be read, 2 usage error (USCC is not a valid code).\n");
}

/* The event's type, decision and occurrence are in the payload only: added as the last three
 * columns of the JSON and text output (payload column 10 itself is not shown). */
static const char inbound_sql[] =
    "SELECT topic, partition, \"offset\", event_id, producer, outcome, reason, detail, " CTL_EPOCH(
        "kafka_ts") ", " CTL_EPOCH("stored_at") ", payload "
                                                "FROM credsync.inbound WHERE uscc = $1 "
                                                "ORDER BY stored_at, kafka_ts, topic, partition, "
                                                "\"offset\"";
static const struct ctl_col inbound_cols[] = {
    {"topic", CTL_COL_STR},      {"partition", CTL_COL_INT}, {"offset", CTL_COL_INT},
    {"event_id", CTL_COL_STR},   {"producer", CTL_COL_STR},  {"outcome", CTL_COL_STR},
    {"reason", CTL_COL_STR},     {"detail", CTL_COL_STR},    {"kafka_ts", CTL_COL_TIME},
    {"stored_at", CTL_COL_TIME}, {"payload", CTL_COL_SKIP},
};

static const char records_sql[] =
    "SELECT kind, list, decision_no, status, added, producer, subject_name, decided_on, "
    "array_to_json(categories)::text, field, channel, repairable_from, disclose_until, "
    "end_reason, ended_on, " CTL_EPOCH(
        "ended_at") ", ended_by, repair_decision_no, "
                    "add_event_id, end_event_id, " CTL_EPOCH("created_at") ", " CTL_EPOCH(
                        "updated_at") " FROM credsync.records WHERE uscc = $1 "
                                      "ORDER BY created_at, kind, list, decision_no";
static const struct ctl_col records_cols[] = {
    {"kind", CTL_COL_STR},           {"list", CTL_COL_STR},
    {"decision_no", CTL_COL_STR},    {"status", CTL_COL_STR},
    {"added", CTL_COL_BOOL},         {"producer", CTL_COL_STR},
    {"subject_name", CTL_COL_STR},   {"decided_on", CTL_COL_STR},
    {"categories", CTL_COL_JSON},    {"field", CTL_COL_STR},
    {"channel", CTL_COL_STR},        {"repairable_from", CTL_COL_STR},
    {"disclose_until", CTL_COL_STR}, {"end_reason", CTL_COL_STR},
    {"ended_on", CTL_COL_STR},       {"ended_at", CTL_COL_TIME},
    {"ended_by", CTL_COL_STR},       {"repair_decision_no", CTL_COL_STR},
    {"add_event_id", CTL_COL_STR},   {"end_event_id", CTL_COL_STR},
    {"created_at", CTL_COL_TIME},    {"updated_at", CTL_COL_TIME},
};

static const char obligations_sql[] =
    "SELECT o.id, o.site, o.type, o.reason, o.kind, o.list, o.decision_no, o.producer, "
    "o.due_date, o.disclose_until, o.repairable_from, o.rec_system, o.rec_decision_no, "
    "o.rec_repair_decision_no, o.rec_repaired_on, o.source_event_id, " CTL_EPOCH("o.received_at") ", " CTL_EPOCH("o.created_at") ", b.topic, " CTL_EPOCH(
        "b.sent_at") ", " CTL_EPOCH("o.acked_at") ", " CTL_EPOCH("o.ack_done_at") " FROM "
                                                                                  "credsync."
                                                                                  "obligations o "
                                                                                  "LEFT JOIN "
                                                                                  "credsync.outbox "
                                                                                  "b ON b.id = "
                                                                                  "o.id "
                                                                                  "WHERE o.uscc = "
                                                                                  "$1 ORDER BY "
                                                                                  "o.created_at, "
                                                                                  "o.received_at, "
                                                                                  "b.seq, o.site, "
                                                                                  "o.id";
static const struct ctl_col obligations_cols[] = {
    {"id", CTL_COL_STR},
    {"site", CTL_COL_STR},
    {"type", CTL_COL_STR},
    {"reason", CTL_COL_STR},
    {"kind", CTL_COL_STR},
    {"list", CTL_COL_STR},
    {"decision_no", CTL_COL_STR},
    {"producer", CTL_COL_STR},
    {"due_date", CTL_COL_STR},
    {"disclose_until", CTL_COL_STR},
    {"repairable_from", CTL_COL_STR},
    {"recognised_system", CTL_COL_STR},
    {"recognised_decision_no", CTL_COL_STR},
    {"recognised_repair_decision_no", CTL_COL_STR},
    {"recognised_repaired_on", CTL_COL_STR},
    {"source_event_id", CTL_COL_STR},
    {"received_at", CTL_COL_TIME},
    {"created_at", CTL_COL_TIME},
    {"topic", CTL_COL_STR},
    {"sent_at", CTL_COL_TIME},
    {"acked_at", CTL_COL_TIME},
    {"ack_done_at", CTL_COL_TIME},
};

/* What an inbound payload says of itself (malformed ones: nothing). */
struct event_facts {
	char type[64];
	char decision_no[256];
	char occurred_at[64];
};

static void
copy_member(json_t *obj, const char *key, char *buf, size_t bufsz)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(buf, bufsz, "%s", s != NULL ? s : "");
}

static void
event_facts(const PGresult *res, int row, int col, struct event_facts *ret)
{
	size_t len = 0;
	unsigned char *raw =
	    PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &len);
	json_t *ev = raw != NULL ? json_loadb((const char *)raw, len, 0, NULL) : NULL;

	memset(ret, 0, sizeof(*ret));
	PQfreemem(raw);
	if (ev == NULL)
		return;
	copy_member(ev, "type", ret->type, sizeof(ret->type));
	copy_member(ev, "occurred_at", ret->occurred_at, sizeof(ret->occurred_at));
	copy_member(json_object_get(ev, "record"), "decision_no", ret->decision_no,
	            sizeof(ret->decision_no));
	json_decref(ev);
}

/* A member from an event's own text: null when absent; when not UTF-8 (refused anyway). */
static json_t *
json_fact(const char *s)
{
	json_t *v = s[0] != '\0' ? json_string(s) : NULL;

	return v != NULL ? v : json_null();
}

struct history {
	PGresult *in, *recs, *obls;
};

static json_t *
history_json(const char *uscc, const struct history *h)
{
	json_t *out = json_object(), *in = json_array(), *recs = json_array(), *obls = json_array();
	bool ok = ctl_json_rows(in, h->in, inbound_cols, N(inbound_cols)) == 0 &&
	          ctl_json_rows(recs, h->recs, records_cols, N(records_cols)) == 0 &&
	          ctl_json_rows(obls, h->obls, obligations_cols, N(obligations_cols)) == 0;

	for (int i = 0; ok && i < PQntuples(h->in); i++) {
		json_t *o = json_array_get(in, (size_t)i);
		struct event_facts f;
		event_facts(h->in, i, 10, &f);
		ok = ctl_json_set(o, "type", json_fact(f.type)) == 0 &&
		     ctl_json_set(o, "decision_no", json_fact(f.decision_no)) == 0 &&
		     ctl_json_set(o, "occurred_at", json_fact(f.occurred_at)) == 0;
	}
	ok =
	    ok && ctl_json_set(out, "uscc", json_string(uscc)) == 0 &&
	    ctl_json_set(out, "subject_name",
	                 PQntuples(h->recs) > 0 ? ctl_json_str(h->recs, 0, 6) : json_null()) == 0 &&
	    ctl_json_set(out, "inbound", json_incref(in)) == 0 &&
	    ctl_json_set(out, "records", json_incref(recs)) == 0 &&
	    ctl_json_set(out, "obligations", json_incref(obls)) == 0;
	json_decref(in);
	json_decref(recs);
	json_decref(obls);
	return ctl_json_done(out, ok);
}

static int
print_inbound(const PGresult *r)
{
	static const char *const head[] = {"CONSUMED (UTC+8)", "PRODUCER",  "TYPE",     "OUTCOME",
	                                   "REASON",           "READ FROM", "DECISION", "DETAIL"};
	ctl_table *t = ctl_table_new(N(head), head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char when[TIME_STRLEN], where[300];
		struct event_facts f;
		event_facts(r, i, 10, &f);
		snprintf(where, sizeof(where), "%s [%s] @ %s", ctl_db_str(r, i, 0),
		         ctl_db_str(r, i, 1), ctl_db_str(r, i, 2));
		const char *row[] = {ctl_time_text(r, i, 9, when),
		                     ctl_text(r, i, 4),
		                     f.type[0] ? f.type : NULL,
		                     ctl_text(r, i, 5),
		                     ctl_text(r, i, 6),
		                     where,
		                     f.decision_no[0] ? f.decision_no : NULL,
		                     ctl_text(r, i, 7)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nmessages received (%d):\n", PQntuples(r));
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
print_records(const PGresult *r)
{
	static const char *const head[] = {
	    "CREATED (UTC+8)", "KIND",        "LIST", "PRODUCER", "STATUS",  "DECIDED",
	    "REPAIRABLE FROM", "SHOWN UNTIL", "END",  "DECISION", "ENDED BY"};
	ctl_table *t = ctl_table_new(N(head), head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char when[TIME_STRLEN], end[128] = "", by[512] = "";
		if (!ctl_db_null(r, i, 13))
			snprintf(end, sizeof(end), "%s %s", ctl_db_str(r, i, 13),
			         ctl_db_str(r, i, 14));
		if (!ctl_db_null(r, i, 13) && ctl_db_str(r, i, 16)[0] != '\0')
			snprintf(by, sizeof(by), "%s%s%s%s", ctl_db_str(r, i, 16),
			         ctl_db_str(r, i, 17)[0] ? " (" : "", ctl_db_str(r, i, 17),
			         ctl_db_str(r, i, 17)[0] ? ")" : "");
		const char *row[] = {ctl_time_text(r, i, 20, when),
		                     ctl_text(r, i, 0),
		                     ctl_text(r, i, 1),
		                     ctl_text(r, i, 5),
		                     ctl_text(r, i, 3),
		                     ctl_text(r, i, 7),
		                     ctl_text(r, i, 11),
		                     ctl_text(r, i, 12),
		                     end[0] ? end : NULL,
		                     ctl_text(r, i, 2),
		                     by[0] ? by : NULL};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nrecords, in their current state (%d):\n", PQntuples(r));
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
print_obligations(const PGresult *r)
{
	static const char *const head[] = {"CREATED (UTC+8)", "SITE", "TYPE",
	                                   "REASON",          "DUE",  "SENT (UTC+8)",
	                                   "ACKED (UTC+8)",   "ID",   "DECISION"};
	ctl_table *t = ctl_table_new(N(head), head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char created[TIME_STRLEN], sent[TIME_STRLEN], acked[TIME_STRLEN];
		const char *row[] = {ctl_time_text(r, i, 17, created),
		                     ctl_text(r, i, 1),
		                     ctl_text(r, i, 2),
		                     ctl_text(r, i, 3),
		                     ctl_text(r, i, 8),
		                     ctl_time_text(r, i, 19, sent),
		                     ctl_time_text(r, i, 20, acked),
		                     ctl_text(r, i, 0),
		                     ctl_text(r, i, 6)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nwhat the sites were told (%d):\n", PQntuples(r));
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
history_text(const char *uscc, const struct history *h)
{
	printf("%s%s%s (times are Beijing time, UTC+08:00)\n", uscc,
	       PQntuples(h->recs) > 0 ? " " : "",
	       PQntuples(h->recs) > 0 ? ctl_db_str(h->recs, 0, 6) : "");
	if ((PQntuples(h->in) > 0 && print_inbound(h->in) < 0) ||
	    (PQntuples(h->recs) > 0 && print_records(h->recs) < 0) ||
	    (PQntuples(h->obls) > 0 && print_obligations(h->obls) < 0))
		return -1;
	return 0;
}

int
ctl_history(int argc, char **argv)
{
	struct ctl_ops_args a;
	struct history h = {0};
	config *cfg;
	ctl_db *db;
	char err[1024], why[128];
	int rc = ctl_ops_args(CMD, SYNOPSIS, help, 0, 1, argc, argv, &a);

	if (rc >= 0)
		return rc;
	const char *uscc = a.rest[0];
	if (uscc_check(uscc, why, sizeof(why)) < 0) {
		/* the code may not be UTF-8: the reason names the bad byte, the code is not shown
		 */
		fprintf(stderr, "credsyncctl " CMD ": \"%s\" is not a valid USCC: %s\n", uscc, why);
		return 2;
	}
	if ((rc = ctl_ops_open(CMD, a.config, true, &cfg, &db)) != 0)
		return rc;
	const char *p[1] = {uscc};
	PGresult *r = ctl_db_query(db, "could not start a transaction",
	                           "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
	                           sizeof(err));
	if (r == NULL ||
	    (h.in = ctl_db_query(db, "could not read the inbound log", inbound_sql, 1, p, err,
	                         sizeof(err))) == NULL ||
	    (h.recs = ctl_db_query(db, "could not read the records", records_sql, 1, p, err,
	                           sizeof(err))) == NULL ||
	    (h.obls = ctl_db_query(db, "could not read the obligations", obligations_sql, 1, p, err,
	                           sizeof(err))) == NULL) {
		PQclear(r);
		rc = ctl_ops_fail(CMD, err);
		goto out;
	}
	PQclear(r);
	/* A negative answer: an unknown subject (exit 1); --json still prints the empty story. */
	rc = PQntuples(h.in) + PQntuples(h.recs) + PQntuples(h.obls) == 0 ? 1 : 0;
	if (rc == 1 && !a.json) {
		printf("nothing known about %s\n", uscc);
		goto out;
	}
	if (a.json) {
		json_t *out = history_json(uscc, &h);
		if (out == NULL) {
			rc = ctl_ops_fail(CMD, "out of memory");
			goto out;
		}
		ctl_print_json(out);
	} else if (history_text(uscc, &h) < 0) {
		rc = ctl_ops_fail(CMD, "out of memory");
	}
out:
	PQclear(h.in);
	PQclear(h.recs);
	PQclear(h.obls);
	ctl_db_close(db);
	config_free(cfg);
	return rc;
}
