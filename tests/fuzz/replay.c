/* replay: runs a fuzz target's LLVMFuzzerTestOneInput on every file under the directories
 * (or files) given, so that ctest re-checks the seed corpus and every past crash in the
 * normal and sanitizer builds without libFuzzer. Exit 0 when every input ran. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t ninputs;

static int
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (fp == NULL) {
		fprintf(stderr, "replay: could not open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4096) {
			uint8_t *grown = realloc(buf, cap + 65536);
			if (grown == NULL) {
				fprintf(stderr, "replay: \"%s\": out of memory\n", path);
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = grown;
			cap += 65536;
		}
		size_t n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		fprintf(stderr, "replay: could not read \"%s\"\n", path);
		free(buf);
		return -1;
	}
	/* An exact-size copy, so that ASan sees a read past the input. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	ninputs++;
	return 0;
}

static int
run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	DIR *d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "replay: could not open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char sub[4096];
		if (de->d_name[0] == '.')
			continue;
		int n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub)) {
			fprintf(stderr, "replay: path too long under \"%s\"\n", path);
			rc = -1;
			continue;
		}
		if (run_path(sub) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) != 0)
			rc = 1;
	printf("replay: %zu inputs ran\n", ninputs);
	if (ninputs == 0) {
		fprintf(stderr, "replay: no inputs\n");
		rc = 1;
	}
	return rc;
}
