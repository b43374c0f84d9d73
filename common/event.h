/* event: the inbound event of docs/CONTRACT.md parsed and validated into a typed value, or a
 * reject reason with a one-line detail naming the field; the acknowledgement message; and
 * encoders for the outbound, ack and reject messages. Pure: no I/O. */
#ifndef CREDSYNC_EVENT_H
#define CREDSYNC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "rules.h"
#include "uscc.h"
#include "vocab.h"

#define EVENT_MAX_BYTES (64 * 1024)
#define EVENT_MAX_DEPTH 8

/* Longest accepted strings, in bytes of UTF-8, NUL not counted. */
#define PRODUCER_MAX    64
#define DECISION_NO_MAX 128
#define NAME_MAX_BYTES  400
#define LIST_CODE_MAX   64
#define REASON_MAX      1024
#define UUID_STRLEN     37 /* 36 + NUL */

/* The "schema" value of each message. */
#define EVENT_SCHEMA  "credsync.event/1"
#define OUT_SCHEMA    "credsync.out/1"
#define ACK_SCHEMA    "credsync.ack/1"
#define REJECT_SCHEMA "credsync.reject/1"

struct reject {
	enum reject_reason reason;
	char detail[256]; /* one line for a person, naming the field */
};

/* A record's identity (docs/RULES.md section 5). */
struct record_key {
	enum record_kind kind;
	char uscc[USCC_BUF];
	char list[LIST_CODE_MAX + 1]; /* "" for a penalty */
	char decision_no[DECISION_NO_MAX + 1];
};

/* A validated inbound event. Every string is NUL-terminated valid UTF-8 within its limit;
 * fields not used by the type are zero / "" / DATE_NONE. No pointers: copy freely. */
struct event {
	char event_id[UUID_STRLEN]; /* lower-case canonical UUID */
	enum event_type type;
	char producer[PRODUCER_MAX + 1];
	int64_t occurred_at; /* Unix seconds */
	int occurred_offset; /* minutes, as written */
	char subject_name[NAME_MAX_BYTES + 1];
	struct record_key key; /* kind from the type (list kind from its code via rules) */

	/* penalty.issued */
	cs_date decided_on;
	cs_date published_on; /* optional: when the authority first published it; DATE_NONE */
	unsigned categories;  /* mask of enum category */
	enum field field;
	bool has_fine;
	int64_t fine_fen;
	enum severity severity;
	char issuer_name[NAME_MAX_BYTES + 1];
	char issuer_uscc[USCC_BUF];

	/* penalty.repaired / penalty.revoked / list.added / list.removed: the day it took effect
	 * (repaired_on, revoked_on, listed_on, removed_on) */
	cs_date effective_on;
	char repair_decision_no[DECISION_NO_MAX + 1];
	char reason[REASON_MAX + 1];

	/* repair.*: the application and its instant (applied_at/accepted_at/decided_at) */
	char application_no[DECISION_NO_MAX + 1];
	int64_t app_at;
};

/* Parses and validates one message of at most len bytes (need not be NUL-terminated).
 * topic_producer: the suffix of the topic it came from, or NULL to skip that check.
 * r: for list codes and ownership (unknown_list, not_list_owner), and the stateless channel
 * check (a penalty.repaired not from a disclosure system is wrong_channel); NULL skips those.
 * Returns 0 with *ret filled, or -1 with *rej filled (reason and detail). When the JSON
 * parsed far enough, ret->event_id is set even on failure ("" otherwise).
 * The first failing check is the reject, in this order: too_large (before parsing);
 * malformed_json (syntax, invalid UTF-8, duplicate keys, not an object, nesting deeper than
 * EVENT_MAX_DEPTH levels of objects and arrays, the message itself being level 1); "schema"
 * (missing_field, unsupported_schema); the envelope's fields (event_id, type, producer,
 * occurred_at, subject, subject.uscc, subject.name, record: missing_field, invalid_field);
 * unknown_type; the record's fields in the contract's order; invalid_uscc (subject.uscc, then
 * record.issuer.uscc); producer_mismatch; unknown_list; not_list_owner; wrong_channel
 * (penalty.repaired or repair.* not from a disclosure system, or any other type from one). A
 * field whose value is JSON null
 * counts as absent. Unknown members are ignored. */
int event_parse(const char *buf, size_t len, const char *topic_producer, const rules *r,
                struct event *ret, struct reject *rej);

/* An acknowledgement from a site (credit.ack.<site>). */
struct ack {
	char id[UUID_STRLEN];
	enum site site;
	int64_t done_at;
};
/* Parses an ack; topic_site is the topic's suffix (must match "site"), NULL to skip. */
int ack_parse(const char *buf, size_t len, const char *topic_site, struct ack *ret,
              struct reject *rej);

/* One message a site must apply: an obligation. */
struct obligation {
	char id[UUID_STRLEN]; /* deterministic: obligation_id() of the fields below */
	enum site site;
	enum out_type type;
	enum takedown_reason reason; /* TD_NONE for disclose */
	struct record_key key;
	char producer[PRODUCER_MAX + 1]; /* who made the record (penalty issuer, list adder) */
	char subject_name[NAME_MAX_BYTES + 1];
	/* disclose */
	cs_date disclose_until;  /* DATE_NONE for list entries (no period) */
	cs_date repairable_from; /* DATE_NONE when not applicable */
	/* mutual_recognition */
	enum site rec_system;
	char rec_decision_no[DECISION_NO_MAX + 1];
	char rec_repair_decision_no[DECISION_NO_MAX + 1];
	cs_date rec_repaired_on;

	/* disclose: the record's content, so that a site can show it from the stream alone
	 * (zero otherwise; not part of the id) */
	struct disclosed {
		cs_date decided_on;     /* penalty: decision date; list entry: listed date */
		unsigned categories;    /* penalty: mask of enum category */
		enum field field;       /* penalty */
		bool has_fine;          /* penalty: fine_fen is known */
		int64_t fine_fen;       /* penalty */
		enum severity severity; /* penalty: SEV_NONE when the event had none */
		char issuer_name[NAME_MAX_BYTES + 1]; /* penalty: the deciding body */
		char issuer_uscc[USCC_BUF];
		bool has_channel; /* the system that decides its repair or removal is known */
		enum site channel;
	} content;

	char source_event_id[UUID_STRLEN]; /* "" for automatic takedowns */
	int64_t received_at;               /* Unix seconds */
	cs_date due_date;
};

/* Fills ob->id: UUID v5 (libuuid) in credsync's namespace over site, type, reason, record
 * identity and source event id, so the same obligation always gets the same id. */
void obligation_set_id(struct obligation *ob);

/* Encoders: return a malloc'd NUL-terminated compact JSON string owned by the caller
 * (free()), or NULL on allocation failure. */
char *out_encode(const struct obligation *ob);
char *ack_encode(const struct ack *ack);
/* payload: the original message bytes (any bytes; invalid UTF-8 is escaped as U+FFFD). */
char *reject_encode(const char *event_id, const char *producer, const struct reject *rej,
                    const char *topic, int32_t partition, int64_t offset, const char *payload,
                    size_t payload_len);

/* Writes the lower-case canonical form of a UUID (any version, either case) into out and
 * returns true, or returns false (out untouched) when s is not 8-4-4-4-12 hex digits. */
bool event_uuid_normalise(const char *s, char out[UUID_STRLEN]);

#endif
