// SPDX-License-Identifier: GPL-2.0-only
/* ovbd table: print the dmsetup tables that map a stack, one "name: table" a line. */
#include "commands.h"
#include "dmplan.h"
#include "stack.h"
#include "util.h"
#include <getopt.h>

int cmd_table(int argc, char **argv)
{
	static const struct option opts[] = { { "ignore-chain", no_argument, NULL, 'I' },
					       { "help", no_argument, NULL, 'h' }, { 0 } };
	static struct dm_plan plan;
	unsigned int i;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'I')
			stack_ignore_chain = true;
		else
			usage_of("table", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind < 2)
		usage_of("table", EXIT_USAGE);
	dmplan_probe(&plan, argv[optind], argv + optind + 1, (unsigned int)(argc - optind - 1));
	dmplan_render(&plan, argv[optind], argv + optind + 1);
	for (i = 0; i < plan.n; i++)
		printf("%s: %s\n", plan.dev[i].name, plan.dev[i].table);
	dmplan_free(&plan);
	return 0;
}
