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

/* The effective value of a known key (its default when unset; NULL when it has none), or
 * of a kafka.* key as written (NULL when unset). The string lives as long as cfg. */
const char *config_str(const config *cfg, const char *key);
/* Integer keys are validated at load time; asking for an unknown or non-integer key is a
 * programming error and returns 0. */
long long config_int(const config *cfg, const char *key);

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
