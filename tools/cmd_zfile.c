// SPDX-License-Identifier: GPL-2.0-only
/* ovbd zfile: compress a file into a ZFile, or (-d) decompress one. */
#include "commands.h"
#include "blob.h"
#include <ovbd/tar.h>
#include "output.h"
#include "util.h"
#include "writers.h"
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

static int decompress(char **args)
{
	const char *in = args[0], *out = args[1];
	struct output o;
	struct blob b;
	u8 *buf;
	u64 off;
	int fd;

	if (blob_open(&b, in))
		die(EXIT_BAD_INPUT, "%s", b.why);
	if (!b.zfile)
		die(EXIT_BAD_INPUT, "%s: not a ZFile (expected the ZFile magic)", in);
	output_open(&o, out, OUTPUT_RAW, args, 1, false);
	fd = o.fd;
	buf = xmalloc(1u << 20);
	for (off = 0; off < b.content_size; off += 1u << 20) {
		size_t n = b.content_size - off < (1u << 20) ?
			   (size_t)(b.content_size - off) : (1u << 20);

		if (blob_read(&b, off, buf, n))
			die(EXIT_BAD_INPUT, "%s", b.why);
		write_full(fd, buf, n, out);
	}
	free(buf);
	blob_close(&b);
	output_commit(&o);
	return 0;
}

int cmd_zfile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "decompress", no_argument, NULL, 'd' },
		{ "algo", required_argument, NULL, 'a' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "tar", no_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct zfile_opts o = { OVBD_ZF_ALGO_LZ4, 4096, true, false };
	bool dec = false, tar = false, force = false;
	struct output out_file;
	struct stat st;
	int c, in, out;
	u64 n;

	while ((c = ovbd_getopt(argc, argv, "da:b:h", opts)) != -1) {
		switch (c) {
		case 'd': dec = true; break;
		case 'a': o.algo = parse_algo(optarg); break;
		case 'b': o.block_size = parse_block_size(optarg); break;
		case 'n': o.verify = false; break;
		case 't': tar = true; break;
		case 'f': force = true; break;
		default: usage_of("zfile", c == 'h' ? 0 : EXIT_USAGE);
		}
	}
	if (optind != argc - 2)
		usage_of("zfile", EXIT_USAGE);
	if (dec)
		return decompress(argv + optind);
	in = open(argv[optind], O_RDONLY);
	if (in < 0 || fstat(in, &st))
		die(EXIT_BAD_INPUT, "%s: %s", argv[optind], strerror(errno));
	if (S_ISDIR(st.st_mode))
		die(EXIT_BAD_INPUT, "%s: is a directory, expected a file to compress", argv[optind]);
	output_open(&out_file, argv[optind + 1], OUTPUT_BLOB, argv + optind, 1, force);
	out = out_file.fd;
	n = zfile_write(in, (u64)st.st_size, out, tar ? OVBD_TAR_PAYLOAD_OFFSET : 0, &o,
			argv[optind + 1]);
	if (tar)
		tar_finish(out, n, argv[optind + 1]);
	close(in);
	output_commit(&out_file);
	return 0;
}
