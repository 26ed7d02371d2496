/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: the device-mapper tables that map a stack of layer blobs. */
#ifndef OVBD_DMPLAN_H
#define OVBD_DMPLAN_H

#include <ovbd/lsmt.h>

#define DMPLAN_NAME_MAX		128
#define DMPLAN_TABLE_MAX	(300 * 256)
#define DMPLAN_SECTOR		512

struct dm_dev_plan {
	char name[DMPLAN_NAME_MAX];
	char *table;		/* "0 <sectors> <target> <args>" */
};

/* What the tables need from one layer blob, read once by dmplan_probe(). */
struct dmplan_layer {
	bool zfile, lsmt;
	u64 file_size, content_size, virtual_size;
	/*
	 * A ZFile whose trailer fields sit in the partial last sector, which
	 * a loop device drops: that sector, zero-padded.
	 */
	bool tail;
	u8 tail_sector[DMPLAN_SECTOR];
	char uuid[OVBD_LSMT_UUID_LEN + 1], parent[OVBD_LSMT_UUID_LEN + 1];
};

/* Devices in creation order: the zfile devices, then the lsmt device NAME. */
struct dm_plan {
	unsigned int nlayers;
	struct dmplan_layer layer[OVBD_LSMT_MAX_LAYERS];
	unsigned int n;
	struct dm_dev_plan dev[OVBD_LSMT_MAX_LAYERS + 1];
};

/*
 * Check NAME and the layer blobs (bottom first), opening each once, and
 * keep what the tables need. A single standalone ZFile gives one zfile
 * device. Dies on bad input, and on layers that do not chain (stack.h).
 */
void dmplan_probe(struct dm_plan *p, const char *name, char **blobs, unsigned int n);
/* The tables of NAME, for the probed layers attached as the block devices devs[]. */
void dmplan_render(struct dm_plan *p, const char *name, char **devs);
/* Name of the zfile device of layer i. */
void dmplan_zfile_name(char *out, size_t len, const char *name, unsigned int i);
void dmplan_free(struct dm_plan *p);

#endif /* OVBD_DMPLAN_H */
