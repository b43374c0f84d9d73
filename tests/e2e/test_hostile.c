/* End-to-end: the hostile corpus (issue 7) through a running credsyncd. Every invalid event
 * fixture and the state-dependent attacks get their reject reason on credit.reject.<producer>,
 * change nothing in records, obligations, repair applications or the outbox, and stop
 * nothing: a valid event after them is applied. Hostile text that is valid (SQL in a name)
 * is stored verbatim. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "e2e.h"
#include "event.h"
#include "testlib.h"

#define WAIT_MS 90000

TestSuite(hostile, .fini = e2e_cleanup);

#define USCC_A "91150102MA0N123408"
#define USCC_B "91150105MA0Q7K3D2H"
#define USCC_C "91150203MA0R5T8L6F"
#define USCC_D "92150602MA0P3W9X1U"

struct hcase {
	char name[160];
	char *payload;
	size_t len;
	char producer[PRODUCER_MAX + 1]; /* the topic is credit.in.<producer> */
	char reason[40];
	bool matched; /* a reject message on the wire was found for it */
};

struct corpus {
	struct hcase *c;
	size_t n, cap;
};

static const char *
env_dir(const char *name)
{
	const char *dir = getenv(name);
	cr_assert(dir != NULL && dir[0] != '\0', "%s is not set", name);
	return dir;
}

/* Whether code is a producer of authorities.tsv (only those have an inbound topic here). */
static bool
known_producer(const char *code)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/data/authorities.tsv", env_dir("CREDSYNC_SCHEMAS"));
	char *tsv = testlib_read_file(path, NULL);
	cr_assert_not_null(tsv, "could not read \"%s\"", path);
	bool found = false;
	size_t n = strlen(code);
	for (char *line = tsv; line && *line && !found; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		found = n > 0 && strncmp(line, code, n) == 0 && line[n] == '\t';
	}
	free(tsv);
	return found;
}

static struct hcase *
corpus_add(struct corpus *cp, const char *name, const char *payload, size_t len,
           const char *producer, const char *reason)
{
	if (cp->n == cp->cap) {
		cp->cap = cp->cap ? cp->cap * 2 : 64;
		cp->c = realloc(cp->c, cp->cap * sizeof(*cp->c));
		cr_assert_not_null(cp->c);
	}
	struct hcase *hc = &cp->c[cp->n++];
	memset(hc, 0, sizeof(*hc));
	snprintf(hc->name, sizeof(hc->name), "%s", name);
	hc->payload = malloc(len + 1);
	cr_assert_not_null(hc->payload);
	memcpy(hc->payload, payload, len);
	hc->payload[len] = '\0';
	hc->len = len;
	snprintf(hc->producer, sizeof(hc->producer), "%s", producer);
	snprintf(hc->reason, sizeof(hc->reason), "%s", reason);
	return hc;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every tests/fixtures/events/invalid case, sent where its topic file (or else its own
 * producer field, when that is a real producer) says. */
static void
corpus_load_fixtures(struct corpus *cp)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/events/invalid", env_dir("CREDSYNC_FIXTURES"));
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "could not open \"%s\"", dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		cr_assert_not_null(names);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[1200], producer[PRODUCER_MAX + 1] = "nm-tax", reason[40];
		size_t len;
		snprintf(path, sizeof(path), "%s/%s/input", dir, names[i]);
		char *input = testlib_read_file(path, &len);
		cr_assert_not_null(input, "no input in %s", names[i]);
		snprintf(path, sizeof(path), "%s/%s/error", dir, names[i]);
		char *error = testlib_read_file(path, NULL);
		cr_assert_not_null(error, "no error in %s", names[i]);
		size_t r = strcspn(error, ":");
		cr_assert(r < sizeof(reason), "%s: error is not \"reason: detail\"", names[i]);
		memcpy(reason, error, r);
		reason[r] = '\0';
		snprintf(path, sizeof(path), "%s/%s/topic", dir, names[i]);
		char *topic = testlib_read_file(path, NULL);
		if (topic != NULL) {
			topic[strcspn(topic, "\r\n")] = '\0';
			cr_assert(strncmp(topic, "credit.in.", 10) == 0, "%s: topic", names[i]);
			snprintf(producer, sizeof(producer), "%s", topic + 10);
		} else {
			json_t *root = json_loadb(input, len, 0, NULL);
			const char *p = json_string_value(json_object_get(root, "producer"));
			if (p != NULL && strlen(p) <= PRODUCER_MAX && known_producer(p))
				snprintf(producer, sizeof(producer), "%s", p);
			json_decref(root);
		}
		corpus_add(cp, names[i], input, len, producer, reason);
		free(input);
		free(error);
		free(topic);
		free(names[i]);
	}
	free(names);
}

static char *
penalty_record(const char *decision_no, const char *decided_on, const char *categories)
{
	return e2e_printf("{\"decision_no\": \"%s\", \"decided_on\": \"%s\", \"categories\": %s,"
	                  " \"fine_yuan\": \"200000.00\", \"field\": \"other\","
	                  " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	                  decision_no, decided_on, categories);
}

static void
send_event(struct e2e *e, const char *topic_producer, const char *id, const char *type,
           const char *producer, const char *uscc, const char *record)
{
	char topic[128];
	char *ev = e2e_event(id, type, producer, uscc, "2024-10-08T10:00:00+08:00", record);
	snprintf(topic, sizeof(topic), "credit.in.%s", topic_producer);
	e2e_produce(e, topic, uscc, ev);
	free(ev);
}

/* The state the attacks aim at: two nm-tax penalties (a fine long enough ago to be
 * repairable, a warning), a recent nm-tax fine and an nm-drc entry on the shared list b2-02. */
static void
setup_state(struct e2e *e)
{
	char *r1 = penalty_record("罚〔2024〕1号", e2e_days_ago(200), "[\"fine\"]");
	char *r2 = penalty_record("罚〔2024〕2号", e2e_days_ago(200), "[\"warning\"]");
	char *r3 = penalty_record("罚〔2024〕3号", e2e_days_ago(20), "[\"fine\"]");
	send_event(e, "nm-tax", e2e_id("setup", 1), "penalty.issued", "nm-tax", USCC_A, r1);
	send_event(e, "nm-tax", e2e_id("setup", 2), "penalty.issued", "nm-tax", USCC_B, r2);
	send_event(e, "nm-tax", e2e_id("setup", 3), "penalty.issued", "nm-tax", USCC_C, r3);
	send_event(e, "nm-drc", e2e_id("setup", 4), "list.added", "nm-drc", USCC_D,
	           "{\"list\": \"b2-02\", \"decision_no\": \"列〔2024〕4号\", \"listed_on\": "
	           "\"2024-04-02\"}");
	free(r1);
	free(r2);
	free(r3);
}

static void
corpus_add_event(struct corpus *cp, const char *name, const char *topic_producer, const char *type,
                 const char *producer, const char *uscc, const char *record, const char *reason)
{
	char *ev =
	    e2e_event(e2e_id(name, 1), type, producer, uscc, "2024-10-08T10:00:00+08:00", record);
	corpus_add(cp, name, ev, strlen(ev), topic_producer, reason);
	free(ev);
}

/* Attacks only the records' history can refuse, and forged producers against that state. */
static void
corpus_add_stateful(struct corpus *cp)
{
	char rec[256];

	/* An entry removed by an authority that shares the list but did not add it. */
	corpus_add_event(cp, "state-remove-entry-of-another", "nm-transport", "list.removed",
	                 "nm-transport", USCC_D,
	                 "{\"list\": \"b2-02\", \"decision_no\": \"列〔2024〕4号\", "
	                 "\"removed_on\": \"2024-10-09\"}",
	                 "not_entry_owner");
	/* Removed, and added, by an authority that does not own the list at all. */
	corpus_add_event(cp, "state-remove-entry-list-not-owned", "nm-tax", "list.removed",
	                 "nm-tax", USCC_D,
	                 "{\"list\": \"b2-02\", \"decision_no\": \"列〔2024〕4号\", "
	                 "\"removed_on\": \"2024-10-09\"}",
	                 "not_list_owner");
	corpus_add_event(cp, "state-add-to-list-not-owned", "nm-tax", "list.added", "nm-tax",
	                 USCC_A,
	                 "{\"list\": \"b1-01\", \"decision_no\": \"列〔2024〕9号\", "
	                 "\"listed_on\": \"2024-10-08\"}",
	                 "not_list_owner");
	/* Repairs: through the system that does not decide this penalty's repairs, before the
	 * minimum period, of a penalty that cannot be repaired, and by the authority itself. */
	snprintf(rec, sizeof(rec), "{\"decision_no\": \"罚〔2024〕1号\", \"repaired_on\": \"%s\"}",
	         e2e_days_ago(10));
	corpus_add_event(cp, "state-repair-wrong-channel", "gsxt", "penalty.repaired", "gsxt",
	                 USCC_A, rec, "wrong_channel");
	corpus_add_event(cp, "state-repair-by-the-authority", "nm-tax", "penalty.repaired",
	                 "nm-tax", USCC_A, rec, "wrong_channel");
	snprintf(rec, sizeof(rec), "{\"decision_no\": \"罚〔2024〕3号\", \"repaired_on\": \"%s\"}",
	         e2e_days_ago(1));
	corpus_add_event(cp, "state-repair-before-minimum-period", "creditchina",
	                 "penalty.repaired", "creditchina", USCC_C, rec, "before_minimum_period");
	snprintf(rec, sizeof(rec), "{\"decision_no\": \"罚〔2024〕2号\", \"repaired_on\": \"%s\"}",
	         e2e_days_ago(10));
	corpus_add_event(cp, "state-repair-not-repairable", "creditchina", "penalty.repaired",
	                 "creditchina", USCC_B, rec, "not_repairable");
	/* Forged producers: another authority writes the penalty's producer in the field, and
	 * a producer claims to be the system that decides repairs. */
	corpus_add_event(cp, "state-forged-producer-revoke", "nm-samr", "penalty.revoked", "nm-tax",
	                 USCC_A,
	                 "{\"decision_no\": \"罚〔2024〕1号\", \"revoked_on\": \"2024-10-08\"}",
	                 "producer_mismatch");
	snprintf(rec, sizeof(rec), "{\"decision_no\": \"罚〔2024〕1号\", \"repaired_on\": \"%s\"}",
	         e2e_days_ago(10));
	corpus_add_event(cp, "state-forged-producer-repair", "nm-tax", "penalty.repaired",
	                 "creditchina", USCC_A, rec, "producer_mismatch");
}

static void
corpus_free(struct corpus *cp)
{
	for (size_t i = 0; i < cp->n; i++)
		free(cp->c[i].payload);
	free(cp->c);
}

/* A SQL expression for any bytes: decode('<hex>', 'hex'). malloc'd. */
static char *
sql_bytes(const char *buf, size_t len)
{
	char *out = malloc(2 * len + 32);
	cr_assert_not_null(out);
	size_t o = (size_t)snprintf(out, 32, "decode('");
	for (size_t i = 0; i < len; i++)
		o += (size_t)snprintf(out + o, 3, "%02x", (unsigned char)buf[i]);
	snprintf(out + o, 32, "', 'hex')");
	return out;
}

/* The same for text: convert_from(decode(...), 'UTF8'). */
static char *
sql_text(const char *s)
{
	char *bytes = sql_bytes(s, strlen(s));
	char *out = e2e_printf("convert_from(%s, 'UTF8')", bytes);
	free(bytes);
	return out;
}

/* Everything an event may change, apart from the inbound log and the reject messages. */
static char *
digest(struct e2e *e)
{
	return e2e_sql_text(e,
	                    "SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM ("
	                    " SELECT 'r' || t::text x FROM credsync.records t"
	                    " UNION ALL SELECT 'o' || t::text FROM credsync.obligations t"
	                    " UNION ALL SELECT 'a' || t::text FROM credsync.repair_applications t"
	                    " UNION ALL SELECT 'b' || t::text FROM credsync.outbox t"
	                    "  WHERE topic NOT LIKE 'credit.reject.%') s");
}

static void
wait_quiet(struct e2e *e, long long inbound)
{
	cr_assert(e2e_wait_sql(e, "SELECT count(*) FROM credsync.inbound", inbound, WAIT_MS),
	          "not every message was consumed in time");
	cr_assert(e2e_wait_sql(e, "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL", 0,
	                       WAIT_MS),
	          "the outbox did not drain in time");
}

/* A reject as a JSON object: the harness gives messages it could not parse (a payload with
 * NUL, written \u0000) as strings, so parse those again allowing NUL. New reference. */
static json_t *
reject_object(json_t *m)
{
	if (json_is_object(m))
		return json_incref(m);
	const char *s = json_string_value(m);
	if (s == NULL)
		return NULL;
	return json_loadb(s, json_string_length(m), JSON_ALLOW_NUL, NULL);
}

/* Whether reject r is case hc's: same reason and, when exact, the payload verbatim. */
static bool
reject_is(json_t *r, const struct hcase *hc, bool exact)
{
	const char *reason = json_string_value(json_object_get(r, "reason"));
	json_t *pl = json_object_get(r, "payload");
	if (hc->matched || reason == NULL || strcmp(hc->reason, reason) != 0)
		return false;
	return !exact || (json_string_length(pl) == hc->len &&
	                  memcmp(json_string_value(pl), hc->payload, hc->len) == 0);
}

/* Each reject message on credit.reject.<producer> is one case's: same reason, a one-line
 * detail, and the payload verbatim (but where invalid UTF-8 had to be replaced: those are
 * matched by reason among the cases left). */
static void
check_reject_topic(struct e2e *e, struct corpus *cp, const char *producer)
{
	char topic[128];
	size_t expected = 0;
	for (size_t i = 0; i < cp->n; i++)
		expected += strcmp(cp->c[i].producer, producer) == 0;
	snprintf(topic, sizeof(topic), "credit.reject.%s", producer);
	json_t *msgs = e2e_read_topic(e, topic, expected, WAIT_MS);
	size_t nmsgs = json_array_size(msgs);
	cr_expect_eq(nmsgs, expected, "%s: %zu rejects, expected %zu", topic, nmsgs, expected);
	json_t **rejects = calloc(nmsgs + 1, sizeof(*rejects));
	bool *done = calloc(nmsgs + 1, sizeof(*done));
	cr_assert(rejects && done);
	for (size_t k = 0; k < nmsgs; k++) {
		rejects[k] = reject_object(json_array_get(msgs, k));
		const char *detail = json_string_value(json_object_get(rejects[k], "detail"));
		cr_expect(detail != NULL, "%s: reject %zu is not a reject", topic, k);
		cr_expect(detail == NULL || strpbrk(detail, "\r\n") == NULL,
		          "%s: detail is not one line: %s", topic, detail);
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < nmsgs; k++)
			for (size_t i = 0; i < cp->n && !done[k]; i++)
				if (strcmp(cp->c[i].producer, producer) == 0 &&
				    reject_is(rejects[k], &cp->c[i], pass == 0))
					done[k] = cp->c[i].matched = true;
	for (size_t k = 0; k < nmsgs; k++) {
		char *text = json_dumps(rejects[k], JSON_COMPACT);
		cr_expect(done[k], "%s: unexpected reject: %.300s", topic, text ? text : "?");
		free(text);
		json_decref(rejects[k]);
	}
	free(rejects);
	free(done);
	json_decref(msgs);
}

Test(hostile, corpus_rejected_nothing_changes_nothing_stops, .timeout = 600)
{
	/* static: e2e_cleanup reaches it after a failed assertion left this frame */
	static struct e2e e;
	static struct corpus cp;
	e = (struct e2e){0};
	cp = (struct corpus){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	setup_state(&e);
	wait_quiet(&e, 4);
	cr_assert_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                             "'applied'"),
	             4, "the setup events were not all applied");
	char *before = digest(&e);

	corpus_load_fixtures(&cp);
	corpus_add_stateful(&cp);
	cr_assert_geq(cp.n, 100, "only %zu hostile cases", cp.n);
	for (size_t i = 0; i < cp.n; i++) {
		char topic[128];
		snprintf(topic, sizeof(topic), "credit.in.%s", cp.c[i].producer);
		e2e_produce_bytes(&e, topic, USCC_A, cp.c[i].payload, cp.c[i].len, 0);
	}
	wait_quiet(&e, (long long)(4 + cp.n));

	/* Each message is kept, with its reason. */
	for (size_t i = 0; i < cp.n; i++) {
		char topic[128];
		snprintf(topic, sizeof(topic), "credit.in.%s", cp.c[i].producer);
		char *payload = sql_bytes(cp.c[i].payload, cp.c[i].len);
		char *sql =
		    e2e_printf("SELECT coalesce(string_agg(DISTINCT outcome || ':' || "
		               "coalesce(reason, ''), ','), '') FROM credsync.inbound WHERE "
		               "topic = '%s' AND payload = %s",
		               topic, payload);
		char *got = e2e_sql_text(&e, sql);
		char want[64];
		snprintf(want, sizeof(want), "rejected:%s", cp.c[i].reason);
		cr_expect_str_eq(got, want, "%s on %s", cp.c[i].name, topic);
		free(got);
		free(sql);
		free(payload);
	}
	/* ... and nothing else changed. */
	char *after = digest(&e);
	cr_expect_str_eq(after, before,
	                 "records, obligations, applications or out messages changed");
	free(after);
	free(before);

	/* On the wire: one reject per case on its producer's reject topic. */
	for (size_t i = 0; i < cp.n; i++) {
		bool first = true;
		for (size_t k = 0; k < i; k++)
			first = first && strcmp(cp.c[k].producer, cp.c[i].producer) != 0;
		if (first)
			check_reject_topic(&e, &cp, cp.c[i].producer);
	}
	for (size_t i = 0; i < cp.n; i++)
		cr_expect(cp.c[i].matched, "%s: no %s reject on credit.reject.%s", cp.c[i].name,
		          cp.c[i].reason, cp.c[i].producer);

	/* Nothing stopped: a valid event after the corpus is applied and shown. */
	send_event(&e, "nm-court", e2e_id("after", 1), "list.added", "nm-court", USCC_B,
	           "{\"list\": \"b1-01\", \"decision_no\": \"列〔2024〕99号\", \"listed_on\": "
	           "\"2024-10-08\"}");
	/* ... and so is one of exactly 64 KiB, the limit (too-large is one byte more). */
	char path[1024];
	size_t len;
	snprintf(path, sizeof(path), "%s/events/valid/size-at-limit/input",
	         env_dir("CREDSYNC_FIXTURES"));
	char *at_limit = testlib_read_file(path, &len);
	cr_assert(at_limit != NULL && len == EVENT_MAX_BYTES, "%s: not %d bytes", path,
	          EVENT_MAX_BYTES);
	e2e_produce_bytes(&e, "credit.in.nm-tax", USCC_A, at_limit, len, 0);
	free(at_limit);
	wait_quiet(&e, (long long)(4 + cp.n + 2));
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.records WHERE decision_no = "
	                             "'列〔2024〕99号' AND status = 'shown'"),
	             1, "the valid event after the corpus was not applied");
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = "
	                             "'applied' AND length(payload) = 65536"),
	             1, "the event of exactly 64 KiB was not applied");
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0, "credsyncd did not stop cleanly");
	corpus_free(&cp);
	e2e_stop(&e);
}

/* A valid hostile fixture, made to stand alone: its own event id, and (unless the field under
 * test is the decision number) its own decision number. Returns the JSON text, malloc'd. */
static char *
valid_hostile(const char *name, int i, const char *decision_no, char **ret_value)
{
	char path[1024];
	size_t len;
	snprintf(path, sizeof(path), "%s/events/valid/%s/input", env_dir("CREDSYNC_FIXTURES"),
	         name);
	char *input = testlib_read_file(path, &len);
	cr_assert_not_null(input, "no %s", path);
	json_t *root = json_loadb(input, len, 0, NULL);
	cr_assert_not_null(root, "%s is not JSON", path);
	free(input);
	json_t *rec = json_object_get(root, "record");
	const char *type = json_string_value(json_object_get(root, "type"));
	json_object_set_new(root, "event_id", json_string(e2e_id("valid-hostile", i)));
	if (strcmp(name, "hostile-sqli-decision-no") != 0)
		json_object_set_new(rec, "decision_no", json_string(decision_no));
	if (strcmp(type, "penalty.issued") == 0)
		json_object_set_new(rec, "decided_on", json_string(e2e_days_ago(200)));
	if (strcmp(type, "penalty.repaired") == 0)
		json_object_set_new(rec, "repaired_on", json_string(e2e_days_ago(10)));
	/* Later than the setup penalty's event, so that a repair of it is not stale. */
	json_object_set_new(root, "occurred_at", json_string("2025-01-01T10:00:00+08:00"));
	/* The hostile value under test, for the verbatim checks. */
	const char *value = NULL;
	if (strstr(name, "subject-name"))
		value =
		    json_string_value(json_object_get(json_object_get(root, "subject"), "name"));
	else if (strstr(name, "decision-no") && !strstr(name, "repair"))
		value = json_string_value(json_object_get(rec, "decision_no"));
	else if (strstr(name, "repair-decision-no"))
		value = json_string_value(json_object_get(rec, "repair_decision_no"));
	else if (strstr(name, "application-no"))
		value = json_string_value(json_object_get(rec, "application_no"));
	*ret_value = value ? strdup(value) : NULL;
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

Test(hostile, sql_text_in_free_text_fields_is_stored_verbatim, .timeout = 300)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	/* The penalty the hostile repair decides. */
	char *r = penalty_record("HR〔2024〕1号", e2e_days_ago(200), "[\"fine\"]");
	send_event(&e, "nm-tax", e2e_id("setup", 1), "penalty.issued", "nm-tax", USCC_A, r);
	free(r);
	wait_quiet(&e, 1);
	long long tables = e2e_sql_int(&e, "SELECT count(*) FROM pg_tables WHERE schemaname = "
	                                   "'credsync'");

	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/events/valid", env_dir("CREDSYNC_FIXTURES"));
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "hostile-", 8) != 0)
			continue;
		n++;
		char decision_no[64], *value = NULL, topic[128];
		if (strstr(de->d_name, "repair-decision-no") ||
		    strstr(de->d_name, "application-no"))
			snprintf(decision_no, sizeof(decision_no), "HR〔2024〕1号");
		else
			snprintf(decision_no, sizeof(decision_no), "H〔2024〕%d号", n);
		char *ev = valid_hostile(de->d_name, n, decision_no, &value);
		json_t *root = json_loads(ev, 0, NULL);
		snprintf(topic, sizeof(topic), "credit.in.%s",
		         json_string_value(json_object_get(root, "producer")));
		const char *uscc =
		    json_string_value(json_object_get(json_object_get(root, "subject"), "uscc"));
		e2e_produce(&e, topic, uscc, ev);
		wait_quiet(&e, 1 + n);
		char *id = strdup(e2e_id("valid-hostile", n));
		char *outcome = e2e_printf("SELECT coalesce(string_agg(outcome || ':' || "
		                           "coalesce(reason, ''), ','), '') FROM credsync.inbound "
		                           "WHERE event_id = '%s'",
		                           id);
		char *got = e2e_sql_text(&e, outcome);
		/* repair.* events change no record (noop) and are kept as applications. */
		const char *type = json_string_value(json_object_get(root, "type"));
		cr_expect_str_eq(got,
		                 strncmp(type, "repair.", 7) == 0 ? "noop:" : "applied:", "%s: %s",
		                 de->d_name, got);
		free(got);
		free(outcome);
		if (value != NULL) {
			char *lit = sql_text(value);
			char *sql;
			if (strstr(de->d_name, "subject-name"))
				sql = e2e_printf("SELECT count(*) FROM credsync.records WHERE "
				                 "subject_name = %s AND add_event_id = '%s'",
				                 lit, id);
			else if (strstr(de->d_name, "repair-decision-no"))
				sql = e2e_printf("SELECT count(*) FROM credsync.records WHERE "
				                 "repair_decision_no = %s AND end_event_id = '%s'",
				                 lit, id);
			else if (strstr(de->d_name, "application-no"))
				sql =
				    e2e_printf("SELECT count(*) FROM credsync.repair_applications "
				               "WHERE application_no = %s",
				               lit);
			else
				sql = e2e_printf("SELECT count(*) FROM credsync.records WHERE "
				                 "decision_no = %s AND add_event_id = '%s'",
				                 lit, id);
			cr_expect_eq(e2e_sql_int(&e, sql), 1, "%s: \"%s\" not stored verbatim",
			             de->d_name, value);
			free(sql);
			free(lit);
		}
		free(id);
		free(value);
		json_decref(root);
		free(ev);
	}
	closedir(d);
	cr_assert_geq(n, 8, "only %d valid hostile fixtures", n);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM pg_tables WHERE schemaname = "
	                             "'credsync'"),
	             tables, "a table of credsync disappeared");
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0, "credsyncd did not stop cleanly");
	e2e_stop(&e);
}
