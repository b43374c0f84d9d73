/* event_encode: the outbound, ack and reject messages of docs/CONTRACT.md as compact JSON, and
 * the deterministic obligation id. */
#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "uuid5.h"

/* Appends s (at most max bytes of it) and a '|'. */
static char *
put_part(char *o, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	memcpy(o, s, n);
	o[n] = '|';
	return o + n + 1;
}

void
obligation_set_id(struct obligation *ob)
{
	/* Every part is bounded by its buffer in the struct, so the name always fits. Written
	 * part by part: snprintf was a third of the id's cost, two ids an event. */
	char name[16 + 32 + 32 + 16 + USCC_BUF + (LIST_CODE_MAX + 1) + (DECISION_NO_MAX + 1) +
	          UUID_STRLEN];
	const char *reason = takedown_reason_name(ob->reason);
	char *o = name;

	o = put_part(o, site_name(ob->site), 15);
	o = put_part(o, out_type_name(ob->type), 31);
	o = put_part(o, reason ? reason : "", 31);
	o = put_part(o, record_kind_name(ob->key.kind), 15);
	o = put_part(o, ob->key.uscc, sizeof(ob->key.uscc) - 1);
	o = put_part(o, ob->key.list, sizeof(ob->key.list) - 1);
	o = put_part(o, ob->key.decision_no, sizeof(ob->key.decision_no) - 1);
	o = put_part(o, ob->source_event_id, sizeof(ob->source_event_id) - 1);
	o[-1] = '\0'; /* the last part has no '|' after it */
	uuid5(name, ob->id);
}

/* ---- the messages, written with jsonw (a failed allocation fails the whole message) ---- */

/* Members: a string, or null for an empty one; a date or null; a time in Beijing time. */
static void
kstr_or_null(struct jsonw *w, const char *key, const char *s)
{
	jw_kstr(w, key, s == NULL || s[0] == '\0' ? NULL : s);
}

static void
kdate(struct jsonw *w, const char *key, cs_date d)
{
	char buf[DATE_STRLEN];
	jw_kstr(w, key, d == DATE_NONE ? NULL : date_format(d, buf));
}

static void
ktime(struct jsonw *w, const char *key, int64_t unix_s)
{
	char buf[TIME_STRLEN];
	jw_kstr(w, key, time_format_rfc3339(unix_s, BEIJING_OFFSET_MIN, buf));
}

/* A disclose's record content (issue 12): a penalty's decision and its facts, or a list
 * entry's listed date. */
static void
content(struct jsonw *w, const struct obligation *ob)
{
	const struct disclosed *c = &ob->content;

	if (ob->key.kind != KIND_PENALTY) {
		kdate(w, "listed_on", c->decided_on);
		return;
	}
	kdate(w, "decided_on", c->decided_on);
	jw_key(w, "categories");
	jw_array(w);
	for (int i = 0; i < CAT_COUNT; i++)
		if (c->categories & (1u << i))
			jw_str(w, category_name(1u << i));
	jw_close(w);
	jw_key(w, "fine_yuan");
	if (c->has_fine) {
		char yuan[32];
		snprintf(yuan, sizeof(yuan), "%lld.%02lld", (long long)(c->fine_fen / 100),
		         (long long)(c->fine_fen % 100));
		jw_str(w, yuan);
	} else {
		jw_null(w);
	}
	jw_kstr(w, "field", field_name(c->field));
	jw_kstr(w, "severity", c->severity != SEV_NONE ? severity_name(c->severity) : NULL);
	jw_key(w, "issuer");
	jw_object(w);
	jw_kstr(w, "name", c->issuer_name);
	kstr_or_null(w, "uscc", c->issuer_uscc);
	jw_close(w);
}

char *
out_encode(const struct obligation *ob)
{
	struct jsonw w;
	const char *reason = takedown_reason_name(ob->reason);

	/* A mutual recognition stops the record's disclosure because it was repaired. */
	if (ob->type == OUT_MUTUAL_RECOGNITION && reason == NULL)
		reason = takedown_reason_name(TD_REPAIRED);
	if (ob->type == OUT_DISCLOSE)
		reason = NULL;

	jw_begin(&w, 1024);
	jw_kstr(&w, "schema", OUT_SCHEMA);
	jw_kstr(&w, "id", ob->id);
	jw_kstr(&w, "type", out_type_name(ob->type));
	jw_kstr(&w, "site", site_name(ob->site));
	jw_kstr(&w, "reason", reason);

	jw_key(&w, "record");
	jw_object(&w);
	jw_kstr(&w, "kind", record_kind_name(ob->key.kind));
	jw_kstr(&w, "uscc", ob->key.uscc);
	jw_kstr(&w, "decision_no", ob->key.decision_no);
	jw_kstr(&w, "producer", ob->producer);
	if (ob->key.kind != KIND_PENALTY)
		jw_kstr(&w, "list", ob->key.list);
	jw_kstr(&w, "name", ob->subject_name);
	if (ob->type == OUT_DISCLOSE)
		content(&w, ob);
	jw_close(&w);

	jw_key(&w, "recognises");
	if (ob->type == OUT_MUTUAL_RECOGNITION) {
		jw_object(&w);
		jw_kstr(&w, "system", site_name(ob->rec_system));
		jw_kstr(&w, "decision_no", ob->rec_decision_no);
		kstr_or_null(&w, "repair_decision_no", ob->rec_repair_decision_no);
		kdate(&w, "repaired_on", ob->rec_repaired_on);
		jw_close(&w);
	} else {
		jw_null(&w);
	}

	kstr_or_null(&w, "source_event_id", ob->source_event_id);
	ktime(&w, "received_at", ob->received_at);
	kdate(&w, "due_date", ob->due_date);
	if (ob->type == OUT_DISCLOSE) {
		kdate(&w, "disclose_until",
		      ob->key.kind == KIND_PENALTY ? ob->disclose_until : DATE_NONE);
		kdate(&w, "repairable_from", ob->repairable_from);
		jw_kstr(&w, "channel",
		        ob->content.has_channel ? site_name(ob->content.channel) : NULL);
	}
	return jw_end(&w);
}

char *
ack_encode(const struct ack *ack)
{
	struct jsonw w;
	jw_begin(&w, 160);
	jw_kstr(&w, "schema", ACK_SCHEMA);
	jw_kstr(&w, "id", ack->id);
	jw_kstr(&w, "site", site_name(ack->site));
	ktime(&w, "done_at", ack->done_at);
	return jw_end(&w);
}

char *
reject_encode(const char *event_id, const char *producer, const struct reject *rej,
              const char *topic, int32_t partition, int64_t offset, const char *payload,
              size_t payload_len)
{
	struct jsonw w;
	jw_begin(&w, 512 + payload_len);
	jw_kstr(&w, "schema", REJECT_SCHEMA);
	kstr_or_null(&w, "event_id", event_id);
	jw_kstr(&w, "producer", producer);
	jw_kstr(&w, "reason", reject_reason_name(rej->reason));
	jw_kstr(&w, "detail", rej->detail);
	jw_kstr(&w, "topic", topic);
	jw_kint(&w, "partition", partition);
	jw_kint(&w, "offset", offset);
	jw_key(&w, "payload");
	jw_strn(&w, payload ? payload : "", payload ? payload_len : 0);
	return jw_end(&w);
}
