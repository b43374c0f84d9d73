/* test_publisher: daemon/publisher.c against a real PostgreSQL and librdkafka's mock cluster:
 * after a failed delivery, what a site reads last of each subject is still in outbox order. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "kafka.h"
#include "kafkatest.h"
#include "log.h"
#include "pgtest.h"
#include "publisher.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

#define SITE_TOPIC "credit.out.gsxt"
#define MAX_ROWS   16

static embedded *cluster;

/* A migrated store (storetest) and a one-broker mock cluster. */
static void
setup(void)
{
	char err[512];

	log_init(LOG_LVL_ERR);
	storetest_setup();
	cluster = embedded_start(1, 4, err, sizeof err);
	cr_assert_not_null(cluster, "embedded_start: %s", err);
}

static void
teardown(void)
{
	embedded_stop(cluster);
	cluster = NULL;
	storetest_teardown();
}

TestSuite(publisher, .init = setup, .fini = teardown);

/* The delivered hook: hands the reports to the publisher, turning the report of one ticket
 * (the n-th message produced) into a failure once, although the broker wrote the message:
 * what librdkafka reports when message.timeout.ms runs out while the request is in flight. */
struct fault {
	publisher *pub;
	uintptr_t fail_ticket; /* 0: none */
	bool failed;
	size_t reports;
};

static void
on_delivered(void *arg, void *opaque, rd_kafka_resp_err_t err)
{
	struct fault *f = arg;

	f->reports++;
	if (!f->failed && (uintptr_t)opaque == f->fail_ticket) {
		f->failed = true;
		err = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT;
	}
	publisher_delivered(f->pub, opaque, err);
}

static long long
sql_int(const char *sql)
{
	PGresult *r = PQexec(storetest_pg, sql);

	cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql,
	             PQerrorMessage(storetest_pg));
	long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* The payload's "n" (its place in the outbox), or -1. */
static int
payload_n(const char *payload)
{
	const char *p = payload != NULL ? strstr(payload, "\"n\":") : NULL;

	return p != NULL ? (int)strtol(p + 4, NULL, 10) : -1;
}

/* Subjects A and B, each disclosed, then taken down, interleaved with C; the row that fails
 * is one of the table. */
static const struct {
	const char *key;
	const char *payload;
} rows[] = {
    {"91350100M000100Y43", "{\"n\":0,\"type\":\"disclose\"}"},
    {"91110108551385082Q", "{\"n\":1,\"type\":\"disclose\"}"},
    {"91350100M000100Y43", "{\"n\":2,\"type\":\"takedown\"}"},
    {"91150102MA0N00000X", "{\"n\":3,\"type\":\"disclose\"}"},
    {"91110108551385082Q", "{\"n\":4,\"type\":\"takedown\"}"},
    {"91150102MA0N00000X", "{\"n\":5,\"type\":\"takedown\"}"},
};
enum { N_ROWS = sizeof rows / sizeof rows[0] };

/* Publishes the table with a window of `window`, the fail_ticket-th message's delivery
 * failing, and checks the wire. Returns how many messages went out, resends included. */
static size_t
publish_with_fault(int window, uintptr_t fail_ticket)
{
	struct store_outrow out[N_ROWS];
	char ids[N_ROWS][UUID_STRLEN];
	struct fault f = {.fail_ticket = fail_ticket};
	struct kafka_hooks hooks = {NULL, NULL, on_delivered, &f};
	static const char *const props[] = {"topic.metadata.refresh.interval.ms", "500", NULL};
	char err[512];

	for (size_t i = 0; i < N_ROWS; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012zu", i + 1);
		out[i] = (struct store_outrow){ids[i], SITE_TOPIC, rows[i].key, rows[i].payload};
	}
	struct store_batch b = {.out = out, .n_out = N_ROWS};
	cr_assert_eq(store_batch_commit(storetest_st, &b, err, sizeof err), 0, "commit: %s", err);

	kafka *k = kafka_new_props(embedded_bootstraps(cluster), "publisher-test", props, &hooks,
	                           err, sizeof err);
	cr_assert_not_null(k, "kafka_new_props: %s", err);
	publisher *pub = publisher_new(storetest_st, k, window);
	cr_assert_not_null(pub);
	f.pub = pub;

	int64_t deadline = testlib_now_ms() + 20000;
	long long unsent = N_ROWS;
	while (testlib_now_ms() < deadline) {
		cr_assert_geq(publisher_step(pub, err, sizeof err), 0, "publisher_step: %s", err);
		kafka_push(k, 5);
		if (publisher_in_flight(pub) == 0 && publisher_finish(pub, err, sizeof err) >= 0 &&
		    (unsent = sql_int(
		         "SELECT count(*) FROM credsync.outbox WHERE sent_at IS NULL")) == 0)
			break;
	}
	cr_assert_eq(unsent, 0, "rows still unsent");
	cr_assert(f.failed, "the fault was not injected");

	/* Every report stands for a message on the wire, the failed one included. */
	struct kafkatest_msg msgs[4 * MAX_ROWS];
	size_t want = f.reports;
	cr_assert_leq(want, 4 * MAX_ROWS);
	size_t n = kafkatest_consume(embedded_bootstraps(cluster), SITE_TOPIC, want, 10000, msgs,
	                             err, sizeof err);
	cr_assert_eq(n, want, "consumed %zu of %zu: %s", n, want, err);

	/* Per subject, in partition order (one key, one partition): the position of the last
	 * copy of each row must grow with the row's place in the outbox. What a site holds at
	 * the end is what the last copies say, so a disclosure last seen after its takedown
	 * leaves the record disclosed. */
	for (size_t s = 0; s < N_ROWS; s++) {
		int last_at[N_ROWS];
		for (size_t i = 0; i < N_ROWS; i++)
			last_at[i] = -1;
		for (size_t m = 0; m < n; m++) {
			if (msgs[m].key == NULL || strcmp(msgs[m].key, rows[s].key) != 0)
				continue;
			int at = payload_n(msgs[m].value);
			cr_assert(at >= 0 && at < N_ROWS, "payload %s", msgs[m].value);
			last_at[at] = (int)msgs[m].offset;
		}
		int prev = -1;
		for (size_t i = 0; i < N_ROWS; i++) {
			if (strcmp(rows[i].key, rows[s].key) != 0)
				continue;
			cr_assert_geq(last_at[i], 0, "row %zu never on the wire", i);
			cr_assert_gt(
			    last_at[i], prev,
			    "subject %s: the last copy of row %zu (offset %d) is not after the "
			    "rows before it (offset %d)",
			    rows[s].key, i, last_at[i], prev);
			prev = last_at[i];
		}
	}
	kafkatest_msgs_free(msgs, n);
	publisher_free(pub);
	kafka_close(k, 5000);
	return n;
}

/* Table: the window and which message's delivery fails. */
Test(publisher, a_failed_delivery_keeps_each_subjects_last_copies_in_order)
{
	publish_with_fault(8, 1); /* the first row, a disclosure taken down later */
}

Test(publisher, a_failed_delivery_in_the_middle_keeps_order)
{
	publish_with_fault(8, 2); /* B's disclosure: A's rows before it are marked sent */
}

Test(publisher, a_failed_delivery_with_a_small_window_keeps_order)
{
	publish_with_fault(2, 1); /* the window moves on while the failed row is re-read */
}

Test(publisher, a_failed_delivery_resends_its_own_subjects_rows_only)
{
	/* All six in flight at once; A's disclosure fails: A's two rows go out again, B's and
	 * C's are marked sent (a row that kept failing would hold up its subject only). */
	cr_assert_eq(publish_with_fault(8, 1), N_ROWS + 2);
}
