/* credsyncctl: what an operator or an authority's clerk asks credsync. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} commands[] = {
    {"uscc", ctl_uscc,
     "uscc CODE                      is a Unified Social Credit Code valid, and why"},
    {"due", ctl_due, "due --received RFC3339 [--workdays N]   the working-day due date"},
    {"periods", ctl_periods,
     "periods --decided-on DATE --categories LIST [--field F] [--fine-yuan X] [--producer P]"},
    {"check-event", ctl_check_event,
     "check-event FILE|-              the reject reason an event would get, or ok"},
    {"notice", ctl_notice,
     "notice ...                     the filled-in credit repair notice (告知书) for a penalty"},
    {"status", ctl_status,
     "status -c FILE                 lag, backlog and breaches (exit 1 when anything is overdue)"},
    {"history", ctl_history,
     "history -c FILE USCC           everything known about one subject, in time order"},
    {"rejects", ctl_rejects,
     "rejects -c FILE [--producer P] [--since T] [--limit N]   refused messages, newest first"},
    {"retry", ctl_retry,
     "retry -c FILE ID|--all-failed  apply again messages the database refused (failed)"},
    {"resend", ctl_resend,
     "resend -c FILE ID              have the running credsyncd publish a message again"},
    {"late", ctl_late,
     "late -c FILE                   obligations in breach and repair applications overdue"},
    {"reconcile", ctl_reconcile,
     "reconcile -c FILE --date D     a day's obligations and whether each site acknowledged"},
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: credsyncctl COMMAND [--json] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %s\n", commands[i].usage);
	fprintf(fp, "\n'credsyncctl COMMAND --help' describes one command.\n"
	            "Exit status: 0 success, 1 a negative answer or failure, 2 usage error.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("credsyncctl %s\n", CREDSYNC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "credsyncctl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
