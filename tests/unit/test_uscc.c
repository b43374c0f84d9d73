/* test_uscc: the Unified Social Credit Code check (GB 32100-2015) and its exact reasons. */
#include <criterion/criterion.h>
#include <string.h>

#include "uscc.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

Test(uscc, valid)
{
	static const char *const good[] = {
	    "91350100M000100Y43", /* docs/RULES.md section 6 */
	    "91110108551385082Q", /* docs/RULES.md section 6 */
	    "91150102MA0N123408", /* the subject of docs/CONTRACT.md's example event */
	    "11150100MB0123456P", /* 1-1: an organ of state (机构编制, 机关) */
	};
	for (size_t i = 0; i < N_ELEMS(good); i++) {
		char err[128] = "untouched";
		cr_expect_eq(uscc_check(good[i], err, sizeof(err)), 0, "%s: %s", good[i], err);
	}
}

Test(uscc, invalid_with_reason)
{
	static const struct {
		const char *code;
		const char *reason;
	} cases[] = {
	    {"91350200M000000510", "check character expected 'D', found '0'"},
	    {"91350100M000100Y44", "check character expected '3', found '4'"},
	    {"91110108551385082R", "check character expected 'Q', found 'R'"},
	    {"91150102MA0N123409", "check character expected '8', found '9'"},
	    /* the issuer code in version 1's example event is not a valid USCC */
	    {"11150100MB0123456X", "check character expected 'P', found 'X'"},
	    /* GB 32100-2015: position 1 a registration authority, 2 a type it registers (issue 12)
	     */
	    {"00150102MA0N12340L", "registration authority '0' and organisation type '0' "
	                           "(positions 1-2) are not a pair of GB 32100-2015"},
	    /* every value 0: S = 0, check alphabet[0] right, but '0' registers nothing */
	    {"000000000000000000", "registration authority '0' and organisation type '0' "
	                           "(positions 1-2) are not a pair of GB 32100-2015"},
	    {"94150102MA0N12340L", "registration authority '9' and organisation type '4' "
	                           "(positions 1-2) are not a pair of GB 32100-2015"},
	    {"", "length is 0, expected 18 characters"},
	    {"91350100M000100Y4", "length is 17, expected 18 characters"},
	    {"91350100M000100Y433", "length is 19, expected 18 characters"},
	    {"91350100I000100Y43", "character 'I' at position 9 is not allowed"},
	    {"91350100O000100Y43", "character 'O' at position 9 is not allowed"},
	    {"Z1350100M000100Y43", "character 'Z' at position 1 is not allowed"},
	    {"91350100M000100YS3", "character 'S' at position 17 is not allowed"},
	    {"91350100M000100Y4V", "character 'V' at position 18 is not allowed"},
	    {"91350100m000100y43", "character 'm' at position 9 is not allowed"},
	    {"91350100M000100Y4 ", "character ' ' at position 18 is not allowed"},
	    {"9135010-M000100Y43", "character '-' at position 8 is not allowed"},
	    {"91350100M000100Y4\t", "byte 0x09 at position 18 is not allowed"},
	    /* 16 ASCII bytes and one two-byte UTF-8 character: 18 bytes */
	    {"9135010\xc3\xa9"
	     "000100Y43",
	     "byte 0xc3 at position 8 is not allowed"},
	    /* the length is counted in bytes: 17 ASCII bytes and a three-byte character */
	    {"91350100M000100Y4\xe4\xb8\x80", "length is 20, expected 18 characters"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char err[128] = "";
		cr_expect_eq(uscc_check(cases[i].code, err, sizeof(err)), -1, "\"%s\" was accepted",
		             cases[i].code);
		cr_expect_str_eq(err, cases[i].reason, "\"%s\": got \"%s\", want \"%s\"",
		                 cases[i].code, err, cases[i].reason);
	}
}

/* The check character is the one value that makes the weighted sum a multiple of 31:
 * changing any one of the first 17 characters to another value breaks it. */
Test(uscc, every_single_change_detected)
{
	const char *base = "91150102MA0N123408";
	for (int pos = 0; pos < USCC_LEN - 1; pos++)
		for (const char *a = alphabet; *a != '\0'; a++) {
			char code[USCC_BUF];
			memcpy(code, base, USCC_BUF);
			if (code[pos] == *a)
				continue;
			code[pos] = *a;
			cr_expect_eq(uscc_check(code, NULL, 0), -1, "%s was accepted", code);
		}
}

/* Exactly one of the 31 check characters completes any 17-character prefix. */
Test(uscc, exactly_one_check_character)
{
	static const char *const prefixes[] = {"91350100M000100Y4", "92150102MA0N12340",
	                                       "93150000000000000", "Y1YYYYYYYYYYYYYYY"};
	for (size_t i = 0; i < N_ELEMS(prefixes); i++) {
		int valid = 0;
		for (const char *a = alphabet; *a != '\0'; a++) {
			char code[USCC_BUF];
			memcpy(code, prefixes[i], USCC_LEN - 1);
			code[USCC_LEN - 1] = *a;
			code[USCC_LEN] = '\0';
			valid += uscc_check(code, NULL, 0) == 0;
		}
		cr_expect_eq(valid, 1, "%s: %d check characters accepted", prefixes[i], valid);
	}
}

Test(uscc, reason_truncated_safely)
{
	char err[8];
	memset(err, 'x', sizeof(err));
	cr_expect_eq(uscc_check("91350200M000000510", err, sizeof(err)), -1);
	cr_expect_eq(err[sizeof(err) - 1], '\0');
	cr_expect_str_eq(err, "check c");
}
