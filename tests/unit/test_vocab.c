/* test_vocab: every enum of the domain vocabulary maps to its name and back, names are the
 * contract's spelling, and what is not a name is refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vocab.h"

/* One enum's table: value -> name (NULL when it has none) and name -> value. */
struct one {
	const char *what;
	int count;
	const char *(*name)(int v);
	int (*parse)(const char *s);
};

#define WRAP(fn, type)                                                                             \
	static const char *fn##_of(int v)                                                          \
	{                                                                                          \
		return fn((type)v);                                                                \
	}
WRAP(field_name, enum field)
WRAP(severity_name, enum severity)
WRAP(site_name, enum site)
WRAP(list_kind_name, enum list_kind)
WRAP(event_type_name, enum event_type)
WRAP(reject_reason_name, enum reject_reason)
WRAP(record_kind_name, enum record_kind)
WRAP(out_type_name, enum out_type)
WRAP(takedown_reason_name, enum takedown_reason)

Test(vocab, every_name_parses_back_to_its_value)
{
	static const struct one all[] = {
	    {"field", FIELD_COUNT, field_name_of, field_parse},
	    {"severity", SEV_COUNT, severity_name_of, severity_parse},
	    {"site", SITE_COUNT, site_name_of, site_parse},
	    {"list kind", 2, list_kind_name_of, list_kind_parse},
	    {"event type", EV_TYPE_COUNT, event_type_name_of, event_type_parse},
	    {"reject reason", REJ_COUNT, reject_reason_name_of, reject_reason_parse},
	    {"record kind", 3, record_kind_name_of, record_kind_parse},
	    {"out type", 3, out_type_name_of, out_type_parse},
	    {"takedown reason", TD_NOT_DISCLOSABLE + 1, takedown_reason_name_of,
	     takedown_reason_parse},
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		for (int v = 0; v < all[i].count; v++) {
			const char *name = all[i].name(v);
			if (name == NULL)
				continue; /* REJ_NONE, TD_NONE */
			cr_expect_eq(all[i].parse(name), v, "%s %d (%s)", all[i].what, v, name);
		}
		cr_expect_null(all[i].name(all[i].count), "%s past the end", all[i].what);
		cr_expect_eq(all[i].parse("no-such-name"), -1, "%s", all[i].what);
		cr_expect_eq(all[i].parse(NULL), -1, "%s", all[i].what);
	}
	cr_expect_null(reject_reason_name(REJ_NONE));
	cr_expect_null(takedown_reason_name(TD_NONE));
}

Test(vocab, categories_are_bits)
{
	for (int i = 0; i < CAT_COUNT; i++) {
		const char *name = category_name((enum category)(1u << i));
		cr_assert_not_null(name, "bit %d", i);
		cr_expect_eq(category_parse(name), (int)(1u << i), "%s", name);
	}
	cr_expect_null(category_name((enum category)(CAT_FINE | CAT_WARNING)));
	cr_expect_null(category_name((enum category)(1u << CAT_COUNT)));
	cr_expect_eq(category_parse("Fine"), -1);
}

Test(vocab, the_contract_spelling)
{
	cr_expect_str_eq(event_type_name(EV_REPAIR_DENIED), "repair.denied");
	cr_expect_str_eq(reject_reason_name(REJ_BEFORE_MINIMUM_PERIOD), "before_minimum_period");
	cr_expect_str_eq(out_type_name(OUT_MUTUAL_RECOGNITION), "mutual_recognition");
	cr_expect_str_eq(takedown_reason_name(TD_LIGHT_EXPIRED), "light_expired");
	cr_expect_str_eq(category_name(CAT_QUALIFICATION_DOWNGRADE), "qualification_downgrade");
	cr_expect_str_eq(site_name(SITE_GSXT), "gsxt");
	for (int st = 0; st < SITE_COUNT; st++) {
		char want[64];
		snprintf(want, sizeof want, "credit.out.%s", site_name((enum site)st));
		cr_expect_str_eq(site_out_topic((enum site)st), want);
	}
	cr_expect_null(site_out_topic((enum site)SITE_COUNT));
	cr_expect_str_eq(rec_status_name(REC_NEVER), "never");
	cr_expect_str_eq(rec_status_name((enum rec_status)0), "unknown");
	cr_expect_eq(rec_status_parse("down"), REC_DOWN);
	cr_expect_eq(rec_status_parse(NULL), -1);
}

Test(vocab, inbound_outcomes_name_what_the_log_stores)
{
	static const char *const want[] = {
	    [INB_APPLIED] = "applied",   [INB_STALE] = "stale",         [INB_NOOP] = "noop",
	    [INB_REJECTED] = "rejected", [INB_DUPLICATE] = "duplicate", [INB_ACK] = "ack",
	    [INB_IGNORED] = "ignored",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_str_eq(inbound_outcome_name((enum inbound_outcome)i), want[i]);
	cr_expect_eq(inbound_outcome_of(RO_APPLIED), INB_APPLIED);
	cr_expect_eq(inbound_outcome_of(RO_STALE), INB_STALE);
	cr_expect_eq(inbound_outcome_of(RO_NOOP), INB_NOOP);
	cr_expect_eq(inbound_outcome_of(RO_REJECTED), INB_REJECTED);
	cr_expect_str_eq(recon_outcome_name(RO_NOOP), "noop");
}

Test(vocab, category_masks_as_comma_lists)
{
	char buf[64];
	unsigned mask = 0;

	cr_expect_eq(category_mask_format(CAT_FINE | CAT_WARNING, buf, sizeof(buf)), 12);
	cr_expect_str_eq(buf, "warning,fine");
	cr_expect_eq(category_mask_parse(buf, strlen(buf), &mask), 0);
	cr_expect_eq(mask, CAT_FINE | CAT_WARNING);
	cr_expect_eq(category_mask_format(0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(category_mask_format(1u << CAT_COUNT, buf, sizeof(buf)), -1);
	cr_expect_eq(category_mask_format(CAT_FINE | CAT_WARNING, buf, 8), -1);
	cr_expect_eq(category_mask_parse("fine,,warning", 13, &mask), -1);
	cr_expect_eq(category_mask_parse("fine,nope", 9, &mask), -1);
}
