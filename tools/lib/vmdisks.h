/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: an image handed to a VM guest as disks, mapped and verified inside
 * the guest, so that the host is not trusted. Each layer blob, and its
 * dm-verity tree, is a read-only virtio-blk disk whose serial names it
 * (PREFIX-lNNN, PREFIX-tNNN; virtio-blk serials hold 20 bytes). The guest
 * gets a disk spec, one entry per layer, bottom first, comma-separated:
 *
 *   SERIAL                                   an unverified layer
 *   SERIAL:TREE:ROOT:SALT:DBS:BLOCKS:HOFF    a verified one: the tree's disk,
 *                                            the root hash and salt (hex), the
 *                                            data block size and count and
 *                                            the tree's hash offset (bytes)
 *
 * The root hashes are the manifest's: the spec is the trust anchor, as a
 * kernel command line's root hash is; nothing on a disk is trusted.
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_VMDISKS_H
#define OVBD_VMDISKS_H

#include "vimage.h"

#define VMDISK_SERIAL_MAX	20	/* virtio-blk's VIRTIO_BLK_ID_BYTES */
#define VMDISK_PREFIX_MAX	(VMDISK_SERIAL_MAX - 5)

struct vm_disk {
	char serial[VMDISK_SERIAL_MAX + 1];
	char tree_serial[VMDISK_SERIAL_MAX + 1];	/* "" when unverified */
};

/* Serials for n layers under prefix (v: which are verified; may be NULL). */
int vmdisk_name(const char *prefix, unsigned int n, const struct layer_verity *v,
		struct vm_disk *d, char *why, size_t len);
/* The spec of n layers d (v: their verity, or NULL) into out. */
int vmdisk_spec(unsigned int n, const struct vm_disk *d, const struct layer_verity *v, char *out,
		size_t outlen, char *why, size_t len);
/* Parse spec into d[] and v[] (max entries); *n receives the layer count. */
int vmdisk_parse(const char *spec, struct vm_disk *d, struct layer_verity *v, unsigned int max,
		 unsigned int *n, char *why, size_t len);
/*
 * The disk whose virtio serial is serial (/sys/block/NAME/serial), as
 * /dev/NAME; its size must be at least min bytes.
 */
int vmdisk_find(const char *serial, unsigned long long min, char *dev, size_t devlen, char *why,
		size_t len);

#endif /* OVBD_VMDISKS_H */
