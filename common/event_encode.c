/* event_encode: the outbound, ack and reject messages of docs/CONTRACT.md as compact JSON, and
 * the deterministic obligation id. */
#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
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

/* ---- the messages, written with jsonw (a failed allocation fails the whole message) ---- */

/* A string, or null for an empty one. */
static void
str_or_null(struct jsonw *w, const char *s)
{
	jw_str(w, s == NULL || s[0] == '\0' ? NULL : s);
}

static void
date(struct jsonw *w, cs_date d)
{
	char buf[DATE_STRLEN];
	jw_str(w, d == DATE_NONE ? NULL : date_format(d, buf));
}

static void
timestamp(struct jsonw *w, int64_t unix_s)
{
	char buf[TIME_STRLEN];
	jw_str(w, time_format_rfc3339(unix_s, BEIJING_OFFSET_MIN, buf));
}

/* A disclose's record content (issue 12): a penalty's decision and its facts, or a list
 * entry's listed date. */
static void
content(struct jsonw *w, const struct obligation *ob)
{
	const struct disclosed *c = &ob->content;

	if (ob->key.kind != KIND_PENALTY) {
		jw_key(w, "listed_on");
		date(w, c->decided_on);
		return;
	}
	jw_key(w, "decided_on");
	date(w, c->decided_on);
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
	jw_key(w, "field");
	jw_str(w, field_name(c->field));
	jw_key(w, "severity");
	jw_str(w, c->severity != SEV_NONE ? severity_name(c->severity) : NULL);
	jw_key(w, "issuer");
	jw_object(w);
	jw_key(w, "name");
	jw_str(w, c->issuer_name);
	jw_key(w, "uscc");
	str_or_null(w, c->issuer_uscc);
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
	jw_key(&w, "schema");
	jw_str(&w, OUT_SCHEMA);
	jw_key(&w, "id");
	jw_str(&w, ob->id);
	jw_key(&w, "type");
	jw_str(&w, out_type_name(ob->type));
	jw_key(&w, "site");
	jw_str(&w, site_name(ob->site));
	jw_key(&w, "reason");
	jw_str(&w, reason);

	jw_key(&w, "record");
	jw_object(&w);
	jw_key(&w, "kind");
	jw_str(&w, record_kind_name(ob->key.kind));
	jw_key(&w, "uscc");
	jw_str(&w, ob->key.uscc);
	jw_key(&w, "decision_no");
	jw_str(&w, ob->key.decision_no);
	jw_key(&w, "producer");
	jw_str(&w, ob->producer);
	if (ob->key.kind != KIND_PENALTY) {
		jw_key(&w, "list");
		jw_str(&w, ob->key.list);
	}
	jw_key(&w, "name");
	jw_str(&w, ob->subject_name);
	if (ob->type == OUT_DISCLOSE)
		content(&w, ob);
	jw_close(&w);

	jw_key(&w, "recognises");
	if (ob->type == OUT_MUTUAL_RECOGNITION) {
		jw_object(&w);
		jw_key(&w, "system");
		jw_str(&w, site_name(ob->rec_system));
		jw_key(&w, "decision_no");
		jw_str(&w, ob->rec_decision_no);
		jw_key(&w, "repair_decision_no");
		str_or_null(&w, ob->rec_repair_decision_no);
		jw_key(&w, "repaired_on");
		date(&w, ob->rec_repaired_on);
		jw_close(&w);
	} else {
		jw_null(&w);
	}

	jw_key(&w, "source_event_id");
	str_or_null(&w, ob->source_event_id);
	jw_key(&w, "received_at");
	timestamp(&w, ob->received_at);
	jw_key(&w, "due_date");
	date(&w, ob->due_date);
	if (ob->type == OUT_DISCLOSE) {
		jw_key(&w, "disclose_until");
		date(&w, ob->key.kind == KIND_PENALTY ? ob->disclose_until : DATE_NONE);
		jw_key(&w, "repairable_from");
		date(&w, ob->repairable_from);
		jw_key(&w, "channel");
		jw_str(&w, ob->content.has_channel ? site_name(ob->content.channel) : NULL);
	}
	return jw_end(&w);
}

char *
ack_encode(const struct ack *ack)
{
	struct jsonw w;
	jw_begin(&w, 160);
	jw_key(&w, "schema");
	jw_str(&w, ACK_SCHEMA);
	jw_key(&w, "id");
	jw_str(&w, ack->id);
	jw_key(&w, "site");
	jw_str(&w, site_name(ack->site));
	jw_key(&w, "done_at");
	timestamp(&w, ack->done_at);
	return jw_end(&w);
}

char *
reject_encode(const char *event_id, const char *producer, const struct reject *rej,
              const char *topic, int32_t partition, int64_t offset, const char *payload,
              size_t payload_len)
{
	struct jsonw w;
	jw_begin(&w, 512 + payload_len);
	jw_key(&w, "schema");
	jw_str(&w, REJECT_SCHEMA);
	jw_key(&w, "event_id");
	str_or_null(&w, event_id);
	jw_key(&w, "producer");
	jw_str(&w, producer);
	jw_key(&w, "reason");
	jw_str(&w, reject_reason_name(rej->reason));
	jw_key(&w, "detail");
	jw_str(&w, rej->detail);
	jw_key(&w, "topic");
	jw_str(&w, topic);
	jw_key(&w, "partition");
	jw_int(&w, partition);
	jw_key(&w, "offset");
	jw_int(&w, offset);
	jw_key(&w, "payload");
	jw_strn(&w, payload ? payload : "", payload ? payload_len : 0);
	return jw_end(&w);
}
