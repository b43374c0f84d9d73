/* test_log: the line format on fd 2, level filtering, whole lines from threads, log_q
 * quoting and truncation, conninfo redaction. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "log.h"

/* fd 2 redirected to a temporary file for the length of a capture. */
struct capture {
	char path[64];
	int fd, saved;
};

static void
capture_start(struct capture *c)
{
	snprintf(c->path, sizeof(c->path), "/tmp/test_log_XXXXXX");
	c->fd = mkstemp(c->path);
	cr_assert_geq(c->fd, 0, "mkstemp: %s", strerror(errno));
	c->saved = dup(STDERR_FILENO);
	cr_assert_geq(c->saved, 0);
	cr_assert_geq(dup2(c->fd, STDERR_FILENO), 0);
}

/* Restores fd 2 and returns what was written to it; free() it. */
static char *
capture_end(struct capture *c)
{
	char *text;
	off_t len;

	cr_assert_geq(dup2(c->saved, STDERR_FILENO), 0);
	close(c->saved);
	len = lseek(c->fd, 0, SEEK_END);
	cr_assert_geq(len, 0);
	text = malloc((size_t)len + 1);
	cr_assert_not_null(text);
	cr_assert_eq(pread(c->fd, text, (size_t)len, 0), (ssize_t)len);
	text[len] = '\0';
	close(c->fd);
	unlink(c->path);
	return text;
}

/* Checks "<N>ts=YYYY-MM-DDTHH:MM:SS.mmmZ " at line and returns its instant, or -1. */
static int64_t
line_ts(const char *line, const char **ret_rest)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	const char *ts = strstr(line, ">ts=");
	char rfc[32];
	int64_t unix_s;
	int offset;

	if (ts == NULL || line[0] != '<')
		return -1;
	ts += 4;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !(ts[i] >= '0' && ts[i] <= '9') : ts[i] != shape[i])
			return -1;
	memcpy(rfc, ts, 24);
	rfc[24] = '\0';
	if (time_parse_rfc3339(rfc, &unix_s, &offset) != 0 || offset != 0)
		return -1;
	*ret_rest = ts + sizeof(shape) - 1;
	return unix_s;
}

/* The line with its timestamp replaced by "TS", after checking the timestamp is now. */
static void
expect_line(const char *got, const char *want, const char *what)
{
	const char *rest;
	char norm[16384];
	int64_t ts = line_ts(got, &rest);
	struct timespec clock;
	int64_t now;

	/* The log's clock, not time(): glibc's time() reads the coarse clock, which can
	 * still show the previous second after the line was stamped with the next. */
	cr_assert_eq(clock_gettime(CLOCK_REALTIME, &clock), 0);
	now = (int64_t)clock.tv_sec;

	cr_expect_neq(ts, -1, "%s: bad timestamp in %s", what, got);
	if (ts == -1)
		return;
	cr_expect(ts >= now - 5 && ts <= now, "%s: ts %lld is not now (%lld)", what, (long long)ts,
	          (long long)now);
	snprintf(norm, sizeof(norm), "%.*sts=TS %s", (int)(strstr(got, ">ts=") - got + 1), got,
	         rest);
	cr_expect_str_eq(norm, want, "%s", what);
}

static void
emit_kv(void)
{
	log_kv(LOG_LVL_INFO, "lag", "topic=%s partition=%d lag=%lld", "credit.in.nm-tax", 3, 12LL);
}
static void
emit_kv_none(void)
{
	log_kv(LOG_LVL_NOTICE, "breach", NULL);
}
static void
emit_kv_quoted(void)
{
	char q[64];
	log_kv(LOG_LVL_ERR, "could not connect", "db=%s", log_q(q, sizeof(q), "host=db x"));
}
static void
emit_info(void)
{
	log_kv(LOG_LVL_INFO, "applied 5 events", NULL);
}
static void
emit_warnx(void)
{
	log_kv(LOG_LVL_WARN, "bad \"x\"\nsecond line", NULL);
}
static void
emit_warn(void)
{
	errno = ENOENT;
	log_warn("could not open %s", "/x");
}
static void
emit_notice(void)
{
	log_kv(LOG_LVL_NOTICE, "ready", NULL);
}
static void
emit_debug(void)
{
	log_kv(LOG_LVL_DEBUG, "polled=0", NULL);
}

Test(log, lines_have_the_documented_format)
{
	static const struct {
		void (*emit)(void);
		const char *want;
	} cases[] = {
	    {emit_kv, "<6>ts=TS level=info msg=lag topic=credit.in.nm-tax partition=3 lag=12\n"},
	    {emit_kv_none, "<5>ts=TS level=notice msg=breach\n"},
	    {emit_kv_quoted, "<3>ts=TS level=err msg=\"could not connect\" db=\"host=db x\"\n"},
	    {emit_info, "<6>ts=TS level=info msg=\"applied 5 events\"\n"},
	    {emit_warnx, "<4>ts=TS level=warn msg=\"bad \\\"x\\\"\\nsecond line\"\n"},
	    {emit_warn,
	     "<4>ts=TS level=warn msg=\"could not open /x\" err=\"No such file or directory\"\n"},
	    {emit_notice, "<5>ts=TS level=notice msg=ready\n"},
	    {emit_debug, "<7>ts=TS level=debug msg=\"polled=0\"\n"},
	};

	log_init(LOG_LVL_DEBUG);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct capture c;
		char what[32];
		capture_start(&c);
		cases[i].emit();
		char *out = capture_end(&c);
		snprintf(what, sizeof(what), "case %zu", i);
		expect_line(out, cases[i].want, what);
		free(out);
	}
}

Test(log, lines_above_the_level_are_dropped)
{
	struct capture c;
	char *out;

	capture_start(&c);
	log_init(LOG_LVL_WARN);
	log_kv(LOG_LVL_INFO, "hidden info", NULL);
	log_kv(LOG_LVL_NOTICE, "hidden notice", NULL);
	log_kv(LOG_LVL_DEBUG, "hidden debug", NULL);
	log_kv(LOG_LVL_INFO, "hidden", NULL);
	log_kv(LOG_LVL_WARN, "shown warn", NULL);
	log_kv(LOG_LVL_ERR, "shown_err", NULL);
	log_set_level(LOG_LVL_DEBUG);
	log_kv(LOG_LVL_DEBUG, "shown debug", NULL);
	log_set_level(LOG_LVL_ERR);
	log_kv(LOG_LVL_WARN, "hidden warn", NULL);
	out = capture_end(&c);

	cr_expect_null(strstr(out, "hidden"), "%s", out);
	const char *want[] = {"msg=\"shown warn\"\n", "msg=shown_err\n", "msg=\"shown debug\"\n"};
	const char *line = out;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *nl = strchr(line, '\n');
		cr_assert_not_null(nl, "line %zu missing in:\n%s", i, out);
		size_t n = strlen(want[i]);
		cr_expect((size_t)(nl + 1 - line) >= n && memcmp(nl + 1 - n, want[i], n) == 0,
		          "line %zu: %.*s", i, (int)(nl - line), line);
		line = nl + 1;
	}
	cr_expect_str_eq(line, "");
	free(out);
}

Test(log, a_level_out_of_range_is_clamped)
{
	struct capture c;
	char *out;

	capture_start(&c);
	log_set_level((enum log_level) - 1); /* a failed log_level_parse, cast */
	log_kv(LOG_LVL_ERR, "still_shown", NULL);
	log_kv(LOG_LVL_WARN, "hidden", NULL);
	log_set_level(LOG_LVL_DEBUG);
	log_kv((enum log_level)1, "low", NULL);
	log_kv((enum log_level)42, "high", NULL);
	out = capture_end(&c);

	const char *rest, *line = out;
	const char *want[] = {"<3>", "level=err msg=still_shown\n", "<3>", "level=err msg=low\n",
	                      "<7>", "level=debug msg=high\n"};
	for (size_t i = 0; i < 6; i += 2) {
		cr_assert_eq(strncmp(line, want[i], 3), 0, "line %zu: %s", i / 2, out);
		cr_assert_neq(line_ts(line, &rest), -1);
		size_t n = strlen(want[i + 1]);
		cr_expect_eq(strncmp(rest, want[i + 1], n), 0, "line %zu: %s", i / 2, rest);
		line = rest + n;
	}
	cr_expect_str_eq(line, "");
	free(out);
}

Test(log, errno_survives_logging)
{
	struct capture c;
	static const int errs[] = {EACCES, ENOENT, 0};

	capture_start(&c);
	log_init(LOG_LVL_INFO);
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		errno = errs[i];
		log_warn("w");
		cr_expect_eq(errno, errs[i]);
		log_kv(LOG_LVL_DEBUG, "filtered", NULL);
		cr_expect_eq(errno, errs[i]);
		log_kv(LOG_LVL_INFO, "kv", "e=%d", errs[i]);
		cr_expect_eq(errno, errs[i]);
	}
	free(capture_end(&c));
}

Test(log, an_oversized_line_is_cut_but_stays_one_line)
{
	struct capture c;
	char *big = malloc(20001), *out;

	cr_assert_not_null(big);
	memset(big, 'x', 20000);
	big[20000] = '\0';
	log_init(LOG_LVL_INFO);
	capture_start(&c);
	log_kv(LOG_LVL_INFO, "big", "v=%s", big);
	log_kv(LOG_LVL_INFO, big, NULL);
	out = capture_end(&c);

	const char *second = strchr(out, '\n');
	cr_assert_not_null(second);
	second++;
	cr_expect_leq((size_t)(second - out), 8192);
	cr_expect_eq(strncmp(out, "<6>ts=", 6), 0);
	cr_expect_neq(strstr(out, "msg=big v=xxxx"), NULL);
	cr_expect_eq(strncmp(second, "<6>ts=", 6), 0);
	cr_expect_leq(strlen(second), 8192);
	cr_expect_eq(second[strlen(second) - 1], '\n');
	cr_expect_eq(strchr(second, '\n'), second + strlen(second) - 1, "more than one line");
	free(out);
	free(big);
}

#define NTHREADS 4
#define NLINES   500

static void *
log_many(void *arg)
{
	int id = (int)(intptr_t)arg;
	char pad[301];

	memset(pad, 'a' + id, 300);
	pad[300] = '\0';
	for (int i = 0; i < NLINES; i++)
		log_kv(LOG_LVL_INFO, "t", "thread=%d i=%d pad=%s end=1", id, i, pad);
	return NULL;
}

Test(log, lines_from_threads_never_interleave)
{
	struct capture c;
	pthread_t th[NTHREADS];
	int seen[NTHREADS] = {0};
	char *out;
	size_t lines = 0;

	log_init(LOG_LVL_INFO);
	capture_start(&c);
	for (int t = 0; t < NTHREADS; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, log_many, (void *)(intptr_t)t), 0);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	out = capture_end(&c);

	for (char *line = out; *line != '\0'; lines++) {
		char *nl = strchr(line, '\n'), pad[301];
		const char *rest;
		int id, i, n = 0;
		cr_assert_not_null(nl);
		*nl = '\0';
		cr_assert_neq(line_ts(line, &rest), -1, "%s", line);
		cr_assert_eq(sscanf(rest, "level=info msg=t thread=%d i=%d pad=%300[a-z] end=1%n",
		                    &id, &i, pad, &n),
		             3, "%s", rest);
		cr_assert_eq(rest[n], '\0', "%s", rest);
		cr_assert(id >= 0 && id < NTHREADS && strlen(pad) == 300 && pad[0] == 'a' + id &&
		          pad[299] == 'a' + id);
		cr_assert_eq(i, seen[id], "thread %d: line %d after %d", id, i, seen[id]);
		seen[id]++;
		line = nl + 1;
	}
	cr_expect_eq(lines, NTHREADS * NLINES);
	free(out);
}

/* The process ends inside the test, so its line cannot be read back: keep it out of the way. */
static void
stderr_to_devnull(void)
{
	int fd = open("/dev/null", O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_geq(dup2(fd, STDERR_FILENO), 0);
	close(fd);
}

Test(log, fatalx_logs_at_err_and_exits_1, .exit_code = 1)
{
	stderr_to_devnull();
	log_init(LOG_LVL_ERR);
	fatalx("cannot continue");
}

Test(log, fatal_logs_at_err_and_exits_1, .exit_code = 1)
{
	stderr_to_devnull();
	log_init(LOG_LVL_ERR);
	errno = EIO;
	fatal("cannot continue");
}

Test(log, level_names_parse)
{
	static const struct {
		const char *s;
		int level;
	} cases[] = {
	    {"err", LOG_LVL_ERR},
	    {"warn", LOG_LVL_WARN},
	    {"notice", LOG_LVL_NOTICE},
	    {"info", LOG_LVL_INFO},
	    {"debug", LOG_LVL_DEBUG},
	    {"ERR", -1},
	    {"error", -1},
	    {"warning", -1},
	    {"", -1},
	    {"info ", -1},
	    {"6", -1},
	    {NULL, -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(log_level_parse(cases[i].s), cases[i].level, "case %zu", i);
}

Test(log, q_quotes_only_what_needs_it)
{
	static const struct {
		const char *s;
		size_t bufsz;
		const char *want;
	} cases[] = {
	    {"lag", 64, "lag"},
	    {"credit.in.nm-tax", 64, "credit.in.nm-tax"},
	    {"", 64, "\"\""},
	    {NULL, 64, "\"\""},
	    {"a b", 64, "\"a b\""},
	    {"a\"b", 64, "\"a\\\"b\""},
	    {"a=b", 64, "\"a=b\""},
	    {"a\nb", 64, "\"a\\nb\""},
	    {"a\r\tb", 64, "\"a\\r\\tb\""},
	    {"a\\b", 64, "a\\b"},
	    {"a\\b c", 64, "\"a\\\\b c\""},
	    {"\x01", 64, "\"\\x01\""},
	    {"\x7f", 64, "\"\\x7f\""},
	    {"呼和浩特", 64, "呼和浩特"},
	    {"呼和 浩特", 64, "\"呼和 浩特\""},
	    /* truncated to fit: quotes closed, escapes and UTF-8 characters never split */
	    {"abcdef", 4, "abc"},
	    {"abc", 1, ""},
	    {"a b c d", 6, "\"a b\""},
	    {"a\"b", 4, "\"a\""},
	    {"a\"b", 5, "\"a\""},
	    {"a\"b", 6, "\"a\\\"\""},
	    {"\x01z", 6, "\"\""},
	    {"呼和浩特", 7, "呼和"},
	    {"呼和浩特", 6, "呼"},
	    {"呼和 浩特", 9, "\"呼和\""},
	    {"x y", 2, ""},
	    {"x y", 3, "\"\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[80]; /* room past bufsz to see an overrun */
		cr_assert_lt(cases[i].bufsz, sizeof(buf));
		memset(buf, '#', sizeof(buf));
		const char *got = log_q(buf, cases[i].bufsz, cases[i].s);
		cr_expect_eq(got, buf);
		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		cr_expect_eq(buf[cases[i].bufsz], '#', "case %zu wrote past bufsz", i);
	}
}

Test(log, redact_conninfo_hides_passwords)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
	    {"host=db dbname=x", "host=db dbname=x"},
	    {"", ""},
	    {NULL, ""},
	    {"host=db password=secret dbname=x", "host=db password=******** dbname=x"},
	    {"password='a b' host=db", "password=******** host=db"},
	    {"password = 'a \\' b' host=db", "password = ******** host=db"},
	    {"password=a\\ b host=db", "password=******** host=db"},
	    {"  host=db\tpassword=x  ", "  host=db\tpassword=********  "},
	    {"host=db password=", "host=db password="},
	    {"sslpassword=k host=x", "sslpassword=******** host=x"},
	    {"passfile=/etc/pgpass host=x", "passfile=/etc/pgpass host=x"},
	    {"user='pass word' host=x", "user='pass word' host=x"},
	    {"password secret host=x", "password ******** host=x"},
	    {"postgresql://u:pw@host:5432/db", "postgresql://u:********@host:5432/db"},
	    {"postgres://u:pw@h/db?sslmode=require&password=p2",
	     "postgres://u:********@h/db?sslmode=require&password=********"},
	    {"postgresql://u@h/db", "postgresql://u@h/db"},
	    {"postgresql://h:5432/db", "postgresql://h:5432/db"},
	    {"postgresql://h/db?password=x", "postgresql://h/db?password=********"},
	    {"postgresql://u:p@ss@h/db", "postgresql://u:********@h/db"},
	    {"postgresql://u:p/ss@h/db", "postgresql://u:********@h/db"},
	    {"postgresql://", "postgresql://"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[256];
		const char *got = log_redact_conninfo(buf, sizeof(buf), cases[i].in);
		cr_expect_eq(got, buf);
		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
	}
}

Test(log, redact_conninfo_never_leaks_when_cut)
{
	static const char *const ins[] = {
	    "host=db password=secret dbname=x",
	    "postgresql://u:secret@h/db?password=secret",
	};

	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		char full[256];
		log_redact_conninfo(full, sizeof(full), ins[i]);
		for (size_t sz = 1; sz < sizeof(full); sz++) {
			char buf[256];
			memset(buf, '#', sizeof(buf));
			log_redact_conninfo(buf, sz, ins[i]);
			cr_expect_null(strstr(buf, "sec"), "%zu: %s", sz, buf);
			cr_expect_eq(strncmp(buf, full, strlen(buf)), 0, "%zu: %s", sz, buf);
			cr_expect_lt(strlen(buf), sz);
			cr_expect_eq(buf[sz], '#', "%zu: wrote past bufsz", sz);
		}
	}
}
