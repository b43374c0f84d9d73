/* uuid5: deterministic message ids (RFC 4122 version 5, SHA-1) in credsync's namespace. */
#ifndef CREDSYNC_UUID5_H
#define CREDSYNC_UUID5_H

/* Writes the lower-case canonical UUID v5 of name into ret (37 bytes). */
void uuid5(const char *name, char ret[37]);

#endif
