// SPDX-License-Identifier: GPL-2.0-only
/* ovbd info: every header and trailer field, and index statistics. */
#include "commands.h"
#include "blob.h"
#include "report.h"
#include "util.h"
#include <getopt.h>

static void zfile_hdr(const char *name, const struct ovbd_zfile_hdr *h)
{
	report_section(name);
	report_u64("struct_size", h->struct_size);
	report_hex("digest", h->digest);
	report_hex("flags", h->flags);
	report_u64("index_offset", h->index_offset);
	report_u64("index_size", h->index_size);
	report_u64("original_size", h->original_size);
	report_hex("index_crc", h->index_crc);
	report_u64("block_size", h->block_size);
	report_str("algo", h->algo == OVBD_ZF_ALGO_LZ4 ? "lz4" :
			   h->algo == OVBD_ZF_ALGO_ZSTD ? "zstd" : "unknown");
	report_u64("level", h->level);
	report_u64("use_dict", h->use_dict);
	report_u64("dict_size", h->dict_size);
	report_u64("verify", h->verify);
	report_end_section();
}

static void zfile_info(struct blob *b)
{
	const struct ovbd_zfile *zf = &b->zf;
	struct ovbd_zfile_hdr head;
	u8 raw[OVBD_ZF_HDR_SIZE];
	u64 i, total = 0, off;
	u32 len, min = ~0u, max = 0;

	char why[600];

	if (pread_all(b->fd, raw, sizeof(raw), b->payload_off, b->path, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	if (ovbd_zfile_decode_hdr(raw, &head, NULL) == 0)
		zfile_hdr("zfile_header", &head);
	if (b->payload_size >= 2 * sizeof(raw)) {	/* the trailer, also when not needed */
		struct ovbd_zfile_hdr tail;

		if (pread_all(b->fd, raw, sizeof(raw), b->payload_off + b->payload_size - sizeof(raw),
			      b->path, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "%s", why);
		if (ovbd_zfile_decode_hdr(raw, &tail, NULL) == 0)
			zfile_hdr("zfile_trailer", &tail);
	}
	for (i = 0; i < zf->nblocks; i++) {
		ovbd_zfile_block_extent(zf, i, &off, &len);
		total += len;
		min = len < min ? len : min;
		max = len > max ? len : max;
	}
	report_section("zfile_index");
	report_str("fields_from", zf->from_header ? "header" : "trailer");
	report_u64("blocks", zf->nblocks);
	report_u64("stored_bytes", total);
	report_u64("min_block", zf->nblocks ? min : 0);
	report_u64("max_block", max);
	report_u64("max_block_bound", zf->max_stored);
	report_u64("jump_table_bytes", ovbd_zfile_jump_bytes(zf));
	report_u64("ratio_percent", zf->h.original_size ? total * 100 / zf->h.original_size : 0);
	report_end_section();
}

static void lsmt_hdr(const char *name, const struct ovbd_lsmt_hdr *h)
{
	report_section(name);
	report_u64("struct_size", h->struct_size);
	report_hex("flags", h->flags);
	report_u64("index_offset", h->index_offset);
	report_u64("index_size", h->index_size);
	report_u64("virtual_size", h->virtual_size);
	report_str("uuid", h->uuid);
	report_str("parent_uuid", h->parent_uuid);
	report_u64("version", h->version);
	report_u64("sub_version", h->sub_version);
	report_str("user_tag", h->user_tag);
	report_end_section();
}

static void lsmt_info(struct blob *b)
{
	const struct ovbd_lsmt_layer *l = &b->layer;
	u64 i, data = 0, zero = 0, zero_entries = 0;

	lsmt_hdr("lsmt_header", &l->head);
	lsmt_hdr("lsmt_trailer", &l->tail);
	for (i = 0; i < l->nsegs; i++) {
		if (ovbd_seg_zeroed(&b->segs[i])) {
			zero += ovbd_seg_len(&b->segs[i]);
			zero_entries++;
		} else {
			data += ovbd_seg_len(&b->segs[i]);
		}
	}
	report_section("lsmt_index");
	report_u64("entries", l->tail.index_size);
	report_u64("valid_entries", l->nsegs);
	report_u64("zeroed_entries", zero_entries);
	report_u64("data_sectors", data);
	report_u64("zeroed_sectors", zero);
	report_u64("data_end_sector", l->data_end);
	report_end_section();
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	bool json = false;
	struct blob b;
	int c;

	while ((c = ovbd_getopt(argc, argv, "jh", opts)) != -1) {
		if (c == 'j')
			json = true;
		else
			usage_of("info", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind != argc - 1)
		usage_of("info", EXIT_USAGE);
	if (blob_open(&b, argv[optind]))
		die(EXIT_BAD_INPUT, "%s", b.why);
	if (blob_content_is_lsmt(&b) && (blob_open_lsmt(&b) || blob_load_index(&b)))
		die(EXIT_BAD_INPUT, "%s", b.why);

	report_begin(json);
	report_str("file", b.path);
	report_u64("file_size", b.file_size);
	report_str("kind", b.tar ? (b.zfile ? "tar+zfile" : "tar+lsmt") :
			   (b.zfile ? "zfile" : "lsmt"));
	if (b.tar) {
		report_section("tar");
		report_u64("payload_offset", b.payload_off);
		report_u64("payload_size", b.payload_size);
		report_end_section();
	}
	if (b.zfile)
		zfile_info(&b);
	report_str("content", b.lsmt ? "lsmt" : "data");
	if (b.lsmt)
		lsmt_info(&b);
	report_end();
	blob_close(&b);
	return 0;
}
