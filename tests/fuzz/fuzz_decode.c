// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: one stored block; the first byte picks codec, verify and block size. */
#include <ovbd/zfile.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static ZSTD_DCtx *dctx;
	static u8 out[OVBD_ZF_BLOCK_MAX];
	struct ovbd_zfile zf;
	struct ovbd_err e;

	if (size < 2)
		return 0;
	if (!dctx)
		dctx = ZSTD_createDCtx();
	memset(&zf, 0, sizeof(zf));
	zf.h.algo = (data[0] & 1) ? OVBD_ZF_ALGO_ZSTD : OVBD_ZF_ALGO_LZ4;
	zf.h.verify = (data[0] >> 1) & 1;
	zf.block_shift = 12 + (data[0] >> 2) % 5;
	zf.h.block_size = 1u << zf.block_shift;
	zf.h.original_size = zf.h.block_size - (data[1] % 2 ? data[1] : 0);
	zf.nblocks = 1;
	zf.max_stored = ovbd_zfile_stored_bound(zf.h.algo, zf.h.block_size, zf.h.verify);
	if (size - 2 > zf.max_stored)
		return 0;
	/* out is exactly the decoded size: ASan catches any write past it */
	{
		u32 want = ovbd_zfile_block_bytes(&zf, 0);
		u8 *dst = malloc(want);

		ovbd_zfile_decode_block(&zf, 0, data + 2, (u32)(size - 2), dst, dctx, &e);
		free(dst);
	}
	(void)out;
	return 0;
}
