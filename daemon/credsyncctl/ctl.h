/* ctl: credsyncctl's subcommands, one function each, and what they share.
 * Each takes argv with argv[0] = the subcommand's name, parses its own options
 * (--json, --help), prints its answer and returns the exit status:
 * 0 success, 1 a negative answer or failure, 2 usage error. */
#ifndef CREDSYNC_CTL_H
#define CREDSYNC_CTL_H

#include <jansson.h>

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
int ctl_reconcile(int argc, char **argv);
int ctl_late(int argc, char **argv);

/* Loads the calendar / rules of the data directory (paths_datadir()), printing the reason
 * to stderr on failure (NULL then). rule_sets: as rules_load's `enabled`. */
calendar *ctl_load_calendar(void);
rules *ctl_load_rules(const char *rule_sets);

/* Reports a getopt_long error of subcommand cmd on stderr: c is what getopt_long returned
 * (':' for a missing value when the option string starts with ':', '?' otherwise). */
void ctl_bad_option(const char *cmd, char **argv, int c);

/* Prints a JSON value (indented, one trailing newline) to stdout and releases it. */
void ctl_print_json(json_t *json);

/* The penalty options `periods` and `notice` share, as given (NULL when absent). */
struct ctl_penalty_args {
	const char *decided_on, *categories, *field, *fine_yuan, *producer, *severity;
	const char *published_on; /* optional */
};
/* Validates them into *ret (ret->producer points into args). On a bad value prints
 * "credsyncctl CMD: reason" naming the option to stderr and returns -1 (a usage error). */
int ctl_penalty_facts(const char *cmd, const rules *r, const struct ctl_penalty_args *args,
                      struct penalty_facts *ret);

#endif
