/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: writers of the three nested formats. */
#ifndef OVBD_WRITERS_H
#define OVBD_WRITERS_H

#include <ovbd/lsmt.h>
#include <ovbd/zfile.h>
#include <stdbool.h>
#include <stddef.h>

struct zfile_opts {
	u8 algo;
	u32 block_size;
	bool verify;
	bool overwrite_header;	/* as overlaybd-commit -z: fields in the header too */
};

/* Compress in_size bytes of in_fd into out_fd at out_off; returns bytes written. */
u64 zfile_write(int in_fd, u64 in_size, int out_fd, u64 out_off,
		const struct zfile_opts *o, const char *out_name);

/* Tar wrapper (ovbd/tar.h): the payload goes at OVBD_TAR_PAYLOAD_OFFSET, then tar_finish(). */
void tar_finish(int fd, u64 payload_size, const char *out_name);

struct commit_opts {
	const char *uuid;
	const char *parent;
	const char *message;
};

/*
 * Write a sealed LSMT layer to out_fd: the sectors of raw_fd (raw_size
 * bytes) that differ from lower (NULL: all zeros), looking only inside the
 * sorted ranges r[0..nr) when r is not NULL. Returns bytes written.
 */
struct stack;
/* A byte range of a raw image, 4 KiB aligned. */
struct byte_range {
	u64 off, len;
};
u64 lsmt_commit(int raw_fd, u64 raw_size, struct stack *lower, const struct byte_range *r,
		size_t nr, int out_fd, const struct commit_opts *o, const char *out_name);
/*
 * The same layer as a blob: ZFile-compressed when zo is not NULL, then
 * tar-wrapped when tar is set. Returns the blob's length.
 */
u64 layer_write(int raw_fd, u64 raw_size, struct stack *lower, const struct byte_range *r,
		size_t nr, const struct commit_opts *co, const struct zfile_opts *zo, bool tar,
		int out_fd, const char *out_name);

#endif /* OVBD_WRITERS_H */
