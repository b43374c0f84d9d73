/* utf8: repairing and cutting UTF-8 text for messages and logs (Unicode's "maximal
 * subpart" practice). */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

size_t
utf8_seq(const unsigned char *s, size_t n, size_t *ret_bad)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else {
		*ret_bad = 1;
		return 0;
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are ruled out by the
	 * range of the second byte. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*ret_bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

char *
utf8_sanitize(const char *buf, size_t len, size_t *ret_len)
{
	/* U+FFFD is 3 bytes and replaces at least one. */
	char *out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, o = 0;
	while (i < len) {
		size_t bad = 0, n = utf8_seq(s + i, len - i, &bad);
		if (n > 0) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += bad;
		}
	}
	out[o] = '\0';
	if (ret_len)
		*ret_len = o;
	return out;
}

void
utf8_trim(char *s)
{
	size_t len = strlen(s);
	size_t start = len;
	/* Find the start of the last character (at most 3 continuation bytes back). */
	while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0 || ((unsigned char)s[start - 1] & 0x80) == 0)
		return;
	start--;
	size_t bad;
	if (utf8_seq((const unsigned char *)s + start, len - start, &bad) != len - start)
		s[start] = '\0';
}
