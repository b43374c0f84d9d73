/* credsync-devbroker: placeholder. */
#include <stdio.h>

int
main(void)
{
	fputs("credsync-devbroker: not implemented yet\n", stderr);
	return 1;
}
