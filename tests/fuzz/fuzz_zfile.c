// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: a whole ZFile blob: header, trailer, index, then every block decoded. */
#include <ovbd/zfile.h>
#include <stdlib.h>

#define MAX_BLOCKS	64

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static ZSTD_DCtx *dctx;
	struct ovbd_zfile zf;
	struct ovbd_err e;
	u8 *out;
	void *jump;
	u64 blk;

	if (size < OVBD_ZF_HDR_SIZE)
		return 0;
	if (!dctx)
		dctx = ZSTD_createDCtx();
	if (ovbd_zfile_open(&zf, data, size >= 2 * OVBD_ZF_HDR_SIZE ?
			    data + size - OVBD_ZF_HDR_SIZE : NULL, size, &e))
		return 0;
	if (zf.nblocks > size / 4)
		__builtin_trap();	/* the index must fit in the blob */
	jump = malloc(ovbd_zfile_jump_bytes(&zf) + 1);
	ovbd_zfile_index_begin(&zf, jump);
	if (ovbd_zfile_index_feed(&zf, data + zf.h.index_offset, zf.nblocks, &e) ||
	    ovbd_zfile_index_end(&zf, &e))
		goto out;
	out = malloc(zf.h.block_size);
	for (blk = 0; blk < zf.nblocks && blk < MAX_BLOCKS; blk++) {
		u64 off;
		u32 len;

		ovbd_zfile_block_extent(&zf, blk, &off, &len);
		if (off < zf.data_offset || off + len > zf.h.index_offset || len > zf.max_stored)
			__builtin_trap();
		ovbd_zfile_decode_block(&zf, blk, data + off, len, out, dctx, &e);
	}
	free(out);
out:
	free(jump);
	return 0;
}
