/* credsyncd: consumes credit.in.* and credit.ack.*, reconciles in PostgreSQL with
 * exactly-once effect, and publishes what both disclosure sites must do. */
#include <stdbool.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applier.h"
#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "embedded.h"
#include "jobs.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "pipeline.h"
#include "publisher.h"
#include "rules.h"
#include "store.h"

/* The publisher's wait between outbox reads when it has nothing to send. */
#define PUBLISH_IDLE_MS 10

static volatile sig_atomic_t run = 1;
static volatile sig_atomic_t reload = 0;

struct daemon {
	const char *config_path;
	config *cfg;
	rules *r;
	calendar *cal;
	store *st;  /* the claims' connection (the workers and the jobs thread have their own) */
	store *pst; /* the publisher's connection (holds the outbox lock) */
	store *jst; /* the periodic jobs' connection */
	embedded *emb;
	kafka *k;
	pipeline *p;
	applier *app; /* the apply workers */
	size_t workers;
	uint64_t advised;   /* batches committed when Kafka's offsets were last advised */
	int64_t advised_at; /* and when (clock_mono_ms) */
	publisher *pub;
	char member[128];
	rd_kafka_message_t **msgs;
	metrics *met;
	jobs *jobs; /* everything periodic, on its own thread */
};

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		run = 0;
}

/* Sleeps up to ms, waking early on shutdown. Retrying is the daemon at work, not hung: the
 * systemd watchdog is fed here too, or an outage longer than WatchdogSec would kill it. */
static void
nap(long ms)
{
	for (long slept = 0; run && slept < ms; slept += 100) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
		notify_watchdog();
	}
}

static long
backoff(long prev, const config *cfg)
{
	long max = (long)config_int(cfg, CFG_RETRY_MAX_BACKOFF_MS);
	long next = prev ? prev * 2 : 200;
	return next > max ? max : next;
}

/* The test-only clock override of cfg (test.clock_offset_s, test.fixed_now); logged loudly. */
static int
set_clock(const config *cfg, char *err, size_t errsz)
{
	char what[128];
	if (clock_test_override(config_int(cfg, CFG_TEST_CLOCK_OFFSET_S),
	                        config_str(cfg, CFG_TEST_FIXED_NOW), err, errsz) < 0)
		return -1;
	if (clock_test_active())
		log_kv(LOG_LVL_WARN, "TEST CLOCK OVERRIDE ACTIVE: not for production",
		       "override=%s", log_qs(clock_test_describe(what, sizeof(what))));
	return 0;
}

/* As libpq does for ~/.pgpass: a password in a file others can read is said once per load. */
static void
warn_exposed(const config *cfg)
{
	unsigned mode;
	if (config_exposes_password(cfg, &mode))
		log_kv(LOG_LVL_WARN,
		       "the configuration file holds a password and others can read it",
		       "file=%s mode=%04o hint=%s", log_qs(config_name(cfg)), mode,
		       log_qs("chmod 0600, or 0640 with the daemon's group"));
}

/* Loads the rules and the calendar the configuration names. */
static int
load_domain(const config *cfg, rules **ret_r, calendar **ret_cal, char *err, size_t errsz)
{
	char path[4096];
	const char *dir = config_str(cfg, CFG_DATA_DIR);
	rules *r = rules_load(dir, config_str(cfg, CFG_RULES_SETS), err, errsz);
	if (r == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", dir);
	calendar *cal = calendar_load(path, err, errsz);
	if (cal == NULL) {
		rules_free(r);
		return -1;
	}
	*ret_r = r;
	*ret_cal = cal;
	return 0;
}

/* Opens a store connection, retrying with capped backoff until it works or shutdown. */
static store *
connect_store(const config *cfg)
{
	char err[1024];
	long wait = 0;
	while (run) {
		store *st = store_open_pooled(config_str(cfg, CFG_PG_CONNINFO),
		                              (int)config_int(cfg, CFG_PG_STATEMENT_TIMEOUT_MS),
		                              store_pooling_of(config_str(cfg, CFG_PG_POOLING)),
		                              err, sizeof(err));
		if (st != NULL)
			return st;
		wait = backoff(wait, cfg);
		log_kv(LOG_LVL_WARN, "could not connect to PostgreSQL, retrying",
		       "error=%s retry_ms=%ld", log_qs(err), wait);
		nap(wait);
	}
	return NULL;
}

static void
reconnect(store *st, const config *cfg, const char *what)
{
	char err[1024];
	long wait = 0;
	while (run && store_reconnect(st, err, sizeof(err)) < 0) {
		wait = backoff(wait, cfg);
		log_kv(LOG_LVL_WARN, "PostgreSQL unavailable, retrying",
		       "for=%s error=%s retry_ms=%ld", log_qs(what), log_qs(err), wait);
		nap(wait);
	}
}

/* Waits until the apply workers have applied everything handed to them (or are stopped),
 * feeding the watchdog. Returns false when shutdown came first. */
static bool
wait_idle(struct daemon *d)
{
	while (!applier_idle(d->app, 100)) {
		notify_watchdog();
		if (!run)
			return false;
	}
	return true;
}

/* Kafka hooks: an assignment is claimed in the database before it is used; a revoked one is
 * given up only when the batches of its partitions in the workers' hands are finished. */
static int
hook_assign(void *arg, rd_kafka_topic_partition_list_t *parts)
{
	struct daemon *d = arg;
	char err[1024];
	long wait = 0;
	if (!wait_idle(d))
		return -1;
	while (run) {
		if (pipeline_claim(d->p, parts, err, sizeof(err)) == 0) {
			for (int i = 0; i < parts->cnt; i++)
				log_kv(LOG_LVL_INFO, "partition assigned",
				       "topic=%s partition=%d next_offset=%lld",
				       parts->elems[i].topic, (int)parts->elems[i].partition,
				       (long long)parts->elems[i].offset);
			return 0;
		}
		wait = backoff(wait, d->cfg);
		log_kv(LOG_LVL_WARN, "could not claim partitions, retrying",
		       "error=%s retry_ms=%ld", log_qs(err), wait);
		nap(wait);
		reconnect(d->st, d->cfg, "claim");
	}
	return -1;
}

static void
hook_revoke(void *arg, const rd_kafka_topic_partition_list_t *parts)
{
	struct daemon *d = arg;
	/* On shutdown the wait ends early: a worker's later commit is then fenced. */
	wait_idle(d);
	pipeline_release(d->p, parts);
	for (int i = 0; i < parts->cnt; i++)
		log_kv(LOG_LVL_INFO, "partition revoked", "topic=%s partition=%d",
		       parts->elems[i].topic, (int)parts->elems[i].partition);
}

static void
hook_delivered(void *arg, void *opaque, rd_kafka_resp_err_t err)
{
	struct daemon *d = arg;
	publisher_delivered(d->pub, opaque, err);
}

/* The held partitions' next offsets, as a partition list (caller destroys). */
static rd_kafka_topic_partition_list_t *
held_offsets(struct daemon *d)
{
	const rd_kafka_topic_partition_list_t *as = kafka_assignment(d->k);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(as ? as->cnt : 0);
	for (int i = 0; as != NULL && i < as->cnt; i++) {
		int64_t next =
		    pipeline_next_offset(d->p, as->elems[i].topic, as->elems[i].partition);
		if (next >= 0)
			rd_kafka_topic_partition_list_add(l, as->elems[i].topic,
			                                  as->elems[i].partition)
			    ->offset = next;
	}
	return l;
}

/* Kafka's copy of the offsets is advisory (for lag tools); PostgreSQL's is the truth. */
static void
commit_advisory(struct daemon *d)
{
	rd_kafka_topic_partition_list_t *l = held_offsets(d);
	if (l->cnt > 0)
		kafka_commit_async(d->k, l);
	rd_kafka_topic_partition_list_destroy(l);
}

static void
rewind_held(struct daemon *d)
{
	char err[512];
	rd_kafka_topic_partition_list_t *l = held_offsets(d);
	if (l->cnt > 0 && kafka_rewind(d->k, l, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "could not rewind the consumer", "error=%s", log_qs(err));
	rd_kafka_topic_partition_list_destroy(l);
}

/* Applier hooks, in a worker's thread. */
static void
hook_applied(void *arg, rd_kafka_message_t *const *msgs, size_t n)
{
	struct daemon *d = arg;
	metrics_observe(d->met, msgs, n);
	publisher_wake(d->pub); /* the batch may have written outbox rows */
}

static void
hook_failed(void *arg)
{
	struct daemon *d = arg;
	metrics_batch_failed(d->met);
}

/* Hands a consumed batch to the workers, which apply and destroy it. */
static void
submit_batch(struct daemon *d, rd_kafka_message_t **msgs, size_t n)
{
	if (applier_submit(d->app, msgs, n) == 0)
		return;
	log_kv(LOG_LVL_WARN, "could not hand a batch to the workers, reading it again",
	       "error=%s messages=%zu", log_qs("out of memory"), n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_message_destroy(msgs[i]);
	if (wait_idle(d))
		rewind_held(d);
}

/* After each round: a fenced batch was dropped, so the consumer goes back to the offsets held
 * (once the workers have finished, so that these are exact); whoever holds its partitions now
 * applies those messages. Kafka's advisory offsets follow the committed batches, at most once
 * every ADVISE_INTERVAL_MS: each advice names every partition held, and advising after every
 * batch (hundreds a second, each naming hundreds of partitions) took more of the machine's
 * CPU, in credsyncd's librdkafka and in the broker, than the daemon's own threads did. */
#define ADVISE_INTERVAL_MS 1000
static void
after_round(struct daemon *d)
{
	if (applier_take_fenced(d->app) && wait_idle(d))
		rewind_held(d);
	struct pipeline_stats ps;
	pipeline_stats(d->p, &ps);
	int64_t now = clock_mono_ms();
	if (ps.batches != d->advised && now - d->advised_at >= ADVISE_INTERVAL_MS) {
		d->advised = ps.batches;
		d->advised_at = now;
		commit_advisory(d);
	}
}

/* Reload: all or nothing. Settings that need a restart are named. */
static void
do_reload(struct daemon *d)
{
	char err[1024];
	rules *r;
	calendar *cal;
	notify_reloading();
	/* The workers read the rules: none may be applying while they are swapped. */
	if (!wait_idle(d)) {
		log_kv(LOG_LVL_ERR, "not reloading", "error=%s", log_qs("shutting down"));
		notify_ready();
		return;
	}
	config *cfg = config_load(d->config_path, err, sizeof(err));
	if (cfg == NULL || load_domain(cfg, &r, &cal, err, sizeof(err)) < 0) {
		log_kv(LOG_LVL_ERR, "not reloading", "error=%s", log_qs(err));
		config_free(cfg);
		notify_ready();
		return;
	}
	warn_exposed(cfg);
	pipeline_set_rules(d->p, r, cal);
	jobs_pause(d->jobs); /* they use the old rules, calendar, configuration and clock */
	rules_free(d->r);
	calendar_free(d->cal);
	config_free(d->cfg);
	d->r = r;
	d->cal = cal;
	d->cfg = cfg;
	/* test.fixed_now was validated by config_load: this cannot fail */
	if (set_clock(cfg, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_ERR, "could not set the test clock", "error=%s", log_qs(err));
	jobs_configure(d->jobs, cfg, r, cal);
	log_set_level((enum log_level)log_level_parse(config_str(cfg, CFG_LOG_LEVEL)));
	log_kv(LOG_LVL_NOTICE, "reloaded",
	       "config=%s note=\"kafka.* and pg.* changes need a restart\"",
	       log_qs(d->config_path));
	notify_ready();
}

/* The jobs thread's snapshot of the apply side, between batches. */
static void
serve_jobs(struct daemon *d)
{
	struct pipeline_stats ps;
	if (!jobs_wants_snapshot(d->jobs))
		return;
	pipeline_stats(d->p, &ps);
	jobs_give_snapshot(d->jobs, &ps, held_offsets(d));
}

/* Every topic credsyncd produces to, before the first row goes out: the sites' topics and
 * the rejects' of the sites and of every known producer. Otherwise the first reject to a
 * producer's topic waits for librdkafka's next lookup of unknown topics (up to a second),
 * and the publish cursor with it. A warning only: they may be created later. */
static void
prepare_topics(struct daemon *d)
{
	size_t producers = 0, n = 0;
	char err[512] = "out of memory";

	while (rules_producer_at(d->r, producers) != NULL)
		producers++;
	char(*names)[128] = calloc(2 * SITE_COUNT + producers, sizeof(*names));
	const char **topics = calloc(2 * SITE_COUNT + producers, sizeof(*topics));
	if (names != NULL && topics != NULL) {
		for (int s = 0; s < SITE_COUNT; s++) {
			snprintf(names[n++], sizeof(*names), "%s", site_out_topic((enum site)s));
			snprintf(names[n++], sizeof(*names), "credit.reject.%s",
			         site_name((enum site)s));
		}
		for (size_t i = 0; i < producers; i++)
			snprintf(names[n++], sizeof(*names), "credit.reject.%s",
			         rules_producer_at(d->r, i));
		for (size_t i = 0; i < n; i++)
			topics[i] = names[i];
	}
	if (names == NULL || topics == NULL ||
	    kafka_prepare_topics(d->k, topics, n, 5000, err, sizeof(err)) < 0)
		log_kv(LOG_LVL_WARN, "first messages may be slow", "error=%s", log_qs(err));
	free(names);
	free(topics);
}

static int
start(struct daemon *d, char *err, size_t errsz)
{
	char sqldir[4096], host[64] = "localhost";
	const char *bootstrap = config_str(d->cfg, CFG_KAFKA_BOOTSTRAP_SERVERS);

	if (set_clock(d->cfg, err, errsz) < 0 ||
	    load_domain(d->cfg, &d->r, &d->cal, err, errsz) < 0)
		return -1;
	if ((d->st = connect_store(d->cfg)) == NULL || (d->pst = connect_store(d->cfg)) == NULL ||
	    (d->jst = connect_store(d->cfg)) == NULL) {
		snprintf(err, errsz, "stopped before PostgreSQL was reachable");
		return -1;
	}
	/* a transaction pooler where sessions are expected: stop now, not retry forever */
	store *const sessions[] = {d->st, d->pst, d->jst};
	if (store_check_sessions(sessions, 3, err, errsz) < 0)
		return -1;
	snprintf(sqldir, sizeof(sqldir), "%s/sql", config_str(d->cfg, CFG_DATA_DIR));
	if (store_migrate(d->st, sqldir, err, errsz) < 0)
		return -1;
	if (strcmp(bootstrap, "embedded") == 0) {
		d->emb = embedded_start(1, (int)config_int(d->cfg, CFG_KAFKA_EMBEDDED_PARTITIONS),
		                        err, errsz);
		if (d->emb == NULL)
			return -1;
		bootstrap = embedded_bootstraps(d->emb);
		log_kv(LOG_LVL_NOTICE, "embedded Kafka cluster started (development only)",
		       "bootstrap=%s", log_qs(bootstrap));
		/* every known producer's topics exist from the start */
		if (embedded_create_producer_topics(d->emb, d->r, err, errsz) < 0)
			return -1;
		const char *bf = config_str(d->cfg, CFG_KAFKA_EMBEDDED_BOOTSTRAP_FILE);
		if (bf != NULL && embedded_write_bootstrap_file(d->emb, bf, err, errsz) < 0)
			return -1;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(d->member, sizeof(d->member), "%s/%ld/%lld", host, (long)getpid(),
	         (long long)time(NULL));
	d->p = pipeline_new(d->st, d->r, d->cal, config_str(d->cfg, CFG_KAFKA_GROUP_ID), d->member);
	if (d->p == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	d->workers = (size_t)config_int(d->cfg, CFG_APPLY_WORKERS);
	if (d->workers == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		d->workers = cores > 0 ? (size_t)cores : 1;
	}
	struct applier_conf ac = {
	    .workers = d->workers,
	    .max_batch = (size_t)config_int(d->cfg, CFG_BATCH_MAX_EVENTS),
	    .conninfo = config_str(d->cfg, CFG_PG_CONNINFO),
	    .pooling = store_pooling_of(config_str(d->cfg, CFG_PG_POOLING)),
	    .timeout_ms = (int)config_int(d->cfg, CFG_PG_STATEMENT_TIMEOUT_MS),
	    .max_backoff_ms = (long)config_int(d->cfg, CFG_RETRY_MAX_BACKOFF_MS),
	    .hooks = {hook_applied, hook_failed, d},
	};
	if ((d->app = applier_new(d->p, &ac, err, errsz)) == NULL)
		return -1;
	struct kafka_hooks hooks = {hook_assign, hook_revoke, hook_delivered, d};
	d->k = kafka_new(bootstrap, d->cfg, &hooks, err, errsz);
	if (d->k == NULL)
		return -1;
	prepare_topics(d);
	d->pub = publisher_new(d->pst, d->k, (int)config_int(d->cfg, CFG_OUTBOX_BATCH));
	d->msgs =
	    calloc((size_t)config_int(d->cfg, CFG_BATCH_MAX_EVENTS) * d->workers, sizeof(*d->msgs));
	d->met = metrics_new();
	if (d->met != NULL)
		d->jobs = jobs_new(d->jst, d->k, d->met, d->cfg, d->r, d->cal);
	if (d->pub == NULL || d->msgs == NULL || d->met == NULL || d->jobs == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (publisher_start(d->pub, PUBLISH_IDLE_MS,
	                    (long)config_int(d->cfg, CFG_RETRY_MAX_BACKOFF_MS), err, errsz) < 0)
		return -1;
	return jobs_start(d->jobs, err, errsz);
}

/* Shutdown in a fixed order: stop consuming, stop the workers (each batch being applied is
 * finished or rolled back; those not begun are read again at the next start), leave the
 * group, deliver what is in flight, close. */
static void
stop(struct daemon *d)
{
	notify_stopping();
	jobs_stop(d->jobs); /* first: it reads the pipeline's snapshot and Kafka's watermarks */
	applier_stop(d->app);
	if (d->k != NULL) {
		if (d->p != NULL)
			commit_advisory(d); /* the batches since the last advice */
		publisher_stop(d->pub, (int)(config_int(d->cfg, CFG_SHUTDOWN_TIMEOUT_MS) / 2));
		kafka_close(d->k, (int)(config_int(d->cfg, CFG_SHUTDOWN_TIMEOUT_MS) / 2));
	}
	publisher_free(d->pub);
	jobs_free(d->jobs);
	applier_free(d->app);
	pipeline_free(d->p);
	embedded_stop(d->emb);
	store_close(d->st);
	store_close(d->pst);
	store_close(d->jst);
	rules_free(d->r);
	calendar_free(d->cal);
	free(d->msgs);
	metrics_free(d->met);
	config_free(d->cfg);
}

/* --migrate-only: the deployment step run as the schema's owner before credsyncd starts as
 * the app role, which may not change the schema. One attempt, no retry: an operator is
 * watching. Returns the exit status. */
static int
migrate_only(const config *cfg)
{
	char err[1024], sqldir[4096];
	store *st = store_open_pooled(
	    config_str(cfg, CFG_PG_CONNINFO), (int)config_int(cfg, CFG_PG_STATEMENT_TIMEOUT_MS),
	    store_pooling_of(config_str(cfg, CFG_PG_POOLING)), err, sizeof(err));
	if (st == NULL) {
		log_kv(LOG_LVL_ERR, "could not connect to PostgreSQL", "error=%s", log_qs(err));
		return 1;
	}
	snprintf(sqldir, sizeof(sqldir), "%s/sql", config_str(cfg, CFG_DATA_DIR));
	int n = store_migrate(st, sqldir, err, sizeof(err));
	store_close(st);
	if (n < 0) {
		log_kv(LOG_LVL_ERR, "could not migrate", "error=%s", log_qs(err));
		return 1;
	}
	log_kv(LOG_LVL_NOTICE, "migrated", "applied=%d", n);
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncd -c FILE [--check | --migrate-only]\n"
	    "  -c, --config FILE  the configuration file (credsyncd.conf(5))\n"
	    "      --check        validate FILE, print the effective settings, exit 0 or 1\n"
	    "      --migrate-only apply the database migrations (as the schema's owner), exit 0\n"
	    "                     or 1\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      the version\n");
}

/* A command-line mistake, as a log line (stderr carries nothing else); exit status 2. */
static int
usage_error(const char *what, const char *arg)
{
	if (arg != NULL)
		log_kv(LOG_LVL_ERR, what, "arg=%s hint=%s", log_qs(arg),
		       log_qs("see credsyncd --help"));
	else
		log_kv(LOG_LVL_ERR, what, "hint=%s", log_qs("see credsyncd --help"));
	return 2;
}

/* glibc gives each thread an arena of its own (up to eight per core) and, once a large
 * buffer is freed, raises its mmap threshold up to 32 MiB so that later batch buffers stay on
 * the heaps. With the apply workers, the jobs, the publisher and librdkafka's threads that
 * held the daemon's peak RSS at 77 MiB in the bench's profile run; two arenas and a fixed
 * 256 KiB threshold (large buffers go back to the system when freed) gave 63 MiB. */
static void
tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
#endif
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'n'},
	    {"migrate-only", no_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
	struct daemon d = {0};
	bool check = false, migrate = false;
	char err[1024];
	int c;

	/* Every line on stderr is a log line, even before the configuration is read: getopt's
	 * own messages are replaced by ours. */
	log_init(LOG_LVL_INFO);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:nhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'm':
			migrate = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("credsyncd %s\n", CREDSYNC_VERSION);
			return 0;
		case ':':
			return usage_error("an option is missing its argument", argv[optind - 1]);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument", argv[optind]);
	if (check && migrate)
		return usage_error("--check and --migrate-only exclude each other", NULL);
	if (d.config_path == NULL)
		return usage_error("missing -c FILE: the configuration file", NULL);
	if ((d.cfg = config_load(d.config_path, err, sizeof(err))) == NULL) {
		log_kv(LOG_LVL_ERR, "could not load the configuration", "error=%s", log_qs(err));
		return 1;
	}
	warn_exposed(d.cfg);
	/* kafka.* names its file and line here; --migrate-only does not use Kafka */
	if (!migrate && kafka_check(d.cfg, err, sizeof(err)) < 0) {
		log_kv(LOG_LVL_ERR, "invalid configuration", "error=%s", log_qs(err));
		config_free(d.cfg);
		return 1;
	}
	if (check) {
		config_print(d.cfg, stdout);
		config_free(d.cfg);
		return 0;
	}
	log_set_level((enum log_level)log_level_parse(config_str(d.cfg, CFG_LOG_LEVEL)));
	if (migrate) {
		int rc = migrate_only(d.cfg);
		config_free(d.cfg);
		return rc;
	}

	tune_malloc();
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (start(&d, err, sizeof(err)) < 0) {
		log_kv(LOG_LVL_ERR, "could not start", "error=%s", log_qs(err));
		stop(&d);
		return 1;
	}
	log_kv(LOG_LVL_NOTICE, "started", "version=%s member=%s workers=%zu",
	       log_qs(CREDSYNC_VERSION), log_qs(d.member), d.workers);
	notify_ready();

	/* One round takes up to a batch per worker; applier_submit cuts it per partition. */
	const size_t max = (size_t)config_int(d.cfg, CFG_BATCH_MAX_EVENTS) * d.workers;
	while (run) {
		if (reload) {
			reload = 0;
			do_reload(&d);
		}
		/* The database is unavailable: the consumer stays in its group, paused, and what
		 * was consumed stays queued until the workers can apply it. No room: the workers
		 * are behind; consume once they catch up. */
		size_t n = 0;
		if (applier_stalled(d.app)) {
			kafka_pause_serve(d.k, 100);
		} else {
			kafka_resume(d.k);
			if (applier_room(d.app, 100))
				n = kafka_consume_batch(
				    d.k, d.msgs, max,
				    (int)config_int(d.cfg, CFG_BATCH_MAX_WAIT_MS));
		}
		if (n > 0)
			submit_batch(&d, d.msgs, n);
		after_round(&d);
		serve_jobs(&d);
		notify_watchdog();
	}
	log_kv(LOG_LVL_NOTICE, "stopping", NULL);
	stop(&d);
	log_kv(LOG_LVL_NOTICE, "stopped", NULL);
	return 0;
}
