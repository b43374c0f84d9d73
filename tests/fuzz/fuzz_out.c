/* fuzz_out: libFuzzer target for out_encode (event_encode.c), fed obligations built from the
 * input's bytes: any enum value of its type, any bytes in each string (cut to its buffer), any
 * date, time and fine. The output must be one JSON object in valid UTF-8 with the contract's
 * members, every string as given (invalid UTF-8 replaced by U+FFFD), every date and time read
 * back the same where the format can hold it; what fuzz_event checks for the parsers. */
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "event.h"
#include "utf8.h"
#include "vocab.h"
#include "yuan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run the way a sanitizer finding does, so libFuzzer saves the input. */
static void
broken(const char *what, const char *out)
{
	fprintf(stderr, "fuzz_out: invariant broken: %s\n%s\n", what, out ? out : "(no output)");
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* ---- the input, read front to back; past its end every read gives zeros ---- */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t
take(struct input *in, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++) {
		v = v << 8 | (in->n > 0 ? *in->p : 0);
		if (in->n > 0) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

/* A string of up to bufsz - 1 bytes: a 16-bit length, then that many bytes (a NUL among
 * them ends the string early, as in the struct). */
static void
take_str(struct input *in, char *buf, size_t bufsz)
{
	size_t len = (size_t)take(in, 2) % bufsz;
	if (len > in->n)
		len = in->n;
	memcpy(buf, in->p, len);
	buf[len] = '\0';
	in->p += len;
	in->n -= len;
}

static cs_date
take_date(struct input *in)
{
	/* half the time near today, so that most dates are ordinary ones */
	uint32_t v = (uint32_t)take(in, 4);
	if (v & 1u)
		return (cs_date)(18000 + (int32_t)(v >> 1) % 40000);
	return (cs_date)v;
}

static void
build(struct input *in, struct obligation *ob)
{
	memset(ob, 0, sizeof(*ob));
	ob->site = (enum site)(take(in, 1) % SITE_COUNT);
	ob->type = (enum out_type)(take(in, 1) % 3);
	ob->reason = (enum takedown_reason)(take(in, 1) % (TD_NOT_DISCLOSABLE + 1));
	ob->key.kind = (enum record_kind)(take(in, 1) % 3);
	take_str(in, ob->key.uscc, sizeof(ob->key.uscc));
	take_str(in, ob->key.list, sizeof(ob->key.list));
	take_str(in, ob->key.decision_no, sizeof(ob->key.decision_no));
	take_str(in, ob->producer, sizeof(ob->producer));
	take_str(in, ob->subject_name, sizeof(ob->subject_name));
	ob->disclose_until = take_date(in);
	ob->repairable_from = take_date(in);
	ob->rec_system = (enum site)(take(in, 1) % SITE_COUNT);
	take_str(in, ob->rec_decision_no, sizeof(ob->rec_decision_no));
	take_str(in, ob->rec_repair_decision_no, sizeof(ob->rec_repair_decision_no));
	ob->rec_repaired_on = take_date(in);

	struct disclosed *c = &ob->content;
	c->decided_on = take_date(in);
	c->categories = (unsigned)take(in, 2) & ((1u << CAT_COUNT) - 1);
	c->field = (enum field)(take(in, 1) % FIELD_COUNT);
	c->has_fine = take(in, 1) & 1;
	/* a fine is what yuan_parse accepts: not negative, at most 15 digits of yuan */
	c->fine_fen = (int64_t)(take(in, 8) % 100000000000000000ULL);
	c->severity = (enum severity)(take(in, 1) % SEV_COUNT);
	take_str(in, c->issuer_name, sizeof(c->issuer_name));
	take_str(in, c->issuer_uscc, sizeof(c->issuer_uscc));
	uint8_t ch = (uint8_t)take(in, 1);
	c->has_channel = ch & 1;
	c->channel = (enum site)((ch >> 1) % SITE_COUNT);

	take_str(in, ob->source_event_id, sizeof(ob->source_event_id));
	ob->received_at = (int64_t)take(in, 8);
	ob->due_date = take_date(in);
	obligation_set_id(ob);
}

/* ---- the checks ---- */

static const char *encoded;

static json_t *
member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		broken(key, encoded);
	return v;
}

/* A string member equal to s with invalid UTF-8 replaced; null when allowed and s is "". */
static void
check_str(json_t *obj, const char *key, const char *s, int null_if_empty)
{
	json_t *v = member(obj, key);
	if (null_if_empty && s[0] == '\0') {
		if (!json_is_null(v))
			broken(key, encoded);
		return;
	}
	size_t n;
	char *want = utf8_sanitize(s, strlen(s), &n);
	if (want == NULL)
		return;
	if (!json_is_string(v) || json_string_length(v) != n ||
	    memcmp(json_string_value(v), want, n) != 0)
		broken(key, encoded);
	free(want);
}

static void
check_name(json_t *obj, const char *key, const char *name)
{
	json_t *v = member(obj, key);
	if (name == NULL ? !json_is_null(v)
	                 : !json_is_string(v) || strcmp(json_string_value(v), name) != 0)
		broken(key, encoded);
}

/* Whether d is a date "YYYY-MM-DD" can hold (years 1 to 9999). */
static int
date_fits(cs_date d)
{
	cs_date lo, hi;
	if (date_parse("0001-01-01", &lo) != 0 || date_parse("9999-12-31", &hi) != 0)
		abort();
	return d >= lo && d <= hi;
}

static void
check_date(json_t *obj, const char *key, cs_date d)
{
	json_t *v = member(obj, key);
	cs_date back;
	if (d == DATE_NONE) {
		if (!json_is_null(v))
			broken(key, encoded);
		return;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != DATE_STRLEN - 1)
		broken(key, encoded);
	if (date_fits(d) && (date_parse(json_string_value(v), &back) != 0 || back != d))
		broken(key, encoded);
}

static void
check_time(json_t *obj, const char *key, int64_t t)
{
	json_t *v = member(obj, key);
	int64_t back;
	int off;
	/* years 1 to 9999 in Beijing time; beyond them the first or last second */
	const int64_t first = -62135596800LL - 8 * 3600, last = 253402300799LL - 8 * 3600;
	int64_t want = t < first ? first : t > last ? last : t;
	if (!json_is_string(v) || time_parse_rfc3339(json_string_value(v), &back, &off) != 0 ||
	    back != want || off != BEIJING_OFFSET_MIN)
		broken(key, encoded);
}

static void
check_content(json_t *rec, const struct obligation *ob)
{
	const struct disclosed *c = &ob->content;
	if (ob->key.kind != KIND_PENALTY) {
		check_date(rec, "listed_on", c->decided_on);
		return;
	}
	check_date(rec, "decided_on", c->decided_on);
	json_t *cats = member(rec, "categories");
	if (!json_is_array(cats))
		broken("categories", encoded);
	size_t want = 0;
	for (int i = 0; i < CAT_COUNT; i++)
		want += (c->categories >> i) & 1u;
	if (json_array_size(cats) != want)
		broken("categories", encoded);
	json_t *fine = member(rec, "fine_yuan");
	int64_t fen;
	if (c->has_fine ? !json_is_string(fine) || yuan_parse(json_string_value(fine), &fen) != 0 ||
	                      fen != c->fine_fen
	                : !json_is_null(fine))
		broken("fine_yuan", encoded);
	check_name(rec, "field", field_name(c->field));
	check_name(rec, "severity", c->severity != SEV_NONE ? severity_name(c->severity) : NULL);
	json_t *issuer = member(rec, "issuer");
	check_str(issuer, "name", c->issuer_name, 0);
	check_str(issuer, "uscc", c->issuer_uscc, 1);
}

static void
check(const char *out, const struct obligation *ob)
{
	json_error_t jerr;
	size_t len;

	encoded = out;
	if (out == NULL)
		broken("out_encode failed", NULL);
	len = strlen(out);
	char *clean = utf8_sanitize(out, len, NULL);
	if (clean != NULL && strcmp(clean, out) != 0)
		broken("output is not valid UTF-8", out);
	free(clean);
	json_t *root = json_loadb(out, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root))
		broken("output is not one JSON object", out);

	check_name(root, "schema", OUT_SCHEMA);
	check_name(root, "id", ob->id);
	check_name(root, "type", out_type_name(ob->type));
	check_name(root, "site", site_name(ob->site));
	const char *reason = takedown_reason_name(ob->reason);
	if (ob->type == OUT_DISCLOSE)
		reason = NULL;
	else if (ob->type == OUT_MUTUAL_RECOGNITION && reason == NULL)
		reason = takedown_reason_name(TD_REPAIRED);
	check_name(root, "reason", reason);

	json_t *rec = member(root, "record");
	check_name(rec, "kind", record_kind_name(ob->key.kind));
	check_str(rec, "uscc", ob->key.uscc, 0);
	check_str(rec, "decision_no", ob->key.decision_no, 0);
	check_str(rec, "producer", ob->producer, 0);
	check_str(rec, "name", ob->subject_name, 0);
	if (ob->key.kind != KIND_PENALTY)
		check_str(rec, "list", ob->key.list, 0);
	if (ob->type == OUT_DISCLOSE)
		check_content(rec, ob);

	json_t *recog = member(root, "recognises");
	if (ob->type == OUT_MUTUAL_RECOGNITION) {
		check_name(recog, "system", site_name(ob->rec_system));
		check_str(recog, "decision_no", ob->rec_decision_no, 0);
		check_str(recog, "repair_decision_no", ob->rec_repair_decision_no, 1);
		check_date(recog, "repaired_on", ob->rec_repaired_on);
	} else if (!json_is_null(recog)) {
		broken("recognises", out);
	}
	check_str(root, "source_event_id", ob->source_event_id, 1);
	check_time(root, "received_at", ob->received_at);
	check_date(root, "due_date", ob->due_date);
	if (ob->type == OUT_DISCLOSE) {
		check_date(root, "disclose_until",
		           ob->key.kind == KIND_PENALTY ? ob->disclose_until : DATE_NONE);
		check_date(root, "repairable_from", ob->repairable_from);
		check_name(root, "channel",
		           ob->content.has_channel ? site_name(ob->content.channel) : NULL);
	}
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct obligation ob;

	build(&in, &ob);
	char *out = out_encode(&ob);
	check(out, &ob);
	free(out);
	return 0;
}
