/* test_store_acks: store_batch.c's acknowledgements: of several acks of one obligation in one
 * batch, the first one's done_at is kept, whatever sort qsort is. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "storetest.h"
#include "testlib.h"

/* A qsort as the C standard allows it, replacing the C library's in this program: sorted,
 * but equal elements in reverse order. glibc's falls back to an unstable sort when it cannot
 * allocate (heapsort since 2.39), musl's smoothsort is never stable: the order of acks of one
 * id after the sort must not depend on it. Insertion sort: the batches here are small. */
void
qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *a = base;
	unsigned char *tmp = malloc(size ? size : 1);
	if (tmp == NULL)
		abort();
	for (size_t i = 1; i < n; i++) {
		memcpy(tmp, a + i * size, size);
		size_t k = i;
		/* ">=": an element moves before the equal ones already placed */
		while (k > 0 && cmp(a + (k - 1) * size, tmp) >= 0) {
			memcpy(a + k * size, a + (k - 1) * size, size);
			k--;
		}
		memcpy(a + k * size, tmp, size);
	}
	free(tmp);
}

/* ack_done_at of obligation id in Unix seconds, -1 when not acknowledged. */
static long long
done_at(const char *id)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT coalesce(extract(epoch FROM ack_done_at)::bigint, -1) FROM "
	         "credsync.obligations WHERE id = '%s'",
	         id);
	return pgtest_int(storetest_pg, sql);
}

Test(store_acks, first_ack_of_an_obligation_in_a_batch_is_kept, FRESH)
{
	struct obligation ob[2] = {storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2099, 1, 1)),
	                           storetest_obligation(OB2, SITE_GSXT, testlib_ymd(2099, 1, 1))};
	struct store_batch b = {.obl = ob, .n_obl = 2};
	storetest_commit(storetest_st, &b);

	/* In the order consumed: each obligation's first ack is the one that counts; another
	 * site's ack of OB2 first changes nothing. */
	const struct ack acks[] = {
	    {OB1, SITE_GSXT, 1726300001},        {OB2, SITE_CREDITCHINA, 1726300100},
	    {OB2, SITE_GSXT, 1726300002},        {OB1, SITE_GSXT, 1726300003},
	    {OB1, SITE_GSXT, 1726300004},        {OB2, SITE_GSXT, 1726300005},
	    {OB1, SITE_CREDITCHINA, 1726300200}, {OB1, SITE_GSXT, 1726300006},
	};
	b = (struct store_batch){.acks = acks, .n_acks = sizeof(acks) / sizeof(acks[0])};
	storetest_commit(storetest_st, &b);
	cr_expect_eq(done_at(OB1), 1726300001);
	cr_expect_eq(done_at(OB2), 1726300002);

	/* ... and a later batch changes neither */
	const struct ack later[] = {{OB2, SITE_GSXT, 1726300300}, {OB1, SITE_GSXT, 1726300301}};
	b = (struct store_batch){.acks = later, .n_acks = 2};
	storetest_commit(storetest_st, &b);
	cr_expect_eq(done_at(OB1), 1726300001);
	cr_expect_eq(done_at(OB2), 1726300002);
}

/* Each acknowledgement is kept once (016_acks_log.sql): the one that met its obligation in acks
 * with the message it came in, the others (a repeat, another site's, an id that is no UUID) as
 * inbound rows of outcome 'ack'. */
Test(store_acks, an_ack_is_kept_in_acks_or_in_inbound, FRESH)
{
	struct obligation ob = storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2099, 1, 1));
	struct store_batch b = {.obl = &ob, .n_obl = 1};
	storetest_commit(storetest_st, &b);

	const struct ack acks[] = {{OB1, SITE_CREDITCHINA, 1726300100},
	                           {OB1, SITE_GSXT, 1726300001},
	                           {OB1, SITE_GSXT, 1726300002},
	                           {"not-a-uuid", SITE_GSXT, 1726300003}};
	struct store_inbound in[4];
	for (int i = 0; i < 4; i++) {
		in[i] = storetest_inbound(100 + i, NULL, "ack");
		in[i].topic = i == 0 ? "credit.ack.creditchina" : "credit.ack.gsxt";
	}
	in[1].payload = "{\"the\":\"one that counts\"}";
	in[1].payload_len = strlen(in[1].payload);
	b = (struct store_batch){.acks = acks, .n_acks = 4, .ack_in = in};
	storetest_commit(storetest_st, &b);

	cr_expect_eq(done_at(OB1), 1726300001);
	char *s =
	    pgtest_text(storetest_pg,
	                "SELECT concat_ws('|', topic, partition, \"offset\", "
	                "convert_from(payload, 'UTF8'), kafka_ts IS NOT NULL) FROM credsync.acks");
	cr_expect_str_eq(s, "credit.ack.gsxt|0|101|{\"the\":\"one that counts\"}|t");
	free(s);
	s = pgtest_text(
	    storetest_pg,
	    "SELECT string_agg(concat_ws(':', topic, \"offset\", producer, outcome), ',' "
	    "ORDER BY \"offset\") FROM credsync.inbound");
	cr_expect_str_eq(s,
	                 "credit.ack.creditchina:100:creditchina:ack,credit.ack.gsxt:102:gsxt:ack,"
	                 "credit.ack.gsxt:103:gsxt:ack");
	free(s);
}

/* An instance of the previous release, still running during an upgrade, calls acknowledge
 * with its messages as text (016_acks_log.sql): 021_ack_positions.sql passes them on as bytes,
 * and they are kept as that release kept them. */
Test(store_acks, the_previous_releases_call_keeps_the_same_rows, FRESH)
{
	struct obligation ob = storetest_obligation(OB1, SITE_GSXT, testlib_ymd(2099, 1, 1));
	struct store_batch b = {.obl = &ob, .n_obl = 1};
	storetest_commit(storetest_st, &b);

	cr_expect_eq(
	    pgtest_int(storetest_pg,
	               "SELECT credsync.acknowledge(ARRAY['" OB1 "', '" OB1 "', NULL]::uuid[], "
	               "ARRAY['gsxt', 'gsxt', 'gsxt'], ARRAY[1726300001, 1726300002, "
	               "1726300003]::bigint[], ARRAY['credit.ack.gsxt', 'credit.ack.gsxt', "
	               "'credit.ack.gsxt'], ARRAY[0, 0, 1], ARRAY[7, 8, 9]::bigint[], "
	               "ARRAY[1726300001000, NULL, 1726300003000]::bigint[], "
	               "ARRAY['{\"信\":1}', '{\"b\":2}', '{\"c\":3}']::text[])"),
	    1);
	cr_expect_eq(done_at(OB1), 1726300001);
	char *s = pgtest_text(storetest_pg,
	                      "SELECT concat_ws('|', \"offset\", convert_from(payload, 'UTF8'), "
	                      "extract(epoch FROM kafka_ts)) FROM credsync.acks");
	cr_expect_str_eq(s, "7|{\"信\":1}|1726300001.000000");
	free(s);
	s = pgtest_text(storetest_pg,
	                "SELECT string_agg(concat_ws(':', partition, \"offset\", outcome, "
	                "convert_from(payload, 'UTF8'), kafka_ts IS NULL), ',' "
	                "ORDER BY \"offset\") FROM credsync.inbound");
	cr_expect_str_eq(s, "0:8:ack:{\"b\":2}:t,1:9:ack:{\"c\":3}:f");
	free(s);
}
