// SPDX-License-Identifier: GPL-2.0-only
/* ovbd verify: every CRC, every block decode and the index sanity of each blob. */
#include "commands.h"
#include "util.h"
#include <getopt.h>

static int verify_blocks(struct blob *b)
{
	u64 i;

	for (i = 0; i < b->zf.nblocks; i++) {
		u8 one;

		if (blob_read(b, i << b->zf.block_shift, &one, 1))
			return -1;
	}
	return 0;
}

static int verify_one(const char *path)
{
	struct blob b;
	int ret = -1;

	if (blob_open(&b, path))
		goto out;
	if (b.zfile && verify_blocks(&b))
		goto out;
	if (content_is_lsmt(&b) && (blob_open_lsmt(&b) || blob_load_index(&b)))
		goto out;
	if (!b.zfile && !b.lsmt) {
		snprintf(b.why, sizeof(b.why), "%s: not a ZFile or LSMT layer", path);
		goto out;
	}
	printf("%s: ok:%s", path, b.tar ? " tar" : "");
	if (b.zfile)
		printf(" zfile (%llu blocks)", (unsigned long long)b.zf.nblocks);
	if (b.lsmt)
		printf(" lsmt (%llu entries)", (unsigned long long)b.layer.nsegs);
	printf("\n");
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "%s: %s\n", ovbd_prog, b.why);
	blob_close(&b);
	return ret;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		usage_of("verify", c == 'h' ? 0 : EXIT_USAGE);
	if (optind == argc)
		usage_of("verify", EXIT_USAGE);
	for (; optind < argc; optind++)
		bad |= verify_one(argv[optind]) != 0;
	return bad ? EXIT_BAD_INPUT : 0;
}
