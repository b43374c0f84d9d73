/* uscc: the Unified Social Credit Code check character (GB 32100-2015). */
#include "uscc.h"

#include <stdio.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int
char_value(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

int
uscc_check(const char *code, char *err, size_t errsz)
{
	char dummy[1];
	if (err == NULL) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	size_t len = strlen(code);
	if (len != USCC_LEN) {
		snprintf(err, errsz, "length is %zu, expected %d characters", len, USCC_LEN);
		return -1;
	}
	int sum = 0, weight = 1;
	for (int i = 0; i < USCC_LEN; i++) {
		int v = char_value(code[i]);
		if (v < 0) {
			unsigned char c = (unsigned char)code[i];
			if (c >= 0x20 && c < 0x7f)
				snprintf(err, errsz, "character '%c' at position %d is not allowed",
				         c, i + 1);
			else
				snprintf(err, errsz, "byte 0x%02x at position %d is not allowed", c,
				         i + 1);
			return -1;
		}
		if (i < USCC_LEN - 1) {
			sum += v * weight;
			weight = weight * 3 % 31;
		}
	}
	char expected = alphabet[(31 - sum % 31) % 31];
	if (code[USCC_LEN - 1] != expected) {
		snprintf(err, errsz, "check character expected '%c', found '%c'", expected,
		         code[USCC_LEN - 1]);
		return -1;
	}
	return 0;
}
