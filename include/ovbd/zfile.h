/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZFile: random-access compressed container.
 * Layout: header (512) | blocks | index (u32 per block) | trailer (512).
 *
 * Usage: ovbd_zfile_open() on the header (and the trailer, unless the
 * header holds the overwritten fields), then feed the raw index through
 * ovbd_zfile_index_begin/feed/end into caller-provided jump table memory,
 * then map blocks with ovbd_zfile_block_extent() and decode them with
 * ovbd_zfile_decode_block().
 */
#ifndef OVBD_ZFILE_H
#define OVBD_ZFILE_H

#include "error.h"
#include "ondisk.h"

#define OVBD_ZF_HDR_SIZE	512
#define OVBD_ZF_FIELDS_SIZE	96
#define OVBD_ZF_BLOCK_MIN	4096u
#define OVBD_ZF_BLOCK_MAX	65536u
#define OVBD_ZF_CRC_SEED	100007u

/* The flag bits (OVBD_ZF_FLAG_*) are in ondisk.h, with the layout. */

enum ovbd_zf_algo {
	OVBD_ZF_ALGO_LZO = 0,	/* never implemented upstream */
	OVBD_ZF_ALGO_LZ4 = 1,
	OVBD_ZF_ALGO_ZSTD = 2,
};

/* Jump table: one u64 base and one bitmap word per group of blocks. */
#define OVBD_ZF_GROUP_SHIFT	5
#define OVBD_ZF_GROUP		(1u << OVBD_ZF_GROUP_SHIFT)

/* The fields of one 512-byte header or trailer. */
struct ovbd_zfile_hdr {
	u32 struct_size;
	u32 digest;
	u64 flags;
	u64 index_offset;
	u64 index_size;		/* number of u32 entries */
	u64 original_size;	/* decompressed bytes */
	u32 index_crc;
	u32 block_size;
	u8 algo;
	u8 level;
	u8 use_dict;
	u8 verify;
	u32 dict_size;
};

struct ovbd_zfile {
	struct ovbd_zfile_hdr h;	/* the authoritative fields */
	u64 blob_size;			/* bytes of the ZFile, 0 if unknown */
	u64 nblocks;
	u64 data_offset;		/* first compressed block */
	u32 block_shift;
	u32 max_stored;			/* bound of one stored block, with CRC */
	bool from_header;		/* fields came from the header */

	/* jump table, in memory from ovbd_zfile_jump_bytes() */
	u64 *group_base;
	u32 *group_high;		/* bit 16 of each stored length */
	u16 *len_low;
	/* index loading state */
	u64 loaded;
	u64 data_end;
	u32 crc;
};

/* True when buf starts with the ZFile magic. */
bool ovbd_zfile_magic(const u8 *buf, size_t len);

/* Decode and check one header or trailer struct (magic, size, digest). */
int ovbd_zfile_decode_hdr(const u8 *buf, struct ovbd_zfile_hdr *h,
			  struct ovbd_err *e);
/* Write h into a zeroed 512-byte buf with magics, and the digest if flagged. */
void ovbd_zfile_encode_hdr(const struct ovbd_zfile_hdr *h, u8 *buf);

/* True when the trailer must be read: the header lacks the overwrite bit. */
bool ovbd_zfile_needs_trailer(const u8 *head);

/*
 * Validate a ZFile of blob_size bytes (0 if unknown and the header holds
 * the fields).  tail is the last 512 bytes, or NULL when not needed.
 */
int ovbd_zfile_open(struct ovbd_zfile *zf, const u8 *head, const u8 *tail,
		    u64 blob_size, struct ovbd_err *e);

/* Worst-case stored size of one block, including its CRC. 0 if unknown algo. */
u32 ovbd_zfile_stored_bound(unsigned int algo, u32 block_size, bool verify);

/* Bytes of jump table memory for the opened ZFile. */
size_t ovbd_zfile_jump_bytes(const struct ovbd_zfile *zf);
void ovbd_zfile_index_begin(struct ovbd_zfile *zf, void *mem);
/* Feed n raw little-endian u32 index entries, in order. */
int ovbd_zfile_index_feed(struct ovbd_zfile *zf, const u8 *raw, size_t n,
			  struct ovbd_err *e);
/* Check count and index_crc once everything was fed. */
int ovbd_zfile_index_end(struct ovbd_zfile *zf, struct ovbd_err *e);

/* Byte offset (from the ZFile start) and stored length of block blk. */
void ovbd_zfile_block_extent(const struct ovbd_zfile *zf, u64 blk, u64 *off,
			     u32 *len);
/*
 * Consecutive blocks' extents in O(1) a step: ovbd_zfile_block_extent()
 * adds up to a group's worth of stored lengths, which a sequential read
 * would pay for every block. ovbd_zfile_extent_at() places x on block blk;
 * ovbd_zfile_extent_next() moves it to the next block, which must exist.
 */
struct ovbd_zfile_extent {
	u64 blk;			/* the block */
	u64 off;			/* its offset from the ZFile start */
	u32 len;			/* its stored length */
};

void ovbd_zfile_extent_at(const struct ovbd_zfile *zf, u64 blk,
			  struct ovbd_zfile_extent *x);
void ovbd_zfile_extent_next(const struct ovbd_zfile *zf,
			    struct ovbd_zfile_extent *x);
/*
 * Offset and stored length of block blk, through a reader's cursor x that
 * holds the block after the one it last gave: O(1) when blk is that block
 * (a sequential read), ovbd_zfile_block_extent() otherwise. Start x with
 * x->blk = ~0.
 */
void ovbd_zfile_extent_seek(const struct ovbd_zfile *zf, struct ovbd_zfile_extent *x,
			    u64 blk, u64 *off, u32 *len);
/* Decompressed length of block blk. */
u32 ovbd_zfile_block_bytes(const struct ovbd_zfile *zf, u64 blk);

/*
 * Verify and decode block blk from its stored bytes into dst, which holds
 * at least ovbd_zfile_block_bytes().  dctx is needed for zstd only.
 * Returns 0, -EBADMSG on a CRC mismatch, -EINVAL on a decode failure.
 */
int ovbd_zfile_decode_block(const struct ovbd_zfile *zf, u64 blk,
			    const u8 *src, u32 src_len, u8 *dst,
			    ovbd_zstd_dctx *dctx, struct ovbd_err *e);

#endif /* OVBD_ZFILE_H */
