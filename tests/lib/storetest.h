/* storetest: the fixture and builders of the store's tests (tests/db/test_store*.c): a fresh
 * database with a store on it, and the records, obligations and inbound rows the tests write.
 * Every function asserts (Criterion) on failure. */
#ifndef CREDSYNC_STORETEST_H
#define CREDSYNC_STORETEST_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

#define STORETEST_TIMEOUT_MS 5000
#define USCC_A               "91350100M000100Y43"
#define USCC_B               "91110108551385082Q"
#define TOPIC                "credit.in.nm-tax"
#define EV1                  "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b10"
#define EV2                  "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b11"
#define EV3                  "6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b12"
#define OB1                  "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e40"
#define OB2                  "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e41"
#define OB3                  "1b4e28ba-2fa1-5d2c-8e6f-3f7a9c1d2e42"

/* The fixture, set before each test by storetest_setup or storetest_setup_bare and cleared
 * after it by storetest_teardown. */
extern char *storetest_db;   /* this test's database (a conninfo) */
extern store *storetest_st;  /* a store on it: migrated by storetest_setup */
extern PGconn *storetest_pg; /* a plain connection for checks */

void storetest_setup_bare(void); /* an empty database */
void storetest_setup(void);      /* with every migration applied */
void storetest_teardown(void);

#define FRESH .init = storetest_setup, .fini = storetest_teardown
#define BARE  .init = storetest_setup_bare, .fini = storetest_teardown

/* The migrations' folder: $CREDSYNC_SCHEMAS/sql (a static buffer). */
const char *storetest_sqldir(void);

/* An earlier release's migrations: a new folder in buf holding links to 001 up to upto;
 * storetest_sqldir_remove removes it. */
void storetest_sqldir_upto(char *buf, size_t bufsz, int upto);
void storetest_sqldir_remove(const char *dir);

/* store_open, which must succeed. */
store *storetest_open(const char *conninfo, int timeout_ms);

/* Polls sql on storetest_pg until it yields want or timeout_ms passes; returns whether it did. */
bool storetest_wait_int(const char *sql, long long want, int timeout_ms);

/* A shown, repairable penalty of nm-tax (fine 20000.00, decided 2024-05-06). */
struct record storetest_penalty(const char *uscc, const char *decision_no);

/* A disclose of storetest_penalty(USCC_A, "呼税罚〔2024〕12号") to site, due on due. */
struct obligation storetest_obligation(const char *id, enum site site, cs_date due);

/* An inbound row of TOPIC partition 0 about USCC_A (event_id may be NULL). */
struct store_inbound storetest_inbound(int64_t offset, const char *event_id, const char *outcome);

struct store_tp storetest_tp(const char *topic, int32_t partition);

/* store_claim for group "credsyncd" and store_batch_commit, which must succeed. */
void storetest_claim(store *s, const char *member, struct store_tp *tps, size_t n);
void storetest_commit(store *s, const struct store_batch *b);

/* Reads one record back through store_batch_begin (and rolls back); returns whether found. */
bool storetest_read_record(store *s, const struct record_key *key, struct record *ret);

/* Asserts that every field of got equals want's; name says which record in the message. */
void storetest_assert_record_eq(const struct record *got, const struct record *want,
                                const char *name);

#endif
