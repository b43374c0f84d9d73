/* test_config: the configuration file: errors with their exact text, defaults, values,
 * kafka passthrough, printing with secrets masked, fixture files and the shipped example. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "paths.h"
#include "testlib.h"

/* The two required keys, so a case can add one line after them (line 3). */
#define BASE "kafka.bootstrap.servers = b1:9092\npg.conninfo = dbname=credsync\n"

static const char *
source_dir(void)
{
	const char *env = getenv("CREDSYNC_SOURCE");
	return env != NULL ? env : CREDSYNC_SRC_SCHEMAS "/..";
}

static char *
print_to_string(const config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	cr_assert_not_null(mem);
	config_print(cfg, mem);
	fclose(mem);
	return text;
}

static config *
parse_ok(const char *text)
{
	char err[512] = "";
	config *cfg = config_parse(text, "t.conf", err, sizeof(err));
	cr_assert_not_null(cfg, "config_parse failed on:\n%s\nwith: %s", text, err);
	return cfg;
}

/* config_int by name: 0 for a name that is not an integer key (those abort config_int). */
static long long
int_of(const config *cfg, const char *name)
{
	int key = config_key_find(name);
	struct config_keyinfo info;

	if (key < 0 || !config_key_info((size_t)key, &info) ||
	    (strcmp(info.type, "integer") != 0 && strcmp(info.type, "duration-ms") != 0))
		return 0;
	return config_int(cfg, (enum config_key)key);
}

Test(config, errors_name_file_line_and_reason)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"foo.bar = 1\n", "t.conf:1: unknown key \"foo.bar\""},
	    {BASE "Log.Level = info\n", "t.conf:3: unknown key \"Log.Level\""},
	    {BASE "kafka. = x\n", "t.conf:3: unknown key \"kafka.\""},
	    {BASE "kafka.embedded.partition = 2\n",
	     "t.conf:3: unknown key \"kafka.embedded.partition\""},
	    {BASE "kafka.sasl user = x\n", "t.conf:3: missing \"=\""},
	    {BASE "kafka.x: y = x\n", "t.conf:3: unknown key \"kafka.x: y\""},
	    {BASE "foo bar = x\n", "t.conf:3: unknown key \"foo bar\""},
	    {BASE "pg.connect_timeout_s 5 # =\n", "t.conf:3: missing \"=\""},
	    {BASE "log.level info=debug\n", "t.conf:3: missing \"=\""},
	    {BASE "batch.max_events 5\n", "t.conf:3: missing \"=\""},
	    {BASE "  = 5\n", "t.conf:3: missing key before \"=\""},
	    {BASE "batch.max_events = x\n",
	     "t.conf:3: \"batch.max_events\" must be an integer between 1 and 100000, not \"x\""},
	    {BASE "batch.max_events = 0\n",
	     "t.conf:3: \"batch.max_events\" must be an integer between 1 and 100000, not \"0\""},
	    {BASE "batch.max_events = 100001\n",
	     "t.conf:3: \"batch.max_events\" must be an integer "
	     "between 1 and 100000, not \"100001\""},
	    {BASE "apply.workers = 65\n",
	     "t.conf:3: \"apply.workers\" must be an integer between 0 and 64, not \"65\""},
	    {BASE "apply.workers = -1\n",
	     "t.conf:3: \"apply.workers\" must be an integer between 0 and 64, not \"-1\""},
	    {BASE "batch.max_events = 5x\n",
	     "t.conf:3: \"batch.max_events\" must be an integer between 1 and 100000, not \"5x\""},
	    {BASE "batch.max_events = 0x10\n", "t.conf:3: \"batch.max_events\" must be an integer "
	                                       "between 1 and 100000, not \"0x10\""},
	    {BASE "batch.max_events = 99999999999999999999\n",
	     "t.conf:3: \"batch.max_events\" must be an integer between 1 and 100000, not "
	     "\"99999999999999999999\""},
	    {BASE "batch.max_events = 1 000\n", "t.conf:3: \"batch.max_events\" must be an integer "
	                                        "between 1 and 100000, not \"1 000\""},
	    {BASE "batch.max_events =\n", "t.conf:3: \"batch.max_events\" must not be empty"},
	    {BASE "pg.connect_timeout_s = 0\n",
	     "t.conf:3: \"pg.connect_timeout_s\" must be an integer between 1 and 3600, not \"0\""},
	    {BASE "batch.max_wait_ms = 5h\n",
	     "t.conf:3: \"batch.max_wait_ms\" must be a duration between 0 and 60000 ms (like 250, "
	     "250ms, 5s or 1m), not \"5h\""},
	    {BASE "batch.max_wait_ms = 2m\n",
	     "t.conf:3: \"batch.max_wait_ms\" must be a duration between 0 and 60000 ms (like 250, "
	     "250ms, 5s or 1m), not \"2m\""},
	    {BASE "retry.max_backoff_ms = 50\n",
	     "t.conf:3: \"retry.max_backoff_ms\" must be a duration between 100 and 3600000 ms "
	     "(like 250, 250ms, 5s or 1m), not \"50\""},
	    {BASE "log.level = verbose\n",
	     "t.conf:3: \"log.level\" must be one of err, warn, notice, "
	     "info, debug, not \"verbose\""},
	    {BASE "log.level = INFO\n", "t.conf:3: \"log.level\" must be one of err, warn, notice, "
	                                "info, debug, not \"INFO\""},
	    {BASE "test.fixed_now = 2024-05-06\n",
	     "t.conf:3: \"test.fixed_now\" must be an RFC 3339 date-time like "
	     "2024-05-06T10:15:00+08:00, not \"2024-05-06\""},
	    {BASE "rules.sets = ../etc\n",
	     "t.conf:3: \"rules.sets\" must be a comma-separated list of names (letters, digits, "
	     "'-', '_'), not \"../etc\""},
	    {BASE "rules.sets = a,,b\n",
	     "t.conf:3: \"rules.sets\" must be a comma-separated list of names (letters, digits, "
	     "'-', '_'), not \"a,,b\""},
	    {BASE "rules.sets = a,\n",
	     "t.conf:3: \"rules.sets\" must be a comma-separated list of names (letters, digits, "
	     "'-', '_'), not \"a,\""},
	    {BASE "rules.sets =\n", "t.conf:3: \"rules.sets\" must not be empty"},
	    {BASE "kafka.sasl.username =\n", "t.conf:3: \"kafka.sasl.username\" must not be empty"},
	    {"kafka.bootstrap.servers =\n",
	     "t.conf:1: \"kafka.bootstrap.servers\" must not be empty"},
	    {"kafka.bootstrap.servers = b\n\npg.conninfo = a\n# again\npg.conninfo = b\n",
	     "t.conf:5: duplicate key \"pg.conninfo\" (first set on line 3)"},
	    {BASE "kafka.embedded.bootstrap_file =\nkafka.embedded.bootstrap_file = /x\n",
	     "t.conf:4: duplicate key \"kafka.embedded.bootstrap_file\" (first set on line 3)"},
	    {BASE "kafka.security.protocol = SSL\nkafka.security.protocol = SASL_SSL\n",
	     "t.conf:4: duplicate key \"kafka.security.protocol\" (first set on line 3)"},
	    {"kafka.bootstrap.servers = b\n", "t.conf: missing required key \"pg.conninfo\""},
	    {"pg.conninfo = x\n", "t.conf: missing required key \"kafka.bootstrap.servers\""},
	    {"", "t.conf: missing required key \"kafka.bootstrap.servers\""},
	    {"# nothing but a comment\n\n",
	     "t.conf: missing required key \"kafka.bootstrap.servers\""},
	    /* the first error wins: a line error before a later one, and before a missing key */
	    {"foo = 1\nbatch.max_events = x\n", "t.conf:1: unknown key \"foo\""},
	    {"batch.max_events = x\nfoo = 1\n",
	     "t.conf:1: \"batch.max_events\" must be an integer between 1 and 100000, not \"x\""},
	    /* a '#' after a blank starts a comment, also right after '=' */
	    {BASE "batch.max_events = # 5\n", "t.conf:3: \"batch.max_events\" must not be empty"},
	    {BASE "batch.max_events =#5\n",
	     "t.conf:3: \"batch.max_events\" must be an integer between 1 and 100000, not \"#5\""},
	    {BASE "# = x\nfoo#bar = 1\n", "t.conf:4: unknown key \"foo#bar\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		config *cfg = config_parse(cases[i].text, "t.conf", err, sizeof(err));
		cr_expect_null(cfg, "case %zu accepted:\n%s", i, cases[i].text);
		cr_expect_str_eq(err, cases[i].err, "case %zu:\n%s", i, cases[i].text);
		config_free(cfg);
	}
}

Test(config, values_are_trimmed_checked_and_normalized)
{
	static const struct {
		const char *line;
		const char *key;
		const char *str; /* NULL: none */
		long long num;
	} cases[] = {
	    {"batch.max_events = 1", "batch.max_events", "1", 1},
	    {"batch.max_events = 100000", "batch.max_events", "100000", 100000},
	    {"batch.max_events = +42", "batch.max_events", "42", 42},
	    {"batch.max_events = 007", "batch.max_events", "7", 7},
	    {"batch.max_wait_ms = 0", "batch.max_wait_ms", "0", 0},
	    {"batch.max_wait_ms = 250ms", "batch.max_wait_ms", "250", 250},
	    {"batch.max_wait_ms = 5s", "batch.max_wait_ms", "5000", 5000},
	    {"batch.max_wait_ms = 1m", "batch.max_wait_ms", "60000", 60000},
	    {"shutdown.timeout_ms = 60m", "shutdown.timeout_ms", "3600000", 3600000},
	    {"pg.statement_timeout_ms = 100", "pg.statement_timeout_ms", "100", 100},
	    {"test.clock_offset_s = -86400", "test.clock_offset_s", "-86400", -86400},
	    {"kafka.embedded.partitions = 12", "kafka.embedded.partitions", "12", 12},
	    {"log.lag_interval_s = 1", "log.lag_interval_s", "1", 1},
	    {"outbox.batch = 20", "outbox.batch", "20", 20},
	    {"apply.workers = 1", "apply.workers", "1", 1},
	    {"apply.workers = 64", "apply.workers", "64", 64},
	    {"rules.sets = seed-2024 , extra_1", "rules.sets", "seed-2024,extra_1", 0},
	    {"rules.sets = a", "rules.sets", "a", 0},
	    {"log.level = debug", "log.level", "debug", 0},
	    {"log.level = err", "log.level", "err", 0},
	    {"data.dir = /srv/credsync data", "data.dir", "/srv/credsync data", 0},
	    {"kafka.embedded.bootstrap_file = /run/x # where to write it",
	     "kafka.embedded.bootstrap_file", "/run/x", 0},
	    {"kafka.embedded.bootstrap_file =", "kafka.embedded.bootstrap_file", NULL, 0},
	    {"kafka.embedded.bootstrap_file =   # none", "kafka.embedded.bootstrap_file", NULL, 0},
	    {"test.fixed_now = 2024-05-06T10:15:00+08:00", "test.fixed_now",
	     "2024-05-06T10:15:00+08:00", 0},
	    {"test.fixed_now = 2024-05-06T02:15:00.5Z", "test.fixed_now", "2024-05-06T02:15:00.5Z",
	     0},
	    {"test.fixed_now =", "test.fixed_now", NULL, 0},
	    {"\tkafka.group.id\t=\tgrp\t\r", "kafka.group.id", "grp", 0},
	    {"kafka.group.id = a = b", "kafka.group.id", "a = b", 0},
	    {"kafka.group.id = a#b", "kafka.group.id", "a#b", 0},
	    {"kafka.group.id = a\t# c", "kafka.group.id", "a", 0},
	    {"kafka.group.id = 呼和浩特", "kafka.group.id", "呼和浩特", 0},
	    {"kafka.security.protocol = SASL_SSL  ", "kafka.security.protocol", "SASL_SSL", 0},
	    {"kafka.client.id=credsyncd-1", "kafka.client.id", "credsyncd-1", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), BASE "%s\n", cases[i].line);
		config *cfg = parse_ok(text);
		const char *got = config_get(cfg, cases[i].key);
		if (cases[i].str == NULL)
			cr_expect_null(got, "case %zu: %s", i, cases[i].line);
		else
			cr_expect_str_eq(got != NULL ? got : "(null)", cases[i].str, "case %zu: %s",
			                 i, cases[i].line);
		cr_expect_eq(int_of(cfg, cases[i].key), cases[i].num, "case %zu: %s", i,
		             cases[i].line);
		config_free(cfg);
	}
}

Test(config, required_keys_take_their_values)
{
	static const struct {
		const char *text;
		const char *key;
		const char *str;
	} cases[] = {
	    {"pg.conninfo = host=a password=x#y\nkafka.bootstrap.servers = b\n", "pg.conninfo",
	     "host=a password=x#y"},
	    /* empty: libpq takes everything from PG* and ~/.pgpass */
	    {"pg.conninfo =\nkafka.bootstrap.servers = b\n", "pg.conninfo", ""},
	    {"pg.conninfo = x\r\nkafka.bootstrap.servers = embedded\r\n", "kafka.bootstrap.servers",
	     "embedded"},
	    {"\xef\xbb\xbfpg.conninfo = x\nkafka.bootstrap.servers = b", "pg.conninfo", "x"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config *cfg = parse_ok(cases[i].text);
		const char *got = config_get(cfg, cases[i].key);
		cr_expect_str_eq(got != NULL ? got : "(null)", cases[i].str, "case %zu", i);
		config_free(cfg);
	}
}

Test(config, unset_keys_have_the_documented_defaults)
{
	/* From the brief and the README's configuration keys; a key added to the table must be
	 * added here too. */
	static const struct {
		const char *key;
		const char *str; /* NULL: none */
		long long num;
	} cases[] = {
	    {"kafka.bootstrap.servers", "b1:9092", 0},
	    {"kafka.group.id", "credsyncd", 0},
	    {"kafka.embedded.bootstrap_file", NULL, 0},
	    {"kafka.embedded.partitions", "3", 3},
	    {"pg.conninfo", "dbname=credsync", 0},
	    {"pg.statement_timeout_ms", "30000", 30000},
	    {"pg.connect_timeout_s", "10", 10},
	    {"pg.pooling", "session", 0},
	    {"data.dir", "", 0}, /* compared with paths_datadir() below */
	    {"rules.sets", "auto", 0},
	    {"log.level", "info", 0},
	    {"log.lag_interval_s", "10", 10},
	    {"metrics.textfile", NULL, 0},
	    {"batch.max_events", "500", 500},
	    {"batch.max_wait_ms", "100", 100},
	    {"apply.workers", "0", 0},
	    {"outbox.batch", "500", 500},
	    {"retry.max_backoff_ms", "30000", 30000},
	    {"shutdown.timeout_ms", "8000", 8000},
	    {"test.clock_offset_s", "0", 0},
	    {"test.fixed_now", NULL, 0},
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	config *cfg = parse_ok(BASE);
	struct config_keyinfo info;
	size_t nkeys = 0;

	for (size_t i = 0; i < ncases; i++) {
		const char *want =
		    strcmp(cases[i].key, "data.dir") == 0 ? paths_datadir() : cases[i].str;
		const char *got = config_get(cfg, cases[i].key);
		if (want == NULL)
			cr_expect_null(got, "%s", cases[i].key);
		else
			cr_expect_str_eq(got != NULL ? got : "(null)", want, "%s", cases[i].key);
		cr_expect_eq(int_of(cfg, cases[i].key), cases[i].num, "%s", cases[i].key);
	}
	while (config_key_info(nkeys, &info)) {
		size_t i;
		for (i = 0; i < ncases && strcmp(cases[i].key, info.name) != 0; i++)
			;
		cr_expect_lt(i, ncases, "key %s has no expected default here", info.name);
		nkeys++;
	}
	cr_expect_eq(nkeys, ncases);
	config_free(cfg);
}

Test(config, unknown_names_have_no_key_and_no_value)
{
	config *cfg = parse_ok(BASE);

	cr_expect_eq(config_key_find("no.such.key"), -1);
	cr_expect_eq(config_key_find("kafka.security.protocol"), -1);
	cr_expect_eq(config_key_find("log.level"), (int)CFG_LOG_LEVEL);
	cr_expect_null(config_get(cfg, "no.such.key"));
	cr_expect_null(config_get(cfg, "kafka.security.protocol"));
	config_free(cfg);
}

/* Asking for a key the wrong way is a mistake in the code: it must not pass silently. */
Test(config, int_of_a_string_key_aborts, .signal = SIGABRT)
{
	config *cfg = parse_ok(BASE);

	(void)config_int(cfg, CFG_LOG_LEVEL);
}

Test(config, a_key_id_outside_the_table_aborts, .signal = SIGABRT)
{
	config *cfg = parse_ok(BASE);

	(void)config_str(cfg, CFG_KEY_COUNT);
}

Test(config, every_log_level_is_one_log_parses)
{
	static const char *const levels[] = {"err", "warn", "notice", "info", "debug"};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), BASE "log.level = %s\n", levels[i]);
		config *cfg = parse_ok(text);
		cr_expect_eq(log_level_parse(config_get(cfg, "log.level")), LOG_LVL_ERR + (int)i);
		config_free(cfg);
	}
}

struct collect {
	char buf[1024];
	size_t len;
	int calls, stop_at;
};

static int
collect_kafka(const char *prop, const char *value, void *arg)
{
	struct collect *c = arg;

	c->calls++;
	c->len += (size_t)snprintf(c->buf + c->len, sizeof(c->buf) - c->len, "%s=%s;", prop, value);
	return c->calls == c->stop_at ? 7 : 0;
}

Test(config, kafka_keys_pass_through_except_credsyncs_own)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {BASE, "bootstrap.servers=b1:9092;group.id=credsyncd;"},
	    {"kafka.bootstrap.servers = b1:9092,b2:9092\n"
	     "kafka.security.protocol = SASL_SSL\n"
	     "pg.conninfo = x\n"
	     "kafka.group.id = g\n"
	     "kafka.embedded.partitions = 5\n"
	     "kafka.embedded.bootstrap_file = /run/bootstrap\n"
	     "kafka.sasl.password = pw\n",
	     "bootstrap.servers=b1:9092,b2:9092;group.id=g;security.protocol=SASL_SSL;"
	     "sasl.password=pw;"},
	    {"kafka.bootstrap.servers = embedded\npg.conninfo = x\nkafka.client.id = c\n",
	     "group.id=credsyncd;client.id=c;"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collect c = {.len = 0};
		config *cfg = parse_ok(cases[i].text);
		cr_expect_eq(config_foreach_kafka(cfg, collect_kafka, &c), 0);
		cr_expect_str_eq(c.buf, cases[i].want, "case %zu", i);
		config_free(cfg);
	}
}

Test(config, kafka_foreach_stops_at_a_non_zero_return)
{
	struct collect c = {.len = 0, .stop_at = 3};
	config *cfg = parse_ok(BASE "kafka.a = 1\nkafka.b = 2\n");

	cr_expect_eq(config_foreach_kafka(cfg, collect_kafka, &c), 7);
	cr_expect_eq(c.calls, 3);
	cr_expect_str_eq(c.buf, "bootstrap.servers=b1:9092;group.id=credsyncd;a=1;");
	cr_expect_str_eq(config_get(cfg, "kafka.b"), "2");
	config_free(cfg);
}

Test(config, print_shows_every_key_and_masks_secrets)
{
	const char *text = "kafka.bootstrap.servers = b1:9092\n"
	                   "pg.conninfo = host=db user=u password='s3 cr3t' dbname=credsync\n"
	                   "data.dir = /srv/schemas\n"
	                   "batch.max_wait_ms = 2s\n"
	                   "log.level = debug\n"
	                   "kafka.security.protocol = SASL_SSL\n"
	                   "kafka.sasl.password = kpw\n"
	                   "kafka.ssl.key.password = kkpw\n"
	                   "kafka.sasl.oauthbearer.client.secret = 0auth-s3\n"
	                   "kafka.ssl.key.pem = PEMDATA\n";
	const char *want = "kafka.bootstrap.servers = b1:9092\n"
	                   "kafka.group.id = credsyncd # (default)\n"
	                   "kafka.embedded.bootstrap_file = # (default: none)\n"
	                   "kafka.embedded.partitions = 3 # (default)\n"
	                   "pg.conninfo = host=db user=u password=******** dbname=credsync\n"
	                   "pg.statement_timeout_ms = 30000 # (default)\n"
	                   "pg.connect_timeout_s = 10 # (default)\n"
	                   "pg.pooling = session # (default)\n"
	                   "data.dir = /srv/schemas\n"
	                   "rules.sets = auto # (default)\n"
	                   "log.level = debug\n"
	                   "log.lag_interval_s = 10 # (default)\n"
	                   "metrics.textfile = # (default: none)\n"
	                   "batch.max_events = 500 # (default)\n"
	                   "batch.max_wait_ms = 2000\n"
	                   "apply.workers = 0 # (default)\n"
	                   "outbox.batch = 500 # (default)\n"
	                   "retry.max_backoff_ms = 30000 # (default)\n"
	                   "shutdown.timeout_ms = 8000 # (default)\n"
	                   "test.clock_offset_s = 0 # (default)\n"
	                   "test.fixed_now = # (default: none)\n"
	                   "kafka.security.protocol = SASL_SSL\n"
	                   "kafka.sasl.password = ********\n"
	                   "kafka.ssl.key.password = ********\n"
	                   "kafka.sasl.oauthbearer.client.secret = ********\n"
	                   "kafka.ssl.key.pem = ********\n";
	config *cfg = parse_ok(text);
	char *out = print_to_string(cfg);

	cr_expect_str_eq(out, want);
	static const char *const secrets[] = {"s3 cr3t", "kpw", "kkpw", "0auth-s3", "PEMDATA"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_expect_null(strstr(out, secrets[i]), "%s printed", secrets[i]);
	free(out);
	config_free(cfg);
}

Test(config, printed_settings_parse_back_to_the_same_values)
{
	config *cfg = parse_ok("kafka.bootstrap.servers = embedded\n"
	                       "pg.conninfo = postgresql://u@db/credsync\n"
	                       "rules.sets = a, b\n"
	                       "kafka.embedded.bootstrap_file = /run/b\n"
	                       "test.fixed_now = 2024-05-06T10:15:00+08:00\n"
	                       "kafka.client.id = c1\n");
	char *out = print_to_string(cfg);
	config *again = parse_ok(out);
	struct config_keyinfo info;

	for (size_t i = 0; config_key_info(i, &info); i++) {
		const char *a = config_get(cfg, info.name), *b = config_get(again, info.name);
		cr_expect((a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0),
		          "%s: %s vs %s", info.name, a != NULL ? a : "(null)",
		          b != NULL ? b : "(null)");
	}
	cr_expect_str_eq(config_get(again, "kafka.client.id"), "c1");
	free(out);
	config_free(again);
	config_free(cfg);
}

Test(config, load_reports_what_stops_reading)
{
	char err[512], path[4096], want[4200];
	char tmpl[] = "/tmp/test_config_XXXXXX";
	static const char nul_text[] = BASE "batch.max_events = 5\0 0\n";
	int fd;

	cr_expect_null(config_load("/nonexistent/credsyncd.conf", err, sizeof(err)));
	cr_expect_str_eq(err,
	                 "/nonexistent/credsyncd.conf: could not open: No such file or directory");

	snprintf(path, sizeof(path), "%s/config", testlib_fixtures_dir());
	cr_expect_null(config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: could not read: Is a directory", path);
	cr_expect_str_eq(err, want);

	fd = mkstemp(tmpl);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, nul_text, sizeof(nul_text) - 1), (ssize_t)(sizeof(nul_text) - 1));
	close(fd);
	cr_expect_null(config_load(tmpl, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: contains a NUL byte", tmpl);
	cr_expect_str_eq(err, want);
	unlink(tmpl);
}

/* Strips one trailing newline (fixture files end with one). */
static void
chomp(char *s)
{
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '\n')
		s[n - 1] = '\0';
}

/* invalid/NAME.conf fails with the text of invalid/NAME.err, in which the file's path is
 * written relative to the config fixtures directory. */
Test(config, invalid_fixtures_fail_with_their_error)
{
	char dir[4096], sub[4200], path[4400], err[4600];
	size_t n;
	char **names;

	snprintf(dir, sizeof(dir), "%s/config", testlib_fixtures_dir());
	snprintf(sub, sizeof(sub), "%s/invalid", dir);
	names = testlib_list_dir(sub, ".conf", &n);
	cr_assert_gt(n, 0, "no fixtures in %s", sub);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		snprintf(path, sizeof(path), "%s/%.*s.err", sub, (int)(len - 5), names[i]);
		char *want = testlib_read_file(path, NULL);
		cr_assert_not_null(want, "%s: %s", path, strerror(errno));
		chomp(want);
		snprintf(path, sizeof(path), "%s/%s", sub, names[i]);
		cr_expect_null(config_load(path, err, sizeof(err)), "%s accepted", names[i]);
		/* err starts with the full path: compare the part after "<dir>/" */
		size_t dlen = strlen(dir);
		cr_expect(strncmp(err, dir, dlen) == 0 && err[dlen] == '/', "%s: %s", names[i],
		          err);
		cr_expect_str_eq(err + (strncmp(err, dir, dlen) == 0 ? dlen + 1 : 0), want, "%s",
		                 names[i]);
		free(want);
		free(names[i]);
	}
	free(names);
}

/* valid/NAME.conf loads and prints exactly valid/NAME.print (saved, read by a person). */
Test(config, valid_fixtures_print_as_saved)
{
	char sub[4200], path[4400], err[4600];
	size_t n;
	char **names;

	snprintf(sub, sizeof(sub), "%s/config/valid", testlib_fixtures_dir());
	names = testlib_list_dir(sub, ".conf", &n);
	cr_assert_gt(n, 0, "no fixtures in %s", sub);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		snprintf(path, sizeof(path), "%s/%.*s.print", sub, (int)(len - 5), names[i]);
		char *want = testlib_read_file(path, NULL);
		cr_assert_not_null(want, "%s: %s", path, strerror(errno));
		snprintf(path, sizeof(path), "%s/%s", sub, names[i]);
		config *cfg = config_load(path, err, sizeof(err));
		cr_expect_not_null(cfg, "%s: %s", names[i], err);
		if (cfg != NULL) {
			char *out = print_to_string(cfg);
			cr_expect_str_eq(out, want, "%s", names[i]);
			free(out);
		}
		config_free(cfg);
		free(want);
		free(names[i]);
	}
	free(names);
}

static char *
example_path(char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s/deploy/systemd/credsyncd.conf.example", source_dir());
	return buf;
}

Test(config, the_shipped_example_loads)
{
	char path[4096], err[4600];
	config *cfg = config_load(example_path(path, sizeof(path)), err, sizeof(err));

	cr_expect_not_null(cfg, "%s", err);
	config_free(cfg);
}

/* Every known key appears in the example below a "# <doc>" line taken from the table: set when
 * required, otherwise commented out with its default; and no other key is mentioned. */
Test(config, the_shipped_example_documents_every_key_with_its_default)
{
	char path[4096], want[512], doc[1024];
	char *text = testlib_read_file(example_path(path, sizeof(path)), NULL);
	struct config_keyinfo info;

	cr_assert_not_null(text, "%s: %s", path, strerror(errno));
	for (size_t i = 0; config_key_info(i, &info); i++) {
		if (info.required)
			snprintf(want, sizeof(want), "\n%s = ", info.name);
		else if (strcmp(info.name, "data.dir") == 0) /* its default depends on the host */
			snprintf(want, sizeof(want), "\n#%s = ", info.name);
		else if (info.default_value == NULL)
			snprintf(want, sizeof(want), "\n#%s =\n", info.name);
		else
			snprintf(want, sizeof(want), "\n#%s = %s\n", info.name, info.default_value);
		snprintf(doc, sizeof(doc), "\n# %s%s", info.doc, want);
		cr_expect_not_null(strstr(text, want), "example lacks \"%s\"", want + 1);
		cr_expect_not_null(strstr(text, doc), "example lacks the doc of %s", info.name);
	}
	/* the other way: each "key = value" line (set or commented) names a known or kafka key */
	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n'), *p = line[0] == '#' ? line + 1 : line, key[256];
		int n = 0;
		if (nl != NULL)
			*nl = '\0';
		if (sscanf(p, "%255[a-z0-9._]%n", key, &n) == 1 && strncmp(p + n, " =", 2) == 0 &&
		    strncmp(key, "kafka.", 6) != 0) {
			bool known = false;
			for (size_t i = 0; config_key_info(i, &info); i++)
				known = known || strcmp(info.name, key) == 0;
			cr_expect(known, "example mentions unknown key \"%s\"", key);
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	free(text);
}
