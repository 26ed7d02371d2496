// SPDX-License-Identifier: GPL-2.0-only
/*
 * The zfile target: random-access decompression of a ZFile blob.
 *
 * Table: zfile <dev> <zfile_bytes|->
 *
 * The map function only queues read bios; workers read the compressed run
 * of a bio with one dm-io request, check each block's CRC32C and decode it
 * with the kernel's lz4 or zstd. Workers allocate nothing: every buffer
 * comes from a pool made in the ctr.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <ovbd/zfile.h>
#include "dm-overlaybd.h"

#define RUN_BYTES	(512u << 10)	/* compressed bytes read in one go */
#define READAHEAD_BYTES	(128u << 10)	/* extra compressed bytes for sequential streams */
#define MAX_WORKERS	16

enum { ZC_READS, ZC_DECODED, ZC_CRC_ERRORS, ZC_DECODE_ERRORS, ZC_IO_ERRORS, ZC_NR };

struct zfile_buf {
	struct list_head node;
	u8 *cbuf;			/* a run of compressed blocks */
	u8 *dbuf;			/* one decoded block */
	void *zstd_ws;
	zstd_dctx *dctx;
	u64 run_first, run_last;	/* blocks held in cbuf */
	u64 run_start;			/* byte offset of cbuf[0] in the device */
	u64 cached_blk;			/* block held in dbuf */
};

struct zfile_ctx {
	struct dm_target *ti;
	struct dm_dev *dev;
	char *bytes_arg;
	u64 blob_bytes;
	u64 payload_off;		/* the ZFile starts here (tar wrapper) */
	struct ovbd_zfile zf;
	void *jump;
	struct dm_io_client *io;
	unsigned int lbs;
	u64 dev_bytes;
	struct workqueue_struct *wq;

	spinlock_t lock;
	struct list_head free_bufs;
	wait_queue_head_t buf_wait;
	struct zfile_buf bufs[MAX_WORKERS];
	unsigned int nbufs;

	atomic64_t next_seq;		/* byte after the last bio: a stream continues here */
	atomic64_t ctr[ZC_NR];		/* status counters */
};

struct zfile_io {
	struct work_struct work;
	struct zfile_ctx *zc;
	struct bio *bio;
};

/*
 * A free buffer: the one whose run or decoded block holds blk if any, else
 * the least recently used, so that a stream's next bio finds its readahead.
 */
static struct zfile_buf *get_buf(struct zfile_ctx *zc, u64 blk)
{
	struct zfile_buf *b = NULL, *it;

	spin_lock(&zc->lock);
	list_for_each_entry(it, &zc->free_bufs, node) {
		if ((blk >= it->run_first && blk <= it->run_last) || blk == it->cached_blk) {
			b = it;
			break;
		}
	}
	if (!b && !list_empty(&zc->free_bufs))
		b = list_last_entry(&zc->free_bufs, struct zfile_buf, node);
	if (b)
		list_del(&b->node);
	spin_unlock(&zc->lock);
	return b;
}

static void put_buf(struct zfile_ctx *zc, struct zfile_buf *b)
{
	spin_lock(&zc->lock);
	list_add(&b->node, &zc->free_bufs);
	spin_unlock(&zc->lock);
	wake_up(&zc->buf_wait);
}

/*
 * Read the compressed run of blocks first.. (at most last) into b->cbuf;
 * with ra, also up to READAHEAD_BYTES of the blocks after last.
 */
static int read_run(struct zfile_ctx *zc, struct zfile_buf *b, u64 first, u64 last,
		    bool ra)
{
	u64 start, end, off, n, ra_end = 0;
	u32 len;
	int ret;

	ovbd_zfile_block_extent(&zc->zf, first, &off, &len);
	start = round_down(zc->payload_off + off, zc->lbs);
	end = zc->payload_off + off + len;
	for (n = first + 1; n < zc->zf.nblocks; n++) {
		ovbd_zfile_block_extent(&zc->zf, n, &off, &len);
		if (n > last && !ra_end)
			ra_end = ra ? end + READAHEAD_BYTES : end;
		if (round_up(zc->payload_off + off + len, zc->lbs) - start > RUN_BYTES ||
		    (ra_end && zc->payload_off + off + len > ra_end))
			break;
		end = zc->payload_off + off + len;
	}
	end = min(round_up(end, zc->lbs), zc->dev_bytes);
	b->run_first = b->run_last = ~0ull;
	ret = ovbd_io_read(zc->io, zc->dev->bdev, start, end, b->cbuf);
	if (ret) {
		atomic64_inc(&zc->ctr[ZC_IO_ERRORS]);
		DMERR_LIMIT("%s: zfile: read error %d at sector %llu",
			    dm_device_name(dm_table_get_md(zc->ti->table)), ret,
			    (unsigned long long)(start >> SECTOR_SHIFT));
		return -EIO;
	}
	/* a block may reach into a sector the device lacks: zeros, as in ovbd_read */
	memset(b->cbuf + (end - start), 0, zc->lbs);
	b->run_first = first;
	b->run_last = n - 1;
	b->run_start = start;
	return 0;
}

/*
 * Decode block blk into dst, or with dst NULL make b->dbuf hold it; read its
 * run (up to last, with readahead if ra) when b->cbuf lacks it.
 */
static int load_block(struct zfile_ctx *zc, struct zfile_buf *b, u64 blk, u64 last,
		      bool ra, u8 *dst)
{
	struct ovbd_err e = { 0 };
	u64 off;
	u32 len;
	int ret;

	if (!dst && blk == b->cached_blk)
		return 0;
	if (blk < b->run_first || blk > b->run_last) {
		ret = read_run(zc, b, blk, last, ra);
		if (ret)
			return ret;
	}
	ovbd_zfile_block_extent(&zc->zf, blk, &off, &len);
	if (!dst) {
		b->cached_blk = ~0ull;
		dst = b->dbuf;
	}
	ret = ovbd_zfile_decode_block(&zc->zf, blk,
				      b->cbuf + (zc->payload_off + off - b->run_start),
				      len, dst, b->dctx, &e);
	if (ret) {
		atomic64_inc(&zc->ctr[ret == -EBADMSG ? ZC_CRC_ERRORS : ZC_DECODE_ERRORS]);
		DMERR_LIMIT("%s: zfile: block %llu: %s",
			    dm_device_name(dm_table_get_md(zc->ti->table)),
			    (unsigned long long)blk,
			    ret == -EBADMSG ? "CRC32C mismatch" : "decode failed");
		return -EIO;
	}
	atomic64_inc(&zc->ctr[ZC_DECODED]);
	if (dst == b->dbuf)
		b->cached_blk = blk;
	return 0;
}

static blk_status_t read_bio(struct zfile_ctx *zc, struct zfile_buf *b, struct bio *bio)
{
	const struct ovbd_zfile *zf = &zc->zf;
	u64 pos = (u64)dm_target_offset(zc->ti, bio->bi_iter.bi_sector) << SECTOR_SHIFT;
	u64 size = zf->h.original_size;
	u64 end = pos + bio->bi_iter.bi_size;
	u64 last = (min(end, size) - 1) >> zf->block_shift;
	/* a bio that starts where the previous one ended: read ahead */
	bool ra = atomic64_xchg(&zc->next_seq, end) == pos;
	struct bvec_iter iter;
	struct bio_vec bv;
	u8 *dst;

	bio_for_each_segment(bv, bio, iter) {
		u32 done = 0;

		dst = bvec_kmap_local(&bv);
		while (done < bv.bv_len) {
			u64 blk = pos >> zf->block_shift;
			u32 in = pos & (zf->h.block_size - 1), n;

			if (pos >= size) {	/* the tail of the last sector */
				memset(dst + done, 0, bv.bv_len - done);
				break;
			}
			n = ovbd_zfile_block_bytes(zf, blk);
			if (!in && blk != b->cached_blk && bv.bv_len - done >= n) {
				/* the whole block fits: decode it in place */
				if (load_block(zc, b, blk, last, ra, dst + done))
					goto fail;
			} else {
				if (load_block(zc, b, blk, last, ra, NULL))
					goto fail;
				n = min3(n - in, bv.bv_len - done,
					 (u32)min_t(u64, size - pos, U32_MAX));
				memcpy(dst + done, b->dbuf + in, n);
			}
			done += n;
			pos += n;
		}
		kunmap_local(dst);
		/* the CPU wrote into a page-cache page: keep aliasing D-caches coherent */
		flush_dcache_page(bv.bv_page);
	}
	return BLK_STS_OK;
fail:
	kunmap_local(dst);
	return BLK_STS_IOERR;
}

static void zfile_work(struct work_struct *work)
{
	struct zfile_io *io = container_of(work, struct zfile_io, work);
	struct zfile_ctx *zc = io->zc;
	u64 pos = (u64)dm_target_offset(zc->ti, io->bio->bi_iter.bi_sector) << SECTOR_SHIFT;
	struct zfile_buf *b;

	wait_event(zc->buf_wait, (b = get_buf(zc, pos >> zc->zf.block_shift)) != NULL);
	io->bio->bi_status = read_bio(zc, b, io->bio);
	put_buf(zc, b);
	bio_endio(io->bio);
}

static int zfile_map(struct dm_target *ti, struct bio *bio)
{
	struct zfile_ctx *zc = ti->private;
	struct zfile_io *io;

	if (bio_op(bio) != REQ_OP_READ)
		return DM_MAPIO_KILL;
	if (!bio_sectors(bio)) {
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	atomic64_inc(&zc->ctr[ZC_READS]);
	io = dm_per_bio_data(bio, sizeof(*io));
	io->zc = zc;
	io->bio = bio;
	INIT_WORK(&io->work, zfile_work);
	queue_work(zc->wq, &io->work);
	return DM_MAPIO_SUBMITTED;
}

/* ---- ctr / dtr ---- */

static void free_bufs(struct zfile_ctx *zc)
{
	unsigned int i;

	for (i = 0; i < zc->nbufs; i++) {
		vfree(zc->bufs[i].cbuf);
		kvfree(zc->bufs[i].dbuf);
		kvfree(zc->bufs[i].zstd_ws);
	}
	zc->nbufs = 0;
}

static int alloc_bufs(struct zfile_ctx *zc)
{
	/* two per CPU: one decodes while the other waits for its read */
	unsigned int n = clamp_t(unsigned int, 2 * num_online_cpus(), 4, MAX_WORKERS);
	size_t ws = zc->zf.h.algo == OVBD_ZF_ALGO_ZSTD ? zstd_dctx_workspace_bound() : 0;
	size_t cbytes = max_t(size_t, RUN_BYTES, round_up(zc->zf.max_stored, zc->lbs) + zc->lbs) +
			zc->lbs;

	INIT_LIST_HEAD(&zc->free_bufs);
	for (zc->nbufs = 0; zc->nbufs < n; zc->nbufs++) {
		struct zfile_buf *b = &zc->bufs[zc->nbufs];

		b->cbuf = vmalloc(cbytes);
		b->dbuf = kvmalloc(zc->zf.h.block_size, GFP_KERNEL);
		if (ws)
			b->zstd_ws = kvmalloc(ws, GFP_KERNEL);
		if (!b->cbuf || !b->dbuf || (ws && !b->zstd_ws)) {
			zc->nbufs++;
			return -ENOMEM;
		}
		if (ws) {
			b->dctx = zstd_init_dctx(b->zstd_ws, ws);
			if (!b->dctx) {
				zc->nbufs++;
				return -ENOMEM;
			}
		}
		b->run_first = b->run_last = b->cached_blk = ~0ull;
		list_add(&b->node, &zc->free_bufs);
	}
	return 0;
}

/* Parse the header/trailer and load the index into the jump table. */
static int load_zfile(struct dm_target *ti, struct zfile_ctx *zc, struct ovbd_reader *r)
{
	u64 payload_size, done, chunk_entries = OVBD_READ_CHUNK / 4;
	struct ovbd_err e = { 0 };
	u8 *head, *tail, *chunk = NULL;
	int ret;

	ret = ovbd_find_payload(ti, r, "zfile", zc->blob_bytes, &zc->payload_off,
				&payload_size);
	if (ret)
		return ret;
	head = kzalloc(2 * OVBD_ZF_HDR_SIZE, GFP_KERNEL);
	if (!head)
		return -ENOMEM;
	tail = head + OVBD_ZF_HDR_SIZE;
	ret = -EINVAL;
	if (payload_size < OVBD_ZF_HDR_SIZE) {
		ovbd_ti_error(ti, "zfile: blob size = %llu bytes, expected at least the 512-byte header",
			      payload_size);
		goto out;
	}
	ret = ovbd_read(r, zc->payload_off, head, OVBD_ZF_HDR_SIZE);
	if (!ret && ovbd_zfile_needs_trailer(head) && payload_size >= 2 * OVBD_ZF_HDR_SIZE)
		ret = ovbd_read(r, zc->payload_off + payload_size - OVBD_ZF_HDR_SIZE, tail,
				OVBD_ZF_HDR_SIZE);
	if (ret) {
		ovbd_ti_error(ti, "zfile: read error %d in the header or trailer", ret);
		goto out;
	}
	ret = ovbd_zfile_open(&zc->zf, head, tail, payload_size, &e);
	if (ret) {
		ovbd_ti_core_error(ti, NULL, &e);
		goto out;
	}
	zc->jump = kvmalloc(ovbd_zfile_jump_bytes(&zc->zf), OVBD_GFP_INDEX);
	if (!zc->jump) {
		ovbd_ti_error(ti, "zfile: no memory for the index of %llu blocks",
			      zc->zf.nblocks);
		ret = -ENOMEM;
		goto out;
	}
	chunk = vmalloc(OVBD_READ_CHUNK);
	ret = -ENOMEM;
	if (!chunk) {
		ovbd_ti_error(ti, "zfile: out of memory");
		goto out;
	}
	ovbd_zfile_index_begin(&zc->zf, zc->jump);
	ret = 0;
	for (done = 0; done < zc->zf.nblocks; done += chunk_entries) {
		u64 n = min(zc->zf.nblocks - done, chunk_entries);

		if (ovbd_should_stop()) {
			ovbd_ti_error(ti, "zfile: interrupted by a fatal signal at index entry %llu",
				      done);
			ret = -EINTR;
			goto out;
		}
		ret = ovbd_read(r, zc->payload_off + zc->zf.h.index_offset + 4 * done,
				chunk, 4 * n);
		if (ret) {
			ovbd_ti_error(ti, "zfile: read error %d in the index", ret);
			goto out;
		}
		ret = ovbd_zfile_index_feed(&zc->zf, chunk, n, &e);
		if (ret)
			break;
	}
	if (!ret)
		ret = ovbd_zfile_index_end(&zc->zf, &e);
	if (ret)
		ovbd_ti_core_error(ti, NULL, &e);
out:
	vfree(chunk);
	kfree(head);
	return ret;
}

static void zfile_dtr(struct dm_target *ti)
{
	struct zfile_ctx *zc = ti->private;

	if (zc->wq)
		destroy_workqueue(zc->wq);
	free_bufs(zc);
	kvfree(zc->jump);
	if (zc->io)
		dm_io_client_destroy(zc->io);
	if (zc->dev)
		dm_put_device(ti, zc->dev);
	kfree(zc->bytes_arg);
	kfree(zc);
}

static int zfile_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct ovbd_reader r = { 0 };
	struct zfile_ctx *zc;
	u64 sectors;
	int ret;

	if (argc != 2) {
		ti->error = "expected: zfile <dev> <zfile_bytes|->";
		return -EINVAL;
	}
	ret = ovbd_check_readonly(ti);
	if (ret)
		return ret;
	zc = kzalloc(sizeof(*zc), GFP_KERNEL);
	if (!zc) {
		ti->error = "out of memory";
		return -ENOMEM;
	}
	ti->private = zc;
	zc->ti = ti;
	spin_lock_init(&zc->lock);
	init_waitqueue_head(&zc->buf_wait);

	ret = dm_get_device(ti, argv[0], OVBD_MODE_READ, &zc->dev);
	if (ret) {
		ovbd_ti_error(ti, "zfile: cannot open device '%s'", argv[0]);
		goto bad;
	}
	zc->bytes_arg = kstrdup(argv[1], GFP_KERNEL);
	ret = -ENOMEM;
	if (!zc->bytes_arg)
		goto bad;
	ret = ovbd_parse_blob_bytes(ti, argv[1], zc->dev, "zfile", &zc->blob_bytes);
	if (ret)
		goto bad;
	ret = ovbd_reader_init(&r, zc->dev->bdev);
	if (ret) {
		ti->error = "zfile: cannot set up reads";
		goto bad;
	}
	zc->lbs = r.lbs;
	zc->dev_bytes = r.dev_bytes;
	ret = load_zfile(ti, zc, &r);
	ovbd_reader_exit(&r);
	if (ret)
		goto bad;

	sectors = DIV_ROUND_UP(zc->zf.h.original_size, SECTOR_SIZE);
	if (ti->len != sectors) {
		ovbd_ti_error(ti, "zfile: table length = %llu sectors, expected %llu (original_file_size %llu bytes, rounded up)",
			      (unsigned long long)ti->len, sectors, zc->zf.h.original_size);
		ret = -EINVAL;
		goto bad;
	}
	zc->io = dm_io_client_create();
	if (IS_ERR(zc->io)) {
		ret = PTR_ERR(zc->io);
		zc->io = NULL;
		ti->error = "zfile: cannot create a dm-io client";
		goto bad;
	}
	ret = alloc_bufs(zc);
	if (ret) {
		ti->error = "zfile: no memory for the decode buffers";
		goto bad;
	}
	zc->wq = alloc_workqueue("ovbd_zfile", WQ_MEM_RECLAIM | WQ_UNBOUND, zc->nbufs);
	if (!zc->wq) {
		ti->error = "zfile: cannot create the workqueue";
		ret = -ENOMEM;
		goto bad;
	}
	ti->per_io_data_size = sizeof(struct zfile_io);
	ti->num_flush_bios = 0;
	ti->num_discard_bios = 0;
	return 0;
bad:
	zfile_dtr(ti);
	return ret;
}

static void zfile_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct zfile_ctx *zc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%s %u %llu %lld %lld %lld %lld %lld",
		       zc->zf.h.algo == OVBD_ZF_ALGO_LZ4 ? "lz4" : "zstd",
		       zc->zf.h.block_size, zc->zf.nblocks,
		       atomic64_read(&zc->ctr[ZC_READS]), atomic64_read(&zc->ctr[ZC_DECODED]),
		       atomic64_read(&zc->ctr[ZC_CRC_ERRORS]),
		       atomic64_read(&zc->ctr[ZC_DECODE_ERRORS]),
		       atomic64_read(&zc->ctr[ZC_IO_ERRORS]));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", zc->dev->name, zc->bytes_arg);
		break;
	case STATUSTYPE_IMA:
		DMEMIT("target_name=%s,target_version=%u.%u.%u,dev=%s,algo=%u,block_size=%u;",
		       ti->type->name, ti->type->version[0], ti->type->version[1],
		       ti->type->version[2], zc->dev->name, zc->zf.h.algo,
		       zc->zf.h.block_size);
		break;
	}
}

static int zfile_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct zfile_ctx *zc = ti->private;

	return ovbd_counters_message(argc, argv, zc->ctr, ZC_NR, "zfile");
}

static int zfile_iterate_devices(struct dm_target *ti, iterate_devices_callout_fn fn,
				 void *data)
{
	struct zfile_ctx *zc = ti->private;

	return fn(ti, zc->dev, 0, ovbd_blob_sectors(zc->dev, zc->blob_bytes), data);
}

static void zfile_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct zfile_ctx *zc = ti->private;

	/* reads are decoded byte-wise: any 512-byte sector is addressable */
	limits->logical_block_size = SECTOR_SIZE;
	limits->io_min = max_t(unsigned int, limits->io_min, zc->zf.h.block_size);
	limits->io_opt = max_t(unsigned int, limits->io_opt, zc->zf.h.block_size);
}

#define ZFILE_TARGET(tt_name)						\
	{								\
		.name = tt_name,					\
		.version = { 1, 0, 0 },					\
		.module = THIS_MODULE,					\
		.ctr = zfile_ctr,					\
		.dtr = zfile_dtr,					\
		.map = zfile_map,					\
		.status = zfile_status,					\
		.message = zfile_message,				\
		.iterate_devices = zfile_iterate_devices,		\
		.io_hints = zfile_io_hints,				\
	}

struct target_type ovbd_zfile_target = ZFILE_TARGET("zfile");
struct target_type ovbd_zfile_alias = ZFILE_TARGET("zfile_target");
