/* config: the "key = value" configuration file (README, "Running it"), driven by one table of
 * known keys (defaults, validation, printing); kafka.* keys pass through to librdkafka. */
#ifndef CREDSYNC_CONFIG_H
#define CREDSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Opaque; immutable after load, so a reload builds a new one and swaps. */
typedef struct config config;

/* Loads and validates the whole file. Returns a config owned by the caller, or NULL with
 * "FILE:LINE: reason" (or "FILE: reason" for a missing required key) in err. */
config *config_load(const char *path, char *err, size_t errsz);
/* Same from memory; name stands for the file in messages. */
config *config_parse(const char *text, const char *name, char *err, size_t errsz);
void config_free(config *cfg); /* NULL is fine */

/* The keys credsync reads, one id each (the table in config.c is indexed by them), so that a
 * mistyped key does not compile. */
enum config_key {
	CFG_KAFKA_BOOTSTRAP_SERVERS,       /* kafka.bootstrap.servers */
	CFG_KAFKA_GROUP_ID,                /* kafka.group.id */
	CFG_KAFKA_EMBEDDED_BOOTSTRAP_FILE, /* kafka.embedded.bootstrap_file */
	CFG_KAFKA_EMBEDDED_PARTITIONS,     /* kafka.embedded.partitions */
	CFG_PG_CONNINFO,                   /* pg.conninfo */
	CFG_PG_STATEMENT_TIMEOUT_MS,       /* pg.statement_timeout_ms */
	CFG_PG_CONNECT_TIMEOUT_S,          /* pg.connect_timeout_s */
	CFG_PG_POOLING,                    /* pg.pooling */
	CFG_DATA_DIR,                      /* data.dir */
	CFG_RULES_SETS,                    /* rules.sets */
	CFG_LOG_LEVEL,                     /* log.level */
	CFG_LOG_LAG_INTERVAL_S,            /* log.lag_interval_s */
	CFG_METRICS_TEXTFILE,              /* metrics.textfile */
	CFG_BATCH_MAX_EVENTS,              /* batch.max_events */
	CFG_BATCH_MAX_WAIT_MS,             /* batch.max_wait_ms */
	CFG_APPLY_WORKERS,                 /* apply.workers */
	CFG_OUTBOX_BATCH,                  /* outbox.batch */
	CFG_RETRY_MAX_BACKOFF_MS,          /* retry.max_backoff_ms */
	CFG_SHUTDOWN_TIMEOUT_MS,           /* shutdown.timeout_ms */
	CFG_TEST_CLOCK_OFFSET_S,           /* test.clock_offset_s */
	CFG_TEST_FIXED_NOW,                /* test.fixed_now */
	CFG_KEY_COUNT
};

/* The effective value of a key (its default when unset; NULL when it has none). The string
 * lives as long as cfg. An id outside the enum aborts, naming it. */
const char *config_str(const config *cfg, enum config_key key);
/* The value of an integer or duration key (validated at load time). Any other key aborts,
 * naming it: asking for one is a mistake in the code, not in the file. */
long long config_int(const config *cfg, enum config_key key);

/* By name, for names known only at run time (tests, tools, librdkafka properties): the
 * enum config_key of a known key, or -1. */
int config_key_find(const char *name);
/* A known key's effective value, or a kafka.<property> as written; NULL when unset or not a
 * key at all. */
const char *config_get(const config *cfg, const char *name);

/* Calls fn for each kafka.<property> key the file set, with the "kafka." prefix removed,
 * except credsync's own kafka keys (bootstrap.servers=embedded, embedded.*, group.id is
 * passed). Stops and returns fn's value when it is non-zero. */
int config_foreach_kafka(const config *cfg,
                         int (*fn)(const char *prop, const char *value, void *arg), void *arg);

/* The file's name as given to config_load (or config_parse's name); lives as long as cfg. */
const char *config_name(const config *cfg);
/* The line of the file that set key (a known key or kafka.<property>); 0 when the file did
 * not set it. */
int config_key_line(const config *cfg, const char *key);

/* Whether the file config_load read holds a password (in pg.conninfo or a secret kafka.*
 * key) and is readable by others, or by a group other than this process's own (the way
 * libpq warns about ~/.pgpass); *ret_mode is then its permission bits. */
bool config_exposes_password(const config *cfg, unsigned *ret_mode);

/* Prints every effective setting, one "key = value" line each, secrets masked. */
void config_print(const config *cfg, FILE *fp);

/* What the table says about a known key, for documentation and tests. */
struct config_keyinfo {
	const char *name;
	const char *type; /* "string", "integer", "duration-ms", "enum", "list", "rfc3339" */
	const char *default_value; /* as written in a file; NULL when required or none */
	bool required;
	bool secret;        /* masked (wholly or in part) by config_print */
	long long min, max; /* integer and duration-ms keys */
	const char *doc;    /* one line */
};
/* Fills ret for known key i (0, 1, ... in table order); false past the last. The strings
 * are static. */
bool config_key_info(size_t i, struct config_keyinfo *ret);

#endif
