// SPDX-License-Identifier: GPL-2.0-only
/* ovbd commit: a sealed LSMT layer of what RAW changes over a lower stack. */
#include "commands.h"
#include "blob.h"
#include "output.h"
#include <ctype.h>
#include "stack.h"
#include "util.h"
#include "writers.h"
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 4122 text: 8-4-4-4-12 hex digits; stored upper-case, as upstream writes. */
static const char *uuid_arg(const char *opt, char *v)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t i, d = 0;

	if (strlen(v) != 36)
		goto bad;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (v[i] != '-')
				goto bad;
			d++;
		} else if (!isxdigit((unsigned char)v[i])) {
			goto bad;
		}
		v[i] = (char)toupper((unsigned char)v[i]);
	}
	return v;
bad:
	die(EXIT_USAGE, "%s: expected an RFC 4122 uuid (8-4-4-4-12 hex digits), got '%s'", opt, v);
}

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lower", required_argument, NULL, 'l' },
		{ "zfile", no_argument, NULL, 'z' },
		{ "algo", required_argument, NULL, 'a' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "tar", no_argument, NULL, 't' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "parent", required_argument, NULL, 'p' },
		{ "message", required_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'f' },
		{ "ignore-chain", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct zfile_opts zo = { OVBD_ZF_ALGO_LZ4, 4096, true, true };
	struct commit_opts co = { 0 };
	char **lowers = xcalloc((size_t)argc, sizeof(char *));
	unsigned int nlower = 0;
	bool zfile = false, tar = false, force = false, codec_opt = false;
	struct stack lower, *lp = NULL;
	struct output o;
	char why[1024];
	const char *out_name;
	int c, raw, out;
	struct stat st;

	while ((c = ovbd_getopt(argc, argv, "l:za:b:tu:p:m:h", opts)) != -1) {
		switch (c) {
		case 'l': lowers[nlower++] = optarg; break;
		case 'z': zfile = true; break;
		case 'a': zo.algo = parse_algo(optarg); codec_opt = true; break;
		case 'b': zo.block_size = parse_block_size(optarg); codec_opt = true; break;
		case 't': tar = true; break;
		case 'u': co.uuid = uuid_arg("--uuid", optarg); break;
		case 'p': co.parent = uuid_arg("--parent", optarg); break;
		case 'm': co.message = optarg; break;
		case 'f': force = true; break;
		case 'I': stack_ignore_chain = true; break;
		default: usage_of("commit", c == 'h' ? 0 : EXIT_USAGE);
		}
	}
	if (optind != argc - 2)
		usage_of("commit", EXIT_USAGE);
	if (nlower >= OVBD_LSMT_MAX_LAYERS)
		die(EXIT_USAGE, "--lower: at most 254 lower layers, got %u", nlower);
	if (codec_opt && !zfile)
		die(EXIT_USAGE, "--algo and --block-size set the ZFile compression: give --zfile too");
	if (co.message && strlen(co.message) > OVBD_LSMT_TAG_LEN - 1)
		die(EXIT_USAGE, "-m: at most %d bytes (the header's user_tag), got %zu",
		    OVBD_LSMT_TAG_LEN - 1, strlen(co.message));
	if (nlower) {
		int r = stack_open(&lower, lowers, nlower, why, sizeof(why));

		if (r)
			die(EXIT_OF(r), "%s", why);
		lp = &lower;
		if (!co.parent)
			co.parent = lower.layers[nlower - 1].layer.tail.uuid;
	}
	raw = open(argv[optind], O_RDONLY);
	if (raw < 0 || fstat(raw, &st))
		die(EXIT_BAD_INPUT, "%s: %s", argv[optind], strerror(errno));
	out_name = argv[optind + 1];
	lowers[nlower] = argv[optind];	/* RAW is an input too */
	output_open(&o, out_name, OUTPUT_BLOB, lowers, (int)nlower + 1, force);
	out = o.fd;

	layer_write(raw, (u64)st.st_size, lp, NULL, 0, &co, zfile ? &zo : NULL, tar, out, out_name);
	if (lp)
		stack_close(lp);
	free(lowers);
	close(raw);
	output_commit(&o);
	return 0;
}
