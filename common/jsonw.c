/* jsonw: compact JSON written as it goes (see jsonw.h). */
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool
reserve(struct jsonw *w, size_t more)
{
	if (w->failed)
		return false;
	if (w->len + more + 1 <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + more + 1)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (b == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static void
putc1(struct jsonw *w, char c)
{
	if (reserve(w, 1))
		w->buf[w->len++] = c;
}

/* Before the innermost container's next member or element: the comma after the last. */
static void
next(struct jsonw *w)
{
	if (w->depth == 0) {
		w->failed = true;
		return;
	}
	uint32_t bit = 1u << (w->depth - 1);
	if (w->filled & bit)
		putc1(w, ',');
	w->filled |= bit;
}

/* Before a value: an array's elements are separated; a member's key did that already. */
static void
value(struct jsonw *w)
{
	if (w->depth > 0 && (w->array & (1u << (w->depth - 1))))
		next(w);
}

static void
open_(struct jsonw *w, char c, bool array)
{
	if (w->depth >= JSONW_DEPTH) {
		w->failed = true;
		return;
	}
	uint32_t bit = 1u << w->depth;
	w->depth++;
	w->filled &= ~bit;
	w->array = array ? w->array | bit : w->array & ~bit;
	putc1(w, c);
}

void
jw_begin(struct jsonw *w, size_t hint)
{
	*w = (struct jsonw){0};
	reserve(w, hint);
	open_(w, '{', false);
}

/* s as a JSON string's contents: the escapes jansson writes (dump.c), other bytes as they
 * are, each maximal invalid UTF-8 subpart as U+FFFD (as utf8_sanitize). */
static void
string(struct jsonw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	putc1(w, '"');
	while (i < n && !w->failed) {
		size_t run = i;
		/* the bytes that go as they are */
		while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' &&
		       p[run] < 0x80)
			run++;
		put(w, s + i, run - i);
		i = run;
		if (i == n)
			break;
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t bad = 0, len = utf8_seq(p + i, n - i, &bad);
			if (len > 0) {
				put(w, s + i, len);
				i += len;
			} else {
				put(w, "\xef\xbf\xbd", 3);
				i += bad;
			}
			continue;
		}
		char esc[8];
		const char *e = esc;
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)c);
		}
		put(w, e, strlen(e));
		i++;
	}
	putc1(w, '"');
}

void
jw_key(struct jsonw *w, const char *key)
{
	next(w);
	string(w, key, strlen(key));
	putc1(w, ':');
}

void
jw_strn(struct jsonw *w, const char *s, size_t n)
{
	value(w);
	string(w, s, n);
}

void
jw_str(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void
jw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void
jw_kint(struct jsonw *w, const char *key, long long v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void
jw_null(struct jsonw *w)
{
	value(w);
	put(w, "null", 4);
}

void
jw_int(struct jsonw *w, long long v)
{
	char buf[24];
	value(w);
	put(w, buf, (size_t)snprintf(buf, sizeof(buf), "%lld", v));
}

void
jw_object(struct jsonw *w)
{
	value(w);
	open_(w, '{', false);
}

void
jw_array(struct jsonw *w)
{
	value(w);
	open_(w, '[', true);
}

void
jw_close(struct jsonw *w)
{
	if (w->depth == 0) {
		w->failed = true;
		return;
	}
	w->depth--;
	putc1(w, (w->array & (1u << w->depth)) ? ']' : '}');
}

char *
jw_end(struct jsonw *w)
{
	while (w->depth > 0 && !w->failed)
		jw_close(w);
	if (w->failed) {
		free(w->buf);
		*w = (struct jsonw){.failed = true};
		return NULL;
	}
	w->buf[w->len] = '\0';
	char *out = w->buf;
	w->buf = NULL;
	return out;
}
