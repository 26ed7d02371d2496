/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LSMT: layered block map.
 * Layout: header (4096) | data | index (16 B per entry) | trailer (4096).
 *
 * Usage: ovbd_lsmt_open() on header and trailer, then feed the raw index
 * through ovbd_lsmt_index_begin/feed/end into a caller-provided segment
 * array, merge layers with ovbd_lsmt_merge() and look up sectors with
 * ovbd_lsmt_lookup().
 *
 * Memory follows the valid entries, never index_size: padding entries
 * cost nothing, so a small blob that decompresses to a huge padded index
 * pins no memory. Callers grow the segment array as entries arrive.
 */
#ifndef OVBD_LSMT_H
#define OVBD_LSMT_H

#include "error.h"
#include "ondisk.h"

#define OVBD_LSMT_HDR_SIZE	4096
#define OVBD_LSMT_ENTRY_SIZE	16
#define OVBD_LSMT_MAX_LAYERS	255
#define OVBD_LSMT_MAX_INDEX	(128ull << 20)	/* entries, as upstream */
#define OVBD_LSMT_MAX_LEN	16383u		/* sectors in one entry */
#define OVBD_LSMT_INVALID	((1ull << 50) - 1)	/* padding offset; also the end limit */
#define OVBD_LSMT_UUID_LEN	37
#define OVBD_LSMT_TAG_LEN	256

/* The flag bits (OVBD_LSMT_FLAG_*) are in ondisk.h, with the layout. */

struct ovbd_lsmt_hdr {
	u32 struct_size;
	u32 flags;
	u64 index_offset;	/* bytes */
	u64 index_size;		/* entries */
	u64 virtual_size;	/* bytes */
	char uuid[OVBD_LSMT_UUID_LEN + 1];
	char parent_uuid[OVBD_LSMT_UUID_LEN + 1];
	u8 version;
	u8 sub_version;
	char user_tag[OVBD_LSMT_TAG_LEN + 1];
};

/* The sectors that a virtual size of bytes covers, its last partial sector included. */
static inline u64 ovbd_lsmt_bytes_to_sectors(u64 bytes)
{
	return (bytes >> 9) + !!(bytes & 511);
}

/*
 * The sectors virtual_size covers, its last partial sector included (any
 * byte count is valid): where the index is clipped. A device of 512-byte
 * sectors maps virtual_size >> 9 of them.
 */
static inline u64 ovbd_lsmt_vsectors(const struct ovbd_lsmt_hdr *h)
{
	return ovbd_lsmt_bytes_to_sectors(h->virtual_size);
}

/*
 * One mapping, kept in the on-disk bit layout (native endian):
 * a: offset (bits 0..49, sector), length (50..63, sectors);
 * b: moffset (0..54, sector in the layer file), zeroed (55), tag (56..63).
 * On disk the tag means nothing to a reader (overlaybd-merge writes its
 * source layer there); loading clears it. After a merge it is the layer
 * number, 0 at the bottom.
 */
struct ovbd_seg {
	u64 a;
	u64 b;
};

static inline u64 ovbd_seg_offset(const struct ovbd_seg *s) { return s->a & OVBD_LSMT_INVALID; }
static inline u32 ovbd_seg_len(const struct ovbd_seg *s) { return (u32)(s->a >> 50); }
static inline u64 ovbd_seg_end(const struct ovbd_seg *s) { return ovbd_seg_offset(s) + ovbd_seg_len(s); }
static inline u64 ovbd_seg_moffset(const struct ovbd_seg *s) { return s->b & ((1ull << 55) - 1); }
static inline bool ovbd_seg_zeroed(const struct ovbd_seg *s) { return (s->b >> 55) & 1; }
static inline u8 ovbd_seg_tag(const struct ovbd_seg *s) { return (u8)(s->b >> 56); }

static inline struct ovbd_seg ovbd_seg_make(u64 offset, u32 len, u64 moffset,
					    bool zeroed, u8 tag)
{
	struct ovbd_seg s;

	s.a = (offset & OVBD_LSMT_INVALID) | (u64)len << 50;
	s.b = (moffset & ((1ull << 55) - 1)) | (u64)zeroed << 55 | (u64)tag << 56;
	return s;
}

struct ovbd_lsmt_layer {
	struct ovbd_lsmt_hdr head;
	struct ovbd_lsmt_hdr tail;	/* authoritative index and size */
	u64 file_size;
	u64 data_end;			/* sector where the data area ends */
	/* index loading state */
	struct ovbd_seg *segs;
	u64 cap;			/* room in segs */
	u64 nsegs;			/* valid entries kept */
	u64 fed;			/* raw entries seen */
	u64 prev_end;
	/*
	 * Zeroed entries whose moffset lies outside [8, data_end]: readers
	 * never use it, but upstream's reader refuses such a layer, so
	 * ovbd verify warns.  The count and the first entry number.
	 */
	u64 zeroed_outside;
	u64 first_zeroed_outside;
	/* entries that reach past virtual_size: clipped to it, or dropped when wholly past */
	u64 clipped;
};

/* True when buf starts with the LSMT magic. */
bool ovbd_lsmt_magic(const u8 *buf, size_t len);

int ovbd_lsmt_decode_hdr(const u8 *buf, struct ovbd_lsmt_hdr *h,
			 struct ovbd_err *e);
/* Write h into a 4096-byte buf, zero-filled, with magics. */
void ovbd_lsmt_encode_hdr(const struct ovbd_lsmt_hdr *h, u8 *buf);
/* Encode one index entry into 16 bytes. */
void ovbd_lsmt_encode_entry(const struct ovbd_seg *s, u8 *raw);

/* Validate a sealed layer file of file_size bytes from its first and last 4 KiB. */
int ovbd_lsmt_open(struct ovbd_lsmt_layer *l, const u8 *head, const u8 *tail,
		   u64 file_size, struct ovbd_err *e);

/*
 * Index loading into segs, which has room for cap entries. Invalid
 * (padding) entries are dropped; the rest must be sorted, disjoint, end
 * at or below 2^50 - 1 sectors and point inside the data area. Where
 * virtual_size is set, an entry is clipped to ovbd_lsmt_vsectors(), and
 * one wholly past it is dropped (as upstream reads them). nsegs is the count kept.
 *
 * Feed n raw entries only while cap - nsegs >= n; otherwise grow segs
 * (copying the nsegs kept) and call ovbd_lsmt_index_grow() first.
 */
void ovbd_lsmt_index_begin(struct ovbd_lsmt_layer *l, struct ovbd_seg *segs, u64 cap);
void ovbd_lsmt_index_grow(struct ovbd_lsmt_layer *l, struct ovbd_seg *segs, u64 cap);
int ovbd_lsmt_index_feed(struct ovbd_lsmt_layer *l, const u8 *raw, size_t n,
			 struct ovbd_err *e);
int ovbd_lsmt_index_end(struct ovbd_lsmt_layer *l, struct ovbd_err *e);

/* Merge: layers bottom first, top wins. */
struct ovbd_merge_src {
	const struct ovbd_seg *segs;
	u64 n;
};

size_t ovbd_lsmt_merge_scratch_bytes(unsigned int nlayers);
/*
 * Merge nlayers (1..255) sorted layers into out (cap entries), tagging
 * each piece with its layer number.  With out == NULL only *count is set,
 * so callers size the output exactly in a first pass.  The output is
 * checked to be sorted and disjoint as it is made.  The merge calls
 * ovbd_should_stop() every OVBD_LSMT_MERGE_STEP events and returns
 * -EINTR when it says so.
 */
#define OVBD_LSMT_MERGE_STEP	65536
int ovbd_lsmt_merge(const struct ovbd_merge_src *src, unsigned int nlayers,
		    void *scratch, struct ovbd_seg *out, u64 cap, u64 *count,
		    struct ovbd_err *e);

enum ovbd_piece_kind {
	OVBD_PIECE_HOLE,	/* no layer maps it: zeros */
	OVBD_PIECE_ZERO,	/* a zeroed entry: zeros */
	OVBD_PIECE_DATA,	/* data in layer at moffset */
};

struct ovbd_piece {
	u64 sectors;
	u64 moffset;
	u8 kind;
	u8 layer;
};

/*
 * The first piece of [sector, sector + max) in a merged index.
 * Returns the index of the segment after the piece, as a hint.
 */
u64 ovbd_lsmt_lookup(const struct ovbd_seg *segs, u64 n, u64 sector, u64 max,
		     struct ovbd_piece *p);

#endif /* OVBD_LSMT_H */
