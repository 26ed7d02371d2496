/* SPDX-License-Identifier: GPL-2.0-only */
/* The tar wrapper of OCI layer blobs: find the payload of the first file entry. */
#ifndef OVBD_TAR_H
#define OVBD_TAR_H

#include "error.h"

#define OVBD_TAR_BLOCK		512
/* How much of the blob start callers pass to ovbd_tar_find_payload(). */
#define OVBD_TAR_SCAN_BYTES	16384

/* True when buf holds a ustar header block with a valid checksum. */
bool ovbd_tar_is_header(const u8 *buf, size_t len);

/*
 * Walk the headers in buf (the first len bytes of a blob of blob_size bytes)
 * up to the first regular file.  Returns 1 with its payload offset and size,
 * 0 when buf is not a tar header, or a negative error.
 */
int ovbd_tar_find_payload(const u8 *buf, size_t len, u64 blob_size,
			  u64 *offset, u64 *size, struct ovbd_err *e);

/*
 * Fill a 512-byte ustar header for name with size bytes of type typeflag,
 * byte for byte as upstream's overlaybd-commit --tar writes it: octal
 * fields right-aligned with spaces, mode 100644, uid and gid 0, owner
 * root; in a PAX header ('x') only the name, size and type. size must fit
 * 11 octal digits (below 8 GiB); upstream writes 0 for the payload entry
 * and keeps its size in the PAX record.
 */
void ovbd_tar_encode_header(u8 *buf, const char *name, u64 size, char typeflag);

#endif /* OVBD_TAR_H */
