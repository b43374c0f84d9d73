/* log: logfmt lines with a syslog priority prefix on stderr, one write(2) per line. */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A line longer than this is cut: one write of a bounded size keeps lines from threads whole. */
#define LOG_LINE_MAX 8192
/* The formatted free text of a message before quoting; quoting may double it. */
#define LOG_MSG_MAX 2048

#define MASK "********"

/* Relaxed is enough: a level change only has to be seen eventually by other threads. */
static _Atomic int log_level_cur = LOG_LVL_INFO;

static const char *const level_names[] = {
    [LOG_LVL_ERR] = "err",   [LOG_LVL_WARN] = "warn",   [LOG_LVL_NOTICE] = "notice",
    [LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
};

void
log_init(enum log_level level)
{
	log_set_level(level);
}

/* A level outside err..debug (a cast -1 from log_level_parse, say) must neither silence the
 * log nor index past level_names. */
static enum log_level
level_clamp(enum log_level level)
{
	if ((int)level < LOG_LVL_ERR)
		return LOG_LVL_ERR;
	if ((int)level > LOG_LVL_DEBUG)
		return LOG_LVL_DEBUG;
	return level;
}

void
log_set_level(enum log_level level)
{
	atomic_store_explicit(&log_level_cur, (int)level_clamp(level), memory_order_relaxed);
}

int
log_level_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

static bool
log_enabled(enum log_level level)
{
	return (int)level_clamp(level) <=
	       atomic_load_explicit(&log_level_cur, memory_order_relaxed);
}

/* Appends to a line being built; what does not fit is dropped. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
};

static void
line_add(struct line *l, const char *s)
{
	size_t n = strlen(s);
	size_t room = sizeof(l->buf) - 1 - l->len; /* keeps one byte for the newline */

	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
line_addq(struct line *l, const char *s)
{
	char q[2 * LOG_MSG_MAX + 3];
	line_add(l, log_q(q, sizeof(q), s));
}

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* stderr is gone: there is nowhere left to say so */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Builds and writes one line. errnum is 0 for no err= pair; kv (pairs) may be NULL. */
static void
log_emit(enum log_level level, const char *msg, int errnum, const char *kv)
{
	struct line l = {.len = 0};
	char head[96], ts[40] = "1970-01-01T00:00:00.000Z";
	struct timespec now;
	struct tm tm;

	level = level_clamp(level);
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm) != NULL) {
		char secs[24];
		if (strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm) > 0)
			snprintf(ts, sizeof(ts), "%s.%03ldZ", secs, now.tv_nsec / 1000000L);
	}
	snprintf(head, sizeof(head), "<%d>ts=%s level=%s msg=", (int)level, ts, level_names[level]);
	line_add(&l, head);
	line_addq(&l, msg);
	if (errnum != 0) {
		char estr[256];
		if (strerror_r(errnum, estr, sizeof(estr)) != 0)
			snprintf(estr, sizeof(estr), "error %d", errnum);
		line_add(&l, " err=");
		line_addq(&l, estr);
	}
	if (kv != NULL && *kv != '\0') {
		line_add(&l, " ");
		line_add(&l, kv);
	}
	l.buf[l.len++] = '\n';
	write_all(l.buf, l.len);
}

/* Free text: fmt formats msg. errno is kept for the caller. */
static void __attribute__((format(printf, 3, 0)))
log_text(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	log_emit(level, msg, errnum, NULL);
}

void
log_kv(enum log_level level, const char *msg, const char *kvfmt, ...)
{
	int saved = errno;
	char kv[LOG_LINE_MAX];
	va_list ap;

	if (!log_enabled(level))
		return;
	kv[0] = '\0';
	if (kvfmt != NULL) {
		va_start(ap, kvfmt);
		if (vsnprintf(kv, sizeof(kv), kvfmt, ap) < 0)
			kv[0] = '\0';
		va_end(ap);
	}
	log_emit(level, msg, 0, kv);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!log_enabled(LOG_LVL_WARN))
		return;
	va_start(ap, fmt);
	log_text(LOG_LVL_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_text(LOG_LVL_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_text(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Bytes in the UTF-8 sequence led by c; a stray byte counts as one (passed through as is). */
static size_t
utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc2)
		return 2;
	return 1;
}

static bool
needs_quotes(const char *s)
{
	if (*s == '\0')
		return true; /* an empty value would read as a missing one */
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

const char *
log_qs(const char *s)
{
	static _Thread_local char bufs[4][1024];
	static _Thread_local unsigned next;
	return log_q(bufs[next++ % 4], sizeof(bufs[0]), s);
}

const char *
log_q(char *buf, size_t bufsz, const char *s)
{
	size_t len = 0;

	if (bufsz == 0)
		return buf;
	if (s == NULL)
		s = "";
	if (!needs_quotes(s)) {
		/* Cut at a character boundary so a truncated value stays valid UTF-8. */
		for (const char *p = s; *p != '\0';) {
			size_t n = utf8_len((unsigned char)*p);
			if (strnlen(p, n) < n)
				n = strnlen(p, n);
			if (len + n > bufsz - 1)
				break;
			memcpy(buf + len, p, n);
			len += n;
			p += n;
		}
		buf[len] = '\0';
		return buf;
	}
	if (bufsz < 3) { /* no room even for "" */
		buf[0] = '\0';
		return buf;
	}
	buf[len++] = '"';
	for (const char *p = s; *p != '\0';) {
		unsigned char c = (unsigned char)*p;
		char esc[8];
		const char *out = esc;
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			n = 2;
		} else if (c < 0x20 || c == 0x7f) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		} else {
			out = p;
			n = utf8_len(c);
			if (strnlen(p, n) < n)
				n = strnlen(p, n);
		}
		/* keeps two bytes for the closing quote and the NUL */
		if (len + n > bufsz - 2)
			break;
		memcpy(buf + len, out, n);
		len += n;
		p += out == p ? n : 1;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return buf;
}

/* Output of the redaction: appends what fits, always NUL-terminated. */
struct redact_out {
	char *buf;
	size_t size, len;
};

static void
out_add(struct redact_out *o, const char *s, size_t n)
{
	size_t room = o->size - 1 - o->len;

	if (n > room)
		n = room;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* libpq's password and sslpassword (the client key's passphrase) both hide something. */
static bool
is_secret_param(const char *key, size_t n)
{
	static const char word[] = "password";
	const size_t wn = sizeof(word) - 1;

	for (size_t i = 0; i + wn <= n; i++)
		if (memcmp(key + i, word, wn) == 0)
			return true;
	return false;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The end of a keyword/value value as libpq reads it: quoted with backslash escapes, or bare
 * up to whitespace (backslash still escapes). */
static const char *
conninfo_value_end(const char *p)
{
	if (*p == '\'') {
		for (p++; *p != '\0' && *p != '\''; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		return *p == '\'' ? p + 1 : p;
	}
	for (; *p != '\0' && !is_space(*p); p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return p;
}

/* "host=db password='a b' dbname=x": copies all but the values of secret keywords. */
static void
redact_keyword_value(struct redact_out *o, const char *p)
{
	while (*p != '\0') {
		const char *start = p, *key, *v;
		size_t keylen;

		while (is_space(*p))
			p++;
		key = p;
		while (*p != '\0' && *p != '=' && !is_space(*p))
			p++;
		keylen = (size_t)(p - key);
		v = p;
		while (is_space(*v))
			v++;
		if (*v == '=') {
			v++;
			while (is_space(*v))
				v++;
		} else if (!is_secret_param(key, keylen)) {
			/* malformed (libpq will refuse it): copy the word and go on */
			out_add(o, start, (size_t)(p - start));
			continue;
		}
		/* a secret keyword without "=" still hides the word after it */
		if (is_secret_param(key, keylen)) {
			out_add(o, start, (size_t)(v - start));
			if (*v != '\0')
				out_add(o, MASK, strlen(MASK));
		} else {
			out_add(o, start, (size_t)(v - start));
			out_add(o, v, (size_t)(conninfo_value_end(v) - v));
		}
		p = conninfo_value_end(v);
	}
}

/* postgresql://user:pass@host/db?password=x: masks the userinfo password and secret params.
 * libpq ends the userinfo at the first '@' or '/'; a password with a raw '@' or '/' is wrong
 * but is still a password, so the mask runs to the last '@' before the query. */
static void
redact_uri(struct redact_out *o, const char *uri, size_t schemelen)
{
	const char *p = uri + schemelen, *at = NULL, *colon, *q;
	size_t n = strcspn(p, "?");

	out_add(o, uri, schemelen);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '@')
			at = p + i;
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL) {
			out_add(o, p, (size_t)(colon - p) + 1);
			out_add(o, MASK, strlen(MASK));
			p = at;
		}
	}
	q = strchr(p, '?');
	if (q == NULL) {
		out_add(o, p, strlen(p));
		return;
	}
	out_add(o, p, (size_t)(q - p) + 1);
	for (p = q + 1; *p != '\0';) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);

		if (eq != NULL && is_secret_param(p, (size_t)(eq - p))) {
			out_add(o, p, (size_t)(eq - p) + 1);
			out_add(o, MASK, strlen(MASK));
		} else {
			out_add(o, p, len);
		}
		p += len;
		if (*p == '&') {
			out_add(o, "&", 1);
			p++;
		}
	}
}

const char *
log_redact_conninfo(char *buf, size_t bufsz, const char *conninfo)
{
	static const char *const schemes[] = {"postgresql://", "postgres://"};
	struct redact_out o = {.buf = buf, .size = bufsz, .len = 0};

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	if (conninfo == NULL)
		return buf;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(conninfo, schemes[i], n) == 0) {
			redact_uri(&o, conninfo, n);
			return buf;
		}
	}
	redact_keyword_value(&o, conninfo);
	return buf;
}
