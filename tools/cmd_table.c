// SPDX-License-Identifier: GPL-2.0-only
/* ovbd table: print the dmsetup tables that map a stack, one "name: table" a line. */
#include "commands.h"
#include "dmplan.h"
#include "oci.h"
#include "stack.h"
#include "util.h"
#include <getopt.h>

int cmd_table(int argc, char **argv)
{
	static const struct option opts[] = { { "ignore-chain", no_argument, NULL, 'I' },
					       { "help", no_argument, NULL, 'h' }, { 0 } };
	static struct dm_plan plan;
	struct oci_image img;
	char why[700], **paths;
	unsigned int i, n;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'I')
			stack_ignore_chain = true;
		else
			usage_of("table", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind < 2)
		usage_of("table", EXIT_USAGE);
	if (image_layer_args(argv + optind + 1, (unsigned int)(argc - optind - 1), &img, &paths, &n,
			   why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	dmplan_probe(&plan, argv[optind], paths, n);
	dmplan_render(&plan, argv[optind], paths);
	for (i = 0; i < plan.n; i++)
		printf("%s: %s\n", plan.dev[i].name, plan.dev[i].table);
	dmplan_free(&plan);
	oci_image_free(&img);
	return 0;
}
