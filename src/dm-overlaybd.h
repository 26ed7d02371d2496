/* SPDX-License-Identifier: GPL-2.0-only */
/* dm-overlaybd: what the two targets share. */
#ifndef DM_OVERLAYBD_H
#define DM_OVERLAYBD_H

#include <linux/device-mapper.h>
#include <ovbd/error.h>
#include "compat.h"

#define DM_MSG_PREFIX "overlaybd"

extern struct target_type ovbd_zfile_target, ovbd_zfile_alias;

/*
 * Index memory: charged to the loading task's memory cgroup, and failing
 * cleanly instead of calling the OOM killer. A table's valid LSMT index
 * entries are capped by the module parameter max_index_entries.
 */
#define OVBD_GFP_INDEX	(GFP_KERNEL | __GFP_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
extern unsigned long ovbd_max_index_entries;
extern struct target_type ovbd_lsmt_target, ovbd_lsmt_alias;
/* The lsmt target's module-wide workqueue: made at load, gone at unload. */
int ovbd_lsmt_init(void);
void ovbd_lsmt_exit(void);

/*
 * A ctr failure: log "overlaybd: <device>: <message>" and point ti->error
 * at a constant naming that line (see dm-overlaybd-main.c for why).
 */
void ovbd_ti_error(struct dm_target *ti, const char *fmt, ...) __printf(2, 3);
/* "[<what>: ]<field> = <value>, expected <range> (<at> <where>)" from a core error. */
void ovbd_ti_core_error(struct dm_target *ti, const char *what,
			const struct ovbd_err *e);

/*
 * The optional "<#features> <feature>..." group that ends a table, as
 * dm-verity's and dm-clone's do, so that the table syntax can grow
 * without breaking old tables: as holds what is left of the arguments.
 * Each feature must be one of names[0..n); bit i of *seen is set for
 * names[i]. An unknown or repeated feature, or arguments past the group,
 * is refused with ti->error set (naming the target what).
 */
int ovbd_parse_features(struct dm_target *ti, struct dm_arg_set *as, const char *const *names,
			unsigned int n, unsigned long *seen, const char *what);
/* True when arg is a plain decimal number: a <#features> count, never a <dev>. */
bool ovbd_arg_is_number(const char *arg);

/* The targets' one message, "reset_counters": zero n status counters. */
int ovbd_counters_message(unsigned int argc, char **argv, atomic64_t *ctr,
			  unsigned int n, const char *target);

/* Refuse read-write tables: both targets are read-only, as dm-verity. */
int ovbd_check_readonly(struct dm_target *ti);
/*
 * Parse "<bytes>" or "-" (the device length); 0 or -EINVAL with ti->error set.
 * The blob may end up to 511 bytes past the device (a cut partial sector).
 */
int ovbd_parse_blob_bytes(struct dm_target *ti, const char *arg,
			  struct dm_dev *dev, const char *what, u64 *bytes);
/* Sectors of the device that a blob of bytes occupies, for iterate_devices. */
sector_t ovbd_blob_sectors(struct dm_dev *dev, u64 bytes);

/*
 * Read device bytes [start, end), sector aligned, into a kvmalloc'd buffer:
 * synchronously with fn NULL, else fn(error_bits, context) on completion.
 */
int ovbd_io_read(struct dm_io_client *client, struct block_device *bdev, u64 start,
		 u64 end, void *vbuf, io_notify_fn fn, void *context);

/* Synchronous byte-granular reads of a blob, for the ctrs. */
struct ovbd_reader {
	struct dm_io_client *client;
	struct block_device *bdev;
	unsigned int lbs;		/* logical block size of bdev */
	u64 dev_bytes;
	u8 *bounce;			/* vmalloc'd, OVBD_READ_CHUNK + 2 pages */
};

#define OVBD_READ_CHUNK	(1u << 20)

int ovbd_reader_init(struct ovbd_reader *r, struct block_device *bdev);
/* Point an initialized reader at another device (the lsmt ctr's layers). */
void ovbd_reader_set_dev(struct ovbd_reader *r, struct block_device *bdev);
void ovbd_reader_exit(struct ovbd_reader *r);
/*
 * Read len (<= OVBD_READ_CHUNK) bytes at byte offset off. Bytes past the
 * device end read as zeros: a loop device drops a blob's partial last
 * sector, and the formats keep only padding there (header digests check it).
 */
int ovbd_read(struct ovbd_reader *r, u64 off, void *buf, size_t len);

/*
 * Find the tar payload of a blob of blob_bytes: off and size cover the whole blob
 * when it is not tar-wrapped. Sets ti->error (naming what) on failure.
 */
int ovbd_find_payload(struct dm_target *ti, struct ovbd_reader *r, const char *what,
		      u64 blob_bytes, u64 *off, u64 *size);

#endif /* DM_OVERLAYBD_H */
