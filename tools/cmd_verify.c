// SPDX-License-Identifier: GPL-2.0-only
/* ovbd verify: every CRC, every block decode and the index sanity of each blob. */
#include "commands.h"
#include "blob.h"
#include "util.h"
#include <getopt.h>
#include <unistd.h>

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

/*
 * A ZFile whose fields sit in the header (overlaybd-commit -z) is opened
 * without its trailer; a copy cut short still ends in a trailer with the
 * same fields, so check that it is there.
 */
static int verify_trailer(struct blob *b)
{
	struct ovbd_zfile_hdr t;
	struct ovbd_err e = { 0 };
	u64 end = b->zf.h.index_offset + 4 * b->zf.h.index_size;
	u8 tail[OVBD_ZF_HDR_SIZE];
	int r;

	if (!b->zf.from_header)
		return 0;
	if (b->payload_size != end + OVBD_ZF_HDR_SIZE) {
		ovbd_fail_val(&e, EINVAL, "zfile size", b->payload_size,
			      "index_offset + 4 * index_size + 512 (the trailer): truncated or padded");
		return blob_fail(b, &e);
	}
	if (pread(b->fd, tail, sizeof(tail), (off_t)(b->payload_off + end)) != sizeof(tail)) {
		snprintf(b->why, sizeof(b->why), "%s: cannot read the trailer", b->path);
		return -1;
	}
	r = ovbd_zfile_decode_hdr(tail, &t, &e);
	if (!r && (t.index_offset != b->zf.h.index_offset ||
		   t.index_size != b->zf.h.index_size ||
		   t.original_size != b->zf.h.original_size))
		r = ovbd_fail(&e, EINVAL, "zfile trailer fields",
			      "the header's index_offset, index_size and original_size");
	if (r) {
		if (e.field && !strcmp(e.field, "zfile magic"))
			e.field = "zfile trailer magic";
		return blob_fail(b, &e);
	}
	return 0;
}

/* A tar wrapper ends with the payload's padding and two zero blocks. */
static int verify_tar_end(struct blob *b)
{
	u64 want = b->payload_off + ((b->payload_size + 511) & ~511ull) + 1024;
	struct ovbd_err e = { 0 };

	if (!b->tar || b->file_size >= want)
		return 0;
	ovbd_fail_val(&e, EINVAL, "tar blob size", b->file_size,
		      "the payload, its padding and two end blocks: truncated");
	return blob_fail(b, &e);
}

/* Upstream's reader refuses more than the format needs: say so, count it. */
static int warnings(struct blob *b)
{
	const struct ovbd_lsmt_layer *l = &b->layer;

	if (!b->lsmt || !l->zeroed_outside)
		return 0;
	fprintf(stderr, "%s: %s: warning: %llu zeroed entries (the first is entry %llu) have a moffset outside [8, %llu], the data area in sectors; upstream overlaybd refuses this layer (verify_mapping_moffset), dm-overlaybd and ovbd read it\n",
		ovbd_prog, b->path, (unsigned long long)l->zeroed_outside,
		(unsigned long long)l->first_zeroed_outside, (unsigned long long)l->data_end);
	return 1;
}

static int verify_one(const char *path, bool strict)
{
	struct blob b;
	int ret = -1, warned;

	if (blob_open(&b, path) || verify_tar_end(&b))
		goto out;
	if (b.zfile && (verify_trailer(&b) || verify_blocks(&b)))
		goto out;
	if (blob_content_is_lsmt(&b) && (blob_open_lsmt(&b) || blob_load_index(&b)))
		goto out;
	if (!b.zfile && !b.lsmt) {
		snprintf(b.why, sizeof(b.why), "%s: not a ZFile or LSMT layer", path);
		goto out;
	}
	warned = warnings(&b);
	printf("%s: %s:%s", path, warned ? "ok with warnings" : "ok", b.tar ? " tar" : "");
	if (b.zfile)
		printf(" zfile (%llu blocks: header%s, index CRC, %s)",
		       (unsigned long long)b.zf.nblocks,
		       b.zf.from_header ? " and trailer" : (b.zf.h.flags & OVBD_ZF_FLAG_DIGEST) ?
		       " digest" : "", b.zf.h.verify ? "CRC32C and decode of every block" :
		       "decode of every block; the file stores no block CRCs");
	if (b.lsmt)
		printf(" lsmt (%llu entries: sorted, disjoint, inside the data area%s)",
		       (unsigned long long)b.layer.nsegs,
		       b.layer.clipped ? "; those reaching past virtual_size clipped to it" : "");
	if (b.lsmt && !b.zfile)
		printf("; data not checked: an uncompressed LSMT layer stores no checksums");
	printf("\n");
	ret = strict && warned ? -1 : 0;
	if (ret)
		snprintf(b.why, sizeof(b.why), "%s: refused with --strict: upstream would refuse it", path);
out:
	if (ret)
		fprintf(stderr, "%s: %s\n", ovbd_prog, b.why);
	blob_close(&b);
	return ret;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = { { "strict", no_argument, NULL, 's' },
					       { "help", no_argument, NULL, 'h' }, { 0 } };
	bool strict = false;
	int c, bad = 0;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 's')
			strict = true;
		else
			usage_of("verify", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind == argc)
		usage_of("verify", EXIT_USAGE);
	for (; optind < argc; optind++)
		bad |= verify_one(argv[optind], strict) != 0;
	return bad ? EXIT_BAD_INPUT : 0;
}
