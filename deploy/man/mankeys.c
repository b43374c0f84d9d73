/* mankeys: fills credsyncd.conf(5)'s key list from config's key table (the one that drives
 * parsing, defaults and --check), so the manual cannot drift from the program. Run at build
 * time: mankeys TEMPLATE OUT copies TEMPLATE to OUT with the line ".\" KEYS-FROM-THE-TABLE"
 * replaced by one .TP entry per key: name, type, default, range, required, secret, and its doc
 * line. */
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Text for a man(7) line: backslashes doubled, '-' as \-, a leading '.' or '\'' guarded. */
static void
put_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void
put_key(FILE *out, const struct config_keyinfo *k)
{
	fputs(".TP\n.B ", out);
	put_text(out, k->name);
	fputs("\n", out);
	put_text(out, k->doc);
	fputs(".\n.br\nType: ", out);
	put_text(out, k->type);
	if (strcmp(k->type, "integer") == 0 || strcmp(k->type, "duration-ms") == 0)
		fprintf(out, ", from %lld to %lld%s", k->min, k->max,
		        strcmp(k->type, "duration-ms") == 0 ? " ms" : "");
	fputs(".\n", out);
	if (k->required) {
		fputs("Required.\n", out);
	} else if (k->default_value != NULL) {
		fputs("Default: \\fB", out);
		put_text(out, k->default_value);
		fputs("\\fR.\n", out);
	} else {
		fputs("Default: none.\n", out);
	}
	if (k->secret)
		fputs("Masked by \\fB\\-\\-check\\fR.\n", out);
}

int
main(int argc, char **argv)
{
	char line[4096];
	int found = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: mankeys TEMPLATE OUT\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "w");
	if (in == NULL || out == NULL) {
		fprintf(stderr, "mankeys: could not open %s or %s\n", argv[1], argv[2]);
		return 1;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strcmp(line, ".\\\" KEYS-FROM-THE-TABLE\n") != 0) {
			fputs(line, out);
			continue;
		}
		struct config_keyinfo k;
		for (size_t i = 0; config_key_info(i, &k); i++)
			put_key(out, &k);
		found++;
	}
	if (ferror(in) || fclose(out) != 0 || found != 1) {
		fprintf(stderr, "mankeys: %s: %s\n", argv[2],
		        found != 1 ? "the template needs one KEYS-FROM-THE-TABLE line"
		                   : "could not write");
		return 1;
	}
	fclose(in);
	return 0;
}
