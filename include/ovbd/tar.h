/* SPDX-License-Identifier: GPL-2.0-only */
/* The tar wrapper of OCI layer blobs: find the payload of the first file entry. */
#ifndef OVBD_TAR_H
#define OVBD_TAR_H

#include "error.h"

#define OVBD_TAR_BLOCK		512
/*
 * The wrapper ovbd writes, as upstream's overlaybd-commit --tar does: a PAX
 * header and its record block, the payload's ustar header, the payload at
 * OVBD_TAR_PAYLOAD_OFFSET, zeros to a whole block, then two zero blocks
 * (the end-of-archive marker). Unlike upstream's, more zero blocks follow,
 * up to a multiple of OVBD_TAR_ALIGN bytes (tar readers stop at the marker;
 * GNU tar pads its archives to 10240-byte records the same way), so that
 * dm-verity can cover a ZFile blob with 4096-byte data blocks.
 */
#define OVBD_TAR_PAYLOAD_OFFSET	(3 * OVBD_TAR_BLOCK)
#define OVBD_TAR_END_BLOCKS	2
#define OVBD_TAR_ALIGN		4096

/* Bytes of zeros after a payload of payload_size bytes, to a whole block. */
static inline u64 ovbd_tar_pad(u64 payload_size)
{
	return (OVBD_TAR_BLOCK - payload_size % OVBD_TAR_BLOCK) % OVBD_TAR_BLOCK;
}

/* The size of the blob that ovbd writes around a payload of payload_size bytes. */
static inline u64 ovbd_tar_blob_size(u64 payload_size)
{
	u64 end = OVBD_TAR_PAYLOAD_OFFSET + payload_size + ovbd_tar_pad(payload_size) +
		  OVBD_TAR_END_BLOCKS * OVBD_TAR_BLOCK;

	return end + (OVBD_TAR_ALIGN - end % OVBD_TAR_ALIGN) % OVBD_TAR_ALIGN;
}

/* How much of the blob start callers pass to ovbd_tar_find_payload(). */
#define OVBD_TAR_SCAN_BYTES	16384

/* True when buf holds a ustar header block with a valid checksum. */
bool ovbd_tar_is_header(const u8 *buf, size_t len);

/*
 * Walk the headers in buf (the first len bytes of a blob of blob_size bytes)
 * up to the first regular file that holds data.  Returns 1 with its payload
 * offset and size, 0 when buf is not a tar header, or a negative error. The
 * rules are libarchive's, checked against it by tests/cli/tardiff.sh:
 * ustar, GNU and v7 headers; PAX 'x' records (size=) for the next entry;
 * directories, links, devices, GNU long names, global headers and empty
 * files skipped; a GNU sparse file refused.
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
