/* log: a tiny logging API (OpenBSD style) writing logfmt lines after a syslog priority
 * prefix to stderr: "<6>ts=2024-05-06T10:15:00.123Z level=info msg=\"...\" key=value". */
#ifndef CREDSYNC_LOG_H
#define CREDSYNC_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* syslog priorities, as the prefix shows them */
enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Lines above `level` are not printed. Thread-safe after init (one write(2) per line). */
void log_init(enum log_level level);
void log_set_level(enum log_level level);
/* Parses "err", "warn", "notice", "info", "debug"; -1 if none. */
int log_level_parse(const char *s);

/* A structured line: msg is a short stable token or sentence (quoted as needed); kvfmt, if
 * not NULL, formats further logfmt pairs appended verbatim (quote values with log_q). */
void log_kv(enum log_level level, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A free-text warning: msg is the formatted text, err=strerror(errno) follows. For the
 * development tools; credsyncd and credsyncctl log with log_kv. errno is kept. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only main() calls these: they log the formatted text at err level and exit(1); fatal adds
 * err=strerror(errno). */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s as a logfmt value into buf: bare when it has no space, quote, '=' or control
 * character, otherwise double-quoted with \" \\ \n escaped; truncated to fit. Returns buf. */
const char *log_q(char *buf, size_t bufsz, const char *s);
/* log_q into one of a few thread-local buffers (1 KiB each, reused in turn): for the
 * arguments of one log call, e.g. log_kv(..., "error=%s", log_qs(err)). */
const char *log_qs(const char *s);

/* Removes secrets from a libpq conninfo or URL (password=..., user:pass@) into buf. */
const char *log_redact_conninfo(char *buf, size_t bufsz, const char *conninfo);

#endif
