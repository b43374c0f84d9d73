/* ctl_periods: placeholder until its module lands. */
#include <stdio.h>

#include "ctl.h"

int
ctl_periods(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "credsyncctl: %s: not implemented yet\n", argv[0]);
	return 2;
}
