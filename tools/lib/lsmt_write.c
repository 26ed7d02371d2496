// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: write a sealed LSMT layer of the sectors that differ from a lower stack. */
#include "stack.h"
#include "util.h"
#include "writers.h"
#include <errno.h>
#include <fcntl.h>
#include <ovbd/tar.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK_SECTORS	2048u
#define BLOCK_SECTORS	8u	/* compare and store 4 KiB blocks, as file systems write */
#define MAX_EXTENT	16320u	/* sectors, as upstream */
#define DATA_START	(OVBD_LSMT_HDR_SIZE / 512)

enum run_kind { RUN_NONE, RUN_DATA, RUN_ZERO };

struct committer {
	int out_fd;
	const char *out_name;
	struct ovbd_seg *segs;
	u64 nsegs, cap;
	enum run_kind kind;
	u64 run_start, run_len, run_moff;
	u64 data_sector;	/* next free data sector */
	u8 *wbuf;
	u64 wlen;		/* sectors buffered */
};

static void flush_data(struct committer *c)
{
	if (!c->wlen)
		return;
	pwrite_full(c->out_fd, c->wbuf, c->wlen << 9,
		    (c->data_sector - c->wlen) << 9, c->out_name);
	c->wlen = 0;
}

static void end_run(struct committer *c)
{
	if (c->kind == RUN_NONE)
		return;
	if (c->nsegs == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->segs = realloc(c->segs, c->cap * sizeof(*c->segs));
		if (!c->segs)
			die(EXIT_BAD_INPUT, "out of memory for the index");
	}
	/*
	 * A zeroed run records the data end at its start as its moffset, as
	 * upstream's discards do: upstream's reader refuses a layer with any
	 * moffset outside [8, data end], zeroed or not.
	 */
	c->segs[c->nsegs++] = ovbd_seg_make(c->run_start, (u32)c->run_len, c->run_moff,
					    c->kind == RUN_ZERO, 0);
	c->kind = RUN_NONE;
}

static void add_sector(struct committer *c, u64 sector, enum run_kind kind,
		       const u8 *data)
{
	if (c->kind != kind || c->run_start + c->run_len != sector ||
	    c->run_len == MAX_EXTENT) {
		end_run(c);
		if (kind == RUN_NONE)
			return;
		c->kind = kind;
		c->run_start = sector;
		c->run_len = 0;
		c->run_moff = c->data_sector;
	}
	c->run_len++;
	if (kind == RUN_DATA) {
		memcpy(c->wbuf + (c->wlen << 9), data, 512);
		c->wlen++;
		c->data_sector++;
		if (c->wlen == CHUNK_SECTORS)
			flush_data(c);
	}
}

static bool is_zero(const u8 *p, size_t n)
{
	return !p[0] && !memcmp(p, p + 1, n - 1);
}

static void random_uuid(char *out)
{
	u8 r[16];
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, r, sizeof(r)) != sizeof(r))
		die(EXIT_BAD_INPUT, "/dev/urandom: cannot read");
	close(fd);
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, OVBD_LSMT_UUID_LEN,
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
		 r[11], r[12], r[13], r[14], r[15]);
}

u64 lsmt_commit(int raw_fd, u64 raw_size, struct stack *lower, const struct byte_range *r,
		size_t nr, int out_fd, const struct commit_opts *o, const char *out_name)
{
	struct committer c = { .out_fd = out_fd, .out_name = out_name,
			       .data_sector = DATA_START };
	u64 vsectors = (raw_size + 511) >> 9, lower_sectors = 0, s, i;
	size_t k;
	struct ovbd_lsmt_hdr h = { 0 };
	u8 *raw = xmalloc(CHUNK_SECTORS << 9), *low = xmalloc(CHUNK_SECTORS << 9);
	char why[1024];
	u8 *block, entry[OVBD_LSMT_ENTRY_SIZE];
	u64 index_off, index_size, pos;

	c.wbuf = xmalloc(CHUNK_SECTORS << 9);
	if (lower)
		lower_sectors = ovbd_lsmt_bytes_to_sectors(lower->virtual_size);
	for (k = 0; k < (r ? nr : 1); k++) {
		u64 first = r ? r[k].off >> 9 : 0;
		u64 last = r ? (r[k].off + r[k].len + 511) >> 9 : vsectors;

		if (last > vsectors)
			last = vsectors;
		for (s = first; s < last; s += CHUNK_SECTORS) {
			u64 n = last - s < CHUNK_SECTORS ? last - s : CHUNK_SECTORS;
			u64 bytes = (s << 9) + (n << 9) > raw_size ? raw_size - (s << 9) : n << 9;

			memset(raw, 0, n << 9);
			memset(low, 0, n << 9);
			if (pread_all(raw_fd, raw, bytes, s << 9, "RAW", why, sizeof(why)) ||
			    (s < lower_sectors &&
			     stack_read(lower, s << 9, low,
					(size_t)((lower_sectors - s < n ? lower_sectors - s : n) << 9),
					why, sizeof(why))))
				die(EXIT_BAD_INPUT, "%s", why);
			/* a block that differs anywhere is stored whole: sector-sized
			 * holes inside file data would split extents, and reads with them */
			for (i = 0; i < n; i += BLOCK_SECTORS) {
				u64 bs = n - i < BLOCK_SECTORS ? n - i : BLOCK_SECTORS, j;
				const u8 *p = raw + (i << 9);
				enum run_kind kd = RUN_NONE;

				if (memcmp(p, low + (i << 9), bs << 9))
					kd = is_zero(p, bs << 9) ? RUN_ZERO : RUN_DATA;
				for (j = 0; j < bs; j++)
					add_sector(&c, s + i + j, kd, p + (j << 9));
			}
		}
	}
	end_run(&c);
	flush_data(&c);

	/* index, padded with invalid entries to a multiple of 4 KiB */
	index_off = ((c.data_sector << 9) + OVBD_LSMT_HDR_SIZE - 1) &
		    ~(u64)(OVBD_LSMT_HDR_SIZE - 1);
	index_size = (c.nsegs + 255) & ~(u64)255;
	pos = index_off;
	for (i = 0; i < index_size; i++, pos += sizeof(entry)) {
		struct ovbd_seg inv = ovbd_seg_make(OVBD_LSMT_INVALID, 0, 0, false, 0);

		ovbd_lsmt_encode_entry(i < c.nsegs ? &c.segs[i] : &inv, entry);
		pwrite_full(out_fd, entry, sizeof(entry), pos, out_name);
	}
	if (index_off > c.data_sector << 9) {	/* zero the alignment gap */
		u64 gap = index_off - (c.data_sector << 9);

		memset(raw, 0, gap);
		pwrite_full(out_fd, raw, gap, c.data_sector << 9, out_name);
	}

	h.struct_size = 390;
	h.version = 1;
	h.sub_version = 1;
	h.virtual_size = vsectors << 9;
	if (o->uuid)
		snprintf(h.uuid, sizeof(h.uuid), "%s", o->uuid);
	else
		random_uuid(h.uuid);
	/* a base layer's parent is the nil uuid in upstream's output, not "" */
	snprintf(h.parent_uuid, sizeof(h.parent_uuid), "%s",
		 o->parent ? o->parent : "00000000-0000-0000-0000-000000000000");
	snprintf(h.user_tag, sizeof(h.user_tag), "%s", o->message ? o->message : "");
	block = xmalloc(OVBD_LSMT_HDR_SIZE);
	h.flags = OVBD_LSMT_FLAG_DATA | OVBD_LSMT_FLAG_SEALED;
	h.index_offset = index_off;
	h.index_size = index_size;
	ovbd_lsmt_encode_hdr(&h, block);
	pwrite_full(out_fd, block, OVBD_LSMT_HDR_SIZE, pos, out_name);
	pos += OVBD_LSMT_HDR_SIZE;
	h.flags |= OVBD_LSMT_FLAG_HEADER;
	h.index_offset = 0;
	h.index_size = 0;
	ovbd_lsmt_encode_hdr(&h, block);
	pwrite_full(out_fd, block, OVBD_LSMT_HDR_SIZE, 0, out_name);
	free(block);
	free(raw);
	free(low);
	free(c.wbuf);
	free(c.segs);
	return pos;
}

static void copy_into(int in, u64 len, int out, u64 out_off, const char *out_name)
{
	u8 *buf = xmalloc(1u << 20);
	char why[600];
	u64 off;

	for (off = 0; off < len; off += 1u << 20) {
		size_t n = len - off < (1u << 20) ? (size_t)(len - off) : (1u << 20);

		if (pread_all(in, buf, n, off, "temporary layer", why, sizeof(why)))
			die(EXIT_BAD_INPUT, "%s", why);
		pwrite_full(out, buf, n, out_off + off, out_name);
	}
	free(buf);
}

u64 layer_write(int raw_fd, u64 raw_size, struct stack *lower, const struct byte_range *r,
		size_t nr, const struct commit_opts *co, const struct zfile_opts *zo, bool tar,
		int out_fd, const char *out_name)
{
	char tmpl[4096];
	int tmp;
	u64 n;

	if (!zo && !tar)
		return lsmt_commit(raw_fd, raw_size, lower, r, nr, out_fd, co, out_name);
	snprintf(tmpl, sizeof(tmpl), "%s.lsmt.XXXXXX", out_name);
	tmp = mkstemp(tmpl);
	if (tmp < 0)
		die(EXIT_BAD_INPUT, "%s: %s", tmpl, strerror(errno));
	unlink(tmpl);
	n = lsmt_commit(raw_fd, raw_size, lower, r, nr, tmp, co, tmpl);
	if (zo)
		n = zfile_write(tmp, n, out_fd, tar ? OVBD_TAR_PAYLOAD_OFFSET : 0, zo, out_name);
	else
		copy_into(tmp, n, out_fd, OVBD_TAR_PAYLOAD_OFFSET, out_name);
	if (tar) {
		tar_finish(out_fd, n, out_name);
		n = ovbd_tar_blob_size(n);
	}
	close(tmp);
	return n;
}
