/* ctl: credsyncctl's subcommands, one function each, and what they share.
 * Each takes argv with argv[0] = the subcommand's name, parses its own options
 * (--json, --help), prints its answer and returns the exit status:
 * 0 success, 1 a negative answer or failure, 2 usage error. */
#ifndef CREDSYNC_CTL_H
#define CREDSYNC_CTL_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "calendar.h"
#include "rules.h"

int ctl_uscc(int argc, char **argv);
int ctl_due(int argc, char **argv);
int ctl_periods(int argc, char **argv);
int ctl_check_event(int argc, char **argv);
int ctl_notice(int argc, char **argv);
/* The operators' commands (ctl_ops_*.c): they read credsyncd's database through the
 * configuration file given with -c. */
int ctl_status(int argc, char **argv);
int ctl_history(int argc, char **argv);
int ctl_rejects(int argc, char **argv);
int ctl_resend(int argc, char **argv);
int ctl_retry(int argc, char **argv);
int ctl_reconcile(int argc, char **argv);
int ctl_late(int argc, char **argv);

/* Loads the calendar / rules of the data directory (paths_datadir()), printing the reason
 * to stderr on failure (NULL then). rule_sets: as rules_load's `enabled`. */
calendar *ctl_load_calendar(void);
rules *ctl_load_rules(const char *rule_sets);

/* Reports a getopt_long error of subcommand cmd on stderr: c is what getopt_long returned
 * (':' for a missing value when the option string starts with ':', '?' otherwise). */
void ctl_bad_option(const char *cmd, char **argv, int c);

/* A subcommand as its usage messages name it. synopsis: the "usage: credsyncctl ..." lines,
 * each ending in a newline; help prints the full help; max_args: the positional arguments it
 * takes, or -1 when it checks them itself. */
struct ctl_cmd {
	const char *name;
	const char *synopsis;
	void (*help)(FILE *fp);
	int max_args;
};

/* After a usage error (already printed): the synopsis and where to read more, on stderr.
 * Returns 2, the usage error's exit status. */
int ctl_usage(const struct ctl_cmd *cmd);

/* getopt_long over a subcommand's argv (set optind = 1 and opterr = 0 before the first
 * call), doing what every subcommand does alike: --json (option value 'j') sets *json,
 * --help ('h') prints the help, an unknown option or a missing value is reported. Returns
 * the next other option, or -1 when the options are over; then *ret_exit is -1 to go on, or
 * the exit status to return: 0 after --help, 2 after a usage error (also more positional
 * arguments than cmd->max_args). */
int ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv, const char *optstring,
               const struct option *options, bool *json, int *ret_exit);

/* Prints a JSON value (indented, one trailing newline) to stdout and releases it. */
void ctl_print_json(json_t *json);

/* The penalty options `periods` and `notice` share, as given (NULL when absent). */
struct ctl_penalty_args {
	const char *decided_on, *categories, *field, *fine_yuan, *producer, *severity;
	const char *rule_sets;    /* --rule-sets, as rules_load's `enabled` */
	const char *published_on; /* optional */
};
/* The entries of a struct option table for the options ctl_penalty_opt takes. */
/* clang-format off */
#define CTL_PENALTY_OPTIONS                                                                        \
	{"decided-on", required_argument, NULL, 'd'},                                              \
	{"categories", required_argument, NULL, 'c'},                                              \
	{"field", required_argument, NULL, 'f'},                                                   \
	{"fine-yuan", required_argument, NULL, 'y'},                                               \
	{"producer", required_argument, NULL, 'p'},                                                \
	{"severity", required_argument, NULL, 's'},                                                \
	{"published-on", required_argument, NULL, 'P'},                                            \
	{"rule-sets", required_argument, NULL, 'r'}
/* clang-format on */
/* Takes option c of `periods` and `notice` (--decided-on 'd', --categories 'c', --field
 * 'f', --fine-yuan 'y', --producer 'p', --severity 's', --published-on 'P', --rule-sets
 * 'r') from optarg into
 * args; returns false for any other option. */
bool ctl_penalty_opt(struct ctl_penalty_args *args, int c);
/* Validates them into *ret (ret->producer points into args). On a bad value prints
 * "credsyncctl CMD: reason" naming the option to stderr and returns -1 (a usage error). */
int ctl_penalty_facts(const char *cmd, const rules *r, const struct ctl_penalty_args *args,
                      struct penalty_facts *ret);

#endif
