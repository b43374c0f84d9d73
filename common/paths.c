/* paths: where the data directory is. */
#include "paths.h"

#include <stdlib.h>
#include <sys/stat.h>

const char *
paths_datadir(void)
{
	const char *env = getenv("CREDSYNC_SCHEMAS");
	struct stat st;

	if (env != NULL && *env != '\0')
		return env;
	if (stat(CREDSYNC_DATADIR "/rules", &st) == 0 && S_ISDIR(st.st_mode))
		return CREDSYNC_DATADIR;
	return CREDSYNC_SRC_SCHEMAS;
}
