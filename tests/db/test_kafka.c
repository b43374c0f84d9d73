/* test_kafka: daemon/kafka.c, daemon/embedded.c and credsync-devbroker against librdkafka's
 * mock cluster (each test starts its own). Every wait polls with a deadline. */
#include <criterion/criterion.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "embedded.h"
#include "kafka.h"
#include "kafka_int.h"
#include "kafkatest.h"
#include "log.h"
#include "testlib.h"

/* Fast groups: the mock answers a rebalance after session.timeout.ms - 1 s. */
static const char *const fast[] = {
    "session.timeout.ms",
    "3000",
    "heartbeat.interval.ms",
    "500",
    "topic.metadata.refresh.interval.ms",
    "500",
    NULL,
};

/* librdkafka's log lines go through log.h: at err level only, to keep the output short. */
static void
quiet_logs(void)
{
	log_init(LOG_LVL_ERR);
}

TestSuite(kafka, .init = quiet_logs);
TestSuite(embedded, .init = quiet_logs);
TestSuite(devbroker, .init = quiet_logs);

#define MAX_OFFSETS 8

/* What the hooks saw. */
struct rec {
	int assigns;    /* successful assign hook calls */
	int failures;   /* assign hook calls that failed */
	int fail_first; /* fail this many assign calls first */
	int revokes;
	rd_kafka_topic_partition_list_t *last_assign; /* copy of the last successful call */
	rd_kafka_topic_partition_list_t *last_revoke;
	/* Offsets to give: topic -> offset; others keep the preset. */
	struct {
		const char *topic;
		int64_t offset;
	} offsets[MAX_OFFSETS];
	int delivered;
	void *opaques[16];
	rd_kafka_resp_err_t errs[16];
};

static int
rec_assign(void *arg, rd_kafka_topic_partition_list_t *parts)
{
	struct rec *r = arg;

	if (r->failures < r->fail_first) {
		r->failures++;
		return -1;
	}
	for (int i = 0; i < parts->cnt; i++) {
		cr_assert_eq(parts->elems[i].offset, RD_KAFKA_OFFSET_BEGINNING,
		             "offset not preset to BEGINNING");
		for (int j = 0; j < MAX_OFFSETS && r->offsets[j].topic != NULL; j++)
			if (strcmp(r->offsets[j].topic, parts->elems[i].topic) == 0)
				parts->elems[i].offset = r->offsets[j].offset;
	}
	r->assigns++;
	if (r->last_assign != NULL)
		rd_kafka_topic_partition_list_destroy(r->last_assign);
	r->last_assign = rd_kafka_topic_partition_list_copy(parts);
	return 0;
}

static void
rec_revoke(void *arg, const rd_kafka_topic_partition_list_t *parts)
{
	struct rec *r = arg;

	r->revokes++;
	if (r->last_revoke != NULL)
		rd_kafka_topic_partition_list_destroy(r->last_revoke);
	r->last_revoke = rd_kafka_topic_partition_list_copy(parts);
}

static void
rec_delivered(void *arg, void *opaque, rd_kafka_resp_err_t err)
{
	struct rec *r = arg;

	cr_assert_lt(r->delivered, 16);
	r->opaques[r->delivered] = opaque;
	r->errs[r->delivered] = err;
	r->delivered++;
}

static void
rec_free(struct rec *r)
{
	if (r->last_assign != NULL)
		rd_kafka_topic_partition_list_destroy(r->last_assign);
	if (r->last_revoke != NULL)
		rd_kafka_topic_partition_list_destroy(r->last_revoke);
}

static embedded *
start_cluster(int partitions)
{
	char err[512];
	embedded *e = embedded_start(1, partitions, err, sizeof(err));

	cr_assert_not_null(e, "embedded_start: %s", err);
	return e;
}

static kafka *
start_member(embedded *e, const char *group, struct rec *r)
{
	struct kafka_hooks hooks = {rec_assign, rec_revoke, rec_delivered, r};
	char err[512];
	kafka *k = kafka_new_props(embedded_bootstraps(e), group, fast, &hooks, err, sizeof(err));

	cr_assert_not_null(k, "kafka_new_props: %s", err);
	return k;
}

static void
create_topic(embedded *e, const char *topic, int partitions)
{
	char err[512];

	cr_assert_eq(embedded_create_topic(e, topic, partitions, err, sizeof(err)), 0, "%s", err);
}

static int64_t
produce(embedded *e, const char *topic, const char *key, const char *value)
{
	char err[512];
	int64_t off =
	    kafkatest_produce(embedded_bootstraps(e), topic, -1, key, value, err, sizeof(err));

	cr_assert_geq(off, 0, "produce to %s: %s", topic, err);
	return off;
}

/* Consumes batches until want messages arrived or timeout_ms passed; returns the count. */
static size_t
consume(kafka *k, rd_kafka_message_t **msgs, size_t want, int timeout_ms)
{
	int64_t deadline = testlib_now_ms() + timeout_ms;
	size_t n = 0;

	while (n < want && testlib_now_ms() < deadline)
		n += kafka_consume_batch(k, msgs + n, want - n, 100);
	return n;
}

static void
destroy_msgs(rd_kafka_message_t **msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rd_kafka_message_destroy(msgs[i]);
}

/* Polls until k holds at least min partitions; fails the test after timeout_ms. Messages
 * that arrive meanwhile are dropped. */
static void
wait_assigned(kafka *k, int min, int timeout_ms)
{
	int64_t deadline = testlib_now_ms() + timeout_ms;
	rd_kafka_message_t *msgs[16];

	while (kafka_assignment(k)->cnt < min) {
		cr_assert_lt(testlib_now_ms(), deadline, "no assignment of %d partitions in %d ms",
		             min, timeout_ms);
		destroy_msgs(msgs, kafka_consume_batch(k, msgs, 16, 100));
	}
}

static int
holds(const rd_kafka_topic_partition_list_t *l, const char *topic, int32_t partition)
{
	return rd_kafka_topic_partition_list_find(l, topic, partition) != NULL;
}

Test(kafka, produce_consume_round_trip_with_delivery_reports)
{
	static const struct {
		const char *key, *value;
	} cases[] = {
	    {"91150102MA0N123408", "{\"n\":1}"},
	    {NULL, "{\"n\":2}"},
	    {"", "{\"n\":3}"},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct rec r = {0};
	embedded *e = start_cluster(1);
	kafka *k;
	rd_kafka_message_t *msgs[8];
	char err[512];
	int64_t high = -1;

	create_topic(e, "credit.in.nm-tax", 1);
	/* Through the configuration file's kafka.* keys, as credsyncd does. */
	config *cfg = config_parse("kafka.bootstrap.servers = embedded\n"
	                           "pg.conninfo =\n"
	                           "kafka.group.id = round-trip\n"
	                           "kafka.session.timeout.ms = 3000\n"
	                           "kafka.heartbeat.interval.ms = 500\n",
	                           "test.conf", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	struct kafka_hooks hooks = {rec_assign, rec_revoke, rec_delivered, &r};
	k = kafka_new(embedded_bootstraps(e), cfg, &hooks, err, sizeof(err));
	config_free(cfg);
	cr_assert_not_null(k, "kafka_new: %s", err);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(kafka_produce(k, "credit.in.nm-tax", cases[i].key, cases[i].value,
		                           strlen(cases[i].value), (void *)(uintptr_t)&cases[i],
		                           err, sizeof(err)),
		             0, "%s", err);
	int64_t deadline = testlib_now_ms() + 10000;
	while (r.delivered < (int)n && testlib_now_ms() < deadline)
		kafka_poll(k, 100);
	cr_assert_eq(r.delivered, (int)n, "delivery reports: %d of %zu", r.delivered, n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(r.opaques[i], (void *)(uintptr_t)&cases[i],
		             "report %zu has another opaque", i);
		cr_expect_eq(r.errs[i], RD_KAFKA_RESP_ERR_NO_ERROR, "report %zu: %s", i,
		             rd_kafka_err2str(r.errs[i]));
	}

	size_t got = consume(k, msgs, n, 20000);
	cr_assert_eq(got, n, "consumed %zu of %zu", got, n);
	for (size_t i = 0; i < n; i++) {
		size_t klen = cases[i].key != NULL ? strlen(cases[i].key) : 0;
		cr_expect_str_eq(rd_kafka_topic_name(msgs[i]->rkt), "credit.in.nm-tax");
		cr_expect_eq(msgs[i]->offset, (int64_t)i);
		cr_expect_eq(msgs[i]->key_len, klen, "message %zu key length", i);
		if (klen > 0)
			cr_expect(memcmp(msgs[i]->key, cases[i].key, klen) == 0);
		cr_expect_eq(msgs[i]->len, strlen(cases[i].value));
		cr_expect(memcmp(msgs[i]->payload, cases[i].value, msgs[i]->len) == 0);
	}
	destroy_msgs(msgs, got);
	cr_expect_eq(kafka_high_watermark(k, "credit.in.nm-tax", 0, &high), 0);
	cr_expect_eq(high, (int64_t)n);
	cr_expect_eq(kafka_high_watermark(k, "credit.in.nobody", 0, &high), -1);
	cr_expect_gt(r.assigns, 0);
	kafka_close(k, 5000);
	cr_expect_gt(r.revokes, 0, "close did not revoke");
	rec_free(&r);
	embedded_stop(e);
}

Test(kafka, regex_subscription_picks_up_new_topics)
{
	struct rec r = {0};
	embedded *e = start_cluster(1);
	kafka *k = start_member(e, "regex", &r);
	rd_kafka_message_t *msgs[16];
	regex_t re;
	int new_seen = 0, ack_seen = 0;

	/* The sites' credit.in.* and credit.ack.* topics exist from the start. */
	wait_assigned(k, 4, 20000);
	cr_assert(!holds(kafka_assignment(k), "credit.out.gsxt", 0));
	/* A new producer's topic, auto-created by its first message, with 4 partitions. */
	produce(e, "credit.in.newcomer", "91150102MA0N123408", "new");
	produce(e, "credit.out.gsxt", NULL, "not ours");
	produce(e, "credit.ack.gsxt", NULL, "ack");
	cr_assert_eq(regcomp(&re, "^credit\\.(in|ack)\\.", REG_EXTENDED | REG_NOSUB), 0);
	int64_t deadline = testlib_now_ms() + 30000;
	while ((!new_seen || !ack_seen) && testlib_now_ms() < deadline) {
		size_t n = kafka_consume_batch(k, msgs, 16, 100);
		for (size_t i = 0; i < n; i++) {
			const char *topic = rd_kafka_topic_name(msgs[i]->rkt);
			cr_expect_eq(regexec(&re, topic, 0, NULL, 0), 0, "got %s", topic);
			new_seen |= strcmp(topic, "credit.in.newcomer") == 0;
			ack_seen |= strcmp(topic, "credit.ack.gsxt") == 0;
		}
		destroy_msgs(msgs, n);
	}
	regfree(&re);
	cr_expect(new_seen, "no message from the topic created after the start");
	cr_expect(ack_seen, "no message from credit.ack.gsxt");
	for (int p = 0; p < 4; p++)
		cr_expect(holds(kafka_assignment(k), "credit.in.newcomer", p), "partition %d", p);
	kafka_close(k, 5000);
	rec_free(&r);
	embedded_stop(e);
}

Test(kafka, assign_hook_offsets_are_honoured)
{
	/* Each topic holds offsets 0..5 before the member joins; the hook gives the start. */
	static const struct {
		const char *topic;
		int64_t start; /* what the hook gives */
		int64_t first; /* the first offset that must arrive */
	} cases[] = {
	    {"credit.in.from-zero", 0, 0},
	    {"credit.in.from-three", 3, 3},
	    {"credit.in.from-end", 5, 5},
	    {"credit.in.from-beginning", RD_KAFKA_OFFSET_BEGINNING, 0},
	    {"credit.in.from-stored", RD_KAFKA_OFFSET_STORED, 0}, /* read as BEGINNING */
	};
	const size_t nc = sizeof(cases) / sizeof(cases[0]);
	struct rec r = {0};
	embedded *e = start_cluster(1);
	rd_kafka_message_t *msgs[64];
	int64_t next[8];
	size_t done = 0;
	kafka *k;

	for (size_t c = 0; c < nc; c++) {
		create_topic(e, cases[c].topic, 1);
		for (int i = 0; i < 5; i++)
			produce(e, cases[c].topic, NULL, "old");
		r.offsets[c].topic = cases[c].topic;
		r.offsets[c].offset = cases[c].start;
		next[c] = cases[c].first;
	}
	/* A marker at offset 5 in each: once it arrived, everything before it did too. */
	for (size_t c = 0; c < nc; c++)
		cr_assert_eq(produce(e, cases[c].topic, NULL, "marker"), 5);
	k = start_member(e, "offsets", &r);
	int64_t deadline = testlib_now_ms() + 20000;
	while (done < nc && testlib_now_ms() < deadline) {
		size_t n = kafka_consume_batch(k, msgs, 64, 100);
		for (size_t i = 0; i < n; i++) {
			const char *topic = rd_kafka_topic_name(msgs[i]->rkt);
			for (size_t c = 0; c < nc; c++) {
				if (strcmp(topic, cases[c].topic) != 0)
					continue;
				cr_expect_eq(msgs[i]->offset, next[c],
				             "%s: offset %lld, expected %lld", topic,
				             (long long)msgs[i]->offset, (long long)next[c]);
				next[c] = msgs[i]->offset + 1;
				if (msgs[i]->offset == 5)
					done++;
			}
		}
		destroy_msgs(msgs, n);
	}
	cr_expect_eq(done, nc, "markers seen: %zu of %zu", done, nc);
	kafka_close(k, 5000);
	rec_free(&r);
	embedded_stop(e);
}

Test(kafka, failing_assign_hook_is_retried)
{
	struct rec r = {.fail_first = 3};
	embedded *e = start_cluster(1);
	rd_kafka_message_t *msgs[4];
	kafka *k;

	create_topic(e, "credit.in.nm-tax", 1);
	produce(e, "credit.in.nm-tax", NULL, "waiting");
	k = start_member(e, "retry", &r);
	size_t got = consume(k, msgs, 1, 20000);
	cr_assert_eq(got, 1, "nothing consumed after the hook recovered");
	cr_expect_eq(msgs[0]->offset, 0);
	destroy_msgs(msgs, got);
	cr_expect_eq(r.failures, 3);
	cr_expect_eq(r.assigns, 1);
	cr_expect_eq(r.last_assign->cnt, 5);
	cr_expect_eq(kafka_assignment(k)->cnt, 5);
	kafka_close(k, 5000);
	rec_free(&r);
	embedded_stop(e);
}

/* The partitions in a and b are disjoint and together are every one of want. */
static int
split_complete(const rd_kafka_topic_partition_list_t *a, const rd_kafka_topic_partition_list_t *b,
               const char *const *want, int nwant)
{
	if (a->cnt == 0 || b->cnt == 0 || a->cnt + b->cnt != nwant)
		return 0;
	for (int i = 0; i < nwant; i++)
		if (holds(a, want[i], 0) == holds(b, want[i], 0))
			return 0;
	return 1;
}

static int
all_of(const rd_kafka_topic_partition_list_t *l, const char *const *want, int nwant)
{
	if (l == NULL || l->cnt != nwant)
		return 0;
	for (int i = 0; i < nwant; i++)
		if (!holds(l, want[i], 0))
			return 0;
	return 1;
}

Test(kafka, two_members_split_topics_and_one_takes_over)
{
	/* Single-partition topics: range would give every one to the same member. */
	static const char *const topics[] = {
	    "credit.in.creditchina", "credit.in.gsxt", "credit.ack.creditchina", "credit.ack.gsxt",
	    "credit.in.t1",          "credit.in.t2",   "credit.in.t3",           "credit.in.t4",
	};
	const int nt = sizeof(topics) / sizeof(topics[0]);
	struct rec ra = {0}, rb = {0};
	embedded *e = start_cluster(1);
	rd_kafka_message_t *msgs[16];
	kafka *a, *b;

	for (int i = 4; i < nt; i++)
		create_topic(e, topics[i], 1);
	a = start_member(e, "pair", &ra);
	b = start_member(e, "pair", &rb);
	int64_t deadline = testlib_now_ms() + 30000;
	while (!split_complete(kafka_assignment(a), kafka_assignment(b), topics, nt)) {
		cr_assert_lt(testlib_now_ms(), deadline, "no split: a holds %d, b holds %d",
		             kafka_assignment(a)->cnt, kafka_assignment(b)->cnt);
		destroy_msgs(msgs, kafka_consume_batch(a, msgs, 16, 50));
		destroy_msgs(msgs, kafka_consume_batch(b, msgs, 16, 50));
	}
	cr_expect_eq(kafka_assignment(a)->cnt, nt / 2, "roundrobin gives each half");
	cr_expect_eq(kafka_assignment(b)->cnt, nt / 2, "roundrobin gives each half");
	/* The hook was told exactly the partitions each now holds. */
	cr_expect_eq(ra.last_assign->cnt, kafka_assignment(a)->cnt);
	cr_expect_eq(rb.last_assign->cnt, kafka_assignment(b)->cnt);
	for (int i = 0; i < ra.last_assign->cnt; i++)
		cr_expect(holds(kafka_assignment(a), ra.last_assign->elems[i].topic, 0));

	/* Advisory commits must not disturb the assignment (librdkafka #4059). */
	kafka_commit_async(a, kafka_assignment(a));
	kafka_commit_async(b, kafka_assignment(b));
	int assigns_before = ra.assigns;
	int b_held = kafka_assignment(b)->cnt;
	kafka_close(b, 5000);
	cr_expect_eq(rb.last_revoke->cnt, b_held, "b's revoke hook got %d partitions",
	             rb.last_revoke->cnt);

	deadline = testlib_now_ms() + 20000;
	while (!all_of(kafka_assignment(a), topics, nt)) {
		cr_assert_lt(testlib_now_ms(), deadline, "a holds %d of %d after b left",
		             kafka_assignment(a)->cnt, nt);
		destroy_msgs(msgs, kafka_consume_batch(a, msgs, 16, 100));
	}
	cr_expect_gt(ra.assigns, assigns_before);
	cr_expect(all_of(ra.last_assign, topics, nt), "a's last hook call was not everything");
	kafka_close(a, 5000);
	rec_free(&ra);
	rec_free(&rb);
	embedded_stop(e);
}

Test(kafka, advisory_commit_is_visible_in_kafka)
{
	struct rec r = {0};
	embedded *e = start_cluster(1);
	rd_kafka_message_t *msgs[4];
	char err[512];
	int64_t committed = RD_KAFKA_OFFSET_INVALID;
	kafka *k;

	create_topic(e, "credit.in.nm-tax", 1);
	for (int i = 0; i < 3; i++)
		produce(e, "credit.in.nm-tax", NULL, "x");
	k = start_member(e, "advisory", &r);
	size_t got = consume(k, msgs, 3, 20000);
	cr_assert_eq(got, 3);
	destroy_msgs(msgs, got);

	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, "credit.in.nm-tax", 0)->offset = 3;
	kafka_commit_async(k, l);
	rd_kafka_topic_partition_list_destroy(l);
	int64_t deadline = testlib_now_ms() + 10000;
	while (committed != 3 && testlib_now_ms() < deadline) {
		destroy_msgs(msgs, kafka_consume_batch(k, msgs, 4, 100));
		cr_assert_eq(kafkatest_committed(embedded_bootstraps(e), "advisory",
		                                 "credit.in.nm-tax", 0, &committed, err,
		                                 sizeof(err)),
		             0, "%s", err);
	}
	cr_expect_eq(committed, 3, "committed offset %lld", (long long)committed);
	cr_expect_eq(kafka_assignment(k)->cnt, 5, "the commit disturbed the assignment");
	kafka_close(k, 5000);
	rec_free(&r);
	embedded_stop(e);
}

Test(kafka, rewind_reads_again_from_the_given_offsets)
{
	struct rec r = {0};
	embedded *e = start_cluster(1);
	rd_kafka_message_t *msgs[8];
	char err[512];
	kafka *k;

	create_topic(e, "credit.in.nm-tax", 1);
	for (int i = 0; i < 5; i++)
		produce(e, "credit.in.nm-tax", NULL, "x");
	k = start_member(e, "rewind", &r);
	size_t got = consume(k, msgs, 5, 20000);
	cr_assert_eq(got, 5);
	destroy_msgs(msgs, got);

	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
	rd_kafka_topic_partition_list_add(l, "credit.in.nm-tax", 0)->offset = 2;
	rd_kafka_topic_partition_list_add(l, "credit.in.not-assigned", 0)->offset = 7;
	cr_assert_eq(kafka_rewind(k, l, err, sizeof(err)), 0, "%s", err);
	rd_kafka_topic_partition_list_destroy(l);
	got = consume(k, msgs, 3, 10000);
	cr_assert_eq(got, 3, "read %zu again", got);
	for (size_t i = 0; i < got; i++)
		cr_expect_eq(msgs[i]->offset, (int64_t)(2 + i));
	destroy_msgs(msgs, got);
	kafka_close(k, 5000);
	rec_free(&r);
	embedded_stop(e);
}

Test(kafka, close_reports_what_it_could_not_deliver)
{
	struct rec r = {0};
	embedded *e = start_cluster(1);
	kafka *k = start_member(e, "undelivered", &r);
	char err[512];
	int tags[2];

	embedded_stop(e); /* nowhere to deliver to */
	for (int i = 0; i < 2; i++)
		cr_assert_eq(kafka_produce(k, "credit.out.gsxt", "91150102MA0N123408", "x", 1,
		                           &tags[i], err, sizeof(err)),
		             0, "%s", err);
	int64_t start = testlib_now_ms();
	kafka_close(k, 300);
	cr_expect_lt(testlib_now_ms() - start, 5000, "close took %lld ms",
	             (long long)(testlib_now_ms() - start));
	cr_assert_eq(r.delivered, 2, "reports: %d", r.delivered);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(r.opaques[i], &tags[i]);
		cr_expect(r.errs[i] == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
		              r.errs[i] == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT,
		          "report %d: %s", i, rd_kafka_err2name(r.errs[i]));
	}
	rec_free(&r);
}

Test(kafka, refuses_bad_configurations)
{
	static const struct {
		int bootstrap; /* 0: none given */
		const char *group;
		const char *props[5];
		const char *error; /* a part of the reason; NULL: accepted */
	} cases[] = {
	    {1, "g", {"partition.assignment.strategy", "cooperative-sticky", NULL}, "roundrobin"},
	    {1, "g", {"no.such.property", "1", NULL}, "\"no.such.property\""},
	    {1, "g", {"session.timeout.ms", "nonsense", NULL}, "\"session.timeout.ms\""},
	    {1, "g", {"session.timeout.ms", NULL}, "has no value"},
	    {0, "g", {NULL}, "bootstrap"},
	    {1, NULL, {NULL}, "group"},
	    {1, NULL, {"group.id", "from-props", NULL}, NULL},
	    {1, "g", {"acks", "1", "enable.idempotence", "false", NULL}, NULL}, /* credsync's win */
	};
	embedded *e = start_cluster(1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		kafka *k = kafka_new_props(cases[i].bootstrap ? embedded_bootstraps(e) : NULL,
		                           cases[i].group, cases[i].props, NULL, err, sizeof(err));
		if (cases[i].error == NULL) {
			cr_expect_not_null(k, "case %zu: %s", i, err);
		} else {
			cr_expect_null(k, "case %zu accepted", i);
			cr_expect_not_null(strstr(err, cases[i].error), "case %zu: \"%s\"", i, err);
		}
		kafka_close(k, 0);
	}
	embedded_stop(e);
}

/* The consumer's value of key ("" when librdkafka has none). */
static const char *
consumer_conf(kafka *k, const char *key, char *buf, size_t size)
{
	return kafka_conf_get(rd_kafka_conf(k->consumer), key, buf, size);
}

/* The consumer defaults of README's "librdkafka consumer defaults": the prefetch bounded by
 * bytes and by messages (each queued message costs librdkafka an op of its own, so a queue
 * of small acknowledgements outgrew the bytes' bound), the fetch wait short, and a kafka.*
 * key given wins. */
Test(kafka, consumer_defaults_bound_the_queue_and_give_way)
{
	static const struct {
		const char *key, *want;
	} defaults[] = {
	    {"queued.max.messages.kbytes", "10240"},
	    {"queued.min.messages", "30000"},
	    {"fetch.max.bytes", "2097152"},
	    {"fetch.wait.max.ms", "50"},
	};
	static const char *const none[] = {NULL};
	static const char *const mine[] = {"queued.min.messages", "5000", NULL};
	embedded *e = start_cluster(1);
	char err[512] = "", v[64];

	kafka *k = kafka_new_props(embedded_bootstraps(e), "g", none, NULL, err, sizeof(err));
	cr_assert_not_null(k, "kafka_new_props: %s", err);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		cr_expect_str_eq(consumer_conf(k, defaults[i].key, v, sizeof(v)), defaults[i].want,
		                 "%s", defaults[i].key);
	kafka_close(k, 0);

	k = kafka_new_props(embedded_bootstraps(e), "g", mine, NULL, err, sizeof(err));
	cr_assert_not_null(k, "kafka_new_props: %s", err);
	cr_expect_str_eq(consumer_conf(k, "queued.min.messages", v, sizeof(v)), "5000");
	cr_expect_str_eq(consumer_conf(k, "queued.max.messages.kbytes", v, sizeof(v)), "10240");
	kafka_close(k, 0);
	embedded_stop(e);
}

Test(embedded, creates_site_topics_and_auto_creates_others)
{
	static const struct {
		const char *topic;
		int partitions;
	} cases[] = {
	    {"credit.in.creditchina", 2},  {"credit.in.gsxt", 2},
	    {"credit.ack.creditchina", 2}, {"credit.ack.gsxt", 2},
	    {"credit.out.creditchina", 2}, {"credit.out.gsxt", 2},
	    {"credit.reject.gsxt", 2},     {"credit.in.created", 5},
	    {"credit.in.auto", 4}, /* the mock's fixed default */
	};
	char err[512], path[64], line[256];
	embedded *e = start_cluster(2);

	create_topic(e, "credit.in.created", 5);
	create_topic(e, "credit.in.created", 1); /* exists: kept as it is */
	produce(e, "credit.in.auto", NULL, "x");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(
		    kafkatest_partitions(embedded_bootstraps(e), cases[i].topic, err, sizeof(err)),
		    cases[i].partitions, "%s: %s", cases[i].topic, err);

	snprintf(path, sizeof(path), "/tmp/credsync-embedded-%ld", (long)getpid());
	cr_assert_eq(embedded_write_bootstrap_file(e, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(kafkatest_wait_line(path, 1000, line, sizeof(line)), 0);
	cr_expect_str_eq(line, embedded_bootstraps(e));
	unlink(path);
	cr_expect_eq(embedded_write_bootstrap_file(e, "/nonexistent/dir/file", err, sizeof(err)),
	             -1);
	cr_expect_not_null(strstr(err, "/nonexistent/dir/file"), "%s", err);
	embedded_stop(e);
	embedded_stop(NULL);
}

/* Waits up to timeout_ms for pid to exit; its wait status, or -1. */
static int
wait_exit(pid_t pid, int timeout_ms)
{
	int64_t deadline = testlib_now_ms() + timeout_ms;
	int status;

	do {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			return status;
		cr_assert_eq(got, 0, "waitpid: %s", strerror(errno));
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	} while (testlib_now_ms() < deadline);
	return -1;
}

Test(devbroker, serves_kafka_until_sigterm)
{
	const char *bin = getenv("CREDSYNC_BIN");
	char exe[4096], file[128], out[128], bootstrap[256], line[300], err[512];
	struct kafkatest_msg got[2];
	pid_t pid;

	cr_assert_not_null(bin, "CREDSYNC_BIN is not set (ctest sets it)");
	snprintf(exe, sizeof(exe), "%s/credsync-devbroker", bin);
	snprintf(file, sizeof(file), "/tmp/credsync-devbroker-%ld.bootstrap", (long)getpid());
	snprintf(out, sizeof(out), "/tmp/credsync-devbroker-%ld.out", (long)getpid());
	unlink(file);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		FILE *fp = freopen(out, "w", stdout);
		if (fp == NULL)
			_exit(126);
		execl(exe, exe, "--partitions", "2", "--bootstrap-file", file, "--topics",
		      "credit.in.nm-tax,credit.reject.nm-tax", (char *)NULL);
		_exit(127);
	}
	if (kafkatest_wait_line(file, 10000, bootstrap, sizeof(bootstrap)) < 0) {
		kill(pid, SIGKILL);
		wait_exit(pid, 5000);
		cr_assert_fail("no bootstrap file from %s within 10 s", exe);
	}
	/* --topics are made in one request, so they get the mock's default of 4 partitions;
	 * --partitions sizes the sites' topics */
	cr_expect_eq(kafkatest_partitions(bootstrap, "credit.in.nm-tax", err, sizeof(err)), 4, "%s",
	             err);
	cr_expect_eq(kafkatest_partitions(bootstrap, "credit.reject.nm-tax", err, sizeof(err)), 4,
	             "%s", err);
	cr_expect_eq(kafkatest_partitions(bootstrap, "credit.out.gsxt", err, sizeof(err)), 2, "%s",
	             err);
	cr_expect_geq(kafkatest_produce(bootstrap, "credit.in.nm-tax", 1, "91150102MA0N123408",
	                                "hello", err, sizeof(err)),
	              0, "%s", err);
	size_t n =
	    kafkatest_consume(bootstrap, "credit.in.nm-tax", 1, 10000, got, err, sizeof(err));
	cr_expect_eq(n, 1, "consumed %zu: %s", n, err);
	if (n == 1) {
		cr_expect_str_eq(got[0].value, "hello");
		cr_expect_str_eq(got[0].key, "91150102MA0N123408");
		cr_expect_eq(got[0].partition, 1);
		kafkatest_msgs_free(got, n);
	}
	cr_assert_eq(kill(pid, SIGTERM), 0);
	int status = wait_exit(pid, 10000);
	if (status == -1)
		kill(pid, SIGKILL);
	cr_expect(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "devbroker did not exit 0 on SIGTERM (status %d)", status);
	cr_expect_eq(access(file, F_OK), -1, "the bootstrap file outlived the broker");
	cr_expect_eq(kafkatest_wait_line(out, 1000, line, sizeof(line)), 0);
	char want[300];
	snprintf(want, sizeof(want), "bootstrap=%s", bootstrap);
	cr_expect_str_eq(line, want);
	unlink(out);
	unlink(file);
}

/* kafka_prepare_topics: the sites' topics are read at once and then take messages; the
 * number of handles kept is bounded. */
Test(kafka, prepare_topics_reads_metadata_and_is_bounded)
{
	static const char *const sites[] = {"credit.out.gsxt", "credit.out.creditchina"};
	static char names[KAFKA_PREPARE_MAX][16];
	const char *many[KAFKA_PREPARE_MAX];
	struct rec r = {0};
	embedded *e = start_cluster(2);
	kafka *k = start_member(e, "prepare", &r);
	char err[512] = "";

	cr_assert_eq(kafka_prepare_topics(k, sites, 2, 5000, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(kafka_produce(k, sites[0], "key", "v", 1, NULL, err, sizeof(err)), 0, "%s",
	             err);
	int64_t deadline = testlib_now_ms() + 10000;
	while (r.delivered < 1 && testlib_now_ms() < deadline)
		kafka_push(k, 100);
	cr_assert_eq(r.delivered, 1);
	cr_expect_eq(r.errs[0], RD_KAFKA_RESP_ERR_NO_ERROR, "%s", rd_kafka_err2str(r.errs[0]));
	/* two kept already: the last of these is one too many */
	for (int i = 0; i < KAFKA_PREPARE_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "t.%d", i);
		many[i] = names[i];
	}
	cr_expect_eq(kafka_prepare_topics(k, many, KAFKA_PREPARE_MAX - 1, 5000, err, sizeof(err)),
	             -1);
	cr_expect_not_null(strstr(err, "more than 512 in all"), "%s", err);
	kafka_close(k, 5000);
	rec_free(&r);
	embedded_stop(e);
}
