/* uuid5: deterministic message ids (RFC 4122 version 5, SHA-1) in credsync's namespace, and
 * the canonical text form of a UUID. */
#ifndef CREDSYNC_UUID5_H
#define CREDSYNC_UUID5_H

#include <stdbool.h>

/* Writes the lower-case canonical UUID v5 of name into ret (37 bytes). */
void uuid5(const char *name, char ret[37]);
/* s in the canonical form (8-4-4-4-12 hex digits, either case, nothing after) -> its 16
 * bytes. Returns false for anything else; reads nothing past a NUL. libuuid's uuid_parse
 * takes the same form with a strtoul a byte, 3% of credsyncd's CPU in the profile run. */
bool uuid_text_bytes(const char *s, unsigned char out[16]);

#endif
