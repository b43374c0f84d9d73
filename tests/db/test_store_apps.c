/* test_store_apps: credsync.apps_put (022_apps_batch.sql), a batch's repair-application steps
 * in one call, gives the rows that the same steps one call each give: the statements of the
 * previous release, one a step, in the order consumed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "storetest.h"

struct step {
	const char *kind, *app, *uscc, *dec;
	long long at;               /* 0: NULL */
	int accept_due, decide_due; /* days since 1970; 0: NULL */
};

/* The arguments of apps_put for steps [from, to). */
static void
args(char *o, size_t osz, const struct step *s, size_t from, size_t to)
{
	static const char *const cast[] = {"text", "text",   "text",    "text",
	                                   "text", "bigint", "integer", "integer"};
	size_t len = 0;

	for (int col = 0; col < 8; col++) {
		len += (size_t)snprintf(o + len, osz - len, "%sARRAY[", col ? ", " : "");
		for (size_t i = from; i < to; i++) {
			char v[64];
			const char *txt[] = {s[i].kind, "gsxt", s[i].app, s[i].uscc, s[i].dec};
			if (col < 5)
				snprintf(v, sizeof(v), txt[col] ? "'%s'" : "NULL", txt[col]);
			else {
				long long n = col == 5   ? s[i].at
				              : col == 6 ? s[i].accept_due
				                         : s[i].decide_due;
				snprintf(v, sizeof(v), n ? "%lld" : "NULL", n);
			}
			len +=
			    (size_t)snprintf(o + len, osz - len, "%s%s", i > from ? ", " : "", v);
		}
		len += (size_t)snprintf(o + len, osz - len, "]::%s[]", cast[col]);
	}
	cr_assert_lt(len, osz);
}

/* The table as it stands, updated_at aside (NULL: empty). */
static char *
rows(void)
{
	return pgtest_text(
	    storetest_pg,
	    "SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', channel, "
	    "application_no, uscc, decision_no, extract(epoch FROM applied_at), "
	    "extract(epoch FROM accepted_at), extract(epoch FROM decided_at), accept_due, "
	    "decide_due, outcome), E'\\n' ORDER BY channel, application_no), '') "
	    "FROM credsync.repair_applications");
}

/* The rows after the steps in one call and one call each, both from the rows stored. */
static void
check(const char *name, const char *stored, const struct step *s, size_t n, char **ret)
{
	char sql[8192], a[8000];
	char *once, *each;

	pgtest_exec(storetest_pg, "TRUNCATE credsync.repair_applications");
	pgtest_exec(storetest_pg, stored);
	args(a, sizeof(a), s, 0, n);
	snprintf(sql, sizeof(sql), "SELECT credsync.apps_put(%s)", a);
	pgtest_exec(storetest_pg, sql);
	once = rows();

	pgtest_exec(storetest_pg, "TRUNCATE credsync.repair_applications");
	pgtest_exec(storetest_pg, stored);
	for (size_t i = 0; i < n; i++) {
		args(a, sizeof(a), s, i, i + 1);
		snprintf(sql, sizeof(sql), "SELECT credsync.apps_put(%s)", a);
		pgtest_exec(storetest_pg, sql);
	}
	each = rows();
	cr_expect_str_eq(once, each, "%s: in one call:\n%s\none a step:\n%s", name, once, each);
	free(each);
	*ret = once;
}

#define STORED(app, uscc, dec)                                                                     \
	"INSERT INTO credsync.repair_applications (channel, application_no, uscc, decision_no,"    \
	" applied_at, accept_due) VALUES ('gsxt', '" app "', '" uscc "', '" dec "',"               \
	" to_timestamp(50), date '2026-01-05')"
#define NOTHING "SELECT 1"
#define N(a)    (sizeof(a) / sizeof((a)[0]))

Test(store_apps, steps_of_one_application_fold_as_one_by_one, FRESH)
{
	const struct step s[] = {
	    {"applied", "A", "U1", "D1", 100, 20000, 0},
	    {"accepted", "A", "U2", "D2", 200, 0, 20010},
	    {"declined", "A", "U1", "D1", 300, 0, 0},
	    {"applied", "A", "U1", "D1", 400, 20001, 0},
	    {"denied", "A", "U1", "D1", 0, 0, 0},
	    {"accepted", "B", "U3", "D3", 0, 0, 20020},
	    {"accepted", "B", "U3", "D3", 500, 0, 20021},
	};
	char *r;
	check("one application's steps", NOTHING, s, N(s), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|100.000000|200.000000|300.000000|2024-10-04|2024-10-14|"
	                    "declined\ngsxt|B|U3|D3||500.000000|||2024-10-24|");
	free(r);
}

Test(store_apps, a_repair_closes_only_what_was_open_before_it, FRESH)
{
	const struct step after[] = {{"repaired", NULL, "U1", "D1", 100, 0, 0},
	                             {"applied", "A", "U1", "D1", 200, 20000, 0}};
	const struct step before[] = {{"applied", "A", "U1", "D1", 100, 20000, 0},
	                              {"repaired", NULL, "U1", "D1", 200, 0, 0}};
	/* declined after the repair, naming another record: the application's record is the
	 * one its first step named */
	const struct step around[] = {{"applied", "A", "U1", "D1", 100, 20000, 0},
	                              {"repaired", NULL, "U1", "D1", 150, 0, 0},
	                              {"declined", "A", "U9", "D9", 200, 0, 0}};
	char *r;

	check("an application around the repair", NOTHING, around, N(around), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|100.000000||150.000000|2024-10-04||repaired");
	free(r);
	check("an application after the repair", NOTHING, after, N(after), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|200.000000|||2024-10-04||", "stays open");
	free(r);
	check("an application before the repair", NOTHING, before, N(before), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|100.000000||200.000000|2024-10-04||repaired");
	free(r);
}

Test(store_apps, a_repair_meets_a_stored_application_by_its_stored_record, FRESH)
{
	/* The step names another record than the stored application's: the repair still
	 * closes the stored application, before the decline or after it. */
	const struct step repair_first[] = {{"repaired", NULL, "U1", "D1", 100, 0, 0},
	                                    {"declined", "A", "U9", "D9", 200, 0, 0}};
	const struct step decline_first[] = {{"declined", "A", "U9", "D9", 100, 0, 0},
	                                     {"repaired", NULL, "U1", "D1", 200, 0, 0}};
	char *r;

	check("repair, then decline", STORED("A", "U1", "D1"), repair_first, N(repair_first), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|50.000000||100.000000|2026-01-05||repaired");
	free(r);
	check("decline, then repair", STORED("A", "U1", "D1"), decline_first, N(decline_first), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|50.000000||100.000000|2026-01-05||declined");
	free(r);
}

Test(store_apps, one_record_repaired_twice_and_unrelated_steps, FRESH)
{
	/* a repair without a time leaves the application open for the next one */
	const struct step twice[] = {{"repaired", NULL, "U1", "D1", 0, 0, 0},
	                             {"repaired", NULL, "U1", "D1", 300, 0, 0}};
	const struct step apart[] = {
	    {"applied", "C", "U4", "D4", 100, 20000, 0},  {"repaired", NULL, "U1", "D1", 150, 0, 0},
	    {"accepted", "B", "U3", "D3", 200, 0, 20010}, {"denied", "D", "U5", "D5", 250, 0, 0},
	    {"repaired", NULL, "U6", "D6", 260, 0, 0},
	};
	char *r;

	check("one record repaired twice", STORED("A", "U1", "D1"), twice, N(twice), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|50.000000||300.000000|2026-01-05||repaired");
	free(r);
	check("unrelated steps",
	      STORED("A", "U1", "D1") "; " STORED("B", "U3", "D3") "; " STORED("E", "U6", "D6"),
	      apart, N(apart), &r);
	cr_expect_str_eq(r, "gsxt|A|U1|D1|50.000000||150.000000|2026-01-05||repaired\n"
	                    "gsxt|B|U3|D3|50.000000|200.000000||2026-01-05|2024-10-14|\n"
	                    "gsxt|C|U4|D4|100.000000|||2024-10-04||\n"
	                    "gsxt|D|U5|D5|||250.000000|||denied\n"
	                    "gsxt|E|U6|D6|50.000000||260.000000|2026-01-05||repaired");
	free(r);
}
