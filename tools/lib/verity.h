/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: dm-verity hash trees of layer blobs, byte for byte what
 * `veritysetup format` writes for the blob as data device: a 512-byte
 * superblock in the first hash block, then the tree from the top level
 * down to the level of the data blocks' digests; sha256, hash type 1
 * (digest = sha256(salt || block)), 4096-byte hash blocks.
 *
 * A layer's data blocks are 4096 bytes when both the blob's size and its
 * payload's offset (after a tar wrapper) are multiples of 4096, else 512
 * bytes (a tar-wrapped blob is always a multiple of 512): every byte that
 * the targets can read is in a data block, and the targets above the
 * verity device, which read the payload at sector granularity, never issue
 * an I/O that is not aligned to one.
 *
 * The builder takes the blob as a stream (a pull hashes what it downloads):
 * level 0 goes to the tree file as it is made, the levels above are made at
 * the end from the file, so memory is one hash block per level.
 * Library code: functions return 0 or -1 with why set.
 */
#ifndef OVBD_VERITY_H
#define OVBD_VERITY_H

#include <ovbd/port.h>

#define VERITY_HASH_BLOCK	4096
#define VERITY_DIGEST		32		/* sha256 */
#define VERITY_SALT		32		/* bytes of salt ovbd makes */
#define VERITY_MAX_LEVELS	16
#define VERITY_HEX_ROOT		(2 * VERITY_DIGEST + 1)

/* What names a tree: enough for veritysetup and for the dm-verity table. */
struct verity_params {
	u32 data_block_size;		/* 4096 or 512 */
	u64 data_blocks;		/* blob size / data_block_size */
	u8 salt[VERITY_SALT];
	u32 salt_size;
	u64 hash_offset;		/* bytes: where the tree starts in the tree file (its first level) */
	u64 tree_size;			/* bytes of the tree file, superblock included */
};

struct verity_builder {
	struct verity_params p;
	int fd;				/* the tree file */
	const char *path;
	unsigned int levels;
	u64 level_off[VERITY_MAX_LEVELS];	/* byte offset of each level, 0 the data digests' */
	u64 level_blocks[VERITY_MAX_LEVELS];
	u64 fed;			/* data bytes taken */
	u64 blk;			/* data blocks hashed */
	u32 part;			/* bytes of the current data block */
	u8 *dblock;			/* the current data block */
	u8 hblock[VERITY_HASH_BLOCK];	/* the level-0 hash block being filled */
	u32 hfill;
	struct evp_md_ctx_st *ctx;
	struct evp_md_ctx_st *salted;	/* sha256 that took the salt: copied for each block */
};

/*
 * The data block size of a blob of size bytes whose payload starts at
 * payload_off, or 0 when the size is not a multiple of 512: 4096 where
 * the size is a multiple of it and the target above reads aligned to it
 * (the zfile target rounds its reads out to its lower device's logical
 * block size, so a ZFile payload may start anywhere; the lsmt target
 * reads an uncompressed payload at sector granularity, so its payload
 * must start on a 4096-byte boundary), else 512.
 */
u32 verity_data_block_size(u64 size, u64 payload_off, bool zfile);
/*
 * Start the tree of a blob of size bytes in the file fd (path for
 * messages), with data blocks of dbs bytes (4096 or 512, dividing size)
 * and salt (salt_size bytes, at most VERITY_SALT). The file is truncated
 * to the tree's size.
 */
int verity_begin(struct verity_builder *vb, u64 size, u32 dbs, const u8 *salt, u32 salt_size,
		 int fd, const char *path, char *why, size_t len);
/* The next len bytes of the blob. */
int verity_update(struct verity_builder *vb, const void *buf, size_t len, char *why, size_t wlen);
/* Once every byte was taken: the upper levels and the superblock; root receives the root hash. */
int verity_finish(struct verity_builder *vb, u8 root[VERITY_DIGEST], char *why, size_t len);
void verity_abort(struct verity_builder *vb);

/*
 * The tree of the blob file blob into the file tree (made or replaced),
 * with data blocks of dbs bytes (0: verity_data_block_size() of the blob).
 */
int verity_tree_file(const char *blob, const char *tree, u32 dbs, const u8 *salt, u32 salt_size,
		     struct verity_params *p, u8 root[VERITY_DIGEST], char *why, size_t len);
/*
 * The parameters in a tree file's superblock (sha256, hash type 1 and
 * 4096-byte hash blocks, or refused): p's data block size, count and salt.
 */
int verity_read_superblock(const char *tree, struct verity_params *p, char *why, size_t len);
/* A random salt of VERITY_SALT bytes. */
int verity_salt(u8 *salt, char *why, size_t len);

/* Hex forms for annotations and tables. */
void verity_hex(const u8 *b, size_t n, char *out);
/* Parse exactly n bytes of hex; false when malformed. */
bool verity_unhex(const char *hex, u8 *b, size_t n);

#endif /* OVBD_VERITY_H */
