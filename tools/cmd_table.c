// SPDX-License-Identifier: GPL-2.0-only
/* ovbd table: print the dmsetup tables that map a stack, one "name: table" a line. */
#include "commands.h"
#include "dmstack.h"
#include "oci.h"
#include "stack.h"
#include "util.h"
#include <getopt.h>

int cmd_table(int argc, char **argv)
{
	static const struct option opts[] = { { "ignore-chain", no_argument, NULL, 'I' },
					       { "help", no_argument, NULL, 'h' }, { 0 } };
	static struct dmstack plan;
	struct oci_image img;
	char why[700], **paths;
	unsigned int i, n;
	int c, r;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'I')
			stack_ignore_chain = true;
		else
			usage_of("table", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind < 2)
		usage_of("table", EXIT_USAGE);
	if (cli_layer_args(argv + optind + 1, (unsigned int)(argc - optind - 1), &img, &paths, &n,
			   why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	r = dmstack_probe(&plan, argv[optind], paths, n, why, sizeof(why));
	if (r)
		die(EXIT_OF(r), "%s", why);
	for (i = 0; i < n; i++)		/* the blobs as their own devices */
		snprintf(plan.layer[i].lower, sizeof(plan.layer[i].lower), "%s", paths[i]);
	if (dmstack_render(&plan, why, sizeof(why)))
		die(EXIT_USAGE, "%s", why);
	for (i = 0; i < plan.ndev; i++) {
		const struct dm_line *l = &plan.dev[i].line[0];

		printf("%s: %llu %llu %s %s\n", plan.dev[i].name, (unsigned long long)l->start,
		       (unsigned long long)l->length, l->target, l->params);
	}
	dmstack_free(&plan);
	oci_image_free(&img);
	return 0;
}
