// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lsmt target: up to 255 LSMT layers merged, the top layer winning.
 *
 * Table: lsmt <dev> <bytes|-> [<dev> <bytes|->]...   (layers bottom first)
 *
 * The ctr loads and merges every layer's index once. The map function
 * looks a bio's first sector up, trims the bio at the extent boundary and
 * either remaps it to the layer's device or zero-fills it: no copy, no
 * sleeping, no allocation. A large hole piece is zeroed on the module's
 * workqueue instead, so that the submitter goes on submitting while another
 * CPU clears the pages (a reader's page cache or its O_DIRECT buffer).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <ovbd/detect.h>
#include <ovbd/lsmt.h>
#include "dm-overlaybd.h"

enum { LC_READS, LC_REMAPPED, LC_ZERO_FILLED, LC_IO_ERRORS, LC_NR };

struct lsmt_layer {
	struct dm_dev *dev;
	char *bytes_arg;
	u64 blob_bytes;
	sector_t start;		/* first sector of the LSMT file in dev */
	sector_t data_end;	/* sectors of that file up to its data end */
};

/*
 * Hole pieces of at least this many sectors (bios of 128 KiB and more, as
 * readahead and large direct reads make) are zeroed on a worker; smaller
 * ones in map, as dm-zero does (0: every piece in map). bench/analysis.md
 * has the two side by side.
 */
static unsigned int lsmt_zero_work_sectors = 256;
module_param_named(zero_work_sectors, lsmt_zero_work_sectors, uint, 0644);
MODULE_PARM_DESC(zero_work_sectors,
		 "lsmt: zero-fill hole pieces of at least this many sectors on a worker (default 256; 0: always in map)");

/* One module-wide workqueue for the zero-fills, made at module load. */
static struct workqueue_struct *lsmt_wq;

struct lsmt_io {
	struct work_struct work;
	struct bio *bio;
};

struct lsmt_ctx {
	unsigned int nlayers;
	struct lsmt_layer *layers;
	struct ovbd_seg *merged;
	u64 nmerged;
	u64 vsectors;
	unsigned long features;		/* of the table's feature group (none defined yet) */
	atomic64_t ctr[LC_NR];		/* status counters */
};

/*
 * Make room for n more entries in layer l's array (*segs, *cap entries).
 * It grows with the valid entries kept, never with index_size, and stays
 * within the table's budget.
 */
static int lsmt_grow_segs(struct dm_target *ti, const char *what, struct ovbd_lsmt_layer *l,
		     struct ovbd_seg **segs, u64 n, u64 budget)
{
	u64 cap = l->cap, want = l->nsegs + n;
	struct ovbd_seg *bigger;

	if (want <= cap)
		return 0;
	cap = max3(want, 2 * cap, (u64)OVBD_READ_CHUNK / OVBD_LSMT_ENTRY_SIZE);
	cap = min(cap, l->nsegs + budget + n);
	bigger = kvmalloc_array(cap, sizeof(*bigger), OVBD_GFP_INDEX);
	if (!bigger) {
		ovbd_ti_error(ti, "%s: no memory for %llu index entries", what, cap);
		return -ENOMEM;
	}
	if (l->nsegs)
		memcpy(bigger, *segs, l->nsegs * sizeof(*bigger));
	kvfree(*segs);
	*segs = bigger;
	ovbd_lsmt_index_grow(l, bigger, cap);
	return 0;
}

/*
 * The index remaps 512-byte sectors. A layer device with larger logical
 * blocks takes only aligned bios, so every data extent of that layer (and
 * the tar payload) must be aligned to them; refuse the layer otherwise.
 */
static int lsmt_check_granularity(struct dm_target *ti, const char *what,
			     const struct lsmt_layer *layer, const struct ovbd_lsmt_layer *l)
{
	unsigned int lbs = bdev_logical_block_size(layer->dev->bdev);
	u64 mask = (lbs >> SECTOR_SHIFT) - 1, i;

	if (lbs <= SECTOR_SIZE)
		return 0;
	if (layer->start & mask) {
		ovbd_ti_error(ti, "%s: tar payload sector = %llu, expected a multiple of the device's %u-byte blocks",
			      what, (unsigned long long)layer->start, lbs);
		return -EINVAL;
	}
	for (i = 0; i < l->nsegs; i++) {
		const struct ovbd_seg *s = &l->segs[i];

		if (ovbd_seg_zeroed(s))
			continue;
		if ((ovbd_seg_offset(s) | ovbd_seg_len(s) | ovbd_seg_moffset(s)) & mask) {
			ovbd_ti_error(ti, "%s: data extent at sector %llu (moffset %llu, %u sectors) is not aligned to the device's %u-byte logical blocks",
				      what, ovbd_seg_offset(s), ovbd_seg_moffset(s), ovbd_seg_len(s), lbs);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Open layer i: its payload, header and trailer, and its validated index.
 * *used counts the valid entries of the table so far, against the budget.
 */
static int lsmt_load_layer(struct dm_target *ti, unsigned int i, struct lsmt_layer *layer,
		      struct ovbd_lsmt_layer *l, struct ovbd_seg **segs,
		      struct ovbd_reader *r, u8 *chunk, u64 *used)
{
	u64 off, size, done, per_chunk = OVBD_READ_CHUNK / OVBD_LSMT_ENTRY_SIZE;
	u64 budget = ovbd_max_index_entries;
	struct ovbd_err e = { 0 };
	char what[32];
	u8 *head = chunk;
	int ret;

	snprintf(what, sizeof(what), "lsmt layer %u", i);
	ovbd_reader_set_dev(r, layer->dev->bdev);
	ret = ovbd_find_payload(ti, r, what, layer->blob_bytes, &off, &size);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (off & (SECTOR_SIZE - 1)) {
		ovbd_ti_error(ti, "%s: tar payload offset = %llu, expected a multiple of 512",
			      what, off);
		goto out;
	}
	layer->start = off >> SECTOR_SHIFT;
	if (size < 2 * OVBD_LSMT_HDR_SIZE) {
		ovbd_ti_error(ti, "%s: lsmt file size = %llu, expected at least 8192 bytes",
			      what, size);
		goto out;
	}
	ret = ovbd_read(r, off, head, OVBD_LSMT_HDR_SIZE);
	if (!ret)
		ret = ovbd_read(r, off + size - OVBD_LSMT_HDR_SIZE, head + OVBD_LSMT_HDR_SIZE,
				OVBD_LSMT_HDR_SIZE);
	if (ret) {
		ovbd_ti_error(ti, "%s: read error %d in the header or trailer", what, ret);
		goto out;
	}
	if (ovbd_detect(head, OVBD_LSMT_HDR_SIZE) == OVBD_KIND_ZFILE) {
		ovbd_ti_error(ti, "%s: holds a ZFile: map it with a zfile target first", what);
		ret = -EINVAL;
		goto out;
	}
	ret = ovbd_lsmt_open(l, head, head + OVBD_LSMT_HDR_SIZE, size, &e);
	if (ret) {
		ovbd_ti_core_error(ti, what, &e);
		goto out;
	}
	*segs = NULL;
	ovbd_lsmt_index_begin(l, NULL, 0);
	for (done = 0; done < l->tail.index_size; done += per_chunk) {
		u64 n = min(l->tail.index_size - done, per_chunk);

		if (ovbd_should_stop()) {
			ovbd_ti_error(ti, "%s: interrupted by a fatal signal at index entry %llu",
				      what, done);
			ret = -EINTR;
			goto out;
		}
		ret = lsmt_grow_segs(ti, what, l, segs, n, budget - *used - l->nsegs);
		if (ret)
			goto out;
		ret = ovbd_read(r, off + l->tail.index_offset + done * OVBD_LSMT_ENTRY_SIZE,
				chunk, n * OVBD_LSMT_ENTRY_SIZE);
		if (ret) {
			ovbd_ti_error(ti, "%s: read error %d in the index", what, ret);
			goto out;
		}
		ret = ovbd_lsmt_index_feed(l, chunk, n, &e);
		if (ret)
			break;
		if (l->nsegs > budget - *used) {
			ovbd_ti_error(ti, "%s: index entries in the table = %llu, expected at most %lu (module parameter max_index_entries)",
				      what, *used + l->nsegs, ovbd_max_index_entries);
			ret = -E2BIG;
			goto out;
		}
	}
	if (!ret)
		ret = ovbd_lsmt_index_end(l, &e);
	if (ret)
		ovbd_ti_core_error(ti, what, &e);
	else
		ret = lsmt_check_granularity(ti, what, layer, l);
	if (!ret) {
		*used += l->nsegs;
		layer->data_end = l->data_end;
	}
out:
	return ret;
}

/* Load every layer and merge them into lc->merged. */
static int lsmt_load_stack(struct dm_target *ti, struct lsmt_ctx *lc)
{
	struct ovbd_reader r = { 0 };
	struct ovbd_merge_src *src;
	struct ovbd_lsmt_layer *l;
	struct ovbd_err e = { 0 };
	void *scratch = NULL;
	u64 used = 0;
	u8 *chunk;
	unsigned int i;
	int ret = -ENOMEM;

	src = kcalloc(lc->nlayers, sizeof(*src), GFP_KERNEL);
	l = kcalloc(1, sizeof(*l), GFP_KERNEL);
	chunk = vmalloc(OVBD_READ_CHUNK);
	scratch = kmalloc(ovbd_lsmt_merge_scratch_bytes(lc->nlayers), GFP_KERNEL);
	if (!src || !l || !chunk || !scratch) {
		ovbd_ti_error(ti, "lsmt: out of memory");
		goto out;
	}
	ret = ovbd_reader_init(&r, lc->layers[0].dev->bdev);
	if (ret) {
		ovbd_ti_error(ti, "lsmt: cannot set up reads: error %d", ret);
		goto out;
	}
	for (i = 0; i < lc->nlayers; i++) {
		struct ovbd_seg *segs = NULL;

		ret = lsmt_load_layer(ti, i, &lc->layers[i], l, &segs, &r, chunk, &used);
		src[i].segs = segs;
		src[i].n = l->nsegs;
		if (ret)
			goto out;
		if (l->tail.virtual_size)
			lc->vsectors = l->tail.virtual_size >> SECTOR_SHIFT;
	}
	ret = ovbd_lsmt_merge(src, lc->nlayers, scratch, NULL, 0, &lc->nmerged, &e);
	if (!ret) {
		lc->merged = kvmalloc_array(max_t(u64, lc->nmerged, 1), sizeof(*lc->merged),
					    OVBD_GFP_INDEX);
		if (!lc->merged) {
			ovbd_ti_error(ti, "lsmt: no memory for %llu merged entries", lc->nmerged);
			ret = -ENOMEM;
			goto out;
		}
		ret = ovbd_lsmt_merge(src, lc->nlayers, scratch, lc->merged, lc->nmerged,
				      &lc->nmerged, &e);
	}
	if (ret == -EINTR)
		ovbd_ti_error(ti, "lsmt: interrupted by a fatal signal while merging, after %llu merged entries",
			      e.value);
	else if (ret)
		ovbd_ti_core_error(ti, "lsmt merge", &e);
out:
	ovbd_reader_exit(&r);
	if (src)
		for (i = 0; i < lc->nlayers; i++)
			kvfree(src[i].segs);
	kfree(src);
	kfree(l);
	vfree(chunk);
	kfree(scratch);
	return ret;
}

static void lsmt_dtr(struct dm_target *ti)
{
	struct lsmt_ctx *lc = ti->private;
	unsigned int i;

	for (i = 0; i < lc->nlayers; i++) {
		if (lc->layers[i].dev)
			dm_put_device(ti, lc->layers[i].dev);
		kfree(lc->layers[i].bytes_arg);
	}
	kvfree(lc->merged);
	kfree(lc->layers);
	kfree(lc);
}

static int lsmt_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as;
	struct lsmt_ctx *lc;
	unsigned int i, pairs = 0;
	int ret;

	/* <dev> <bytes> pairs, then an optional feature group, which starts with a number */
	while (pairs * 2 + 1 < argc && !ovbd_arg_is_number(argv[pairs * 2]))
		pairs++;
	if (!pairs || pairs > OVBD_LSMT_MAX_LAYERS) {
		ti->error = "expected: lsmt <dev> <bytes|-> [<dev> <bytes|->]... [<#features> <feature>...] (1..255 layers)";
		return -EINVAL;
	}
	as.argc = argc - 2 * pairs;
	as.argv = argv + 2 * pairs;
	ret = ovbd_check_readonly(ti);
	if (ret)
		return ret;
	lc = kzalloc(sizeof(*lc), GFP_KERNEL);
	if (!lc) {
		ti->error = "out of memory";
		return -ENOMEM;
	}
	ti->private = lc;
	/* no feature is defined yet: the group is where the cache and verity options will go */
	ret = ovbd_parse_features(ti, &as, NULL, 0, &lc->features, "lsmt");
	if (ret)
		goto bad;
	lc->layers = kcalloc(pairs, sizeof(*lc->layers), GFP_KERNEL);
	if (!lc->layers) {
		ti->error = "out of memory";
		ret = -ENOMEM;
		goto bad;
	}
	lc->nlayers = pairs;
	for (i = 0; i < lc->nlayers; i++) {
		struct lsmt_layer *layer = &lc->layers[i];
		char what[32];

		snprintf(what, sizeof(what), "lsmt layer %u", i);
		ret = dm_get_device(ti, argv[2 * i], OVBD_MODE_READ, &layer->dev);
		if (ret) {
			ovbd_ti_error(ti, "%s: cannot open device '%s'", what, argv[2 * i]);
			goto bad;
		}
		layer->bytes_arg = kstrdup(argv[2 * i + 1], GFP_KERNEL);
		if (!layer->bytes_arg) {
			ti->error = "out of memory";
			ret = -ENOMEM;
			goto bad;
		}
		ret = ovbd_parse_blob_bytes(ti, argv[2 * i + 1], layer->dev, what,
					    &layer->blob_bytes);
		if (ret)
			goto bad;
	}
	ret = lsmt_load_stack(ti, lc);
	if (ret)
		goto bad;
	if (ti->len != lc->vsectors) {
		ovbd_ti_error(ti, "lsmt: table length = %llu sectors, expected %llu (the top virtual_size / 512)",
			      (unsigned long long)ti->len, lc->vsectors);
		ret = -EINVAL;
		goto bad;
	}
	ti->num_flush_bios = 0;
	ti->num_discard_bios = 0;
	ti->per_io_data_size = sizeof(struct lsmt_io);
	return 0;
bad:
	lsmt_dtr(ti);
	return ret;
}

static void lsmt_zero_work(struct work_struct *work)
{
	struct lsmt_io *io = container_of(work, struct lsmt_io, work);

	zero_fill_bio(io->bio);
	bio_endio(io->bio);
}

static int lsmt_map(struct dm_target *ti, struct bio *bio)
{
	struct lsmt_ctx *lc = ti->private;
	sector_t sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	unsigned int n = bio_sectors(bio), zw;
	struct ovbd_piece p;

	if (bio_op(bio) != REQ_OP_READ)
		return DM_MAPIO_KILL;
	if (!n) {
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	atomic64_inc(&lc->ctr[LC_READS]);
	ovbd_lsmt_lookup(lc->merged, lc->nmerged, sector, n, &p);
	if (p.sectors < n)
		dm_accept_partial_bio(bio, (unsigned int)p.sectors);
	if (p.kind == OVBD_PIECE_DATA) {
		struct lsmt_layer *layer = &lc->layers[p.layer];

		atomic64_inc(&lc->ctr[LC_REMAPPED]);
		bio_set_dev(bio, layer->dev->bdev);
		bio->bi_iter.bi_sector = layer->start + p.moffset;
		return DM_MAPIO_REMAPPED;
	}
	atomic64_inc(&lc->ctr[LC_ZERO_FILLED]);
	zw = READ_ONCE(lsmt_zero_work_sectors);
	if (zw && bio_sectors(bio) >= zw) {
		struct lsmt_io *io = dm_per_bio_data(bio, sizeof(*io));

		io->bio = bio;
		INIT_WORK(&io->work, lsmt_zero_work);
		queue_work(lsmt_wq, &io->work);
		return DM_MAPIO_SUBMITTED;
	}
	zero_fill_bio(bio);
	bio_endio(bio);
	return DM_MAPIO_SUBMITTED;
}

static int lsmt_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	struct lsmt_ctx *lc = ti->private;

	/*
	 * dm core fails readahead (and NOWAIT) bios sent to a suspended dm
	 * device, as a zfile layer is while ovbd swaps what lies under it:
	 * the page cache drops them and reads again, so they are no errors.
	 */
	if (*error && !(bio->bi_opf & (REQ_RAHEAD | REQ_NOWAIT))) {
		atomic64_inc(&lc->ctr[LC_IO_ERRORS]);
		DMERR_LIMIT("%s: lsmt: read error %d from a layer device",
			    dm_device_name(dm_table_get_md(ti->table)),
			    blk_status_to_errno(*error));
	}
	return DM_ENDIO_DONE;
}

static void lsmt_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct lsmt_ctx *lc = ti->private;
	unsigned int sz = 0, i;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%u %llu %llu %lld %lld %lld %lld", lc->nlayers,
		       (unsigned long long)lc->vsectors, lc->nmerged,
		       atomic64_read(&lc->ctr[LC_READS]), atomic64_read(&lc->ctr[LC_REMAPPED]),
		       atomic64_read(&lc->ctr[LC_ZERO_FILLED]), atomic64_read(&lc->ctr[LC_IO_ERRORS]));
		break;
	case STATUSTYPE_TABLE:
		for (i = 0; i < lc->nlayers; i++)
			DMEMIT("%s%s %s", i ? " " : "", lc->layers[i].dev->name,
			       lc->layers[i].bytes_arg);
		break;
	case STATUSTYPE_IMA:
		DMEMIT("target_name=%s,target_version=%u.%u.%u,layers=%u,segments=%llu;",
		       ti->type->name, ti->type->version[0], ti->type->version[1],
		       ti->type->version[2], lc->nlayers, lc->nmerged);
		break;
	}
}

static int lsmt_message(struct dm_target *ti, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	struct lsmt_ctx *lc = ti->private;

	return ovbd_counters_message(argc, argv, lc->ctr, LC_NR, "lsmt");
}

static int lsmt_iterate_devices(struct dm_target *ti, iterate_devices_callout_fn fn,
				void *data)
{
	struct lsmt_ctx *lc = ti->private;
	unsigned int i;
	int ret = 0;

	/* bios are remapped into [start, start + data_end) of each layer device */
	for (i = 0; i < lc->nlayers && !ret; i++)
		ret = fn(ti, lc->layers[i].dev, lc->layers[i].start, lc->layers[i].data_end, data);
	return ret;
}

static void lsmt_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	limits->io_min = max_t(unsigned int, limits->io_min, 4096);
}

#define LSMT_TARGET(tt_name)						\
	{								\
		.name = tt_name,					\
		.version = { 1, 1, 0 },					\
		.module = THIS_MODULE,					\
		.ctr = lsmt_ctr,					\
		.dtr = lsmt_dtr,					\
		.map = lsmt_map,					\
		.end_io = lsmt_end_io,					\
		.status = lsmt_status,					\
		.message = lsmt_message,				\
		.iterate_devices = lsmt_iterate_devices,		\
		.io_hints = lsmt_io_hints,				\
	}

struct target_type ovbd_lsmt_target = LSMT_TARGET("lsmt");
struct target_type ovbd_lsmt_alias = LSMT_TARGET("lsmt_target");

int ovbd_lsmt_init(void)
{
	lsmt_wq = alloc_workqueue("ovbd_lsmt", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	return lsmt_wq ? 0 : -ENOMEM;
}

void ovbd_lsmt_exit(void)
{
	destroy_workqueue(lsmt_wq);
}
