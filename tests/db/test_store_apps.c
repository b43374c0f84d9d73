/* test_store_apps: credsync.apps_put (022_apps_batch.sql), a batch's repair-application steps
 * in one call, gives the rows that the same steps one call each give: the statements of the
 * previous release, one a step, in the order consumed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store.h"
#include "store_time.h"
#include "storetest.h"
#include "vocab.h"

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

/* The table as it stands, updated_at aside (NULL: empty), with the padding or without. */
static char *
table(bool pad)
{
	char sql[1024];

	snprintf(sql, sizeof sql,
	         "SELECT coalesce(string_agg(format('%%s|%%s|%%s|%%s|%%s|%%s|%%s|%%s|%%s|%%s', "
	         "channel, application_no, uscc, decision_no, extract(epoch FROM applied_at), "
	         "extract(epoch FROM accepted_at), extract(epoch FROM decided_at), accept_due, "
	         "decide_due, outcome), E'\\n' ORDER BY channel, application_no), '') "
	         "FROM credsync.repair_applications%s",
	         pad ? "" : " WHERE application_no NOT LIKE 'Z%%'");
	return pgtest_text(storetest_pg, sql);
}

static char *
rows(void)
{
	return table(false);
}

static char *
rows_all(void)
{
	return table(true);
}

/* Steps of other applications ahead of each case's, as in a batch credsyncd sends as one
 * call (more than 16 steps). */
#define PAD 17
static const char *const pad_apps[PAD] = {"Z01", "Z02", "Z03", "Z04", "Z05", "Z06",
                                          "Z07", "Z08", "Z09", "Z10", "Z11", "Z12",
                                          "Z13", "Z14", "Z15", "Z16", "Z17"};

/* The rows after the steps in one call and one call each, both from the rows stored. */
static void
check(const char *name, const char *stored, const struct step *s, size_t n, char **ret)
{
	char sql[16384], a[16000];
	char *once, *each;
	struct step all[PAD + 16];

	cr_assert_leq(n, 16);
	for (size_t i = 0; i < PAD; i++)
		all[i] = (struct step){"applied", pad_apps[i], "UZ", "DZ", 10, 19000, 0};
	memcpy(all + PAD, s, n * sizeof(*s));

	pgtest_exec(storetest_pg, "TRUNCATE credsync.repair_applications");
	pgtest_exec(storetest_pg, stored);
	args(a, sizeof(a), all, 0, PAD + n);
	snprintf(sql, sizeof(sql), "SELECT credsync.apps_put(%s)", a);
	pgtest_exec(storetest_pg, sql);
	once = rows();

	pgtest_exec(storetest_pg, "TRUNCATE credsync.repair_applications");
	pgtest_exec(storetest_pg, stored);
	for (size_t i = 0; i < PAD + n; i++) {
		args(a, sizeof(a), all, i, i + 1);
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

/* credsyncd's side: the steps of a batch put with store_app_put, sent as statements (16 or
 * fewer) or as one call, give the same rows. The events live until the commit, as a
 * batch's do in credsyncd (the statements' parameters point into them). */
static void
put_batch(const struct step *s, size_t from, size_t to)
{
	static struct event evs[PAD + 16];
	char err[512];
	struct store_batch b = {0};

	cr_assert_leq(to - from, PAD + 16);
	cr_assert_eq(store_batch_begin(storetest_st, NULL, 0, NULL, 0, NULL, NULL, NULL, 0, NULL,
	                               err, sizeof err),
	             0, "store_batch_begin: %s", err);
	for (size_t i = from; i < to; i++) {
		struct event *e = &evs[i - from];
		bool repaired = strcmp(s[i].kind, "repaired") == 0;

		*e = (struct event){0};
		e->type = repaired                             ? EV_PENALTY_REPAIRED
		          : strcmp(s[i].kind, "applied") == 0  ? EV_REPAIR_APPLIED
		          : strcmp(s[i].kind, "accepted") == 0 ? EV_REPAIR_ACCEPTED
		          : strcmp(s[i].kind, "declined") == 0 ? EV_REPAIR_DECLINED
		                                               : EV_REPAIR_DENIED;
		snprintf(e->producer, sizeof e->producer, "gsxt");
		snprintf(e->key.uscc, sizeof e->key.uscc, "%s", s[i].uscc);
		snprintf(e->key.decision_no, sizeof e->key.decision_no, "%s", s[i].dec);
		if (repaired)
			e->occurred_at = s[i].at;
		else {
			snprintf(e->application_no, sizeof e->application_no, "%s", s[i].app);
			e->app_at = s[i].at;
		}
		cs_date due = s[i].accept_due   ? s[i].accept_due
		              : s[i].decide_due ? s[i].decide_due
		                                : DATE_NONE;
		cr_assert_eq(store_app_put(storetest_st, e, due, err, sizeof err), 0,
		             "store_app_put: %s", err);
	}
	storetest_commit(storetest_st, &b);
}

Test(store_apps, a_batch_of_many_steps_gives_the_rows_of_smaller_batches, FRESH)
{
	struct step s[PAD + 4];
	char *once, *each;

	for (size_t i = 0; i < PAD; i++)
		s[i] = (struct step){i % 2 ? "applied" : "accepted",
		                     pad_apps[i],
		                     "UZ",
		                     "DZ",
		                     10 + (long long)i,
		                     i % 2 ? 19000 : 0,
		                     i % 2 ? 0 : 19010};
	s[PAD] = (struct step){"declined", "Z01", "UZ", "DZ", 500, 0, 0};
	s[PAD + 1] = (struct step){"repaired", NULL, "UZ", "DZ", 600, 0, 0};
	s[PAD + 2] = (struct step){"applied", "Y1", "UY", "DY", 0, 19100, 0};
	s[PAD + 3] = (struct step){"denied", "Y2", "UX", "DX", 700, 0, 0};

	put_batch(s, 0, PAD + 4);
	once = rows_all();
	pgtest_exec(storetest_pg, "TRUNCATE credsync.repair_applications");
	for (size_t i = 0; i < PAD + 4; i++)
		put_batch(s, i, i + 1);
	each = rows_all();
	cr_expect_str_eq(once, each, "in one batch:\n%s\na step a batch:\n%s", once, each);
	free(each);
	pgtest_exec(storetest_pg, "TRUNCATE credsync.repair_applications");
	for (size_t i = 0; i < PAD + 4; i += 4)
		put_batch(s, i, i + 4 < PAD + 4 ? i + 4 : PAD + 4);
	each = rows_all();
	cr_expect_str_eq(once, each, "in one batch:\n%s\nfour steps a batch:\n%s", once, each);
	cr_expect(strstr(once, "gsxt|Z02|UZ|DZ|11.000000||600.000000|2022-01-08||repaired") != NULL,
	          "%s", once);
	cr_expect(strstr(once, "gsxt|Z01|UZ|DZ||10.000000|500.000000||2022-01-18|declined") != NULL,
	          "%s", once);
	free(once);
	free(each);
}
