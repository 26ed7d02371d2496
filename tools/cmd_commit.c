// SPDX-License-Identifier: GPL-2.0-only
/* ovbd commit: a sealed LSMT layer of what RAW changes over a lower stack. */
#include "commands.h"
#include "stack.h"
#include "util.h"
#include "writers.h"
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void copy_into(int in, u64 len, int out, u64 out_off, const char *out_name)
{
	u8 *buf = xmalloc(1u << 20);
	u64 off;

	for (off = 0; off < len; off += 1u << 20) {
		size_t n = len - off < (1u << 20) ? (size_t)(len - off) : (1u << 20);

		pread_full(in, buf, n, off, "temporary layer");
		pwrite_full(out, buf, n, out_off + off, out_name);
	}
	free(buf);
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
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct zfile_opts zo = { OVBD_ZF_ALGO_LZ4, 4096, true, true };
	struct commit_opts co = { 0 };
	char **lowers = xcalloc((size_t)argc, sizeof(char *));
	unsigned int nlower = 0;
	bool zfile = false, tar = false;
	struct stack lower, *lp = NULL;
	const char *out_name;
	int c, raw, out, tmp;
	char tmpl[4096];
	struct stat st;
	u64 n;

	while ((c = getopt_long(argc, argv, "l:za:b:tu:p:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': lowers[nlower++] = optarg; break;
		case 'z': zfile = true; break;
		case 'a': zo.algo = parse_algo(optarg); break;
		case 'b': zo.block_size = parse_block_size(optarg); break;
		case 't': tar = true; break;
		case 'u': co.uuid = optarg; break;
		case 'p': co.parent = optarg; break;
		case 'm': co.message = optarg; break;
		default: usage_of("commit", c == 'h' ? 0 : EXIT_USAGE);
		}
	}
	if (optind != argc - 2)
		usage_of("commit", EXIT_USAGE);
	if (nlower >= OVBD_LSMT_MAX_LAYERS)
		die(EXIT_USAGE, "--lower: at most 254 lower layers, got %u", nlower);
	if (co.uuid && strlen(co.uuid) > OVBD_LSMT_UUID_LEN - 1)
		die(EXIT_USAGE, "--uuid: at most 36 characters");
	if (co.parent && strlen(co.parent) > OVBD_LSMT_UUID_LEN - 1)
		die(EXIT_USAGE, "--parent: at most 36 characters");
	if (nlower) {
		stack_open(&lower, lowers, nlower);
		lp = &lower;
		if (!co.parent)
			co.parent = lower.layers[nlower - 1].layer.tail.uuid;
	}
	raw = open(argv[optind], O_RDONLY);
	if (raw < 0 || fstat(raw, &st))
		die(EXIT_BAD_INPUT, "%s: %s", argv[optind], strerror(errno));
	out_name = argv[optind + 1];
	out = open(out_name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		die(EXIT_BAD_INPUT, "%s: %s", out_name, strerror(errno));

	if (!zfile && !tar) {
		lsmt_commit(raw, (u64)st.st_size, lp, out, &co, out_name);
	} else {
		snprintf(tmpl, sizeof(tmpl), "%s.lsmt.XXXXXX", out_name);
		tmp = mkstemp(tmpl);
		if (tmp < 0)
			die(EXIT_BAD_INPUT, "%s: %s", tmpl, strerror(errno));
		unlink(tmpl);
		n = lsmt_commit(raw, (u64)st.st_size, lp, tmp, &co, tmpl);
		if (zfile)
			n = zfile_write(tmp, n, out, tar ? TAR_PAYLOAD_OFFSET : 0, &zo, out_name);
		else
			copy_into(tmp, n, out, TAR_PAYLOAD_OFFSET, out_name);
		if (tar)
			tar_finish(out, n, out_name);
		close(tmp);
	}
	if (lp)
		stack_close(lp);
	free(lowers);
	close(raw);
	return close(out) ? EXIT_BAD_INPUT : 0;
}
