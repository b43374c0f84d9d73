/* config: parses, validates and prints the "key = value" file from one table of known keys. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "date.h"
#include "log.h"
#include "paths.h"

#define MASK "********"

enum key_type {
	KT_STRING,
	KT_INT,
	KT_DURATION_MS, /* milliseconds; "250", "250ms", "5s" or "2m" */
	KT_ENUM,
	KT_NAME_LIST, /* comma-separated names, stored without spaces */
	KT_TIME,      /* an RFC 3339 date-time */
};

enum {
	KF_REQUIRED = 1 << 0,
	KF_SECRET = 1 << 1,    /* printed as MASK */
	KF_CONNINFO = 1 << 2,  /* printed with its password masked */
	KF_EMPTY_OK = 1 << 3,  /* "key =" is allowed: none, or "" for a required key */
	KF_KAFKA_OWN = 1 << 4, /* a kafka.* key credsync reads itself, not passed to librdkafka */
};

struct key_def {
	const char *name;
	enum key_type type;
	unsigned flags;
	const char *def;             /* default as it would be written; NULL: none or required */
	const char *(*def_fn)(void); /* a default computed at load time */
	long long min, max;          /* KT_INT, KT_DURATION_MS */
	const char *const *choices;  /* KT_ENUM, NULL-terminated */
	const char *doc;
};

static const char *const log_levels[] = {"err", "warn", "notice", "info", "debug", NULL};
static const char *const poolings[] = {"session", "transaction", NULL};

/* The one table: parsing, defaults, validation, printing and config_key_info all read it. */
static const struct key_def keys[] = {
    [CFG_KAFKA_BOOTSTRAP_SERVERS] =
        {"kafka.bootstrap.servers", KT_STRING, KF_REQUIRED, NULL, NULL, 0, 0, NULL,
         "Kafka brokers (host:port,...), or \"embedded\" for an in-process development cluster"},
    [CFG_KAFKA_GROUP_ID] = {"kafka.group.id", KT_STRING, 0, "credsyncd", NULL, 0, 0, NULL,
                            "consumer group of the credit.in.* and credit.ack.* subscriptions"},
    [CFG_KAFKA_EMBEDDED_BOOTSTRAP_FILE] =
        {"kafka.embedded.bootstrap_file", KT_STRING, KF_EMPTY_OK | KF_KAFKA_OWN, NULL, NULL, 0, 0,
         NULL, "embedded mode writes its bootstrap address to this file (default: none)"},
    [CFG_KAFKA_EMBEDDED_PARTITIONS] = {"kafka.embedded.partitions", KT_INT, KF_KAFKA_OWN, "3", NULL,
                                       1, 1000, NULL,
                                       "partitions of each topic the embedded cluster creates"},
    [CFG_PG_CONNINFO] =
        {"pg.conninfo", KT_STRING, KF_REQUIRED | KF_CONNINFO | KF_EMPTY_OK, NULL, NULL, 0, 0, NULL,
         "libpq connection string or URI; empty: all from PG* variables and ~/.pgpass"},
    [CFG_PG_STATEMENT_TIMEOUT_MS] =
        {"pg.statement_timeout_ms", KT_DURATION_MS, 0, "30000", NULL, 100, INT_MAX, NULL,
         "client-side limit on one database round trip, so a hung database is noticed"},
    [CFG_PG_CONNECT_TIMEOUT_S] = {"pg.connect_timeout_s", KT_INT, 0, "10", NULL, 1, 3600, NULL,
                                  "seconds to wait for a database connection"},
    [CFG_PG_POOLING] = {"pg.pooling", KT_ENUM, 0, "session", NULL, 0, 0, poolings,
                        "how pg.conninfo reaches PostgreSQL: session (directly, or a pooler in "
                        "session mode) or transaction (a pooler such as PgBouncer with "
                        "pool_mode = transaction: no session state; migrate directly)"},
    [CFG_DATA_DIR] =
        {"data.dir", KT_STRING, 0, NULL, paths_datadir, 0, 0, NULL,
         "directory of rules, calendar, lists and SQL (default: the installed schemas)"},
    [CFG_RULES_SETS] = {"rules.sets", KT_NAME_LIST, 0, "auto", NULL, 0, 0, NULL,
                        "rule sets in force: auto (every set of data.dir/rules, chosen by decision "
                        "date and producer) or a comma-separated list that overrides it"},
    [CFG_LOG_LEVEL] = {"log.level", KT_ENUM, 0, "info", NULL, 0, 0, log_levels,
                       "least important level logged: err, warn, notice, info or debug"},
    [CFG_LOG_LAG_INTERVAL_S] = {"log.lag_interval_s", KT_INT, 0, "10", NULL, 1, 3600, NULL,
                                "seconds between msg=lag and msg=backlog log lines"},
    [CFG_METRICS_TEXTFILE] = {"metrics.textfile", KT_STRING, KF_EMPTY_OK, NULL, NULL, 0, 0, NULL,
                              "Prometheus text file of the same counters, replaced every "
                              "log.lag_interval_s, for node_exporter's textfile collector "
                              "(default: none)"},
    [CFG_BATCH_MAX_EVENTS] = {"batch.max_events", KT_INT, 0, "500", NULL, 1, 100000, NULL,
                              "most inbound events applied in one database transaction"},
    [CFG_BATCH_MAX_WAIT_MS] = {"batch.max_wait_ms", KT_DURATION_MS, 0, "100", NULL, 0, 60000, NULL,
                               "longest wait to fill a batch before applying what has arrived"},
    [CFG_APPLY_WORKERS] = {"apply.workers", KT_INT, 0, "0", NULL, 0, 64, NULL,
                           "threads applying batches side by side, each with its own database "
                           "connection and its share of the partitions; 0: one per CPU core"},
    [CFG_OUTBOX_BATCH] = {"outbox.batch", KT_INT, 0, "500", NULL, 1, 100000, NULL,
                          "most outbound messages published per outbox pass"},
    [CFG_RETRY_MAX_BACKOFF_MS] =
        {"retry.max_backoff_ms", KT_DURATION_MS, 0, "30000", NULL, 100, 3600000, NULL,
         "longest pause between retries after a Kafka or database failure"},
    [CFG_SHUTDOWN_TIMEOUT_MS] = {"shutdown.timeout_ms", KT_DURATION_MS, 0, "8000", NULL, 0, 3600000,
                                 NULL,
                                 "time allowed to finish the current batch and flush on SIGTERM"},
    [CFG_TEST_CLOCK_OFFSET_S] = {"test.clock_offset_s", KT_INT, 0, "0", NULL, -3155760000LL,
                                 3155760000LL, NULL,
                                 "TEST ONLY: seconds added to credsync's \"now\""},
    [CFG_TEST_FIXED_NOW] = {"test.fixed_now", KT_TIME, KF_EMPTY_OK, NULL, NULL, 0, 0, NULL,
                            "TEST ONLY: credsync's \"now\", an RFC 3339 date-time (default: none)"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS == CFG_KEY_COUNT, "one entry of keys[] per enum config_key");

struct setting {
	char *value;   /* normalized effective value; NULL: none */
	long long num; /* KT_INT, KT_DURATION_MS */
	int line;      /* where the file set it; 0: the default */
};

struct kafka_prop {
	char *prop; /* without "kafka." */
	char *value;
	int line;
};

struct config {
	char *name;       /* the file, as messages name it */
	bool stat_known;  /* config_load: the file's mode and group when it was read */
	mode_t file_mode; /* permission bits */
	gid_t file_gid;
	struct setting set[NKEYS];
	struct kafka_prop *kafka; /* passthrough keys in file order */
	size_t nkafka, kafkacap;
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static const struct key_def *
key_find(const char *name, size_t *ret_index)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0) {
			if (ret_index != NULL)
				*ret_index = i;
			return &keys[i];
		}
	return NULL;
}

/* Secret librdkafka properties: passwords, client secrets, inline private keys, OAUTHBEARER
 * settings (which may hold a secret). */
static bool
kafka_prop_is_secret(const char *prop)
{
	return strstr(prop, "password") != NULL || strstr(prop, "secret") != NULL ||
	       strcmp(prop, "ssl.key.pem") == 0 || strcmp(prop, "sasl.oauthbearer.config") == 0;
}

/* librdkafka property names: letters, digits, '.', '_' and '-'. */
static bool
kafka_prop_is_name(const char *prop)
{
	if (*prop == '\0')
		return false;
	for (const char *p = prop; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

static bool
parse_ll(const char *s, long long *ret, const char **ret_end)
{
	char *end;

	if (!((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')))
		return false;
	errno = 0;
	*ret = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	*ret_end = end;
	return true;
}

/* A duration: a number of milliseconds, or a number with the unit ms, s or m. */
static bool
parse_duration_ms(const char *s, long long *ret)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}};
	const char *end;
	long long n;

	if (!parse_ll(s, &n, &end))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (n > LLONG_MAX / units[i].ms || n < LLONG_MIN / units[i].ms)
				return false;
			*ret = n * units[i].ms;
			return true;
		}
	return false;
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* "a, b,c" -> "a,b,c" in out (as long as s); false on an empty or ill-formed name. */
static bool
parse_name_list(const char *s, char *out)
{
	size_t len = 0;

	for (const char *p = s;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!is_name_char(*p))
			return false;
		while (is_name_char(*p))
			out[len++] = *p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return false;
		out[len++] = *p++;
	}
	out[len] = '\0';
	return true;
}

/* Checks a non-empty value by type; on success *ret_value is the normalized text (in num or
 * value) and st->num is set. On error err holds the reason without the location. */
static int
value_check(const struct key_def *k, const char *value, struct setting *st, char num[32],
            const char **ret_value, char *err, size_t errsz)
{
	long long n = 0;
	const char *end;
	int64_t unix_s;
	int offset_min;
	size_t i;

	*ret_value = value;
	switch (k->type) {
	case KT_STRING:
	case KT_NAME_LIST: /* normalized by the caller, which owns the copy */
		return 0;
	case KT_INT:
		if (!parse_ll(value, &n, &end) || *end != '\0' || n < k->min || n > k->max) {
			seterr(err, errsz,
			       "\"%s\" must be an integer between %lld and %lld, not \"%s\"",
			       k->name, k->min, k->max, value);
			return -1;
		}
		break;
	case KT_DURATION_MS:
		if (!parse_duration_ms(value, &n) || n < k->min || n > k->max) {
			seterr(err, errsz,
			       "\"%s\" must be a duration between %lld and %lld ms (like 250, "
			       "250ms, 5s "
			       "or 1m), not \"%s\"",
			       k->name, k->min, k->max, value);
			return -1;
		}
		break;
	case KT_ENUM: {
		char list[256] = "";
		size_t len = 0;
		for (i = 0; k->choices[i] != NULL; i++)
			if (strcmp(value, k->choices[i]) == 0)
				return 0;
		for (i = 0; k->choices[i] != NULL && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
			                        i > 0 ? ", " : "", k->choices[i]);
		seterr(err, errsz, "\"%s\" must be one of %s, not \"%s\"", k->name, list, value);
		return -1;
	}
	case KT_TIME:
		if (time_parse_rfc3339(value, &unix_s, &offset_min) != 0) {
			seterr(
			    err, errsz,
			    "\"%s\" must be an RFC 3339 date-time like 2024-05-06T10:15:00+08:00, "
			    "not \"%s\"",
			    k->name, value);
			return -1;
		}
		return 0;
	}
	st->num = n;
	snprintf(num, 32, "%lld", n);
	*ret_value = num;
	return 0;
}

/* Checks value for key k and fills st; on error err holds the reason without the location. */
static int
value_parse(const struct key_def *k, const char *value, struct setting *st, char *err, size_t errsz)
{
	char num[32];
	const char *norm;

	if (*value == '\0') {
		if (!(k->flags & KF_EMPTY_OK)) {
			seterr(err, errsz, "\"%s\" must not be empty", k->name);
			return -1;
		}
		if (!(k->flags & KF_REQUIRED)) {
			st->value = NULL; /* none, even where a default exists */
			return 0;
		}
		norm = value;
	} else if (value_check(k, value, st, num, &norm, err, errsz) != 0) {
		return -1;
	}
	st->value = strdup(norm);
	if (st->value == NULL) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	/* The names become file names under data.dir/rules, so '/' and ".." never get through. */
	if (k->type == KT_NAME_LIST && *value != '\0' && !parse_name_list(value, st->value)) {
		seterr(err, errsz,
		       "\"%s\" must be a comma-separated list of names (letters, digits, '-', "
		       "'_'), not \"%s\"",
		       k->name, value);
		free(st->value);
		st->value = NULL;
		return -1;
	}
	return 0;
}

void
config_free(config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		free(cfg->set[i].value);
	for (size_t i = 0; i < cfg->nkafka; i++) {
		free(cfg->kafka[i].prop);
		free(cfg->kafka[i].value);
	}
	free(cfg->kafka);
	free(cfg->name);
	free(cfg);
}

static int
kafka_add(config *cfg, const char *prop, const char *value, int line)
{
	if (cfg->nkafka == cfg->kafkacap) {
		size_t cap = cfg->kafkacap == 0 ? 8 : cfg->kafkacap * 2;
		struct kafka_prop *grown = realloc(cfg->kafka, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		cfg->kafka = grown;
		cfg->kafkacap = cap;
	}
	struct kafka_prop *kp = &cfg->kafka[cfg->nkafka];
	kp->prop = strdup(prop);
	kp->value = strdup(value);
	kp->line = line;
	if (kp->prop == NULL || kp->value == NULL) {
		free(kp->prop);
		free(kp->value);
		return -1;
	}
	cfg->nkafka++;
	return 0;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims blanks around s[0..n) in place; returns the start, NUL-terminated. */
static char *
trim(char *s, size_t n)
{
	while (n > 0 && is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	s[n] = '\0';
	return s;
}

/* kafka.embedded.* is credsync's: a misspelling there must not reach librdkafka. */
static bool
key_is_acceptable(const char *key)
{
	return key_find(key, NULL) != NULL ||
	       (strncmp(key, "kafka.", 6) == 0 && kafka_prop_is_name(key + 6) &&
	        strncmp(key, "kafka.embedded.", 15) != 0);
}

/* "pg.conninfo dbname=x": the '=' found belongs to the value, the key's own is missing. */
static bool
forgot_equals(const char *key)
{
	size_t n = strcspn(key, " \t");
	char first[256];

	if (key[n] == '\0' || n >= sizeof(first))
		return false;
	memcpy(first, key, n);
	first[n] = '\0';
	return key_is_acceptable(first);
}

/* One line, already stripped of its newline; 0 also for a blank or comment line. On error
 * err holds the reason without the location. */
static int
config_line(config *cfg, char *text, int line, char *err, size_t errsz)
{
	char *eq, *key, *value, *hash;
	const struct key_def *k;
	size_t index;

	/* A '#' at the start or after a blank starts a comment, so "a#b" is a value. */
	for (hash = text; (hash = strchr(hash, '#')) != NULL; hash++)
		if (hash == text || is_blank(hash[-1])) {
			*hash = '\0';
			break;
		}
	if (*trim(text, strlen(text)) == '\0')
		return 0;
	eq = strchr(text, '=');
	if (eq == NULL) {
		seterr(err, errsz, "missing \"=\"");
		return -1;
	}
	key = trim(text, (size_t)(eq - text));
	value = trim(eq + 1, strlen(eq + 1));
	if (*key == '\0') {
		seterr(err, errsz, "missing key before \"=\"");
		return -1;
	}
	if (forgot_equals(key)) {
		seterr(err, errsz, "missing \"=\"");
		return -1;
	}
	k = key_find(key, &index);
	if (k != NULL) {
		if (cfg->set[index].line != 0) {
			seterr(err, errsz, "duplicate key \"%s\" (first set on line %d)", key,
			       cfg->set[index].line);
			return -1;
		}
		if (value_parse(k, value, &cfg->set[index], err, errsz) != 0)
			return -1;
		cfg->set[index].line = line;
		return 0;
	}
	if (!key_is_acceptable(key)) {
		seterr(err, errsz, "unknown key \"%s\"", key);
		return -1;
	}
	for (size_t i = 0; i < cfg->nkafka; i++)
		if (strcmp(cfg->kafka[i].prop, key + 6) == 0) {
			seterr(err, errsz, "duplicate key \"%s\" (first set on line %d)", key,
			       cfg->kafka[i].line);
			return -1;
		}
	if (*value == '\0') {
		seterr(err, errsz, "\"%s\" must not be empty", key);
		return -1;
	}
	if (kafka_add(cfg, key + 6, value, line) != 0) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

/* After the whole file: required keys, then defaults for what is unset. */
static int
config_finish(config *cfg, const char *name, char *err, size_t errsz)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_def *k = &keys[i];
		struct setting *st = &cfg->set[i];
		const char *def = k->def_fn != NULL ? k->def_fn() : k->def;
		char why[512];

		if (st->line != 0)
			continue;
		if (k->flags & KF_REQUIRED) {
			seterr(err, errsz, "%s: missing required key \"%s\"", name, k->name);
			return -1;
		}
		if (def == NULL)
			continue;
		/* Defaults go through the same checks as values; a unit test keeps them valid. */
		if (value_parse(k, def, st, why, sizeof(why)) != 0) {
			seterr(err, errsz, "%s: default of \"%s\": %s", name, k->name, why);
			return -1;
		}
	}
	return 0;
}

config *
config_parse(const char *text, const char *name, char *err, size_t errsz)
{
	config *cfg = calloc(1, sizeof(*cfg));
	char *copy = strdup(text);
	char *p, *nl, why[512];
	int line = 0;

	if (cfg == NULL || copy == NULL || (cfg->name = strdup(name)) == NULL) {
		seterr(err, errsz, "%s: out of memory", name);
		goto fail;
	}
	p = copy;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark from some editors */
		p += 3;
	for (; p != NULL; p = nl == NULL ? NULL : nl + 1) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		line++;
		if (config_line(cfg, p, line, why, sizeof(why)) != 0) {
			seterr(err, errsz, "%s:%d: %s", name, line, why);
			goto fail;
		}
	}
	if (config_finish(cfg, name, err, errsz) != 0)
		goto fail;
	free(copy);
	return cfg;
fail:
	free(copy);
	config_free(cfg);
	return NULL;
}

config *
config_load(const char *path, char *err, size_t errsz)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL, *nul;
	size_t len = 0, cap = 0;
	config *cfg = NULL;

	if (fp == NULL) {
		seterr(err, errsz, "%s: could not open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *grown = realloc(text, cap + 65536);
			if (grown == NULL) {
				seterr(err, errsz, "%s: out of memory", path);
				goto done;
			}
			text = grown;
			cap += 65536;
		}
		size_t n = fread(text + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		seterr(err, errsz, "%s: could not read: %s", path, strerror(errno));
		goto done;
	}
	text[len] = '\0';
	nul = memchr(text, '\0', len);
	if (nul != NULL) {
		int line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		seterr(err, errsz, "%s:%d: contains a NUL byte", path, line);
		goto done;
	}
	cfg = config_parse(text, path, err, errsz);
	struct stat st;
	if (cfg != NULL && fstat(fileno(fp), &st) == 0) {
		cfg->stat_known = true;
		cfg->file_mode = st.st_mode & 07777;
		cfg->file_gid = st.st_gid;
	}
done:
	free(text);
	fclose(fp);
	return cfg;
}

/* A key id that is not in the table, or the wrong accessor for its type, is a mistake in
 * credsync's code: stop at once, naming it, rather than run on with a default. */
static _Noreturn void
key_misuse(enum config_key key, const char *what)
{
	log_kv(LOG_LVL_ERR, "configuration key misused", "key=%s key_id=%d misuse=%s",
	       (unsigned)key < NKEYS && keys[key].name != NULL ? keys[key].name : "(none)",
	       (int)key, what);
	abort();
}

static const struct key_def *
key_at(enum config_key key)
{
	if ((unsigned)key >= NKEYS || keys[key].name == NULL)
		key_misuse(key, "not a configuration key");
	return &keys[key];
}

const char *
config_str(const config *cfg, enum config_key key)
{
	(void)key_at(key);
	return cfg->set[key].value;
}

long long
config_int(const config *cfg, enum config_key key)
{
	const struct key_def *k = key_at(key);

	if (k->type != KT_INT && k->type != KT_DURATION_MS)
		key_misuse(key, "not an integer key");
	return cfg->set[key].num;
}

int
config_key_find(const char *name)
{
	size_t index;

	return key_find(name, &index) != NULL ? (int)index : -1;
}

const char *
config_get(const config *cfg, const char *name)
{
	size_t index;

	if (key_find(name, &index) != NULL)
		return cfg->set[index].value;
	if (strncmp(name, "kafka.", 6) == 0)
		for (size_t i = 0; i < cfg->nkafka; i++)
			if (strcmp(cfg->kafka[i].prop, name + 6) == 0)
				return cfg->kafka[i].value;
	return NULL;
}

/* bootstrap.servers (unless embedded) and group.id are librdkafka's too; embedded.* are not. */
int
config_foreach_kafka(const config *cfg, int (*fn)(const char *prop, const char *value, void *arg),
                     void *arg)
{
	int rc;

	for (size_t i = 0; i < NKEYS; i++) {
		const char *value = cfg->set[i].value;
		if (strncmp(keys[i].name, "kafka.", 6) != 0 || (keys[i].flags & KF_KAFKA_OWN) ||
		    value == NULL)
			continue;
		if (strcmp(keys[i].name, "kafka.bootstrap.servers") == 0 &&
		    strcmp(value, "embedded") == 0)
			continue;
		if ((rc = fn(keys[i].name + 6, value, arg)) != 0)
			return rc;
	}
	for (size_t i = 0; i < cfg->nkafka; i++)
		if ((rc = fn(cfg->kafka[i].prop, cfg->kafka[i].value, arg)) != 0)
			return rc;
	return 0;
}

void
config_print(const config *cfg, FILE *fp)
{
	char red[4096];

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_def *k = &keys[i];
		const struct setting *st = &cfg->set[i];
		const char *value = st->value;

		if (value != NULL && (k->flags & KF_SECRET))
			value = MASK;
		else if (value != NULL && (k->flags & KF_CONNINFO))
			value = log_redact_conninfo(red, sizeof(red), value);
		if (st->line != 0)
			fprintf(fp, "%s = %s\n", k->name, value != NULL ? value : "");
		else if (value != NULL)
			fprintf(fp, "%s = %s # (default)\n", k->name, value);
		else
			fprintf(fp, "%s = # (default: none)\n", k->name);
	}
	for (size_t i = 0; i < cfg->nkafka; i++) {
		const struct kafka_prop *kp = &cfg->kafka[i];
		fprintf(fp, "kafka.%s = %s\n", kp->prop,
		        kafka_prop_is_secret(kp->prop) ? MASK : kp->value);
	}
}

bool
config_key_info(size_t i, struct config_keyinfo *ret)
{
	static const char *const type_names[] = {
	    [KT_STRING] = "string", [KT_INT] = "integer",    [KT_DURATION_MS] = "duration-ms",
	    [KT_ENUM] = "enum",     [KT_NAME_LIST] = "list", [KT_TIME] = "rfc3339",
	};

	if (i >= NKEYS)
		return false;
	ret->name = keys[i].name;
	ret->type = type_names[keys[i].type];
	ret->default_value = keys[i].def_fn != NULL ? keys[i].def_fn() : keys[i].def;
	ret->required = (keys[i].flags & KF_REQUIRED) != 0;
	ret->secret = (keys[i].flags & (KF_SECRET | KF_CONNINFO)) != 0;
	ret->min = keys[i].min;
	ret->max = keys[i].max;
	ret->doc = keys[i].doc;
	return true;
}

const char *
config_name(const config *cfg)
{
	return cfg->name;
}

int
config_key_line(const config *cfg, const char *key)
{
	size_t index;

	if (key_find(key, &index) != NULL)
		return cfg->set[index].line;
	if (strncmp(key, "kafka.", 6) == 0)
		for (size_t i = 0; i < cfg->nkafka; i++)
			if (strcmp(cfg->kafka[i].prop, key + 6) == 0)
				return cfg->kafka[i].line;
	return 0;
}

/* Whether the file sets a password: in pg.conninfo (keyword or URI) or a secret kafka.* key. */
static bool
holds_password(const config *cfg)
{
	size_t index;

	if (key_find("pg.conninfo", &index) != NULL && cfg->set[index].value != NULL) {
		char red[4096];
		const char *v = cfg->set[index].value;
		/* the redaction masks exactly what libpq would read as a password */
		if (strcmp(log_redact_conninfo(red, sizeof(red), v), v) != 0)
			return true;
	}
	for (size_t i = 0; i < cfg->nkafka; i++)
		if (kafka_prop_is_secret(cfg->kafka[i].prop))
			return true;
	return false;
}

bool
config_exposes_password(const config *cfg, unsigned *ret_mode)
{
	if (!cfg->stat_known || !holds_password(cfg))
		return false;
	*ret_mode = (unsigned)cfg->file_mode;
	if (cfg->file_mode & S_IROTH)
		return true;
	/* root:credsync 0640 is how the daemon's own group reads it (deploy/README.md) */
	return (cfg->file_mode & S_IRGRP) && cfg->file_gid != getegid();
}
