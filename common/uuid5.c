/* uuid5: deterministic message ids in credsync's namespace. */
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
