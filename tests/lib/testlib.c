/* testlib: small helpers that tests of every kind share. */
#include "testlib.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
testlib_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cs_date
testlib_ymd(int y, int m, int d)
{
	cs_date ret;

	cr_assert(date_from_ymd(y, m, d, &ret), "no such date: %04d-%02d-%02d", y, m, d);
	return ret;
}

cs_date
testlib_date(const char *s)
{
	cs_date d;

	cr_assert_eq(date_parse(s, &d), 0, "test date \"%s\" does not parse", s);
	return d;
}

int64_t
testlib_instant(const char *s)
{
	int64_t t;
	int off;

	cr_assert_eq(time_parse_rfc3339(s, &t, &off), 0, "test instant \"%s\" does not parse", s);
	return t;
}

const char *
testlib_fixtures_dir(void)
{
	const char *dir = getenv("CREDSYNC_FIXTURES");

	return dir != NULL && dir[0] != '\0' ? dir : CREDSYNC_SRC_SCHEMAS "/../tests/fixtures";
}

const char *
testlib_schemas_dir(void)
{
	const char *dir = getenv("CREDSYNC_SCHEMAS");

	return dir != NULL && dir[0] != '\0' ? dir : CREDSYNC_SRC_SCHEMAS;
}

char *
testlib_read_file(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 0, len = 0, n;
	char *buf = NULL;

	if (fp == NULL) {
		cr_assert(errno == ENOENT, "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap += 65536;
			buf = realloc(buf, cap + 1);
			cr_assert_not_null(buf);
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	cr_assert(!ferror(fp), "could not read \"%s\"", path);
	fclose(fp);
	buf[len] = '\0';
	if (ret_len != NULL)
		*ret_len = len;
	return buf;
}

char *
testlib_must_read(const char *path)
{
	char *text = testlib_read_file(path, NULL);

	cr_assert_not_null(text, "\"%s\" does not exist", path);
	return text;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
testlib_list_dir(const char *dir, const char *suffix, size_t *ret_n)
{
	DIR *d = opendir(dir);
	size_t n = 0, cap = 16, slen = strlen(suffix);
	char **names = malloc(cap * sizeof(*names));
	struct dirent *de;

	cr_assert_not_null(d, "could not open \"%s\": %s", dir, strerror(errno));
	cr_assert_not_null(names);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= slen ||
		    strcmp(de->d_name + len - slen, suffix) != 0)
			continue;
		if (n == cap) {
			cap *= 2;
			names = realloc(names, cap * sizeof(*names));
			cr_assert_not_null(names);
		}
		names[n] = strdup(de->d_name);
		cr_assert_not_null(names[n++]);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*ret_n = n;
	return names;
}

void
testlib_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
