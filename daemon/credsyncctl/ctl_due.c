/* ctl_due: `credsyncctl due --received RFC3339 [--workdays N] [--json]`: the working-day
 * due date of an act "within N working days of receipt". */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"

/* Far beyond any deadline in the rules; keeps the day-by-day walk short. */
#define WORKDAYS_MAX 10000

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncctl due --received RFC3339 [--workdays N] [--json]\n"
	    "\n"
	    "The due date of an act \"within N working days of receipt\": the receipt day is the\n"
	    "Beijing date of the instant and is not counted; the act is due by the end of the Nth\n"
	    "working day after it, by the national calendar (data/calendar-cn.txt).\n"
	    "\n"
	    "  --received T   the instant of receipt, RFC 3339 with an offset\n"
	    "                 (such as 2024-09-13T15:00:00+08:00)\n"
	    "  --workdays N   the number of working days, 1 to %d (default 1)\n"
	    "  --json         print {\"due_date\": \"YYYY-MM-DD\"}, with "
	    "\"calendar_unknown_year\"\n"
	    "                 when the calendar does not cover a year met\n"
	    "  --help         print this help\n"
	    "\n"
	    "Exit status: 0 success, 1 failure (such as an unreadable calendar), 2 usage error.\n",
	    WORKDAYS_MAX);
}

static const struct ctl_cmd this_cmd = {
    "due", "usage: credsyncctl due --received RFC3339 [--workdays N] [--json]\n", help, 0};

/* getopt's own messages would name the subcommand as if it were the program. */
static int
parse_workdays(const char *s, int *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < 1 || n > WORKDAYS_MAX)
		return -1;
	*ret = (int)n;
	return 0;
}

int
ctl_due(int argc, char **argv)
{
	static const struct option options[] = {
	    {"received", required_argument, NULL, 'r'},
	    {"workdays", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *received = NULL;
	bool json = false;
	int n = 1, c, status;

	optind = 1;
	opterr = 0;
	while ((c = ctl_getopt(&this_cmd, argc, argv, ":h", options, &json, &status)) != -1) {
		if (c == 'r') {
			received = optarg;
		} else if (c == 'n' && parse_workdays(optarg, &n) < 0) {
			fprintf(stderr,
			        "credsyncctl due: --workdays \"%s\" is not a whole number "
			        "from 1 to %d\n",
			        optarg, WORKDAYS_MAX);
			return 2;
		}
	}
	if (status >= 0)
		return status;
	if (received == NULL) {
		fprintf(stderr, "credsyncctl due: --received is required\n");
		return ctl_usage(&this_cmd);
	}
	int64_t t;
	int offset_min;
	if (time_parse_rfc3339(received, &t, &offset_min) < 0) {
		fprintf(stderr,
		        "credsyncctl due: --received \"%s\" is not an RFC 3339 date-time with an "
		        "offset (such as 2024-09-13T15:00:00+08:00)\n",
		        received);
		return 2;
	}

	calendar *cal = ctl_load_calendar();
	if (cal == NULL)
		return 1;
	cs_date due;
	int unknown_year = 0;
	int estimated = calendar_due_date(cal, t, n, &due, &unknown_year);
	int first, last;
	calendar_range(cal, &first, &last);
	calendar_free(cal);

	char due_s[DATE_STRLEN], recv_s[DATE_STRLEN];
	date_format(due, due_s);
	date_format(date_beijing(t), recv_s);
	if (estimated) {
		char range[32] = "no year";
		if (first != 0)
			snprintf(range, sizeof(range), "%d-%d", first, last);
		fprintf(
		    stderr,
		    "credsyncctl due: warning: the working-day calendar does not cover %d (it has "
		    "%s): %s is an estimate counting Monday-Friday as working days\n",
		    unknown_year, range, due_s);
	}

	if (json) {
		json_t *out = json_pack("{s:s}", "due_date", due_s);
		if (out == NULL ||
		    (estimated && json_object_set_new(out, "calendar_unknown_year",
		                                      json_integer(unknown_year)) < 0)) {
			json_decref(out);
			fprintf(stderr, "credsyncctl due: out of memory\n");
			return 1;
		}
		ctl_print_json(out);
	} else {
		printf("due %s (received %s Beijing, %d working day%s)\n", due_s, recv_s, n,
		       n == 1 ? "" : "s");
	}
	return 0;
}
