// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: ZFile writer with upstream's layout: header | blocks | index | trailer. */
#include "util.h"
#include "writers.h"

static u32 compress_block(const struct zfile_opts *o, const u8 *src, u32 n,
			  u8 *dst, u32 cap, const char *out_name)
{
	size_t r;

	if (o->algo == OVBD_ZF_ALGO_LZ4) {
		int c = LZ4_compress_default((const char *)src, (char *)dst, (int)n, (int)cap);

		if (c <= 0)
			die(EXIT_BAD_INPUT, "%s: lz4 compression failed", out_name);
		return (u32)c;
	}
	r = ZSTD_compress(dst, cap, src, n, 3);
	if (ZSTD_isError(r))
		die(EXIT_BAD_INPUT, "%s: zstd compression failed: %s", out_name,
		    ZSTD_getErrorName(r));
	return (u32)r;
}

u64 zfile_write(int in_fd, u64 in_size, int out_fd, u64 out_off,
		const struct zfile_opts *o, const char *out_name)
{
	u64 nblocks = (in_size + o->block_size - 1) / o->block_size, i;
	u32 bound = ovbd_zfile_stored_bound(o->algo, o->block_size, o->verify);
	u8 *src = xmalloc(o->block_size), *dst = xmalloc(bound), *index;
	struct ovbd_zfile_hdr h = { 0 };
	u8 hdr[OVBD_ZF_HDR_SIZE];
	u64 pos = OVBD_ZF_HDR_SIZE;
	char why[600];

	index = xmalloc(4 * nblocks);
	for (i = 0; i < nblocks; i++) {
		u64 left = in_size - i * o->block_size;
		u32 n = left < o->block_size ? (u32)left : o->block_size;
		u32 c;

		if (pread_all(in_fd, src, n, i * o->block_size, "input", why, sizeof(why)))
			die(EXIT_BAD_INPUT, "%s", why);
		c = compress_block(o, src, n, dst, bound - 4, out_name);
		if (o->verify) {
			ovbd_put_le32(dst + c, ovbd_crc32c(OVBD_ZF_CRC_SEED, dst, c));
			c += 4;
		}
		ovbd_put_le32(index + 4 * i, c);
		pwrite_full(out_fd, dst, c, out_off + pos, out_name);
		pos += c;
	}
	h.struct_size = OVBD_ZF_FIELDS_SIZE;
	h.block_size = o->block_size;
	h.algo = o->algo;
	h.verify = o->verify;
	h.index_offset = pos;
	h.index_size = nblocks;
	h.original_size = in_size;
	h.index_crc = ovbd_crc32c(0, index, 4 * nblocks);
	pwrite_full(out_fd, index, 4 * nblocks, out_off + pos, out_name);
	pos += 4 * nblocks;

	h.flags = OVBD_ZF_FLAG_DATA | OVBD_ZF_FLAG_SEALED | OVBD_ZF_FLAG_DIGEST;
	ovbd_zfile_encode_hdr(&h, hdr);
	pwrite_full(out_fd, hdr, sizeof(hdr), out_off + pos, out_name);
	pos += sizeof(hdr);

	if (o->overwrite_header) {
		h.flags = OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_DATA |
			  OVBD_ZF_FLAG_OVERWRITE | OVBD_ZF_FLAG_DIGEST;
	} else {		/* overlaybd-zfile: only the codec fields */
		struct ovbd_zfile_hdr t = { 0 };

		t.struct_size = h.struct_size;
		t.block_size = h.block_size;
		t.algo = h.algo;
		t.verify = h.verify;
		h = t;
		h.flags = OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_DATA | OVBD_ZF_FLAG_DIGEST;
	}
	ovbd_zfile_encode_hdr(&h, hdr);
	pwrite_full(out_fd, hdr, sizeof(hdr), out_off, out_name);
	free(src);
	free(dst);
	free(index);
	return pos;
}
