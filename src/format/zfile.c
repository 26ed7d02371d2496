// SPDX-License-Identifier: GPL-2.0-only
/* ZFile parsing, index jump table and block decoding. Pure: no I/O, no allocation. */
#include <ovbd/zfile.h>

static const u8 zf_magic0[8] = { 'Z', 'F', 'i', 'l', 'e', 0, 1, 0 };
static const u8 zf_magic1[16] = { 0x74, 0x75, 0x6A, 0x69, 0x2E, 0x79, 0x79, 0x66,
				  0x40, 0x41, 0x6C, 0x69, 0x62, 0x61, 0x62, 0x61 };

/* Field offsets: the layout is struct ovbd_zf_ondisk (ondisk.h). */
#define ZF_OFF(field)		OVBD_ONDISK_OFF(ovbd_zf_ondisk, field)
#define ZF_OFF_SIZE		ZF_OFF(struct_size)
#define ZF_OFF_DIGEST		ZF_OFF(digest)
#define ZF_OFF_FLAGS		ZF_OFF(flags)
#define ZF_OFF_INDEX_OFFSET	ZF_OFF(index_offset)
#define ZF_OFF_INDEX_SIZE	ZF_OFF(index_size)
#define ZF_OFF_ORIGINAL		ZF_OFF(original_size)
#define ZF_OFF_INDEX_CRC	ZF_OFF(index_crc)
#define ZF_OFF_BLOCK_SIZE	ZF_OFF(block_size)
#define ZF_OFF_ALGO		ZF_OFF(algo)
#define ZF_OFF_LEVEL		ZF_OFF(level)
#define ZF_OFF_USE_DICT		ZF_OFF(use_dict)
#define ZF_OFF_DICT_SIZE	ZF_OFF(dict_size)
#define ZF_OFF_VERIFY		ZF_OFF(verify)

bool ovbd_zfile_magic(const u8 *buf, size_t len)
{
	return len >= 24 && !memcmp(buf, zf_magic0, 8) &&
	       !memcmp(buf + 8, zf_magic1, 16);
}

static u32 zf_digest(const u8 *buf)
{
	static const u8 zero[4];
	u32 crc = ovbd_crc32c(0, buf, ZF_OFF_DIGEST);

	crc = ovbd_crc32c(crc, zero, 4);
	return ovbd_crc32c(crc, buf + ZF_OFF_DIGEST + 4,
			   OVBD_ZF_HDR_SIZE - ZF_OFF_DIGEST - 4);
}

int ovbd_zfile_decode_hdr(const u8 *b, struct ovbd_zfile_hdr *h,
			  struct ovbd_err *e)
{
	if (!ovbd_zfile_magic(b, OVBD_ZF_HDR_SIZE))
		return ovbd_fail(e, EINVAL, "zfile magic",
				 "\"ZFile\\0\\1\\0\" followed by magic1");
	h->struct_size = ovbd_get_le32(b + ZF_OFF_SIZE);
	h->digest = ovbd_get_le32(b + ZF_OFF_DIGEST);
	h->flags = ovbd_get_le64(b + ZF_OFF_FLAGS);
	h->index_offset = ovbd_get_le64(b + ZF_OFF_INDEX_OFFSET);
	h->index_size = ovbd_get_le64(b + ZF_OFF_INDEX_SIZE);
	h->original_size = ovbd_get_le64(b + ZF_OFF_ORIGINAL);
	h->index_crc = ovbd_get_le32(b + ZF_OFF_INDEX_CRC);
	h->block_size = ovbd_get_le32(b + ZF_OFF_BLOCK_SIZE);
	h->algo = b[ZF_OFF_ALGO];
	h->level = b[ZF_OFF_LEVEL];
	h->use_dict = b[ZF_OFF_USE_DICT];
	h->dict_size = ovbd_get_le32(b + ZF_OFF_DICT_SIZE);
	h->verify = b[ZF_OFF_VERIFY];

	if (h->struct_size < ZF_OFF_VERIFY + 1 ||
	    h->struct_size > OVBD_ZF_HDR_SIZE)
		return ovbd_fail_val(e, EINVAL, "zfile struct size",
				     h->struct_size, "89..512 (96)");
	if ((h->flags & OVBD_ZF_FLAG_DIGEST) && zf_digest(b) != h->digest)
		return ovbd_fail_val(e, EBADMSG, "zfile header digest",
				     h->digest, "the CRC32C of the 512-byte struct");
	if (h->flags & ~OVBD_ZF_FLAGS_KNOWN)
		return ovbd_fail_val(e, EOPNOTSUPP, "zfile flags: unknown bits",
				     h->flags & ~OVBD_ZF_FLAGS_KNOWN,
				     "only bits 0..5 (header, data, sealed, overwrite, digest, index compressed)");
	return 0;
}

void ovbd_zfile_encode_hdr(const struct ovbd_zfile_hdr *h, u8 *b)
{
	memset(b, 0, OVBD_ZF_HDR_SIZE);
	memcpy(b, zf_magic0, 8);
	memcpy(b + 8, zf_magic1, 16);
	ovbd_put_le32(b + ZF_OFF_SIZE, h->struct_size);
	ovbd_put_le64(b + ZF_OFF_FLAGS, h->flags);
	ovbd_put_le64(b + ZF_OFF_INDEX_OFFSET, h->index_offset);
	ovbd_put_le64(b + ZF_OFF_INDEX_SIZE, h->index_size);
	ovbd_put_le64(b + ZF_OFF_ORIGINAL, h->original_size);
	ovbd_put_le32(b + ZF_OFF_INDEX_CRC, h->index_crc);
	ovbd_put_le32(b + ZF_OFF_BLOCK_SIZE, h->block_size);
	b[ZF_OFF_ALGO] = h->algo;
	b[ZF_OFF_LEVEL] = h->level;
	b[ZF_OFF_USE_DICT] = h->use_dict;
	ovbd_put_le32(b + ZF_OFF_DICT_SIZE, h->dict_size);
	b[ZF_OFF_VERIFY] = h->verify;
	if (h->flags & OVBD_ZF_FLAG_DIGEST)
		ovbd_put_le32(b + ZF_OFF_DIGEST, zf_digest(b));
}

bool ovbd_zfile_needs_trailer(const u8 *head)
{
	return !(ovbd_get_le64(head + ZF_OFF_FLAGS) & OVBD_ZF_FLAG_OVERWRITE);
}

u32 ovbd_zfile_stored_bound(unsigned int algo, u32 n, bool verify)
{
	u32 bound;

	switch (algo) {
	case OVBD_ZF_ALGO_LZ4:		/* LZ4_COMPRESSBOUND */
		bound = n + n / 255 + 16;
		break;
	case OVBD_ZF_ALGO_ZSTD:		/* ZSTD_COMPRESSBOUND */
		bound = n + (n >> 8) + (n < (128u << 10) ? ((128u << 10) - n) >> 11 : 0);
		break;
	default:
		return 0;
	}
	return bound + (verify ? 4 : 0);
}

static int zf_check_fields(struct ovbd_zfile *zf, struct ovbd_err *e)
{
	const struct ovbd_zfile_hdr *h = &zf->h;
	u64 limit;

	if (h->flags & OVBD_ZF_FLAG_IDX_COMP)
		return ovbd_fail(e, EOPNOTSUPP, "zfile flags: compressed index",
				 "an uncompressed index (unsupported feature)");
	if (h->use_dict || h->dict_size)
		return ovbd_fail_val(e, EOPNOTSUPP, "zfile dict_size", h->dict_size,
				     "0: dictionaries are unsupported");
	if (h->algo == OVBD_ZF_ALGO_LZO)
		return ovbd_fail(e, EOPNOTSUPP, "zfile algo",
				 "1 (lz4) or 2 (zstd): mini-LZO is unsupported");
	if (h->algo != OVBD_ZF_ALGO_LZ4 && h->algo != OVBD_ZF_ALGO_ZSTD)
		return ovbd_fail_val(e, EINVAL, "zfile algo", h->algo,
				     "1 (lz4) or 2 (zstd)");
	if (h->block_size < OVBD_ZF_BLOCK_MIN || h->block_size > OVBD_ZF_BLOCK_MAX ||
	    (h->block_size & (h->block_size - 1)))
		return ovbd_fail_val(e, EINVAL, "zfile block_size", h->block_size,
				     "a power of two in 4096..65536");
	if (h->verify > 1)
		return ovbd_fail_val(e, EINVAL, "zfile verify", h->verify, "0 or 1");

	zf->block_shift = 0;
	while ((1u << zf->block_shift) < h->block_size)
		zf->block_shift++;
	zf->nblocks = (h->original_size >> zf->block_shift) +
		      !!(h->original_size & (h->block_size - 1));
	if (h->index_size != zf->nblocks)
		return ovbd_fail_val(e, EINVAL, "zfile index_size", h->index_size,
				     "ceil(original_file_size / block_size) entries");

	zf->data_offset = OVBD_ZF_HDR_SIZE;
	zf->max_stored = ovbd_zfile_stored_bound(h->algo, h->block_size, h->verify);

	/* The index lies after the header and before the trailer (or blob end). */
	limit = zf->blob_size;
	if (!zf->from_header)
		limit -= OVBD_ZF_HDR_SIZE;
	if (h->index_offset < zf->data_offset || h->index_offset > limit)
		return ovbd_fail_val(e, EINVAL, "zfile index_offset", h->index_offset,
				     "inside the blob, after the header");
	if (h->index_size > (limit - h->index_offset) / 4)
		return ovbd_fail_val(e, EINVAL, "zfile index_size", h->index_size,
				     "an index that ends inside the blob");
	return 0;
}

int ovbd_zfile_open(struct ovbd_zfile *zf, const u8 *head, const u8 *tail,
		    u64 blob_size, struct ovbd_err *e)
{
	struct ovbd_zfile_hdr hh;
	int ret;

	memset(zf, 0, sizeof(*zf));
	ret = ovbd_zfile_decode_hdr(head, &hh, e);
	if (ret)
		return ret;
	if (!(hh.flags & OVBD_ZF_FLAG_HEADER))
		return ovbd_fail_val(e, EINVAL, "zfile header flags", hh.flags,
				     "bit 0 (header) set");
	zf->from_header = hh.flags & OVBD_ZF_FLAG_OVERWRITE;
	if (zf->from_header) {
		zf->h = hh;
		if (!blob_size)
			blob_size = ~0ull;
	} else {
		if (blob_size < 2 * OVBD_ZF_HDR_SIZE)
			return ovbd_fail_val(e, EINVAL, "zfile size", blob_size,
					     "at least 1024 bytes (header and trailer)");
		if (!tail)
			return ovbd_fail(e, EINVAL, "zfile trailer",
					 "the last 512 bytes of the blob");
		ret = ovbd_zfile_decode_hdr(tail, &zf->h, e);
		if (ret) {
			/* name the trailer: the same checks fail in either struct */
			if (e && ret == -EBADMSG)
				e->field = "zfile trailer digest";
			else if (e && e->field && !strcmp(e->field, "zfile magic"))
				e->field = "zfile trailer magic";
			else if (e)
				e->field = "zfile trailer struct size";
			return ret;
		}
		if (zf->h.flags & OVBD_ZF_FLAG_HEADER)
			return ovbd_fail_val(e, EINVAL, "zfile trailer flags",
					     zf->h.flags, "bit 0 (header) clear");
	}
	zf->blob_size = blob_size;
	return zf_check_fields(zf, e);
}

static u64 zf_groups(u64 nblocks)
{
	return (nblocks + OVBD_ZF_GROUP - 1) >> OVBD_ZF_GROUP_SHIFT;
}

size_t ovbd_zfile_jump_bytes(const struct ovbd_zfile *zf)
{
	u64 g = zf_groups(zf->nblocks);

	return g * sizeof(u64) + g * sizeof(u32) + zf->nblocks * sizeof(u16);
}

void ovbd_zfile_index_begin(struct ovbd_zfile *zf, void *mem)
{
	u64 g = zf_groups(zf->nblocks);

	zf->group_base = mem;
	zf->group_high = (u32 *)(zf->group_base + g);
	zf->len_low = (u16 *)(zf->group_high + g);
	memset(zf->group_high, 0, g * sizeof(u32));
	zf->loaded = 0;
	zf->data_end = zf->data_offset;
	zf->crc = 0;
}

int ovbd_zfile_index_feed(struct ovbd_zfile *zf, const u8 *raw, size_t n,
			  struct ovbd_err *e)
{
	u32 min_len = zf->h.verify ? 5 : 1;
	size_t i;

	if (n > zf->nblocks - zf->loaded)
		return ovbd_fail_val(e, EINVAL, "zfile index entries", zf->loaded + n,
				     "at most index_size entries");
	for (i = 0; i < n; i++) {
		u64 blk = zf->loaded + i;
		u32 len = ovbd_get_le32(raw + 4 * i);

		if (len < min_len || len > zf->max_stored)
			return ovbd_fail_at(e, EINVAL, "zfile index entry", len,
					    "a stored length within the codec's bound (+4 with verify), above 4 with verify",
					    "block", blk);
		if (!(blk & (OVBD_ZF_GROUP - 1)))
			zf->group_base[blk >> OVBD_ZF_GROUP_SHIFT] = zf->data_end;
		zf->len_low[blk] = (u16)len;
		if (len >> 16)
			zf->group_high[blk >> OVBD_ZF_GROUP_SHIFT] |=
				1u << (blk & (OVBD_ZF_GROUP - 1));
		zf->data_end += len;
		if (zf->data_end > zf->h.index_offset)
			return ovbd_fail_at(e, EINVAL, "zfile block end", zf->data_end,
					    "at most index_offset", "block", blk);
	}
	zf->crc = ovbd_crc32c(zf->crc, raw, 4 * n);
	zf->loaded += n;
	return 0;
}

int ovbd_zfile_index_end(struct ovbd_zfile *zf, struct ovbd_err *e)
{
	if (zf->loaded != zf->nblocks)
		return ovbd_fail_val(e, EINVAL, "zfile index entries", zf->loaded,
				     "index_size entries");
	if (zf->crc != zf->h.index_crc)
		return ovbd_fail_val(e, EBADMSG, "zfile index_crc", zf->h.index_crc,
				     "the CRC32C of the raw index");
	return 0;
}

static u32 zf_stored_len(const struct ovbd_zfile *zf, u64 blk)
{
	u32 high = zf->group_high[blk >> OVBD_ZF_GROUP_SHIFT] >>
		   (blk & (OVBD_ZF_GROUP - 1));

	return zf->len_low[blk] | (high & 1) << 16;
}

void ovbd_zfile_block_extent(const struct ovbd_zfile *zf, u64 blk, u64 *off,
			     u32 *len)
{
	u64 i = blk & ~(u64)(OVBD_ZF_GROUP - 1);
	u64 pos = zf->group_base[blk >> OVBD_ZF_GROUP_SHIFT];

	for (; i < blk; i++)
		pos += zf_stored_len(zf, i);
	*off = pos;
	*len = zf_stored_len(zf, blk);
}

void ovbd_zfile_extent_at(const struct ovbd_zfile *zf, u64 blk,
			  struct ovbd_zfile_extent *x)
{
	x->blk = blk;
	ovbd_zfile_block_extent(zf, blk, &x->off, &x->len);
}

void ovbd_zfile_extent_next(const struct ovbd_zfile *zf,
			    struct ovbd_zfile_extent *x)
{
	x->off += x->len;
	x->blk++;
	x->len = zf_stored_len(zf, x->blk);
}

void ovbd_zfile_extent_seek(const struct ovbd_zfile *zf, struct ovbd_zfile_extent *x,
			    u64 blk, u64 *off, u32 *len)
{
	if (blk != x->blk)
		ovbd_zfile_extent_at(zf, blk, x);
	*off = x->off;
	*len = x->len;
	if (blk + 1 < zf->nblocks)
		ovbd_zfile_extent_next(zf, x);
}

u32 ovbd_zfile_block_bytes(const struct ovbd_zfile *zf, u64 blk)
{
	u64 start = blk << zf->block_shift;
	u64 left = zf->h.original_size - start;

	return left < zf->h.block_size ? (u32)left : zf->h.block_size;
}

int ovbd_zfile_decode_block(const struct ovbd_zfile *zf, u64 blk,
			    const u8 *src, u32 src_len, u8 *dst,
			    ovbd_zstd_dctx *dctx, struct ovbd_err *e)
{
	u32 want = ovbd_zfile_block_bytes(zf, blk);
	size_t got;

	if (zf->h.verify) {
		u32 stored;

		if (src_len <= 4)
			return ovbd_fail_at(e, EINVAL, "zfile block length", src_len,
					    "more than 4 bytes with verify", "block", blk);
		src_len -= 4;
		stored = ovbd_get_le32(src + src_len);
		if (ovbd_crc32c(OVBD_ZF_CRC_SEED, src, src_len) != stored)
			return ovbd_fail_at(e, EBADMSG, "zfile block crc", stored,
					    "the CRC32C of the stored block", "block", blk);
	}
	if (zf->h.algo == OVBD_ZF_ALGO_LZ4) {
		int r = LZ4_decompress_safe((const char *)src, (char *)dst,
					    (int)src_len, (int)want);
		got = r < 0 ? (size_t)-1 : (size_t)r;
	} else {
		got = ovbd_zstd_decompress(dctx, dst, want, src, src_len);
		if (ovbd_zstd_failed(got))
			got = (size_t)-1;
	}
	if (got == (size_t)-1)
		return ovbd_fail_at(e, EINVAL, "zfile block stream", src_len,
				    zf->h.algo == OVBD_ZF_ALGO_LZ4 ?
				    "that many bytes of one valid lz4 block" :
				    "that many bytes of one valid zstd frame", "block", blk);
	if (got != want)
		return ovbd_fail_at(e, EINVAL, "zfile block decoded size", got,
				    "the block's size: block_size, less only for the last block",
				    "block", blk);
	return 0;
}
