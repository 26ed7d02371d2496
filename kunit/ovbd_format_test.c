// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for the dm-overlaybd format core: the same src/format/*.c
 * that the module and ovbd build, with the kernel's crc32c, lz4 and zstd.
 */
#include <kunit/test.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <ovbd/detect.h>
#include <ovbd/lsmt.h>
#include <ovbd/tar.h>
#include <ovbd/zfile.h>
#include "ovbd_fixtures.h"

/* ---- crc32c ---- */

static void crc32c_vectors(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ovbd_crc32c(0, "123456789", 9), 0x58e3fa20u);
	KUNIT_EXPECT_EQ(test, ovbd_crc32c(100007, "123456789", 9), 0x3c9bd4e0u);
}

/* ---- ZFile: blocks made by ovbd, decoded by the kernel's codecs ---- */

struct zf_loaded {
	struct ovbd_zfile zf;
	void *jump;
	void *ws;
	zstd_dctx *dctx;
};

static int zf_load(struct kunit *test, struct zf_loaded *z, const u8 *blob, size_t size)
{
	struct ovbd_err e = { 0 };
	int ret;

	ret = ovbd_zfile_open(&z->zf, blob, blob + size - OVBD_ZF_HDR_SIZE, size, &e);
	if (ret)
		return ret;
	z->jump = kunit_kzalloc(test, ovbd_zfile_jump_bytes(&z->zf) + 1, GFP_KERNEL);
	ovbd_zfile_index_begin(&z->zf, z->jump);
	ret = ovbd_zfile_index_feed(&z->zf, blob + z->zf.h.index_offset, z->zf.nblocks, &e);
	if (!ret)
		ret = ovbd_zfile_index_end(&z->zf, &e);
	if (z->zf.h.algo == OVBD_ZF_ALGO_ZSTD) {
		size_t ws = zstd_dctx_workspace_bound();

		z->ws = kunit_kzalloc(test, ws, GFP_KERNEL);
		z->dctx = zstd_init_dctx(z->ws, ws);
	}
	return ret;
}

static void zf_decode_all(struct kunit *test, const u8 *blob, size_t size)
{
	struct zf_loaded z = { };
	struct ovbd_err e = { 0 };
	struct ovbd_zfile_extent x = { .blk = ~0ull };
	u8 *out;
	u64 blk;

	KUNIT_ASSERT_EQ(test, zf_load(test, &z, blob, size), 0);
	KUNIT_ASSERT_EQ(test, z.zf.h.original_size, (u64)sizeof(fx_content));
	out = kunit_kzalloc(test, z.zf.h.block_size, GFP_KERNEL);
	for (blk = 0; blk < z.zf.nblocks; blk++) {
		u32 want = ovbd_zfile_block_bytes(&z.zf, blk), xlen;
		u64 off, xoff;
		u32 len;

		ovbd_zfile_block_extent(&z.zf, blk, &off, &len);
		KUNIT_ASSERT_LE(test, off + len, (u64)size);
		/* the sequential cursor the target's reads use agrees */
		ovbd_zfile_extent_seek(&z.zf, &x, blk, &xoff, &xlen);
		KUNIT_EXPECT_EQ(test, xoff, off);
		KUNIT_EXPECT_EQ(test, xlen, len);
		KUNIT_ASSERT_EQ(test, ovbd_zfile_decode_block(&z.zf, blk, blob + off, len, out,
							      z.dctx, &e), 0);
		KUNIT_EXPECT_EQ(test, memcmp(out, fx_content + (blk << z.zf.block_shift), want), 0);
	}
}

static void zfile_lz4_blocks(struct kunit *test)
{
	zf_decode_all(test, fx_lz4, sizeof(fx_lz4));
}

static void zfile_zstd_blocks(struct kunit *test)
{
	zf_decode_all(test, fx_zstd, sizeof(fx_zstd));
}

static void zfile_crc_mismatch(struct kunit *test)
{
	u8 *blob = kunit_kmalloc(test, sizeof(fx_lz4), GFP_KERNEL);
	struct zf_loaded z = { };
	struct ovbd_err e = { 0 };
	u8 *out;
	u64 off;
	u32 len;

	memcpy(blob, fx_lz4, sizeof(fx_lz4));
	KUNIT_ASSERT_EQ(test, zf_load(test, &z, blob, sizeof(fx_lz4)), 0);
	ovbd_zfile_block_extent(&z.zf, 1, &off, &len);
	blob[off + len / 2] ^= 0x20;
	out = kunit_kzalloc(test, z.zf.h.block_size, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_decode_block(&z.zf, 1, blob + off, len, out, NULL, &e),
			-EBADMSG);
	KUNIT_EXPECT_STREQ(test, e.field, "zfile block crc");
	/* without the CRC, a damaged stream fails to decode or decodes short */
	z.zf.h.verify = 0;
	KUNIT_EXPECT_NE(test, ovbd_zfile_decode_block(&z.zf, 1, blob + off, len - 4 - 7, out,
						      NULL, &e), 0);
}

static void zfile_bad_headers(struct kunit *test)
{
	size_t size = sizeof(fx_lz4);
	u8 *blob = kunit_kmalloc(test, size, GFP_KERNEL);
	struct ovbd_zfile_hdr h;
	struct ovbd_zfile zf;
	struct ovbd_err e;
	u8 *tail = blob + size - OVBD_ZF_HDR_SIZE;

	memcpy(blob, fx_lz4, size);
	KUNIT_ASSERT_EQ(test, ovbd_zfile_open(&zf, blob, tail, size, &e), 0);
	tail[48] ^= 1;			/* index_size: the digest catches it */
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, tail, size, &e), -EBADMSG);
	tail[48] ^= 1;
	KUNIT_ASSERT_EQ(test, ovbd_zfile_decode_hdr(tail, &h, &e), 0);
	h.algo = 0;
	ovbd_zfile_encode_hdr(&h, tail);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, tail, size, &e), -EOPNOTSUPP);
	h.algo = OVBD_ZF_ALGO_LZ4;
	h.block_size = 3000;
	ovbd_zfile_encode_hdr(&h, tail);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, tail, size, &e), -EINVAL);
	KUNIT_EXPECT_STREQ(test, e.field, "zfile block_size");
	h.block_size = 4096;
	h.dict_size = 64;
	ovbd_zfile_encode_hdr(&h, tail);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, tail, size, &e), -EOPNOTSUPP);
	h.dict_size = 0;
	h.index_offset = size;
	ovbd_zfile_encode_hdr(&h, tail);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, tail, size, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, NULL, size, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_open(&zf, blob, tail, 700, &e), -EINVAL);
	/* a flag bit outside OVBD_ZF_FLAGS_KNOWN: refused by name */
	h.index_offset = size - OVBD_ZF_HDR_SIZE - 4 * h.index_size;
	h.flags |= 1ull << 6;
	ovbd_zfile_encode_hdr(&h, tail);
	KUNIT_EXPECT_EQ(test, ovbd_zfile_decode_hdr(tail, &h, &e), -EOPNOTSUPP);
	KUNIT_EXPECT_STREQ(test, e.field, "zfile flags: unknown bits");
}

static void zfile_bad_index(struct kunit *test)
{
	size_t size = sizeof(fx_lz4);
	u8 *blob = kunit_kmalloc(test, size, GFP_KERNEL);
	struct zf_loaded z = { };
	struct ovbd_zfile_hdr h;
	struct ovbd_err e;

	memcpy(blob, fx_lz4, size);
	KUNIT_ASSERT_EQ(test, ovbd_zfile_decode_hdr(blob + size - 512, &h, &e), 0);
	blob[h.index_offset] ^= 1;		/* index_crc no longer matches */
	KUNIT_EXPECT_EQ(test, zf_load(test, &z, blob, size), -EBADMSG);
	blob[h.index_offset] ^= 1;
	ovbd_put_le32(blob + h.index_offset, 4);	/* <= 4 with verify */
	KUNIT_EXPECT_EQ(test, zf_load(test, &z, blob, size), -EINVAL);
	ovbd_put_le32(blob + h.index_offset, 70000);	/* over the lz4 bound */
	KUNIT_EXPECT_EQ(test, zf_load(test, &z, blob, size), -EINVAL);
}

/* ---- tar ---- */

static void tar_wrapper(struct kunit *test)
{
	struct ovbd_err e;
	u64 off, len;
	u8 *b = kunit_kmalloc(test, sizeof(fx_tar), GFP_KERNEL);

	memcpy(b, fx_tar, sizeof(fx_tar));
	KUNIT_EXPECT_EQ(test, ovbd_detect(b, sizeof(fx_tar)), OVBD_KIND_TAR);
	KUNIT_ASSERT_EQ(test, ovbd_tar_find_payload(b, sizeof(fx_tar), sizeof(fx_tar), &off,
						    &len, &e), 1);
	KUNIT_EXPECT_EQ(test, off, 1536ull);
	KUNIT_EXPECT_EQ(test, len, (u64)sizeof(fx_lz4));
	KUNIT_EXPECT_EQ(test, memcmp(b + off, fx_lz4, 24), 0);
	KUNIT_EXPECT_EQ(test, ovbd_tar_find_payload(b, sizeof(fx_tar), 2000, &off, &len, &e),
			-EINVAL);
	b[1024 + 148] ^= 1;			/* ustar checksum */
	KUNIT_EXPECT_EQ(test, ovbd_tar_find_payload(b, sizeof(fx_tar), sizeof(fx_tar), &off,
						    &len, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, ovbd_tar_find_payload(fx_lz4, sizeof(fx_lz4), sizeof(fx_lz4),
						    &off, &len, &e), 0);
}

/* ---- LSMT ---- */

static void lsmt_tool_layer(struct kunit *test)
{
	size_t size = sizeof(fx_lsmt);
	struct ovbd_lsmt_layer l;
	struct ovbd_seg *segs;
	struct ovbd_piece p;
	struct ovbd_err e;

	KUNIT_EXPECT_EQ(test, ovbd_detect(fx_lsmt, size), OVBD_KIND_LSMT);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_open(&l, fx_lsmt, fx_lsmt + size - 4096, size, &e), 0);
	KUNIT_EXPECT_EQ(test, l.tail.virtual_size, 65536ull);
	KUNIT_EXPECT_STREQ(test, l.tail.user_tag, "kunit");
	segs = kunit_kcalloc(test, l.tail.index_size, sizeof(*segs), GFP_KERNEL);
	ovbd_lsmt_index_begin(&l, segs, l.tail.index_size);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_index_feed(&l, fx_lsmt + l.tail.index_offset,
						   l.tail.index_size, &e), 0);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_index_end(&l, &e), 0);
	KUNIT_ASSERT_GT(test, l.nsegs, 0ull);
	/* the first sector of content is mapped data equal to the payload */
	ovbd_lsmt_lookup(segs, l.nsegs, 0, 8, &p);
	KUNIT_ASSERT_EQ(test, p.kind, (u8)OVBD_PIECE_DATA);
	KUNIT_EXPECT_EQ(test, memcmp(fx_lsmt + (p.moffset << 9), fx_content, 512), 0);
	/* a flag bit outside OVBD_LSMT_FLAGS_KNOWN: refused by name */
	{
		u8 *t = kunit_kmalloc(test, OVBD_LSMT_HDR_SIZE, GFP_KERNEL);
		struct ovbd_lsmt_hdr h;

		KUNIT_ASSERT_EQ(test, ovbd_lsmt_decode_hdr(fx_lsmt + size - 4096, &h, &e), 0);
		h.flags |= 1u << 9;
		ovbd_lsmt_encode_hdr(&h, t);
		KUNIT_EXPECT_EQ(test, ovbd_lsmt_decode_hdr(t, &h, &e), -EOPNOTSUPP);
		KUNIT_EXPECT_STREQ(test, e.field, "lsmt flags: unknown bits");
	}
}

/*
 * virtual_size below the index's reach (a merge of a stack that shrank):
 * entries are clipped to it, or dropped when wholly past, never refused.
 */
static void lsmt_clip_to(struct kunit *test, u64 vsize, u64 sectors)
{
	size_t size = sizeof(fx_lsmt);
	u8 *b = kunit_kmalloc(test, size, GFP_KERNEL);
	struct ovbd_lsmt_layer l;
	struct ovbd_lsmt_hdr h;
	struct ovbd_seg *segs;
	struct ovbd_err e;
	u64 k;

	memcpy(b, fx_lsmt, size);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_decode_hdr(b + size - 4096, &h, &e), 0);
	h.virtual_size = vsize;
	ovbd_lsmt_encode_hdr(&h, b + size - 4096);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_open(&l, b, b + size - 4096, size, &e), 0);
	KUNIT_EXPECT_EQ(test, ovbd_lsmt_vsectors(&l.tail), sectors);
	segs = kunit_kcalloc(test, l.tail.index_size, sizeof(*segs), GFP_KERNEL);
	ovbd_lsmt_index_begin(&l, segs, l.tail.index_size);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_index_feed(&l, b + l.tail.index_offset, l.tail.index_size, &e), 0);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_index_end(&l, &e), 0);
	KUNIT_EXPECT_GT(test, l.clipped, 0ull);
	KUNIT_ASSERT_GT(test, l.nsegs, 0ull);
	for (k = 0; k < l.nsegs; k++)
		KUNIT_EXPECT_LE(test, ovbd_seg_end(&segs[k]), sectors);
}

static void lsmt_clip_virtual_size(struct kunit *test)
{
	lsmt_clip_to(test, 9 * 512, 9);
}

/* any byte count is a valid virtual_size: the partial last sector is mapped */
static void lsmt_clip_partial_sector(struct kunit *test)
{
	lsmt_clip_to(test, 8 * 512 + 300, 9);
}

/* Damage the first index entry of the tool-made layer in one way. */
static int lsmt_damaged(struct kunit *test, void (*damage)(u8 *entry), const char **field)
{
	size_t size = sizeof(fx_lsmt);
	u8 *b = kunit_kmalloc(test, size, GFP_KERNEL);
	struct ovbd_lsmt_layer l;
	struct ovbd_seg *segs;
	struct ovbd_err e = { 0 };
	int ret;

	memcpy(b, fx_lsmt, size);
	KUNIT_ASSERT_EQ(test, ovbd_lsmt_open(&l, b, b + size - 4096, size, &e), 0);
	damage(b + l.tail.index_offset);
	segs = kunit_kcalloc(test, l.tail.index_size, sizeof(*segs), GFP_KERNEL);
	ovbd_lsmt_index_begin(&l, segs, l.tail.index_size);
	ret = ovbd_lsmt_index_feed(&l, b + l.tail.index_offset, l.tail.index_size, &e);
	*field = e.field;
	return ret;
}

static void set_tag(u8 *x) { x[15] = 7; }
static void zero_length(u8 *x) { x[6] &= 0x03; x[7] = 0; }
static void far_moffset(u8 *x) { x[14] = 0x7f; }
static void overlap_next(u8 *x) { memcpy(x + 16, x, 8); }
/* offset 2^50 - 2, keeping the length: the entry would end past 2^50 - 1 */
static void past_2_50(u8 *x)
{
	u64 a = ovbd_get_le64(x);

	ovbd_put_le64(x, (a & ~OVBD_LSMT_INVALID) | (OVBD_LSMT_INVALID - 1));
}

static void lsmt_bad_index(struct kunit *test)
{
	size_t size = sizeof(fx_lsmt);
	u8 *b = kunit_kmalloc(test, size, GFP_KERNEL);
	struct ovbd_lsmt_layer l;
	const char *field;
	struct ovbd_err e;

	/* overlaybd-merge writes its source layer into the tag: accepted */
	KUNIT_EXPECT_EQ(test, lsmt_damaged(test, set_tag, &field), 0);
	KUNIT_EXPECT_EQ(test, lsmt_damaged(test, past_2_50, &field), -EINVAL);
	KUNIT_EXPECT_STREQ(test, field, "lsmt index entry end");
	KUNIT_EXPECT_EQ(test, lsmt_damaged(test, zero_length, &field), -EINVAL);
	KUNIT_EXPECT_STREQ(test, field, "lsmt index entry length");
	KUNIT_EXPECT_EQ(test, lsmt_damaged(test, far_moffset, &field), -EINVAL);
	KUNIT_EXPECT_STREQ(test, field, "lsmt index entry moffset");
	KUNIT_EXPECT_EQ(test, lsmt_damaged(test, overlap_next, &field), -EINVAL);
	KUNIT_EXPECT_STREQ(test, field, "lsmt index entry offset");

	memcpy(b, fx_lsmt, size);
	b[size - 4096 + 28] = 0x2;		/* trailer: not sealed */
	KUNIT_EXPECT_EQ(test, ovbd_lsmt_open(&l, b, b + size - 4096, size, &e), -EINVAL);
	memcpy(b, fx_lsmt, size);
	ovbd_put_le64(b + size - 4096 + 40, 1ull << 40);	/* huge index_size */
	KUNIT_EXPECT_EQ(test, ovbd_lsmt_open(&l, b, b + size - 4096, size, &e), -EINVAL);
	KUNIT_EXPECT_STREQ(test, e.field, "lsmt index_size");
}

/* Random stacks: the merged lookup equals a per-sector brute force. */
static void lsmt_merge_random(struct kunit *test)
{
	enum { VSECT = 1500, PER = 24 };
	unsigned int nlayers, l, round;

	for (round = 0; round < 12; round++) {
		struct ovbd_merge_src *src;
		struct ovbd_seg *merged;
		struct ovbd_err e;
		void *scratch;
		u64 count, s, i;

		nlayers = round == 11 ? 255 : 1 + get_random_u32() % 16;
		src = kunit_kcalloc(test, nlayers, sizeof(*src), GFP_KERNEL);
		for (l = 0; l < nlayers; l++) {
			struct ovbd_seg *segs = kunit_kcalloc(test, PER, sizeof(*segs), GFP_KERNEL);
			u64 pos = get_random_u32() % 8;

			for (i = 0; i < PER && pos < VSECT; i++) {
				u32 len = 1 + get_random_u32() % 48;

				if (pos + len > VSECT)
					len = VSECT - pos;
				segs[i] = ovbd_seg_make(pos, len, 8 + get_random_u32() % 9999,
							get_random_u32() % 5 == 0, 0);
				pos += len + get_random_u32() % 30;
			}
			src[l].segs = segs;
			src[l].n = i;
		}
		scratch = kunit_kmalloc(test, ovbd_lsmt_merge_scratch_bytes(nlayers), GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ovbd_lsmt_merge(src, nlayers, scratch, NULL, 0, &count, &e), 0);
		merged = kunit_kcalloc(test, count + 1, sizeof(*merged), GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ovbd_lsmt_merge(src, nlayers, scratch, merged, count,
						      &count, &e), 0);
		for (s = 0; s < VSECT; s++) {
			const struct ovbd_seg *hit = NULL;
			struct ovbd_piece p;
			int top = -1;

			for (l = 0; l < nlayers; l++)
				for (i = 0; i < src[l].n; i++)
					if (ovbd_seg_offset(&src[l].segs[i]) <= s &&
					    s < ovbd_seg_end(&src[l].segs[i])) {
						top = l;
						hit = &src[l].segs[i];
					}
			ovbd_lsmt_lookup(merged, count, s, 1, &p);
			if (top < 0) {
				KUNIT_ASSERT_EQ(test, p.kind, (u8)OVBD_PIECE_HOLE);
				continue;
			}
			KUNIT_ASSERT_EQ(test, (int)p.layer, top);
			if (ovbd_seg_zeroed(hit)) {
				KUNIT_ASSERT_EQ(test, p.kind, (u8)OVBD_PIECE_ZERO);
			} else {
				KUNIT_ASSERT_EQ(test, p.kind, (u8)OVBD_PIECE_DATA);
				KUNIT_ASSERT_EQ(test, p.moffset,
						ovbd_seg_moffset(hit) + s - ovbd_seg_offset(hit));
			}
		}
	}
}

static void lsmt_merge_limits(struct kunit *test)
{
	struct ovbd_merge_src src[1] = { { NULL, 0 } };
	struct ovbd_err e;
	u64 scratch[3];		/* ovbd_lsmt_merge_scratch_bytes(1) */
	u64 count;

	KUNIT_EXPECT_EQ(test, ovbd_lsmt_merge(src, 0, scratch, NULL, 0, &count, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, ovbd_lsmt_merge(src, 256, scratch, NULL, 0, &count, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, ovbd_lsmt_merge(src, 1, scratch, NULL, 0, &count, &e), 0);
	KUNIT_EXPECT_EQ(test, count, 0ull);
}

static struct kunit_case ovbd_zfile_cases[] = {
	KUNIT_CASE(crc32c_vectors),
	KUNIT_CASE(zfile_lz4_blocks),
	KUNIT_CASE(zfile_zstd_blocks),
	KUNIT_CASE(zfile_crc_mismatch),
	KUNIT_CASE(zfile_bad_headers),
	KUNIT_CASE(zfile_bad_index),
	{}
};

static struct kunit_case ovbd_lsmt_cases[] = {
	KUNIT_CASE(lsmt_tool_layer),
	KUNIT_CASE(lsmt_clip_virtual_size),
	KUNIT_CASE(lsmt_clip_partial_sector),
	KUNIT_CASE(lsmt_bad_index),
	KUNIT_CASE(lsmt_merge_random),
	KUNIT_CASE(lsmt_merge_limits),
	{}
};

static struct kunit_case ovbd_tar_cases[] = {
	KUNIT_CASE(tar_wrapper),
	{}
};

static struct kunit_suite ovbd_zfile_suite = { .name = "ovbd_zfile", .test_cases = ovbd_zfile_cases };
static struct kunit_suite ovbd_lsmt_suite = { .name = "ovbd_lsmt", .test_cases = ovbd_lsmt_cases };
static struct kunit_suite ovbd_tar_suite = { .name = "ovbd_tar", .test_cases = ovbd_tar_cases };

kunit_test_suites(&ovbd_zfile_suite, &ovbd_lsmt_suite, &ovbd_tar_suite);

MODULE_DESCRIPTION("KUnit tests for the dm-overlaybd format core");
MODULE_LICENSE("GPL");
