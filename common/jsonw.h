/* jsonw: compact JSON written as it goes, for the messages credsyncd sends (event_encode.c).
 * The bytes are those jansson's json_dumps(JSON_COMPACT) writes for the same object: members
 * in the order written, no spaces, strings escaped as jansson escapes them (", \, and the
 * control characters; UTF-8 as it is), invalid UTF-8 replaced by U+FFFD. Building a jansson
 * tree and dumping it was a quarter of credsyncd's CPU in the benchmark (issue 13).
 * Pure; a failed allocation makes jw_end return NULL. */
#ifndef CREDSYNC_JSONW_H
#define CREDSYNC_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_DEPTH 16

struct jsonw {
	char *buf;
	size_t len, cap;
	unsigned depth;  /* open containers, the top object included */
	uint32_t array;  /* bit d: the container at depth d is an array */
	uint32_t filled; /* bit d: the container at depth d has a member */
	bool failed;
};

/* Starts the top object; hint: the bytes expected. */
void jw_begin(struct jsonw *w, size_t hint);
/* The next member's key (in an object). */
void jw_key(struct jsonw *w, const char *key);
/* A member with a string value (NULL: null); with an integer value. */
void jw_kstr(struct jsonw *w, const char *key, const char *s);
void jw_kint(struct jsonw *w, const char *key, long long v);
/* Values, as a member's (after jw_key) or as an array's next element. */
void jw_str(struct jsonw *w, const char *s); /* NULL: null */
void jw_strn(struct jsonw *w, const char *s, size_t n);
void jw_null(struct jsonw *w);
void jw_int(struct jsonw *w, long long v);
void jw_object(struct jsonw *w);
void jw_array(struct jsonw *w);
/* Closes the innermost object or array. */
void jw_close(struct jsonw *w);
/* Closes every container; the malloc'd NUL-terminated JSON, or NULL when anything failed
 * (nothing to free then). */
char *jw_end(struct jsonw *w);

#endif
