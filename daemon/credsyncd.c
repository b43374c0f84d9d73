/* credsyncd: placeholder. */
#include <stdio.h>

int
main(void)
{
	fputs("credsyncd: not implemented yet\n", stderr);
	return 1;
}
