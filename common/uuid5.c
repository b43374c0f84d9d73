/* uuid5: deterministic message ids in credsync's namespace, and UUIDs read from text. */
#include "uuid5.h"

#include <string.h>
#include <uuid/uuid.h>

/* credsync's namespace, 5c1d3a0e-8f41-4f7b-9d2a-6b0f3c8e7a15 (docs/CONTRACT.md, "Ids"), as
 * bytes: parsed for each id, it cost a strtoul a byte. Fixed forever: changing it would
 * change every message id. */
static const uuid_t credsync_namespace = {0x5c, 0x1d, 0x3a, 0x0e, 0x8f, 0x41, 0x4f, 0x7b,
                                          0x9d, 0x2a, 0x6b, 0x0f, 0x3c, 0x8e, 0x7a, 0x15};

void
uuid5(const char *name, char ret[37])
{
	uuid_t out;

	uuid_generate_sha1(out, credsync_namespace, name, strlen(name));
	uuid_unparse_lower(out, ret);
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
uuid_text_bytes(const char *s, unsigned char out[16])
{
	int k = 0;

	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		int hi = hex_digit(s[i]), lo = hi < 0 ? -1 : hex_digit(s[++i]);
		if (lo < 0) /* a NUL stops at the first: nothing past it is read */
			return false;
		out[k++] = (unsigned char)(hi << 4 | lo);
	}
	return s[36] == '\0';
}
