/* fuzz_event: libFuzzer target for the inbound event parser and the ack parser (event.c),
 * fed raw Kafka payloads; accepted values are checked for the invariants event.h promises,
 * and jdoc's reader against jansson's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "jdoc.h"
#include "rules.h"
#include "utf8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rules *fuzz_rules;

/* Stops the run the way a sanitizer finding does, so libFuzzer saves the input. */
static void
broken(const char *what)
{
	fprintf(stderr, "fuzz_event: invariant broken: %s\n", what);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	const char *dir = getenv("CREDSYNC_SCHEMAS");

	(void)argc;
	(void)argv;
	fuzz_rules = rules_load(dir && dir[0] ? dir : CREDSYNC_SRC_SCHEMAS, NULL, err, sizeof(err));
	if (fuzz_rules == NULL) {
		fprintf(stderr, "fuzz_event: rules: %s\n", err);
		abort();
	}
	return 0;
}

/* A string field of a parsed value: terminated inside its buffer, valid UTF-8, no NUL. */
static void
check_str(const char *s, size_t bufsz, const char *what)
{
	size_t n = strnlen(s, bufsz);
	size_t clean_len;

	if (n == bufsz)
		broken(what);
	char *clean = utf8_sanitize(s, n, &clean_len);
	if (clean == NULL)
		return;
	if (clean_len != n || memcmp(clean, s, n) != 0)
		broken(what);
	free(clean);
}

static void
check_event(const struct event *ev)
{
	char canon[UUID_STRLEN];

	check_str(ev->event_id, sizeof(ev->event_id), "event_id");
	if (!event_uuid_normalise(ev->event_id, canon) || strcmp(canon, ev->event_id) != 0)
		broken("event_id is not canonical");
	if (event_type_name(ev->type) == NULL)
		broken("type");
	check_str(ev->producer, sizeof(ev->producer), "producer");
	check_str(ev->subject_name, sizeof(ev->subject_name), "subject_name");
	check_str(ev->key.uscc, sizeof(ev->key.uscc), "key.uscc");
	check_str(ev->key.list, sizeof(ev->key.list), "key.list");
	check_str(ev->key.decision_no, sizeof(ev->key.decision_no), "key.decision_no");
	check_str(ev->issuer_name, sizeof(ev->issuer_name), "issuer_name");
	check_str(ev->issuer_uscc, sizeof(ev->issuer_uscc), "issuer_uscc");
	check_str(ev->repair_decision_no, sizeof(ev->repair_decision_no), "repair_decision_no");
	check_str(ev->reason, sizeof(ev->reason), "reason");
	check_str(ev->application_no, sizeof(ev->application_no), "application_no");
	if (ev->has_fine && ev->fine_fen < 0)
		broken("negative fine");
}

/* The reject message carries the payload and detail: encoding must work on any bytes. */
static void
check_reject(const struct event *ev, const struct reject *rej, const uint8_t *data, size_t size)
{
	if (reject_reason_name(rej->reason) == NULL || rej->reason == REJ_NONE)
		broken("reject reason");
	check_str(rej->detail, sizeof(rej->detail), "reject detail");
	if (strchr(rej->detail, '\n') != NULL)
		broken("reject detail has a line end");
	check_str(ev->event_id, sizeof(ev->event_id), "event_id of a reject");
	char *msg = reject_encode(ev->event_id, "nm-samr", rej, "credit.in.nm-samr", 0, 0,
	                          (const char *)data, size);
	free(msg);
}

static void
fuzz_ack(const uint8_t *data, size_t size, const char *topic_site)
{
	struct ack ack, again;
	struct reject rej;

	memset(&ack, 0, sizeof(ack));
	memset(&rej, 0, sizeof(rej));
	if (ack_parse((const char *)data, size, topic_site, &ack, &rej) != 0) {
		check_str(rej.detail, sizeof(rej.detail), "ack reject detail");
		return;
	}
	check_str(ack.id, sizeof(ack.id), "ack id");
	/* What we encode we must read back the same. */
	char *enc = ack_encode(&ack);
	if (enc == NULL)
		return;
	if (ack_parse(enc, strlen(enc), NULL, &again, &rej) != 0)
		broken("ack_encode output does not parse");
	if (strcmp(again.id, ack.id) != 0 || again.site != ack.site || again.done_at != ack.done_at)
		broken("ack round trip");
	free(enc);
}

/* jdoc's reader takes a subset of what jansson takes, into the same values (jdoc.h). */
static void
fuzz_jdoc(const uint8_t *data, size_t size)
{
	struct jdoc fast, slow;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (jdoc_parse(&fast, (const char *)data, size) == 0) {
		if (j == NULL)
			broken("jdoc took what jansson refuses");
		if (jdoc_from_jansson(&slow, j) == 0) {
			if (!jv_same(jdoc_root(&fast), jdoc_root(&slow)) ||
			    fast.depth != slow.depth)
				broken("jdoc read otherwise than jansson");
			jdoc_free(&slow);
		}
		jdoc_free(&fast);
	}
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	struct reject rej;
	const char *buf = (const char *)data;

	/* As the pipeline calls it (topic credit.in.nm-samr, real rules), and without either. */
	memset(&rej, 0, sizeof(rej));
	if (event_parse(buf, size, "nm-samr", fuzz_rules, &ev, &rej) == 0)
		check_event(&ev);
	else
		check_reject(&ev, &rej, data, size);
	memset(&rej, 0, sizeof(rej));
	if (event_parse(buf, size, NULL, NULL, &ev, &rej) == 0)
		check_event(&ev);
	else
		check_reject(&ev, &rej, data, size);

	fuzz_ack(data, size, "gsxt");
	fuzz_ack(data, size, NULL);
	fuzz_jdoc(data, size);
	return 0;
}
