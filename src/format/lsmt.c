// SPDX-License-Identifier: GPL-2.0-only
/* LSMT parsing, index validation, layer merge and lookup. Pure: no I/O, no allocation. */
#include <ovbd/lsmt.h>

static const u8 lsmt_magic0[8] = { 'L', 'S', 'M', 'T', 0, 1, 2, 0 };
static const u8 lsmt_magic1[16] = { 0x65, 0x7E, 0x63, 0xD2, 0x94, 0x44, 0x08, 0x4C,
				    0xA2, 0xD2, 0xC8, 0xEC, 0x4F, 0xCF, 0xAE, 0x8A };

/* Field offsets: the layout is struct ovbd_lsmt_ondisk (ondisk.h). */
#define LH_OFF(field)		OVBD_ONDISK_OFF(ovbd_lsmt_ondisk, field)
#define LH_OFF_SIZE		LH_OFF(struct_size)
#define LH_OFF_FLAGS		LH_OFF(flags)
#define LH_OFF_INDEX_OFFSET	LH_OFF(index_offset)
#define LH_OFF_INDEX_SIZE	LH_OFF(index_size)
#define LH_OFF_VSIZE		LH_OFF(virtual_size)
#define LH_OFF_UUID		LH_OFF(uuid)
#define LH_OFF_PARENT		LH_OFF(parent_uuid)
#define LH_OFF_VERSION		LH_OFF(version)
#define LH_OFF_SUBVER		LH_OFF(sub_version)
#define LH_OFF_TAG		LH_OFF(user_tag)
#define LH_FIELDS_END		LH_OFF(reserved)

#define LSMT_DATA_START	(OVBD_LSMT_HDR_SIZE / 512)

bool ovbd_lsmt_magic(const u8 *buf, size_t len)
{
	return len >= 24 && !memcmp(buf, lsmt_magic0, 8) &&
	       !memcmp(buf + 8, lsmt_magic1, 16);
}

static void copy_str(char *dst, const u8 *src, size_t len)
{
	size_t i;

	for (i = 0; i < len && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = 0;
}

int ovbd_lsmt_decode_hdr(const u8 *b, struct ovbd_lsmt_hdr *h,
			 struct ovbd_err *e)
{
	if (!ovbd_lsmt_magic(b, OVBD_LSMT_HDR_SIZE))
		return ovbd_fail(e, EINVAL, "lsmt magic",
				 "\"LSMT\\0\\1\\2\\0\" followed by magic1");
	h->struct_size = ovbd_get_le32(b + LH_OFF_SIZE);
	h->flags = ovbd_get_le32(b + LH_OFF_FLAGS);
	h->index_offset = ovbd_get_le64(b + LH_OFF_INDEX_OFFSET);
	h->index_size = ovbd_get_le64(b + LH_OFF_INDEX_SIZE);
	h->virtual_size = ovbd_get_le64(b + LH_OFF_VSIZE);
	copy_str(h->uuid, b + LH_OFF_UUID, OVBD_LSMT_UUID_LEN);
	copy_str(h->parent_uuid, b + LH_OFF_PARENT, OVBD_LSMT_UUID_LEN);
	h->version = b[LH_OFF_VERSION];
	h->sub_version = b[LH_OFF_SUBVER];
	copy_str(h->user_tag, b + LH_OFF_TAG, OVBD_LSMT_TAG_LEN);
	if (h->struct_size < LH_OFF_TAG || h->struct_size > OVBD_LSMT_HDR_SIZE)
		return ovbd_fail_val(e, EINVAL, "lsmt struct size", h->struct_size,
				     "134..4096 (390)");
	if (h->flags & ~OVBD_LSMT_FLAGS_KNOWN)
		return ovbd_fail_val(e, EOPNOTSUPP, "lsmt flags: unknown bits",
				     h->flags & ~OVBD_LSMT_FLAGS_KNOWN,
				     "only bits 0..5 (header, data, sealed, gc, sparse, info)");
	return 0;
}

static void put_str(u8 *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len && src[i]; i++)
		dst[i] = (u8)src[i];
}

void ovbd_lsmt_encode_hdr(const struct ovbd_lsmt_hdr *h, u8 *b)
{
	memset(b, 0, OVBD_LSMT_HDR_SIZE);
	memcpy(b, lsmt_magic0, 8);
	memcpy(b + 8, lsmt_magic1, 16);
	ovbd_put_le32(b + LH_OFF_SIZE, h->struct_size);
	ovbd_put_le32(b + LH_OFF_FLAGS, h->flags);
	ovbd_put_le64(b + LH_OFF_INDEX_OFFSET, h->index_offset);
	ovbd_put_le64(b + LH_OFF_INDEX_SIZE, h->index_size);
	ovbd_put_le64(b + LH_OFF_VSIZE, h->virtual_size);
	put_str(b + LH_OFF_UUID, h->uuid, OVBD_LSMT_UUID_LEN - 1);
	put_str(b + LH_OFF_PARENT, h->parent_uuid, OVBD_LSMT_UUID_LEN - 1);
	b[LH_OFF_VERSION] = h->version;
	b[LH_OFF_SUBVER] = h->sub_version;
	put_str(b + LH_OFF_TAG, h->user_tag, OVBD_LSMT_TAG_LEN - 1);
}

void ovbd_lsmt_encode_entry(const struct ovbd_seg *s, u8 *raw)
{
	ovbd_put_le64(raw, s->a);
	ovbd_put_le64(raw + 8, s->b);
}

int ovbd_lsmt_open(struct ovbd_lsmt_layer *l, const u8 *head, const u8 *tail,
		   u64 file_size, struct ovbd_err *e)
{
	const struct ovbd_lsmt_hdr *t = &l->tail;
	u64 room;
	int ret;

	memset(l, 0, sizeof(*l));
	l->file_size = file_size;
	if (file_size < 2 * OVBD_LSMT_HDR_SIZE)
		return ovbd_fail_val(e, EINVAL, "lsmt file size", file_size,
				     "at least 8192 bytes (header and trailer)");
	ret = ovbd_lsmt_decode_hdr(head, &l->head, e);
	if (ret)
		return ret;
	if (!(l->head.flags & OVBD_LSMT_FLAG_HEADER))
		return ovbd_fail_val(e, EINVAL, "lsmt header flags", l->head.flags,
				     "bit 0 (header) set");
	ret = ovbd_lsmt_decode_hdr(tail, &l->tail, e);
	if (ret) {
		/* name the trailer: the same fields fail in either struct */
		if (e && e->field && !strcmp(e->field, "lsmt magic"))
			e->field = "lsmt trailer magic";
		else if (e && e->field)
			e->field = "lsmt trailer struct size";
		return ret;
	}
	if ((t->flags & (OVBD_LSMT_FLAG_HEADER | OVBD_LSMT_FLAG_DATA |
			 OVBD_LSMT_FLAG_SEALED)) !=
	    (OVBD_LSMT_FLAG_DATA | OVBD_LSMT_FLAG_SEALED))
		return ovbd_fail_val(e, EINVAL, "lsmt trailer flags", t->flags,
				     "a sealed data file (bits 1 and 2 set, bit 0 clear)");
	/*
	 * virtual_size need not be a multiple of 512: upstream's tools take
	 * any byte count. The index may map the last, partial sector; a
	 * device of 512-byte sectors maps virtual_size / 512 of them (as
	 * loop and nbd round a size down), and ovbd reads every byte.
	 */
	if (ovbd_lsmt_vsectors(t) >= OVBD_LSMT_INVALID)
		return ovbd_fail_val(e, EINVAL, "lsmt virtual_size", t->virtual_size,
				     "below 2^59 bytes");
	room = file_size - OVBD_LSMT_HDR_SIZE;
	if (t->index_offset < OVBD_LSMT_HDR_SIZE || t->index_offset > room)
		return ovbd_fail_val(e, EINVAL, "lsmt index_offset", t->index_offset,
				     "between the header and the trailer");
	if (t->index_size > OVBD_LSMT_MAX_INDEX ||
	    t->index_size > (room - t->index_offset) / OVBD_LSMT_ENTRY_SIZE)
		return ovbd_fail_val(e, EINVAL, "lsmt index_size", t->index_size,
				     "an index that ends before the trailer (at most 128M entries)");
	l->data_end = t->index_offset >> 9;
	return 0;
}

void ovbd_lsmt_index_begin(struct ovbd_lsmt_layer *l, struct ovbd_seg *segs, u64 cap)
{
	l->segs = segs;
	l->cap = cap;
	l->nsegs = 0;
	l->fed = 0;
	l->prev_end = 0;
	l->zeroed_outside = 0;
	l->first_zeroed_outside = 0;
}

void ovbd_lsmt_index_grow(struct ovbd_lsmt_layer *l, struct ovbd_seg *segs, u64 cap)
{
	l->segs = segs;
	l->cap = cap;
}

int ovbd_lsmt_index_feed(struct ovbd_lsmt_layer *l, const u8 *raw, size_t n,
			 struct ovbd_err *e)
{
	u64 vsectors = ovbd_lsmt_vsectors(&l->tail);
	size_t i;

	if (n > l->tail.index_size - l->fed)
		return ovbd_fail_val(e, EINVAL, "lsmt index entries", l->fed + n,
				     "at most index_size entries");
	if (n > l->cap - l->nsegs)
		return ovbd_fail_val(e, ENOSPC, "lsmt index room", l->cap - l->nsegs,
				     "room for every entry fed (a caller bug)");
	for (i = 0; i < n; i++, raw += OVBD_LSMT_ENTRY_SIZE) {
		struct ovbd_seg s = { ovbd_get_le64(raw), ovbd_get_le64(raw + 8) };
		u64 off = ovbd_seg_offset(&s), len = ovbd_seg_len(&s);
		u64 moff = ovbd_seg_moffset(&s), entry = l->fed + i;

		if (off == OVBD_LSMT_INVALID)
			continue;
		if (!len)
			return ovbd_fail_at(e, EINVAL, "lsmt index entry length", len,
					    "1..16383 sectors", "entry", entry);
		if (off < l->prev_end)
			return ovbd_fail_at(e, EINVAL, "lsmt index entry offset", off,
					    "entries sorted by offset, not overlapping the one before",
					    "entry", entry);
		if (off + len > OVBD_LSMT_INVALID)
			return ovbd_fail_at(e, EINVAL, "lsmt index entry end", off + len,
					    "at most 2^50 - 1 sectors", "entry", entry);
		if (ovbd_seg_zeroed(&s)) {
			if (moff < LSMT_DATA_START || moff > l->data_end) {
				if (!l->zeroed_outside++)
					l->first_zeroed_outside = entry;
			}
			moff = 0;
		} else if (moff < LSMT_DATA_START || moff > l->data_end ||
			   l->data_end - moff < len) {
			return ovbd_fail_at(e, EINVAL, "lsmt index entry moffset", moff,
					    "data between sector 8 and index_offset / 512",
					    "entry", entry);
		}
		l->prev_end = off + len;
		/*
		 * Past virtual_size: overlaybd-merge of a stack whose top layer
		 * shrinks the image keeps the lower layers' entries there, and
		 * upstream reads exactly virtual_size. An entry that ends past it
		 * maps only its part inside; one wholly past it maps nothing (it
		 * was checked like any other: sorted, inside the data area).
		 */
		if (vsectors && off >= vsectors) {
			l->clipped++;
			continue;
		}
		if (vsectors && off + len > vsectors) {
			len = vsectors - off;
			l->clipped++;
		}
		/* the on-disk tag is ignored: overlaybd-merge stores its source layer */
		l->segs[l->nsegs++] = ovbd_seg_make(off, (u32)len, moff,
						    ovbd_seg_zeroed(&s), 0);
	}
	l->fed += n;
	return 0;
}

int ovbd_lsmt_index_end(struct ovbd_lsmt_layer *l, struct ovbd_err *e)
{
	if (l->fed != l->tail.index_size)
		return ovbd_fail_val(e, EINVAL, "lsmt index entries", l->fed,
				     "index_size entries");
	return 0;
}

/* Merge: a sweep over segment starts and ends with a min-heap of layers. */
struct heap_entry {
	u64 key;		/* the layer's next event */
	u64 layer;
};

struct merge_state {
	const struct ovbd_merge_src *src;
	u64 *idx;		/* current segment of each layer */
	struct heap_entry *heap;	/* layers with events left, by next event */
	unsigned int nheap;
	u64 active[4];		/* layers inside their current segment */
};

static bool is_active(const struct merge_state *m, unsigned int l)
{
	return (m->active[l >> 6] >> (l & 63)) & 1;
}

static u64 next_event(const struct merge_state *m, unsigned int l)
{
	const struct ovbd_seg *s = &m->src[l].segs[m->idx[l]];

	return is_active(m, l) ? ovbd_seg_end(s) : ovbd_seg_offset(s);
}

static void heap_sift_down(struct merge_state *m, unsigned int i)
{
	struct heap_entry moving = m->heap[i];

	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= m->nheap)
			break;
		/*
		 * The smaller child without a branch: interleaved layers make
		 * this comparison a coin toss, and gcc -O2 (not -Os) compiled
		 * the "if" as a jump that mispredicted half the time (the
		 * 255 x 10 000 ctr took 1.5 times as long: bench/analysis.md)
		 */
		if (c + 1 < m->nheap)
			c += m->heap[c + 1].key < m->heap[c].key;
		if (m->heap[c].key >= moving.key)
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	m->heap[i] = moving;
}

static int top_layer(const struct merge_state *m)
{
	int w;

	for (w = 3; w >= 0; w--)
		if (m->active[w])	/* the highest set bit: one instruction */
			return w * 64 + 63 - __builtin_clzll(m->active[w]);
	return -1;
}

/* Apply the events of layer l at pos; false when the layer has no events left. */
static bool layer_step(struct merge_state *m, unsigned int l, u64 pos)
{
	const struct ovbd_merge_src *s = &m->src[l];

	if (is_active(m, l)) {
		m->active[l >> 6] &= ~(1ull << (l & 63));
		if (++m->idx[l] == s->n)
			return false;
	}
	if (ovbd_seg_offset(&s->segs[m->idx[l]]) == pos)
		m->active[l >> 6] |= 1ull << (l & 63);
	return true;
}

size_t ovbd_lsmt_merge_scratch_bytes(unsigned int nlayers)
{
	return nlayers * (sizeof(u64) + sizeof(struct heap_entry));
}

int ovbd_lsmt_merge(const struct ovbd_merge_src *src, unsigned int nlayers,
		    void *scratch, struct ovbd_seg *out, u64 cap, u64 *count,
		    struct ovbd_err *e)
{
	struct merge_state m;
	int run_layer = -1;
	u64 run_idx = 0, run_start = 0, n = 0, prev_end = 0, steps = 0;
	unsigned int l;

	if (!nlayers || nlayers > OVBD_LSMT_MAX_LAYERS)
		return ovbd_fail_val(e, EINVAL, "lsmt layers", nlayers, "1..255");
	memset(&m, 0, sizeof(m));
	m.src = src;
	m.idx = scratch;
	m.heap = (struct heap_entry *)(m.idx + nlayers);
	for (l = 0; l < nlayers; l++) {
		m.idx[l] = 0;
		if (src[l].n) {
			m.heap[m.nheap].layer = l;
			m.heap[m.nheap++].key = ovbd_seg_offset(&src[l].segs[0]);
		}
	}
	for (l = m.nheap / 2; l-- > 0;)
		heap_sift_down(&m, l);

	while (m.nheap) {
		u64 pos = m.heap[0].key;
		int w;

		if (!(++steps % OVBD_LSMT_MERGE_STEP) && ovbd_should_stop())
			return ovbd_fail_val(e, EINTR, "lsmt merged entries before a stop", n,
					     "a merge to the end (ovbd_should_stop() asked to stop)");
		while (m.nheap && m.heap[0].key == pos) {
			unsigned int top = (unsigned int)m.heap[0].layer;

			if (layer_step(&m, top, pos))
				m.heap[0].key = next_event(&m, top);
			else
				m.heap[0] = m.heap[--m.nheap];
			heap_sift_down(&m, 0);
		}
		w = top_layer(&m);
		if (w == run_layer && (w < 0 || m.idx[w] == run_idx))
			continue;
		if (run_layer >= 0) {
			const struct ovbd_seg *s = &src[run_layer].segs[run_idx];

			/* never emit an unsorted index: lookups would find other layers' data */
			if (run_start < prev_end || pos <= run_start || pos > OVBD_LSMT_INVALID ||
			    pos - run_start > OVBD_LSMT_MAX_LEN)
				return ovbd_fail_at(e, EFAULT, "lsmt merged entry offset", run_start,
						    "sorted, disjoint pieces of 1..16383 sectors below 2^50",
						    "entry", n);
			prev_end = pos;
			if (out) {
				u64 moff = ovbd_seg_zeroed(s) ? 0 :
					   ovbd_seg_moffset(s) + run_start - ovbd_seg_offset(s);

				if (n >= cap)
					return ovbd_fail_val(e, E2BIG, "lsmt merged entries",
							     n + 1, "the counted size");
				out[n] = ovbd_seg_make(run_start, (u32)(pos - run_start),
						       moff, ovbd_seg_zeroed(s), (u8)run_layer);
			}
			n++;
		}
		run_layer = w;
		run_idx = w >= 0 ? m.idx[w] : 0;
		run_start = pos;
	}
	*count = n;
	return 0;
}

/*
 * Whether segment t continues piece p, which holds len sectors from
 * sector: t starts where they end, in the same layer, and is zeros as p
 * is, or data that follows p's in that layer's file.
 */
static bool lsmt_piece_continues(const struct ovbd_piece *p, u64 sector, u64 len,
				 const struct ovbd_seg *t)
{
	if (ovbd_seg_offset(t) != sector + len || ovbd_seg_tag(t) != p->layer)
		return false;
	if (p->kind == OVBD_PIECE_ZERO)
		return ovbd_seg_zeroed(t);
	return !ovbd_seg_zeroed(t) && ovbd_seg_moffset(t) == p->moffset + len;
}

u64 ovbd_lsmt_lookup(const struct ovbd_seg *segs, u64 n, u64 sector, u64 max,
		     struct ovbd_piece *p)
{
	u64 lo = 0, hi = n;

	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (ovbd_seg_end(&segs[mid]) <= sector)
			lo = mid + 1;
		else
			hi = mid;
	}
	p->moffset = 0;
	p->layer = 0;
	if (lo == n || ovbd_seg_offset(&segs[lo]) >= sector + max) {
		p->kind = OVBD_PIECE_HOLE;
		p->sectors = max;
	} else if (ovbd_seg_offset(&segs[lo]) > sector) {
		p->kind = OVBD_PIECE_HOLE;
		p->sectors = ovbd_seg_offset(&segs[lo]) - sector;
	} else {
		const struct ovbd_seg *s = &segs[lo];
		u64 left = ovbd_seg_end(s) - sector;

		p->layer = ovbd_seg_tag(s);
		if (ovbd_seg_zeroed(s)) {
			p->kind = OVBD_PIECE_ZERO;
		} else {
			p->kind = OVBD_PIECE_DATA;
			p->moffset = ovbd_seg_moffset(s) + sector - ovbd_seg_offset(s);
		}
		if (left <= max)
			lo++;
		/*
		 * An entry holds at most 16383 sectors, so a long extent is
		 * several entries, each continuing the last in the same
		 * layer: one piece for all of them, or a reader would split
		 * its bios at every 8 MiB. The loop ends within max sectors.
		 */
		while (left < max && lo < n && lsmt_piece_continues(p, sector, left, &segs[lo])) {
			left += ovbd_seg_len(&segs[lo]);
			if (left <= max)
				lo++;
		}
		p->sectors = left < max ? left : max;
	}
	return lo;
}
