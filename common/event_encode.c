/* event_encode: the outbound, ack and reject messages of docs/CONTRACT.md as compact JSON, and
 * the deterministic obligation id. */
#include "event.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "uuid5.h"

void
obligation_set_id(struct obligation *ob)
{
	/* Every part is bounded by its buffer in the struct, so the name always fits. */
	char name[16 + 32 + 32 + 16 + USCC_BUF + LIST_CODE_MAX + DECISION_NO_MAX + UUID_STRLEN];
	const char *reason = takedown_reason_name(ob->reason);

	snprintf(name, sizeof(name), "%s|%s|%s|%s|%s|%s|%s|%s", site_name(ob->site),
	         out_type_name(ob->type), reason ? reason : "", record_kind_name(ob->key.kind),
	         ob->key.uscc, ob->key.list, ob->key.decision_no, ob->source_event_id);
	uuid5(name, ob->id);
}

/* ---- building JSON: a failed allocation anywhere makes the whole encoding fail ---- */

/* A JSON string of s; invalid UTF-8 (which validated input never has) becomes U+FFFD
 * rather than losing the message. */
static json_t *
jstr(const char *s)
{
	if (s == NULL)
		return json_null();
	json_t *v = json_string(s);
	if (v != NULL)
		return v;
	size_t n;
	char *clean = utf8_sanitize(s, strlen(s), &n);
	if (clean == NULL)
		return NULL;
	v = json_stringn(clean, n);
	free(clean);
	return v;
}

static json_t *
jstr_or_null(const char *s)
{
	return s == NULL || s[0] == '\0' ? json_null() : jstr(s);
}

static json_t *
jdate(cs_date d)
{
	char buf[DATE_STRLEN];
	return d == DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

static json_t *
jtime(int64_t unix_s)
{
	char buf[TIME_STRLEN];
	return json_string(time_format_rfc3339(unix_s, BEIJING_OFFSET_MIN, buf));
}

static void
put(json_t *obj, const char *key, json_t *v, bool *failed)
{
	/* json_object_set_new releases v on failure and refuses a NULL v. */
	if (obj == NULL || json_object_set_new(obj, key, v) != 0)
		*failed = true;
}

/* Dumps and releases obj; NULL when anything failed. */
static char *
finish(json_t *obj, bool failed)
{
	char *out = NULL;
	if (obj != NULL && !failed)
		out = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return out;
}

/* A disclose's record content (issue 12): a penalty's decision and its facts, or a list
 * entry's listed date. */
static void
put_content(json_t *rec, const struct obligation *ob, bool *failed)
{
	const struct disclosed *c = &ob->content;

	if (ob->key.kind != KIND_PENALTY) {
		put(rec, "listed_on", jdate(c->decided_on), failed);
		return;
	}
	put(rec, "decided_on", jdate(c->decided_on), failed);
	json_t *cats = json_array();
	for (int i = 0; i < CAT_COUNT; i++)
		if (c->categories & (1u << i) &&
		    (cats == NULL ||
		     json_array_append_new(cats, json_string(category_name(1u << i))) != 0))
			*failed = true;
	put(rec, "categories", cats, failed);
	if (c->has_fine) {
		char yuan[32];
		snprintf(yuan, sizeof(yuan), "%lld.%02lld", (long long)(c->fine_fen / 100),
		         (long long)(c->fine_fen % 100));
		put(rec, "fine_yuan", json_string(yuan), failed);
	} else {
		put(rec, "fine_yuan", json_null(), failed);
	}
	put(rec, "field", json_string(field_name(c->field)), failed);
	put(rec, "severity",
	    c->severity != SEV_NONE ? json_string(severity_name(c->severity)) : json_null(),
	    failed);
	json_t *issuer = json_object();
	put(issuer, "name", jstr(c->issuer_name), failed);
	put(issuer, "uscc", jstr_or_null(c->issuer_uscc), failed);
	put(rec, "issuer", issuer, failed);
}

char *
out_encode(const struct obligation *ob)
{
	bool failed = false;
	json_t *obj = json_object();
	json_t *rec = json_object();
	const char *reason = takedown_reason_name(ob->reason);

	/* A mutual recognition stops the record's disclosure because it was repaired. */
	if (ob->type == OUT_MUTUAL_RECOGNITION && reason == NULL)
		reason = takedown_reason_name(TD_REPAIRED);
	if (ob->type == OUT_DISCLOSE)
		reason = NULL;

	put(obj, "schema", json_string(OUT_SCHEMA), &failed);
	put(obj, "id", json_string(ob->id), &failed);
	put(obj, "type", json_string(out_type_name(ob->type)), &failed);
	put(obj, "site", json_string(site_name(ob->site)), &failed);
	put(obj, "reason", reason ? json_string(reason) : json_null(), &failed);

	put(rec, "kind", json_string(record_kind_name(ob->key.kind)), &failed);
	put(rec, "uscc", jstr(ob->key.uscc), &failed);
	put(rec, "decision_no", jstr(ob->key.decision_no), &failed);
	put(rec, "producer", jstr(ob->producer), &failed);
	if (ob->key.kind != KIND_PENALTY)
		put(rec, "list", jstr(ob->key.list), &failed);
	put(rec, "name", jstr(ob->subject_name), &failed);
	if (ob->type == OUT_DISCLOSE)
		put_content(rec, ob, &failed);
	put(obj, "record", rec, &failed);

	if (ob->type == OUT_MUTUAL_RECOGNITION) {
		json_t *recog = json_object();
		put(recog, "system", json_string(site_name(ob->rec_system)), &failed);
		put(recog, "decision_no", jstr(ob->rec_decision_no), &failed);
		put(recog, "repair_decision_no", jstr_or_null(ob->rec_repair_decision_no), &failed);
		put(recog, "repaired_on", jdate(ob->rec_repaired_on), &failed);
		put(obj, "recognises", recog, &failed);
	} else {
		put(obj, "recognises", json_null(), &failed);
	}

	put(obj, "source_event_id", jstr_or_null(ob->source_event_id), &failed);
	put(obj, "received_at", jtime(ob->received_at), &failed);
	put(obj, "due_date", jdate(ob->due_date), &failed);
	if (ob->type == OUT_DISCLOSE) {
		put(obj, "disclose_until",
		    ob->key.kind == KIND_PENALTY ? jdate(ob->disclose_until) : json_null(),
		    &failed);
		put(obj, "repairable_from", jdate(ob->repairable_from), &failed);
		put(obj, "channel",
		    ob->content.has_channel ? json_string(site_name(ob->content.channel))
		                            : json_null(),
		    &failed);
	}
	return finish(obj, failed);
}

char *
ack_encode(const struct ack *ack)
{
	bool failed = false;
	json_t *obj = json_object();
	put(obj, "schema", json_string(ACK_SCHEMA), &failed);
	put(obj, "id", jstr(ack->id), &failed);
	put(obj, "site", json_string(site_name(ack->site)), &failed);
	put(obj, "done_at", jtime(ack->done_at), &failed);
	return finish(obj, failed);
}

char *
reject_encode(const char *event_id, const char *producer, const struct reject *rej,
              const char *topic, int32_t partition, int64_t offset, const char *payload,
              size_t payload_len)
{
	bool failed = false;
	json_t *obj = json_object();
	const char *reason = reject_reason_name(rej->reason);

	put(obj, "schema", json_string(REJECT_SCHEMA), &failed);
	put(obj, "event_id", jstr_or_null(event_id), &failed);
	put(obj, "producer", jstr(producer), &failed);
	put(obj, "reason", reason ? json_string(reason) : json_null(), &failed);
	put(obj, "detail", jstr(rej->detail), &failed);
	put(obj, "topic", jstr(topic), &failed);
	put(obj, "partition", json_integer(partition), &failed);
	put(obj, "offset", json_integer(offset), &failed);

	size_t n = 0;
	char *clean = utf8_sanitize(payload ? payload : "", payload ? payload_len : 0, &n);
	put(obj, "payload", clean ? json_stringn(clean, n) : NULL, &failed);
	free(clean);
	return finish(obj, failed);
}
