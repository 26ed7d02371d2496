// SPDX-License-Identifier: GPL-2.0-only
/* ovbd cat: the flattened virtual disk of a stack, or a standalone ZFile's content. */
#include "commands.h"
#include "blob.h"
#include "oci.h"
#include "output.h"
#include "stack.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <getopt.h>
#include <unistd.h>

#define CAT_CHUNK	(1u << 20)

static void cat_content(struct blob *b, int out, const char *out_name)
{
	u8 *buf = xmalloc(CAT_CHUNK);
	u64 off;

	for (off = 0; off < b->content_size; off += CAT_CHUNK) {
		size_t n = b->content_size - off < CAT_CHUNK ?
			   (size_t)(b->content_size - off) : CAT_CHUNK;

		if (blob_read(b, off, buf, n))
			die(EXIT_BAD_INPUT, "%s", b->why);
		write_full(out, buf, n, out_name);
	}
	free(buf);
}

static bool all_zero(const u8 *p, size_t n)
{
	return !p[0] && !memcmp(p, p + 1, n - 1);
}

/*
 * Into a regular file (sparse): only what the merged index maps is read,
 * and zero chunks stay holes; into a pipe, every byte.
 */
static void cat_stack(char **paths, unsigned int n, int out, const char *out_name, bool sparse)
{
	struct stack s;
	u64 off, k = 0;
	char why[1024];
	int r = stack_open(&s, paths, n, why, sizeof(why));
	u8 *buf;

	if (r)
		die(EXIT_OF(r), "%s", why);
	buf = xmalloc(CAT_CHUNK);
	for (off = 0; off < s.virtual_size; off += CAT_CHUNK) {
		size_t len = s.virtual_size - off < CAT_CHUNK ?
			     (size_t)(s.virtual_size - off) : CAT_CHUNK;

		if (sparse) {	/* the first merged piece that ends past off */
			while (k < s.nmerged && ovbd_seg_end(&s.merged[k]) << 9 <= off)
				k++;
			if (k == s.nmerged || ovbd_seg_offset(&s.merged[k]) << 9 >= off + len)
				continue;
		}
		if (stack_read(&s, off, buf, len, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "%s", why);
		if (sparse && all_zero(buf, len))
			continue;
		if (sparse)
			pwrite_full(out, buf, len, off, out_name);
		else
			write_full(out, buf, len, out_name);
	}
	if (sparse && ftruncate(out, (off_t)s.virtual_size))
		die(EXIT_BAD_INPUT, "%s: %s", out_name, strerror(errno));
	stack_close(&s);
	free(buf);
}

int cmd_cat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "ignore-chain", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	const char *out_name = NULL;
	int c, out = STDOUT_FILENO;
	struct output o = { 0 };
	struct oci_image img;
	struct blob b;

	while ((c = ovbd_getopt(argc, argv, "o:h", opts)) != -1) {
		if (c == 'o')
			out_name = optarg;
		else if (c == 'I')
			stack_ignore_chain = true;
		else
			usage_of("cat", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind == argc)
		usage_of("cat", EXIT_USAGE);
	{
		char why[700], **paths;
		unsigned int n;

		if (cli_layer_args(argv + optind, (unsigned int)(argc - optind), &img, &paths, &n,
				   why, sizeof(why)))
			die(EXIT_BAD_INPUT, "%s", why);
		argv = paths;
		argc = (int)n;
		optind = 0;
	}
	if (out_name && strcmp(out_name, "-")) {
		output_open(&o, out_name, OUTPUT_RAW, argv + optind, argc - optind, false);
		out = o.fd;
	} else {
		if (!out_name && isatty(STDOUT_FILENO))
			die(EXIT_USAGE, "cat: standard output is a terminal: give -o FILE, or -o - to write there anyway");
		out_name = "stdout";
	}
	if (argc - optind == 1) {
		if (blob_open(&b, argv[optind]))
			die(EXIT_BAD_INPUT, "%s", b.why);
		if (!blob_content_is_lsmt(&b)) {
			if (!b.zfile)
				die(EXIT_BAD_INPUT, "%s: neither a ZFile nor an LSMT layer",
				    argv[optind]);
			cat_content(&b, out, out_name);
			blob_close(&b);
			goto done;
		}
		blob_close(&b);
	}
	{
		struct stat st;

		cat_stack(argv + optind, (unsigned int)(argc - optind), out, out_name,
			  out != STDOUT_FILENO && !fstat(out, &st) && S_ISREG(st.st_mode));
	}
done:
	if (out != STDOUT_FILENO)
		output_commit(&o);
	oci_image_free(&img);
	return 0;
}
