/* End-to-end: the sites' acknowledgements as they really arrive (issue 14 item 4). Lost (the
 * obligation stays in the backlog and the late list, its breach logged once, also across a
 * restart), duplicated (recorded once, the first done_at kept), sent for the wrong site
 * (changes nothing; with a mismatched site field refused), re-sent after a restart, and
 * arriving before the message is marked sent (recorded, and kept when it is). Then the hostile
 * acknowledgement fixtures through a running credsyncd: each refused with its reason, nothing
 * changed, nothing stopped. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e.h"
#include "event.h"
#include "store.h"
#include "testlib.h"

#define WAIT_MS 60000

TestSuite(acks, .fini = e2e_cleanup);

#define USCC_A "91150102MA0N123408"
#define USCC_B "91150105MA0Q7K3D2H"

/* done_at values, each one distinct, so that the kept one says which ack was recorded */
#define T1 "2026-10-09T09:00:00+08:00"
#define T2 "2026-10-09T10:00:00+08:00"
#define T3 "2026-10-09T11:00:00+08:00"
#define T4 "2026-10-09T12:00:00+08:00"
#define T5 "2026-10-09T13:00:00+08:00"

/* A penalty of nm-tax, decision number "罚〔2024〕<i>号", received at ts_ms (0: now). */
static void
send_penalty(struct e2e *e, int i, const char *uscc, long long ts_ms)
{
	char rec[512];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"罚〔2024〕%d号\", \"decided_on\": \"2026-01-05\","
	         " \"categories\": [\"fine\"], \"fine_yuan\": \"200000.00\", \"field\": \"other\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         i);
	char *ev = e2e_event(e2e_id("ack-penalty", i), "penalty.issued", "nm-tax", uscc,
	                     "2026-01-05T10:15:00+08:00", rec);
	e2e_produce_at(e, "credit.in.nm-tax", uscc, ev, ts_ms);
	free(ev);
}

/* An acknowledgement on credit.ack.<topic_site> naming site, keyed by the subject's USCC as
 * the contract says: a site's acks of one subject keep their order (one partition). */
static void
send_ack(struct e2e *e, const char *topic_site, const char *site, const char *id, const char *uscc,
         const char *done_at)
{
	char topic[64], msg[256];
	snprintf(topic, sizeof(topic), "credit.ack.%s", topic_site);
	snprintf(msg, sizeof(msg),
	         "{\"schema\": \"credsync.ack/1\", \"id\": \"%s\", \"site\": \"%s\","
	         " \"done_at\": \"%s\"}",
	         id, site, done_at);
	e2e_produce(e, topic, uscc, msg);
}

/* The id of the obligation of penalty i to site (malloc'd). */
static char *
obligation_id(struct e2e *e, int i, const char *site)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT id::text FROM credsync.obligations WHERE decision_no = '罚〔2024〕%d号' "
	         "AND site = '%s' AND type = 'disclose'",
	         i, site);
	char *id = e2e_sql_text(e, sql);
	cr_assert(id[0] != '\0', "no disclose of penalty %d to %s", i, site);
	return id;
}

/* Whether obligation id is acknowledged; *done_at (when not NULL) gets its ack_done_at at
 * +08:00, and *acked_at the moment it was recorded (both malloc'd, "" when none). */
static bool
acked(struct e2e *e, const char *id, char **done_at, char **acked_at)
{
	char sql[512];
	if (done_at != NULL) {
		snprintf(sql, sizeof(sql),
		         "SELECT coalesce(to_char(ack_done_at AT TIME ZONE 'Asia/Shanghai', "
		         "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'), '') FROM credsync.obligations "
		         "WHERE id = '%s'",
		         id);
		*done_at = e2e_sql_text(e, sql);
	}
	if (acked_at != NULL) {
		snprintf(sql, sizeof(sql),
		         "SELECT coalesce(acked_at::text, '') FROM credsync.obligations WHERE id = "
		         "'%s'",
		         id);
		*acked_at = e2e_sql_text(e, sql);
	}
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM credsync.obligations WHERE id = '%s' AND acked_at IS NOT "
	         "NULL",
	         id);
	return e2e_sql_int(e, sql) == 1;
}

/* The acknowledgements consumed (016_acks_log.sql): those that met their obligation are kept
 * in acks with their message, the others in the inbound log as 'ack'. */
#define ACKS_KEPT                                                                                  \
	"SELECT (SELECT count(*) FROM credsync.inbound WHERE outcome = 'ack') + "                  \
	"(SELECT count(*) FROM credsync.acks WHERE topic IS NOT NULL)"

/* Waits until n acknowledgements are kept, in acks or in the inbound log. */
static void
wait_acks(struct e2e *e, long long n)
{
	cr_assert(e2e_wait_sql(e, ACKS_KEPT, n, WAIT_MS),
	          "not %lld acknowledgements in time (%lld)", n, e2e_sql_int(e, ACKS_KEPT));
}

/* Waits until the inbound log has n messages of outcome. */
static void
wait_inbound(struct e2e *e, const char *outcome, long long n)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM credsync.inbound WHERE outcome = '%s'",
	         outcome);
	cr_assert(e2e_wait_sql(e, sql, n, WAIT_MS), "not %lld inbound messages %s in time (%lld)",
	          n, outcome, e2e_sql_int(e, sql));
}

static char *
slurp_log(const struct e2e *e, int idx)
{
	char *text = testlib_read_file(e2e_daemon_log(e, idx), NULL);
	return text != NULL ? text : strdup("");
}

/* How many lines of daemon idx's log contain every one of a and b (b may be NULL). */
static int
log_count(const struct e2e *e, int idx, const char *a, const char *b)
{
	char *text = slurp_log(e, idx);
	int n = 0;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
			n++;
		line = end != NULL ? end + 1 : NULL;
	}
	free(text);
	return n;
}

/* Polls until the newest msg=backlog line of daemon idx, logged after at least `after`
 * backlog lines, has every needle (NULL-ended); each needle ends with a space. */
static bool
wait_backlog(const struct e2e *e, int idx, int after, const char *const *needles)
{
	int64_t deadline = testlib_now_ms() + e2e_ms(WAIT_MS);
	for (;;) {
		char *text = slurp_log(e, idx);
		char *last = NULL;
		int n = 0;
		for (char *p = text; (p = strstr(p, "msg=backlog ")) != NULL; p++, n++)
			last = p;
		bool ok = last != NULL && n > after;
		if (ok) {
			size_t end = strcspn(last, "\n");
			last[end] = ' ';
			last[end + 1] = '\0';
			for (size_t i = 0; needles[i] != NULL && ok; i++)
				ok = strstr(last, needles[i]) != NULL;
		}
		if (!ok && testlib_now_ms() >= deadline)
			fprintf(stderr, "e2e: last backlog line: %s\n", last ? last : "(none)");
		free(text);
		if (ok)
			return true;
		if (testlib_now_ms() >= deadline)
			return false;
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* credsyncctl's JSON answer to args (a shell-quoted argument string). */
static json_t *
ctl_json(const char *args)
{
	char *cmd = e2e_printf("%s'%s/credsyncctl' %s", e2e_shell_prefix("credsyncctl"),
	                       getenv("CREDSYNC_BIN"), args);
	json_error_t jerr;
	FILE *fp = popen(cmd, "r");
	cr_assert(fp != NULL);
	json_t *j = json_loadf(fp, 0, &jerr);
	pclose(fp);
	e2e_valgrind_check();
	cr_assert(j != NULL, "%s: %s", cmd, jerr.text);
	free(cmd);
	return j;
}

/* The ids of `credsyncctl late`'s breaches, sorted and joined by ",". */
static char *
late_ids(struct e2e *e)
{
	char *args = e2e_printf("late -c '%s/credsyncd-0.conf' --json", e->dir);
	json_t *view = ctl_json(args);
	free(args);
	json_t *br = json_object_get(view, "breaches");
	cr_assert(json_is_array(br), "late --json has no breaches");
	size_t n = json_array_size(br);
	const char **ids = calloc(n + 1, sizeof(*ids));
	cr_assert_not_null(ids);
	for (size_t i = 0; i < n; i++) {
		ids[i] = json_string_value(json_object_get(json_array_get(br, i), "id"));
		cr_assert_not_null(ids[i], "a breach without id");
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
			const char *t = ids[k];
			ids[k] = ids[k - 1];
			ids[k - 1] = t;
		}
	char *out = strdup("");
	for (size_t i = 0; i < n; i++) {
		char *next = e2e_printf("%s%s%s", out, i ? "," : "", ids[i]);
		free(out);
		out = next;
	}
	free(ids);
	json_decref(view);
	return out;
}

static char *
joined(const char *a, const char *b)
{
	return strcmp(a, b) < 0 ? e2e_printf("%s,%s", a, b) : e2e_printf("%s,%s", b, a);
}

static char *
upper(const char *s)
{
	char *u = strdup(s);
	cr_assert_not_null(u);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

/* The clock's now: two months after the penalties were received, so all are breaches. */
#define CLOCK_NOW  "2026-12-02T13:00:00+08:00"
#define RECEIVED   "2026-09-30T15:00:00+08:00"
#define BREACH_DUE "2026-10-08"

Test(acks, lost_duplicated_wrong_site_and_resent_after_restart, .timeout = 300)
{
	static struct e2e e;
	static char cfg[128];
	snprintf(cfg, sizeof(cfg), "test.clock_offset_s = %lld\n",
	         (long long)(testlib_instant(CLOCK_NOW) - time(NULL)));
	e = (struct e2e){.extra_config = cfg};
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	long long received_ms = (long long)testlib_instant(RECEIVED) * 1000;
	send_penalty(&e, 1, USCC_A, received_ms);
	send_penalty(&e, 2, USCC_B, received_ms);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 4, WAIT_MS));
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.obligations WHERE sent_at IS NOT "
	                       "NULL AND breach_logged_at IS NOT NULL",
	                       4, WAIT_MS),
	          "the four obligations were not sent and breached in time");
	char *c1 = obligation_id(&e, 1, "creditchina"), *g1 = obligation_id(&e, 1, "gsxt");
	char *c2 = obligation_id(&e, 2, "creditchina"), *g2 = obligation_id(&e, 2, "gsxt");
	long long acks = 0;

	/* Duplicated: twice at once (one batch, most likely), then again later in upper case. */
	send_ack(&e, "gsxt", "gsxt", g1, USCC_A, T1);
	send_ack(&e, "gsxt", "gsxt", g1, USCC_A, T2);
	wait_acks(&e, acks += 2);
	char *done_at, *acked_at, *acked_again;
	cr_expect(acked(&e, g1, &done_at, &acked_at), "the duplicated ack was not recorded");
	cr_expect_str_eq(done_at, T1, "the first ack's done_at is kept: %s", done_at);
	free(done_at);
	/* the first kept in acks with its message, the repeat in the inbound log */
	char *sql = e2e_printf("SELECT count(*) FROM credsync.acks WHERE id = '%s' AND topic = "
	                       "'credit.ack.gsxt' AND \"offset\" IS NOT NULL AND kafka_ts IS NOT "
	                       "NULL AND convert_from(payload, 'UTF8') LIKE '%%%s%%'",
	                       g1, T1);
	cr_expect_eq(e2e_sql_int(&e, sql), 1, "the ack that counted is not kept with its message");
	free(sql);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.inbound WHERE outcome = 'ack' "
	                             "AND producer = 'gsxt' AND convert_from(payload, 'UTF8') LIKE "
	                             "'%" T2 "%'"),
	             1, "the repeated ack is not in the inbound log");
	char *g1_upper = upper(g1);
	send_ack(&e, "gsxt", "gsxt", g1_upper, USCC_A, T3);
	wait_acks(&e, acks += 1);
	cr_expect(acked(&e, g1, &done_at, &acked_again));
	cr_expect_str_eq(done_at, T1, "a later duplicate changed done_at: %s", done_at);
	cr_expect_str_eq(acked_again, acked_at, "a later duplicate changed acked_at");
	free(done_at);
	free(acked_again);
	free(g1_upper);

	/* For the wrong site: another site's obligation, on the acknowledging site's own topic
	 * with its own name, changes nothing; with the other site's name in the field (not the
	 * topic's), it is refused as producer_mismatch. */
	send_ack(&e, "gsxt", "gsxt", c2, USCC_B, T1);
	send_ack(&e, "creditchina", "creditchina", g2, USCC_B, T1);
	wait_acks(&e, acks += 2);
	send_ack(&e, "gsxt", "creditchina", c2, USCC_B, T1);
	wait_inbound(&e, "rejected", 1);
	cr_expect(!acked(&e, c2, NULL, NULL), "creditchina's obligation acked by gsxt");
	cr_expect(!acked(&e, g2, NULL, NULL), "gsxt's obligation acked by creditchina");
	json_t *rej = e2e_read_topic(&e, "credit.reject.gsxt", 1, WAIT_MS);
	cr_assert_eq(json_array_size(rej), 1, "%zu rejects on credit.reject.gsxt",
	             json_array_size(rej));
	json_t *r = json_array_get(rej, 0);
	cr_expect_str_eq(json_string_value(json_object_get(r, "reason")), "producer_mismatch");
	cr_expect_str_eq(json_string_value(json_object_get(r, "producer")), "gsxt");
	cr_expect_str_eq(json_string_value(json_object_get(r, "topic")), "credit.ack.gsxt");
	cr_expect(json_is_null(json_object_get(r, "event_id")), "an ack's reject has an event_id");
	json_decref(rej);
	cr_expect_eq(log_count(&e, 0, "msg=rejected ", "reason=producer_mismatch"), 1);
	/* ... and the right one, after all that, is recorded */
	send_ack(&e, "gsxt", "gsxt", g2, USCC_B, T2);
	wait_acks(&e, acks += 1);
	cr_expect(acked(&e, g2, &done_at, NULL));
	cr_expect_str_eq(done_at, T2);
	free(done_at);

	/* Lost: c1 (never sent) and c2 (only wrongly) stay breaches, each logged once. */
	char *want = joined(c1, c2);
	char *late = late_ids(&e);
	cr_expect_str_eq(late, want, "credsyncctl late");
	free(late);
	free(want);
	const char *two[] = {"breach=2 ", "oldest_breach=" BREACH_DUE " ", "unacknowledged=2 ",
	                     NULL};
	cr_expect(wait_backlog(&e, 0, 0, two));
	cr_expect_eq(log_count(&e, 0, "msg=breach ", NULL), 4);
	const char *const all[] = {c1, g1, c2, g2};
	for (int i = 0; i < 4; i++)
		cr_expect_eq(log_count(&e, 0, "msg=breach ", all[i]), 1, "breach of %s", all[i]);

	/* Restart; while it is down gsxt re-sends its ack of g1 and creditchina acks c2 twice
	 * (on one partition, read in one batch after the start: the first one counts). */
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0);
	int backlog_lines = log_count(&e, 0, "msg=backlog ", NULL);
	send_ack(&e, "gsxt", "gsxt", g1, USCC_A, T4);
	send_ack(&e, "creditchina", "creditchina", c2, USCC_B, T5);
	send_ack(&e, "creditchina", "creditchina", c2, USCC_B, T4);
	e2e_daemon_start(&e, 0);
	wait_acks(&e, acks += 3);
	cr_expect(acked(&e, g1, &done_at, &acked_again));
	cr_expect_str_eq(done_at, T1, "an ack re-sent after a restart changed done_at");
	cr_expect_str_eq(acked_again, acked_at, "an ack re-sent after a restart changed acked_at");
	free(done_at);
	free(acked_again);
	free(acked_at);
	cr_expect(acked(&e, c2, &done_at, NULL), "the ack sent while down was not recorded");
	cr_expect_str_eq(done_at, T5, "the first of two acks in a batch is not kept: %s", done_at);
	free(done_at);

	/* c1 is still lost, and not logged again by the restarted daemon. */
	cr_expect(!acked(&e, c1, NULL, NULL));
	late = late_ids(&e);
	cr_expect_str_eq(late, c1, "credsyncctl late after the restart");
	free(late);
	const char *one[] = {"breach=1 ", "oldest_breach=" BREACH_DUE " ", "unacknowledged=1 ",
	                     NULL};
	cr_expect(wait_backlog(&e, 0, backlog_lines, one));
	cr_expect_eq(log_count(&e, 0, "msg=breach ", c1), 1, "the lost ack's breach logged again");
	cr_expect_eq(log_count(&e, 0, "msg=breach ", NULL), 4);
	/* every message consumed kept once: the acks, two penalties, one reject */
	cr_expect_eq(e2e_sql_int(&e, "SELECT (SELECT count(*) FROM credsync.inbound) + (SELECT "
	                             "count(*) FROM credsync.acks WHERE topic IS NOT NULL)"),
	             acks + 2 + 1);
	free(c1);
	free(g1);
	free(c2);
	free(g2);
	e2e_stop(&e);
}

Test(acks, ack_before_the_message_is_marked_sent_is_recorded_and_kept, .timeout = 300)
{
	static struct e2e e;
	e = (struct e2e){0};
	e2e_start(&e);

	/* The test holds the outbox lock, as another instance that publishes would: credsyncd
	 * applies, but its publisher waits. */
	char err[512];
	store *holder = store_open(e.conninfo, 5000, err, sizeof(err));
	cr_assert_not_null(holder, "%s", err);
	bool got = false;
	cr_assert_eq(store_outbox_lock(holder, &got, err, sizeof(err)), 0, "%s", err);
	cr_assert(got, "the test could not take the outbox lock");
	e2e_daemon_start(&e, 0);

	send_penalty(&e, 1, USCC_A, 0);
	cr_assert(e2e_wait_sql(&e, "SELECT count(*) FROM credsync.obligations", 2, WAIT_MS));
	char *c1 = obligation_id(&e, 1, "creditchina"), *g1 = obligation_id(&e, 1, "gsxt");
	send_ack(&e, "creditchina", "creditchina", c1, USCC_A, T1);
	send_ack(&e, "gsxt", "gsxt", g1, USCC_A, T2);
	wait_acks(&e, 2);
	cr_expect_eq(e2e_sql_int(&e, "SELECT count(*) FROM credsync.obligations WHERE acked_at IS "
	                             "NOT NULL AND sent_at IS NULL"),
	             2, "the acks did not arrive before the messages were marked sent");

	/* The lock let go: the messages go out and are marked sent, the acks stay. */
	store_close(holder);
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.obligations WHERE sent_at IS NOT "
	                       "NULL",
	                       2, WAIT_MS),
	          "the messages were not sent after the lock was let go");
	char *done_at;
	cr_expect(acked(&e, c1, &done_at, NULL), "marking it sent lost creditchina's ack");
	cr_expect_str_eq(done_at, T1);
	free(done_at);
	cr_expect(acked(&e, g1, &done_at, NULL), "marking it sent lost gsxt's ack");
	cr_expect_str_eq(done_at, T2);
	free(done_at);
	const char *sites[] = {"creditchina", "gsxt"};
	const char *ids[] = {c1, g1};
	for (int s = 0; s < 2; s++) {
		char topic[64];
		snprintf(topic, sizeof(topic), "credit.out.%s", sites[s]);
		json_t *msgs = e2e_read_topic(&e, topic, 1, WAIT_MS);
		cr_expect_eq(json_array_size(msgs), 1, "%s", topic);
		cr_expect_str_eq(json_string_value(json_object_get(json_array_get(msgs, 0), "id")),
		                 ids[s], "%s", topic);
		json_decref(msgs);
	}
	const char *none[] = {"unsent=0 ", "unacknowledged=0 ", NULL};
	cr_expect(wait_backlog(&e, 0, 0, none));
	free(c1);
	free(g1);
	e2e_stop(&e);
}

/* ---- hostile acknowledgements ---- */

/* The id the ack fixtures name, replaced by a real obligation's: a hostile ack that were taken
 * for a good one would then acknowledge it. */
#define FIXTURE_ID "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40"

struct hack {
	char name[160];
	char *payload;
	size_t len;
	char site[64]; /* the topic is credit.ack.<site> */
	char reason[40];
	bool matched;
};

static struct hack hacks[64];
static size_t n_hacks;

static void
hack_add(const char *name, const char *payload, size_t len, const char *site, const char *reason)
{
	cr_assert_lt(n_hacks, sizeof(hacks) / sizeof(hacks[0]));
	struct hack *h = &hacks[n_hacks++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->payload = malloc(len + 1);
	cr_assert_not_null(h->payload);
	memcpy(h->payload, payload, len);
	h->payload[len] = '\0';
	h->len = len;
	snprintf(h->site, sizeof(h->site), "%s", site);
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
}

/* s with every FIXTURE_ID replaced by id (malloc'd). */
static char *
with_id(const char *s, const char *id)
{
	char *out = strdup(s);
	cr_assert_not_null(out);
	for (char *p = out; (p = strstr(p, FIXTURE_ID)) != NULL; p += strlen(FIXTURE_ID))
		memcpy(p, id, strlen(FIXTURE_ID));
	return out;
}

/* Every tests/fixtures/acks/invalid case, on the topic its topic file names (else gsxt's). */
static void
load_fixtures(const char *id)
{
	char dir[1024];
	size_t n;
	snprintf(dir, sizeof(dir), "%s/acks/invalid", testlib_fixtures_dir());
	char **names = testlib_list_dir(dir, "", &n);
	cr_assert_geq(n, 10, "only %zu ack fixtures in %s", n, dir);
	for (size_t i = 0; i < n; i++) {
		char path[1200], reason[40], site[64] = "gsxt";
		snprintf(path, sizeof(path), "%s/%s/input", dir, names[i]);
		char *input = testlib_must_read(path);
		snprintf(path, sizeof(path), "%s/%s/error", dir, names[i]);
		char *error = testlib_must_read(path);
		size_t r = strcspn(error, ":");
		cr_assert(r < sizeof(reason), "%s: error is not \"reason: detail\"", names[i]);
		memcpy(reason, error, r);
		reason[r] = '\0';
		snprintf(path, sizeof(path), "%s/%s/topic", dir, names[i]);
		char *topic = testlib_read_file(path, NULL);
		if (topic != NULL) {
			topic[strcspn(topic, "\r\n")] = '\0';
			cr_assert(strncmp(topic, "credit.ack.", 11) == 0, "%s: topic", names[i]);
			snprintf(site, sizeof(site), "%s", topic + 11);
		}
		char *payload = with_id(input, id);
		hack_add(names[i], payload, strlen(payload), site, reason);
		free(payload);
		free(input);
		free(error);
		free(topic);
	}
	testlib_free_names(names, n);
}

/* Hostile bytes the fixtures do not have (the contract's reasons for each), all naming id. */
static void
add_hostile(const char *id)
{
	char *s;
	const char *good = "\"schema\": \"credsync.ack/1\", \"site\": \"gsxt\","
	                   " \"done_at\": \"" T1 "\"";

	hack_add("empty", "", 0, "gsxt", "malformed_json");
	s = e2e_printf("{%s, \"id\": \"%s\", \"note\": \"\xff\xfe\"}", good, id);
	hack_add("invalid-utf8", s, strlen(s), "gsxt", "malformed_json");
	free(s);
	s = e2e_printf("{%s, \"id\": \"%s\"}", good, id);
	size_t len = strlen(s);
	char *nul = malloc(len + 2);
	cr_assert_not_null(nul);
	memcpy(nul, s, len);
	nul[len] = '\0';
	nul[len + 1] = '\n';
	hack_add("nul-after-object", nul, len + 2, "gsxt", "malformed_json");
	free(nul);
	free(s);
	s = e2e_printf("[{%s, \"id\": \"%s\"}]", good, id);
	hack_add("array", s, strlen(s), "gsxt", "malformed_json");
	free(s);
	s = e2e_printf("{%s, \"id\": \"%s\", \"site\": \"gsxt\"}", good, id);
	hack_add("duplicate-member", s, strlen(s), "gsxt", "malformed_json");
	free(s);
	s = e2e_printf("{%s, \"id\": \"%s\", \"x\": [[[[[[[[[[1]]]]]]]]]]}", good, id);
	hack_add("nested-too-deep", s, strlen(s), "gsxt", "malformed_json");
	free(s);
	char *pad = malloc(70001);
	cr_assert_not_null(pad);
	memset(pad, 'a', 70000);
	pad[70000] = '\0';
	s = e2e_printf("{%s, \"id\": \"%s\", \"pad\": \"%s\"}", good, id, pad);
	hack_add("too-large", s, strlen(s), "gsxt", "too_large");
	free(s);
	free(pad);
	s = e2e_printf("{%s, \"id\": 12}", good);
	hack_add("id-a-number", s, strlen(s), "gsxt", "invalid_field");
	free(s);
	s = e2e_printf(
	    "{%s, \"id\": \"%s'); UPDATE credsync.obligations SET acked_at = now(); --\"}", good,
	    id);
	hack_add("sql-in-id", s, strlen(s), "gsxt", "invalid_field");
	free(s);
	s = e2e_printf("{%s, \"id\": \"%s\", \"done_at\": \"2026-10-09T09:00:00+08:00\"}", good,
	               id);
	/* "done_at" twice: a duplicate member, whatever the values */
	hack_add("duplicate-done-at", s, strlen(s), "gsxt", "malformed_json");
	free(s);
	s = e2e_printf("{\"schema\": \"credsync.ack/1\", \"id\": \"%s\", \"site\": null,"
	               " \"done_at\": \"" T1 "\"}",
	               id);
	hack_add("site-null", s, strlen(s), "gsxt", "missing_field");
	free(s);
	s = e2e_printf("{\"schema\": \"credsync.event/1\", \"event_id\": \"%s\", \"type\": "
	               "\"penalty.issued\", \"producer\": \"gsxt\"}",
	               id);
	hack_add("an-event-on-an-ack-topic", s, strlen(s), "gsxt", "unsupported_schema");
	free(s);
}

/* A reject as a JSON object (the harness gives those it could not parse as strings). */
static json_t *
reject_object(json_t *m)
{
	if (json_is_object(m))
		return json_incref(m);
	const char *s = json_string_value(m);
	return s != NULL ? json_loadb(s, json_string_length(m), JSON_ALLOW_NUL, NULL) : NULL;
}

/* Whether reject r is case h's: its site and reason, and when exact its payload verbatim. */
static bool
reject_is(json_t *r, const struct hack *h, const char *site, bool exact)
{
	const char *reason = json_string_value(json_object_get(r, "reason"));
	json_t *pl = json_object_get(r, "payload");
	if (h->matched || reason == NULL || strcmp(h->site, site) != 0 ||
	    strcmp(h->reason, reason) != 0)
		return false;
	return !exact || (json_string_length(pl) == h->len &&
	                  memcmp(json_string_value(pl), h->payload, h->len) == 0);
}

/* Each reject on credit.reject.<site> is one case's: same reason, same payload (or, where
 * invalid UTF-8 was replaced, matched by reason among the cases left), a one-line detail, no
 * event id, the ack topic it was read from. */
static void
check_rejects(struct e2e *e, const char *site)
{
	char topic[128], ack_topic[128];
	size_t expected = 0;
	for (size_t i = 0; i < n_hacks; i++)
		expected += strcmp(hacks[i].site, site) == 0;
	snprintf(topic, sizeof(topic), "credit.reject.%s", site);
	snprintf(ack_topic, sizeof(ack_topic), "credit.ack.%s", site);
	json_t *msgs = e2e_read_topic(e, topic, expected, WAIT_MS);
	size_t n = json_array_size(msgs);
	cr_expect_eq(n, expected, "%s: %zu rejects, expected %zu", topic, n, expected);
	for (size_t k = 0; k < n; k++) {
		json_t *r = reject_object(json_array_get(msgs, k));
		const char *detail = json_string_value(json_object_get(r, "detail"));
		cr_expect(detail != NULL && strpbrk(detail, "\r\n") == NULL, "%s: detail %s", topic,
		          detail ? detail : "(none)");
		cr_expect(json_is_null(json_object_get(r, "event_id")),
		          "%s: an ack's reject has an event_id", topic);
		cr_expect_str_eq(json_string_value(json_object_get(r, "producer")), site);
		cr_expect_str_eq(json_string_value(json_object_get(r, "topic")), ack_topic);
		json_decref(r);
	}
	bool *done = calloc(n + 1, sizeof(*done));
	cr_assert_not_null(done);
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < n; k++) {
			json_t *r = reject_object(json_array_get(msgs, k));
			for (size_t i = 0; i < n_hacks && !done[k]; i++)
				if (reject_is(r, &hacks[i], site, pass == 0))
					done[k] = hacks[i].matched = true;
			if (pass == 1 && !done[k]) {
				char *text = json_dumps(r, JSON_COMPACT);
				cr_expect(done[k], "%s: unexpected reject: %.300s", topic,
				          text ? text : "?");
				free(text);
			}
			json_decref(r);
		}
	free(done);
	json_decref(msgs);
}

/* Everything an ack may change: the obligations and the out messages (rejects aside). */
static char *
digest(struct e2e *e)
{
	return e2e_sql_text(e, "SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM ("
	                       " SELECT 'r' || t::text x FROM credsync.records t"
	                       " UNION ALL SELECT 'o' || t::text FROM credsync.obligations t"
	                       " UNION ALL SELECT 'b' || t::text FROM credsync.outbox t"
	                       "  WHERE topic NOT LIKE 'credit.reject.%') s");
}

Test(acks, hostile_acks_refused_with_their_reason_later_acks_apply, .timeout = 300)
{
	static struct e2e e;
	e = (struct e2e){0};
	n_hacks = 0;
	e2e_start(&e);
	e2e_daemon_start(&e, 0);

	send_penalty(&e, 1, USCC_A, 0);
	cr_assert(e2e_wait_sql(&e,
	                       "SELECT count(*) FROM credsync.obligations WHERE sent_at IS NOT "
	                       "NULL",
	                       2, WAIT_MS));
	/* Both gsxt's obligation, on gsxt's and on creditchina's topic (site-mismatch). */
	char *g1 = obligation_id(&e, 1, "gsxt"), *c1 = obligation_id(&e, 1, "creditchina");
	load_fixtures(g1);
	add_hostile(g1);
	char *before = digest(&e);
	for (size_t i = 0; i < n_hacks; i++) {
		char topic[128];
		snprintf(topic, sizeof(topic), "credit.ack.%s", hacks[i].site);
		e2e_produce_bytes(&e, topic, NULL, hacks[i].payload, hacks[i].len, 0);
	}
	wait_inbound(&e, "rejected", (long long)n_hacks);
	cr_expect_eq(e2e_sql_int(&e, ACKS_KEPT), 0);

	/* Each is kept with its reason, logged with it, and changed nothing. */
	for (size_t i = 0; i < n_hacks; i++) {
		char *hex = malloc(2 * hacks[i].len + 1);
		cr_assert_not_null(hex);
		for (size_t k = 0; k < hacks[i].len; k++)
			snprintf(hex + 2 * k, 3, "%02x", (unsigned char)hacks[i].payload[k]);
		hex[2 * hacks[i].len] = '\0';
		char *sql =
		    e2e_printf("SELECT coalesce(string_agg(outcome || ':' || coalesce(reason, "
		               "''), ','), '') FROM credsync.inbound WHERE topic = "
		               "'credit.ack.%s' AND payload = decode('%s', 'hex')",
		               hacks[i].site, hex);
		char *got = e2e_sql_text(&e, sql);
		char *want = e2e_printf("rejected:%s", hacks[i].reason);
		cr_expect_str_eq(got, want, "%s", hacks[i].name);
		free(want);
		free(got);
		free(sql);
		free(hex);
		char *needle = e2e_printf("reason=%s", hacks[i].reason);
		cr_expect_geq(log_count(&e, 0, "msg=rejected ", needle), 1, "%s not logged",
		              hacks[i].name);
		free(needle);
	}
	cr_expect_eq(log_count(&e, 0, "msg=rejected ", "topic=credit.ack."), (int)n_hacks);
	char *after = digest(&e);
	cr_expect_str_eq(after, before, "a hostile ack changed obligations or out messages");
	free(after);
	free(before);
	check_rejects(&e, "gsxt");
	check_rejects(&e, "creditchina");
	for (size_t i = 0; i < n_hacks; i++)
		cr_expect(hacks[i].matched, "%s: no %s reject on credit.reject.%s", hacks[i].name,
		          hacks[i].reason, hacks[i].site);

	/* Nothing stopped: the good acks after them are recorded. */
	send_ack(&e, "gsxt", "gsxt", g1, USCC_A, T1);
	send_ack(&e, "creditchina", "creditchina", c1, USCC_A, T2);
	wait_acks(&e, 2);
	char *done_at;
	cr_expect(acked(&e, g1, &done_at, NULL));
	cr_expect_str_eq(done_at, T1);
	free(done_at);
	cr_expect(acked(&e, c1, &done_at, NULL));
	cr_expect_str_eq(done_at, T2);
	free(done_at);
	cr_expect_eq(e2e_daemon_stop(&e, 0, SIGTERM), 0, "credsyncd did not stop cleanly");
	for (size_t i = 0; i < n_hacks; i++)
		free(hacks[i].payload);
	free(g1);
	free(c1);
	e2e_stop(&e);
}
