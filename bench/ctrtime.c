// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctrtime: the lsmt ctr's work in userspace on the host, for comparison
 * with the guest's: open LAYER..., load and validate each index and merge
 * them, with the same format core. Prints the seconds it took.
 * Usage: ctrtime LAYER...
 */
#include "stack.h"
#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct stack s;
	char why[1024];
	double t0 = now();

	if (argc < 2)
		return fprintf(stderr, "usage: ctrtime LAYER...\n"), 2;
	if (stack_open(&s, argv + 1, (unsigned int)(argc - 1), why, sizeof(why)))
		return fprintf(stderr, "ctrtime: %s\n", why), 1;
	printf("%.3f\n", now() - t0);
	return 0;
}
