/* ctl_check_event: `credsyncctl check-event [--topic TOPIC] [--json] FILE|-`: the reject
 * reason an inbound event would get from credsyncd's stateless checks, or ok. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "event.h"

#define TOPIC_PREFIX "credit.in."

static void
help(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: credsyncctl check-event [--topic TOPIC] [--json] FILE|-\n"
	    "\n"
	    "Validates one inbound event (a file, or standard input for \"-\") as credsyncd\n"
	    "would on arrival, with the rules and lists of the data directory. Checks that\n"
	    "need a record's history (not_entry_owner, before_minimum_period, not_repairable)\n"
	    "are not made.\n"
	    "\n"
	    "  --topic TOPIC  the topic it came from (credit.in.<producer>): its producer must\n"
	    "                 match the event's\n"
	    "  --json         print {\"ok\": true, \"type\": ..., \"event_id\": ...} or\n"
	    "                 {\"ok\": false, \"reason\": ..., \"detail\": ...}\n"
	    "  --help         print this help\n"
	    "\n"
	    "Exit status: 0 accepted, 1 rejected, 2 usage error, or the file or the data\n"
	    "directory could not be read.\n");
}

static const struct ctl_cmd this_cmd = {
    "check-event", "usage: credsyncctl check-event [--topic TOPIC] [--json] FILE|-\n", help, -1};

/* Reads all of fp into a malloc'd buffer (the whole of it: an oversized event must be
 * reported with its size). Returns NULL with errno set on failure. */
static char *
read_all(FILE *fp, size_t *ret_len)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (bigger == NULL) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (ferror(fp)) {
		int saved = errno ? errno : EIO;
		free(buf);
		errno = saved;
		return NULL;
	}
	*ret_len = len;
	return buf;
}

static char *
read_input(const char *path, size_t *ret_len)
{
	if (strcmp(path, "-") == 0)
		return read_all(stdin, ret_len);
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	char *buf = read_all(fp, ret_len);
	int saved = errno;
	fclose(fp);
	errno = saved;
	return buf;
}

static int
print_result(bool json, int rc, const struct event *ev, const struct reject *rej)
{
	if (json) {
		json_t *out =
		    rc == 0 ? json_pack("{s:b, s:s, s:s}", "ok", 1, "type",
		                        event_type_name(ev->type), "event_id", ev->event_id)
		            : json_pack("{s:b, s:s, s:s, s:s?}", "ok", 0, "reason",
		                        reject_reason_name(rej->reason), "detail", rej->detail,
		                        "event_id", ev->event_id[0] ? ev->event_id : NULL);
		if (out == NULL) {
			fprintf(stderr, "credsyncctl check-event: out of memory\n");
			return 2;
		}
		ctl_print_json(out);
	} else if (rc == 0) {
		const char *what = ev->key.list[0] ? ev->key.list : ev->key.decision_no;
		printf("ok (%s %s from %s about %s: %s)\n", event_type_name(ev->type), ev->event_id,
		       ev->producer, ev->key.uscc, what);
	} else {
		printf("%s: %s\n", reject_reason_name(rej->reason), rej->detail);
	}
	return rc == 0 ? 0 : 1;
}

int
ctl_check_event(int argc, char **argv)
{
	static const struct option options[] = {
	    {"topic", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *topic = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help(stdout);
			return 0;
		default:
			if (optopt == 't')
				fprintf(stderr, "credsyncctl check-event: --topic needs a TOPIC\n");
			else
				ctl_bad_option("check-event", argv, c);
			return ctl_usage(&this_cmd);
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "credsyncctl check-event: %s\n",
		        argc - optind < 1 ? "missing FILE" : "more than one FILE given");
		return ctl_usage(&this_cmd);
	}
	const char *producer = NULL;
	if (topic != NULL) {
		if (strncmp(topic, TOPIC_PREFIX, strlen(TOPIC_PREFIX)) != 0 ||
		    topic[strlen(TOPIC_PREFIX)] == '\0') {
			fprintf(stderr,
			        "credsyncctl check-event: topic \"%s\" is not an inbound topic "
			        "(" TOPIC_PREFIX "<producer>)\n",
			        topic);
			return 2;
		}
		producer = topic + strlen(TOPIC_PREFIX);
	}

	const char *path = argv[optind];
	size_t len = 0;
	char *buf = read_input(path, &len);
	if (buf == NULL) {
		fprintf(stderr, "credsyncctl check-event: could not read \"%s\": %s\n",
		        strcmp(path, "-") == 0 ? "standard input" : path, strerror(errno));
		return 2;
	}
	rules *r = ctl_load_rules(NULL);
	if (r == NULL) {
		free(buf);
		return 2;
	}

	struct event ev;
	struct reject rej;
	int rc = event_parse(buf, len, producer, r, &ev, &rej);
	int status = print_result(json, rc, &ev, &rej);
	rules_free(r);
	free(buf);
	return status;
}
