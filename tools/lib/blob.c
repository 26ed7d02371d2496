// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: one layer blob opened through its wrappers: [tar] -> [zfile] -> content. */
#include "blob.h"
#include "util.h"
#include <ovbd/detect.h>
#include <ovbd/tar.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_CHUNK	65536	/* entries fed to the core per read */
#define RUN_BYTES	(1u << 20)	/* stored bytes of consecutive blocks read at once */

int blob_fail(struct blob *b, const struct ovbd_err *e)
{
	char buf[256];

	snprintf(b->why, sizeof(b->why), "%s: %s", b->path,
		 ovbd_err_text(e, buf, sizeof(buf)));
	return -1;
}

static int blob_fail_msg(struct blob *b, const char *msg)
{
	snprintf(b->why, sizeof(b->why), "%s: %s", b->path, msg);
	return -1;
}

/* Read raw payload bytes; short reads are reported as truncation. */
static int payload_read(struct blob *b, u64 off, void *buf, size_t len)
{
	u8 *p = buf;

	if (off > b->payload_size || len > b->payload_size - off)
		return blob_fail_msg(b, "truncated: read past the end of the blob");
	off += b->payload_off;
	while (len) {
		ssize_t r = pread(b->fd, p, len, (off_t)off);

		if (r <= 0)
			return blob_fail_msg(b, r ? strerror(errno) : "truncated");
		p += r;
		off += (u64)r;
		len -= (size_t)r;
	}
	return 0;
}

static int open_zfile(struct blob *b)
{
	u8 head[OVBD_ZF_HDR_SIZE], tail[OVBD_ZF_HDR_SIZE];
	struct ovbd_err e = { 0 };
	u8 *raw;
	u64 done;

	if (payload_read(b, 0, head, sizeof(head)))
		return -1;
	if (ovbd_zfile_needs_trailer(head) && b->payload_size >= sizeof(tail) &&
	    payload_read(b, b->payload_size - sizeof(tail), tail, sizeof(tail)))
		return -1;
	if (ovbd_zfile_open(&b->zf, head, tail, b->payload_size, &e))
		return blob_fail(b, &e);
	b->jump = xmalloc(ovbd_zfile_jump_bytes(&b->zf));
	ovbd_zfile_index_begin(&b->zf, b->jump);
	raw = xmalloc(4 * INDEX_CHUNK);
	for (done = 0; done < b->zf.nblocks;) {
		u64 n = b->zf.nblocks - done;

		if (n > INDEX_CHUNK)
			n = INDEX_CHUNK;
		if (payload_read(b, b->zf.h.index_offset + 4 * done, raw, 4 * n) ||
		    ovbd_zfile_index_feed(&b->zf, raw, n, &e)) {
			free(raw);
			return b->why[0] ? -1 : blob_fail(b, &e);
		}
		done += n;
	}
	free(raw);
	if (ovbd_zfile_index_end(&b->zf, &e))
		return blob_fail(b, &e);
	b->zfile = true;
	b->dctx = ZSTD_createDCtx();
	b->cbuf = xmalloc(RUN_BYTES > b->zf.max_stored ? RUN_BYTES : b->zf.max_stored);
	b->dbuf = xmalloc(b->zf.h.block_size);
	b->cached_blk = ~0ull;
	b->next.blk = ~0ull;
	b->run_first = b->run_end = 0;
	b->content_size = b->zf.h.original_size;
	return 0;
}

int blob_open(struct blob *b, const char *path)
{
	u8 scan[OVBD_TAR_SCAN_BYTES];
	struct ovbd_err e = { 0 };
	struct stat st;
	size_t n;
	int ret;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->fd = open(path, O_RDONLY);
	if (b->fd < 0)
		return blob_fail_msg(b, strerror(errno));
	if (fstat(b->fd, &st))
		return blob_fail_msg(b, strerror(errno));
	b->file_size = (u64)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(b->fd, 0, SEEK_END);

		b->file_size = end > 0 ? (u64)end : 0;
	}
	b->payload_size = b->file_size;
	n = b->file_size < sizeof(scan) ? (size_t)b->file_size : sizeof(scan);
	memset(scan, 0, sizeof(scan));
	if (payload_read(b, 0, scan, n))
		return -1;
	ret = ovbd_tar_find_payload(scan, n, b->file_size, &b->payload_off,
				    &b->payload_size, &e);
	if (ret < 0)
		return blob_fail(b, &e);
	b->tar = ret > 0;
	if (b->tar) {
		n = 0;
		if (b->payload_size >= 24) {
			n = 24;
			if (payload_read(b, 0, scan, n))
				return -1;
		}
	}
	b->content_size = b->payload_size;
	switch (ovbd_detect(scan, n)) {
	case OVBD_KIND_ZFILE:
		return open_zfile(b);
	case OVBD_KIND_LSMT:
		return 0;
	default:
		return blob_fail_msg(b, b->tar ?
			"tar payload: expected a ZFile or LSMT magic" :
			"not an overlaybd blob: expected a tar, ZFile or LSMT magic");
	}
}

int blob_open_lsmt(struct blob *b)
{
	u8 head[OVBD_LSMT_HDR_SIZE], tail[OVBD_LSMT_HDR_SIZE];
	struct ovbd_err e = { 0 };

	if (b->content_size < 2 * OVBD_LSMT_HDR_SIZE) {
		ovbd_fail_val(&e, EINVAL, "lsmt file size", b->content_size,
			      "at least 8192 bytes");
		return blob_fail(b, &e);
	}
	if (blob_read(b, 0, head, sizeof(head)) ||
	    blob_read(b, b->content_size - sizeof(tail), tail, sizeof(tail)))
		return -1;
	if (ovbd_lsmt_open(&b->layer, head, tail, b->content_size, &e))
		return blob_fail(b, &e);
	b->lsmt = true;
	return 0;
}

int blob_load_index(struct blob *b)
{
	struct ovbd_lsmt_layer *l = &b->layer;
	struct ovbd_err e = { 0 };
	u64 total = l->tail.index_size, done;
	u8 *raw;

	/* the array grows with the valid entries: padding costs no memory */
	b->segs = NULL;
	ovbd_lsmt_index_begin(l, NULL, 0);
	raw = xmalloc(OVBD_LSMT_ENTRY_SIZE * INDEX_CHUNK);
	for (done = 0; done < total;) {
		u64 n = total - done;

		if (n > INDEX_CHUNK)
			n = INDEX_CHUNK;
		if (l->cap - l->nsegs < n) {
			u64 cap = 2 * l->cap > l->nsegs + n ? 2 * l->cap : l->nsegs + n;

			struct ovbd_seg *segs = realloc(b->segs, cap * sizeof(*b->segs));

			if (!segs) {
				free(raw);
				snprintf(b->why, sizeof(b->why), "%s: out of memory for %llu index entries",
					 b->path, (unsigned long long)cap);
				return -1;
			}
			b->segs = segs;
			ovbd_lsmt_index_grow(l, b->segs, cap);
		}
		if (blob_read(b, l->tail.index_offset + OVBD_LSMT_ENTRY_SIZE * done, raw,
			      OVBD_LSMT_ENTRY_SIZE * n)) {
			free(raw);
			return -1;
		}
		if (ovbd_lsmt_index_feed(l, raw, n, &e)) {
			free(raw);
			return blob_fail(b, &e);
		}
		done += n;
	}
	free(raw);
	if (ovbd_lsmt_index_end(l, &e))
		return blob_fail(b, &e);
	return 0;
}

/*
 * Make cbuf hold block blk: read it and the blocks after it, as many as
 * fit RUN_BYTES and the request's last block, with one pread.
 */
static int load_run(struct blob *b, u64 blk, u64 last)
{
	struct ovbd_zfile_extent x;
	u64 off, end, n = blk + 1;

	if (blk >= b->run_first && blk < b->run_end)
		return 0;
	ovbd_zfile_extent_at(&b->zf, blk, &x);
	off = x.off;
	end = x.off + x.len;
	for (; n <= last && n < b->zf.nblocks; n++) {
		ovbd_zfile_extent_next(&b->zf, &x);
		if (x.off + x.len - off > RUN_BYTES)
			break;
		end = x.off + x.len;
	}
	b->run_first = b->run_end = 0;
	if (payload_read(b, off, b->cbuf, end - off))
		return -1;
	b->run_first = blk;
	b->run_end = n;
	b->run_off = off;
	return 0;
}

static int zfile_read(struct blob *b, u64 off, u8 *p, size_t len)
{
	u64 last = (off + len - 1) >> b->zf.block_shift;
	struct ovbd_err e = { 0 };

	while (len) {
		u64 blk = off >> b->zf.block_shift;
		u64 in = off & (b->zf.h.block_size - 1);
		u32 bytes = ovbd_zfile_block_bytes(&b->zf, blk);
		size_t n = bytes - in;
		u8 *dst = b->dbuf;

		if (n > len)
			n = len;
		/* a whole block wanted: decode straight into the caller's buffer */
		if (!in && n == bytes && blk != b->cached_blk)
			dst = p;
		if (dst == p || blk != b->cached_blk) {
			u64 boff;
			u32 blen;

			if (load_run(b, blk, last))
				return -1;
			ovbd_zfile_extent_seek(&b->zf, &b->next, blk, &boff, &blen);
			if (dst == b->dbuf)
				b->cached_blk = ~0ull;
			if (ovbd_zfile_decode_block(&b->zf, blk, b->cbuf + (boff - b->run_off),
						    blen, dst, b->dctx, &e))
				return blob_fail(b, &e);
			if (dst == b->dbuf)
				b->cached_blk = blk;
		}
		if (dst != p)
			memcpy(p, b->dbuf + in, n);
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int blob_read(struct blob *b, u64 off, void *buf, size_t len)
{
	if (off > b->content_size || len > b->content_size - off)
		return blob_fail_msg(b, "truncated: read past the end of the content");
	if (b->zfile)
		return zfile_read(b, off, buf, len);
	return payload_read(b, off, buf, len);
}

void blob_close(struct blob *b)
{
	if (b->fd >= 0)
		close(b->fd);
	free(b->jump);
	free(b->cbuf);
	free(b->dbuf);
	free(b->segs);
	ZSTD_freeDCtx(b->dctx);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

bool blob_content_is_lsmt(struct blob *b)
{
	u8 magic[24];

	return b->content_size >= sizeof(magic) &&
	       !blob_read(b, 0, magic, sizeof(magic)) &&
	       ovbd_lsmt_magic(magic, sizeof(magic));
}
