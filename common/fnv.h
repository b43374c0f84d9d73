/* fnv: the 64-bit FNV-1a hash, for hash tables and for the subject lock keys that every
 * instance must compute alike (so its values never change). Pure. */
#ifndef CREDSYNC_FNV_H
#define CREDSYNC_FNV_H

#include <stdint.h>

#define FNV1A64_SEED  UINT64_C(14695981039346656037)
#define FNV1A64_PRIME UINT64_C(1099511628211)

/* h continued over one byte. */
static inline uint64_t
fnv1a64_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV1A64_PRIME;
}

/* h continued over the bytes of s (its NUL not included). */
static inline uint64_t
fnv1a64_str(uint64_t h, const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u != '\0'; u++)
		h = fnv1a64_byte(h, *u);
	return h;
}

#endif
