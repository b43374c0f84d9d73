/* test_event: the inbound event validator against its fixture folders, and the encoders. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "event.h"
#include "paths.h"
#include "testlib.h"
#include "utf8.h"
#include "uuid5.h"

/* ---- fixtures: tests/fixtures/events/{valid,invalid}/<case>/{input,error,topic} ---- */

static void
chomp(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* The case folders of <group>/<kind>, sorted; *ret_n of them. Free with testlib_free_names. */
static char **
case_names(const char *group, const char *kind, size_t *ret_n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", testlib_fixtures_dir(), group, kind);
	return testlib_list_dir(path, "", ret_n);
}

struct fixture {
	char *input;
	size_t len;
	char *error;                         /* NULL for valid cases */
	char topic_suffix[PRODUCER_MAX + 1]; /* the producer or site of the topic file */
	bool has_topic;
};

/* group "events" (topics credit.in.<producer>) or "acks" (credit.ack.<site>). */
static void
fixture_load(const char *group, const char *kind, const char *name, struct fixture *fx)
{
	const char *prefix = strcmp(group, "acks") == 0 ? "credit.ack." : "credit.in.";
	char path[4096];
	memset(fx, 0, sizeof(*fx));
	snprintf(path, sizeof(path), "%s/%s/%s/%s/input", testlib_fixtures_dir(), group, kind,
	         name);
	fx->input = testlib_read_file(path, &fx->len);
	cr_assert_not_null(fx->input, "%s/%s/%s: no input", group, kind, name);
	snprintf(path, sizeof(path), "%s/%s/%s/%s/error", testlib_fixtures_dir(), group, kind,
	         name);
	fx->error = testlib_read_file(path, NULL);
	if (fx->error)
		chomp(fx->error);
	snprintf(path, sizeof(path), "%s/%s/%s/%s/topic", testlib_fixtures_dir(), group, kind,
	         name);
	char *topic = testlib_read_file(path, NULL);
	if (topic) {
		chomp(topic);
		cr_assert(strncmp(topic, prefix, strlen(prefix)) == 0, "%s: topic \"%s\"", name,
		          topic);
		snprintf(fx->topic_suffix, sizeof(fx->topic_suffix), "%s", topic + strlen(prefix));
		fx->has_topic = true;
		free(topic);
	}
}

static void
fixture_free(struct fixture *fx)
{
	free(fx->input);
	free(fx->error);
}

/* Runs the parser of group on a fixture: 0 or -1, with rej filled. */
static int
fixture_parse(const char *group, const struct fixture *fx, const rules *r, struct reject *rej)
{
	const char *topic = fx->has_topic ? fx->topic_suffix : NULL;
	if (strcmp(group, "acks") == 0) {
		struct ack ack;
		return ack_parse(fx->input, fx->len, topic, &ack, rej);
	}
	struct event ev;
	int rc = event_parse(fx->input, fx->len, topic, r, &ev, rej);
	if (rc == 0) {
		cr_expect_eq(strlen(ev.event_id), 36);
		cr_expect_eq(strlen(ev.key.uscc), USCC_LEN);
		cr_expect_neq(ev.key.decision_no[0], '\0');
	}
	return rc;
}

static rules *
load_rules(void)
{
	char err[512];
	rules *r = rules_load(paths_datadir(), NULL, err, sizeof(err));
	cr_assert_not_null(r, "rules: %s", err);
	return r;
}

static void
check_valid(const char *group)
{
	rules *r = load_rules();
	size_t n;
	char **names = case_names(group, "valid", &n);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		struct fixture fx;
		struct reject rej;
		fixture_load(group, "valid", names[i], &fx);
		int rc = fixture_parse(group, &fx, r, &rej);
		cr_expect_eq(rc, 0, "%s/valid/%s: %s: %s", group, names[i],
		             reject_reason_name(rej.reason), rej.detail);
		fixture_free(&fx);
	}
	testlib_free_names(names, n);
	rules_free(r);
}

static void
check_invalid(const char *group)
{
	rules *r = load_rules();
	size_t n;
	char **names = case_names(group, "invalid", &n);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		struct fixture fx;
		struct reject rej;
		char got[512];
		fixture_load(group, "invalid", names[i], &fx);
		cr_assert_not_null(fx.error, "%s/invalid/%s: no error file", group, names[i]);
		int rc = fixture_parse(group, &fx, r, &rej);
		snprintf(got, sizeof(got), "%s: %s",
		         rc == 0 ? "ok" : reject_reason_name(rej.reason), rej.detail);
		cr_expect_eq(rc, -1, "%s/invalid/%s: accepted", group, names[i]);
		cr_expect_str_eq(got, fx.error, "%s/invalid/%s:\n  got      %s\n  expected %s",
		                 group, names[i], got, fx.error);
		fixture_free(&fx);
	}
	testlib_free_names(names, n);
	rules_free(r);
}

Test(event, valid_fixtures_parse)
{
	check_valid("events");
}

Test(event, invalid_fixtures_give_their_error)
{
	check_invalid("events");
}

Test(event, valid_ack_fixtures_parse)
{
	check_valid("acks");
}

Test(event, invalid_ack_fixtures_give_their_error)
{
	check_invalid("acks");
}

/* Every reason the parser can give has at least one fixture. */
Test(event, invalid_fixtures_cover_every_parser_reason)
{
	static const enum reject_reason parser_reasons[] = {
	    REJ_MALFORMED_JSON, REJ_TOO_LARGE,      REJ_UNSUPPORTED_SCHEMA, REJ_MISSING_FIELD,
	    REJ_INVALID_FIELD,  REJ_INVALID_USCC,   REJ_UNKNOWN_TYPE,       REJ_PRODUCER_MISMATCH,
	    REJ_UNKNOWN_LIST,   REJ_NOT_LIST_OWNER, REJ_WRONG_CHANNEL,
	};
	bool seen[REJ_COUNT] = {false};
	size_t n;
	char **names = case_names("events", "invalid", &n);
	for (size_t i = 0; i < n; i++) {
		struct fixture fx;
		fixture_load("events", "invalid", names[i], &fx);
		cr_assert_not_null(fx.error, "invalid/%s: no error file", names[i]);
		char *colon = strchr(fx.error, ':');
		cr_assert_not_null(colon, "invalid/%s: error is not \"reason: detail\"", names[i]);
		*colon = '\0';
		int reason = reject_reason_parse(fx.error);
		cr_assert_geq(reason, 1, "invalid/%s: unknown reason \"%s\"", names[i], fx.error);
		seen[reason] = true;
		fixture_free(&fx);
	}
	testlib_free_names(names, n);
	for (size_t i = 0; i < sizeof(parser_reasons) / sizeof(parser_reasons[0]); i++)
		cr_expect(seen[parser_reasons[i]], "no invalid fixture for %s",
		          reject_reason_name(parser_reasons[i]));
}

/* ---- what a valid event parses into ---- */

static const char issued_json[] =
    "{\"schema\": \"credsync.event/1\", \"event_id\": \"6F1C1A52-8D0E-4A3C-9A55-0C2A4E1F7B10\","
    " \"type\": \"penalty.issued\", \"producer\": \"nm-samr\","
    " \"occurred_at\": \"2024-05-06T10:15:00+08:00\","
    " \"subject\": {\"uscc\": \"91150102MA0N123408\", \"name\": \"某某商贸有限公司\"},"
    " \"record\": {\"decision_no\": \"呼市监罚〔2024〕12号\", \"decided_on\": \"2024-05-06\","
    " \"categories\": [\"fine\", \"confiscation\"], \"fine_yuan\": \"20000.5\", \"field\": "
    "\"food\", \"severity\": \"general\","
    " \"issuer\": {\"name\": \"呼和浩特市市场监督管理局\", \"uscc\": \"11150100MB0123456P\"}}}";

Test(event, penalty_issued_fields)
{
	struct event ev;
	struct reject rej;
	cs_date d;
	int rc = event_parse(issued_json, strlen(issued_json), "nm-samr", NULL, &ev, &rej);
	cr_assert_eq(rc, 0, "%s", rej.detail);
	cr_expect_str_eq(ev.event_id, "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b10");
	cr_expect_eq(ev.type, EV_PENALTY_ISSUED);
	cr_expect_str_eq(ev.producer, "nm-samr");
	cr_expect_eq(ev.occurred_at, 1714961700); /* 2024-05-06T02:15:00Z */
	cr_expect_eq(ev.occurred_offset, 480);
	cr_expect_str_eq(ev.subject_name, "某某商贸有限公司");
	cr_expect_eq(ev.key.kind, KIND_PENALTY);
	cr_expect_str_eq(ev.key.uscc, "91150102MA0N123408");
	cr_expect_str_eq(ev.key.list, "");
	cr_expect_str_eq(ev.key.decision_no, "呼市监罚〔2024〕12号");
	cr_assert(date_from_ymd(2024, 5, 6, &d));
	cr_expect_eq(ev.decided_on, d);
	cr_expect_eq(ev.categories, (unsigned)(CAT_FINE | CAT_CONFISCATION));
	cr_expect_eq(ev.field, FIELD_FOOD);
	cr_expect(ev.has_fine);
	cr_expect_eq(ev.fine_fen, 2000050);
	cr_expect_eq(ev.severity, SEV_GENERAL);
	cr_expect_str_eq(ev.issuer_name, "呼和浩特市市场监督管理局");
	cr_expect_str_eq(ev.issuer_uscc, "11150100MB0123456P");
	cr_expect_eq(ev.effective_on, DATE_NONE);
	cr_expect_str_eq(ev.application_no, "");
}

/* The message need not be NUL-terminated: only len bytes are read. */
Test(event, reads_only_len_bytes)
{
	size_t len = strlen(issued_json);
	char *buf = malloc(len + 8);
	cr_assert_not_null(buf);
	memcpy(buf, issued_json, len);
	memcpy(buf + len, "garbage!", 8);
	struct event ev;
	struct reject rej;
	cr_expect_eq(event_parse(buf, len, NULL, NULL, &ev, &rej), 0, "%s", rej.detail);
	cr_expect_eq(event_parse(buf, len + 8, NULL, NULL, &ev, &rej), -1);
	cr_expect_eq(rej.reason, REJ_MALFORMED_JSON);
	free(buf);
}

/* The size is checked before parsing: 64 KiB + 1 of anything is too_large. */
Test(event, size_checked_before_parsing)
{
	static const struct {
		size_t len;
		enum reject_reason want;
	} cases[] = {
	    {EVENT_MAX_BYTES, REJ_MALFORMED_JSON},
	    {EVENT_MAX_BYTES + 1, REJ_TOO_LARGE},
	    {10 * EVENT_MAX_BYTES, REJ_TOO_LARGE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = malloc(cases[i].len);
		cr_assert_not_null(buf);
		memset(buf, '{', cases[i].len);
		struct event ev;
		struct reject rej;
		cr_expect_eq(event_parse(buf, cases[i].len, NULL, NULL, &ev, &rej), -1);
		cr_expect_eq(rej.reason, cases[i].want, "len %zu: %s", cases[i].len, rej.detail);
		free(buf);
	}
}

static char *
with_record(const char *type, const char *producer, const char *record)
{
	char *buf = malloc(2048);
	cr_assert_not_null(buf);
	snprintf(
	    buf, 2048,
	    "{\"schema\": \"credsync.event/1\", \"event_id\": "
	    "\"0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20\", \"type\": \"%s\", \"producer\": \"%s\", "
	    "\"occurred_at\": \"2024-09-13T15:00:00+08:00\", \"subject\": {\"uscc\": "
	    "\"91150102MA0N123408\", \"name\": \"某某\"}, \"record\": %s}",
	    type, producer, record);
	return buf;
}

/* The kind of a list entry comes from lists.tsv; without rules, from the code's prefix; and
 * the data checks (list, owner, channel) are skipped without rules. */
Test(event, list_kind_with_and_without_rules)
{
	static const struct {
		const char *type, *producer, *list;
		bool with_rules;
		int want_rc;
		enum record_kind want_kind;
	} cases[] = {
	    {"list.added", "nm-samr", "abnormal-enterprise", true, 0, KIND_ABNORMAL},
	    {"list.added", "nm-samr", "abnormal-individual", false, 0, KIND_ABNORMAL},
	    {"list.removed", "nm-court", "b1-01", true, 0, KIND_SERIOUS},
	    {"list.added", "nm-court", "b1-01", false, 0, KIND_SERIOUS},
	    {"list.added", "nm-tax", "b9-99", false, 0, KIND_SERIOUS},
	    {"list.added", "nm-tax", "abnormal-other", false, 0, KIND_ABNORMAL},
	    {"list.added", "nm-tax", "b9-99", true, -1, KIND_SERIOUS},
	};
	rules *r = load_rules();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char record[256];
		snprintf(record, sizeof(record),
		         "{\"list\": \"%s\", \"decision_no\": \"D1\", \"%s\": \"2024-09-01\"}",
		         cases[i].list,
		         strcmp(cases[i].type, "list.added") == 0 ? "listed_on" : "removed_on");
		char *msg = with_record(cases[i].type, cases[i].producer, record);
		struct event ev;
		struct reject rej;
		int rc =
		    event_parse(msg, strlen(msg), NULL, cases[i].with_rules ? r : NULL, &ev, &rej);
		cr_expect_eq(rc, cases[i].want_rc, "case %zu: %s", i, rej.detail);
		if (rc == 0) {
			cr_expect_eq(ev.key.kind, cases[i].want_kind, "case %zu", i);
			cr_expect_str_eq(ev.key.list, cases[i].list);
		}
		free(msg);
	}
	rules_free(r);
}

Test(event, without_rules_channel_is_not_checked)
{
	char *msg = with_record("penalty.repaired", "nm-tax",
	                        "{\"decision_no\": \"D1\", \"repaired_on\": \"2024-09-13\"}");
	struct event ev;
	struct reject rej;
	cr_expect_eq(event_parse(msg, strlen(msg), NULL, NULL, &ev, &rej), 0, "%s", rej.detail);
	cr_expect_eq(ev.type, EV_PENALTY_REPAIRED);
	cr_expect_eq(ev.key.kind, KIND_PENALTY);
	cr_expect_str_eq(ev.repair_decision_no, "");
	rules *r = load_rules();
	cr_expect_eq(event_parse(msg, strlen(msg), NULL, r, &ev, &rej), -1);
	cr_expect_eq(rej.reason, REJ_WRONG_CHANNEL);
	rules_free(r);
	free(msg);
}

Test(event, repair_application_instant)
{
	static const struct {
		const char *type, *key;
		enum event_type want;
	} cases[] = {
	    {"repair.applied", "applied_at", EV_REPAIR_APPLIED},
	    {"repair.accepted", "accepted_at", EV_REPAIR_ACCEPTED},
	    {"repair.declined", "decided_at", EV_REPAIR_DECLINED},
	    {"repair.denied", "decided_at", EV_REPAIR_DENIED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char record[256];
		snprintf(record, sizeof(record),
		         "{\"decision_no\": \"D1\", \"application_no\": \"A7\", \"%s\": "
		         "\"2024-09-13T01:30:00Z\"}",
		         cases[i].key);
		char *msg = with_record(cases[i].type, "gsxt", record);
		struct event ev;
		struct reject rej;
		cr_expect_eq(event_parse(msg, strlen(msg), "gsxt", NULL, &ev, &rej), 0, "%s: %s",
		             cases[i].type, rej.detail);
		cr_expect_eq(ev.type, cases[i].want);
		cr_expect_str_eq(ev.application_no, "A7");
		cr_expect_eq(ev.app_at, 1726191000);
		free(msg);
	}
}

/* A rejected event still names itself when its id was readable. */
Test(event, event_id_kept_on_failure)
{
	static const struct {
		const char *msg;
		const char *want_id;
	} cases[] = {
	    {"{\"event_id\": \"0B7E4C7A-3F0D-4C55-8A51-2D9E6F3A1C20\"}",
	     "0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20"},
	    {"{\"schema\": \"x\", \"event_id\": \"0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20\"}",
	     "0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20"},
	    {"{\"event_id\": \"not-a-uuid\"}", ""},
	    {"{\"event_id\": 7}", ""},
	    {"{\"event_id\": \"0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20\"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event ev;
		struct reject rej;
		cr_expect_eq(event_parse(cases[i].msg, strlen(cases[i].msg), NULL, NULL, &ev, &rej),
		             -1);
		cr_expect_str_eq(ev.event_id, cases[i].want_id, "case %zu", i);
		cr_expect_neq(rej.reason, REJ_NONE);
	}
}

/* A long value is cut in a detail, at a character boundary, and the detail stays UTF-8. */
Test(event, long_values_cut_in_details)
{
	char name[600];
	size_t o = 0;
	while (o + 3 < 500) {
		memcpy(name + o, "蒙", 3);
		o += 3;
	}
	name[o] = '\0';
	char record[1024];
	snprintf(record, sizeof(record), "{\"list\": \"%s\", \"decision_no\": \"D1\"}", "b1-01");
	char *msg = malloc(4096);
	cr_assert_not_null(msg);
	snprintf(msg, 4096,
	         "{\"schema\": \"credsync.event/1\", \"event_id\": "
	         "\"0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20\", \"type\": \"%s\", \"producer\": "
	         "\"nm-tax\", \"occurred_at\": \"2024-09-13T15:00:00+08:00\", \"subject\": "
	         "{\"uscc\": \"91150102MA0N123408\", \"name\": \"x\"}, \"record\": {}}",
	         name);
	struct event ev;
	struct reject rej;
	cr_assert_eq(event_parse(msg, strlen(msg), NULL, NULL, &ev, &rej), -1);
	cr_expect_eq(rej.reason, REJ_UNKNOWN_TYPE);
	size_t len = strlen(rej.detail);
	cr_expect_lt(len, sizeof(rej.detail) - 1, "%s", rej.detail);
	cr_expect(strstr(rej.detail, "...\"") != NULL, "%s", rej.detail);
	size_t n;
	char *clean = utf8_sanitize(rej.detail, len, &n);
	cr_expect_str_eq(clean, rej.detail, "detail is not valid UTF-8");
	free(clean);
	free(msg);
}

/* ---- names ---- */

Test(event, names_round_trip)
{
	for (int t = 0; t < EV_TYPE_COUNT; t++)
		cr_expect_eq(event_type_parse(event_type_name((enum event_type)t)), t);
	cr_expect_null(reject_reason_name(REJ_NONE));
	for (int r = 1; r < REJ_COUNT; r++)
		cr_expect_eq(reject_reason_parse(reject_reason_name((enum reject_reason)r)), r);
	cr_expect_str_eq(reject_reason_name(REJ_NOT_ENTRY_OWNER), "not_entry_owner");
	cr_expect_str_eq(reject_reason_name(REJ_BEFORE_MINIMUM_PERIOD), "before_minimum_period");
	cr_expect_null(takedown_reason_name(TD_NONE));
	for (int r = TD_REPAIRED; r <= TD_NOT_DISCLOSABLE; r++)
		cr_expect_eq(takedown_reason_parse(takedown_reason_name((enum takedown_reason)r)),
		             r);
	cr_expect_str_eq(takedown_reason_name(TD_LIGHT_EXPIRED), "light_expired");
	cr_expect_str_eq(out_type_name(OUT_MUTUAL_RECOGNITION), "mutual_recognition");
	cr_expect_str_eq(record_kind_name(KIND_ABNORMAL), "abnormal");
	cr_expect_eq(reject_reason_parse("nope"), -1);
	cr_expect_eq(takedown_reason_parse("nope"), -1);
	cr_expect_eq(event_type_parse("penalty"), -1);
}

/* ---- acks ---- */

Test(event, ack_parse_table)
{
	static const struct {
		const char *msg, *topic_site;
		const char *want; /* "ok" or "reason: detail" */
	} cases[] = {
	    {"{\"schema\": \"credsync.ack/1\", \"id\": \"1B4E28BA-2FA1-5D2C-8E6F-3F7A9C1D2E40\", "
	     "\"site\": \"gsxt\", \"done_at\": \"2024-09-13T16:00:00+08:00\"}",
	     "gsxt", "ok"},
	    {"{\"schema\": \"credsync.ack/1\", \"id\": \"1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40\", "
	     "\"site\": \"gsxt\", \"done_at\": \"2024-09-13T16:00:00+08:00\"}",
	     "creditchina",
	     "producer_mismatch: field \"site\" is \"gsxt\", but the topic's site is "
	     "\"creditchina\""},
	    {"{\"schema\": \"credsync.ack/2\"}", NULL,
	     "unsupported_schema: unsupported schema \"credsync.ack/2\", expected "
	     "\"credsync.ack/1\""},
	    {"{\"schema\": \"credsync.ack/1\", \"site\": \"gsxt\"}", NULL,
	     "missing_field: missing field \"id\""},
	    {"{\"schema\": \"credsync.ack/1\", \"id\": \"1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40\", "
	     "\"site\": \"xinyong\", \"done_at\": \"2024-09-13T16:00:00+08:00\"}",
	     NULL, "invalid_field: field \"site\" is not a site (creditchina, gsxt): \"xinyong\""},
	    {"{\"schema\": \"credsync.ack/1\", \"id\": \"1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40\", "
	     "\"site\": \"gsxt\", \"done_at\": \"yesterday\"}",
	     NULL,
	     "invalid_field: field \"done_at\" is not an RFC 3339 time with offset: "
	     "\"yesterday\""},
	    {"[]", NULL, "malformed_json: message is an array, expected an object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ack ack;
		struct reject rej;
		char got[512];
		int rc =
		    ack_parse(cases[i].msg, strlen(cases[i].msg), cases[i].topic_site, &ack, &rej);
		if (rc == 0)
			snprintf(got, sizeof(got), "ok");
		else
			snprintf(got, sizeof(got), "%s: %s", reject_reason_name(rej.reason),
			         rej.detail);
		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		if (rc == 0) {
			cr_expect_str_eq(ack.id, "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40");
			cr_expect_eq(ack.site, SITE_GSXT);
			cr_expect_eq(ack.done_at, 1726214400);
		}
	}
}

Test(event_encode, ack_round_trip)
{
	struct ack in = {.id = "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40",
	                 .site = SITE_CREDITCHINA,
	                 .done_at = 1726214400},
	           out;
	struct reject rej;
	char *json = ack_encode(&in);
	cr_assert_not_null(json);
	cr_expect_str_eq(json, "{\"schema\":\"credsync.ack/1\",\"id\":\"1b4e28ba-2fa1-5d2c-8e6f-"
	                       "3f7a9c1d2e40\",\"site\":\"creditchina\",\"done_at\":\"2024-09-"
	                       "13T16:00:00+08:00\"}");
	cr_assert_eq(ack_parse(json, strlen(json), "creditchina", &out, &rej), 0, "%s", rej.detail);
	cr_expect_str_eq(out.id, in.id);
	cr_expect_eq(out.site, in.site);
	cr_expect_eq(out.done_at, in.done_at);
	free(json);
}

/* ---- obligations and out messages ---- */

static struct obligation
sample_obligation(void)
{
	struct obligation ob;
	memset(&ob, 0, sizeof(ob));
	ob.site = SITE_CREDITCHINA;
	ob.type = OUT_TAKEDOWN;
	ob.reason = TD_REPAIRED;
	ob.key.kind = KIND_PENALTY;
	snprintf(ob.key.uscc, sizeof(ob.key.uscc), "91150102MA0N123408");
	snprintf(ob.key.decision_no, sizeof(ob.key.decision_no), "呼税罚〔2024〕12号");
	snprintf(ob.producer, sizeof(ob.producer), "nm-tax");
	snprintf(ob.subject_name, sizeof(ob.subject_name), "呼和浩特某某商贸有限公司");
	ob.disclose_until = DATE_NONE;
	ob.repairable_from = DATE_NONE;
	ob.rec_repaired_on = DATE_NONE;
	snprintf(ob.source_event_id, sizeof(ob.source_event_id),
	         "0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20");
	ob.received_at = 1726210800; /* 2024-09-13T15:00:00+08:00 */
	ob.due_date = testlib_ymd(2024, 9, 14);
	obligation_set_id(&ob);
	return ob;
}

static json_t *
decode(const char *json)
{
	json_error_t jerr;
	json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(v, "%s: %s", json, jerr.text);
	return v;
}

static const char *
str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	cr_assert(json_is_string(v), "\"%s\" is not a string", key);
	return json_string_value(v);
}

Test(event_encode, out_takedown)
{
	struct obligation ob = sample_obligation();
	char *json = out_encode(&ob);
	cr_assert_not_null(json);
	json_t *v = decode(json);
	cr_expect_str_eq(str_at(v, "schema"), "credsync.out/1");
	cr_expect_str_eq(str_at(v, "id"), ob.id);
	cr_expect_str_eq(str_at(v, "type"), "takedown");
	cr_expect_str_eq(str_at(v, "site"), "creditchina");
	cr_expect_str_eq(str_at(v, "reason"), "repaired");
	json_t *rec = json_object_get(v, "record");
	cr_expect_str_eq(str_at(rec, "kind"), "penalty");
	cr_expect_str_eq(str_at(rec, "uscc"), "91150102MA0N123408");
	cr_expect_str_eq(str_at(rec, "decision_no"), "呼税罚〔2024〕12号");
	cr_expect_str_eq(str_at(rec, "producer"), "nm-tax");
	cr_expect_str_eq(str_at(rec, "name"), "呼和浩特某某商贸有限公司");
	cr_expect_null(json_object_get(rec, "list"));
	cr_expect(json_is_null(json_object_get(v, "recognises")));
	cr_expect_str_eq(str_at(v, "source_event_id"), "0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20");
	cr_expect_str_eq(str_at(v, "received_at"), "2024-09-13T15:00:00+08:00");
	cr_expect_str_eq(str_at(v, "due_date"), "2024-09-14");
	cr_expect_null(json_object_get(v, "disclose_until"));
	cr_expect_null(json_object_get(v, "repairable_from"));
	json_decref(v);
	free(json);
}

Test(event_encode, out_disclose)
{
	static const struct {
		enum record_kind kind;
		const char *list;
		cs_date until_in; /* set on the obligation */
		bool until_out;   /* written as a date (else null) */
		bool repairable;
	} cases[] = {
	    {KIND_PENALTY, "", 1, true, true},
	    {KIND_PENALTY, "", 1, true, false},
	    {KIND_ABNORMAL, "abnormal-enterprise", DATE_NONE, false, false},
	    {KIND_SERIOUS, "b1-01", 1, false, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct obligation ob = sample_obligation();
		ob.type = OUT_DISCLOSE;
		ob.reason = TD_NONE;
		ob.key.kind = cases[i].kind;
		snprintf(ob.key.list, sizeof(ob.key.list), "%s", cases[i].list);
		ob.disclose_until =
		    cases[i].until_in == DATE_NONE ? DATE_NONE : testlib_ymd(2027, 5, 6);
		ob.repairable_from = cases[i].repairable ? testlib_ymd(2024, 8, 7) : DATE_NONE;
		ob.source_event_id[0] = '\0';
		obligation_set_id(&ob);
		char *json = out_encode(&ob);
		cr_assert_not_null(json);
		json_t *v = decode(json);
		cr_expect_str_eq(str_at(v, "type"), "disclose", "case %zu", i);
		cr_expect(json_is_null(json_object_get(v, "reason")), "case %zu", i);
		cr_expect(json_is_null(json_object_get(v, "source_event_id")), "case %zu", i);
		json_t *rec = json_object_get(v, "record");
		cr_expect_str_eq(str_at(rec, "kind"), record_kind_name(cases[i].kind));
		if (cases[i].kind == KIND_PENALTY)
			cr_expect_null(json_object_get(rec, "list"), "case %zu", i);
		else
			cr_expect_str_eq(str_at(rec, "list"), cases[i].list, "case %zu", i);
		json_t *until = json_object_get(v, "disclose_until");
		cr_assert_not_null(until, "case %zu", i);
		if (cases[i].until_out)
			cr_expect_str_eq(json_string_value(until), "2027-05-06", "case %zu", i);
		else
			cr_expect(json_is_null(until), "case %zu", i);
		json_t *from = json_object_get(v, "repairable_from");
		cr_assert_not_null(from, "case %zu", i);
		cr_expect_not_null(json_object_get(v, "channel"), "case %zu: channel", i);
		if (cases[i].kind == KIND_PENALTY) {
			cr_expect(json_is_array(json_object_get(rec, "categories")), "case %zu", i);
			cr_expect(json_is_object(json_object_get(rec, "issuer")), "case %zu", i);
			cr_expect_not_null(json_object_get(rec, "decided_on"), "case %zu", i);
			cr_expect_null(json_object_get(rec, "listed_on"), "case %zu", i);
		} else {
			cr_expect_not_null(json_object_get(rec, "listed_on"), "case %zu", i);
			cr_expect_null(json_object_get(rec, "categories"), "case %zu", i);
		}
		if (cases[i].repairable)
			cr_expect_str_eq(json_string_value(from), "2024-08-07", "case %zu", i);
		else
			cr_expect(json_is_null(from), "case %zu", i);
		json_decref(v);
		free(json);
	}
}

Test(event_encode, out_mutual_recognition)
{
	static const struct {
		enum takedown_reason reason;
		const char *repair_no;
		bool repaired_on;
	} cases[] = {
	    {TD_REPAIRED, "内信修〔2024〕0913号", true},
	    {TD_NONE, "", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct obligation ob = sample_obligation();
		ob.site = SITE_GSXT;
		ob.type = OUT_MUTUAL_RECOGNITION;
		ob.reason = cases[i].reason;
		ob.rec_system = SITE_CREDITCHINA;
		snprintf(ob.rec_decision_no, sizeof(ob.rec_decision_no), "%s", ob.key.decision_no);
		snprintf(ob.rec_repair_decision_no, sizeof(ob.rec_repair_decision_no), "%s",
		         cases[i].repair_no);
		ob.rec_repaired_on = cases[i].repaired_on ? testlib_ymd(2024, 9, 13) : DATE_NONE;
		obligation_set_id(&ob);
		char *json = out_encode(&ob);
		cr_assert_not_null(json);
		json_t *v = decode(json);
		cr_expect_str_eq(str_at(v, "type"), "mutual_recognition");
		cr_expect_str_eq(str_at(v, "site"), "gsxt");
		cr_expect_str_eq(str_at(v, "reason"), "repaired");
		json_t *recog = json_object_get(v, "recognises");
		cr_assert(json_is_object(recog), "case %zu", i);
		cr_expect_str_eq(str_at(recog, "system"), "creditchina");
		cr_expect_str_eq(str_at(recog, "decision_no"), "呼税罚〔2024〕12号");
		json_t *no = json_object_get(recog, "repair_decision_no");
		json_t *on = json_object_get(recog, "repaired_on");
		if (cases[i].repair_no[0])
			cr_expect_str_eq(json_string_value(no), cases[i].repair_no);
		else
			cr_expect(json_is_null(no), "case %zu", i);
		if (cases[i].repaired_on)
			cr_expect_str_eq(json_string_value(on), "2024-09-13");
		else
			cr_expect(json_is_null(on), "case %zu", i);
		json_decref(v);
		free(json);
	}
}

/* The same obligation always gets the same id; any identifying field changes it. */
Test(event_encode, obligation_id_deterministic)
{
	struct obligation a = sample_obligation(), b = sample_obligation();
	cr_expect_str_eq(a.id, b.id);
	/* Computed apart from libuuid: Python's uuid.uuid5(UUID("5c1d3a0e-8f41-4f7b-9d2a-
	 * 6b0f3c8e7a15"), "creditchina|takedown|repaired|penalty|91150102MA0N123408||
	 * 呼税罚〔2024〕12号|0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20") (one line, no spaces). */
	cr_expect_str_eq(a.id, "f17cc909-a049-53c3-88be-d09c5c8cc5dc");
	cr_expect_eq(a.id[14], '5', "not a version 5 UUID: %s", a.id);
	char canonical[UUID_STRLEN];
	cr_expect(event_uuid_normalise(a.id, canonical));
	cr_expect_str_eq(canonical, a.id);

	/* Fields outside the identity do not change it. */
	b.received_at += 3600;
	b.due_date += 1;
	snprintf(b.subject_name, sizeof(b.subject_name), "renamed");
	obligation_set_id(&b);
	cr_expect_str_eq(a.id, b.id);

	for (int field = 0; field < 8; field++) {
		struct obligation c = sample_obligation();
		switch (field) {
		case 0:
			c.site = SITE_GSXT;
			break;
		case 1:
			c.type = OUT_MUTUAL_RECOGNITION;
			break;
		case 2:
			c.reason = TD_REVOKED;
			break;
		case 3:
			c.key.kind = KIND_SERIOUS;
			break;
		case 4:
			c.key.uscc[17] = '9';
			break;
		case 5:
			snprintf(c.key.list, sizeof(c.key.list), "b1-01");
			break;
		case 6:
			snprintf(c.key.decision_no, sizeof(c.key.decision_no),
			         "呼税罚〔2024〕13号");
			break;
		case 7:
			c.source_event_id[0] = '\0';
			break;
		}
		obligation_set_id(&c);
		cr_expect_str_neq(c.id, a.id, "changing field %d kept the id", field);
	}
}

Test(event_encode, reject_message)
{
	struct reject rej = {.reason = REJ_INVALID_USCC};
	snprintf(rej.detail, sizeof(rej.detail), "field \"subject.uscc\" is not a valid USCC");
	static const char payload[] = "{\"a\": \"\xff\xfe ok \xe4\xb8\"}\x00tail";
	char *json = reject_encode("0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20", "nm-tax", &rej,
	                           "credit.in.nm-tax", 3, 12345, payload, sizeof(payload) - 1);
	cr_assert_not_null(json);
	json_t *v = json_loads(json, JSON_ALLOW_NUL, NULL);
	cr_assert_not_null(v, "%s", json);
	cr_expect_str_eq(str_at(v, "schema"), "credsync.reject/1");
	cr_expect_str_eq(str_at(v, "event_id"), "0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20");
	cr_expect_str_eq(str_at(v, "producer"), "nm-tax");
	cr_expect_str_eq(str_at(v, "reason"), "invalid_uscc");
	cr_expect_str_eq(str_at(v, "detail"), rej.detail);
	cr_expect_str_eq(str_at(v, "topic"), "credit.in.nm-tax");
	cr_expect_eq(json_integer_value(json_object_get(v, "partition")), 3);
	cr_expect_eq(json_integer_value(json_object_get(v, "offset")), 12345);
	/* 0xff and 0xfe are one U+FFFD each; the cut-short 3-byte sequence is one. */
	static const char want[] = "{\"a\": \"\xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd\"}\x00tail";
	json_t *p = json_object_get(v, "payload");
	cr_assert(json_is_string(p));
	cr_expect_eq(json_string_length(p), sizeof(want) - 1);
	cr_expect_eq(memcmp(json_string_value(p), want, sizeof(want) - 1), 0, "%s",
	             json_string_value(p));
	json_decref(v);
	free(json);

	json = reject_encode(NULL, "nm-tax", &rej, "credit.in.nm-tax", 0, 0, "", 0);
	cr_assert_not_null(json);
	v = decode(json);
	cr_expect(json_is_null(json_object_get(v, "event_id")));
	cr_expect_str_eq(str_at(v, "payload"), "");
	json_decref(v);
	free(json);
}

Test(event_encode, utf8_sanitize_table)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
	    {"plain", 5, "plain"},
	    {"\xe8\x92\x99", 3, "\xe8\x92\x99"},
	    {"\xf0\x9f\x90\x8e", 4, "\xf0\x9f\x90\x8e"},
	    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong '/' */
	    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	    {"\xf4\x90\x80\x80", 4,
	     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* past U+10FFFF */
	    {"a\xe8\x92", 3, "a\xef\xbf\xbd"},                    /* cut short */
	    {"\xe8\x92z", 3, "\xef\xbf\xbdz"},
	    {"\x80", 1, "\xef\xbf\xbd"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		char *out = utf8_sanitize(cases[i].in, cases[i].len, &n);
		cr_assert_not_null(out);
		cr_expect_str_eq(out, cases[i].want, "case %zu", i);
		cr_expect_eq(n, strlen(cases[i].want), "case %zu", i);
		free(out);
	}
}

Test(event_encode, utf8_trim_table)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"abc", "abc"},           {"ab\xe8\x92\x99", "ab\xe8\x92\x99"},
	    {"ab\xe8\x92", "ab"},     {"ab\xe8", "ab"},
	    {"ab\xf0\x9f\x90", "ab"}, {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		utf8_trim(buf);
		cr_expect_str_eq(buf, cases[i].want, "case %zu", i);
	}
}

/* ---- golden messages: tests/fixtures/encoded/<schema>-<case>.json, byte for byte (the
 * schema agreement test validates the same files against schemas/json) ---- */

static char *
golden_out_takedown(void)
{
	struct obligation ob = sample_obligation();
	return out_encode(&ob);
}

static char *
golden_out_disclose_penalty(void)
{
	struct obligation ob = sample_obligation();
	ob.type = OUT_DISCLOSE;
	ob.reason = TD_NONE;
	ob.received_at = 1714961700; /* 2024-05-06T10:15:00+08:00 */
	ob.due_date = testlib_ymd(2024, 5, 7);
	ob.repairable_from = testlib_ymd(2024, 8, 7);
	ob.disclose_until = testlib_ymd(2027, 5, 6);
	ob.content.decided_on = testlib_ymd(2024, 5, 6);
	ob.content.categories = CAT_FINE | CAT_CONFISCATION;
	ob.content.field = FIELD_OTHER;
	ob.content.has_fine = true;
	ob.content.fine_fen = 20000000; /* 200000.00 yuan */
	ob.content.severity = SEV_NONE;
	snprintf(ob.content.issuer_name, sizeof(ob.content.issuer_name),
	         "国家税务总局呼和浩特市税务局");
	snprintf(ob.content.issuer_uscc, sizeof(ob.content.issuer_uscc), "11150100MB0123456P");
	ob.content.has_channel = true;
	ob.content.channel = SITE_CREDITCHINA;
	snprintf(ob.source_event_id, sizeof(ob.source_event_id),
	         "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b10");
	obligation_set_id(&ob);
	return out_encode(&ob);
}

static char *
golden_out_disclose_list(void)
{
	struct obligation ob = sample_obligation();
	ob.site = SITE_GSXT;
	ob.type = OUT_DISCLOSE;
	ob.reason = TD_NONE;
	ob.key.kind = KIND_SERIOUS;
	snprintf(ob.key.uscc, sizeof(ob.key.uscc), "91150303MA0Q8U4L07");
	snprintf(ob.key.list, sizeof(ob.key.list), "b1-01");
	snprintf(ob.key.decision_no, sizeof(ob.key.decision_no), "(2024)内01执123号");
	snprintf(ob.producer, sizeof(ob.producer), "nm-court");
	snprintf(ob.subject_name, sizeof(ob.subject_name), "乌海某某建材有限公司");
	ob.received_at = 1712736000; /* 2024-04-10T16:00:00+08:00 */
	ob.due_date = testlib_ymd(2024, 4, 11);
	ob.content.decided_on = testlib_ymd(2024, 4, 8); /* listed */
	snprintf(ob.source_event_id, sizeof(ob.source_event_id),
	         "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f");
	obligation_set_id(&ob);
	return out_encode(&ob);
}

static char *
golden_out_takedown_expired(void)
{
	struct obligation ob = sample_obligation();
	ob.site = SITE_GSXT;
	ob.reason = TD_LIGHT_EXPIRED;
	ob.source_event_id[0] = '\0';
	ob.received_at = 1723046400; /* 2024-08-08T00:00:00+08:00 */
	ob.due_date = testlib_ymd(2024, 8, 9);
	obligation_set_id(&ob);
	return out_encode(&ob);
}

static char *
golden_out_mutual_recognition(void)
{
	struct obligation ob = sample_obligation();
	ob.site = SITE_GSXT;
	ob.type = OUT_MUTUAL_RECOGNITION;
	ob.rec_system = SITE_CREDITCHINA;
	snprintf(ob.rec_decision_no, sizeof(ob.rec_decision_no), "%s", ob.key.decision_no);
	snprintf(ob.rec_repair_decision_no, sizeof(ob.rec_repair_decision_no),
	         "内信修〔2024〕0913号");
	ob.rec_repaired_on = testlib_ymd(2024, 9, 13);
	obligation_set_id(&ob);
	return out_encode(&ob);
}

static char *
golden_ack(void)
{
	struct ack ack = {
	    .id = "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40", .site = SITE_GSXT, .done_at = 1726214400};
	return ack_encode(&ack);
}

static char *
golden_reject(void)
{
	static const char payload[] =
	    "{\"schema\": \"credsync.event/1\", \"event_id\": "
	    "\"0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20\", \"name\": \"\xff\"}";
	struct reject rej = {.reason = REJ_MALFORMED_JSON};
	snprintf(rej.detail, sizeof(rej.detail), "line 1 column 89: unable to decode byte 0xff");
	return reject_encode(NULL, "nm-tax", &rej, "credit.in.nm-tax", 2, 4711, payload,
	                     sizeof(payload) - 1);
}

Test(event_encode, golden_messages)
{
	static const struct {
		const char *file;
		char *(*encode)(void);
	} cases[] = {
	    {"out-takedown.json", golden_out_takedown},
	    {"out-takedown-light-expired.json", golden_out_takedown_expired},
	    {"out-disclose-penalty.json", golden_out_disclose_penalty},
	    {"out-disclose-list.json", golden_out_disclose_list},
	    {"out-mutual-recognition.json", golden_out_mutual_recognition},
	    {"ack-gsxt.json", golden_ack},
	    {"reject-malformed-json.json", golden_reject},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/encoded/%s", testlib_fixtures_dir(),
		         cases[i].file);
		char *want = testlib_read_file(path, NULL);
		char *got = cases[i].encode();
		cr_assert_not_null(got);
		if (getenv("CREDSYNC_WRITE_GOLDEN")) {
			FILE *fp = fopen(path, "w");
			cr_assert_not_null(fp, "%s", path);
			fprintf(fp, "%s\n", got);
			fclose(fp);
		} else {
			cr_assert_not_null(want, "%s: missing", path);
			chomp(want);
			cr_expect_str_eq(got, want, "%s:\n  got      %s\n  expected %s",
			                 cases[i].file, got, want);
		}
		free(want);
		free(got);
	}
}

/* Issue 12 item 7: an application may name the abnormal-operation list it asks to leave. */
Test(event, a_repair_application_may_name_an_abnormal_list)
{
	static const struct {
		const char *producer, *list;
		enum reject_reason want; /* REJ_NONE: accepted */
	} cases[] = {
	    {"gsxt", "abnormal-enterprise", REJ_NONE},
	    {"gsxt", "abnormal-individual", REJ_NONE},
	    {"creditchina", "abnormal-enterprise", REJ_WRONG_CHANNEL},
	    {"gsxt", "b1-01", REJ_INVALID_FIELD},
	    {"gsxt", "no-such-list", REJ_UNKNOWN_LIST},
	};
	rules *r = load_rules();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rec[512];
		snprintf(
		    rec, sizeof(rec),
		    "{\"decision_no\": \"列1号\", \"list\": \"%s\", \"application_no\": \"申1\","
		    " \"applied_at\": \"2024-09-13T10:00:00+08:00\"}",
		    cases[i].list);
		char *msg = with_record("repair.applied", cases[i].producer, rec);
		struct event ev;
		struct reject rej;
		int rc = event_parse(msg, strlen(msg), NULL, r, &ev, &rej);
		if (cases[i].want == REJ_NONE) {
			cr_expect_eq(rc, 0, "case %zu: %s", i, rej.detail);
			cr_expect_eq(ev.key.kind, KIND_ABNORMAL, "case %zu", i);
			cr_expect_str_eq(ev.key.list, cases[i].list, "case %zu", i);
		} else {
			cr_expect_eq(rc, -1, "case %zu", i);
			cr_expect_eq(rej.reason, cases[i].want, "case %zu: %s", i, rej.detail);
		}
		free(msg);
	}
	rules_free(r);
}

/* uuid_text_bytes (common/uuid5.c) takes what libuuid's uuid_parse takes, and reads the same
 * bytes: every position of valid UUIDs in both cases set to every byte value, and the
 * strings cut at every length. */
Test(event, uuid_text_bytes_agrees_with_libuuid)
{
	const char *valid[] = {
	    "0b7e4c7a-3f0d-4c55-8a51-2d9e6f3a1c20", "F17CC909-A049-53C3-88BE-D09C5C8CC5DC",
	    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"};
	int checked = 0, accepted = 0;

	for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
		for (int pos = 0; pos <= 37; pos++) {
			for (int c = 0; c < 256; c++) {
				char s[40] = {0};
				memcpy(s, valid[v], 37);
				if (pos < 37)
					s[pos] = (char)c;
				else if (c > 0) /* and one longer */
					s[36] = (char)c, s[37] = '\0';
				uuid_t want;
				unsigned char got[16];
				bool ok = uuid_text_bytes(s, got);
				bool lib = uuid_parse(s, want) == 0;
				cr_assert_eq(ok, lib, "\"%s\": ours %d, libuuid's %d", s, ok, lib);
				if (ok) {
					cr_assert(memcmp(got, want, 16) == 0,
					          "\"%s\" read differently", s);
					accepted++;
				}
				checked++;
			}
		}
		for (int len = 0; len < 36; len++) {
			char s[40] = {0};
			unsigned char got[16];
			memcpy(s, valid[v], (size_t)len);
			cr_assert(!uuid_text_bytes(s, got), "taken when cut to %d: \"%s\"", len, s);
		}
	}
	cr_expect_gt(accepted, 4 * 36, "only %d of %d accepted", accepted, checked);
}
