/* yuan: amounts of money as written in events, rule files and the CLI, in fen. */
#include "yuan.h"

#include <stddef.h>

#define MAX_YUAN_DIGITS 15 /* keeps fen well inside int64 */

int
yuan_parse(const char *s, int64_t *ret_fen)
{
	int64_t yuan = 0, fen = 0;
	size_t digits = 0;
	const char *p = s;

	if (s == NULL)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > MAX_YUAN_DIGITS)
			return -1;
		yuan = yuan * 10 + (*p - '0');
	}
	if (digits == 0)
		return -1;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		fen = (*p++ - '0') * 10;
		if (*p >= '0' && *p <= '9')
			fen += *p++ - '0';
	}
	if (*p != '\0')
		return -1;
	*ret_fen = yuan * 100 + fen;
	return 0;
}
