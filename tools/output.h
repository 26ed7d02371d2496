/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: how the commands write their output file, as rsync and dpkg do:
 * to a temporary file in the same directory, fsync'd and renamed into
 * place only on success, so that a failed command leaves nothing behind.
 * A path that is also an input (same device and inode) is refused, and
 * so, for the blob writers, is an existing non-empty file that is not an
 * OverlayBD blob, unless --force. Devices (/dev/null) are written in place.
 */
#ifndef OVBD_OUTPUT_H
#define OVBD_OUTPUT_H

#include <stdbool.h>

struct output {
	const char *path;	/* the name asked for */
	char *tmp;		/* the temporary name, NULL when written in place */
	int fd;
};

enum output_kind {
	OUTPUT_BLOB,		/* commit, zfile: refuse to replace what is not a blob */
	OUTPUT_RAW,		/* cat -o, zfile -d: replace any regular file */
};

/*
 * Open path for writing. inputs[0..n) are the command's input files.
 * Dies (exit 1) with a one-line reason when refused.
 */
void output_open(struct output *o, const char *path, enum output_kind kind,
		 char *const *inputs, int n, bool force);
/* fsync, rename into place, fsync the directory; dies on failure. */
void output_commit(struct output *o);

#endif /* OVBD_OUTPUT_H */
