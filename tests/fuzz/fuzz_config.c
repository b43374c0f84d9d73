/* fuzz_config: libFuzzer target for the configuration parser (config.c, from a buffer) and
 * the rule set file reader (rulefile.c, from memory through fmemopen). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rulefile.h"
#include "rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rules *fuzz_rules;
static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	const char *dir = getenv("CREDSYNC_SCHEMAS");

	(void)argc;
	(void)argv;
	fuzz_rules = rules_load(dir && dir[0] ? dir : CREDSYNC_SRC_SCHEMAS, NULL, err, sizeof(err));
	devnull = fopen("/dev/null", "w");
	if (fuzz_rules == NULL || devnull == NULL) {
		fprintf(stderr, "fuzz_config: setup failed: %s\n", fuzz_rules ? "/dev/null" : err);
		abort();
	}
	return 0;
}

static int
count_kafka(const char *prop, const char *value, void *arg)
{
	if (prop == NULL || value == NULL)
		abort();
	(*(size_t *)arg)++;
	return 0;
}

static bool
fuzz_producer_known(const void *ctx, const char *producer)
{
	return rules_producer_known(ctx, producer);
}

static bool
fuzz_producer_is_system(const void *ctx, const char *producer)
{
	return rules_producer_is_system(ctx, producer);
}

static void
fuzz_rulefile(const uint8_t *data, size_t size)
{
	char err[512];
	struct ruleset rs;
	if (size == 0) /* fmemopen of size 0 may fail */
		return;
	/* Read only ("r"): the cast drops const for fmemopen's prototype, nothing writes. */
	FILE *fp = fmemopen((void *)(uintptr_t)data, size, "r");
	if (fp == NULL)
		return;
	const struct rulefile_producers pr = {fuzz_producer_known, fuzz_producer_is_system,
	                                      fuzz_rules};
	if (rulefile_read(&pr, fp, "fuzz.rules", "fuzz", &rs, err, sizeof(err)) == 0)
		rulefile_free(&rs);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *text = malloc(size + 1);
	size_t nkafka = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config *cfg = config_parse(text, "fuzz.conf", err, sizeof(err));
	if (cfg != NULL) {
		config_print(cfg, devnull);
		config_foreach_kafka(cfg, count_kafka, &nkafka);
		for (size_t i = 0;; i++) {
			struct config_keyinfo ki;
			if (!config_key_info(i, &ki))
				break;
			if (strcmp(ki.type, "integer") == 0 ||
			    strcmp(ki.type, "duration-ms") == 0) {
				long long v = config_int(cfg, (enum config_key)i);
				if (v < ki.min || v > ki.max)
					abort();
			} else {
				(void)config_str(cfg, (enum config_key)i);
			}
		}
		config_free(cfg);
	} else if (memchr(err, '\n', strnlen(err, sizeof(err))) != NULL) {
		abort(); /* a reason is one line */
	}
	free(text);
	fuzz_rulefile(data, size);
	return 0;
}
