/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The compat shim: every difference between kernel versions is resolved
 * here from compile probes (conftest.sh -> compat-probes.h), never from
 * version numbers or distribution lists.
 */
#ifndef DM_OVERLAYBD_COMPAT_H
#define DM_OVERLAYBD_COMPAT_H

#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/dm-io.h>
#include <linux/highmem.h>
#include <linux/ioprio.h>
#include <linux/shrinker.h>
#include "compat-probes.h"

/* Open modes: blk_mode_t and BLK_OPEN_* replaced fmode_t for block devices. */
#if defined(OVBD_HAVE_BLK_MODE_T)
typedef blk_mode_t ovbd_mode_t;
#define OVBD_MODE_READ	BLK_OPEN_READ
#define OVBD_MODE_WRITE	BLK_OPEN_WRITE
#elif defined(OVBD_HAVE_FMODE_T)
typedef fmode_t ovbd_mode_t;
#define OVBD_MODE_READ	FMODE_READ
#define OVBD_MODE_WRITE	FMODE_WRITE
#else
#error "conftest: neither blk_mode_t nor fmode_t found: an unknown kernel API"
#endif

/* dm_io() gained an I/O priority argument. */
static inline int ovbd_dm_io(struct dm_io_request *req, struct dm_io_region *where)
{
#if defined(OVBD_HAVE_DM_IO_IOPRIO)
	return dm_io(req, 1, where, NULL, IOPRIO_DEFAULT);
#elif defined(OVBD_HAVE_DM_IO_NOPRIO)
	return dm_io(req, 1, where, NULL);
#else
#error "conftest: dm_io() matches neither known signature: an unknown kernel API"
#endif
}

static inline u64 ovbd_bdev_bytes(struct block_device *bdev)
{
#ifdef OVBD_HAVE_BDEV_NR_BYTES
	return bdev_nr_bytes(bdev);
#else
	return i_size_read(bdev->bd_inode);
#endif
}

/*
 * A shrinker with these callbacks, registered: allocated apart (6.7+), or
 * storage registered with a name (6.0+) or without. NULL on failure.
 */
static inline struct shrinker *
ovbd_shrinker_add(struct shrinker *storage, const char *name,
		  unsigned long (*count)(struct shrinker *, struct shrink_control *),
		  unsigned long (*scan)(struct shrinker *, struct shrink_control *))
{
#if defined(OVBD_HAVE_SHRINKER_ALLOC)
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	shrinker_register(s);
	return s;
#elif defined(OVBD_HAVE_REGISTER_SHRINKER_NAMED) || defined(OVBD_HAVE_REGISTER_SHRINKER)
	storage->count_objects = count;
	storage->scan_objects = scan;
	storage->seeks = DEFAULT_SEEKS;
#if defined(OVBD_HAVE_REGISTER_SHRINKER_NAMED)
	return register_shrinker(storage, "%s", name) ? NULL : storage;
#else
	return register_shrinker(storage) ? NULL : storage;
#endif
#else
#error "conftest: neither shrinker_alloc() nor register_shrinker() found: an unknown kernel API"
#endif
}

static inline void ovbd_shrinker_del(struct shrinker *s)
{
#if defined(OVBD_HAVE_SHRINKER_ALLOC)
	shrinker_free(s);
#else
	unregister_shrinker(s);
#endif
}

#ifndef OVBD_HAVE_BVEC_KMAP_LOCAL
static inline void *bvec_kmap_local(struct bio_vec *bv)
{
	return kmap_local_page(bv->bv_page) + bv->bv_offset;
}
#endif

#endif /* DM_OVERLAYBD_COMPAT_H */
