// SPDX-License-Identifier: GPL-2.0-only
/*
 * The zfile target: random-access decompression of a ZFile blob.
 *
 * Table: zfile <dev> <zfile_bytes|->
 *
 * The map function only queues read bios; workers read the compressed run
 * of a bio with one dm-io request, check each block's CRC32C and decode it
 * with the kernel's lz4 or zstd. Workers allocate nothing.
 *
 * A sequential stream has its next run read ahead (module parameter
 * seq_prefetch): while a worker decodes the run in a slot's first buffer,
 * an asynchronous dm-io request fills its second buffer with the run that
 * follows, and the worker swaps the two when it gets there. Each device
 * counts its prefetches in flight; suspend and the dtr wait for them.
 *
 * Memory is sized by CPUs, not by devices (as EROFS's global buffers):
 * one module-wide pool of run slots (two 512 KiB run buffers, a 64 KiB
 * decode buffer and, once a zstd device exists, a zstd context each), zstd
 * decoders, and one workqueue, made for the first zfile device and freed
 * with the last. Each device adds only its jump table and a reserve of one
 * stored and one decoded block. The reserve guarantees progress when zfile
 * devices are stacked (through a loop device on a file system on another
 * zfile device, say): a worker holding a slot may wait for a lower
 * device's read, and that read can always go ahead on its own device's
 * reserve. Bios wait on their device's list, not in workers, until a slot
 * or the reserve is free; decoders are never held across I/O.
 *
 * A random read (a bio within one block that does not continue a stream)
 * takes no slot (module parameter direct_reads): the map function copies
 * it out of the decoded-block cache, or sends one read of the stored block
 * into a buffer of its own, and a worker decodes it when that read
 * completes. No worker waits for a read, and reads in flight scale with
 * the queue depth, not with slots. Its buffer and bio are taken without
 * reclaim (GFP_NOWAIT); when memory is short the bio takes the slot path,
 * whose reserve guarantees progress, so no read fails or waits for memory.
 */
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <ovbd/zfile.h>
#include "dm-overlaybd.h"

/*
 * A pool slot's run buffers are RUN_BUF_BYTES each, a power of two, so that
 * kvmalloc() takes no more than that (a kmalloc of 512 KiB + 3 pages is
 * served from 1 MiB); a run reads at most RUN_BYTES compressed bytes of it,
 * which leaves room for its alignment and the zeroed tail (lbs <= PAGE_SIZE).
 */
#define RUN_BUF_BYTES	(512u << 10)
#define RUN_BYTES	(RUN_BUF_BYTES - 3 * PAGE_SIZE)	/* compressed bytes read in one go */
/* a run always holds its first block: the largest stored one, with its alignment */
static_assert(RUN_BYTES >= 2 * OVBD_ZF_BLOCK_MAX);
#define READAHEAD_BYTES	(128u << 10)	/* extra compressed bytes for sequential streams */
#define MAX_SLOTS	32
/* a direct read's buffer (stored block, alignment, zero tail, decoded block) at most */
#define DIRECT_BUF_MAX	(64u << 10)

static bool zfile_direct_reads = true;
module_param_named(direct_reads, zfile_direct_reads, bool, 0644);
MODULE_PARM_DESC(direct_reads,
		 "zfile: read a bio within one block (a random read) asynchronously, with no pool slot (default Y)");

static bool zfile_seq_prefetch = true;
module_param_named(seq_prefetch, zfile_seq_prefetch, bool, 0644);
MODULE_PARM_DESC(seq_prefetch,
		 "zfile: read the next compressed run of a sequential stream while decoding the current one (default Y)");

enum {
	ZC_READS, ZC_DECODED, ZC_CRC_ERRORS, ZC_DECODE_ERRORS, ZC_IO_ERRORS,
	ZC_PREFETCH_HITS,	/* runs decoded from a completed prefetch */
	ZC_CACHE_HITS, ZC_CACHE_MISSES, ZC_CACHE_EVICTIONS,	/* the decoded-block cache */
	ZC_DIRECT,		/* bios served with no slot: a cache hit in map, or a direct read */
	ZC_NR
};

/* A run of compressed blocks in a buffer, read whole from the device. */
struct zfile_run {
	u8 *buf;
	u64 first, last;		/* the blocks it holds; ~0ull: none */
	u64 start, end;			/* the device bytes read into buf[0..] */
};

/* A buffer set: a run slot of the pool, or a device's reserve. */
struct zfile_buf {
	struct list_head node;
	struct zfile_run run;		/* the run decoded from */
	u32 cap;			/* bytes a run may span in a run buffer */
	u8 *dbuf;			/* one decoded block */
	zstd_dctx *dctx;		/* a slot's own; NULL in a reserve: borrow a decoder */
	void *zstd_ws;
	bool reserve;
	u64 owner;			/* device whose blocks the caches below hold */
	u64 cached_blk;			/* block held in dbuf */
	struct ovbd_zfile_extent next;	/* cursor for ovbd_zfile_extent_seek() */
	/* a slot's prefetch (a reserve has none: pf.buf NULL): the run after run's */
	struct zfile_run pf;
	bool pf_issued;			/* pf holds its blocks once pf_done completes */
	unsigned long pf_error;		/* dm-io's error bits of the prefetch */
	u64 pf_owner;			/* device whose run pf holds */
	struct zfile_ctx *pf_zc;	/* pf_owner's context, until pf_done completes */
	struct completion pf_done;
};

struct zfile_dec {
	struct list_head node;
	void *ws;
	zstd_dctx *dctx;
};

struct zfile_ctx;

/* The module-wide pool: see the comment at the top. */
static struct {
	struct mutex lock;		/* users, creation, growth */
	unsigned int users;
	bool zstd;			/* zstd contexts allocated */
	spinlock_t slock;		/* everything below */
	struct list_head free;		/* free slots, most recently used first */
	struct list_head waiting;	/* devices with bios waiting for a buffer */
	struct list_head decoders;	/* free zstd decoders */
	wait_queue_head_t dec_wait;
	struct zfile_buf slots[MAX_SLOTS];
	unsigned int nslots;
	struct zfile_dec decs[MAX_SLOTS];
	unsigned int ndecs;
	struct workqueue_struct *wq;
	u64 next_id;
	wait_queue_head_t pf_wait;	/* a device's last prefetch in flight ended */
	struct bio_set bios;		/* direct reads' bios */
} zfile_pool = {
	.lock = __MUTEX_INITIALIZER(zfile_pool.lock),
	.slock = __SPIN_LOCK_UNLOCKED(zfile_pool.slock),
	.free = LIST_HEAD_INIT(zfile_pool.free),
	.waiting = LIST_HEAD_INIT(zfile_pool.waiting),
	.decoders = LIST_HEAD_INIT(zfile_pool.decoders),
	.dec_wait = __WAIT_QUEUE_HEAD_INITIALIZER(zfile_pool.dec_wait),
	.pf_wait = __WAIT_QUEUE_HEAD_INITIALIZER(zfile_pool.pf_wait),
};

/* The table's optional features: zfile <dev> <bytes|-> [<#features> <feature>...] */
enum { ZFILE_F_NO_PREFETCH, ZFILE_F_NR };
static const char *const zfile_feature_names[ZFILE_F_NR] = {
	[ZFILE_F_NO_PREFETCH] = "no_prefetch",	/* no read-ahead of runs, whatever seq_prefetch says */
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
	u64 id;				/* owner tag of pool caches */
	bool zstd;
	unsigned long features;		/* BIT(ZFILE_F_*) of the table's feature group */

	/* under zfile_pool.slock */
	struct bio_list pending;	/* bios waiting for a buffer */
	struct list_head wait_node;	/* on zfile_pool.waiting while pending */
	bool reserve_busy;
	struct zfile_buf reserve;

	atomic64_t next_seq;		/* byte after the last bio: a stream continues here */
	atomic_t pf_inflight;		/* prefetches of this device not yet ended */
	atomic64_t ctr[ZC_NR];		/* status counters */
};

struct zfile_io {
	struct work_struct work;
	struct zfile_ctx *zc;
	struct bio *bio;
	struct zfile_buf *buf;		/* the slot path's buffer set */
	bool ra;			/* the bio continues the device's stream: read ahead */
	/* a direct read (zfile_direct_read()) */
	bool in_place;			/* the bio's one page segment is the whole block: decode there */
	blk_status_t status;		/* of the stored block's read */
	u8 *dbuf;			/* device bytes [start, end), a zero tail, the decoded block */
	u64 blk, start, end;
	u32 src, len;			/* the stored block: dbuf[src..src + len) */
	u32 in;				/* the bio's first byte in the block */
	u32 dec;			/* the decoded block: dbuf + dec, unless in_place */
	u32 dsize;			/* dbuf's size (zfile_dbuf_get()) */
};

/*
 * ---- the decoded-block cache
 *
 * Decoded blocks, kept per zfile device (so that every lsmt device above a
 * shared zfile part shares them), in one module-wide table and LRU list,
 * bounded by the module parameter cache_mb (a total across devices) and
 * given back under memory pressure by a shrinker. Only a block whose CRC
 * and decode succeeded goes in. An entry is allocated without reclaim
 * (GFP_NOWAIT), in the worker after its decode: when that fails, the block
 * is just not cached, and reads go on as without a cache. cache_mb=0
 * turns it off: no lookup, no entry, reads exactly as before.
 * Why not dm-bufio: see the README ("The decoded-block cache").
 */
static unsigned int zfile_cache_mb = 64;
module_param_named(cache_mb, zfile_cache_mb, uint, 0644);
MODULE_PARM_DESC(cache_mb,
		 "zfile: decoded blocks kept in memory, in MiB, a total across devices (default 64; 0: off)");

#define ZCACHE_HASH_BITS	12
/*
 * No reclaim from the worker, no warning; and reclaimable, as the shrinker
 * makes it: blocks up to 8 KiB come from the kmalloc-rcl caches, which
 * /proc/meminfo counts under SReclaimable, not SUnreclaim.
 */
#define ZCACHE_GFP	(GFP_NOWAIT | __GFP_NOWARN | __GFP_RECLAIMABLE)

struct zcache_ent {
	struct hlist_node hnode;
	struct list_head lru;		/* zcache.lru: most recently used first */
	struct zfile_ctx *zc;		/* its device: entries go before the device does */
	u64 blk;
	refcount_t ref;			/* the table's, plus readers copying out of data */
	u32 len;
	u8 *data;			/* kmalloc'd apart: a power-of-two block fills its slab object */
};

static struct {
	spinlock_t lock;
	DECLARE_HASHTABLE(tab, ZCACHE_HASH_BITS);
	struct list_head lru;
	unsigned long entries;
	u64 bytes;
	struct shrinker *shrinker;
	struct shrinker storage;	/* for kernels that register a caller's shrinker */
} zcache = {
	.lock = __SPIN_LOCK_UNLOCKED(zcache.lock),
	.lru = LIST_HEAD_INIT(zcache.lru),
};

static u64 zcache_key(const struct zfile_ctx *zc, u64 blk)
{
	return zc->id * 0x9e3779b97f4a7c15ull ^ blk;
}

static void zcache_put(struct zcache_ent *e)
{
	if (refcount_dec_and_test(&e->ref)) {
		kfree(e->data);
		kfree(e);
	}
}

/* Unlink e (under zcache.lock); the caller puts the table's reference. */
static void zcache_unlink(struct zcache_ent *e)
{
	hash_del(&e->hnode);
	list_del(&e->lru);
	zcache.entries--;
	zcache.bytes -= e->len;
}

/* Evict least recently used entries (under zcache.lock) onto out, until bytes <= limit or nr done. */
static unsigned long zcache_evict(u64 limit, unsigned long nr, struct list_head *out)
{
	unsigned long n = 0;

	while (zcache.bytes > limit && n < nr && !list_empty(&zcache.lru)) {
		struct zcache_ent *e = list_last_entry(&zcache.lru, struct zcache_ent, lru);

		zcache_unlink(e);
		atomic64_inc(&e->zc->ctr[ZC_CACHE_EVICTIONS]);
		list_add(&e->lru, out);
		n++;
	}
	return n;
}

static void zcache_free_list(struct list_head *l)
{
	struct zcache_ent *e, *t;

	list_for_each_entry_safe(e, t, l, lru)
		zcache_put(e);
}

static struct zcache_ent *zcache_find(const struct zfile_ctx *zc, u64 blk)
{
	struct zcache_ent *e;

	hash_for_each_possible(zcache.tab, e, hnode, zcache_key(zc, blk))
		if (e->zc == zc && e->blk == blk)
			return e;
	return NULL;
}

/* zc's decoded block blk with a reference held, if the cache has it (counted). */
static struct zcache_ent *zcache_get(struct zfile_ctx *zc, u64 blk)
{
	struct zcache_ent *e;

	if (!READ_ONCE(zfile_cache_mb))
		return NULL;
	spin_lock(&zcache.lock);
	e = zcache_find(zc, blk);
	if (e) {
		refcount_inc(&e->ref);
		list_move(&e->lru, &zcache.lru);
	}
	spin_unlock(&zcache.lock);
	atomic64_inc(&zc->ctr[e ? ZC_CACHE_HITS : ZC_CACHE_MISSES]);
	return e;	/* entries never change: read e->data with no lock */
}

/* Copy n bytes at in of zc's decoded block blk into dst, if the cache has it. */
static bool zcache_copy(struct zfile_ctx *zc, u64 blk, u32 in, u8 *dst, u32 n)
{
	struct zcache_ent *e = zcache_get(zc, blk);

	if (!e)
		return false;
	memcpy(dst, e->data + in, n);
	zcache_put(e);
	return true;
}

/*
 * Keep a copy of zc's block blk, just decoded into src (len bytes); best
 * effort. A sequential stream's block (seq) is not let in once the cache is
 * full: a scan larger than the cache would only evict blocks that other
 * readers may want again, and pay a copy and an eviction per block for it.
 */
static void zcache_insert(struct zfile_ctx *zc, u64 blk, const u8 *src, u32 len, bool seq)
{
	u64 limit = (u64)READ_ONCE(zfile_cache_mb) << 20;
	struct zcache_ent *e;
	LIST_HEAD(out);

	if (!limit || len > limit || (seq && READ_ONCE(zcache.bytes) + len > limit))
		return;
	/*
	 * A full cache recycles its least recently used entry when no reader
	 * holds it and its block has this one's size: no free and allocation
	 * per insert, so no page to clear (init_on_alloc) and no slab churn.
	 */
	e = NULL;
	if (READ_ONCE(zcache.bytes) + len > limit) {
		spin_lock(&zcache.lock);
		if (zcache.bytes + len > limit && !list_empty(&zcache.lru)) {
			struct zcache_ent *old = list_last_entry(&zcache.lru, struct zcache_ent, lru);

			if (old->len == len && refcount_read(&old->ref) == 1) {
				zcache_unlink(old);	/* found by no one now: ours alone */
				atomic64_inc(&old->zc->ctr[ZC_CACHE_EVICTIONS]);
				e = old;
			}
		}
		spin_unlock(&zcache.lock);
	}
	if (!e) {
		e = kmalloc(sizeof(*e), ZCACHE_GFP);
		if (!e)
			return;
		e->data = kmalloc(len, ZCACHE_GFP);
		if (!e->data) {
			kfree(e);
			return;
		}
	}
	e->zc = zc;
	e->blk = blk;
	e->len = len;
	refcount_set(&e->ref, 1);
	memcpy(e->data, src, len);
	spin_lock(&zcache.lock);
	if (zcache_find(zc, blk)) {	/* another worker decoded it too */
		spin_unlock(&zcache.lock);
		zcache_put(e);
		return;
	}
	hash_add(zcache.tab, &e->hnode, zcache_key(zc, blk));
	list_add(&e->lru, &zcache.lru);
	zcache.entries++;
	zcache.bytes += len;
	zcache_evict(limit, ULONG_MAX, &out);	/* the limit may have been lowered */
	spin_unlock(&zcache.lock);
	zcache_free_list(&out);
}

/* Drop every entry of zc: its dtr, when no I/O is left. */
static void zcache_drop(struct zfile_ctx *zc)
{
	struct zcache_ent *e, *t;
	LIST_HEAD(out);

	spin_lock(&zcache.lock);
	list_for_each_entry_safe(e, t, &zcache.lru, lru)
		if (e->zc == zc) {
			zcache_unlink(e);
			list_add(&e->lru, &out);
		}
	spin_unlock(&zcache.lock);
	zcache_free_list(&out);
}

static unsigned long zcache_count(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long n = READ_ONCE(zcache.entries);

	return n ? n : SHRINK_EMPTY;
}

static unsigned long zcache_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long n;
	LIST_HEAD(out);

	spin_lock(&zcache.lock);
	n = zcache_evict(0, sc->nr_to_scan, &out);
	spin_unlock(&zcache.lock);
	zcache_free_list(&out);
	return n ? n : SHRINK_STOP;
}

static bool zfile_run_has(const struct zfile_run *r, u64 blk)
{
	return blk >= r->first && blk <= r->last;
}

static u64 zfile_bio_block(struct zfile_ctx *zc, struct bio *bio)
{
	return ((u64)dm_target_offset(zc->ti, bio->bi_iter.bi_sector) << SECTOR_SHIFT) >>
	       zc->zf.block_shift;
}

/*
 * A free buffer for zc's bio at blk, under zfile_pool.slock: the slot whose run
 * or decoded block holds blk if any, else the least recently used slot,
 * else zc's reserve; NULL when none is free.
 */
static struct zfile_buf *zfile_take_buf(struct zfile_ctx *zc, u64 blk)
{
	struct zfile_buf *b = NULL, *it;

	list_for_each_entry(it, &zfile_pool.free, node) {
		if ((it->owner == zc->id &&
		     (zfile_run_has(&it->run, blk) || blk == it->cached_blk)) ||
		    (it->pf_owner == zc->id && it->pf_issued && zfile_run_has(&it->pf, blk))) {
			b = it;
			break;
		}
	}
	if (!b && !list_empty(&zfile_pool.free))
		b = list_last_entry(&zfile_pool.free, struct zfile_buf, node);
	if (b) {
		list_del(&b->node);
		if (b->owner != zc->id) {
			b->owner = zc->id;
			b->run.first = b->run.last = b->cached_blk = ~0ull;
			b->next.blk = ~0ull;
		}
		return b;
	}
	if (!zc->reserve_busy) {
		zc->reserve_busy = true;
		return &zc->reserve;
	}
	return NULL;
}

static void zfile_work(struct work_struct *work);

/* Start zc's waiting bios while buffers last, under zfile_pool.slock. */
static void zfile_dispatch(struct zfile_ctx *zc)
{
	struct bio *bio;

	while ((bio = bio_list_peek(&zc->pending))) {
		struct zfile_io *io = dm_per_bio_data(bio, sizeof(*io));

		io->buf = zfile_take_buf(zc, zfile_bio_block(zc, bio));
		if (!io->buf)
			break;
		bio_list_pop(&zc->pending);
		INIT_WORK(&io->work, zfile_work);
		queue_work(zfile_pool.wq, &io->work);
	}
	if (bio_list_empty(&zc->pending))
		list_del_init(&zc->wait_node);
	else if (list_empty(&zc->wait_node))
		list_add_tail(&zc->wait_node, &zfile_pool.waiting);
}

/* Give b back and start what waited for it. */
static void zfile_put_buf(struct zfile_ctx *zc, struct zfile_buf *b)
{
	struct zfile_ctx *w, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&zfile_pool.slock, flags);
	if (b->reserve) {
		zc->reserve_busy = false;
		zfile_dispatch(zc);
	} else {
		list_add(&b->node, &zfile_pool.free);
	}
	list_for_each_entry_safe(w, tmp, &zfile_pool.waiting, wait_node) {
		zfile_dispatch(w);
		if (list_empty(&zfile_pool.free))
			break;
	}
	spin_unlock_irqrestore(&zfile_pool.slock, flags);
}

/* A zstd context for a reserve's decode: held only while decoding. */
static struct zfile_dec *zfile_get_decoder(void)
{
	struct zfile_dec *d = NULL;

	wait_event(zfile_pool.dec_wait, ({
		spin_lock_irq(&zfile_pool.slock);
		d = list_first_entry_or_null(&zfile_pool.decoders, struct zfile_dec, node);
		if (d)
			list_del(&d->node);
		spin_unlock_irq(&zfile_pool.slock);
		d != NULL; }));
	return d;
}

static void zfile_put_decoder(struct zfile_dec *d)
{
	spin_lock_irq(&zfile_pool.slock);
	list_add(&d->node, &zfile_pool.decoders);
	spin_unlock_irq(&zfile_pool.slock);
	wake_up(&zfile_pool.dec_wait);
}

/*
 * The run that starts at block first: the blocks whose bytes fit in cap
 * from its first device block, ending at last or, with ra_bytes, up to that
 * many compressed bytes past last. Returns its last block; [*start, *end)
 * is what to read, in whole device blocks.
 */
static u64 zfile_run_span(struct zfile_ctx *zc, u32 cap, u64 first, u64 last, u64 ra_bytes,
		    u64 *start, u64 *end)
{
	struct ovbd_zfile_extent x;
	u64 s, e, n, ra_end = 0;

	ovbd_zfile_extent_at(&zc->zf, first, &x);
	s = round_down(zc->payload_off + x.off, zc->lbs);
	e = zc->payload_off + x.off + x.len;
	for (n = first + 1; n < zc->zf.nblocks; n++) {
		ovbd_zfile_extent_next(&zc->zf, &x);
		if (n > last && !ra_end)
			ra_end = e + ra_bytes;
		if (round_up(zc->payload_off + x.off + x.len, zc->lbs) - s > cap ||
		    (ra_end && zc->payload_off + x.off + x.len > ra_end))
			break;
		e = zc->payload_off + x.off + x.len;
	}
	*start = s;
	*end = min(round_up(e, zc->lbs), zc->dev_bytes);
	return n - 1;
}

/* A read of the lower device failed: count it, log it (rate limited). */
static void zfile_read_error(struct zfile_ctx *zc, int err, u64 start)
{
	atomic64_inc(&zc->ctr[ZC_IO_ERRORS]);
	DMERR_LIMIT("%s: zfile: read error %d at sector %llu",
		    dm_device_name(dm_table_get_md(zc->ti->table)), err,
		    (unsigned long long)(start >> SECTOR_SHIFT));
}

/*
 * Check and decode zc's block blk, stored at src (len bytes), into dst with
 * the zstd context dctx: NULL for lz4, and for zstd a decoder borrowed just
 * for this (never held across I/O). Counts it; on a CRC32C mismatch or a
 * failed decode, counts and logs that and returns -EIO.
 */
static int zfile_decode(struct zfile_ctx *zc, u64 blk, const u8 *src, u32 len, u8 *dst,
			zstd_dctx *dctx)
{
	struct ovbd_err e = { 0 };
	struct zfile_dec *d = NULL;
	int ret;

	if (zc->zstd && !dctx) {
		d = zfile_get_decoder();
		dctx = d->dctx;
	}
	ret = ovbd_zfile_decode_block(&zc->zf, blk, src, len, dst, dctx, &e);
	if (d)
		zfile_put_decoder(d);
	if (ret) {
		atomic64_inc(&zc->ctr[ret == -EBADMSG ? ZC_CRC_ERRORS : ZC_DECODE_ERRORS]);
		DMERR_LIMIT("%s: zfile: block %llu: %s",
			    dm_device_name(dm_table_get_md(zc->ti->table)), (unsigned long long)blk,
			    ret == -EBADMSG ? "CRC32C mismatch" : "decode failed");
		return -EIO;
	}
	atomic64_inc(&zc->ctr[ZC_DECODED]);
	return 0;
}

/*
 * Read the compressed run of blocks first.. (at most last) into b->run;
 * with ra, also up to READAHEAD_BYTES of the blocks after last.
 */
static int zfile_read_run(struct zfile_ctx *zc, struct zfile_buf *b, u64 first, u64 last,
		    bool ra)
{
	u64 start, end, n;
	int ret;

	n = zfile_run_span(zc, b->cap, first, last, ra ? READAHEAD_BYTES : 0, &start, &end);
	b->run.first = b->run.last = ~0ull;
	ret = ovbd_io_read(zc->io, zc->dev->bdev, start, end, b->run.buf, NULL, NULL);
	if (ret) {
		zfile_read_error(zc, ret, start);
		return -EIO;
	}
	/* a block may reach into a sector the device lacks: zeros, as in ovbd_read */
	memset(b->run.buf + (end - start), 0, zc->lbs);
	b->run.first = first;
	b->run.last = n;
	b->run.start = start;
	b->run.end = end;
	return 0;
}

/* One of zc's prefetches ended (or was never issued): zc may be gone after. */
static void zfile_pf_put(struct zfile_ctx *zc)
{
	if (atomic_dec_and_test(&zc->pf_inflight))
		wake_up(&zfile_pool.pf_wait);
}

/* dm-io's completion of a prefetch (any context) */
static void zfile_pf_endio(unsigned long error, void *context)
{
	struct zfile_buf *b = context;
	struct zfile_ctx *zc = b->pf_zc;	/* b may be reused once pf_done completes */

	b->pf_error = error;
	complete(&b->pf_done);
	zfile_pf_put(zc);
}

/* Wait for zc's prefetches in flight: for suspend and the dtr. */
static void zfile_pf_drain(struct zfile_ctx *zc)
{
	wait_event(zfile_pool.pf_wait, !atomic_read(&zc->pf_inflight));
}

/*
 * Read the run after b->run's into b->pf, asynchronously, unless pf holds
 * it already or is busy. Only for sequential streams.
 */
static void zfile_start_prefetch(struct zfile_ctx *zc, struct zfile_buf *b)
{
	u64 first = b->run.last + 1;

	if (!b->pf.buf || !zfile_seq_prefetch || (zc->features & BIT(ZFILE_F_NO_PREFETCH)) ||
	    b->run.last == ~0ull || first >= zc->zf.nblocks)
		return;
	if (b->pf_issued && (!completion_done(&b->pf_done) ||
			     (b->pf_owner == zc->id && b->pf.first == first)))
		return;		/* another run still arriving, or this one */
	b->pf.last = zfile_run_span(zc, b->cap, first, zc->zf.nblocks - 1, 0, &b->pf.start, &b->pf.end);
	b->pf.first = first;
	b->pf_owner = zc->id;
	b->pf_zc = zc;
	b->pf_error = 0;
	b->pf_issued = true;
	reinit_completion(&b->pf_done);
	atomic_inc(&zc->pf_inflight);
	if (ovbd_io_read(zc->io, zc->dev->bdev, b->pf.start, b->pf.end, b->pf.buf, zfile_pf_endio, b)) {
		b->pf_issued = false;	/* no completion comes */
		zfile_pf_put(zc);
	}
}

/*
 * If b->pf holds blk, make it b->run: wait for its read, swap the two.
 * False if not, or if the prefetch failed: the synchronous read then
 * reports the error.
 */
static bool zfile_use_prefetch(struct zfile_ctx *zc, struct zfile_buf *b, u64 blk)
{
	if (!b->pf_issued || b->pf_owner != zc->id || !zfile_run_has(&b->pf, blk))
		return false;
	wait_for_completion(&b->pf_done);
	b->pf_issued = false;
	if (b->pf_error)
		return false;
	swap(b->run, b->pf);
	/* a block may reach into a sector the device lacks, as in zfile_read_run() */
	memset(b->run.buf + (b->run.end - b->run.start), 0, zc->lbs);
	atomic64_inc(&zc->ctr[ZC_PREFETCH_HITS]);
	return true;
}

/*
 * Decode block blk into dst, or with dst NULL make b->dbuf hold it; read its
 * run (up to last, with readahead if ra) when b->run lacks it. end is the
 * byte after the bio: a sequential stream's newest bio prefetches.
 */
static int zfile_load_block(struct zfile_ctx *zc, struct zfile_buf *b, u64 blk, u64 last,
		      bool ra, u64 end, u8 *dst)
{
	u64 off;
	u32 len;
	int ret;

	if (!dst && blk == b->cached_blk)
		return 0;
	if (!zfile_run_has(&b->run, blk)) {
		if (!zfile_use_prefetch(zc, b, blk)) {
			ret = zfile_read_run(zc, b, blk, last, ra);
			if (ret)
				return ret;
		}
		/*
		 * Only the stream's newest bio prefetches: bios mapped after
		 * it read their own runs in other slots, and a prefetch of
		 * those would be a second read of the same bytes.
		 */
		if (ra && atomic64_read(&zc->next_seq) == end)
			zfile_start_prefetch(zc, b);
	}
	ovbd_zfile_extent_seek(&zc->zf, &b->next, blk, &off, &len);
	if (!dst) {
		b->cached_blk = ~0ull;
		dst = b->dbuf;
	}
	/* a reserve has no zstd context: zfile_decode() borrows one; lz4 needs none */
	if (zfile_decode(zc, blk, b->run.buf + (zc->payload_off + off - b->run.start), len, dst,
			 zc->zstd ? b->dctx : NULL))
		return -EIO;
	if (dst == b->dbuf)
		b->cached_blk = blk;
	return 0;
}

static blk_status_t zfile_read_bio(struct zfile_ctx *zc, struct zfile_buf *b, struct bio *bio,
				   bool ra)
{
	const struct ovbd_zfile *zf = &zc->zf;
	u64 pos = (u64)dm_target_offset(zc->ti, bio->bi_iter.bi_sector) << SECTOR_SHIFT;
	u64 size = zf->h.original_size;
	u64 end = pos + bio->bi_iter.bi_size;
	u64 last = (min(end, size) - 1) >> zf->block_shift;
	struct bvec_iter iter;
	struct bio_vec bv;
	u8 *dst;

	bio_for_each_segment(bv, bio, iter) {
		u32 done = 0;

		dst = bvec_kmap_local(&bv);
		while (done < bv.bv_len) {
			u64 blk = pos >> zf->block_shift;
			u32 in = pos & (zf->h.block_size - 1), n, bsz;
			bool held;

			if (pos >= size) {	/* the tail of the last sector */
				memset(dst + done, 0, bv.bv_len - done);
				break;
			}
			bsz = ovbd_zfile_block_bytes(zf, blk);
			n = min3(bsz - in, bv.bv_len - done, (u32)min_t(u64, size - pos, U32_MAX));
			held = blk == b->cached_blk;	/* decoded in b->dbuf already */
			if (!held && zcache_copy(zc, blk, in, dst + done, n)) {
				/* a cache hit */
			} else if (!in && !held && bv.bv_len - done >= bsz) {
				/* the whole block fits: decode it in place */
				if (zfile_load_block(zc, b, blk, last, ra, end, dst + done))
					goto fail;
				zcache_insert(zc, blk, dst + done, bsz, ra);
				n = bsz;
			} else {
				if (zfile_load_block(zc, b, blk, last, ra, end, NULL))
					goto fail;
				if (!held)
					zcache_insert(zc, blk, b->dbuf, bsz, ra);
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

/*
 * Direct reads' buffers (powers of two from 4 KiB to DIRECT_BUF_MAX), kept
 * for the next read instead of freed, up to DIRECT_KEEP_BYTES per CPU in
 * all: most reads then allocate nothing, and no page is cleared for them
 * (init_on_alloc). Freed with the pool.
 */
#define DIRECT_KEEP_BYTES	(256u << 10)
#define DIRECT_CLASSES		(ilog2(DIRECT_BUF_MAX) - PAGE_SHIFT + 1)
static struct {
	spinlock_t lock;
	void *free[DIRECT_CLASSES];	/* by size order, linked through their first word */
	unsigned long bytes;
} zfile_dbufs = { .lock = __SPIN_LOCK_UNLOCKED(zfile_dbufs.lock) };

static void *zfile_dbuf_get(u32 size)
{
	unsigned int c = ilog2(size) - PAGE_SHIFT;
	unsigned long flags;
	void *p;

	spin_lock_irqsave(&zfile_dbufs.lock, flags);
	p = zfile_dbufs.free[c];
	if (p) {
		zfile_dbufs.free[c] = *(void **)p;
		zfile_dbufs.bytes -= size;
	}
	spin_unlock_irqrestore(&zfile_dbufs.lock, flags);
	return p ? p : kmalloc(size, GFP_NOWAIT | __GFP_NOWARN);
}

static void zfile_dbuf_put(void *p, u32 size)
{
	unsigned int c = ilog2(size) - PAGE_SHIFT;
	unsigned long flags;

	spin_lock_irqsave(&zfile_dbufs.lock, flags);
	if (zfile_dbufs.bytes + size <= (unsigned long)DIRECT_KEEP_BYTES * num_online_cpus()) {
		*(void **)p = zfile_dbufs.free[c];
		zfile_dbufs.free[c] = p;
		zfile_dbufs.bytes += size;
		p = NULL;
	}
	spin_unlock_irqrestore(&zfile_dbufs.lock, flags);
	kfree(p);
}

/* With the pool: no direct read is in flight. */
static void zfile_dbufs_free(void)
{
	unsigned int c;

	for (c = 0; c < DIRECT_CLASSES; c++)
		while (zfile_dbufs.free[c]) {
			void *p = zfile_dbufs.free[c];

			zfile_dbufs.free[c] = *(void **)p;
			kfree(p);
		}
	zfile_dbufs.bytes = 0;
}

/* Copy the decoded bytes at src into every segment of bio, in order. */
static void zfile_copy_to_bio(struct bio *bio, const u8 *src)
{
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_for_each_segment(bv, bio, iter) {
		u8 *dst = bvec_kmap_local(&bv);

		memcpy(dst, src, bv.bv_len);
		kunmap_local(dst);
		flush_dcache_page(bv.bv_page);
		src += bv.bv_len;
	}
}

/* A direct read's stored block arrived (or failed): decode it in a worker. */
static void zfile_direct_work(struct work_struct *work)
{
	struct zfile_io *io = container_of(work, struct zfile_io, work);
	struct zfile_ctx *zc = io->zc;
	struct bio *bio = io->bio;
	u32 bsz = ovbd_zfile_block_bytes(&zc->zf, io->blk);
	struct bio_vec bv;
	u8 *dst;

	if (io->status) {
		zfile_read_error(zc, blk_status_to_errno(io->status), io->start);
		bio->bi_status = BLK_STS_IOERR;
		goto out;
	}
	/* a block may reach into a sector the device lacks: zeros, as in ovbd_read */
	memset(io->dbuf + (io->end - io->start), 0, zc->lbs);
	if (io->in_place) {
		bv = bio_iter_iovec(bio, bio->bi_iter);
		dst = bvec_kmap_local(&bv);
	} else {
		dst = io->dbuf + io->dec;
	}
	if (zfile_decode(zc, io->blk, io->dbuf + io->src, io->len, dst, NULL)) {
		bio->bi_status = BLK_STS_IOERR;
	} else {
		zcache_insert(zc, io->blk, dst, bsz, false);
		if (!io->in_place)
			zfile_copy_to_bio(bio, dst + io->in);
	}
	if (io->in_place) {
		kunmap_local(dst);
		flush_dcache_page(bv.bv_page);
	}
out:
	zfile_dbuf_put(io->dbuf, io->dsize);
	bio_endio(bio);
}

static void zfile_direct_endio(struct bio *clone)
{
	struct zfile_io *io = clone->bi_private;

	io->status = clone->bi_status;
	bio_put(clone);
	INIT_WORK(&io->work, zfile_direct_work);
	queue_work(zfile_pool.wq, &io->work);
}

/*
 * Serve io's bio, the bytes [pos, end) of one block, without a slot: from
 * the cache, or with an asynchronous read of its stored block (see the
 * comment at the top). False when it must take the slot path.
 */
static bool zfile_direct_read(struct zfile_ctx *zc, struct zfile_io *io, u64 pos, u64 end)
{
	const struct ovbd_zfile *zf = &zc->zf;
	struct bio *bio = io->bio, *clone;
	struct ovbd_zfile_extent x;
	u64 blk = pos >> zf->block_shift;
	u32 bsz, need, in = pos & (zf->h.block_size - 1);
	struct bio_vec bv;
	u8 *p;

	if (!READ_ONCE(zfile_direct_reads) || end > zf->h.original_size ||
	    (end - 1) >> zf->block_shift != blk)
		return false;
	/* the cache's lock is only ever taken in task context */
	if (in_task()) {
		struct zcache_ent *ce = zcache_get(zc, blk);

		if (ce) {
			atomic64_inc(&zc->ctr[ZC_DIRECT]);
			zfile_copy_to_bio(bio, ce->data + in);
			zcache_put(ce);
			bio_endio(bio);
			return true;
		}
	}
	bsz = ovbd_zfile_block_bytes(zf, blk);
	ovbd_zfile_extent_at(zf, blk, &x);
	io->blk = blk;
	io->in = in;
	io->start = round_down(zc->payload_off + x.off, zc->lbs);
	io->end = min(round_up(zc->payload_off + x.off + x.len, zc->lbs), zc->dev_bytes);
	io->src = zc->payload_off + x.off - io->start;
	io->len = x.len;
	bv = bio_iter_iovec(bio, bio->bi_iter);
	io->in_place = !in && bv.bv_len == bsz && bio->bi_iter.bi_size == bsz;
	/* stored bytes, then a zero tail of one logical block, then the decoded block */
	io->dec = round_up(io->end - io->start + zc->lbs, 64);
	need = io->in_place ? io->dec : io->dec + bsz;
	if (io->end <= io->start || need > DIRECT_BUF_MAX)
		return false;
	/* a power of two: kmalloc() aligns it naturally, as the lower device may need */
	io->dsize = roundup_pow_of_two(max_t(u32, need, PAGE_SIZE));
	io->dbuf = zfile_dbuf_get(io->dsize);
	if (!io->dbuf)
		return false;
	clone = bio_alloc_bioset(zc->dev->bdev, DIV_ROUND_UP(io->end - io->start, PAGE_SIZE) + 1,
				 REQ_OP_READ, GFP_NOWAIT | __GFP_NOWARN, &zfile_pool.bios);
	if (!clone) {
		zfile_dbuf_put(io->dbuf, io->dsize);
		return false;
	}
	clone->bi_iter.bi_sector = io->start >> SECTOR_SHIFT;
	clone->bi_ioprio = bio->bi_ioprio;
	for (p = io->dbuf; p < io->dbuf + (io->end - io->start);) {
		u32 n = min_t(u64, io->dbuf + (io->end - io->start) - p,
			      PAGE_SIZE - offset_in_page(p));

		__bio_add_page(clone, virt_to_page(p), n, offset_in_page(p));
		p += n;
	}
	clone->bi_end_io = zfile_direct_endio;
	clone->bi_private = io;
	atomic64_inc(&zc->ctr[ZC_DIRECT]);
	submit_bio_noacct(clone);
	return true;
}

static void zfile_work(struct work_struct *work)
{
	struct zfile_io *io = container_of(work, struct zfile_io, work);
	struct zfile_ctx *zc = io->zc;
	struct bio *bio = io->bio;

	bio->bi_status = zfile_read_bio(zc, io->buf, bio, io->ra);
	zfile_put_buf(zc, io->buf);
	bio_endio(bio);
}

static int zfile_map(struct dm_target *ti, struct bio *bio)
{
	struct zfile_ctx *zc = ti->private;
	struct zfile_io *io;
	unsigned long flags;
	u64 pos, end;

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
	pos = (u64)dm_target_offset(ti, bio->bi_iter.bi_sector) << SECTOR_SHIFT;
	end = pos + bio->bi_iter.bi_size;
	/* a bio that starts where the previous one ended: read ahead */
	io->ra = atomic64_xchg(&zc->next_seq, end) == pos;
	if (!io->ra && zfile_direct_read(zc, io, pos, end))
		return DM_MAPIO_SUBMITTED;
	spin_lock_irqsave(&zfile_pool.slock, flags);
	bio_list_add(&zc->pending, bio);
	zfile_dispatch(zc);
	spin_unlock_irqrestore(&zfile_pool.slock, flags);
	return DM_MAPIO_SUBMITTED;
}

/* ---- ctr / dtr ---- */

static void zfile_free_buf(struct zfile_buf *b)
{
	kvfree(b->run.buf);
	kvfree(b->pf.buf);
	kvfree(b->dbuf);
	kvfree(b->zstd_ws);
	memset(b, 0, sizeof(*b));
}

static int zfile_alloc_zstd(void **ws, zstd_dctx **dctx)
{
	size_t bytes = zstd_dctx_workspace_bound();

	*ws = kvmalloc(bytes, GFP_KERNEL);
	if (!*ws)
		return -ENOMEM;
	*dctx = zstd_init_dctx(*ws, bytes);
	if (!*dctx) {	/* nothing half-made: a later device retries cleanly */
		kvfree(*ws);
		*ws = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void zfile_pool_free(void)
{
	unsigned int i;

	if (zfile_pool.wq)
		destroy_workqueue(zfile_pool.wq);
	zfile_pool.wq = NULL;
	bioset_exit(&zfile_pool.bios);
	zfile_dbufs_free();
	if (zcache.shrinker)
		ovbd_shrinker_del(zcache.shrinker);
	zcache.shrinker = NULL;
	for (i = 0; i < zfile_pool.nslots; i++)
		zfile_free_buf(&zfile_pool.slots[i]);
	for (i = 0; i < zfile_pool.ndecs; i++)
		kvfree(zfile_pool.decs[i].ws);
	memset(zfile_pool.decs, 0, sizeof(zfile_pool.decs));
	zfile_pool.nslots = zfile_pool.ndecs = 0;
	zfile_pool.zstd = false;
	INIT_LIST_HEAD(&zfile_pool.free);
	INIT_LIST_HEAD(&zfile_pool.decoders);
}

/*
 * zstd contexts for every slot and the decoders, for the first zstd device.
 * After a failure, the next zstd device completes what is missing.
 */
static int zfile_pool_grow_zstd(void)
{
	unsigned int i, n = clamp_t(unsigned int, num_online_cpus(), 1, MAX_SLOTS);
	int ret = 0;

	for (i = 0; i < zfile_pool.nslots && !ret; i++)
		if (!zfile_pool.slots[i].dctx)
			ret = zfile_alloc_zstd(&zfile_pool.slots[i].zstd_ws, &zfile_pool.slots[i].dctx);
	while (zfile_pool.ndecs < n && !ret) {
		struct zfile_dec *d = &zfile_pool.decs[zfile_pool.ndecs];

		ret = zfile_alloc_zstd(&d->ws, &d->dctx);
		if (ret)
			break;
		zfile_pool.ndecs++;
		spin_lock_irq(&zfile_pool.slock);
		list_add(&d->node, &zfile_pool.decoders);
		spin_unlock_irq(&zfile_pool.slock);
	}
	if (!ret)
		zfile_pool.zstd = true;
	return ret;
}

/* Take a reference on the pool for a device: made for the first, grown for zstd. */
static int zfile_pool_get(bool zstd)
{
	/* two slots per CPU: one decodes while the other waits for its read */
	unsigned int i, n = clamp_t(unsigned int, 2 * num_online_cpus(), 4, MAX_SLOTS);
	int ret = 0;

	mutex_lock(&zfile_pool.lock);
	if (!zfile_pool.users) {
		zfile_pool.wq = alloc_workqueue("ovbd_zfile", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
		zcache.shrinker = ovbd_shrinker_add(&zcache.storage, "dm-overlaybd-zfile-cache",
						    zcache_count, zcache_scan);
		if (!zfile_pool.wq || !zcache.shrinker ||
		    bioset_init(&zfile_pool.bios, n, 0, BIOSET_NEED_BVECS))
			ret = -ENOMEM;
		for (i = 0; i < n && !ret; i++) {
			struct zfile_buf *b = &zfile_pool.slots[zfile_pool.nslots++];

			b->run.buf = kvmalloc(RUN_BUF_BYTES, GFP_KERNEL);
			b->pf.buf = kvmalloc(RUN_BUF_BYTES, GFP_KERNEL);
			b->dbuf = kvmalloc(OVBD_ZF_BLOCK_MAX, GFP_KERNEL);
			b->cap = RUN_BYTES;
			b->run.first = b->run.last = b->cached_blk = ~0ull;
			b->next.blk = ~0ull;
			init_completion(&b->pf_done);
			if (!b->run.buf || !b->pf.buf || !b->dbuf)
				ret = -ENOMEM;
			list_add(&b->node, &zfile_pool.free);
		}
	}
	if (!ret && zstd && !zfile_pool.zstd)
		ret = zfile_pool_grow_zstd();
	if (!ret)
		zfile_pool.users++;
	else if (!zfile_pool.users)
		zfile_pool_free();
	mutex_unlock(&zfile_pool.lock);
	return ret;
}

static void zfile_pool_put(void)
{
	mutex_lock(&zfile_pool.lock);
	if (!--zfile_pool.users)
		zfile_pool_free();
	mutex_unlock(&zfile_pool.lock);
}

/* The device's reserve: one stored block with its alignment, and one decoded block. */
static int zfile_alloc_reserve(struct zfile_ctx *zc)
{
	struct zfile_buf *b = &zc->reserve;

	b->reserve = true;
	b->cap = round_up(zc->zf.max_stored, zc->lbs) + 2 * zc->lbs;
	b->run.buf = kvmalloc(b->cap + zc->lbs, GFP_KERNEL | __GFP_ACCOUNT);
	b->dbuf = kvmalloc(zc->zf.h.block_size, GFP_KERNEL | __GFP_ACCOUNT);
	b->owner = zc->id;
	b->run.first = b->run.last = b->cached_blk = ~0ull;
	b->next.blk = ~0ull;
	return b->run.buf && b->dbuf ? 0 : -ENOMEM;
}

/* Parse the header/trailer and load the index into the jump table. */
static int zfile_load(struct dm_target *ti, struct zfile_ctx *zc, struct ovbd_reader *r)
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

	zfile_pf_drain(zc);
	zcache_drop(zc);
	if (zc->id)
		zfile_pool_put();
	zfile_free_buf(&zc->reserve);
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
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	const char *dev_arg, *bytes_arg;
	struct ovbd_reader r = { 0 };
	struct zfile_ctx *zc;
	u64 sectors;
	int ret;

	if (argc < 2) {
		ti->error = "expected: zfile <dev> <zfile_bytes|-> [<#features> <feature>...]";
		return -EINVAL;
	}
	dev_arg = dm_shift_arg(&as);
	bytes_arg = dm_shift_arg(&as);
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
	bio_list_init(&zc->pending);
	INIT_LIST_HEAD(&zc->wait_node);

	ret = ovbd_parse_features(ti, &as, zfile_feature_names, ZFILE_F_NR, &zc->features, "zfile");
	if (ret)
		goto bad;
	ret = dm_get_device(ti, dev_arg, OVBD_MODE_READ, &zc->dev);
	if (ret) {
		ovbd_ti_error(ti, "zfile: cannot open device '%s'", dev_arg);
		goto bad;
	}
	zc->bytes_arg = kstrdup(bytes_arg, GFP_KERNEL);
	ret = -ENOMEM;
	if (!zc->bytes_arg)
		goto bad;
	ret = ovbd_parse_blob_bytes(ti, bytes_arg, zc->dev, "zfile", &zc->blob_bytes);
	if (ret)
		goto bad;
	ret = ovbd_reader_init(&r, zc->dev->bdev);
	if (ret) {
		ti->error = "zfile: cannot set up reads";
		goto bad;
	}
	zc->lbs = r.lbs;
	zc->dev_bytes = r.dev_bytes;
	ret = zfile_load(ti, zc, &r);
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
	zc->zstd = zc->zf.h.algo == OVBD_ZF_ALGO_ZSTD;
	ret = zfile_alloc_reserve(zc);
	if (ret) {
		ovbd_ti_error(ti, "zfile: no memory for the device's reserve buffers");
		goto bad;
	}
	ret = zfile_pool_get(zc->zstd);
	if (ret) {
		ovbd_ti_error(ti, "zfile: no memory for the shared decode buffers");
		goto bad;
	}
	mutex_lock(&zfile_pool.lock);
	zc->id = ++zfile_pool.next_id;	/* nonzero: the pool reference is held */
	mutex_unlock(&zfile_pool.lock);
	zc->reserve.owner = zc->id;
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
		DMEMIT("%s %u %llu %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld",
		       zc->zf.h.algo == OVBD_ZF_ALGO_LZ4 ? "lz4" : "zstd",
		       zc->zf.h.block_size, zc->zf.nblocks,
		       atomic64_read(&zc->ctr[ZC_READS]), atomic64_read(&zc->ctr[ZC_DECODED]),
		       atomic64_read(&zc->ctr[ZC_CRC_ERRORS]),
		       atomic64_read(&zc->ctr[ZC_DECODE_ERRORS]),
		       atomic64_read(&zc->ctr[ZC_IO_ERRORS]),
		       atomic64_read(&zc->ctr[ZC_PREFETCH_HITS]),
		       atomic64_read(&zc->ctr[ZC_CACHE_HITS]),
		       atomic64_read(&zc->ctr[ZC_CACHE_MISSES]),
		       atomic64_read(&zc->ctr[ZC_CACHE_EVICTIONS]),
		       atomic64_read(&zc->ctr[ZC_DIRECT]));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", zc->dev->name, zc->bytes_arg);
		if (zc->features)
			DMEMIT(" %u%s", (unsigned int)hweight_long(zc->features),
			       zc->features & BIT(ZFILE_F_NO_PREFETCH) ? " no_prefetch" : "");
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

/* Nothing of the lower device's stays in use while suspended: a reload may swap it. */
static void zfile_postsuspend(struct dm_target *ti)
{
	zfile_pf_drain(ti->private);
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
		.version = { 1, 1, 0 },					\
		.module = THIS_MODULE,					\
		.ctr = zfile_ctr,					\
		.dtr = zfile_dtr,					\
		.map = zfile_map,					\
		.status = zfile_status,					\
		.message = zfile_message,				\
		.postsuspend = zfile_postsuspend,			\
		.iterate_devices = zfile_iterate_devices,		\
		.io_hints = zfile_io_hints,				\
	}

struct target_type ovbd_zfile_target = ZFILE_TARGET("zfile");
struct target_type ovbd_zfile_alias = ZFILE_TARGET("zfile_target");
