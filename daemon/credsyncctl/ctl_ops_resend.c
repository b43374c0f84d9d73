/* ctl_ops_resend: `credsyncctl resend -c FILE [--json] ID`: publish an out message (or a
 * reject) again with the same id, for a site that lost what it was sent. */
#include <string.h>

#include "ctl.h"
#include "ctl_ops.h"
#include "date.h"
#include "event.h"

#define CMD      "resend"
#define SYNOPSIS "resend -c FILE [--json] ID"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncctl " SYNOPSIS "\n"
	    "\n"
	    "Publishes the message with id ID (an obligation's id, as credsyncctl history\n"
	    "and status show it, or a reject's) again, unchanged and with the same id, for\n"
	    "a site that lost data: its outbox row in credsyncd's database (the pg.conninfo\n"
	    "of FILE, credsyncd's configuration file) is marked unsent.\n"
	    "\n"
	    "credsyncctl does not talk to Kafka: the running credsyncd that publishes the\n"
	    "outbox sends the message at its next round (within a second or so) and marks it\n"
	    "sent again; with no credsyncd running it is sent when one starts. The site\n"
	    "recognises it by its id. The later messages to the same site about the same\n"
	    "record (a takedown after a disclose) are sent again too, after it, in their\n"
	    "original order: the site ends in the state it was told last, not with a\n"
	    "superseded message. An acknowledgement already received stays: the obligation\n"
	    "is not counted as overdue again.\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --json             print {\"id\", \"topic\", \"seq\", \"previously_sent_at\",\n"
	    "                     \"site\", \"type\", \"reason\", \"acked_at\", \"queued\": true,\n"
	    "                     \"also_queued\": [the later messages, the same members]}\n"
	    "  --help             print this help\n"
	    "\n"
	    "Exit status: 0 queued for sending, 1 no message has that id or the database\n"
	    "could not be written, 2 usage error (ID is not a UUID).\n");
}

/* One statement: the rows to send again with their previous sent_at, queued in
 * credsync.resends (013_write_once.sql). A later message to the same site about the same
 * record (a takedown after a disclose) goes again too: the publisher sends the queued rows in
 * seq order, so the site ends in the state it had, not with a superseded message last. */
static const char resend_sql[] =
    "WITH target AS (SELECT b.seq, o.uscc, o.kind, o.list, o.decision_no, o.site "
    "FROM credsync.outbox b LEFT JOIN credsync.obligation_rows o ON o.id = b.id "
    "WHERE b.id = $1::uuid), "
    "rows AS (SELECT b.id, b.topic, b.seq, b.sent_at FROM credsync.outbox b "
    "WHERE b.id IN (SELECT $1::uuid UNION "
    "SELECT o.id FROM target t JOIN credsync.obligation_rows o ON o.uscc = t.uscc "
    "AND o.kind = t.kind AND o.list = t.list AND o.decision_no = t.decision_no "
    "AND o.site = t.site WHERE o.seq > t.seq)), "
    "q AS (INSERT INTO credsync.resends AS r (seq) SELECT seq FROM rows "
    "ON CONFLICT (seq) DO UPDATE SET queued_at = now(), sent_at = NULL RETURNING r.seq) "
    "SELECT rows.id, rows.topic, rows.seq, " CTL_EPOCH(
        "rows.sent_at") ", o.site, o.type, " CTL_EPOCH("o.acked_at") ", o.reason FROM rows JOIN q "
                                                                     "ON q.seq = rows.seq "
                                                                     "LEFT JOIN "
                                                                     "credsync.obligations o ON "
                                                                     "o.id = rows.id ORDER BY "
                                                                     "rows.seq";
static const struct ctl_col resend_cols[] = {
    {"id", CTL_COL_STR},        {"topic", CTL_COL_STR},
    {"seq", CTL_COL_INT},       {"previously_sent_at", CTL_COL_TIME},
    {"site", CTL_COL_STR},      {"type", CTL_COL_STR},
    {"acked_at", CTL_COL_TIME}, {"reason", CTL_COL_STR},
};

static void
resend_text(const PGresult *r)
{
	char sent[TIME_STRLEN], acked[TIME_STRLEN];

	printf("%s on %s: queued to be sent again with the same id\n", ctl_db_str(r, 0, 0),
	       ctl_db_str(r, 0, 1));
	if (ctl_db_null(r, 0, 3))
		printf("  it had not been sent yet\n");
	else
		printf("  last sent %s (UTC+8)\n", ctl_time_text(r, 0, 3, sent));
	if (!ctl_db_null(r, 0, 4))
		printf("  %s to %s, %s\n", ctl_db_str(r, 0, 5), ctl_db_str(r, 0, 4),
		       ctl_db_null(r, 0, 6) ? "not acknowledged yet" : "acknowledged");
	if (!ctl_db_null(r, 0, 6))
		printf("  acknowledged %s (UTC+8)\n", ctl_time_text(r, 0, 6, acked));
	if (PQntuples(r) > 1)
		printf(
		    "  after it, the later messages to %s about the same record, so that it ends "
		    "in the same state:\n",
		    ctl_db_str(r, 0, 4));
	for (int i = 1; i < PQntuples(r); i++)
		printf("    %s %s%s%s\n", ctl_db_str(r, i, 0), ctl_db_str(r, i, 5),
		       ctl_db_null(r, i, 7) ? "" : " ", ctl_db_str(r, i, 7));
	printf("  a running credsyncd publishes %s at its next outbox round\n",
	       PQntuples(r) > 1 ? "them, in their original order," : "it");
}

/* The first row (the message asked for) with the others as "also_queued". */
static json_t *
resend_json(const PGresult *r)
{
	json_t *list = json_array(), *out = NULL, *also = json_array();
	bool ok = ctl_json_rows(list, r, resend_cols, N(resend_cols)) == 0;

	if (ok)
		out = json_incref(json_array_get(list, 0));
	for (size_t i = 1; ok && i < json_array_size(list); i++)
		ok = json_array_append(also, json_array_get(list, i)) == 0;
	json_decref(list);
	ok = ok && ctl_json_set(out, "queued", json_true()) == 0 &&
	     ctl_json_set(out, "also_queued", json_incref(also)) == 0;
	json_decref(also);
	return ctl_json_done(out, ok);
}

int
ctl_resend(int argc, char **argv)
{
	struct ctl_ops_args a;
	config *cfg;
	ctl_db *db;
	char err[1024], id[UUID_STRLEN];
	int rc = ctl_ops_args(CMD, SYNOPSIS, help, 0, 1, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (!event_uuid_normalise(a.rest[0], id)) {
		fprintf(stderr, "credsyncctl " CMD ": ID is not a UUID (8-4-4-4-12 hex digits)\n");
		return 2;
	}
	if ((rc = ctl_ops_open(CMD, a.config, false, &cfg, &db)) != 0)
		return rc;
	const char *p[1] = {id};
	PGresult *r = ctl_db_query(db, "could not mark the message unsent", resend_sql, 1, p, err,
	                           sizeof(err));
	if (r == NULL) {
		rc = ctl_ops_fail(CMD, err);
	} else if (PQntuples(r) == 0) {
		fprintf(stderr, "credsyncctl " CMD ": no message with id %s in the outbox\n", id);
		rc = 1;
	} else if (a.json) {
		json_t *out = resend_json(r);
		if (out == NULL)
			rc = ctl_ops_fail(CMD, "out of memory");
		else
			ctl_print_json(out);
	} else {
		resend_text(r);
	}
	PQclear(r);
	ctl_db_close(db);
	config_free(cfg);
	return rc;
}
