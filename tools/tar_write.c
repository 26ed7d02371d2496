// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: tar wrapper as overlaybd-commit -t writes it: PAX size, ustar header, payload. */
#include "util.h"
#include "writers.h"
#include <ovbd/tar.h>

void tar_finish(int fd, u64 payload_size, const char *out_name)
{
	u8 block[OVBD_TAR_BLOCK] = { 0 }, zeros[3 * OVBD_TAR_BLOCK] = { 0 };
	char rec[64];
	u64 pad = (OVBD_TAR_BLOCK - payload_size % OVBD_TAR_BLOCK) % OVBD_TAR_BLOCK;
	int len, total = 0;

	/* "<len> size=<n>\n" where <len> counts its own digits */
	do {
		len = total;
		total = snprintf(rec, sizeof(rec), "%d size=%llu\n", len,
				 (unsigned long long)payload_size);
	} while (total != len);

	ovbd_tar_encode_header(block, "overlaybd.pax", (u64)len, 'x');
	pwrite_full(fd, block, sizeof(block), 0, out_name);
	memset(block, 0, sizeof(block));
	memcpy(block, rec, (size_t)len);
	pwrite_full(fd, block, sizeof(block), OVBD_TAR_BLOCK, out_name);
	ovbd_tar_encode_header(block, "overlaybd.commit",
			       payload_size < 077777777777ull ? payload_size : 0, '0');
	pwrite_full(fd, block, sizeof(block), 2 * OVBD_TAR_BLOCK, out_name);
	pwrite_full(fd, zeros, pad + 2 * OVBD_TAR_BLOCK, TAR_PAYLOAD_OFFSET + payload_size,
		    out_name);
}
