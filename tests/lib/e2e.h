/* e2e: end-to-end test harness. Starts the real binaries: credsync-devbroker (librdkafka's
 * mock cluster in its own process, so a daemon can be killed while the broker keeps the
 * data) and credsyncd instances against a fresh database of the test PostgreSQL; produces
 * with librdkafka, reads topics back, and polls the database with deadlines. */
#ifndef CREDSYNC_E2E_H
#define CREDSYNC_E2E_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <sys/types.h>

#define E2E_MAX_DAEMONS 4

struct e2e {
	char dir[256];       /* temporary directory: configs, logs */
	char *conninfo;      /* the test's own database */
	char bootstrap[512]; /* the devbroker's address */
	pid_t broker;
	pid_t daemons[E2E_MAX_DAEMONS];
	rd_kafka_t *producer;
	const char *extra_config;    /* appended to every daemon's config (may be NULL) */
	const char *daemon_conninfo; /* the daemons' pg.conninfo when not conninfo (a pooler) */
};

/* Fresh database, devbroker, producer. Asserts (Criterion) on failure. */
void e2e_start(struct e2e *e);
/* Stops every daemon (SIGTERM), the broker, drops the database, removes the directory. */
void e2e_stop(struct e2e *e);

/* Stops every harness still running: the suite's .fini, for tests that failed midway. */
void e2e_cleanup(void);

/* Starts credsyncd number idx and waits until it logged that it started. */
void e2e_daemon_start(struct e2e *e, int idx);
/* Sends sig to daemon idx and waits for it to exit; returns its exit status (or 128+signal). */
int e2e_daemon_stop(struct e2e *e, int idx, int sig);
/* The path of daemon idx's log file (static buffer). */
const char *e2e_daemon_log(const struct e2e *e, int idx);

/* Produces one message (payload NUL-terminated) and waits for its delivery. */
void e2e_produce(struct e2e *e, const char *topic, const char *key, const char *payload);
/* The same with the message's timestamp (Unix milliseconds; credsyncd's received_at). */
void e2e_produce_at(struct e2e *e, const char *topic, const char *key, const char *payload,
                    long long ts_ms);
/* The same with any bytes (NUL included) of length len; ts_ms 0: now. */
void e2e_produce_bytes(struct e2e *e, const char *topic, const char *key, const void *payload,
                       size_t len, long long ts_ms);
/* Reads every message of a topic (all partitions) from the beginning until at least
 * min_count arrived (then a short quiet period) or timeout_ms passed; returns a JSON array of
 * the parsed messages (non-JSON payloads as strings), owned by the caller. */
json_t *e2e_read_topic(struct e2e *e, const char *topic, size_t min_count, int timeout_ms);

/* The first column of the first row of sql as an integer (-1 if no row). */
long long e2e_sql_int(struct e2e *e, const char *sql);
/* A single text value (malloc'd, "" if no row). */
char *e2e_sql_text(struct e2e *e, const char *sql);
/* Polls until e2e_sql_int(sql) == want or timeout_ms; returns whether it got there. */
bool e2e_wait_sql(struct e2e *e, const char *sql, long long want, int timeout_ms);

/* The offset group has committed to Kafka for a partition (what kcat and lag tools read):
 * RD_KAFKA_OFFSET_INVALID (-1001) when none, -2 when the query failed. */
long long e2e_committed(struct e2e *e, const char *group, const char *topic, int partition);

/* Runs argv (NULL-terminated; argv[0] a path) to its end: its standard output (and error,
 * when with_stderr) in *ret_out (malloc'd, NUL-terminated); returns its exit status, or
 * 128 + the signal that ended it. */
int e2e_run(char **ret_out, const char *const *argv, bool with_stderr);

/* Restarts the test PostgreSQL (fast shutdown: every session is cut), as an operator would. */
void e2e_pg_restart(void);
/* Stops the test PostgreSQL (fast shutdown), and starts it again with the same options. A
 * test that stops it must start it again, even when it fails midway (or the next tests do). */
void e2e_pg_stop(void);
void e2e_pg_start(void);
/* Whether daemon idx's log contains needle. */
bool e2e_log_has(const struct e2e *e, int idx, const char *needle);

/* A readable, valid event id derived from a name and a number (FNV-1a of the name); the
 * string lives until eight more calls. */
const char *e2e_id(const char *what, int i);

/* The date n days before today in Beijing (YYYY-MM-DD), so that periods measured from
 * decision dates hold whatever day the tests run; the string lives until eight more calls. */
const char *e2e_days_ago(int n);

/* ---- memcheck ----
 * With CREDSYNC_VALGRIND=1 every credsyncd, credsyncctl and credsync-devbroker the harness
 * starts runs under valgrind memcheck, logging to CREDSYNC_VALGRIND_DIR (default the system's
 * temporary directory) one file per process, <name>.<pid>.vg. The harness reads each log once its
 * process is gone (after e2e_run, e2e_daemon_stop and e2e_stop) and fails the test (cr_expect)
 * if it shows any error, or, for a process that ran to its end, any definitely lost byte; a
 * SIGKILLed process writes no leak summary, so only its errors count. Clean logs are removed
 * (kept as <name>.<pid>.vg.ok with CREDSYNC_KEEP), failing ones are kept (renamed
 * <name>.<pid>.vg.bad) and named in the failure.
 * CREDSYNC_TIME_SCALE (an integer from 1 to 1000, default 1) multiplies every timeout the
 * harness uses or is given (timeout_ms arguments included) and the Criterion .timeout of every
 * test; a test's own deadline loop uses e2e_ms. */

/* Whether CREDSYNC_VALGRIND=1. */
bool e2e_valgrind(void);
/* ms times CREDSYNC_TIME_SCALE. */
int e2e_ms(int ms);
/* The words to put before the path of one of our binaries in a shell command so that it runs
 * as e2e_run would run it (valgrind or nothing); name is the binary's base name. A static
 * buffer, shell-quoted, "" without CREDSYNC_VALGRIND, ending with a space otherwise. */
const char *e2e_shell_prefix(const char *name);
/* Checks the valgrind logs of every process that has ended since the last call (see above). */
void e2e_valgrind_check(void);
/* Whether the memcheck log at path (of a process that has ended) is clean as above; if not,
 * the reason in why (the counts and the first report's head). */
bool e2e_valgrind_log_clean(const char *path, char *why, size_t whysz);

/* A canonical inbound event, as docs/CONTRACT.md shows it, with the given fields (record_json: the
 * "record" object as JSON text). Returns a malloc'd string. */
char *e2e_event(const char *event_id, const char *type, const char *producer, const char *uscc,
                const char *occurred_at, const char *record_json);

/* Produces a penalty of nm-tax (a 200,000 yuan fine decided 200 days ago) with event id id,
 * about uscc, decision number decision, keyed by uscc. */
void e2e_send_penalty(struct e2e *e, const char *id, const char *uscc, const char *decision);

/* A malloc'd formatted string (asserts on failure). */
char *e2e_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
