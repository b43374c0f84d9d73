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

/* Each character's hex value plus one; 0: not a hex digit. A table, not three ranges: the
 * batch path reads a dozen UUIDs an event, and the ranges' branches cost a tenth of
 * credsyncd's own CPU in the profile run. */
static const unsigned char hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

bool
uuid_text_bytes(const char *s, unsigned char out[16])
{
	/* the offsets of the 16 bytes' first digits in 8-4-4-4-12 */
	static const unsigned char at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
	                                     19, 21, 24, 26, 28, 30, 32, 34};
	const unsigned char *u = (const unsigned char *)s;

	/* Left to right, stopping at the first wrong character: a NUL ends the reading, so
	 * nothing past the end of a shorter string is read. */
	for (int k = 0; k < 16; k++) {
		const unsigned char *p = u + at[k];
		if ((k == 4 || k == 6 || k == 8 || k == 10) && p[-1] != '-')
			return false;
		unsigned hi = hex1[p[0]], lo = hi == 0 ? 0 : hex1[p[1]];
		if (lo == 0)
			return false;
		out[k] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return u[36] == '\0';
}
