/* ctl_ops_status: `credsyncctl status -c FILE [--json]`: consumer positions and lag, the
 * backlog of obligations and its breaches, and when each producer was last heard from. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_ops.h"
#include "date.h"

#define CMD      "status"
#define SYNOPSIS "status -c FILE [--json]"

/* The whole watermark round is bounded: a monitoring check must not hang on Kafka. */
#define KAFKA_BUDGET_MS 6000
#define KAFKA_CALL_MS   3000
/* The oldest breaches listed one by one. */
#define BREACHES_SHOWN 10

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncctl " SYNOPSIS "\n"
	    "\n"
	    "What credsyncd has done and what it still owes, from its PostgreSQL database (the\n"
	    "pg.conninfo of FILE, credsyncd's configuration file):\n"
	    "  - per consumed partition: the next offset stored in PostgreSQL (the truth; Kafka's\n"
	    "    group offsets are advisory), the instance owning it and when it last moved;\n"
	    "    with the brokers of kafka.bootstrap.servers reachable, the high watermark and\n"
	    "    the lag (high watermark minus next offset). With \"embedded\" the cluster lives\n"
	    "    inside credsyncd: it is reached only through kafka.embedded.bootstrap_file;\n"
	    "  - the backlog: outbox messages not sent yet, obligations not sent, sent but not\n"
	    "    acknowledged, overdue (due before today in Beijing and not acknowledged: the\n"
	    "    breaches, listed oldest first) and at risk (due today, not acknowledged);\n"
	    "  - the repair applications overdue: not accepted, or not decided, within their\n"
	    "    channel's working days, with their application number, channel, step and due\n"
	    "    date;\n"
	    "  - the messages the database refused for good (failed, oldest first): where\n"
	    "    they were read, their SQLSTATE and error (credsyncctl retry);\n"
	    "  - per producer (and site, for acknowledgements): the last message consumed.\n"
	    "Times are Beijing time (UTC+08:00).\n"
	    "\n"
	    "  -c, --config FILE  credsyncd's configuration file\n"
	    "  --json             print one JSON object: now, today, kafka, partitions, backlog,\n"
	    "                     breaches, applications_overdue, producers, failed,\n"
	    "                     failed_total, ok\n"
	    "  --help             print this help\n"
	    "\n"
	    "Exit status: 0 nothing overdue, 1 an obligation is overdue (a breach), a repair\n"
	    "application is overdue, a message failed or the database could not be read, 2\n"
	    "usage error. Monitoring "
	    "can alert on exit status 1;\n"
	    "an unreachable Kafka is reported but is not a failure.\n");
}

/* --- Kafka watermarks ------------------------------------------------------------------- */

struct kafka_state {
	char bootstrap[512];
	bool reachable;
	char note[512];
};

static void
quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static int
conf_prop(const char *prop, const char *value, void *arg)
{
	char rerr[256];

	/* A property of the daemon's that librdkafka refuses here is skipped: the watermark
	 * query is best effort. */
	(void)rd_kafka_conf_set(arg, prop, value, rerr, sizeof(rerr));
	return 0;
}

/* The brokers to ask, into ks->bootstrap; false with ks->note when there are none. */
static bool
find_bootstrap(const config *cfg, struct kafka_state *ks)
{
	const char *bs = config_str(cfg, CFG_KAFKA_BOOTSTRAP_SERVERS);

	if (bs == NULL || bs[0] == '\0') {
		snprintf(ks->note, sizeof(ks->note), "kafka.bootstrap.servers is not set");
		return false;
	}
	if (strcmp(bs, "embedded") != 0) {
		snprintf(ks->bootstrap, sizeof(ks->bootstrap), "%s", bs);
		return true;
	}
	snprintf(ks->bootstrap, sizeof(ks->bootstrap), "embedded");
	const char *file = config_str(cfg, CFG_KAFKA_EMBEDDED_BOOTSTRAP_FILE);
	FILE *fp = file != NULL && file[0] != '\0' ? fopen(file, "r") : NULL;
	char line[512] = "";
	if (fp != NULL) {
		if (fgets(line, sizeof(line), fp) == NULL)
			line[0] = '\0';
		fclose(fp);
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0') {
		snprintf(
		    ks->note, sizeof(ks->note),
		    "kafka.bootstrap.servers is \"embedded\": the cluster runs inside credsyncd "
		    "and is not reachable from credsyncctl%s",
		    file != NULL && file[0] != '\0' ? " (kafka.embedded.bootstrap_file is empty "
		                                      "or unreadable)"
		                                    : "");
		return false;
	}
	snprintf(ks->bootstrap, sizeof(ks->bootstrap), "%s", line);
	snprintf(ks->note, sizeof(ks->note),
	         "the embedded cluster, its address from kafka.embedded.bootstrap_file");
	return true;
}

/* Fills high[i] (-1 when unknown) for each partition row of parts (topic column 1, partition
 * column 2). An unreachable cluster is not an error: ks says so. */
static void
query_watermarks(const config *cfg, const PGresult *parts, int64_t *high, struct kafka_state *ks)
{
	int n = PQntuples(parts);
	char rerr[256];

	for (int i = 0; i < n; i++)
		high[i] = -1;
	if (!find_bootstrap(cfg, ks))
		return;
	if (n == 0) {
		snprintf(ks->note, sizeof(ks->note), "no partition to ask about");
		return;
	}
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	(void)config_foreach_kafka(cfg, conf_prop, conf);
	rd_kafka_conf_set_log_cb(conf, quiet_log);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", ks->bootstrap, rerr, sizeof(rerr)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "credsyncctl", rerr, sizeof(rerr)) !=
	        RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "socket.connection.setup.timeout.ms", "3000", rerr,
	                      sizeof(rerr)) != RD_KAFKA_CONF_OK) {
		snprintf(ks->note, sizeof(ks->note), "could not configure a Kafka client: %s",
		         rerr);
		rd_kafka_conf_destroy(conf);
		return;
	}
	/* A consumer handle that never subscribes: it joins no group. */
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rerr, sizeof(rerr));
	if (rk == NULL) {
		snprintf(ks->note, sizeof(ks->note), "could not create a Kafka client: %s", rerr);
		rd_kafka_conf_destroy(conf);
		return;
	}
	/* rd_kafka_new took conf */
	int64_t deadline = clock_mono_ms() + KAFKA_BUDGET_MS;
	int answered = 0;
	for (int i = 0; i < n; i++) {
		int64_t left = deadline - clock_mono_ms(), low;
		if (left <= 0) {
			snprintf(ks->note, sizeof(ks->note),
			         "the brokers did not answer for every partition within %d ms",
			         KAFKA_BUDGET_MS);
			break;
		}
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
		    rk, PQgetvalue(parts, i, 1), (int32_t)ctl_db_i64(parts, i, 2), &low, &high[i],
		    (int)(left < KAFKA_CALL_MS ? left : KAFKA_CALL_MS));
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			answered++;
			continue;
		}
		high[i] = -1;
		if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT ||
		    e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || e == RD_KAFKA_RESP_ERR__RESOLVE) {
			snprintf(ks->note, sizeof(ks->note), "brokers not reachable: %s",
			         rd_kafka_err2str(e));
			break;
		}
		if (ks->note[0] == '\0')
			snprintf(ks->note, sizeof(ks->note), "partition %s [%s]: %s",
			         PQgetvalue(parts, i, 1), PQgetvalue(parts, i, 2),
			         rd_kafka_err2str(e));
	}
	ks->reachable = answered > 0;
	rd_kafka_destroy(rk);
}

/* --- the queries ------------------------------------------------------------------------ */

static const char partitions_sql[] =
    "SELECT grp, topic, partition, next_offset, owner, epoch, " CTL_EPOCH(
        "updated_at") " FROM credsync.consumer_offsets ORDER BY topic, partition, grp";

/* $1: today in Beijing. The unacknowledged obligations are pending's rows (010_pending.sql),
 * the unsent are read from the publish cursor (007_publish_cursor.sql). */
static const char backlog_sql[] =
    "SELECT (SELECT count(*) FROM credsync.unsent), "
    "(SELECT " CTL_EPOCH(
        "min(created_at)") " FROM credsync.unsent), "
                           "count(*) FILTER (WHERE o.sent_at IS NULL), count(*) FILTER (WHERE "
                           "o.sent_at IS NOT NULL), "
                           "count(*) FILTER (WHERE p.due_date < $1::date), "
                           "min(p.due_date) FILTER (WHERE p.due_date < $1::date), "
                           "count(*) FILTER (WHERE p.due_date = $1::date), count(*), "
                           "min(p.due_date) FROM credsync.pending p "
                           "JOIN credsync.obligations o ON o.id = p.id";

static const char breaches_sql[] =
    "SELECT o.due_date, o.site, o.type, o.reason, o.uscc, o.decision_no, o.id, " CTL_EPOCH(
        "b.sent_at") " FROM credsync.obligations o "
                     "JOIN credsync.pending p ON p.id = o.id "
                     "LEFT JOIN credsync.outbox b ON b.id = o.id "
                     "WHERE p.due_date < $1::date "
                     "ORDER BY o.due_date, o.created_at, o.id LIMIT $2::integer";

/* $1: today in Beijing. Repair applications not accepted, or not decided, by their due date
 * (issue 5's "overdue applications", docs/RULES.md §3's working days by channel). */
#define APPS_LATE                                                                                  \
	" FROM credsync.repair_applications WHERE decided_at IS NULL AND"                          \
	" ((accepted_at IS NULL AND accept_due < $1::date) OR"                                     \
	"  (accepted_at IS NOT NULL AND decide_due < $1::date))"
static const char apps_sql[] =
    "SELECT (CASE WHEN accepted_at IS NULL THEN accept_due ELSE decide_due END), channel,"
    " application_no, CASE WHEN accepted_at IS NULL THEN 'accept' ELSE 'decide' END, uscc,"
    " decision_no" APPS_LATE " ORDER BY 1, 2, 3 LIMIT $2::integer";
static const char apps_count_sql[] = "SELECT count(*)" APPS_LATE;

static const char producers_sql[] = "SELECT producer, " CTL_EPOCH("max(kafka_ts)") ", " CTL_EPOCH(
    "max(stored_at)") ", count(*) "
                      "FROM credsync.inbound WHERE producer IS NOT NULL GROUP BY producer ORDER BY "
                      "producer";

/* $1: how many are listed. The messages the database refused for good (issue 14), oldest first. */
static const char failed_sql[] = "SELECT " CTL_EPOCH(
    "stored_at") ", topic, partition, \"offset\", event_id, uscc, sqlstate, "
                 "error, count(*) OVER () FROM credsync.inbound WHERE outcome = 'failed' "
                 "ORDER BY stored_at, topic, partition, \"offset\" LIMIT $1::integer";

struct status {
	PGresult *parts, *backlog, *breaches, *producers, *apps, *apps_count, *failed;
	int64_t *high;
	struct kafka_state kafka;
	char today[DATE_STRLEN];
};

static void
status_free(struct status *s)
{
	PQclear(s->parts);
	PQclear(s->backlog);
	PQclear(s->breaches);
	PQclear(s->producers);
	PQclear(s->apps);
	PQclear(s->apps_count);
	PQclear(s->failed);
	free(s->high);
}

static int
status_read(ctl_db *db, const config *cfg, struct status *s, char *err, size_t errsz)
{
	char shown[16];
	const char *p[2] = {s->today, shown};

	date_format(date_beijing((int64_t)time(NULL)), s->today);
	snprintf(shown, sizeof(shown), "%d", BREACHES_SHOWN);
	/* One snapshot for the counts and the rows they count. */
	PGresult *r =
	    ctl_db_query(db, "could not start a transaction",
	                 "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err, errsz);
	if (r == NULL)
		return -1;
	PQclear(r);
	if ((s->parts = ctl_db_query(db, "could not read the consumer offsets", partitions_sql, 0,
	                             NULL, err, errsz)) == NULL ||
	    (s->backlog = ctl_db_query(db, "could not read the backlog", backlog_sql, 1, p, err,
	                               errsz)) == NULL ||
	    (s->breaches = ctl_db_query(db, "could not read the overdue obligations", breaches_sql,
	                                2, p, err, errsz)) == NULL ||
	    (s->producers = ctl_db_query(db, "could not read the inbound log", producers_sql, 0,
	                                 NULL, err, errsz)) == NULL ||
	    (s->apps = ctl_db_query(db, "could not read the overdue repair applications", apps_sql,
	                            2, p, err, errsz)) == NULL ||
	    (s->apps_count = ctl_db_query(db, "could not count the overdue repair applications",
	                                  apps_count_sql, 1, p, err, errsz)) == NULL ||
	    (s->failed = ctl_db_query(db, "could not read the failed messages", failed_sql, 1,
	                              p + 1, err, errsz)) == NULL)
		return -1;
	PQclear(ctl_db_query(db, "could not end the transaction", "COMMIT", 0, NULL, err, errsz));
	s->high = malloc(((size_t)PQntuples(s->parts) + 1) * sizeof(*s->high));
	if (s->high == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	query_watermarks(cfg, s->parts, s->high, &s->kafka);
	return 0;
}

static int64_t
lag_of(const struct status *s, int i)
{
	int64_t next = ctl_db_i64(s->parts, i, 3);

	return s->high[i] > next ? s->high[i] - next : 0;
}

/* --- output ----------------------------------------------------------------------------- */

static const struct ctl_col partition_cols[] = {
    {"group", CTL_COL_STR},       {"topic", CTL_COL_STR}, {"partition", CTL_COL_INT},
    {"next_offset", CTL_COL_INT}, {"owner", CTL_COL_STR}, {"epoch", CTL_COL_INT},
    {"updated_at", CTL_COL_TIME},
};
static const struct ctl_col backlog_cols[] = {
    {"outbox_unsent", CTL_COL_INT},   {"oldest_unsent_at", CTL_COL_TIME},
    {"unsent", CTL_COL_INT},          {"sent_unacknowledged", CTL_COL_INT},
    {"overdue", CTL_COL_INT},         {"oldest_overdue_due_date", CTL_COL_STR},
    {"at_risk", CTL_COL_INT},         {"unacknowledged", CTL_COL_INT},
    {"oldest_due_date", CTL_COL_STR},
};
static const struct ctl_col breach_cols[] = {
    {"due_date", CTL_COL_STR}, {"site", CTL_COL_STR},     {"type", CTL_COL_STR},
    {"reason", CTL_COL_STR},   {"uscc", CTL_COL_STR},     {"decision_no", CTL_COL_STR},
    {"id", CTL_COL_STR},       {"sent_at", CTL_COL_TIME},
};
static const struct ctl_col app_cols[] = {
    {"due_date", CTL_COL_STR}, {"channel", CTL_COL_STR}, {"application_no", CTL_COL_STR},
    {"step", CTL_COL_STR},     {"uscc", CTL_COL_STR},    {"decision_no", CTL_COL_STR},
};
static const struct ctl_col failed_cols[] = {
    {"stored_at", CTL_COL_TIME}, {"topic", CTL_COL_STR},    {"partition", CTL_COL_INT},
    {"offset", CTL_COL_INT},     {"event_id", CTL_COL_STR}, {"uscc", CTL_COL_STR},
    {"sqlstate", CTL_COL_STR},   {"error", CTL_COL_STR},    {"total", CTL_COL_SKIP},
};
static const struct ctl_col producer_cols[] = {
    {"producer", CTL_COL_STR},
    {"last_kafka_ts", CTL_COL_TIME},
    {"last_stored_at", CTL_COL_TIME},
    {"messages", CTL_COL_INT},
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int64_t
apps_overdue(const struct status *s)
{
	return ctl_db_i64(s->apps_count, 0, 0);
}

/* The messages stored as failed and not retried yet. */
static int64_t
failed_count(const struct status *s)
{
	return PQntuples(s->failed) > 0 ? ctl_db_i64(s->failed, 0, 8) : 0;
}

/* Something is wrong: an obligation in breach, a repair application overdue, or a message
 * the database refused. */
static bool
status_late(const struct status *s)
{
	return ctl_db_i64(s->backlog, 0, 4) > 0 || apps_overdue(s) > 0 || failed_count(s) > 0;
}

static json_t *
status_json(const struct status *s)
{
	json_t *out = json_object(), *parts = json_array(), *backlog = json_array(),
	       *breaches = json_array(), *producers = json_array(), *kafka = json_object(),
	       *apps = json_array(), *failed = json_array();
	bool ok = ctl_json_rows(parts, s->parts, partition_cols, N(partition_cols)) == 0 &&
	          ctl_json_rows(failed, s->failed, failed_cols, N(failed_cols)) == 0 &&
	          ctl_json_rows(apps, s->apps, app_cols, N(app_cols)) == 0 &&
	          ctl_json_rows(backlog, s->backlog, backlog_cols, N(backlog_cols)) == 0 &&
	          ctl_json_rows(breaches, s->breaches, breach_cols, N(breach_cols)) == 0 &&
	          ctl_json_rows(producers, s->producers, producer_cols, N(producer_cols)) == 0;

	for (int i = 0; ok && i < PQntuples(s->parts); i++) {
		json_t *p = json_array_get(parts, (size_t)i);
		ok = ctl_json_set(p, "high_watermark",
		                  s->high[i] >= 0 ? json_integer(s->high[i]) : json_null()) == 0 &&
		     ctl_json_set(p, "lag",
		                  s->high[i] >= 0 ? json_integer(lag_of(s, i)) : json_null()) == 0;
	}
	ok = ok && ctl_json_set(kafka, "bootstrap", json_string(s->kafka.bootstrap)) == 0 &&
	     ctl_json_set(kafka, "reachable", json_boolean(s->kafka.reachable)) == 0 &&
	     ctl_json_set(kafka, "note",
	                  s->kafka.note[0] ? json_string(s->kafka.note) : json_null()) == 0;
	ok = ok && ctl_json_set(out, "now", ctl_now_json()) == 0 &&
	     ctl_json_set(out, "today", json_string(s->today)) == 0 &&
	     ctl_json_set(out, "kafka", json_incref(kafka)) == 0 &&
	     ctl_json_set(out, "partitions", json_incref(parts)) == 0 &&
	     ctl_json_set(out, "backlog", json_incref(json_array_get(backlog, 0))) == 0 &&
	     ctl_json_set(out, "breaches", json_incref(breaches)) == 0 &&
	     ctl_json_set(out, "applications_overdue", json_incref(apps)) == 0 &&
	     ctl_json_set(out, "producers", json_incref(producers)) == 0 &&
	     ctl_json_set(out, "failed", json_incref(failed)) == 0 &&
	     ctl_json_set(out, "failed_total", json_integer(failed_count(s))) == 0 &&
	     ctl_json_set(out, "ok", json_boolean(!status_late(s))) == 0;
	json_decref(apps);
	json_decref(failed);
	json_decref(kafka);
	json_decref(parts);
	json_decref(backlog);
	json_decref(breaches);
	json_decref(producers);
	return ctl_json_done(out, ok);
}

static int
print_partitions(const struct status *s)
{
	static const char *const head[] = {"TOPIC", "PARTITION", "NEXT",  "HIGH",
	                                   "LAG",   "OWNER",     "GROUP", "UPDATED (UTC+8)"};
	ctl_table *t = ctl_table_new(8, head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(s->parts); i++) {
		char high[24] = "?", lag[24] = "?", when[TIME_STRLEN];
		if (s->high[i] >= 0) {
			snprintf(high, sizeof(high), "%lld", (long long)s->high[i]);
			snprintf(lag, sizeof(lag), "%lld", (long long)lag_of(s, i));
		}
		const char *row[] = {ctl_text(s->parts, i, 1),
		                     ctl_text(s->parts, i, 2),
		                     ctl_text(s->parts, i, 3),
		                     high,
		                     lag,
		                     ctl_text(s->parts, i, 4),
		                     ctl_text(s->parts, i, 0),
		                     ctl_time_text(s->parts, i, 6, when)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("partitions (next offset stored in PostgreSQL):\n");
	if (ctl_table_rows(t) == 0)
		printf("  none claimed yet (has credsyncd started?)\n");
	else
		ctl_table_print(t, stdout, "  ");
	if (s->kafka.reachable)
		printf("  kafka %s answered%s%s\n", s->kafka.bootstrap,
		       s->kafka.note[0] ? "; " : "", s->kafka.note);
	else
		printf("  kafka: no high watermarks (\"?\"): %s\n", s->kafka.note);
	ctl_table_free(t);
	return 0;
}

static int
print_breaches(const struct status *s)
{
	static const char *const head[] = {"DUE",  "SITE",         "TYPE", "REASON",
	                                   "USCC", "SENT (UTC+8)", "ID",   "DECISION"};
	const PGresult *r = s->breaches;
	ctl_table *t = ctl_table_new(8, head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char sent[TIME_STRLEN];
		const char *row[] = {ctl_text(r, i, 0), ctl_text(r, i, 1),
		                     ctl_text(r, i, 2), ctl_text(r, i, 3),
		                     ctl_text(r, i, 4), ctl_time_text(r, i, 7, sent),
		                     ctl_text(r, i, 6), ctl_text(r, i, 5)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nbreaches (overdue, oldest first, at most %d):\n", BREACHES_SHOWN);
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
print_failed(const struct status *s)
{
	static const char *const head[] = {"STORED (UTC+8)", "READ FROM", "EVENT",
	                                   "USCC",           "SQLSTATE",  "ERROR"};
	const PGresult *r = s->failed;
	ctl_table *t = ctl_table_new(6, head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char when[TIME_STRLEN], where[300];
		snprintf(where, sizeof(where), "%s [%s] @ %s", ctl_db_str(r, i, 1),
		         ctl_db_str(r, i, 2), ctl_db_str(r, i, 3));
		const char *row[] = {ctl_time_text(r, i, 0, when),
		                     where,
		                     ctl_text(r, i, 4),
		                     ctl_text(r, i, 5),
		                     ctl_text(r, i, 6),
		                     ctl_text(r, i, 7)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nfailed messages (refused by the database, oldest first, at most %d; "
	       "credsyncctl retry applies them once the cause is fixed):\n",
	       BREACHES_SHOWN);
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
print_apps(const struct status *s)
{
	static const char *const head[] = {"DUE",  "CHANNEL", "APPLICATION",
	                                   "STEP", "USCC",    "DECISION"};
	const PGresult *r = s->apps;
	ctl_table *t = ctl_table_new(6, head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *row[] = {ctl_text(r, i, 0), ctl_text(r, i, 1), ctl_text(r, i, 2),
		                     ctl_text(r, i, 3), ctl_text(r, i, 4), ctl_text(r, i, 5)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nrepair applications overdue (not accepted or decided in time, oldest first, at "
	       "most %d):\n",
	       BREACHES_SHOWN);
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
print_producers(const struct status *s)
{
	static const char *const head[] = {"PRODUCER", "LAST KAFKA TIME (UTC+8)",
	                                   "LAST CONSUMED (UTC+8)", "MESSAGES"};
	const PGresult *r = s->producers;
	ctl_table *t = ctl_table_new(4, head);

	if (t == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		char kts[TIME_STRLEN], stored[TIME_STRLEN];
		const char *row[] = {ctl_text(r, i, 0), ctl_time_text(r, i, 1, kts),
		                     ctl_time_text(r, i, 2, stored), ctl_text(r, i, 3)};
		if (ctl_table_add(t, row) < 0) {
			ctl_table_free(t);
			return -1;
		}
	}
	printf("\nlast heard from (producers, and sites for acknowledgements):\n");
	if (ctl_table_rows(t) == 0)
		printf("  nobody yet\n");
	else
		ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
print_backlog(const struct status *s)
{
	static const char *const head[] = {"BACKLOG", "COUNT", ""};
	const PGresult *b = s->backlog;
	char oldest[TIME_STRLEN + 32] = "", due[DATE_STRLEN + 32] = "", today[DATE_STRLEN + 32];
	ctl_table *t = ctl_table_new(3, head);

	if (t == NULL)
		return -1;
	if (!ctl_db_null(b, 0, 1)) {
		char when[TIME_STRLEN];
		snprintf(oldest, sizeof(oldest), "oldest queued %s", ctl_time_text(b, 0, 1, when));
	}
	if (!ctl_db_null(b, 0, 5))
		snprintf(due, sizeof(due), "oldest due %s", ctl_db_str(b, 0, 5));
	snprintf(today, sizeof(today), "due %s", s->today);
	const char *rows[][3] = {
	    {"outbox messages not sent", ctl_db_str(b, 0, 0), oldest},
	    {"obligations not sent", ctl_db_str(b, 0, 2), ""},
	    {"sent, not acknowledged", ctl_db_str(b, 0, 3), ""},
	    {"overdue (breaches)", ctl_db_str(b, 0, 4), due},
	    {"at risk (due today)", ctl_db_str(b, 0, 6), today},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ctl_table_add(t, rows[i]) < 0) {
			ctl_table_free(t);
			return -1;
		}
	printf("\n");
	ctl_table_print(t, stdout, "  ");
	ctl_table_free(t);
	return 0;
}

static int
status_text(const struct status *s)
{
	const PGresult *b = s->backlog;
	char now[TIME_STRLEN];
	int64_t overdue = ctl_db_i64(b, 0, 4);

	printf("credsync status at %s (Beijing, UTC+08:00)\n\n", ctl_now_text(now));
	if (print_partitions(s) < 0)
		return -1;
	if (print_backlog(s) < 0)
		return -1;
	int64_t apps = apps_overdue(s);
	if (overdue > 0 && print_breaches(s) < 0)
		return -1;
	if (apps > 0 && print_apps(s) < 0)
		return -1;
	int64_t failed = failed_count(s);
	if (failed > 0 && print_failed(s) < 0)
		return -1;
	if (print_producers(s) < 0)
		return -1;
	if (overdue > 0)
		printf("\nNOT OK: %lld obligation%s overdue\n", (long long)overdue,
		       overdue == 1 ? "" : "s");
	if (apps > 0)
		printf("%sNOT OK: %lld repair application%s overdue\n", overdue > 0 ? "" : "\n",
		       (long long)apps, apps == 1 ? "" : "s");
	if (failed > 0)
		printf("%sNOT OK: %lld message%s failed (refused by the database)\n",
		       overdue > 0 || apps > 0 ? "" : "\n", (long long)failed,
		       failed == 1 ? "" : "s");
	if (overdue == 0 && apps == 0 && failed == 0)
		printf("\nok: nothing overdue\n");
	return 0;
}

int
ctl_status(int argc, char **argv)
{
	struct ctl_ops_args a;
	struct status s = {0};
	config *cfg;
	ctl_db *db;
	char err[1024];
	int rc = ctl_ops_args(CMD, SYNOPSIS, help, 0, 0, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if ((rc = ctl_ops_open(CMD, a.config, true, &cfg, &db)) != 0)
		return rc;
	if (status_read(db, cfg, &s, err, sizeof(err)) < 0) {
		rc = ctl_ops_fail(CMD, err);
		goto out;
	}
	rc = status_late(&s) ? 1 : 0;
	if (a.json) {
		json_t *out = status_json(&s);
		if (out == NULL) {
			rc = ctl_ops_fail(CMD, "out of memory");
			goto out;
		}
		ctl_print_json(out);
	} else if (status_text(&s) < 0) {
		rc = ctl_ops_fail(CMD, "out of memory");
	}
out:
	status_free(&s);
	ctl_db_close(db);
	config_free(cfg);
	return rc;
}
