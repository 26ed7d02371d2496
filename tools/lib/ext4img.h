/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: an ext4 image file that OCI layer tars are applied to, rootless,
 * with libext2fs (no loop device, no mount). Each open records the blocks
 * it writes, so that a layer's diff is exactly what the layer changed.
 * Library code: functions return 0 or -1 with why set; only commands die.
 */
#ifndef OVBD_EXT4IMG_H
#define OVBD_EXT4IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "writers.h"

struct archive;


/*
 * The file system's fixed mke2fs options (documented in ovbd.8 and the
 * README): 4 KiB blocks, 256-byte inodes, no reserved blocks, a fixed
 * feature list, uuid and hash seed, so that a conversion is reproducible.
 */
#define EXT4IMG_UUID		"4f564244-6578-7434-0000-000000000001"
#define EXT4IMG_HASH_SEED	"4f564244-6578-7434-0000-000000000002"
#define EXT4IMG_FEATURES	"none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent," \
				"64bit,flex_bg,sparse_super,large_file,huge_file,dir_nlink," \
				"extra_isize,metadata_csum"
#define EXT4IMG_MIN_SIZE	(64ull << 20)
#define EXT4IMG_MAX_SIZE	(4ull << 40)

/* Make a sparse file of size bytes at path and mke2fs it; now: every timestamp. */
int ext4img_mkfs(const char *path, uint64_t size, time_t now, char *why, size_t len);

struct ext4img;
/* Open the file system at path for writing, recording the blocks written. */
int ext4img_open(struct ext4img **img, const char *path, time_t now, char *why, size_t len);

/*
 * Apply one layer: the tar entries of a, in order, with overlayfs-style
 * whiteouts (.wh.NAME, .wh..wh..opq). Regular files, directories,
 * symlinks, hard links, device nodes, FIFOs and sockets keep their mode,
 * owner, mtime and xattrs. Refuses absolute paths and '..' components,
 * hard links and whiteouts naming a missing path, and a full file system;
 * why names the entry.
 */
int ext4img_apply(struct ext4img *img, struct archive *a, char *why, size_t len);

/*
 * Write everything back and close. *r (sorted, to be freed) and *nr
 * receive the ranges written since ext4img_open; may be NULL on error.
 */
int ext4img_close(struct ext4img *img, struct byte_range **r, size_t *nr, char *why, size_t len);

/* The ranges of fd that hold data (SEEK_DATA/SEEK_HOLE), 4 KiB aligned. */
int file_data_ranges(int fd, uint64_t size, struct byte_range **r, size_t *nr, char *why,
		     size_t len);

/*
 * Read the file at path (inside the image: its symbolic links resolve with
 * the image's root as "/") from the ext4 file system on the stack s's disk,
 * read-only, through the stack's own reads (no mount, no root). *buf (to
 * be freed, NUL-terminated) and *n receive at most max bytes. 0; 1 when
 * the file does not exist; -1 with why set.
 */
struct stack;
int ext4img_read_file(struct stack *s, const char *path, char **buf, size_t *n, size_t max,
		      char *why, size_t len);

#endif /* OVBD_EXT4IMG_H */
