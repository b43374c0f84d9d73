/* utf8: repairing and cutting UTF-8 text. Pure. */
#ifndef CREDSYNC_UTF8_H
#define CREDSYNC_UTF8_H

#include <stddef.h>

/* A malloc'd NUL-terminated copy of len bytes in which every invalid UTF-8 sequence is
 * replaced by U+FFFD (each maximal invalid subpart by one, as Unicode recommends); NUL bytes
 * are kept, so use the length in *ret_len (may be NULL). NULL on allocation failure. */
char *utf8_sanitize(const char *buf, size_t len, size_t *ret_len);
/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), or 0 when it is invalid;
 * then *ret_bad is the length of its maximal invalid subpart (at least 1). */
size_t utf8_seq(const unsigned char *s, size_t n, size_t *ret_bad);
/* Cuts a trailing incomplete UTF-8 sequence off s (as left by a truncating snprintf). */
void utf8_trim(char *s);

#endif
