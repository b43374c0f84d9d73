/* ctl_uscc: `credsyncctl uscc [--json] CODE`: is a Unified Social Credit Code valid, and why. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "uscc.h"

static void
help(FILE *fp)
{
	fprintf(fp,
	        "usage: credsyncctl uscc [--json] CODE\n"
	        "\n"
	        "Checks an 18-character Unified Social Credit Code (GB 32100-2015): its length,\n"
	        "its characters and its check character.\n"
	        "\n"
	        "  --json    print {\"uscc\": CODE, \"valid\": BOOL[, \"reason\": TEXT]}\n"
	        "  --help    print this help\n"
	        "\n"
	        "Exit status: 0 valid, 1 invalid, 2 usage error.\n");
}

/* JSON strings must be UTF-8; a code that is not is shown with its bad bytes as '?'
 * (the reason names the first one exactly). */
static json_t *
json_code(const char *code)
{
	json_t *s = json_string(code);
	if (s != NULL)
		return s;
	size_t len = strlen(code);
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i <= len; i++)
		copy[i] = (unsigned char)code[i] >= 0x80 ? '?' : code[i];
	s = json_string(copy);
	free(copy);
	return s;
}

static const struct ctl_cmd this_cmd = {"uscc", "usage: credsyncctl uscc [--json] CODE\n", help,
                                        -1};

/* getopt's own messages would name the subcommand as if it were the program. */
int
ctl_uscc(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	int c, status;

	optind = 1;
	opterr = 0;
	while ((c = ctl_getopt(&this_cmd, argc, argv, "h", options, &json, &status)) != -1) {
	}
	if (status >= 0)
		return status;
	if (argc - optind != 1) {
		fprintf(stderr, "credsyncctl uscc: %s\n",
		        argc - optind < 1 ? "missing CODE" : "more than one CODE given");
		return ctl_usage(&this_cmd);
	}

	const char *code = argv[optind];
	char reason[128];
	bool valid = uscc_check(code, reason, sizeof(reason)) == 0;

	if (json) {
		/* "o" steals the code's reference, also on failure */
		json_t *out = json_pack("{s:o, s:b}", "uscc", json_code(code), "valid", valid);
		if (out == NULL ||
		    (!valid && json_object_set_new(out, "reason", json_string(reason)) < 0)) {
			json_decref(out);
			fprintf(stderr, "credsyncctl uscc: out of memory\n");
			return 1;
		}
		ctl_print_json(out);
	} else if (valid) {
		printf("%s: valid\n", code);
	} else {
		printf("%s: invalid: %s\n", code, reason);
	}
	return valid ? 0 : 1;
}
