/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: the device-mapper tables that map a stack of layer blobs. */
#ifndef OVBD_DMPLAN_H
#define OVBD_DMPLAN_H

#include <ovbd/lsmt.h>

#define DMPLAN_NAME_MAX		128
#define DMPLAN_TABLE_MAX	(300 * 256)

struct dm_dev_plan {
	char name[DMPLAN_NAME_MAX];
	char *table;		/* "0 <sectors> <target> <args>" */
};

/* Devices in creation order: the zfile devices, then the lsmt device NAME. */
struct dm_plan {
	unsigned int n;
	struct dm_dev_plan dev[OVBD_LSMT_MAX_LAYERS + 1];
};

/*
 * Plan the tables for layer blobs (bottom first), attached as the block
 * devices devs[] (the blob paths themselves for "ovbd table").  A single
 * standalone ZFile gives one zfile device.  Dies on bad input.
 */
void dmplan_make(struct dm_plan *p, const char *name, char **blobs, char **devs,
		 unsigned int n);
/* Name of the zfile device of layer i. */
void dmplan_zfile_name(char *out, size_t len, const char *name, unsigned int i);
void dmplan_free(struct dm_plan *p);

#endif /* OVBD_DMPLAN_H */
