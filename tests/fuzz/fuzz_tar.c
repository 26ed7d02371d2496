// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: tar wrapper detection and payload lookup. */
#include <ovbd/tar.h>

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	size_t n = size < OVBD_TAR_SCAN_BYTES ? size : OVBD_TAR_SCAN_BYTES;
	struct ovbd_err e;
	u64 off, len;

	if (ovbd_tar_find_payload(data, n, size, &off, &len, &e) == 1 &&
	    (off > size || len > size - off || off % 512))
		__builtin_trap();
	return 0;
}
