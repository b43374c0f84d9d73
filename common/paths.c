/* paths: where the data directory is. */
#include "paths.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether this program is the build tree's own (it runs from CREDSYNC_BUILD_BINDIR), not an
 * installed copy: only then may the source tree stand in for missing installed data. */
static bool
from_build_tree(void)
{
	char exe[4096], bindir[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return false;
	*slash = '\0';
	/* /proc/self/exe has its symbolic links resolved: compare like with like */
	return realpath(CREDSYNC_BUILD_BINDIR, bindir) != NULL && strcmp(exe, bindir) == 0;
}

const char *
paths_datadir(void)
{
	static int build_tree = -1; /* not yet known */
	const char *env = getenv("CREDSYNC_SCHEMAS");
	struct stat st;

	if (env != NULL && *env != '\0')
		return env;
	if (stat(CREDSYNC_DATADIR "/rules", &st) == 0 && S_ISDIR(st.st_mode))
		return CREDSYNC_DATADIR;
	if (build_tree < 0)
		build_tree = from_build_tree();
	return build_tree ? CREDSYNC_SRC_SCHEMAS : CREDSYNC_DATADIR;
}
