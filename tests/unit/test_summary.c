/* test_summary: the daily summary's message. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct store_day_obl
obl(const char *id, const char *site, const char *type, const char *reason)
{
	struct store_day_obl o = {.due = DATE_NONE};
	snprintf(o.id, sizeof(o.id), "%s", id);
	snprintf(o.site, sizeof(o.site), "%s", site);
	snprintf(o.type, sizeof(o.type), "%s", type);
	snprintf(o.reason, sizeof(o.reason), "%s", reason);
	return o;
}

static void
expect_ids(json_t *msg, const char *part, const char *const *want, size_t n)
{
	json_t *p = json_object_get(msg, part), *ids = json_object_get(p, "ids");
	cr_expect_eq(json_integer_value(json_object_get(p, "count")), (json_int_t)n, "%s", part);
	cr_assert_eq(json_array_size(ids), n, "%s", part);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(json_string_value(json_array_get(ids, i)), want[i], "%s %zu", part,
		                 i);
}

Test(summary, daily_summary_lists_the_sites_repairs_and_expiries)
{
	const char *a = "00000000-0000-4000-8000-000000000001",
	           *b = "00000000-0000-4000-8000-000000000002",
	           *c = "00000000-0000-4000-8000-000000000003",
	           *d = "00000000-0000-4000-8000-000000000004",
	           *e = "00000000-0000-4000-8000-000000000005",
	           *f = "00000000-0000-4000-8000-000000000006",
	           *g = "00000000-0000-4000-8000-000000000007";
	struct store_day_obl o[] = {
	    obl(a, "creditchina", "takedown", "repaired"),
	    obl(b, "gsxt", "mutual_recognition", ""),
	    obl(c, "creditchina", "mutual_recognition", ""),
	    obl(d, "creditchina", "takedown", "light_expired"),
	    obl(e, "creditchina", "takedown", "expired"),
	    obl(f, "creditchina", "disclose", ""),               /* neither */
	    obl(g, "creditchina", "takedown", "not_repairable"), /* neither */
	};
	cs_date day;
	cr_assert_eq(date_parse("2026-12-01", &day), 0);
	char id[UUID_STRLEN], id2[UUID_STRLEN], id3[UUID_STRLEN];
	char *s = summary_encode("creditchina", day, o, N_ELEMS(o), id);
	cr_assert(s != NULL);
	json_error_t jerr;
	json_t *msg = json_loads(s, 0, &jerr);
	cr_assert(msg != NULL, "%s", jerr.text);
	cr_expect_str_eq(json_string_value(json_object_get(msg, "schema")),
	                 "credsync.daily_summary/1");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "type")), "daily_summary");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "site")), "creditchina");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "date")), "2026-12-01");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "id")), id);
	const char *repairs[] = {a, c}, *expiries[] = {d, e};
	expect_ids(msg, "repairs", repairs, 2);
	expect_ids(msg, "expiries", expiries, 2);
	/* the fixture schema/agreement checks against daily_summary.schema.json is this one */
	char path[1024];
	const char *fixtures = getenv("CREDSYNC_FIXTURES");
	cr_assert(fixtures != NULL, "CREDSYNC_FIXTURES is not set");
	snprintf(path, sizeof(path), "%s/encoded/daily_summary-creditchina.json", fixtures);
	json_t *fixture = json_load_file(path, 0, &jerr);
	cr_assert(fixture != NULL, "%s: %s", path, jerr.text);
	cr_expect(json_equal(msg, fixture), "the encoder and %s differ", path);
	json_decref(fixture);
	json_decref(msg);
	free(s);

	/* the id is that of the site and the day, whatever the content */
	free(summary_encode("creditchina", day, o, 1, id2));
	cr_expect_str_eq(id, id2);
	free(summary_encode("gsxt", day, o, N_ELEMS(o), id3));
	cr_expect_str_neq(id, id3);
	free(summary_encode("creditchina", day + 1, o, N_ELEMS(o), id3));
	cr_expect_str_neq(id, id3);
}
