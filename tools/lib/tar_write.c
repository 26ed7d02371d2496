// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: the tar wrapper, as upstream's overlaybd-commit --tar writes it: a
 * PAX header with the size record, a ustar header of size 0, the payload,
 * padding to 512 bytes and two zero blocks; then zero blocks to a multiple
 * of 4096 bytes (ovbd/tar.h). GNU tar, bsdtar, Python's tarfile and ovbd
 * read the size from the PAX record (tests/cli/roundtrip.sh checks all
 * four; conformance.sh cmp's upstream's bytes and the zeros after them).
 */
#include "util.h"
#include "writers.h"
#include <ovbd/tar.h>

void tar_finish(int fd, u64 payload_size, const char *out_name)
{
	u8 block[OVBD_TAR_BLOCK] = { 0 }, zeros[OVBD_TAR_ALIGN + 2 * OVBD_TAR_BLOCK] = { 0 };
	char rec[64];
	u64 end = OVBD_TAR_PAYLOAD_OFFSET + payload_size;
	int len, total = 0;

	_Static_assert(sizeof(zeros) > OVBD_TAR_BLOCK - 1 + OVBD_TAR_END_BLOCKS * OVBD_TAR_BLOCK +
		       OVBD_TAR_ALIGN - OVBD_TAR_BLOCK, "room for the largest tail");

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
	ovbd_tar_encode_header(block, "overlaybd.commit", 0, '0');
	pwrite_full(fd, block, sizeof(block), 2 * OVBD_TAR_BLOCK, out_name);
	/* padding, the end-of-archive marker and the zeros after it, at once */
	pwrite_full(fd, zeros, ovbd_tar_blob_size(payload_size) - end, end, out_name);
}
