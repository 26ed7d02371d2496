// SPDX-License-Identifier: GPL-2.0-only
/* Userspace unit tests of the format core: parsers, bad inputs, merge, lookup. */
#include <ovbd/detect.h>
#include <ovbd/lsmt.h>
#include <ovbd/tar.h>
#include <ovbd/zfile.h>
#include <stdlib.h>

static int passed, failed;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   check failed: %s (%s:%d)\n", #cond,	\
			       __FILE__, __LINE__);			\
			return 1;					\
		}							\
	} while (0)

static void run(const char *name, int (*fn)(void))
{
	int r = fn();

	printf("%s - %s\n", r ? "not ok" : "ok", name);
	if (r)
		failed++;
	else
		passed++;
}

#define TEST(fn) run(#fn, fn)

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- CRC32C ---- */

static int test_crc32c_vectors(void)
{
	CHECK(ovbd_crc32c(0, "123456789", 9) == 0x58e3fa20);
	CHECK(ovbd_crc32c(100007, "123456789", 9) == 0x3c9bd4e0);
	CHECK(ovbd_crc32c(ovbd_crc32c(0, "1234", 4), "56789", 5) == 0x58e3fa20);
	return 0;
}

/* ---- ZFile ---- */

/* A ZFile in memory: lengths[] of stored blocks (content is not decoded). */
struct zf_image {
	u8 *buf;
	u64 size;
};

static struct ovbd_zfile_hdr zf_fields(u64 nblocks, u32 bs)
{
	struct ovbd_zfile_hdr h = { 0 };

	h.struct_size = OVBD_ZF_FIELDS_SIZE;
	h.block_size = bs;
	h.algo = OVBD_ZF_ALGO_LZ4;
	h.verify = 1;
	h.index_size = nblocks;
	h.original_size = nblocks * bs;
	return h;
}

static void zf_build(struct zf_image *img, struct ovbd_zfile_hdr h,
		     const u32 *lens, bool overwrite)
{
	u64 data = 0, i;
	u8 *idx;

	for (i = 0; i < h.index_size; i++)
		data += lens[i];
	img->size = 512 + data + 4 * h.index_size + 512;
	img->buf = calloc(1, img->size);
	idx = img->buf + 512 + data;
	for (i = 0; i < h.index_size; i++)
		ovbd_put_le32(idx + 4 * i, lens[i]);
	h.index_offset = 512 + data;
	h.index_crc = ovbd_crc32c(0, idx, 4 * h.index_size);
	h.flags = OVBD_ZF_FLAG_DATA | OVBD_ZF_FLAG_SEALED | OVBD_ZF_FLAG_DIGEST;
	ovbd_zfile_encode_hdr(&h, img->buf + img->size - 512);
	h.flags = OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_DATA | OVBD_ZF_FLAG_DIGEST |
		  (overwrite ? OVBD_ZF_FLAG_OVERWRITE : 0);
	ovbd_zfile_encode_hdr(&h, img->buf);
}

static int zf_load(struct zf_image *img, struct ovbd_zfile *zf, void **jump,
		   struct ovbd_err *e)
{
	int r = ovbd_zfile_open(zf, img->buf, img->buf + img->size - 512, img->size, e);

	*jump = NULL;
	if (r)
		return r;
	*jump = malloc(ovbd_zfile_jump_bytes(zf) + 1);
	ovbd_zfile_index_begin(zf, *jump);
	r = ovbd_zfile_index_feed(zf, img->buf + zf->h.index_offset, zf->nblocks, e);
	return r ? r : ovbd_zfile_index_end(zf, e);
}

static int test_zfile_open_good(void)
{
	u32 lens[3] = { 100, 200, 300 };
	struct ovbd_zfile zf;
	struct zf_image img;
	struct ovbd_err e;
	void *jump;
	u64 off;
	u32 len;

	zf_build(&img, zf_fields(3, 4096), lens, false);
	CHECK(zf_load(&img, &zf, &jump, &e) == 0);
	CHECK(!zf.from_header);
	ovbd_zfile_block_extent(&zf, 2, &off, &len);
	CHECK(off == 512 + 300 && len == 300);
	CHECK(ovbd_zfile_block_bytes(&zf, 2) == 4096);
	free(jump);
	free(img.buf);

	/* header holds the fields: the trailer is not needed */
	zf_build(&img, zf_fields(3, 4096), lens, true);
	CHECK(!ovbd_zfile_needs_trailer(img.buf));
	CHECK(ovbd_zfile_open(&zf, img.buf, NULL, img.size - 512, &e) == 0);
	CHECK(zf.from_header);
	free(img.buf);
	return 0;
}

/* Corrupt one field of the trailer (re-sealing the digest), expect an error. */
static int zf_expect(struct ovbd_zfile_hdr h, u64 nblocks, int code)
{
	u32 lens[4] = { 100, 100, 100, 100 };
	struct ovbd_zfile zf;
	struct zf_image img;
	struct ovbd_err e = { 0 };
	void *jump;
	int r;

	(void)nblocks;
	zf_build(&img, h, lens, false);
	r = zf_load(&img, &zf, &jump, &e);
	free(jump);
	free(img.buf);
	if (r != code)
		printf("#   got %d (%s), expected %d\n", r, e.field ? e.field : "-", code);
	return r == code && (!r || e.field) ? 0 : 1;
}

static int test_zfile_bad_fields(void)
{
	struct ovbd_zfile_hdr h = zf_fields(4, 4096);

	h.algo = 0;
	CHECK(zf_expect(h, 4, -EOPNOTSUPP) == 0);
	h.algo = 3;
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	h = zf_fields(4, 4096);
	h.block_size = 2048;
	h.original_size = 4 * 2048;
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	h.block_size = 131072;
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	h.block_size = 12288;
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	h = zf_fields(4, 4096);
	h.dict_size = 128;
	CHECK(zf_expect(h, 4, -EOPNOTSUPP) == 0);
	h = zf_fields(4, 4096);
	h.use_dict = 1;
	CHECK(zf_expect(h, 4, -EOPNOTSUPP) == 0);
	h = zf_fields(4, 4096);
	h.original_size = 5 * 4096;	/* needs 5 entries */
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	h = zf_fields(4, 4096);
	h.original_size = 3 * 4096 + 1;	/* 4 blocks, last 1 byte */
	CHECK(zf_expect(h, 4, 0) == 0);
	h = zf_fields(4, 4096);
	h.verify = 7;
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	h = zf_fields(4, 4096);
	h.struct_size = 12;
	CHECK(zf_expect(h, 4, -EINVAL) == 0);
	return 0;
}

static int test_zfile_bad_headers(void)
{
	u32 lens[2] = { 100, 100 };
	struct ovbd_zfile_hdr h = zf_fields(2, 4096);
	struct ovbd_zfile zf;
	struct zf_image img;
	struct ovbd_err e;
	u8 *tail;

	zf_build(&img, h, lens, false);
	tail = img.buf + img.size - 512;
	tail[40] ^= 1;			/* index_offset, digest now stale */
	CHECK(ovbd_zfile_open(&zf, img.buf, tail, img.size, &e) == -EBADMSG);
	tail[40] ^= 1;
	img.buf[0] = 'X';
	CHECK(ovbd_zfile_open(&zf, img.buf, tail, img.size, &e) == -EINVAL);
	img.buf[0] = 'Z';
	CHECK(ovbd_zfile_open(&zf, img.buf, tail, img.size, &e) == 0);
	/* index_offset beyond the trailer */
	h.index_offset = img.size;
	h.flags = OVBD_ZF_FLAG_DATA | OVBD_ZF_FLAG_SEALED;
	ovbd_zfile_encode_hdr(&h, tail);
	CHECK(ovbd_zfile_open(&zf, img.buf, tail, img.size, &e) == -EINVAL);
	CHECK(!strcmp(e.field, "zfile index_offset"));
	/* index_size that runs past the trailer */
	h.index_offset = img.size - 512 - 4;
	h.index_size = 2;
	ovbd_zfile_encode_hdr(&h, tail);
	CHECK(ovbd_zfile_open(&zf, img.buf, tail, img.size, &e) == -EINVAL);
	/* the trailer flagged as a header */
	h.flags |= OVBD_ZF_FLAG_HEADER;
	ovbd_zfile_encode_hdr(&h, tail);
	CHECK(ovbd_zfile_open(&zf, img.buf, tail, img.size, &e) == -EINVAL);
	/* too short, missing trailer */
	CHECK(ovbd_zfile_open(&zf, img.buf, NULL, 600, &e) == -EINVAL);
	CHECK(ovbd_zfile_open(&zf, img.buf, NULL, img.size, &e) == -EINVAL);
	/* compressed index */
	h = zf_fields(2, 4096);
	h.flags = OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_OVERWRITE | OVBD_ZF_FLAG_IDX_COMP;
	h.index_offset = 712;
	ovbd_zfile_encode_hdr(&h, img.buf);
	CHECK(ovbd_zfile_open(&zf, img.buf, NULL, img.size, &e) == -EOPNOTSUPP);
	/* a flag bit no reader knows (bit 6, bit 63): refused, not guessed at */
	h.flags = OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_OVERWRITE | (1ull << 6);
	ovbd_zfile_encode_hdr(&h, img.buf);
	CHECK(ovbd_zfile_open(&zf, img.buf, NULL, img.size, &e) == -EOPNOTSUPP);
	CHECK(!strcmp(e.field, "zfile flags: unknown bits") && e.value == 1ull << 6);
	h.flags = OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_OVERWRITE | (1ull << 63);
	ovbd_zfile_encode_hdr(&h, img.buf);
	CHECK(ovbd_zfile_open(&zf, img.buf, NULL, img.size, &e) == -EOPNOTSUPP);
	free(img.buf);
	return 0;
}

static int test_zfile_bad_index(void)
{
	u32 lens[3] = { 100, 4, 100 };
	struct ovbd_zfile zf;
	struct zf_image img;
	struct ovbd_err e;
	void *jump;

	zf_build(&img, zf_fields(3, 4096), lens, false);
	CHECK(zf_load(&img, &zf, &jump, &e) == -EINVAL);	/* <= 4 with verify */
	CHECK(!strcmp(e.field, "zfile index entry"));
	free(jump);
	free(img.buf);

	lens[1] = 0;
	zf_build(&img, zf_fields(3, 4096), lens, false);
	CHECK(zf_load(&img, &zf, &jump, &e) == -EINVAL);
	free(jump);
	free(img.buf);

	lens[1] = ovbd_zfile_stored_bound(OVBD_ZF_ALGO_LZ4, 4096, true) + 1;
	zf_build(&img, zf_fields(3, 4096), lens, false);
	CHECK(zf_load(&img, &zf, &jump, &e) == -EINVAL);	/* over the bound */
	free(jump);
	free(img.buf);

	lens[1] = 100;
	zf_build(&img, zf_fields(3, 4096), lens, false);
	img.buf[img.size - 512 - 4] ^= 0x40;	/* index byte: CRC now wrong */
	CHECK(zf_load(&img, &zf, &jump, &e) == -EBADMSG);
	free(jump);
	img.buf[img.size - 512 - 4] ^= 0x40;
	img.buf[img.size - 512 - 12] = 0xff;	/* block 0 claims to run over the index */
	img.buf[img.size - 512 - 11] = 0x0f;
	CHECK(zf_load(&img, &zf, &jump, &e) == -EINVAL);
	free(jump);
	free(img.buf);
	return 0;
}

/* Extents of many blocks, some longer than 65535 bytes, across groups. */
static int test_zfile_jump_table(void)
{
	enum { N = 1000 };
	static u32 lens[N];
	struct ovbd_zfile zf;
	struct zf_image img;
	struct ovbd_err e;
	u64 i, off, expect = 512;
	void *jump;
	u32 len;

	for (i = 0; i < N; i++)
		lens[i] = (rnd() % 7 == 0) ? 65794 + (u32)(rnd() % 19) : 5 + (u32)(rnd() % 65000);
	zf_build(&img, zf_fields(N, 65536), lens, false);
	CHECK(zf_load(&img, &zf, &jump, &e) == 0);
	CHECK(ovbd_zfile_jump_bytes(&zf) <= 3 * N);
	for (i = 0; i < N; i++) {
		ovbd_zfile_block_extent(&zf, i, &off, &len);
		CHECK(off == expect && len == lens[i]);
		expect += lens[i];
	}
	/* a reader's cursor, sequential runs and jumps mixed, gives the same extents */
	{
		struct ovbd_zfile_extent cur = { .blk = ~0ull };
		u64 blk = 0;

		for (int step = 0; step < 5 * N; step++) {
			u64 o;
			u32 l;

			blk = rnd() % 4 ? (blk + 1) % N : rnd() % N;
			ovbd_zfile_extent_seek(&zf, &cur, blk, &o, &l);
			ovbd_zfile_block_extent(&zf, blk, &off, &len);
			CHECK(o == off && l == len);
		}
	}
	/* the O(1) walk gives the same extents, from any start, across groups */
	for (u64 start = 0; start < N; start += 1 + rnd() % 97) {
		struct ovbd_zfile_extent x;

		ovbd_zfile_extent_at(&zf, start, &x);
		for (i = start; i < N; i++) {
			ovbd_zfile_block_extent(&zf, i, &off, &len);
			CHECK(x.blk == i && x.off == off && x.len == len);
			if (i + 1 < N)
				ovbd_zfile_extent_next(&zf, &x);
		}
	}
	free(jump);
	free(img.buf);
	return 0;
}

static int decode_roundtrip(u8 algo, u32 bs, bool random_data)
{
	u32 bound = ovbd_zfile_stored_bound(algo, bs, true);
	u8 *src = malloc(bs), *dst = malloc(bound), *out = malloc(bs);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	struct ovbd_zfile zf = { 0 };
	struct ovbd_err e;
	u32 i, c;
	int r = 1;

	for (i = 0; i < bs; i++)
		src[i] = random_data ? (u8)rnd() : (u8)("overlaybd "[i % 10]);
	if (algo == OVBD_ZF_ALGO_LZ4)
		c = (u32)LZ4_compress_default((char *)src, (char *)dst, (int)bs, (int)bound);
	else
		c = (u32)ZSTD_compress(dst, bound, src, bs, 3);
	ovbd_put_le32(dst + c, ovbd_crc32c(OVBD_ZF_CRC_SEED, dst, c));
	zf.h.algo = algo;
	zf.h.block_size = bs;
	zf.h.verify = 1;
	zf.h.original_size = bs;
	zf.nblocks = 1;
	while ((1u << zf.block_shift) < bs)
		zf.block_shift++;
	if (c + 4 > bound || (random_data && c <= bs))
		goto out;	/* incompressible data must exceed bs, within bound */
	if (ovbd_zfile_decode_block(&zf, 0, dst, c + 4, out, dctx, &e) || memcmp(src, out, bs))
		goto out;
	dst[c / 2] ^= 0x10;		/* CRC catches it */
	if (ovbd_zfile_decode_block(&zf, 0, dst, c + 4, out, dctx, &e) != -EBADMSG)
		goto out;
	dst[c / 2] ^= 0x10;
	zf.h.verify = 0;		/* truncated stream without CRC: decode error */
	if (ovbd_zfile_decode_block(&zf, 0, dst, c - 1, out, dctx, &e) != -EINVAL)
		goto out;
	zf.h.original_size = bs / 2;	/* decodes to more than expected */
	if (ovbd_zfile_decode_block(&zf, 0, dst, c, out, dctx, &e) != -EINVAL)
		goto out;
	r = 0;
out:
	free(src);
	free(dst);
	free(out);
	ZSTD_freeDCtx(dctx);
	return r;
}

static int test_zfile_decode(void)
{
	u32 bs;

	for (bs = 4096; bs <= 65536; bs <<= 1) {
		CHECK(decode_roundtrip(OVBD_ZF_ALGO_LZ4, bs, false) == 0);
		CHECK(decode_roundtrip(OVBD_ZF_ALGO_ZSTD, bs, false) == 0);
		CHECK(decode_roundtrip(OVBD_ZF_ALGO_LZ4, bs, true) == 0);
		CHECK(decode_roundtrip(OVBD_ZF_ALGO_ZSTD, bs, true) == 0);
	}
	CHECK(ovbd_zfile_stored_bound(OVBD_ZF_ALGO_LZ4, 65536, true) >= 65794);
	CHECK(ovbd_zfile_stored_bound(OVBD_ZF_ALGO_ZSTD, 65536, true) >= 65546);
	return 0;
}

/* ---- LSMT ---- */

struct lsmt_image {
	u8 *buf;
	u64 size;
};

/* A layer of nsegs entries (data after sector 8), padded index. */
static void lsmt_build(struct lsmt_image *img, const struct ovbd_seg *segs, u64 n,
		       u64 data_sectors, u64 vsize, u32 tail_flags)
{
	struct ovbd_lsmt_hdr h = { 0 };
	u64 idx_entries = (n + 255) & ~255ull, i;
	u64 idx_off = 4096 + data_sectors * 512;

	img->size = idx_off + idx_entries * 16 + 4096;
	img->buf = calloc(1, img->size);
	for (i = 0; i < idx_entries; i++) {
		struct ovbd_seg inv = ovbd_seg_make(OVBD_LSMT_INVALID, 0, 0, false, 0);

		ovbd_lsmt_encode_entry(i < n ? &segs[i] : &inv, img->buf + idx_off + 16 * i);
	}
	h.struct_size = 390;
	h.virtual_size = vsize;
	h.flags = 7;
	strcpy(h.uuid, "A-B");
	ovbd_lsmt_encode_hdr(&h, img->buf);
	h.flags = tail_flags;
	h.index_offset = idx_off;
	h.index_size = idx_entries;
	ovbd_lsmt_encode_hdr(&h, img->buf + img->size - 4096);
}

static int lsmt_load(struct lsmt_image *img, struct ovbd_lsmt_layer *l,
		     struct ovbd_seg **segs, struct ovbd_err *e)
{
	int r = ovbd_lsmt_open(l, img->buf, img->buf + img->size - 4096, img->size, e);

	*segs = NULL;
	if (r)
		return r;
	*segs = malloc(l->tail.index_size * sizeof(**segs) + 1);
	ovbd_lsmt_index_begin(l, *segs, l->tail.index_size);
	r = ovbd_lsmt_index_feed(l, img->buf + l->tail.index_offset, l->tail.index_size, e);
	return r ? r : ovbd_lsmt_index_end(l, e);
}

static int lsmt_expect(const struct ovbd_seg *segs, u64 n, u64 vsize, u32 flags,
		       int code)
{
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_seg *out;
	struct ovbd_err e = { 0 };
	int r;

	lsmt_build(&img, segs, n, 100, vsize, flags);
	r = lsmt_load(&img, &l, &out, &e);
	free(out);
	free(img.buf);
	if (r != code)
		printf("#   got %d (%s), expected %d\n", r, e.field ? e.field : "-", code);
	return r == code ? 0 : 1;
}

static int test_lsmt_index(void)
{
	struct ovbd_seg s[3];
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_seg *out;
	struct ovbd_err e;

	s[0] = ovbd_seg_make(0, 10, 8, false, 0);
	s[1] = ovbd_seg_make(10, 5, 12345, true, 0);	/* zeroed: moffset ignored */
	s[2] = ovbd_seg_make(100, 90, 18, false, 0);
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, 0) == 0);

	lsmt_build(&img, s, 3, 100, 1 << 20, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(l.nsegs == 3 && l.tail.index_size == 256);
	CHECK(ovbd_seg_moffset(&out[1]) == 0 && ovbd_seg_zeroed(&out[1]));
	free(out);
	free(img.buf);

	CHECK(lsmt_expect(s, 3, 1 << 20, 7, -EINVAL) == 0);	/* trailer flagged header */
	CHECK(lsmt_expect(s, 3, 1 << 20, 2, -EINVAL) == 0);	/* not sealed */
	/* any byte count: the index is clipped after the partial last sector */
	lsmt_build(&img, s, 3, 100, 512 * 120 + 300, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(ovbd_lsmt_vsectors(&l.tail) == 121 && l.nsegs == 3 && ovbd_seg_len(&out[2]) == 21 &&
	      l.clipped == 1);
	free(out);
	free(img.buf);
	lsmt_build(&img, s, 3, 100, 512 * 10 + 1, 6);	/* 11 sectors: [10, 15) keeps one */
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(l.nsegs == 2 && ovbd_seg_len(&out[1]) == 1 && l.clipped == 2);
	free(out);
	free(img.buf);
	/* past virtual_size (a merge of a stack that shrank): clipped, or dropped when wholly past */
	lsmt_build(&img, s, 3, 100, 512 * 150, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(l.nsegs == 3 && ovbd_seg_offset(&out[2]) == 100 && ovbd_seg_len(&out[2]) == 50 &&
	      ovbd_seg_moffset(&out[2]) == 18 && l.clipped == 1);
	free(out);
	free(img.buf);
	lsmt_build(&img, s, 3, 100, 512 * 100, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(l.nsegs == 2 && l.clipped == 1);
	free(out);
	free(img.buf);
	s[2] = ovbd_seg_make(100, 90, 5000, false, 0);		/* wholly past, and past the data area */
	CHECK(lsmt_expect(s, 3, 512 * 100, 6, -EINVAL) == 0);	/* still checked: refused */
	s[2] = ovbd_seg_make(100, 90, 18, false, 0);
	s[2] = ovbd_seg_make(12, 5, 18, false, 0);		/* overlaps s[1] */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, -EINVAL) == 0);
	s[2] = ovbd_seg_make(2, 5, 18, false, 0);		/* unsorted */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, -EINVAL) == 0);
	s[2] = ovbd_seg_make(100, 0, 18, false, 0);		/* length 0 */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, -EINVAL) == 0);
	s[2] = ovbd_seg_make(100, 10, 4, false, 0);		/* inside the header */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, -EINVAL) == 0);
	s[2] = ovbd_seg_make(100, 10, 100, false, 0);		/* past the data area */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, -EINVAL) == 0);
	s[2] = ovbd_seg_make(100, 10, 18, false, 3);		/* tag: overlaybd-merge output */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, 0) == 0);
	s[2] = ovbd_seg_make(100, 10, 98, false, 0);		/* ends exactly at the index */
	CHECK(lsmt_expect(s, 3, 1 << 20, 6, 0) == 0);
	return 0;
}

static int test_lsmt_open_bounds(void)
{
	struct ovbd_seg s = ovbd_seg_make(0, 8, 8, false, 0);
	struct ovbd_lsmt_hdr h;
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_err e;
	u8 *tail;

	lsmt_build(&img, &s, 1, 8, 1 << 20, 6);
	tail = img.buf + img.size - 4096;
	CHECK(ovbd_lsmt_decode_hdr(tail, &h, &e) == 0);
	h.index_size = 1ull << 40;			/* huge count */
	ovbd_lsmt_encode_hdr(&h, tail);
	CHECK(ovbd_lsmt_open(&l, img.buf, tail, img.size, &e) == -EINVAL);
	CHECK(!strcmp(e.field, "lsmt index_size"));
	h.index_size = 256;
	h.index_offset = img.size;			/* past the trailer */
	ovbd_lsmt_encode_hdr(&h, tail);
	CHECK(ovbd_lsmt_open(&l, img.buf, tail, img.size, &e) == -EINVAL);
	h.index_offset = 100;				/* inside the header */
	ovbd_lsmt_encode_hdr(&h, tail);
	CHECK(ovbd_lsmt_open(&l, img.buf, tail, img.size, &e) == -EINVAL);
	CHECK(ovbd_lsmt_open(&l, img.buf, tail, 4096, &e) == -EINVAL);
	/* a flag bit no reader knows: refused by name */
	CHECK(ovbd_lsmt_decode_hdr(tail, &h, &e) == 0);
	h.flags |= 1u << 6;
	ovbd_lsmt_encode_hdr(&h, tail);
	CHECK(ovbd_lsmt_decode_hdr(tail, &h, &e) == -EOPNOTSUPP);
	CHECK(!strcmp(e.field, "lsmt flags: unknown bits") && e.value == 1u << 6);
	tail[3] = 'X';
	CHECK(ovbd_lsmt_open(&l, img.buf, tail, img.size, &e) == -EINVAL);
	free(img.buf);
	return 0;
}

/* Random layers; the merged lookup must equal a per-sector brute force. */
static int merge_check(unsigned int nlayers, u64 vsect, unsigned int per_layer)
{
	struct ovbd_merge_src *src = calloc(nlayers, sizeof(*src));
	struct ovbd_seg **segs = calloc(nlayers, sizeof(*segs));
	void *scratch = malloc(ovbd_lsmt_merge_scratch_bytes(nlayers));
	struct ovbd_seg *merged;
	struct ovbd_err e;
	u64 count, count2, s, i;
	unsigned int l;
	int r = 1;

	for (l = 0; l < nlayers; l++) {
		u64 pos = rnd() % 8, moff = 0;

		segs[l] = calloc(per_layer, sizeof(**segs));
		for (i = 0; i < per_layer && pos < vsect; i++) {
			u64 len = 1 + rnd() % 64;

			if (pos + len > vsect)
				len = vsect - pos;
			/* half the entries continue the last one's data, as a long extent's do */
			moff = i && rnd() % 2 ? moff : 8 + rnd() % 100000;
			segs[l][i] = ovbd_seg_make(pos, (u32)len, moff, rnd() % 5 == 0, 0);
			moff += len;
			pos += len + (rnd() % 3 ? rnd() % 40 : 0);
		}
		src[l].segs = segs[l];
		src[l].n = i;
	}
	if (ovbd_lsmt_merge(src, nlayers, scratch, NULL, 0, &count, &e))
		goto out;
	merged = malloc((count + 1) * sizeof(*merged));
	if (ovbd_lsmt_merge(src, nlayers, scratch, merged, count, &count2, &e) ||
	    count2 != count)
		goto free_merged;
	if (count && ovbd_lsmt_merge(src, nlayers, scratch, merged, count - 1, &count2, &e) != -E2BIG)
		goto free_merged;
	for (i = 1; i < count; i++)
		if (ovbd_seg_offset(&merged[i]) < ovbd_seg_end(&merged[i - 1]))
			goto free_merged;
	for (s = 0; s < vsect; s++) {
		struct ovbd_piece p;
		int top = -1;
		const struct ovbd_seg *hit = NULL;

		for (l = 0; l < nlayers; l++)
			for (i = 0; i < src[l].n; i++)
				if (ovbd_seg_offset(&segs[l][i]) <= s && s < ovbd_seg_end(&segs[l][i])) {
					top = (int)l;
					hit = &segs[l][i];
				}
		ovbd_lsmt_lookup(merged, count, s, 1, &p);
		if (p.sectors != 1)
			goto free_merged;
		if (top < 0 ? p.kind != OVBD_PIECE_HOLE :
		    ovbd_seg_zeroed(hit) ? (p.kind != OVBD_PIECE_ZERO || p.layer != top) :
		    (p.kind != OVBD_PIECE_DATA || p.layer != top ||
		     p.moffset != ovbd_seg_moffset(hit) + s - ovbd_seg_offset(hit))) {
			printf("#   sector %llu: kind %d layer %d, expected layer %d\n",
			       (unsigned long long)s, p.kind, p.layer, top);
			goto free_merged;
		}
	}
	/* a longer lookup's piece says what each of its sectors says alone */
	for (s = 0; s < vsect;) {
		struct ovbd_piece p, q;
		u64 k;

		ovbd_lsmt_lookup(merged, count, s, vsect - s, &p);
		if (!p.sectors || p.sectors > vsect - s)
			goto free_merged;
		for (k = 0; k < p.sectors; k++) {
			ovbd_lsmt_lookup(merged, count, s + k, 1, &q);
			if (q.kind != p.kind || (p.kind != OVBD_PIECE_HOLE && q.layer != p.layer) ||
			    (p.kind == OVBD_PIECE_DATA && q.moffset != p.moffset + k)) {
				printf("#   piece at %llu, sector %llu of it differs alone\n",
				       (unsigned long long)s, (unsigned long long)k);
				goto free_merged;
			}
		}
		/* and is the longest such: the next sector alone does not continue it */
		if (s + p.sectors < vsect) {
			ovbd_lsmt_lookup(merged, count, s + p.sectors, 1, &q);
			if (q.kind == p.kind && (p.kind == OVBD_PIECE_HOLE ||
			    (q.layer == p.layer && (p.kind == OVBD_PIECE_ZERO ||
						    q.moffset == p.moffset + p.sectors)))) {
				printf("#   piece at %llu stops at %llu, which continues it\n",
				       (unsigned long long)s, (unsigned long long)p.sectors);
				goto free_merged;
			}
		}
		s += p.sectors;
	}
	r = 0;
free_merged:
	free(merged);
out:
	for (l = 0; l < nlayers; l++)
		free(segs[l]);
	free(segs);
	free(src);
	free(scratch);
	return r;
}

static int test_lsmt_merge_random(void)
{
	int round;

	for (round = 0; round < 30; round++)
		CHECK(merge_check(1 + (unsigned int)(rnd() % 12), 2000, 40) == 0);
	CHECK(merge_check(255, 3000, 20) == 0);
	CHECK(merge_check(1, 100, 0) == 0);
	return 0;
}

static int test_lsmt_merge_limits(void)
{
	struct ovbd_merge_src src[1] = { { NULL, 0 } };
	struct ovbd_err e;
	u64 count;
	u64 scratch[3];		/* ovbd_lsmt_merge_scratch_bytes(1) */

	CHECK(ovbd_lsmt_merge_scratch_bytes(1) <= sizeof(scratch));
	CHECK(ovbd_lsmt_merge_scratch_bytes(4) <= 4 * 3 * sizeof(u64));	/* fuzz_lsmt.c */
	CHECK(ovbd_lsmt_merge(src, 0, scratch, NULL, 0, &count, &e) == -EINVAL);
	CHECK(ovbd_lsmt_merge(src, 256, scratch, NULL, 0, &count, &e) == -EINVAL);
	CHECK(ovbd_lsmt_merge(src, 1, scratch, NULL, 0, &count, &e) == 0 && count == 0);
	return 0;
}

static int test_lsmt_lookup_pieces(void)
{
	struct ovbd_seg m[2] = { ovbd_seg_make(10, 10, 100, false, 3),
				 ovbd_seg_make(20, 5, 0, true, 1) };
	struct ovbd_piece p;

	CHECK(ovbd_lsmt_lookup(m, 2, 0, 100, &p) == 0);
	CHECK(p.kind == OVBD_PIECE_HOLE && p.sectors == 10);
	ovbd_lsmt_lookup(m, 2, 12, 100, &p);
	CHECK(p.kind == OVBD_PIECE_DATA && p.sectors == 8 && p.moffset == 102 && p.layer == 3);
	ovbd_lsmt_lookup(m, 2, 12, 3, &p);
	CHECK(p.sectors == 3);
	ovbd_lsmt_lookup(m, 2, 22, 100, &p);
	CHECK(p.kind == OVBD_PIECE_ZERO && p.sectors == 3);
	ovbd_lsmt_lookup(m, 2, 25, 100, &p);
	CHECK(p.kind == OVBD_PIECE_HOLE && p.sectors == 100);
	ovbd_lsmt_lookup(NULL, 0, 5, 7, &p);
	CHECK(p.kind == OVBD_PIECE_HOLE && p.sectors == 7);
	return 0;
}

/* entries that continue each other in one layer are one piece (an entry holds at most 16383 sectors) */
static int test_lsmt_lookup_joins(void)
{
	struct ovbd_seg m[7] = {
		ovbd_seg_make(0, 16383, 1000, false, 2),
		ovbd_seg_make(16383, 100, 1000 + 16383, false, 2),	/* continues [0] */
		ovbd_seg_make(16483, 10, 1000 + 16483, false, 3),	/* another layer */
		ovbd_seg_make(16493, 10, 9000, false, 3),		/* not its file's next bytes */
		ovbd_seg_make(16503, 10, 0, true, 3),			/* zeros after data */
		ovbd_seg_make(16513, 10, 0, true, 3),			/* zeros after zeros */
		ovbd_seg_make(16524, 10, 9030, false, 3),		/* after a hole */
	};
	struct ovbd_piece p;

	CHECK(ovbd_lsmt_lookup(m, 7, 0, 20000, &p) == 2);
	CHECK(p.kind == OVBD_PIECE_DATA && p.sectors == 16483 && p.moffset == 1000 && p.layer == 2);
	CHECK(ovbd_lsmt_lookup(m, 7, 16000, 1000, &p) == 2);
	CHECK(p.sectors == 483 && p.moffset == 1000 + 16000);
	/* max ends inside the second entry: the hint is that entry */
	CHECK(ovbd_lsmt_lookup(m, 7, 10, 16383, &p) == 1);
	CHECK(p.kind == OVBD_PIECE_DATA && p.sectors == 16383 && p.moffset == 1010);
	CHECK(ovbd_lsmt_lookup(m, 7, 16483, 100, &p) == 3);
	CHECK(p.kind == OVBD_PIECE_DATA && p.sectors == 10 && p.layer == 3);
	CHECK(ovbd_lsmt_lookup(m, 7, 16493, 100, &p) == 4);
	CHECK(p.kind == OVBD_PIECE_DATA && p.sectors == 10 && p.moffset == 9000);
	CHECK(ovbd_lsmt_lookup(m, 7, 16503, 100, &p) == 6);
	CHECK(p.kind == OVBD_PIECE_ZERO && p.sectors == 20);
	ovbd_lsmt_lookup(m, 7, 16523, 100, &p);
	CHECK(p.kind == OVBD_PIECE_HOLE && p.sectors == 1);
	return 0;
}

/* ---- tar ---- */

static u8 *tar_image(u64 payload, bool pax, size_t *len)
{
	u8 *b = calloc(1, 16384);
	size_t off = 0;

	if (pax) {
		char rec[32];
		int n = snprintf(rec, sizeof(rec), "%02d size=%llu\n", 0, (unsigned long long)payload);

		snprintf(rec, sizeof(rec), "%02d size=%llu\n", n, (unsigned long long)payload);
		ovbd_tar_encode_header(b, "overlaybd.pax", (u64)n, 'x');
		memcpy(b + 512, rec, (size_t)n);
		off = 1024;
	}
	ovbd_tar_encode_header(b + off, "overlaybd.commit", pax ? 0 : payload, '0');
	*len = 16384;
	return b;
}

static int test_tar(void)
{
	struct ovbd_err e;
	u64 off, size;
	size_t len;
	u8 *b = tar_image(5000, true, &len);

	CHECK(ovbd_detect(b, len) == OVBD_KIND_TAR);
	CHECK(ovbd_tar_find_payload(b, len, 1536 + 5120 + 1024, &off, &size, &e) == 1);
	CHECK(off == 1536 && size == 5000);
	CHECK(ovbd_tar_find_payload(b, len, 1536 + 4000, &off, &size, &e) == -EINVAL);
	b[1024 + 148] ^= 1;			/* ustar checksum */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == -EINVAL);
	CHECK(!strcmp(e.field, "tar header"));
	b[1024 + 148] ^= 1;
	memcpy(b + 512, "99 size=5000\n", 13);	/* record longer than the data */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == -EINVAL);
	memcpy(b + 512, "13 size=50x0\n", 13);	/* digits up to the first other byte, as libarchive */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == 1 && size == 50);
	memcpy(b + 512, "13 size=-500\n", 13);	/* a sign: refused, as libarchive */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == -EINVAL);
	memcpy(b + 512, "13 =ize=5000\n", 13);	/* no key: refused, as libarchive */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == -EINVAL);
	b[0] ^= 1;				/* not a tar at all */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == 0);
	free(b);

	b = tar_image(777, false, &len);
	CHECK(ovbd_tar_find_payload(b, len, 512 + 1024, &off, &size, &e) == 1);
	CHECK(off == 512 && size == 777);
	memset(b, 0, 512);			/* end marker first */
	CHECK(ovbd_tar_find_payload(b, len, 1 << 20, &off, &size, &e) == 0);
	free(b);

	/* a PAX header bigger than the scan window is unsupported, not misread */
	b = tar_image(10, true, &len);
	ovbd_tar_encode_header(b, "overlaybd.pax", 1 << 20, 'x');
	CHECK(ovbd_tar_find_payload(b, len, 1 << 22, &off, &size, &e) == -EOPNOTSUPP);
	free(b);
	return 0;
}

static int test_detect(void)
{
	u8 buf[4096] = { 0 };
	struct ovbd_lsmt_hdr lh = { .struct_size = 390 };
	struct ovbd_zfile_hdr zh = { .struct_size = 96 };

	CHECK(ovbd_detect(buf, sizeof(buf)) == OVBD_KIND_UNKNOWN);
	ovbd_lsmt_encode_hdr(&lh, buf);
	CHECK(ovbd_detect(buf, sizeof(buf)) == OVBD_KIND_LSMT);
	CHECK(ovbd_detect(buf, 10) == OVBD_KIND_UNKNOWN);
	ovbd_zfile_encode_hdr(&zh, buf);
	CHECK(ovbd_detect(buf, sizeof(buf)) == OVBD_KIND_ZFILE);
	return 0;
}

/* ---- issue 10 and 16 regressions ---- */

/* The hardware CRC32C equals the table form at every length and alignment. */
static int test_crc32c_dispatch(void)
{
	static u8 buf[3 * 4096 * 3 + 64];
	size_t i, len, off;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)rnd();
	printf("#   crc32c: %s\n", ovbd_crc32c_impl());
	for (len = 0; len < 200; len++)
		for (off = 0; off < 8; off++)
			CHECK(ovbd_crc32c(100007, buf + off, len) ==
			      ovbd_crc32c_portable(100007, buf + off, len));
	for (i = 0; i < 300; i++) {
		len = rnd() % (sizeof(buf) - 8);
		off = rnd() % 8;
		CHECK(ovbd_crc32c((u32)(i * 77), buf + off, len) ==
		      ovbd_crc32c_portable((u32)(i * 77), buf + off, len));
	}
	/* three full lanes and more: the combined streams */
	CHECK(ovbd_crc32c(0, buf, sizeof(buf)) == ovbd_crc32c_portable(0, buf, sizeof(buf)));
	CHECK(ovbd_crc32c(0, "123456789", 9) == 0x58e3fa20);
	return 0;
}

/* Point 1: an entry must end at or below 2^50 - 1 sectors, whatever virtual_size says. */
static int test_lsmt_end_limit(void)
{
	struct ovbd_seg s[2];
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_seg *out;
	struct ovbd_err e;

	s[0] = ovbd_seg_make(0, 8, 8, false, 0);
	s[1] = ovbd_seg_make(OVBD_LSMT_INVALID - 2, 16383, 16, false, 0);
	lsmt_build(&img, s, 2, 100, 0, 6);		/* virtual_size 0: unset */
	CHECK(lsmt_load(&img, &l, &out, &e) == -EINVAL);
	CHECK(!strcmp(e.field, "lsmt index entry end"));
	CHECK(e.value == OVBD_LSMT_INVALID - 2 + 16383 && e.where == 1);
	free(out);
	free(img.buf);
	/* ending exactly at the limit is fine */
	s[1] = ovbd_seg_make(OVBD_LSMT_INVALID - 10, 10, 16, true, 0);
	CHECK(lsmt_expect(s, 2, 0, 6, 0) == 0);
	return 0;
}

/* Point 1: the merge refuses to emit an unsorted index, whatever it is fed. */
static int test_lsmt_merge_order_check(void)
{
	struct ovbd_seg a[1], b[2];
	struct ovbd_merge_src src[2] = { { a, 1 }, { b, 2 } };
	u8 scratch[256];
	struct ovbd_err e;
	u64 count;

	/* a piece past 2^50 would wrap when packed into 50 bits */
	a[0] = ovbd_seg_make(100, 10, 8, false, 0);
	b[0] = ovbd_seg_make(0, 8, 8, false, 0);
	b[1].a = (OVBD_LSMT_INVALID - 2) | (u64)16383 << 50;
	b[1].b = 8;
	CHECK(ovbd_lsmt_merge(src, 2, scratch, NULL, 0, &count, &e) == -EFAULT);
	CHECK(!strcmp(e.field, "lsmt merged entry offset"));
	/* an unsorted source */
	b[1] = ovbd_seg_make(4, 8, 8, false, 0);
	CHECK(ovbd_lsmt_merge(src, 2, scratch, NULL, 0, &count, &e) != 0);
	return 0;
}

/* Point 5: tags written by overlaybd-merge are read and ignored. */
static int test_lsmt_merged_tags(void)
{
	struct ovbd_seg s[3];
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_seg *out;
	struct ovbd_err e;

	s[0] = ovbd_seg_make(0, 10, 8, false, 1);
	s[1] = ovbd_seg_make(10, 5, 18, false, 2);
	s[2] = ovbd_seg_make(20, 5, 0, true, 255);
	lsmt_build(&img, s, 3, 100, 1 << 20, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(l.nsegs == 3);
	CHECK(ovbd_seg_tag(&out[0]) == 0 && ovbd_seg_tag(&out[1]) == 0 &&
	      ovbd_seg_tag(&out[2]) == 0);
	free(out);
	free(img.buf);
	return 0;
}

/* Point 2: padding entries need no room; memory follows the valid entries. */
static int test_lsmt_padding_costs_nothing(void)
{
	enum { PAD = 1 << 20, CHUNK = 4096 };
	struct ovbd_seg s[3], room[CHUNK + 3];
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_err e;
	u64 i, done;

	s[0] = ovbd_seg_make(0, 10, 8, false, 0);
	s[1] = ovbd_seg_make(10, 5, 18, false, 0);
	s[2] = ovbd_seg_make(20, 5, 0, true, 0);
	/* the valid entries last, after a megaentry of padding */
	img.size = 4096 + 100 * 512 + (u64)(PAD + 3) * 16 + 4096;
	img.buf = calloc(1, img.size);
	for (i = 0; i < PAD + 3; i++) {
		struct ovbd_seg inv = ovbd_seg_make(OVBD_LSMT_INVALID, 0, 0, false, 0);

		ovbd_lsmt_encode_entry(i >= PAD ? &s[i - PAD] : &inv,
				       img.buf + 4096 + 100 * 512 + 16 * i);
	}
	{
		struct ovbd_lsmt_hdr h = { .struct_size = 390, .flags = 7 };

		ovbd_lsmt_encode_hdr(&h, img.buf);
		h.flags = 6;
		h.index_offset = 4096 + 100 * 512;
		h.index_size = PAD + 3;
		ovbd_lsmt_encode_hdr(&h, img.buf + img.size - 4096);
	}
	CHECK(ovbd_lsmt_open(&l, img.buf, img.buf + img.size - 4096, img.size, &e) == 0);
	/* room for one chunk plus what is kept is all a caller ever needs */
	ovbd_lsmt_index_begin(&l, room, CHUNK + 3);
	for (done = 0; done < PAD + 3; done += CHUNK) {
		u64 n = PAD + 3 - done < CHUNK ? PAD + 3 - done : CHUNK;

		CHECK(ovbd_lsmt_index_feed(&l, img.buf + l.tail.index_offset + 16 * done, n, &e) == 0);
	}
	CHECK(ovbd_lsmt_index_end(&l, &e) == 0 && l.nsegs == 3);
	/* a caller that gives less room than it feeds is told so, not overrun */
	ovbd_lsmt_index_begin(&l, room, 2);
	CHECK(ovbd_lsmt_index_feed(&l, img.buf + l.tail.index_offset, 3, &e) == -ENOSPC);
	free(img.buf);
	return 0;
}

/* Issue 16: zeroed entries outside [8, data end] load, and are counted for verify. */
static int test_lsmt_zeroed_moffset(void)
{
	struct ovbd_seg s[4];
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_seg *out;
	struct ovbd_err e;

	s[0] = ovbd_seg_make(0, 10, 8, false, 0);
	s[1] = ovbd_seg_make(10, 5, 108, true, 0);	/* at the data end (100 + 8): upstream's form */
	s[2] = ovbd_seg_make(20, 5, 0, true, 0);	/* moffset 0: upstream refuses the layer */
	s[3] = ovbd_seg_make(30, 5, 5000, true, 0);	/* past the data end: refused too */
	lsmt_build(&img, s, 4, 100, 1 << 20, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == 0);
	CHECK(l.data_end == 108);
	CHECK(l.zeroed_outside == 2 && l.first_zeroed_outside == 2);
	free(out);
	free(img.buf);
	return 0;
}

static int stop_after;
static bool stop_countdown(void)
{
	return --stop_after <= 0;
}

/* Point 3: a long merge asks whether to stop, and stops cleanly when told. */
static int test_lsmt_merge_interrupt(void)
{
	enum { N = 300000 };
	struct ovbd_seg *a = malloc(N * sizeof(*a)), *b = malloc(N * sizeof(*b));
	struct ovbd_merge_src src[2] = { { a, N }, { b, N } };
	u8 scratch[256];
	struct ovbd_err e;
	u64 i, count;
	int r;

	for (i = 0; i < N; i++) {
		a[i] = ovbd_seg_make(4 * i, 2, 8, false, 0);
		b[i] = ovbd_seg_make(4 * i + 1, 2, 8, false, 0);
	}
	stop_after = 3;
	ovbd_stop_hook = stop_countdown;
	r = ovbd_lsmt_merge(src, 2, scratch, NULL, 0, &count, &e);
	ovbd_stop_hook = NULL;
	CHECK(r == -EINTR && stop_after == 0);
	CHECK(ovbd_lsmt_merge(src, 2, scratch, NULL, 0, &count, &e) == 0 && count == 2 * N);
	free(a);
	free(b);
	return 0;
}

/* Point 4: a PAX header belongs to the one entry after it. */
static int test_tar_pax_scope(void)
{
	u8 *b = calloc(1, 16384);
	u64 off, size;
	struct ovbd_err e;
	const char r2[] = "15 size=999999\n";	/* the length counts itself */
	int n = (int)strlen(r2);

	CHECK(n == 15);
	/* PAX record for a directory entry, then the directory, then the file */
	ovbd_tar_encode_header(b, "PaxHeaders/dir", (u64)n, 'x');
	memcpy(b + 512, r2, (size_t)n);
	ovbd_tar_encode_header(b + 1024, "dir/", 0, '5');
	ovbd_tar_encode_header(b + 1536, "overlaybd.commit", 4096, '0');
	CHECK(ovbd_tar_find_payload(b, 16384, 2048 + 4096 + 1024, &off, &size, &e) == 1);
	CHECK(off == 2048 && size == 4096);
	free(b);
	return 0;
}

/* Point 6: a refusal names the field, the value found and where. */
static int test_error_names_value_and_position(void)
{
	struct ovbd_seg s[3];
	struct ovbd_lsmt_layer l;
	struct lsmt_image img;
	struct ovbd_seg *out;
	struct ovbd_err e;
	char text[256];

	s[0] = ovbd_seg_make(0, 10, 8, false, 0);
	s[1] = ovbd_seg_make(500, 5, 18, false, 0);
	s[2] = ovbd_seg_make(502, 5, 30, false, 0);	/* overlaps entry 1 */
	lsmt_build(&img, s, 3, 100, 1 << 20, 6);
	CHECK(lsmt_load(&img, &l, &out, &e) == -EINVAL);
	ovbd_err_text(&e, text, sizeof(text));
	printf("#   %s\n", text);
	CHECK(!strcmp(e.field, "lsmt index entry offset") && e.value == 502 && e.where == 2);
	CHECK(strstr(text, "offset = 502, expected") && strstr(text, "(entry 2)"));
	free(out);
	free(img.buf);

	/* a corrupt block: the stored CRC is the value, the block the position */
	{
		u8 blk[64] = "some stored bytes of a block";
		struct ovbd_zfile zf = { 0 };
		u8 dst[4096];

		zf.h.algo = OVBD_ZF_ALGO_LZ4;
		zf.h.block_size = 4096;
		zf.h.verify = 1;
		zf.h.original_size = 300 * 4096;
		zf.nblocks = 300;
		zf.block_shift = 12;
		ovbd_put_le32(blk + 60, 0x12345678);
		CHECK(ovbd_zfile_decode_block(&zf, 260, blk, 64, dst, NULL, &e) == -EBADMSG);
		ovbd_err_text(&e, text, sizeof(text));
		printf("#   %s\n", text);
		CHECK(e.value == 0x12345678 && e.where == 260 && strstr(text, "(block 260)"));
	}
	/* a struct size fault in the trailer is not called a magic fault */
	s[2] = ovbd_seg_make(600, 5, 30, false, 0);
	lsmt_build(&img, s, 3, 100, 1 << 20, 6);
	ovbd_put_le32(img.buf + img.size - 4096 + 24, 9999);
	CHECK(ovbd_lsmt_open(&l, img.buf, img.buf + img.size - 4096, img.size, &e) == -EINVAL);
	CHECK(!strcmp(e.field, "lsmt trailer struct size") && e.value == 9999);
	free(img.buf);
	/* a bad tar size field names its value, the header offset its position */
	{
		u8 *t = calloc(1, 16384);

		ovbd_tar_encode_header(t, "overlaybd.commit", 5000000, '0');
		CHECK(ovbd_tar_find_payload(t, 16384, 10000, &l.file_size, &l.data_end, &e) == -EINVAL);
		ovbd_err_text(&e, text, sizeof(text));
		printf("#   %s\n", text);
		CHECK(e.value == 5000000 && e.where == 0);
		free(t);
	}
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(test_crc32c_vectors);
	TEST(test_zfile_open_good);
	TEST(test_zfile_bad_fields);
	TEST(test_zfile_bad_headers);
	TEST(test_zfile_bad_index);
	TEST(test_zfile_jump_table);
	TEST(test_zfile_decode);
	TEST(test_lsmt_index);
	TEST(test_lsmt_open_bounds);
	TEST(test_lsmt_merge_random);
	TEST(test_lsmt_merge_limits);
	TEST(test_lsmt_lookup_pieces);
	TEST(test_lsmt_lookup_joins);
	TEST(test_tar);
	TEST(test_tar_pax_scope);
	TEST(test_detect);
	TEST(test_crc32c_dispatch);
	TEST(test_lsmt_end_limit);
	TEST(test_lsmt_merge_order_check);
	TEST(test_lsmt_merged_tags);
	TEST(test_lsmt_padding_costs_nothing);
	TEST(test_lsmt_zeroed_moffset);
	TEST(test_lsmt_merge_interrupt);
	TEST(test_error_names_value_and_position);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
