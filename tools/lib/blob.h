/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: one layer blob opened through its wrappers: [tar] -> [zfile] -> content. */
#ifndef OVBD_BLOB_H
#define OVBD_BLOB_H

#include <ovbd/lsmt.h>
#include <ovbd/zfile.h>

struct blob {
	const char *path;
	int fd;
	u64 file_size;
	bool tar;
	u64 payload_off;	/* where the ZFile or LSMT file starts */
	u64 payload_size;
	bool zfile;
	struct ovbd_zfile zf;
	void *jump;
	ZSTD_DCtx *dctx;
	u8 *cbuf;		/* a run of stored blocks, read with one pread */
	u64 run_first, run_end;	/* blocks [run_first, run_end) are in cbuf */
	u64 run_off;		/* payload offset of cbuf[0] */
	u8 *dbuf;		/* one decoded block */
	u64 cached_blk;
	struct ovbd_zfile_extent next;	/* cursor for ovbd_zfile_extent_seek() */
	u64 content_size;	/* bytes after decompression */
	bool lsmt;
	struct ovbd_lsmt_layer layer;
	struct ovbd_seg *segs;	/* validated index, after blob_load_index() */
	char why[384];		/* the last error, "file: field ..." */
};

/* Open path and its wrappers. Returns 0, or -1 with b->why set. */
int blob_open(struct blob *b, const char *path);
/* Parse the LSMT header and trailer of the content. */
int blob_open_lsmt(struct blob *b);
/* Load and validate the LSMT index into b->segs. */
int blob_load_index(struct blob *b);
/* Read content bytes [off, off+len). Returns 0, or -1 with b->why set. */
int blob_read(struct blob *b, u64 off, void *buf, size_t len);
void blob_close(struct blob *b);
/* True when the blob's content (after tar and ZFile) is an LSMT file. */
bool blob_content_is_lsmt(struct blob *b);
/* Set b->why from a format core error and return -1. */
int blob_fail(struct blob *b, const struct ovbd_err *e);

#endif /* OVBD_BLOB_H */
