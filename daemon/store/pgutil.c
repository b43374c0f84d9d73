/* pgutil: what every libpq user of credsync shares. */
#include "pgutil.h"

#include <libpq-fe.h>

#include "log.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void
pgutil_set_err(char *err, size_t errsz, const char *what, const char *msg)
{
	size_t n;

	if (msg == NULL || msg[0] == '\0')
		msg = "unknown error";
	n = strcspn(msg, "\n");
	while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\r' || msg[n - 1] == '.'))
		n--;
	snprintf(err, errsz, "%s: %.*s", what, (int)n, msg);
}

void
pgutil_quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void
pgutil_log_notices(void *arg, const char *message)
{
	/* "WARNING:  text\n": the severity decides the level, the text is the value */
	char text[512];
	size_t n = strcspn(message, "\n");
	(void)arg;
	snprintf(text, sizeof(text), "%.*s", (int)n, message);
	log_kv(strncmp(message, "WARNING", 7) == 0 ? LOG_LVL_WARN : LOG_LVL_DEBUG,
	       "postgresql notice", "text=%s", log_qs(text));
}

/* A conninfo parse error quotes pieces of the string, which may be a password: those go. */
static void
redacted_parse_error(char *err, size_t errsz, const char *msg)
{
	char buf[256];
	size_t o = 0;
	bool in_quote = false;

	for (const char *s = msg; *s != '\0' && *s != '\n' && o + 4 < sizeof(buf); s++) {
		if (*s == '"') {
			if (!in_quote) {
				memcpy(buf + o, "\"...", 4);
				o += 4;
			} else {
				buf[o++] = '"';
			}
			in_quote = !in_quote;
		} else if (!in_quote) {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	pgutil_set_err(err, errsz, "invalid connection string", buf);
}

int
pgutil_check_conninfo(const char *conninfo, char *err, size_t errsz)
{
	char *perr = NULL;
	PQconninfoOption *opts;

	if (strchr(conninfo, '=') == NULL && strncmp(conninfo, "postgresql://", 13) != 0 &&
	    strncmp(conninfo, "postgres://", 11) != 0)
		return 0; /* a bare database name */
	opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		redacted_parse_error(err, errsz, perr != NULL ? perr : "out of memory");
		PQfreemem(perr);
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}
