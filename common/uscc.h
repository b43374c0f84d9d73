/* uscc: the Unified Social Credit Code (GB 32100-2015): validity with its exact reason. */
#ifndef CREDSYNC_USCC_H
#define CREDSYNC_USCC_H

#include <stddef.h>

#define USCC_LEN 18
#define USCC_BUF (USCC_LEN + 1)

/* Returns 0 when code is a valid USCC. Otherwise -1 and a one-line reason in err
 * (length, the first character not allowed and its position, or the check character
 * expected vs found). err may be NULL. */
int uscc_check(const char *code, char *err, size_t errsz);

#endif
