/* e2e: end-to-end test harness around the real binaries. */
#include "e2e.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "pgtest.h"
#include "testlib.h"

static void
pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static char *
bin(const char *name)
{
	static char path[4][1024];
	static int i;
	const char *dir = getenv("CREDSYNC_BIN");
	cr_assert(dir != NULL, "CREDSYNC_BIN is not set");
	char *p = path[i++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

/* ---- memcheck (see e2e.h) ---- */

bool
e2e_valgrind(void)
{
	const char *v = getenv("CREDSYNC_VALGRIND");
	return v != NULL && strcmp(v, "1") == 0;
}

static int
time_scale(void)
{
	const char *v = getenv("CREDSYNC_TIME_SCALE");
	if (v == NULL || v[0] == '\0')
		return 1;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	cr_assert(errno == 0 && *end == '\0' && n >= 1 && n <= 1000,
	          "CREDSYNC_TIME_SCALE must be an integer from 1 to 1000, not \"%s\"", v);
	return (int)n;
}

int
e2e_ms(int ms)
{
	long long scaled = (long long)ms * time_scale();
	return scaled > 2000000000LL ? 2000000000 : (int)scaled;
}

/* Criterion reads each test's .timeout in the runner after this hook: a slower run (valgrind)
 * gets proportionally more time instead of each test being edited. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	int scale = time_scale();
	if (scale == 1)
		return;
	FOREACH_SET(struct criterion_suite_set * s, set->suites)
	{
		if (s->suite.data != NULL && s->suite.data->timeout > 0)
			s->suite.data->timeout *= scale;
		FOREACH_SET(struct criterion_test * t, s->tests)
		{
			if (t->data != NULL && t->data->timeout > 0)
				t->data->timeout *= scale;
		}
	}
}

/* This test process's directory of valgrind logs (created on first use), or NULL when
 * valgrind is off. Per process: each Criterion test runs in its own process and reads only
 * the logs of its own children. */
static const char *
vg_dir(void)
{
	static char dir[512];
	if (!e2e_valgrind())
		return NULL;
	const char *base = getenv("CREDSYNC_VALGRIND_DIR");
	if (base == NULL || base[0] == '\0')
		base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	/* made again after e2e_valgrind_check removed it empty; base's parents too */
	char parent[512];
	snprintf(parent, sizeof(parent), "%s", base);
	for (char *p = strchr(parent + 1, '/');; p = strchr(p + 1, '/')) {
		if (p != NULL)
			*p = '\0';
		cr_assert(mkdir(parent, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", parent,
		          strerror(errno));
		if (p == NULL)
			break;
		*p = '/';
	}
	if (dir[0] == '\0') /* the test process's: a child made by fork keeps it */
		snprintf(dir, sizeof(dir), "%s/vg.%ld", base, (long)getpid());
	cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
	return dir;
}

/* Whether path is one of our binaries (under CREDSYNC_BIN): only those run under valgrind. */
static bool
ours(const char *path)
{
	const char *dir = getenv("CREDSYNC_BIN");
	size_t n = dir ? strlen(dir) : 0;
	return n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* valgrind's arguments before the program's, into args (NULL-terminated); returns how many. */
static size_t
vg_args(const char *program, char **args, size_t cap)
{
	static char logarg[700], supparg[1100];
	const char *name = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
	const char *fixed[] = {"/usr/bin/valgrind",
	                       "--tool=memcheck",
	                       "--error-exitcode=99",
	                       "--leak-check=full",
	                       "--errors-for-leak-kinds=definite",
	                       "--show-leak-kinds=definite",
	                       "--track-origins=no",
	                       "--num-callers=30",
	                       "--child-silent-after-fork=yes"};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n + 1 < cap; i++)
		args[n++] = strdup(fixed[i]);
	snprintf(logarg, sizeof(logarg), "--log-file=%s/%s.%%p.vg", vg_dir(), name);
	args[n++] = strdup(logarg);
	const char *src = getenv("CREDSYNC_SOURCE");
	if (src != NULL) {
		snprintf(supparg, sizeof(supparg), "%s/tests/valgrind.supp", src);
		if (access(supparg, R_OK) == 0) {
			snprintf(supparg, sizeof(supparg), "--suppressions=%s/tests/valgrind.supp",
			         src);
			args[n++] = strdup(supparg);
		}
	}
	args[n] = NULL;
	return n;
}

/* argv made ready for execv in a child: copies (exec wants mutable strings; the child's copies
 * are free to give), behind valgrind's arguments when it is on and argv[0] is ours. */
static void
exec_args(const char *const argv[], char **args, size_t cap)
{
	size_t n = 0;
	if (e2e_valgrind() && ours(argv[0]))
		n = vg_args(argv[0], args, cap - 1);
	for (size_t i = 0; argv[i] != NULL && n + 1 < cap; i++)
		args[n++] = strdup(argv[i]);
	args[n] = NULL;
}

const char *
e2e_shell_prefix(const char *name)
{
	static char prefix[2048];
	prefix[0] = '\0';
	if (!e2e_valgrind())
		return prefix;
	char *args[16];
	size_t n = vg_args(name, args, 16), len = 0;
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(prefix + len, sizeof(prefix) - len, "'%s' ", args[i]);
		cr_assert(len < sizeof(prefix));
		free(args[i]);
	}
	return prefix;
}

/* The number of memcheck error reports in a log (their first lines), for a process that was
 * killed before valgrind could write its summary. */
static int
vg_error_reports(const char *text, char *first, size_t firstsz)
{
	static const char *const heads[] = {"Invalid read",        "Invalid write",
	                                    "Invalid free",        "Mismatched free",
	                                    "Conditional jump",    "Use of uninitialised",
	                                    "Syscall param",       "Source and destination overlap",
	                                    "Argument '",          "Jump to the invalid",
	                                    "Invalid alignment",   "Process terminating",
	                                    "realloc() with size", "Illegal memory pool",
	                                    "Invalid memory pool", "Fishy value"};
	int count = 0;
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *eol = strchr(line, '\n');
		/* "==<pid>== " then the report's head */
		if (line[0] == '=' && line[1] == '=') {
			const char *p = strstr(line + 2, "== ");
			if (p != NULL && (eol == NULL || p < eol)) {
				p += 3;
				for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
					if (strncmp(p, heads[i], strlen(heads[i])) == 0) {
						if (count++ == 0)
							snprintf(
							    first, firstsz, "%.*s",
							    (int)(eol ? eol - p : (long)strlen(p)),
							    p);
						break;
					}
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return count;
}

bool
e2e_valgrind_log_clean(const char *path, char *why, size_t whysz)
{
	char *text = testlib_read_file(path, NULL);
	if (text == NULL) {
		snprintf(why, whysz, "could not read the log: %s", strerror(errno));
		return false;
	}
	char first[300] = "";
	int reports = vg_error_reports(text, first, sizeof(first));
	const char *summary = strstr(text, "ERROR SUMMARY: ");
	const char *lost = strstr(text, "definitely lost: ");
	long errors = summary ? strtol(summary + strlen("ERROR SUMMARY: "), NULL, 10) : 0;
	long lost_bytes = lost ? strtol(lost + strlen("definitely lost: "), NULL, 10) : 0;
	bool clean = true;
	if (summary != NULL && (errors != 0 || lost_bytes != 0)) {
		snprintf(why, whysz, "%ld errors, %ld bytes definitely lost%s%s", errors,
		         lost_bytes, first[0] ? "; first: " : "", first);
		clean = false;
	} else if (reports > 0) {
		/* no summary: SIGKILLed, leaks unknown and not counted */
		snprintf(why, whysz, "%d error reports%s; first: %s", reports,
		         summary ? "" : " (killed)", first);
		clean = false;
	}
	free(text);
	return clean;
}

void
e2e_valgrind_check(void)
{
	const char *dir = vg_dir();
	if (dir == NULL)
		return;
	DIR *d = opendir(dir);
	cr_assert(d != NULL, "opendir %s: %s", dir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".vg") != 0)
			continue;
		/* <name>.<pid>.vg: read once the process is gone (a zombie still answers kill 0) */
		const char *dot = de->d_name + len - 4;
		while (dot > de->d_name && *dot != '.')
			dot--;
		long pid = strtol(dot + 1, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) == 0)
			continue;
		char path[1024], bad[1100], why[512];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (e2e_valgrind_log_clean(path, why, sizeof(why))) {
			snprintf(bad, sizeof(bad), "%s.ok", path); /* CREDSYNC_KEEP: to read */
			if (getenv("CREDSYNC_KEEP") != NULL)
				rename(path, bad);
			else
				unlink(path);
		} else {
			snprintf(bad, sizeof(bad), "%s.bad", path);
			rename(path, bad);
			cr_expect(false, "valgrind: %s: %s", bad, why);
		}
	}
	closedir(d);
	rmdir(dir); /* fails, as it should, while a log is left */
}

static pid_t
spawn(const char *const argv[], const char *log_path)
{
	if (e2e_valgrind() && ours(argv[0]))
		vg_dir(); /* made before the fork: the child cannot assert */
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		char *args[48];
		exec_args(argv, args, 48);
		execv(args[0], args);
		_exit(127);
	}
	return pid;
}

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	*(rd_kafka_resp_err_t *)m->_private = m->err;
}

/* Harnesses started and not stopped yet: a failed assertion leaves the test function early,
 * so the suite's fini stops what is left (e2e_cleanup). */
static struct e2e *live[8];

void
e2e_cleanup(void)
{
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] != NULL)
			e2e_stop(live[i]);
}

void
e2e_start(struct e2e *e)
{
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] == NULL) {
			live[i] = e;
			break;
		}
	char tmpl[] = "/tmp/credsync-e2e.XXXXXX", path[512], err[512];

	memset(e->daemons, 0, sizeof(e->daemons));
	cr_assert(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(e->dir, sizeof(e->dir), "%s", tmpl);
	e->conninfo = pgtest_fresh_db("e2e");
	cr_assert(e->conninfo != NULL, "could not create a test database");

	snprintf(path, sizeof(path), "%s/bootstrap", e->dir);
	char logp[512];
	snprintf(logp, sizeof(logp), "%s/devbroker.log", e->dir);
	/* it creates every producer's topics itself, from $CREDSYNC_SCHEMAS's authorities.tsv */
	const char *argv[] = {bin("credsync-devbroker"), "--partitions", "3",
	                      "--bootstrap-file",        path,           NULL};
	e->broker = spawn(argv, logp);
	long long deadline = testlib_now_ms() + e2e_ms(20000);
	char *boot = NULL;
	while ((boot = testlib_read_file(path, NULL)) == NULL || boot[0] == '\0') {
		free(boot);
		boot = NULL;
		cr_assert(testlib_now_ms() < deadline, "devbroker did not write %s", path);
		pause_ms(50);
	}
	boot[strcspn(boot, "\r\n")] = '\0';
	snprintf(e->bootstrap, sizeof(e->bootstrap), "%s", boot);
	free(boot);

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	cr_assert(rd_kafka_conf_set(conf, "bootstrap.servers", e->bootstrap, err, sizeof(err)) ==
	          RD_KAFKA_CONF_OK);
	rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
	rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	e->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	cr_assert(e->producer != NULL, "producer: %s", err);
}

const char *
e2e_daemon_log(const struct e2e *e, int idx)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/credsyncd-%d.log", e->dir, idx);
	return path;
}

void
e2e_daemon_start(struct e2e *e, int idx)
{
	char cfgpath[512];
	snprintf(cfgpath, sizeof(cfgpath), "%s/credsyncd-%d.conf", e->dir, idx);
	FILE *fp = fopen(cfgpath, "w");
	cr_assert(fp != NULL);
	fprintf(fp,
	        "kafka.bootstrap.servers = %s\n"
	        "kafka.session.timeout.ms = 6000\n"
	        "kafka.topic.metadata.refresh.interval.ms = 1000\n"
	        "pg.conninfo = %s\n"
	        "data.dir = %s\n"
	        "log.level = debug\n"
	        "log.lag_interval_s = 1\n"
	        "batch.max_wait_ms = 50\n"
	        "retry.max_backoff_ms = 1000\n"
	        "%s\n",
	        e->bootstrap, e->daemon_conninfo != NULL ? e->daemon_conninfo : e->conninfo,
	        getenv("CREDSYNC_SCHEMAS"), e->extra_config ? e->extra_config : "");
	fclose(fp);

	const char *log = e2e_daemon_log(e, idx);
	long before = 0;
	char *old = testlib_read_file(log, NULL);
	if (old != NULL) {
		before = (long)strlen(old);
		free(old);
	}
	const char *argv[] = {bin("credsyncd"), "-c", cfgpath, NULL};
	e->daemons[idx] = spawn(argv, log);

	long long deadline = testlib_now_ms() + e2e_ms(30000);
	for (;;) {
		char *text = testlib_read_file(log, NULL);
		bool up = text != NULL && (long)strlen(text) > before &&
		          strstr(text + before, "msg=started") != NULL;
		free(text);
		if (up)
			return;
		int status;
		cr_assert(waitpid(e->daemons[idx], &status, WNOHANG) == 0,
		          "credsyncd %d exited while starting (log %s)", idx, log);
		cr_assert(testlib_now_ms() < deadline, "credsyncd %d did not start (log %s)", idx,
		          log);
		pause_ms(50);
	}
}

int
e2e_daemon_stop(struct e2e *e, int idx, int sig)
{
	int status = 0;
	if (e->daemons[idx] <= 0)
		return -1;
	kill(e->daemons[idx], sig);
	waitpid(e->daemons[idx], &status, 0);
	e->daemons[idx] = 0;
	/* --error-exitcode: also when the log could not be written */
	cr_expect(!e2e_valgrind() || !WIFEXITED(status) || WEXITSTATUS(status) != 99,
	          "valgrind: credsyncd %d exited 99 (memory errors or leaks)", idx);
	e2e_valgrind_check();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* With CREDSYNC_E2E_LOGS set, each credsyncd log of this run is kept there (as
 * <run>-credsyncd-<idx>.log) for tests/logfmt/check.py, which reads every line strictly. */
static void
keep_daemon_logs(const struct e2e *e)
{
	const char *keep = getenv("CREDSYNC_E2E_LOGS");
	const char *run = strrchr(e->dir, '/');

	if (keep == NULL || *keep == '\0' || run == NULL)
		return;
	for (int i = 0; i < E2E_MAX_DAEMONS; i++) {
		char *text = testlib_read_file(e2e_daemon_log(e, i), NULL), path[1024];
		if (text == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s-credsyncd-%d.log", keep, run + 1, i);
		FILE *fp = fopen(path, "w");
		cr_expect(fp != NULL, "could not keep %s: %s", path, strerror(errno));
		if (fp != NULL) {
			fputs(text, fp);
			cr_expect(fclose(fp) == 0, "could not write %s", path);
		}
		free(text);
	}
}

void
e2e_stop(struct e2e *e)
{
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] == e)
			live[i] = NULL;
	for (int i = 0; i < E2E_MAX_DAEMONS; i++)
		if (e->daemons[i] > 0)
			e2e_daemon_stop(e, i, SIGTERM);
	if (e->producer != NULL) {
		rd_kafka_flush(e->producer, e2e_ms(5000));
		rd_kafka_destroy(e->producer);
		e->producer = NULL;
	}
	if (e->broker > 0) {
		kill(e->broker, SIGTERM);
		waitpid(e->broker, NULL, 0);
		e->broker = 0;
	}
	e2e_valgrind_check();
	keep_daemon_logs(e);
	if (e->conninfo != NULL) {
		pgtest_drop_db(e->conninfo);
		free(e->conninfo);
		e->conninfo = NULL;
	}
	if (getenv("CREDSYNC_KEEP") == NULL && e->dir[0] != '\0') {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "e2e: could not remove %s\n", e->dir);
	}
}

void
e2e_produce(struct e2e *e, const char *topic, const char *key, const char *payload)
{
	e2e_produce_at(e, topic, key, payload, 0);
}

void
e2e_produce_at(struct e2e *e, const char *topic, const char *key, const char *payload,
               long long ts_ms)
{
	e2e_produce_bytes(e, topic, key, payload, strlen(payload), ts_ms);
}

void
e2e_produce_bytes(struct e2e *e, const char *topic, const char *key, const void *payload,
                  size_t len, long long ts_ms)
{
	rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__IN_PROGRESS;
	char *copy = malloc(len ? len : 1); /* producev wants a mutable pointer */
	cr_assert_not_null(copy);
	memcpy(copy, payload, len);
	rd_kafka_resp_err_t err = rd_kafka_producev(
	    e->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
	    RD_KAFKA_V_VALUE(copy, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE(&result), RD_KAFKA_V_END);
	free(copy);
	cr_assert(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s: %s", topic,
	          rd_kafka_err2str(err));
	long long deadline = testlib_now_ms() + e2e_ms(30000);
	while (result == RD_KAFKA_RESP_ERR__IN_PROGRESS && testlib_now_ms() < deadline)
		rd_kafka_poll(e->producer, 50);
	cr_assert(result == RD_KAFKA_RESP_ERR_NO_ERROR, "delivery to %s: %s", topic,
	          rd_kafka_err2str(result));
}

json_t *
e2e_read_topic(struct e2e *e, const char *topic, size_t min_count, int timeout_ms)
{
	char err[512];
	json_t *all = json_array();
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", e->bootstrap, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "e2e-reader", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	cr_assert(c != NULL, "consumer: %s", err);

	long long deadline = testlib_now_ms() + e2e_ms(timeout_ms);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(c, topic, NULL);
	int parts = 0;
	while (testlib_now_ms() < deadline) {
		if (rd_kafka_metadata(c, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (md->topic_cnt == 1 && md->topics[0].err == 0)
				parts = md->topics[0].partition_cnt;
			rd_kafka_metadata_destroy(md);
			if (parts > 0)
				break;
		}
		pause_ms(100);
	}
	rd_kafka_topic_destroy(rkt);
	if (parts > 0) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
		for (int p = 0; p < parts; p++)
			rd_kafka_topic_partition_list_add(l, topic, p)->offset =
			    RD_KAFKA_OFFSET_BEGINNING;
		rd_kafka_assign(c, l);
		rd_kafka_topic_partition_list_destroy(l);
		/* Done once min_count came, every partition was read to its end (partitions
		 * reset to their beginning one by one: a slow one was cut off under load), and
		 * 500 ms passed without a message. */
		bool *at_end = calloc((size_t)parts, sizeof(*at_end));
		cr_assert(at_end != NULL);
		int ends = 0;
		long long quiet_until = -1;
		while (testlib_now_ms() < deadline &&
		       (quiet_until < 0 || ends < parts || testlib_now_ms() < quiet_until)) {
			rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
			if (m == NULL)
				continue;
			bool known = m->partition >= 0 && m->partition < parts;
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && known &&
			    !at_end[m->partition]) {
				at_end[m->partition] = true;
				ends++;
			} else if (m->err == 0 && known && at_end[m->partition]) {
				at_end[m->partition] = false;
				ends--;
			}
			if (m->err == 0) {
				json_error_t jerr;
				json_t *j = json_loadb(m->payload, m->len, 0, &jerr);
				json_array_append_new(all,
				                      j ? j : json_stringn(m->payload, m->len));
				if (json_array_size(all) >= min_count)
					quiet_until = testlib_now_ms() + e2e_ms(500);
			}
			rd_kafka_message_destroy(m);
		}
		free(at_end);
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	return all;
}

static PGresult *
query(struct e2e *e, const char *sql)
{
	PGconn *conn = PQconnectdb(e->conninfo);
	cr_assert(PQstatus(conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(conn));
	PGresult *res = PQexec(conn, sql);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(conn));
	PQfinish(conn);
	return res;
}

long long
e2e_sql_int(struct e2e *e, const char *sql)
{
	PGresult *res = query(e, sql);
	long long v = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)
	                  ? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
	                  : -1;
	PQclear(res);
	return v;
}

char *
e2e_sql_text(struct e2e *e, const char *sql)
{
	PGresult *res = query(e, sql);
	char *v = strdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return v;
}

bool
e2e_wait_sql(struct e2e *e, const char *sql, long long want, int timeout_ms)
{
	long long deadline = testlib_now_ms() + e2e_ms(timeout_ms);
	for (;;) {
		/* The schema appears once a daemon ran its migrations. */
		long long got =
		    e2e_sql_int(e, "SELECT count(*) FROM pg_tables WHERE schemaname = 'credsync'") >
		            0
		        ? e2e_sql_int(e, sql)
		        : -2;
		if (got == want)
			return true;
		if (testlib_now_ms() >= deadline) {
			fprintf(stderr, "e2e: %s gave %lld, wanted %lld\n", sql, got, want);
			return false;
		}
		pause_ms(100);
	}
}

char *
e2e_event(const char *event_id, const char *type, const char *producer, const char *uscc,
          const char *occurred_at, const char *record_json)
{
	json_error_t jerr;
	json_t *rec = json_loads(record_json, 0, &jerr);
	cr_assert(rec != NULL, "bad record JSON in a test: %s", jerr.text);
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o}", "schema",
	                       "credsync.event/1", "event_id", event_id, "type", type, "producer",
	                       producer, "occurred_at", occurred_at, "subject", "uscc", uscc,
	                       "name", "呼和浩特某某商贸有限公司", "record", rec);
	char *s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return s;
}

/* Runs pg_ctl ACTION (with -w) on the test PostgreSQL's data directory. */
static void
pg_ctl(const char *action)
{
	char path[1024], cmd[2048];
	const char *state = getenv("CREDSYNC_PGSTATE");
	cr_assert(state != NULL, "CREDSYNC_PGSTATE is not set");
	snprintf(path, sizeof(path), "%s/pgdata", state);
	char *dir = testlib_read_file(path, NULL);
	cr_assert(dir != NULL, "no %s", path);
	dir[strcspn(dir, "\n")] = '\0';
	/* The server's options (port, socket directory) are in postmaster.opts: restart keeps
	 * them, start is given them again */
	char opts[1200] = "";
	if (strcmp(action, "start") == 0)
		snprintf(opts, sizeof(opts), "-o \"$(cut -d' ' -f2- '%s/data/postmaster.opts')\"",
		         dir);
	snprintf(cmd, sizeof(cmd),
	         "%s $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl -D '%s/data' "
	         "%s -w -l '%s/server.log' %s %s >/dev/null",
	         geteuid() == 0 ? "runuser -u postgres --" : "", dir,
	         strcmp(action, "start") != 0 ? "-m fast" : "", dir, opts, action);
	free(dir);
	cr_assert(system(cmd) == 0, "could not %s PostgreSQL: %s", action, cmd);
}

void
e2e_pg_restart(void)
{
	pg_ctl("restart");
}

void
e2e_pg_stop(void)
{
	pg_ctl("stop");
}

void
e2e_pg_start(void)
{
	pg_ctl("start");
}

bool
e2e_log_has(const struct e2e *e, int idx, const char *needle)
{
	char *text = testlib_read_file(e2e_daemon_log(e, idx), NULL);
	bool found = text != NULL && strstr(text, needle) != NULL;
	free(text);
	return found;
}

long long
e2e_committed(struct e2e *e, const char *group, const char *topic, int partition)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", e->bootstrap, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
	rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	cr_assert(c != NULL, "consumer: %s", err);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, topic, partition);
	rd_kafka_resp_err_t rerr = rd_kafka_committed(c, l, e2e_ms(10000));
	long long off = rerr == RD_KAFKA_RESP_ERR_NO_ERROR ? (long long)l->elems[0].offset : -2;
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(c);
	return off;
}

int
e2e_run(char **ret_out, const char *const *argv, bool with_stderr)
{
	int fds[2];
	cr_assert(pipe(fds) == 0, "pipe: %s", strerror(errno));
	if (e2e_valgrind() && ours(argv[0]))
		vg_dir(); /* made before the fork: the child cannot assert */
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		char *args[48];
		exec_args(argv, args, 48);
		dup2(fds[1], 1);
		if (with_stderr)
			dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(args[0], args);
		_exit(127);
	}
	close(fds[1]);
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	ssize_t got;
	while ((got = read(fds[0], out + len, cap - len - 1)) > 0) {
		len += (size_t)got;
		if (cap - len < 4096)
			out = realloc(out, cap *= 2);
	}
	close(fds[0]);
	out[len] = '\0';
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	*ret_out = out;
	e2e_valgrind_check();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *
e2e_id(const char *what, int i)
{
	static char buf[8][37];
	static int k;
	unsigned h = 2166136261u;
	for (const char *p = what; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	char *b = buf[k++ % 8];
	snprintf(b, 37, "%08x-0000-4000-8000-%012d", h, i);
	return b;
}

const char *
e2e_days_ago(int n)
{
	static char buf[8][DATE_STRLEN];
	static int k;
	return date_format(date_beijing((int64_t)time(NULL)) - n, buf[k++ % 8]);
}

void
e2e_send_penalty(struct e2e *e, const char *id, const char *uscc, const char *decision)
{
	char rec[512];
	snprintf(rec, sizeof(rec),
	         "{\"decision_no\": \"%s\", \"decided_on\": \"%s\", \"categories\": [\"fine\"],"
	         " \"fine_yuan\": \"200000.00\", \"field\": \"other\","
	         " \"issuer\": {\"name\": \"某局\", \"uscc\": \"11150100MB0123456P\"}}",
	         decision, e2e_days_ago(200));
	char *ev =
	    e2e_event(id, "penalty.issued", "nm-tax", uscc, "2024-05-06T10:15:00+08:00", rec);
	e2e_produce(e, "credit.in.nm-tax", uscc, ev);
	free(ev);
}

char *
e2e_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	char *out = malloc((size_t)n + 1);
	cr_assert_not_null(out);
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}
