/* event: parsing and validating inbound events and acks (docs/CONTRACT.md) into typed values. */
#include "event.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "jdoc.h"
#include "utf8.h"
#include "uuid5.h"

/* ---- reject details ---- */

static int fail(struct reject *rej, enum reject_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills rej and returns -1, so that checks read `return fail(...)`. The detail is cut at a
 * UTF-8 boundary when it does not fit. */
static int
fail(struct reject *rej, enum reject_reason reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rej->detail, sizeof(rej->detail), fmt, ap);
	va_end(ap);
	utf8_trim(rej->detail);
	rej->reason = reason;
	return -1;
}

/* Longest part of a value quoted into a detail, so that a detail naming two values fits. */
#define QUOTE_MAX 64

/* Writes s as a double-quoted one-line string into buf: quotes, backslashes and control
 * characters escaped, cut after QUOTE_MAX bytes (at a character boundary) with "...". */
static const char *
quote(const char *s, char *buf, size_t bufsz)
{
	size_t o = 0, i = 0;
	buf[o++] = '"';
	for (; s[i] != '\0' && i < QUOTE_MAX && o + 8 < bufsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (s[i] != '\0') {
		/* Do not leave half a character behind. */
		buf[o] = '\0';
		utf8_trim(buf);
		o = strlen(buf);
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* Quote buffer size: worst case every byte escaped as \xNN. */
#define QBUF (QUOTE_MAX * 4 + 16)

static const char *
json_type_name(const struct jv *v)
{
	switch (v->type) {
	case JV_OBJECT:
		return "an object";
	case JV_ARRAY:
		return "an array";
	case JV_STRING:
		return "a string";
	case JV_NUMBER:
		return "a number";
	case JV_TRUE:
	case JV_FALSE:
		return "a boolean";
	case JV_NULL:
		return "null";
	}
	return "a value";
}

/* ---- loading ---- */

/* Copies s into buf (cut to fit) with control characters written as \xNN, so that text from
 * the message cannot start a new line in a detail or a log. */
static const char *
one_line(const char *s, char *buf, size_t bufsz)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0' && o + 5 < bufsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* Size, JSON syntax (with UTF-8 and duplicate keys), nesting, top-level object, into d (to
 * jdoc_free). Read by jdoc's strict reader, and by jansson when that leaves the message to it
 * (jdoc.h): either way what is accepted and each error's text are jansson's. */
static const struct jv *
load(const char *buf, size_t len, struct jdoc *d, struct reject *rej)
{
	if (len > EVENT_MAX_BYTES) {
		fail(rej, REJ_TOO_LARGE, "message is %zu bytes, more than the limit of %d", len,
		     EVENT_MAX_BYTES);
		return NULL;
	}
	if (jdoc_parse(d, buf, len) < 0) {
		json_error_t jerr;
		json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			/* jansson quotes the offending token, which may be invalid UTF-8 or hold
			 * line ends and other control characters: the detail must stay one clean
			 * line. */
			size_t n;
			char *text = utf8_sanitize(jerr.text, strlen(jerr.text), &n);
			char line[sizeof(rej->detail)];
			fail(rej, REJ_MALFORMED_JSON, "line %d column %d: %s", jerr.line,
			     jerr.column,
			     text ? one_line(text, line, sizeof(line)) : "not valid JSON");
			free(text);
			return NULL;
		}
		int rc = jdoc_from_jansson(d, root);
		json_decref(root);
		if (rc < 0) {
			fail(rej, REJ_MALFORMED_JSON, "out of memory reading the message");
			return NULL;
		}
	}
	const struct jv *root = jdoc_root(d);
	if (root->type != JV_OBJECT) {
		fail(rej, REJ_MALFORMED_JSON, "message is %s, expected an object",
		     json_type_name(root));
		jdoc_free(d);
		return NULL;
	}
	if (d->depth > EVENT_MAX_DEPTH) {
		fail(rej, REJ_MALFORMED_JSON, "nesting is deeper than %d levels", EVENT_MAX_DEPTH);
		jdoc_free(d);
		return NULL;
	}
	return root;
}

/* ---- typed field access; a path names the field in details ("record.decided_on") ---- */

/* The member named by the last component of path, or NULL when absent. JSON null counts as
 * absent: producers that write every key with null for "none" are served the same. */
static const struct jv *
member(const struct jv *obj, const char *path)
{
	const char *dot = strrchr(path, '.');
	const struct jv *v = jv_get(obj, dot ? dot + 1 : path);
	return v != NULL && v->type == JV_NULL ? NULL : v;
}

static int
missing(const char *path, struct reject *rej)
{
	return fail(rej, REJ_MISSING_FIELD, "missing field \"%s\"", path);
}

static int
wrong_type(const char *path, const struct jv *v, const char *expected, struct reject *rej)
{
	return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is %s, expected %s", path,
	            json_type_name(v), expected);
}

static int
get_object(const struct jv *obj, const char *path, const struct jv **ret, struct reject *rej)
{
	const struct jv *v = member(obj, path);
	if (v == NULL)
		return missing(path, rej);
	if (v->type != JV_OBJECT)
		return wrong_type(path, v, "an object", rej);
	*ret = v;
	return 0;
}

/* A string member. Returns 1 when absent (and not required), 0 with *ret set, -1 rejected. */
static int
get_str(const struct jv *obj, const char *path, bool required, const char **ret, struct reject *rej)
{
	const struct jv *v = member(obj, path);
	if (v == NULL) {
		if (required)
			return missing(path, rej);
		*ret = "";
		return 1;
	}
	if (v->type != JV_STRING)
		return wrong_type(path, v, "a string", rej);
	*ret = v->str;
	return 0;
}

/* A text field that identifies or names something: 1..max bytes, no control characters
 * (it ends up in logs, keys and one-line details). Copied into out (max + 1 bytes). */
static int
get_text(const struct jv *obj, const char *path, bool required, size_t max, char *out,
         struct reject *rej)
{
	const char *s;
	int rc = get_str(obj, path, required, &s, rej);
	if (rc != 0) {
		out[0] = '\0';
		return rc < 0 ? -1 : 0;
	}
	size_t n = strlen(s);
	if (n == 0)
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is empty", path);
	if (n > max)
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is longer than %zu bytes (%zu)",
		            path, max, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return fail(rej, REJ_INVALID_FIELD,
			            "field \"%s\" contains control character 0x%02x", path, c);
	}
	memcpy(out, s, n + 1);
	return 0;
}

/* Free text (a reason): 0..max bytes, any character. */
static int
get_free_text(const struct jv *obj, const char *path, size_t max, char *out, struct reject *rej)
{
	const char *s;
	int rc = get_str(obj, path, false, &s, rej);
	if (rc < 0)
		return -1;
	size_t n = strlen(s);
	if (n > max)
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is longer than %zu bytes (%zu)",
		            path, max, n);
	memcpy(out, s, n + 1);
	return 0;
}

static bool
is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
get_date(const struct jv *obj, const char *path, cs_date *ret, struct reject *rej)
{
	const char *s;
	char q[QBUF];
	if (get_str(obj, path, true, &s, rej) != 0)
		return -1;
	bool shape = strlen(s) == 10 && is_digits(s, 4) && s[4] == '-' && is_digits(s + 5, 2) &&
	             s[7] == '-' && is_digits(s + 8, 2);
	if (!shape)
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is not a date (YYYY-MM-DD): %s",
		            path, quote(s, q, sizeof(q)));
	if (date_parse(s, ret) != 0)
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is not a date that exists: %s",
		            path, quote(s, q, sizeof(q)));
	return 0;
}

/* An optional date: DATE_NONE when absent (or null). */
static int
get_date_opt(const struct jv *obj, const char *path, cs_date *ret, struct reject *rej)
{
	*ret = DATE_NONE;
	return member(obj, path) == NULL ? 0 : get_date(obj, path, ret, rej);
}

static int
get_time(const struct jv *obj, const char *path, int64_t *ret, int *ret_offset, struct reject *rej)
{
	const char *s;
	char q[QBUF];
	int offset;
	if (get_str(obj, path, true, &s, rej) != 0)
		return -1;
	if (time_parse_rfc3339(s, ret, &offset) != 0)
		return fail(rej, REJ_INVALID_FIELD,
		            "field \"%s\" is not an RFC 3339 time with offset: %s", path,
		            quote(s, q, sizeof(q)));
	if (ret_offset)
		*ret_offset = offset;
	return 0;
}

bool
event_uuid_normalise(const char *s, char out[UUID_STRLEN])
{
	unsigned char b[16];

	if (!uuid_text_bytes(s, b))
		return false;
	uuid_unparse_lower(b, out);
	return true;
}

static int
get_uuid(const struct jv *obj, const char *path, char out[UUID_STRLEN], struct reject *rej)
{
	const char *s;
	char q[QBUF];
	if (get_str(obj, path, true, &s, rej) != 0)
		return -1;
	if (!event_uuid_normalise(s, out))
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is not a UUID: %s", path,
		            quote(s, q, sizeof(q)));
	return 0;
}

/* A USCC's shape is checked here (a string); its validity later, as invalid_uscc. */
static int
get_uscc(const struct jv *obj, const char *path, const char **ret, struct reject *rej)
{
	return get_str(obj, path, true, ret, rej) == 0 ? 0 : -1;
}

static bool
is_producer_code(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PRODUCER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* A decimal amount of yuan ("20000", "20000.5", "20000.50") into fen. */
#define FINE_INT_DIGITS 15

static int
parse_yuan(const char *s, int64_t *ret_fen)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > FINE_INT_DIGITS)
		return -1;
	int64_t fen = 0;
	for (size_t i = 0; i < n; i++)
		fen = fen * 10 + (s[i] - '0');
	fen *= 100;
	const char *p = s + n;
	if (*p == '.') {
		size_t d = strspn(p + 1, "0123456789");
		if (d == 0 || d > 2 || p[1 + d] != '\0')
			return -1;
		fen += (p[1] - '0') * 10 + (d == 2 ? p[2] - '0' : 0);
	} else if (*p != '\0') {
		return -1;
	}
	*ret_fen = fen;
	return 0;
}

/* ---- the record of each type ---- */

static int
parse_categories(const struct jv *rec, struct event *ev, struct reject *rej)
{
	const char *path = "record.categories";
	const struct jv *v = member(rec, path);
	char q[QBUF];
	if (v == NULL)
		return missing(path, rej);
	if (v->type != JV_ARRAY)
		return wrong_type(path, v, "an array", rej);
	if (v->len == 0)
		return fail(rej, REJ_INVALID_FIELD, "field \"%s\" is empty", path);
	size_t i = 0;
	for (const struct jv *item = v->first; item != NULL; item = item->next, i++) {
		if (item->type != JV_STRING)
			return fail(rej, REJ_INVALID_FIELD, "field \"%s[%zu]\" is %s, expected %s",
			            path, i, json_type_name(item), "a string");
		const char *s = item->str;
		int bit = category_parse(s);
		if (bit <= 0)
			return fail(rej, REJ_INVALID_FIELD,
			            "field \"%s[%zu]\" is not a penalty category: %s", path, i,
			            quote(s, q, sizeof(q)));
		if (ev->categories & (unsigned)bit)
			return fail(rej, REJ_INVALID_FIELD, "field \"%s\" names %s twice", path,
			            quote(s, q, sizeof(q)));
		ev->categories |= (unsigned)bit;
	}
	return 0;
}

static int
parse_issued(const struct jv *rec, struct event *ev, const char **issuer_uscc, struct reject *rej)
{
	const char *s;
	char q[QBUF];
	int rc;

	if (get_text(rec, "record.decision_no", true, DECISION_NO_MAX, ev->key.decision_no, rej) ||
	    get_date(rec, "record.decided_on", &ev->decided_on, rej) ||
	    parse_categories(rec, ev, rej))
		return -1;
	if (get_date_opt(rec, "record.published_on", &ev->published_on, rej) < 0)
		return -1;
	if (ev->published_on != DATE_NONE && ev->published_on < ev->decided_on)
		return fail(rej, REJ_INVALID_FIELD,
		            "field \"record.published_on\" is before \"record.decided_on\"");

	if ((rc = get_str(rec, "record.fine_yuan", false, &s, rej)) < 0)
		return -1;
	if (rc == 0) {
		if (parse_yuan(s, &ev->fine_fen) != 0)
			return fail(rej, REJ_INVALID_FIELD,
			            "field \"record.fine_yuan\" is not a non-negative decimal with "
			            "at most 2 decimals: %s",
			            quote(s, q, sizeof(q)));
		ev->has_fine = true;
	}

	if (get_str(rec, "record.field", true, &s, rej) != 0)
		return -1;
	int f = field_parse(s);
	if (f < 0)
		return fail(rej, REJ_INVALID_FIELD, "field \"record.field\" is not a field: %s",
		            quote(s, q, sizeof(q)));
	ev->field = (enum field)f;

	if ((rc = get_str(rec, "record.severity", false, &s, rej)) < 0)
		return -1;
	if (rc == 0) {
		int sev = severity_parse(s);
		if (sev != SEV_MINOR && sev != SEV_GENERAL && sev != SEV_SERIOUS)
			return fail(rej, REJ_INVALID_FIELD,
			            "field \"record.severity\" is not a severity: %s",
			            quote(s, q, sizeof(q)));
		ev->severity = (enum severity)sev;
	}

	const struct jv *issuer;
	if (get_object(rec, "record.issuer", &issuer, rej) ||
	    get_text(issuer, "record.issuer.name", true, NAME_MAX_BYTES, ev->issuer_name, rej) ||
	    get_uscc(issuer, "record.issuer.uscc", issuer_uscc, rej))
		return -1;
	return 0;
}

static const char *const effective_names[EV_TYPE_COUNT] = {
    [EV_PENALTY_REPAIRED] = "record.repaired_on",
    [EV_PENALTY_REVOKED] = "record.revoked_on",
    [EV_LIST_ADDED] = "record.listed_on",
    [EV_LIST_REMOVED] = "record.removed_on",
};

static const char *const instant_names[EV_TYPE_COUNT] = {
    [EV_REPAIR_APPLIED] = "record.applied_at",
    [EV_REPAIR_ACCEPTED] = "record.accepted_at",
    [EV_REPAIR_DECLINED] = "record.decided_at",
    [EV_REPAIR_DENIED] = "record.decided_at",
};

static int
parse_record(const struct jv *rec, struct event *ev, const char **issuer_uscc, struct reject *rej)
{
	switch (ev->type) {
	case EV_PENALTY_ISSUED:
		return parse_issued(rec, ev, issuer_uscc, rej);
	case EV_PENALTY_REPAIRED:
		if (get_text(rec, "record.decision_no", true, DECISION_NO_MAX, ev->key.decision_no,
		             rej) ||
		    get_date(rec, effective_names[ev->type], &ev->effective_on, rej) ||
		    get_text(rec, "record.repair_decision_no", false, DECISION_NO_MAX,
		             ev->repair_decision_no, rej))
			return -1;
		return 0;
	case EV_PENALTY_REVOKED:
		if (get_text(rec, "record.decision_no", true, DECISION_NO_MAX, ev->key.decision_no,
		             rej) ||
		    get_date(rec, effective_names[ev->type], &ev->effective_on, rej))
			return -1;
		return 0;
	case EV_LIST_ADDED:
	case EV_LIST_REMOVED:
		if (get_text(rec, "record.list", true, LIST_CODE_MAX, ev->key.list, rej) ||
		    get_text(rec, "record.decision_no", true, DECISION_NO_MAX, ev->key.decision_no,
		             rej) ||
		    get_date(rec, effective_names[ev->type], &ev->effective_on, rej) ||
		    get_free_text(rec, "record.reason", REASON_MAX, ev->reason, rej))
			return -1;
		return 0;
	case EV_REPAIR_APPLIED:
	case EV_REPAIR_ACCEPTED:
	case EV_REPAIR_DECLINED:
	case EV_REPAIR_DENIED:
		if (get_text(rec, "record.decision_no", true, DECISION_NO_MAX, ev->key.decision_no,
		             rej) ||
		    get_text(rec, "record.list", false, LIST_CODE_MAX, ev->key.list, rej) < 0 ||
		    get_text(rec, "record.application_no", true, DECISION_NO_MAX,
		             ev->application_no, rej) ||
		    get_time(rec, instant_names[ev->type], &ev->app_at, NULL, rej))
			return -1;
		return 0;
	}
	return fail(rej, REJ_UNKNOWN_TYPE, "unknown event type");
}

static int
check_uscc(const char *path, const char *code, char *out, struct reject *rej)
{
	char why[128], q[QBUF];
	if (uscc_check(code, why, sizeof(why)) != 0)
		return fail(rej, REJ_INVALID_USCC, "field \"%s\" is not a valid USCC: %s (%s)",
		            path, quote(code, q, sizeof(q)), why);
	if (out)
		memcpy(out, code, USCC_BUF);
	return 0;
}

static bool
is_list_type(enum event_type t)
{
	return t == EV_LIST_ADDED || t == EV_LIST_REMOVED;
}

static bool
is_repair_type(enum event_type t)
{
	return t == EV_REPAIR_APPLIED || t == EV_REPAIR_ACCEPTED || t == EV_REPAIR_DECLINED ||
	       t == EV_REPAIR_DENIED;
}

static enum record_kind
list_record_kind(const rules *r, const char *list)
{
	int k = r ? rules_list_kind(r, list) : -1;
	if (k < 0)
		k = strncmp(list, "abnormal-", 9) == 0 ? LIST_ABNORMAL : LIST_SERIOUS;
	return k == LIST_ABNORMAL ? KIND_ABNORMAL : KIND_SERIOUS;
}

/* Checks in the order the header documents; the first failure is the reject. */
static int
parse_event(const struct jv *root, const char *topic_producer, const rules *r, struct event *ev,
            struct reject *rej)
{
	const char *schema, *type, *producer, *subject_uscc, *issuer_uscc = NULL;
	char q[QBUF], q2[QBUF];
	const struct jv *subject, *record;

	if (get_str(root, "schema", true, &schema, rej) != 0)
		return -1;
	if (strcmp(schema, EVENT_SCHEMA) != 0)
		return fail(rej, REJ_UNSUPPORTED_SCHEMA, "unsupported schema %s, expected \"%s\"",
		            quote(schema, q, sizeof(q)), EVENT_SCHEMA);

	if (get_uuid(root, "event_id", ev->event_id, rej) ||
	    get_str(root, "type", true, &type, rej) != 0 ||
	    get_str(root, "producer", true, &producer, rej) != 0)
		return -1;
	if (!is_producer_code(producer))
		return fail(
		    rej, REJ_INVALID_FIELD,
		    "field \"producer\" is not a producer code (1 to %d of a-z, 0-9, -): %s",
		    PRODUCER_MAX, quote(producer, q, sizeof(q)));
	memcpy(ev->producer, producer, strlen(producer) + 1);
	if (get_time(root, "occurred_at", &ev->occurred_at, &ev->occurred_offset, rej) ||
	    get_object(root, "subject", &subject, rej) ||
	    get_uscc(subject, "subject.uscc", &subject_uscc, rej) ||
	    get_text(subject, "subject.name", true, NAME_MAX_BYTES, ev->subject_name, rej) ||
	    get_object(root, "record", &record, rej))
		return -1;

	int t = event_type_parse(type);
	if (t < 0)
		return fail(rej, REJ_UNKNOWN_TYPE, "unknown event type %s",
		            quote(type, q, sizeof(q)));
	ev->type = (enum event_type)t;

	if (parse_record(record, ev, &issuer_uscc, rej) != 0)
		return -1;

	if (check_uscc("subject.uscc", subject_uscc, ev->key.uscc, rej) ||
	    (issuer_uscc && check_uscc("record.issuer.uscc", issuer_uscc, ev->issuer_uscc, rej)))
		return -1;

	if (topic_producer && strcmp(ev->producer, topic_producer) != 0)
		return fail(rej, REJ_PRODUCER_MISMATCH,
		            "field \"producer\" is %s, but the topic's producer is %s",
		            quote(ev->producer, q, sizeof(q)),
		            quote(topic_producer, q2, sizeof(q2)));

	if (is_list_type(ev->type)) {
		ev->key.kind = list_record_kind(r, ev->key.list);
		if (r && !rules_list_known(r, ev->key.list))
			return fail(rej, REJ_UNKNOWN_LIST,
			            "field \"record.list\" is not a known list: %s",
			            quote(ev->key.list, q, sizeof(q)));
		if (r && !rules_list_owner(r, ev->key.list, ev->producer))
			return fail(rej, REJ_NOT_LIST_OWNER,
			            "producer %s is not an owner of list %s, so may not %s entries",
			            quote(ev->producer, q, sizeof(q)),
			            quote(ev->key.list, q2, sizeof(q2)),
			            ev->type == EV_LIST_ADDED ? "add" : "remove");
	} else if (is_repair_type(ev->type) && ev->key.list[0] != '\0') {
		/* An application to leave an abnormal-operation list (seed §五(三)): gsxt decides.
		 */
		ev->key.kind = list_record_kind(r, ev->key.list);
		if (r && !rules_list_known(r, ev->key.list))
			return fail(rej, REJ_UNKNOWN_LIST,
			            "field \"record.list\" is not a known list: %s",
			            quote(ev->key.list, q, sizeof(q)));
		if (ev->key.kind != KIND_ABNORMAL)
			return fail(
			    rej, REJ_INVALID_FIELD,
			    "field \"record.list\" is %s, not an abnormal-operation list: a "
			    "serious list entry is removed by the authority that listed it",
			    quote(ev->key.list, q, sizeof(q)));
		if (r && rules_producer_is_system(r, ev->producer) &&
		    strcmp(ev->producer, site_name(SITE_GSXT)) != 0)
			return fail(
			    rej, REJ_WRONG_CHANNEL,
			    "an application to leave list %s is decided by \"gsxt\", not %s",
			    quote(ev->key.list, q, sizeof(q)), quote(ev->producer, q2, sizeof(q2)));
	} else {
		ev->key.kind = KIND_PENALTY;
	}

	/* Repairs and repair applications are decided by a disclosure system, never by an
	 * authority; which system must decide this record is the reconciler's check. */
	if (r && (ev->type == EV_PENALTY_REPAIRED || is_repair_type(ev->type)) &&
	    !rules_producer_is_system(r, ev->producer))
		return fail(rej, REJ_WRONG_CHANNEL,
		            "%s from producer %s, which is not a disclosure system (creditchina, "
		            "gsxt)",
		            event_type_name(ev->type), quote(ev->producer, q, sizeof(q)));
	/* ...and the two systems send nothing else: no penalty, revocation or list entry. */
	if (r && ev->type != EV_PENALTY_REPAIRED && !is_repair_type(ev->type) &&
	    rules_producer_is_system(r, ev->producer))
		return fail(rej, REJ_WRONG_CHANNEL,
		            "%s from producer %s, a disclosure system: the systems send repairs "
		            "and repair applications only",
		            event_type_name(ev->type), quote(ev->producer, q, sizeof(q)));
	return 0;
}

static void
event_init(struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->decided_on = DATE_NONE;
	ev->published_on = DATE_NONE;
	ev->effective_on = DATE_NONE;
}

int
event_parse(const char *buf, size_t len, const char *topic_producer, const rules *r,
            struct event *ret, struct reject *rej)
{
	event_init(ret);
	memset(rej, 0, sizeof(*rej));
	struct jdoc d;
	const struct jv *root = load(buf, len, &d, rej);
	if (root == NULL)
		return -1;

	/* Name the event in the reject whatever else is wrong with it. */
	char id[UUID_STRLEN] = "";
	const struct jv *v = jv_get(root, "event_id");
	if (v != NULL && v->type == JV_STRING)
		event_uuid_normalise(v->str, id);

	int rc = parse_event(root, topic_producer, r, ret, rej);
	jdoc_free(&d);
	if (rc != 0) {
		event_init(ret);
		memcpy(ret->event_id, id, UUID_STRLEN);
		return -1;
	}
	rej->reason = REJ_NONE;
	rej->detail[0] = '\0';
	return 0;
}

int
ack_parse(const char *buf, size_t len, const char *topic_site, struct ack *ret, struct reject *rej)
{
	const char *schema, *site;
	char q[QBUF], q2[QBUF];

	memset(ret, 0, sizeof(*ret));
	memset(rej, 0, sizeof(*rej));
	struct jdoc d;
	const struct jv *root = load(buf, len, &d, rej);
	if (root == NULL)
		return -1;

	int rc = -1;
	if (get_str(root, "schema", true, &schema, rej) != 0)
		goto out;
	if (strcmp(schema, ACK_SCHEMA) != 0) {
		fail(rej, REJ_UNSUPPORTED_SCHEMA, "unsupported schema %s, expected \"%s\"",
		     quote(schema, q, sizeof(q)), ACK_SCHEMA);
		goto out;
	}
	if (get_uuid(root, "id", ret->id, rej) || get_str(root, "site", true, &site, rej))
		goto out;
	int s = site_parse(site);
	if (s < 0) {
		fail(rej, REJ_INVALID_FIELD, "field \"site\" is not a site (creditchina, gsxt): %s",
		     quote(site, q, sizeof(q)));
		goto out;
	}
	ret->site = (enum site)s;
	if (get_time(root, "done_at", &ret->done_at, NULL, rej))
		goto out;
	if (topic_site && strcmp(site, topic_site) != 0) {
		fail(rej, REJ_PRODUCER_MISMATCH, "field \"site\" is %s, but the topic's site is %s",
		     quote(site, q, sizeof(q)), quote(topic_site, q2, sizeof(q2)));
		goto out;
	}
	rc = 0;
out:
	jdoc_free(&d);
	if (rc != 0) {
		char id_copy[UUID_STRLEN];
		memcpy(id_copy, ret->id, UUID_STRLEN);
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->id, id_copy, UUID_STRLEN);
	}
	return rc;
}
