/* uuid5: deterministic message ids in credsync's namespace. */
#include "uuid5.h"

#include <string.h>
#include <uuid/uuid.h>

/* credsync's namespace; fixed forever: changing it would change every message id. */
static const char credsync_namespace[] = "5c1d3a0e-8f41-4f7b-9d2a-6b0f3c8e7a15";

void
uuid5(const char *name, char ret[37])
{
	uuid_t ns, out;

	uuid_parse(credsync_namespace, ns);
	uuid_generate_sha1(out, ns, name, strlen(name));
	uuid_unparse_lower(out, ret);
}
