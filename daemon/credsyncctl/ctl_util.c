/* ctl_util: what credsyncctl's subcommands share. */
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "paths.h"

calendar *
ctl_load_calendar(void)
{
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/data/calendar-cn.txt", paths_datadir());
	calendar *cal = calendar_load(path, err, sizeof(err));
	if (cal == NULL)
		fprintf(stderr, "credsyncctl: %s\n", err);
	return cal;
}

rules *
ctl_load_rules(const char *rule_sets)
{
	char err[512];
	rules *r = rules_load(paths_datadir(), rule_sets, err, sizeof(err));
	if (r == NULL)
		fprintf(stderr, "credsyncctl: %s\n", err);
	return r;
}

void
ctl_print_json(json_t *json)
{
	json_dumpf(json, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(json);
}

void
ctl_bad_option(const char *cmd, char **argv, int c)
{
	if (c == ':')
		fprintf(stderr, "credsyncctl %s: option \"%s\" needs a value\n", cmd,
		        argv[optind - 1]);
	else if (optopt != 0)
		fprintf(stderr, "credsyncctl %s: unknown option \"-%c\"\n", cmd, optopt);
	else
		fprintf(stderr, "credsyncctl %s: unknown option \"%s\"\n", cmd, argv[optind - 1]);
}

int
ctl_usage(const struct ctl_cmd *cmd)
{
	fprintf(stderr, "%sTry 'credsyncctl %s --help' for more.\n", cmd->synopsis, cmd->name);
	return 2;
}

int
ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv, const char *optstring,
           const struct option *options, bool *json, int *ret_exit)
{
	int c;

	*ret_exit = -1;
	while ((c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
		} else if (c == 'h') {
			cmd->help(stdout);
			*ret_exit = 0;
			return -1;
		} else if (c == '?' || c == ':') {
			ctl_bad_option(cmd->name, argv, c);
			*ret_exit = ctl_usage(cmd);
			return -1;
		} else {
			return c;
		}
	}
	if (cmd->max_args >= 0 && argc - optind > cmd->max_args) {
		fprintf(stderr, "credsyncctl %s: unexpected argument \"%s\"\n", cmd->name,
		        argv[optind + cmd->max_args]);
		*ret_exit = ctl_usage(cmd);
	}
	return -1;
}
